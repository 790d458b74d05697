"""The HQ overview page: the published tree, limited to the user's scope."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.navigation import HERE
from operational.auth import Grant, Principal
from operational.models import Role, ScopeLevel
from warehouse.publish import Warehouse

if TYPE_CHECKING:
    from conftest import Dashboard, Site

    MakeDashboard = Callable[..., Dashboard]


def office_codes(dash: Dashboard) -> list[str]:
    [table] = dash.app.dataframe
    return table.value["管理处编码"].tolist()


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("hq", ["BJ001", "BJ002", "SH001", "SH002"]),
        ("audit", ["BJ001", "BJ002", "SH001", "SH002"]),
        ("city.audit", ["SH001", "SH002"]),
        ("manager", ["SH001"]),
        ("engineer", ["SH001"]),
    ],
)
def test_each_user_sees_the_offices_of_their_scope(
    dashboard: MakeDashboard, username: str, expected: list[str]
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    assert not dash.app.exception
    assert office_codes(dash) == expected
    cities, offices = dash.app.metric
    assert (cities.label, cities.value) == ("城市公司", str(len({c[:2] for c in expected})))
    assert (offices.label, offices.value) == ("管理处", str(len(expected)))


def test_the_overview_shows_the_tree_the_chart_the_publication_and_an_export(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    [table] = dash.app.dataframe
    assert list(table.value.columns) == [
        "集团",
        "城市公司编码",
        "城市公司",
        "管理处编码",
        "管理处",
        "时区",
    ]
    assert set(table.value["集团"]) == {"一应物业集团"}
    # built from the pipeline run of the fixture, as_of 01:30 UTC = 09:30 in Shanghai
    assert "数据截至 2026-11-20 09:30" in dash.app.main.caption[0].value
    assert "Asia/Shanghai" in dash.app.main.caption[0].value
    assert dash.app.get("plotly_chart")
    [download] = dash.app.download_button
    assert download.label == "导出 Excel"


def test_the_overview_speaks_english(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("manager")
    dash.app.radio(key="language_switch").set_value("en").run()
    assert dash.app.title[0].value == "HQ overview"
    assert dash.app.main.caption[0].value.startswith("Data as of 2026-11-20 09:30")
    assert "Office code" in dash.app.dataframe[0].value.columns
    assert dash.app.download_button[0].label == "Download Excel"


def test_before_the_first_publication_the_page_explains_what_to_do(
    dashboard: MakeDashboard, tmp_path: Path
) -> None:
    dash = dashboard(warehouse_dir=tmp_path / "empty-warehouse")
    dash.app.run()
    dash.log_in("hq")
    assert not dash.app.exception
    assert "尚未发布任何数据" in dash.app.info[0].value
    assert not dash.app.dataframe


def test_the_overview_keeps_working_while_the_next_version_is_built(
    dashboard: MakeDashboard, demo_site: Site, tmp_path: Path
) -> None:
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(demo_site.warehouse_dir, warehouse_dir)
    building = Warehouse(warehouse_dir).begin_build("next")
    with duckdb.connect(str(building)) as writer:  # a pipeline run holds the next version open
        writer.execute("create schema marts")
        writer.execute("create table marts.dim_office as select 'half-built' as office_code")
        dash = dashboard(warehouse_dir=warehouse_dir)
        dash.app.run()
        dash.log_in("hq")
        assert not dash.app.exception
        assert office_codes(dash) == ["BJ001", "BJ002", "SH001", "SH002"]


def test_the_page_checks_the_permission_itself(dashboard: MakeDashboard) -> None:
    """Defence in depth: even run directly, the page shows nothing to a user without the right."""
    dashboard()  # the environment
    page = AppTest.from_file(str(HERE / "views" / "overview.py"), default_timeout=30)
    technician = Principal(
        99,
        "tech",
        "技工",
        "zh_CN",
        (Grant(Role.TECHNICIAN, ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),),
    )
    page.session_state["principal"] = technician
    page.run()
    assert [e.value for e in page.error] == ["您的角色无权执行此操作。"]
    assert not page.dataframe
