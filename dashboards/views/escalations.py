"""The complaint escalation board (投诉升级看板) for headquarters, internal audit and office managers.

Reads only the published ticket marts (``TicketReader``), limited to the offices where the user
may view escalations (a city company's audit manager: its offices; an office manager: his
office). At the top, the complaints still open at the build by level of the ladder (0: the
office manager holds it, 1: the city company's internal audit, 2: the group's), who holds them
and how long they have been open (age buckets against the 48 / 72 / 120-hour targets); then
every open complaint, the longest-open first, a page at a time, each number opening its
timeline on the ticket page (``/ticket?ticket=…``), with an Excel export of all of them; then
the escalations fired per month, by city company and by office. Filters: city company, office,
level and the month a complaint was received (office time). The address
``/escalations?city=SH&office=SH001&level=1&month=2026-11`` pre-fills them (the control tower's
links).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st
from streamlit import config

from dashboards import charts, paging
from dashboards.export import excel_download
from dashboards.session import readers, tr
from dashboards.text import md
from operational.auth import Permission
from warehouse.queries_tickets import AGE_BUCKETS, HOLDERS, LEVELS, TicketReader

FILTERS = {  # URL parameter → widget key
    "city": "esc_city",
    "office": "esc_office",
    "level": "esc_level",
    "month": "esc_month",
}
LINKED = "esc_linked"
ALL = ""
MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
PAGE_SIZE = 50
TREND_OFFICES = 10
"""Offices drawn in the trend by office at most: those with the most escalations in view."""
DEFAULT_ZONE = "Asia/Shanghai"


def ticket_link(ticket_no: str) -> str:
    """The address of the ticket's page with its timeline (``/ticket?ticket=…``)."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}/" if base else "/"
    return f"{prefix}ticket?ticket={quote(ticket_no, safe='')}"


def month_text(month: date | None) -> str:
    return "" if month is None else month.strftime("%Y-%m")


def parse_month(typed: str) -> date | None:
    found = MONTH.match(typed)
    if found is None:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 2000 <= year <= 9999 or not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def local(moment: datetime | None, zone: str | None) -> datetime | None:
    """A mart instant (UTC, naive) on the office's clock, naive (Excel keeps it a date)."""
    if moment is None:
        return None
    return (
        moment.replace(tzinfo=ZoneInfo("UTC"))
        .astimezone(ZoneInfo(zone or DEFAULT_ZONE))
        .replace(tzinfo=None)
    )


def shown(moment: datetime | None, zone: str | None) -> str:
    at = local(moment, zone)
    return "—" if at is None else at.strftime("%Y-%m-%d %H:%M")


def level_label(level: int) -> str:
    return tr(f"ticketboard.level.{level}")


def holder_label(role: str) -> str:
    return tr(f"role.{role}")


def bucket_label(bucket: str) -> str:
    return tr(f"ticketboard.age.{bucket}")


def _apply_link(cities: dict[str, str], offices: dict[str, str], months: list[date]) -> None:
    """Copy the address's filters into the widgets, once per address; a city or office the
    user may not see is said so and not chosen."""
    given = {name: str(st.query_params.get(name) or "").strip() for name in FILTERS}
    if not any(given.values()) or st.session_state.get(LINKED) == given:
        return
    st.session_state[LINKED] = given
    refused = [
        value
        for value, known in ((given["city"], cities), (given["office"], offices))
        if value and value not in known
    ]
    if given["city"] in cities:
        st.session_state[FILTERS["city"]] = given["city"]
    if given["office"] in offices:
        st.session_state[FILTERS["office"]] = given["office"]
    if given["level"] in {str(level) for level in LEVELS}:
        st.session_state[FILTERS["level"]] = int(given["level"])
    month = parse_month(given["month"])
    if month in months:
        st.session_state[FILTERS["month"]] = month
    if refused:
        st.session_state["esc_refused"] = refused


def filters(
    cities: dict[str, str], offices: pl.DataFrame, months: list[date]
) -> tuple[str | None, str | None, int | None, date | None]:
    """City company, office (of the chosen city company), level and month received."""
    city_box, office_box, level_box, month_box = st.columns(4)
    city_labels = {ALL: tr("ticketboard.all")} | cities
    if st.session_state.get(FILTERS["city"]) not in city_labels:
        st.session_state[FILTERS["city"]] = ALL
    city = str(
        city_box.selectbox(
            tr("ticketboard.filter.city"),
            list(city_labels),
            format_func=city_labels.__getitem__,
            key=FILTERS["city"],
        )
    )
    in_city = offices if not city else offices.filter(pl.col("city_code") == city)
    office_labels = {ALL: tr("ticketboard.all")} | {
        r["office_code"]: f"{r['office_code']} {r['office_name'] or ''}"
        for r in in_city.iter_rows(named=True)
    }
    if st.session_state.get(FILTERS["office"]) not in office_labels:
        st.session_state[FILTERS["office"]] = ALL  # another city company since
    office = str(
        office_box.selectbox(
            tr("ticketboard.filter.office"),
            list(office_labels),
            format_func=office_labels.__getitem__,
            key=FILTERS["office"],
        )
    )
    levels: list[int | None] = [None, *LEVELS]
    level = level_box.selectbox(
        tr("ticketboard.filter.level"),
        levels,
        format_func=lambda v: tr("ticketboard.all") if v is None else level_label(v),
        key=FILTERS["level"],
    )
    choices: list[date | None] = [None, *reversed(months)]
    if st.session_state.get(FILTERS["month"]) not in choices:
        st.session_state[FILTERS["month"]] = None
    month = month_box.selectbox(
        tr("ticketboard.filter.month"),
        choices,
        format_func=lambda m: tr("ticketboard.all") if m is None else month_text(m),
        key=FILTERS["month"],
    )
    return city or None, office or None, level, month


def summary_table(summary: pl.DataFrame) -> pl.DataFrame:
    """Level and holder × age bucket: how many open complaints in each, with a total."""
    columns: dict[str, list[object]] = {
        tr("ticketboard.col.level"): [],
        tr("ticketboard.col.holder"): [],
        **{bucket_label(b): [] for b in AGE_BUCKETS},
        tr("ticketboard.col.total"): [],
    }
    for level in LEVELS:
        rows = summary.filter(pl.col("escalation_level") == level)
        counts = dict(zip(rows["age_bucket"].to_list(), rows["complaints"].to_list(), strict=True))
        columns[tr("ticketboard.col.level")].append(level_label(level))
        columns[tr("ticketboard.col.holder")].append(holder_label(HOLDERS[level]))
        for bucket in AGE_BUCKETS:
            columns[bucket_label(bucket)].append(int(counts.get(bucket, 0)))
        columns[tr("ticketboard.col.total")].append(int(sum(counts.values())))
    schema = {name: pl.Int64() for name in columns}
    schema[tr("ticketboard.col.level")] = pl.String()
    schema[tr("ticketboard.col.holder")] = pl.String()
    return pl.DataFrame(columns, schema=schema)


def complaints_table(rows: pl.DataFrame, *, links: bool) -> pl.DataFrame:
    """The open complaints as shown (``links``: the number column holds the ticket page's
    address, times are text) or exported (numbers, times as Excel dates), in office time."""
    col = {
        name: tr(f"ticketboard.col.{name}")
        for name in (
            "ticket_no",
            "office",
            "city",
            "severity",
            "state",
            "level",
            "holder",
            "received_at",
            "escalated_at",
            "age_days",
            "age",
            "night",
        )
    }
    zones = rows["timezone"].to_list()
    times: dict[str, list[object]] = {
        col[name]: [
            shown(moment, zone) if links else local(moment, zone)
            for moment, zone in zip(rows[name].to_list(), zones, strict=True)
        ]
        for name in ("received_at", "escalated_at")
    }
    time_type = pl.String if links else pl.Datetime("us")
    yes, no = tr("ticketboard.yes"), tr("ticketboard.no")
    return pl.DataFrame(
        {
            col["ticket_no"]: [ticket_link(n) if links else n for n in rows["ticket_no"].to_list()],
            col["office"]: [
                f"{c} {n or ''}"
                for c, n in zip(
                    rows["office_code"].to_list(), rows["office_name"].to_list(), strict=True
                )
            ],
            col["city"]: [
                n or c
                for c, n in zip(
                    rows["city_code"].to_list(), rows["city_name"].to_list(), strict=True
                )
            ],
            col["severity"]: [
                tr(f"ticketboard.severity.{s}") if s else "—" for s in rows["severity"].to_list()
            ],
            col["state"]: [
                tr(f"ticketboard.state.{s}") if s else "—" for s in rows["state"].to_list()
            ],
            col["level"]: [level_label(v) for v in rows["escalation_level"].to_list()],
            col["holder"]: [holder_label(r) for r in rows["holder_role"].to_list()],
            **times,
            col["age_days"]: [round(h / 24, 1) for h in rows["age_hours"].to_list()],
            col["age"]: [bucket_label(b) for b in rows["age_bucket"].to_list()],
            col["night"]: [yes if n else no for n in rows["night_service"].to_list()],
        },
        schema={
            col["ticket_no"]: pl.String,
            col["office"]: pl.String,
            col["city"]: pl.String,
            col["severity"]: pl.String,
            col["state"]: pl.String,
            col["level"]: pl.String,
            col["holder"]: pl.String,
            col["received_at"]: time_type,
            col["escalated_at"]: time_type,
            col["age_days"]: pl.Float64,
            col["age"]: pl.String,
            col["night"]: pl.String,
        },
    )


def trend_table(trend: pl.DataFrame) -> pl.DataFrame:
    """Escalations per month, office and level, with translated headers."""
    return trend.select(
        pl.col("month").dt.strftime("%Y-%m").alias(tr("ticketboard.col.month")),
        pl.col("city_name").fill_null(pl.col("city_code")).alias(tr("ticketboard.col.city")),
        pl.col("office_code").alias(tr("ticketboard.col.office_code")),
        pl.col("office_name").alias(tr("ticketboard.col.office_name")),
        pl.col("level")
        .map_elements(level_label, return_dtype=pl.String)
        .alias(tr("ticketboard.col.level")),
        pl.col("escalations").alias(tr("ticketboard.col.escalations")),
    )


def trend(reader: TicketReader, city: str | None, office: str | None, level: int | None) -> None:
    """Escalations fired per month: by city company (when more than one is in view) and by
    office, as lines, and their table."""
    st.subheader(tr("ticketboard.trend"), anchor=False)
    fired = reader.escalation_trend(city_code=city, office_code=office, escalation_level=level)
    if fired.is_empty():
        st.info(tr("ticketboard.no_escalations"))
        return
    by_city = fired.with_columns(pl.col("city_name").fill_null(pl.col("city_code")).alias("series"))
    if by_city["series"].n_unique() > 1:
        st.plotly_chart(
            charts.monthly_counts(
                by_city,
                title=tr("ticketboard.trend_cities"),
                y_label=tr("ticketboard.col.escalations"),
            ),
            config={"displayModeBar": False},
            key="esc_trend_cities",
        )
    by_office = fired.with_columns(
        (pl.col("office_code") + " " + pl.col("office_name").fill_null("")).alias("series")
    )
    title = tr("ticketboard.trend_offices")
    if by_office["office_code"].n_unique() > TREND_OFFICES:  # lines a reader can tell apart
        most = (
            by_office.group_by("office_code")
            .agg(pl.col("escalations").sum())
            .sort(["escalations", "office_code"], descending=[True, False])
            .head(TREND_OFFICES)["office_code"]
        )
        by_office = by_office.filter(pl.col("office_code").is_in(most.to_list()))
        title = tr("ticketboard.trend_offices_top", count=TREND_OFFICES)
    st.plotly_chart(
        charts.monthly_counts(
            by_office,
            title=title,
            y_label=tr("ticketboard.col.escalations"),
        ),
        config={"displayModeBar": False},
        key="esc_trend_offices",
    )
    with st.expander(tr("ticketboard.trend_table")):
        table = trend_table(fired)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, tr("ticketboard.trend_file"), key="esc_trend_excel")


def board(
    reader: TicketReader,
    city: str | None,
    office: str | None,
    level: int | None,
    month: date | None,
) -> None:
    chosen: dict[str, Any] = {
        "city_code": city,
        "office_code": office,
        "escalation_level": level,
        "first_month": month,
        "last_month": month,
    }
    summary = reader.open_complaints_summary(**chosen)
    by_level = {
        v: int(summary.filter(pl.col("escalation_level") == v)["complaints"].sum()) for v in LEVELS
    }
    a, b, c, d = st.columns(4)
    a.metric(tr("ticketboard.open"), sum(by_level.values()), border=True)
    for box, v in ((b, 0), (c, 1), (d, 2)):
        box.metric(level_label(v), by_level[v], border=True)
    st.subheader(tr("ticketboard.by_age"), anchor=False)
    table = summary_table(summary)
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))

    st.subheader(tr("ticketboard.complaints"), anchor=False)
    total = reader.open_complaints_count(**chosen)
    if total == 0:
        st.info(tr("ticketboard.none_open"))
        return
    st.caption(tr("ticketboard.count", count=total))
    page = paging.pager(total, size=PAGE_SIZE, key="esc_page")
    rows = reader.open_complaints(**chosen, limit=page.limit, offset=page.offset)
    number = tr("ticketboard.col.ticket_no")
    st.dataframe(
        complaints_table(rows, links=True),
        hide_index=True,
        column_config={number: st.column_config.LinkColumn(display_text=r"ticket=(.*)$")},
        placeholder=tr("finish.table.missing"),
    )
    st.caption(tr("ticketboard.drill_hint"))
    numbers = rows["ticket_no"].to_list()
    pick_box, open_box = st.columns([3, 1], vertical_alignment="bottom")
    picked = pick_box.selectbox(tr("ticketboard.pick"), numbers, key="esc_pick")
    if picked:
        open_box.link_button(
            tr("ticketboard.timeline"), ticket_link(str(picked)), icon=":material/timeline:"
        )
    excel_download(
        lambda: complaints_table(reader.open_complaints(**chosen, limit=total), links=False),
        tr("ticketboard.file"),
        key="esc_excel",
    )


def render() -> None:
    reader = readers(Permission.VIEW_ESCALATIONS).tickets
    st.title(tr("ticketboard.title"))
    info = reader.build_info()
    if info is None:
        st.info(tr("ticketboard.no_data"), icon=":material/hourglass_empty:")
        return
    st.caption(
        tr(
            "ticketboard.as_of",
            as_of=shown(info["as_of"].replace(tzinfo=None), DEFAULT_ZONE),
        )
    )
    offices = reader.org_overview().select("city_code", "city_name", "office_code", "office_name")
    cities = {
        r["city_code"]: f"{r['city_code']} {r['city_name'] or ''}"
        for r in offices.select("city_code", "city_name")
        .unique()
        .sort("city_code")
        .iter_rows(named=True)
    }
    office_codes = {r["office_code"]: r["office_code"] for r in offices.iter_rows(named=True)}
    months = reader.escalation_months()
    _apply_link(cities, office_codes, months)
    refused = st.session_state.pop("esc_refused", None)
    if refused:
        st.info(tr("ticketboard.unknown_place", place=md(", ".join(refused))))
    city, office, level, month = filters(cities, offices, months)
    board(reader, city, office, level, month)
    trend(reader, city, office, level)


render()
