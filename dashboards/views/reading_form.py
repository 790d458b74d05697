"""Meter reading (抄表): the form meter readers fill in on a phone, at ``/reading``.

Choose a point (a searchable select of the user's points) or arrive from its QR label
(``/reading?point=<code>``; a logged-out reader logs in first and lands back here). The page shows
the point's last reading and typical daily use; the reader enters the value and the time (now on
the office's clock by default). ``record_reading`` checks it (docs/energy-marts.md): a refusal is shown in
the user's language, a roll-over or an unusually high value needs an explicit confirmation and is
then stored flagged. One of the recent readings can be corrected or withdrawn (``correct_reading``:
the old row stays, superseded). Everything runs in widget callbacks, before the page is drawn.
"""

from __future__ import annotations

import streamlit as st

from dashboards.energy_data import (
    PHONE_CSS,
    chosen_moment,
    local_text,
    moment_inputs,
    point_choice_labels,
    quantity,
    reading_text,
    requested_point,
    unit,
)
from dashboards.session import (
    error_text,
    flash,
    operational_engine,
    require,
    show_flash,
    tr,
)
from dashboards.text import code_span, md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import ReadingSource
from operational.services.energy import (
    ConfirmationNeeded,
    PointStatus,
    correct_reading,
    list_points,
    point_status,
    record_reading,
)

POINT = "reading_point"
# (Page scripts draw bare string literals, so these notes are comments.)
# LINKED: the point the address asked for, once applied (so a later choice in the select stands).
# FOR: the point the time inputs were set for; cleared after a stored reading to reset them.
LINKED = "reading_linked_point"
SCANNED = "reading_scanned_point"
FOR = "reading_for"
PENDING = "reading_pending"
CORRECTION_PENDING = "correction_pending"


# ---------------------------------------------------------------- callbacks


def _confirmations(pending_key: str, request: tuple[object, ...], checkbox: str) -> set[str]:
    """The confirmation the user has given for exactly this request (same point, value, time)."""
    pending = st.session_state.get(pending_key)
    if pending and pending["request"] == request and st.session_state.get(checkbox):
        return {pending["confirmation"]}
    return set()


def _ask_confirmation(
    pending_key: str, request: tuple[object, ...], needed: ConfirmationNeeded
) -> None:
    st.session_state[pending_key] = {
        "point": request[0],
        "request": request,
        "confirmation": needed.confirmation,
        "message": error_text(needed),
    }


def _submit_reading(user: Principal, code: str) -> None:
    value = str(st.session_state.get("reading_value") or "").strip()
    if not value:
        flash(tr("energy_ui.reading.value_required"), ok=False)
        return
    read_at = chosen_moment("reading")
    request = (code, value, read_at.isoformat())
    confirmed = _confirmations(PENDING, request, "reading_confirm")
    source = ReadingSource.SCAN if st.session_state.get(SCANNED) == code else ReadingSource.FORM
    try:
        with unit_of_work(operational_engine()) as db:
            recorded = record_reading(
                db,
                user,
                code,
                read_at,
                value,
                source=source.value,
                confirm_rollover="rollover" in confirmed,
                confirm_high="high" in confirmed,
            )
            status = point_status(db, user, code)
    except ConfirmationNeeded as needed:
        _ask_confirmation(PENDING, request, needed)
        st.session_state["reading_confirm"] = False
        return
    except DomainError as refused:
        st.session_state.pop(PENDING, None)
        flash(error_text(refused), ok=False)
        return
    st.session_state.pop(PENDING, None)
    st.session_state["reading_value"] = ""
    st.session_state[FOR] = None
    message = tr(
        "energy_ui.reading.saved",
        value=reading_text(recorded.reading.reading),
        point=f"{status.name} ({code})",
        time=local_text(recorded.reading.read_at, status.timezone),
        use=quantity(recorded.delta, unit(status.kind)),
    )
    if recorded.reading.flag:
        message += " " + tr(f"energy_ui.reading.flagged_{recorded.reading.flag}")
    flash(message)


def _submit_correction(user: Principal, code: str) -> None:
    reading_id = st.session_state.get("correction_reading")
    withdraw = st.session_state.get("correction_action") == "withdraw"
    value = str(st.session_state.get("correction_value") or "").strip()
    if reading_id is None:
        return
    if not withdraw and not value:
        flash(tr("energy_ui.reading.value_required"), ok=False)
        return
    request = (code, reading_id, None if withdraw else value)
    confirmed = _confirmations(CORRECTION_PENDING, request, "correction_confirm")
    try:
        with unit_of_work(operational_engine()) as db:
            view = correct_reading(
                db,
                user,
                int(reading_id),
                None if withdraw else value,
                confirm_rollover="rollover" in confirmed,
                confirm_high="high" in confirmed,
            )
            zone = point_status(db, user, code).timezone
    except ConfirmationNeeded as needed:
        _ask_confirmation(CORRECTION_PENDING, request, needed)
        st.session_state["correction_confirm"] = False
        return
    except DomainError as refused:
        st.session_state.pop(CORRECTION_PENDING, None)
        flash(error_text(refused), ok=False)
        return
    st.session_state.pop(CORRECTION_PENDING, None)
    st.session_state["correction_value"] = ""
    when = local_text(view.read_at, zone)
    flash(
        tr("energy_ui.correct.withdrawn", time=when)
        if withdraw
        else tr("energy_ui.correct.saved", time=when, value=reading_text(view.reading))
    )


# ---------------------------------------------------------------- the page


def choose_point(user: Principal) -> str | None:
    with unit_of_work(operational_engine()) as db:
        points = list_points(db, user, Permission.ENTER_READINGS)
    labels = point_choice_labels([(p.code, p.name, p.kind, p.building) for p in points])
    asked = requested_point()
    if asked and asked != st.session_state.get(LINKED):
        st.session_state[LINKED] = asked
        if asked in labels:
            st.session_state[POINT] = asked
            st.session_state[SCANNED] = asked
    if asked and asked not in labels:
        st.warning(tr("energy_ui.reading.link_unknown", code=md(asked)))
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
    if code is not None and st.query_params.get("point") != code:
        st.session_state[LINKED] = code
        st.query_params["point"] = code
    return None if code is None else str(code)


def show_status(status: PointStatus) -> None:
    u = unit(status.kind)
    with st.container(border=True):
        st.markdown(f"**{md(status.name)}** · {code_span(status.code)}")
        place = [
            md(f"{status.office_code} {status.office_name}"),
            tr(f"energy_ui.kind.{status.kind}"),
        ]
        if status.building:
            place.append(md(status.building))
        st.caption(" · ".join(place))
        st.markdown(
            tr(
                "energy_ui.reading.last_line",
                value=reading_text(status.last_reading),
                time=local_text(status.last_read_at, status.timezone),
            )
        )
        st.markdown(
            tr(
                "energy_ui.reading.typical_line",
                use=quantity(status.typical_daily_use, tr("energy_ui.per_day", unit=u)),
            )
        )
        if status.meter is not None:
            st.caption(
                tr(
                    "energy_ui.reading.meter",
                    serial=md(status.meter.serial) or "—",
                    multiplier=reading_text(status.meter.multiplier),
                    digits=status.meter.digits or "—",
                )
            )


def reading_form(user: Principal, status: PointStatus) -> None:
    reset = st.session_state.get(FOR) != status.code
    if reset:
        st.session_state[FOR] = status.code
        st.session_state["reading_value"] = ""
    with st.form("reading_form", enter_to_submit=False):
        st.text_input(
            tr("energy_ui.reading.value"),
            key="reading_value",
            placeholder=tr("energy_ui.reading.value_hint"),
        )
        moment_inputs("reading", status.timezone, reset=reset)
        pending = st.session_state.get(PENDING)
        if pending and pending["point"] == status.code:
            st.warning(pending["message"])
            st.checkbox(
                tr(f"energy_ui.reading.confirm_{pending['confirmation']}"), key="reading_confirm"
            )
        st.form_submit_button(
            tr("energy_ui.reading.submit"),
            type="primary",
            width="stretch",
            on_click=_submit_reading,
            args=(user, status.code),
            key="reading_submit",
        )


def correction_form(user: Principal, status: PointStatus) -> None:
    if not status.recent:
        return
    flags = {f: tr(f"energy_ui.reading.flag_{f}") for f in ("rollover", "high")}
    labels = {
        r.reading_id: " · ".join(
            x
            for x in (
                local_text(r.read_at, status.timezone),
                reading_text(r.reading),
                flags.get(r.flag or "", ""),
            )
            if x
        )
        for r in status.recent
    }
    pending = st.session_state.get(CORRECTION_PENDING)
    open_now = bool(pending and pending["point"] == status.code)
    with st.expander(tr("energy_ui.correct.title"), expanded=open_now):
        if st.session_state.get("correction_reading") not in labels:
            st.session_state["correction_reading"] = next(iter(labels))
        actions = {a: tr(f"energy_ui.correct.{a}") for a in ("correct", "withdraw")}
        with st.form("correction_form", enter_to_submit=False):
            st.selectbox(
                tr("energy_ui.correct.which"),
                list(labels),
                format_func=labels.__getitem__,
                key="correction_reading",
            )
            st.radio(
                tr("energy_ui.correct.action"),
                list(actions),
                format_func=actions.__getitem__,
                key="correction_action",
                horizontal=True,
            )
            st.text_input(tr("energy_ui.correct.new_value"), key="correction_value")
            if open_now:
                assert pending is not None
                st.warning(pending["message"])
                st.checkbox(
                    tr(f"energy_ui.reading.confirm_{pending['confirmation']}"),
                    key="correction_confirm",
                )
            st.form_submit_button(
                tr("energy_ui.correct.submit"),
                width="stretch",
                on_click=_submit_correction,
                args=(user, status.code),
                key="correction_submit",
            )


def render() -> None:
    user = require(Permission.ENTER_READINGS)
    st.html(PHONE_CSS)
    with st.container(key="energy_entry", width=560):
        st.title(tr("energy_ui.reading.title"))
        show_flash()
        code = choose_point(user)
        if code is None:
            return
        with unit_of_work(operational_engine()) as db:
            status = point_status(db, user, code)
        show_status(status)
        if status.meter is None:
            st.warning(tr("energy_ui.reading.no_meter"))
            return
        reading_form(user, status)
        correction_form(user, status)


render()
