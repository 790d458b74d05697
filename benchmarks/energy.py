"""``propcloud bench energy``: the energy capability at group scale, timed and reported.

For each backend (SQLite, PostgreSQL) the benchmark generates a group (:mod:`benchmarks.scale`),
then measures, in one run on one machine (docs/benchmarks.md — figures are ratios, not absolutes):

* **import** — readings/s through the real readings import (``import_readings_file``: CSV read,
  validation, insert, commit — what ``propcloud import readings FILE`` runs), on whole offices'
  histories, one file per ≤ ``import_chunk`` readings, up to ``import_sample`` readings; the
  rest of the history is bulk-loaded without validation (COPY / executemany), timed apart;
* **floor** — an ADBC fetch of ``energy_reading`` as Arrow plus ``CREATE TABLE … AS SELECT *``
  into a fresh DuckDB file (measured before and after the build; the faster one counts);
* **extract** — rows/s of the real ``warehouse.extract.extract_table`` of ``energy_reading``;
* **build** — ``pipelines.run.run_pipeline`` into an empty warehouse directory (a full build
  of every asset, checks and publish), in a child process whose peak RSS is reported;
* **refresh** — first ``run_pipeline`` once more with nothing new (the first refresh after a
  full build has no superseded version to continue, so it copies the published file: reported
  as *first refresh*), then one new day of readings for every point through the real import and
  ``run_pipeline`` again, in a child process: the steady state of a scheduled pipeline, which
  continues the superseded full build's file (one build behind) instead of copying;
* **queries** — median and p95 of every ``EnergyReader`` query on the published file, result
  cache cleared before each run (the reader's connection to the version, opened once per
  process, stays open; the open itself is timed apart), and of every query of the control
  tower (``TowerReader``; the mart's own SELECT timed apart);
* **naive** — the monthly office totals as SQL over the operational readings (consecutive
  reading differences × multiplier by UTC+8 month, root points), against the mart query.

Targets (reported, not asserted): build ≤ 2× floor, refresh < 10 % of the build, every query
< 100 ms median, peak memory < 4 GB.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.common import measure_floor as _measure_floor
from benchmarks.common import measure_tower, table_and_verdict, time_model, time_queries
from benchmarks.common import query_cell as _query_cell
from benchmarks.common import quiet as _quiet
from benchmarks.common import rate as _rate
from benchmarks.common import remove_duckdb as _remove_duckdb
from benchmarks.common import rounded as _r
from benchmarks.common import run_build_child as _run_build_child
from benchmarks.common import summary_ms as _summary_ms
from benchmarks.common import verdict as common_verdict
from benchmarks.scale import (
    GROUP_CODE,
    GroupPlan,
    Scale,
    bulk_load,
    create_structure,
    office_readings,
    plan_group,
    readings_csv,
)

DEFAULT_PG_ADMIN_URL = os.environ.get(
    "PROPCLOUD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TARGETS = {
    "build_over_floor_max": 2.0,
    "refresh_over_build_max": 0.10,
    "query_median_ms_max": 100.0,
    "peak_rss_mb_max": 4096.0,
}


@dataclass(frozen=True)
class Options:
    offices: int = 50
    points: int = 60
    days: int = 365
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    import_sample: int = 1_000_000
    import_chunk: int = 250_000
    query_runs: int = 20
    naive_runs: int = 5
    seed: int = 11
    workdir: Path | None = None
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    keep: bool = False
    refresh_via: str = "import"  # how the new day arrives: "import" (real) or "bulk"


Log = Callable[[str], None]


# ---------------------------------------------------------------- the run


def run_benchmark(options: Options, log: Log = _quiet) -> dict[str, Any]:
    """Run every measurement on every backend of ``options``; return the report (JSON-able)."""
    scale = Scale(options.offices, options.points, options.days, options.seed)
    plan = plan_group(scale)
    own_workdir = options.workdir is None
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="propcloud-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "benchmark": "energy",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "scale": {
            "offices": scale.offices,
            "points_per_office": scale.points,
            "points": scale.offices * scale.points,
            "days": scale.days,
            "readings": scale.readings,
            "history": [plan.start.isoformat(), plan.end.isoformat()],
            "refresh_day": plan.refresh_day.isoformat(),
        },
        "options": {
            "import_sample": options.import_sample,
            "import_chunk": options.import_chunk,
            "query_runs": options.query_runs,
        },
        "targets": TARGETS,
        "backends": {},
    }
    try:
        for backend in options.backends:
            log(f"== {backend}: {scale.readings:,} readings ==")
            with _database(backend, workdir, options) as url:
                report["backends"][backend] = _run_backend(
                    url, plan, workdir / backend, options, log
                )
    finally:
        if own_workdir and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["verdict"] = verdict(report)
    return report


def _run_backend(
    url: str, plan: GroupPlan, workdir: Path, options: Options, log: Log
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    scale = plan.scale
    result: dict[str, Any] = {}
    started = time.perf_counter()
    create_structure(url, plan)
    result["structure_seconds"] = _r(time.perf_counter() - started)

    # -- import: whole offices through the real import, the rest bulk-loaded
    per_office = scale.readings_per_office
    sample_offices = max(1, min(scale.offices, options.import_sample // per_office))
    log(f"import: {sample_offices} offices through the real import, the rest bulk")
    result["import"] = _real_import(
        url, plan, plan.offices[:sample_offices], 0, scale.days - 1, workdir, options, log
    )
    rest = plan.offices[sample_offices:]
    engine = _engine(url)
    started = time.perf_counter()
    bulk_rows = bulk_load(engine, (office_readings(plan, o, 0, scale.days - 1) for o in rest))
    bulk_seconds = time.perf_counter() - started
    result["bulk_load"] = {
        "rows": bulk_rows,
        "seconds": _r(bulk_seconds),
        "rows_per_s": _rate(bulk_rows, bulk_seconds),
        "method": "COPY … FROM STDIN (CSV)"
        if engine.dialect.name == "postgresql"
        else "sqlite3 executemany, one transaction",
        "note": "generation of the rows (numpy/polars) included",
    }
    _settle(engine)
    engine.dispose()
    log(f"bulk load: {bulk_rows:,} rows in {bulk_seconds:.1f} s")

    # -- floor, extraction
    floor_before = _measure_floor(url, workdir / "floor.duckdb", "energy_reading")
    log(f"floor: {floor_before['seconds']:.2f} s")
    result["extract"] = measure_extract(url, workdir / "extract.duckdb")
    log(f"extract: {result['extract']['seconds']:.2f} s")

    # -- full build in a child process
    warehouse_dir = workdir / "warehouse"
    build = _child_build(url, warehouse_dir)
    log(f"build: {build['seconds']:.2f} s, peak {build['peak_rss_mb']:.0f} MB")
    floor_after = _measure_floor(url, workdir / "floor.duckdb", "energy_reading")
    floor = min(floor_before, floor_after, key=lambda f: f["seconds"])
    result["floor"] = floor | {
        "runs_seconds": [floor_before["seconds"], floor_after["seconds"]],
    }
    build["over_floor"] = _r(build["seconds"] / floor["seconds"])
    result["build"] = build

    # -- dashboard queries and the naive alternative on the published file
    published = Path(build["published"])
    result["queries"] = measure_queries(warehouse_dir, plan, options.query_runs)
    office = plan.offices[0]
    city_offices = [o.code for o in plan.offices if o.city == office.city]
    result["queries"] |= measure_tower(
        warehouse_dir, city_offices, office.city, office.code, options.query_runs
    )
    result["tower_mart"] = time_model(published, "marts.control_tower")
    result["query_open"] = measure_open(warehouse_dir, options.query_runs)
    log("queries: " + ", ".join(f"{k} {_query_cell(v)}" for k, v in result["queries"].items()))
    result["naive"] = measure_naive(url, published, plan, options.naive_runs, options.query_runs)
    log(f"naive: {result['naive']}")

    # -- the first refresh after a full build: nothing new, and no spare version to continue.
    # This process's readers let the full build go, as a dashboard does once it reads a newer
    # version (a version some process still reads is never taken).
    from warehouse.publish import close_published_connections

    close_published_connections()
    first_refresh = _child_build(url, warehouse_dir)
    first_refresh["over_build"] = _r(first_refresh["seconds"] / build["seconds"])
    result["first_refresh"] = first_refresh
    log(f"first refresh (nothing new): {first_refresh['seconds']:.2f} s")

    # -- refresh after one new day (through the real import, or bulk-loaded at large scales)
    log(f"one new day via {options.refresh_via}")
    if options.refresh_via == "import":
        result["refresh_import"] = _real_import(
            url, plan, plan.offices, scale.days, scale.days, workdir, options, log
        )
    else:
        engine = _engine(url)
        began = time.perf_counter()
        rows = bulk_load(
            engine, (office_readings(plan, o, scale.days, scale.days) for o in plan.offices)
        )
        seconds = time.perf_counter() - began
        engine.dispose()
        result["refresh_bulk_load"] = {
            "rows": rows,
            "seconds": _r(seconds),
            "rows_per_s": _rate(rows, seconds),
        }
    refresh = _child_build(url, warehouse_dir)
    refresh["over_build"] = _r(refresh["seconds"] / build["seconds"])
    refresh["continued"] = (
        "the full build's file (a spare)"
        if refresh["energy_builds"][:-1] == build["energy_builds"]
        else "a copy of the published file"
    )
    result["refresh"] = refresh
    log(f"refresh: {refresh['seconds']:.2f} s ({refresh['energy_mode']})")
    return result


# ---------------------------------------------------------------- databases


@contextmanager
def _database(backend: str, workdir: Path, options: Options) -> Iterator[str]:
    """A new, empty operational database on ``backend``, removed afterwards unless kept."""
    if backend == "sqlite":
        path = workdir / "sqlite" / "propcloud.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{path}"
        if not options.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r} (sqlite or postgresql)")
    admin = create_engine(options.pg_admin_url, isolation_level="AUTOCOMMIT")
    name = f"propcloud_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(options.pg_admin_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        if not options.keep:
            with admin.connect() as con:
                con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _engine(url: str) -> Any:
    from operational.db import create_db_engine

    return create_db_engine(url)


def _settle(engine: Any) -> None:
    """After a bulk load: PostgreSQL's tables vacuumed and analysed (autovacuum would get there
    too, in the middle of the timed steps);
    SQLite's WAL folded into the database file; dirty pages written out. SQLite is *not* analysed, as the application
    never does (since migration 0005 the readings import is planned well with statistics too:
    ``supersedes_id`` has a partial index; docs/benchmarks.md)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as con:
            con.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            con.commit()
    else:  # VACUUM too: else autovacuum visits the new rows later, during the timed steps
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
            con.execute(text("VACUUM ANALYZE"))
    # The gigabytes just written reach the disk now rather than during the timed floor and
    # build (write-back competing with them made the first measurements slower than later ones).
    os.sync()


# ---------------------------------------------------------------- import


def _real_import(
    url: str,
    plan: GroupPlan,
    offices: list[Any],
    first: int,
    last: int,
    workdir: Path,
    options: Options,
    log: Log,
) -> dict[str, Any]:
    """Days ``first``..``last`` of ``offices`` through ``import_readings_file``, one CSV file per
    ≤ ``import_chunk`` readings (whole offices), each in its own unit of work (as the CLI)."""
    from operational.db import unit_of_work
    from operational.imports.energy import import_readings_file

    engine = _engine(url)
    per_office = plan.scale.points * (last - first + 1)
    per_file = max(1, options.import_chunk // per_office)
    rows = files = 0
    seconds = 0.0
    path = workdir / "readings.csv"
    try:
        for start in range(0, len(offices), per_file):
            group = offices[start : start + per_file]
            frame = pl.concat([office_readings(plan, o, first, last) for o in group])
            readings_csv(frame, path)
            began = time.perf_counter()
            with unit_of_work(engine) as session:
                summary = import_readings_file(session, path, actor="bench")
            seconds += time.perf_counter() - began
            if summary.created != frame.height:
                raise RuntimeError(f"import created {summary.created} of {frame.height} readings")
            rows += frame.height
            files += 1
            log(
                f"  import file {files}: {frame.height:,} rows, {rows / seconds:,.0f} rows/s so far"
            )
    finally:
        engine.dispose()
        path.unlink(missing_ok=True)
    return {
        "rows": rows,
        "files": files,
        "seconds": _r(seconds),
        "rows_per_s": _rate(rows, seconds),
        "measured": "import_readings_file (CSV read + validation + insert + commit) per file",
    }


# ---------------------------------------------------------------- floor and extraction


def measure_extract(url: str, target: Path) -> dict[str, Any]:
    """The real extraction (``warehouse.extract.extract_table``) of ``energy_reading``."""
    from warehouse.extract import extract_table

    _remove_duckdb(target)
    began = time.perf_counter()
    with duckdb.connect(str(target)) as con:
        rows = extract_table(url, con, "energy_reading")
        con.execute("CHECKPOINT")
    seconds = time.perf_counter() - began
    _remove_duckdb(target)
    return {"rows": rows, "seconds": _r(seconds), "rows_per_s": _rate(rows, seconds)}


# ---------------------------------------------------------------- build / refresh (child process)


def _child_build(url: str, warehouse_dir: Path) -> dict[str, Any]:
    """``run_pipeline`` in a child process; its time, peak RSS and the energy step's own log."""
    child, wall = _run_build_child(url, warehouse_dir)
    with duckdb.connect(child["published"], read_only=True) as con:
        mode, energy_seconds, days_inserted = con.sql(
            "select mode, seconds, days_inserted from energy.build_log"
            " order by built_at desc limit 1"
        ).fetchall()[0]
        builds = [
            row[0]
            for row in con.sql("select build_id from energy.build_log order by built_at").fetchall()
        ]
    return {
        "seconds": _r(child["seconds"]),
        "process_seconds": _r(wall),
        "energy_seconds": _r(energy_seconds),
        "energy_mode": mode,
        "energy_days_inserted": int(days_inserted),
        "peak_rss_mb": _r(child["peak_rss_kb"] / 1024),
        "published": child["published"],
        "energy_builds": builds,
        "measured": "pipelines.run.run_pipeline (every asset, checks, publish) in a child process",
    }


# ---------------------------------------------------------------- dashboard queries


class ScopedReaders:
    """Headquarters' reader (every office) and an office manager's (one office)."""

    def __init__(self, warehouse_dir: Path, office_code: str) -> None:
        from warehouse.queries_energy import EnergyReader
        from warehouse.scope import OfficeScope

        self.group = EnergyReader(warehouse_dir, OfficeScope.everything())
        self.office = EnergyReader(warehouse_dir, OfficeScope.of({office_code}))


def query_calls(plan: GroupPlan) -> dict[str, Callable[[Any], Any]]:
    """Every ``EnergyReader`` query with realistic arguments (an office manager's scope for
    office-level views, headquarters' for group-level ones); each call takes a
    :class:`ScopedReaders`."""
    office = plan.offices[0]
    end = plan.end
    year_start = date(end.year, 1, 1)
    last_90 = end - timedelta(days=89)
    last_12m = (end.replace(day=1) - timedelta(days=335)).replace(day=1)
    main = f"{office.code}-E-MAIN"
    building = f"{office.code}/1号楼"
    leaf = office.specs[-1].code
    return {
        "monthly_group": lambda r: r.group.monthly("group", GROUP_CODE, "electricity"),
        "monthly_office": lambda r: r.office.monthly("office", office.code, "electricity"),
        "monthly_point": lambda r: r.office.monthly("point", main, "electricity"),
        "yearly_office": lambda r: r.office.yearly("office", office.code, "water"),
        "this_year_vs_last_group": lambda r: r.group.this_year_vs_last(
            "group", GROUP_CODE, "electricity", end.year
        ),
        "daily_point": lambda r: r.office.daily(leaf, last_90, end),
        "daily_node_office": lambda r: r.office.daily_node(
            "office", office.code, "electricity", last_90, end
        ),
        "daily_node_group": lambda r: r.group.daily_node(
            "group", GROUP_CODE, "electricity", last_90, end
        ),
        "children_group": lambda r: r.group.children(
            "group", GROUP_CODE, "electricity", year_start, end
        ),
        "children_city": lambda r: r.group.children(
            "city", office.city, "electricity", year_start, end
        ),
        "children_office": lambda r: r.office.children(
            "office", office.code, "electricity", year_start, end
        ),
        "children_building": lambda r: r.office.children(
            "building", building, "electricity", year_start, end
        ),
        "children_point": lambda r: r.office.children(
            "point", main, "electricity", year_start, end
        ),
        "per_m2_group": lambda r: r.group.per_m2("electricity", last_12m, end),
        "loss_point": lambda r: r.office.loss(main),
        "exceptions_group": lambda r: r.group.exceptions(),
    }


def measure_queries(warehouse_dir: Path, plan: GroupPlan, runs: int) -> dict[str, Any]:
    """Median and p95 (ms) of every query, the reader's result cache cleared before each run.

    The reader's connection to the published version stays open between runs (it is opened
    once per version per process, see ``warehouse.publish.published_cursor``); what that
    open costs is ``measure_open``.
    """
    from warehouse import queries

    readers = ScopedReaders(warehouse_dir, plan.offices[0].code)
    return time_queries(query_calls(plan), readers, queries._cached_query.cache_clear, runs)


def measure_open(warehouse_dir: Path, runs: int) -> dict[str, Any]:
    """What a reader process pays once per published version before its first query: open the
    file read-only, ``select 1``, close (the reader's cached connections are closed first, so
    each run really opens the file)."""
    from warehouse.publish import Warehouse, close_published_connections

    close_published_connections()
    path = Warehouse(warehouse_dir).current_path()
    assert path is not None
    times = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        with duckdb.connect(str(path), read_only=True) as con:
            con.sql("select 1").fetchall()
        times.append((time.perf_counter() - began) * 1000)
    return _summary_ms(times[1:])


# ---------------------------------------------------------------- the obvious alternative


NAIVE_SQL = {
    "sqlite": """
        with r as (
            select p.office_id, p.kind, m.multiplier, rd.read_at, rd.reading,
                   lag(rd.reading) over (partition by rd.meter_id order by rd.read_at) as prev
            from energy_reading rd
            join energy_point p on p.id = rd.point_id
            join energy_meter m on m.id = rd.meter_id
            where p.parent_id is null and not rd.void {where}
        )
        select o.code, r.kind, strftime('%Y-%m-01', r.read_at, '+8 hours') as month,
               sum((r.reading - r.prev) * r.multiplier) as consumption
        from r join org_office o on o.id = r.office_id
        where r.prev is not null
        group by o.code, r.kind, month order by o.code, r.kind, month
    """,
    "postgresql": """
        with r as (
            select p.office_id, p.kind, m.multiplier, rd.read_at, rd.reading,
                   lag(rd.reading) over (partition by rd.meter_id order by rd.read_at) as prev
            from energy_reading rd
            join energy_point p on p.id = rd.point_id
            join energy_meter m on m.id = rd.meter_id
            where p.parent_id is null and not rd.void {where}
        )
        select o.code, r.kind, date_trunc('month', r.read_at + interval '8 hours') as month,
               sum((r.reading - r.prev) * r.multiplier) as consumption
        from r join org_office o on o.id = r.office_id
        where r.prev is not null
        group by o.code, r.kind, month order by o.code, r.kind, month
    """,
}
MART_ALL_OFFICES = """
    select node_code, kind, month, consumption from marts.energy_monthly
    where level = 'office' order by node_code, kind, month
"""


def measure_naive(
    url: str, published: Path, plan: GroupPlan, naive_runs: int, mart_runs: int
) -> dict[str, Any]:
    """Monthly office totals: naive SQL on the operational database vs the mart.

    ``all_offices``: every office's monthly totals (root points, both kinds) against one query
    of the office rows of ``marts.energy_monthly``; ``one_office``: one office against
    ``EnergyReader.monthly`` for both kinds (the dashboard's own call).
    """
    from warehouse import queries
    from warehouse.publish import published_cursor

    engine = _engine(url)
    dialect = engine.dialect.name
    office = plan.offices[0]
    out: dict[str, Any] = {}
    try:
        with engine.connect() as con:
            office_id = con.execute(
                text("select id from org_office where code = :c"), {"c": office.code}
            ).scalar_one()

            def naive(where: str, params: dict[str, Any]) -> tuple[list[float], int]:
                sql = text(NAIVE_SQL[dialect].format(where=where))
                rows = con.execute(sql, params).all()  # warm-up
                times = []
                for _ in range(naive_runs):
                    began = time.perf_counter()
                    con.execute(sql, params).all()
                    times.append((time.perf_counter() - began) * 1000)
                return times, len(rows)

            all_times, all_rows = naive("", {})
            one_times, one_rows = naive("and p.office_id = :o", {"o": office_id})
    finally:
        engine.dispose()

    def mart_all() -> None:
        with published_cursor(published) as cursor:
            cursor.sql(MART_ALL_OFFICES).pl()

    reader = ScopedReaders(published.parent.parent, office.code).office

    def mart_one() -> None:
        queries._cached_query.cache_clear()
        reader.monthly("office", office.code, "electricity")
        reader.monthly("office", office.code, "water")

    for name, times, rows, mart in (
        ("all_offices", all_times, all_rows, mart_all),
        ("one_office", one_times, one_rows, mart_one),
    ):
        mart()
        mart_times = []
        for _ in range(mart_runs):
            began = time.perf_counter()
            mart()
            mart_times.append((time.perf_counter() - began) * 1000)
        naive_ms = statistics.median(times)
        mart_ms = statistics.median(mart_times)
        out[name] = {
            "naive_median_ms": _r(naive_ms),
            "mart_median_ms": _r(mart_ms),
            "naive_over_mart": _r(naive_ms / mart_ms),
            "naive_rows": rows,
        }
    queries._cached_query.cache_clear()
    return out


# ---------------------------------------------------------------- verdict and table


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """Each target met or not, per backend (reported, never asserted)."""
    out: dict[str, Any] = {}
    for backend, b in report["backends"].items():
        peak = max(
            b["build"]["peak_rss_mb"],
            b["refresh"]["peak_rss_mb"],
            b.get("first_refresh", b["refresh"])["peak_rss_mb"],
        )
        out[backend] = common_verdict(b, TARGETS) | {
            "peak_rss_mb": [peak, peak < TARGETS["peak_rss_mb_max"]],
        }
    return out


def format_report(report: dict[str, Any]) -> str:
    """A readable table of the report."""
    scale, machine = report["scale"], report["machine"]
    backends = list(report["backends"])
    lines = [
        f"energy benchmark {report['date']} — {machine['cpu_count']} cores, {machine['platform']}",
        f"scale: {scale['offices']} offices × {scale['points_per_office']} points × "
        f"{scale['days']} days = {scale['readings']:,} readings",
        "",
    ]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, get: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, [get(report["backends"][b]) for b in backends]))

    add("import (real), rows", lambda b: f"{b['import']['rows']:,}")
    add("import (real), readings/s", lambda b: f"{b['import']['rows_per_s']:,.0f}")
    add("bulk load, rows/s", lambda b: f"{b['bulk_load']['rows_per_s']:,.0f}")
    add("floor: ADBC → Arrow, s", lambda b: f"{b['floor']['fetch_seconds']:.2f}")
    add("floor: Arrow → DuckDB, s", lambda b: f"{b['floor']['duckdb_seconds']:.2f}")
    add("floor total, s", lambda b: f"{b['floor']['seconds']:.2f}")
    add("extract energy_reading, rows/s", lambda b: f"{b['extract']['rows_per_s']:,.0f}")
    add("full build (run_pipeline), s", lambda b: f"{b['build']['seconds']:.2f}")
    add("  of which energy step, s", lambda b: f"{b['build']['energy_seconds']:.2f}")
    add("build ÷ floor (≤ 2)", lambda b: f"{b['build']['over_floor']:.2f}")
    add("peak RSS of build, MB (< 4096)", lambda b: f"{b['build']['peak_rss_mb']:,.0f}")
    add(
        "one new day: real import, s",
        lambda b: f"{b['refresh_import']['seconds']:.2f}" if "refresh_import" in b else "bulk",
    )
    add(
        "first refresh after the build (nothing new, copies the file), s",
        lambda b: f"{b['first_refresh']['seconds']:.2f}" if "first_refresh" in b else "-",
    )
    add("refresh after one day, s", lambda b: f"{b['refresh']['seconds']:.2f}")
    add("  continued", lambda b: b["refresh"].get("continued", "-"))
    add(
        "  energy step, s / mode",
        lambda b: f"{b['refresh']['energy_seconds']:.2f} {b['refresh']['energy_mode']}",
    )
    add("refresh ÷ build (< 0.10)", lambda b: f"{b['refresh']['over_build']:.3f}")
    add("peak RSS of refresh, MB", lambda b: f"{b['refresh']['peak_rss_mb']:,.0f}")
    add(
        "open published file + select 1 (once per version), median ms",
        lambda b: _query_cell(b["query_open"]),
    )
    add(
        "control tower mart (its SELECT alone), s",
        lambda b: f"{b['tower_mart']['best_seconds']:.3f}" if "tower_mart" in b else "-",
    )
    first = report["backends"][backends[0]]
    for name in first["queries"]:
        add(
            f"query {name}, median / p95 ms",
            lambda b, n=name: _query_cell(b["queries"][n]),
        )
    for name in first["naive"]:
        add(
            f"naive SQL vs mart ({name}), ms",
            lambda b, n=name: (
                f"{b['naive'][n]['naive_median_ms']:.0f} vs {b['naive'][n]['mart_median_ms']:.1f}"
            ),
        )
        add(
            f"  naive ÷ mart ({name})",
            lambda b, n=name: _times(b["naive"][n]["naive_over_mart"]),
        )
    return "\n".join([*lines, *table_and_verdict(backends, rows, report["verdict"])])


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2f}×"


def options_dict(options: Options) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
