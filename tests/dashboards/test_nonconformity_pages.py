"""The nonconformity page through the real services on a copy of the demo database: a cleaning
supervisor opens a corrective-and-preventive ticket against the office's cleaning contract (refused
without breach points, the typed form kept; accepted with points from the contract's standard), a
handling order goes to a supplier user, who finds it in their to-do list and handles it, and the
supervisor verifies it (docs/nonconformities.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from conftest import shown
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.auth import hash_password
from operational.db import unit_of_work
from operational.demo import DEMO_PASSWORD
from operational.models import (
    Nonconformity,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    SupplierContract,
    User,
)

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/nonconformity.py"
TODO = "views/todo.py"


def session(dashboard: MakeDashboard, username: str, page: str = PAGE) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(page).run()
    assert not dash.app.exception
    return dash


def messages(app: AppTest) -> list[str]:
    return [shown(m.value) for m in (*app.success, *app.error, *app.warning, *app.info)]


def add_supplier_user(dash: Dashboard, username: str = "sup.sh001") -> None:
    """A supplier's staff member with an account at SH001 (role supplier_user)."""
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office).where(Office.code == "SH001")).one()
        supplier_id = db.scalar(  # SH001's cleaning supplier
            select(SupplierContract.supplier_id).where(
                SupplierContract.contract_no == "HT-SH001-CL"
            )
        )
        db.add(
            User(
                username=username,
                display_name="洁美 张师傅",
                password_hash=hash_password(DEMO_PASSWORD),
                supplier_id=supplier_id,
                grants=[
                    RoleGrant(
                        role=Role.SUPPLIER_USER.value,
                        scope_level=ScopeLevel.OFFICE.value,
                        office_id=office.id,
                    )
                ],
            )
        )


def fill_new(app: AppTest, kind: str, description: str, assignee: str | None = None) -> None:
    app.selectbox(key="nc_new_kind").set_value(kind).run()
    app.selectbox(key="nc_new_discipline").set_value("cleaning").run()
    app.text_area(key="nc_new_description").input(description)
    if assignee:
        app.selectbox(key="nc_new_assignee").set_value(assignee)
    app.selectbox(key="nc_new_contract").set_value("HT-SH001-CL").run()


def opened_number(app: AppTest, prefix: str) -> str:
    [done] = app.success
    found = re.search(rf"{prefix}-SH001-\d+", done.value)
    assert found, done.value
    return found.group()


def test_a_corrective_ticket_needs_breach_points_from_the_contract(
    dashboard: MakeDashboard,
) -> None:
    dash = session(dashboard, "sh001.clean")
    app = dash.app
    fill_new(app, "corrective_preventive", "大堂地面连续三天未清洁")
    # The points offered are the contract's standard, with what each costs.
    options = app.selectbox(key="nc_new_points").options
    assert [o for o in options if "分" in o and "¥" in o] == [
        "1 分（¥50.00）",
        "2 分（¥100.00）",
        "3 分（¥200.00）",
    ]
    app.button(key="nc_new_submit").click().run()
    assert not app.exception
    assert any("必须填写违约扣分" in m for m in messages(app)), messages(app)
    assert app.text_area(key="nc_new_description").value == "大堂地面连续三天未清洁"
    with unit_of_work(dash.engine) as db:
        before = len(db.scalars(select(Nonconformity)).all())
    app.selectbox(key="nc_new_points").set_value("2").run()
    app.button(key="nc_new_submit").click().run()
    number = opened_number(app, "NCP")
    assert app.text_input(key="nc_no").value == number
    with unit_of_work(dash.engine) as db:
        nc = db.scalars(select(Nonconformity).where(Nonconformity.document_no == number)).one()
        assert (nc.kind, nc.breach_points, nc.state) == ("corrective_preventive", 2, "opened")
        assert len(db.scalars(select(Nonconformity)).all()) == before + 1


def test_a_handling_order_goes_to_a_supplier_user_and_back_for_verification(
    dashboard: MakeDashboard,
) -> None:
    supervisor = session(dashboard, "sh001.clean")
    add_supplier_user(supervisor)
    app = supervisor.app
    app.switch_page(PAGE).run()
    fill_new(app, "handling", "垃圾桶满溢未清运", assignee="sup.sh001")
    app.selectbox(key="nc_new_points").set_value("1").run()
    app.button(key="nc_new_submit").click().run()
    number = opened_number(app, "NCH")

    supplier = session(dashboard, "sup.sh001", TODO)
    todo = supplier.app
    [row] = [b for b in todo.button if number in b.label]
    row.click().run()
    assert not todo.exception
    page = supplier.app.switch_page(PAGE).run()
    assert page.text_input(key="nc_no").value == number
    page.button(key=f"nc_do_{number}_handle").click().run()
    assert any("此步骤需要填写内容" in m for m in messages(page)), messages(page)
    page.text_area(key=f"nc_text_{number}_handle").input("已清运并消毒")
    page.button(key=f"nc_do_{number}_handle").click().run()
    assert any(f"{number}：处理完成 已完成" in m for m in messages(page)), messages(page)

    app = supervisor.app.switch_page(PAGE).run()
    app.text_input(key="nc_no").input(number).run()
    app.button(key=f"nc_do_{number}_verify").click().run()
    assert not app.exception
    with unit_of_work(supervisor.engine) as db:
        nc = db.scalars(select(Nonconformity).where(Nonconformity.document_no == number)).one()
        assert (nc.state, nc.handling_note) == ("verified", "已清运并消毒")
        assert nc.closed_at is not None
    history = app.dataframe[0].value  # the ticket's own history, above the list
    assert list(history.iloc[:, 1]) == ["派工", "处理完成", "验证"]
    assert list(history.iloc[:, 2]) == ["sh001.clean", "sup.sh001", "sh001.clean"]


def test_a_customer_service_nonconformity_is_opened_by_hand(dashboard: MakeDashboard) -> None:
    """The form offers the five disciplines of inspections and their nonconformities; customer
    service has no supplier contracts, so none is offered, and the ticket opens without one."""
    dash = session(dashboard, "manager")  # SH001's office manager
    app = dash.app
    app.selectbox(key="nc_new_kind").set_value("notice").run()
    box = app.selectbox(key="nc_new_discipline")
    assert box.options == ["工程", "园艺", "秩序", "保洁", "客服"]
    box.set_value("customer_service").run()
    assert app.selectbox(key="nc_new_contract").options == ["不针对供方合同"]
    app.text_area(key="nc_new_description").input("前台接待未按标准问候")
    app.button(key="nc_new_submit").click().run()
    assert not app.exception
    number = opened_number(app, "NCN")
    with unit_of_work(dash.engine) as db:
        nc = db.scalars(select(Nonconformity).where(Nonconformity.document_no == number)).one()
        assert (nc.discipline, nc.contract_id, nc.state) == ("customer_service", None, "issued")
    details = " ".join(m.value for m in app.markdown)
    assert "**专业**: 客服" in details
