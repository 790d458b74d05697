"""Periodic and corrective orders: assign, process, verify — all through the engine.

Every function takes the ``expected_version`` the user's form was opened on; the engine refuses a
stale form, a move from the wrong state and a move the user may not take. The caller commits.

Marking an order done — :func:`process_corrective` and :func:`complete_periodic` — needs a work
note (what was done); the go-live history import writes its events without one
(docs/workflow.md, "Work notes").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from operational import audit, entry
from operational.auth import Grant, Permission, Principal
from operational.errors import DomainError, NotFound, PermissionDenied, Problems, Term
from operational.models import (
    INSPECTION_DISCIPLINES,
    ChecklistAnswer,
    ClockPolicy,
    CorrectiveOrder,
    Discipline,
    MaintObject,
    Office,
    PeriodicOrder,
    Role,
    ScopeLevel,
    User,
)
from operational.scope import office_clause, office_code_clause, scoped_read
from operational.sla import DEFAULT_TARGETS, CalendarKind, ClockTarget, ClockUnit
from operational.workflow import engine
from operational.workflow.definitions import COMPLETION, CORRECTIVE_ORDER

Order = PeriodicOrder | CorrectiveOrder
_HELD = "orders.held_offices"


@dataclass(frozen=True)
class CorrectiveSpec:
    """What a new corrective order says: who is responsible, the problem, optionally the object."""

    responsible: str
    title: str
    description: str = ""
    discipline: Discipline | None = None  # default: the periodic order's
    object_code: str | None = None


@dataclass(frozen=True)
class Answer:
    """One checklist answer: ✓ (``ok=True``) or ✗ (``ok=False``, which needs ``corrective``)."""

    ok: bool
    note: str = ""
    corrective: CorrectiveSpec | None = None


def work_note(note: str) -> str:
    """The work note of a step that marks an order done, stripped; an empty one is refused."""
    text = note.strip()
    if not text:
        raise _work_note_missing()
    return text


WORK_NOTE_REQUIRED = "orders_ui2.work_note_required"
WORK_NOTE = Term("orders_ui2.field.work_note")


def _work_note_missing() -> DomainError:
    return DomainError(WORK_NOTE_REQUIRED, column=WORK_NOTE)


def office_by_code(session: Session, code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == code)).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=code)
    return office


def person_for(session: Session, username: str, permission: Permission, office: Office) -> User:
    """The active user ``username``, who must hold ``permission`` at ``office``.

    One query (the user with their role grants); the check is :meth:`Principal.can` on the
    grants that could cover this office — the group, the office's city company, the office
    itself — so no other city or office is loaded."""
    user = (
        session.scalars(
            select(User).where(User.username == username.strip()).options(joinedload(User.grants))
        )
        .unique()
        .one_or_none()
    )
    if user is None or not user.is_active:
        raise NotFound("users.unknown_user", username=username)
    covering: list[Grant] = []
    for g in user.grants:
        level = ScopeLevel(g.scope_level)
        if level is ScopeLevel.GROUP:
            covering.append(Grant(Role(g.role), level, "", None))
        elif (level is ScopeLevel.CITY and g.city_id == office.city_id) or (
            level is ScopeLevel.OFFICE and g.office_id == office.id
        ):
            covering.append(Grant(Role(g.role), level, "", frozenset({office.code})))
    principal = Principal(
        user.id,
        user.username,
        user.display_name,
        user.language,
        tuple(covering),
        supplier_id=user.supplier_id,
    )
    if not principal.can(permission, office.code):
        key = (
            "orders.not_a_handler"
            if permission is Permission.HANDLE_ORDERS
            else "orders.not_responsible"
        )
        raise DomainError(key, username=username, office=office.code)
    return user


def _object(session: Session, office: Office, code: str) -> MaintObject:
    obj = session.scalars(
        select(MaintObject).where(MaintObject.office_id == office.id, MaintObject.code == code)
    ).one_or_none()
    if obj is None:
        raise NotFound("orders.unknown_object", code=code, office=office.code)
    return obj


@scoped_read(Permission.VIEW_ORDERS)
def get_order(session: Session, principal: Principal, document_no: str) -> Order:
    """The periodic or corrective order with this number at an office where ``principal``
    may see orders, with its office loaded (so the move that follows reads neither again);
    another office's order is :class:`NotFound`, as a missing one is.

    One query for a number the engine gave (its prefix names the table: ``PM-`` periodic,
    ``CM-`` corrective); a number from the go-live import may take a second."""
    tables: list[type[Order]] = [PeriodicOrder, CorrectiveOrder]
    if document_no.startswith(CORRECTIVE_ORDER.number_prefix + "-"):
        tables.reverse()
    for model in tables:
        row = session.execute(
            select(model, Office)
            .join(Office, Office.id == model.office_id)
            .where(
                model.document_no == document_no,
                office_clause(principal, Permission.VIEW_ORDERS, model.office_id),
            )
        ).one_or_none()
        if row is not None:
            order, office = row
            assert isinstance(order, PeriodicOrder | CorrectiveOrder)
            # The session's identity map holds objects weakly: keep the office alive for the
            # session so that the move's ``session.get(Office, …)`` finds it without a query.
            session.info.setdefault(_HELD, []).append(office)
            return order
    raise NotFound("orders.unknown_order", document_no=document_no)


def raise_corrective(
    session: Session,
    actor: Principal,
    *,
    office_code: str,
    spec: CorrectiveSpec,
    source: PeriodicOrder | None = None,
    at: datetime | None = None,
) -> CorrectiveOrder:
    """File a corrective order to a responsible person (usually a discipline supervisor)."""
    office = office_by_code(session, office_code)
    if not spec.title.strip():
        raise DomainError("orders.title_required")
    discipline = spec.discipline or (Discipline(source.discipline) if source else None)
    if discipline is None:
        raise DomainError("orders.discipline_required")
    responsible = person_for(session, spec.responsible, Permission.MANAGE_ORDERS, office)
    order = CorrectiveOrder(
        office_id=office.id,
        discipline=discipline.value,
        title=spec.title.strip(),
        description=spec.description.strip(),
        object_id=_object(session, office, spec.object_code).id if spec.object_code else None,
        responsible_id=responsible.id,
        raised_by_id=None if actor.is_system else actor.user_id,
        source_order_id=source.id if source else None,
    )
    payload = {
        "responsible": responsible.username,
        "discipline": discipline.value,
        "title": order.title,
        "source_order": source.document_no if source else None,
    }
    engine.create(session, actor, order, "raise", payload, at=at)
    return order


def assign(
    session: Session,
    actor: Principal,
    order: Order,
    handler: str,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """The responsible person names the handler (派工); on an assigned order, a new handler."""
    office = session.get_one(Office, order.office_id)
    user = person_for(session, handler, Permission.HANDLE_ORDERS, office)

    def apply() -> None:
        order.handler_id = user.id

    name = "reassign" if order.state == "assigned" else "assign"
    engine.transition(
        session,
        actor,
        order,
        name,
        {"handler": user.username},
        expected_version,
        apply=apply,
        at=at,
    )


def checklist(session: Session, order: PeriodicOrder) -> list[ChecklistAnswer]:
    """The order's checklist, by object then item position."""
    return list(
        session.scalars(
            select(ChecklistAnswer)
            .where(ChecklistAnswer.order_id == order.id)
            .order_by(ChecklistAnswer.object_id, ChecklistAnswer.position)
        )
    )


def complete_periodic(
    session: Session,
    actor: Principal,
    order: PeriodicOrder,
    answers: Mapping[int, Answer],
    expected_version: int,
    *,
    note: str = "",
    at: datetime | None = None,
) -> list[CorrectiveOrder]:
    """The handler submits the checklist (keyed by checklist-answer id) with a work note and
    closes the order.

    Every item must be answered; every ✗ raises its linked corrective order in the same
    transaction; the work note is required. Every such problem is reported at once, after the
    engine's own checks (a stale form, the wrong state, a user who may not complete it) and
    before anything is written. Returns the corrective orders raised.
    """
    items = checklist(session, order)
    unknown = set(answers) - {i.id for i in items}
    if unknown:
        raise DomainError("orders.unknown_checklist_item")
    problems = Problems(order=("checklist", "work_note"))
    missing = [i for i in items if i.id not in answers]
    if missing:
        problems.add("checklist", "orders.checklist_incomplete", count=len(missing))
    without = [
        i.text
        for i in items
        if i.id in answers and not answers[i.id].ok and answers[i.id].corrective is None
    ]
    if without:
        problems.add("checklist", "orders.failed_item_needs_corrective", item=without[0])
    if not note.strip():
        problems.add("work_note", WORK_NOTE_REQUIRED, column=WORK_NOTE)
    office = session.get_one(Office, order.office_id)
    raised: list[CorrectiveOrder] = []

    def apply() -> None:
        problems.raise_if_any()  # the engine has checked the form, the state and the user
        for item in items:
            answer = answers[item.id]
            item.ok = answer.ok
            item.note = answer.note.strip()
            if not answer.ok:
                assert answer.corrective is not None
                corrective = raise_corrective(
                    session,
                    actor,
                    office_code=office.code,
                    spec=answer.corrective,
                    source=order,
                    at=at,
                )
                item.corrective_order_id = corrective.id
                raised.append(corrective)
                corrective_nos.append(corrective.document_no)

    corrective_nos: list[str] = []  # filled by apply(), before the engine writes the event
    payload = {
        "note": note.strip(),
        "passed": sum(1 for a in answers.values() if a.ok),
        "failed": sum(1 for a in answers.values() if not a.ok),
        "corrective_orders": corrective_nos,
    }
    engine.transition(
        session, actor, order, "complete", payload, expected_version, apply=apply, at=at
    )
    return raised


def process_corrective(
    session: Session,
    actor: Principal,
    order: CorrectiveOrder,
    expected_version: int,
    note: str = "",
    *,
    at: datetime | None = None,
) -> None:
    """The handler reports the work done, with a work note (required); the order waits for the
    responsible person's check."""
    text = note.strip()

    def apply() -> None:
        work_note(text)  # after the engine's checks of the form, the state and the user

    engine.transition(
        session, actor, order, "process", {"note": text}, expected_version, apply=apply, at=at
    )


class WaitReason(StrEnum):
    """Why a corrective order waits (挂起) with its clock paused."""

    PARTS = "parts"  # 等配件
    OWNER = "owner"  # 等业主
    OTHER = "other"  # 其他 (the note says what)


def wait_corrective(
    session: Session,
    actor: Principal,
    order: CorrectiveOrder,
    expected_version: int,
    reason: WaitReason | str | None,
    note: str = "",
    *,
    at: datetime | None = None,
) -> None:
    """The handler puts the order on hold (waiting for parts, for the owner): its completion
    clock pauses until :func:`resume_corrective`. A reason is required; ``other`` needs a note."""
    try:
        known = WaitReason(reason) if reason else None
    except ValueError:
        known = None
    if known is None:
        raise DomainError("orders.wait_needs_reason")
    if known is WaitReason.OTHER and not note.strip():
        raise DomainError("orders.wait_other_needs_note")
    payload = {"reason": known.value, "note": note.strip()}
    engine.transition(session, actor, order, "wait", payload, expected_version, at=at)


def resume_corrective(
    session: Session,
    actor: Principal,
    order: CorrectiveOrder,
    expected_version: int,
    note: str = "",
    *,
    at: datetime | None = None,
) -> None:
    """The handler takes a waiting order up again (back to ``assigned``): its clock runs again,
    its deadline moved by the working time the wait took."""
    engine.transition(
        session, actor, order, "resume", {"note": note.strip()}, expected_version, at=at
    )


def verify_corrective(
    session: Session,
    actor: Principal,
    order: CorrectiveOrder,
    expected_version: int,
    *,
    accepted: bool,
    note: str = "",
    at: datetime | None = None,
) -> None:
    """The responsible person accepts the work (closed) or sends it back to the handler."""
    if not accepted and not note.strip():
        raise DomainError("orders.send_back_needs_reason")
    name = "verify" if accepted else "send_back"
    engine.transition(session, actor, order, name, {"note": note.strip()}, expected_version, at=at)


def set_deadline(
    session: Session,
    actor: Principal,
    office_code: str,
    discipline: Discipline | str,
    hours: int,
    *,
    document_type: str = "corrective_order",
) -> None:
    """An office's completion target for corrective orders (or another of
    :data:`TARGET_DOCUMENT_TYPES`: ``inspection``) of one discipline, in calendar hours."""
    if hours <= 0:
        raise DomainError("orders.bad_deadline")
    entry.check_integer(hours, "hours", high=entry.INT32_MAX // 60)
    set_target(
        session,
        actor,
        office_code,
        discipline,
        ClockTarget(hours, ClockUnit.CALENDAR_HOURS, "24x7"),
        document_type=document_type,
    )


TARGET_DOCUMENT_TYPES = frozenset(
    {
        CORRECTIVE_ORDER.name,
        "nonconformity_notice",
        "nonconformity_handling",
        "nonconformity_corrective",
        "inspection",  # inspection orders (docs/inspections.md)
    }
)
"""The document types whose ``completion`` target an office sets per discipline."""


def _target_disciplines(document_type: str) -> tuple[str, ...]:
    """The disciplines an office sets ``document_type``'s targets for: corrective orders have the
    four maintenance disciplines, inspections and nonconformities customer service too."""
    if document_type == CORRECTIVE_ORDER.name:
        return tuple(d.value for d in Discipline)
    return INSPECTION_DISCIPLINES


def set_target(
    session: Session,
    actor: Principal,
    office_code: str,
    discipline: Discipline | str,
    target: ClockTarget,
    *,
    document_type: str = CORRECTIVE_ORDER.name,
) -> None:
    """An office's completion target for documents of ``document_type`` (default corrective
    orders; also the three nonconformity types, :data:`TARGET_DOCUMENT_TYPES`) of one
    discipline: calendar hours or minutes round the clock, or business minutes of the office's
    working calendar (e.g. 480 business minutes, ``ClockTarget(480, BUSINESS_MINUTES,
    "office")``). Clocks already started keep their deadlines. Inspection orders and
    nonconformities may also be of discipline ``customer_service`` (``INSPECTION_DISCIPLINES``)."""
    if document_type not in TARGET_DOCUMENT_TYPES:
        raise ValueError(f"no office targets for {document_type}")
    discipline = str(discipline)
    if discipline not in _target_disciplines(document_type):
        raise ValueError(f"no {document_type} of discipline {discipline}")
    office = office_by_code(session, office_code)
    if not actor.can(Permission.MANAGE_DEADLINES, office.code):
        raise PermissionDenied("auth.not_allowed")
    entry.check_integer(target.amount, "amount")
    row = session.scalars(
        select(ClockPolicy).where(
            ClockPolicy.office_id == office.id,
            ClockPolicy.document_type == document_type,
            ClockPolicy.clock == COMPLETION,
            ClockPolicy.discipline == discipline,
        )
    ).one_or_none()
    before = _policy_snapshot(row) if row else None
    if row is None:
        row = ClockPolicy(
            office_id=office.id,
            document_type=document_type,
            clock=COMPLETION,
            discipline=discipline,
        )
        session.add(row)
    row.amount = target.amount
    row.unit = target.unit.value
    row.calendar_kind = target.calendar_kind
    audit.record(
        session,
        actor=actor.username,
        action="update" if before else "create",
        entity="workflow_clock_policy",
        entity_key=f"{office.code}:{document_type}:{COMPLETION}:{discipline}",
        office_id=office.id,
        before=before,
        after=_policy_snapshot(row),
    )


@scoped_read(Permission.MANAGE_DEADLINES)
def corrective_targets(
    session: Session,
    principal: Principal,
    office_code: str,
    *,
    document_type: str = CORRECTIVE_ORDER.name,
) -> dict[str, tuple[ClockTarget, bool]]:
    """Each discipline's completion target for corrective orders (or another of
    :data:`TARGET_DOCUMENT_TYPES`) at the office, and whether it is the office's own (else the
    default), keyed by the discipline's value: the four :class:`Discipline` for corrective
    orders, also ``customer_service`` for the others (``INSPECTION_DISCIPLINES``). Only where ``principal`` may set targets (else :class:`NotFound`, as for a
    missing office)."""
    if document_type not in TARGET_DOCUMENT_TYPES:
        raise ValueError(f"no office targets for {document_type}")
    office = session.scalars(
        select(Office).where(
            Office.code == office_code,
            office_code_clause(principal, Permission.MANAGE_DEADLINES, Office.code),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    default = DEFAULT_TARGETS[(document_type, COMPLETION)]
    targets: dict[str, tuple[ClockTarget, bool]] = dict.fromkeys(
        _target_disciplines(document_type), (default, False)
    )
    for row in session.scalars(
        select(ClockPolicy).where(
            ClockPolicy.office_id == office.id,
            ClockPolicy.document_type == document_type,
            ClockPolicy.clock == COMPLETION,
        )
    ):
        if row.discipline not in targets:
            continue
        kind: CalendarKind = "office" if row.calendar_kind == "office" else "24x7"
        targets[row.discipline] = (
            ClockTarget(row.amount, ClockUnit(row.unit), kind),
            True,
        )
    return targets


def _policy_snapshot(row: ClockPolicy) -> dict[str, object]:
    if row.unit == ClockUnit.CALENDAR_HOURS.value:
        return {"hours": row.amount}
    return {"amount": row.amount, "unit": row.unit, "calendar_kind": row.calendar_kind}


def todo_list(session: Session, principal: Principal) -> list[engine.TodoItem]:
    """What waits for this user (待办列表), oldest deadline first."""
    return engine.waiting_for(session, principal)
