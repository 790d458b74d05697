"""``propcloud import work-orders``: the go-live history of work orders (G2), with their events.

Columns: ``order_no, office_code, discipline, kind`` (``periodic`` | ``corrective``),
``created_at`` and optional ``assigned_at, completed_at, verified_at, object_code``. Times
without an offset are the office's local time. Each row becomes an order in the state its last
time puts it in, with one ``workflow_event`` per time — exactly the events the engine writes for
the same moves (actor ``system``, ``"source": "history_import"`` in the payload) — and its
completion clock started and stopped at those instants with the deadline of the office's policy.
So the warehouse rebuilds their SLA clocks like any other, and SLA trends do not start at zero.

* periodic: ``issue`` at created_at → ``assign`` at assigned_at → ``complete`` at completed_at
  (``verified_at`` is refused: periodic orders are not verified);
* corrective: ``raise`` → ``assign`` → ``process`` at completed_at → ``verify`` at verified_at.

A periodic order needs a plan: the import files it under a draft plan "go-live history" of the
office and discipline (one per order of the same day: the k-th order of a day goes to plan #k),
whose dates span the imported orders — ended plans count for no object's coverage — and an
``object_code`` is linked to that plan. The responsible person of imported orders is the
inactive user ``history.import``. All rows or none; re-importing the same file changes nothing.
See ``docs/import-formats.md``.

:func:`write_orders` is the bulk writer behind it, also used by the demo.
"""

from __future__ import annotations

import gc
import re
import secrets
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from operational import audit, entry, sla
from operational.auth import Permission, Principal, hash_password, system_principal
from operational.bulk import BackgroundWriter
from operational.bulk import allocate_ids as allocate_ids  # re-exported: the demo's writer
from operational.bulk import insert_rows as insert_rows
from operational.db import WriteLock, serialise
from operational.imports.energy import parse_time, time_refusal
from operational.imports.table import (
    ImportRejected,
    ImportSummary,
    Row,
    RowError,
    read_table,
)
from operational.models import (
    CorrectiveOrder,
    Discipline,
    MaintObject,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    User,
    WorkflowClock,
    WorkflowEvent,
    plan_object,
    utcnow,
)
from operational.progress import NO_PROGRESS, Advance, Progress, counted, stage
from operational.workflow import engine
from operational.workflow.definitions import COMPLETION, CORRECTIVE_ORDER, PERIODIC_ORDER

REQUIRED = ("order_no", "office_code", "discipline", "kind", "created_at")
OPTIONAL = ("assigned_at", "completed_at", "verified_at", "object_code")
TIMES = ("created_at", "assigned_at", "completed_at", "verified_at")
HISTORY_USER = "history.import"
HISTORY_PLAN_NAME = "上线前历史工单 go-live history"
CORRECTIVE_TITLE = "历史工单 (go-live history)"
SOURCE = "history_import"
ORDER_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,39}$")

Kind = Literal["periodic", "corrective"]

ORDER_HISTORY = WriteLock("work-order history", 3)
"""One import of order history at a time (:func:`operational.db.serialise`): a second one waits,
then finds the first one's orders (unchanged, or a row error)."""


# --- the bulk writer -------------------------------------------------------------------------


@dataclass
class HistoryOrder:
    """One order with its history, ready to be written: who, where, and when each move happened.

    ``assigned_at``/``completed_at``/``verified_at`` None: the order has not got that far — except
    an ``assigned_at`` None on a completed order, whose assignment time is unknown: its history
    has no ``assign`` event, the completion follows the creation (docs/sla-clocks.md). For a
    periodic order ``plan_id``, ``scheduled_for`` and ``work_starts_at`` are required.
    ``payloads`` may add fields to the event of a transition (by transition name).
    """

    kind: Kind
    document_no: str  # empty: numbered like the engine (PM-OFFICE-000123)
    office: Office
    discipline: str
    responsible_id: int
    created_at: datetime
    assigned_at: datetime | None = None
    completed_at: datetime | None = None
    verified_at: datetime | None = None
    handler_id: int | None = None
    plan_id: int | None = None
    plan_no: str | None = None
    scheduled_for: date | None = None
    work_starts_at: datetime | None = None
    object_id: int | None = None
    title: str = CORRECTIVE_TITLE
    raised_by_id: int | None = None
    actors: Mapping[str, str] = field(default_factory=dict)
    payloads: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def moves(self) -> list[tuple[str, str | None, str, datetime]]:
        """(transition, from, to, at) of every move, in order."""
        if self.kind == "periodic":
            steps = [
                ("issue", None, "issued", self.created_at),
                ("assign", "issued", "assigned", self.assigned_at),
                ("complete", "assigned", "closed", self.completed_at),
            ]
        else:
            steps = [
                ("raise", None, "open", self.created_at),
                ("assign", "open", "assigned", self.assigned_at),
                ("process", "assigned", "processed", self.completed_at),
                ("verify", "processed", "closed", self.verified_at),
            ]
        done: list[tuple[str, str | None, str, datetime]] = []
        state: str | None = None
        for name, _, target, at in steps:
            if at is None:
                if name == "assign" and self.completed_at is not None:
                    continue  # done, but when it was assigned is not known: no event invented
                break
            done.append((name, state, target, at))
            state = target
        return done


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the block (back on after, if it was on). The rows built
    here hold no reference cycles, yet their allocations made the collector walk the whole,
    growing heap again and again: ≈ 3 s of 16 inside :func:`write_orders` for 100 000 orders."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_orders(
    session: Session,
    orders: Sequence[HistoryOrder],
    targets: Mapping[tuple[int, str, str], sla.ClockTarget] | None = None,
) -> list[int]:
    """Insert ``orders`` with their events and completion clocks, in bulk; return their ids in
    the order given. The rows are what :mod:`operational.workflow.engine` writes for the same
    moves. An order whose ``document_no`` is empty is numbered like the engine numbers
    (``PM-OFFICE-000123``). ``targets`` caches the clock target per (office id, document type,
    discipline); missing ones are looked up with :func:`engine.targets_for` (one query). Each
    deadline is :func:`operational.sla.due_at` in :func:`engine.office_calendar`, memoised as
    :func:`engine.create_many` memoises it (:func:`engine.office_deadlines`).

    Every id, target and calendar is read first; then each table is written with
    :class:`operational.bulk.BackgroundWriter` (COPY on PostgreSQL, ``executemany`` on SQLite)
    while the next table's rows are built. Event ids follow the order given, each order's moves
    in time order. The cycle collector is paused meanwhile (:func:`_collector_paused`).
    """
    with _collector_paused():
        return _write_orders(session, orders, targets)


def _write_orders(
    session: Session,
    orders: Sequence[HistoryOrder],
    targets: Mapping[tuple[int, str, str], sla.ClockTarget] | None,
) -> list[int]:
    cache: dict[tuple[int, str, str], sla.ClockTarget] = dict(targets or {})
    offices = {id(o.office): o.office for o in orders}
    office_of = [(o.office.id, o.office.code) for o in orders]  # no ORM access later on
    moves = [o.moves() for o in orders]
    kinds = [PERIODIC_ORDER if o.kind == "periodic" else CORRECTIVE_ORDER for o in orders]
    # -- reads: policies, calendars, ids (the session is not used once writing starts)
    office_ids = {o.id for o in offices.values()}
    policies = {
        doc_type.name: engine.targets_for(session, office_ids, doc_type.name, COMPLETION)
        for doc_type in (PERIODIC_ORDER, CORRECTIVE_ORDER)
    }
    # Deadlines now too: an office calendar is read from the session on first use.
    clock_targets: list[sla.ClockTarget] = []
    clock_starts: list[datetime] = []
    clock_dues: list[datetime] = []
    deadlines = engine.office_deadlines({o.id: o for o in offices.values()})
    for o, doc_type, (office_id, _) in zip(orders, kinds, office_of, strict=True):
        key = (office_id, doc_type.name, o.discipline)
        target = cache.get(key)
        if target is None:
            target = cache[key] = policies[doc_type.name](office_id, o.discipline)
        # The engine's clock start: the creating event, not before the work's day.
        started = max(o.created_at, o.work_starts_at) if o.work_starts_at else o.created_at
        clock_targets.append(target)
        clock_starts.append(started)
        clock_dues.append(deadlines(office_id, target, started))
    ids: list[int] = [0] * len(orders)
    drawn = {
        doc_type.name: iter(
            allocate_ids(
                session,
                _table(doc_type.model),
                sum(1 for k in kinds if k is doc_type),
            )
        )
        for doc_type in (PERIODIC_ORDER, CORRECTIVE_ORDER)
    }
    for i, doc_type in enumerate(kinds):
        ids[i] = next(drawn[doc_type.name])
    event_ids = allocate_ids(session, _table(WorkflowEvent), sum(len(m) for m in moves))
    numbers: list[str] = [
        o.document_no or f"{doc_type.number_prefix}-{code}-{new_id:06d}"
        for o, doc_type, (_, code), new_id in zip(orders, kinds, office_of, ids, strict=True)
    ]

    with BackgroundWriter(session) as writer:
        for doc_type in (PERIODIC_ORDER, CORRECTIVE_ORDER):
            writer.insert(
                _table(doc_type.model),
                [
                    _order_row(orders[i], office_of[i][0], moves[i])
                    | {"id": ids[i], "document_no": numbers[i]}
                    for i, k in enumerate(kinds)
                    if k is doc_type
                ],
            )
        event_rows: list[dict[str, Any]] = []
        payloads: dict[Any, dict[str, Any]] = {}  # equal payloads share one JSON-safe dict
        for index, o in enumerate(orders):
            for name, source, state, at in moves[index]:
                event_rows.append(
                    {
                        "id": event_ids[len(event_rows)],
                        "document_type": kinds[index].name,
                        "document_id": ids[index],
                        "document_no": numbers[index],
                        "office_id": office_of[index][0],
                        "transition": name,
                        "from_state": source,
                        "to_state": state,
                        "actor": o.actors.get(name, engine.SYSTEM_ACTOR),
                        "at": at,
                        "payload": _snapshot(_payload(o, name), payloads),
                    }
                )
        writer.insert(_table(WorkflowEvent), event_rows)

        clock_rows: list[dict[str, Any]] = []
        position = 0  # of the order's first event
        for index, o in enumerate(orders):
            doc_type, target = kinds[index], clock_targets[index]
            office_id = office_of[index][0]
            done = moves[index]
            start_id, started = event_ids[position], clock_starts[index]
            stop_name = "complete" if o.kind == "periodic" else "verify"
            stop = next(
                ((event_ids[position + k], m[3]) for k, m in enumerate(done) if m[0] == stop_name),
                None,
            )
            position += len(done)
            clock_rows.append(
                {
                    "document_type": doc_type.name,
                    "document_id": ids[index],
                    "document_no": numbers[index],
                    "office_id": office_id,
                    "clock": COMPLETION,
                    "target_amount": target.amount,
                    "target_unit": target.unit.value,
                    "calendar": target.calendar_kind,
                    "started_at": started,
                    "due_at": clock_dues[index],
                    "stopped_at": max(stop[1], started) if stop else None,
                    "started_event_id": start_id,
                    "stopped_event_id": stop[0] if stop else None,
                }
            )
        writer.insert(_table(WorkflowClock), clock_rows)
    return ids


def _snapshot(payload: dict[str, Any], seen: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """:func:`operational.audit.snapshot`, one dict for equal payloads (so the bulk writer
    serialises each once); a payload holding a list is not shared."""
    key = tuple(payload.items())
    try:
        held = seen.get(key)
    except TypeError:  # unhashable: a list in it
        return audit.snapshot(payload)
    if held is None:
        held = seen[key] = audit.snapshot(payload)
    return held


def _order_row(
    o: HistoryOrder, office_id: int, moves: list[tuple[str, str | None, str, datetime]]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "document_no": o.document_no,
        "office_id": office_id,
        "state": moves[-1][2],
        "version": len(moves),
        "created_at": o.created_at,
        "discipline": o.discipline,
        "responsible_id": o.responsible_id,
        "handler_id": o.handler_id if o.assigned_at else None,
    }
    if o.kind == "periodic":
        assert o.plan_id is not None and o.scheduled_for and o.work_starts_at
        row |= {
            "plan_id": o.plan_id,
            "scheduled_for": o.scheduled_for,
            "work_starts_at": o.work_starts_at,
        }
    else:
        row |= {
            "title": o.title,
            "description": "",
            "object_id": o.object_id,
            "raised_by_id": o.raised_by_id,
            "source_order_id": None,
        }
    return row


def _payload(o: HistoryOrder, transition: str) -> dict[str, Any]:
    if transition == "issue":
        base: dict[str, Any] = {"plan": o.plan_no, "scheduled_for": o.scheduled_for}
    elif transition == "raise":
        base = {"discipline": o.discipline, "title": o.title, "source_order": None}
    elif transition == "assign":
        base = {"handler": None}
    elif transition == "complete":
        base = {"passed": 0, "failed": 0, "corrective_orders": []}
    else:
        base = {"note": ""}
    return {**base, **o.payloads.get(transition, {})}


# --- the import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    row: int
    order_no: str
    office: Office
    discipline: str
    kind: Kind
    times: dict[str, datetime | None]
    object_code: str

    def fingerprint(self) -> dict[str, Any]:
        """What the row says, as stored in the creating event (to recognise a re-import)."""
        return {
            "office_code": self.office.code,
            "discipline": self.discipline,
            "kind": self.kind,
            **{k: v.astimezone(UTC).isoformat() if v else None for k, v in self.times.items()},
            "object_code": self.object_code or None,
        }


def _validate(
    session: Session, rows: list[Row], now: datetime, advance: Advance = NO_PROGRESS.advance
) -> tuple[list[OrderRow], list[RowError]]:
    offices = {o.code: o for o in session.scalars(select(Office))}
    disciplines = {d.value for d in Discipline}
    errors: list[RowError] = []
    good: list[OrderRow] = []
    first_row: dict[str, int] = {}
    objects: set[tuple[int, str]] = {
        (office_id, code)
        for office_id, code in session.execute(select(MaintObject.office_id, MaintObject.code))
    }
    for number, values in counted(rows, advance, 1_000):
        problems: list[RowError] = []
        for column in REQUIRED:
            if not values[column]:
                problems.append(RowError(number, "import.missing_value", {"column": column}))
        order_no = values["order_no"]
        if order_no and not ORDER_NO.match(order_no):
            problems.append(
                RowError(number, "import.work_orders.bad_order_no", {"value": order_no})
            )
        office = offices.get(values["office_code"])
        if values["office_code"] and office is None:
            problems.append(
                RowError(
                    number, "import.work_orders.unknown_office", {"code": values["office_code"]}
                )
            )
        discipline = values["discipline"].lower()
        if discipline and discipline not in disciplines:
            problems.append(
                RowError(
                    number, "import.work_orders.bad_discipline", {"value": values["discipline"]}
                )
            )
        kind = values["kind"].lower()
        if kind and kind not in ("periodic", "corrective"):
            problems.append(
                RowError(number, "import.work_orders.bad_kind", {"value": values["kind"]})
            )
        times: dict[str, datetime | None] = {}
        zone = ZoneInfo(office.timezone if office else "UTC")
        for column in TIMES:
            text = values[column]
            parsed = parse_time(text, zone) if text else None
            if text and parsed is None:
                problems.append(
                    RowError(
                        number, "import.bad_time", {"column": column, "value": entry.short(text)}
                    )
                )
            elif parsed is not None and parsed < entry.EARLIEST:
                out_of_bounds = time_refusal(number, column, text, parsed, None)
                assert out_of_bounds is not None
                problems.append(out_of_bounds)
            elif parsed is not None and parsed > now:
                problems.append(
                    RowError(
                        number,
                        "import.work_orders.future_time",
                        {"column": column, "value": entry.short(text)},
                    )
                )
            times[column] = parsed
        if problems:
            errors.extend(problems)
            continue
        assert office is not None
        previous: tuple[str, datetime] | None = None
        for column in TIMES:
            at = times[column]
            if at is None:
                continue
            if previous is not None and at < previous[1]:
                problems.append(
                    RowError(
                        number,
                        "import.work_orders.time_order",
                        {"column": column, "earlier": previous[0]},
                    )
                )
            previous = (column, at)
        # A completed order without assigned_at is accepted: its assignment time is unknown.
        needs = {"verified_at": "completed_at"}
        for column, before in needs.items():
            if times[column] is not None and times[before] is None:
                problems.append(
                    RowError(
                        number,
                        "import.work_orders.missing_step",
                        {"column": column, "needs": before},
                    )
                )
        if kind == "periodic" and times["verified_at"] is not None:
            problems.append(RowError(number, "import.work_orders.periodic_not_verified"))
        object_code = values["object_code"]
        if object_code and (office.id, object_code) not in objects:
            problems.append(
                RowError(
                    number, "orders.unknown_object", {"code": object_code, "office": office.code}
                )
            )
        if order_no in first_row:
            problems.append(
                RowError(
                    number,
                    "import.work_orders.duplicate_in_file",
                    {"order_no": order_no, "first_row": first_row[order_no]},
                )
            )
        else:
            first_row[order_no] = number
        if problems:
            errors.extend(problems)
            continue
        good.append(
            OrderRow(
                number,
                order_no,
                office,
                discipline,
                "periodic" if kind == "periodic" else "corrective",
                times,
                object_code,
            )
        )
    return good, errors


def _existing(session: Session, numbers: list[str]) -> dict[str, dict[str, Any] | None]:
    """The order numbers already in the database, with the imported row if it came from here."""
    found: dict[str, dict[str, Any] | None] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        for model in (PeriodicOrder, CorrectiveOrder):
            for (no,) in session.execute(
                select(model.document_no).where(model.document_no.in_(chunk))
            ):
                found[no] = None
        for no, payload in session.execute(
            select(WorkflowEvent.document_no, WorkflowEvent.payload).where(
                WorkflowEvent.document_no.in_(chunk),
                WorkflowEvent.transition.in_(("issue", "raise")),
            )
        ):
            if no in found and isinstance(payload, dict) and payload.get("source") == SOURCE:
                found[no] = payload.get("row")
    return found


def _history_user(session: Session) -> User:
    user = session.scalars(select(User).where(User.username == HISTORY_USER)).one_or_none()
    if user is None:
        user = User(
            username=HISTORY_USER,
            display_name="历史导入 (go-live history)",
            password_hash=hash_password(secrets.token_urlsafe(24)),
            is_active=False,
        )
        session.add(user)
        session.flush()
    return user


def _history_plans(
    session: Session, responsible: User, wanted: list[OrderRow]
) -> dict[int, PeriodicPlan]:
    """A plan per periodic row (by row number): slot k of (office, discipline, day)."""
    plans: dict[tuple[int, str], list[PeriodicPlan]] = defaultdict(list)
    for plan in session.scalars(
        select(PeriodicPlan)
        .where(PeriodicPlan.name.like(HISTORY_PLAN_NAME + " #%"))
        .order_by(PeriodicPlan.id)
    ):
        plans[(plan.office_id, plan.discipline)].append(plan)
    used: dict[date, set[int]] = defaultdict(set)  # plans already holding an order that day
    all_ids = [p.id for group in plans.values() for p in group]
    if all_ids:
        for plan_id, day in session.execute(
            select(PeriodicOrder.plan_id, PeriodicOrder.scheduled_for).where(
                PeriodicOrder.plan_id.in_(all_ids)
            )
        ):
            used[day].add(plan_id)
    chosen: dict[int, PeriodicPlan] = {}
    for r in wanted:
        created = r.times["created_at"]
        assert created is not None
        day = created.astimezone(ZoneInfo(r.office.timezone)).date()
        group = plans[(r.office.id, r.discipline)]
        taken = used[day]
        free = next((p for p in group if p.id not in taken), None)
        if free is not None:
            plan = free
        else:
            plan = PeriodicPlan(
                office_id=r.office.id,
                name=f"{HISTORY_PLAN_NAME} #{len(group) + 1}",
                discipline=r.discipline,
                responsible_id=responsible.id,
                drafted_by_id=None,
                frequency="daily",
                every=1,
                start_date=day,
                end_date=day,
            )
            engine.create(
                session,
                system_principal(engine.SYSTEM_ACTOR),
                plan,
                "draft",
                {"source": SOURCE, "name": plan.name},
            )
            group.append(plan)
        plan.start_date = min(plan.start_date, day)
        plan.end_date = max(plan.end_date or day, day)
        taken.add(plan.id)
        chosen[r.row] = plan
    return chosen


def import_work_order_rows(
    session: Session,
    rows: list[Row],
    *,
    actor: Principal,
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> ImportSummary:
    """Validate every row, then write the new orders with their history; nothing if any is bad.

    One such import at a time (:data:`ORDER_HISTORY`, taken before anything is read): the second
    of two concurrent imports validates against the first one's orders. ``actor`` needs
    ``MANAGE_ORDERS`` at each row's office (another office's row is a bad row); a name acts as
    that system principal (the command line)."""
    now = now or utcnow()
    principal = actor
    serialise(session, ORDER_HISTORY)
    with stage(progress, "ops.progress.import.orders_rows", len(rows)) as advance:
        good, errors = _validate(session, rows, now, advance)
    allowed = [r for r in good if principal.can(Permission.MANAGE_ORDERS, r.office.code)]
    errors += [
        RowError(r.row, "selfservice.import.office_not_allowed", {"code": r.office.code})
        for r in good
        if r not in allowed
    ]
    good = allowed
    existing = _existing(session, [r.order_no for r in good])
    new: list[OrderRow] = []
    summary = ImportSummary()
    for r in good:
        if r.order_no not in existing:
            new.append(r)
        elif existing[r.order_no] == r.fingerprint():
            summary.unchanged += 1
        else:
            errors.append(
                RowError(r.row, "import.work_orders.order_exists", {"order_no": r.order_no})
            )
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    if not new:
        return summary
    responsible = _history_user(session)
    plans = _history_plans(session, responsible, [r for r in new if r.kind == "periodic"])
    objects = {
        (o.office_id, o.code): o.id
        for o in session.scalars(
            select(MaintObject).where(MaintObject.office_id.in_({r.office.id for r in new}))
        )
    }
    links: set[tuple[int, int]] = set()
    orders: list[HistoryOrder] = []
    for r in new:
        created = r.times["created_at"]
        assert created is not None
        object_id = objects.get((r.office.id, r.object_code)) if r.object_code else None
        extra = {"source": SOURCE, "row": r.fingerprint()}
        order = HistoryOrder(
            kind=r.kind,
            document_no=r.order_no,
            office=r.office,
            discipline=r.discipline,
            responsible_id=responsible.id,
            created_at=created,
            assigned_at=r.times["assigned_at"],
            completed_at=r.times["completed_at"],
            verified_at=r.times["verified_at"],
            payloads={"issue": extra, "raise": {**extra, "responsible": HISTORY_USER}},
        )
        if r.kind == "periodic":
            plan = plans[r.row]
            day = created.astimezone(ZoneInfo(r.office.timezone)).date()
            order.plan_id, order.plan_no, order.scheduled_for = plan.id, plan.document_no, day
            order.work_starts_at = datetime.combine(
                day, time(0), tzinfo=ZoneInfo(r.office.timezone)
            ).astimezone(UTC)
            if object_id is not None:
                links.add((plan.id, object_id))
        else:
            order.object_id = object_id
        orders.append(order)
    session.flush()
    if links:
        have = {
            (plan_id, object_id)
            for plan_id, object_id in session.execute(
                select(plan_object.c.plan_id, plan_object.c.object_id).where(
                    plan_object.c.plan_id.in_({p for p, _ in links})
                )
            )
        }
        rows_to_link = [{"plan_id": p, "object_id": o} for p, o in sorted(links - have)]
        if rows_to_link:
            session.execute(insert(plan_object), rows_to_link)
    with stage(progress, "ops.progress.import.orders_write"):
        write_orders(session, orders)
    summary.created = len(orders)
    audit.record(
        session,
        actor=principal.username,
        action="import",
        entity="work_orders",
        entity_key=f"{min(r.order_no for r in new)}..{max(r.order_no for r in new)}",
        after={"created": len(orders), "unchanged": summary.unchanged},
    )
    session.flush()
    return summary


def import_work_orders_file(
    session: Session,
    path: Path,
    *,
    actor: Principal,
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
    encoding: str | None = None,
) -> ImportSummary:
    with stage(progress, "ops.progress.import.read", None, file=path.name):
        read = read_table(path, REQUIRED, OPTIONAL, encoding=encoding)
    return import_work_order_rows(
        session, read.rows, actor=actor, now=now, progress=progress
    ).read_as(read.encoding)
