"""Blocking checks on the private build: a failing one stops ``published_warehouse``."""

import dagster as dg

from pipelines.defs.energy import energy_checks
from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.sla import sla_checks

DIM_OFFICE = dg.AssetKey(["marts", "dim_office"])


@dg.asset_check(asset=DIM_OFFICE, blocking=True)
def dim_office_code_unique(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseBuild
) -> dg.AssetCheckResult:
    """Each office code appears once in marts.dim_office."""
    with warehouse.read(context.op_execution_context.run_id) as con:
        duplicates = con.sql(
            "select office_code from marts.dim_office group by office_code having count(*) > 1"
            " order by office_code"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not duplicates,
        metadata={"duplicate_office_codes": [code for (code,) in duplicates][:20]},
    )


@dg.asset_check(asset=DIM_OFFICE, blocking=True)
def dim_office_has_city(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseBuild
) -> dg.AssetCheckResult:
    """Every office in marts.dim_office belongs to a city company."""
    with warehouse.read(context.op_execution_context.run_id) as con:
        orphans = con.sql(
            "select office_code from marts.dim_office where city_code is null order by office_code"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not orphans,
        metadata={"offices_without_city": [code for (code,) in orphans][:20]},
    )


all_checks = [dim_office_code_unique, dim_office_has_city, *sla_checks, *energy_checks]
