"""What the scale benchmarks share: the floor of a warehouse build, timing summaries, rounding."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb


def rounded(value: float) -> float:
    return round(value, 4)


def rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds > 0 else 0.0


def summary_ms(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "median_ms": rounded(statistics.median(ordered)),
        "p95_ms": rounded(p95),
        "runs": len(ordered),
    }


def time_queries(
    calls: dict[str, Callable[[Any], Any]], reader: Any, clear_cache: Callable[[], None], runs: int
) -> dict[str, Any]:
    """Median and p95 (ms) of each ``call(reader)``: one warm-up, then ``runs`` timed runs, the
    reader's result cache cleared before each. A query that fails is reported, not timed."""
    out: dict[str, Any] = {}
    for name, call in calls.items():
        clear_cache()
        try:
            frame = call(reader)  # warm-up (and a sanity check: the query returns)
        except Exception as error:  # a broken query is reported, the others still timed
            out[name] = {"error": f"{type(error).__name__}: {error}".splitlines()[0]}
            continue
        times = []
        for _ in range(runs):
            clear_cache()
            began = time.perf_counter()
            call(reader)
            times.append((time.perf_counter() - began) * 1000)
        out[name] = summary_ms(times) | {"rows": getattr(frame, "height", frame)}
    clear_cache()
    return out


def table_and_verdict(
    backends: list[str], rows: list[tuple[str, list[str]]], verdict: dict[str, Any]
) -> list[str]:
    """The report's lines: one right-aligned column per backend, then each backend's targets."""
    width = max(len(label) for label, _ in rows)
    widths = [max(len(b), *(len(v[i]) for _, v in rows)) for i, b in enumerate(backends)]
    lines = [
        " " * width + "  " + "  ".join(b.rjust(w) for b, w in zip(backends, widths, strict=True))
    ]
    for label, values in rows:
        cells = "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
        lines.append(label.ljust(width) + "  " + cells)
    lines.append("")
    for backend, checks in verdict.items():
        lines.append(
            f"targets on {backend}: "
            + "; ".join(f"{k} {v[0]} {'met' if v[1] else 'MISSED'}" for k, v in checks.items())
        )
    return lines


def verdict(b: dict[str, Any], targets: dict[str, Any]) -> dict[str, Any]:
    """The targets both scale benchmarks share, for one backend's results: [figure, met]."""
    timed = {k: v for k, v in b["queries"].items() if "median_ms" in v}
    failed = sorted(set(b["queries"]) - set(timed))
    slowest = max(timed.items(), key=lambda kv: kv[1]["median_ms"])
    return {
        "build_over_floor": [
            b["build"]["over_floor"],
            b["build"]["over_floor"] <= targets["build_over_floor_max"],
        ],
        "refresh_over_build": [
            b["refresh"]["over_build"],
            b["refresh"]["over_build"] < targets["refresh_over_build_max"],
        ],
        "slowest_query_median_ms": [
            f"{slowest[0]} {slowest[1]['median_ms']}",
            slowest[1]["median_ms"] < targets["query_median_ms_max"],
        ],
        "queries_failed": [", ".join(failed) or "none", not failed],
    }


def quiet(_: str) -> None:
    pass


def query_cell(q: dict[str, Any]) -> str:
    if "error" in q:
        return "FAILED"
    return f"{q['median_ms']:.1f} / {q['p95_ms']:.1f}"


def remove_duckdb(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)


def measure_floor(url: str, target: Path, table_name: str) -> dict[str, Any]:
    """ADBC fetch of ``table_name`` as one Arrow table, then CTAS into a new DuckDB file."""
    import adbc_driver_postgresql.dbapi
    import adbc_driver_sqlite.dbapi

    remove_duckdb(target)
    began = time.perf_counter()
    if url.startswith("postgresql"):
        uri = "postgresql://" + url.split("://", 1)[1]
        with adbc_driver_postgresql.dbapi.connect(uri) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {table_name}")
            table = cur.fetch_arrow_table()
    else:
        path = url.split(":///", 1)[1]
        uri = f"file:{quote(path)}?mode=ro"
        with adbc_driver_sqlite.dbapi.connect(uri) as conn, conn.cursor() as cur:
            # One batch for the whole result (the driver types columns from its first batch),
            # sized by a count as the real extraction does.
            cur.execute(f"SELECT count(*) FROM {table_name}")
            (count,) = cur.fetchone() or (0,)
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(max(int(count), 1))}
            )
            cur.execute(f"SELECT * FROM {table_name}")
            table = cur.fetch_arrow_table()
    fetched = time.perf_counter()
    with duckdb.connect(str(target)) as con:
        con.register("arrow_table", table)
        con.execute(f"CREATE TABLE {table_name} AS SELECT * FROM arrow_table")
        con.unregister("arrow_table")
        con.execute("CHECKPOINT")
    done = time.perf_counter()
    rows = table.num_rows
    del table
    remove_duckdb(target)
    return {
        "table": table_name,
        "rows": rows,
        "fetch_seconds": rounded(fetched - began),
        "duckdb_seconds": rounded(done - fetched),
        "seconds": rounded(done - began),
        "rows_per_s": rate(rows, done - began),
    }


def measure_floors(url: str, target: Path, tables: Sequence[str]) -> dict[str, Any]:
    """The floor of a build that extracts several tables: :func:`measure_floor` of each of
    ``tables`` in turn (each reported under ``tables``), and their sums — what the build must
    at least copy is every table it extracts, not only the largest (docs/benchmarks.md)."""
    each = [measure_floor(url, target, table) for table in tables]
    return {
        "tables": each,
        "rows": sum(f["rows"] for f in each),
        "fetch_seconds": rounded(sum(f["fetch_seconds"] for f in each)),
        "duckdb_seconds": rounded(sum(f["duckdb_seconds"] for f in each)),
        "seconds": rounded(sum(f["seconds"] for f in each)),
    }


def faster_floors(*runs: dict[str, Any]) -> dict[str, Any]:
    """Of several :func:`measure_floors` runs over the same tables, each table's fastest run
    (a floor measured before and after a build: the faster counts), summed again."""
    best = [
        min(same, key=lambda f: f["seconds"])
        for same in zip(*(run["tables"] for run in runs), strict=True)
    ]
    return {
        "tables": best,
        "rows": sum(f["rows"] for f in best),
        "fetch_seconds": rounded(sum(f["fetch_seconds"] for f in best)),
        "duckdb_seconds": rounded(sum(f["duckdb_seconds"] for f in best)),
        "seconds": rounded(sum(f["seconds"] for f in best)),
        "runs_seconds": [run["seconds"] for run in runs],
    }


# ---------------------------------------------------------------- the control tower's reads


class TowerReaders:
    """The control tower's readers: headquarters' (every office), a city company's (its
    offices) and an office manager's (one office), as ``dashboards.session.readers`` makes
    them."""

    def __init__(self, warehouse_dir: Path, city_offices: list[str], office_code: str) -> None:
        from warehouse.queries import WarehouseReader
        from warehouse.queries_tower import TowerReader
        from warehouse.scope import OfficeScope

        self.group = TowerReader(warehouse_dir, OfficeScope.everything())
        self.city = TowerReader(warehouse_dir, OfficeScope.of(city_offices))
        self.office = TowerReader(warehouse_dir, OfficeScope.of({office_code}))
        self.group_org = WarehouseReader(warehouse_dir, OfficeScope.everything())


def tower_query_calls(city_code: str, office_code: str) -> dict[str, Callable[[Any], Any]]:
    """Every query the control tower page runs, with the arguments a user's first view and
    drill give them; each call takes a :class:`TowerReaders`."""
    return {
        "tower_org_group": lambda r: r.group_org.org_overview(),
        "tower_totals_group": lambda r: r.group.totals(),
        "tower_totals_city": lambda r: r.city.totals(),
        "tower_attention_count_group": lambda r: r.group.attention_count(),
        "tower_attention_group": lambda r: r.group.attention(limit=20),
        "tower_attention_group_offset_400": lambda r: r.group.attention(limit=20, offset=400),
        "tower_attention_all_group": lambda r: r.group.attention(limit=1_000_000),  # the export
        "tower_offices_of_a_city_group": lambda r: r.group.offices(city_code=city_code),
        "tower_offices_city": lambda r: r.city.offices(city_code=city_code),
        "tower_office_detail": lambda r: r.office.offices(office_code=office_code, points=True),
    }


def measure_tower(
    warehouse_dir: Path, city_offices: list[str], city_code: str, office_code: str, runs: int
) -> dict[str, Any]:
    """Median and p95 (ms) of the control tower's queries (as :func:`time_queries`)."""
    from warehouse import queries

    readers = TowerReaders(warehouse_dir, city_offices, office_code)
    calls = tower_query_calls(city_code, office_code)
    return time_queries(calls, readers, queries._cached_query.cache_clear, runs)


def time_model(published: Path, table: str, runs: int = 3) -> dict[str, Any]:
    """Seconds to build one SQL model (``marts.control_tower``) over the published file's
    tables: its SELECT into a temporary table of a read-only connection, best and median of
    ``runs`` (the build itself times it only together with its step)."""
    from warehouse.models import load_models, macro_statements

    [model] = [m for m in load_models() if m.table == table]
    times = []
    rows = 0
    with duckdb.connect(str(published), read_only=True) as con:
        for statement in macro_statements(model.macros):  # temporary: allowed read-only
            con.execute(statement)
        for _ in range(runs):
            began = time.perf_counter()
            con.execute(f"create or replace temp table model_timed as {model.sql}")
            times.append(time.perf_counter() - began)
            rows = int(con.sql("select count(*) from model_timed").fetchall()[0][0])
    return {
        "table": table,
        "rows": rows,
        "best_seconds": rounded(min(times)),
        "median_seconds": rounded(statistics.median(times)),
    }


REPO_ROOT = Path(__file__).resolve().parent.parent


def run_build_child(url: str, warehouse_dir: Path) -> tuple[dict[str, Any], float]:
    """``run_pipeline`` in a child process (so its peak RSS is its own): the child's report
    (seconds, peak_rss_kb, published) and the wall time of the whole process."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.common", "build-child", url, str(warehouse_dir)],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
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


def _build_child(url: str, warehouse_dir: str) -> None:
    from pipelines.run import run_pipeline

    began = time.perf_counter()
    published = run_pipeline(url, Path(warehouse_dir), datetime.now(UTC))
    seconds = time.perf_counter() - began
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"seconds": seconds, "peak_rss_kb": peak, "published": str(published)}))


def machine() -> dict[str, Any]:
    """What a report says of the machine it ran on: cores first (figures are ratios on it)."""
    import platform

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "load_average": list(os.getloadavg()),
    }


if __name__ == "__main__":  # the child process of a build: python -m benchmarks.common build-child
    if len(sys.argv) == 4 and sys.argv[1] == "build-child":
        _build_child(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m benchmarks.common build-child DATABASE_URL WAREHOUSE_DIR")
