"""Customer-service ticket history (工单) in bulk: what the ticket services would have written,
without going through them one step at a time.

``operational.demo.tickets`` works every ticket through :mod:`operational.services.tickets` at
its past instants (4–11 tickets a second); that stays the demo's path. This module writes the
same rows in bulk (:func:`operational.bulk.insert_rows`) for the benchmark's scale
(``propcloud bench tickets --history bulk``: millions of tickets), in two parts:

* a **plan** — :class:`Life`: a ticket as received (type, instant, urgency, appointment,
  severity, caller) and its :class:`Move` s (transition, instant, who, note, follow-up result; a
  rework's own moves). :func:`plan_office` draws an office's lives with the demo's model
  (``operational.demo.tickets``: its arrivals, pickups and lateness), scaled to a daily rate;
  a test can give lives of its own.
* the **writer** — :func:`write_lives` plays each life as the services would and writes the
  rows: every rule is called where it lives, none is restated here. States, versions and which
  clocks a move starts or stops come from the workflow definitions
  (:mod:`operational.workflow.definitions`); targets from :func:`engine.targets_for`, deadlines
  from :func:`operational.sla.due_at` (memoised, :func:`engine.office_deadlines`), an
  appointment's on-site clock from :func:`engine.appointed_clock`; night service from
  :func:`operational.calendars.is_working_time` in the office calendar, as ``record_ticket``
  decides it; escalations from the pure ladder (:func:`operational.escalation.ladder`), checked
  when the services check it (before a complaint's resolution and follow-up, after a follow-up,
  and once at ``now`` as the schedule's check), each level an ``escalate_N`` event at its own
  instant with the ``escalated_resolution`` clock it starts (stopped by the resolution the
  ladder names when that came first). A move after ``now`` has not happened: the ticket stays
  where it was. Notices (a complaint's dispatch, each escalation) are written as the services
  queue them; those of the history count as sent at ``now``, those of the check at ``now`` wait.

The rows are the services' rows except where a service writes the wall clock: a ticket's
``created_at`` is its receipt, a notice's ``created_at`` the instant of its event. Equivalence
with the services is tested (tests/operational/test_ticket_history.py).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.orm import Session

from operational import escalation, sla
from operational.audit import snapshot
from operational.bulk import allocate_ids, insert_rows
from operational.calendars import WorkCalendar, is_working_time
from operational.demo import tickets as demo
from operational.demo.tickets import Caller, callers
from operational.models import Notice, Office, Ticket, WorkflowClock, WorkflowEvent
from operational.services.calendars import calendar_for_office
from operational.services.tickets import LADDER_ACTOR
from operational.workflow import engine
from operational.workflow.definitions import (
    COMPLAINT,
    ESCALATED_RESOLUTION,
    INQUIRY,
    REPAIR,
    RESOLUTION,
)
from operational.workflow.engine import KEEP, DocumentType

DOC_TYPES: Mapping[str, DocumentType] = {
    "inquiry": INQUIRY,
    "repair": REPAIR,
    "complaint": COMPLAINT,
}
FOLLOW_UPS = ("follow_up", "follow_up_unsatisfied")
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Move:
    """One step of a ticket: a transition of its type (``dispatch``, ``pick_up``/``open``,
    ``arrive``, ``resolve``/``reply``, ``close``, ``follow_up``/``follow_up_unsatisfied``) at
    ``at`` by the office's ``actor`` (a duty: ``agent``, ``cs``, ``mgr``, ``tech1`` …).
    ``handler``: the duty a dispatch gives the ticket to; ``result``: a follow-up's
    (``satisfied``/``unsatisfied``); ``rework``: an unsatisfied repair visit's rework, a new
    repair recorded at ``at`` with these moves."""

    transition: str
    at: datetime
    actor: str
    note: str = ""
    handler: str | None = None
    result: str | None = None
    rework: tuple[Move, ...] | None = None


@dataclass(frozen=True)
class Life:
    """A ticket as the call centre records it, and what happens to it."""

    kind: str  # inquiry / repair / complaint
    received: datetime
    subject: str
    moves: tuple[Move, ...]
    urgency: str | None = None  # repairs
    appointment_at: datetime | None = None  # appointment repairs
    severity: str | None = None  # complaints
    caller: Caller | None = None
    in_home: bool = True  # a repair's caller house is given


# ---------------------------------------------------------------- the writer


@dataclass
class Staff:
    """An office and the users who work its tickets: duty → (user id, username)."""

    office: Office
    calendar: WorkCalendar
    users: Mapping[str, tuple[int, str]]


@dataclass
class _Clock:
    name: str
    target: sla.ClockTarget
    started: datetime
    due: datetime
    start_event: int
    stopped: datetime | None = None
    stop_event: int | None = None


@dataclass
class _Doc:
    """A ticket being played: the fields the engine and the services change."""

    index: int
    id: int
    number: str
    kind: str
    office_id: int
    received: datetime
    urgency: str | None
    appointment_at: datetime | None
    severity: str | None
    state: str | None = None
    version: int = 0
    handler_id: int | None = None
    follow_up_result: str | None = None
    escalation_level: int = 0
    clocks: list[_Clock] = field(default_factory=list)
    moves: list[tuple[str, datetime, int]] = field(default_factory=list)  # (name, at, event)


@dataclass
class _Batch:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # "_event": local index
    docs: list[_Doc] = field(default_factory=list)


class _Writer:
    def __init__(self, session: Session, staff: Sequence[Staff], now: datetime) -> None:
        self.session = session
        self.now = now
        self.staff = {s.office.id: s for s in staff}
        offices = {s.office.id: s.office for s in staff}
        self.deadlines = engine.office_deadlines(offices)
        self._targets: dict[tuple[str, str], Any] = {}
        self._ids = set(offices)
        self._payloads: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}

    def payload(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The event's payload as the engine stores it (:func:`snapshot`); equal payloads are
        one object, which :func:`insert_rows` serialises once."""
        stored = snapshot(values)
        key = tuple(stored.items())
        try:
            return self._payloads.setdefault(key, stored)
        except TypeError:  # an unhashable value: not shared
            return stored

    def target(self, key: str, clock: str, office_id: int) -> sla.ClockTarget:
        of = self._targets.get((key, clock))
        if of is None:
            of = self._targets[(key, clock)] = engine.targets_for(
                self.session, self._ids, key, clock
            )
        return cast(sla.ClockTarget, of(office_id, ""))

    # -- one ticket

    def play(
        self,
        batch: _Batch,
        ids: Iterator[int],
        staff: Staff,
        life: Life,
        *,
        kind: str | None = None,
        urgency: str | None = None,
        received: datetime | None = None,
        moves: Sequence[Move] | None = None,
        reopened_from: _Doc | None = None,
    ) -> None:
        kind = kind or life.kind
        doc_type = DOC_TYPES[kind]
        received = received or life.received
        office = staff.office
        new_id = next(ids)
        number = f"{doc_type.number_prefix}-{office.code}-{new_id:06d}"
        appointment = life.appointment_at if reopened_from is None else None
        severity = life.severity if kind == "complaint" else None
        urgency = urgency if reopened_from is not None else life.urgency
        doc = _Doc(
            len(batch.docs),
            new_id,
            number,
            kind,
            office.id,
            received,
            urgency if kind == "repair" else None,
            appointment if kind == "repair" else None,
            severity,
        )
        batch.docs.append(doc)
        night = not is_working_time(staff.calendar, received)
        caller = life.caller
        agent = staff.users["agent"][1]
        self.move(
            batch,
            doc,
            "record",
            received,
            agent,
            {
                "type": kind,
                "urgency": doc.urgency,
                "severity": severity,
                "appointment_at": doc.appointment_at,
                "night_service": night,
                "reopened_from": reopened_from.number if reopened_from is not None else None,
            },
        )
        for move in moves if moves is not None else life.moves:
            if move.at > self.now:
                break  # not happened yet: the ticket stays where it is
            complaint = kind == "complaint"
            relevant = complaint and move.transition in ("resolve", *FOLLOW_UPS)
            if relevant and doc.escalation_level < 2:  # every relevant event checks the ladder
                self.check(batch, doc, move.at, notify_sent=True)
            username = staff.users[move.actor][1]
            payload: dict[str, Any]
            if move.transition == "dispatch":
                assert move.handler is not None
                handler_id, handler = staff.users[move.handler]
                doc.handler_id = handler_id
                payload = {"handler": handler}
            elif move.transition in FOLLOW_UPS:
                assert move.result is not None
                doc.follow_up_result = move.result
                payload = {"result": move.result, "note": move.note.strip()}
            else:
                payload = {"note": move.note.strip()}
            event = self.move(batch, doc, move.transition, move.at, username, payload)
            if complaint and move.transition == "dispatch":
                batch.notices.append(
                    {
                        "_key": "dispatch",
                        "_event": event,
                        "kind": "complaint_dispatched",
                        "office_id": office.id,
                        "document_no": number,
                        "recipient_role": "office_manager",
                        "payload": {
                            "handler": payload["handler"],
                            "severity": severity,
                            "subject": life.subject,
                        },
                        "created_at": move.at,
                        "sent_at": self.now,
                    }
                )
            if complaint and move.transition in FOLLOW_UPS:
                self.check(batch, doc, move.at, notify_sent=True)
            if move.rework is not None and kind == "repair":
                self.play(
                    batch,
                    ids,
                    staff,
                    life,
                    kind="repair",
                    urgency="normal",
                    received=move.at,
                    moves=move.rework,
                    reopened_from=doc,
                )
        if kind == "complaint" and doc.escalation_level < 2:
            self.check(batch, doc, self.now, notify_sent=False)  # the schedule's check at now
        batch.tickets.append(
            {
                "id": doc.id,
                "document_no": number,
                "office_id": office.id,
                "state": doc.state,
                "version": doc.version,
                "created_at": received,
                "ticket_type": kind,
                "subject": life.subject.strip(),
                "description": "",
                "urgency": doc.urgency,
                "appointment_at": doc.appointment_at,
                "severity": severity,
                "received_at": received,
                "night_service": night,
                "handler_id": doc.handler_id,
                "reopened_from_id": reopened_from.id if reopened_from is not None else None,
                "follow_up_result": doc.follow_up_result,
                "escalation_level": doc.escalation_level,
                "house_ref": (caller.house_ref if caller and life.in_home else None),
                "caller_name": caller.name if caller else None,
                "caller_phone": caller.phone if caller else None,
            }
        )

    def move(
        self,
        batch: _Batch,
        doc: _Doc,
        name: str,
        at: datetime,
        actor: str,
        payload: Mapping[str, Any],
    ) -> int:
        """The engine's move (``create``/``transition`` with ``_record``): state, version,
        event, clocks stopped then started. Returns the event's index in the batch."""
        doc_type = DOC_TYPES[doc.kind]
        t = doc_type.get(name)
        if doc.state not in t.sources:
            raise ValueError(f"{doc.number}: {name} from {doc.state}")
        if t.pauses or t.resumes:
            raise ValueError(f"{doc_type.name}.{name}: tickets have no pauses")
        from_state = doc.state
        doc.state = from_state if t.target == KEEP else t.target
        doc.version += 1
        index = len(batch.events)
        batch.events.append(
            {
                "document_type": doc_type.name,
                "document_id": doc.id,
                "document_no": doc.number,
                "office_id": doc.office_id,
                "transition": name,
                "from_state": from_state,
                "to_state": doc.state,
                "actor": actor,
                "at": at,
                "payload": self.payload(payload),
            }
        )
        doc.moves.append((name, at, index))
        for clock in doc.clocks:
            if clock.name in t.stops and clock.stopped is None:
                clock.stopped, clock.stop_event = max(at, clock.started), index
        for clock_name in t.starts:
            self.start_clock(doc, doc_type, clock_name, at, index)
        return index

    def start_clock(
        self, doc: _Doc, doc_type: DocumentType, name: str, at: datetime, event: int
    ) -> None:
        """``engine._start_clock``: the spec's target (per document), or the due field's."""
        spec = next(c for c in doc_type.clocks if c.name == name)
        if spec.not_before is not None:
            raise ValueError(f"{doc_type.name}.{name}: tickets start clocks at their event")
        key = spec.target_type(cast(Ticket, doc)) if spec.target_type is not None else doc_type.name
        if key is None:
            return
        due_field: datetime | None = getattr(doc, spec.due_field) if spec.due_field else None
        started = at
        if due_field is not None:
            target, started = engine.appointed_clock(at, due_field)
        else:
            target = self.target(key, name, doc.office_id)
        due = self.deadlines(doc.office_id, target, started)
        doc.clocks.append(_Clock(name, target, started, due, event))

    def check(self, batch: _Batch, doc: _Doc, as_of: datetime, *, notify_sent: bool) -> None:
        """``services.tickets.check_complaint`` as of ``as_of``: the levels the ladder says had
        fired and the complaint has not recorded, each an ``escalate_N`` event with its notice."""
        resolution = next(c for c in doc.clocks if c.name == RESOLUTION)
        target = timedelta(minutes=resolution.target.minutes)
        resolutions = [at for name, at, _ in doc.moves if name == "resolve"]
        visits = [
            escalation.FollowUp(at, name == "follow_up")
            for name, at, _ in doc.moves
            if name in FOLLOW_UPS
        ]
        fired, clock = escalation.ladder(resolution.due, target, resolutions, visits, as_of)
        for level in fired:
            if level.level <= doc.escalation_level:
                continue
            doc.escalation_level = level.level
            event = self.move(
                batch,
                doc,
                f"escalate_{level.level}",
                level.at,
                LADDER_ACTOR,
                {"level": level.level, "reason": level.reason, "holder_role": level.holder_role},
            )
            if level.level == 1 and clock is not None and clock.stopped_at is not None:
                # Resolved after the level-1 instant, before this check: the fresh clock stopped
                # at that resolution (services.tickets._stop_escalated_clock).
                stop = next(
                    (
                        i
                        for name, at, i in doc.moves
                        if name == "resolve" and at == clock.stopped_at
                    ),
                    None,
                )
                for c in doc.clocks:
                    if c.name == ESCALATED_RESOLUTION and c.stopped is None:
                        c.stopped, c.stop_event = clock.stopped_at, stop
            batch.notices.append(
                {
                    "_key": f"escalation:{doc.number}:{level.level}",
                    "_event": event,
                    "kind": "complaint_escalated",
                    "office_id": doc.office_id,
                    "document_no": doc.number,
                    "recipient_role": level.holder_role,
                    "payload": {
                        "level": level.level,
                        "reason": level.reason,
                        "escalated_at": level.at,
                        "severity": doc.severity,
                    },
                    "created_at": max(level.at, as_of),
                    "sent_at": self.now if notify_sent else None,
                }
            )

    # -- the rows

    def flush(self, batch: _Batch) -> dict[str, int]:
        """Write the batch: tickets, events in time order (ids ascending), clocks naming their
        events, notices."""
        session = self.session
        order = sorted(range(len(batch.events)), key=lambda i: batch.events[i]["at"])
        event_ids = allocate_ids(session, _table(WorkflowEvent), len(order))
        id_of = [0] * len(order)
        for k, index in enumerate(order):
            id_of[index] = event_ids[k]
        insert_rows(session, _table(Ticket), sorted(batch.tickets, key=lambda r: r["id"]))
        insert_rows(
            session, _table(WorkflowEvent), [batch.events[i] | {"id": id_of[i]} for i in order]
        )
        clock_rows: list[dict[str, Any]] = []
        for doc in batch.docs:
            for c in doc.clocks:
                clock_rows.append(
                    {
                        "document_type": DOC_TYPES[doc.kind].name,
                        "document_id": doc.id,
                        "document_no": doc.number,
                        "office_id": doc.office_id,
                        "clock": c.name,
                        "target_amount": c.target.amount,
                        "target_unit": c.target.unit.value,
                        "calendar": c.target.calendar_kind,
                        "started_at": c.started,
                        "due_at": c.due,
                        "stopped_at": c.stopped,
                        "started_event_id": id_of[c.start_event],
                        "stopped_event_id": None if c.stop_event is None else id_of[c.stop_event],
                    }
                )
        insert_rows(session, _table(WorkflowClock), clock_rows)
        notice_rows = []
        for n in batch.notices:
            row = {k: v for k, v in n.items() if not k.startswith("_")}
            event_id = id_of[n["_event"]]
            if n["_key"] == "dispatch":
                row["idempotency_key"] = f"dispatch:{row['document_no']}:{event_id}"
            else:
                row["idempotency_key"] = n["_key"]
                row["payload"] = row["payload"] | {"event_id": event_id}
            row["payload"] = snapshot(row["payload"])
            notice_rows.append(row)
        insert_rows(session, _table(Notice), notice_rows)
        return {
            "tickets": len(batch.tickets),
            "events": len(batch.events),
            "clocks": len(clock_rows),
            "notices": len(notice_rows),
        }


def _table(model: type[object]) -> Table:
    table = getattr(model, "__table__", None)
    assert isinstance(table, Table)
    return table


def _count(lives: Iterable[Life], now: datetime) -> int:
    """Tickets the lives record by ``now``: each, and each rework recorded by then."""

    def reworks(moves: Sequence[Move]) -> int:
        n = 0
        for move in moves:
            if move.at > now:
                break
            if move.rework is not None:
                n += 1 + reworks(move.rework)
        return n

    return sum(1 + reworks(life.moves) for life in lives if life.received <= now)


def write_lives(
    session: Session, offices: Sequence[tuple[Staff, Sequence[Life]]], now: datetime
) -> dict[str, int]:
    """Write the tickets of ``lives`` at their offices, each as the services would have left it
    at ``now`` (moves after ``now`` not taken). One batch; the caller commits. Returns counts."""
    writer = _Writer(session, [s for s, _ in offices], now)
    total = _count((life for _, lives in offices for life in lives), now)
    ids = iter(allocate_ids(session, _table(Ticket), total))
    batch = _Batch()
    for staff, lives in offices:
        for life in sorted(lives, key=lambda life: life.received):
            if life.received <= now:
                writer.play(batch, ids, staff, life)
    return writer.flush(batch)


# ---------------------------------------------------------------- the plan of an office


def office_staff(session: Session, office: Office, password_hash: str, seed: int) -> Staff:
    """The office's customer-service staff as the demo sets them up (``<office>.<duty>``)."""
    from operational.demo.staff import office_staff as staff_of

    rng = random.Random(f"{seed}:tickets:{office.code}")
    users = staff_of(session, office, demo.STAFF, rng, password_hash, {"mgr": "manager"})
    return Staff(office, calendar_for_office(session, office), users)


def plan_office(
    rng: random.Random,
    staff: Staff,
    people: Sequence[Caller],
    start: datetime,
    now: datetime,
    *,
    per_day: float,
    number: int = 0,
) -> list[Life]:
    """The office's tickets from ``start`` to ``now``, ``per_day`` a day on average, drawn
    with the demo's model (``operational.demo.tickets``): the demo's mix of types, its arrival
    hours, pickups, lateness, rounds of resolution and follow-up and reworks; and complaints
    stuck unresolved past their deadline (every other office: level 1; every third: 2)."""
    place = demo._Office(  # the demo's model of an office, for its draws
        staff.office,
        ZoneInfo(staff.office.timezone),
        staff.calendar,
        {},
        [],
        rng.choice([0.6, 0.8, 1.0, 1.0, 1.25, 1.5, 1.9]),
    )
    scale = per_day / sum(demo.RATES.values())
    lives: list[Life] = []
    day = start.astimezone(place.zone).date()
    last = now.astimezone(place.zone).date()
    while day <= last:
        for kind, rate in demo.RATES.items():
            for _ in range(_poisson(rng, rate * scale)):
                at = demo._call(rng, place, day)
                if start <= at <= now:
                    lives.append(_life(rng, place, staff, people, kind, at))
        day += timedelta(days=1)
    for stuck in demo._stuck_complaints(number, now):
        lives.append(_complaint(rng, place, staff, people, stuck.received, stuck.severity, False))
    return lives


def _poisson(rng: random.Random, rate: float) -> int:
    if rate < 30:
        return demo._poisson(rng, rate)
    return max(0, round(rng.gauss(rate, math.sqrt(rate))))  # the normal approximation


def _life(
    rng: random.Random,
    place: Any,
    staff: Staff,
    people: Sequence[Caller],
    kind: str,
    received: datetime,
) -> Life:
    if kind == "inquiry":
        caller = rng.choice(people) if people else None
        at = demo._pickup(rng, place, received)
        moves = [Move("open", at, "cs")]
        at += timedelta(minutes=demo._lognormal(rng, 90 * place.lateness, 1.0)) + demo._jitter(rng)
        moves.append(Move("reply", at, "cs", "已答复业主"))
        at += timedelta(minutes=rng.randint(5, 120))
        moves.append(Move("close", at, "cs"))
        return Life(kind, received, rng.choice(demo.INQUIRIES), tuple(moves), caller=caller)
    if kind == "repair":
        caller = rng.choice(people) if people else None
        in_home = caller is not None and rng.random() < 0.65
        urgency = rng.choices(("normal", "urgent", "appointment"), (0.6, 0.25, 0.15))[0]
        appointment = None
        if urgency == "appointment":
            local = received.astimezone(place.zone).date() + timedelta(days=rng.randint(1, 3))
            appointment = datetime.combine(
                local, time(rng.choice((10, 15))), place.zone
            ).astimezone(UTC)
        night = not is_working_time(staff.calendar, received)
        repair = _repair(rng, place, received, urgency, appointment, night, rework=False)
        subject = rng.choice(demo.IN_HOME if in_home else demo.COMMON_AREA)
        return Life(
            kind,
            received,
            subject,
            repair,
            urgency=urgency,
            appointment_at=appointment,
            caller=caller,
            in_home=in_home,
        )
    severity = rng.choices([s for s, _ in demo.SEVERITIES], [w for _, w in demo.SEVERITIES])[0]
    return _complaint(rng, place, staff, people, received, severity, True)


def _repair(
    rng: random.Random,
    place: Any,
    received: datetime,
    urgency: str,
    appointment: datetime | None,
    night: bool,
    *,
    rework: bool,
) -> tuple[Move, ...]:
    handler = "cs" if night else rng.choice(("tech1", "tech2"))
    at = received + timedelta(minutes=rng.uniform(1, 15))
    moves = [Move("dispatch", at, "agent", handler=handler)]
    at = demo._pickup(rng, place, at)
    moves.append(Move("pick_up", at, handler))
    if urgency == "urgent":
        at += timedelta(minutes=demo._lognormal(rng, 14 * place.lateness, 0.6))
        moves.append(Move("arrive", at, handler))
    elif urgency == "appointment" and appointment is not None:
        if rng.random() < 0.85 / place.lateness:
            arrival = appointment - timedelta(minutes=rng.uniform(0, 40))
        else:
            arrival = appointment + timedelta(minutes=rng.uniform(5, 120))
        at = max(at + MINUTE, arrival)
        moves.append(Move("arrive", at, handler))
    hours = demo._lognormal(rng, 16 * place.lateness, 1.0)
    at = max(at + 10 * MINUTE, received + timedelta(hours=hours)) + demo._jitter(rng)
    moves.append(Move("resolve", at, handler, "已修复"))
    at += timedelta(hours=rng.uniform(2, 48))
    satisfied = rng.random() < (0.9 if at - received <= 72 * HOUR else 0.7)
    again = not satisfied and not rework and rng.random() < 0.5
    redo = None
    if again:  # the rework: a normal repair recorded at the visit, worked by day or night
        night_again = not is_working_time(place.calendar, at)
        redo = _repair(rng, place, at, "normal", None, night_again, rework=True)
    moves.append(
        Move(
            "follow_up",
            at,
            "agent",
            "" if satisfied else "业主不满意",
            result="satisfied" if satisfied else "unsatisfied",
            rework=redo,
        )
    )
    return tuple(moves)


def _complaint(
    rng: random.Random,
    place: Any,
    staff: Staff,
    people: Sequence[Caller],
    received: datetime,
    severity: str,
    worked: bool,
) -> Life:
    caller = rng.choice(people) if people else None
    subject = rng.choice(demo.COMPLAINTS)
    # the demo's pace: shares of the severity's resolution target (the SLA's, not restated)
    target = timedelta(minutes=sla.DEFAULT_TARGETS[(f"complaint_{severity}", RESOLUTION)].minutes)
    at = received + timedelta(minutes=rng.uniform(1, 20))
    moves = [Move("dispatch", at, "agent", handler="mgr")]
    at = demo._pickup(rng, place, at)
    moves.append(Move("pick_up", at, "mgr"))
    begin, median = received, 0.3
    for round_ in range(3 if worked else 0):
        share = demo._lognormal(rng, median * place.lateness, 0.7)
        at = max(at + 10 * MINUTE, begin + target * share) + demo._jitter(rng)
        moves.append(Move("resolve", at, "mgr", "已处理并回复业主"))
        at += timedelta(hours=rng.uniform(1, 24))
        late = at - begin > target
        satisfied = round_ == 2 or rng.random() < (0.75 if late else 0.92) + 0.05 * round_
        moves.append(
            Move(
                "follow_up" if satisfied else "follow_up_unsatisfied",
                at,
                "agent",
                "" if satisfied else "业主仍不满意",
                result="satisfied" if satisfied else "unsatisfied",
            )
        )
        if satisfied:
            break
        begin = at
    return Life("complaint", received, subject, tuple(moves), severity=severity, caller=caller)


def write_ticket_history(
    session: Session,
    offices: Sequence[Office],
    *,
    days: int,
    now: datetime,
    per_day: float,
    seed: int,
    password_hash: str,
    first_number: int = 0,
) -> dict[str, int]:
    """``days`` of tickets up to ``now`` for ``offices`` (their staff set up as the demo does,
    their callers the current owners and tenants), ``per_day`` tickets a day per office on
    average, planned by :func:`plan_office` and written by :func:`write_lives` in one batch.
    ``first_number``: the first office's position in the group (which offices have stuck
    complaints). The caller commits; returns counts."""
    start = now - timedelta(days=days)
    planned: list[tuple[Staff, Sequence[Life]]] = []
    for n, office in enumerate(offices):
        staff = office_staff(session, office, password_hash, seed)
        rng = random.Random(f"{seed}:ticket-history:{office.code}")
        lives = plan_office(
            rng,
            staff,
            callers(session, office),
            start,
            now,
            per_day=per_day,
            number=first_number + n,
        )
        planned.append((staff, lives))
    return write_lives(session, planned, now)
