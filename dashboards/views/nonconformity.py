"""Nonconformities (不合格单据): open one, work on one, the list — phone-first.

Three kinds (docs/nonconformities.md): a notice (不合格提示单: issued → acknowledged), a handling
order (不合格处理单: assigned → handled → verified), a corrective-and-preventive order (纠正预防单:
cause, correction, prevention, verification). Whoever may open them (supervisors, the office
manager) picks the kind, discipline, description, who it goes to (office staff or a supplier
user), and optionally a supplier contract of that office and discipline — then chooses the breach
points from that contract's deduction standard. The page acts only through
``operational.services.nonconformities`` (every refusal is shown next to the form, nothing typed
is lost) and reads only through its scoped reads: a supplier user sees the tickets assigned to
them. ``?nc=<number>`` (and the to-do list, session key ``nc_open``) opens one: its details,
the step its reader may take now, and its history from the engine's events. Times are shown on
the office's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import forms
from dashboards.export import excel_download
from dashboards.paging import NONCONFORMITIES, pager
from dashboards.session import error_text, flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import INSPECTION_DISCIPLINES, NonconformityKind
from operational.services import lookup
from operational.services import nonconformities as ncs

NC = "nc_no"
OPEN_NC = "nc_open"  # set by views/todo.py
OPEN_FORM = "nc_open_form"
WIDTH = 560
DISPLAY_ZONE = "Asia/Shanghai"  # the list's times (one office's own clock on its page)
PHONE_CSS = """
<style>
.st-key-nc_entry input, .st-key-nc_entry textarea { font-size: 1.1rem; }
.st-key-nc_entry button { min-height: 2.8rem; }
</style>
"""
STEP_FIELD = {
    "acknowledge": "ncflows_ui.field.acknowledge_note",
    "handle": "ncflows_ui.field.handling_note",
    "find_cause": "ncflows_ui.field.cause",
    "correct": "ncflows_ui.field.correction",
    "prevent": "ncflows_ui.field.prevention",
    "verify": "ncflows_ui.field.verification_note",
    "send_back": "ncflows_ui.field.send_back_reason",
}


def local_text(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def kind_text(kind: str) -> str:
    return tr(f"ncflows_ui.kind.{kind}")


# ---------------------------------------------------------------- callbacks


def _open(user: Principal) -> None:
    state = st.session_state
    points = state.get("nc_new_points")
    try:
        with unit_of_work(operational_engine()) as db:
            nc = ncs.open_nonconformity(
                db,
                user,
                office_code=str(state.get("nc_new_office") or ""),
                kind=str(state.get("nc_new_kind") or ""),
                discipline=str(state.get("nc_new_discipline") or ""),
                description=str(state.get("nc_new_description") or ""),
                contract_no=state.get("nc_new_contract") or None,
                breach_points=int(points) if points else None,
                assignee=state.get("nc_new_assignee") or None,
            )
            number = nc.document_no
    except DomainError as refused:
        forms.refuse(OPEN_FORM, refused)
        return
    forms.accept(OPEN_FORM)
    state["nc_new_description"] = ""
    state[NC] = number
    flash(tr("ncflows_ui.opened", nc_no=number))


def _act(user: Principal, nc_no: str, action: str, version: int) -> None:
    form = f"nc_step_{nc_no}"
    text = str(st.session_state.get(f"nc_text_{nc_no}_{action}") or "")
    assignee = st.session_state.get(f"nc_assignee_{nc_no}")
    try:
        with unit_of_work(operational_engine()) as db:
            nc = ncs.get_nonconformity(db, user, nc_no)
            ncs.act(
                db,
                user,
                nc,
                action,
                version,
                text=text,
                assignee=str(assignee) if action == "reassign" and assignee else None,
            )
    except DomainError as refused:
        forms.refuse(form, refused)
        return
    forms.accept(form)
    flash(tr("ncflows_ui.step_done", nc_no=nc_no, step=tr(f"workflow.transition.{action}")))


# ---------------------------------------------------------------- one nonconformity


def show_nc(user: Principal, nc_no: str) -> None:
    people: list[lookup.Person] = []
    try:
        with unit_of_work(operational_engine()) as db:
            view = ncs.nonconformity_view(db, user, nc_no)
            if "reassign" in view.actions:
                people = lookup.people_with(
                    db, user, view.office_code, Permission.HANDLE_NONCONFORMITIES
                )
    except DomainError as refused:
        st.warning(error_text(refused))
        return
    zone = view.timezone
    st.subheader(md(f"{view.nc_no} · {kind_text(view.kind)}"))
    state = tr(f"workflow.state.{view.state}")
    discipline = tr(f"discipline.{view.discipline}")
    lines = [
        f"**{tr('ncflows_ui.col.state')}**: {state}",
        f"**{tr('ncflows_ui.col.office')}**: {md(view.office_code)} {md(view.office_name)}",
        f"**{tr('ncflows_ui.col.discipline')}**: {discipline}",
        f"**{tr('ncflows_ui.col.assignee')}**: {md(view.assignee or '—')}",
        f"**{tr('ncflows_ui.col.opened_at')}**: {local_text(view.opened_at, zone)}",
        f"**{tr('ncflows_ui.col.closed_at')}**: {local_text(view.closed_at, zone)}",
    ]
    if view.contract_no:
        points = tr("ncflows_ui.points", points=view.breach_points or 0)
        lines.append(f"**{tr('ncflows_ui.col.contract')}**: {md(view.contract_no)} · {points}")
    if view.due_at is not None:
        lines.append(f"**{tr('ncflows_ui.col.due_at')}**: {local_text(view.due_at, zone)}")
    st.markdown("  \n".join(lines))
    st.markdown(md(view.description))
    for column, text in view.texts.items():
        st.markdown(f"**{tr(f'ncflows_ui.field.{column}')}**: {md(text)}")
    form = f"nc_step_{nc_no}"
    forms.problems(form)
    for action in view.actions:
        if action == "reassign":
            continue
        if action in STEP_FIELD:
            st.text_area(tr(STEP_FIELD[action]), key=f"nc_text_{nc_no}_{action}")
        st.button(
            tr(f"workflow.transition.{action}"),
            type="secondary" if action == "send_back" else "primary",
            width="stretch",
            on_click=_act,
            args=(user, nc_no, action, view.version),
            key=f"nc_do_{nc_no}_{action}",
        )
    if "reassign" in view.actions and people:
        names = {p.username: f"{p.display_name} ({p.username})" for p in people}
        with st.expander(tr("workflow.transition.reassign")):
            st.selectbox(
                tr("ncflows_ui.col.assignee"),
                list(names),
                index=None,
                format_func=names.__getitem__,
                placeholder=tr("maint_ui.choose"),
                key=f"nc_assignee_{nc_no}",
            )
            st.button(
                tr("workflow.transition.reassign"),
                width="stretch",
                on_click=_act,
                args=(user, nc_no, "reassign", view.version),
                key=f"nc_do_{nc_no}_reassign",
            )
    if not view.actions:
        st.info(tr("ncflows_ui.nothing_to_do"))
    st.markdown(f"**{tr('ncflows_ui.history')}**")
    table = pl.DataFrame(
        {
            tr("ncflows_ui.col.at"): [local_text(s.at, zone) for s in view.history],
            tr("ncflows_ui.col.step"): [
                tr(f"workflow.transition.{s.transition}") for s in view.history
            ],
            tr("ncflows_ui.col.actor"): [s.actor for s in view.history],
            tr("ncflows_ui.col.note"): [s.note for s in view.history],
        },
        schema={tr(f"ncflows_ui.col.{c}"): pl.String for c in ("at", "step", "actor", "note")},
    )
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(table, view.nc_no, key=f"nc_history_excel_{nc_no}")


# ---------------------------------------------------------------- opening one


def open_form(user: Principal) -> None:
    state = st.session_state
    with unit_of_work(operational_engine()) as db:
        offices = lookup.offices(db, user, Permission.OPEN_NONCONFORMITIES)
        labels = {o.code: f"{o.code} {o.name}" for o in offices}
        if state.get("nc_new_office") not in labels:
            state["nc_new_office"] = offices[0].code if len(offices) == 1 else None
        office = state.get("nc_new_office")
        discipline = state.get("nc_new_discipline")
        contracts = (
            ncs.contract_choices(db, user, str(office), str(discipline))
            if office and discipline
            else []
        )
        people = (
            lookup.people_with(db, user, str(office), Permission.HANDLE_NONCONFORMITIES)
            if office
            else []
        )
    st.selectbox(
        tr("ncflows_ui.col.office"),
        list(labels),
        format_func=labels.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key="nc_new_office",
    )
    if not office:
        return
    kinds = {k.value: kind_text(k.value) for k in NonconformityKind}
    st.selectbox(
        tr("ncflows_ui.col.kind"), list(kinds), format_func=kinds.__getitem__, key="nc_new_kind"
    )
    # The five disciplines of inspections and their nonconformities, customer service included
    # (it has no supplier contracts: the contract box then offers none).
    disciplines = {d: tr(f"discipline.{d}") for d in INSPECTION_DISCIPLINES}
    st.selectbox(
        tr("ncflows_ui.col.discipline"),
        list(disciplines),
        index=None,
        format_func=disciplines.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key="nc_new_discipline",
    )
    st.text_area(tr("ncflows_ui.col.description"), key="nc_new_description")
    names = {p.username: f"{p.display_name} ({p.username})" for p in people}
    if state.get("nc_new_assignee") not in names:
        state["nc_new_assignee"] = user.username if user.username in names else None
    st.selectbox(
        tr("ncflows_ui.col.assignee"),
        list(names),
        format_func=names.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key="nc_new_assignee",
    )
    by_no = {c.contract_no: c for c in contracts}
    choices = {"": tr("ncflows_ui.no_contract")} | {
        c.contract_no: f"{c.contract_no} · {c.supplier_name}" for c in contracts
    }
    if state.get("nc_new_contract") not in choices:
        state["nc_new_contract"] = ""
    st.selectbox(
        tr("ncflows_ui.col.contract"),
        list(choices),
        format_func=choices.__getitem__,
        key="nc_new_contract",
    )
    chosen = by_no.get(str(state.get("nc_new_contract") or ""))
    if chosen is not None:
        steps = {"": tr("ncflows_ui.no_points")} | {
            str(p): tr("ncflows_ui.points_cost", points=p, amount=f"{a:,.2f}")
            for p, a in chosen.standard.items()
        }
        if state.get("nc_new_points") not in steps:
            state["nc_new_points"] = ""
        st.selectbox(
            tr("ncflows_ui.col.breach_points"),
            list(steps),
            format_func=steps.__getitem__,
            key="nc_new_points",
        )
    else:
        state["nc_new_points"] = ""
    forms.problems(OPEN_FORM)
    st.button(
        tr("ncflows_ui.open_submit"),
        type="primary",
        width="stretch",
        on_click=_open,
        args=(user,),
        key="nc_new_submit",
    )


# ---------------------------------------------------------------- the list


def list_table(rows: list[ncs.NonconformityRow], now: datetime) -> pl.DataFrame:
    columns = ("no", "kind", "office", "state", "contract", "breach_points", "due_at", "overdue")
    return pl.DataFrame(
        {
            tr("ncflows_ui.col.no"): [r.nc_no for r in rows],
            tr("ncflows_ui.col.kind"): [kind_text(r.kind) for r in rows],
            tr("ncflows_ui.col.office"): [r.office_code for r in rows],
            tr("ncflows_ui.col.state"): [tr(f"workflow.state.{r.state}") for r in rows],
            tr("ncflows_ui.col.contract"): [r.contract_no or "" for r in rows],
            tr("ncflows_ui.col.breach_points"): [
                str(r.breach_points) if r.breach_points else "" for r in rows
            ],
            tr("ncflows_ui.col.due_at"): [
                local_text(r.due_at, DISPLAY_ZONE) if r.due_at else "" for r in rows
            ],
            tr("ncflows_ui.col.overdue"): [
                tr("maint_ui.yes") if r.due_at is not None and r.due_at < now else "" for r in rows
            ],
        },
        schema={tr(f"ncflows_ui.col.{c}"): pl.String for c in columns},
    )


def list_tab(user: Principal) -> None:
    open_only = st.toggle(tr("ncflows_ui.open_only"), value=True, key="nc_list_open")
    st.caption(tr("ncflows_ui.zone", zone=DISPLAY_ZONE))
    engine = operational_engine()
    with unit_of_work(engine) as db:
        total = ncs.count_nonconformities(db, user, open_only=open_only)
    page = pager(total, size=NONCONFORMITIES, key="nc_list_page")
    with unit_of_work(engine) as db:
        rows = ncs.list_nonconformities(
            db, user, open_only=open_only, limit=page.limit, offset=page.offset
        )
    now = datetime.now(UTC)
    st.dataframe(list_table(rows, now), hide_index=True, placeholder=tr("finish.table.missing"))

    def everything() -> pl.DataFrame:
        with unit_of_work(engine) as db:
            return list_table(
                ncs.list_nonconformities(db, user, open_only=open_only, limit=None), now
            )

    excel_download(everything, tr("ncflows_ui.title"), key="nc_list_excel")


# ---------------------------------------------------------------- the page


def render() -> None:
    user = require(Permission.VIEW_ORDERS)
    st.markdown(PHONE_CSS, unsafe_allow_html=True)
    st.title(tr("ncflows_ui.title"))
    show_flash()
    opened = st.session_state.pop(OPEN_NC, None)
    linked = st.query_params.get("nc")
    if linked and linked != st.session_state.get("nc_linked"):
        st.session_state["nc_linked"] = linked  # the address's ticket, applied once
        opened = opened or linked
    if opened:
        st.session_state[NC] = opened
    with st.container(key="nc_entry", width=WIDTH):
        can_open = user.can(Permission.OPEN_NONCONFORMITIES)
        names = [tr("ncflows_ui.tab_work"), tr("ncflows_ui.tab_list")]
        work, listed, *new = st.tabs(names + ([tr("ncflows_ui.tab_open")] if can_open else []))
        with work:
            number = st.text_input(
                tr("ncflows_ui.col.no"), placeholder=tr("ncflows_ui.number_hint"), key=NC
            )
            if number and number.strip():
                show_nc(user, number.strip())
            else:
                st.caption(tr("ncflows_ui.open_hint"))
        with listed:
            list_tab(user)
        for tab in new:
            with tab:
                open_form(user)


render()
