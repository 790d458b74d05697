"""The schedule fields of a plan form (frequency, interval, start, end), shared by the
periodic plans' and the inspection plans' forms so that both ask for a schedule the same way."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboards.session import tr


def schedule_fields(
    prefix: str,
    frequencies: dict[str, str],
    *,
    frequency: str | None,
    every: int | None,
    start: date | None,
    end: date | None,
    default_frequency: int,
) -> None:
    """Draw the four fields under the keys ``{prefix}_frequency``, ``_every``, ``_start`` and
    ``_end``, filled with a stored plan's values (None: a new plan's defaults)."""
    keys = list(frequencies)
    left, right = st.columns(2)
    left.selectbox(
        tr("maint_ui.plans.frequency"),
        keys,
        index=keys.index(frequency) if frequency in keys else default_frequency,
        format_func=frequencies.__getitem__,
        key=f"{prefix}_frequency",
    )
    right.number_input(
        tr("maint_ui.plans.interval"),
        min_value=1,
        max_value=366,
        step=1,
        key=f"{prefix}_every",
        **({} if every is None else {"value": every}),
    )
    first, last = st.columns(2)
    first.date_input(
        tr("maint_ui.plans.start"),
        key=f"{prefix}_start",
        **({} if start is None else {"value": start}),
    )
    last.date_input(tr("maint_ui.plans.end"), value=end, key=f"{prefix}_end")
