"""Quality review (品质审核) for internal audit: inspections and nonconformities by office.

Reads the published warehouse through ``QualityReader`` (``readers(VIEW_QUALITY_REVIEW)
.quality``), so the group's internal audit sees every office and a city company's audit manager
the offices of that city (docs/quality-marts.md). Filters: city company, office, discipline,
inspection kind and a range of months; ``?office=`` (the control tower's link) preselects one of
the user's offices. Shown: the totals of the selection, the trend by month (inspection score,
orders executed, nonconformities closed in time; failed items and nonconformities opened and
closed), then the table per office and per discipline and kind, and the inspection items that
fail most (``marts.inspection_item_failures``, a page at a time), each with its Excel download.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards import charts, paging
from dashboards.export import excel_download
from dashboards.session import readers, tr
from operational.auth import Permission
from warehouse.queries_quality import KINDS

ALL = ""
scoped = readers(Permission.VIEW_QUALITY_REVIEW)
st.title(tr("quality.title"))
st.caption(tr("quality.intro"))

if scoped.org.build_info() is None:
    st.info(tr("quality.not_published"))
    st.stop()
months_frame = scoped.quality.months()
if months_frame.is_empty():
    st.info(tr("quality.none"))
    st.stop()

offices = scoped.org.org_overview()
cities = dict(zip(offices["city_code"], offices["city_name"], strict=True))
office_names = dict(zip(offices["office_code"], offices["office_name"], strict=True))
asked = st.query_params.get("office")  # ?office=: a control-tower link preselects it
if asked in office_names and "quality_office" not in st.session_state:
    st.session_state["quality_office"] = asked
    st.session_state["quality_city"] = offices.filter(pl.col("office_code") == asked)["city_code"][
        0
    ]

top = st.columns(3)
city = top[0].selectbox(
    tr("quality.city"),
    [ALL, *sorted(cities)],
    format_func=lambda code: tr("quality.all") if code == ALL else f"{code} {cities[code]}",
    key="quality_city",
)
in_city = sorted(
    code
    for code, c in zip(offices["office_code"], offices["city_code"], strict=True)
    if city == ALL or c == city
)
if st.session_state.get("quality_office") not in (ALL, *in_city):
    st.session_state.pop("quality_office", None)
office = top[1].selectbox(
    tr("quality.office"),
    [ALL, *in_city],
    format_func=lambda code: tr("quality.all") if code == ALL else f"{code} {office_names[code]}",
    key="quality_office",
)
discipline = top[2].selectbox(
    tr("quality.discipline"),
    [ALL, *sorted(set(months_frame["discipline"].to_list()))],
    format_func=lambda code: tr("quality.all") if code == ALL else tr(f"discipline.{code}"),
    key="quality_discipline",
)
bottom = st.columns(3)
kind = bottom[0].selectbox(
    tr("quality.kind"),
    [ALL, *KINDS],
    format_func=lambda code: tr("quality.all") if code == ALL else tr(f"quality.kinds.{code}"),
    key="quality_kind",
)
months: list[date] = sorted(set(months_frame["month"].to_list()))
default_first = months[max(0, len(months) - 12)]
first = bottom[1].selectbox(
    tr("quality.first_month"),
    months,
    index=months.index(default_first),
    format_func=lambda m: f"{m:%Y-%m}",
    key="quality_first",
)
last = bottom[2].selectbox(
    tr("quality.last_month"),
    months,
    index=len(months) - 1,
    format_func=lambda m: f"{m:%Y-%m}",
    key="quality_last",
)
if first > last:
    st.warning(tr("quality.bad_range"))
    st.stop()


def _review(*by: str) -> pl.DataFrame:
    """The review of the chosen filters, summed per ``by`` (docs/quality-marts.md)."""
    return scoped.quality.review(
        by=by,
        city_code=str(city or ""),
        office_code=str(office or ""),
        discipline=str(discipline or ""),
        inspection_kind=str(kind or ""),
        start=first,
        end=last,
    )


# ---------------------------------------------------------------- totals


def _number(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


total = _review()
if total.is_empty():
    st.info(tr("quality.nothing_selected"))
    st.stop()
t = total.row(0, named=True)
a, b, c, d = st.columns(4)
a.metric(tr("quality.col.inspection_score"), _number(t["inspection_score"]))
b.metric(
    tr("quality.col.execution_pct"),
    _number(t["execution_pct"], suffix=" %"),
    help=tr("quality.help.execution", executed=t["orders_executed"], due=t["orders_due"]),
)
c.metric(tr("quality.col.items_failed"), f"{t['items_failed']:,}")
d.metric(
    tr("quality.col.closure_compliance_pct"),
    _number(t["closure_compliance_pct"], suffix=" %"),
    help=tr(
        "quality.help.compliance",
        met=t["nc_clocks_met"],
        finished=t["nc_clocks_met"] + t["nc_clocks_breached"],
    ),
)
e, f, g, h = st.columns(4)
e.metric(tr("quality.col.plans_approved"), f"{t['plans_approved']:,}")
f.metric(tr("quality.col.nonconformities_opened"), f"{t['nonconformities_opened']:,}")
g.metric(tr("quality.col.nonconformities_closed"), f"{t['nonconformities_closed']:,}")
h.metric(tr("quality.col.mean_closure_hours"), _number(t["mean_closure_hours"]))

# ---------------------------------------------------------------- by month

monthly = _review("month")
st.plotly_chart(
    charts.quality_trend(
        monthly,
        title=tr("quality.chart.trend"),
        y_label=tr("quality.chart.pct"),
        score_label=tr("quality.col.inspection_score"),
        execution_label=tr("quality.col.execution_pct"),
        compliance_label=tr("quality.col.closure_compliance_pct"),
    ),
    use_container_width=True,
)
st.plotly_chart(
    charts.quality_nonconformities(
        monthly,
        title=tr("quality.chart.nonconformities"),
        y_label=tr("quality.chart.count"),
        failed_label=tr("quality.col.items_failed"),
        opened_label=tr("quality.col.nonconformities_opened"),
        closed_label=tr("quality.col.nonconformities_closed"),
    ),
    use_container_width=True,
)


def _measures(frame: pl.DataFrame) -> list[pl.Expr]:
    return [
        pl.col("plans_approved").alias(tr("quality.col.plans_approved")),
        pl.col("orders_due").alias(tr("quality.col.orders_due")),
        pl.col("orders_executed").alias(tr("quality.col.orders_executed")),
        pl.col("execution_pct").round(1).alias(tr("quality.col.execution_pct")),
        pl.col("inspection_score").round(1).alias(tr("quality.col.inspection_score")),
        pl.col("items_scored").alias(tr("quality.col.items_scored")),
        pl.col("items_failed").alias(tr("quality.col.items_failed")),
        pl.col("nonconformities_opened").alias(tr("quality.col.nonconformities_opened")),
        pl.col("nonconformities_closed").alias(tr("quality.col.nonconformities_closed")),
        pl.col("mean_closure_hours").round(1).alias(tr("quality.col.mean_closure_hours")),
        pl.col("closure_compliance_pct").round(1).alias(tr("quality.col.closure_compliance_pct")),
    ]


span = f"{first:%Y-%m}_{last:%Y-%m}"
st.subheader(tr("quality.by_month"))
month_table = monthly.select(
    pl.col("month").dt.strftime("%Y-%m").alias(tr("quality.col.month")), *_measures(monthly)
)
st.dataframe(month_table, hide_index=True, placeholder=tr("finish.table.missing"))
excel_download(month_table, tr("quality.export.months", span=span), key="quality_months_excel")

# ---------------------------------------------------------------- by office

st.subheader(tr("quality.by_office"))
per_office = _review("office")
office_table = per_office.select(
    pl.col("city_name").alias(tr("quality.col.city")),
    pl.col("office_code").alias(tr("quality.col.office_code")),
    pl.col("office_name").alias(tr("quality.col.office_name")),
    *_measures(per_office),
)
st.dataframe(office_table, hide_index=True, placeholder=tr("finish.table.missing"))
excel_download(office_table, tr("quality.export.offices", span=span), key="quality_offices_excel")

# ---------------------------------------------------------------- by discipline and kind

st.subheader(tr("quality.by_discipline"))
per_discipline = _review("discipline")
discipline_table = per_discipline.select(
    pl.col("discipline")
    .map_elements(lambda code: tr(f"discipline.{code}"), return_dtype=pl.String)
    .alias(tr("quality.col.discipline")),
    pl.col("kind")
    .map_elements(lambda code: tr(f"quality.kinds.{code}"), return_dtype=pl.String)
    .alias(tr("quality.col.kind")),
    *_measures(per_discipline),
)
st.dataframe(discipline_table, hide_index=True, placeholder=tr("finish.table.missing"))
excel_download(
    discipline_table, tr("quality.export.disciplines", span=span), key="quality_disciplines_excel"
)

# ---------------------------------------------------------------- the items that fail most

st.subheader(tr("qualitygaps.items.title"))
st.caption(tr("qualitygaps.items.caption"))
item_filters = {
    "city_code": str(city or ""),
    "office_code": str(office or ""),
    "discipline": str(discipline or ""),
    "inspection_kind": str(kind or ""),
    "start": first,
    "end": last,
}
failing = scoped.quality.failed_items_count(**item_filters)


def _items_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("item_name").alias(tr("qualitygaps.items.col.item")),
        pl.col("discipline")
        .map_elements(lambda code: tr(f"discipline.{code}"), return_dtype=pl.String)
        .alias(tr("quality.col.discipline")),
        pl.col("office_code").alias(tr("quality.col.office_code")),
        pl.col("office_name").alias(tr("quality.col.office_name")),
        pl.col("items_failed").alias(tr("qualitygaps.items.col.failures")),
        pl.col("items_scored").alias(tr("qualitygaps.items.col.inspections")),
        pl.col("failed_pct").round(1).alias(tr("qualitygaps.items.col.failed_pct")),
    )


if failing == 0:
    st.info(tr("qualitygaps.items.none"))
else:
    items_page = paging.pager(failing, size=paging.FAILED_ITEMS, key="quality_items_page")
    items_table = _items_table(
        scoped.quality.failed_items(
            **item_filters, limit=items_page.limit, offset=items_page.offset
        )
    )
    st.dataframe(items_table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(
        lambda: _items_table(scoped.quality.failed_items(**item_filters, limit=failing)),
        tr("qualitygaps.items.export", span=span),
        key="quality_items_excel",
    )
st.caption(tr("quality.rule"))
