"""The supplier reads (``SupplierReader``) on the demo's published warehouse: over every office
the ranking is exactly ``marts.supplier_ranking``; a city company's user gets the ranking of the
contracts of its offices only, by the same rule (checked against the Python rule,
``operational.suppliers``), which differs from the group's."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from operational.suppliers import ContractMonth, mean, supplier_ranking
from warehouse.publish import Warehouse
from warehouse.queries_suppliers import RANKING_SCHEMA, SupplierReader
from warehouse.scope import OfficeScope

if TYPE_CHECKING:
    from conftest import Site

CITY = frozenset({"SH001", "SH002"})


def _mart(site: Site, sql: str) -> pl.DataFrame:
    path = Warehouse(site.warehouse_dir).current_path()
    assert path is not None
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl()


def _ordered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(["period_type", "period", "discipline", "rank", "supplier_code"])


@pytest.mark.parametrize("period_type", ["month", "year"])
def test_over_every_office_the_ranking_is_the_mart(demo_site: Site, period_type: str) -> None:
    reader = SupplierReader(demo_site.warehouse_dir, OfficeScope.of(None))
    mine = reader.ranking(period_type=period_type)
    mart = _mart(
        demo_site,
        f"select * from marts.supplier_ranking where period_type = '{period_type}'",
    ).cast(dict(RANKING_SCHEMA))
    assert mine.height > 4
    assert _ordered(mine).equals(_ordered(mart.select(mine.columns)))


def test_a_city_ranks_the_contracts_of_its_offices_only(demo_site: Site) -> None:
    city = SupplierReader(demo_site.warehouse_dir, OfficeScope.of(CITY))
    group = SupplierReader(demo_site.warehouse_dir, OfficeScope.of(None))
    months = city.contract_months()
    assert set(months["office_code"]) == CITY
    expected = supplier_ranking(
        ContractMonth(
            r["contract_no"],
            r["supplier_code"],
            r["office_code"],
            r["discipline"],
            r["month"],
            r["nonconformities"],
            r["breach_points"],
            r["deduction_amount"],
            r["manual_points"],
            r["score"],
        )
        for r in months.iter_rows(named=True)
    )
    for period_type in ("month", "year"):
        got = city.ranking(period_type=period_type)
        want = {
            (r.period, r.discipline, r.supplier_code): (
                r.contracts,
                r.score,
                r.deduction_amount,
                r.rank,
            )
            for r in expected
            if r.period_type == period_type
        }
        assert {
            (r["period"], r["discipline"], r["supplier_code"]): (
                r["contracts"],
                r["score"],
                r["deduction_amount"],
                r["rank"],
            )
            for r in got.iter_rows(named=True)
        } == want
    # the city's view is not the group's: fewer contracts behind the same suppliers
    city_year = city.ranking(period_type="year")
    group_year = group.ranking(period_type="year")
    assert city_year["contracts"].sum() < group_year["contracts"].sum()


def test_one_period_and_discipline_and_a_suppliers_months(demo_site: Site) -> None:
    reader = SupplierReader(demo_site.warehouse_dir, OfficeScope.of(CITY))
    periods = reader.periods()
    latest: date = periods["month"].max()  # type: ignore[assignment]
    one = reader.ranking(period_type="month", period=f"{latest:%Y-%m}", discipline="cleaning")
    assert set(one["period"]) == {f"{latest:%Y-%m}"} and set(one["discipline"]) == {"cleaning"}
    assert one["rank"].to_list() == sorted(one["rank"].to_list()) and one["rank"][0] == 1
    supplier = one["supplier_code"][0]
    months = reader.contract_months(
        supplier_code=supplier, discipline="cleaning", start=latest, end=latest
    )
    assert set(months["supplier_code"]) == {supplier} and set(months["month"]) == {latest}
    assert months["score"].dtype == pl.Decimal(18, 2)
    # its month score is the mean of its contracts' scores that month
    assert mean(months["score"].to_list()) == one["score"][0]
    assert months["deduction_amount"].sum() == one["deduction_amount"][0]
