"""The one engine every workflow document moves through (ARCHITECTURE "One engine for documents").

A document type is data (:class:`DocumentType`): its states, its transitions — each with the
permission it needs at the document's office and, optionally, the person on the document who must
take it — and the SLA clocks each transition starts or stops. :func:`create` and
:func:`transition` check all of that, check the form's version, append a ``workflow_event`` row
and start, pause, resume and stop ``workflow_clock`` rows (pauses in ``workflow_clock_pause``),
all in the caller's transaction. Rules: ``docs/workflow.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from operational import sla
from operational.audit import snapshot
from operational.auth import Permission, Principal
from operational.calendars import WorkCalendar
from operational.errors import DomainError, PermissionDenied, StaleVersion
from operational.models import (
    ClockPolicy,
    Office,
    WorkflowClock,
    WorkflowClockPause,
    WorkflowDocument,
    WorkflowEvent,
    utcnow,
)
from operational.services.calendars import calendar_for_office

SYSTEM_ACTOR = "system"
"""The actor recorded for moves made by the product itself (order generation, imports, CLI)."""


@dataclass(frozen=True)
class Transition:
    """One move. ``sources`` are the states it leaves (``None``: the document is being created).

    The actor needs ``permission`` at the document's office; if ``party`` names a column holding a
    user id (``"handler_id"``), the actor must also be that user. ``permission=None`` means only
    the product itself (actor ``None``) takes it. ``todo`` says whether a document waiting in a
    source state shows in the to-do list of whoever may take this transition.

    ``pauses`` / ``resumes`` name running clocks the move pauses (挂起: waiting for the owner, for
    parts) or resumes; on resume the clock's stored deadline moves by the working time the pause
    took, computed by :func:`operational.sla.evaluate`.
    """

    name: str
    sources: tuple[str | None, ...]
    target: str
    permission: Permission | None
    party: str | None = None
    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    pauses: tuple[str, ...] = ()
    resumes: tuple[str, ...] = ()
    todo: bool = True


@dataclass(frozen=True)
class ClockSpec:
    """A clock a document type runs. Its target comes from the office's policy row for
    (document type, clock, discipline) or else ``operational.sla.DEFAULT_TARGETS``.

    ``not_before`` names a column holding an instant before which the clock does not start
    (a periodic order issued ahead of time starts its clock on its scheduled day).
    """

    name: str
    not_before: str | None = None


@dataclass(frozen=True)
class DocumentType:
    name: str
    model: type[WorkflowDocument]
    number_prefix: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    clocks: tuple[ClockSpec, ...] = ()
    discipline_field: str | None = "discipline"

    def __post_init__(self) -> None:
        clocks = {c.name for c in self.clocks}
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: duplicate transition names")
        for t in self.transitions:
            if t.target not in self.states or any(
                s is not None and s not in self.states for s in t.sources
            ):
                raise ValueError(f"{self.name}.{t.name}: unknown state")
            if not set(t.starts) | set(t.stops) | set(t.pauses) | set(t.resumes) <= clocks:
                raise ValueError(f"{self.name}.{t.name}: unknown clock")
            if set(t.pauses) & (set(t.resumes) | set(t.starts) | set(t.stops)):
                raise ValueError(f"{self.name}.{t.name}: a clock paused and moved otherwise")

    def get(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise DomainError("workflow.unknown_transition", transition=name)


_REGISTRY: dict[type[WorkflowDocument], DocumentType] = {}


def register(doc_type: DocumentType) -> DocumentType:
    _REGISTRY[doc_type.model] = doc_type
    return doc_type


def registered() -> tuple[DocumentType, ...]:
    return tuple(_REGISTRY.values())


def type_of(document: WorkflowDocument) -> DocumentType:
    return _REGISTRY[type(document)]


def _actor_name(actor: Principal | None) -> str:
    return SYSTEM_ACTOR if actor is None else actor.username


def may_take(
    actor: Principal | None, document: WorkflowDocument, t: Transition, office: str
) -> bool:
    """Whether ``actor`` may take ``t`` on ``document`` (of office code ``office``), state aside."""
    if actor is None:
        return True
    if t.permission is None or not actor.can(t.permission, office):
        return False
    return t.party is None or getattr(document, t.party) == actor.user_id


def available(
    session: Session, actor: Principal | None, document: WorkflowDocument
) -> list[Transition]:
    """The transitions ``actor`` may take on ``document`` now (for buttons on a form)."""
    office = _office(session, document)
    return [
        t
        for t in type_of(document).transitions
        if document.state in t.sources and may_take(actor, document, t, office.code)
    ]


def _office(session: Session, document: WorkflowDocument) -> Office:
    office = session.get(Office, document.office_id)
    if office is None:
        raise DomainError("workflow.unknown_office")
    return office


def create(
    session: Session,
    actor: Principal | None,
    document: WorkflowDocument,
    transition_name: str,
    payload: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> WorkflowEvent:
    """Enter a new document into its workflow through a creating transition (source ``None``)."""
    doc_type = type_of(document)
    t = doc_type.get(transition_name)
    office = _office(session, document)
    if None not in t.sources:
        raise DomainError("workflow.not_a_creation", transition=t.name)
    if not may_take(actor, document, t, office.code):
        raise PermissionDenied("workflow.not_allowed", transition=t.name)
    document.state = t.target
    document.version = 1
    session.add(document)
    session.flush()
    if document.document_no.startswith("tmp-"):
        document.document_no = f"{doc_type.number_prefix}-{office.code}-{document.id:06d}"
    return _record(session, actor, document, doc_type, t, None, office, payload, at)


def transition(
    session: Session,
    actor: Principal | None,
    document: WorkflowDocument,
    transition_name: str,
    payload: Mapping[str, Any] | None,
    expected_version: int,
    *,
    apply: Callable[[], None] | None = None,
    at: datetime | None = None,
) -> WorkflowEvent:
    """Move ``document`` along ``transition_name``.

    Refuses (before changing anything) a form opened on another version (:class:`StaleVersion`),
    a transition that does not leave the current state, and an actor without the permission at
    the document's office or who is not the person the transition belongs to
    (:class:`PermissionDenied`), and a pause, resume or stop dated before a clock's last pause or
    resume. Then runs ``apply`` (the caller's field changes), sets the new state and version,
    appends the event and resumes/pauses/stops/starts clocks. A concurrent move that commits
    between the read and this write is caught at flush and reported as :class:`StaleVersion` too.
    """
    doc_type = type_of(document)
    t = doc_type.get(transition_name)
    office = _office(session, document)
    if document.version != expected_version:
        raise StaleVersion("workflow.stale", document_no=document.document_no, state=document.state)
    if document.state not in t.sources:
        raise DomainError(
            "workflow.wrong_state",
            document_no=document.document_no,
            transition=t.name,
            state=document.state,
        )
    if not may_take(actor, document, t, office.code):
        raise PermissionDenied("workflow.not_allowed", transition=t.name)
    at = at or utcnow()
    _refuse_out_of_order(session, doc_type, document, t, at)
    if apply is not None:
        apply()
    from_state = document.state
    document.state = t.target
    document.version = expected_version + 1
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleVersion(
            "workflow.stale", document_no=document.document_no, state=from_state
        ) from exc
    return _record(session, actor, document, doc_type, t, from_state, office, payload, at)


def _record(
    session: Session,
    actor: Principal | None,
    document: WorkflowDocument,
    doc_type: DocumentType,
    t: Transition,
    from_state: str | None,
    office: Office,
    payload: Mapping[str, Any] | None,
    at: datetime | None,
) -> WorkflowEvent:
    at = at or utcnow()
    event = WorkflowEvent(
        document_type=doc_type.name,
        document_id=document.id,
        document_no=document.document_no,
        office_id=office.id,
        transition=t.name,
        from_state=from_state,
        to_state=t.target,
        actor=_actor_name(actor),
        at=at,
        payload=snapshot(payload or {}),
    )
    session.add(event)
    session.flush()
    for name in t.resumes:
        _resume_clock(session, doc_type, document, office, name, event)
    for name in t.pauses:
        _pause_clock(session, doc_type, document, name, event)
    for name in t.stops:
        _stop_clock(session, doc_type, document, office, name, event)
    for name in t.starts:
        _start_clock(session, doc_type, document, office, name, event)
    return event


def target_for(
    session: Session, office_id: int, document_type: str, clock: str, discipline: str
) -> sla.ClockTarget:
    """The office's own target for this clock and discipline, else the product default."""
    row = session.scalars(
        select(ClockPolicy).where(
            ClockPolicy.office_id == office_id,
            ClockPolicy.document_type == document_type,
            ClockPolicy.clock == clock,
            ClockPolicy.discipline == discipline,
        )
    ).one_or_none()
    if row is not None:
        kind: sla.CalendarKind = "office" if row.calendar_kind == "office" else "24x7"
        return sla.ClockTarget(row.amount, sla.ClockUnit(row.unit), kind)
    return sla.DEFAULT_TARGETS[(document_type, clock)]


def office_calendar(office: Office, target: sla.ClockTarget) -> WorkCalendar:
    """The calendar a clock of ``office`` runs in: 24×7 in the office's time zone, or the
    office's working calendar (stored hours or the group default, China's holidays and make-up
    days, the office's overrides — :func:`operational.services.calendars.calendar_for_office`),
    read through the session ``office`` belongs to."""
    if target.calendar_kind == "24x7":
        return WorkCalendar.always(office.timezone)
    session = object_session(office)
    if session is None:
        raise DomainError("workflow.unknown_office")
    return calendar_for_office(session, office)


def _start_clock(
    session: Session,
    doc_type: DocumentType,
    document: WorkflowDocument,
    office: Office,
    name: str,
    event: WorkflowEvent,
) -> WorkflowClock:
    spec = next(c for c in doc_type.clocks if c.name == name)
    discipline = (
        str(getattr(document, doc_type.discipline_field)) if doc_type.discipline_field else ""
    )
    target = target_for(session, office.id, doc_type.name, name, discipline)
    started = event.at
    if spec.not_before is not None:
        started = max(started, getattr(document, spec.not_before))
    clock = WorkflowClock(
        document_type=doc_type.name,
        document_id=document.id,
        document_no=document.document_no,
        office_id=office.id,
        clock=name,
        target_amount=target.amount,
        target_unit=target.unit.value,
        calendar=target.calendar_kind,
        started_at=started,
        due_at=sla.due_at(started, target, office_calendar(office, target)),
        started_event_id=event.id,
    )
    session.add(clock)
    return clock


def _running_clocks(
    session: Session, doc_type: DocumentType, document: WorkflowDocument, name: str
) -> list[WorkflowClock]:
    return list(
        session.scalars(
            select(WorkflowClock)
            .where(
                WorkflowClock.document_type == doc_type.name,
                WorkflowClock.document_id == document.id,
                WorkflowClock.clock == name,
                WorkflowClock.stopped_at.is_(None),
            )
            .order_by(WorkflowClock.id)
        )
    )


def clock_pauses(session: Session, clock: WorkflowClock) -> list[WorkflowClockPause]:
    """The clock's pauses in order; only the last may still be open (``resumed_at`` None)."""
    return list(
        session.scalars(
            select(WorkflowClockPause)
            .where(WorkflowClockPause.clock_id == clock.id)
            .order_by(WorkflowClockPause.paused_at, WorkflowClockPause.id)
        )
    )


def clock_target(clock: WorkflowClock) -> sla.ClockTarget:
    """The target a clock run was started with."""
    kind: sla.CalendarKind = "office" if clock.calendar == "office" else "24x7"
    return sla.ClockTarget(clock.target_amount, sla.ClockUnit(clock.target_unit), kind)


def _refuse_out_of_order(
    session: Session,
    doc_type: DocumentType,
    document: WorkflowDocument,
    t: Transition,
    at: datetime,
) -> None:
    """Refuse a pause, resume or stop dated before a clock's last pause or resume (possible only
    with an explicit ``at``): a clock's pauses are ordered and disjoint (``docs/sla-clocks.md``)."""
    for name in (*t.resumes, *t.pauses, *t.stops):
        for clock in _running_clocks(session, doc_type, document, name):
            pauses = clock_pauses(session, clock)
            if pauses and max(at, clock.started_at) < (
                pauses[-1].resumed_at or pauses[-1].paused_at
            ):
                raise DomainError("workflow.before_last_pause", document_no=document.document_no)


def _pause_clock(
    session: Session,
    doc_type: DocumentType,
    document: WorkflowDocument,
    name: str,
    event: WorkflowEvent,
) -> None:
    for clock in _running_clocks(session, doc_type, document, name):
        pauses = clock_pauses(session, clock)
        if pauses and pauses[-1].resumed_at is None:
            continue  # already paused
        # A pause before a periodic order's clock has started begins at the start.
        paused_at = max(event.at, clock.started_at)
        session.add(
            WorkflowClockPause(clock_id=clock.id, paused_at=paused_at, paused_event_id=event.id)
        )


def _close_pause(
    office: Office,
    clock: WorkflowClock,
    pauses: list[WorkflowClockPause],
    at: datetime,
    event: WorkflowEvent,
) -> None:
    """End the clock's open (last) pause at ``at`` and move its stored deadline by the working
    time the pause took — :func:`operational.sla.evaluate`'s rule, the one the warehouse runs."""
    pause = pauses[-1]
    pause.resumed_at = at
    pause.resumed_event_id = event.id
    target = clock_target(clock)
    evaluation = sla.evaluate(
        clock.started_at,
        target,
        office_calendar(office, target),
        at,
        [(p.paused_at, p.resumed_at) for p in pauses],
    )
    assert evaluation.due_at is not None  # no pause is open any more
    clock.due_at = evaluation.due_at


def _resume_clock(
    session: Session,
    doc_type: DocumentType,
    document: WorkflowDocument,
    office: Office,
    name: str,
    event: WorkflowEvent,
) -> None:
    for clock in _running_clocks(session, doc_type, document, name):
        pauses = clock_pauses(session, clock)
        if not pauses or pauses[-1].resumed_at is not None:
            continue  # not paused
        resumed_at = max(event.at, pauses[-1].paused_at)
        _close_pause(office, clock, pauses, resumed_at, event)


def _stop_clock(
    session: Session,
    doc_type: DocumentType,
    document: WorkflowDocument,
    office: Office,
    name: str,
    event: WorkflowEvent,
) -> None:
    for clock in _running_clocks(session, doc_type, document, name):
        # Work finished before a periodic order's scheduled day stops its clock at the start.
        stopped_at = max(event.at, clock.started_at)
        pauses = clock_pauses(session, clock)
        if pauses and pauses[-1].resumed_at is None:
            _close_pause(office, clock, pauses, stopped_at, event)  # stopped while paused
        clock.stopped_at = stopped_at
        clock.stopped_event_id = event.id


def open_clocks(session: Session, document: WorkflowDocument) -> list[WorkflowClock]:
    return list(
        session.scalars(
            select(WorkflowClock)
            .where(
                WorkflowClock.document_type == type_of(document).name,
                WorkflowClock.document_id == document.id,
                WorkflowClock.stopped_at.is_(None),
            )
            .order_by(WorkflowClock.due_at)
        )
    )


def history(session: Session, document: WorkflowDocument) -> list[WorkflowEvent]:
    return list(
        session.scalars(
            select(WorkflowEvent)
            .where(
                WorkflowEvent.document_type == type_of(document).name,
                WorkflowEvent.document_id == document.id,
            )
            .order_by(WorkflowEvent.id)
        )
    )


@dataclass(frozen=True)
class TodoItem:
    """One document waiting for the user, with what they can do and its earliest open deadline."""

    document_type: str
    document_id: int
    document_no: str
    office_code: str
    state: str
    actions: tuple[str, ...]
    due_at: datetime | None
    created_at: datetime


def waiting_for(session: Session, principal: Principal) -> list[TodoItem]:
    """Every document whose next step is the user's (待办列表), oldest deadline first; documents
    without a running clock come last, oldest first.

    A document waits for a user when it is in a source state of a to-do transition the user may
    take: the user holds its permission at the document's office and, for a transition that
    belongs to a person on the document (``party``), is that person.
    """
    items: dict[tuple[str, int], TodoItem] = {}
    for doc_type in registered():
        model = doc_type.model
        due = (
            select(
                WorkflowClock.document_id.label("document_id"),
                func.min(WorkflowClock.due_at).label("due_at"),
            )
            .where(
                WorkflowClock.document_type == doc_type.name,
                WorkflowClock.stopped_at.is_(None),
            )
            .group_by(WorkflowClock.document_id)
            .subquery()
        )
        for t in doc_type.transitions:
            states = [s for s in t.sources if s is not None]
            if not t.todo or t.permission is None or not states:
                continue
            offices = principal.offices_for(t.permission)
            if offices is not None and not offices:
                continue
            query = (
                select(model, Office.code, due.c.due_at)
                .join(Office, Office.id == model.office_id)
                .outerjoin(due, due.c.document_id == model.id)
                .where(model.state.in_(states))
            )
            if offices is not None:
                query = query.where(Office.code.in_(sorted(offices)))
            if t.party is not None:
                query = query.where(getattr(model, t.party) == principal.user_id)
            for document, office_code, due_at in session.execute(query):
                key = (doc_type.name, document.id)
                known = items.get(key)
                actions = (*known.actions, t.name) if known else (t.name,)
                items[key] = TodoItem(
                    doc_type.name,
                    document.id,
                    document.document_no,
                    office_code,
                    document.state,
                    actions,
                    due_at,
                    document.created_at,
                )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(
        items.values(),
        key=lambda i: (i.due_at is None, i.due_at or far, i.created_at, i.document_no),
    )
