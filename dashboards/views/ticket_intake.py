"""Call intake (来电受理): find the caller in one field, then record an inquiry, repair or complaint.

For ``RECORD_TICKETS`` (call-centre agents, CS staff, the office manager), among their offices.
One search field finds the caller by phone number, house (``building-unit-room``) or name
(``ticket_desk.find_callers``); picking a hit names the caller, their house and so the office
(or "caller not in the records": then the office is chosen). The form asks what the type needs —
a repair where it is (in the home or a common area) and how urgent (an appointment with its day
and time on the office's clock), a complaint its category and severity. For a complaint the form
proposes ``general`` when the same house complained about the same category within the last
month (``ticket_desk.proposed_severity``); the user confirms or chooses otherwise. A refusal lists
every problem and keeps what was typed; a recorded ticket links to its page.
"""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import forms
from dashboards.session import flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from dashboards.ticket_links import ticket_link
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models.tickets import ComplaintCategory, Place, Severity, TicketType, Urgency
from operational.services.ticket_desk import (
    Caller,
    TicketForm,
    find_callers,
    intake_offices,
    proposed_severity,
    take_call,
)

FORM = "intake"
QUERY, PICK, OFFICE = "intake_query", "intake_pick", "intake_office"
PICK_FOR = "intake_pick_for"
TYPE, SUBJECT, DESCRIPTION = "intake_type", "intake_subject", "intake_description"
CALLER_NAME, CALLER_PHONE = "intake_caller_name", "intake_caller_phone"
PLACE, URGENCY, DAY, TIME = "intake_place", "intake_urgency", "intake_day", "intake_time"
CATEGORY, SEVERITY = "intake_category", "intake_severity"
PROPOSED_FOR = "intake_proposed_for"
CALLERS = "intake_callers"
RECORDED = "intake_recorded"
UNKNOWN = "unknown"
TEXTS = (SUBJECT, DESCRIPTION, CALLER_NAME, CALLER_PHONE)
CLEARED = (*TEXTS, TYPE, PLACE, URGENCY, DAY, TIME, CATEGORY, SEVERITY)


def caller_key(caller: Caller) -> str:
    return f"{caller.office_code}/{caller.customer_id or ''}/{caller.house_id or ''}"


def caller_label(caller: Caller) -> str:
    if caller.customer_code is None:
        return f"{tr('ticketdesk.intake.nobody_lives', house=caller.house)} · {caller.office_code}"
    house = caller.house or tr("ticketdesk.intake.no_house")
    role = f" ({tr(f'property.role.{caller.role}')})" if caller.role else ""
    phone = f" · {caller.phone}" if caller.phone else ""
    return f"{caller.customer_name}{role} · {house}{phone} · {caller.office_code}"


def _picked() -> Caller | None:
    callers: dict[str, Caller] = st.session_state.get(CALLERS) or {}
    key = st.session_state.get(PICK)
    return callers.get(str(key)) if key and key != UNKNOWN else None


def _undecided() -> bool:
    """Several callers (or houses) found and none of them, nor "not in the records", picked."""
    return st.session_state.get(PICK) is None and bool(st.session_state.get(CALLERS))


def _office_of_form() -> str:
    caller = _picked()
    if caller is not None:
        return caller.office_code
    if _undecided():
        return ""
    return str(st.session_state.get(OFFICE) or "")


def _record(user: Principal) -> None:
    state = st.session_state
    caller = _picked()
    day = state.get(DAY)
    moment = state.get(TIME)
    form = TicketForm(
        office_code=_office_of_form(),
        ticket_type=str(state.get(TYPE) or ""),
        subject=str(state.get(SUBJECT) or ""),
        description=str(state.get(DESCRIPTION) or ""),
        house_id=caller.house_id if caller is not None else None,
        customer_id=caller.customer_id if caller is not None else None,
        caller_name=str(state.get(CALLER_NAME) or ""),
        caller_phone=str(state.get(CALLER_PHONE) or ""),
        place=str(state.get(PLACE) or ""),
        urgency=str(state.get(URGENCY) or ""),
        appointment_on=day if isinstance(day, date) else None,
        appointment_time=moment if isinstance(moment, time) else None,
        category=str(state.get(CATEGORY) or ""),
        severity=str(state.get(SEVERITY) or ""),
        caller_undecided=_undecided(),
    )
    try:
        with unit_of_work(operational_engine()) as db:
            ticket = take_call(db, user, form)
            number = ticket.document_no
    except DomainError as refused:
        forms.refuse(FORM, refused)  # every problem listed, everything typed kept
        return
    forms.accept(FORM)
    for key in CLEARED:  # set, not removed: the browser would send a removed value back
        state[key] = "" if key in TEXTS else None
    state[QUERY] = ""
    state.pop(PROPOSED_FOR, None)
    state[RECORDED] = number
    flash(tr("ticketdesk.intake.recorded", document_no=md(number)))


def _caller_section(user: Principal) -> Caller | None:
    query = st.text_input(
        tr("ticketdesk.intake.search"), key=QUERY, help=tr("ticketdesk.intake.search_help")
    )
    callers: dict[str, Caller] = {}
    if query.strip():
        with unit_of_work(operational_engine()) as db:
            hits = find_callers(db, user, query)
        callers = {caller_key(c): c for c in hits}
        if not hits:
            st.info(tr("ticketdesk.intake.no_match", query=md(query.strip())))
        else:
            st.caption(tr("ticketdesk.intake.results", count=len(hits)))
    st.session_state[CALLERS] = callers
    searched = query.strip()
    if st.session_state.get(PICK_FOR) != searched or st.session_state.get(PICK) not in (
        *callers,
        UNKNOWN,
        None,
    ):  # a new search: its one hit is the caller; of several the user picks (none is assumed:
        # a caller with two houses must say which); nobody found: not in the records
        st.session_state[PICK] = (
            next(iter(callers)) if len(callers) == 1 else None if callers else UNKNOWN
        )
        st.session_state[PICK_FOR] = searched
    st.selectbox(
        tr("ticketdesk.intake.pick"),
        [*callers, UNKNOWN],
        format_func=lambda k: (
            tr("ticketdesk.intake.unknown_caller") if k == UNKNOWN else caller_label(callers[k])
        ),
        key=PICK,
    )
    if _undecided():
        st.warning(tr("ticketgaps.intake.pick_caller", count=len(callers)))
    return _picked()


def _choice(label_key: str, prefix: str, values: list[str], key: str) -> None:
    st.radio(
        tr(label_key),
        values,
        format_func=lambda v: tr(f"{prefix}.{v}"),
        key=key,
        horizontal=True,
        index=None,
    )


def _complaint_fields(user: Principal, caller: Caller | None, zone: str) -> None:
    st.selectbox(
        tr("ticketdesk.field.category"),
        [c.value for c in ComplaintCategory],
        format_func=lambda v: tr(f"ticketdesk.category.{v}"),
        index=None,
        key=CATEGORY,
    )
    category = st.session_state.get(CATEGORY)
    office = _office_of_form()
    if caller is not None and caller.house_id is not None and category and office:
        with unit_of_work(operational_engine()) as db:
            proposal = proposed_severity(db, user, office, caller.house_id, str(category))
        asked = (caller.house_id, category)
        if proposal.severity is not None and proposal.earlier_at is not None:
            if st.session_state.get(PROPOSED_FOR) != asked:  # propose once; the user decides
                st.session_state[SEVERITY] = proposal.severity
                st.session_state[PROPOSED_FOR] = asked
            st.info(
                tr(
                    "ticketdesk.intake.proposal",
                    at=proposal.earlier_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d"),
                    document_no=md(proposal.earlier),
                ),
                icon=":material/repeat:",
            )
    _choice(
        "ticketdesk.field.severity", "ticketdesk.severity", [v.value for v in Severity], SEVERITY
    )


def _repair_fields(zone: str) -> None:
    _choice("ticketdesk.field.place", "ticketdesk.place", [v.value for v in Place], PLACE)
    _choice("ticketdesk.field.urgency", "ticketdesk.urgency", [v.value for v in Urgency], URGENCY)
    if st.session_state.get(URGENCY) == Urgency.APPOINTMENT.value:
        day, moment = st.columns(2)
        day.date_input(tr("ticketdesk.intake.appointment_day"), value=None, key=DAY)
        moment.time_input(
            tr("ticketdesk.intake.appointment_time", zone=zone), value=None, step=900, key=TIME
        )


def render() -> None:
    user = require(Permission.RECORD_TICKETS)
    st.title(tr("ticketdesk.intake.title"))
    show_flash()
    recorded = st.session_state.get(RECORDED)
    if recorded:
        ticket_link(
            user, str(recorded), tr("ticketdesk.intake.open_ticket", document_no=str(recorded))
        )
    with unit_of_work(operational_engine()) as db:
        offices = intake_offices(db, user)
    zones = {o.code: o.timezone for o in offices}
    if not offices:
        st.info(tr("ticketdesk.intake.no_offices"))
        return
    caller = _caller_section(user)
    if caller is None and not _undecided():
        names = {o.code: f"{o.code} {o.name}" for o in offices}
        st.selectbox(
            tr("ticketdesk.intake.office"),
            list(names),
            format_func=names.__getitem__,
            index=0 if len(names) == 1 else None,
            key=OFFICE,
        )
    if (caller is None and not _undecided()) or (caller is not None and caller.customer_id is None):
        # Not in the records, or a house nobody lives in: who calls is typed.
        name, phone = st.columns(2)
        name.text_input(tr("ticketdesk.intake.caller_name"), key=CALLER_NAME, max_chars=80)
        phone.text_input(tr("ticketdesk.intake.caller_phone"), key=CALLER_PHONE, max_chars=20)
    office = _office_of_form()
    zone = zones.get(office, "Asia/Shanghai")
    st.radio(
        tr("ticketdesk.field.ticket_type"),
        [t.value for t in TicketType],
        format_func=lambda v: tr(f"ticketdesk.type.{v}"),
        horizontal=True,
        index=None,  # chosen for every call: a complaint never goes in as an inquiry unasked
        key=TYPE,
    )
    kind = st.session_state.get(TYPE)
    st.text_input(tr("ticketdesk.field.subject"), key=SUBJECT, max_chars=200)
    st.text_area(tr("ticketdesk.field.description"), key=DESCRIPTION, max_chars=2000, height=80)
    if kind == TicketType.REPAIR.value:
        _repair_fields(zone)
    elif kind == TicketType.COMPLAINT.value:
        _complaint_fields(user, caller, zone)
    forms.problems(FORM)
    st.button(
        tr("ticketdesk.intake.submit"),
        type="primary",
        on_click=_record,
        args=(user,),
        key="intake_submit",
        width="stretch",
    )


render()
