"""The customers page: one field finds a caller, the customer view shows personal information
whole only to those who work with the owner (masked for everyone else, exports included), an
opened record is audited, and the forms list every problem at once keeping what was typed."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.db import unit_of_work
from operational.models import AuditEntry, Customer, House, Office
from operational.pii import mask_id_number, mask_phone

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/customers.py"


def open_page(dashboard: MakeDashboard, username: str) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(PAGE).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def first_owner(dash: Dashboard) -> Customer:
    with unit_of_work(dash.engine) as db:
        customer = db.scalars(
            select(Customer)
            .join(Office, Office.id == Customer.office_id)
            .where(Office.code == "SH001", Customer.code == "C00001")
        ).one()
        db.expunge(customer)
        return customer


def screen(app: AppTest) -> str:
    """What the page shows as text (Markdown's escapes of user text removed)."""
    return "\n".join(
        [m.value for m in app.markdown]
        + [c.value for c in app.caption]
        + [f.value.to_csv() for f in app.dataframe]
    ).replace("\\", "")


def test_the_manager_finds_a_caller_by_phone_and_sees_the_whole_record(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard, "manager")
    app = dash.app
    owner = first_owner(dash)
    app.text_input(key="cust_query").input(owner.phone).run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert list(table["客户编号"]) == ["C00001"]
    assert list(table["电话"]) == [owner.phone]
    shown = screen(app)
    assert owner.id_number in shown and "1-1-101" in shown and "业主" in shown
    with unit_of_work(dash.engine) as db:
        views = db.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "prop_customer",
                AuditEntry.action == "view",
                AuditEntry.actor == "manager",
            )
        ).all()
    assert [v.entity_key for v in views] == ["SH001:C00001"]
    assert views[0].after == {"masked": False}
    # the customer form holds the opened customer, to change it
    assert app.text_input(key="cust_f_code").value == "C00001"
    assert app.text_input(key="cust_f_phone").value == owner.phone
    labels = [e.proto.label for e in app.get("expander")]
    assert "房产（48）" in labels and "车位（20）" in labels  # the office's base data


def test_a_supervisor_sees_phone_and_id_numbers_masked_in_the_export_too(
    dashboard: MakeDashboard, downloads: Callable[[AppTest, str], bytes]
) -> None:
    dash = open_page(dashboard, "engineer")
    app = dash.app
    owner = first_owner(dash)
    app.text_input(key="cust_query").input("1-1-101").run()
    app.selectbox(key="cust_pick").set_value("SH001/C00001").run()
    assert not app.exception, app.exception
    shown = screen(app)
    assert owner.phone not in shown and owner.id_number not in shown
    assert mask_phone(owner.phone) in shown and mask_id_number(owner.id_number) in shown
    assert "电话和证件号码已隐藏" in shown
    exported = pl.read_excel(BytesIO(downloads(app, "cust_export")))
    assert owner.phone not in exported.write_csv()
    assert mask_phone(owner.phone) in list(exported["电话"])
    assert not app.get("expander") or all(
        "新增或修改" not in e.proto.label for e in app.get("expander")
    )  # no forms for a reader


def test_the_forms_list_every_problem_keep_the_typing_and_then_save(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard, "manager")
    app = dash.app
    app.text_input(key="cust_f_code").input("NEW-1")
    app.text_input(key="cust_f_name").input("")
    app.text_input(key="cust_f_phone").input("12ab")
    app.text_input(key="cust_f_id").input("!")
    app.button(key="FormSubmitter:cust_form-保存客户").click().run()
    assert not app.exception, app.exception
    errors = "\n".join(e.value for e in app.error)
    assert "请填写姓名" in errors and "电话" in errors and "证件号码" in errors
    assert app.text_input(key="cust_f_code").value == "NEW-1"
    assert app.text_input(key="cust_f_phone").value == "12ab"
    app.text_input(key="cust_f_name").input("新业主")
    app.text_input(key="cust_f_phone").input("139 1234 5678")
    app.text_input(key="cust_f_id").input("")
    app.button(key="FormSubmitter:cust_form-保存客户").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        saved = db.scalars(select(Customer).where(Customer.code == "NEW-1")).one()
        assert (saved.name, saved.phone) == ("新业主", "13912345678")
    app.text_input(key="house_f_building").input("9")
    app.text_input(key="house_f_floor").input("3")
    app.text_input(key="house_f_room").input("301")
    app.text_input(key="house_f_area").input("abc")
    app.button(key="FormSubmitter:house_form-保存房产").click().run()
    assert "建筑面积" in "\n".join(e.value for e in app.error)
    app.text_input(key="house_f_area").input("99.5")
    app.button(key="FormSubmitter:house_form-保存房产").click().run()
    with unit_of_work(dash.engine) as db:
        assert db.scalars(select(House).where(House.room == "301", House.floor == 3)).all()
