"""Pure functions from polars DataFrames to plotly figures.

Charts know nothing of Streamlit, sessions or languages: the page passes every label already
translated, so each function can be tested by looking at the figure it returns.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboards.text import plot

BRAND = "#1f6f8b"
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


# ---------------------------------------------------------------- energy

MUTED = "#b8c4cc"
ACCENT = "#e07b39"


def _energy_layout(figure: go.Figure, *, title: str, y_label: str, height: int = 360) -> go.Figure:
    figure.update_layout(
        title=plot(title),
        yaxis_title=plot(y_label),
        font_family=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.15},
        bargap=0.15,
        hovermode="x unified",
    )
    figure.update_yaxes(rangemode="tozero", separatethousands=True)
    return figure


_HALF_PERIOD_DAYS = {"day": 0.5, "month": 16, "year": 183}
"""Half a bar's slot either side of the first and last period, in days."""


def _span_the_data(figure: go.Figure, periods: list[Any], period: str) -> None:
    """Fix the x axis to the periods drawn (first to last, half a slot either side), so a chart
    spans the data and never shows empty years or months around it."""
    if not periods:
        return
    pad = timedelta(days=_HALF_PERIOD_DAYS[period])
    first, last = min(periods), max(periods)
    figure.update_xaxes(range=[_as_datetime(first) - pad, _as_datetime(last) + pad])
    if period == "year":  # one tick per year drawn, none between
        figure.update_xaxes(tickvals=sorted(set(periods)), tickformat="%Y")


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def energy_consumption(
    frame: pl.DataFrame,
    *,
    x: str,
    title: str,
    y_label: str,
    unit: str,
    complete_label: str,
    incomplete_label: str,
    period: str = "month",
    in_progress_label: str | None = None,
) -> go.Figure:
    """Consumption bars over time: ``frame`` has the date column ``x`` (real dates), ``consumption``
    and a boolean ``complete``; incomplete periods are drawn muted under their own legend entry,
    and with ``in_progress_label`` the periods whose ``in_progress`` is true (the month or year
    of as_of, not ended) hatched under theirs. The x axis spans the periods drawn.

    ``period`` (``day``, ``month`` or ``year``) sets the ticks and the hover date format.
    """
    formats = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    # Explicit bar widths (ms): a trace with a single bar cannot infer its width from spacing.
    days = {"day": 0.8, "month": 24, "year": 300}[period]
    hover = f"%{{x|{formats[period]}}}: %{{y:,.1f}} {unit}<extra>%{{fullData.name}}</extra>"
    running = (
        pl.col("in_progress").fill_null(False)
        if in_progress_label is not None and "in_progress" in frame.columns
        else pl.lit(False)
    )
    figure = go.Figure()
    parts = (
        (pl.col("complete") & ~running, complete_label, BRAND, ""),
        (~pl.col("complete") & ~running, incomplete_label, MUTED, ""),
        (running, in_progress_label or "", BRAND, "/"),
    )
    for condition, name, colour, pattern in parts:
        part = frame.filter(condition)
        figure.add_trace(
            go.Bar(
                x=part[x].to_list(),
                y=part["consumption"].to_list(),
                name=plot(name),
                marker={"color": colour, "opacity": 0.55 if pattern else 1.0},
                marker_pattern_shape=pattern,
                width=days * 86_400_000,
                hovertemplate=hover,
                showlegend=not part.is_empty(),
            )
        )
    figure.update_layout(barmode="overlay")
    if period == "year":
        figure.update_xaxes(dtick="M12", tickformat="%Y")
    elif period == "month":
        figure.update_xaxes(tickformat="%Y-%m")
    _span_the_data(figure, frame[x].to_list(), period)
    return _energy_layout(figure, title=title, y_label=y_label)


def energy_year_over_year(
    frame: pl.DataFrame,
    *,
    year: int,
    title: str,
    this_label: str,
    last_label: str,
    y_label: str,
    unit: str,
    tick_format: str,
    in_progress_label: str | None = None,
) -> go.Figure:
    """This year against last year by month: ``frame`` has ``month_number`` (1–12),
    ``this_year`` and ``last_year``; both are drawn on the months of ``year`` (real dates).
    With ``in_progress_label``, this year's months whose ``in_progress`` is true (not ended:
    a part of a month against a whole one) are hatched and labelled so."""
    months = [date(year, int(m), 1) for m in frame["month_number"].to_list()]
    running = (
        [bool(v) for v in frame["in_progress"].fill_null(False).to_list()]
        if in_progress_label is not None and "in_progress" in frame.columns
        else [False] * frame.height
    )
    figure = go.Figure()
    for column, name, colour in (
        ("last_year", last_label, MUTED),
        ("this_year", this_label, BRAND),
    ):
        marked = column == "this_year"
        figure.add_trace(
            go.Bar(
                x=months,
                y=frame[column].to_list(),
                name=plot(name),
                marker_color=colour,
                marker_pattern_shape=["/" if r and marked else "" for r in running],
                customdata=[f" · {in_progress_label}" if r and marked else "" for r in running],
                hovertemplate=f"%{{y:,.1f}} {unit}%{{customdata}}<extra>{plot(name)}</extra>",
            )
        )
    for month, value, marked in zip(months, frame["this_year"].to_list(), running, strict=True):
        if marked:
            figure.add_annotation(
                x=month, y=value or 0, text=in_progress_label, showarrow=False, yshift=12
            )
    figure.update_layout(barmode="group")
    figure.update_xaxes(dtick="M1", tickformat=tick_format)
    return _energy_layout(figure, title=title, y_label=y_label)


def energy_breakdown(
    frame: pl.DataFrame, *, label: str, value: str, title: str, x_label: str, unit: str
) -> go.Figure:
    """Horizontal bars of ``value`` per ``label`` (children of a node, buildings per m²), the
    largest on top."""
    ordered = frame.filter(pl.col(value).is_not_null()).sort(value)
    figure = go.Figure(
        go.Bar(
            x=ordered[value].to_list(),
            y=[plot(v) for v in ordered[label].to_list()],
            orientation="h",
            marker_color=BRAND,
            hovertemplate=f"%{{y}}: %{{x:,.2f}} {unit}<extra></extra>",
        )
    )
    figure.update_layout(
        title=plot(title),
        xaxis_title=plot(x_label),
        font_family=FONT,
        height=max(260, 70 + 30 * ordered.height),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    figure.update_xaxes(rangemode="tozero", separatethousands=True)
    figure.update_yaxes(type="category")
    return figure


def energy_loss(
    frame: pl.DataFrame,
    *,
    title: str,
    parent_label: str,
    children_label: str,
    loss_label: str,
    incomplete_label: str,
    y_label: str,
    unit: str,
) -> go.Figure:
    """A parent point against the sum of its direct sub-meters by month, with the loss % on a
    second axis. ``frame`` has ``month`` (dates), ``consumption``, ``children_consumption``,
    ``loss_pct`` (a fraction, null where incomplete) and ``complete``; incomplete months get a
    grey marker on the axis instead of a loss value, so they never read as an alarm."""
    months = frame["month"].to_list()
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=months,
            y=frame["consumption"].to_list(),
            name=plot(parent_label),
            marker_color=BRAND,
            hovertemplate=f"%{{y:,.1f}} {unit}<extra>{plot(parent_label)}</extra>",
        )
    )
    figure.add_trace(
        go.Bar(
            x=months,
            y=frame["children_consumption"].to_list(),
            name=plot(children_label),
            marker_color=MUTED,
            hovertemplate=f"%{{y:,.1f}} {unit}<extra>{plot(children_label)}</extra>",
        )
    )
    pct = [None if p is None else p * 100 for p in frame["loss_pct"].to_list()]
    figure.add_trace(
        go.Scatter(
            x=months,
            y=pct,
            name=plot(loss_label),
            yaxis="y2",
            mode="lines+markers",
            line={"color": ACCENT},
            connectgaps=False,
            hovertemplate=f"%{{y:.1f}} %<extra>{plot(loss_label)}</extra>",
        )
    )
    incomplete = frame.filter(~pl.col("complete") | pl.col("loss_pct").is_null())
    figure.add_trace(
        go.Scatter(
            x=incomplete["month"].to_list(),
            y=[0] * incomplete.height,
            name=plot(incomplete_label),
            yaxis="y2",
            mode="markers",
            marker={"symbol": "circle-open", "color": "#888888", "size": 10},
            hovertemplate=f"{incomplete_label}<extra></extra>",
            showlegend=not incomplete.is_empty(),
        )
    )
    figure.update_layout(
        barmode="group",
        yaxis2={
            "title": loss_label,
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "ticksuffix": " %",
            "showgrid": False,
        },
    )
    figure.update_xaxes(tickformat="%Y-%m")
    _span_the_data(figure, months, "month")
    return _energy_layout(figure, title=title, y_label=y_label)


# ---------------------------------------------------------------- maintenance (SLA, workload)


def sla_heatmap(
    frame: pl.DataFrame,
    *,
    title: str,
    x_label: str,
    y_label: str,
    colour_label: str,
    met_label: str,
    breached_label: str,
    pending_label: str,
) -> go.Figure:
    """Compliance per row (office × discipline) and month: ``frame`` has ``row`` (the row's
    label, already translated), ``month`` (real dates), ``compliance_pct`` (0–100, null when no
    clock has finished), ``met``, ``breached`` and ``pending``. Red is low, green is high; a cell
    without finished clocks stays empty. Rows keep the order they first appear in."""
    rows = list(dict.fromkeys(frame["row"].to_list()))
    months = sorted(set(frame["month"].to_list()))
    cells = {(r["row"], r["month"]): r for r in frame.iter_rows(named=True)}
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    custom: list[list[list[int]]] = []
    for row in rows:
        z_row: list[float | None] = []
        text_row: list[str] = []
        custom_row: list[list[int]] = []
        for month in months:
            cell = cells.get((row, month))
            pct = None if cell is None else cell["compliance_pct"]
            z_row.append(pct)
            text_row.append("" if pct is None else f"{pct:.0f}")
            custom_row.append(
                [0, 0, 0] if cell is None else [cell["met"], cell["breached"], cell["pending"]]
            )
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    figure = go.Figure(
        go.Heatmap(
            x=months,
            y=[plot(r) for r in rows],
            z=z,
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            zmin=0,
            zmax=100,
            colorscale=[[0.0, "#c0392b"], [0.6, "#f1c40f"], [0.9, "#a8d08d"], [1.0, "#1e8449"]],
            colorbar={"title": colour_label, "ticksuffix": " %"},
            xgap=2,
            ygap=2,
            hovertemplate=(
                "%{y}<br>%{x|%Y-%m}: %{z:.1f} %<br>"
                f"{met_label} %{{customdata[0]}} · {breached_label} %{{customdata[1]}}"
                f" · {pending_label} %{{customdata[2]}}<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        title=plot(title),
        xaxis_title=plot(x_label),
        yaxis_title=plot(y_label),
        font_family=FONT,
        height=max(300, 90 + 26 * len(rows)),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    figure.update_xaxes(tickformat="%Y-%m", dtick="M1", type="date")
    figure.update_yaxes(autorange="reversed", type="category")
    return figure


def order_throughput(
    frame: pl.DataFrame,
    *,
    title: str,
    y_label: str,
    created_label: str,
    closed_label: str,
) -> go.Figure:
    """Orders created and closed per month (summed over the offices in ``frame``): ``frame`` has
    ``month`` (real dates), ``created`` and ``closed``."""
    monthly = frame.group_by("month").agg(pl.col("created").sum(), pl.col("closed").sum())
    monthly = monthly.sort("month")
    figure = go.Figure()
    for column, name, colour in (
        ("created", created_label, MUTED),
        ("closed", closed_label, BRAND),
    ):
        figure.add_trace(
            go.Bar(
                x=monthly["month"].to_list(),
                y=monthly[column].to_list(),
                name=plot(name),
                marker_color=colour,
                hovertemplate=f"%{{x|%Y-%m}}: %{{y}}<extra>{plot(name)}</extra>",
            )
        )
    figure.update_layout(barmode="group")
    figure.update_xaxes(tickformat="%Y-%m", dtick="M1")
    return _energy_layout(figure, title=title, y_label=y_label)


# ---------------------------------------------------------------- owner service (tickets)


def monthly_counts(frame: pl.DataFrame, *, title: str, y_label: str) -> go.Figure:
    """A count per month and series, one line each (escalations per city company or office):
    ``frame`` has ``month`` (real dates), ``series`` (its label, user text: escaped) and
    ``escalations``; a series' months without a row count 0."""
    totals = frame.group_by("series", "month").agg(pl.col("escalations").sum())
    months = sorted(set(totals["month"].to_list()))
    figure = go.Figure()
    for series in sorted(set(totals["series"].to_list())):
        counts = dict(
            totals.filter(pl.col("series") == series).select("month", "escalations").iter_rows()
        )
        label = plot(series)
        figure.add_trace(
            go.Scatter(
                x=months,
                y=[counts.get(m, 0) for m in months],
                name=label,
                mode="lines+markers",
                hovertemplate=f"%{{x|%Y-%m}}: %{{y}}<extra>{label}</extra>",
            )
        )
    figure.update_xaxes(tickformat="%Y-%m", dtick="M1")
    figure.update_yaxes(rangemode="tozero")
    return _energy_layout(figure, title=title, y_label=y_label)
