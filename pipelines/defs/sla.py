"""SLA: the ``marts/sla_clocks`` asset, its blocking checks, and order generation.

``marts/sla_clocks`` (with ``sla/order_events``) is built in Python
(:func:`warehouse.sla.build_sla_clocks`: the shared business-time SQL needs its calendar expanded
first) from the staged events and clock rows, incrementally from the published build it starts
from; the SQL marts ``sla_compliance`` and ``office_workload`` read it, ``order_throughput`` reads
``sla.order_events``. The daily
``generate_periodic_orders`` job issues the periodic orders of every approved plan for a horizon
ahead (idempotent: ``operational.services.plans.generate_orders`` never duplicates).
"""

from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from operational.db import create_db_engine, unit_of_work
from operational.services.inspections import generate_inspection_orders
from operational.services.plans import generate_orders
from pipelines.defs.calendar import calendar_checks
from pipelines.defs.checking import CheckOutcome, checks_of, run_selected_checks, warehouse_check
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseBuild
from warehouse import sla, versions

SLA_CLOCKS = dg.AssetKey(["marts", "sla_clocks"])
ORDER_EVENTS = dg.AssetKey(sla.ORDER_EVENTS.split("."))
SLA_COMPLIANCE = dg.AssetKey(["marts", "sla_compliance"])
HELD_DOCUMENTS = dg.AssetKey(sla.HELD.split("."))
PYTHON_TABLES = frozenset({sla.TABLE, sla.ORDER_EVENTS, sla.HELD})
"""Tables built by the Python assets here, which SQL models may read (for their lineage)."""
_INPUTS = [dg.AssetKey(table.split(".")) for table in sorted(sla.DEPENDS_ON)]


def _documents(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, list[str]]:
    rows = con.execute(sql).fetchall()
    return len(rows), [str(r[0]) for r in rows[:20]]


def _written(con: duckdb.DuckDBPyConnection) -> str:
    """SQL naming the clock rows this build wrote (``warehouse.sla.BUILD_SCOPE``), to select
    from instead of ``marts.sla_clocks``: every clock after a full build; after a refresh, the
    clocks it recomputed. A refresh keeps the other rows from a published version, where they
    were checked when they were written: checking them again would read the 3 M rows of every
    clock on each run to find what it found then. A join from the few rewritten clocks lets
    DuckDB skip the rest of the table."""
    whole = con.execute(f"select coalesce(bool_or(whole), false) from {sla.BUILD_SCOPE}").fetchall()
    if whole[0][0]:
        return "marts.sla_clocks"
    return (
        f"(select clocks.* from {sla.BUILD_SCOPE} as written"
        " inner join marts.sla_clocks as clocks using (clock_id))"
    )


@warehouse_check(SLA_CLOCKS)
def sla_clock_due_after_start(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every clock has a deadline at or after its start (a paused one: once it resumes)."""
    count, sample = _documents(
        con,
        # A clock paused at as_of has no deadline until it resumes (docs/sla-clocks.md).
        f"select document_no from {_written(con)}"
        " where (due_at is null and not paused) or due_at < started_at",
    )
    return count == 0, {"bad": count, "sample": sample}


@warehouse_check(SLA_CLOCKS)
def sla_clock_met_not_past_due(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No clock is met yet stopped after its deadline (or breached yet stopped in time)."""
    count, sample = _documents(
        con,
        f"select document_no from {_written(con)} where (state = 'met' and"
        " (stopped_at is null or stopped_at > due_at)) or (state = 'breached' and"
        " coalesce(stopped_at, as_of) <= due_at)",
    )
    return count == 0, {"bad": count, "sample": sample}


@warehouse_check(SLA_CLOCKS)
def sla_clock_matches_operational(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """The recomputed deadline equals the one the operational core stored: the warehouse and
    the live system must show the same figures (docs/sla-clocks.md)."""
    count, sample = _documents(
        con,
        # The live deadline also counts pauses after as_of, and a paused clock has none yet.
        f"select document_no from {_written(con)}"
        " where due_at is distinct from stored_due_at and not paused"
        " and clock_id not in (select clock_id"
        " from sla.pause_inputs where paused_at > as_of or resumed_at > as_of)",
    )
    return count == 0, {"differing": count, "sample": sample}


@warehouse_check(SLA_COMPLIANCE, additional_deps=[SLA_CLOCKS])
def sla_compliance_counts_every_clock(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """The compliance totals add up to the number of clocks, and each row's parts to its total."""
    clocks, total, bad_rows = con.execute(
        "select (select count(*) from marts.sla_clocks),"
        " (select coalesce(sum(total), 0) from marts.sla_compliance),"
        " (select count(*) from marts.sla_compliance where met + breached + pending <> total)"
    ).fetchall()[0]
    return clocks == total and bad_rows == 0, {
        "clocks": int(clocks),
        "compliance_total": int(total),
        "bad_rows": bad_rows,
    }


sla_checks = [
    sla_clock_due_after_start,
    sla_clock_met_not_past_due,
    sla_clock_matches_operational,
    sla_compliance_counts_every_clock,
]
"""Run by the step building each one's table: those of ``sla_clocks`` here, that of
``marts/sla_compliance`` by the SQL step that builds it (``pipelines.defs.assets``)."""
_CLOCK_CHECKS = checks_of([*sla_checks, *calendar_checks], [SLA_CLOCKS, ORDER_EVENTS])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SLA_CLOCKS,
            deps=_INPUTS,
            group_name="marts",
            kinds={"duckdb", "python"},
            description="One row per SLA clock: started and stopped from the event log, deadline"
            " and state recomputed with the shared business-time SQL as of the run's as_of"
            " (docs/sla-marts.md).",
        ),
        dg.AssetSpec(
            ORDER_EVENTS,
            deps=_INPUTS,
            group_name="marts",
            kinds={"duckdb", "python"},
            description="The events creating or closing an order, with discipline and"
            " office-local month (bookkeeping of marts.order_throughput).",
        ),
        dg.AssetSpec(
            HELD_DOCUMENTS,
            deps=_INPUTS,
            group_name="marts",
            kinds={"duckdb", "python"},
            description="Documents held out of the SLA marts because an instant of theirs is"
            " out of bounds (before 2000, or more than a day after as_of), listed for their"
            " offices to correct (docs/sla-marts.md).",
        ),
    ],
    check_specs=[check.spec for check in _CLOCK_CHECKS],
    pool=WAREHOUSE_POOL,
)
def sla_clocks(context: dg.AssetExecutionContext, warehouse: WarehouseBuild):  # type: ignore[no-untyped-def]
    """The SLA clocks and order events, incremental from the last published build: only the
    clocks of documents with new events and those not final at the previous as_of are
    recomputed; everything on a first build, after a calendar or code change, or for an earlier
    as_of (docs/sla-marts.md)."""
    run_id = context.op_execution_context.run_id
    with warehouse.connect(run_id) as con:
        stats = sla.build_sla_clocks(con, build_id=run_id)
        tracked = versions.Versions.load(con)
        for table in PYTHON_TABLES:  # rewritten in part or whole: their readers are rebuilt
            tracked.changed(table)
        tracked.save(con)
        states = dict(
            con.execute("select state, count(*) from marts.sla_clocks group by 1").fetchall()
        )
        events = int(con.execute(f"select count(*) from {sla.ORDER_EVENTS}").fetchall()[0][0])
        held = int(con.execute(f"select count(*) from {sla.HELD}").fetchall()[0][0])
    built: dict[str, str | int | float] = {
        "mode": stats.mode,
        "reason": stats.reason,
        "clocks_recomputed": stats.clocks_recomputed,
        "seconds": stats.seconds,
        "calendars": stats.calendars,
    }
    if stats.documents is not None:
        built["documents"] = stats.documents
    yield dg.MaterializeResult(
        asset_key=SLA_CLOCKS,
        metadata={
            "dagster/row_count": stats.clocks,
            **built,
            **{f"clocks_{k}": int(v) for k, v in states.items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key=ORDER_EVENTS,
        metadata={"dagster/row_count": events, "added": stats.order_events_added, **built},
    )
    yield dg.MaterializeResult(asset_key=HELD_DOCUMENTS, metadata={"dagster/row_count": held})
    # The checks of the clocks, on the tables just built (a failing blocking one fails the step;
    # the calendar warning does not).
    yield from run_selected_checks(context, warehouse, _CLOCK_CHECKS)


sla_assets = [sla_clocks]


# --- order generation ------------------------------------------------------------------------


class GenerateOrdersConfig(dg.Config):
    horizon_days: int = 14
    """Orders are issued for occurrences up to this many days after today (UTC)."""


@dg.op
def generate_periodic_orders(
    context: dg.OpExecutionContext, config: GenerateOrdersConfig, warehouse: WarehouseBuild
) -> int:
    """Issue the periodic orders of every approved plan, and the inspection orders of every
    approved inspection plan, up to the horizon (never a duplicate)."""
    horizon_end = datetime.now(UTC).date() + timedelta(days=config.horizon_days)
    engine = create_db_engine(warehouse.database_url)
    try:
        with unit_of_work(engine) as session:
            issued = len(generate_orders(session, None, horizon_end))
            # Inspection orders of approved inspection plans, the same way (docs/inspections.md).
            inspections = len(generate_inspection_orders(session, None, horizon_end))
    finally:
        engine.dispose()
    context.log.info(
        f"issued {issued} periodic and {inspections} inspection orders up to {horizon_end}"
    )
    return issued


@dg.job(description="Issue the periodic orders of approved plans for a horizon ahead.")
def generate_orders_job() -> None:
    generate_periodic_orders()


generate_orders_daily = dg.ScheduleDefinition(
    name="generate_periodic_orders_daily",
    job=generate_orders_job,
    cron_schedule="30 0 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
