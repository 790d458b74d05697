"""``propcloud bench tickets``: customer-service tickets through the services, the escalation
check, caller lookup and the ticket marts, timed and reported (docs/benchmarks.md).

For each backend (SQLite, PostgreSQL) the benchmark loads a group of ``offices`` demo offices —
organisation, houses and customers (``operational.demo.property``), ``days`` of ticket history
worked through the ticket services (``operational.demo.tickets``) — and measures, in one run on
one machine (figures are ratios, not absolutes):

* **generation** — the history: tickets and events per second through the services (the demo
  step, one transaction); or, with ``history="bulk"`` (the issue's scale: 500 offices, 1 M
  houses, 2 M occupants, 5 M tickets), houses and occupants
  (:mod:`operational.demo.property_bulk`) and ``tickets`` tickets
  (:mod:`operational.demo.ticket_history`: the services' rows, written in bulk) per batch of
  ``batch_offices`` offices, one transaction each, so memory stays bounded;
* **open complaints** — ``open_complaints`` complaints just recorded (what ``record_ticket``
  writes: the ticket, its ``record`` event and its ``resolution`` clock, due by the office's
  target), written in bulk, received within their target before now so none has breached, but
  ``breached`` of them whose deadline falls in the hour after now;
* **escalation check** — :func:`operational.services.tickets.check_escalations`, the
  5-minute tick: at now (nothing newly breached: the query over every open complaint) and an hour
  later (the ``breached`` ones fire level 1, each with its event, clock and notice), one
  transaction each; seconds per tick and milliseconds per escalation;
* **floor and full build** — an ADBC fetch into DuckDB of each big table the ticket build
  extracts (``workflow_event``, ``cs_ticket``, ``workflow_clock``; the floor is their sum) and
  ``run_pipeline`` into an empty warehouse in a child process, with the time each table took;
  the ticket marts' own SELECTs (``marts.tickets``, ``marts.complaint_escalations``,
  ``marts.ticket_compliance``) timed over the published file;
* **intake and transitions** — ``intake`` repairs recorded through ``record_ticket``, then
  dispatched, picked up, resolved and followed up through the services, one transaction per
  step as a web request would (the new day);
* **caller lookup** — :func:`operational.services.ticket_desk.find_callers` (the desk's one
  field) by a stored phone number, by a house with occupants and by a surname, ``lookups``
  times each, one session each, as a call-centre agent: median and p95;
* **refresh** — first ``run_pipeline`` once more right after the full build (*first refresh*:
  with no superseded version to continue it copies the published file — at 5 M tickets that copy
  was most of it), then the new day (intake, transitions, lookups), then ``run_pipeline`` again,
  which continues the superseded full build's file (a spare: the steady state of a scheduled
  pipeline, as the quality, SLA and energy benchmarks measure it), as a share of the full build.

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

from sqlalchemy import Table, func, select, text

from benchmarks import ticket_pages
from benchmarks.common import (
    machine,
    measure_floor,
    rate,
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
    "page_query_median_ms_max": 100.0,
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
    history: str = "services"  # or "bulk": operational.demo.ticket_history
    tickets: int = 0  # bulk: tickets in the history, over every office (0: the demo's rate)
    houses: int = 0  # bulk: houses over every office (0: 48 an office)
    occupants: int = 0  # bulk: current occupants over every office (0: 1.5 a house)
    batch_offices: int = 10  # bulk: offices written per transaction
    query_runs: int = 20  # timed runs of each page query


Log = Callable[[str], None]


def run_benchmark(options: Options, log: Log = _quiet) -> dict[str, Any]:
    """Run every measurement on every backend of ``options``; return the report (JSON-able)."""
    if options.offices < 1 or options.days < 1 or options.intake < 1 or options.lookups < 1:
        raise ValueError("need offices, days, intake and lookups ≥ 1")
    if not 0 <= options.breached <= options.open_complaints:
        raise ValueError("need 0 ≤ breached ≤ open complaints")
    if options.history not in ("services", "bulk"):
        raise ValueError("history: services or bulk")
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
            "history": options.history,
            **(
                {
                    "tickets": options.tickets,
                    "houses": options.houses,
                    "occupants": options.occupants,
                }
                if options.history == "bulk"
                else {}
            ),
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
        if options.history == "bulk":
            result["generation"] = generate_bulk(engine, options, now - timedelta(days=1), log)
        else:
            result["generation"] = generate_history(engine, options, now - timedelta(days=1))
        g = result["generation"]
        log(
            f"history: {g['tickets']:,} tickets, {g['events']:,} events in {g['seconds']:.1f} s "
            f"({g['tickets_per_s']:.0f} tickets/s, {options.history})"
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
        result["floor"] = measure_floors(url, workdir, log)
        floor = result["floor"]
        log(
            "copy floors: "
            + ", ".join(f"{t} {f['seconds']:.2f} s" for t, f in floor["tables"].items())
            + f"; sum {floor['seconds']:.2f} s"
        )
        build_child, build_wall = build_with_timings(url, workdir / "warehouse")
        published = Path(build_child["published"])
        result["build"] = {
            "seconds": _r(build_child["seconds"]),
            "process_seconds": _r(build_wall),
            "peak_rss_mb": _r(build_child["peak_rss_kb"] / 1024),
            "over_floor": _r(build_child["seconds"] / floor["seconds"]),
            "slowest_assets": build_child["slowest_assets"],
        }
        result["ticket_marts"] = {table: time_model(published, table) for table in TICKET_MARTS}
        result["page_queries"] = ticket_pages.measure_queries(
            workdir / "warehouse", options.query_runs
        )
        slowest = max(q.get("median_ms", 0.0) for q in result["page_queries"].values())
        log(f"page queries: slowest median {slowest:.1f} ms")
        log(
            f"floor {floor['seconds']:.2f} s, build {build_child['seconds']:.2f} s, ticket marts "
            + ", ".join(f"{t} {m['best_seconds']:.3f} s" for t, m in result["ticket_marts"].items())
        )
        # The first refresh after a full build: nothing new and no superseded version to
        # continue, so it copies the published file. The refresh measured after the day
        # continues the full build's file instead (a spare), as a scheduled pipeline does.
        result["first_refresh"] = _refresh(url, workdir, build_child)
        log(f"first refresh (nothing new, copies the file): {result['first_refresh']['seconds']} s")
        result["services"] = measure_services(engine, options)
        s = result["services"]
        log(
            f"intake {s['intake_per_s']:.1f}/s, transitions {s['transitions_per_s']:.1f}/s "
            f"through the services"
        )
        result["lookup"] = measure_lookup(engine, options)
        for by in ("phone", "house", "name"):
            found = result["lookup"] if by == "phone" else result["lookup"][by]
            log(
                f"caller lookup by {by}: median {found['median_ms']:.1f} ms, "
                f"p95 {found['p95_ms']:.1f} ms"
            )
        result["refresh"] = _refresh(url, workdir, build_child) | {
            # The full build's file was taken (renamed away) unless no spare could be.
            "continued": "a copy of the published file"
            if published.exists()
            else "the full build's file (a spare)",
        }
        log(f"refresh after the day: {result['refresh']['seconds']} s")
        with engine.connect() as con:
            result["rows"] = {
                "tickets": con.scalar(select(func.count()).select_from(_table("Ticket"))),
                "events": con.scalar(select(func.count()).select_from(_table("WorkflowEvent"))),
                "customers": con.scalar(select(func.count()).select_from(_table("Customer"))),
                "houses": con.scalar(select(func.count()).select_from(_table("House"))),
                "clocks": con.scalar(select(func.count()).select_from(_table("WorkflowClock"))),
            }
    finally:
        engine.dispose()
    return result


def _refresh(url: str, workdir: Path, build: dict[str, Any]) -> dict[str, Any]:
    """``run_pipeline`` once more, the published file's readers closed first (as a dashboard
    lets a version go once it reads a newer one): its time, and its share of ``build``'s."""
    from warehouse.publish import close_published_connections

    close_published_connections()
    child, wall = build_with_timings(url, workdir / "warehouse")
    return {
        "seconds": _r(child["seconds"]),
        "process_seconds": _r(wall),
        "over_build": _r(child["seconds"] / build["seconds"]),
        "slowest_assets": child["slowest_assets"],
    }


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


def generate_bulk(
    engine: Any, options: Options, history_now: datetime, log: Log = _quiet
) -> dict[str, Any]:
    """The demo's organisation, then per batch of ``batch_offices`` offices (one transaction
    each, so memory stays bounded): houses and occupants in bulk
    (:func:`operational.demo.property_bulk.write_houses`) and ``days`` of tickets in bulk
    (:func:`operational.demo.ticket_history.write_ticket_history`), timed apart."""
    from operational.auth import hash_password
    from operational.db import unit_of_work
    from operational.demo import DEMO_PASSWORD, org_rows
    from operational.demo.property_bulk import write_houses
    from operational.demo.ticket_history import write_ticket_history
    from operational.imports.org import ensure_group, import_org_rows
    from operational.models import Office

    n = options.offices
    houses_per_office = max(1, round(options.houses / n)) if options.houses else 48
    per_house = options.occupants / (houses_per_office * n) if options.occupants else 1.5
    per_day = options.tickets / n / options.days if options.tickets else 0.65
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        group = ensure_group(session, "YY", "一应物业集团")
        import_org_rows(session, org_rows(n, options.seed), group=group, actor=BENCH)
        codes = list(session.scalars(select(Office.code).order_by(Office.code)))
    password_hash = hash_password(DEMO_PASSWORD)
    base = time.perf_counter() - began
    property_seconds = tickets_seconds = 0.0
    counts: dict[str, int] = {}
    for first in range(0, n, options.batch_offices):
        batch = codes[first : first + options.batch_offices]
        with unit_of_work(engine) as session:
            if engine.dialect.name == "sqlite":
                # The history's indexes (event instants, deadlines) grow to GBs and take random
                # inserts: a page cache of 1 GB instead of 2 MB for this writer's connection.
                session.execute(text("PRAGMA cache_size=-1048576"))
            offices = list(
                session.scalars(select(Office).where(Office.code.in_(batch)).order_by(Office.code))
            )
            started = time.perf_counter()
            done = write_houses(
                session,
                offices,
                houses_per_office=houses_per_office,
                occupants_per_house=per_house,
                seed=options.seed,
            )
            middle = time.perf_counter()
            done |= write_ticket_history(
                session,
                offices,
                days=options.days,
                now=history_now,
                per_day=per_day,
                seed=options.seed,
                password_hash=password_hash,
                first_number=first,
            )
        ended = time.perf_counter()  # committed
        property_seconds += middle - started
        tickets_seconds += ended - middle
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value
        log(
            f"  offices {first + len(batch):,}/{n:,}: {counts['houses']:,} houses, "
            f"{counts['occupants']:,} occupants, {counts['tickets']:,} tickets, "
            f"{counts['events']:,} events ({rate(counts['tickets'], tickets_seconds):,.0f} "
            f"tickets/s)"
        )
    return {
        "tickets": counts.get("tickets", 0),
        "events": counts.get("events", 0),
        "clocks": counts.get("clocks", 0),
        "houses": counts.get("houses", 0),
        "occupants": counts.get("occupants", 0),
        "customers": counts.get("customers", 0),
        "base_seconds": _r(base),
        "property_seconds": _r(property_seconds),
        "seconds": _r(tickets_seconds),
        "tickets_per_s": rate(counts.get("tickets", 0), tickets_seconds),
        "events_per_s": rate(counts.get("events", 0), tickets_seconds),
        "measured": "operational.demo.ticket_history.write_ticket_history (bulk, the services' "
        "rows) per batch of offices, one transaction each, commit included; houses and "
        "occupants (operational.demo.property_bulk) timed apart",
    }


FLOOR_TABLES = ("workflow_event", "cs_ticket", "workflow_clock")
"""The big tables the build extracts for the ticket marts: their copy is the floor."""


def measure_floors(url: str, workdir: Path, log: Log = _quiet) -> dict[str, Any]:
    """The ADBC copy floor of each of :data:`FLOOR_TABLES` (as ``measure_floor``), and their
    sum: what copying the raw rows out costs at least."""
    tables = {t: measure_floor(url, workdir / "floor.duckdb", t) for t in FLOOR_TABLES}
    return {
        "tables": tables,
        "seconds": _r(sum(f["seconds"] for f in tables.values())),
        "rows": sum(f["rows"] for f in tables.values()),
        "measured": "benchmarks.common.measure_floor of each table, once, after the history "
        "was written; the floor is their sum",
    }


def build_with_timings(url: str, warehouse_dir: Path) -> tuple[dict[str, Any], float]:
    """``run_pipeline`` in a child process (its peak RSS its own), as
    ``benchmarks.common.run_build_child``, also reporting how long each table took (the time
    between one table's materialisation and the previous one's: the in-process executor
    builds one at a time), slowest first."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.tickets", str(url), str(warehouse_dir)],
        cwd=root,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    child: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return child, wall


class _Timings:
    """A :class:`operational.progress.Progress` that notes when each table was built."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def begin(self, key: str, total: int | None, /, **params: object) -> None:
        self.last = time.perf_counter()

    def advance(self, amount: int, /, item: str | None = None) -> None:
        now = time.perf_counter()
        self.seconds[item or "?"] = self.seconds.get(item or "?", 0.0) + now - self.last
        self.last = now

    def end(self, failed: bool = False) -> None:
        pass


def _build_child(url: str, warehouse_dir: str) -> None:
    import json
    import resource

    from pipelines.run import run_pipeline

    timings = _Timings()
    began = time.perf_counter()
    published = run_pipeline(url, Path(warehouse_dir), datetime.now(UTC), progress=timings)
    seconds = time.perf_counter() - began
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    slowest = sorted(timings.seconds.items(), key=lambda kv: -kv[1])[:12]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_kb": peak,
                "published": str(published),
                "slowest_assets": {name: _r(s) for name, s in slowest},
            }
        )
    )


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
    """The call centre's caller lookup (:func:`operational.services.ticket_desk.find_callers`,
    one field) as the first office's call-centre agent, one session per lookup, ``lookups``
    times each: by a stored phone number (the top-level figures), by a house with current
    occupants (``building-unit-room``) and by a name's beginning (a surname)."""
    from operational.db import unit_of_work
    from operational.models import Customer, House, Occupancy, Office, PropBuilding
    from operational.services.ticket_desk import find_callers

    rng = random.Random(options.seed)
    with unit_of_work(engine) as session:
        office = session.scalars(select(Office).order_by(Office.code)).first()
        assert office is not None
        agent = _staff(session, office.code, "agent")
        people = list(
            session.execute(
                select(Customer.phone, Customer.name).where(
                    Customer.office_id == office.id, Customer.phone != ""
                )
            )
        )
        houses = [
            f"{b}-{u}-{r}"
            for b, u, r in session.execute(
                select(PropBuilding.code, House.unit, House.room)
                .join(House, House.building_id == PropBuilding.id)
                .where(
                    House.office_id == office.id,
                    House.id.in_(
                        select(Occupancy.house_id).where(Occupancy.moved_out_on.is_(None))
                    ),
                )
            )
        ]
    queries = {
        "phone": [rng.choice(people)[0] for _ in range(options.lookups)],
        "house": [rng.choice(houses) for _ in range(options.lookups)],
        "name": [rng.choice(people)[1][:1] for _ in range(options.lookups)],
    }
    out: dict[str, Any] = {}
    for by, texts in queries.items():
        times: list[float] = []
        found = 0
        for query in texts:
            began = time.perf_counter()
            with unit_of_work(engine) as session:
                hits = find_callers(session, agent, query)
            times.append(1000 * (time.perf_counter() - began))
            found += bool(hits)
        out[by] = summary_ms(times) | {"lookups": len(times), "found": found}
    phone: dict[str, Any] = out.pop("phone")
    return (
        phone
        | out
        | {
            "customers_in_office": len(people),
            "measured": "operational.services.ticket_desk.find_callers as a call-centre agent "
            "of one office, one session each: by phone (top level), by house, by a surname",
        }
    )


# ---------------------------------------------------------------- the report


def verdict(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "escalation_tick": b["escalation"]["idle_tick_seconds"]
        <= TARGETS["escalation_tick_seconds_max"],
        "lookup_median": b["lookup"]["median_ms"] <= TARGETS["lookup_median_ms_max"],
        "build_over_floor": b["build"]["over_floor"] <= TARGETS["build_over_floor_max"],
        "refresh_over_build": b["refresh"]["over_build"] <= TARGETS["refresh_over_build_max"],
        "page_queries": all(
            "median_ms" in q and q["median_ms"] <= TARGETS["page_query_median_ms_max"]
            for q in b["page_queries"].values()
        ),
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
        ("events", lambda b: f"{b['rows']['events']:,}"),
        ("customers", lambda b: f"{b['rows']['customers']:,}"),
        (
            f"history ({scale['history']})",
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
        (
            "caller lookup by phone, median / p95",
            lambda b: f"{b['lookup']['median_ms']:.1f} / {b['lookup']['p95_ms']:.1f} ms",
        ),
        (
            "caller lookup by house, median / p95",
            lambda b: (
                f"{b['lookup']['house']['median_ms']:.1f} / {b['lookup']['house']['p95_ms']:.1f} ms"
            ),
        ),
        (
            "caller lookup by surname, median / p95",
            lambda b: (
                f"{b['lookup']['name']['median_ms']:.1f} / {b['lookup']['name']['p95_ms']:.1f} ms"
            ),
        ),
        *(
            (
                f"copy floor ({table})",
                lambda b, table=table: f"{b['floor']['tables'][table]['seconds']:.2f} s",
            )
            for table in FLOOR_TABLES
        ),
        ("copy floor (sum)", lambda b: f"{b['floor']['seconds']:.2f} s"),
        ("full build", lambda b: f"{b['build']['seconds']:.2f} s"),
        ("build ÷ floor", lambda b: f"{b['build']['over_floor']:.1f}×"),
        (
            "ticket marts' SELECTs",
            lambda b: f"{sum(m['best_seconds'] for m in b['ticket_marts'].values()):.3f} s",
        ),
        (
            "first refresh after the build (nothing new, copies the file)",
            lambda b: f"{b['first_refresh']['seconds']:.2f} s" if "first_refresh" in b else "-",
        ),
        ("refresh after a day", lambda b: f"{b['refresh']['seconds']:.2f} s"),
        ("  continued", lambda b: b["refresh"].get("continued", "-")),
        ("refresh ÷ build", lambda b: f"{100 * b['refresh']['over_build']:.0f} %"),
        *(
            (
                f"page query {name}, median / p95",
                lambda b, name=name: (
                    f"{b['page_queries'][name]['median_ms']:.1f} / "
                    f"{b['page_queries'][name]['p95_ms']:.1f} ms"
                    if "median_ms" in b["page_queries"][name]
                    else b["page_queries"][name]["error"]
                ),
            )
            for name in ticket_pages.query_calls()
        ),
    ]
    for label, cell in rows:
        lines.append(
            f"| {label} | " + " | ".join(cell(b) for b in report["backends"].values()) + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # the build child of build_with_timings: URL, warehouse directory
    import sys

    _build_child(sys.argv[1], sys.argv[2])
