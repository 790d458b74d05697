"""Periodic plans (周期计划): draft a plan, submit, approve or return it; edit a returned plan and
submit it again; end an approved plan or draft its next version.

Discipline supervisors and the office manager draft (``DRAFT_PLANS``); only the office manager
approves, returns and ends (``APPROVE_PLANS``) — the buttons a user sees are the engine's
``available`` steps, and the services check again. The office's objects that no plan covers yet
(待建计划) are listed first. Reads through ``operational.services.lookup`` / ``plans``, writes
only through ``operational.services.plans``. A refused form lists every problem inside the form
and keeps what was typed (``dashboards.forms``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
import streamlit as st

from dashboards import forms
from dashboards.export import excel_download
from dashboards.schedule_fields import schedule_fields
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
    PlanDetail,
    PlanVersion,
    approve_plan,
    change_plan,
    draft_plan,
    end_plan,
    get_plan,
    objects_without_plan,
    plan_detail,
    plan_versions,
    return_plan,
    revise_plan,
    submit_plan,
)

OFFICE = "plan_office"
OPEN = "plan_open"
NEW_FORM = "plan_form"
WIDTH = 560
# The steps that put a plan in the "waiting for you" list (the to-do steps). No bare strings
# in a page: Streamlit would show them.
QUEUE_STEPS = ("submit", "approve", "return")


# ---------------------------------------------------------------- the plan form's fields


@dataclass(frozen=True)
class Choices:
    """What the plan form's select boxes offer, with their labels (computed during the run)."""

    disciplines: dict[str, str]
    frequencies: dict[str, str]
    responsible: dict[str, str]
    objects: dict[str, str]


def choices(user: Principal, office_code: str) -> Choices:
    with unit_of_work(operational_engine()) as db:
        people = lookup.people_with(db, user, office_code, Permission.MANAGE_ORDERS)
        objects = lookup.objects_of(db, user, office_code)
    return Choices(
        disciplines={d.value: tr(f"discipline.{d.value}") for d in Discipline},
        frequencies={f.value: tr(f"plans.frequency.{f.value}") for f in Frequency},
        responsible={p.username: f"{p.display_name} ({p.username})" for p in people},
        objects={
            o.code: f"{o.name} ({o.code}) · {tr(f'discipline.{o.discipline}')}" for o in objects
        },
    )


def plan_fields(prefix: str, options: Choices, plan: PlanDetail | None = None) -> None:
    """The plan's fields under keys ``{prefix}_name`` …; filled from ``plan`` when given (edit,
    change). Widgets are only ever filled by their defaults, so a refused submit (which changes
    nothing) keeps what was typed."""

    def index(values: dict[str, str], chosen: str | None) -> int | None:
        keys = list(values)
        return keys.index(chosen) if chosen in keys else None

    filled = {} if plan is None else {"value": plan.name}
    st.text_input(tr("maint_ui.plans.name"), key=f"{prefix}_name", **filled)
    st.selectbox(
        tr("maint_ui.col.discipline"),
        list(options.disciplines),
        index=(index(options.disciplines, plan.discipline) or 0) if plan else 0,
        format_func=options.disciplines.__getitem__,
        key=f"{prefix}_discipline",
    )
    st.selectbox(
        tr("maint_ui.order.responsible"),
        list(options.responsible),
        index=index(options.responsible, plan.responsible if plan else None),
        format_func=options.responsible.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key=f"{prefix}_responsible",
    )
    schedule_fields(
        prefix,
        options.frequencies,
        frequency=plan.frequency if plan else None,
        every=plan.every if plan else None,
        start=plan.start_date if plan else None,
        end=plan.end_date if plan else None,
        default_frequency=0,
    )
    st.checkbox(
        tr("maint_ui.plans.has_end"),
        key=f"{prefix}_has_end",
        **({} if plan is None else {"value": plan.end_date is not None}),
    )
    st.multiselect(
        tr("maint_ui.plans.objects"),
        list(options.objects),
        format_func=options.objects.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key=f"{prefix}_objects",
        **({} if plan is None else {"default": [c for c in plan.objects if c in options.objects]}),
    )


def typed(prefix: str) -> dict[str, object]:
    """The plan's fields as typed under ``prefix``, as the services take them."""
    state = st.session_state
    return {
        "name": str(state.get(f"{prefix}_name") or ""),
        "discipline": str(state.get(f"{prefix}_discipline") or ""),
        "responsible": str(state.get(f"{prefix}_responsible") or ""),
        "frequency": str(state.get(f"{prefix}_frequency") or ""),
        "every": int(state.get(f"{prefix}_every") or 1),
        "start_date": state.get(f"{prefix}_start") or date.today(),
        "end_date": state.get(f"{prefix}_end") if state.get(f"{prefix}_has_end") else None,
        "object_codes": list(state.get(f"{prefix}_objects") or []),
    }


# ---------------------------------------------------------------- callbacks


def _draft(user: Principal, office_code: str) -> None:
    state = st.session_state
    try:
        with unit_of_work(operational_engine()) as db:
            plan = draft_plan(db, user, office_code=office_code, **typed("plan"))  # type: ignore[arg-type]
            number = plan.document_no
    except DomainError as refused:
        forms.refuse(NEW_FORM, refused)
        return
    forms.accept(NEW_FORM)
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


def _open(document_no: str) -> None:
    st.session_state[OPEN] = document_no


def _revise(user: Principal, document_no: str, version: int, prefix: str, submit: bool) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            plan = get_plan(db, user, document_no)
            day = st.session_state.get(f"{prefix}_takes_over")
            revise_plan(
                db,
                user,
                plan,
                version,
                **typed(prefix),  # type: ignore[arg-type]
                takes_over_on=day if isinstance(day, date) else None,
            )
            if submit:
                submit_plan(db, user, plan, plan.version)
    except DomainError as refused:
        forms.refuse(prefix, refused)
        return
    forms.accept(prefix)
    key = "plans_ui2.resubmitted" if submit else "plans_ui2.revised"
    flash(tr(key, document_no=document_no))


def _end(user: Principal, document_no: str, version: int, prefix: str) -> None:
    day = st.session_state.get(f"{prefix}_date")
    try:
        with unit_of_work(operational_engine()) as db:
            plan = get_plan(db, user, document_no)
            end_plan(db, user, plan, version, day if isinstance(day, date) else date.today())
    except DomainError as refused:
        forms.refuse(prefix, refused)
        return
    forms.accept(prefix)
    flash(tr("plans_ui2.ended", document_no=document_no, day=str(day)))


def _change(user: Principal, document_no: str, prefix: str) -> None:
    day = st.session_state.get(f"{prefix}_takes_over")
    try:
        with unit_of_work(operational_engine()) as db:
            plan = get_plan(db, user, document_no)
            version = change_plan(
                db,
                user,
                plan,
                takes_over_on=day if isinstance(day, date) else date.today(),
                **typed(prefix),  # type: ignore[arg-type]
            )
            number = version.document_no
    except DomainError as refused:
        forms.refuse(prefix, refused)
        return
    forms.accept(prefix)
    st.session_state[OPEN] = number
    flash(tr("plans_ui2.changed", document_no=number, replaced=document_no))


# ---------------------------------------------------------------- parts of the page


def version_text(version: PlanVersion | None) -> str:
    if version is None:
        return ""
    parts = [tr("plans_ui2.revision", revision=version.revision)]
    if version.supersedes and version.takes_over_on:
        parts.append(
            tr(
                "plans_ui2.replaces",
                document_no=version.supersedes,
                day=version.takes_over_on.isoformat(),
            )
        )
    if version.next_version:
        parts.append(tr("plans_ui2.replaced_by", document_no=version.next_version))
    return " · ".join(parts)


def plans_table(rows: list[lookup.PlanRow], versions: dict[str, PlanVersion]) -> pl.DataFrame:
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
            f"{r.start_date.isoformat()} – "
            + (r.end_date.isoformat() if r.end_date else tr("finish.plans.open_end"))
            for r in rows
        ],
        tr("maint_ui.col.state"): [tr(f"workflow.state.{r.state}") for r in rows],
        tr("plans_ui2.version"): [version_text(versions.get(r.document_no)) for r in rows],
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
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(table, tr("maint_ui.plans.without_title"), key="plans_without_excel")


def draft_section(user: Principal, office_code: str, options: Choices) -> None:
    with (
        st.expander(
            tr("maint_ui.plans.draft_title"),
            expanded=forms.expanded(NEW_FORM),
            icon=":material/edit_calendar:",
            key="plan_draft_box",
            width=WIDTH,
        ),
        st.form(NEW_FORM, width=WIDTH),
    ):
        plan_fields("plan", options)
        forms.problems(NEW_FORM)
        st.form_submit_button(
            tr("workflow.transition.draft"),
            type="primary",
            width="stretch",
            on_click=_draft,
            args=(user, office_code),
            key="plan_submit",
        )


def returned_reason(user: Principal, document_no: str) -> str | None:
    with unit_of_work(operational_engine()) as db:
        return plan_detail(db, user, document_no).returned_reason


def actions_section(user: Principal, rows: list[lookup.PlanRow]) -> None:
    waiting = [r for r in rows if set(r.actions) & set(QUEUE_STEPS)]
    if not waiting:
        return
    st.subheader(tr("maint_ui.plans.waiting_title"))
    for row in waiting:
        steps = [s for s in row.actions if s in QUEUE_STEPS]
        with st.container(border=True, width=WIDTH):
            st.markdown(
                f"**{md(row.document_no)} · {md(row.name)}** — "
                f"{tr(f'workflow.state.{row.state}')}  \n"
                + tr(
                    "maint_ui.plans.every",
                    every=row.every,
                    frequency=tr(f"plans.frequency.{row.frequency}"),
                )
                + f" · {', '.join(map(md, row.objects))}"
            )
            if row.state == "returned":
                reason = returned_reason(user, row.document_no)
                if reason:
                    st.warning(tr("plans_ui2.returned_because", reason=md(reason)))
            if "return" in steps:
                st.text_input(tr("maint_ui.plans.reason"), key=f"plan_reason_{row.document_no}")
            if "revise" in row.actions:
                steps = ["revise", *steps]
            buttons = st.columns(len(steps))
            for column, step in zip(buttons, steps, strict=True):
                if step == "revise":
                    column.button(
                        tr("plans_ui2.edit"),
                        width="stretch",
                        on_click=_open,
                        args=(row.document_no,),
                        key=f"plan_revise_{row.document_no}",
                    )
                    continue
                column.button(
                    tr(f"workflow.transition.{step}"),
                    type="primary" if step in ("submit", "approve") else "secondary",
                    width="stretch",
                    on_click=_move,
                    args=(user, row.document_no, row.version, step),
                    key=f"plan_{step}_{row.document_no}",
                )


def open_section(user: Principal, rows: list[lookup.PlanRow], options: Choices) -> None:
    """Open one plan: its fields and versions, the reason it was returned, and the forms for
    what the user may do with it (edit and resubmit, end, draft its next version)."""
    labels = {r.document_no: f"{r.document_no} · {r.name}" for r in rows}
    if OPEN in st.session_state and st.session_state[OPEN] not in labels:
        del st.session_state[OPEN]
    st.subheader(tr("plans_ui2.open_title"))
    chosen = st.selectbox(
        tr("plans_ui2.open"),
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key=OPEN,
        width=WIDTH,
    )
    if chosen is None:
        return
    with unit_of_work(operational_engine()) as db:
        plan = plan_detail(db, user, str(chosen))
    with st.container(border=True, width=WIDTH):
        st.markdown(
            f"**{md(plan.document_no)} · {md(plan.name)}** — "
            f"{tr(f'workflow.state.{plan.state}')}  \n"
            + tr(
                "maint_ui.plans.every",
                every=plan.every,
                frequency=tr(f"plans.frequency.{plan.frequency}"),
            )
            + f" · {md(', '.join(plan.objects))}  \n"
            + tr(
                "plans_ui2.period",
                start=plan.start_date.isoformat(),
                end=plan.end_date.isoformat() if plan.end_date else tr("plans_ui2.open_ended"),
            )
        )
        st.caption(
            md(
                version_text(
                    PlanVersion(
                        plan.revision, plan.supersedes, plan.takes_over_on, plan.next_version
                    )
                )
            )
        )
        if plan.returned_reason:
            st.warning(tr("plans_ui2.returned_because", reason=md(plan.returned_reason)))
        if plan.next_version and plan.next_state != "approved":
            st.info(tr("plans_ui2.next_pending", document_no=md(plan.next_version)))
    if "revise" in plan.actions:
        edit_form(user, plan, options)
    if "end" in plan.actions:
        end_form(user, plan)
    if plan.may_change:
        change_form(user, plan, options)


def edit_form(user: Principal, plan: PlanDetail, options: Choices) -> None:
    prefix = f"plan_edit_{plan.document_no}_v{plan.version}"
    st.markdown(f"**{tr('plans_ui2.edit_title')}**")
    with st.form(prefix, width=WIDTH):
        if plan.takes_over_on is not None:  # a version: the day it takes over may move too
            st.date_input(
                tr("plans_ui2.takes_over_on"),
                value=plan.takes_over_on,
                key=f"{prefix}_takes_over",
            )
        plan_fields(prefix, options, plan)
        forms.problems(prefix)
        save, resubmit = st.columns(2)
        save.form_submit_button(
            tr("plans_ui2.save"),
            width="stretch",
            on_click=_revise,
            args=(user, plan.document_no, plan.version, prefix, False),
            key=f"{prefix}_save",
        )
        resubmit.form_submit_button(
            tr("plans_ui2.save_and_submit"),
            type="primary",
            width="stretch",
            on_click=_revise,
            args=(user, plan.document_no, plan.version, prefix, True),
            key=f"{prefix}_resubmit",
        )


def end_form(user: Principal, plan: PlanDetail) -> None:
    prefix = f"plan_end_{plan.document_no}_v{plan.version}"
    with (
        st.expander(
            tr("plans_ui2.end_title"),
            expanded=forms.expanded(prefix),
            icon=":material/event_busy:",
            key=f"{prefix}_box",
            width=WIDTH,
        ),
        st.form(prefix, width=WIDTH),
    ):
        st.caption(tr("plans_ui2.end_help"))
        st.date_input(tr("plans_ui2.end_on"), value=date.today(), key=f"{prefix}_date")
        forms.problems(prefix)
        st.form_submit_button(
            tr("plans_ui2.end"),
            width="stretch",
            on_click=_end,
            args=(user, plan.document_no, plan.version, prefix),
            key=f"{prefix}_submit",
        )


def change_form(user: Principal, plan: PlanDetail, options: Choices) -> None:
    prefix = f"plan_change_{plan.document_no}_v{plan.version}"
    with (
        st.expander(
            tr("plans_ui2.change_title"),
            expanded=forms.expanded(prefix),
            icon=":material/difference:",
            key=f"{prefix}_box",
            width=WIDTH,
        ),
        st.form(prefix, width=WIDTH),
    ):
        st.caption(tr("plans_ui2.change_help"))
        st.date_input(
            tr("plans_ui2.takes_over_on"),
            value=max(date.today(), plan.start_date + timedelta(days=1)),
            key=f"{prefix}_takes_over",
        )
        plan_fields(prefix, options, plan)
        forms.problems(prefix)
        st.form_submit_button(
            tr("plans_ui2.change"),
            type="primary",
            width="stretch",
            on_click=_change,
            args=(user, plan.document_no, prefix),
            key=f"{prefix}_submit",
        )


def render() -> None:
    user = require(Permission.DRAFT_PLANS)
    st.title(tr("maint_ui.plans.title"))
    with st.container():  # always here, so a message never moves the forms below it
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
        versions = plan_versions(db, user, office_code)
    options = choices(user, office_code)
    actions_section(user, rows)
    without_plan_section(user, office_code)
    draft_section(user, office_code, options)
    open_section(user, rows, options)
    st.subheader(tr("maint_ui.plans.list_title"))
    table = plans_table(rows, versions)
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(table, tr("maint_ui.plans.list_title"), key="plans_excel")


render()
