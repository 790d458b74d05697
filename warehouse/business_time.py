"""Business time and SLA clocks (时效) in DuckDB: loads ``sql/macros/business_time.sql``.

The warehouse recomputes every clock from calendar and clock tables with the same rules as the
operational core (``docs/sla-clocks.md``); the SQL file documents the tables it reads.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

MACROS = Path(__file__).parent / "sql" / "macros" / "business_time.sql"


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the input tables (if missing) and the macros on ``con``, and plan the macros' ASOF
    joins as ASOF joins on it.

    DuckDB runs an ASOF join whose left side it estimates at under
    ``asof_loop_join_threshold`` rows (64) as a nested loop over the right side. Its estimate of
    the deadlines ``clock_states`` looks up (filtered twice) can fall under that for any number
    of clocks: 42 000 office-calendar clocks each joined to every working interval of their
    calendar (21 M pairs) took 14 of the 15.7 s of evaluating 247 000 clocks; as an ASOF join the
    same 1.5 s in all, the same states (docs/benchmarks.md, "Quality review and supplier
    ranking")."""
    con.execute(MACROS.read_text(encoding="utf-8"))
    con.execute("SET SESSION asof_loop_join_threshold = 0")


def build_calendar_intervals(
    con: duckdb.DuckDBPyConnection, first_day: date, last_day: date
) -> None:
    """(Re)build ``calendar_intervals`` for local days ``first_day``..``last_day``; the range must
    cover every clock's start, deadline and evaluation instant."""
    con.execute(
        "CREATE OR REPLACE TABLE calendar_intervals AS FROM expand_calendar_intervals($first, $last)",
        {"first": first_day, "last": last_day},
    )


CALENDAR_WINDOW = "clock_calendar_window"
"""The temporary table :func:`calendar_window` fills."""


def calendar_window(con: duckdb.DuckDBPyConnection) -> str:
    """Fill the temporary table :data:`CALENDAR_WINDOW` with the working intervals the clocks of
    ``clocks`` can look up (``calendar_intervals_for_clocks``) and return its name, to pass to
    ``clock_states`` as ``intervals``: the same states, over a fraction of a long calendar when
    the clocks are recent."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CALENDAR_WINDOW} AS FROM calendar_intervals_for_clocks()"
    )
    return CALENDAR_WINDOW


def clock_states(
    con: duckdb.DuckDBPyConnection, as_of: datetime, *, windowed: bool = False
) -> pl.DataFrame:
    """clock_id, due_at, elapsed_minutes, state of every clock started by ``as_of``; with
    ``windowed`` looked up in :func:`calendar_window`'s part of the calendar."""
    intervals = calendar_window(con) if windowed else "calendar_intervals"
    states: pl.DataFrame = con.sql(
        f"FROM clock_states($as_of, intervals := '{intervals}') ORDER BY clock_id",
        params={"as_of": as_of},
    ).pl()
    return states
