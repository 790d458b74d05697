"""Periodic plans (周期计划): draft a plan with its objects, submit it, approve or return it.

Discipline supervisors and the office manager draft (``DRAFT_PLANS``); only the office manager
approves or returns (``APPROVE_PLANS``) — the buttons a user sees are the engine's
``available`` steps, and the services check again. The office's objects that no plan covers yet
(待建计划) are listed first. Reads through ``operational.services.lookup`` / ``plans``, writes
only through ``operational.services.plans``.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards.export import excel_download
from dashboards.session import (
    error_text,
    flash,
    operational_engine,
    require,
    show_flash,
    tr,
)
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import Discipline, Frequency
from operational.services import lookup
from operational.services.plans import (
    approve_plan,
    draft_plan,
    get_plan,
    objects_without_plan,
    return_plan,
    submit_plan,
)

OFFICE = "plan_office"
WIDTH = 560


# ---------------------------------------------------------------- callbacks


def _draft(user: Principal, office_code: str) -> None:
    state = st.session_state
    try:
        with unit_of_work(operational_engine()) as db:
            plan = draft_plan(
                db,
                user,
                office_code=office_code,
                name=str(state.get("plan_name") or ""),
                discipline=Discipline(state["plan_discipline"]),
                responsible=str(state.get("plan_responsible") or ""),
                frequency=Frequency(state["plan_frequency"]),
                every=int(state.get("plan_every") or 1),
                start_date=state.get("plan_start") or date.today(),
                end_date=state.get("plan_end") if state.get("plan_has_end") else None,
                object_codes=list(state.get("plan_objects") or []),
            )
            number = plan.document_no
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    state["plan_name"] = ""
    state["plan_objects"] = []
    flash(tr("maint_ui.plans.drafted", document_no=number))


def _move(user: Principal, document_no: str, version: int, step: str) -> None:
    reason = str(st.session_state.get(f"plan_reason_{document_no}") or "")
    try:
        with unit_of_work(operational_engine()) as db:
            plan = get_plan(db, user, document_no)
            if step == "submit":
                submit_plan(db, user, plan, version)
            elif step == "approve":
                approve_plan(db, user, plan, version)
            else:
                return_plan(db, user, plan, version, reason)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr(f"maint_ui.plans.done_{step}", document_no=document_no))


# ---------------------------------------------------------------- parts of the page


def plans_table(rows: list[lookup.PlanRow]) -> pl.DataFrame:
    data = {
        tr("maint_ui.col.document_no"): [r.document_no for r in rows],
        tr("maint_ui.plans.name"): [r.name for r in rows],
        tr("maint_ui.col.discipline"): [tr(f"discipline.{r.discipline}") for r in rows],
        tr("maint_ui.plans.schedule"): [
            tr(
                "maint_ui.plans.every",
                every=r.every,
                frequency=tr(f"plans.frequency.{r.frequency}"),
            )
            for r in rows
        ],
        tr("maint_ui.plans.period"): [
            f"{r.start_date.isoformat()} – {r.end_date.isoformat() if r.end_date else ''}"
            for r in rows
        ],
        tr("maint_ui.col.state"): [tr(f"workflow.state.{r.state}") for r in rows],
        tr("maint_ui.order.responsible"): [r.responsible for r in rows],
        tr("maint_ui.plans.objects"): [", ".join(r.objects) for r in rows],
    }
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


def without_plan_section(user: Principal, office_code: str) -> None:
    st.subheader(tr("maint_ui.plans.without_title"))
    with unit_of_work(operational_engine()) as db:
        objects = [
            (o.code, o.name, o.location) for o in objects_without_plan(db, user, office_code)
        ]
    if not objects:
        st.success(tr("maint_ui.plans.all_covered"))
        return
    table = pl.DataFrame(
        objects,
        schema=[
            (tr("maint_ui.plans.object_code"), pl.String),
            (tr("maint_ui.order.object"), pl.String),
            (tr("maint_ui.plans.location"), pl.String),
        ],
        orient="row",
    )
    st.dataframe(table, hide_index=True)
    excel_download(table, tr("maint_ui.plans.without_title"), key="plans_without_excel")


def draft_section(user: Principal, office_code: str) -> None:
    with unit_of_work(operational_engine()) as db:
        people = lookup.people_with(db, user, office_code, Permission.MANAGE_ORDERS)
        objects = lookup.objects_of(db, user, office_code)
    disciplines = {d.value: tr(f"discipline.{d.value}") for d in Discipline}
    frequencies = {f.value: tr(f"plans.frequency.{f.value}") for f in Frequency}
    responsible = {p.username: f"{p.display_name} ({p.username})" for p in people}
    object_labels = {
        o.code: f"{o.name} ({o.code}) · {tr(f'discipline.{o.discipline}')}" for o in objects
    }
    with (
        st.expander(tr("maint_ui.plans.draft_title"), icon=":material/edit_calendar:"),
        st.form("plan_form", width=WIDTH),
    ):
        st.text_input(tr("maint_ui.plans.name"), key="plan_name")
        st.selectbox(
            tr("maint_ui.col.discipline"),
            list(disciplines),
            format_func=disciplines.__getitem__,
            key="plan_discipline",
        )
        st.selectbox(
            tr("maint_ui.order.responsible"),
            list(responsible),
            index=None,
            format_func=responsible.__getitem__,
            placeholder=tr("maint_ui.choose"),
            key="plan_responsible",
        )
        frequency, every = st.columns(2)
        frequency.selectbox(
            tr("maint_ui.plans.frequency"),
            list(frequencies),
            format_func=frequencies.__getitem__,
            key="plan_frequency",
        )
        every.number_input(
            tr("maint_ui.plans.interval"), min_value=1, max_value=366, step=1, key="plan_every"
        )
        start, end = st.columns(2)
        start.date_input(tr("maint_ui.plans.start"), key="plan_start")
        end.date_input(tr("maint_ui.plans.end"), value=None, key="plan_end")
        st.checkbox(tr("maint_ui.plans.has_end"), key="plan_has_end")
        st.multiselect(
            tr("maint_ui.plans.objects"),
            list(object_labels),
            format_func=object_labels.__getitem__,
            placeholder=tr("maint_ui.choose"),
            key="plan_objects",
        )
        st.form_submit_button(
            tr("workflow.transition.draft"),
            type="primary",
            width="stretch",
            on_click=_draft,
            args=(user, office_code),
            key="plan_submit",
        )


def actions_section(user: Principal, rows: list[lookup.PlanRow]) -> None:
    waiting = [r for r in rows if r.actions]
    if not waiting:
        return
    st.subheader(tr("maint_ui.plans.waiting_title"))
    for row in waiting:
        with st.container(border=True, width=WIDTH):
            st.markdown(
                f"**{row.document_no} · {md(row.name)}** — {tr(f'workflow.state.{row.state}')}  \n"
                + tr(
                    "maint_ui.plans.every",
                    every=row.every,
                    frequency=tr(f"plans.frequency.{row.frequency}"),
                )
                + f" · {', '.join(map(md, row.objects))}"
            )
            if "return" in row.actions:
                st.text_input(tr("maint_ui.plans.reason"), key=f"plan_reason_{row.document_no}")
            buttons = st.columns(len(row.actions))
            for column, step in zip(buttons, row.actions, strict=True):
                column.button(
                    tr(f"workflow.transition.{step}"),
                    type="primary" if step in ("submit", "approve") else "secondary",
                    width="stretch",
                    on_click=_move,
                    args=(user, row.document_no, row.version, step),
                    key=f"plan_{step}_{row.document_no}",
                )


def render() -> None:
    user = require(Permission.DRAFT_PLANS)
    st.title(tr("maint_ui.plans.title"))
    show_flash()
    with unit_of_work(operational_engine()) as db:
        offices = lookup.offices(db, user, Permission.DRAFT_PLANS)
    labels = {o.code: f"{o.code} {o.name}" for o in offices}
    if not labels:
        st.info(tr("maint_ui.plans.no_offices"))
        return
    if st.session_state.get(OFFICE) not in labels:
        st.session_state[OFFICE] = next(iter(labels))
    office_code = str(
        st.selectbox(
            tr("maint_ui.col.office_code"),
            list(labels),
            format_func=labels.__getitem__,
            key=OFFICE,
        )
    )
    with unit_of_work(operational_engine()) as db:
        rows = lookup.plans_of(db, user, {office_code})
    actions_section(user, rows)
    without_plan_section(user, office_code)
    draft_section(user, office_code)
    st.subheader(tr("maint_ui.plans.list_title"))
    table = plans_table(rows)
    st.dataframe(table, hide_index=True)
    excel_download(table, tr("maint_ui.plans.list_title"), key="plans_excel")


render()
