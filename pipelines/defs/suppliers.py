"""Supplier marts: their checks (docs/supplier-marts.md).

A fault of the whole table — a contract scored twice in a month, a supplier ranked twice in a
period — would make every figure a BI tool sums wrong, so those checks block the build. A
problem of one record — a nonconformity whose breach points its contract's standard does not
price (the imports refuse it; a later edit of the standard can cause it) — only warns: that
deduction counts ¥0 and the rest of the ranking is right.
"""

import dagster as dg
import duckdb

from pipelines.defs.checking import CheckOutcome, WarehouseCheck, warehouse_check

CONTRACT_SCORES = dg.AssetKey(["marts", "contract_scores"])
SUPPLIER_RANKING = dg.AssetKey(["marts", "supplier_ranking"])


@warehouse_check(CONTRACT_SCORES)
def contract_scores_one_row_per_contract_month(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Each contract has at most one row per month in marts.contract_scores."""
    duplicates = con.execute(
        "select contract_no, strftime(month, '%Y-%m') from marts.contract_scores"
        " group by all having count(*) > 1 order by all limit 20"
    ).fetchall()
    return not duplicates, {"duplicated": [f"{no} {month}" for no, month in duplicates]}


@warehouse_check(SUPPLIER_RANKING)
def supplier_ranking_one_row_per_period(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Each supplier is ranked at most once per period and discipline, with a rank of 1 or
    more, in marts.supplier_ranking."""
    duplicates = con.execute(
        "select period_type, period, discipline, supplier_code from marts.supplier_ranking"
        " group by all having count(*) > 1 order by all limit 20"
    ).fetchall()
    unranked = con.execute(
        "select count(*) from marts.supplier_ranking where rank is null or rank < 1"
        " or score is null"
    ).fetchall()[0][0]
    return not duplicates and unranked == 0, {
        "duplicated": [" ".join(row) for row in duplicates],
        "rows_without_rank_or_score": int(unranked),
    }


@warehouse_check(CONTRACT_SCORES, blocking=False)
def breach_points_priced_by_standard(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Warns of nonconformities whose breach points are not a step of their contract's
    deduction standard: their deduction counts ¥0. Does not stop the build."""
    unpriced = con.execute(
        "select n.nc_no from staging.stg_supplier_nonconformities n"
        " left join staging.stg_supplier_deduction_standards d"
        " on d.contract_id = n.contract_id and d.points = n.breach_points"
        " where n.breach_points is not null and d.amount is null order by n.nc_no limit 20"
    ).fetchall()
    return not unpriced, {"nonconformities": [no for (no,) in unpriced]}


supplier_checks: list[WarehouseCheck] = [
    contract_scores_one_row_per_contract_month,
    supplier_ranking_one_row_per_period,
    breach_points_priced_by_standard,
]
