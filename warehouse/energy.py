"""Energy consumption in the warehouse: intervals, office-local days, months, exceptions.

The rules are docs/energy-marts.md (documented for BI users in ``docs/energy-marts.md``):

* an *interval* joins two consecutive effective readings of one installation (the installation's
  initial reading at ``installed_at`` and final reading at ``removed_at`` are readings too);
  ``Δ = (r1 − r0) × multiplier``; intervals never cross installations;
* a lower reading on a register of ``d`` digits is a roll-over, ``Δ = (10^d − r0 + r1) × m``,
  only when plausible (below ``k × typical × days``; with no history below half the register),
  otherwise — and always without digits — the interval is *held*: no consumption, an exception;
* *typical daily use* before an interval is the median of ``Δ / days`` over the point's up-to-10
  most recent earlier intervals with ``r1 ≥ r0`` (any installation); ``Δ > k × typical × days``
  is *high*: kept, flagged;
* each interval's Δ is spread over the office-local days it covers in proportion to time.

Everything is set-based SQL. The tables are kept *incrementally* in the build file, which
starts as a copy of the previous published version: only readings past the watermark are read,
the affected ``(point, from-instant)`` pairs are found, and only those points' intervals and days
from that instant on are deleted and recomputed. A first build, or ``full=True``, recomputes all.

Tables written (schema ``marts`` is the contract; ``energy`` holds the bookkeeping)::

    marts.energy_intervals   one row per interval (status ok | rollover | high | held)
    marts.energy_daily       point × office-local day
    marts.energy_daily_node  building / office / city / group × kind × office-local day
    marts.energy_monthly     level × node × kind × month, with loss for parent points
    marts.energy_exceptions  held intervals, roll-overs, high intervals, entry flags, held points,
                             each with the office's latest follow-up
    energy.point_month       point × month partial sums (incremental source of the monthly mart)
    energy.held_rows         the stored rows that hold their point out of this build
    energy.held_points       those points (no interval, day or month of theirs counts)
    energy.as_of_month       time zone → the office-local month of the build's as_of
    energy.day_bounds        time zone × local day → UTC start and end
    energy.state, energy.meter_snapshot, energy.point_snapshot, energy.build_log

The steps' SQL lives in ``sql/energy/*.sql`` (the statements this module has been moving there):
every value is a bound ``$parameter``; Python chooses the steps and where their rows go.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from warehouse.buckets import IdRange, id_ranges

K = 3.0
HISTORY = 10
ESTIMATED_AFTER = timedelta(hours=36)
"""A day is *estimated* when part of its consumption comes from an interval longer than this (a
missed reading): a daily reading's interval straddling midnight is not (docs/energy-marts.md)."""
EARLIEST_INSTANT = datetime(2000, 1, 1)
"""Stored instants before this (UTC) hold their point (docs/energy-marts.md, "Held points")."""
FUTURE_MARGIN = timedelta(days=1)
"""Stored instants more than this after the build's as_of hold their point."""
MAX_REGISTER_DIGITS = 12
"""The largest register the product accepts (the entry checks' limit): a reading that does not fit
its meter's register — or, without digits, this one — holds its point."""
_SQL_DIR = Path(__file__).parent / "sql" / "energy"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_EPOCH = date(2000, 1, 1)
_EPOCH_DAY = (_EPOCH - date(1970, 1, 1)).days  # day numbers count from _EPOCH
_DAY_US = 86_400_000_000
_KEY = 1_000_000  # point id × _KEY + day number + _KEY / 2: one integer per point day
_WINDOW_DAYS = 62  # how far back a point's recent history is first looked for in the intervals
# An interval that counts towards a point's history (its typical daily use), and which are the
# last: one rule for the history kept by every build and the one read back from the intervals.
_QUALIFYING = "end_reading >= start_reading and days > 0"
_LATEST_FIRST = "order by end_at desc, start_at desc"
REQUIRED_MODELS = frozenset(
    {
        "staging.stg_energy_exception_followups",
        "staging.stg_offices",
        "staging.stg_city_companies",
        "staging.stg_groups",
        "staging.stg_energy_points",
        "staging.stg_energy_meters",
        "staging.stg_energy_buildings",
        "marts.dim_energy_point",
    }
)


@dataclass(frozen=True)
class EnergyBuildStats:
    """What one energy build did (also appended to ``energy.build_log``)."""

    mode: str  # 'full' | 'incremental' | 'unchanged'
    points_in_scope: int
    intervals_deleted: int
    intervals_inserted: int
    days_deleted: int
    days_inserted: int
    reading_watermark: int
    seconds: float


# --------------------------------------------------------------------------------------------
# Effective readings, cast from the raw copy (SQLite hands over text instants and 0/1 flags).

_RAW_READINGS = """
    select
        cast(id as bigint) as reading_id,
        cast(point_id as bigint) as point_id,
        cast(meter_id as bigint) as meter_id,
        cast(read_at as timestamp) as read_at,
        cast(reading as double) as reading,
        cast(flag as varchar) as flag,
        cast(supersedes_id as bigint) as supersedes_id,
        cast(void as boolean) as void
    from raw.energy_reading
"""


BUCKET_READINGS = 4_000_000  # readings per bucket of a full build, at most (about)


def _target(full: bool, bucket: IdRange | None, temp: str, table: str) -> str:
    """Where a step writes its rows: incrementally a temp table, applied afterwards; in a full
    build the mart itself, created by the first bucket and appended to by the others."""
    if not full:
        return f"create or replace temp table {temp} as"
    if bucket is None or bucket.first:
        return f"create or replace table {table} as"
    return f"insert into {table} by name"


def _buckets(con: duckdb.DuckDBPyConnection) -> list[IdRange | None]:
    """Ranges of point ids of about :data:`BUCKET_READINGS` readings each (``warehouse.buckets``)."""
    return list(id_ranges(con, "energy.readings", "point_id", BUCKET_READINGS))


class _Steps:
    """Wall time of each step of one build (written to ``energy.build_steps``)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.rows.append((name, now - self._last))
        self._last = now


_NO_STEPS = _Steps()


@cache
def sql_text(name: str) -> str:
    """The statement(s) of ``sql/energy/<name>.sql``."""
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any], into: str = "") -> None:
    """Run ``sql/energy/<name>.sql`` with the parameters it names (``into``: the CREATE or INSERT
    that takes its rows, for a SELECT)."""
    sql = sql_text(name)
    used = set(_PARAM.findall(sql))
    con.execute(f"{into} {sql}" if into else sql, {k: v for k, v in params.items() if k in used})


# --------------------------------------------------------------------------------------------
# Bookkeeping tables


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Create the energy tables if missing; True if they already existed (incremental possible)."""
    existed = (
        len(
            con.execute(
                "select 1 from information_schema.tables"
                " where table_schema = 'energy' and table_name in ('state', 'point_history')"
            ).fetchall()
        )
        == 2
    )
    con.execute("create schema if not exists energy")
    con.execute("create schema if not exists marts")
    con.execute(
        """
        create table if not exists energy.state (
            reading_watermark bigint, as_of date, built_at timestamp)
        """
    )
    # the as_of instant (since the hold rule: a reading's instant is checked against it)
    con.execute("alter table energy.state add column if not exists as_of_at timestamp")
    con.execute(
        """
        create table if not exists energy.held_rows (
            point_id bigint, source varchar, reading_id bigint, meter_id bigint, held_at timestamp,
            value double, digits integer, reason varchar)
        """
    )
    con.execute("create table if not exists energy.held_points (point_id bigint)")
    con.execute("create table if not exists energy.as_of_month (timezone varchar, month date)")
    con.execute(
        """
        create table if not exists marts.energy_intervals (
            point_id bigint, meter_id bigint, start_at timestamp, end_at timestamp,
            start_reading_id bigint, end_reading_id bigint,
            start_reading double, end_reading double, multiplier double, digits integer,
            days double, typical_daily double, delta double, status varchar)
        """
    )
    con.execute(
        """
        create table if not exists marts.energy_daily (
            point_id bigint, point_code varchar, office_code varchar, kind varchar, day date,
            consumption double, estimated boolean, covered_seconds double, day_seconds double)
        """
    )
    con.execute(
        """
        create table if not exists energy.point_history (
            point_id bigint, start_at timestamp, end_at timestamp, delta double, days double)
        """
    )
    con.execute(
        """
        create table if not exists energy.point_month (
            point_id bigint, month date, consumption double, days_with_data integer,
            full_days integer, estimated_days integer)
        """
    )
    con.execute(
        """
        create table if not exists energy.build_log (
            build_id varchar, mode varchar, built_at timestamp, points_in_scope bigint,
            intervals_deleted bigint, intervals_inserted bigint, days_deleted bigint,
            days_inserted bigint, reading_watermark bigint, seconds double)
        """
    )
    con.execute(
        """
        create table if not exists energy.build_steps (
            build_id varchar, seq integer, step varchar, seconds double)
        """
    )
    return existed


def _ensure_day_bounds(
    con: duckdb.DuckDBPyConnection, latest: datetime, watermark: int = -1
) -> None:
    """Office-local days as UTC ranges, computed with zoneinfo (exact across DST changes).

    Covers every time zone of an office with points, from the earliest installation to a few
    days past the latest reading or removal of the points not held (``sql/energy/
    day_bounds_range.sql``, within ``EARLIEST_INSTANT`` .. ``latest``). Small: zones × days.
    """
    con.execute(
        "create or replace temp table _range as " + sql_text("day_bounds_range"),
        {"watermark": watermark, "earliest": EARLIEST_INSTANT, "latest": latest},
    )
    row = con.execute("select first_day, last_day from _range").fetchall()[0]
    con.execute("drop table _range")
    if row[0] is None:
        lo, hi = date.today(), date.today()
    else:
        lo, hi = row[0], row[1]
    zones = sorted(
        {
            str(z[0])
            for z in con.execute(
                "select distinct timezone from marts.dim_energy_point where timezone is not null"
            ).fetchall()
        }
    )
    have = con.execute(
        "select 1 from information_schema.tables"
        " where table_schema = 'energy' and table_name = 'day_bounds'"
    ).fetchall()
    if have:
        cov = con.execute(
            "select timezone, min(day), max(day) from energy.day_bounds group by timezone"
        ).fetchall()
        covered = {str(z): (a, b) for z, a, b in cov}
        if all(z in covered and covered[z][0] <= lo and covered[z][1] >= hi for z in zones):
            return
        for a, b in covered.values():
            lo, hi = min(lo, a), max(hi, b)
    cols: dict[str, list[object]] = {
        "timezone": [],
        "day": [],
        "day_number": [],
        "start_at": [],
        "end_at": [],
        "seconds": [],
        "offset_seconds": [],
    }
    for zone_name in zones:
        zone = ZoneInfo(zone_name)
        day = lo
        start = _local_midnight_utc(day, zone)
        while day <= hi:
            nxt = day + timedelta(days=1)
            end = _local_midnight_utc(nxt, zone)
            cols["timezone"].append(zone_name)
            cols["day"].append(day)
            cols["day_number"].append((day - _EPOCH).days)
            cols["start_at"].append(start)
            cols["end_at"].append(end)
            cols["seconds"].append((end - start).total_seconds())
            cols["offset_seconds"].append(
                int((datetime.combine(day, datetime.min.time()) - start).total_seconds())
            )
            day, start = nxt, end
    table = pa.table(
        {
            "timezone": pa.array(cols["timezone"], pa.string()),
            "day": pa.array(cols["day"], pa.date32()),
            "day_number": pa.array(cols["day_number"], pa.int32()),
            "start_at": pa.array(cols["start_at"], pa.timestamp("us")),
            "end_at": pa.array(cols["end_at"], pa.timestamp("us")),
            "seconds": pa.array(cols["seconds"], pa.float64()),
            "offset_seconds": pa.array(cols["offset_seconds"], pa.int32()),
        }
    )
    con.register("_day_bounds", table)
    try:
        con.execute("create or replace table energy.day_bounds as select * from _day_bounds")
    finally:
        con.unregister("_day_bounds")
    # one representative UTC offset per zone: a first guess of an instant's local day
    con.execute(
        """
        create or replace table energy.zone_offset as
        select timezone, cast(median(offset_seconds) as integer) as offset_seconds
        from energy.day_bounds group by timezone
        """
    )


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def _local_day(ts: str, tz: str) -> str:
    """SQL for the office-local day number of the UTC instant ``ts`` in zone column ``tz``.

    A first guess from the zone's representative offset is corrected by at most one day against
    ``energy.day_bounds`` (joined as alias ``b_<ts>``).
    """
    return (
        f"(case when {ts} < b.start_at then b.day_number - 1"
        f" when {ts} >= b.end_at then b.day_number + 1 else b.day_number end)"
    ).replace("b.", f"b_{tz}.")


# --------------------------------------------------------------------------------------------
# The steps


def _sync_readings(con: duckdb.DuckDBPyConnection) -> None:
    """The views ``energy.effective_readings``, ``energy.readings`` and ``energy.meters`` over
    the raw copies (``sql/energy/views.sql``; the last two leave the held points out).

    Views: raw instants arrive typed from both backends (``warehouse.extract``), so the casts
    cost nothing and a refresh's time bounds reach the raw scan (rows arrive roughly in time
    order: its zone maps skip the old ones). A stored copy cost a full build ≈ 3.4 s of 22 M
    rows written once more, for no faster reads.
    """
    kind = con.execute(
        "select table_type from information_schema.tables"
        " where table_schema = 'energy' and table_name = 'readings'"
    ).fetchall()
    if kind and kind[0][0] != "VIEW":  # a stored copy of an earlier version
        con.execute("drop table energy.readings")
    _run(con, "views", {})


def _hold_points(
    con: duckdb.DuckDBPyConnection, *, latest: datetime, examine_all: bool, watermark: int
) -> int:
    """Find the points this build holds (``sql/energy/held_rows.sql``) into ``energy.held_rows``
    and ``energy.held_points``; return how many points were held or released since the last
    build (listed in ``_held_changed``: they are recomputed whole).

    A refresh examines the new readings, those of the points held so far and those on meters
    whose register changed; ``examine_all`` examines every reading.
    """
    con.execute("create or replace temp table _held_before as from energy.held_points")
    if examine_all or not _exists(con, "energy", "meter_snapshot"):
        con.execute("create or replace temp table _digits_changed (meter_id bigint)")
    else:
        con.execute(
            """
            create or replace temp table _digits_changed as
            select m.meter_id from staging.stg_energy_meters m
            left join energy.meter_snapshot s using (meter_id)
            where s.meter_id is null or s.digits is distinct from m.digits
            """
        )
    _run(
        con,
        "held_rows",
        {
            "earliest": EARLIEST_INSTANT,
            "latest": latest,
            "max_digits": MAX_REGISTER_DIGITS,
            "all": examine_all,
            "watermark": watermark,
        },
        into="create or replace temp table _held_rows as",
    )
    con.execute("delete from energy.held_rows")
    con.execute("insert into energy.held_rows select * from _held_rows")
    con.execute("delete from energy.held_points")
    con.execute("insert into energy.held_points select distinct point_id from _held_rows")
    con.execute(
        """
        create or replace temp table _held_changed as
        (select point_id from _held_before except select point_id from energy.held_points)
        union
        (select point_id from energy.held_points except select point_id from _held_before)
        """
    )
    return _count(con, "_held_changed")


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_schema = $s and table_name = $t",
            {"s": schema, "t": table},
        ).fetchall()
    )


def _scope_full(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create or replace temp table _scope as
        select point_id, cast(null as timestamp) as from_at from marts.dim_energy_point
        """
    )


def _scope_incremental(con: duckdb.DuckDBPyConnection, watermark: int) -> None:
    """Affected (point, from-instant) pairs since the last build.

    A change at instant ``t`` on a point (a new or withdrawn reading, a correction's old and
    new instants, an installation or removal) affects the interval around ``t`` and everything
    after it (later typical daily use may change). ``from_at`` is the last stored interval
    boundary strictly before the earliest change; null means the whole point.
    """
    con.execute(
        f"""
        create or replace temp table _changes as
        with new_rows as (select * from ({_RAW_READINGS}) where reading_id > $w),
        instants as (
            select point_id, read_at as t from new_rows
            union all
            select old.point_id, old.read_at
            from new_rows n join ({_RAW_READINGS}) old on old.reading_id = n.supersedes_id
            union all
            -- installations new or changed since the last build (meters are updated in place)
            select m.point_id, least(m.installed_at, coalesce(m.removed_at, m.installed_at),
                                     coalesce(s.installed_at, m.installed_at),
                                     coalesce(s.removed_at, m.installed_at))
            from staging.stg_energy_meters m
            left join energy.meter_snapshot s using (meter_id)
            where s.meter_id is null
               or s.point_id is distinct from m.point_id
               or s.installed_at is distinct from m.installed_at
               or s.initial_reading is distinct from m.initial_reading
               or s.removed_at is distinct from m.removed_at
               or s.final_reading is distinct from m.final_reading
               or s.multiplier is distinct from m.multiplier
               or s.digits is distinct from m.digits
            union all
            select s.point_id, least(s.installed_at, coalesce(s.removed_at, s.installed_at))
            from energy.meter_snapshot s
            where s.meter_id not in (select meter_id from staging.stg_energy_meters)
        )
        select point_id, min(t) as t from instants
        -- a held point has nothing to recompute; one held or released is recomputed whole
        where point_id not in (select point_id from energy.held_points)
          and point_id not in (select point_id from _held_changed)
        group by point_id
        """,
        {"w": watermark},
    )
    # points that are new or changed office/time zone: recompute whole
    con.execute(
        """
        create or replace temp table _whole as
        select p.point_id from marts.dim_energy_point p
        left join energy.point_snapshot s using (point_id)
        where s.point_id is null or s.timezone is distinct from p.timezone
           or s.office_code is distinct from p.office_code or s.kind is distinct from p.kind
           or s.point_code is distinct from p.point_code
        union
        select s.point_id from energy.point_snapshot s
        where s.point_id not in (select point_id from marts.dim_energy_point)
        union
        -- held or released by this build
        select point_id from _held_changed
        """
    )
    # last stored boundary before the change: look in a recent window first, then everywhere
    earliest = con.execute("select min(t) from _changes").fetchall()[0][0]
    window = "null" if earliest is None else _ts(earliest - timedelta(days=_WINDOW_DAYS))
    con.execute(
        f"""
        create or replace temp table _from as
        select c.point_id, max(case when i.end_at < c.t then i.end_at else i.start_at end) as f
        from _changes c join marts.energy_intervals i
          on i.point_id = c.point_id and i.start_at < c.t
        where i.start_at >= {window}
        group by c.point_id
        """
    )
    missing = con.execute(
        "select count(*) from _changes where point_id not in (select point_id from _from)"
    ).fetchall()[0][0]
    if missing:  # a change more than the window after the point's last boundary: look further
        con.execute(
            """
            insert into _from
            select c.point_id, max(case when i.end_at < c.t then i.end_at else i.start_at end)
            from _changes c join marts.energy_intervals i
              on i.point_id = c.point_id and i.start_at < c.t
            where c.point_id not in (select point_id from _from)
            group by c.point_id
            """
        )
    con.execute(
        """
        create or replace temp table _scope as
        select c.point_id, f.f as from_at
        from _changes c left join _from f using (point_id)
        where c.point_id not in (select point_id from _whole)
        union all
        select point_id, cast(null as timestamp) from _whole
        """
    )


def _compute_intervals(
    con: duckdb.DuckDBPyConnection,
    full: bool,
    steps: _Steps = _NO_STEPS,
    bucket: IdRange | None = None,
) -> None:
    """New intervals of the scope points from their from-instants, classified.

    A full build computes one ``bucket`` of points at a time and writes ``marts.energy_intervals``
    directly (the first bucket creates it); incrementally they go to ``_new_iv``.
    """
    scope_join = "" if full else "join _scope s using (point_id)"
    scope_reading = "" if full else "and (s.from_at is null or r.read_at >= s.from_at)"
    scope_inst = "" if full else "(s.from_at is null or m.installed_at >= s.from_at)"
    scope_rem = "" if full else "and (s.from_at is null or m.removed_at >= s.from_at)"
    if full and bucket is not None and bucket.count > 1:
        scope_reading = f"and {bucket.where('m.point_id')}"
        scope_inst = bucket.where("m.point_id")
        scope_rem = f"and {bucket.where('m.point_id')}"
    cutoff = ""
    if not full:
        low = con.execute(
            "select min(from_at), count(*) filter (where from_at is null) from _scope"
        ).fetchall()[0]
        if low[0] is not None and low[1] == 0:
            cutoff = f"and r.read_at >= timestamp '{low[0].isoformat(sep=' ')}'"
    sequence = f"""
        select m.meter_id, m.point_id, m.multiplier, m.digits,
               m.installed_at as t, m.initial_reading as v, cast(null as bigint) as reading_id,
               0 as ord
        from energy.meters m {scope_join}
        {"where " + scope_inst if scope_inst else ""}
        union all
        select m.meter_id, m.point_id, m.multiplier, m.digits, r.read_at, r.reading,
               r.reading_id, 1
        from energy.readings r
        join energy.meters m on m.meter_id = r.meter_id
        {scope_join.replace("using (point_id)", "on s.point_id = m.point_id")}
        where r.read_at >= m.installed_at {cutoff}
          and (m.removed_at is null or r.read_at <= m.removed_at) {scope_reading}
        union all
        select m.meter_id, m.point_id, m.multiplier, m.digits, m.removed_at, m.final_reading,
               null, 2
        from energy.meters m {scope_join}
        where m.removed_at is not null and m.final_reading is not null {scope_rem}
    """
    con.execute(
        f"""
        create or replace temp table _iv as
        select * from (
            select point_id, meter_id, multiplier, digits,
                   t as start_at, lead(t) over w as end_at,
                   reading_id as start_reading_id, lead(reading_id) over w as end_reading_id,
                   v as start_reading, lead(v) over w as end_reading,
                   lead(ord) over w as next_ord
            from ({sequence})
            window w as (partition by meter_id order by t, ord, reading_id)
        ) where end_at is not null
        """
    )
    steps.mark("intervals: pairs")
    # Recent qualifying history of the retained part (before from_at), for typical daily use:
    # each point's last HISTORY qualifying intervals are kept in energy.point_history, so a
    # refresh reads 10 rows a point, not a 22 M-row table (see _update_history).
    if full:
        con.execute(
            "create or replace temp table _hist as select point_id, start_at, end_at, delta, days"
            " from marts.energy_intervals limit 0"
        )
    else:
        con.execute(
            """
            create or replace temp table _hist as
            select h.point_id, h.start_at, h.end_at, h.delta, h.days
            from energy.point_history h join _scope s using (point_id)
            where s.from_at is not null and h.start_at < s.from_at
            """
        )
        # A point whose kept history the change cut into (some of its last HISTORY intervals
        # are recomputed) has older qualifying intervals the history no longer holds: those
        # points read them from the intervals. (A point with fewer kept has no more at all.)
        con.execute(
            f"""
            create or replace temp table _short as
            select s.point_id, s.from_at
            from _scope s join energy.point_history h using (point_id)
            where s.from_at is not null
            group by s.point_id, s.from_at
            having count(*) filter (where h.start_at < s.from_at) < {HISTORY}
               and count(*) >= {HISTORY}
            """
        )
        if _count(con, "_short"):
            con.execute("delete from _hist where point_id in (select point_id from _short)")
            _history_from_intervals(con, "_hist", "_short", bounded=True)
    steps.mark("intervals: history")
    # Typical daily use is a median over a window: the costliest figure of the build. Only an
    # interval whose status can depend on it needs it: a lower reading, or one whose use may
    # exceed K × typical. Each typical is a median of the point's qualifying rates, so it is at
    # least their minimum ``gmin``; an interval with r1 ≥ r0 and Δ ≤ K × gmin × days (with a
    # margin) is 'ok' whatever its typical — its ``typical_daily`` stays null. Intervals ending
    # on a reading flagged at entry get it too (they are listed as exceptions). An interval
    # starting before any qualifying interval of its point has ended has no typical at all.
    rates = """
        select point_id, end_at, delta / days as rate from _hist
        union all
        select point_id, end_at,
               (end_reading - start_reading) * multiplier
               / (epoch_us(end_at) - epoch_us(start_at)) * 86400e6
        from _iv where end_reading >= start_reading and end_at > start_at
    """
    con.execute(
        f"""
        create or replace temp table _gmin as
        select point_id, min(rate) as gmin, min(end_at) as first_end
        from ({rates}) group by point_id
        """
    )
    ivx = f"""
        select i.*, (epoch_us(i.end_at) - epoch_us(i.start_at)) / 86400e6 as days,
               case when i.digits is not null then pow(10, i.digits) end as register,
               -- no qualifying interval has ended by its start: no typical to compute
               coalesce(i.start_at < g.first_end, true)
               or coalesce(i.end_reading >= i.start_reading and i.multiplier >= 0 and g.gmin > 0
                        and (i.end_reading - i.start_reading) * i.multiplier
                            <= {K} * g.gmin * (epoch_us(i.end_at) - epoch_us(i.start_at))
                               / 86400e6 * (1 - 1e-9), false)
               and coalesce(i.end_reading_id not in (
                   select reading_id from energy.readings where flag is not null), true)
               as safe
        from _iv i left join _gmin g using (point_id)
    """
    steps.mark("intervals: lower bound of typical")
    con.execute(f"create or replace temp table _cand as select * from ({ivx}) where not safe")
    steps.mark("intervals: candidates")
    con.execute(
        f"""
        create or replace temp table _typ as
        select point_id, end_at,
               median(rate) over (partition by point_id order by end_at
                                  rows between {HISTORY - 1} preceding and current row) as typ
        from ({rates.replace("from _hist", "from _hist where point_id in (select point_id from _cand)").replace("from _iv where", "from _iv where point_id in (select point_id from _cand) and")})
        """
    )
    steps.mark("intervals: typical daily use")
    target = _target(full, bucket, "_new_iv", "marts.energy_intervals")
    con.execute(
        f"""
        {target}
        with x as (
            select c.* exclude (safe), t.typ as typical_daily
            from _cand c asof left join _typ t
              on c.point_id = t.point_id and c.start_at >= t.end_at
            union all by name
            select * exclude (safe), cast(null as double) as typical_daily
            from ({ivx}) where safe
        )
        select point_id, meter_id, start_at, end_at, start_reading_id, end_reading_id,
               start_reading, end_reading, multiplier, digits, days, typical_daily,
               case when status = 'held' then null
                    when status = 'rollover'
                        then (register - start_reading + end_reading) * multiplier
                    else (end_reading - start_reading) * multiplier end as delta,
               status
        from (
            select *,
                case
                    when end_reading >= start_reading then
                        case when typical_daily is not null
                              and (end_reading - start_reading) * multiplier
                                  > {K} * typical_daily * days
                             then 'high' else 'ok' end
                    when register is null then 'held'
                    when typical_daily is not null then
                        case when (register - start_reading + end_reading) * multiplier
                                  < {K} * typical_daily * days
                             then 'rollover' else 'held' end
                    when register - start_reading + end_reading < register / 2 then 'rollover'
                    else 'held'
                end as status
            from x
        )
        """
    )


def _history_from_intervals(
    con: duckdb.DuckDBPyConnection, target: str, points: str, *, bounded: bool
) -> None:
    """Insert into ``target`` the last :data:`HISTORY` qualifying intervals of the points of
    ``points`` (``point_id``; ``bounded``: before its ``from_at``) read from
    ``marts.energy_intervals``: within :data:`_WINDOW_DAYS` of the earliest bound (or of the
    last interval) first — a constant: it filters before the join — then further back for the
    points that have fewer there."""
    joined = f"marts.energy_intervals i join {points} s using (point_id)"
    before = "i.start_at < s.from_at" if bounded else "true"
    latest = (
        f"select min(from_at) from {points}" if bounded else f"select max(i.end_at) from {joined}"
    )
    edge = con.execute(latest).fetchall()[0][0]
    if edge is None:
        return
    window = _ts(edge - timedelta(days=_WINDOW_DAYS))
    con.execute(
        f"""
        insert into {target}
        select i.point_id, i.start_at, i.end_at, i.delta, i.days from {joined}
        where {before} and {_QUALIFYING} and i.start_at >= {window}  -- constant: filters first
        qualify row_number() over (partition by i.point_id {_LATEST_FIRST}) <= {HISTORY}
        """
    )
    # Points with fewer than HISTORY there look further back. (Skipped when none does: the
    # query joins every older interval of the points before it filters.)
    con.execute(
        f"""
        create or replace temp table _history_short as
        select s.point_id, {HISTORY} - coalesce(h.n, 0) as missing from {points} s
        left join (select point_id, count(*) as n from {target} group by point_id) h
          using (point_id)
        where coalesce(h.n, 0) < {HISTORY}
        """
    )
    if _count(con, "_history_short"):
        con.execute(
            f"""
            insert into {target}
            select i.point_id, i.start_at, i.end_at, i.delta, i.days
            from {joined} join _history_short m using (point_id)
            where {before} and {_QUALIFYING} and i.start_at < {window}
            qualify row_number() over (partition by i.point_id {_LATEST_FIRST}) <= m.missing
            """
        )
    con.execute("drop table _history_short")


def _update_history(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """Keep ``energy.point_history``: each point's last :data:`HISTORY` qualifying intervals.

    A full build reads them from the finished intervals; a refresh takes, for each point in
    scope, the last of its retained history (``_hist``) and its new intervals (``_new_iv``).
    """
    if full:
        con.execute(
            "create or replace table energy.point_history as select point_id, start_at, end_at,"
            " delta, days from marts.energy_intervals limit 0"
        )
        con.execute(
            "create or replace temp table _history_points as"
            " select distinct point_id from marts.dim_energy_point"
        )
        _history_from_intervals(con, "energy.point_history", "_history_points", bounded=False)
        con.execute("drop table _history_points")
        return
    con.execute("delete from energy.point_history where point_id in (select point_id from _scope)")
    con.execute(
        f"""
        insert into energy.point_history
        select point_id, start_at, end_at, delta, days from (
            select point_id, start_at, end_at, delta, days from _hist
            union all
            select point_id, start_at, end_at, delta, days from _new_iv where {_QUALIFYING}
        )
        qualify row_number() over (partition by point_id {_LATEST_FIRST}) <= {HISTORY}
        """
    )


def _lowest_from(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The earliest from-instant of the scope, or None if a point is redone whole.

    The statements that join a 22 M-row table to the scope also filter by this constant first,
    so they join the recent rows only (the per-point condition alone is applied after a join of
    every row)."""
    low, whole = con.execute(
        "select min(from_at), count(*) filter (where from_at is null) from _scope"
    ).fetchall()[0]
    return None if whole or low is None else low


def _lowest_day(con: duckdb.DuckDBPyConnection) -> int | None:
    """The earliest recomputed day number of ``_scope_day``, or None if a point is redone whole."""
    low, whole = con.execute(
        "select min(first_day), count(*) filter (where first_day_start is null) from _scope_day"
    ).fetchall()[0]
    return None if whole or low is None else int(low)


def _ts(value: datetime) -> str:
    return f"timestamp '{value.isoformat(sep=' ')}'"


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, alias: str, temp: str, delete: str, order: str
) -> tuple[int, int]:
    """Incrementally: delete the recomputed rows of ``table`` (``delete``: the DELETE's
    ``using … where …`` on ``alias``), insert the new ones from ``temp`` in ``order``;
    return (deleted, inserted)."""
    deleted = int(con.execute(f"delete from {table} {alias} {delete}").fetchall()[0][0])
    con.execute(f"insert into {table} by name select * from {temp} order by {order}")
    return deleted, _count(con, temp)


def _apply_intervals(con: duckdb.DuckDBPyConnection, full: bool) -> tuple[int, int]:
    if full:  # written directly by _compute_intervals
        return 0, _count(con, "marts.energy_intervals")
    low = _lowest_from(con)
    bound = "" if low is None else f"and i.start_at >= {_ts(low)}"
    return _replace_rows(
        con,
        "marts.energy_intervals",
        "i",
        "_new_iv",
        "using _scope s where i.point_id = s.point_id"
        f" and (s.from_at is null or i.start_at >= s.from_at) {bound}",
        "end_at",
    )


def _scope_days(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """``_scope_day``: per scope point the first office-local day its days are rewritten from
    (number and UTC start; null: the whole point, as every point in a full build)."""
    if full:
        con.execute(
            "create or replace temp table _scope_day as"
            " select point_id, null::timestamp as first_day_start, null::integer as first_day"
            " from _scope"
        )
        return
    con.execute(
        f"""
        create or replace temp table _scope_day as
        with g as (
            select s.point_id, s.from_at, p.timezone,
                   date_diff('day', date '{_EPOCH}',
                             cast(s.from_at + to_seconds(p.offset_seconds) as date)) as g
            from _scope s join _ptz p using (point_id)
        ),
        d as (
            select g.point_id, g.timezone, {_local_day("g.from_at", "p")} as first_day
            from g left join energy.day_bounds b_p
              on b_p.timezone = g.timezone and b_p.day_number = g.g
        )
        select d.point_id, b.start_at as first_day_start, d.first_day
        from d left join energy.day_bounds b
          on b.timezone = d.timezone and b.day_number = d.first_day
        """
    )


def _compute_days(
    con: duckdb.DuckDBPyConnection,
    full: bool,
    steps: _Steps = _NO_STEPS,
    bucket: IdRange | None = None,
) -> None:
    """Spread every accepted interval over office-local days (``sql/energy/days_spread.sql``):
    a full build one ``bucket`` of points at a time, straight into ``marts.energy_daily`` (the
    first bucket creates it); a refresh the points of ``_scope_day`` from their first day, into
    ``_days``."""
    bound = None
    if not full:
        low_start, whole = con.execute(
            "select min(first_day_start), count(*) filter (where first_day_start is null)"
            " from _scope_day"
        ).fetchall()[0]
        bound = low_start if low_start is not None and not whole else None
    # Only the branches some point needs: each scans the intervals (an empty one costs as much).
    has_fixed, has_other = con.execute(
        "select coalesce(bool_or(fixed), false), coalesce(bool_or(not fixed), false) from _ptz"
    ).fetchall()[0]
    split = full and bucket is not None and bucket.count > 1
    _run(
        con,
        "days_spread",
        {
            "full": full,
            "low": bucket.low if split and bucket is not None else None,
            "high": bucket.high if split and bucket is not None else None,
            "bound": bound,
            "has_fixed": bool(has_fixed),
            "has_other": bool(has_other),
            "epoch": _EPOCH,
            "epoch_day": _EPOCH_DAY,
            "day_us": _DAY_US,
            "key": _KEY,
            "estimated_after_us": int(ESTIMATED_AFTER.total_seconds() * 1_000_000),
        },
        into="create or replace temp table _days_agg as",
    )
    _run(con, "days_rows", {}, into=_target(full, bucket, "_days", "marts.energy_daily"))
    con.execute("drop table temp._days_agg")


def _apply_days(con: duckdb.DuckDBPyConnection, full: bool) -> tuple[int, int]:
    if full:  # written directly by _compute_days
        return 0, _count(con, "marts.energy_daily")
    low = _lowest_day(con)
    bound = "" if low is None else f"and d.day >= date '{_EPOCH + timedelta(days=low)}'"
    return _replace_rows(
        con,
        "marts.energy_daily",
        "d",
        "_days",
        "using _scope_day s where d.point_id = s.point_id and (s.first_day_start is null"
        f" or d.day >= date '{_EPOCH}' + s.first_day) {bound}",
        "day",
    )


def _apply_point_months(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    months = "select point_id, date_trunc('month', day)::date as month from _days group by all"
    if full:
        con.execute("delete from energy.point_month")
    else:
        con.execute(
            f"""
            delete from energy.point_month m using ({months}) a
            where m.point_id = a.point_id and m.month = a.month
            """
        )
        # months emptied entirely (e.g. a withdrawn reading): drop them too
        con.execute(
            """
            delete from energy.point_month m using _scope_day s
            where m.point_id = s.point_id
              and (s.first_day_start is null
                   or m.month >= date_trunc('month', date '2000-01-01' + s.first_day))
            """
        )
    low = None if full else _lowest_day(con)
    bound = (
        ""
        if low is None
        else f"and d.day >= date '{(_EPOCH + timedelta(days=low)).replace(day=1)}'"
    )
    con.execute(
        f"""
        insert into energy.point_month
        select d.point_id, date_trunc('month', d.day)::date as month, sum(d.consumption),
               count(*), count(*) filter (where d.covered_seconds >= d.day_seconds - 1e-3),
               count(*) filter (where d.estimated)
        from marts.energy_daily d
        {"" if full else "join _scope_day s on s.point_id = d.point_id"}
        {"" if full else "where (s.first_day_start is null or d.day >= date_trunc('month', date '2000-01-01' + s.first_day))"}
        {bound}
        group by all
        """
    )


def _apply_daily_node(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """The daily roll-ups (building, office, city, group; rule as in the monthly mart), so a
    dashboard's daily chart of a node reads a few hundred rows instead of summing points.

    Incrementally, the days from the earliest recomputed day of the scope on are redone.
    """
    from_day = None
    if (
        not full
        and con.execute(
            "select 1 from information_schema.tables"
            " where table_schema = 'marts' and table_name = 'energy_daily_node'"
        ).fetchall()
    ):
        low = con.execute(
            "select min(first_day), count(*) filter (where first_day_start is null) from _scope_day"
        ).fetchall()[0]
        if low[0] is not None and low[1] == 0:
            from_day = _EPOCH + timedelta(days=int(low[0]))
    where = "" if from_day is None else f"where d.day >= date '{from_day.isoformat()}'"
    rollup = f"""
        with d as (
            select d.day, d.consumption, d.estimated, p.office_code, p.city_code, p.group_code,
                   p.kind, p.building, p.parent_building, p.is_root
            from marts.energy_daily d join marts.dim_energy_point p using (point_id)
            {where}
        )
        select 'building' as level, office_code || '/' || building as node_code, kind, day,
               sum(consumption) as consumption, bool_or(estimated) as estimated, office_code
        from d
        where building is not null and (parent_building is null or parent_building <> building)
        group by all
        union all
        select 'office', office_code, kind, day, sum(consumption), bool_or(estimated), office_code
        from d where is_root group by all
        union all
        select 'city', city_code, kind, day, sum(consumption), bool_or(estimated), null
        from d where is_root group by all
        union all
        select 'group', group_code, kind, day, sum(consumption), bool_or(estimated), null
        from d where is_root group by all
    """
    # Not sorted: at 4.5 M rows (22 M readings) the sort took 1.5 s of the step's 2.4 s, while a
    # node's days read from the unsorted table in ≈ 2 ms (sorted: 1.5 ms).
    if from_day is None:
        con.execute(f"create or replace table marts.energy_daily_node as {rollup}")
        return
    con.execute("delete from marts.energy_daily_node where day >= $d", {"d": from_day.isoformat()})
    con.execute(f"insert into marts.energy_daily_node by name {rollup}")


_MONTHLY_DIMS = (
    "point_id, point_code, office_code, city_code, group_code, kind, building, parent_point_id,"
    " parent_building, is_root, timezone"
)
"""The columns of ``marts.dim_energy_point`` the monthly mart groups by: while none changes, a
month's rows depend only on that month's point months, held intervals and whether it has ended."""


def _monthly_from(
    con: duckdb.DuckDBPyConnection,
    previous_as_of: date | None,
    as_of: date,
    in_scope: int,
    held_changed: int = 0,
) -> date | None:
    """The first month an incremental build must redo in ``marts.energy_monthly``; None: all.

    A month's rows change when a point month in it changes (from the scope's first recomputed
    day on), or when it ends between the previous as_of and this one (months from the previous
    as_of's month on). Anything else — dimensions changed, a point recomputed whole, an as_of
    earlier than the last, a point held or released (the roll-ups' completeness) — redoes every
    month. Months are office-local: the previous as_of's local month may begin a day before
    its UTC date's.
    """
    if previous_as_of is None or previous_as_of > as_of or held_changed:
        return None
    if not con.execute(
        "select 1 from information_schema.tables"
        " where table_schema = 'energy' and table_name = 'monthly_dims'"
    ).fetchall():
        return None
    changed_dims = con.execute(
        f"""
        select count(*) from (
            (select {_MONTHLY_DIMS} from marts.dim_energy_point
             except select * from energy.monthly_dims)
            union all
            (select * from energy.monthly_dims
             except select {_MONTHLY_DIMS} from marts.dim_energy_point))
        """
    ).fetchall()[0][0]
    if changed_dims:
        return None
    first = (previous_as_of - timedelta(days=1)).replace(day=1)
    if in_scope:
        whole, first_day = con.execute(
            "select count(*) filter (where first_day_start is null), min(first_day) from _scope_day"
        ).fetchall()[0]
        if whole:
            return None
        if first_day is not None:
            first = min(first, (_EPOCH + timedelta(days=int(first_day))).replace(day=1))
    return first


def _as_of_months(con: duckdb.DuckDBPyConnection, as_of_at: datetime) -> None:
    """``energy.as_of_month``: per time zone of a point, the office-local month of as_of."""
    instant = as_of_at.replace(tzinfo=UTC)
    zones = [
        str(z)
        for (z,) in con.execute(
            "select distinct timezone from marts.dim_energy_point where timezone is not null"
        ).fetchall()
    ]
    con.execute("delete from energy.as_of_month")
    if zones:
        con.executemany(
            "insert into energy.as_of_month values ($1, $2)",
            [[z, instant.astimezone(ZoneInfo(z)).date().replace(day=1)] for z in zones],
        )


def _rebuild_monthly(con: duckdb.DuckDBPyConnection, from_month: date | None = None) -> None:
    """The monthly mart from point months (``sql/energy/monthly.sql``): all levels, loss where
    complete, the month of as_of in progress.

    With ``from_month`` only the months from it on are redone (see :func:`_monthly_from`)."""
    if from_month is None:
        into = "create or replace table marts.energy_monthly as"
    else:
        con.execute("delete from marts.energy_monthly where month >= $m", {"m": from_month})
        into = "insert into marts.energy_monthly by name"
    _run(con, "monthly", {"from_month": from_month}, into=into)


def _rebuild_exceptions(con: duckdb.DuckDBPyConnection) -> None:
    """``marts.energy_exceptions`` (``sql/energy/exceptions.sql``), rebuilt whole."""
    _run(con, "exceptions", {"k": K}, into="create or replace table marts.energy_exceptions as")


def _snapshot(
    con: duckdb.DuckDBPyConnection, watermark: int, as_of: date, as_of_at: datetime
) -> None:
    con.execute("create or replace table energy.meter_snapshot as from staging.stg_energy_meters")
    con.execute(
        """
        create or replace table energy.point_snapshot as
        select point_id, point_code, office_code, kind, timezone from marts.dim_energy_point
        """
    )
    con.execute(
        f"create or replace table energy.monthly_dims as"
        f" select {_MONTHLY_DIMS} from marts.dim_energy_point"
    )
    con.execute("delete from energy.state")
    con.execute(
        "insert into energy.state (reading_watermark, as_of, built_at, as_of_at)"
        " values ($w, $a, now()::timestamp, $t)",
        {"w": watermark, "a": as_of, "t": as_of_at},
    )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"select count(*) from {table}").fetchall()[0][0])


def _as_instant(as_of: date | datetime | None) -> datetime:
    """The build's as_of as a naive UTC instant (a date: its midnight UTC; None: now)."""
    if as_of is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if isinstance(as_of, datetime):
        return as_of if as_of.tzinfo is None else as_of.astimezone(UTC).replace(tzinfo=None)
    return datetime.combine(as_of, datetime.min.time())


BUILD_SCOPE = "energy.build_scope"
"""The points (``point_id``) whose intervals and days the latest build recomputed, and from
where: ``from_day``, the first office-local day rewritten, and ``from_start``, the UTC instant it
starts (both null where the whole point was: every point in a full build)."""


def build_energy(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date | datetime | None = None,
    full: bool = False,
    build_id: str = "",
) -> EnergyBuildStats:
    """Bring the energy marts of the build file behind ``con`` up to date with ``raw``.

    Needs ``raw.energy_*`` and the models of :data:`REQUIRED_MODELS`. Incremental when the file
    already holds an energy build (it started as a copy of the published version) and ``full``
    is false; otherwise everything is recomputed.
    """
    started = time.perf_counter()
    steps = _Steps()
    as_of_at = _as_instant(as_of)
    as_of_day = as_of_at.date()
    latest = as_of_at + FUTURE_MARGIN
    existed = _ensure_tables(con)
    state = con.execute("select reading_watermark, as_of, as_of_at from energy.state").fetchall()
    watermark = int(state[0][0]) if state and state[0][0] is not None else -1
    previous_as_of: date | None = state[0][1] if state else None
    previous_at: datetime | None = state[0][2] if state else None
    incremental = existed and not full and bool(state)
    _sync_readings(con)
    held_changed = _hold_points(
        con,
        latest=latest,
        # a reading accepted at a later as_of may lie beyond an earlier one's
        examine_all=not incremental or previous_at is None or as_of_at < previous_at,
        watermark=watermark,
    )
    _ensure_day_bounds(con, latest, watermark if incremental and not held_changed else -1)
    con.execute(
        """
        create or replace temp table _ptz as
        select p.point_id, p.timezone, z.offset_seconds, f.fixed
        from marts.dim_energy_point p join energy.zone_offset z using (timezone)
        join (
            -- one UTC offset and 24-hour days throughout the covered range (no DST there):
            -- local days are plain arithmetic on the instant, no day_bounds lookups
            select timezone,
                   count(distinct offset_seconds) = 1 and bool_and(seconds = 86400) as fixed
            from energy.day_bounds group by timezone
        ) f using (timezone)
        """
    )
    new_watermark = int(
        con.execute("select coalesce(max(id), -1) from raw.energy_reading").fetchall()[0][0]
    )
    steps.mark("prepare")
    if incremental:
        _scope_incremental(con, watermark)
    else:
        _scope_full(con)
    steps.mark("scope")
    _scope_days(con, not incremental)
    steps.mark("scope days")
    in_scope = _count(con, "_scope")
    is_full = not incremental
    mode = "full" if is_full else ("incremental" if in_scope else "unchanged")
    iv_del = iv_ins = d_del = d_ins = 0
    if in_scope or is_full:
        buckets = _buckets(con) if is_full else [None]
        for bucket in buckets:
            _compute_intervals(con, is_full, steps, bucket)
            steps.mark("intervals: classify")
            # free their memory (a refresh keeps the history it read: see _update_history)
            for temp in ("_iv", "_typ", "_gmin", "_cand", *(("_hist",) if is_full else ())):
                con.execute(f"drop table if exists temp.{temp}")
            if is_full:
                _compute_days(con, is_full, steps, bucket)
                steps.mark("days: spread")
        iv_del, iv_ins = _apply_intervals(con, is_full)
        steps.mark("intervals: apply")
        _update_history(con, is_full)
        con.execute("drop table if exists temp._new_iv")
        con.execute("drop table if exists temp._hist")
        steps.mark("intervals: history kept")
        if not is_full:
            _compute_days(con, is_full, steps)
            steps.mark("days: spread")
        d_del, d_ins = _apply_days(con, is_full)
        steps.mark("days: apply")
        _apply_point_months(con, is_full)
        steps.mark("point months")
        _apply_daily_node(con, is_full)
        steps.mark("daily roll-ups")
    from_month = (
        None if is_full else _monthly_from(con, previous_as_of, as_of_day, in_scope, held_changed)
    )
    _as_of_months(con, as_of_at)
    _rebuild_monthly(con, from_month)
    steps.mark("monthly mart")
    _rebuild_exceptions(con)
    steps.mark("exceptions")
    _snapshot(con, new_watermark, as_of_day, as_of_at)
    # The points whose rows this build wrote (every point in a full build) and from which day:
    # what the checks of the marts look at — the other rows are those of the version before,
    # checked when they were written.
    scope_days = (
        f"select point_id, first_day_start, date '{_EPOCH}' + first_day from _scope_day"
        if in_scope or is_full
        else "select point_id, null, null from _scope where false"
    )
    con.execute(
        f"create or replace table {BUILD_SCOPE} (point_id bigint, from_start timestamp,"
        f" from_day date); insert into {BUILD_SCOPE} {scope_days}"
    )
    steps.mark("snapshot")
    for (name,) in con.execute(
        "select table_name from duckdb_tables() where temporary and table_name like '\\_%' escape '\\'"
    ).fetchall():
        con.execute(f'drop table if exists temp."{name}"')
    seconds = time.perf_counter() - started
    stats = EnergyBuildStats(
        mode, in_scope, iv_del, iv_ins, d_del, d_ins, new_watermark, round(seconds, 3)
    )
    con.execute(
        "insert into energy.build_log values ($b, $m, now()::timestamp, $p, $a, $c, $d, $e, $w, $s)",
        {
            "b": build_id,
            "m": mode,
            "p": in_scope,
            "a": iv_del,
            "c": iv_ins,
            "d": d_del,
            "e": d_ins,
            "w": new_watermark,
            "s": seconds,
        },
    )
    con.executemany(
        "insert into energy.build_steps values ($1, $2, $3, $4)",
        [[build_id, n, name, round(sec, 4)] for n, (name, sec) in enumerate(steps.rows)],
    )
    return stats
