"""``marts.sla_clocks``: every SLA clock rebuilt from the event log and evaluated at the run's as_of.

The operational core stores one ``workflow_clock`` row per clock run, tied to the events that
started and stopped it. Here each clock's start and stop are taken from those *events* (a clock
starts at the later of its start event and the document's not-before instant — a periodic
order's ``work_starts_at`` — and stops at the later of its stop event and its start), its target
from the row (fixed when it started), its pauses from the events that paused and resumed it
(``workflow_clock_pause`` names them), and its deadline and state are recomputed with the shared
SQL rule (``sql/macros/business_time.sql``, loaded by :mod:`warehouse.business_time`) as of
``raw.run_params.as_of``. The operational ``due_at`` is kept beside it as ``stored_due_at``, so a
check can prove both implementations agree. Contract: ``docs/sla-marts.md``.

Office calendars: each office's weekly intervals come from ``raw.org_calendar_interval`` (an office
without rows works :data:`GROUP_DEFAULT_WEEKLY`), its days from China's public holidays and make-up
working days — taken here from the ``chinese_calendar`` package by :func:`china_days`, the same
lookup as ``operational.services.calendars.china_days`` (the warehouse imports nothing of
operational, so the package is the one shared source) — overridden by ``raw.org_calendar_day``.
``tests/warehouse/test_sla_office_calendar.py`` proves both sides build the same calendars.

The macro's input tables and the expanded calendar live in the schema ``sla`` (bookkeeping, not
part of the contract); they are refilled on every build.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Final

import chinese_calendar
import duckdb
import polars as pl

from warehouse import business_time

SCHEMA = "sla"
TABLE = "marts.sla_clocks"
DEPENDS_ON = frozenset(
    {
        "staging.stg_workflow_clocks",
        "staging.stg_workflow_clock_pauses",
        "staging.stg_workflow_events",
        "staging.stg_orders_periodic",
        "staging.stg_orders_corrective",
        "staging.stg_offices",
        "raw.org_calendar_interval",
        "raw.org_calendar_day",
    }
)
"""The tables :func:`build_sla_clocks` reads (besides ``raw.run_params``): its lineage."""

# An office-calendar clock may run much longer than its nominal target (nights, weekends, the
# Spring Festival); the expanded range leaves this much room, plus a day per target hour.
_OFFICE_CALENDAR_MARGIN = timedelta(days=60)

_GROUP_DAY: Final = ((time(9), time(12)), (time(13, 30), time(18)))
GROUP_DEFAULT_WEEKLY: Final[dict[int, tuple[tuple[time, time], ...]]] = dict.fromkeys(
    range(1, 6), _GROUP_DAY
)
"""By ISO weekday: the group default hours, Monday–Friday 09:00–12:00 and 13:30–18:00 — the same
as ``operational.services.calendars.DEFAULT_WEEKLY`` (a test keeps them equal)."""

CHINA_MAKEUP_WEEKDAY: Final = 1
"""China's make-up working days are worked like a Monday (ISO weekday)."""


@cache
def china_days() -> tuple[frozenset[date], frozenset[date]]:
    """China's official public holidays and weekend make-up working days for every year the
    installed ``chinese_calendar`` knows — the lookup of ``operational.services.calendars``."""
    known = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    first, last = date(min(known).year, 1, 1), date(max(known).year, 12, 31)
    holidays: list[date] = chinese_calendar.get_holidays(first, last, include_weekends=False)
    workdays: list[date] = chinese_calendar.get_workdays(first, last, include_weekends=True)
    return frozenset(holidays), frozenset(d for d in workdays if d.isoweekday() >= 6)


_OFFICE_CALENDARS = """
create or replace table sla.office_intervals as
select
    cast(office_id as varchar) as calendar_id,
    cast(weekday as integer) + 1 as weekday,
    cast(start_local as time) as start_local,
    cast(end_local as time) as end_local
from raw.org_calendar_interval;

insert into sla.calendar_weekday_intervals
select * from sla.office_intervals
union all
select calendars.calendar_id, defaults.weekday, defaults.start_local, defaults.end_local
from sla.calendars
cross join sla.default_intervals as defaults
where calendars.calendar_id not in (select calendar_id from sla.office_intervals);

create or replace table sla.office_days as
select
    cast(office_id as varchar) as calendar_id,
    cast(day as date) as day,
    cast(kind as varchar) as kind,
    case when kind = 'workday' then coalesce(cast(as_weekday as integer), 0) + 1 end as as_weekday
from raw.org_calendar_day;

insert into sla.calendar_days
select * from sla.office_days
union all
select calendars.calendar_id, china.day, china.kind, china.as_weekday
from sla.calendars
cross join sla.china_days as china
anti join sla.office_days as own
    on own.calendar_id = calendars.calendar_id and own.day = china.day;
"""


_CLOCK_INPUTS = """
create or replace table sla.clock_inputs as
with

clocks as (select * from staging.stg_workflow_clocks),

events as (select * from staging.stg_workflow_events),

offices as (select * from staging.stg_offices),

orders as (
    select 'periodic_order' as document_type, order_id, discipline, work_starts_at
    from staging.stg_orders_periodic
    union all
    select 'corrective_order' as document_type, order_id, discipline, null as work_starts_at
    from staging.stg_orders_corrective
),

rebuilt as (
    select
        clocks.clock_id,
        clocks.document_type,
        clocks.document_id,
        clocks.document_no,
        clocks.office_id,
        offices.office_code,
        coalesce(offices.timezone, 'Asia/Shanghai') as timezone,
        orders.discipline,
        clocks.clock,
        clocks.target_amount,
        clocks.target_unit,
        clocks.calendar_kind,
        greatest(start_event.event_at, coalesce(orders.work_starts_at, start_event.event_at))
            as started_at,
        stop_event.event_at as stop_event_at,
        clocks.stored_due_at
    from clocks
    inner join events as start_event on start_event.event_id = clocks.started_event_id
    left join events as stop_event on stop_event.event_id = clocks.stopped_event_id
    left join orders
        on orders.document_type = clocks.document_type and orders.order_id = clocks.document_id
    left join offices on offices.office_id = clocks.office_id
)

select
    * exclude (stop_event_at),
    -- greatest() skips NULLs: a clock without a stop event stays open.
    case when stop_event_at is not null then greatest(stop_event_at, started_at) end as stopped_at
from rebuilt
"""

_PAUSE_INPUTS = """
create or replace table sla.pause_inputs as
with

pauses as (select * from staging.stg_workflow_clock_pauses),

events as (select * from staging.stg_workflow_events),

clocks as (select clock_id, started_at from sla.clock_inputs),

rebuilt as (
    select
        pauses.pause_id,
        pauses.clock_id,
        -- as the engine: a pause lies inside its clock (not before the start)
        greatest(pause_event.event_at, clocks.started_at) as paused_at,
        resume_event.event_at as resume_event_at
    from pauses
    inner join clocks on clocks.clock_id = pauses.clock_id
    inner join events as pause_event on pause_event.event_id = pauses.paused_event_id
    left join events as resume_event on resume_event.event_id = pauses.resumed_event_id
)

select
    pause_id,
    clock_id,
    paused_at,
    -- resumed not before paused; NULL: still paused (greatest() would skip the NULL)
    case when resume_event_at is not null then greatest(resume_event_at, paused_at) end
        as resumed_at
from rebuilt
"""

_FINAL = """
create or replace table marts.sla_clocks as
with

inputs as (select * from sla.clock_inputs),

states as (select * from sla.clock_states_now),

final as (
    select
        inputs.document_no,
        inputs.office_code,
        inputs.discipline,
        inputs.document_type,
        inputs.clock,
        inputs.started_at,
        timezone('UTC', states.due_at) as due_at,
        case when inputs.stopped_at <= $as_of then inputs.stopped_at end as stopped_at,
        states.state,
        cast(date_trunc('month', timezone(inputs.timezone, timezone('UTC', inputs.started_at)))
            as date) as month,
        case when states.state = 'breached' then
            (epoch_us(least(coalesce(inputs.stopped_at, $as_of), $as_of))
                - epoch_us(timezone('UTC', states.due_at))) / 60000000
        end as late_minutes,
        states.elapsed_minutes,
        -- paused (挂起) at as_of: a pause begun by as_of, not resumed by then, clock not stopped
        exists (
            select 1 from sla.pause_inputs as pauses
            where pauses.clock_id = inputs.clock_id
                and pauses.paused_at <= $as_of
                and (pauses.resumed_at is null or pauses.resumed_at > $as_of)
        ) and (inputs.stopped_at is null or inputs.stopped_at > $as_of) as paused,
        inputs.target_amount,
        inputs.target_unit,
        inputs.calendar_kind,
        inputs.stored_due_at,
        inputs.clock_id,
        inputs.document_id,
        inputs.office_id,
        $as_of as as_of
    from inputs
    inner join states on states.clock_id = cast(inputs.clock_id as varchar)
)

select * from final
order by office_code, started_at, document_no, clock
"""


def as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The instant the build is evaluated at (``raw.run_params.as_of``, aware UTC)."""
    rows = con.sql("select as_of from raw.run_params").fetchall()
    if not rows:
        raise RuntimeError("raw.run_params is empty: the build has no as_of")
    instant: datetime = rows[0][0]
    return instant.replace(tzinfo=UTC)


def build_sla_clocks(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build ``marts.sla_clocks`` from the staged events and clock rows; return its rows."""
    evaluated_at = as_of(con)
    naive = evaluated_at.replace(tzinfo=None)
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute("create schema if not exists marts")
    con.execute(f"set schema = '{SCHEMA}'")  # the macros read their tables unqualified
    try:
        business_time.install(con)
        for table in ("calendars", "calendar_weekday_intervals", "calendar_days"):
            con.execute(f"delete from {SCHEMA}.{table}")
        for table in ("clocks", "clock_pauses"):
            con.execute(f"delete from {SCHEMA}.{table}")
        con.execute(_CLOCK_INPUTS)
        con.execute(_PAUSE_INPUTS)
        con.execute(
            "insert into sla.calendars select distinct cast(office_id as varchar), "
            "coalesce(timezone, 'Asia/Shanghai') from staging.stg_offices"
        )
        _load_office_calendars(con)
        con.execute(
            "insert into sla.clocks select cast(clock_id as varchar), cast(office_id as varchar),"
            " calendar_kind, timezone('UTC', started_at), target_amount, target_unit,"
            " timezone('UTC', stopped_at) from sla.clock_inputs where started_at <= $as_of",
            {"as_of": naive},
        )
        con.execute(
            "insert into sla.clock_pauses select cast(pause_inputs.clock_id as varchar),"
            " timezone('UTC', pause_inputs.paused_at), timezone('UTC', pause_inputs.resumed_at)"
            " from sla.pause_inputs semi join sla.clock_inputs"
            " on clock_inputs.clock_id = pause_inputs.clock_id"
            " and clock_inputs.started_at <= $as_of"
            " order by pause_inputs.clock_id, pause_inputs.paused_at, pause_inputs.pause_id",
            {"as_of": naive},
        )
        first_day, last_day = _calendar_range(con, naive)
        business_time.build_calendar_intervals(con, first_day, last_day)
        con.execute(
            "create or replace table sla.clock_states_now as from clock_states($as_of)",
            {"as_of": evaluated_at},
        )
    finally:
        con.execute("set schema = 'main'")
    con.execute(_FINAL, {"as_of": naive})
    return int(con.sql(f"select count(*) from {TABLE}").fetchall()[0][0])


def _load_office_calendars(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``sla.calendar_weekday_intervals`` and ``sla.calendar_days`` for every office in
    ``sla.calendars``: its own hours or the group default; China's days unless overridden."""
    holidays, makeup = china_days()
    china = pl.DataFrame(
        {
            "day": [*sorted(holidays), *sorted(makeup)],
            "kind": ["holiday"] * len(holidays) + ["workday"] * len(makeup),
            "as_weekday": [None] * len(holidays) + [CHINA_MAKEUP_WEEKDAY] * len(makeup),
        },
        schema={"day": pl.Date, "kind": pl.String, "as_weekday": pl.Int32},
    )
    defaults = pl.DataFrame(
        [
            (weekday, start, end)
            for weekday, intervals in GROUP_DEFAULT_WEEKLY.items()
            for start, end in intervals
        ],
        schema={"weekday": pl.Int32, "start_local": pl.Time, "end_local": pl.Time},
        orient="row",
    )
    con.register("_china_days", china)
    con.register("_default_intervals", defaults)
    try:
        con.execute("create or replace table sla.china_days as from _china_days")
        con.execute("create or replace table sla.default_intervals as from _default_intervals")
    finally:
        con.unregister("_china_days")
        con.unregister("_default_intervals")
    con.execute(_OFFICE_CALENDARS)


def _calendar_range(con: duckdb.DuckDBPyConnection, naive_as_of: datetime) -> tuple[date, date]:
    """Local days covering every clock's start, deadline and the as_of, with a day to spare on
    each side for time zones (and, for office-calendar clocks, room for nights and holidays).
    A pause known by as_of moves the deadline by at most its wall-clock length, so that is added
    to the clock's minutes."""
    row = con.sql(
        "select min(started_at), max(started_at + to_minutes(minutes) + case calendar_kind"
        " when 'office' then to_days(cast($margin + minutes // 60 as integer)) else interval 0 day end)"
        " from (select started_at, calendar_kind, cast(target_amount *"
        " case target_unit when 'calendar_hours' then 60 else 1 end as bigint)"
        " + coalesce(cast(paused.minutes as bigint), 0) as minutes"
        " from sla.clock_inputs left join (select clock_id, sum(date_diff('minute', paused_at,"
        " least(coalesce(resumed_at, $as_of), $as_of)) + 1) as minutes from sla.pause_inputs"
        " where paused_at <= $as_of group by clock_id) as paused using (clock_id)"
        " where started_at <= $as_of)",
        params={"as_of": naive_as_of, "margin": _OFFICE_CALENDAR_MARGIN.days},
    ).fetchall()[0]
    first: datetime | None = row[0]
    last: datetime | None = row[1]
    if first is None or last is None:
        return naive_as_of.date() - timedelta(days=1), naive_as_of.date() + timedelta(days=1)
    last = max(last, naive_as_of)
    return first.date() - timedelta(days=1), last.date() + timedelta(days=1)
