"""The quality review page (docs/dashboards.md, "Quality review") on the demo site: internal
audit of the group sees every office, a city company's audit manager only the city's; the
filters narrow the tables; the totals agree with the warehouse reader; every table exports."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from warehouse.queries_quality import QualityReader
from warehouse.scope import OfficeScope

if TYPE_CHECKING:
    from conftest import Dashboard, Site

    MakeDashboard = Callable[..., Dashboard]
    Downloads = Callable[[AppTest, str], bytes]

OFFICE_CODE = re.compile(r"\b[A-Z]{2}\d{3}\b")
PAGE = "views/quality_review.py"


def open_review(dashboard: MakeDashboard, username: str, **query: str) -> AppTest:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    app = dash.app
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def offices_in_tables(app: AppTest) -> set[str]:
    found: set[str] = set()
    for table in app.dataframe:
        found |= set(OFFICE_CODE.findall(table.value.to_csv()))
    for box in app.selectbox:
        found |= set(OFFICE_CODE.findall(" ".join(map(str, box.options))))
    return found


@pytest.mark.parametrize(
    ("username", "offices"),
    [
        ("audit", {"BJ001", "BJ002", "SH001", "SH002"}),
        ("city.audit", {"SH001", "SH002"}),
        ("manager", {"SH001"}),
    ],
)
def test_each_auditor_reviews_only_their_offices(
    dashboard: MakeDashboard, username: str, offices: set[str]
) -> None:
    app = open_review(dashboard, username)
    assert app.title[0].value == "品质审核"
    assert offices_in_tables(app) == offices
    by_office = app.dataframe[1].value
    assert set(by_office["管理处编码"]) == offices


def test_the_totals_agree_with_the_reader(dashboard: MakeDashboard, demo_site: Site) -> None:
    """The city audit manager's figures are the city's sums, recomputed from the counts."""
    app = open_review(dashboard, "city.audit")
    reader = QualityReader(demo_site.warehouse_dir, OfficeScope.of({"SH001", "SH002"}))
    months = sorted(set(reader.months()["month"].to_list()))
    [total] = reader.review(by=(), start=months[max(0, len(months) - 12)]).to_dicts()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["不合格项"] == f"{total['items_failed']:,}"
    assert metrics["开立不合格"] == f"{total['nonconformities_opened']:,}"
    assert metrics["检查得分"] == f"{total['inspection_score']:,.1f}"
    by_office = reader.review(by=("office",), start=months[max(0, len(months) - 12)])
    assert sum(by_office["items_failed"]) == total["items_failed"]
    scored = sum(by_office["items_scored"])
    assert total["items_scored"] == scored > 0


def test_filters_and_the_tower_link_narrow_the_review(dashboard: MakeDashboard) -> None:
    app = open_review(dashboard, "audit", office="SH002")  # the control tower's link
    assert app.selectbox(key="quality_office").value == "SH002"
    assert set(app.dataframe[1].value["管理处编码"]) == {"SH002"}
    app.selectbox(key="quality_office").set_value("").run()
    app.selectbox(key="quality_city").set_value("BJ").run()
    assert set(app.dataframe[1].value["管理处编码"]) == {"BJ001", "BJ002"}
    app.selectbox(key="quality_city").set_value("").run()
    app.selectbox(key="quality_kind").set_value("quality").run()
    kinds = app.dataframe[2].value["类别"].to_list()
    assert kinds and set(kinds) == {"品质检验"}


def test_a_foreign_office_in_the_link_is_not_offered(dashboard: MakeDashboard) -> None:
    app = open_review(dashboard, "city.audit", office="BJ001")
    assert "BJ001" not in offices_in_tables(app)


def test_every_table_exports(dashboard: MakeDashboard, downloads: Downloads) -> None:
    app = open_review(dashboard, "audit")
    for key, table in (
        ("quality_months_excel", 0),
        ("quality_offices_excel", 1),
        ("quality_disciplines_excel", 2),
    ):
        workbook = pl.read_excel(io.BytesIO(downloads(app, key)))
        assert workbook.columns == app.dataframe[table].value.columns.tolist()
        assert workbook.height == len(app.dataframe[table].value)


ITEM = "检查项目"
FAILURES = "不合格次数"


def test_the_items_that_fail_most_are_listed_within_the_scope(
    dashboard: MakeDashboard, demo_site: Site, downloads: Downloads
) -> None:
    """Internal audit sees which inspection items fail most: item, discipline, office,
    failures, inspections and failure rate, most failures first, only of the offices in scope
    and of the chosen filters, and exports them."""
    app = open_review(dashboard, "city.audit")
    assert [s.value for s in app.subheader][-1] == "最常不合格的检查项目"
    table = app.dataframe[3].value
    assert list(table.columns) == [
        ITEM,
        "专业",
        "管理处编码",
        "管理处",
        FAILURES,
        "检查次数",
        "不合格率（%）",
    ]
    assert len(table) > 0 and set(table["管理处编码"]) <= {"SH001", "SH002"}
    assert list(table[FAILURES]) == sorted(table[FAILURES], reverse=True)
    assert (table[FAILURES] > 0).all() and (table[FAILURES] <= table["检查次数"]).all()
    reader = QualityReader(demo_site.warehouse_dir, OfficeScope.of({"SH001", "SH002"}))
    months = sorted(set(reader.months()["month"].to_list()))
    start = months[max(0, len(months) - 12)]
    expected = reader.failed_items(start=start, limit=1000)
    assert sum(table[FAILURES]) == sum(expected["items_failed"])
    # the city's failures are the review's failed items of the same selection
    [total] = reader.review(by=(), start=start).to_dicts()
    assert sum(expected["items_failed"]) == total["items_failed"]
    workbook = pl.read_excel(io.BytesIO(downloads(app, "quality_items_excel")))
    assert workbook.columns == table.columns.tolist()
    assert workbook.height == reader.failed_items_count(start=start) == len(table)
    # one office: only its items
    app.selectbox(key="quality_office").set_value("SH002").run()
    assert reader.failed_items(start=start, limit=1, offset=1).rows() == expected[1:2].rows()
    # one office: only its items
    app.selectbox(key="quality_office").set_value("SH002").run()
    if len(app.dataframe) > 3:
        assert set(app.dataframe[3].value["管理处编码"]) == {"SH002"}
    else:
        assert "所选范围内没有不合格的检查项目。" in [i.value for i in app.info]
