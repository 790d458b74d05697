"""Control tower (运营驾驶舱): where must I look today, for the user's scope.

Reads the published ``marts.control_tower`` through ``TowerReader`` (rows of indicators per
office, city company and group; contract in ``docs/control-tower.md``), bound to the offices
where the user holds ``VIEW_OVERVIEW``. Top to bottom:

1. the totals of the user's highest level — the group, their city company, or their office —
   as metrics with their change;
2. what needs attention, ranked (alerts first, then how far past the threshold), a page at a
   time, each line with its reason and links to the orders or the energy page behind it;
3. the city companies, one row each (aggregate first), and the offices of one chosen city,
   the worst first, a page at a time;
4. one chosen office: every indicator with its reason and links.

Thresholds live in the mart's SQL and are listed in ``docs/dashboards.md``; this page only shows
the rows' status. User text (office and meter names) is shown as plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import navigation, paging
from dashboards import tower_data as td
from dashboards.export import excel_download
from dashboards.session import principal, readers, tr
from dashboards.text import md
from operational.auth import Permission, Principal
from warehouse.queries_tower import TowerReader

DISPLAY_ZONE = "Asia/Shanghai"
ALL = ""


def local_time(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(DISPLAY_ZONE)).strftime("%Y-%m-%d %H:%M")


def ordered(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of one node in the order of the page's indicators."""
    order = {name: n for n, name in enumerate(td.indicators_in(rows))}
    return sorted(
        rows.iter_rows(named=True),
        key=lambda r: (order[r["indicator"]], r["level"] != "office", r["node_code"]),
    )


def drill_links(row: dict[str, Any], user: Principal) -> None:
    """Links to what is behind a figure, on the pages the user may open."""
    for drill in td.drills(row):
        spec = td.page_for(drill.target, user)
        if spec is not None:
            st.page_link(
                navigation.page(spec),
                label=tr(drill.label_key),
                icon=spec.icon,
                query_params=drill.params or None,
            )


def board_link(user: Principal, rows: pl.DataFrame, city: str) -> None:
    """A link to the complaint escalation board of the chosen city company, when its offices
    have owner-service figures and the user may open the board."""
    spec = td.page_for(td.ESCALATIONS, user)
    if spec is None or not city or "open_complaints" not in set(rows["indicator"].to_list()):
        return
    st.page_link(
        navigation.page(spec),
        label=tr("tower.link.city_escalations"),
        icon=spec.icon,
        query_params={"city": city},
    )


def periods_caption(rows: pl.DataFrame) -> None:
    """Which days each kind of figure covers; the month in progress marked."""
    by = {r["indicator"]: r for r in rows.iter_rows(named=True)}
    sla, losses = by.get("sla_compliance"), by.get("energy_losses")
    energy = by.get("energy_electricity") or by.get("energy_water")
    today = next((r["period_end"] for r in by.values() if r["period_kind"] == "as_of"), None)
    st.caption(
        tr(
            "tower.periods",
            month=td.month_text(sla["period"]) if sla else "—",
            energy_from=energy["period"].isoformat() if energy else "—",
            energy_to=energy["period_end"].isoformat() if energy else "—",
            progress=tr("tower.in_progress") if energy and energy["in_progress"] else "",
            loss_month=td.month_text(losses["period"]) if losses else "—",
            today=today.isoformat() if today else "—",
        )
    )


def headline(rows: pl.DataFrame, name: str) -> None:
    """The figures of one node (the group, a city company or an office) as metrics."""
    st.subheader(tr("tower.headline"), anchor=False)
    st.text(name)  # a name from the organisation's import: plain text, never Markdown
    cells = st.columns(4)
    for n, row in enumerate(r for r in ordered(rows) if r["level"] != "point"):
        colour = {"below": "normal", "above": "inverse"}.get(row["direction"] or "", "off")
        cells[n % 4].metric(
            td.label_with_unit(row["indicator"], row["unit"]),
            td.figure(row["value"], row["unit"], with_unit=False),
            delta=td.change_text(row),
            delta_color=colour,  # type: ignore[arg-type]
            help=f"{td.status_label(row['status'])} · {td.threshold_help(row)}",
            border=True,
        )
    periods_caption(rows)


def line(row: dict[str, Any], user: Principal, *, place: bool) -> None:
    """One indicator as a line: its status, (where it is,) why it matters, links behind it."""
    with st.container(border=True):
        widths = [1, 3, 6, 2] if place else [1, 6, 2]
        columns = st.columns(widths, vertical_alignment="center")
        columns[0].badge(td.status_label(row["status"]), color=td.STATUS_COLOURS[row["status"]])
        if place:
            columns[1].text(f"{row['office_code']} {row['office_name'] or ''}")
        columns[-2].text(td.reason(row), help=td.threshold_help(row))
        with columns[-1]:
            drill_links(row, user)


def attention_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The "needs attention" lines as a table (the Excel export: every line, not one page)."""
    return pl.DataFrame(
        {
            tr("tower.col.status"): [td.status_label(s) for s in rows["status"].to_list()],
            tr("tower.col.city"): rows["city_name"].to_list(),
            tr("tower.col.code"): rows["office_code"].to_list(),
            tr("tower.col.office"): rows["office_name"].to_list(),
            tr("tower.col.indicator"): [td.indicator_label(i) for i in rows["indicator"]],
            tr("tower.col.figure"): rows["value"].to_list(),
            tr("tower.col.reason"): [td.reason(r) for r in rows.iter_rows(named=True)],
        },
        schema={
            tr("tower.col.status"): pl.String,
            tr("tower.col.city"): pl.String,
            tr("tower.col.code"): pl.String,
            tr("tower.col.office"): pl.String,
            tr("tower.col.indicator"): pl.String,
            tr("tower.col.figure"): pl.Float64,
            tr("tower.col.reason"): pl.String,
        },
    )


@st.fragment
def attention(reader: TowerReader, user: Principal) -> None:
    """The ranked list of what needs attention, a page at a time (its own fragment: turning a
    page reruns only the list)."""
    st.subheader(tr("tower.attention"), anchor=False)
    total = reader.attention_count()
    if total == 0:
        st.success(tr("tower.attention_none"), icon=":material/check_circle:")
        return
    st.caption(tr("tower.attention_count", count=total) + " " + tr("tower.attention_hint"))
    page = paging.pager(total, size=paging.ATTENTION_LINES, key="tower_attention_page")
    for row in reader.attention(limit=page.limit, offset=page.offset).iter_rows(named=True):
        line(row, user, place=True)
    excel_download(
        lambda: attention_table(reader.attention(limit=total)),
        tr("tower.attention_export"),
        key="tower_attention_excel",
    )


def shown(table: pl.DataFrame) -> pl.DataFrame:
    """A node table rounded for the eye (percentages to 0.1, the rest to whole numbers)."""
    return table.with_columns(
        (pl.col(c).round(1) if "%" in c or "pts" in c else pl.col(c).round(0))
        for c, dtype in table.schema.items()
        if dtype == pl.Float64
    )


def node_list(rows: pl.DataFrame, *, key: str, title: str) -> pl.DataFrame:
    """A table of nodes (one row each, the worst first), a page at a time, with its export
    (all of them). Returns the whole table."""
    table = td.node_table(rows)
    page = paging.pager(table.height, size=paging.NODES, key=f"{key}_page")
    st.dataframe(
        shown(table.slice(page.offset, page.limit)),
        hide_index=True,
        placeholder=tr("finish.table.missing"),
        column_config={
            c: st.column_config.NumberColumn(format="localized")
            for c, dtype in table.schema.items()
            if dtype == pl.Float64
        },
    )
    excel_download(table, title, key=f"{key}_excel")
    return table


def choose_city(org: pl.DataFrame, cities: pl.DataFrame) -> str:
    """The city company to expand: chosen in a select box (the worst first), or the user's
    only one. ``ALL`` for a user whose offices span city companies none of which they see
    whole."""
    names = dict(org.select("city_code", "city_name").unique().sort("city_code").iter_rows())
    if len(names) == 1:
        return next(iter(names))
    worst_first = (
        td.node_table(cities)[tr("tower.col.code")].to_list() if not cities.is_empty() else []
    )
    options = [c for c in worst_first if c in names] + [c for c in names if c not in worst_first]
    if len(worst_first) < len(names):
        options = [ALL, *options]
    labels = {ALL: tr("tower.all_cities")} | {c: f"{c} {names[c] or ''}" for c in names}
    return str(
        st.selectbox(tr("tower.city"), options, format_func=labels.__getitem__, key="tower_city")
    )


def office_detail(reader: TowerReader, user: Principal, office_code: str, name: str) -> None:
    rows = reader.offices(office_code=office_code, points=True)
    st.subheader(tr("tower.office_detail", code=md(office_code)), anchor=False)
    st.text(name)
    if rows.is_empty():
        st.info(tr("tower.no_rows"))
        return
    for row in ordered(rows):
        line(row, user, place=False)


def render() -> None:
    scoped = readers(Permission.VIEW_OVERVIEW)
    user = principal()
    assert user is not None  # readers() stopped the page otherwise
    reader = scoped.tower
    st.title(tr("tower.title"))
    info = reader.build_info()
    if info is None:
        st.info(tr("tower.not_published"), icon=":material/hourglass_empty:")
        return
    st.caption(
        tr(
            "tower.published",
            built_at=local_time(info["built_at"]),
            as_of=local_time(info["as_of"]),
            zone=DISPLAY_ZONE,
        ),
        help=tr("tower.version", version=info["version"]),
    )
    org = scoped.org.org_overview()
    if org.is_empty():
        st.info(tr("tower.no_offices"))
        return

    totals = reader.totals()
    groups = totals.filter(pl.col("level") == "group")
    cities = totals.filter(pl.col("level") == "city")
    if not groups.is_empty():
        headline(groups, groups["name"][0])
    elif cities["node_code"].n_unique() == 1:
        headline(cities, cities["name"][0])
    elif org.height == 1:
        headline(reader.offices(), f"{org['office_code'][0]} {org['office_name'][0] or ''}")

    attention(reader, user)

    if org["city_code"].n_unique() > 1 and not cities.is_empty():
        st.subheader(tr("tower.cities"), anchor=False)
        st.caption(tr("tower.cities_hint"))
        node_list(cities, key="tower_cities", title=tr("tower.cities"))

    if org.height > 1:
        st.subheader(tr("tower.offices"), anchor=False)
        city = choose_city(org, cities)
        offices = reader.offices(city_code=city or None)
        board_link(user, offices, city)
        st.caption(
            tr("tower.offices_count", count=offices["node_code"].n_unique())
            + " "
            + tr("tower.offices_hint")
        )
        table = node_list(offices, key="tower_offices", title=tr("tower.offices"))
        if table.is_empty():
            return
        names = dict(org.select("office_code", "office_name").iter_rows())
        codes = table[tr("tower.col.code")].to_list()
        if st.session_state.get("tower_office") not in codes:
            st.session_state.pop("tower_office", None)  # another city since: its worst office
        office = str(
            st.selectbox(
                tr("tower.office"),
                codes,
                format_func=lambda c: f"{c} {names.get(c) or ''}",
                key="tower_office",
            )
        )
    else:
        office = org["office_code"][0]
        names = {office: org["office_name"][0]}
    office_detail(reader, user, office, names.get(office) or "")


render()
