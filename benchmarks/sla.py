"""``propcloud bench sla``: maintenance orders and SLA marts at group scale, timed and reported.

For each backend (SQLite, PostgreSQL) the benchmark generates a group of ``offices`` offices
and about ``orders`` work orders with their events and clocks, then measures, in one run on one
machine (docs/benchmarks.md — figures are ratios, not absolutes):

* **generation** — objects, approved plans and the orders of each office written in bulk the
  way the demo writes them (``operational.demo.orders`` helpers and
  ``operational.imports.work_orders.write_orders``: exactly the events and clocks the engine
  writes; periodic orders on the dates ``generate_orders`` would issue). An office gets the
  demo's five plans over up to ``max_days`` days of history and corrective orders to make up its
  share of ``orders``;
* **floor** — an ADBC fetch of ``workflow_event`` as Arrow plus ``CREATE TABLE … AS SELECT *``
  into a fresh DuckDB file (measured before and after the build; the faster one counts);
* **build** — ``pipelines.run.run_pipeline`` into an empty warehouse directory (every asset,
  the SLA marts among them, checks and publish) in a child process whose peak RSS is reported;
* **refresh** — first ``run_pipeline`` once more with nothing new (*first refresh*: with no
  superseded version to continue it copies the published file), then one more day: corrective
  orders with their events (one day's share of the office's orders, bulk-written) and as many
  older open orders moved on through the services (:func:`move_older_orders`: clocks paused,
  resumed and stopped), then ``run_pipeline`` again, which continues the superseded full build's
  file (the steady state of a scheduled pipeline); with the SLA step's ``sla.build_log`` row (mode, documents,
  clocks recomputed) and the published file's size;
* **queries** — median and p95 of every ``SlaReader`` query on the published file, the
  reader's result cache cleared before each run (each run opens the file, as a cold reader),
  and of every query of the control tower (``TowerReader``: headquarters, a city company of
  ``OFFICES_PER_CITY`` offices, an office manager); the control tower mart's own SELECT is
  timed apart (its build step builds it with the other SQL marts);
* **generate month** — ``plans.generate_orders(session, None, today + 30 days)``: the real
  service issuing the next month of periodic orders for every approved plan, one transaction;
  then the same call again (the next tick of the scheduler, nothing new to issue);
* **transitions** — ``transitions`` corrective orders raised through ``orders.raise_corrective``
  then moved assign → process → verify through ``operational.services.orders`` (the engine,
  real principals), one transaction per move as a web request would; moves per second and
  SQL statements per move.

Targets (reported, not asserted): build ≤ 2× floor, refresh < 10 % of the
build, every query < 100 ms median.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import select

from benchmarks.common import measure_floor as _measure_floor
from benchmarks.common import measure_tower, table_and_verdict, time_model, time_queries
from benchmarks.common import query_cell as _query_cell
from benchmarks.common import quiet as _quiet
from benchmarks.common import rate as _rate
from benchmarks.common import rounded as _r
from benchmarks.common import run_build_child as _run_build_child
from benchmarks.common import verdict as common_verdict
from benchmarks.energy import DEFAULT_PG_ADMIN_URL, _database, _engine, _settle
from operational.auth import system_principal

CLI = system_principal("cli")

GROUP_CODE = "BENCH"
GROUP_NAME = "基准测试物业集团"
OFFICES_PER_CITY = 10
PERIODIC_PER_DAY = 2.3  # the demo's five plans issue about this many orders a day per office
TARGETS = {
    "build_over_floor_max": 2.0,
    "refresh_over_build_max": 0.10,
    "query_median_ms_max": 100.0,
}
FLOOR_TABLE = "workflow_event"
OLD_ORDERS_MAX = 1_000
"""At most this many older open orders are moved on the new day (as many as the day's new
orders otherwise): through the services, a few milliseconds per move."""


@dataclass(frozen=True)
class Options:
    offices: int = 20
    orders: int = 100_000
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    transitions: int = 200
    old_orders: int = OLD_ORDERS_MAX
    query_runs: int = 20
    max_days: int = 730
    offices_per_batch: int = 10
    seed: int = 11
    workdir: Path | None = None
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    keep: bool = False


Log = Callable[[str], None]


def history_days(offices: int, orders: int, max_days: int = 730) -> int:
    """Days of history: periodic orders make about 60 % of an office's share, at most
    ``max_days`` (corrective orders make up the rest), at least a week."""
    per_office = orders / max(1, offices)
    return max(7, min(max_days, round(0.6 * per_office / PERIODIC_PER_DAY)))


# ---------------------------------------------------------------- the run


def run_benchmark(options: Options, log: Log = _quiet) -> dict[str, Any]:
    """Run every measurement on every backend of ``options``; return the report (JSON-able)."""
    if options.offices < 1 or options.orders < options.offices or options.transitions < 1:
        raise ValueError("need offices ≥ 1, orders ≥ offices and transitions ≥ 1")
    own_workdir = options.workdir is None
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="propcloud-bench-sla-"))
    workdir.mkdir(parents=True, exist_ok=True)
    days = history_days(options.offices, options.orders, options.max_days)
    report: dict[str, Any] = {
        "benchmark": "sla",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "load_average": list(os.getloadavg()),
        },
        "scale": {
            "offices": options.offices,
            "orders_requested": options.orders,
            "days": days,
        },
        "options": {
            "transitions": options.transitions,
            "query_runs": options.query_runs,
            "max_days": options.max_days,
        },
        "targets": TARGETS,
        "backends": {},
    }
    try:
        for backend in options.backends:
            log(f"== {backend}: {options.offices} offices, ~{options.orders:,} orders ==")
            with _database(backend, workdir, options) as url:  # type: ignore[arg-type]
                report["backends"][backend] = _run_backend(
                    url, workdir / backend, options, days, log
                )
                report["backends"][backend]["load_average_after"] = list(os.getloadavg())
    finally:
        if own_workdir and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["verdict"] = verdict(report)
    return report


def _run_backend(url: str, workdir: Path, options: Options, days: int, log: Log) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    now = datetime.now(UTC).replace(microsecond=0)
    history_now = now - timedelta(days=1)

    # -- generation
    generation, places = generate_group(url, options, days, history_now, log)
    result["generation"] = generation
    log(
        f"generation: {generation['orders']:,} orders, {generation['events']:,} events in "
        f"{generation['seconds']:.1f} s"
    )

    # -- floor, full build
    floor_before = _measure_floor(url, workdir / "floor.duckdb", FLOOR_TABLE)
    log(f"floor: {floor_before['seconds']:.2f} s")
    warehouse_dir = workdir / "warehouse"
    build = child_build(url, warehouse_dir)
    log(f"build: {build['seconds']:.2f} s, peak {build['peak_rss_mb']:.0f} MB")
    floor_after = _measure_floor(url, workdir / "floor.duckdb", FLOOR_TABLE)
    floor = min(floor_before, floor_after, key=lambda f: f["seconds"])
    result["floor"] = floor | {"runs_seconds": [floor_before["seconds"], floor_after["seconds"]]}
    build["over_floor"] = _r(build["seconds"] / floor["seconds"])
    result["build"] = build

    # -- dashboard queries on the published file (the SLA pages', then the control tower's)
    office = places[0]["code"]
    result["queries"] = measure_queries(warehouse_dir, office, options.query_runs)
    city_offices = [p["code"] for p in places[:OFFICES_PER_CITY]]  # city C001
    result["queries"] |= measure_tower(
        warehouse_dir, city_offices, "C001", office, options.query_runs
    )
    log("queries: " + ", ".join(f"{k} {_query_cell(v)}" for k, v in result["queries"].items()))
    result["tower_mart"] = time_model(Path(build["published"]), "marts.control_tower")
    log(f"control tower mart: {result['tower_mart']['best_seconds']:.3f} s")

    # -- the first refresh after a full build: nothing new, no spare version to continue (it
    # copies the published file); this process's readers let the full build go first, as a
    # dashboard does once it reads a newer version
    from warehouse.publish import close_published_connections

    close_published_connections()
    first_refresh = child_build(url, warehouse_dir)
    first_refresh["over_build"] = _r(first_refresh["seconds"] / build["seconds"])
    result["first_refresh"] = first_refresh
    log(f"first refresh (nothing new): {first_refresh['seconds']:.2f} s")

    # -- one more day of events: new orders, and older open orders moved on; then the refresh
    result["new_day"] = write_new_day(url, options, days, places, history_now, now)
    moved = move_older_orders(
        url,
        places,
        min(options.old_orders, result["new_day"]["orders"]),
        options.seed,
        history_now,
        now,
    )
    result["new_day"] |= moved
    result["new_day"]["events"] += moved["old_order_events"]
    log(
        f"new day: {result['new_day']['orders']:,} new orders, "
        f"{moved['old_orders_moved']:,} older ones moved, {result['new_day']['events']:,} events"
    )
    refresh = child_build(url, warehouse_dir)
    refresh["over_build"] = _r(refresh["seconds"] / build["seconds"])
    refresh["continued"] = (
        "the full build's file (a spare)"
        if refresh["sla_builds"][:-1] == build["sla_builds"]
        else "a copy of the published file"
    )
    result["refresh"] = refresh
    log(f"refresh: {refresh['seconds']:.2f} s ({refresh['continued']})")

    # -- the real services
    result["generate_month"] = measure_generate_month(url, now)
    log(
        f"generate_orders, one month: {result['generate_month']['orders']:,} orders in "
        f"{result['generate_month']['seconds']:.1f} s"
    )
    result["transitions"] = measure_transitions(url, places[0], options.transitions, log)
    log(f"transitions: {result['transitions']['transitions_per_s']:.1f}/s")
    return result


# ---------------------------------------------------------------- generation


def generate_group(
    url: str, options: Options, days: int, history_now: datetime, log: Log
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The group, its offices and their orders up to ``history_now``; timed.

    Returns the generation figures and, per office, what later steps need (code, staff, object
    ids per discipline, lateness).
    """
    from operational.auth import hash_password
    from operational.db import unit_of_work, upgrade
    from operational.demo import orders as demo_orders
    from operational.imports.org import ensure_group, import_org_rows
    from operational.imports.work_orders import insert_rows, write_orders
    from operational.models import ChecklistAnswer, ChecklistItem, Office

    began = time.perf_counter()
    write_seconds = 0.0  # inside write_orders and the checklist insert
    upgrade(url)
    engine = _engine(url)
    codes = [f"O{i + 1:04d}" for i in range(options.offices)]
    share = _shares(options.orders, options.offices)
    places: list[dict[str, Any]] = []
    totals = {"orders": 0, "periodic": 0, "corrective": 0, "events": 0, "checklist_rows": 0}
    try:
        with unit_of_work(engine) as session:
            group = ensure_group(session, GROUP_CODE, GROUP_NAME)
            rows = [
                (
                    n + 2,
                    {
                        "city_code": f"C{n // OFFICES_PER_CITY + 1:03d}",
                        "city_name": f"城市C{n // OFFICES_PER_CITY + 1:03d}",
                        "office_code": code,
                        "office_name": f"项目{code}",
                        "timezone": "Asia/Urumqi" if n % 17 == 16 else "Asia/Shanghai",
                    },
                )
                for n, code in enumerate(codes)
            ]
            import_org_rows(session, rows, group=group, actor=system_principal("bench"))
            demo_orders._ensure_type_tree(session)
        password_hash = hash_password("bench-" + GROUP_CODE.lower())
        for first in range(0, len(codes), options.offices_per_batch):
            batch = codes[first : first + options.offices_per_batch]
            with unit_of_work(engine) as session:
                types = demo_orders._ensure_type_tree(session)
                items: dict[int, list[Any]] = {}
                for item in session.scalars(select(ChecklistItem).order_by(ChecklistItem.position)):
                    items.setdefault(item.type_id, []).append(item)
                offices = {
                    o.code: o for o in session.scalars(select(Office).where(Office.code.in_(batch)))
                }
                pending: list[tuple[Any, list[dict[str, Any]]]] = []
                for number, code in enumerate(batch, start=first):
                    office = offices[code]
                    rng = random.Random(f"{options.seed}:sla:{code}")
                    place = demo_orders._set_up_office(
                        session, office, number, rng, types, password_hash
                    )
                    start_day = history_now.astimezone(place.zone).date() - timedelta(days=days - 1)
                    periodic: list[tuple[Any, list[dict[str, Any]]]] = []
                    for spec in demo_orders.PLANS:
                        plan, objects = demo_orders._approved_plan(session, place, spec, start_day)
                        periodic.extend(
                            demo_orders._periodic_orders(
                                rng, place, plan, objects, spec, items, history_now
                            )
                        )
                    snapshot = _place_snapshot(place)
                    corrective = [
                        _corrective_order(rng, place.office, snapshot, raised, history_now)
                        for raised in _raise_times(
                            rng, place.zone, start_day, history_now, share[number] - len(periodic)
                        )
                    ]
                    pending.extend(periodic)
                    pending.extend((o, []) for o in corrective)
                    totals["periodic"] += len(periodic)
                    totals["corrective"] += len(corrective)
                    places.append(snapshot)
                # In time order, so event ids follow the clock as when the engine writes them.
                pending.sort(key=lambda pair: (pair[0].created_at, pair[0].office.code))
                writing = time.perf_counter()
                ids = write_orders(session, [order for order, _ in pending])
                answers = [
                    dict(row, order_id=order_id)
                    for order_id, (_, group_rows) in zip(ids, pending, strict=True)
                    for row in group_rows
                ]
                insert_rows(session, ChecklistAnswer.__table__, answers)  # type: ignore[arg-type]
                write_seconds += time.perf_counter() - writing
                totals["orders"] += len(pending)
                totals["events"] += sum(len(o.moves()) for o, _ in pending)
                totals["checklist_rows"] += len(answers)
            done = first + len(batch)
            elapsed = time.perf_counter() - began
            log(
                f"  generated {done}/{len(codes)} offices, {totals['orders']:,} orders, "
                f"{totals['orders'] / elapsed:,.0f} orders/s so far"
            )
        _settle(engine)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - began
    return (
        totals
        | {
            "seconds": _r(seconds),
            "orders_per_s": _rate(totals["orders"], seconds),
            "events_per_s": _rate(totals["events"], seconds),
            "write_seconds": _r(write_seconds),
            "write_orders_per_s": _rate(totals["orders"], write_seconds),
            "measured": "org, users, objects, approved plans (engine), orders + events + clocks + "
            "checklists in bulk (write_orders), one transaction per batch of offices; "
            "write_seconds: the time inside write_orders and the checklist insert",
        },
        places,
    )


def _shares(orders: int, offices: int) -> list[int]:
    base, extra = divmod(orders, offices)
    return [base + (1 if i < extra else 0) for i in range(offices)]


def _place_snapshot(place: Any) -> dict[str, Any]:
    from operational.demo.orders import C, E, L, S

    objects = place.objects
    return {
        "code": place.office.code,
        "office_id": place.office.id,
        "timezone": place.office.timezone,
        "staff": dict(place.staff),
        "lateness": place.lateness,
        "objects": {
            E.value: [
                o.id for c in ("elevator", "water_pump", "fire_equipment") for o in objects[c]
            ],
            L.value: [o.id for o in objects["lawn_zone"]],
            S.value: [o.id for o in objects["guard_post"]],
            C.value: [o.id for o in objects["lobby"]],
        },
    }


def _raise_times(
    rng: random.Random, zone: ZoneInfo, start_day: date, until: datetime, count: int
) -> list[datetime]:
    """``count`` instants between 07:00 and 21:00 office time on the days from ``start_day``,
    none after ``until``."""
    days = max(1, (until.astimezone(zone).date() - start_day).days + 1)
    out = []
    for _ in range(max(0, count)):
        day = start_day + timedelta(days=rng.randrange(days))
        raised = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC) + timedelta(
            minutes=rng.randint(7 * 60, 21 * 60)
        )
        if raised > until:
            raised = until - timedelta(minutes=rng.randint(1, 12 * 60))
        out.append(raised)
    return out


def _corrective_order(
    rng: random.Random, office: Any, place: dict[str, Any], raised: datetime, now: datetime
) -> Any:
    """A corrective order raised at ``raised`` with its moves up to ``now``, as the demo's."""
    from operational.demo import orders as demo_orders
    from operational.imports.work_orders import HistoryOrder

    disciplines = list(demo_orders.CORRECTIVE)
    discipline = rng.choices(
        disciplines, weights=[demo_orders.CORRECTIVE[d][0] for d in disciplines]
    )[0]
    _, pace, titles = demo_orders.CORRECTIVE[discipline]
    staff = place["staff"]
    responsible_id, responsible = staff[demo_orders.SUPERVISOR[discipline]]
    day = raised.astimezone(ZoneInfo(place["timezone"])).date()
    assigned = raised + timedelta(minutes=rng.randint(10, 240))
    processed = assigned + demo_orders._delay(rng, 20.0 * pace * place["lateness"], day)
    verified = processed + timedelta(minutes=rng.randint(30, 12 * 60))
    handler_id, handler = staff[rng.choice(demo_orders.HANDLERS[discipline])]
    raiser_id, raiser = staff[rng.choice(("guard", "tech1", demo_orders.SUPERVISOR[discipline]))]
    title = rng.choice(titles)
    return HistoryOrder(
        kind="corrective",
        document_no="",
        office=office,
        discipline=discipline.value,
        responsible_id=responsible_id,
        created_at=raised,
        assigned_at=assigned if assigned <= now else None,
        completed_at=processed if processed <= now else None,
        verified_at=verified if verified <= now else None,
        handler_id=handler_id,
        object_id=rng.choice(place["objects"][discipline.value]),
        title=title,
        raised_by_id=raiser_id,
        actors={"raise": raiser, "assign": responsible, "process": handler, "verify": responsible},
        payloads={
            "raise": {"responsible": responsible, "title": title},
            "assign": {"handler": handler},
            "process": {"note": "已处理"},
        },
    )


def write_new_day(
    url: str,
    options: Options,
    days: int,
    places: list[dict[str, Any]],
    history_now: datetime,
    now: datetime,
) -> dict[str, Any]:
    """One day's share of every office's orders, raised between ``history_now`` and ``now``
    (corrective, with their moves up to ``now``), bulk-written like the history."""
    from operational.db import unit_of_work
    from operational.imports.work_orders import write_orders
    from operational.models import Office

    engine = _engine(url)
    share = _shares(options.orders, options.offices)
    began = time.perf_counter()
    try:
        with unit_of_work(engine) as session:
            offices = {o.code: o for o in session.scalars(select(Office))}
            orders = []
            for number, place in enumerate(places):
                rng = random.Random(f"{options.seed}:sla:new-day:{place['code']}")
                for _ in range(max(1, round(share[number] / days))):
                    raised = history_now + timedelta(
                        seconds=rng.randint(1, int((now - history_now).total_seconds()) - 60)
                    )
                    orders.append(
                        _corrective_order(rng, offices[place["code"]], place, raised, now)
                    )
            orders.sort(key=lambda o: (o.created_at, o.office.code))
            write_orders(session, orders)
        _settle(engine)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - began
    return {
        "orders": len(orders),
        "events": sum(len(o.moves()) for o in orders),
        "seconds": _r(seconds),
    }


def move_older_orders(
    url: str,
    places: list[dict[str, Any]],
    count: int,
    seed: int,
    history_now: datetime,
    now: datetime,
) -> dict[str, Any]:
    """Up to ``count`` open orders raised before ``history_now`` (so already in the published
    warehouse), picked at random, moved on during the new day through the services with the
    real principals, in one unit of work: corrective orders assigned if open, a third of them
    put on hold and resumed (their clock paused and resumed), processed, and verified (clock
    stopped); periodic orders assigned if issued and completed with every checklist item ✓
    (clock stopped). Their documents are what the incremental refresh must re-extract."""
    from operational.auth import load_principal
    from operational.db import unit_of_work
    from operational.demo import orders as demo_orders
    from operational.models import CorrectiveOrder, Discipline, PeriodicOrder
    from operational.services import orders

    engine = _engine(url)
    rng = random.Random(f"{seed}:sla:older-orders")
    counts = {"orders": 0, "events": 0, "paused": 0, "stopped": 0}
    began = time.perf_counter()
    try:
        with unit_of_work(engine) as session:
            candidates = [
                number
                for model, states in (
                    (CorrectiveOrder, ("open", "assigned", "processed")),
                    (PeriodicOrder, ("issued", "assigned")),
                )
                for (number,) in session.execute(
                    select(model.document_no)
                    .where(model.state.in_(states), model.created_at < history_now)
                    .order_by(model.id)
                )
            ]
            picked = rng.sample(candidates, min(count, len(candidates)))
            staff = {place["office_id"]: place["staff"] for place in places}
            principals: dict[int, Any] = {}

            def who(user_id: int | None) -> Any:
                assert user_id is not None
                if user_id not in principals:
                    principals[user_id] = load_principal(session, user_id)
                return principals[user_id]

            span = (now - history_now).total_seconds() - 4 * 3600  # four steps of ≤ 50 min
            for number in picked:
                order = orders.get_order(session, CLI, number)
                at = history_now + timedelta(seconds=rng.uniform(60, span))
                step = timedelta(minutes=rng.randint(10, 50))
                moves = 0
                boss = who(order.responsible_id)
                if order.state in ("open", "issued"):
                    role = rng.choice(demo_orders.HANDLERS[Discipline(order.discipline)])
                    handler = staff[order.office_id][role][1]
                    orders.assign(session, boss, order, handler, order.version, at=at)
                    at, moves = at + step, moves + 1
                worker = who(order.handler_id)
                if isinstance(order, PeriodicOrder):
                    answers = {
                        a.id: orders.Answer(ok=True) for a in orders.checklist(session, order)
                    }
                    orders.complete_periodic(
                        session, worker, order, answers, order.version, note="ok", at=at
                    )
                    moves += 1
                else:
                    if order.state == "assigned":
                        if rng.random() < 1 / 3:
                            orders.wait_corrective(
                                session, worker, order, order.version, "parts", at=at
                            )
                            orders.resume_corrective(
                                session, worker, order, order.version, at=at + step
                            )
                            at, moves = at + 2 * step, moves + 2
                            counts["paused"] += 1
                        orders.process_corrective(
                            session, worker, order, order.version, "done", at=at
                        )
                        at, moves = at + step, moves + 1
                    orders.verify_corrective(
                        session, boss, order, order.version, accepted=True, at=at
                    )
                    moves += 1
                assert order.state == "closed" and at < now, (number, order.state, at)
                counts["orders"] += 1
                counts["events"] += moves
                counts["stopped"] += 1
        _settle(engine)
    finally:
        engine.dispose()
    return {
        "old_orders_moved": counts["orders"],
        "old_order_events": counts["events"],
        "old_clocks_paused": counts["paused"],
        "old_clocks_stopped": counts["stopped"],
        "old_orders_seconds": _r(time.perf_counter() - began),
    }


# ---------------------------------------------------------------- floor


# ---------------------------------------------------------------- build / refresh (child process)


def child_build(url: str, warehouse_dir: Path) -> dict[str, Any]:
    """``run_pipeline`` in a child process; its time, peak RSS, the SLA marts' row counts, what
    the SLA step did (its ``sla.build_log`` row) and the size of the published file."""
    child, wall = _run_build_child(url, warehouse_dir)
    published = Path(child["published"])
    with duckdb.connect(str(published), read_only=True) as con:
        clocks = con.sql("select count(*) from marts.sla_clocks").fetchall()[0][0]
        events = con.sql("select count(*) from raw.workflow_event").fetchall()[0][0]
        mode, reason, recomputed, documents, sla_seconds = con.sql(
            "select mode, reason, clocks_recomputed, documents, seconds from sla.build_log"
            " order by built_at desc limit 1"
        ).fetchall()[0]
        builds = [
            row[0]
            for row in con.sql("select build_id from sla.build_log order by built_at").fetchall()
        ]
    return {
        "seconds": _r(child["seconds"]),
        "process_seconds": _r(wall),
        "peak_rss_mb": _r(child["peak_rss_kb"] / 1024),
        "sla_clocks_rows": int(clocks),
        "raw_events_rows": int(events),
        "sla_mode": mode,
        "sla_reason": reason,
        "sla_clocks_recomputed": int(recomputed),
        "sla_documents": None if documents is None else int(documents),
        "sla_seconds": _r(sla_seconds),
        "published_mb": _r(published.stat().st_size / 2**20),
        "published": str(published),
        "sla_builds": builds,
        "measured": "pipelines.run.run_pipeline (every asset, checks, publish) in a child process; "
        "sla_*: the SLA step's own row of sla.build_log in the published file (mode, clocks "
        "recomputed, documents with new events, its seconds); published_mb: that file's size",
    }


# ---------------------------------------------------------------- dashboard queries


class ScopedReaders:
    """Headquarters' reader (every office) and an office manager's (one office)."""

    def __init__(self, warehouse_dir: Path, office_code: str) -> None:
        from warehouse.queries_sla import SlaReader
        from warehouse.scope import OfficeScope

        self.group = SlaReader(warehouse_dir, OfficeScope.everything())
        self.office = SlaReader(warehouse_dir, OfficeScope.of({office_code}))


def query_calls(office_code: str) -> dict[str, Callable[[Any], Any]]:
    """Every ``SlaReader`` query with realistic arguments: headquarters' (all offices) for the
    group views, an office manager's scope for the office ones; each call takes a
    :class:`ScopedReaders`."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    this_month = today.replace(day=1)
    last_12m = (this_month - timedelta(days=335)).replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return {
        "heatmap_group_12m": lambda r: r.group.compliance_heatmap(
            first_month=last_12m, last_month=this_month
        ),
        "heatmap_group_all": lambda r: r.group.compliance_heatmap(),
        "heatmap_office_corrective": lambda r: r.office.compliance_heatmap(
            document_type="corrective_order"
        ),
        "months_group": lambda r: len(r.group.months()),
        "heatmap_cities_group_12m": lambda r: r.group.compliance_by_city(
            first_month=last_12m, last_month=this_month
        ),
        "heatmap_offices_of_a_city_12m": lambda r: r.group.compliance_by_office(
            city_code="C001", first_month=last_12m, last_month=this_month
        ),
        "heatmap_offices_group_12m": lambda r: r.group.compliance_by_office(
            first_month=last_12m, last_month=this_month
        ),
        "heatmap_one_office_12m": lambda r: r.group.compliance_heatmap(
            office_code=office_code, first_month=last_12m, last_month=this_month
        ),
        "late_orders_group": lambda r: r.group.late_orders(limit=50),
        "late_orders_group_12m_offset_5000": lambda r: r.group.late_orders(
            first_month=last_12m, last_month=this_month, limit=50, offset=5000
        ),
        "late_orders_count_group": lambda r: r.group.late_orders_count(),
        "late_orders_count_group_12m": lambda r: r.group.late_orders_count(
            first_month=last_12m, last_month=this_month
        ),
        "late_orders_cell": lambda r: r.office.late_orders(
            office_code=office_code, discipline="engineering", month=last_month
        ),
        "workload_group": lambda r: r.group.office_workload(),
        "workload_office": lambda r: r.office.office_workload(),
        "throughput_group_12m": lambda r: r.group.order_throughput(
            first_month=last_12m, last_month=this_month
        ),
        "throughput_office": lambda r: r.office.order_throughput(),
    }


def measure_queries(warehouse_dir: Path, office_code: str, runs: int) -> dict[str, Any]:
    """Median and p95 (ms) of every query, the reader's result cache cleared before each run
    (the reader's read-only connection to the published version stays open between runs, as
    in a dashboard process: ``warehouse.publish.published_cursor``)."""
    from warehouse import queries

    readers = ScopedReaders(warehouse_dir, office_code)
    return time_queries(query_calls(office_code), readers, queries._cached_query.cache_clear, runs)


# ---------------------------------------------------------------- the real services


def measure_generate_month(url: str, now: datetime) -> dict[str, Any]:
    """``plans.generate_orders`` for every approved plan up to 30 days ahead, one transaction;
    then the same call again (the next scheduler tick: nothing new to issue), timed apart."""
    from operational.db import unit_of_work
    from operational.models import PeriodicPlan
    from operational.services import plans

    engine = _engine(url)
    horizon = now.astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=30)
    try:
        with engine.connect() as con:
            plan_count = con.execute(
                select(PeriodicPlan.id).where(PeriodicPlan.state == "approved")
            ).all()
        began = time.perf_counter()
        with unit_of_work(engine) as session:
            issued = plans.generate_orders(session, None, horizon, at=now)
            count = len(issued)
        seconds = time.perf_counter() - began
        began = time.perf_counter()
        with unit_of_work(engine) as session:
            again = len(plans.generate_orders(session, None, horizon, at=now))
        again_seconds = time.perf_counter() - began
    finally:
        engine.dispose()
    return {
        "plans": len(plan_count),
        "orders": count,
        "horizon_end": horizon.isoformat(),
        "seconds": _r(seconds),
        "orders_per_s": _rate(count, seconds),
        "again_orders": again,
        "again_seconds": _r(again_seconds),
        "measured": "plans.generate_orders(session, None, today + 30 days) + commit; again: "
        "the same call once more (nothing left to issue)",
    }


def measure_transitions(url: str, place: dict[str, Any], count: int, log: Log) -> dict[str, Any]:
    """``count`` corrective orders raised, then assign → process → verify each through the
    services, one unit of work (transaction) per move, with the real principals."""
    from sqlalchemy import event

    from operational.auth import load_principal
    from operational.db import unit_of_work
    from operational.models import Discipline
    from operational.services import orders

    engine = _engine(url)
    statements = [0]

    def counted(*_: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", counted)
    office = place["code"]
    responsible_id, responsible = place["staff"]["eng"]
    handler_id, handler = place["staff"]["tech1"]
    numbers: list[str] = []
    try:
        with unit_of_work(engine) as session:
            boss = load_principal(session, responsible_id)
            worker = load_principal(session, handler_id)
        spec = orders.CorrectiveSpec(
            responsible=responsible, title="基准测试工单", discipline=Discipline.ENGINEERING
        )
        began = time.perf_counter()
        for _ in range(count):
            with unit_of_work(engine) as session:
                order = orders.raise_corrective(session, boss, office_code=office, spec=spec)
                numbers.append(order.document_no)
        raise_seconds = time.perf_counter() - began

        def move(step: Callable[[Any, Any], None]) -> None:
            for number in numbers:
                with unit_of_work(engine) as session:
                    order = orders.get_order(session, CLI, number)
                    step(session, order)

        began = time.perf_counter()
        cpu_began = time.process_time()
        statements[0] = 0
        move(lambda s, o: orders.assign(s, boss, o, handler, o.version))
        move(lambda s, o: orders.process_corrective(s, worker, o, o.version, "已处理"))
        move(lambda s, o: orders.verify_corrective(s, boss, o, o.version, accepted=True))
        seconds = time.perf_counter() - began
        cpu_seconds = time.process_time() - cpu_began
        moved_statements = statements[0]
    finally:
        engine.dispose()
    moves = 3 * count
    return {
        "orders": count,
        "transitions": moves,
        "seconds": _r(seconds),
        "transitions_per_s": _rate(moves, seconds),
        "raise_seconds": _r(raise_seconds),
        "raises_per_s": _rate(count, raise_seconds),
        "statements_per_transition": _r(moved_statements / moves),
        "client_cpu_ms_per_transition": _r(cpu_seconds * 1000 / moves),
        "measured": "orders.assign / process_corrective / verify_corrective, get_order + move + "
        "commit per transaction; statements: SQL statements sent per move (SQLAlchemy's "
        "before_cursor_execute: BEGIN, COMMIT and connection pings not counted); client CPU: "
        "this process's CPU time per move (the rest of a move's time is the database's and "
        "waiting: commit, other processes)",
    }


# ---------------------------------------------------------------- verdict and table


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """Each target met or not, per backend (reported, never asserted)."""
    return {backend: common_verdict(b, TARGETS) for backend, b in report["backends"].items()}


def format_report(report: dict[str, Any]) -> str:
    """A readable table of the report."""
    scale, machine = report["scale"], report["machine"]
    backends = list(report["backends"])
    load = ", ".join(f"{x:.1f}" for x in machine["load_average"])
    lines = [
        f"sla benchmark {report['date']} — {machine['cpu_count']} cores, {machine['platform']}, "
        f"load average at start {load}",
        f"scale: {scale['offices']} offices, ~{scale['orders_requested']:,} orders, "
        f"{scale['days']} days of history",
        "",
    ]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, get: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, [get(report["backends"][b]) for b in backends]))

    add("orders generated", lambda b: f"{b['generation']['orders']:,}")
    add("events generated", lambda b: f"{b['generation']['events']:,}")
    add("generation, s", lambda b: f"{b['generation']['seconds']:.1f}")
    add("generation, orders/s", lambda b: f"{b['generation']['orders_per_s']:,.0f}")
    add(
        "… of which write_orders + checklists, s",
        lambda b: f"{b['generation']['write_seconds']:.1f}",
    )
    add(
        "write_orders + checklists, orders/s",
        lambda b: f"{b['generation']['write_orders_per_s']:,.0f}",
    )
    add("floor: ADBC → Arrow, s", lambda b: f"{b['floor']['fetch_seconds']:.2f}")
    add("floor: Arrow → DuckDB, s", lambda b: f"{b['floor']['duckdb_seconds']:.2f}")
    add("floor total, s", lambda b: f"{b['floor']['seconds']:.2f}")
    add("full build (run_pipeline), s", lambda b: f"{b['build']['seconds']:.2f}")
    add("build ÷ floor (≤ 2)", lambda b: f"{b['build']['over_floor']:.2f}")
    add("peak RSS of build, MB", lambda b: f"{b['build']['peak_rss_mb']:,.0f}")
    add(
        "new day: new orders / older moved / events",
        lambda b: (
            f"{b['new_day']['orders']} / {b['new_day']['old_orders_moved']} / "
            f"{b['new_day']['events']}"
        ),
    )
    add(
        "… older: clocks paused / stopped",
        lambda b: f"{b['new_day']['old_clocks_paused']} / {b['new_day']['old_clocks_stopped']}",
    )
    add(
        "first refresh after the build (nothing new, copies the file), s",
        lambda b: f"{b['first_refresh']['seconds']:.2f}" if "first_refresh" in b else "-",
    )
    add("refresh after one day, s", lambda b: f"{b['refresh']['seconds']:.2f}")
    add("  continued", lambda b: b["refresh"].get("continued", "-"))
    add("refresh ÷ build (< 0.10)", lambda b: f"{b['refresh']['over_build']:.3f}")
    add(
        "refresh SLA step: mode, documents",
        lambda b: f"{b['refresh']['sla_mode']}, {b['refresh']['sla_documents']}",
    )
    add(
        "… clocks recomputed / of all",
        lambda b: (
            f"{b['refresh']['sla_clocks_recomputed']:,} / {b['refresh']['sla_clocks_rows']:,}"
        ),
    )
    add("… SLA step itself, s", lambda b: f"{b['refresh']['sla_seconds']:.2f}")
    add("peak RSS of refresh, MB", lambda b: f"{b['refresh']['peak_rss_mb']:,.0f}")
    add("published file after refresh, MB", lambda b: f"{b['refresh']['published_mb']:,.1f}")
    add(
        "control tower mart (its SELECT alone), s",
        lambda b: f"{b['tower_mart']['best_seconds']:.3f}" if "tower_mart" in b else "-",
    )
    first = report["backends"][backends[0]]
    for name in first["queries"]:
        add(f"query {name}, median / p95 ms", lambda b, n=name: _query_cell(b["queries"][n]))
    add(
        "generate_orders, one month: orders",
        lambda b: f"{b['generate_month']['orders']:,} ({b['generate_month']['plans']} plans)",
    )
    add("generate_orders, one month: s", lambda b: f"{b['generate_month']['seconds']:.2f}")
    add("generate_orders, orders/s", lambda b: f"{b['generate_month']['orders_per_s']:,.1f}")
    add(
        "generate_orders again (nothing new), s",
        lambda b: f"{b['generate_month']['again_seconds']:.2f}",
    )
    add("raise_corrective, orders/s", lambda b: f"{b['transitions']['raises_per_s']:,.1f}")
    add(
        "transitions (assign/process/verify), /s",
        lambda b: f"{b['transitions']['transitions_per_s']:,.1f}",
    )
    add(
        "SQL statements per transition",
        lambda b: f"{b['transitions']['statements_per_transition']:.1f}",
    )
    add(
        "client CPU per transition, ms",
        lambda b: f"{b['transitions']['client_cpu_ms_per_transition']:.2f}",
    )
    return "\n".join([*lines, *table_and_verdict(backends, rows, report["verdict"])])
