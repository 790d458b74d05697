"""What the scale benchmarks share: the floor of a warehouse build, timing summaries, rounding."""

from __future__ import annotations

import statistics
import time
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
