"""The complaint escalation board and the ticket clocks: the reader on a warehouse built from
tickets worked live (``ticket_site``: conftest), and the pages — what each user sees, the
filters, the address's filters, the drill into a complaint's timeline, the export, the SLA
page's day/night split and the control tower's owner-service figures and links."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from warehouse.queries_tickets import TicketReader
from warehouse.scope import OfficeScope

if TYPE_CHECKING:
    from conftest import Dashboard, Site

    MakeDashboard = Callable[..., Dashboard]
    Downloads = Callable[[AppTest, str], bytes]

BOARD = "views/escalations.py"
SLA = "views/sla.py"
NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)
OFFICE_CODE = re.compile(r"\b[A-Z]{2}\d{3}\b")


def reader(site: Site, offices: set[str] | None = None) -> TicketReader:
    return TicketReader(site.warehouse_dir, OfficeScope.of(offices))


def open_board(dashboard: MakeDashboard, site: Site, username: str, **params: str) -> AppTest:
    dash = dashboard(warehouse_dir=site.warehouse_dir)
    dash.app.run()
    dash.log_in(username)
    app = dash.app.switch_page(BOARD)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def complaints(app: AppTest) -> pl.DataFrame:
    """The open-complaints table (the one whose first column is the ticket's link)."""
    [table] = [t.value for t in app.dataframe if "工单号" in t.value.columns]
    return pl.from_pandas(table)


def ticket_numbers(app: AppTest) -> list[str]:
    return [link.rsplit("=", 1)[1] for link in complaints(app)["工单号"].to_list()]


def offices_on(app: AppTest) -> set[str]:
    found: list[str] = []
    for table in app.dataframe:
        found += OFFICE_CODE.findall(table.value.to_csv())
    for box in app.selectbox:
        found += OFFICE_CODE.findall(" ".join(map(str, box.options)))
    return set(found)


# ---------------------------------------------------------------- the reader on built marts


def test_open_complaints_with_their_level_holder_and_age(ticket_site: Site) -> None:
    found = reader(ticket_site).open_complaints()
    by_office = {
        r["office_code"]: (r["escalation_level"], r["holder_role"], r["age_bucket"], r["state"])
        for r in found.iter_rows(named=True)
    }
    # SH002's complaint escalated in October but was closed: not on the board
    assert found.height == 3 and "SH002" not in by_office
    assert found["office_code"].to_list() == ["SH001", "BJ001", "SH001"]  # longest open first
    assert by_office["BJ001"] == (1, "city_audit_manager", "d3_5", "in_progress")
    assert sorted(
        (r["escalation_level"], r["holder_role"], r["age_bucket"])
        for r in found.filter(pl.col("office_code") == "SH001").iter_rows(named=True)
    ) == [(0, "office_manager", "under_1d"), (2, "group_audit_manager", "d5_10")]


def test_filters_and_counts_agree(ticket_site: Site) -> None:
    everything = reader(ticket_site)
    assert everything.open_complaints_count() == 3
    assert everything.open_complaints_count(city_code="BJ") == 1
    assert everything.open_complaints_count(office_code="SH001") == 2
    assert everything.open_complaints_count(escalation_level=2) == 1
    assert everything.open_complaints_count(first_month=OCT, last_month=OCT) == 0
    page = everything.open_complaints(limit=1, offset=1)
    assert page["office_code"].to_list() == ["BJ001"]
    summary = everything.open_complaints_summary(city_code="SH")
    assert sorted(summary.select("escalation_level", "complaints").rows()) == [(0, 1), (2, 1)]


def test_the_escalation_trend_by_month_office_and_level(ticket_site: Site) -> None:
    trend = reader(ticket_site).escalation_trend()
    assert sorted(trend.select("month", "office_code", "level", "escalations").rows()) == [
        (OCT, "SH002", 1, 1),  # unsatisfied visit, then closed
        (NOV, "BJ001", 1, 1),
        (NOV, "SH001", 1, 1),  # the 48-hour breach
        (NOV, "SH001", 2, 1),  # and the escalated clock's
    ]
    assert reader(ticket_site).escalation_months() == [OCT, NOV]
    only_level2 = reader(ticket_site).escalation_trend(escalation_level=2)
    assert only_level2["office_code"].to_list() == ["SH001"]


def test_a_city_scope_reads_its_offices_only(ticket_site: Site) -> None:
    city = reader(ticket_site, {"SH001", "SH002"})
    assert set(city.open_complaints()["office_code"]) == {"SH001"}
    assert set(city.escalation_trend()["office_code"]) == {"SH001", "SH002"}
    assert set(city.ticket_compliance()["office_code"]) <= {"SH001", "SH002"}
    # a filter naming another office finds nothing rather than that office
    assert city.open_complaints(office_code="BJ001").is_empty()
    assert city.open_complaints_count(city_code="BJ") == 0


def test_ticket_clocks_by_day_and_night(ticket_site: Site) -> None:
    clocks = reader(ticket_site).ticket_compliance()
    night = clocks.filter(pl.col("night_service"))
    # BJ001's complaint came at 23:00, BJ002's repair at midnight: night service
    assert set(night["office_code"]) == {"BJ001", "BJ002"}
    repair = clocks.filter((pl.col("office_code") == "BJ002") & (pl.col("clock") == "resolution"))
    assert repair.select("type", "night_service", "met", "breached").rows() == [
        ("repair", True, 1, 0)  # resolved in 10 hours of its 72
    ]
    # the SLA page's cells: the same clocks summed over the offices per clock, month, shift
    cells = reader(ticket_site).ticket_compliance_cells()
    summed = (
        clocks.group_by("clock", "month", "night_service")
        .agg(pl.col("total", "met", "breached", "pending").sum())
        .sort("clock", "month", "night_service")
    )
    assert cells.select(summed.columns).rows() == summed.rows()
    sh001 = reader(ticket_site).ticket_compliance(office_code="SH001", clock="resolution")
    assert sh001.select("met", "breached", "pending").sum().rows() == [(0, 1, 1)]


# ---------------------------------------------------------------- the board page


def test_hq_sees_every_open_complaint_by_level(dashboard: MakeDashboard, ticket_site: Site) -> None:
    app = open_board(dashboard, ticket_site, "hq")
    assert app.title[0].value == "投诉升级看板"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["未结投诉"] == "3"
    assert (metrics["0 级（管理处）"], metrics["1 级（城市公司内审）"]) == ("1", "1")
    assert metrics["2 级（集团内审）"] == "1"
    [summary] = [t.value for t in app.dataframe if "当前处理人" in t.value.columns[:2]]
    assert summary["当前处理人"].tolist() == ["管理处经理", "城市公司内审经理", "集团内审经理"]
    assert summary["5–10 天"].tolist() == [0, 0, 1]
    assert summary["合计"].tolist() == [1, 1, 1]
    assert offices_on(app) >= {"SH001", "BJ001", "BJ002"}


def test_the_filters_narrow_the_board(dashboard: MakeDashboard, ticket_site: Site) -> None:
    app = open_board(dashboard, ticket_site, "audit")
    app.selectbox(key="esc_city").set_value("BJ").run()
    assert app.selectbox(key="esc_office").options == [
        "全部",
        "BJ001 北京星河湾管理处",
        "BJ002 北京华庭广场管理处",
    ]
    assert set(complaints(app)["管理处"]) == {"BJ001 北京星河湾管理处"}
    app.selectbox(key="esc_city").set_value("").run()
    app.selectbox(key="esc_level").set_value(2).run()
    table = complaints(app)
    assert table["级别"].to_list() == ["2 级（集团内审）"]
    assert table["当前处理人"].to_list() == ["集团内审经理"]
    app.selectbox(key="esc_level").set_value(None).run()
    app.selectbox(key="esc_month").set_value(OCT).run()
    assert "没有符合筛选条件的未结投诉。" in [i.value for i in app.info]


def test_the_city_auditor_sees_only_the_city(dashboard: MakeDashboard, ticket_site: Site) -> None:
    app = open_board(dashboard, ticket_site, "city.audit")
    assert offices_on(app) == {"SH001", "SH002"}
    assert app.selectbox(key="esc_city").options == ["全部", "SH 上海城市公司"]
    assert {m.label: m.value for m in app.metric}["未结投诉"] == "2"
    # an address naming a Beijing office shows nothing of it, and says so; its level still
    # applies (no complaint of the city is at level 1)
    app = open_board(dashboard, ticket_site, "city.audit", office="BJ001", level="1")
    assert offices_on(app) == {"SH001", "SH002"}
    assert "BJ001" in app.info[0].value
    assert (app.selectbox(key="esc_office").value, app.selectbox(key="esc_level").value) == ("", 1)
    assert "没有符合筛选条件的未结投诉。" in [i.value for i in app.info]


def test_the_office_manager_sees_his_office(dashboard: MakeDashboard, ticket_site: Site) -> None:
    app = open_board(dashboard, ticket_site, "manager")
    assert offices_on(app) == {"SH001"}
    assert len(ticket_numbers(app)) == 2


def test_each_complaint_links_to_its_timeline_and_the_address_filters(
    dashboard: MakeDashboard, ticket_site: Site
) -> None:
    app = open_board(dashboard, ticket_site, "hq", office="SH001", level="2")
    assert app.selectbox(key="esc_office").value == "SH001"
    assert app.selectbox(key="esc_level").value == 2
    [link] = complaints(app)["工单号"].to_list()
    [number] = reader(ticket_site).open_complaints(office_code="SH001", escalation_level=2)[
        "ticket_no"
    ]
    assert link == f"/ticket?ticket={number}"
    # and the chosen complaint's timeline, as a button (a phone's thumb misses table links)
    assert app.selectbox(key="esc_pick").value == number
    [button] = app.get("link_button")
    assert button.proto.url == f"/ticket?ticket={number}"


def test_the_export_holds_every_filtered_complaint(
    dashboard: MakeDashboard, ticket_site: Site, downloads: Downloads
) -> None:
    app = open_board(dashboard, ticket_site, "hq")
    app.selectbox(key="esc_city").set_value("SH").run()
    export = pl.read_excel(io.BytesIO(downloads(app, "esc_excel")))
    numbers = reader(ticket_site).open_complaints(city_code="SH")["ticket_no"].to_list()
    assert export["工单号"].to_list() == numbers  # the numbers, not the links
    assert export["受理时间"].dtype == pl.Datetime  # dates stay dates in Excel
    trend = pl.read_excel(io.BytesIO(downloads(app, "esc_trend_excel")))
    assert trend["升级数"].sum() == 3  # SH002 in October, SH001 twice in November


def test_the_trend_is_drawn_per_city_and_per_office(
    dashboard: MakeDashboard, ticket_site: Site
) -> None:
    import json

    app = open_board(dashboard, ticket_site, "hq")
    charts = {str(c.key): json.loads(c.proto.spec) for c in app.get("plotly_chart")}
    assert {t["name"] for t in charts["esc_trend_cities"]["data"]} == {
        "上海城市公司",
        "北京城市公司",
    }
    offices = {t["name"]: t["y"] for t in charts["esc_trend_offices"]["data"]}
    assert offices["SH001 上海丽都公馆管理处"] == [0, 2]  # October, November
    assert offices["SH002 上海锦绣家园管理处"] == [1, 0]


def test_the_engineer_has_no_board(dashboard: MakeDashboard, ticket_site: Site) -> None:
    dash = dashboard(warehouse_dir=ticket_site.warehouse_dir)
    dash.app.run()
    app = dash.log_in("engineer")
    assert "投诉升级" not in rendered_menu(app)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(BOARD)


def rendered_menu(app: AppTest) -> str:
    return str(app.get("navigation")[0].proto) if app.get("navigation") else ""


def test_the_board_speaks_english(dashboard: MakeDashboard, ticket_site: Site) -> None:
    app = open_board(dashboard, ticket_site, "manager")
    app.radio(key="language_switch").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Complaint escalation board"
    assert {m.label: m.value for m in app.metric}["Level 2 (group audit)"] == "1"
    table = complaints_en(app)
    assert sorted(table["Held by"]) == ["Group internal-audit manager", "Office manager"]
    assert sorted(table["Age"]) == ["5–10 days", "Under 1 day"]


def complaints_en(app: AppTest) -> pl.DataFrame:
    [table] = [t.value for t in app.dataframe if "Ticket" in t.value.columns]
    return pl.from_pandas(table)


# ---------------------------------------------------------------- SLA page and control tower


def test_the_sla_page_splits_ticket_clocks_by_day_and_night(
    dashboard: MakeDashboard, ticket_site: Site, downloads: Downloads
) -> None:
    dash = dashboard(warehouse_dir=ticket_site.warehouse_dir)
    dash.app.run()
    dash.log_in("hq")
    app = dash.app.switch_page(SLA).run()
    assert not app.exception
    assert "工单时效（客户服务），日间与夜间" in [s.value for s in app.subheader]
    app.selectbox(key="sla_ticket_clock").set_value("resolution").run()
    metrics = {m.label: m.value for m in app.metric}
    # day: SH001's minor complaint breached (its general one still pending), SH002's met
    # (resolved in 20 of its 48 hours); night: BJ001's complaint and BJ002's repair met
    assert metrics["达标率（日间）"] == "50.0 %"
    assert metrics["达标率（夜间服务）"] == "100.0 %"
    table = pl.read_excel(io.BytesIO(downloads(app, "sla_ticket_excel")))
    assert set(table["受理时段"]) == {"日间", "夜间服务"}
    assert set(table["时效"]) == {"处理完成"}
    # the order heat-maps are still there, above
    assert "sla_heatmap_cities" in {str(c.key) for c in app.get("plotly_chart")}


def test_the_tower_shows_owner_service_figures_with_links_to_the_board(
    dashboard: MakeDashboard, ticket_site: Site
) -> None:
    dash = dashboard(warehouse_dir=ticket_site.warehouse_dir)
    dash.app.run()
    app = dash.log_in("city.audit")
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["未结投诉"] == "2"  # the city's: SH001's two
    assert metrics["升级至集团内审"] == "1"
    assert "夜间服务占比" in metrics and "工单处理达标率" in metrics
    links = {(link.proto.label, link.proto.query_string) for link in app.get("page_link")}
    assert ("本城市公司的投诉升级看板", "city=SH") in links
    assert ("2 级投诉", "office=SH001&level=2") in links


@pytest.mark.parametrize(
    "method",
    [
        "open_complaints",
        "open_complaints_summary",
        "escalation_trend",
        "escalation_months",
        "ticket_compliance",
        "ticket_compliance_cells",
        "ticket_months",
    ],
)
@pytest.mark.parametrize(
    ("scope", "cities"),
    [({"SH001"}, {"SH"}), ({"SH001", "SH002"}, {"SH"}), ({"BJ001", "BJ002"}, {"BJ"})],
)
def test_every_read_keeps_to_its_scope_on_a_site_with_tickets(
    ticket_site: Site, method: str, scope: set[str], cities: set[str]
) -> None:
    """The role × scope test's warehouse has no tickets; here every read of the reader, asked
    about each office, finds only offices in its scope (and something in it)."""
    bound = reader(ticket_site, scope)
    read = getattr(bound, method)
    outside = {"SH001", "SH002", "BJ001", "BJ002"} - scope
    found_any = False
    for office in ("SH001", "SH002", "BJ001", "BJ002", None):
        if "office_code" in read.__code__.co_varnames and office is not None:
            result = read(office_code=office)
        elif office is None:
            result = read()
        else:
            continue
        if isinstance(result, pl.DataFrame):
            text = result.write_csv()
            found_any = found_any or not result.is_empty()
            if "city_code" in result.columns:
                assert set(result["city_code"].drop_nulls()) <= cities
        else:
            found_any = found_any or bool(result)
            text = str(result)
        assert not [o for o in outside if o in text], (method, scope, office)
    assert found_any, (method, scope)
