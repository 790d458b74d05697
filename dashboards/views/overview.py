"""HQ overview (总部总览): the group → city company → office tree from the published warehouse.

Reads only the published warehouse (``WarehouseReader``), never the operational database, so it
keeps working while a pipeline run builds the next version. Rows are limited to the offices the
user may see.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import charts
from dashboards.export import excel_download
from dashboards.session import readers, tr
from operational.auth import Permission

DISPLAY_ZONE = "Asia/Shanghai"
COLUMNS = ("group_name", "city_code", "city_name", "office_code", "office_name", "timezone")


def local_time(moment: datetime) -> str:
    """A warehouse timestamp (UTC) as the group's office clock reads it."""
    return moment.astimezone(ZoneInfo(DISPLAY_ZONE)).strftime("%Y-%m-%d %H:%M")


def org_table(org: pl.DataFrame) -> pl.DataFrame:
    """The tree as a table, one row per office, with translated column headers."""
    return (
        org.sort("city_code", "office_code")
        .select(COLUMNS)
        .rename({column: tr(f"dashboards.overview.col.{column}") for column in COLUMNS})
    )


def render() -> None:
    reader = readers(Permission.VIEW_OVERVIEW).org
    st.title(tr("dashboards.overview.title"))
    info = reader.build_info()
    if info is None:
        st.info(tr("dashboards.overview.not_published"), icon=":material/hourglass_empty:")
        return
    st.caption(
        tr(
            "dashboards.overview.published",
            built_at=local_time(info["built_at"]),
            as_of=local_time(info["as_of"]),
            zone=DISPLAY_ZONE,
        ),
        help=tr("dashboards.overview.version", version=info["version"]),
    )
    org = reader.org_overview()
    if org.is_empty():
        st.info(tr("dashboards.overview.no_offices"))
        return

    cities, offices = st.columns(2)
    cities.metric(tr("dashboards.overview.kpi_cities"), org["city_code"].n_unique(), border=True)
    offices.metric(tr("dashboards.overview.kpi_offices"), org.height, border=True)

    st.plotly_chart(
        charts.offices_per_city(
            org,
            title=tr("dashboards.overview.chart_title"),
            x_label=tr("dashboards.overview.kpi_offices"),
            y_label=tr("dashboards.overview.col.city_name"),
        ),
        config={"displayModeBar": False},
    )

    st.subheader(tr("dashboards.overview.table_title"))
    table = org_table(org)
    st.dataframe(table, hide_index=True)
    excel_download(table, tr("dashboards.overview.table_title"), key="overview_excel")


render()
