"""The SLA compliance and office workload pages: scope, the heat-maps city by city, the late
orders (every one of the chosen months, a page at a time) and exports."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import paging

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]
    Downloads = Callable[[AppTest, str], bytes]

SLA = "views/sla.py"
WORKLOAD = "views/workload.py"


def open_page(dashboard: MakeDashboard, username: str, page: str) -> AppTest:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    app = dash.app.switch_page(page).run()
    assert not app.exception
    return app


def heatmaps(app: AppTest) -> dict[str, dict[str, object]]:
    """The heat-maps on the page by their key: cities, offices, an office's disciplines."""
    out = {}
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        [trace] = spec["data"]
        assert trace["type"] == "heatmap"
        out[str(chart.key)] = dict(trace)
    return out


def rows(trace: dict[str, object]) -> list[str]:
    return [str(r) for r in trace["y"]]  # type: ignore[attr-defined]


def test_hq_sees_cities_first_then_one_city_then_one_office(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "hq", SLA)
    assert app.title[0].value == "工单时效达标率"
    charts = heatmaps(app)
    assert list(charts) == ["sla_heatmap_cities", "sla_heatmap_offices", "sla_heatmap"]
    assert rows(charts["sla_heatmap_cities"]) == [
        "SH 上海城市公司 · 2 个管理处",  # the worst first
        "BJ 北京城市公司 · 2 个管理处",
    ]
    assert app.selectbox(key="sla_city").value == "SH"
    assert rows(charts["sla_heatmap_offices"]) == [
        "SH002 上海锦绣家园管理处",
        "SH001 上海丽都公馆管理处",
    ]
    assert app.selectbox(key="sla_office").value == "SH002"
    # the four maintenance disciplines, and customer service's inspections (docs/inspections.md)
    assert set(rows(charts["sla_heatmap"])) == {"工程", "园艺", "秩序", "保洁", "客服"}
    # real dates on the month axis, not "2026-11" strings
    assert str(charts["sla_heatmap"]["x"][0]).startswith("2026-11-01")  # type: ignore[index]

    app.selectbox(key="sla_city").set_value("BJ").run()
    charts = heatmaps(app)
    assert rows(charts["sla_heatmap_offices"]) == [
        "BJ002 北京华庭广场管理处",
        "BJ001 北京星河湾管理处",
    ]
    values = {v for row in charts["sla_heatmap_offices"]["z"] for v in row if v is not None}  # type: ignore[attr-defined]
    assert min(values) < 85.0 < max(values)  # BJ002 ran late in the demo week
    app.selectbox(key="sla_office").set_value("BJ002").run()
    engineering = dict(
        zip(rows(heatmaps(app)["sla_heatmap"]), heatmaps(app)["sla_heatmap"]["z"], strict=True)
    )  # type: ignore[call-overload]
    assert engineering["工程"][0] < 60.0
    labels = [b.label for b in app.download_button]
    assert labels == ["导出 Excel"] * 4  # cities, offices, disciplines and the late orders


def test_a_city_user_starts_at_their_city_companys_offices(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "city.audit", SLA)
    charts = heatmaps(app)
    assert list(charts) == ["sla_heatmap_offices", "sla_heatmap"]
    assert {r[:5] for r in rows(charts["sla_heatmap_offices"])} == {"SH001", "SH002"}


def test_a_manager_sees_only_their_office(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "manager", SLA)
    charts = heatmaps(app)
    assert list(charts) == ["sla_heatmap"]
    assert app.get("plotly_chart")[0].proto.spec.count("SH001") >= 1
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
    # BJ001's engineers finished their orders in time; only a nonconformity notice is late
    app.selectbox(key="sla_drill_office").set_value("BJ001").run()
    [late] = [d.value for d in app.dataframe if "单号" in d.value.columns]
    assert set(late["单据类型"]) == {"不合格提示单"}
    app.selectbox(key="sla_drill_office").set_value("SH001").run()
    app.selectbox(key="sla_drill_discipline").set_value("landscaping").run()
    assert any("没有超时工单" in i.value for i in app.info)


def breached(app: AppTest) -> int:
    [metric] = [m for m in app.metric if m.label == "超时"]
    return int(metric.value)


def late_count(app: AppTest) -> int:
    [caption] = [c.value for c in app.caption if "张超时工单" in c.value]
    return int(caption.split()[1])


@pytest.mark.parametrize("document_type", ["", "corrective_order"])
def test_the_late_list_holds_every_breached_clock_of_the_chosen_months(
    dashboard: MakeDashboard, downloads: Downloads, document_type: str
) -> None:
    app = open_page(dashboard, "hq", SLA)
    app.selectbox(key="sla_document_type").set_value(document_type).run()
    assert late_count(app) == breached(app) > 0
    [late] = [d.value for d in app.dataframe if "单号" in d.value.columns]
    assert len(late) == breached(app)
    export = pl.read_excel(io.BytesIO(downloads(app, "sla_late_excel")))
    assert sorted(export["单号"]) == sorted(late["单号"])


def test_a_long_late_list_is_paged_and_exported_whole(
    dashboard: MakeDashboard, downloads: Downloads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "LATE_ORDERS", 4)
    app = open_page(dashboard, "hq", SLA)
    total = breached(app)
    assert total == 16  # the demo week: orders, inspections and the nonconformities they opened
    assert late_count(app) == total
    assert "第 1–4 行，共 16 行。" in [c.value for c in app.caption]
    pages = [next(d.value for d in app.dataframe if "单号" in d.value.columns)]
    for page, caption in (
        (2, "第 5–8 行，共 16 行。"),
        (3, "第 9–12 行，共 16 行。"),
        (4, "第 13–16 行，共 16 行。"),
    ):
        app.number_input(key="sla_late_page").set_value(page).run()
        assert caption in [c.value for c in app.caption]
        pages += [d.value for d in app.dataframe if "单号" in d.value.columns]
    assert [len(p) for p in pages] == [4, 4, 4, 4]
    shown = [n for p in pages for n in p["单号"]]
    assert len(set(shown)) == total
    export = pl.read_excel(io.BytesIO(downloads(app, "sla_late_excel")))
    assert export["单号"].to_list() == shown  # every late order, most late first
    assert export["超时（小时）"].dtype == pl.Float64


def test_the_document_type_filter_narrows_the_heat_map(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "hq", SLA)
    before = breached(app)
    app.selectbox(key="sla_document_type").set_value("corrective_order").run()
    assert 0 < breached(app) < before


def test_the_sla_page_speaks_english(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    dash.app.radio(key="language_switch").set_value("en").run()
    app = dash.app.switch_page(SLA).run()
    assert app.title[0].value == "SLA compliance"
    assert "Engineering" in rows(heatmaps(app)["sla_heatmap"])


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
