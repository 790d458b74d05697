"""Meter replacement (换表): end the installed meter and start the next one, in one step.

The old meter's final reading, the replacement time (now on the office's clock by default), the
new meter's serial, multiplier and register digits (the old one's unless changed) and its initial
reading go to ``replace_meter`` together, which checks them (docs/energy-marts.md) and records both in one
transaction; a refusal is shown in the user's language.
"""

from __future__ import annotations

import streamlit as st

from dashboards.energy_data import (
    PHONE_CSS,
    chosen_moment,
    local_text,
    moment_inputs,
    point_choice_labels,
    reading_text,
)
from dashboards.session import error_text, flash, operational_engine, require, show_flash, tr
from dashboards.text import code_span, md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.services.energy import (
    MAX_DIGITS,
    PointStatus,
    list_points,
    point_status,
    replace_meter,
)

POINT = "replace_point"
FOR = "replace_for"


def _digits(text: str) -> int | None:
    """The register digits typed in; empty keeps the old meter's."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise DomainError("energy.meter.bad_digits", value=text, max=MAX_DIGITS) from None


def _submit(user: Principal, code: str) -> None:
    state = st.session_state
    final = str(state.get("replace_final") or "").strip()
    initial = str(state.get("replace_initial") or "").strip()
    if not final or not initial:
        flash(tr("energy_ui.replace.required"), ok=False)
        return
    try:
        with unit_of_work(operational_engine()) as db:
            meter = replace_meter(
                db,
                user,
                code,
                chosen_moment("replace"),
                final,
                initial,
                new_serial=str(state.get("replace_serial") or "").strip() or None,
                new_multiplier=str(state.get("replace_multiplier") or "").strip() or None,
                new_digits=_digits(str(state.get("replace_digits") or "").strip()),
            )
            zone = point_status(db, user, code, Permission.MANAGE_METERS).timezone
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    state[FOR] = None
    flash(
        tr(
            "energy_ui.replace.saved",
            point=code,
            time=local_text(meter.installed_at, zone),
            serial=meter.serial or "—",
            initial=reading_text(meter.initial_reading),
        )
    )


def choose_point(user: Principal) -> str | None:
    with unit_of_work(operational_engine()) as db:
        points = [p for p in list_points(db, user, Permission.MANAGE_METERS) if p.has_meter]
    labels = point_choice_labels([(p.code, p.name, p.kind, p.building) for p in points])
    if not labels:
        st.info(tr("energy_ui.reading.no_points"))
        return None
    if st.session_state.get(POINT) not in labels:
        st.session_state[POINT] = None
    code = st.selectbox(
        tr("energy_ui.reading.point"),
        list(labels),
        format_func=labels.__getitem__,
        placeholder=tr("energy_ui.reading.point_hint"),
        key=POINT,
    )
    return None if code is None else str(code)


def replacement_form(user: Principal, status: PointStatus) -> None:
    meter = status.meter
    assert meter is not None
    with st.container(border=True):
        st.markdown(f"**{md(status.name)}** · {code_span(status.code)}")
        st.caption(
            tr(
                "energy_ui.replace.current",
                serial=md(meter.serial) or "—",
                multiplier=reading_text(meter.multiplier),
                digits=meter.digits or "—",
                installed=local_text(meter.installed_at, status.timezone),
            )
        )
        st.caption(
            tr(
                "energy_ui.replace.last",
                value=reading_text(status.last_reading),
                time=local_text(status.last_read_at, status.timezone),
            )
        )
    reset = st.session_state.get(FOR) != status.code
    if reset:
        st.session_state[FOR] = status.code
        st.session_state["replace_final"] = ""
        st.session_state["replace_serial"] = ""
        st.session_state["replace_multiplier"] = reading_text(meter.multiplier)
        st.session_state["replace_digits"] = "" if meter.digits is None else str(meter.digits)
        st.session_state["replace_initial"] = "0"
    with st.form("replace_form", enter_to_submit=False):
        st.subheader(tr("energy_ui.replace.old_meter"))
        st.text_input(tr("energy_ui.replace.final"), key="replace_final")
        moment_inputs("replace", status.timezone, reset=reset)
        st.subheader(tr("energy_ui.replace.new_meter"))
        st.text_input(tr("energy_ui.replace.serial"), key="replace_serial")
        multiplier, digits = st.columns(2)
        multiplier.text_input(tr("energy_ui.replace.multiplier"), key="replace_multiplier")
        digits.text_input(
            tr("energy_ui.replace.digits"),
            key="replace_digits",
            help=tr("energy_ui.replace.digits_help", max=MAX_DIGITS),
        )
        st.text_input(tr("energy_ui.replace.initial"), key="replace_initial")
        st.form_submit_button(
            tr("energy_ui.replace.submit"),
            type="primary",
            width="stretch",
            on_click=_submit,
            args=(user, status.code),
            key="replace_submit",
        )


def render() -> None:
    user = require(Permission.MANAGE_METERS)
    st.html(PHONE_CSS)
    with st.container(key="energy_entry", width=560):
        st.title(tr("energy_ui.replace.title"))
        show_flash()
        code = choose_point(user)
        if code is None:
            return
        with unit_of_work(operational_engine()) as db:
            status = point_status(db, user, code, Permission.MANAGE_METERS)
        if status.meter is None:
            st.warning(tr("energy_ui.reading.no_meter"))
            return
        replacement_form(user, status)


render()
