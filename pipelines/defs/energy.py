"""Energy: the incremental ``marts/energy_*`` asset and its blocking checks.

The intervals, office-local days, months and exceptions are kept incrementally by
:func:`warehouse.energy.build_energy` in the run's build file (which starts as a copy of the
published version): one step materialises the five tables, then runs their checks (a failing
one fails the step, so nothing is published); SQL models may read the tables.
"""

import dagster as dg
import duckdb

from pipelines.defs.checking import CheckOutcome, run_selected_checks, warehouse_check
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseBuild
from warehouse import energy, versions

ENERGY_TABLES = (
    "marts.energy_intervals",
    "marts.energy_daily",
    "marts.energy_daily_node",
    "marts.energy_monthly",
    "marts.energy_exceptions",
)
PYTHON_TABLES = frozenset(ENERGY_TABLES)
DESCRIPTIONS = {
    "marts.energy_intervals": "One row per interval between two consecutive readings of one meter"
    " installation: its consumption (readings × multiplier, roll-overs counted) and status"
    " (ok, rollover, high or held) against the point's typical daily use (docs/energy-marts.md).",
    "marts.energy_daily": "One row per metering point and office-local day: the consumption its"
    " intervals spread over that day in proportion to time, and whether the day is estimated.",
    "marts.energy_daily_node": "One row per building, office, city company and group, kind and"
    " day: the daily totals by the roll-up rule (root points only, so no sub-meter counts twice).",
    "marts.energy_monthly": "One row per point, building, office, city company and group, kind"
    " and month: consumption, whether the month is complete, and a parent meter's loss against"
    " its direct sub-meters where every point involved is complete.",
    "marts.energy_exceptions": "The intervals an office must follow up: held (excluded from"
    " totals), roll-overs, implausibly high use, and readings flagged when they were entered.",
}
"""What each energy mart holds, in words (the Dagster UI shows it with the asset)."""
"""Tables built by the Python asset here, which SQL models may read (for their lineage)."""
SOURCES = (
    "energy_building",
    "energy_point",
    "energy_meter",
    "energy_reading",
    "energy_exception_followup",
)
"""Operational tables the energy build reads (``energy_reading`` incrementally by id)."""

ENERGY_DAILY = dg.AssetKey(["marts", "energy_daily"])
ENERGY_MONTHLY = dg.AssetKey(["marts", "energy_monthly"])
ENERGY_INTERVALS = dg.AssetKey(["marts", "energy_intervals"])


def _none_bad(con: duckdb.DuckDBPyConnection, sql: str) -> CheckOutcome:
    rows = con.execute(sql).fetchall()
    return not rows, {"bad": len(rows), "sample": [str(r) for r in rows[:20]]}


CHECK_DAYS_ADD_UP = f"""
with built as (select point_id, from_start, from_day from {energy.BUILD_SCOPE}),
spread as (
    select d.point_id, sum(d.consumption) as days_total
    from marts.energy_daily d join built b using (point_id)
    where (b.from_day is null or d.day >= b.from_day) {{day_bound}}
    group by d.point_id
),
intervals as (
    -- each interval's share of [from_start, ∞): the days from from_day on tile that span
    select i.point_id,
           sum(case when b.from_start is null or i.start_at >= b.from_start then i.delta
                    else i.delta * (epoch_us(i.end_at) - epoch_us(b.from_start))
                         / (epoch_us(i.end_at) - epoch_us(i.start_at)) end) as interval_total
    from marts.energy_intervals i join built b using (point_id)
    where i.status <> 'held' and (b.from_start is null or i.end_at > b.from_start)
          {{interval_bound}}
    group by i.point_id
)
select i.point_id, i.interval_total, s.days_total
from intervals i full join spread s using (point_id)
where abs(coalesce(i.interval_total, 0) - coalesce(s.days_total, 0))
      > 1e-6 * greatest(1, abs(coalesce(i.interval_total, 0)))
"""
"""Per point, the days add up to the intervals (a day's rows are the interval's shares, so this
is the interval-level identity summed; ``tests/warehouse/test_energy_marts.py`` breaks it) — for
what the build recomputed (``energy.build_scope``): each point's days from its first rewritten
day against its intervals' shares of the time from that day's start, an identity of its own
(no local days in it). In a full build that is every point whole. Summing all 22 M days and
intervals on every refresh cost 1.1 s; from a recent day the time-ordered days are read from
their last row groups (``{day_bound}`` and ``{interval_bound}``: that day and instant, when
no point is redone whole)."""


def days_add_up_sql(con: duckdb.DuckDBPyConnection) -> str:
    """:data:`CHECK_DAYS_ADD_UP` bounded by the build's earliest rewritten day, if any."""
    low_day, low_start, whole = con.execute(
        f"select min(from_day), min(from_start), count(*) filter (where from_start is null)"
        f" from {energy.BUILD_SCOPE}"
    ).fetchall()[0]
    if whole or low_day is None:
        return CHECK_DAYS_ADD_UP.format(day_bound="", interval_bound="")
    return CHECK_DAYS_ADD_UP.format(
        day_bound=f"and d.day >= date '{low_day.isoformat()}'",
        interval_bound=f"and i.end_at > timestamp '{low_start.isoformat(sep=' ')}'",
    )


CHECK_NO_NEGATIVE = """
select 'daily', point_code, cast(day as varchar), consumption from marts.energy_daily
where consumption < 0
union all
select 'monthly', node_code, cast(month as varchar), consumption from marts.energy_monthly
where consumption < 0
"""

CHECK_OFFICE_IS_ROOTS = """
with roots as (
    select p.office_code, m.kind, m.month, sum(m.consumption) as total
    from marts.energy_monthly m join marts.dim_energy_point p
      on m.level = 'point' and p.point_code = m.node_code
    where p.is_root group by all
)
select o.node_code, o.kind, o.month, o.consumption, r.total
from marts.energy_monthly o
full join roots r on o.level = 'office' and r.office_code = o.node_code
                 and r.kind = o.kind and r.month = o.month
where (o.level = 'office' or o.level is null)
  and (r.total is null or o.consumption is null
       or abs(o.consumption - r.total) > 1e-6 * greatest(1, abs(r.total)))
"""


@warehouse_check(ENERGY_DAILY)
def energy_days_add_up_to_intervals(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """The days of the intervals add up to the intervals (within 1e-6)."""
    return _none_bad(con, days_add_up_sql(con))


@warehouse_check(ENERGY_MONTHLY)
def energy_no_negative_consumption(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No negative consumption reaches a mart."""
    return _none_bad(con, CHECK_NO_NEGATIVE)


@warehouse_check(ENERGY_MONTHLY)
def energy_office_totals_are_root_sums(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every office total equals the sum of its root points, per kind and month."""
    return _none_bad(con, CHECK_OFFICE_IS_ROOTS)


energy_checks = [
    energy_days_add_up_to_intervals,
    energy_no_negative_consumption,
    energy_office_totals_are_root_sums,
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(table.split(".")),
            deps=[
                dg.AssetKey(["raw", "energy_reading"]),
                *(dg.AssetKey(t.split(".")) for t in sorted(energy.REQUIRED_MODELS)),
            ],
            group_name="marts",
            kinds={"duckdb", "python"},
            description=DESCRIPTIONS[table],
        )
        for table in ENERGY_TABLES
    ],
    check_specs=[check.spec for check in energy_checks],
    pool=WAREHOUSE_POOL,
)
def energy_marts(context: dg.AssetExecutionContext, warehouse: WarehouseBuild):  # type: ignore[no-untyped-def]
    """Intervals, office-local days, months and exceptions of the meter readings (docs/energy-marts.md):
    incremental from the last published build, full on a first build (docs/energy-marts.md)."""
    run_id = context.op_execution_context.run_id
    with warehouse.connect(run_id) as con:
        stats = energy.build_energy(con, as_of=warehouse.as_of_instant(), build_id=run_id)
        tracked = versions.Versions.load(con)
        for table in ENERGY_TABLES:  # rewritten in part or whole: their readers are rebuilt
            tracked.changed(table)
        tracked.save(con)
        counts = {
            t: int(con.execute(f"select count(*) from {t}").fetchall()[0][0]) for t in ENERGY_TABLES
        }
    for table in ENERGY_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(table.split(".")),
            metadata={
                "dagster/row_count": counts[table],
                "mode": stats.mode,
                "points_in_scope": stats.points_in_scope,
                "days_inserted": stats.days_inserted,
                "days_deleted": stats.days_deleted,
                "seconds": stats.seconds,
            },
        )
    # The blocking checks, on the tables just built (a failing one fails this step).
    yield from run_selected_checks(context, warehouse, energy_checks)


energy_assets = [energy_marts]
