"""A supplier user on the demo site (``supplier``: SH001's cleaning supplier): a menu of its own
work only, its to-do list with the orders dispatched to it and its supplier's open
nonconformities, an order opened from it and processed through the order's steps; another
supplier's order and contract statement refused; a supplier user added on the admin page."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboards import navigation
from operational.auth import load_principal
from operational.db import unit_of_work
from operational.errors import NotFound
from operational.models import CorrectiveOrder, Nonconformity, Supplier, SupplierContract, User
from operational.services.suppliers import contract_month

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

TODO = "views/supplier_todo.py"
ORDERS = "views/orders.py"
RANKING = "views/supplier_ranking.py"
OWN_PAGES = {
    "views/todo.py",
    ORDERS,
    "views/order_list.py",
    RANKING,
    TODO,
    "views/nonconformity.py",  # the nonconformities assigned to it (docs/nonconformities.md)
}


def logged_in(dashboard: MakeDashboard, username: str = "supplier") -> tuple[AppTest, Dashboard]:
    dash = dashboard()
    dash.app.run()
    app = dash.log_in(username)
    assert not app.exception
    return app, dash


def _orders_of(dash: Dashboard, username: str) -> list[CorrectiveOrder]:
    with unit_of_work(dash.engine) as db:
        user_id = db.scalar(select(User.id).where(User.username == username))
        found = list(
            db.scalars(
                select(CorrectiveOrder)
                .where(CorrectiveOrder.handler_id == user_id)
                .order_by(CorrectiveOrder.document_no)
            )
        )
        db.expunge_all()
        return found


def test_the_menu_offers_only_the_supplier_users_own_work(dashboard: MakeDashboard) -> None:
    _, dash = logged_in(dashboard)
    with unit_of_work(dash.engine) as db:
        who = load_principal(db, dash.user("supplier").id)
    assert {p.file for p in navigation.visible_pages(who)} == OWN_PAGES


def test_the_todo_lists_its_orders_and_nonconformities_and_opens_an_order_to_process(
    dashboard: MakeDashboard,
) -> None:
    app, dash = logged_in(dashboard)
    [waiting] = _orders_of(dash, "supplier")  # the demo's order dispatched to it
    assert waiting.state == "assigned"
    other = _orders_of(dash, "sh001.sup.se")[0]  # another supplier's, at the same office
    app = app.switch_page(TODO).run()
    assert not app.exception
    assert app.title[0].value == "我的供方待办"
    labels = [b.label for b in app.button]
    assert [b for b in labels if waiting.document_no in b]
    assert not [b for b in labels if other.document_no in b]
    shown = " ".join(m.value for m in app.markdown).replace("\\", "")  # Markdown-escaped
    assert "NC-SH001-CL-OPEN" in shown
    assert "SH001-SE" not in shown  # the security supplier's contract and nonconformity
    # open the order and take its step
    app.button(key=f"supplier_todo_{waiting.document_no}").click().run()
    assert not app.exception
    app.text_area(key=f"process_note_{waiting.document_no}").input("地面已清洁，已拍照")
    app.button(key=f"do_process_{waiting.document_no}").click().run()
    assert not app.exception and not app.error
    [after] = [o for o in _orders_of(dash, "supplier") if o.document_no == waiting.document_no]
    assert after.state == "processed"
    app = app.switch_page(TODO).run()
    assert not [b for b in app.button if waiting.document_no in b.label]
    assert app.info and app.info[0].value == "没有等待您处理的工单。"


def test_another_suppliers_order_and_statement_are_refused(dashboard: MakeDashboard) -> None:
    app, dash = logged_in(dashboard)
    other = _orders_of(dash, "sh001.sup.se")[0]
    app.query_params["order"] = other.document_no
    app = app.switch_page(ORDERS).run()
    assert not app.exception
    [refused] = [w.value.replace("\\", "") for w in app.warning]  # Markdown-escaped text
    assert refused == f"不存在编号为 {other.document_no} 的工单。"
    assert not [b for b in app.button if b.key and other.document_no in b.key]
    # the ranking page: its own supplier's rows and contract only
    app = app.switch_page(RANKING).run()
    assert not app.exception
    with unit_of_work(dash.engine) as db:
        who = load_principal(db, dash.user("supplier").id)
        own = db.scalar(select(Supplier.supplier_code).where(Supplier.id == who.supplier_id))
        with pytest.raises(NotFound):  # the security supplier's contract at the same office
            contract_month(db, who, "HT-SH001-SE", date(2026, 11, 1))
        assert (
            contract_month(db, who, "HT-SH001-CL", date(2026, 11, 1)).contract.supplier_code == own
        )
    assert set(app.dataframe[0].value["供方编码"]) == {own}
    assert app.selectbox(key="supplier_drill_contract").options == ["HT-SH001-CL"]


def test_the_admin_adds_a_supplier_user(dashboard: MakeDashboard) -> None:
    app, dash = logged_in(dashboard, "admin")
    app = app.switch_page("views/admin_users.py").run()
    app.text_input(key="new_username").input("sup.cl01.li")
    app.text_input(key="new_display_name").input("李师傅")
    app.text_input(key="new_password").input("a long password")
    app.selectbox(key="new_role").set_value("supplier_user")
    app.selectbox(key="new_code").set_value("SH001")
    app.button(key="add_user_submit").click().run()
    assert app.error and "只有绑定到供方的账号" in app.error[0].value  # no supplier chosen
    app.text_input(key="new_password").input("a long password")
    app.selectbox(key="new_supplier").set_value("SUP-CL01")
    app.button(key="add_user_submit").click().run()
    assert not app.exception and not app.error
    with unit_of_work(dash.engine) as db:
        user = db.scalars(select(User).where(User.username == "sup.cl01.li")).one()
        assert db.get(Supplier, user.supplier_id).supplier_code == "SUP-CL01"  # type: ignore[union-attr]
    listing = app.dataframe[0].value
    assert "SUP-CL01" in listing[listing["用户名"] == "sup.cl01.li"]["供方"].iloc[0]


def test_the_todo_opens_its_suppliers_nonconformity(dashboard: MakeDashboard) -> None:
    app, _ = logged_in(dashboard)
    app = app.switch_page(TODO).run()
    app.button(key="supplier_todo_nc_NC-SH001-CL-OPEN").click().run()
    assert not app.exception and not app.error
    shown = " ".join([m.value for m in app.markdown] + [s.value for s in app.subheader]).replace(
        "\\", ""
    )
    assert "NC-SH001-CL-OPEN" in shown


def _pdf_text(pdf: bytes) -> str:
    """The ASCII text of the PDF's pages (numbers, codes): its content streams decoded
    (ReportLab writes them ASCII85 over Flate, the text in two bytes a character, the first
    ``\\000`` for ASCII)."""
    import base64
    import re
    import zlib

    parts: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = base64.a85decode(stream.strip().removesuffix(b"~>"))
        parts.append(zlib.decompress(data).decode("latin-1").replace("\\000", ""))
    return "\n".join(parts)


def test_the_supplier_users_statements_hold_only_its_own_contract(
    dashboard: MakeDashboard, downloads: Callable[[AppTest, str], bytes]
) -> None:
    """The deduction statement a supplier user downloads on the ranking page (Excel and PDF)
    is its own contract's, and names no other supplier, contract or nonconformity."""
    app, dash = logged_in(dashboard)
    app = app.switch_page(RANKING).run()
    assert not app.exception
    assert app.selectbox(key="supplier_drill_contract").value == "HT-SH001-CL"
    with unit_of_work(dash.engine) as db:
        who = load_principal(db, dash.user("supplier").id)
        others = [
            text
            for s in db.scalars(select(Supplier).where(Supplier.id != who.supplier_id))
            for text in (s.supplier_code, s.name)
        ] + list(
            db.scalars(
                select(SupplierContract.contract_no).where(
                    SupplierContract.supplier_id != who.supplier_id
                )
            )
        )
        own_contract = db.scalars(
            select(SupplierContract).where(SupplierContract.contract_no == "HT-SH001-CL")
        ).one()
        foreign_ncs = list(
            db.scalars(
                select(Nonconformity.document_no).where(
                    Nonconformity.contract_id != own_contract.id
                )
            )
        )
    sheet = load_workbook(io.BytesIO(downloads(app, "supplier_statement_excel"))).active
    assert sheet is not None
    cells = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v)
    assert "HT-SH001-CL" in cells
    assert [m for m in [*others, *foreign_ncs] if m in cells] == []
    pdf = _pdf_text(downloads(app, "supplier_statement_pdf"))
    assert "HT-SH001-CL" in pdf
    assert [m for m in [*others, *foreign_ncs] if m.isascii() and m in pdf] == []
