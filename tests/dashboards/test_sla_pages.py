"""The SLA compliance and office workload pages: scope, the heat-map, drill-down and exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

SLA = "views/sla.py"
WORKLOAD = "views/workload.py"


def open_page(dashboard: MakeDashboard, username: str, page: str) -> AppTest:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    app = dash.app.switch_page(page).run()
    assert not app.exception
    return app


def heatmap(app: AppTest) -> dict[str, object]:
    [chart] = app.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    [trace] = spec["data"]
    assert trace["type"] == "heatmap"
    return dict(trace)


def test_hq_sees_every_office_and_compliance_that_differs(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "hq", SLA)
    assert app.title[0].value == "工单时效达标率"
    trace = heatmap(app)
    rows = [str(r) for r in trace["y"]]  # type: ignore[union-attr]
    assert {r[:5] for r in rows} == {"BJ001", "BJ002", "SH001", "SH002"}
    assert any("工程" in r for r in rows)
    values = {v for row in trace["z"] for v in row if v is not None}  # type: ignore[union-attr]
    assert max(values) == 100.0
    assert min(values) < 60.0  # BJ002 engineering ran late in the demo week
    # real dates on the month axis, not "2026-11" strings
    assert str(trace["x"][0]).startswith("2026-11-01")  # type: ignore[index]
    labels = [b.label for b in app.download_button]
    assert labels == ["导出 Excel", "导出 Excel"]  # the cells table and the late orders


def test_a_manager_sees_only_their_office(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "manager", SLA)
    rows = {str(r)[:5] for r in heatmap(app)["y"]}  # type: ignore[union-attr]
    assert rows == {"SH001"}
    assert list(app.selectbox(key="sla_drill_office").options) == [
        "全部",
        "SH001 上海丽都公馆管理处",
    ]


def test_drilling_into_a_cell_lists_its_late_orders(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "hq", SLA)
    app.selectbox(key="sla_drill_office").set_value("BJ002").run()
    app.selectbox(key="sla_drill_discipline").set_value("engineering").run()
    assert not app.exception
    [late] = [d.value for d in app.dataframe if "单号" in d.value.columns]
    assert set(late["管理处编码"]) == {"BJ002"}
    assert set(late["专业"]) == {"工程"}
    assert "PM-BJ002-000007" in set(late["单号"])
    assert late["超时（小时）"].iloc[0] > 40  # 2512 minutes late, most late first
    app.selectbox(key="sla_drill_office").set_value("BJ001").run()
    assert any("没有超时工单" in i.value for i in app.info)


def test_the_document_type_filter_narrows_the_heat_map(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "hq", SLA)
    before = sum(int(m.value) for m in app.metric if m.label == "超时")
    app.selectbox(key="sla_document_type").set_value("corrective_order").run()
    after = sum(int(m.value) for m in app.metric if m.label == "超时")
    assert after < before


def test_the_sla_page_speaks_english(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    dash.app.radio(key="language_switch").set_value("en").run()
    app = dash.app.switch_page(SLA).run()
    assert app.title[0].value == "SLA compliance"
    assert any("Engineering" in str(r) for r in heatmap(app)["y"])  # type: ignore[union-attr]


@pytest.mark.parametrize("username", ["sh001.tech1", "sh001.guard"])
def test_front_line_staff_have_no_analytics_pages(dashboard: MakeDashboard, username: str) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    for page in (SLA, WORKLOAD):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            dash.app.switch_page(page)


def test_the_workload_page_shows_open_work_and_plan_coverage_in_scope(
    dashboard: MakeDashboard,
) -> None:
    app = open_page(dashboard, "hq", WORKLOAD)
    [table, *_] = app.dataframe
    assert sorted(table.value["管理处编码"]) == ["BJ001", "BJ002", "SH001", "SH002"]
    assert {"未完成工单", "计划覆盖率（%）", "未建计划的设施设备"} <= set(table.value.columns)
    assert app.get("plotly_chart")
    assert app.download_button

    app = open_page(dashboard, "manager", WORKLOAD)
    assert list(app.dataframe[0].value["管理处编码"]) == ["SH001"]


def test_before_the_first_publication_the_pages_say_so(
    dashboard: MakeDashboard, tmp_path: Path
) -> None:
    dash = dashboard(warehouse_dir=tmp_path / "empty")
    dash.app.run()
    dash.log_in("hq")
    for page in (SLA, WORKLOAD):
        app = dash.app.switch_page(page).run()
        assert not app.exception
        assert "尚未发布工单时效数据" in app.info[0].value
