"""Energy (能耗管理): consumption from the published energy marts, for headquarters and offices.

Drill down group → city company → office → building → point; electricity or water; by day,
month or year; this year against last year; per m² where a building's area is known; each
parent point against its sub-meters with the loss over time (a month lacking complete data is
shown as incomplete, never as an alarm); and the exceptions the office should follow up.
Reads only the published warehouse, through readers bound to the offices where the user holds
``VIEW_ENERGY`` (``dashboards.session.readers``): a city-company user sees the city's totals.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import charts, energy_exceptions
from dashboards.energy_data import (
    DISPLAY_ZONE,
    KINDS,
    EnergyData,
    Node,
    local_text,
    number_format,
    quantity,
    unit,
    year_to_date,
)
from dashboards.export import excel_download
from dashboards.session import readers, require, tr
from dashboards.text import md
from operational.auth import Permission
from warehouse.queries_energy import Kind

ALL = "__all__"
LINK_KEY = "energy_link"  # the address's (city, office) last applied to the select boxes
CHART_CONFIG = {"displayModeBar": False}
DAY_WINDOW = 60


def pick(label: str, labels: dict[str, str], key: str) -> str:
    """A select box over ``labels`` (code → text, computed now) returning the chosen code."""
    options = list(labels)
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    return str(st.selectbox(label, options, format_func=labels.__getitem__, key=key))


def start_at_link(data: EnergyData) -> None:
    """``?office=SH001`` (a control tower link) or ``?city=SH`` opens the page there: the select
    boxes start on it when the page is opened or the address changes; the user may then choose
    another. An office or city outside the user's scope gets a notice, never its data."""
    city, office = st.query_params.get("city"), st.query_params.get("office")
    if not city and not office:
        return
    org = data.org()  # the user's offices only (the reader is bound to them)
    city_of = dict(zip(org["office_code"], org["city_code"], strict=False))
    if office and office not in city_of:
        st.warning(tr("finish.energy.office_not_in_scope", office=md(office)))
        office = None
    if city and city not in set(city_of.values()):
        st.warning(tr("finish.energy.city_not_in_scope", city=md(city)))
        city = None
    fresh = "energy_kind" not in st.session_state  # the page's widgets are gone when left
    link = (city, office)
    if not fresh and st.session_state.get(LINK_KEY) == link:
        return
    st.session_state[LINK_KEY] = link
    if office:
        city = city_of[office]
        st.session_state[f"energy_office_{city}"] = office  # below the city's select box
        st.session_state["energy_office_scope"] = office  # an office-scope user's only box
    if city:
        st.session_state["energy_city"] = city


def drill_down(data: EnergyData, points: pl.DataFrame, kind: Kind) -> tuple[Node, list[str]]:
    """The select boxes city → office → building → point; the chosen node and its path."""
    org = data.org()
    everything = tr("energy_ui.drill.all")
    city_names = dict(zip(org["city_code"], org["city_name"], strict=False))
    office_names = dict(zip(org["office_code"], org["office_name"], strict=False))
    columns = st.columns(4)
    path: list[str] = []

    node: Node | None = None
    offices = sorted(set(points["office_code"]))
    totals = data.totals()
    groups = totals.filter(pl.col("level") == "group")
    visible_cities = set(totals.filter(pl.col("level") == "city")["code"])
    cities = sorted(c for c in set(points["city_code"]) if c in visible_cities)
    if not groups.is_empty():  # the whole group: group and city totals are visible
        node = Node("group", str(groups["code"][0]), str(groups["name"][0]))
        path.append(node.label)
    office_labels: dict[str, str] = {}
    if cities:  # a city company's totals are visible when all its offices are in scope
        city_labels = {c: city_names.get(c, c) for c in cities}
        with columns[0]:
            city = pick(
                tr("energy_ui.drill.city"),
                ({ALL: everything} if node is not None else {}) | city_labels,
                "energy_city",
            )
        if city == ALL:
            assert node is not None
            return node, path
        node = Node("city", city, city_names.get(city, city))
        path.append(node.label)
        offices = sorted(set(points.filter(pl.col("city_code") == city)["office_code"]))
        office_labels = {ALL: everything}
    # else an office scope: totals above an office are not theirs to see
    with columns[1]:
        office = pick(
            tr("energy_ui.drill.office"),
            office_labels | {o: f"{o} {office_names.get(o, '')}".strip() for o in offices},
            f"energy_office_{node.code if node else 'scope'}",
        )
    if office == ALL:
        assert node is not None
        return node, path
    node = Node("office", office, f"{office} {office_names.get(office, '')}".strip())
    path.append(node.label)

    in_office = points.filter(pl.col("office_code") == office)
    buildings = sorted(b for b in set(in_office["building"]) if b is not None)
    with columns[2]:
        building = pick(
            tr("energy_ui.drill.building"),
            {ALL: everything} | {b: b for b in buildings},
            f"energy_building_{office}_{kind}",
        )
    if building != ALL:
        node = Node("building", f"{office}/{building}", building)
        path.append(building)
        in_office = in_office.filter(pl.col("building") == building)
    with columns[3]:
        point = pick(
            tr("energy_ui.drill.point"),
            {ALL: everything}
            | {
                row["point_code"]: f"{row['name']} ({row['point_code']})"
                for row in in_office.iter_rows(named=True)
            },
            f"energy_point_{office}_{building}_{kind}",
        )
    if point != ALL:
        name = in_office.filter(pl.col("point_code") == point)["name"][0]
        node = Node("point", point, f"{name} ({point})")
        path.append(node.label)
    return node, path


def consumption_section(data: EnergyData, node: Node, kind: Kind, as_of: date, view: str) -> None:
    u = unit(kind)
    consumption = tr("energy_ui.col.consumption", unit=u)
    in_progress_label: str | None = None
    if view == "day":
        default = (as_of - timedelta(days=DAY_WINDOW - 1), as_of)
        chosen = st.date_input(
            tr("energy_ui.view.days"), value=default, max_value=as_of, key="energy_days"
        )
        start, end = (chosen[0], chosen[-1]) if chosen else default
        frame = data.reader.daily_node(node.level, node.code, kind, start, end)
        frame = frame.with_columns(complete=~pl.col("estimated")) if frame.height else frame
        x, title = "day", tr("energy_ui.chart.daily", node=node.label)
        complete_label, incomplete_label = (
            tr("energy_ui.legend.read"),
            tr("energy_ui.legend.estimated"),
        )
    else:
        monthly = data.reader.monthly_progress(node.level, node.code, kind)
        if monthly.height:
            monthly = monthly.with_columns(
                pl.col("complete").fill_null(False), pl.col("in_progress").fill_null(False)
            )
        complete_label = tr("energy_ui.legend.complete")
        incomplete_label = tr("energy_ui.legend.incomplete")
        if view == "year":
            frame = (
                monthly.group_by(pl.col("month").dt.year().alias("year"))
                .agg(
                    pl.col("consumption").sum(),
                    pl.col("complete").all(),
                    pl.col("in_progress").any(),
                )
                .sort("year")
                .with_columns(pl.date(pl.col("year"), 1, 1).alias("year_start"))
                if monthly.height
                else monthly
            )
            x, title = "year_start", tr("energy_ui.chart.yearly", node=node.label)
            in_progress_label = tr("energy_pages.year_in_progress")
        else:
            frame = monthly
            x, title = "month", tr("energy_ui.chart.monthly", node=node.label)
            in_progress_label = tr("energy_pages.month_in_progress")
    if frame.is_empty():
        st.info(tr("energy_ui.no_data"))
        return
    st.plotly_chart(
        charts.energy_consumption(
            frame,
            x=x,
            title=title,
            y_label=consumption,
            unit=u,
            complete_label=complete_label,
            incomplete_label=incomplete_label,
            period=view,
            in_progress_label=in_progress_label,
        ),
        config=CHART_CONFIG,
        key=f"energy_chart_{view}",
    )
    period_header = tr(f"energy_ui.col.{view}")
    if view == "year":
        period = frame["year"].cast(pl.String)
    elif view == "month":
        period = frame["month"].dt.strftime("%Y-%m")
    else:
        period = frame["day"].dt.strftime("%Y-%m-%d")
    status = tr("energy_ui.legend.estimated" if view == "day" else "energy_ui.legend.incomplete")
    ok = tr("energy_ui.legend.read" if view == "day" else "energy_ui.legend.complete")
    running = (
        frame["in_progress"].to_list() if "in_progress" in frame.columns else [False] * frame.height
    )
    table = pl.DataFrame(
        {
            period_header: period,
            consumption: frame["consumption"],
            tr("energy_ui.col.status"): [
                in_progress_label if r and in_progress_label else ok if c else status
                for c, r in zip(frame["complete"], running, strict=True)
            ],
        }
    )
    with st.expander(tr("energy_ui.table.consumption")):
        st.dataframe(
            table,
            hide_index=True,
            placeholder=tr("finish.table.missing"),
            column_config={consumption: number_format(u)},
        )
        excel_download(table, tr("energy_ui.table.consumption"), key=f"energy_excel_{view}")


def year_over_year_section(data: EnergyData, node: Node, kind: Kind, year: int) -> None:
    u = unit(kind)
    frame = data.reader.this_year_vs_last(node.level, node.code, kind, year)
    if frame.select(pl.col("this_year", "last_year").is_not_null().any()).row(0) == (
        False,
        False,
    ):
        st.info(tr("energy_ui.no_data"))
        return
    # this year's months not ended (the month of as_of on the office's clock)
    months = data.reader.monthly_progress(
        node.level, node.code, kind, date(year, 1, 1), date(year, 12, 1)
    )
    running = (
        set(months.filter(pl.col("in_progress").fill_null(False))["month"].dt.month().to_list())
        if months.height
        else set()
    )
    frame = frame.with_columns(pl.col("month_number").is_in(sorted(running)).alias("in_progress"))
    in_progress = tr("energy_pages.in_progress")
    this_label, last_label = str(year), str(year - 1)
    st.plotly_chart(
        charts.energy_year_over_year(
            frame,
            year=year,
            title=tr("energy_ui.chart.yoy", node=node.label),
            this_label=this_label,
            last_label=last_label,
            y_label=tr("energy_ui.col.consumption", unit=u),
            unit=u,
            tick_format=tr("energy_ui.month_tick"),
            in_progress_label=in_progress,
        ),
        config=CHART_CONFIG,
        key="energy_chart_yoy",
    )
    if running:
        st.caption(tr("energy_pages.yoy_explain"))
    # a month in progress is part of a month against a whole one: no change until it ends
    change = (
        pl.when((pl.col("last_year") > 0) & ~pl.col("in_progress"))
        .then((pl.col("this_year") / pl.col("last_year") - 1) * 100)
        .otherwise(None)
    )
    this_col, last_col = f"{this_label} ({u})", f"{last_label} ({u})"
    change_col, status_col = tr("energy_ui.col.change_pct"), tr("energy_ui.col.status")
    table = frame.select(
        pl.col("month_number").alias(tr("energy_ui.col.month_number")),
        pl.col("this_year").alias(this_col),
        pl.col("last_year").alias(last_col),
        change.alias(change_col),
        pl.when(pl.col("in_progress"))
        .then(pl.lit(in_progress))
        .otherwise(pl.lit(None, pl.String))
        .alias(status_col),
    )
    st.dataframe(
        table,
        hide_index=True,
        placeholder=tr("finish.table.missing"),
        column_config={
            this_col: number_format(u),
            last_col: number_format(u),
            change_col: st.column_config.NumberColumn(format="%+.1f %%"),
        },
    )
    excel_download(table, tr("energy_ui.tab.yoy"), key="energy_excel_yoy")


def breakdown_section(
    data: EnergyData, points: pl.DataFrame, node: Node, kind: Kind, start: date, end: date
) -> None:
    u = unit(kind)
    frame = data.children(node, kind, start, end)
    if frame.is_empty():
        st.info(tr("energy_ui.breakdown.leaf"))
        return
    org = data.org()
    names = dict(zip(org["city_code"], org["city_name"], strict=False)) | {
        o: f"{o} {n}" for o, n in zip(org["office_code"], org["office_name"], strict=False)
    }
    names |= {p: f"{n} ({p})" for p, n in zip(points["point_code"], points["name"], strict=False)}
    frame = frame.with_columns(
        pl.col("node_code").replace_strict(names, default=pl.col("name")).alias("label"),
        pl.col("level").replace_strict(
            {lv: tr(f"energy_ui.level.{lv}") for lv in ("city", "office", "building", "point")},
            default=pl.col("level"),
        ),
    )
    st.caption(tr("energy_ui.breakdown.period", start=start.isoformat(), end=end.isoformat()))
    st.plotly_chart(
        charts.energy_breakdown(
            frame,
            label="label",
            value="consumption",
            title=tr("energy_ui.chart.breakdown", node=node.label),
            x_label=tr("energy_ui.col.consumption", unit=u),
            unit=u,
        ),
        config=CHART_CONFIG,
        key="energy_chart_breakdown",
    )
    yes, no = tr("energy_ui.yes"), tr("energy_ui.no")
    consumption = tr("energy_ui.col.consumption", unit=u)
    table = frame.select(
        pl.col("level").alias(tr("energy_ui.col.level")),
        pl.col("node_code").alias(tr("energy_ui.col.code")),
        pl.col("label").alias(tr("energy_ui.col.name")),
        pl.col("consumption").alias(consumption),
        pl.col("complete")
        .fill_null(False)
        .replace_strict({True: yes, False: no})
        .alias(tr("energy_ui.col.complete")),
    )
    st.dataframe(
        table,
        hide_index=True,
        placeholder=tr("finish.table.missing"),
        column_config={consumption: number_format(u)},
    )
    excel_download(table, tr("energy_ui.tab.breakdown"), key="energy_excel_breakdown")


def per_m2_section(
    data: EnergyData, points: pl.DataFrame, node: Node, kind: Kind, start: date, end: date
) -> None:
    u = unit(kind)
    frame = data.reader.per_m2(kind, start, end)
    inside = data.points_under(points, node).filter(pl.col("building").is_not_null())
    keys = inside.select("office_code", "building").unique()
    frame = frame.join(keys, on=["office_code", "building"], how="semi") if frame.height else frame
    if frame.is_empty():
        st.info(tr("energy_ui.per_m2.none"))
        return
    per = f"{u}/m²"
    frame = frame.with_columns(
        pl.concat_str(pl.col("office_code"), pl.col("building"), separator=" ").alias("label")
    )
    st.caption(tr("energy_ui.breakdown.period", start=start.isoformat(), end=end.isoformat()))
    st.plotly_chart(
        charts.energy_breakdown(
            frame,
            label="label",
            value="consumption_per_m2",
            title=tr("energy_ui.chart.per_m2"),
            x_label=tr("energy_ui.col.per_m2", unit=per),
            unit=per,
        ),
        config=CHART_CONFIG,
        key="energy_chart_per_m2",
    )
    area, consumption = tr("energy_ui.col.area"), tr("energy_ui.col.consumption", unit=u)
    per_area = tr("energy_ui.col.per_m2", unit=per)
    table = frame.select(
        pl.col("office_code").alias(tr("energy_ui.col.office")),
        pl.col("building").alias(tr("energy_ui.col.building")),
        pl.col("area_m2").alias(area),
        pl.col("consumption").alias(consumption),
        pl.col("consumption_per_m2").alias(per_area),
    )
    st.dataframe(
        table,
        hide_index=True,
        placeholder=tr("finish.table.missing"),
        column_config={
            area: number_format("m²", 0),
            consumption: number_format(u),
            per_area: number_format(per, 3),
        },
    )
    excel_download(table, tr("energy_ui.tab.per_m2"), key="energy_excel_per_m2")


def loss_section(data: EnergyData, points: pl.DataFrame, node: Node, kind: Kind) -> None:
    u = unit(kind)
    parents = data.points_under(points, node).filter(pl.col("has_children"))
    if node.level == "point" and parents.is_empty():
        parents = points.filter(pl.col("point_code") == node.code, pl.col("has_children"))
    if parents.is_empty():
        st.info(tr("energy_ui.loss.none"))
        return
    labels = {
        row["point_code"]: f"{row['name']} ({row['point_code']})"
        for row in parents.sort(~pl.col("is_root"), "office_code", "point_code").iter_rows(
            named=True
        )
    }
    parent = pick(tr("energy_ui.loss.parent"), labels, f"energy_loss_{node.code}_{kind}")
    frame = data.reader.loss(parent)
    if frame.is_empty():
        st.info(tr("energy_ui.no_data"))
        return
    frame = frame.with_columns(pl.col("complete").fill_null(False))
    st.caption(tr("energy_ui.loss.explain"))
    st.plotly_chart(
        charts.energy_loss(
            frame,
            title=tr("energy_ui.chart.loss", node=labels[parent]),
            parent_label=tr("energy_ui.legend.parent"),
            children_label=tr("energy_ui.legend.children"),
            loss_label=tr("energy_ui.legend.loss_pct"),
            incomplete_label=tr("energy_ui.legend.incomplete"),
            y_label=tr("energy_ui.col.consumption", unit=u),
            unit=u,
        ),
        config=CHART_CONFIG,
        key="energy_chart_loss",
    )
    incomplete = tr("energy_ui.legend.incomplete")
    parent_col, children_col = (
        tr("energy_ui.col.parent", unit=u),
        tr("energy_ui.col.children", unit=u),
    )
    loss_col, pct_col = tr("energy_ui.col.loss", unit=u), tr("energy_pages.col.loss_pct")
    reported = frame.select(pl.col("complete") & pl.col("loss_pct").is_not_null())
    reported_list = reported.to_series().to_list()
    table = pl.DataFrame(
        {
            tr("energy_ui.col.month"): frame["month"].dt.strftime("%Y-%m"),
            parent_col: frame["consumption"],
            children_col: frame["children_consumption"],
            loss_col: frame["loss"],
            # a number where every point involved is complete; otherwise said so, not alarmed
            pct_col: [
                pct * 100 if ok else None
                for pct, ok in zip(frame["loss_pct"], reported_list, strict=True)
            ],
            tr("energy_ui.col.status"): [None if ok else incomplete for ok in reported_list],
        },
        schema_overrides={pct_col: pl.Float64, tr("energy_ui.col.status"): pl.String},
    )
    st.dataframe(
        table,
        hide_index=True,
        placeholder=tr("finish.table.missing"),
        column_config={
            parent_col: number_format(u),
            children_col: number_format(u),
            loss_col: number_format(u),
            pct_col: st.column_config.NumberColumn(format="%.1f %%"),
        },
    )
    excel_download(table, tr("energy_ui.tab.loss"), key="energy_excel_loss")


def render() -> None:
    scoped = readers(Permission.VIEW_ENERGY)
    user = require(Permission.VIEW_ENERGY)  # who records a follow-up (the service checks it)
    st.title(tr("energy_ui.page.title"))
    info = scoped.org.build_info()
    if info is None:
        st.info(tr("energy_ui.not_published"), icon=":material/hourglass_empty:")
        return
    as_of = info["as_of"]
    st.caption(
        tr("energy_ui.published", as_of=local_text(as_of), zone=DISPLAY_ZONE),
        help=tr("energy_ui.version", version=info["version"]),
    )
    data = EnergyData(scoped.org, scoped.energy)
    start_at_link(data)

    kind_labels = {k: tr(f"energy_ui.kind.{k}") for k in KINDS}
    kind: Kind = (
        st.segmented_control(
            tr("energy_ui.kind.label"),
            list(KINDS),
            format_func=kind_labels.__getitem__,
            default="electricity",
            key="energy_kind",
            required=True,
        )
        or "electricity"
    )
    points = data.points(kind)
    if points.is_empty():
        st.info(tr("energy_ui.no_points"))
        return
    node, path = drill_down(data, points, kind)
    st.markdown(f"**{' › '.join(map(md, path))}**")

    today = as_of.astimezone(ZoneInfo(DISPLAY_ZONE)).date()
    u = unit(kind)
    this_ytd, last_ytd, comparable = year_to_date(data.reader, node, kind, today)
    excepts = energy_exceptions.load(data.reader, node, kind, user)
    running = data.reader.monthly_progress(
        node.level, node.code, kind, date(today.year, 1, 1), date(today.year, 12, 1)
    )
    month_running = bool(running.height) and bool(running["in_progress"].fill_null(False).any())
    ytd_help = tr("energy_ui.kpi.ytd_help", day=today.strftime("%m-%d"))
    if month_running:
        ytd_help = tr(
            "energy_pages.ytd_running", day=today.isoformat(), month=today.strftime("%Y-%m")
        )
    ytd, last, exc = st.columns(3)
    delta = (
        f"{(this_ytd / last_ytd - 1) * 100:+.1f} %"
        if comparable and this_ytd is not None and last_ytd
        else None
    )
    ytd.metric(
        tr("energy_ui.kpi.ytd", year=today.year),
        quantity(this_ytd, u, 0),
        delta=delta,
        delta_color="inverse",
        border=True,
        help=ytd_help,
    )
    last.metric(
        tr("energy_ui.kpi.last_ytd", year=today.year - 1),
        quantity(last_ytd, u, 0),
        border=True,
        help=None if comparable else tr("energy_ui.kpi.not_comparable"),
    )
    exc.metric(tr("energy_ui.kpi.exceptions"), f"{excepts.to_follow_up:,}", border=True)
    if month_running:
        st.caption(ytd_help)

    views = {v: tr(f"energy_ui.view.{v}") for v in ("day", "month", "year")}
    view = (
        st.segmented_control(
            tr("energy_ui.view.label"),
            list(views),
            format_func=views.__getitem__,
            default="month",
            key="energy_view",
            required=True,
        )
        or "month"
    )
    consumption_section(data, node, kind, today, view)

    start = date(today.year, 1, 1)
    tabs = st.tabs(
        [
            tr("energy_ui.tab.yoy"),
            tr("energy_ui.tab.breakdown"),
            tr("energy_ui.tab.per_m2"),
            tr("energy_ui.tab.loss"),
            tr("energy_ui.tab.exceptions_count", count=f"{excepts.to_follow_up:,}"),
        ]
    )
    with tabs[0]:
        year_over_year_section(data, node, kind, today.year)
    with tabs[1]:
        breakdown_section(data, points, node, kind, start, today)
    with tabs[2]:
        per_m2_section(data, points, node, kind, start, today)
    with tabs[3]:
        loss_section(data, points, node, kind)
    with tabs[4]:
        energy_exceptions.section(excepts, u, user)


render()
