"""Small read helpers for the order and plan forms: the lists their select boxes offer.

Read-only, and every read takes the principal and keeps to its scope inside the query
(``operational.scope``); nothing here writes or checks a transition — the services in
``orders`` and ``plans`` do that.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from operational.auth import ROLE_PERMISSIONS, Permission, Principal
from operational.errors import NotFound
from operational.models import (
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
    plan_object,
)
from operational.scope import office_code_clause, scoped_read
from operational.services.orders import get_order
from operational.workflow import engine


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


def _visible_office(session: Session, principal: Principal, office_code: str) -> Office:
    """The office ``office_code`` if ``principal`` may see its orders; else NotFound."""
    office = session.scalars(
        select(Office).where(
            Office.code == office_code,
            office_code_clause(principal, Permission.VIEW_ORDERS, Office.code),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    return office


@scoped_read(Permission.VIEW_ORDERS)
def people_with(
    session: Session, principal: Principal, office_code: str, permission: Permission
) -> list[Person]:
    """Active users who hold ``permission`` at the office (through an office, city or group
    grant): the handlers or responsible persons a form may name. The office must be one whose
    orders ``principal`` sees."""
    office = _visible_office(session, principal, office_code)
    roles = sorted(r.value for r in ROLE_PERMISSIONS[permission])
    query = (
        select(User.username, User.display_name)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            User.is_active.is_(True),
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
    office = _visible_office(session, principal, office_code)
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
    )


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
