"""``propcloud bench tickets``: customer-service tickets through the services, the escalation
check, caller lookup and the ticket marts, timed and reported (docs/benchmarks.md).

For each backend (SQLite, PostgreSQL) the benchmark loads a group of ``offices`` demo offices —
organisation, houses and customers (``operational.demo.property``), ``days`` of ticket history
worked through the ticket services (``operational.demo.tickets``) — and measures, in one run on
one machine (figures are ratios, not absolutes):

* **generation** — the history: tickets and events per second through the services (the demo
  step, one transaction);
* **open complaints** — ``open_complaints`` complaints just recorded (what ``record_ticket``
  writes: the ticket, its ``record`` event and its ``resolution`` clock, due by the office's
  target), written in bulk, received within their target before now so none has breached, but
  ``breached`` of them whose deadline falls in the hour after now;
* **escalation check** — :func:`operational.services.tickets.check_escalations`, the
  5-minute tick: at now (nothing newly breached: the query over every open complaint) and an hour
  later (the ``breached`` ones fire level 1, each with its event, clock and notice), one
  transaction each; seconds per tick and milliseconds per escalation;
* **floor and full build** — an ADBC fetch of ``workflow_event`` into DuckDB (the copy floor,
  best of two) and ``run_pipeline`` into an empty warehouse in a child process; the ticket marts'
  own SELECTs (``marts.tickets``, ``marts.complaint_escalations``, ``marts.ticket_compliance``)
  timed over the published file;
* **intake and transitions** — ``intake`` repairs recorded through ``record_ticket``, then
  dispatched, picked up, resolved and followed up through the services, one transaction per
  step as a web request would (the new day);
* **caller lookup** — :func:`operational.services.property.find_customers` by a stored phone
  number, ``lookups`` times, one session each, as a call-centre agent: median and p95;
* **refresh** — ``run_pipeline`` again after the new day, as a share of the full build.

Targets (reported, not asserted): escalation tick < 1 s over 50 000 open complaints, caller
lookup median < 50 ms, build ≤ 2× floor, refresh < 10 % of the build.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select

from benchmarks.common import (
    machine,
    measure_floor,
    rate,
    run_build_child,
    summary_ms,
    time_model,
)
from benchmarks.common import quiet as _quiet
from benchmarks.common import rounded as _r
from benchmarks.energy import DEFAULT_PG_ADMIN_URL, _database, _engine, _settle
from operational.audit import snapshot
from operational.auth import load_principal, system_principal

BENCH = system_principal("bench")
TARGETS = {
    "escalation_tick_seconds_max": 1.0,
    "lookup_median_ms_max": 50.0,
    "build_over_floor_max": 2.0,
    "refresh_over_build_max": 0.10,
}
TICKET_MARTS = ("marts.tickets", "marts.complaint_escalations", "marts.ticket_compliance")
SEVERITY_HOURS = {"minor": 48, "general": 72, "major": 120}


@dataclass(frozen=True)
class Options:
    offices: int = 4
    days: int = 60
    open_complaints: int = 5_000
    breached: int = 200
    intake: int = 100
    lookups: int = 100
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    seed: int = 15
    workdir: Path | None = None
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    keep: bool = False


Log = Callable[[str], None]


def run_benchmark(options: Options, log: Log = _quiet) -> dict[str, Any]:
    """Run every measurement on every backend of ``options``; return the report (JSON-able)."""
    if options.offices < 1 or options.days < 1 or options.intake < 1 or options.lookups < 1:
        raise ValueError("need offices, days, intake and lookups ≥ 1")
    if not 0 <= options.breached <= options.open_complaints:
        raise ValueError("need 0 ≤ breached ≤ open complaints")
    own_workdir = options.workdir is None
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="propcloud-bench-tickets-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "benchmark": "tickets",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": {
            "offices": options.offices,
            "days": options.days,
            "open_complaints": options.open_complaints,
            "breached": options.breached,
        },
        "options": {"intake": options.intake, "lookups": options.lookups},
        "targets": TARGETS,
        "backends": {},
    }
    try:
        for backend in options.backends:
            log(f"== {backend}: {options.offices} offices, {options.days} days ==")
            with _database(backend, workdir, options) as url:  # type: ignore[arg-type]
                report["backends"][backend] = _run_backend(url, workdir / backend, options, log)
                report["backends"][backend]["load_average_after"] = list(os.getloadavg())
    finally:
        if own_workdir and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["verdict"] = {b: verdict(r) for b, r in report["backends"].items()}
    return report


def _run_backend(url: str, workdir: Path, options: Options, log: Log) -> dict[str, Any]:
    from operational.db import upgrade

    workdir.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    engine = _engine(url)
    result: dict[str, Any] = {}
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        result["generation"] = generate_history(engine, options, now - timedelta(days=1))
        g = result["generation"]
        log(
            f"history: {g['tickets']:,} tickets, {g['events']:,} events in {g['seconds']:.1f} s "
            f"({g['tickets_per_s']:.0f} tickets/s through the services)"
        )
        result["open_complaints"] = write_open_complaints(engine, options, now)
        log(f"open complaints: {options.open_complaints:,} in bulk")
        _settle(engine)
        result["escalation"] = measure_escalation(engine, now)
        e = result["escalation"]
        log(
            f"escalation tick: {e['idle_tick_seconds']:.3f} s idle, "
            f"{e['firing_tick_seconds']:.3f} s firing {e['fired']:,}"
        )
        floors = [measure_floor(url, workdir / "floor.duckdb", "workflow_event")]
        build_child, build_wall = run_build_child(url, workdir / "warehouse")
        floors.append(measure_floor(url, workdir / "floor.duckdb", "workflow_event"))
        floor = min(floors, key=lambda f: f["seconds"])
        result["floor"] = floor | {"runs_seconds": [f["seconds"] for f in floors]}
        published = Path(build_child["published"])
        result["build"] = {
            "seconds": _r(build_child["seconds"]),
            "process_seconds": _r(build_wall),
            "peak_rss_mb": _r(build_child["peak_rss_kb"] / 1024),
            "over_floor": _r(build_child["seconds"] / floor["seconds"]),
        }
        result["ticket_marts"] = {table: time_model(published, table) for table in TICKET_MARTS}
        log(
            f"floor {floor['seconds']:.2f} s, build {build_child['seconds']:.2f} s, ticket marts "
            + ", ".join(f"{t} {m['best_seconds']:.3f} s" for t, m in result["ticket_marts"].items())
        )
        result["services"] = measure_services(engine, options)
        s = result["services"]
        log(
            f"intake {s['intake_per_s']:.1f}/s, transitions {s['transitions_per_s']:.1f}/s "
            f"through the services"
        )
        result["lookup"] = measure_lookup(engine, options)
        log(f"caller lookup by phone: median {result['lookup']['median_ms']:.1f} ms")
        from warehouse.publish import close_published_connections

        close_published_connections()
        refresh_child, refresh_wall = run_build_child(url, workdir / "warehouse")
        result["refresh"] = {
            "seconds": _r(refresh_child["seconds"]),
            "process_seconds": _r(refresh_wall),
            "over_build": _r(refresh_child["seconds"] / build_child["seconds"]),
        }
        log(f"refresh after the day: {refresh_child['seconds']:.2f} s")
        with engine.connect() as con:
            result["rows"] = {
                "tickets": con.scalar(select(func.count()).select_from(_table("Ticket"))),
                "events": con.scalar(select(func.count()).select_from(_table("WorkflowEvent"))),
                "customers": con.scalar(select(func.count()).select_from(_table("Customer"))),
            }
    finally:
        engine.dispose()
    return result


def _table(name: str) -> Table:
    import operational.models as models

    table = getattr(models, name).__table__
    assert isinstance(table, Table)
    return table


# ---------------------------------------------------------------- generation


def generate_history(engine: Any, options: Options, history_now: datetime) -> dict[str, Any]:
    """The demo's organisation, houses and customers, then ``days`` of tickets through the
    services (:func:`operational.demo.tickets.tickets_step`), timed apart."""
    from operational.db import unit_of_work
    from operational.demo import DemoOptions, org_rows
    from operational.demo.property import property_step
    from operational.demo.tickets import tickets_step
    from operational.imports.org import ensure_group, import_org_rows

    demo = DemoOptions(
        offices=options.offices, days=options.days, seed=options.seed, now=history_now
    )
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        group = ensure_group(session, "YY", "一应物业集团")
        import_org_rows(session, org_rows(options.offices, options.seed), group=group, actor=BENCH)
        property_step(session, demo, random.Random(options.seed))
    base = time.perf_counter()
    with unit_of_work(engine) as session:
        tickets_step(session, demo, random.Random(options.seed))
    done = time.perf_counter()
    with engine.connect() as con:
        tickets = int(con.scalar(select(func.count()).select_from(_table("Ticket"))) or 0)
        events = int(con.scalar(select(func.count()).select_from(_table("WorkflowEvent"))) or 0)
    return {
        "tickets": tickets,
        "events": events,
        "base_seconds": _r(base - began),
        "seconds": _r(done - base),
        "tickets_per_s": rate(tickets, done - base),
        "events_per_s": rate(events, done - base),
        "measured": "operational.demo.tickets.tickets_step: every step through the ticket "
        "services at its past instant, one transaction",
    }


def write_open_complaints(engine: Any, options: Options, now: datetime) -> dict[str, Any]:
    """``open_complaints`` complaints just recorded — the rows ``record_ticket`` writes (ticket,
    ``record`` event, ``resolution`` clock due by the office's target) — in bulk; ``breached``
    of them due in the hour after ``now``, the others later."""
    from operational import bulk
    from operational.calendars import is_working_time
    from operational.db import unit_of_work
    from operational.models import Office
    from operational.services.calendars import calendar_for_office
    from operational.workflow import engine as workflow
    from operational.workflow.definitions import RESOLUTION

    rng = random.Random(options.seed)
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        offices = list(session.scalars(select(Office).order_by(Office.code)))
        ids = {o.id for o in offices}
        targets = {
            severity: workflow.targets_for(session, ids, f"complaint_{severity}", RESOLUTION)
            for severity in SEVERITY_HOURS
        }
        calendars = {o.id: calendar_for_office(session, o) for o in offices}
        deadlines = workflow.office_deadlines({o.id: o for o in offices})
        count = options.open_complaints
        ticket_ids = bulk.allocate_ids(session, _table("Ticket"), count)
        event_ids = bulk.allocate_ids(session, _table("WorkflowEvent"), count)
        tickets: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        clocks: list[dict[str, Any]] = []
        for n, (ticket_id, event_id) in enumerate(zip(ticket_ids, event_ids, strict=True)):
            office = offices[n % len(offices)]
            severity = rng.choice(list(SEVERITY_HOURS))
            target = targets[severity](office.id, "")
            span = deadlines(office.id, target, now) - now  # its target, as a span
            if n < options.breached:  # due within the hour after now
                received = now - span + timedelta(seconds=rng.randrange(60, 3_540))
            else:  # received within its target before now: due later than an hour from now
                received = now - span * rng.uniform(0.0, 0.9)
            received = received.replace(microsecond=0)
            night = not is_working_time(calendars[office.id], received)
            number = f"TS-{office.code}-{ticket_id:06d}"
            tickets.append(
                {
                    "id": ticket_id,
                    "document_no": number,
                    "office_id": office.id,
                    "state": "recorded",
                    "version": 1,
                    "created_at": received,
                    "ticket_type": "complaint",
                    "subject": "基准投诉",
                    "description": "",
                    "urgency": None,
                    "appointment_at": None,
                    "severity": severity,
                    "received_at": received,
                    "night_service": night,
                    "handler_id": None,
                    "reopened_from_id": None,
                    "follow_up_result": None,
                    "escalation_level": 0,
                    "house_ref": None,
                    "caller_name": None,
                    "caller_phone": None,
                }
            )
            events.append(
                {
                    "id": event_id,
                    "document_type": "complaint",
                    "document_id": ticket_id,
                    "document_no": number,
                    "office_id": office.id,
                    "transition": "record",
                    "from_state": None,
                    "to_state": "recorded",
                    "actor": "bench",
                    "at": received,
                    "payload": snapshot(
                        {
                            "type": "complaint",
                            "urgency": None,
                            "severity": severity,
                            "appointment_at": None,
                            "night_service": night,
                            "reopened_from": None,
                        }
                    ),
                }
            )
            clocks.append(
                {
                    "document_type": "complaint",
                    "document_id": ticket_id,
                    "document_no": number,
                    "office_id": office.id,
                    "clock": RESOLUTION,
                    "target_amount": target.amount,
                    "target_unit": target.unit.value,
                    "calendar": target.calendar_kind,
                    "started_at": received,
                    "due_at": deadlines(office.id, target, received),
                    "started_event_id": event_id,
                }
            )
        bulk.insert_rows(session, _table("Ticket"), tickets)
        bulk.insert_rows(session, _table("WorkflowEvent"), events)
        bulk.insert_rows(session, _table("WorkflowClock"), clocks)
    return {"complaints": count, "seconds": _r(time.perf_counter() - began)}


# ---------------------------------------------------------------- measurements


def measure_escalation(engine: Any, now: datetime) -> dict[str, Any]:
    """The schedule's tick at ``now`` (nothing newly breached) and an hour later (the breached
    complaints fire), one transaction each."""
    from operational.db import unit_of_work
    from operational.models import ComplaintTicket
    from operational.services.tickets import check_escalations

    with engine.connect() as con:
        open_complaints = con.scalar(
            select(func.count())
            .select_from(_table("Ticket"))
            .where(ComplaintTicket.state != "closed", ComplaintTicket.ticket_type == "complaint")
        )
    times = []
    idle_fired = 0
    for _ in range(3):
        began = time.perf_counter()
        with unit_of_work(engine) as session:
            idle_fired += check_escalations(session, as_of=now)
        times.append(time.perf_counter() - began)
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        fired = check_escalations(session, as_of=now + timedelta(hours=1))
    firing = time.perf_counter() - began
    return {
        "open_complaints": int(open_complaints or 0),
        "idle_tick_seconds": _r(statistics.median(times)),
        "idle_fired": idle_fired,
        "firing_tick_seconds": _r(firing),
        "fired": fired,
        "ms_per_escalation": _r(1000 * firing / fired) if fired else None,
        "measured": "services.tickets.check_escalations, one transaction per tick; idle: median "
        "of 3 ticks at now (the first may fire the history's late complaints); firing: as of "
        "an hour later",
    }


def _staff(session: Any, office_code: str, duty: str) -> Any:
    from operational.models import User

    user = session.scalars(
        select(User).where(User.username == f"{office_code.lower()}.{duty}")
    ).one()
    return load_principal(session, user.id)


def measure_services(engine: Any, options: Options) -> dict[str, Any]:
    """``intake`` repairs recorded through the service, then dispatched, picked up, resolved and
    followed up — one transaction per step, as web requests."""
    from operational.db import unit_of_work
    from operational.models import Office, Ticket
    from operational.services import tickets
    from operational.services.tickets import Intake

    with unit_of_work(engine) as session:
        office = session.scalars(select(Office).order_by(Office.code)).first()
        assert office is not None
        code = office.code
        agent, tech = _staff(session, code, "agent"), _staff(session, code, "tech1")
    ids: list[int] = []
    began = time.perf_counter()
    for n in range(options.intake):
        with unit_of_work(engine) as session:
            ticket = tickets.record_ticket(
                session, agent, Intake(code, "repair", f"基准报修 {n}", urgency="urgent")
            )
            session.flush()
            ids.append(ticket.id)
    intake = time.perf_counter() - began
    steps: list[Callable[[Any, Any], object]] = [
        lambda s, t: tickets.dispatch(s, agent, t, f"{code.lower()}.tech1", t.version),
        lambda s, t: tickets.pick_up(s, tech, t, t.version),
        lambda s, t: tickets.arrive(s, tech, t, t.version),
        lambda s, t: tickets.resolve(s, tech, t, t.version, "已修复"),
        lambda s, t: tickets.follow_up(s, agent, t, t.version, "satisfied"),
    ]
    began = time.perf_counter()
    for step in steps:
        for ticket_id in ids:
            with unit_of_work(engine) as session:
                step(session, session.get_one(Ticket, ticket_id))
    moves = len(ids) * len(steps)
    transitions = time.perf_counter() - began
    return {
        "intake": len(ids),
        "intake_seconds": _r(intake),
        "intake_per_s": rate(len(ids), intake),
        "transitions": moves,
        "transitions_seconds": _r(transitions),
        "transitions_per_s": rate(moves, transitions),
        "measured": "operational.services.tickets: record_ticket, then dispatch, pick_up, "
        "arrive, resolve, follow_up; one transaction (unit_of_work) per call",
    }


def measure_lookup(engine: Any, options: Options) -> dict[str, Any]:
    """:func:`find_customers` by a stored phone number, as the first office's call-centre
    agent, one session per lookup."""
    from operational.db import unit_of_work
    from operational.models import Customer, Office
    from operational.services.property import find_customers

    rng = random.Random(options.seed)
    with unit_of_work(engine) as session:
        office = session.scalars(select(Office).order_by(Office.code)).first()
        assert office is not None
        agent = _staff(session, office.code, "agent")
        phones = list(
            session.scalars(
                select(Customer.phone).where(Customer.office_id == office.id, Customer.phone != "")
            )
        )
    times: list[float] = []
    found = 0
    for _ in range(options.lookups):
        phone = rng.choice(phones)
        began = time.perf_counter()
        with unit_of_work(engine) as session:
            hits = find_customers(session, agent, phone)
        times.append(1000 * (time.perf_counter() - began))
        found += bool(hits)
    return summary_ms(times) | {
        "lookups": len(times),
        "found": found,
        "measured": "operational.services.property.find_customers(phone), one session each",
    }


# ---------------------------------------------------------------- the report


def verdict(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "escalation_tick": b["escalation"]["idle_tick_seconds"]
        <= TARGETS["escalation_tick_seconds_max"],
        "lookup_median": b["lookup"]["median_ms"] <= TARGETS["lookup_median_ms_max"],
        "build_over_floor": b["build"]["over_floor"] <= TARGETS["build_over_floor_max"],
        "refresh_over_build": b["refresh"]["over_build"] <= TARGETS["refresh_over_build_max"],
    }


def format_report(report: dict[str, Any]) -> str:
    scale = report["scale"]
    lines = [
        f"bench tickets — {report['date']}, {report['machine']['cpu_count']} cores, "
        f"{scale['offices']} offices, {scale['days']} days of history, "
        f"{scale['open_complaints']:,} open complaints",
        "",
        "| figure | " + " | ".join(report["backends"]) + " |",
        "|---|" + "---|" * len(report["backends"]),
    ]
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("tickets in the history", lambda b: f"{b['generation']['tickets']:,}"),
        (
            "history through the services",
            lambda b: f"{b['generation']['tickets_per_s']:.0f} tickets/s",
        ),
        ("open complaints at the tick", lambda b: f"{b['escalation']['open_complaints']:,}"),
        ("escalation tick, nothing due", lambda b: f"{b['escalation']['idle_tick_seconds']:.3f} s"),
        (
            "escalation tick, firing",
            lambda b: (
                f"{b['escalation']['firing_tick_seconds']:.2f} s for {b['escalation']['fired']:,}"
            ),
        ),
        ("intake", lambda b: f"{b['services']['intake_per_s']:.1f}/s"),
        ("transitions", lambda b: f"{b['services']['transitions_per_s']:.1f}/s"),
        ("caller lookup by phone, median", lambda b: f"{b['lookup']['median_ms']:.1f} ms"),
        ("copy floor (workflow_event)", lambda b: f"{b['floor']['seconds']:.2f} s"),
        ("full build", lambda b: f"{b['build']['seconds']:.2f} s"),
        ("build ÷ floor", lambda b: f"{b['build']['over_floor']:.1f}×"),
        (
            "ticket marts' SELECTs",
            lambda b: f"{sum(m['best_seconds'] for m in b['ticket_marts'].values()):.3f} s",
        ),
        ("refresh after a day", lambda b: f"{b['refresh']['seconds']:.2f} s"),
        ("refresh ÷ build", lambda b: f"{100 * b['refresh']['over_build']:.0f} %"),
    ]
    for label, cell in rows:
        lines.append(
            f"| {label} | " + " | ".join(cell(b) for b in report["backends"].values()) + " |"
        )
    return "\n".join(lines)
