"""Office workload (管理处工作量): open and overdue orders, throughput and plan coverage.

Reads only the published marts (``SlaReader.office_workload``, ``order_throughput``), limited to
the offices the user may see. The objects themselves that lack a plan are listed, for the office's
own staff, on the plans page (from the operational services).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts
from dashboards.export import excel_download
from dashboards.session import readers, tr
from operational.auth import Permission

COLUMNS = (
    "office_code",
    "office_name",
    "open_orders",
    "overdue_orders",
    "closed_last_30d",
    "objects",
    "objects_without_plan",
    "plan_coverage_pct",
)


def workload_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        *[pl.col(c).round(1) if c == "plan_coverage_pct" else pl.col(c) for c in COLUMNS]
    ).rename({c: tr(f"maint_ui.col.{c}") for c in COLUMNS})


def throughput_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("office_code").alias(tr("maint_ui.col.office_code")),
        pl.col("month").dt.strftime("%Y-%m").alias(tr("maint_ui.col.month")),
        pl.col("created").alias(tr("maint_ui.workload.created")),
        pl.col("closed").alias(tr("maint_ui.workload.closed")),
    )


def render() -> None:
    reader = readers(Permission.VIEW_OVERVIEW).sla
    st.title(tr("maint_ui.workload.title"))
    workload = reader.office_workload()
    if workload.is_empty():
        st.info(tr("maint_ui.sla.no_data"), icon=":material/hourglass_empty:")
        return
    open_, overdue, closed, coverage = st.columns(4)
    open_.metric(tr("maint_ui.col.open_orders"), int(workload["open_orders"].sum()), border=True)
    overdue.metric(
        tr("maint_ui.col.overdue_orders"), int(workload["overdue_orders"].sum()), border=True
    )
    closed.metric(
        tr("maint_ui.col.closed_last_30d"), int(workload["closed_last_30d"].sum()), border=True
    )
    objects = int(workload["objects"].sum())
    without = int(workload["objects_without_plan"].sum())
    coverage.metric(
        tr("maint_ui.col.plan_coverage_pct"),
        f"{100.0 * (objects - without) / objects:.1f} %" if objects else "—",
        border=True,
    )

    st.subheader(tr("maint_ui.workload.table_title"))
    table = workload_table(workload)
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(table, tr("maint_ui.workload.table_title"), key="workload_excel")

    throughput = reader.order_throughput()
    if not throughput.is_empty():
        st.plotly_chart(
            charts.order_throughput(
                throughput,
                title=tr("maint_ui.workload.chart_title"),
                y_label=tr("maint_ui.workload.orders"),
                created_label=tr("maint_ui.workload.created"),
                closed_label=tr("maint_ui.workload.closed"),
            ),
            config={"displayModeBar": False},
            key="workload_throughput",
        )
        with st.expander(tr("maint_ui.workload.throughput_title")):
            months = throughput_table(throughput)
            st.dataframe(months, hide_index=True, placeholder=tr("finish.table.missing"))
            excel_download(months, tr("maint_ui.workload.throughput_title"), key="throughput_excel")


render()
