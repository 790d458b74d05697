"""Nonconformity tickets (不合格单据), live: open, act, verify — through the workflow engine.

Three kinds (docs/nonconformities.md): a notice (不合格提示单: issued → acknowledged), a handling
order (不合格处理单: assigned → handled → verified) and a corrective-and-preventive order
(纠正预防单: opened → cause found → corrected → prevented → verified). Each is opened by a
discipline supervisor, the customer-service supervisor or the office manager, assigned to a user
(office staff or a supplier user: ``assignee_id``), and verified by whoever opened it. Each may
name a supplier contract of the same office and discipline; a corrective-and-preventive ticket
naming one must carry breach points from that contract's deduction standard
(:func:`operational.suppliers.charge_problems`, the rule the go-live import applies too).
``opened_at`` / ``closed_at`` feed the supplier scores as the imported history does.

Every function takes the ``expected_version`` the user's form was opened on; the engine refuses
a stale form, a move from the wrong state and a move the user may not take. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from operational import entry
from operational import suppliers as rules
from operational.auth import Permission, Principal, load_principal
from operational.errors import DomainError, NotFound, PermissionDenied, Problems, Term
from operational.models import (
    INSPECTION_DISCIPLINES,
    NONCONFORMITY_MODELS,
    DeductionStandard,
    Nonconformity,
    NonconformityKind,
    Office,
    Supplier,
    SupplierContract,
    User,
    WorkflowClock,
    WorkflowEvent,
    utcnow,
)
from operational.scope import UNNAMED, office_clause, scoped_read, unnamed_people
from operational.workflow import engine
from operational.workflow.definitions import NC_TYPES

FIELDS = ("office_code", "kind", "discipline", "description", "contract_no", "breach_points")
_FIELD_TERMS = {
    "office_code": Term("ncflows.field.office"),
    "kind": Term("ncflows.field.kind"),
    "discipline": Term("ncflows.field.discipline"),
    "description": Term("ncflows.field.description"),
    "contract_no": Term("ncflows.field.contract"),
    "opened_at": Term("ncflows.field.opened_at"),
    "breach_points": Term("ncflows.field.breach_points"),
    "assignee": Term("ncflows.field.assignee"),
    "text": Term("ncflows.field.text"),
}

STEP_TEXT: dict[str, str] = {
    "acknowledge": "handling_note",
    "handle": "handling_note",
    "find_cause": "cause",
    "correct": "correction",
    "prevent": "prevention",
    "verify": "verification_note",
}
"""The column each step writes its text to (the step's note is also in its event)."""
TEXT_REQUIRED = frozenset({"handle", "find_cause", "correct", "prevent", "send_back"})
"""Steps that need a text: what was done, the cause, the measures, why it goes back."""
CLOSING = frozenset({"acknowledge", "verify"})
"""Steps that close a nonconformity (its ``closed_at``: the scores' closure)."""


def _assignee(session: Session, username: str, office: Office) -> User:
    """The active user ``username`` who may act on nonconformities at ``office`` (office staff
    or a supplier user)."""
    user = session.scalars(select(User).where(User.username == username.strip())).one_or_none()
    if user is None or not user.is_active:
        raise NotFound("users.unknown_user", username=username)
    if not load_principal(session, user.id).can(Permission.HANDLE_NONCONFORMITIES, office.code):
        raise DomainError("ncflows.not_an_assignee", username=username, office=office.code)
    return user


def _other_suppliers(user: User, contract: SupplierContract | None) -> bool:
    """Whether ``user`` is a supplier user (供方用户) of another supplier than ``contract``'s: a
    nonconformity against a supplier's contract is that supplier's work, so it goes to that
    supplier's staff or to the office's own, never to another supplier's (docs/nonconformities.md)."""
    return (
        contract is not None
        and user.supplier_id is not None
        and user.supplier_id != contract.supplier_id
    )


def _rule_contract(session: Session, contract: SupplierContract) -> rules.Contract:
    office = session.get_one(Office, contract.office_id)
    standard = {
        s.points: s.amount
        for s in session.scalars(
            select(DeductionStandard).where(DeductionStandard.contract_id == contract.id)
        )
    }
    return rules.Contract(
        contract_no=contract.contract_no,
        supplier_code="",
        discipline=contract.discipline,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        timezone=office.timezone,
        office_code=office.code,
        standard=standard,
    )


def open_nonconformity(
    session: Session,
    actor: Principal,
    *,
    office_code: str,
    kind: str,
    discipline: str,
    description: str,
    contract_no: str | None = None,
    breach_points: int | None = None,
    at: datetime | None = None,
    assignee: str | None = None,
) -> Nonconformity:
    """Open a nonconformity of ``kind`` (``notice``, ``handling``, ``corrective_preventive``) at
    the office, at ``at`` (default now), assigned to the user named ``assignee`` (default: the
    actor; the system opens one assigned to nobody until it is reassigned).

    The actor needs ``OPEN_NONCONFORMITIES`` at the office (else :class:`PermissionDenied`; an
    office outside their scope is :class:`NotFound`). Every problem of the form is reported at
    once (:class:`~operational.errors.FormRejected`) and nothing is written: an unknown kind or
    discipline, an empty description, an unknown contract, a contract of another office or
    discipline or not running on the day, breach points outside its deduction standard or
    without a contract, a corrective-and-preventive ticket against a contract without points.
    """
    now = utcnow()
    problems = Problems(order=(*FIELDS, "opened_at", "assignee"))
    office = session.scalars(
        select(Office).where(
            Office.code == office_code.strip(),
            or_(
                office_clause(actor, Permission.VIEW_NONCONFORMITIES, Office.id),
                office_clause(actor, Permission.OPEN_NONCONFORMITIES, Office.id),
            ),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    if not actor.can(Permission.OPEN_NONCONFORMITIES, office.code):
        raise PermissionDenied("ncflows.may_not_open", office=office.code)
    kinds = {k.value for k in NonconformityKind}
    kind = (kind or "").strip()
    if kind not in kinds:
        problems.add("kind", "ncflows.bad_kind", value=entry.short(kind))
    discipline = (discipline or "").strip()
    if discipline not in INSPECTION_DISCIPLINES:
        problems.add("discipline", "inspfix.bad_discipline", value=entry.short(discipline))
    text = (description or "").strip()
    if not text:
        problems.add("description", "ncflows.description_required")
    opened = at or now
    with problems.field("opened_at"):
        entry.check_instant(opened, now, "at")
    number = (contract_no or "").strip() or None
    contract: SupplierContract | None = None
    if number is not None:
        contract = session.scalars(
            select(SupplierContract).where(SupplierContract.contract_no == number)
        ).one_or_none()
        if contract is None:
            problems.add(
                "contract_no",
                "import.suppliers.unknown_contract",
                column=_FIELD_TERMS["contract_no"],
                no=entry.short(number),
            )
    points = breach_points
    if points is not None:
        with problems.field("breach_points"):
            entry.check_integer(points, "breach_points")
        if points <= 0:
            problems.add("breach_points", "ncflows.bad_points", points=points)
            points = None
    for problem in rules.charge_problems(
        kind=kind,
        office_code=office.code,
        discipline=discipline if discipline in INSPECTION_DISCIPLINES else None,
        opened_on=opened.astimezone(ZoneInfo(office.timezone)).date(),
        contract_no=number,
        contract=_rule_contract(session, contract) if contract is not None else None,
        points=points if breach_points is not None else None,
    ):
        problems.add(
            problem.field, problem.key, column=_FIELD_TERMS[problem.field], **problem.params
        )
    user: User | None = None
    if assignee is not None and assignee.strip():
        with problems.field("assignee"):
            user = _assignee(session, assignee, office)
    elif not actor.is_system:
        with problems.field("assignee"):
            user = _assignee(session, actor.username, office)
    if user is not None and _other_suppliers(user, contract):
        assert contract is not None
        problems.add(
            "assignee",
            "qualitygaps.other_suppliers_assignee",
            username=user.username,
            contract=contract.contract_no,
        )
    problems.raise_if_any()
    nc = NONCONFORMITY_MODELS[kind](
        office_id=office.id,
        kind=kind,
        discipline=discipline,
        description=text,
        opened_at=opened,
        contract_id=contract.id if contract is not None else None,
        breach_points=points,
        assignee_id=user.id if user is not None else None,
        opened_by_id=actor.user_id if not actor.is_system else None,
    )
    doc_type = NC_TYPES[kind]
    creation = next(t for t in doc_type.transitions if None in t.sources)
    engine.create(
        session,
        actor,
        nc,
        creation.name,
        {
            "kind": kind,
            "discipline": discipline,
            "contract_no": number,
            "breach_points": points,
            "assignee": user.username if user is not None else None,
        },
        at=opened,
    )
    return nc


def act(
    session: Session,
    actor: Principal,
    nc: Nonconformity,
    action: str,
    expected_version: int,
    *,
    text: str = "",
    assignee: str | None = None,
    at: datetime | None = None,
) -> WorkflowEvent:
    """Take the step ``action`` on ``nc`` (the names of :data:`NC_TYPES`' transitions:
    ``acknowledge``; ``handle``, ``verify``, ``send_back``; ``find_cause``, ``correct``,
    ``prevent``; ``reassign`` with ``assignee``). A step that says what was done needs its
    ``text`` (:data:`TEXT_REQUIRED`); acknowledging and verifying close the nonconformity."""
    doc_type = engine.type_of(nc)
    t = doc_type.get(action)
    if t.sources == (None,):
        raise DomainError("workflow.unknown_transition", transition=action)
    note = text.strip()
    problems = Problems(order=("text", "assignee"))
    if action in TEXT_REQUIRED and not note and not actor.is_system:
        problems.add("text", "ncflows.text_required", column=_FIELD_TERMS["text"])
    user: User | None = None
    if action == "reassign":
        office = session.get_one(Office, nc.office_id)
        if not (assignee or "").strip():
            problems.add("assignee", "ncflows.assignee_required")
        else:
            with problems.field("assignee"):
                user = _assignee(session, assignee or "", office)
        contract = session.get(SupplierContract, nc.contract_id) if nc.contract_id else None
        if user is not None and _other_suppliers(user, contract):
            assert contract is not None
            problems.add(
                "assignee",
                "qualitygaps.other_suppliers_assignee",
                username=user.username,
                contract=contract.contract_no,
            )
    problems.raise_if_any()
    column = STEP_TEXT.get(action)

    def apply() -> None:
        if column is not None:
            setattr(nc, column, note or None)
        if user is not None:
            nc.assignee_id = user.id

    payload: dict[str, object] = {"note": note}
    if user is not None:
        payload["assignee"] = user.username
    event = engine.transition(
        session, actor, nc, action, payload, expected_version, apply=apply, at=at
    )
    if action in CLOSING:
        nc.closed_at = event.at
    elif nc.closed_at is not None and action == "send_back":
        nc.closed_at = None
    session.flush()
    return event


# --- reads ----------------------------------------------------------------------------------


def _visible(principal: Principal) -> ColumnElement[bool]:
    """What a principal may read: the nonconformities of the offices where they hold
    ``VIEW_NONCONFORMITIES``, and those assigned to them where they may act on them (a supplier
    user its supplier's: operational.scope.supplier_clause)."""
    return or_(
        office_clause(principal, Permission.VIEW_NONCONFORMITIES, Nonconformity.office_id),
        and_(
            Nonconformity.assignee_id == principal.user_id,
            office_clause(principal, Permission.HANDLE_NONCONFORMITIES, Nonconformity.office_id),
        ),
    )


@scoped_read(Permission.VIEW_NONCONFORMITIES)
def get_nonconformity(session: Session, principal: Principal, nc_no: str) -> Nonconformity:
    """One nonconformity by number, if the principal may read it (else :class:`NotFound`)."""
    nc = session.scalars(
        select(Nonconformity).where(
            Nonconformity.document_no == nc_no.strip(),
            _visible(principal),
        )
    ).one_or_none()
    if nc is None:
        raise NotFound("ncflows.unknown", nc_no=nc_no)
    return nc


@dataclass(frozen=True)
class NonconformityRow:
    """One line of the list: what a phone shows."""

    nc_no: str
    office_code: str
    kind: str
    discipline: str
    state: str
    description: str
    contract_no: str | None
    breach_points: int | None
    opened_at: datetime
    closed_at: datetime | None
    due_at: datetime | None


def _listed(principal: Principal, kind: str | None, open_only: bool) -> ColumnElement[bool]:
    clause = _visible(principal)
    if kind is not None:
        clause = and_(clause, Nonconformity.kind == kind)
    if open_only:
        clause = and_(clause, Nonconformity.closed_at.is_(None))
    return clause


@scoped_read(Permission.VIEW_NONCONFORMITIES)
def count_nonconformities(
    session: Session, principal: Principal, *, kind: str | None = None, open_only: bool = False
) -> int:
    """How many nonconformities :func:`list_nonconformities` has in all (for its pager)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Nonconformity)
            .where(_listed(principal, kind, open_only))
        )
        or 0
    )


@scoped_read(Permission.VIEW_NONCONFORMITIES)
def list_nonconformities(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    open_only: bool = False,
    limit: int | None = 200,
    offset: int = 0,
) -> list[NonconformityRow]:
    """Nonconformities the principal may read, newest first (with the running clock's due):
    ``limit`` of them from ``offset`` (None: all)."""
    query = (
        select(Nonconformity, Office.code, SupplierContract.contract_no, WorkflowClock.due_at)
        .join(Office, Office.id == Nonconformity.office_id)
        .outerjoin(SupplierContract, SupplierContract.id == Nonconformity.contract_id)
        .outerjoin(
            WorkflowClock,
            and_(
                WorkflowClock.document_id == Nonconformity.id,
                WorkflowClock.document_type.in_([t.name for t in NC_TYPES.values()]),
                WorkflowClock.stopped_at.is_(None),
            ),
        )
        .where(_listed(principal, kind, open_only))
        .order_by(Nonconformity.opened_at.desc(), Nonconformity.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query)
    return [
        NonconformityRow(
            nc.document_no,
            code,
            nc.kind,
            nc.discipline,
            nc.state,
            nc.description,
            contract_no,
            nc.breach_points,
            nc.opened_at,
            nc.closed_at,
            due,
        )
        for nc, code, contract_no, due in rows
    ]


@dataclass(frozen=True)
class Step:
    """One event of a nonconformity's history: when, which step, who, what they wrote (who is
    ``scope.UNNAMED`` for someone the reader may not see named: ``scope.unnamed_people``)."""

    at: datetime
    transition: str
    actor: str
    note: str


def _steps(session: Session, reader: Principal, nc: Nonconformity) -> tuple[Step, ...]:
    events = engine.history(session, nc)
    hidden = unnamed_people(session, reader, [e.actor for e in events])
    return tuple(
        Step(
            e.at,
            e.transition,
            UNNAMED if e.actor in hidden else e.actor,
            str((e.payload or {}).get("note") or ""),
        )
        for e in events
    )


@scoped_read(Permission.VIEW_NONCONFORMITIES)
def nonconformity_history(session: Session, principal: Principal, nc_no: str) -> tuple[Step, ...]:
    """A nonconformity's steps in order, scoped like :func:`get_nonconformity`."""
    return _steps(session, principal, get_nonconformity(session, principal, nc_no))


@dataclass(frozen=True)
class ContractChoice:
    """A contract the open form offers: its number, supplier and deduction standard."""

    contract_no: str
    supplier_name: str
    discipline: str
    standard: dict[int, Decimal]


@scoped_read(Permission.OPEN_NONCONFORMITIES)
def contract_choices(
    session: Session, principal: Principal, office_code: str, discipline: str | None = None
) -> list[ContractChoice]:
    """The office's supplier contracts (of ``discipline`` if given), with their deduction
    standards, where the principal may open nonconformities (else :class:`NotFound`)."""
    office = session.scalars(
        select(Office).where(
            Office.code == office_code.strip(),
            office_clause(principal, Permission.OPEN_NONCONFORMITIES, Office.id),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    query = (
        select(SupplierContract, Supplier.name)
        .join(Supplier, Supplier.id == SupplierContract.supplier_id)
        .where(SupplierContract.office_id == office.id)
    )
    if discipline:
        query = query.where(SupplierContract.discipline == discipline)
    contracts = list(session.execute(query.order_by(SupplierContract.contract_no)))
    standards: dict[int, dict[int, Decimal]] = {}
    if contracts:
        for s in session.scalars(
            select(DeductionStandard)
            .where(DeductionStandard.contract_id.in_([c.id for c, _ in contracts]))
            .order_by(DeductionStandard.points)
        ):
            standards.setdefault(s.contract_id, {})[s.points] = s.amount
    return [
        ContractChoice(c.contract_no, name, c.discipline, standards.get(c.id, {}))
        for c, name in contracts
    ]


def available_steps(session: Session, actor: Principal, nc: Nonconformity) -> list[str]:
    """The steps ``actor`` may take on ``nc`` now (the buttons of its page)."""
    return [t.name for t in engine.available(session, actor, nc)]


@dataclass(frozen=True)
class NonconformityView:
    """A nonconformity as its page shows it: details, who it is with, the steps the reader may
    take now, its running deadline and its history."""

    nc_no: str
    kind: str
    state: str
    version: int
    office_code: str
    office_name: str
    timezone: str
    discipline: str
    description: str
    opened_at: datetime
    closed_at: datetime | None
    contract_no: str | None
    breach_points: int | None
    assignee: str | None  # "display name (username)"
    texts: dict[str, str]  # step column → its text (cause, correction, …), those written
    due_at: datetime | None
    actions: tuple[str, ...]
    history: tuple[Step, ...]


@scoped_read(Permission.VIEW_NONCONFORMITIES)
def nonconformity_view(session: Session, principal: Principal, nc_no: str) -> NonconformityView:
    """:func:`get_nonconformity` with all its page shows, for ``principal``."""
    nc = get_nonconformity(session, principal, nc_no)
    office = session.get_one(Office, nc.office_id)
    contract = session.get(SupplierContract, nc.contract_id) if nc.contract_id else None
    user = session.get(User, nc.assignee_id) if nc.assignee_id else None
    clocks = engine.open_clocks(session, nc)
    texts = {
        column: str(getattr(nc, column))
        for column in ("cause", "correction", "prevention", "handling_note", "verification_note")
        if getattr(nc, column)
    }
    return NonconformityView(
        nc_no=nc.document_no,
        kind=nc.kind,
        state=nc.state,
        version=nc.version,
        office_code=office.code,
        office_name=office.name,
        timezone=office.timezone,
        discipline=nc.discipline,
        description=nc.description,
        opened_at=nc.opened_at,
        closed_at=nc.closed_at,
        contract_no=contract.contract_no if contract is not None else None,
        breach_points=nc.breach_points,
        assignee=(
            None
            if user is None
            else UNNAMED
            if unnamed_people(session, principal, [user.username])
            else f"{user.display_name} ({user.username})"
        ),
        texts=texts,
        due_at=clocks[0].due_at if clocks else None,
        actions=tuple(available_steps(session, principal, nc)),
        history=_steps(session, principal, nc),
    )
