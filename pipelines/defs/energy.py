"""Energy (issue 3): the incremental ``marts/energy_*`` asset and its blocking checks.

The intervals, office-local days, months and exceptions are kept incrementally by
:func:`warehouse.energy.build_energy` in the run's build file (which starts as a copy of the
published version): one step materialises the five tables, then runs their checks (a failing
one fails the step, so nothing is published); SQL models may read the tables.
"""

import dagster as dg
import duckdb

from pipelines.defs.checking import CheckOutcome, run_selected_checks, warehouse_check
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseBuild
from warehouse import energy

ENERGY_TABLES = (
    "marts.energy_intervals",
    "marts.energy_daily",
    "marts.energy_daily_node",
    "marts.energy_monthly",
    "marts.energy_exceptions",
)
PYTHON_TABLES = frozenset(ENERGY_TABLES)
"""Tables built by the Python asset here, which SQL models may read (for their lineage)."""
SOURCES = ("energy_building", "energy_point", "energy_meter", "energy_reading")
"""Operational tables the energy build reads (``energy_reading`` incrementally by id)."""

ENERGY_DAILY = dg.AssetKey(["marts", "energy_daily"])
ENERGY_MONTHLY = dg.AssetKey(["marts", "energy_monthly"])
ENERGY_INTERVALS = dg.AssetKey(["marts", "energy_intervals"])


def _none_bad(con: duckdb.DuckDBPyConnection, sql: str) -> CheckOutcome:
    rows = con.sql(sql).fetchall()
    return not rows, {"bad": len(rows), "sample": [str(r) for r in rows[:20]]}


CHECK_DAYS_ADD_UP = f"""
with built as (select point_id from {energy.BUILD_SCOPE}),
spread as (
    select d.point_id, sum(d.consumption) as days_total
    from marts.energy_daily d semi join built using (point_id) group by d.point_id
),
intervals as (
    select point_id, sum(delta) as interval_total
    from marts.energy_intervals semi join built using (point_id)
    where status <> 'held' group by point_id
)
select i.point_id, i.interval_total, s.days_total
from intervals i full join spread s using (point_id)
where abs(coalesce(i.interval_total, 0) - coalesce(s.days_total, 0))
      > 1e-6 * greatest(1, abs(coalesce(i.interval_total, 0)))
"""
"""Per point, the days add up to the intervals (a day's rows are the interval's shares, so this
is the interval-level identity summed; ``tests/warehouse/test_energy_marts.py`` breaks it) — for the
points the build recomputed (``energy.build_scope``: all of them in a full build). Summing 22 M
days and intervals again on every refresh cost it 0.8 s."""

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
    return _none_bad(con, CHECK_DAYS_ADD_UP)


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
        )
        for table in ENERGY_TABLES
    ],
    check_specs=[check.spec for check in energy_checks],
    pool=WAREHOUSE_POOL,
)
def energy_marts(context: dg.AssetExecutionContext, warehouse: WarehouseBuild):  # type: ignore[no-untyped-def]
    """Intervals, office-local days, months and exceptions of the meter readings (DOMAIN §1):
    incremental from the last published build, full on a first build (docs/energy-marts.md)."""
    run_id = context.op_execution_context.run_id
    with warehouse.connect(run_id) as con:
        stats = energy.build_energy(con, as_of=warehouse.as_of_instant(), build_id=run_id)
        counts = {
            t: int(con.sql(f"select count(*) from {t}").fetchall()[0][0]) for t in ENERGY_TABLES
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
