"""Monthly supplier evaluation (供方月度评价) for the office manager (and the group administrator).

Choose one of the contracts the user may evaluate and one of the months it scores; the page shows
the month's figures by the live rule (``operational.suppliers``: nonconformities, breach points,
deduction, the office's points, the score) and a form of the items the office scores by hand —
staffing shortfall, training sessions, tools and materials, other — each as signed points
(blank: none). The form calls ``operational.services.suppliers.save_evaluation`` (scoped,
audited, every bad field named at once); a refused submit keeps what was typed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import streamlit as st

from dashboards import forms
from dashboards.session import flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.services.suppliers import (
    EVALUATION_ITEMS,
    ContractInfo,
    contract_month,
    evaluable_months,
    evaluation_contracts,
    save_evaluation,
)

FORM = "supplier_eval"
LOADED = "supplier_eval_loaded"  # the (contract, month) whose entries fill the form
WIDTH = 560
STORED = dict(EVALUATION_ITEMS)


def _field(name: str) -> str:
    return f"supplier_eval_{name}"


def _points_text(value: object) -> str:
    return "" if value is None else f"{value:+}"


def _save(user: Principal, contract_no: str, month: date) -> None:
    typed = {name: str(st.session_state.get(_field(name)) or "") for name, _ in EVALUATION_ITEMS}
    try:
        with unit_of_work(operational_engine()) as db:
            save_evaluation(db, user, contract_no, month, typed)
    except DomainError as refused:
        forms.refuse(FORM, refused)
        return
    forms.accept(FORM)
    st.session_state[LOADED] = None  # show what is stored now
    flash(tr("suppliers_ui.evaluation.saved", contract=contract_no, month=f"{month:%Y-%m}"))


user = require(Permission.EVALUATE_SUPPLIERS)
st.title(tr("suppliers_ui.evaluation.title"))
show_flash()
with unit_of_work(operational_engine()) as db:
    contracts = evaluation_contracts(db, user)
if not contracts:
    st.info(tr("suppliers_ui.evaluation.none"))
    st.stop()
by_no: dict[str, ContractInfo] = {c.contract_no: c for c in contracts}


def _contract_label(no: str) -> str:
    c = by_no[no]
    return f"{c.contract_no} · {c.supplier_name} · {c.office_name} · {tr(f'discipline.{c.discipline}')}"


now = datetime.now(UTC)
pick_contract, pick_month = st.columns(2)
contract_no = str(
    pick_contract.selectbox(
        tr("suppliers_ui.drill.contract"),
        list(by_no),
        format_func=_contract_label,
        key="supplier_eval_contract",
    )
)
info = by_no[contract_no]
months = evaluable_months(info, now)
if not months:
    st.info(tr("suppliers_ui.evaluation.no_months", contract=md(contract_no)))
    st.stop()
month = pick_month.selectbox(
    tr("suppliers_ui.drill.month"),
    months,
    format_func=lambda m: f"{m:%Y-%m}",
    key="supplier_eval_month",
)
with unit_of_work(operational_engine()) as db:
    view = contract_month(db, user, contract_no, month, now=now)

figures = view.figures
if figures is not None:
    a, b, c, d, e = st.columns(5)
    a.metric(tr("suppliers_ui.col.nonconformities"), figures.nonconformities)
    b.metric(tr("suppliers_ui.col.breach_points"), figures.breach_points)
    c.metric(tr("suppliers_ui.col.deduction"), f"¥{figures.deduction_amount:,.2f}")
    d.metric(tr("suppliers_ui.col.manual_points"), f"{figures.manual_points:+.2f}")
    e.metric(tr("suppliers_ui.col.score"), f"{figures.score:.2f}")
st.caption(tr("suppliers_ui.evaluation.rule"))
others = {item: points for item, points in view.entries.items() if item not in STORED.values()}
for item, points in sorted(others.items()):
    st.caption(tr("suppliers_ui.evaluation.other_item", item=md(item), points=f"{points:+}"))

selection = f"{contract_no}/{month:%Y-%m}"
if st.session_state.get(LOADED) != selection:
    for name, item in EVALUATION_ITEMS:
        st.session_state[_field(name)] = _points_text(view.entries.get(item))
    st.session_state[LOADED] = selection
    forms.accept(FORM)

with st.form(FORM, width=WIDTH):
    for name, _ in EVALUATION_ITEMS:
        st.text_input(
            tr(f"suppliers_ui.item.{name}"),
            key=_field(name),
            placeholder=tr("suppliers_ui.evaluation.placeholder"),
        )
    st.caption(tr("suppliers_ui.evaluation.help"))
    forms.problems(FORM)
    st.form_submit_button(
        tr("suppliers_ui.evaluation.save"),
        type="primary",
        width="stretch",
        on_click=_save,
        args=(user, contract_no, month),
        key="supplier_eval_submit",
    )
