"""SLA compliance (工单时效达标率) for headquarters: office × discipline × month heat-map.

Reads only the published SLA marts (``SlaReader``), limited to the offices the user may see.
Filters: document type and a range of months. Below the heat-map, the late orders (breached
clocks) of one cell, office, discipline or month — chosen with select boxes, which work on a
phone and in tests alike. Every table has an Excel download.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import charts
from dashboards.export import excel_download
from dashboards.session import readers, tr
from operational.auth import Permission
from warehouse.queries_sla import SlaReader

DISPLAY_ZONE = "Asia/Shanghai"
DOCUMENT_TYPES = ("", "periodic_order", "corrective_order")
ALL = ""


def month_text(month: date) -> str:
    return month.strftime("%Y-%m")


def local_text(moment: datetime | None) -> str:
    """A mart instant (UTC, stored without zone) on the group's office clock."""
    if moment is None:
        return ""
    return (
        moment.replace(tzinfo=ZoneInfo("UTC"))
        .astimezone(ZoneInfo(DISPLAY_ZONE))
        .strftime("%Y-%m-%d %H:%M")
    )


def discipline_name(code: str | None) -> str:
    return tr(f"discipline.{code}") if code else "—"


def heatmap_rows(heat: pl.DataFrame) -> pl.DataFrame:
    """The heat-map cells with a translated row label ``office code office name · discipline``."""
    labels = {
        (r["office_code"], r["discipline"]): (
            f"{r['office_code']} {r['office_name'] or ''} · {discipline_name(r['discipline'])}"
        )
        for r in heat.select("office_code", "office_name", "discipline")
        .unique()
        .iter_rows(named=True)
    }
    return heat.with_columns(
        pl.struct("office_code", "discipline")
        .map_elements(lambda k: labels[(k["office_code"], k["discipline"])], return_dtype=pl.String)
        .alias("row")
    )


def cells_table(heat: pl.DataFrame) -> pl.DataFrame:
    """The heat-map as a table, with translated headers."""
    return heat.select(
        pl.col("office_code").alias(tr("maint_ui.col.office_code")),
        pl.col("office_name").alias(tr("maint_ui.col.office_name")),
        pl.col("discipline")
        .map_elements(discipline_name, return_dtype=pl.String)
        .alias(tr("maint_ui.col.discipline")),
        pl.col("month").dt.strftime("%Y-%m").alias(tr("maint_ui.col.month")),
        pl.col("total").alias(tr("maint_ui.col.total")),
        pl.col("met").alias(tr("sla.met")),
        pl.col("breached").alias(tr("sla.breached")),
        pl.col("pending").alias(tr("sla.pending")),
        pl.col("compliance_pct").round(1).alias(tr("maint_ui.col.compliance_pct")),
    )


def late_table(late: pl.DataFrame) -> pl.DataFrame:
    """The late orders with translated headers and values, times in office time."""
    return pl.DataFrame(
        {
            tr("maint_ui.col.document_no"): late["document_no"].to_list(),
            tr("maint_ui.col.office_code"): late["office_code"].to_list(),
            tr("maint_ui.col.discipline"): [
                discipline_name(d) for d in late["discipline"].to_list()
            ],
            tr("maint_ui.col.document_type"): [
                tr(f"workflow.document.{d}") for d in late["document_type"].to_list()
            ],
            tr("maint_ui.col.started_at"): [local_text(m) for m in late["started_at"].to_list()],
            tr("maint_ui.col.due_at"): [local_text(m) for m in late["due_at"].to_list()],
            tr("maint_ui.col.stopped_at"): [local_text(m) for m in late["stopped_at"].to_list()],
            tr("maint_ui.col.late_hours"): [
                round((m or 0.0) / 60, 1) for m in late["late_minutes"].to_list()
            ],
        },
        schema={
            tr("maint_ui.col.document_no"): pl.String,
            tr("maint_ui.col.office_code"): pl.String,
            tr("maint_ui.col.discipline"): pl.String,
            tr("maint_ui.col.document_type"): pl.String,
            tr("maint_ui.col.started_at"): pl.String,
            tr("maint_ui.col.due_at"): pl.String,
            tr("maint_ui.col.stopped_at"): pl.String,
            tr("maint_ui.col.late_hours"): pl.Float64,
        },
    )


def filters(months: list[date]) -> tuple[str, date, date]:
    """Document type and month range, in a row that stacks on a phone."""
    types = {
        code: tr(f"workflow.document.{code}") if code else tr("maint_ui.all")
        for code in DOCUMENT_TYPES
    }
    labels = {m: month_text(m) for m in months}
    kind, first, last = st.columns(3)
    document_type = kind.selectbox(
        tr("maint_ui.sla.document_type"),
        list(types),
        format_func=types.__getitem__,
        key="sla_document_type",
    )
    start = first.selectbox(
        tr("maint_ui.sla.first_month"),
        months,
        index=max(0, len(months) - 12),
        format_func=labels.__getitem__,
        key="sla_first_month",
    )
    end = last.selectbox(
        tr("maint_ui.sla.last_month"),
        months,
        index=len(months) - 1,
        format_func=labels.__getitem__,
        key="sla_last_month",
    )
    if start > end:
        start, end = end, start
    return str(document_type), start, end


@dataclass(frozen=True)
class LateFilter:
    """The late-order list's filters, as chosen in the drill-down."""

    office_code: str | None
    discipline: str | None
    document_type: str | None
    first_month: date
    last_month: date

    def params(self) -> dict[str, Any]:
        return asdict(self)


def drill_down(reader: SlaReader, heat: pl.DataFrame, document_type: str) -> None:
    st.subheader(tr("sla.late_orders"))
    st.caption(tr("maint_ui.sla.drill_hint", zone=DISPLAY_ZONE))
    office_names = {ALL: tr("maint_ui.all")} | {
        r["office_code"]: f"{r['office_code']} {r['office_name'] or ''}"
        for r in heat.select("office_code", "office_name")
        .unique()
        .sort("office_code")
        .iter_rows(named=True)
    }
    disciplines = {ALL: tr("maint_ui.all")} | {
        d: discipline_name(d) for d in sorted(set(heat["discipline"].drop_nulls().to_list()))
    }
    months: dict[date | None, str] = {None: tr("maint_ui.all")} | {
        m: month_text(m) for m in sorted(set(heat["month"].to_list()))
    }
    office_box, discipline_box, month_box = st.columns(3)
    office = office_box.selectbox(
        tr("maint_ui.col.office_code"),
        list(office_names),
        format_func=office_names.__getitem__,
        key="sla_drill_office",
    )
    discipline = discipline_box.selectbox(
        tr("maint_ui.col.discipline"),
        list(disciplines),
        format_func=disciplines.__getitem__,
        key="sla_drill_discipline",
    )
    month = month_box.selectbox(
        tr("maint_ui.col.month"),
        list(months),
        format_func=months.__getitem__,
        key="sla_drill_month",
    )
    if month is None:
        first, last = heat["month"].min(), heat["month"].max()
    else:
        first = last = month
    chosen = LateFilter(office or None, discipline or None, document_type or None, first, last)
    count = reader.late_orders_count(**chosen.params())
    late = reader.late_orders(**chosen.params(), limit=max(count, 1))
    if late.is_empty():
        st.info(tr("maint_ui.sla.no_late"))
        return
    st.caption(tr("maint_ui.sla.late_count", count=late.height))
    table = late_table(late)
    st.dataframe(table, hide_index=True)
    excel_download(table, tr("sla.late_orders"), key="sla_late_excel")


def render() -> None:
    reader = readers(Permission.VIEW_OVERVIEW).sla
    st.title(tr("maint_ui.sla.title"))
    everything = reader.compliance_heatmap()
    if everything.is_empty():
        st.info(tr("maint_ui.sla.no_data"), icon=":material/hourglass_empty:")
        return
    months = sorted(set(everything["month"].to_list()))
    document_type, first, last = filters(months)
    heat = reader.compliance_heatmap(
        first_month=first, last_month=last, document_type=document_type or None
    )
    if heat.is_empty():
        st.info(tr("maint_ui.sla.no_data_filtered"))
        return

    met, breached = int(heat["met"].sum()), int(heat["breached"].sum())
    overall = 100.0 * met / (met + breached) if met + breached else None
    a, b, c = st.columns(3)
    a.metric(
        tr("maint_ui.col.compliance_pct"),
        "—" if overall is None else f"{overall:.1f} %",
        border=True,
    )
    b.metric(tr("sla.breached"), breached, border=True)
    c.metric(tr("sla.pending"), int(heat["pending"].sum()), border=True)

    st.plotly_chart(
        charts.sla_heatmap(
            heatmap_rows(heat),
            title=tr("maint_ui.sla.chart_title"),
            x_label=tr("maint_ui.col.month"),
            y_label=tr("maint_ui.sla.rows"),
            colour_label=tr("sla.compliance"),
            met_label=tr("sla.met"),
            breached_label=tr("sla.breached"),
            pending_label=tr("sla.pending"),
        ),
        config={"displayModeBar": False},
        key="sla_heatmap",
    )
    with st.expander(tr("maint_ui.sla.cells_title")):
        table = cells_table(heat)
        st.dataframe(table, hide_index=True)
        excel_download(table, tr("maint_ui.sla.cells_title"), key="sla_cells_excel")

    drill_down(reader, heat, document_type)


render()
