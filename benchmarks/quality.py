"""``propcloud bench quality``: inspections, nonconformities and supplier scores at group scale.

Reported, never asserted (docs/benchmarks.md). One run on one backend:

* **generation** — ``--offices`` offices in city companies of up to 20, a contract per office and
  discipline (``--contracts`` in all, at most four per office) of twelve suppliers with the usual
  deduction standard, then ``--days`` of inspection history written by
  ``operational.demo.inspection_history.write_inspection_history`` (the demo's writer, in bulk, with the
  services' rules: events, order and nonconformity clocks, failed items opening nonconformities
  charged to the contracts): ``--plans`` weekly professional plans per discipline and a monthly
  quality plan per office, ``--items`` items each. Orders ≈ offices × (plans × 4 × days ÷ 7 +
  days ÷ 30);
* **floor** — ADBC fetch + a DuckDB CTAS (``benchmarks.common.measure_floors``) of every table
  of meaningful size the build extracts (:data:`FLOOR_TABLES`: the item scores, the events, the
  clocks, the orders, the nonconformities), each reported, before and after the build, each
  table's faster counting; the build's ratio is to their sum (and, for the earlier results, to
  the floor of ``insp_score`` alone);
* **full build** — ``pipelines.run.run_pipeline`` into an empty warehouse in a child process
  (every asset); its ratio to the floor;
* **refresh after a day** — first ``run_pipeline`` once more with nothing new (*first refresh*:
  with no superseded version to continue it copies the published file), then one more day of
  inspections (the writer again on the next day, for every office, with ``existing_plans``:
  the day's orders on the existing plans, their item scores and the nonconformities their
  failures open — no new plans) and ``run_pipeline`` again, which continues the superseded
  full build's file (the steady state of a scheduled pipeline, as the SLA and energy
  benchmarks measure it); its ratio to the full build;
* **queries** — the quality review's reads (``QualityReader``: per office, month, discipline;
  group-wide and a city company's), the supplier ranking (month and year) and a contract's months
  (``SupplierReader``), median and p95 of ``--query-runs`` runs with the result cache cleared.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.common import (
    faster_floors,
    measure_floors,
    table_and_verdict,
    time_model,
    time_queries,
)
from benchmarks.common import query_cell as _query_cell
from benchmarks.common import quiet as _quiet
from benchmarks.common import rate as _rate
from benchmarks.common import rounded as _r
from benchmarks.common import run_build_child as _run_build_child
from benchmarks.common import verdict as common_verdict
from benchmarks.energy import DEFAULT_PG_ADMIN_URL, _database

TARGETS = {
    "build_over_floor_max": 2.0,
    "refresh_over_build_max": 0.10,
    "query_median_ms_max": 100.0,
}
FLOOR_TABLES = (
    "insp_score",
    "workflow_event",
    "workflow_clock",
    "insp_order",
    "supplier_nonconformity",
)
"""What the build must at least copy (docs/benchmarks.md, "The floor"): every table of
meaningful size it extracts at this benchmark's scale — the inspection orders' item scores, the
events and clocks of every document, the orders and the nonconformities (the plans, offices,
contracts and the rest are a few thousand rows)."""
OFFICES_PER_CITY = 20
DISCIPLINES = ("engineering", "landscaping", "security", "cleaning")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    offices: int = 50
    contracts: int = 200
    days: int = 730
    plans: int = 2
    items: int = 10
    backend: str = "sqlite"
    query_runs: int = 20
    offices_per_batch: int = 10
    seed: int = 16
    workdir: Path | None = None
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    keep: bool = False


def run_benchmark(options: Options, log: Log = _quiet) -> dict[str, Any]:
    """Every measurement on ``options.backend``; the report (JSON-able)."""
    if options.offices < 1 or options.days < 1 or options.plans < 1 or options.items < 1:
        raise ValueError("need offices, days, plans and items ≥ 1")
    own_workdir = options.workdir is None
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="propcloud-bench-quality-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "benchmark": "quality",
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
            "contracts_requested": options.contracts,
            "days": options.days,
            "plans_per_discipline": options.plans,
            "items_per_plan": options.items,
        },
        "options": {"query_runs": options.query_runs},
        "targets": TARGETS,
        "backends": {},
    }
    try:
        log(f"== {options.backend}: {options.offices} offices, {options.days} days ==")
        with _database(options.backend, workdir, options) as url:  # type: ignore[arg-type]
            report["backends"][options.backend] = _run(url, workdir / options.backend, options, log)
    finally:
        if own_workdir and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["verdict"] = {b: common_verdict(r, TARGETS) for b, r in report["backends"].items()}
    return report


def _run(url: str, workdir: Path, options: Options, log: Log) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    history_now = now - timedelta(days=1)
    result: dict[str, Any] = {}
    result["generation"] = generate(url, options, history_now, log)
    g = result["generation"]
    log(
        f"generation: {g['orders']:,} orders, {g['scores']:,} item scores, "
        f"{g['nonconformities']:,} nonconformities in {g['seconds']:.1f} s"
    )
    floor_before = measure_floors(url, workdir / "floor.duckdb", FLOOR_TABLES)
    warehouse_dir = workdir / "warehouse"
    build = child_build(url, warehouse_dir)
    floor_after = measure_floors(url, workdir / "floor.duckdb", FLOOR_TABLES)
    floor = faster_floors(floor_before, floor_after)
    result["floor"] = floor
    build["over_floor"] = _r(build["seconds"] / floor["seconds"])
    # The figure of the earlier results: the build over the floor of its largest table alone.
    build["over_score_floor"] = _r(build["seconds"] / floor["tables"][0]["seconds"])
    result["build"] = build
    log(f"floor {floor['seconds']:.2f} s, build {build['seconds']:.2f} s")
    result["quality_mart"] = time_model(Path(build["published"]), "marts.quality_review")
    result["queries"] = measure_queries(warehouse_dir, options.query_runs)
    log("queries: " + ", ".join(f"{k} {_query_cell(v)}" for k, v in result["queries"].items()))

    from warehouse.publish import close_published_connections

    close_published_connections()
    # The first refresh after a full build: nothing new, and no superseded version to continue
    # (it copies the published file). Then the new day, and the refresh a scheduled pipeline
    # runs from then on: it continues the superseded full build's file (a spare).
    first_refresh = child_build(url, warehouse_dir)
    first_refresh["over_build"] = _r(first_refresh["seconds"] / build["seconds"])
    result["first_refresh"] = first_refresh
    log(f"first refresh (nothing new): {first_refresh['seconds']:.2f} s")
    result["new_day"] = new_day(url, options, now)
    refresh = child_build(url, warehouse_dir)
    refresh["over_build"] = _r(refresh["seconds"] / build["seconds"])
    refresh["continued"] = (
        "a copy of the published file"
        if Path(build["published"]).exists()
        else "the full build's file (a spare)"
    )
    result["refresh"] = refresh
    log(
        f"new day: {_pending_cell(result['new_day'])} pending orders moved on, "
        f"{result['new_day']['orders']:,} new orders; refresh {refresh['seconds']:.2f} s "
        f"({refresh['over_build']:.3f} of the build)"
    )
    return result


# ---------------------------------------------------------------- generation


def generate(url: str, options: Options, history_now: datetime, log: Log) -> dict[str, Any]:
    """The group, its suppliers and contracts, and the inspection history; timed."""
    from sqlalchemy import select

    from benchmarks.energy import _engine, _settle
    from operational.auth import hash_password, system_principal
    from operational.bulk import insert_rows
    from operational.db import unit_of_work, upgrade
    from operational.demo import org_rows
    from operational.demo.inspection_history import write_inspection_history
    from operational.imports.org import ensure_group, import_org_rows
    from operational.models import (
        DeductionStandard,
        Office,
        Supplier,
        SupplierContract,
        User,
    )

    upgrade(url)
    engine = _engine(url)
    began = time.perf_counter()
    counts: dict[str, int] = {}
    try:
        with unit_of_work(engine) as session:
            group = ensure_group(session, "YY", "一应物业集团")
            rows = [
                (
                    n,
                    row
                    | {
                        "city_code": f"C{(i // OFFICES_PER_CITY) + 1:03d}",
                        "city_name": f"城市公司 {(i // OFFICES_PER_CITY) + 1}",
                    },
                )
                for i, (n, row) in enumerate(org_rows(options.offices, options.seed))
            ]
            import_org_rows(session, rows, group=group, actor=system_principal("bench"))
            session.add(
                User(
                    username="inspector",
                    display_name="巡检员",
                    password_hash=hash_password("bench-inspector"),
                )
            )
            session.flush()
            suppliers = [
                {
                    "group_id": group.id,
                    "supplier_code": f"SUP-{d[:2].upper()}{k + 1:02d}",
                    "name": f"{d} supplier {k + 1}",
                    "discipline": d,
                }
                for d in DISCIPLINES
                for k in range(3)
            ]
            insert_rows(session, Supplier.__table__, suppliers)  # type: ignore[arg-type]
            supplier_ids = {s.supplier_code: s.id for s in session.scalars(select(Supplier))}
            offices = list(session.scalars(select(Office).order_by(Office.code)))
            start = (history_now - timedelta(days=options.days + 31)).date().replace(day=1)
            contracts = []
            for i, office in enumerate(offices):
                for d, discipline in enumerate(DISCIPLINES):
                    if len(contracts) >= options.contracts:
                        break
                    code = f"SUP-{discipline[:2].upper()}{(i + d) % 3 + 1:02d}"
                    contracts.append(
                        {
                            "contract_no": f"HT-{office.code}-{discipline[:2].upper()}",
                            "supplier_id": supplier_ids[code],
                            "office_id": office.id,
                            "discipline": discipline,
                            "starts_on": start,
                            "ends_on": date(start.year + 4, start.month, 1),
                            "amount": Decimal(240000),
                        }
                    )
            insert_rows(session, SupplierContract.__table__, contracts)  # type: ignore[arg-type]
            standards = [
                {"contract_id": c.id, "points": points, "amount": Decimal(amount)}
                for c in session.scalars(select(SupplierContract))
                for points, amount in ((1, 50), (2, 100), (3, 200))
            ]
            insert_rows(session, DeductionStandard.__table__, standards)  # type: ignore[arg-type]
            counts["contracts"] = len(contracts)
            office_ids = [o.id for o in offices]
        write_began = time.perf_counter()
        for first in range(0, len(office_ids), options.offices_per_batch):
            with unit_of_work(engine) as session:
                batch = list(
                    session.scalars(
                        select(Office).where(
                            Office.id.in_(office_ids[first : first + options.offices_per_batch])
                        )
                    )
                )
                written = write_inspection_history(
                    session,
                    batch,
                    options.days,
                    history_now,
                    seed=options.seed,
                    plans_per_discipline=options.plans,
                    items=options.items,
                )
            for key, value in written.items():
                counts[key] = counts.get(key, 0) + value
            log(
                f"  offices {first + len(batch)} / {len(office_ids)}: {counts.get('orders', 0):,} orders"
            )
        write_seconds = time.perf_counter() - write_began
        _settle(engine)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - began
    return counts | {
        "seconds": _r(seconds),
        "write_seconds": _r(write_seconds),
        "orders_per_s": _rate(counts.get("orders", 0), write_seconds),
    }


def new_day(url: str, options: Options, now: datetime) -> dict[str, Any]:
    """One more day of operation up to ``now`` for every office, timed: first the orders the
    history left pending move on up to ``now`` (``advance_orders``: started, submitted, their
    items scored, failures opening nonconformities; its counts under ``pending``), then the
    writer with ``existing_plans`` — the day's orders on the plans the history wrote, their item
    scores and the nonconformities their failures open; no new plan (``plans`` is 0). The same
    seed as the history's, so that each office's quality drifts on from where it was."""
    from sqlalchemy import select

    from benchmarks.energy import _engine, _settle
    from operational.db import unit_of_work
    from operational.demo.inspection_history import advance_orders, write_inspection_history
    from operational.models import Office

    engine = _engine(url)
    began = time.perf_counter()
    counts: dict[str, Any] = {}
    try:
        with unit_of_work(engine) as session:
            offices = list(session.scalars(select(Office).order_by(Office.code)))
            counts["pending"] = advance_orders(session, offices, now, seed=options.seed)
            written = write_inspection_history(
                session,
                offices,
                1,
                now,
                seed=options.seed,
                existing_plans=True,
            )
            counts.update(written)
        _settle(engine)
    finally:
        engine.dispose()
    return counts | {"seconds": _r(time.perf_counter() - began)}


# ---------------------------------------------------------------- build, queries


def child_build(url: str, warehouse_dir: Path) -> dict[str, Any]:
    """``run_pipeline`` in a child process: its time, peak RSS and the quality mart's rows."""
    child, wall = _run_build_child(url, warehouse_dir)
    published = Path(child["published"])
    with duckdb.connect(str(published), read_only=True) as con:
        rows, scores = con.sql(
            "select (select count(*) from marts.quality_review),"
            " (select count(*) from raw.insp_score)"
        ).fetchall()[0]
    return {
        "seconds": _r(child["seconds"]),
        "process_seconds": _r(wall),
        "peak_rss_mb": _r(child["peak_rss_kb"] / 1024),
        "quality_review_rows": int(rows),
        "raw_scores_rows": int(scores),
        "published_mb": _r(published.stat().st_size / 2**20),
        "published": str(published),
    }


class Readers:
    """Headquarters' readers (every office) and a city company's (its first city)."""

    def __init__(self, warehouse_dir: Path) -> None:
        from warehouse.queries import WarehouseReader
        from warehouse.queries_quality import QualityReader
        from warehouse.queries_suppliers import SupplierReader
        from warehouse.scope import OfficeScope

        everything = OfficeScope.everything()
        offices = WarehouseReader(warehouse_dir, everything).org_overview()
        city = offices["city_code"][0]
        self.city_code = str(city)
        city_scope = OfficeScope.of(offices.filter(offices["city_code"] == city)["office_code"])
        self.office_code = str(offices["office_code"][0])
        self.group = QualityReader(warehouse_dir, everything)
        self.city = QualityReader(warehouse_dir, city_scope)
        self.suppliers = SupplierReader(warehouse_dir, everything)
        self.city_suppliers = SupplierReader(warehouse_dir, city_scope)


def query_calls() -> dict[str, Callable[[Any], Any]]:
    """The quality review page's reads and the supplier ranking's, with a year's months."""
    today = datetime.now(UTC).date()
    last_12m = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return {
        "quality_months_group": lambda r: r.group.months(),
        "quality_total_group_12m": lambda r: r.group.review(by=(), start=last_12m),
        "quality_by_month_group_12m": lambda r: r.group.review(by=("month",), start=last_12m),
        "quality_by_office_group_12m": lambda r: r.group.review(by=("office",), start=last_12m),
        "quality_by_discipline_group_12m": lambda r: r.group.review(
            by=("discipline",), start=last_12m
        ),
        "quality_by_office_city_12m": lambda r: r.city.review(by=("office",), start=last_12m),
        "quality_by_month_one_office": lambda r: r.group.review(
            by=("month",), office_code=r.office_code
        ),
        "ranking_month_group": lambda r: r.suppliers.ranking(
            period_type="month", period=f"{last_month:%Y-%m}", discipline="cleaning"
        ),
        "ranking_year_group": lambda r: r.suppliers.ranking(
            period_type="year", period=f"{last_month:%Y}", discipline="cleaning"
        ),
        "ranking_month_city": lambda r: r.city_suppliers.ranking(
            period_type="month", period=f"{last_month:%Y-%m}", discipline="cleaning"
        ),
        "contract_months_supplier": lambda r: r.suppliers.contract_months(
            supplier_code="SUP-CL01", start=last_12m
        ),
    }


def measure_queries(warehouse_dir: Path, runs: int) -> dict[str, Any]:
    from warehouse import queries

    readers = Readers(warehouse_dir)
    return time_queries(query_calls(), readers, queries._cached_query.cache_clear, runs)


# ---------------------------------------------------------------- report


def format_report(report: dict[str, Any]) -> str:
    scale, machine = report["scale"], report["machine"]
    backends = list(report["backends"])
    load = ", ".join(f"{x:.1f}" for x in machine["load_average"])
    lines = [
        f"quality benchmark {report['date']} — {machine['cpu_count']} cores, "
        f"{machine['platform']}, load average at start {load}",
        f"scale: {scale['offices']} offices, {scale['days']} days, "
        f"{scale['plans_per_discipline']} weekly plans per discipline, "
        f"{scale['items_per_plan']} items per plan",
        "",
    ]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, get: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, [get(report["backends"][b]) for b in backends]))

    add("contracts", lambda b: f"{b['generation']['contracts']:,}")
    add("inspection orders", lambda b: f"{b['generation']['orders']:,}")
    add("item scores", lambda b: f"{b['generation']['scores']:,}")
    add("nonconformities", lambda b: f"{b['generation']['nonconformities']:,}")
    add("workflow events", lambda b: f"{b['generation']['events']:,}")
    add("generation, s", lambda b: f"{b['generation']['seconds']:.1f}")
    for i, table in enumerate(FLOOR_TABLES):
        add(
            f"floor of {table}: rows / ADBC → Arrow / Arrow → DuckDB, s",
            lambda b, i=i: (
                f"{b['floor']['tables'][i]['rows']:,} / {b['floor']['tables'][i]['fetch_seconds']:.2f}"
                f" / {b['floor']['tables'][i]['duckdb_seconds']:.2f}"
            ),
        )
    add("floor, every table: ADBC → Arrow, s", lambda b: f"{b['floor']['fetch_seconds']:.2f}")
    add("floor, every table: Arrow → DuckDB, s", lambda b: f"{b['floor']['duckdb_seconds']:.2f}")
    add("floor total, s", lambda b: f"{b['floor']['seconds']:.2f}")
    add("full build (run_pipeline), s", lambda b: f"{b['build']['seconds']:.2f}")
    add("build ÷ floor (≤ 2)", lambda b: f"{b['build']['over_floor']:.2f}")
    add("build ÷ floor of insp_score alone", lambda b: f"{b['build']['over_score_floor']:.2f}")
    add("peak RSS of build, MB", lambda b: f"{b['build']['peak_rss_mb']:,.0f}")
    add("quality mart (its SELECT alone), s", lambda b: f"{b['quality_mart']['best_seconds']:.3f}")
    add("new day: pending orders moved on / submitted", lambda b: _pending_cell(b["new_day"]))
    add(
        "new day: new orders / scores",
        lambda b: f"{b['new_day']['orders']} / {b['new_day']['scores']}",
    )
    add(
        "first refresh after the build (nothing new, copies the file), s",
        lambda b: f"{b['first_refresh']['seconds']:.2f}",
    )
    add("refresh after one day, s", lambda b: f"{b['refresh']['seconds']:.2f}")
    add("  continued", lambda b: b["refresh"].get("continued", "-"))
    add("refresh ÷ build (< 0.10)", lambda b: f"{b['refresh']['over_build']:.3f}")
    first = report["backends"][backends[0]]
    for name in first["queries"]:
        add(f"query {name}, median / p95 ms", lambda b, n=name: _query_cell(b["queries"][n]))
    return "\n".join([*lines, *table_and_verdict(backends, rows, report["verdict"])])


def _pending_cell(day: dict[str, Any]) -> str:
    """The day's moves of the pending orders: advanced / submitted (reports before it: -)."""
    pending = day.get("pending")
    return "-" if pending is None else f"{pending['advanced']:,} / {pending['submitted']:,}"
