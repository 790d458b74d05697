"""Blocking checks of the org marts; ``all_checks`` gathers every check of the warehouse
(blocking, and the calendar warning of ``pipelines.defs.calendar``).

Each check runs in the step that builds its table (:mod:`pipelines.defs.checking`); a failing
one fails that step, so ``published_warehouse`` does not run.
"""

import dagster as dg
import duckdb

from pipelines.defs.calendar import calendar_checks
from pipelines.defs.checking import CheckOutcome, WarehouseCheck, warehouse_check
from pipelines.defs.energy import energy_checks
from pipelines.defs.sla import sla_checks
from pipelines.defs.suppliers import supplier_checks

DIM_OFFICE = dg.AssetKey(["marts", "dim_office"])


@warehouse_check(DIM_OFFICE)
def dim_office_code_unique(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Each office code appears once in marts.dim_office."""
    duplicates = con.execute(
        "select office_code from marts.dim_office group by office_code having count(*) > 1"
        " order by office_code"
    ).fetchall()
    return not duplicates, {"duplicate_office_codes": [code for (code,) in duplicates][:20]}


@warehouse_check(DIM_OFFICE)
def dim_office_has_city(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every office in marts.dim_office belongs to a city company."""
    orphans = con.execute(
        "select office_code from marts.dim_office where city_code is null order by office_code"
    ).fetchall()
    return not orphans, {"offices_without_city": [code for (code,) in orphans][:20]}


org_checks = [dim_office_code_unique, dim_office_has_city]
all_checks: list[WarehouseCheck] = [
    *org_checks,
    *sla_checks,
    *energy_checks,
    *calendar_checks,
    *supplier_checks,
]
