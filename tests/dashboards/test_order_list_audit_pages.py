"""The order search and the audit log pages, on a copy of the demo database (AppTest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from operational.auth import system_principal
from operational.db import unit_of_work
from operational.models import Discipline
from operational.services import lookup, orders

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]
    Downloads = Callable[[AppTest, str], bytes]

ORDER_LIST = "views/order_list.py"
AUDIT_LOG = "views/audit_log.py"
SYSTEM = system_principal("cli")


def session(
    dashboard: MakeDashboard, username: str, page: str, query: dict[str, str] | None = None
) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(page)
    for key, value in (query or {}).items():
        dash.app.query_params[key] = value
    dash.app.run()
    assert not dash.app.exception
    return dash


def workbook(data: bytes) -> pl.DataFrame:
    return pl.read_excel(BytesIO(data))


# ---------------------------------------------------------------- order search


def test_hq_lists_every_order_paged_with_the_count_and_exports_them_all(
    dashboard: MakeDashboard, downloads: Downloads
) -> None:
    dash = session(dashboard, "hq", ORDER_LIST)
    app = dash.app
    with unit_of_work(dash.engine) as db:
        every = lookup.order_list(db, SYSTEM, limit=None)
    assert every.total > 50  # more than one page
    assert f"共 {every.total} 张工单。" in [m.value for m in app.markdown]
    [table] = app.dataframe
    first_page = list(table.value["单号"])
    assert len(first_page) == 50
    assert first_page[0] == f"/orders?order={every.rows[0].document_no}"
    finished = list(table.value["完成时间"])
    assert "—" in finished and "None" not in table.value.to_csv()  # open orders: a dash
    assert f"第 1–50 行，共 {every.total} 行。" in [c.value for c in app.caption]
    app.number_input(key="ol_page").set_value(2).run()
    second = list(app.dataframe[0].value["单号"])
    assert second[0] == f"/orders?order={every.rows[50].document_no}"
    exported = workbook(downloads(app, "ol_excel"))
    assert exported.height == every.total
    assert list(exported["单号"]) == [r.document_no for r in every.rows]
    assert exported.schema["创建时间"].is_temporal()  # dates stay dates in Excel


def test_url_parameters_pre_fill_the_filters(dashboard: MakeDashboard) -> None:
    query = {"office": "SH001", "discipline": "engineering", "state": "closed", "late": "no"}
    dash = session(dashboard, "audit", ORDER_LIST, query)
    app = dash.app
    assert app.selectbox(key="ol_office").value == "SH001"
    assert app.selectbox(key="ol_discipline").value == "engineering"
    assert app.selectbox(key="ol_state").value == "closed"
    assert app.selectbox(key="ol_late").value == "no"
    chosen = lookup.OrderFilter(
        office_code="SH001", discipline="engineering", state="closed", late=False
    )
    with unit_of_work(dash.engine) as db:
        expected = lookup.order_list(db, SYSTEM, chosen, limit=None)
    assert expected.total > 0
    assert f"共 {expected.total} 张工单。" in [m.value for m in app.markdown]
    shown = list(app.dataframe[0].value["单号"])
    assert shown == [f"/orders?order={r.document_no}" for r in expected.rows]
    assert set(app.dataframe[0].value["状态"]) == {"已关闭"}
    assert set(app.dataframe[0].value["超时"]) == {"未超时"}
    # the user changes a filter: the address's values are not forced back on the next run
    app.selectbox(key="ol_state").set_value("").run()
    assert app.selectbox(key="ol_state").value == ""


def test_the_month_filter_and_a_bad_month(dashboard: MakeDashboard) -> None:
    dash = session(dashboard, "hq", ORDER_LIST, {"month": "2026-11", "late": "yes"})
    app = dash.app
    chosen = lookup.OrderFilter(month=date(2026, 11, 1), late=True)
    with unit_of_work(dash.engine) as db:
        expected = lookup.order_list(db, SYSTEM, chosen, limit=None)
    assert app.text_input(key="ol_month").value == "2026-11"
    assert f"共 {expected.total} 张工单。" in [m.value for m in app.markdown]
    app.text_input(key="ol_month").input("2026-13").run()
    [refused] = app.error
    assert refused.value == "「创建月份」应为年-月，如 2026-11（输入的是「2026\\-13」）。"
    assert app.text_input(key="ol_month").value == "2026-13"  # kept as typed
    assert not app.dataframe


def test_an_office_outside_the_users_scope_in_the_address_is_not_listed(
    dashboard: MakeDashboard,
) -> None:
    dash = session(dashboard, "manager", ORDER_LIST, {"office": "BJ001"})
    app = dash.app
    assert any("BJ001" in i.value for i in app.info)
    assert app.selectbox(key="ol_office").value == ""
    assert app.selectbox(key="ol_office").options == ["全部", f"SH001 {office_name(dash, 'SH001')}"]
    numbers = list(app.dataframe[0].value["单号"])
    assert numbers and all("SH001" in n for n in numbers)


def office_name(dash: Dashboard, code: str) -> str:
    with unit_of_work(dash.engine) as db:
        offices = lookup.offices(db, SYSTEM, lookup.Permission.VIEW_ORDERS)
        return next(o.name for o in offices if o.code == code)


# ---------------------------------------------------------------- audit log


def _set_targets(dash: Dashboard) -> None:
    """Two office-level entries (SH001 in the city audit's city, BJ001 not)."""
    with unit_of_work(dash.engine) as db:
        orders.set_deadline(db, SYSTEM, "SH001", Discipline.CLEANING, 24)
        orders.set_deadline(db, SYSTEM, "BJ001", Discipline.SECURITY, 12)


def test_group_audit_reads_every_entry_filters_and_exports(
    dashboard: MakeDashboard, downloads: Downloads
) -> None:
    dash = dashboard()
    _set_targets(dash)
    dash.app.run()
    dash.log_in("audit")
    app = dash.app.switch_page(AUDIT_LOG).run()
    assert not app.exception
    assert app.title[0].value == "审计日志"
    with unit_of_work(dash.engine) as db:
        every = lookup.audit_entries(db, SYSTEM, limit=None)
    assert f"共 {every.total} 条记录。" in [m.value for m in app.markdown]
    table = app.dataframe[0].value
    assert "集团级" in set(table["管理处"])  # group-level entries (users, types, the group)
    app.selectbox(key="al_entity").set_value("workflow_clock_policy").run()
    table = app.dataframe[0].value
    assert set(table["对象类型"]) == {"时效标准"}
    assert {"SH001:corrective_order:completion:cleaning"} <= set(table["对象"])
    assert any('"hours": 24' in after for after in table["变更后"])
    app.text_input(key="al_actor").input("nobody-like-this").run()
    assert "没有符合条件的记录。" in [i.value for i in app.info]
    app.text_input(key="al_actor").input("CLI").run()
    exported = workbook(downloads(app, "al_excel"))
    assert set(exported["操作人"]) == {"cli"}
    assert set(exported["对象类型"]) == {"时效标准"}


def test_city_audit_reads_its_citys_offices_only(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    _set_targets(dash)
    dash.app.run()
    dash.log_in("city.audit")
    app = dash.app.switch_page(AUDIT_LOG).run()
    assert not app.exception
    table = app.dataframe[0].value
    keys = set(table["对象"])
    assert "SH001:corrective_order:completion:cleaning" in keys
    assert not any("BJ" in k for k in keys)
    assert "集团级" not in set(table["管理处"])  # group-level entries: group scope only
    assert app.selectbox(key="al_office").options[1:] == [
        o for o in app.selectbox(key="al_office").options[1:] if o.startswith("SH")
    ]


def test_the_audit_log_is_for_internal_audit_and_the_admin_only(dashboard: MakeDashboard) -> None:
    for username, allowed in (("hq", False), ("manager", False), ("admin", True)):
        dash = dashboard()
        dash.app.run()
        dash.log_in(username)
        if not allowed:  # not in their menu: AppTest knows only the pages registered
            with pytest.raises(ValueError, match=r"audit_log\.py"):
                dash.app.switch_page(AUDIT_LOG)
            continue
        app = dash.app.switch_page(AUDIT_LOG).run()
        assert not app.exception
        assert app.title[0].value == "审计日志"
        assert app.dataframe
