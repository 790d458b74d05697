"""The one engine every workflow document moves through (ARCHITECTURE "One engine for documents").

A document type is data (:class:`DocumentType`): its states, its transitions — each with the
permission it needs at the document's office and, optionally, the person on the document who must
take it — and the SLA clocks each transition starts or stops. :func:`create` and
:func:`transition` check all of that, check the form's version, append a ``workflow_event`` row
and start, pause, resume and stop ``workflow_clock`` rows (pauses in ``workflow_clock_pause``),
all in the caller's transaction. Rules: ``docs/workflow.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from operational import bulk, entry, sla
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
from operational.scope import office_clause
from operational.services.calendars import calendar_for_office

SYSTEM_ACTOR = "system"
"""The actor recorded for moves made by the product itself (order generation, imports, CLI)."""
KEEP = "="
"""A transition target meaning "stays in its state": an event that records something without
moving the document (a complaint's escalation, whatever state it is in)."""


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
    target_type: Callable[[Any], str | None] | None = None
    """The document type under which the clock's target is looked up (policy and
    ``operational.sla.DEFAULT_TARGETS``), from the document: a complaint's resolution target
    depends on its severity (``complaint_major``). None from it: the clock does not run for
    this document (a normal repair has no on-site clock). Default: the document type's name."""
    due_field: str | None = None
    """A column holding the instant the clock is due, when set (an appointment repair is due at
    the appointed time): the clock then runs whole calendar minutes up to that instant, started
    that many minutes before it (at most a minute after the event)."""


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
            if (t.target != KEEP and t.target not in self.states) or any(
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


def _actor_name(actor: Principal) -> str:
    return actor.username


def may_take(actor: Principal, document: WorkflowDocument, t: Transition, office: str) -> bool:
    """Whether ``actor`` may take ``t`` on ``document`` (of office code ``office``), state aside."""
    party = getattr(document, t.party) if t.party is not None else None
    return _may_take(actor, party, t, office)


def _may_take(actor: Principal, party: Any, t: Transition, office: str) -> bool:
    """:func:`may_take` given the value of the transition's ``party`` column on the document."""
    if actor.is_system:
        return True
    if t.permission is None or not actor.can(t.permission, office):
        return False
    return t.party is None or party == actor.user_id


def available(session: Session, actor: Principal, document: WorkflowDocument) -> list[Transition]:
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


def _moment(at: datetime | None) -> datetime:
    """The instant of a move: ``at`` (an import's or the demo's history), else now. A given
    instant must lie within the bounds of every entry (:func:`operational.entry.check_instant`:
    not before 2000, at most a day ahead) — for every document type, now and later."""
    now = utcnow()
    if at is None:
        return now
    entry.check_instant(at, now, "at")
    return at


def create(
    session: Session,
    actor: Principal,
    document: WorkflowDocument,
    transition_name: str,
    payload: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> WorkflowEvent:
    """Enter a new document into its workflow through a creating transition (source ``None``)."""
    at = _moment(at)
    doc_type = type_of(document)
    t = doc_type.get(transition_name)
    office = _office(session, document)
    if None not in t.sources or t.target == KEEP:
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


@dataclass(frozen=True)
class NewDocument:
    """One document for :func:`create_many`: its own columns (``office_id`` and the type's
    fields, not ``id``, ``state`` or ``version``) and the payload of its creating event."""

    values: Mapping[str, Any]
    payload: Mapping[str, Any] | None = None


def create_many(
    session: Session,
    actor: Principal,
    model: type[WorkflowDocument],
    transition_name: str,
    documents: Sequence[NewDocument],
    *,
    at: datetime | None = None,
    unique_key: Sequence[str] | None = None,
) -> list[int | None]:
    """:func:`create` for many documents of one type, set-based: a few statements in all.

    Checks what :func:`create` checks, for every document, before writing anything; then each
    document gets exactly what :func:`create` gives it — the creating state and version 1, the
    engine's number (``PM-OFFICE-000123``) unless ``values`` has a ``document_no``, its event
    (ids in the order given, all ``at``, default now) and the clocks the transition starts, with
    the office's target (:func:`targets_for`) and the deadline of :func:`operational.sla.due_at`
    in :func:`office_calendar`.

    With ``unique_key`` (columns under a unique constraint) a document whose key is taken —
    also by a concurrent transaction that wrote it first — is skipped: nothing is written for
    it and its id comes back None. Otherwise the ids of the new documents, in the order given.
    Rows are written in bulk past the session's identity map: load what you need afterwards.
    """
    doc_type = _REGISTRY[model]
    t = doc_type.get(transition_name)
    if None not in t.sources:
        raise DomainError("workflow.not_a_creation", transition=t.name)
    if t.stops or t.pauses or t.resumes:
        raise ValueError(f"{doc_type.name}.{t.name}: a creation only starts clocks")
    if any(c.target_type or c.due_field for c in doc_type.clocks if c.name in t.starts):
        raise ValueError(f"{doc_type.name}.{t.name}: per-document targets: use create()")
    if not documents:
        return []
    at = _moment(at)
    session.flush()  # the caller's pending changes first, as create() writes after them
    office_ids = {int(d.values["office_id"]) for d in documents}
    offices = {o.id: o for o in session.scalars(select(Office).where(Office.id.in_(office_ids)))}
    if len(offices) != len(office_ids):
        raise DomainError("workflow.unknown_office")
    for d in documents:
        party = d.values.get(t.party) if t.party is not None else None
        if not _may_take(actor, party, t, offices[int(d.values["office_id"])].code):
            raise PermissionDenied("workflow.not_allowed", transition=t.name)
    table = getattr(model, "__table__", None)
    assert isinstance(table, Table)
    rows: list[dict[str, Any]] = []
    for d, new_id in zip(documents, bulk.allocate_ids(session, table, len(documents)), strict=True):
        row = {**d.values, "id": new_id, "state": t.target, "version": 1}
        if not row.get("document_no"):
            code = offices[int(row["office_id"])].code
            row["document_no"] = f"{doc_type.number_prefix}-{code}-{new_id:06d}"
        rows.append(row)
    if unique_key:
        inserted = bulk.insert_new(session, table, rows, unique_key)
    else:
        bulk.insert_rows(session, table, rows)
        inserted = {row["id"] for row in rows}
    kept = [(row, d) for row, d in zip(rows, documents, strict=True) if row["id"] in inserted]
    event_table = WorkflowEvent.__table__
    assert isinstance(event_table, Table)
    event_ids = bulk.allocate_ids(session, event_table, len(kept))
    actor_name = _actor_name(actor)
    bulk.insert_rows(
        session,
        event_table,
        [
            {
                "id": event_id,
                "document_type": doc_type.name,
                "document_id": row["id"],
                "document_no": row["document_no"],
                "office_id": row["office_id"],
                "transition": t.name,
                "from_state": None,
                "to_state": t.target,
                "actor": actor_name,
                "at": at,
                "payload": snapshot(d.payload or {}),
            }
            for (row, d), event_id in zip(kept, event_ids, strict=True)
        ],
    )
    clock_rows: list[dict[str, Any]] = []
    deadlines = office_deadlines(offices)
    for name in t.starts:
        spec = next(c for c in doc_type.clocks if c.name == name)
        target_of = targets_for(session, office_ids, doc_type.name, name)
        for (row, _), event_id in zip(kept, event_ids, strict=True):
            office = offices[int(row["office_id"])]
            discipline = str(row[doc_type.discipline_field]) if doc_type.discipline_field else ""
            target = target_of(office.id, discipline)
            started = _clock_start(
                at, row[spec.not_before] if spec.not_before is not None else None
            )
            clock_rows.append(
                _clock_row(
                    doc_type,
                    row["id"],
                    row["document_no"],
                    office.id,
                    name,
                    target,
                    started,
                    deadlines(office.id, target, started),
                    event_id,
                )
            )
    clock_table = WorkflowClock.__table__
    assert isinstance(clock_table, Table)
    bulk.insert_rows(session, clock_table, clock_rows)
    return [row["id"] if row["id"] in inserted else None for row in rows]


def transition(
    session: Session,
    actor: Principal,
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
    at = _moment(at)
    running = _running_clocks(session, doc_type, document, (*t.resumes, *t.pauses, *t.stops))
    _refuse_out_of_order(running, document, at)
    if apply is not None:
        apply()
    from_state = document.state
    document.state = from_state if t.target == KEEP else t.target
    document.version = expected_version + 1
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleVersion(
            "workflow.stale", document_no=document.document_no, state=from_state
        ) from exc
    return _record(session, actor, document, doc_type, t, from_state, office, payload, at, running)


Running = dict[str, list[tuple[WorkflowClock, list[WorkflowClockPause]]]]
"""A document's running clocks by name, each with its pauses in order."""


def _record(
    session: Session,
    actor: Principal,
    document: WorkflowDocument,
    doc_type: DocumentType,
    t: Transition,
    from_state: str | None,
    office: Office,
    payload: Mapping[str, Any] | None,
    at: datetime | None,
    running: Running | None = None,
) -> WorkflowEvent:
    """Append the event and move the clocks; ``running``: the clocks the transition resumes,
    pauses or stops, read once by :func:`transition` (a creation has none)."""
    at = at or utcnow()
    running = running or {}
    event = WorkflowEvent(
        document_type=doc_type.name,
        document_id=document.id,
        document_no=document.document_no,
        office_id=office.id,
        transition=t.name,
        from_state=from_state,
        to_state=document.state,
        actor=_actor_name(actor),
        at=at,
        payload=snapshot(payload or {}),
    )
    session.add(event)
    session.flush()
    for name in t.resumes:
        _resume_clock(office, running.get(name, []), event)
    for name in t.pauses:
        _pause_clock(session, running.get(name, []), event)
    for name in t.stops:
        _stop_clock(office, running.get(name, []), event)
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
        return _policy_target(row)
    return sla.DEFAULT_TARGETS[(document_type, clock)]


def targets_for(
    session: Session, office_ids: set[int], document_type: str, clock: str
) -> Callable[[int, str], sla.ClockTarget]:
    """:func:`target_for` for many offices at once (one query): a function of (office id,
    discipline)."""
    policies: dict[tuple[int, str], sla.ClockTarget] = {}
    ordered = sorted(office_ids)
    for start in range(0, len(ordered), 1_000):
        for row in session.scalars(
            select(ClockPolicy).where(
                ClockPolicy.office_id.in_(ordered[start : start + 1_000]),
                ClockPolicy.document_type == document_type,
                ClockPolicy.clock == clock,
            )
        ):
            policies[(row.office_id, row.discipline)] = _policy_target(row)
    default = sla.DEFAULT_TARGETS[(document_type, clock)]
    return lambda office_id, discipline: policies.get((office_id, discipline), default)


def _policy_target(row: ClockPolicy) -> sla.ClockTarget:
    kind: sla.CalendarKind = "office" if row.calendar_kind == "office" else "24x7"
    return sla.ClockTarget(row.amount, sla.ClockUnit(row.unit), kind)


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


def office_deadlines(offices: Mapping[int, Office]) -> sla.Deadlines[int]:
    """:func:`operational.sla.due_at` for many clocks of ``offices`` (by id), memoised
    (:class:`operational.sla.Deadlines`), in :func:`office_calendar`: for bulk writers."""
    return sla.Deadlines(lambda office_id, target: office_calendar(offices[office_id], target))


def _start_clock(
    session: Session,
    doc_type: DocumentType,
    document: WorkflowDocument,
    office: Office,
    name: str,
    event: WorkflowEvent,
) -> WorkflowClock | None:
    spec = next(c for c in doc_type.clocks if c.name == name)
    discipline = (
        str(getattr(document, doc_type.discipline_field)) if doc_type.discipline_field else ""
    )
    key = spec.target_type(document) if spec.target_type is not None else doc_type.name
    if key is None:
        return None
    started = _clock_start(
        event.at, getattr(document, spec.not_before) if spec.not_before is not None else None
    )
    due: datetime | None = getattr(document, spec.due_field) if spec.due_field else None
    if due is not None:
        target, started = appointed_clock(started, due)
    else:
        target = target_for(session, office.id, key, name, discipline)
    clock = WorkflowClock(
        **_clock_row(
            doc_type,
            document.id,
            document.document_no,
            office.id,
            name,
            target,
            started,
            sla.due_at(started, target, office_calendar(office, target)),
            event.id,
        )
    )
    session.add(clock)
    return clock


def appointed_clock(started: datetime, due: datetime) -> tuple[sla.ClockTarget, datetime]:
    """The target and start of a clock due at an instant of the document's own (a spec's
    ``due_field``: an appointment), started at ``started``: whole calendar minutes (at least
    one) counted back from ``due``. Also for bulk writers of history."""
    minutes = max(1, int((due - started).total_seconds() // 60))
    return (
        sla.ClockTarget(minutes, sla.ClockUnit.CALENDAR_MINUTES, "24x7"),
        due - timedelta(minutes=minutes),
    )


def _clock_start(at: datetime, not_before: datetime | None) -> datetime:
    """When a clock started by an event at ``at`` starts: not before the instant in the spec's
    ``not_before`` column (a periodic order issued ahead of time starts on its scheduled day)."""
    return max(at, not_before) if not_before is not None else at


def _clock_row(
    doc_type: DocumentType,
    document_id: int,
    document_no: str,
    office_id: int,
    name: str,
    target: sla.ClockTarget,
    started: datetime,
    due_at: datetime,
    event_id: int,
) -> dict[str, Any]:
    """The ``workflow_clock`` row of a clock started by event ``event_id``."""
    return {
        "document_type": doc_type.name,
        "document_id": document_id,
        "document_no": document_no,
        "office_id": office_id,
        "clock": name,
        "target_amount": target.amount,
        "target_unit": target.unit.value,
        "calendar": target.calendar_kind,
        "started_at": started,
        "due_at": due_at,
        "started_event_id": event_id,
    }


def _running_clocks(
    session: Session, doc_type: DocumentType, document: WorkflowDocument, names: tuple[str, ...]
) -> Running:
    """The document's running clocks of these names with their pauses, in one query."""
    running: Running = {}
    if not names:
        return running
    by_id: dict[int, tuple[WorkflowClock, list[WorkflowClockPause]]] = {}
    for clock, pause in session.execute(
        select(WorkflowClock, WorkflowClockPause)
        .outerjoin(WorkflowClockPause, WorkflowClockPause.clock_id == WorkflowClock.id)
        .where(
            WorkflowClock.document_type == doc_type.name,
            WorkflowClock.document_id == document.id,
            WorkflowClock.clock.in_(sorted(set(names))),
            WorkflowClock.stopped_at.is_(None),
        )
        .order_by(WorkflowClock.id, WorkflowClockPause.paused_at, WorkflowClockPause.id)
    ):
        if clock.id not in by_id:
            by_id[clock.id] = (clock, [])
            running.setdefault(clock.clock, []).append(by_id[clock.id])
        if pause is not None:
            by_id[clock.id][1].append(pause)
    return running


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


def _refuse_out_of_order(running: Running, document: WorkflowDocument, at: datetime) -> None:
    """Refuse a pause, resume or stop dated before a clock's last pause or resume (possible only
    with an explicit ``at``): a clock's pauses are ordered and disjoint (``docs/sla-clocks.md``)."""
    for clocks in running.values():
        for clock, pauses in clocks:
            if pauses and max(at, clock.started_at) < (
                pauses[-1].resumed_at or pauses[-1].paused_at
            ):
                raise DomainError("workflow.before_last_pause", document_no=document.document_no)


def _pause_clock(
    session: Session,
    clocks: list[tuple[WorkflowClock, list[WorkflowClockPause]]],
    event: WorkflowEvent,
) -> None:
    for clock, pauses in clocks:
        if pauses and pauses[-1].resumed_at is None:
            continue  # already paused
        # A pause before a periodic order's clock has started begins at the start.
        paused_at = max(event.at, clock.started_at)
        pause = WorkflowClockPause(clock_id=clock.id, paused_at=paused_at, paused_event_id=event.id)
        session.add(pause)
        pauses.append(pause)


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
    office: Office,
    clocks: list[tuple[WorkflowClock, list[WorkflowClockPause]]],
    event: WorkflowEvent,
) -> None:
    for clock, pauses in clocks:
        if not pauses or pauses[-1].resumed_at is not None:
            continue  # not paused
        resumed_at = max(event.at, pauses[-1].paused_at)
        _close_pause(office, clock, pauses, resumed_at, event)


def _stop_clock(
    office: Office,
    clocks: list[tuple[WorkflowClock, list[WorkflowClockPause]]],
    event: WorkflowEvent,
) -> None:
    for clock, pauses in clocks:
        # Work finished before a periodic order's scheduled day stops its clock at the start.
        stopped_at = max(event.at, clock.started_at)
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
                .where(office_clause(principal, t.permission, model.office_id))
            )
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
