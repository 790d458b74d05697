"""A role the administrator withdraws stops working in a tab that is already open.

The dashboards read the user's roles afresh on every page run (``session.restore_login``), and
the principal a page handed to a button's callback checks the roles as of the click
(``session.SessionPrincipal``), so the next click after a withdrawal is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from operational.auth import system_principal
from operational.db import unit_of_work
from operational.models import CorrectiveOrder, Role, ScopeLevel
from operational.services.users import GrantSpec, set_active, set_grants

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

CLI = system_principal("cli")
ORDERS = "views/orders.py"
TOWER = "views/tower.py"
# a call-centre agent reads an office's orders but raises none and sees no analytics
READ_ONLY = [GrantSpec(Role.CALL_CENTRE_AGENT, ScopeLevel.OFFICE, "SH001")]


def corrective_orders(dash: Dashboard) -> int:
    with unit_of_work(dash.engine) as db:
        return int(db.scalar(select(func.count()).select_from(CorrectiveOrder)) or 0)


def withdraw(dash: Dashboard, username: str) -> None:
    with unit_of_work(dash.engine) as db:
        set_grants(db, CLI, username, READ_ONLY)


def test_raising_an_order_after_the_role_was_withdrawn_is_refused(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("engineer")
    app = dash.app.switch_page(ORDERS).run()
    assert [t.label for t in app.tabs] == ["打开工单", "新建整改工单"]
    app.text_input(key="raise_title").input("2号电梯异响")
    app.selectbox(key="raise_discipline").set_value("engineering")
    app.selectbox(key="raise_responsible").set_value("manager")
    before = corrective_orders(dash)

    withdraw(dash, "engineer")  # while the form is open in this tab
    app.button(key="raise_submit").click().run()
    assert not app.exception
    [refused] = [e.value for e in app.error]
    assert refused.startswith("您无权")  # the workflow engine's refusal, checked at the click
    assert corrective_orders(dash) == before
    assert [t.label for t in app.tabs] == ["打开工单"]  # the form is gone too


def test_an_open_analytics_page_is_refused_at_the_next_click(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("manager")
    app = dash.app.switch_page(TOWER).run()
    assert app.title[0].value == "运营驾驶舱"
    withdraw(dash, "manager")
    app.run()
    assert not app.exception
    assert "运营驾驶舱" not in [t.value for t in app.title]
    with unit_of_work(dash.engine) as db:  # and a role given back works at once as well
        set_grants(db, CLI, "manager", [GrantSpec(Role.HQ_VIEWER, ScopeLevel.GROUP)])
    app.run()  # the next click: the menu has the page again
    app.switch_page(TOWER).run()
    assert app.title[0].value == "运营驾驶舱"


def test_a_disabled_account_is_logged_out_of_an_open_tab_and_its_click_refused(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("engineer")
    app = dash.app.switch_page(ORDERS).run()
    app.text_input(key="raise_title").input("水泵漏水")
    app.selectbox(key="raise_discipline").set_value("engineering")
    app.selectbox(key="raise_responsible").set_value("manager")
    before = corrective_orders(dash)
    with unit_of_work(dash.engine) as db:
        set_active(db, CLI, "engineer", False)
    app.button(key="raise_submit").click().run()
    assert corrective_orders(dash) == before
    assert app.button(key="login_submit").label == "登录"
