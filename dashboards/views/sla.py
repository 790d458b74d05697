"""SLA compliance (工单时效达标率) for headquarters, audit and offices: heat-maps by month.

Reads only the published SLA marts (``SlaReader``), limited to the offices the user may see.
Filters: document type and a range of months. Aggregate first, so the page stays readable at
500 offices: the city companies × months (when the user sees more than one), then the offices
of one chosen city company × months, the worst first and a page of them at a time, then the
disciplines × months of one chosen office. Below them every late order (breached clock) of the
chosen months, or of one office, discipline or month — its count, a page at a time, and an
Excel export of all of them. Choices are select boxes, which work on a phone and in tests alike.
Every table has an Excel download.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import charts, paging
from dashboards.export import excel_download
from dashboards.session import language, readers, tr
from operational.auth import Permission
from operational.i18n import catalogue
from operational.models import Discipline
from warehouse.queries_sla import SlaReader
from warehouse.queries_tickets import TicketReader

DISPLAY_ZONE = "Asia/Shanghai"
DOCUMENT_TYPES = ("", "periodic_order", "corrective_order")
ALL = ""
CUSTOMER_SERVICE = "customer_service"  # the ticket clocks' discipline (docs/tickets.md)


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


def document_name(code: str) -> str:
    """A document type's name (a ticket type's too, once the catalogue names it)."""
    key = f"workflow.document.{code}"
    return tr(key) if key in catalogue(language()) else code


def labelled(frame: pl.DataFrame, key: str, labels: dict[str, str]) -> pl.DataFrame:
    """``frame`` with the heat-map's row label (``row``) of each value of ``key``."""
    return frame.with_columns(
        pl.col(key).fill_null("").replace_strict(labels, return_dtype=pl.String).alias("row")
    )


def worst_first(frame: pl.DataFrame, key: str) -> list[str]:
    """The values of ``key`` by their compliance over all of ``frame``'s months, the lowest
    first (those without a finished clock last), then by code."""
    overall = (
        frame.with_columns(pl.col(key).fill_null(""))
        .group_by(key)
        .agg(pl.col("met").sum(), pl.col("breached").sum())
        .with_columns(
            pl.when(pl.col("met") + pl.col("breached") > 0)
            .then(100.0 * pl.col("met") / (pl.col("met") + pl.col("breached")))
            .alias("pct")
        )
        .sort(["pct", key], nulls_last=True)
    )
    return [str(code) for code in overall[key].to_list()]


def heatmap(frame: pl.DataFrame, *, title: str, rows_label: str, key: str) -> None:
    """One heat-map of ``frame`` (already labelled, in the order of its rows)."""
    st.plotly_chart(
        charts.sla_heatmap(
            frame,
            title=title,
            x_label=tr("maint_ui.col.month"),
            y_label=rows_label,
            colour_label=tr("sla.compliance"),
            met_label=tr("sla.met"),
            breached_label=tr("sla.breached"),
            pending_label=tr("sla.pending"),
        ),
        config={"displayModeBar": False},
        key=key,
    )


def in_order(frame: pl.DataFrame, key: str, order: list[str]) -> pl.DataFrame:
    """``frame``'s rows of the values ``order`` names, in that order (month by month)."""
    rank = pl.DataFrame({key: order, "_rank": list(range(len(order)))})
    return (
        frame.with_columns(pl.col(key).fill_null(""))
        .join(rank, on=key)
        .sort("_rank", "month")
        .drop("_rank")
    )


def counts_columns() -> list[pl.Expr]:
    return [
        pl.col("month").dt.strftime("%Y-%m").alias(tr("maint_ui.col.month")),
        pl.col("total").alias(tr("maint_ui.col.total")),
        pl.col("met").alias(tr("sla.met")),
        pl.col("breached").alias(tr("sla.breached")),
        pl.col("pending").alias(tr("sla.pending")),
        pl.col("compliance_pct").round(1).alias(tr("maint_ui.col.compliance_pct")),
    ]


def cells_table(heat: pl.DataFrame) -> pl.DataFrame:
    """Office × discipline × month cells as a table, with translated headers."""
    return heat.select(
        pl.col("office_code").alias(tr("maint_ui.col.office_code")),
        pl.col("office_name").alias(tr("maint_ui.col.office_name")),
        pl.col("discipline")
        .map_elements(discipline_name, return_dtype=pl.String)
        .alias(tr("maint_ui.col.discipline")),
        *counts_columns(),
    )


def cities_table(cities: pl.DataFrame) -> pl.DataFrame:
    """City company × month cells as a table."""
    return cities.select(
        pl.col("city_code").alias(tr("tower.col.code")),
        pl.col("city_name").alias(tr("tower.col.city")),
        pl.col("offices").alias(tr("sla_page.offices")),
        *counts_columns(),
    )


def offices_table(offices: pl.DataFrame) -> pl.DataFrame:
    """Office × month cells (every discipline) as a table."""
    return offices.select(
        pl.col("office_code").alias(tr("maint_ui.col.office_code")),
        pl.col("office_name").alias(tr("maint_ui.col.office_name")),
        *counts_columns(),
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
                document_name(d) for d in late["document_type"].to_list()
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


def drill_down(
    reader: SlaReader, offices: pl.DataFrame, document_type: str, first: date, last: date
) -> None:
    """Every late order (breached clock) of the chosen months, or of one office, discipline or
    month among them: the count, a page at a time, and an Excel export of all of them."""
    st.subheader(tr("sla.late_orders"), anchor=False)
    st.caption(tr("maint_ui.sla.drill_hint", zone=DISPLAY_ZONE))
    office_names = {ALL: tr("maint_ui.all")} | {
        r["office_code"]: f"{r['office_code']} {r['office_name'] or ''}"
        for r in offices.select("office_code", "office_name")
        .unique()
        .sort("office_code")
        .iter_rows(named=True)
    }
    disciplines = {ALL: tr("maint_ui.all")} | {
        d: discipline_name(d) for d in (*(d.value for d in Discipline), CUSTOMER_SERVICE)
    }
    months: dict[date | None, str] = {None: tr("maint_ui.all")} | {
        m: month_text(m) for m in sorted(set(offices["month"].to_list()))
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
    chosen = LateFilter(
        office or None,
        discipline or None,
        document_type or None,
        month or first,
        month or last,
    )
    count = reader.late_orders_count(**chosen.params())
    if count == 0:
        st.info(tr("maint_ui.sla.no_late"))
        return
    st.caption(tr("maint_ui.sla.late_count", count=count))
    page = paging.pager(count, size=paging.LATE_ORDERS, key="sla_late_page")
    late = reader.late_orders(**chosen.params(), limit=page.limit, offset=page.offset)
    st.dataframe(late_table(late), hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(
        lambda: late_table(reader.late_orders(**chosen.params(), limit=count)),
        tr("sla.late_orders"),
        key="sla_late_excel",
    )


def city_level(reader: SlaReader, cities: pl.DataFrame) -> str:
    """The city companies × months (the user's offices summed per city company), the worst
    first; returns the city company chosen to open (the worst, until another is chosen)."""
    order = worst_first(cities, "city_code")
    labels = {
        r["city_code"]: tr(
            "sla_page.city_label",
            code=r["city_code"],
            name=r["city_name"] or "",
            offices=r["offices"],
        )
        for r in cities.group_by("city_code")
        .agg(pl.col("city_name").first(), pl.col("offices").max())
        .iter_rows(named=True)
    }
    heatmap(
        labelled(in_order(cities, "city_code", order), "city_code", labels),
        title=tr("sla_page.cities_chart"),
        rows_label=tr("sla_page.city_rows"),
        key="sla_heatmap_cities",
    )
    with st.expander(tr("sla_page.cities_table")):
        table = cities_table(cities)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, tr("sla_page.cities_table"), key="sla_cities_excel")
    return str(
        st.selectbox(tr("sla_page.city"), order, format_func=labels.__getitem__, key="sla_city")
    )


def office_level(offices: pl.DataFrame) -> str:
    """The offices of one city company × months, the worst first, a page at a time; returns
    the office chosen to open (the worst, until another is chosen)."""
    order = worst_first(offices, "office_code")
    labels = {
        r["office_code"]: f"{r['office_code']} {r['office_name'] or ''}"
        for r in offices.select("office_code", "office_name").unique().iter_rows(named=True)
    }
    page = paging.pager(len(order), size=paging.NODES, key="sla_offices_page")
    shown = order[page.offset : page.last]
    heatmap(
        labelled(in_order(offices, "office_code", shown), "office_code", labels),
        title=tr("sla_page.offices_chart"),
        rows_label=tr("sla_page.office_rows"),
        key="sla_heatmap_offices",
    )
    with st.expander(tr("sla_page.offices_table")):
        table = offices_table(offices)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, tr("sla_page.offices_table"), key="sla_offices_excel")
    if st.session_state.get("sla_office") not in order:
        st.session_state.pop("sla_office", None)  # another city company since: its worst
    return str(
        st.selectbox(tr("sla_page.office"), order, format_func=labels.__getitem__, key="sla_office")
    )


def discipline_level(heat: pl.DataFrame, office_code: str) -> None:
    """One office's disciplines × months."""
    order = worst_first(heat, "discipline")
    labels = {code: discipline_name(code or None) for code in order}
    heatmap(
        labelled(in_order(heat, "discipline", order), "discipline", labels),
        title=tr("sla_page.disciplines_chart", code=office_code),
        rows_label=tr("sla_page.discipline_rows"),
        key="sla_heatmap",
    )
    with st.expander(tr("sla_page.cells_table")):
        table = cells_table(heat)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, tr("sla_page.cells_table"), key="sla_cells_excel")


def render() -> None:
    scoped = readers(Permission.VIEW_OVERVIEW)
    reader, tickets = scoped.sla, scoped.tickets
    st.title(tr("maint_ui.sla.title"))
    months = reader.months()
    if not months:
        st.info(tr("maint_ui.sla.no_data"), icon=":material/hourglass_empty:")
        ticket_clocks(tickets)
        return
    document_type, first, last = filters(months)
    chosen = {"first_month": first, "last_month": last, "document_type": document_type or None}
    cities = reader.compliance_by_city(**chosen)
    if cities.is_empty():
        st.info(tr("maint_ui.sla.no_data_filtered"))
        ticket_clocks(tickets)
        return

    met, breached = int(cities["met"].sum()), int(cities["breached"].sum())
    overall = 100.0 * met / (met + breached) if met + breached else None
    a, b, c = st.columns(3)
    a.metric(
        tr("maint_ui.col.compliance_pct"),
        "—" if overall is None else f"{overall:.1f} %",
        border=True,
    )
    b.metric(tr("sla.breached"), breached, border=True)
    c.metric(tr("sla.pending"), int(cities["pending"].sum()), border=True)

    city = city_level(reader, cities) if cities["city_code"].n_unique() > 1 else None
    offices = reader.compliance_by_office(city_code=city, **chosen)
    if offices["office_code"].n_unique() > 1:
        office = office_level(offices)
    else:
        office = offices["office_code"][0]
    discipline_level(reader.compliance_heatmap(office_code=office, **chosen), office)

    everywhere = offices if city is None else reader.compliance_by_office(**chosen)
    drill_down(reader, everywhere, document_type, first, last)
    ticket_clocks(tickets)


TICKET_TYPES = ("", "inquiry", "repair", "complaint")
TICKET_CLOCKS = ("", "pickup", "on_site", "resolution", "escalated_resolution")


def shift_label(night: bool) -> str:
    return tr("ticketboard.sla.night" if night else "ticketboard.sla.day")


def clock_row(cell: dict[str, Any]) -> str:
    """A heat-map row: the clock and day or night (``pickup · night``)."""
    clock = tr(f"ticketboard.clock.{cell['clock']}")
    return f"{clock} · {shift_label(cell['night_service'])}"


def compliance(met: int, breached: int) -> float | None:
    return 100.0 * met / (met + breached) if met + breached else None


def ticket_table(clocks: pl.DataFrame) -> pl.DataFrame:
    """Ticket clocks per office, type, clock, month and day or night, translated."""
    return clocks.select(
        pl.col("office_code").alias(tr("maint_ui.col.office_code")),
        pl.col("office_name").alias(tr("maint_ui.col.office_name")),
        pl.col("type")
        .map_elements(lambda v: tr(f"ticketboard.type.{v}"), return_dtype=pl.String)
        .alias(tr("ticketboard.sla.type")),
        pl.col("clock")
        .map_elements(lambda v: tr(f"ticketboard.clock.{v}"), return_dtype=pl.String)
        .alias(tr("ticketboard.sla.clock")),
        pl.col("night_service")
        .map_elements(shift_label, return_dtype=pl.String)
        .alias(tr("ticketboard.sla.shift")),
        *counts_columns(),
    )


def ticket_clocks(reader: TicketReader) -> None:
    """Ticket SLA compliance (customer service): clocks by office, type, clock and month, split
    between tickets received in working hours (day) and outside them (night service)."""
    st.subheader(tr("ticketboard.sla.title"), anchor=False)
    months = reader.ticket_months()
    if not months:
        st.info(tr("ticketboard.sla.no_data"))
        return
    offices = reader.org_overview()
    office_names = {ALL: tr("maint_ui.all")} | {
        r["office_code"]: f"{r['office_code']} {r['office_name'] or ''}"
        for r in offices.iter_rows(named=True)
    }
    types = {v: tr(f"ticketboard.type.{v}") if v else tr("maint_ui.all") for v in TICKET_TYPES}
    clocks = {v: tr(f"ticketboard.clock.{v}") if v else tr("maint_ui.all") for v in TICKET_CLOCKS}
    labels = {m: month_text(m) for m in months}
    office_box, type_box, clock_box = st.columns(3)
    office = office_box.selectbox(
        tr("maint_ui.col.office_code"),
        list(office_names),
        format_func=office_names.__getitem__,
        key="sla_ticket_office",
    )
    ticket_type = type_box.selectbox(
        tr("ticketboard.sla.type"),
        list(types),
        format_func=types.__getitem__,
        key="sla_ticket_type",
    )
    clock = clock_box.selectbox(
        tr("ticketboard.sla.clock"),
        list(clocks),
        format_func=clocks.__getitem__,
        key="sla_ticket_clock",
    )
    first_box, last_box = st.columns(2)
    first = first_box.selectbox(
        tr("maint_ui.sla.first_month"),
        months,
        index=max(0, len(months) - 12),
        format_func=labels.__getitem__,
        key="sla_ticket_first",
    )
    last = last_box.selectbox(
        tr("maint_ui.sla.last_month"),
        months,
        index=len(months) - 1,
        format_func=labels.__getitem__,
        key="sla_ticket_last",
    )
    if first > last:
        first, last = last, first
    chosen: dict[str, Any] = {
        "office_code": office or None,
        "ticket_type": ticket_type or None,
        "clock": clock or None,
        "first_month": first,
        "last_month": last,
    }
    found = reader.ticket_compliance_cells(**chosen)
    if found.is_empty():
        st.info(tr("maint_ui.sla.no_data_filtered"))
        return
    day_box, night_box, pending_box = st.columns(3)
    for box, night in ((day_box, False), (night_box, True)):
        shift = found.filter(pl.col("night_service") == night)
        pct = compliance(int(shift["met"].sum()), int(shift["breached"].sum()))
        box.metric(
            tr("ticketboard.sla.compliance", shift=shift_label(night)),
            "—" if pct is None else f"{pct:.1f} %",
            border=True,
        )
    pending_box.metric(tr("sla.pending"), int(found["pending"].sum()), border=True)
    cells = found.with_columns(
        pl.struct("clock", "night_service")
        .map_elements(clock_row, return_dtype=pl.String)
        .alias("row"),
        pl.col("clock")
        .replace_strict({c: i for i, c in enumerate(TICKET_CLOCKS)}, return_dtype=pl.Int64)
        .alias("_order"),
    ).sort("_order", "night_service", "month")
    heatmap(
        cells,
        title=tr("ticketboard.sla.chart"),
        rows_label=tr("ticketboard.sla.clock"),
        key="sla_ticket_heatmap",
    )
    with st.expander(tr("ticketboard.sla.table")):
        if office:  # one office's rows on screen; every office's only in the export
            table = ticket_table(reader.ticket_compliance(**chosen))
            st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        else:
            st.caption(tr("ticketboard.sla.table_hint"))
        excel_download(
            lambda: ticket_table(reader.ticket_compliance(**chosen)),
            tr("ticketboard.sla.table"),
            key="sla_ticket_excel",
        )


render()
