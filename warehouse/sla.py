"""``marts.sla_clocks``: every SLA clock rebuilt from the event log and evaluated at the run's as_of.

The operational core stores one ``workflow_clock`` row per clock run, tied to the events that
started and stopped it. Here each clock's start and stop are taken from those *events* (a clock
starts at the later of its start event and the document's not-before instant — a periodic
order's ``work_starts_at`` — and stops at the later of its stop event and its start), its target
from the row (fixed when it started), and its deadline and state are recomputed with the shared
SQL rule (``sql/macros/business_time.sql``, loaded by :mod:`warehouse.business_time`) as of
``raw.run_params.as_of``. The operational ``due_at`` is kept beside it as ``stored_due_at``, so a
check can prove both implementations agree. Contract: ``docs/sla-marts.md``.

The macro's input tables and the expanded calendar live in the schema ``sla`` (bookkeeping, not
part of the contract); they are refilled on every build.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb

from warehouse import business_time

SCHEMA = "sla"
TABLE = "marts.sla_clocks"
DEPENDS_ON = frozenset(
    {
        "staging.stg_workflow_clocks",
        "staging.stg_workflow_events",
        "staging.stg_orders_periodic",
        "staging.stg_orders_corrective",
        "staging.stg_offices",
    }
)
"""The tables :func:`build_sla_clocks` reads (besides ``raw.run_params``): its lineage."""

# Office calendars are not stored yet, so an office-calendar clock may run this long past its
# nominal target before its deadline; the expanded range leaves that much room.
_OFFICE_CALENDAR_MARGIN = timedelta(days=60)

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
        con.execute(
            "insert into sla.calendars select distinct cast(office_id as varchar), "
            "coalesce(timezone, 'Asia/Shanghai') from staging.stg_offices"
        )
        # Pauses are not recorded by the engine yet, so sla.clock_pauses stays empty.
        con.execute(
            "insert into sla.clocks select cast(clock_id as varchar), cast(office_id as varchar),"
            " calendar_kind, timezone('UTC', started_at), target_amount, target_unit,"
            " timezone('UTC', stopped_at) from sla.clock_inputs where started_at <= $as_of",
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


def _calendar_range(con: duckdb.DuckDBPyConnection, naive_as_of: datetime) -> tuple[date, date]:
    """Local days covering every clock's start, deadline and the as_of, with a day to spare on
    each side for time zones."""
    row = con.sql(
        "select min(started_at), max(started_at + to_minutes(cast(target_amount *"
        " case target_unit when 'calendar_hours' then 60 else 1 end as bigint))),"
        " bool_or(calendar_kind = 'office') from sla.clock_inputs where started_at <= $as_of",
        params={"as_of": naive_as_of},
    ).fetchall()[0]
    first: datetime | None = row[0]
    last: datetime | None = row[1]
    if first is None or last is None:
        return naive_as_of.date() - timedelta(days=1), naive_as_of.date() + timedelta(days=1)
    if row[2]:
        last += _OFFICE_CALENDAR_MARGIN
    last = max(last, naive_as_of)
    return first.date() - timedelta(days=1), last.date() + timedelta(days=1)
