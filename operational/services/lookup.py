"""Read helpers for the order and plan forms, the order list and the audit log page.

Read-only, and every read takes the principal and keeps to its scope inside the query
(``operational.scope``); nothing here writes or checks a transition — the services in
``orders`` and ``plans`` do that. An order's history is its ``workflow_event`` rows; its
deadline and lateness are :func:`operational.sla.evaluate` on its stored clock (the rule of
``docs/sla-clocks.md``, no second computation).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from operational.auth import ROLE_PERMISSIONS, Permission, Principal
from operational.models import (
    AuditEntry,
    ChecklistAnswer,
    CorrectiveOrder,
    MaintObject,
    ObjectType,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    RoleGrant,
    ScopeLevel,
    User,
    WorkflowClock,
    WorkflowClockPause,
    WorkflowEvent,
    plan_object,
    utcnow,
)
from operational.scope import (
    UNNAMED,
    office_clause,
    office_code_clause,
    people_clause,
    scoped_office,
    scoped_read,
    unnamed_people,
)
from operational.services.clock_views import ClockSummary, clock_summary
from operational.services.orders import get_order
from operational.workflow import engine
from operational.workflow.definitions import COMPLETION, CORRECTIVE_ORDER, PERIODIC_ORDER

GROUP_ZONE = "Asia/Shanghai"
"""The clock of group-level audit entries (which name no office): the group's office clock."""


@dataclass(frozen=True)
class OfficeChoice:
    code: str
    name: str


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str


@dataclass(frozen=True)
class ObjectChoice:
    code: str
    name: str
    location: str
    type_name: str
    discipline: str


@dataclass(frozen=True)
class ChecklistLine:
    answer_id: int
    object_code: str
    object_name: str
    text: str
    ok: bool | None
    note: str


@dataclass(frozen=True)
class HistoryLine:
    """One move of an order, as its page lists it: when, who, what, and what they wrote."""

    at: datetime
    transition: str
    from_state: str | None
    to_state: str
    actor: Person
    note: str = ""
    handler: str = ""
    responsible: str = ""
    reason: str = ""
    corrective_orders: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderView:
    """What an order form shows, read in one go; ``version`` is the one the form submits."""

    document_type: str
    document_no: str
    office_code: str
    office_name: str
    discipline: str
    state: str
    version: int
    title: str
    description: str
    object_label: str
    responsible: Person
    handler: Person | None
    created_at: datetime
    due_at: datetime | None
    scheduled_for: date | None
    actions: tuple[str, ...]
    checklist: tuple[ChecklistLine, ...]
    timezone: str = GROUP_ZONE
    """The office's time zone: every instant of the order is shown on its clock."""
    clock: ClockSummary | None = None
    history: tuple[HistoryLine, ...] = ()


@dataclass(frozen=True)
class PlanRow:
    document_no: str
    office_code: str
    name: str
    discipline: str
    frequency: str
    every: int
    start_date: date
    end_date: date | None
    state: str
    version: int
    responsible: str
    objects: tuple[str, ...]
    actions: tuple[str, ...]


@scoped_read(None)
def offices(session: Session, principal: Principal, permission: Permission) -> list[OfficeChoice]:
    """The offices where ``principal`` holds ``permission``, by code."""
    query = select(Office.code, Office.name).where(
        office_code_clause(principal, permission, Office.code)
    )
    return [OfficeChoice(code, name) for code, name in session.execute(query.order_by(Office.code))]


@scoped_read(Permission.VIEW_ORDERS)
def people_with(
    session: Session, principal: Principal, office_code: str, permission: Permission
) -> list[Person]:
    """Active users who hold ``permission`` at the office (through an office, city or group
    grant): the handlers or responsible persons a form may name. The office must be one whose
    orders ``principal`` sees."""
    office = scoped_office(session, principal, Permission.VIEW_ORDERS, office_code)
    roles = sorted(r.value for r in ROLE_PERMISSIONS[permission])
    query = (
        select(User.username, User.display_name)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            User.is_active.is_(True),
            people_clause(principal),
            RoleGrant.role.in_(roles),
            or_(
                RoleGrant.scope_level == ScopeLevel.GROUP.value,
                (RoleGrant.scope_level == ScopeLevel.CITY.value)
                & (RoleGrant.city_id == office.city_id),
                (RoleGrant.scope_level == ScopeLevel.OFFICE.value)
                & (RoleGrant.office_id == office.id),
            ),
        )
        .distinct()
        .order_by(User.username)
    )
    return [Person(username, name) for username, name in session.execute(query)]


@scoped_read(Permission.VIEW_ORDERS)
def objects_of(
    session: Session, principal: Principal, office_code: str, discipline: str | None = None
) -> list[ObjectChoice]:
    """The office's objects (of one discipline if given), by code; an office whose orders
    ``principal`` does not see is NotFound."""
    office = scoped_office(session, principal, Permission.VIEW_ORDERS, office_code)
    query = (
        select(MaintObject, ObjectType)
        .join(ObjectType, ObjectType.id == MaintObject.type_id)
        .where(MaintObject.office_id == office.id)
        .order_by(MaintObject.code)
    )
    if discipline:
        query = query.where(ObjectType.discipline == discipline)
    return [
        ObjectChoice(o.code, o.name, o.location, t.name, t.discipline)
        for o, t in session.execute(query)
    ]


def _person(session: Session, user_id: int | None) -> Person | None:
    if user_id is None:
        return None
    user = session.get_one(User, user_id)
    return Person(user.username, user.display_name)


@scoped_read(Permission.VIEW_ORDERS)
def order_view(session: Session, actor: Principal, document_no: str) -> OrderView:
    """The order with this number as its form shows it, with the steps ``actor`` may take;
    an order ``actor`` may not see is NotFound."""
    order = get_order(session, actor, document_no)
    office = session.get_one(Office, order.office_id)
    due = min((c.due_at for c in engine.open_clocks(session, order)), default=None)
    responsible = _person(session, order.responsible_id)
    assert responsible is not None
    lines: tuple[ChecklistLine, ...] = ()
    object_label = ""
    if isinstance(order, PeriodicOrder):
        rows = session.execute(
            select(ChecklistAnswer, MaintObject)
            .join(MaintObject, MaintObject.id == ChecklistAnswer.object_id)
            .where(ChecklistAnswer.order_id == order.id)
            .order_by(MaintObject.code, ChecklistAnswer.position)
        )
        lines = tuple(ChecklistLine(a.id, o.code, o.name, a.text, a.ok, a.note) for a, o in rows)
        title = session.get_one(PeriodicPlan, order.plan_id).name
        description = ""
        scheduled: date | None = order.scheduled_for
    else:
        assert isinstance(order, CorrectiveOrder)
        title, description, scheduled = order.title, order.description, None
        if order.object_id is not None:
            obj = session.get_one(MaintObject, order.object_id)
            object_label = f"{obj.name} ({obj.code})"
    return OrderView(
        document_type=engine.type_of(order).name,
        document_no=order.document_no,
        office_code=office.code,
        office_name=office.name,
        discipline=order.discipline,
        state=order.state,
        version=order.version,
        title=title,
        description=description,
        object_label=object_label,
        responsible=responsible,
        handler=_person(session, order.handler_id),
        created_at=order.created_at,
        due_at=due,
        scheduled_for=scheduled,
        actions=tuple(t.name for t in engine.available(session, actor, order)),
        checklist=lines,
        timezone=office.timezone,
        clock=_completion_clock(session, office, engine.type_of(order).name, order.id),
        history=_unnamed(session, actor, _history(session, engine.type_of(order).name, order.id)),
    )


def _history(session: Session, document_type: str, document_id: int) -> tuple[HistoryLine, ...]:
    """The document's events in order, each with its actor's name (a system actor — ``cli``,
    ``demo`` — is named by itself)."""
    rows = session.execute(
        select(WorkflowEvent, User.display_name)
        .outerjoin(User, User.username == WorkflowEvent.actor)
        .where(
            WorkflowEvent.document_type == document_type,
            WorkflowEvent.document_id == document_id,
        )
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    )
    return tuple(_history_line(event, name) for event, name in rows)


def _unnamed(
    session: Session, reader: Principal, lines: tuple[HistoryLine, ...]
) -> tuple[HistoryLine, ...]:
    """``lines`` with the people ``reader`` may not see named (another supplier's staff, for a
    supplier user: ``operational.scope.unnamed_people``) shown as ``scope.UNNAMED``."""
    hidden = unnamed_people(
        session, reader, [n for line in lines for n in (line.actor.username, line.handler)]
    )
    if not hidden:
        return lines
    nobody = Person(UNNAMED, UNNAMED)
    return tuple(
        replace(
            line,
            actor=nobody if line.actor.username in hidden else line.actor,
            handler=UNNAMED if line.handler in hidden else line.handler,
        )
        for line in lines
    )


def _history_line(event: WorkflowEvent, display_name: str | None) -> HistoryLine:
    payload: dict[str, Any] = event.payload or {}

    def text(key: str) -> str:
        value = payload.get(key)
        return "" if value is None else str(value)

    return HistoryLine(
        at=event.at,
        transition=event.transition,
        from_state=event.from_state,
        to_state=event.to_state,
        actor=Person(event.actor, display_name or event.actor),
        note=text("note"),
        handler=text("handler"),
        responsible=text("responsible"),
        reason=text("reason"),
        corrective_orders=tuple(str(n) for n in payload.get("corrective_orders") or ()),
    )


def _completion_clock(
    session: Session, office: Office, document_type: str, document_id: int
) -> ClockSummary | None:
    """The order's (latest) completion clock, evaluated now — or at its stop — with
    :func:`operational.sla.evaluate` in the calendar it runs in."""
    clock = session.scalars(
        select(WorkflowClock)
        .where(
            WorkflowClock.document_type == document_type,
            WorkflowClock.document_id == document_id,
            WorkflowClock.clock == COMPLETION,
        )
        .order_by(WorkflowClock.id.desc())
        .limit(1)
    ).first()
    if clock is None:
        return None
    return clock_summary(session, office, clock)


@scoped_read(Permission.DRAFT_PLANS)
def plans_of(
    session: Session, actor: Principal, office_codes: Collection[str] | None = None
) -> list[PlanRow]:
    """The plans of the offices where ``actor`` drafts plans (of ``office_codes`` among them if
    given), newest first, with the steps ``actor`` may take."""
    query = (
        select(PeriodicPlan, Office.code, User.username)
        .join(Office, Office.id == PeriodicPlan.office_id)
        .join(User, User.id == PeriodicPlan.responsible_id)
        .where(office_code_clause(actor, Permission.DRAFT_PLANS, Office.code))
        .order_by(PeriodicPlan.id.desc())
    )
    if office_codes is not None:
        query = query.where(Office.code.in_(sorted(office_codes)))
    found = list(session.execute(query))
    codes: dict[int, list[str]] = {}
    if found:
        for plan_id, code in session.execute(
            select(plan_object.c.plan_id, MaintObject.code)
            .join(MaintObject, MaintObject.id == plan_object.c.object_id)
            .where(plan_object.c.plan_id.in_([p.id for p, _, _ in found]))
            .order_by(MaintObject.code)
        ):
            codes.setdefault(plan_id, []).append(code)
    return [
        PlanRow(
            document_no=plan.document_no,
            office_code=office_code,
            name=plan.name,
            discipline=plan.discipline,
            frequency=plan.frequency,
            every=plan.every,
            start_date=plan.start_date,
            end_date=plan.end_date,
            state=plan.state,
            version=plan.version,
            responsible=username,
            objects=tuple(codes.get(plan.id, [])),
            actions=tuple(t.name for t in engine.available(session, actor, plan)),
        )
        for plan, office_code, username in found
    ]


# ---------------------------------------------------------------- the order list


ORDER_STATES: tuple[str, ...] = tuple(
    dict.fromkeys((*PERIODIC_ORDER.states, *CORRECTIVE_ORDER.states))
)
"""Every state an order can be in (periodic and corrective), for the list's filter."""


@dataclass(frozen=True)
class OrderFilter:
    """What the order list keeps; None (or empty) keeps everything.

    ``month`` is any day of the month, on the office's clock of the order's creation (raised
    or issued); ``late`` is whether its completion clock is breached (stopped after its
    deadline, or still running past it) as ``docs/sla-clocks.md`` defines it; ``unfinished``
    keeps the orders not closed yet (with ``late``: the overdue ones, as the control tower
    counts them)."""

    office_code: str | None = None
    discipline: str | None = None
    state: str | None = None
    month: date | None = None
    late: bool | None = None
    unfinished: bool = False


@dataclass(frozen=True)
class OrderRow:
    document_no: str
    document_type: str
    office_code: str
    office_name: str
    timezone: str
    discipline: str
    title: str
    state: str
    created_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    late: bool


@dataclass(frozen=True)
class OrderList:
    """One page of the order list and how many orders the filter keeps in all."""

    total: int
    rows: tuple[OrderRow, ...] = field(default=())


def _zones(session: Session, principal: Principal, permission: Permission) -> set[str]:
    """The time zones of the offices where ``principal`` holds ``permission``."""
    return set(
        session.scalars(
            select(Office.timezone)
            .where(office_code_clause(principal, permission, Office.code))
            .distinct()
        )
    )


def _local_range(
    column: Any, zone_column: Any, zones: Collection[str], start: date | None, end: date | None
) -> ColumnElement[bool]:
    """``column`` within local days ``start``…``end`` (inclusive) on the clock of each row's
    office (``zone_column``): one condition per time zone in ``zones`` (few: one for a group in
    one country)."""
    conditions = []
    for zone in sorted(zones):
        tz = ZoneInfo(zone)
        parts = [zone_column == zone]
        if start is not None:
            parts.append(column >= datetime.combine(start, time(), tz).astimezone(UTC))
        if end is not None:
            following = date.fromordinal(end.toordinal() + 1)
            parts.append(column < datetime.combine(following, time(), tz).astimezone(UTC))
        conditions.append(and_(*parts))
    return or_(*conditions) if conditions else false()


def _late(clock: Any, now: datetime) -> ColumnElement[bool]:
    """The clock is breached (``docs/sla-clocks.md``): stopped after its deadline, or running
    past it — unless a pause that began before the deadline is still open (the deadline is
    then unknown and the clock pending). Stored deadlines already include closed pauses."""
    open_pause = exists().where(
        WorkflowClockPause.clock_id == clock.id,
        WorkflowClockPause.resumed_at.is_(None),
        WorkflowClockPause.paused_at < clock.due_at,
    )
    return or_(
        and_(clock.stopped_at.is_not(None), clock.stopped_at > clock.due_at),
        and_(clock.stopped_at.is_(None), clock.due_at < now, ~open_pause),
    )


def _order_branches(
    session: Session,
    principal: Principal,
    filters: OrderFilter,
    now: datetime,
    *,
    rows: bool,
    top: int | None,
) -> Any:
    """Corrective and periodic orders as one selectable: scope and every filter applied in
    each table's own query (so each can use its indexes). ``rows``: with the columns of
    :class:`OrderRow` but the office's (else just ``id``); ``top``: only each table's newest
    ``top`` orders (a page's worth, taken from the index before the union is sorted)."""
    parts = []
    for doc_type, model in (
        (CORRECTIVE_ORDER.name, CorrectiveOrder),
        (PERIODIC_ORDER.name, PeriodicOrder),
    ):
        clock = aliased(WorkflowClock)
        late = _late(clock, now)
        columns: list[Any] = [model.id.label("id")]
        if rows:
            title: Any = CorrectiveOrder.title if model is CorrectiveOrder else PeriodicPlan.name
            columns += [
                literal(doc_type).label("document_type"),
                model.document_no.label("document_no"),
                model.office_id.label("office_id"),
                model.discipline.label("discipline"),
                title.label("title"),
                model.state.label("state"),
                model.created_at.label("created_at"),
                clock.due_at.label("due_at"),
                clock.stopped_at.label("stopped_at"),
                late.label("late"),
            ]
        query = select(*columns).where(
            office_clause(principal, Permission.VIEW_ORDERS, model.office_id)
        )
        if rows and model is PeriodicOrder:
            query = query.join(PeriodicPlan, PeriodicPlan.id == PeriodicOrder.plan_id)
        if rows or filters.late is not None:
            query = query.outerjoin(
                clock,
                and_(
                    clock.document_type == doc_type,
                    clock.document_id == model.id,
                    clock.clock == COMPLETION,
                ),
            )
        if filters.office_code:
            query = query.where(
                model.office_id.in_(select(Office.id).where(Office.code == filters.office_code))
            )
        if filters.discipline:
            query = query.where(model.discipline == filters.discipline)
        if filters.state:
            query = query.where(model.state == filters.state)
        if filters.unfinished:
            query = query.where(model.state != "closed")
        if filters.month is not None:
            query = query.where(_in_month(model, session, principal, filters.month))
        if filters.late is not None:
            query = query.where(late if filters.late else or_(clock.id.is_(None), ~late))
        if top is not None:
            query = query.order_by(model.created_at.desc(), model.document_no).limit(top)
            query = select(*query.subquery().c)  # SQLite: a LIMIT inside a UNION needs a subquery
        parts.append(query)
    return union_all(*parts).subquery("orders")


def _in_month(model: Any, session: Session, principal: Principal, month: date) -> Any:
    """The order was created in ``month`` on its office's clock: one range per time zone of
    the offices in scope, each on the offices of that zone."""
    first = month.replace(day=1)
    following = date.fromordinal(_last_day(first).toordinal() + 1)
    conditions = []
    for zone in sorted(_zones(session, principal, Permission.VIEW_ORDERS)):
        tz = ZoneInfo(zone)
        conditions.append(
            and_(
                model.office_id.in_(select(Office.id).where(Office.timezone == zone)),
                model.created_at >= datetime.combine(first, time(), tz).astimezone(UTC),
                model.created_at < datetime.combine(following, time(), tz).astimezone(UTC),
            )
        )
    return or_(*conditions) if conditions else false()


@scoped_read(Permission.VIEW_ORDERS)
def order_list(
    session: Session,
    principal: Principal,
    filters: OrderFilter | None = None,
    *,
    limit: int | None = 50,
    offset: int = 0,
    counted: bool = True,
    now: datetime | None = None,
) -> OrderList:
    """The orders of the offices where ``principal`` sees orders, kept by ``filters``, newest
    first: ``limit`` of them from ``offset`` (None: all; 0: none, only the count) and the total
    the filter keeps (0 without ``counted``: a page whose count the caller has).

    Scope and every filter are inside each table's query (docs/dashboards.md, "Order
    search"): the count reads ids only; a page takes each table's newest ``offset + limit``
    from the index on ``created_at`` (or ``(office_id, created_at)``, migration
    ``0012_audit_office``), then sorts those few and joins their offices."""
    filters = filters or OrderFilter()
    now = now or utcnow()
    total = 0
    if counted:
        ids = _order_branches(session, principal, filters, now, rows=False, top=None)
        total = session.scalar(select(func.count()).select_from(ids)) or 0
    if limit == 0:
        return OrderList(total)
    top = None if limit is None else offset + limit
    orders = _order_branches(session, principal, filters, now, rows=True, top=top)
    page = (
        select(
            orders,
            Office.code.label("office_code"),
            Office.name.label("office_name"),
            Office.timezone,
        )
        .join(Office, Office.id == orders.c.office_id)
        .order_by(orders.c.created_at.desc(), orders.c.document_no)
    )
    if limit is not None:
        page = page.limit(limit).offset(offset)
    found = tuple(
        OrderRow(
            document_no=row.document_no,
            document_type=row.document_type,
            office_code=row.office_code,
            office_name=row.office_name,
            timezone=row.timezone,
            discipline=row.discipline,
            title=row.title,
            state=row.state,
            created_at=_aware(row.created_at),
            due_at=_aware_or_none(row.due_at),
            stopped_at=_aware_or_none(row.stopped_at),
            late=bool(row.late),
        )
        for row in session.execute(page)
    )
    return OrderList(total, found)


def _last_day(first: date) -> date:
    """The last day of the month that begins on ``first``."""
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _aware(moment: datetime) -> datetime:
    """An instant read through a union or raw column: naive UTC made aware."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _aware(moment)


# ---------------------------------------------------------------- the audit log


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log page keeps; None (or empty) keeps everything. ``actor`` matches any
    part of the user name (any case); ``start``/``end`` are local days (inclusive) on the
    clock of each entry's office (a group-level entry: the group's clock)."""

    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    start: date | None = None
    end: date | None = None
    office_code: str | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    timezone: str
    actor: str
    action: str
    entity: str
    entity_key: str
    office_code: str
    """Empty for a group-level entry."""
    office_name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditPage:
    """One page of audit entries and how many the filter keeps in all."""

    total: int
    rows: tuple[AuditRow, ...] = field(default=())


@dataclass(frozen=True)
class AuditKinds:
    """The actions and kinds of record (entity) found in the entries the user may read."""

    actions: tuple[str, ...]
    entities: tuple[str, ...]


def _audit_scope(principal: Principal) -> ColumnElement[bool]:
    """Entries of the offices where ``principal`` reads the audit log; group-level entries
    (no office) only at group scope (:func:`office_clause` is then true for every row)."""
    return office_clause(principal, Permission.VIEW_AUDIT_LOG, AuditEntry.office_id)  # type: ignore[arg-type]


@scoped_read(Permission.VIEW_AUDIT_LOG)
def audit_kinds(session: Session, principal: Principal) -> AuditKinds:
    """The distinct actions and entities of the entries ``principal`` may read."""
    scope = _audit_scope(principal)
    actions = session.scalars(
        select(AuditEntry.action).where(scope).distinct().order_by(AuditEntry.action)
    )
    entities = session.scalars(
        select(AuditEntry.entity).where(scope).distinct().order_by(AuditEntry.entity)
    )
    return AuditKinds(tuple(actions), tuple(entities))


@scoped_read(Permission.VIEW_AUDIT_LOG)
def audit_entries(
    session: Session,
    principal: Principal,
    filters: AuditFilter | None = None,
    *,
    limit: int | None = 50,
    offset: int = 0,
    counted: bool = True,
) -> AuditPage:
    """The audit entries ``principal`` may read (:func:`_audit_scope`), kept by ``filters``,
    newest first: ``limit`` of them from ``offset`` (None: all; 0: only the count) and the
    total (0 without ``counted``)."""
    filters = filters or AuditFilter()
    conditions: list[ColumnElement[bool]] = [_audit_scope(principal)]
    if filters.actor and filters.actor.strip():
        typed = filters.actor.strip().lower()
        conditions.append(func.lower(AuditEntry.actor).contains(typed, autoescape=True))
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.entity:
        conditions.append(AuditEntry.entity == filters.entity)
    if filters.office_code:
        conditions.append(
            AuditEntry.office_id.in_(select(Office.id).where(Office.code == filters.office_code))
        )
    if filters.start is not None or filters.end is not None:
        zones = _zones(session, principal, Permission.VIEW_AUDIT_LOG)
        within_office = _local_range(
            AuditEntry.at, Office.timezone, zones, filters.start, filters.end
        )
        within_group = _local_range(
            AuditEntry.at, literal(GROUP_ZONE), {GROUP_ZONE}, filters.start, filters.end
        )
        conditions.append(
            or_(
                and_(AuditEntry.office_id.is_not(None), within_office),
                and_(AuditEntry.office_id.is_(None), within_group),
            )
        )
    joined = Office.id == AuditEntry.office_id
    total = 0
    if counted:
        count = select(func.count()).select_from(AuditEntry).outerjoin(Office, joined)
        total = session.scalar(count.where(*conditions)) or 0
    if limit == 0:
        return AuditPage(total)
    query = (
        select(AuditEntry, Office.code, Office.name, Office.timezone)
        .outerjoin(Office, joined)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = tuple(
        AuditRow(
            id=entry.id,
            at=entry.at,
            timezone=zone or GROUP_ZONE,
            actor=entry.actor,
            action=entry.action,
            entity=entry.entity,
            entity_key=entry.entity_key,
            office_code=code or "",
            office_name=name or "",
            before=entry.before,
            after=entry.after,
        )
        for entry, code, name, zone in session.execute(query)
    )
    return AuditPage(total, rows)
