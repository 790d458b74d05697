"""The control tower page: each user's scope and its totals, what needs attention, the drill
from group to city to office to the pages behind a figure, paging, exports, both languages."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import paging
from dashboards.navigation import HERE
from dashboards.tower_data import Drill, drills
from operational.auth import Grant, Principal
from operational.models import Role, ScopeLevel
from warehouse.publish import Warehouse
from warehouse.queries_tower import TowerReader
from warehouse.scope import OfficeScope

if TYPE_CHECKING:
    from conftest import Dashboard, Site

    MakeDashboard = Callable[..., Dashboard]
    Downloads = Callable[[AppTest, str], bytes]

EVERY_OFFICE = {"BJ001", "BJ002", "SH001", "SH002"}
OFFICE_CODE = re.compile(r"\b[A-Z]{2}\d{3}\b")


def open_tower(dashboard: MakeDashboard, username: str, warehouse: Path | None = None) -> AppTest:
    """Log in: the control tower is the first page of everyone who may see it."""
    dash = dashboard(warehouse_dir=warehouse)
    dash.app.run()
    dash.log_in(username)
    assert not dash.app.exception
    return dash.app


def offices_shown(app: AppTest) -> set[str]:
    """Every office code anywhere on the page: lines, tables, choices, links."""
    found: list[str] = []
    for element in (*app.text, *app.caption, *app.subheader, *app.metric):
        found += OFFICE_CODE.findall(str(element.value))
    for table in app.dataframe:
        found += OFFICE_CODE.findall(table.value.to_csv())
    for box in app.selectbox:
        found += OFFICE_CODE.findall(" ".join(map(str, box.options)))
    for link in app.get("page_link"):
        found += OFFICE_CODE.findall(link.proto.query_string)
    return set(found)


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


@pytest.mark.parametrize(
    ("username", "headline", "offices"),
    [
        ("hq", "一应物业集团", EVERY_OFFICE),
        ("audit", "一应物业集团", EVERY_OFFICE),
        ("city.audit", "上海城市公司", {"SH001", "SH002"}),
        ("manager", "SH001 上海丽都公馆管理处", {"SH001"}),
        ("engineer", "SH001 上海丽都公馆管理处", {"SH001"}),
    ],
)
def test_each_user_sees_only_their_scope(
    dashboard: MakeDashboard, username: str, headline: str, offices: set[str]
) -> None:
    app = open_tower(dashboard, username)
    assert app.title[0].value == "运营驾驶舱"
    assert app.subheader[0].value == "今日概况"
    assert app.text[0].value == headline  # whose figures the metrics are
    assert offices_shown(app) == offices


def test_the_city_user_sees_the_city_total_not_the_groups(
    dashboard: MakeDashboard, demo_site: Site
) -> None:
    everything = TowerReader(demo_site.warehouse_dir, OfficeScope.everything()).totals()

    def total(level: str, indicator: str) -> int:
        [value] = everything.filter(
            (pl.col("level") == level) & (pl.col("indicator") == indicator)
        )["value"].to_list()[:1]
        return int(value)

    sh_open = everything.filter(
        (pl.col("node_code") == "SH") & (pl.col("indicator") == "open_orders")
    )["value"][0]
    assert sh_open != total("group", "open_orders")  # so the figures below tell them apart

    city = metrics(open_tower(dashboard, "city.audit"))
    assert city["未完成工单"] == f"{sh_open:,.0f}"
    group = metrics(open_tower(dashboard, "hq"))
    assert group["未完成工单"] == f"{total('group', 'open_orders'):,}"
    assert {
        "工单时效达标率",
        "超期工单",
        "计划覆盖率",
        "用电 (kWh)",
        "用水 (m³)",
        "能耗异常",
    } <= set(city)


def test_what_needs_attention_is_ranked_with_a_reason_on_each_line(
    dashboard: MakeDashboard,
) -> None:
    app = open_tower(dashboard, "hq")
    texts = [t.value for t in app.text][1:]  # after the headline's name
    # the demo week: BJ002 and SH002 finished clocks late, below 90 % this month
    compliance = [t for t in texts if "达标率" in t]
    assert compliance[:2] == [
        "2026-11 达标率 82.4 %（已完成计时 17 个）",
        "2026-11 达标率 83.3 %（已完成计时 18 个）",
    ]
    # the worst first: the demo week's quality alerts (SH001's nonconformities closed late, BJ002's
    # inspections scored below 70 % — customer service's failed items among them), then watches
    assert texts[:4] == [
        "SH001 上海丽都公馆管理处",
        "2026-11 不合格按时关闭率 0.0 %（已结束时钟 3 个）",
        "BJ002 北京华庭广场管理处",
        "2026-11 检查得分 67.0 %（已执行检查 3 次，本月进行中）",
    ]
    assert any(t.startswith("能耗异常 1 条待跟进") for t in texts)
    badges = [m.value for m in app.markdown if "-badge[" in m.value]
    assert badges[:14] == [":red-badge[告警]"] * 2 + [":orange-badge[关注]"] * 12
    [count] = [c.value for c in app.caption if "需要关注" in c.value]
    assert count.startswith("共 14 条需要关注。")


def test_the_drill_goes_from_cities_to_offices_to_one_office(dashboard: MakeDashboard) -> None:
    app = open_tower(dashboard, "hq")
    cities, offices = app.dataframe[0].value, app.dataframe[1].value
    assert sorted(cities["编码"]) == ["BJ", "SH"]
    assert sorted(offices["编码"]) == ["SH001", "SH002"]
    assert {"工单时效达标率 (%)", "超期工单 (张)", "计划覆盖率 (%)", "用电 (kWh)"} <= set(
        cities.columns
    )
    city = app.selectbox(key="tower_city")
    assert city.value == cities["编码"][0]  # the worst city company is open first
    city.set_value("BJ").run()
    assert sorted(app.dataframe[1].value["编码"]) == ["BJ001", "BJ002"]
    office = app.selectbox(key="tower_office")
    assert office.options == ["BJ002 北京华庭广场管理处", "BJ001 北京星河湾管理处"]
    office.set_value("BJ001").run()
    assert app.subheader[-1].value == "BJ001：全部指标"
    lines = [t.value for t in app.text]
    assert "未完成工单 7 张" in lines  # two of them dispatched to its supplier users
    assert any(t.startswith("计划覆盖率 100.0 %") for t in lines)


def test_figures_link_to_the_orders_and_the_energy_behind_them(
    dashboard: MakeDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The orders list (another page, at its own address) opens on the orders a figure counts;
    the energy page on the office."""
    app = open_tower(dashboard, "hq")
    links = {(link.proto.page, link.proto.query_string) for link in app.get("page_link")}
    assert ("order_list", "office=BJ002&month=2026-11&late=1") in links
    assert ("energy", "office=SH001") in links
    app.selectbox(key="tower_city").set_value("SH").run()
    app.selectbox(key="tower_office").set_value("SH002").run()
    links = {(link.proto.page, link.proto.query_string) for link in app.get("page_link")}
    assert {
        ("order_list", "office=SH002&state=unfinished"),
        ("order_list", "office=SH002&state=unfinished&late=1"),
    } <= links


def test_drills_of_every_kind_of_figure() -> None:
    def row(indicator: str, level: str = "office") -> dict[str, object]:
        from datetime import date

        return {
            "level": level,
            "office_code": "SH001" if level != "city" else None,
            "indicator": indicator,
            "period": date(2026, 11, 1),
        }

    assert drills(row("sla_compliance")) == [
        Drill(
            "tower.link.late_orders",
            "order_list",
            {"office": "SH001", "month": "2026-11", "late": "1"},
        )
    ]
    assert drills(row("overdue_orders")) == [
        Drill(
            "tower.link.overdue_orders",
            "order_list",
            {"office": "SH001", "state": "unfinished", "late": "1"},
        )
    ]
    assert drills(row("energy_loss", "point")) == [
        Drill("tower.link.energy", "energy", {"office": "SH001"})
    ]
    assert drills(row("supplier_score")) == [
        Drill("tower.link.suppliers", "suppliers", {"month": "2026-11"})
    ]
    assert drills(row("sla_compliance", "city")) == []  # a city drills into its offices
    assert drills(row("owner_complaints")) == []  # a new indicator: no page behind it yet


def attention_lines(app: AppTest, shown: int) -> list[tuple[str, str]]:
    """(place, reason) of the attention lines on the page: the first texts, in pairs."""
    texts = [t.value for t in app.text][1 : 1 + 2 * shown]  # after the headline's name
    return list(zip(texts[::2], texts[1::2], strict=True))


def test_long_lists_are_paged_and_say_which_rows_they_show(
    dashboard: MakeDashboard, monkeypatch: pytest.MonkeyPatch, downloads: Downloads
) -> None:
    monkeypatch.setattr(paging, "ATTENTION_LINES", 4)
    monkeypatch.setattr(paging, "NODES", 1)
    app = open_tower(dashboard, "hq")
    captions = [c.value for c in app.caption]
    assert "第 1–4 行，共 14 行。" in captions
    seen = attention_lines(app, 4)
    for page, caption, lines in (
        (2, "第 5–8 行，共 14 行。", 4),
        (3, "第 9–12 行，共 14 行。", 4),
        (4, "第 13–14 行，共 14 行。", 2),
    ):
        app.number_input(key="tower_attention_page").set_value(page).run()
        assert caption in [c.value for c in app.caption]
        seen += attention_lines(app, lines)
    export = pl.read_excel(io.BytesIO(downloads(app, "tower_attention_excel")))
    assert export.height == 14  # every line, not the page shown
    assert sorted(reason for _, reason in seen) == sorted(export["原因"].to_list())
    assert len(set(seen)) == 14

    # a page of one city company, then of one office; the exports hold them all
    cities, offices = app.dataframe[0].value, app.dataframe[1].value
    assert (len(cities), len(offices)) == (1, 1)
    assert captions.count("第 1–1 行，共 2 行。") == 2
    first = offices["编码"][0]
    app.number_input(key="tower_offices_page").set_value(2).run()
    second = app.dataframe[1].value["编码"][0]
    assert {first, second} == {"SH001", "SH002"}
    export = pl.read_excel(io.BytesIO(downloads(app, "tower_offices_excel")))
    assert sorted(export["编码"]) == ["SH001", "SH002"]


def test_the_tower_speaks_english(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("city.audit")
    dash.app.radio(key="language_switch").set_value("en").run()
    app = dash.app
    assert app.title[0].value == "Control tower"
    assert (app.subheader[0].value, app.text[0].value) == ("Today", "上海城市公司")
    assert "Overdue orders" in metrics(app)
    assert any(t.value.startswith("Compliance 83.3 % in 2026-11") for t in app.text)
    assert any("month in progress" in c.value for c in app.caption)


def test_before_the_first_publication_the_page_explains_what_to_do(
    dashboard: MakeDashboard, tmp_path: Path
) -> None:
    app = open_tower(dashboard, "hq", tmp_path / "empty-warehouse")
    assert "尚未发布任何数据" in app.info[0].value
    assert not app.dataframe


def test_the_tower_keeps_working_while_the_next_version_is_built(
    dashboard: MakeDashboard, demo_site: Site, tmp_path: Path
) -> None:
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(demo_site.warehouse_dir, warehouse_dir)
    building = Warehouse(warehouse_dir).begin_build("next")
    with duckdb.connect(str(building)) as writer:  # a pipeline run holds the next version open
        writer.execute("create schema marts")
        writer.execute("create table marts.control_tower as select 'half-built' as level")
        app = open_tower(dashboard, "hq", warehouse_dir)
        assert offices_shown(app) == EVERY_OFFICE


def test_the_page_checks_the_permission_itself(dashboard: MakeDashboard) -> None:
    """Defence in depth: even run directly, the page shows nothing to a user without the right."""
    dashboard()  # the environment
    page = AppTest.from_file(str(HERE / "views" / "tower.py"), default_timeout=30)
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
