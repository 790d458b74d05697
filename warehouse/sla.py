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

Office calendars (``sql/sla/office_calendars.sql``): the same three layers as
``operational.services.calendars`` — China's public holidays and make-up working days from the
``chinese_calendar`` package (:func:`china_days`, the same lookup as
``operational.services.calendars.china_days``: the warehouse imports nothing of operational);
the group's rows (``office_id`` NULL in ``raw.org_calendar_interval`` / ``raw.org_calendar_day``:
its week, else :data:`GROUP_DEFAULT_WEEKLY`, and its days — next year's official list, loaded
with ``propcloud import calendar-days`` — which replace the package's for the days they name);
then each office's own week and days (with ``raw.org_calendar_day_interval``: a working day's
own hours). ``sla.group_days`` keeps the group's days (read by the Dagster check that warns when
next year has no holidays). ``tests/warehouse/test_sla_office_calendar.py`` proves both sides
build the same calendars.

The macro's input tables and the expanded calendar live in the schema ``sla`` (bookkeeping, not
part of the contract).

**Incremental.** The build file starts as a copy of the previous published version, so
:func:`build_sla_clocks` keeps the rows of ``sla.clock_rows`` (``marts.sla_clocks`` is a view
adding the run's ``as_of`` to them) and recomputes only the clocks of documents with events new
since its last build (``warehouse.extract.changes_since``) and the clocks that were not final at
the previous ``as_of`` (running, stopped after it, or not started by it): a clock stopped by then
keeps every figure whatever the later ``as_of``. It rebuilds everything on a first build, when the
events were copied whole, when the SQL of the rule changed (a digest), when an office or a
calendar changed (a digest of the offices, their hours, day overrides and China's days), and when
the new ``as_of`` is before the previous one. ``sla.order_events`` (the creating and closing events
of orders, read by ``marts.order_throughput``) grows by the new events. ``sla.build_log`` says
what each build did. Contract and proof: ``docs/sla-marts.md``,
``tests/warehouse/test_sla_incremental.py``.

Each build is also a build of the incremental table ``marts.sla_clocks`` for
:mod:`warehouse.incremental` (:func:`~warehouse.incremental.begin` /
:func:`~warehouse.incremental.finish`: numbered, logged in ``incremental.log`` with this step's
mode and reason), so the SQL marts kept incrementally on it follow it: ``sla.clock_changes`` holds
the clock rows the build changed in the columns they read (:data:`CHANGE_COLUMNS`), as they were
(``written`` false: a row deleted or replaced) and as written (``written`` true: a row new or
replacing one), numbered with the build's ``seq``. Their changes files read it, each comparing
its own columns (a clock whose late_minutes grew changes the late list, not a count); a clock
recomputed only because it was still running, unchanged in those columns, is not listed. Empty
after a whole build, whose readers are rebuilt whole.

**Held documents.** A document with an instant before 2000-01-01 is left out of every SLA mart and
listed in ``marts.held_documents`` (``sql/sla/held_documents.sql``), so one legacy row neither
stretches the pages' months nor fails the build; a change in the held set makes the build full.
The SQL of the clock inputs and order events lives in ``sql/sla/``.
"""

from __future__ import annotations

import hashlib
import time as timer
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
import duckdb
import polars as pl

from warehouse import business_time, incremental, versions
from warehouse.buckets import WHOLE, id_ranges
from warehouse.extract import EVENTS, Changes, changes_since, latest_load

SCHEMA = "sla"
TABLE = "marts.sla_clocks"
ROWS = "sla.clock_rows"
"""The rows of ``marts.sla_clocks`` without ``as_of`` (the mart is a view adding it)."""
CHANGES = "sla.clock_changes"
"""The clock rows the last build changed, as they were and as they are (the module's docstring)."""
CHANGE_COLUMNS = (
    "clock_id, document_type, document_id, document_no, office_code, discipline, clock, month,"
    " state, started_at, due_at, stopped_at, late_minutes"
)
"""The columns of ``marts.sla_clocks`` its incremental readers read (``sla.clock_changes`` holds
them): a mart kept on another column adds it here. Not ``elapsed_minutes``, which every running
clock changes on every build."""
_CHANGES = f"""
with

was as (from temp.main._rows_before),

is_now as (select {CHANGE_COLUMNS} from temp.main._rows_after)

select $seq::bigint as seq, false as written, * from (from was except from is_now)
union all
select $seq::bigint as seq, true as written, * from (from is_now except from was)
"""
ORDER_EVENTS = "sla.order_events"
"""The events creating or closing an order, with office, discipline and office-local month:
what ``marts.order_throughput`` counts, kept incrementally here."""
BUILD_SCOPE = "sla.build_scope"
"""The clocks (``clock_id``) whose rows the latest build wrote; one row with ``whole`` true
when it wrote every clock. The other rows are those of the version it continued, checked when
they were written: the blocking checks of the clocks look at these (``pipelines.defs.sla``)."""
_SQL_DIR = Path(__file__).parent / "sql"
_SLA_SQL = _SQL_DIR / "sla"
OFFICE_CALENDARS = _SLA_SQL / "office_calendars.sql"
_CODE = (
    Path(__file__),
    business_time.MACROS,
    *sorted(_SLA_SQL.glob("*.sql")),
    *(
        _SQL_DIR / "staging" / f"{name}.sql"
        for name in (
            "stg_workflow_clocks",
            "stg_workflow_clock_pauses",
            "stg_workflow_events",
            "stg_orders_periodic",
            "stg_orders_corrective",
            "stg_orders_plans",
            "stg_offices",
            "stg_tickets",
            "stg_inspection_orders",
            "stg_supplier_nonconformities",
        )
    ),
)
DEPENDS_ON = frozenset(
    {
        "staging.stg_workflow_clocks",
        "staging.stg_workflow_clock_pauses",
        "staging.stg_workflow_events",
        "staging.stg_orders_periodic",
        "staging.stg_orders_corrective",
        "staging.stg_orders_plans",
        "staging.stg_offices",
        "staging.stg_tickets",
        "staging.stg_inspection_orders",
        "staging.stg_supplier_nonconformities",
        "raw.org_calendar_interval",
        "raw.org_calendar_day",
        "raw.org_calendar_day_interval",
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
"""By ISO weekday: the group default hours while the group has stored no week of its own,
Monday–Friday 09:00–12:00 and 13:30–18:00 — the same as
``operational.services.calendars.DEFAULT_WEEKLY`` (a test keeps them equal)."""

CHINA_MAKEUP_WEEKDAY: Final = 1
"""China's make-up working days are worked like a Monday (ISO weekday)."""


@cache
def china_days() -> tuple[frozenset[date], frozenset[date]]:
    """China's official public holidays and weekend make-up working days for every year the
    installed ``chinese_calendar`` knows — the lookup of ``operational.services.calendars``."""
    # Its own tables, read directly: what get_holidays / get_workdays over every known year
    # return, without testing each of 8 000 days (0.36 s, paid by every pipeline run).
    holidays: frozenset[date] = frozenset(chinese_calendar.holidays)
    workdays: frozenset[date] = frozenset(chinese_calendar.workdays)
    return holidays, frozenset(d for d in workdays if d.isoweekday() >= 6)


_PAUSE_INPUTS = """
with

pauses as (select * from staging.stg_workflow_clock_pauses {pauses_filter}),

-- Only the pauses' events, stored once: DuckDB materialises a CTE used twice, and this one was
-- every event (39 M rows for 10 M orders).
events as materialized (
    select event_id, event_at from staging.stg_workflow_events
    where event_id in (
        select paused_event_id from pauses union all select resumed_event_id from pauses)
),

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

_ROWS = """
with

inputs as (select * from sla.clock_inputs {inputs_filter}),

states as (select * from sla.clock_states_now),

-- paused (挂起) at as_of: a pause begun by as_of, not resumed by then
paused as (
    select distinct clock_id
    from sla.pause_inputs
    where paused_at <= $as_of and (resumed_at is null or resumed_at > $as_of)
),

final as (
    select
        inputs.document_no,
        inputs.office_code,
        inputs.discipline,
        inputs.document_type,
        inputs.clock,
        inputs.started_at,
        make_timestamp(epoch_us(states.due_at)) as due_at,
        case when inputs.stopped_at <= $as_of then inputs.stopped_at end as stopped_at,
        states.state,
        {start_month} as month,
        case when states.state = 'breached' then
            (epoch_us(least(coalesce(inputs.stopped_at, $as_of), $as_of))
                - epoch_us(states.due_at)) / 60000000
        end as late_minutes,
        states.elapsed_minutes,
        -- ... and the clock not stopped by then
        paused.clock_id is not null
            and (inputs.stopped_at is null or inputs.stopped_at > $as_of) as paused,
        inputs.target_amount,
        inputs.target_unit,
        inputs.calendar_kind,
        inputs.stored_due_at,
        inputs.clock_id,
        inputs.document_id,
        inputs.office_id
    from inputs
    inner join states on states.clock_id = inputs.clock_id
    left join paused on paused.clock_id = inputs.clock_id
)

-- No order: an incremental build appends; readers order what they read.
select * from final
"""

_VIEW = """
create or replace view marts.sla_clocks as
select clock_rows.*, params.as_of
from sla.clock_rows as clock_rows
cross join raw.run_params as params
"""


def _local_month(instant: str, zone: str, offset: str) -> str:
    """SQL: the first day of the local month of the naive-UTC ``instant`` in time zone ``zone``.

    Where the zone kept one UTC offset over every instant of the build (``sla.zone_offsets``,
    e.g. China), plain arithmetic; otherwise ICU. ICU converted every one of 10 M clock starts
    and 20 M order events (2 M clocks: ≈ 0.8 s of the rows' 1.1 s projection)."""
    return (
        f"cast(date_trunc('month', case when {offset} is not null"
        f" then {instant} + to_seconds({offset})"
        f" else timezone({zone}, timezone('UTC', {instant})) end) as date)"
    )


_CLOCK_INPUTS = (_SLA_SQL / "clock_inputs.sql").read_text(encoding="utf-8")
_ORDER_EVENTS = (_SLA_SQL / "order_events.sql").read_text(encoding="utf-8")
_HELD_DOCUMENTS = (_SLA_SQL / "held_documents.sql").read_text(encoding="utf-8")
HELD = "marts.held_documents"
"""The documents held out of the SLA marts, listed for their offices (docs/sla-marts.md)."""
EARLIEST_INSTANT = datetime(2000, 1, 1)
"""A document with an instant before this (UTC) is held out (docs/sla-marts.md)."""
FUTURE_MARGIN = timedelta(days=1)
"""How far past as_of the office-local months are worked out (nothing later counts)."""

_ROWS = _ROWS.replace(
    "{start_month}",
    _local_month("inputs.started_at", "inputs.timezone", "inputs.offset_seconds"),
)
_ORDER_EVENTS = _ORDER_EVENTS.replace(
    "{event_month}",
    _local_month("events.event_at", "offices.timezone", "offices.offset_seconds"),
)


def _touched(type_column: str, id_column: str) -> str:
    """SQL: the rows whose document (``type_column``, ``id_column``) is in ``sla.touched``. The
    id alone first: DuckDB filters the scan by it (the pair alone joined every row of 3 M clocks:
    a refresh at 500 offices, 7 471 clocks touched, read them in 0.44 s, 0.14 s so)."""
    return (
        f"{id_column} in (select document_id from sla.touched)"
        f" and ({type_column}, {id_column}) in (select document_type, document_id from sla.touched)"
    )


_TOUCHED = _touched("document_type", "document_id")
"""SQL: the clocks (and clock inputs) of the documents in ``sla.touched``."""


@dataclass(frozen=True)
class SlaBuildStats:
    """What one build of ``marts.sla_clocks`` did (also appended to ``sla.build_log``)."""

    mode: str  # 'full' | 'incremental'
    reason: str  # why full ('' when incremental)
    clocks: int  # rows of marts.sla_clocks
    clocks_recomputed: int
    documents: int | None  # documents with new events (None: full build)
    order_events_added: int
    seconds: float
    calendars: str = "built"  # 'kept': the previous build's office calendars were unchanged


def as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The instant the build is evaluated at (``raw.run_params.as_of``, aware UTC)."""
    rows = con.execute("select as_of from raw.run_params").fetchall()
    if not rows:
        raise RuntimeError("raw.run_params is empty: the build has no as_of")
    instant: datetime = rows[0][0]
    return instant.replace(tzinfo=UTC)


def code_digest() -> str:
    """A digest of the code that computes the clocks: rows built by other code are not kept."""
    digest = hashlib.sha256()
    for path in _CODE:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_sla_clocks(
    con: duckdb.DuckDBPyConnection, *, build_id: str = "", full: bool = False
) -> SlaBuildStats:
    """(Re)build ``marts.sla_clocks`` and ``sla.order_events`` from the staged events and clock
    rows, incrementally when the build file holds a previous build that may be continued (see
    the module's docstring), else in full (or when ``full``)."""
    began = timer.perf_counter()
    evaluated_at = as_of(con)
    naive = evaluated_at.replace(tzinfo=None)
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute("create schema if not exists marts")
    _ensure_tables(con)
    held_changed = _hold_documents(con)
    con.execute(f"set schema = '{SCHEMA}'")  # the macros read their tables unqualified
    try:
        # The macros' clock tables with integer clock ids (the SQL file declares text ids, as the
        # test vectors name their clocks): hashing and joining 10 M strings cost the evaluation.
        con.execute(
            "create or replace table sla.clocks (clock_id bigint, calendar_id varchar,"
            " calendar_kind varchar, started_at timestamptz, target_amount integer,"
            " unit varchar, stopped_at timestamptz)"
        )
        con.execute(
            "create or replace table sla.clock_pauses"
            " (clock_id bigint, paused_at timestamptz, resumed_at timestamptz)"
        )
        business_time.install(con)
        code = code_digest()
        state = con.execute(
            "select as_of, code_digest, inputs_digest, event_load, calendar_signature,"
            " calendar_first, calendar_last from sla.state"
        ).fetchall()
        previous = state[0] if state else None
        calendars = _calendar_signature(con, code)
        expanded: tuple[date, date] | None = None
        calendars_kept = False
        if previous is not None and calendars is not None and previous[4] == calendars:
            # The offices and calendars are those of the previous build: its office calendars
            # (and the days it expanded them over) are kept, with their digest.
            inputs = str(previous[2])
            calendars_kept = True
            if previous[5] is not None and previous[6] is not None:
                expanded = (previous[5], previous[6])
        else:
            _load_calendars(con)
            inputs = _inputs_digest(con)
        _load_zone_offsets(con, naive)
        changes = changes_since(con, EVENTS, previous[3]) if previous else None
        reason = _full_reason(con, full, previous, changes, code, inputs, naive)
        if not reason and held_changed:
            # a document held or released: its clocks and order events join or leave the marts
            reason = "held documents changed"
        # One build of an incremental table (warehouse.incremental): numbered and logged, and
        # a whole one makes its readers whole. The decision is this step's; the mechanism's own
        # (its state lost, say) can only add a reason to rebuild everything.
        delta = incremental.begin(
            con,
            TABLE,
            code=code,
            inputs=inputs,
            exists=_exists(con, SCHEMA, "clock_rows"),
            full=bool(reason),
        )
        if reason:
            delta = replace(delta, reason=reason)
        elif delta.full:
            reason = delta.reason
        if reason or changes is None or previous is None:
            recomputed, documents, added, expanded = _full(con, naive, evaluated_at, delta.seq)
        else:
            recomputed, documents, added, expanded = _incremental(
                con, naive, evaluated_at, previous[0], changes, delta.seq, expanded
            )
    finally:
        con.execute("set schema = 'main'")
    _replace_view(con)
    clocks = int(con.execute(f"select count(*) from {ROWS}").fetchall()[0][0])
    con.execute("delete from sla.state")
    con.execute(
        "insert into sla.state values ($as_of, $code, $inputs, $load, $built, $calendars,"
        " $first, $last)",
        {
            "as_of": naive,
            "code": code,
            "inputs": inputs,
            "load": latest_load(con, EVENTS),
            "built": datetime.now(UTC).replace(tzinfo=None),
            "calendars": calendars,
            "first": expanded[0],
            "last": expanded[1],
        },
    )
    stats = SlaBuildStats(
        mode="full" if reason else "incremental",
        reason=reason,
        clocks=clocks,
        clocks_recomputed=recomputed,
        documents=documents,
        order_events_added=added,
        seconds=round(timer.perf_counter() - began, 3),
        calendars="kept" if calendars_kept else "built",
    )
    con.execute(
        "insert into sla.build_log values ($id, $mode, $reason, $built, $as_of, $clocks,"
        " $recomputed, $documents, $added, $seconds)",
        {
            "id": build_id,
            "mode": stats.mode,
            "reason": stats.reason,
            "built": datetime.now(UTC).replace(tzinfo=None),
            "as_of": naive,
            "clocks": stats.clocks,
            "recomputed": stats.clocks_recomputed,
            "documents": stats.documents,
            "added": stats.order_events_added,
            "seconds": stats.seconds,
        },
    )
    incremental.finish(con, delta, keys=recomputed, began=began)
    return stats


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table if not exists sla.state (as_of timestamp, code_digest varchar,"
        " inputs_digest varchar, event_load bigint, built_at timestamp)"
    )
    # What the office calendars were built from, and the local days their working intervals
    # were expanded over (sla.calendar_intervals): a build whose calendars are the same keeps
    # both (_calendar_signature).
    for column, kind in (
        ("calendar_signature", "varchar"),
        ("calendar_first", "date"),
        ("calendar_last", "date"),
    ):
        con.execute(f"alter table sla.state add column if not exists {column} {kind}")
    con.execute(
        "create table if not exists sla.build_log (build_id varchar, mode varchar,"
        " reason varchar, built_at timestamp, as_of timestamp, clocks bigint,"
        " clocks_recomputed bigint, documents bigint, order_events_added bigint, seconds double)"
    )


CALENDAR_INPUTS = frozenset(
    {
        "staging.stg_offices",
        "raw.org_calendar_interval",
        "raw.org_calendar_day",
        "raw.org_calendar_day_interval",
    }
)
"""What the office calendars (``sql/sla/office_calendars.sql``) are built from, besides the
code and China's days of the installed ``chinese_calendar``."""
CALENDAR_SLACK = timedelta(days=31)
"""Local days expanded beyond the last one a build needs, so that the refreshes of the next
weeks find their days already expanded (the expansion costs about as much for a day as for a
month: a pass over every office's calendar)."""


def _calendar_signature(con: duckdb.DuckDBPyConnection, code: str) -> str | None:
    """A digest of what the office calendars are built from: the versions of
    :data:`CALENDAR_INPUTS` (``warehouse.versions``), the code and China's days; None when one
    of the tables has no version (the calendars are then built again)."""
    holidays, makeup = china_days()
    return versions.Versions.load(con).model_signature(
        versions.digest(code, sorted(holidays), sorted(makeup)), CALENDAR_INPUTS
    )


def _load_calendars(con: duckdb.DuckDBPyConnection) -> None:
    """The office calendars from the staged offices and the raw calendar tables (run with the
    schema set to ``sla``)."""
    for table in (
        "calendars",
        "calendar_weekday_intervals",
        "calendar_days",
        "calendar_day_intervals",
    ):
        con.execute(f"delete from {SCHEMA}.{table}")
    con.execute(
        "insert into sla.calendars select distinct cast(office_id as varchar), "
        "coalesce(timezone, 'Asia/Shanghai') from staging.stg_offices"
    )
    _load_office_calendars(con)


def _hold_documents(con: duckdb.DuckDBPyConnection) -> bool:
    """``sla.held_documents`` (``sql/sla/held_documents.sql``) and its contract copy
    ``marts.held_documents``; True if the set of held documents differs from the last build's
    (the build is then done in full)."""
    existed = _exists(con, SCHEMA, "held_documents")
    if existed:
        con.execute(
            "create or replace temp table _held_before as"
            " select document_type, document_id from sla.held_documents"
        )
    con.execute(
        f"create or replace table sla.held_documents as {_HELD_DOCUMENTS}",
        {"earliest": EARLIEST_INSTANT},
    )
    con.execute(
        f"create or replace table {HELD} as select office_code, document_type, document_no,"
        " reason, held_at, document_id from sla.held_documents"
        " order by office_code, document_type, document_no"
    )
    if not existed:
        return False
    changed = con.execute(
        """
        select count(*) from (
            (select document_type, document_id from sla.held_documents
             except select * from _held_before)
            union all
            (select * from _held_before
             except select document_type, document_id from sla.held_documents))
        """
    ).fetchall()[0][0]
    con.execute("drop table _held_before")
    return bool(changed)


def _full_reason(
    con: duckdb.DuckDBPyConnection,
    full: bool,
    previous: tuple[datetime, str, str, int | None] | None,
    changes: Changes | None,
    code: str,
    inputs: str,
    naive_as_of: datetime,
) -> str:
    """Why this build must recompute every clock ('' if it may continue the previous one)."""
    if full:
        return "requested"
    if previous is None or not _exists(con, "sla", "clock_rows"):
        return "first build"
    if previous[1] != code:
        return "code changed"
    if previous[2] != inputs:
        return "offices or calendars changed"
    if naive_as_of < previous[0]:
        return "as_of before the previous build's"
    if changes is None:
        return "events copied whole"
    return ""


def _fill(sql: str, *, touched: bool = False, **parts: str) -> str:
    """``sql`` with its ``{name}`` placeholders replaced (filters: empty, or ``where …``); with
    ``touched`` the orders are those of ``sla.touched``."""
    for kind in ("periodic", "corrective"):
        parts[f"{kind}_filter"] = (
            "where order_id in (select document_id from sla.touched"
            f" where document_type = '{kind}_order')"
            if touched
            else ""
        )
    parts["inspection_filter"] = (
        "where order_id in (select document_id from sla.touched where document_type = 'inspection')"
        if touched
        else ""
    )
    parts["nonconformities_filter"] = (
        "where nonconformity_id in (select document_id from sla.touched"
        " where document_type like 'nonconformity_%')"
        if touched
        else ""
    )
    parts["tickets_filter"] = f"where {_touched('ticket_type', 'ticket_id')}" if touched else ""
    for name, text in parts.items():
        sql = sql.replace("{" + name + "}", text)
    return sql


def _write(
    con: duckdb.DuckDBPyConnection, table: str, sql: str, replace: bool, **params: object
) -> None:
    """Create ``table`` from the SELECT ``sql`` (``replace``) or append its rows by name."""
    if replace:
        con.execute(f"create or replace table {table} as {sql}", params or None)
    else:
        con.execute(f"insert into {table} by name select * from ({sql})", params or None)


CLOCK_BUCKET = 2_000_000
"""Clocks rebuilt and evaluated at once, at most (about): a full build at scale takes them a share
at a time — ranges of clock ids (``warehouse.buckets``) — so its joins to the events and the
rule's intermediate rows (segments, their three instants, the calendar look-ups) hold a share of
the clocks, not all of them."""
_ID_GRANULE = 1024  # clock ids counted in blocks when splitting them: one clock is one row


def _full(
    con: duckdb.DuckDBPyConnection, naive: datetime, evaluated_at: datetime, seq: int
) -> tuple[int, None, int, tuple[date, date]]:
    """Every clock: inputs, states and rows rebuilt; every order event. No clock changes are
    listed: the readers of a table rebuilt whole are rebuilt whole (``warehouse.incremental``).
    Also returns the local days the calendars were expanded over."""
    # In buckets of clocks at scale: joined to all events at once, each clock's start and stop
    # events were looked up in hash tables of every event (10 M clocks, 39 M events: 7.6 GB).
    for bucket in id_ranges(
        con, "staging.stg_workflow_clocks", "clock_id", CLOCK_BUCKET, granule=_ID_GRANULE
    ):
        only = f"where {bucket.where('clock_id')}" if bucket.count > 1 else ""
        # Every event and order, not the span of ids a bucket's clocks use: DuckDB hashes the
        # bucket's clocks and filters each scan by them; a span (one clock stopped late reaches
        # the end of the log) made it hash 33 M events instead (10 M clocks: 25.6 → 31.2 s).
        _write(
            con,
            "sla.clock_inputs",
            _fill(_CLOCK_INPUTS, clocks_filter=only, events_filter=""),
            bucket.first,
        )
    _write(con, "sla.pause_inputs", _fill(_PAUSE_INPUTS, pauses_filter=""), True)
    expanded = _evaluate(con, naive, evaluated_at, some=False, expanded=None)
    _write(con, ROWS, _fill(_ROWS, inputs_filter=""), True, as_of=naive)
    con.execute(
        f"create or replace table {CHANGES} as"
        f" select $seq::bigint as seq, false as written, {CHANGE_COLUMNS} from {ROWS} limit 0",
        {"seq": seq},
    )
    _write(con, ORDER_EVENTS, _fill(_ORDER_EVENTS, events_filter=""), True)
    recomputed = int(con.execute("select count(*) from sla.clock_states_now").fetchall()[0][0])
    added = int(con.execute(f"select count(*) from {ORDER_EVENTS}").fetchall()[0][0])
    con.execute(
        f"create or replace table {BUILD_SCOPE} as select null::bigint as clock_id, true as whole"
    )
    return recomputed, None, added, expanded


def _incremental(
    con: duckdb.DuckDBPyConnection,
    naive: datetime,
    evaluated_at: datetime,
    previous_as_of: datetime,
    changes: Changes,
    seq: int,
    expanded: tuple[date, date] | None,
) -> tuple[int, int, int, tuple[date, date]]:
    """Only the clocks of documents with new events and those not final at the previous as_of;
    the order events appended. ``sla.clock_changes``: the rows that changed, as they were and as
    written, numbered ``seq``. ``expanded``: the local days the kept calendar intervals cover
    (None: none kept); returns those covered after."""
    new_events = changes.condition(column="event_id")
    con.execute(
        "create or replace table sla.new_events as"
        f" select * from staging.stg_workflow_events where {new_events}"
    )
    con.execute(
        "create or replace table sla.touched as"
        " select distinct document_type, document_id from sla.new_events"
    )
    documents = int(con.execute("select count(*) from sla.touched").fetchall()[0][0])
    # The touched documents' clocks as they were and as they are now (a clock's document never
    # changes, but a document may have gained clocks): their inputs are rebuilt.
    con.execute(
        "create or replace table sla.recompute as"
        f" select clock_id from sla.clock_inputs where {_TOUCHED}"
        f" union select clock_id from staging.stg_workflow_clocks where {_TOUCHED}"
    )
    con.execute(f"delete from sla.clock_inputs where {_TOUCHED}")
    _write(
        con,
        "sla.clock_inputs",
        _fill(
            _CLOCK_INPUTS,
            touched=True,
            clocks_filter=f"where {_TOUCHED}",
            events_filter="where event_id in (select started_event_id from clocks"
            " union all select stopped_event_id from clocks)",
        ),
        False,
    )
    recompute = "clock_id in (select clock_id from sla.recompute)"
    con.execute(f"delete from sla.pause_inputs where {recompute}")
    _write(con, "sla.pause_inputs", _fill(_PAUSE_INPUTS, pauses_filter=f"where {recompute}"), False)
    # Clocks whose figures may differ at a later as_of: not started by the previous one, still
    # running at it or stopped after it.
    con.execute(
        "insert into sla.recompute select clock_id from sla.clock_inputs"
        " where started_at > $previous or stopped_at is null or stopped_at > $previous",
        {"previous": previous_as_of},
    )
    con.execute(
        "create or replace table sla.recompute as select distinct clock_id from sla.recompute"
    )
    expanded = _evaluate(con, naive, evaluated_at, some=True, expanded=expanded)
    # The rows replaced as they were and the rows written (temporary tables: in memory, not
    # written to the file), to list in sla.clock_changes those that differ in the columns the
    # marts on them read. Every clock of a touched document is in sla.recompute (its inputs'
    # clocks as they were and as they are), so the clock ids name the rows: testing the rows'
    # documents against sla.touched as well cost a pass over every row.
    replaced = recompute
    con.execute(
        "create or replace temp table _rows_before as"
        f" select {CHANGE_COLUMNS} from {ROWS} where {replaced}"
    )
    con.execute(f"delete from {ROWS} where {replaced}")
    con.execute(
        "create or replace temp table _rows_after as"
        f" {_fill(_ROWS, inputs_filter=f'where {recompute}')}",
        {"as_of": naive},
    )
    con.execute(f"insert into {ROWS} by name select * from temp.main._rows_after")
    con.execute(f"create or replace table {CHANGES} as {_CHANGES}", {"seq": seq})
    con.execute("drop table temp.main._rows_before")
    con.execute("drop table temp.main._rows_after")
    con.execute(
        f"delete from {ORDER_EVENTS} where event_id in (select event_id from sla.new_events)"
    )
    before = int(con.execute(f"select count(*) from {ORDER_EVENTS}").fetchall()[0][0])
    _write(
        con,
        ORDER_EVENTS,
        _fill(
            _ORDER_EVENTS,
            touched=True,
            events_filter="and event_id in (select event_id from sla.new_events)",
        ),
        False,
    )
    added = int(con.execute(f"select count(*) from {ORDER_EVENTS}").fetchall()[0][0]) - before
    recomputed = int(con.execute("select count(*) from sla.recompute").fetchall()[0][0])
    con.execute(
        f"create or replace table {BUILD_SCOPE} as"
        " select clock_id, false as whole from sla.recompute"
    )
    for table in ("new_events", "touched", "recompute"):
        con.execute(f"drop table sla.{table}")
    return recomputed, documents, added, expanded


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    naive: datetime,
    evaluated_at: datetime,
    *,
    some: bool,
    expanded: tuple[date, date] | None,
) -> tuple[date, date]:
    """Fill the macro's clocks and pauses — those of ``sla.clock_inputs`` started by as_of (with
    ``some``: only those in ``sla.recompute``) — expand the calendar over their span (unless
    the kept intervals, over the local days ``expanded``, cover it) and evaluate them into
    ``sla.clock_states_now``, in buckets of :data:`CLOCK_BUCKET` clocks (``clock_id % n``) when
    there are more. Runs with the schema set to ``sla``. Returns the days expanded over."""
    first_day, last_day = _calendar_range(con, naive, _only(some, "clock_inputs.clock_id"))
    if expanded is None or not (expanded[0] <= first_day and last_day <= expanded[1]):
        # Expanding a few more days costs next to nothing, expanding again a pass over every
        # calendar: the days before the kept ones and a month after the last one needed.
        if expanded is not None:
            first_day = min(first_day, expanded[0])
        last_day += CALENDAR_SLACK
        business_time.build_calendar_intervals(con, first_day, last_day)
        expanded = (first_day, last_day)
    buckets = [WHOLE]
    if not some:
        started = "(select clock_id from sla.clock_inputs where started_at <= $as_of)"
        buckets = id_ranges(
            con, started, "clock_id", CLOCK_BUCKET, granule=_ID_GRANULE, params={"as_of": naive}
        )
    for bucket in buckets:
        part = f"and {bucket.where('clock_inputs.clock_id')}" if bucket.count > 1 else ""
        con.execute("delete from sla.clocks")
        con.execute("delete from sla.clock_pauses")
        con.execute(
            "insert into sla.clocks select clock_id, cast(office_id as varchar),"
            f" calendar_kind, {_AS_UTC.format('started_at')}, target_amount, target_unit,"
            f" {_AS_UTC.format('stopped_at')} from sla.clock_inputs where started_at <= $as_of"
            f" {_only(some, 'clock_inputs.clock_id')} {part}",
            {"as_of": naive},
        )
        con.execute(
            "insert into sla.clock_pauses select pause_inputs.clock_id,"
            f" {_AS_UTC.format('pause_inputs.paused_at')},"
            f" {_AS_UTC.format('pause_inputs.resumed_at')}"
            " from sla.pause_inputs semi join sla.clock_inputs"
            " on clock_inputs.clock_id = pause_inputs.clock_id"
            f" and clock_inputs.started_at <= $as_of {_only(some, 'clock_inputs.clock_id')} {part}"
            " order by pause_inputs.clock_id, pause_inputs.paused_at, pause_inputs.pause_id",
            {"as_of": naive},
        )
        target = (
            "create or replace table sla.clock_states_now as"
            if bucket.first
            else "insert into sla.clock_states_now"
        )
        # A refresh's clocks are recent and few, the kept calendar years long: they are looked
        # up in its part they can reach (the same states, a fraction of the ASOF joins' sort).
        intervals = business_time.calendar_window(con) if some else "calendar_intervals"
        con.execute(
            f"{target} from clock_states($as_of, intervals := '{intervals}')",
            {"as_of": evaluated_at},
        )
    return expanded


_AS_UTC = "make_timestamptz(epoch_us({}))"
"""SQL: the naive-UTC instant ``{}`` as a TIMESTAMPTZ, by its microseconds: ICU's
``timezone('UTC', …)`` cost ≈ 0.1 µs a value, and the macro's clocks take 20 M of them at 10 M
clocks (the naive back from a TIMESTAMPTZ likewise: ``make_timestamp(epoch_us(…))``)."""


def _only(some: bool, column: str) -> str:
    """``and <column> in sla.recompute`` for an incremental build, else nothing."""
    return f"and {column} in (select clock_id from sla.recompute)" if some else ""


def _replace_view(con: duckdb.DuckDBPyConnection) -> None:
    """``marts.sla_clocks``: the rows and the run's as_of (a table of that name is replaced)."""
    kind = con.execute(
        "select table_type from information_schema.tables"
        " where table_schema = 'marts' and table_name = 'sla_clocks'"
    ).fetchall()
    if kind and kind[0][0] != "VIEW":
        con.execute("drop table marts.sla_clocks")
    con.execute(_VIEW)


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_schema = $s and table_name = $t",
            {"s": schema, "t": table},
        ).fetchall()
    )


def _inputs_digest(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of what every clock's figures depend on besides its own document: the offices
    (code, time zone) and their calendars (hours, days, China's holidays and make-up days)."""
    row = con.execute(
        """
        -- a sum of the lines' hashes, not an md5 of them sorted: 390 000 lines (500 offices
        -- with China's days) took 0.27-0.36 s that way, 0.05 s this way
        select cast(coalesce(sum(hash(line)::hugeint), 0) as varchar) || ':' || count(*) from (
            select concat_ws('|', 'c', calendar_id, coalesce(timezone, '-')) as line
            from sla.calendars
            union all
            select concat_ws('|', 'w', calendar_id, weekday, start_local, end_local)
            from sla.calendar_weekday_intervals
            union all
            select concat_ws('|', 'd', calendar_id, day, kind, coalesce(cast(as_weekday as varchar), '-'))
            from sla.calendar_days
            union all
            select concat_ws('|', 'h', calendar_id, day, start_local, end_local)
            from sla.calendar_day_intervals
            union all
            select concat_ws('|', 'o', office_id, coalesce(office_code, '-'), coalesce(timezone, '-'))
            from staging.stg_offices
        )
        """
    ).fetchall()
    return str(row[0][0])


def _load_zone_offsets(con: duckdb.DuckDBPyConnection, naive_as_of: datetime) -> None:
    """``sla.zone_offsets``: the offices' time zones that kept one UTC offset from a day before
    the first event to a day after the last one (or as_of), with that offset (see
    :func:`_local_month`). Other zones are left out: ICU converts their instants."""
    first, last = con.execute(
        "select min(event_at), max(event_at) from staging.stg_workflow_events"
    ).fetchall()[0]
    # a held document's events lie anywhere (year 1); nothing after as_of counts (year 9999)
    first = max(first or naive_as_of, EARLIEST_INSTANT)
    last = min(last or naive_as_of, naive_as_of + FUTURE_MARGIN)
    low = min(first, naive_as_of).date() - timedelta(days=1)
    high = max(last, naive_as_of).date() + timedelta(days=1)
    rows = []
    for (zone,) in con.execute(
        "select distinct timezone from staging.stg_offices where timezone is not null"
    ).fetchall():
        try:
            info = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        offsets = {
            info.utcoffset(datetime.combine(low + timedelta(days=n), time()))
            for n in range((high - low).days + 1)
        }
        if len(offsets) == 1 and (offset := offsets.pop()) is not None:
            rows.append((zone, int(offset.total_seconds())))
    con.execute(
        "create or replace table sla.zone_offsets (timezone varchar, offset_seconds integer)"
    )
    if rows:
        con.executemany("insert into sla.zone_offsets values (?, ?)", rows)


def _load_office_calendars(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``sla.calendar_weekday_intervals``, ``sla.calendar_days`` and
    ``sla.calendar_day_intervals`` for every office in ``sla.calendars``: its own week, else the
    group's, else the default; its own days over the group's over China's (the package's)."""
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
        con.execute("create or replace table sla.package_days as from _china_days")
        con.execute("create or replace table sla.default_intervals as from _default_intervals")
    finally:
        con.unregister("_china_days")
        con.unregister("_default_intervals")
    con.execute(OFFICE_CALENDARS.read_text(encoding="utf-8"))


def _calendar_range(
    con: duckdb.DuckDBPyConnection, naive_as_of: datetime, only: str = ""
) -> tuple[date, date]:
    """Local days covering every clock's start, deadline and the as_of, with a day to spare on
    each side for time zones (and, for office-calendar clocks, room for nights and holidays).
    A pause known by as_of moves the deadline by at most its wall-clock length, so that is added
    to the clock's minutes."""
    row = con.execute(
        "select min(started_at), max(started_at + to_minutes(minutes) + case calendar_kind"
        " when 'office' then to_days(cast($margin + minutes // 60 as integer)) else interval 0 day end)"
        " from (select started_at, calendar_kind, cast(target_amount *"
        " case target_unit when 'calendar_hours' then 60 else 1 end as bigint)"
        " + coalesce(cast(paused.minutes as bigint), 0) as minutes"
        " from sla.clock_inputs left join (select clock_id, sum(date_diff('minute', paused_at,"
        " least(coalesce(resumed_at, $as_of), $as_of)) + 1) as minutes from sla.pause_inputs"
        " where paused_at <= $as_of group by clock_id) as paused using (clock_id)"
        f" where started_at <= $as_of {only})",
        {"as_of": naive_as_of, "margin": _OFFICE_CALENDAR_MARGIN.days},
    ).fetchall()[0]
    first: datetime | None = row[0]
    last: datetime | None = row[1]
    if first is None or last is None:
        return naive_as_of.date() - timedelta(days=1), naive_as_of.date() + timedelta(days=1)
    last = max(last, naive_as_of)
    return first.date() - timedelta(days=1), last.date() + timedelta(days=1)
