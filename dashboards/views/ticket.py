"""A ticket (工单): ``/ticket?ticket=NO`` — its details, clocks, timeline and the user's next steps.

For ``VIEW_TICKETS``, at the offices in scope (``ticket_desk.ticket_view``: another office's
number shows nothing but "not found"). The clocks — pickup, on site, resolution, resolution after
escalation — are evaluated by the SLA code (deadline; met, running, or how late). The timeline
lists every event: when (on the office's clock), who, what, the state after, notes. Below, the
steps the user may take at the ticket's state, through the ticket services: dispatch (a complaint
received in office hours to the office manager, preselected — the first by name if there are
several, a warning if the office has none; a repair or a night-service ticket to a person who works
tickets at the office, the technician or the CS staff on duty), pick up (an inquiry: open), arrive on site, resolve (an inquiry:
reply) with a note, close an inquiry, the follow-up visit (satisfied / unsatisfied, and for an
unsatisfied repair a rework if the owner wants it). Each step submits the version the page was
read at: a ticket someone else moved meanwhile is refused, never overwritten.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import forms
from dashboards.session import flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from dashboards.ticket_links import ticket_link
from operational import sla
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import InquiryTicket, RepairTicket
from operational.services import tickets
from operational.services.clock_views import ClockSummary
from operational.services.ticket_desk import (
    TicketView,
    TimelineLine,
    dispatch_choice,
    ticket_view,
)

ASK, ASKED = "ticket_ask", "ticket_asked"
NOTE, RESULT, REWORK, HANDLER = "ticket_note", "ticket_result", "ticket_rework", "ticket_handler"
INPUTS_FOR = "ticket_inputs_for"


def local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _duration(minutes: float) -> str:
    whole = int(-(-minutes // 1))
    hours, rest = divmod(whole, 60)
    if hours:
        return tr("orders_ui2.duration.hours_minutes", hours=f"{hours:,}", minutes=rest)
    if whole < 1:
        return tr("orders_ui2.duration.under_a_minute")
    return tr("orders_ui2.duration.minutes", minutes=rest)


def clock_state(summary: ClockSummary) -> str:
    if summary.state is sla.ClockState.BREACHED:
        return tr("ticketdesk.ticket.state_breached", late=_duration(summary.late_minutes))
    if summary.state is sla.ClockState.MET:
        return tr("ticketdesk.ticket.state_met")
    return tr("ticketdesk.ticket.state_pending")


def clocks_table(view: TicketView) -> pl.DataFrame:
    zone = view.timezone
    columns = {
        tr("ticketdesk.ticket.col_clock"): [tr(f"ticketdesk.clock.{c.clock}") for c in view.clocks],
        tr("ticketdesk.ticket.col_started"): [
            local(c.summary.started_at, zone) for c in view.clocks
        ],
        tr("ticketdesk.ticket.col_due"): [local(c.summary.due_at, zone) for c in view.clocks],
        tr("ticketdesk.ticket.col_stopped"): [
            local(c.summary.stopped_at, zone) for c in view.clocks
        ],
        tr("ticketdesk.ticket.col_state"): [clock_state(c.summary) for c in view.clocks],
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def timeline_table(view: TicketView) -> pl.DataFrame:
    zone = view.timezone
    lines = view.timeline

    def who(line: TimelineLine) -> str:
        return line.actor if line.actor == line.actor_name else f"{line.actor_name} ({line.actor})"

    columns = {
        tr("ticketdesk.ticket.col_at"): [local(line.at, zone) for line in lines],
        tr("ticketdesk.ticket.col_actor"): [who(line) for line in lines],
        tr("ticketdesk.ticket.col_step"): [
            tr(f"workflow.transition.{line.transition}") for line in lines
        ],
        tr("ticketdesk.ticket.col_state_after"): [
            tr(f"workflow.state.{line.to_state}") for line in lines
        ],
        tr("ticketdesk.ticket.col_note"): [
            "；".join(
                [*(f"{k}: {v}" for k, v in line.details), *([line.note] if line.note else [])]
            )
            for line in lines
        ],
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


# ---------------------------------------------------------------- steps (widget callbacks)


def _clear_inputs() -> None:
    """Empty the steps' inputs (set, not removed: the browser would send a removed value back),
    so no note or follow-up result of one step, or of another ticket, is offered again."""
    state = st.session_state
    state[NOTE] = ""
    state[RESULT] = None
    state[REWORK] = False
    state[HANDLER] = None


def _step(user: Principal, view: TicketView, step: str) -> None:
    """Take ``step`` on the ticket as read at ``view.version``; a refusal stays on the page."""
    state = st.session_state
    rework_no: str | None = None
    try:
        with unit_of_work(operational_engine()) as db:
            ticket = tickets.get_ticket(db, user, view.document_no)
            version = view.version
            if step == "dispatch":
                tickets.dispatch(db, user, ticket, str(state.get(HANDLER) or ""), version)
            elif step in ("pick_up", "open"):
                tickets.pick_up(db, user, ticket, version)
            elif step == "arrive" and isinstance(ticket, RepairTicket):
                tickets.arrive(db, user, ticket, version)
            elif step in ("resolve", "reply"):
                tickets.resolve(db, user, ticket, version, str(state.get(NOTE) or ""))
            elif step == "close" and isinstance(ticket, InquiryTicket):
                tickets.close_inquiry(db, user, ticket, version)
            elif step == "follow_up":
                rework = tickets.follow_up(
                    db,
                    user,
                    ticket,
                    version,
                    str(state.get(RESULT) or ""),
                    str(state.get(NOTE) or ""),
                    rework=bool(state.get(REWORK)),
                )
                rework_no = rework.document_no if rework is not None else None
    except DomainError as refused:
        forms.refuse(step, refused)
        return
    forms.accept(step)
    _clear_inputs()
    message = tr(
        "ticketdesk.ticket.done",
        document_no=md(view.document_no),
        step=tr(f"workflow.transition.{step}"),
    )
    if rework_no is not None:
        message += " " + tr("ticketdesk.ticket.rework_opened", document_no=md(rework_no))
    flash(message)


def _button(user: Principal, view: TicketView, step: str, label_key: str) -> None:
    forms.problems(step)
    st.button(
        tr(label_key),
        key=f"ticket_step_{step}",
        type="primary",
        on_click=_step,
        args=(user, view, step),
        width="stretch",
    )


def _dispatch(user: Principal, view: TicketView) -> None:
    """A complaint in office hours: its office's managers, the first by name preselected (or
    why nobody can take it); other tickets: whoever works tickets there, the agent picks."""
    with unit_of_work(operational_engine()) as db:
        choice = dispatch_choice(db, user, view.document_no)
    if choice.managers_only:
        st.caption(tr("ticketgaps.dispatch.to_manager"))
    elif view.ticket_type == "complaint" and choice.night_service:
        st.caption(tr("ticketgaps.dispatch.night_complaint"))
    if not choice.people:
        if choice.managers_only:
            st.warning(tr("ticketgaps.dispatch.no_manager", office=md(view.office_code)))
        else:
            st.caption(tr("ticketdesk.ticket.no_handlers"))
        return
    names = {p.username: f"{p.display_name} ({p.username})" for p in choice.people}
    state = st.session_state
    if state.get(HANDLER) is None or state.get(HANDLER) not in names:
        state[HANDLER] = choice.preselected  # its office manager, or nobody yet
    st.selectbox(
        tr("ticketdesk.ticket.handler_pick"),
        list(names),
        format_func=names.__getitem__,
        key=HANDLER,
    )
    _button(user, view, "dispatch", "ticketdesk.ticket.dispatch")


def _actions(user: Principal, view: TicketView) -> None:
    st.subheader(tr("ticketdesk.ticket.actions"))
    if not view.actions:
        st.caption(tr("ticketdesk.ticket.no_actions"))
        return
    for step in view.actions:
        if step == "dispatch":
            _dispatch(user, view)
        elif step in ("pick_up", "open"):
            _button(user, view, step, "ticketdesk.ticket.pick_up")
        elif step == "arrive":
            _button(user, view, step, "ticketdesk.ticket.arrive")
        elif step in ("resolve", "reply"):
            st.text_area(tr("ticketdesk.ticket.note"), key=NOTE, max_chars=500, height=80)
            _button(user, view, step, f"ticketdesk.ticket.{step}")
        elif step == "close":
            _button(user, view, step, "ticketdesk.ticket.close")
        elif step == "follow_up":
            st.radio(
                tr("ticketdesk.ticket.result"),
                ["satisfied", "unsatisfied"],
                format_func=lambda v: tr(f"ticketdesk.ticket.{v}"),
                horizontal=True,
                index=None,
                key=RESULT,
            )
            if view.ticket_type == "repair" and st.session_state.get(RESULT) == "unsatisfied":
                st.checkbox(tr("ticketdesk.ticket.rework"), key=REWORK)
            st.text_area(tr("ticketdesk.ticket.note"), key=NOTE, max_chars=500, height=80)
            _button(user, view, step, "ticketdesk.ticket.follow_up_submit")


def _details(user: Principal, view: TicketView) -> None:
    zone = view.timezone
    st.title(tr("ticketdesk.ticket.title", document_no=md(view.document_no)))
    night = tr("ticketdesk.ticket.night") if view.night_service else tr("ticketdesk.ticket.day")
    st.caption(
        f"{tr(f'ticketdesk.type.{view.ticket_type}')} · "
        f"{tr(f'workflow.state.{view.state}')} · {night} · "
        f"{md(view.office_code)} {md(view.office_name)}"
    )
    st.markdown(f"**{md(view.subject)}**")
    if view.description:
        st.text(view.description)
    rows: list[tuple[str, str]] = [
        (tr("ticketdesk.ticket.received", zone=zone), local(view.received_at, zone)),
    ]
    if view.caller_name or view.caller_phone:
        caller = " · ".join(p for p in (view.caller_name or "", view.caller_phone) if p)
        rows.append((tr("ticketdesk.ticket.caller"), caller))
    if view.house:
        rows.append((tr("ticketdesk.ticket.house"), view.house))
    if view.place:
        rows.append((tr("ticketdesk.ticket.place"), tr(f"ticketdesk.place.{view.place}")))
    if view.urgency:
        rows.append((tr("ticketdesk.ticket.urgency"), tr(f"ticketdesk.urgency.{view.urgency}")))
    if view.appointment_at:
        rows.append((tr("ticketdesk.ticket.appointment"), local(view.appointment_at, zone)))
    if view.category:
        rows.append((tr("ticketdesk.ticket.category"), tr(f"ticketdesk.category.{view.category}")))
    if view.severity:
        rows.append((tr("ticketdesk.ticket.severity"), tr(f"ticketdesk.severity.{view.severity}")))
    if view.escalation_level:
        rows.append((tr("ticketdesk.ticket.escalation"), str(view.escalation_level)))
    if view.handler:
        rows.append((tr("ticketdesk.ticket.handler"), f"{view.handler_name} ({view.handler})"))
    if view.follow_up_result:
        rows.append(
            (tr("ticketdesk.ticket.follow_up"), tr(f"ticketdesk.ticket.{view.follow_up_result}"))
        )
    for label, value in rows:
        st.markdown(f"{label}: {md(value)}")
    if view.reopened_from:
        ticket_link(
            user,
            view.reopened_from,
            f"{tr('ticketdesk.ticket.reopened_from')} {view.reopened_from}",
        )
    for rework in view.reworks:
        ticket_link(user, rework, f"{tr('ticketdesk.ticket.reworks')} {rework}")


def render() -> None:
    user = require(Permission.VIEW_TICKETS)
    show_flash()
    asked = st.query_params.get("ticket")
    if asked and asked != st.session_state.get(ASKED):  # a link (to-do list, intake) opened it
        st.session_state[ASK] = asked
        st.session_state[ASKED] = asked
    number = st.text_input(tr("ticketdesk.ticket.ask"), key=ASK).strip()
    if not number:
        st.title(tr("ticketdesk.ticket.nav"))
        st.info(tr("ticketdesk.ticket.enter"))
        return
    if asked != number:  # typed: the address names it, so a reload or a shared link opens it
        st.query_params["ticket"] = number
        st.session_state[ASKED] = number
    try:
        with unit_of_work(operational_engine()) as db:
            view = ticket_view(db, user, number)
    except DomainError:
        st.warning(tr("ticketdesk.ticket.not_found", document_no=md(number)))
        return
    if st.session_state.get(INPUTS_FOR) != view.document_no:
        _clear_inputs()  # another ticket: nothing typed for the one before is offered
        st.session_state[INPUTS_FOR] = view.document_no
    _details(user, view)
    st.subheader(tr("ticketdesk.ticket.clocks"))
    if view.clocks:
        st.dataframe(clocks_table(view), hide_index=True, placeholder=tr("finish.table.missing"))
    else:
        st.caption(tr("ticketdesk.ticket.no_clocks"))
    st.subheader(tr("ticketdesk.ticket.timeline", zone=view.timezone))
    st.dataframe(timeline_table(view), hide_index=True, placeholder=tr("finish.table.missing"))
    _actions(user, view)


render()
