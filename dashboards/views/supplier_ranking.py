"""Supplier ranking (供方排名) for headquarters, audit, offices and supervisors.

Reads the published warehouse through ``SupplierReader`` (``readers(VIEW_SUPPLIERS).suppliers``):
the ranking is computed over the contracts of the offices the user may see — the group's ranking
for a group-wide user, a city company's for its users (docs/supplier-marts.md, "Reads"). Choose a
month or a year and a discipline; the ranked table (score, nonconformities, breach points,
deduction) has its Excel download; ``?month=YYYY-MM`` (the control tower's link from an
office's lowest supplier score) opens it on that month. Below it, the drill: one supplier's contracts and their months
in the period, then one contract's month — its nonconformities and figures by the live rule
(operational database, ``contract_month``, the same scope) and its deduction statement for
finance as Excel and PDF.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards import supplier_statement
from dashboards.export import XLSX_MIME, excel_download
from dashboards.session import language, operational_engine, readers, require, tr
from dashboards.text import md
from operational.auth import Permission
from operational.db import unit_of_work
from operational.errors import NotFound
from operational.services.suppliers import ContractMonthView, contract_month
from warehouse.queries_suppliers import PERIOD_TYPES

scoped = readers(Permission.VIEW_SUPPLIERS)
user = require(Permission.VIEW_SUPPLIERS)
st.title(tr("suppliers_ui.ranking.title"))

if scoped.org.build_info() is None:
    st.info(tr("suppliers_ui.not_published"))
    st.stop()
periods = scoped.suppliers.periods()
if periods.is_empty():
    st.info(tr("suppliers_ui.ranking.none"))
    st.stop()


def _discipline(code: str) -> str:
    return tr(f"discipline.{code}")


def _decimal_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Decimals as floats for the screen and Excel (numbers stay numbers)."""
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


left, middle, right = st.columns(3)
period_type = left.selectbox(
    tr("suppliers_ui.ranking.period_type"),
    PERIOD_TYPES,
    format_func=lambda kind: tr(f"suppliers_ui.ranking.{kind}"),
    key="supplier_period_type",
)
months: list[date] = sorted(set(periods["month"].to_list()), reverse=True)
choices = (
    [f"{m:%Y-%m}" for m in months]
    if period_type == "month"
    else sorted({f"{m:%Y}" for m in months}, reverse=True)
)
asked = st.query_params.get("month")  # ?month=YYYY-MM: a control-tower link opens that month
if "supplier_period" not in st.session_state and period_type == "month" and asked in choices:
    st.session_state["supplier_period"] = asked
period = middle.selectbox(tr("suppliers_ui.ranking.period"), choices, key="supplier_period")
disciplines = sorted(set(periods["discipline"].to_list()))
discipline = right.selectbox(
    tr("suppliers_ui.ranking.discipline"),
    disciplines,
    format_func=_discipline,
    key="supplier_discipline",
)
ranking = scoped.suppliers.ranking(
    period_type=period_type, period=str(period), discipline=str(discipline)
)
st.caption(tr("suppliers_ui.ranking.rule"))
table = _decimal_columns(ranking).select(
    pl.col("rank").alias(tr("suppliers_ui.col.rank")),
    pl.col("supplier_code").alias(tr("suppliers_ui.col.supplier_code")),
    pl.col("supplier_name").alias(tr("suppliers_ui.col.supplier_name")),
    pl.col("contracts").alias(tr("suppliers_ui.col.contracts")),
    pl.col("score").alias(tr("suppliers_ui.col.score")),
    pl.col("nonconformities").alias(tr("suppliers_ui.col.nonconformities")),
    pl.col("breach_points").alias(tr("suppliers_ui.col.breach_points")),
    pl.col("deduction_amount").alias(tr("suppliers_ui.col.deduction")),
)
st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
excel_download(
    table,
    tr("suppliers_ui.ranking.export", period=period, discipline=_discipline(str(discipline))),
    key="supplier_ranking_excel",
)

# ---------------------------------------------------------------- drill: one supplier


def _period_bounds(kind: str, chosen: str) -> tuple[date, date]:
    if kind == "month":
        year, month = (int(part) for part in chosen.split("-"))
        return date(year, month, 1), date(year, month, 1)
    return date(int(chosen), 1, 1), date(int(chosen), 12, 1)


st.subheader(tr("suppliers_ui.drill.title"))
suppliers = ranking["supplier_code"].to_list()
if not suppliers:
    st.info(tr("suppliers_ui.drill.none"))
    st.stop()
names = dict(zip(ranking["supplier_code"], ranking["supplier_name"], strict=True))
supplier = st.selectbox(
    tr("suppliers_ui.drill.supplier"),
    suppliers,
    format_func=lambda code: f"{code} · {names.get(code) or ''}",
    key="supplier_drill_supplier",
)
start, end = _period_bounds(str(period_type), str(period))
months_of = scoped.suppliers.contract_months(
    supplier_code=str(supplier), discipline=str(discipline), start=start, end=end
)
contract_table = _decimal_columns(months_of).select(
    pl.col("contract_no").alias(tr("suppliers_ui.col.contract")),
    pl.col("office_code").alias(tr("suppliers_ui.col.office_code")),
    pl.col("office_name").alias(tr("suppliers_ui.col.office_name")),
    pl.col("month").dt.strftime("%Y-%m").alias(tr("suppliers_ui.col.month")),
    pl.col("score").alias(tr("suppliers_ui.col.score")),
    pl.col("nonconformities").alias(tr("suppliers_ui.col.nonconformities")),
    pl.col("breach_points").alias(tr("suppliers_ui.col.breach_points")),
    pl.col("deduction_amount").alias(tr("suppliers_ui.col.deduction")),
    pl.col("manual_points").alias(tr("suppliers_ui.col.manual_points")),
)
st.dataframe(contract_table, hide_index=True, placeholder=tr("finish.table.missing"))
excel_download(
    contract_table,
    tr("suppliers_ui.drill.export", supplier=str(supplier), period=period),
    key="supplier_contracts_excel",
)

# ---------------------------------------------------------------- drill: one contract's month

contracts = sorted(set(months_of["contract_no"].to_list()))
if not contracts:
    st.stop()
contract_no = st.selectbox(
    tr("suppliers_ui.drill.contract"), contracts, key="supplier_drill_contract"
)
history = scoped.suppliers.contract_months(contract_no=str(contract_no))
st.markdown(tr("suppliers_ui.drill.history", contract=md(contract_no)))
history_table = _decimal_columns(history).select(
    pl.col("month").dt.strftime("%Y-%m").alias(tr("suppliers_ui.col.month")),
    pl.col("score").alias(tr("suppliers_ui.col.score")),
    pl.col("nonconformities").alias(tr("suppliers_ui.col.nonconformities")),
    pl.col("breach_points").alias(tr("suppliers_ui.col.breach_points")),
    pl.col("deduction_amount").alias(tr("suppliers_ui.col.deduction")),
    pl.col("manual_points").alias(tr("suppliers_ui.col.manual_points")),
)
st.dataframe(history_table, hide_index=True, placeholder=tr("finish.table.missing"))
excel_download(
    history_table,
    tr("suppliers_ui.drill.history_export", contract=str(contract_no)),
    key="supplier_history_excel",
)
in_period = sorted(
    months_of.filter(pl.col("contract_no") == contract_no)["month"].to_list(), reverse=True
)
contract_months: list[date] = sorted(set(history["month"].to_list()), reverse=True)
if "supplier_drill_month" in st.session_state and (
    st.session_state["supplier_drill_month"] not in contract_months
):
    del st.session_state["supplier_drill_month"]
month = st.selectbox(
    tr("suppliers_ui.drill.month"),
    contract_months,
    index=contract_months.index(in_period[0]) if in_period else 0,
    format_func=lambda m: f"{m:%Y-%m}",
    key="supplier_drill_month",
)
try:
    with unit_of_work(operational_engine()) as db:
        view: ContractMonthView = contract_month(db, user, str(contract_no), month)
except NotFound:
    st.info(tr("suppliers_ui.drill.unknown", contract=md(contract_no)))
    st.stop()
st.markdown(
    tr(
        "suppliers_ui.drill.heading",
        contract=md(view.contract.contract_no),
        supplier=md(view.contract.supplier_name),
        office=md(view.contract.office_name),
        month=f"{view.month:%Y-%m}",
    )
)
figures = view.figures
if figures is not None:
    a, b, c, d = st.columns(4)
    a.metric(tr("suppliers_ui.col.score"), f"{figures.score:.2f}")
    b.metric(tr("suppliers_ui.col.nonconformities"), figures.nonconformities)
    c.metric(tr("suppliers_ui.col.breach_points"), figures.breach_points)
    d.metric(tr("suppliers_ui.col.deduction"), f"¥{figures.deduction_amount:,.2f}")
st.caption(tr("suppliers_ui.drill.live"))
zone = view.contract.timezone
nc_table = pl.DataFrame(
    {
        tr("suppliers_ui.col.nc_no"): [n.nc_no for n in view.nonconformities],
        tr("suppliers_ui.col.kind"): [
            tr(f"suppliers_ui.kind.{n.kind}") for n in view.nonconformities
        ],
        tr("suppliers_ui.col.opened"): [
            supplier_statement.local_text(n.opened_at, zone) for n in view.nonconformities
        ],
        tr("suppliers_ui.col.closed"): [
            supplier_statement.local_text(n.closed_at, zone) for n in view.nonconformities
        ],
        tr("suppliers_ui.col.breach_points"): [n.breach_points for n in view.nonconformities],
        tr("suppliers_ui.col.amount"): [float(n.amount) for n in view.nonconformities],
    },
    schema_overrides={
        tr("suppliers_ui.col.breach_points"): pl.Int64,
        tr("suppliers_ui.col.amount"): pl.Float64,
    },
)
st.dataframe(nc_table, hide_index=True, placeholder=tr("finish.table.missing"))
stem = supplier_statement.file_stem(view)
lang = language()
excel_col, pdf_col = st.columns(2)
with excel_col:
    st.download_button(
        tr("suppliers_ui.statement.excel"),
        data=lambda: supplier_statement.excel(view, lang),
        file_name=f"{stem}.xlsx",
        mime=XLSX_MIME,
        key="supplier_statement_excel",
        icon=":material/download:",
        on_click="ignore",
    )
with pdf_col:
    st.download_button(
        tr("suppliers_ui.statement.pdf"),
        data=lambda: supplier_statement.pdf(view, lang),
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        key="supplier_statement_pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
    )
