"""Pure functions from polars DataFrames to plotly figures.

Charts know nothing of Streamlit, sessions or languages: the page passes every label already
translated, so each function can be tested by looking at the figure it returns.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

BRAND = "#1f6f8b"
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


def offices_per_city(org: pl.DataFrame, *, title: str, x_label: str, y_label: str) -> go.Figure:
    """A horizontal bar per city company with its number of offices, the largest on top.

    ``org`` has a row per office with at least ``city_code`` and ``city_name``.
    """
    counts = (
        org.group_by("city_code", "city_name")
        .agg(pl.len().alias("offices"))
        .sort(["offices", "city_code"], descending=[False, True])
    )
    largest: int = max(counts["offices"].to_list(), default=0)
    figure = go.Figure(
        go.Bar(
            x=counts["offices"].to_list(),
            y=counts["city_name"].to_list(),
            orientation="h",
            marker_color=BRAND,
            text=counts["offices"].to_list(),
            textposition="auto",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title=x_label,
        yaxis_title=y_label,
        font_family=FONT,
        height=max(260, 60 + 28 * counts.height),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"rangemode": "tozero", "dtick": 1 if largest <= 10 else None},
    )
    return figure
