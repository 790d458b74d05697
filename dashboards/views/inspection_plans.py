"""Inspection plans (检查计划): professional plans (专业检查计划, drafted by a discipline supervisor,
approved by the office manager) and quality plans (品质检验计划, drafted by the office manager,
approved by the city company's internal-audit manager): draft with a route and items, submit,
approve or return, edit a returned plan; the checkpoints' QR labels; the office's orders.

The kinds a user may draft and the buttons on a plan are the engine's (``DRAFTERS``,
``available``); the services check again. Reads and writes through
``operational.services.inspections`` only; a refused form lists every problem inside the form
and keeps what was typed (docs/inspections.md).

The route and the items are typed one per line, so a phone's keyboard is enough:
``CP-1; #EL-1`` (a checkpoint at object EL-1), ``CP-2; 大堂`` (at an area), and
``CP-1; 电梯轿厢清洁; 10; 6`` (an item at CP-1: name, maximum score, pass mark).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards import forms
from dashboards.export import excel_download
from dashboards.office_choice import office_choice
from dashboards.schedule_fields import schedule_fields
from dashboards.session import (
    error_text,
    flash,
    language,
    operational_engine,
    require,
    settings,
    show_flash,
    tr,
)
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import Frequency
from operational.services import inspections as insp
from operational.services import lookup
from operational.services.inspections import Checkpoint, Item

OFFICE = "insp_plan_office"
OPEN = "insp_plan_open"
NEW_FORM = "insp_plan_form"
QUEUE_STEPS = ("submit", "approve", "return")
WIDTH = 560


# ---------------------------------------------------------------- route and items as text


def parse_route(text: str) -> list[Checkpoint]:
    """``CODE; #OBJECT`` or ``CODE; area`` per line (blank lines skipped)."""
    route: list[Checkpoint] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        code, _, where = (part.strip() for part in line.partition(";"))
        if where.startswith("#"):
            route.append(Checkpoint(code, object_code=where[1:].strip()))
        else:
            route.append(Checkpoint(code, area=where))
    return route


def parse_items(text: str) -> list[Item]:
    """``CHECKPOINT; name; max score; pass mark`` per line; a number that is not one is -1,
    which the service refuses with the line's number."""

    def number(value: str) -> int:
        return int(value) if value.strip().isdigit() else -1

    items: list[Item] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")] + ["", "", "", ""]
        items.append(Item(parts[0], parts[1], number(parts[2]), number(parts[3])))
    return items


def route_text(view: insp.PlanView) -> str:
    return "\n".join(
        f"{c.code}; #{c.object_code}" if c.object_code else f"{c.code}; {c.area}"
        for c in view.route
    )


def items_text(view: insp.PlanView) -> str:
    return "\n".join(f"{i.checkpoint}; {i.name}; {i.max_score}; {i.pass_mark}" for i in view.items)


# ---------------------------------------------------------------- the form's fields


def plan_fields(
    prefix: str,
    inspectors: dict[str, str],
    offered: list[str],
    view: insp.PlanView | None = None,
    kinds: dict[str, str] | None = None,
) -> None:
    disciplines = {d: tr(f"discipline.{d}") for d in offered}
    frequencies = {f.value: tr(f"plans.frequency.{f.value}") for f in Frequency}

    def index(values: dict[str, str], chosen: str | None) -> int | None:
        keys = list(values)
        return keys.index(chosen) if chosen in keys else None

    if kinds is not None:
        st.radio(
            tr("insp_ui.kind"),
            list(kinds),
            format_func=kinds.__getitem__,
            horizontal=True,
            key=f"{prefix}_kind",
        )
    st.text_input(
        tr("maint_ui.plans.name"),
        key=f"{prefix}_name",
        **({} if not view else {"value": view.name}),
    )
    st.selectbox(
        tr("maint_ui.col.discipline"),
        list(disciplines),
        index=(index(disciplines, view.discipline) or 0) if view else 0,
        format_func=disciplines.__getitem__,
        key=f"{prefix}_discipline",
    )
    st.selectbox(
        tr("insp_ui.inspector"),
        list(inspectors),
        index=index(inspectors, view.inspector if view else None),
        format_func=inspectors.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key=f"{prefix}_inspector",
    )
    schedule_fields(
        prefix,
        frequencies,
        frequency=view.frequency if view else None,
        every=view.every if view else None,
        start=view.start_date if view else None,
        end=view.end_date if view else None,
        default_frequency=1,
    )
    st.text_area(
        tr("insp_ui.route"),
        help=tr("insp_ui.route_help"),
        placeholder="CP-1; #EL-1\nCP-2; 大堂",
        key=f"{prefix}_route",
        **({} if view is None else {"value": route_text(view)}),
    )
    st.text_area(
        tr("insp_ui.items"),
        help=tr("insp_ui.items_help"),
        placeholder="CP-1; 电梯轿厢清洁; 10; 6",
        key=f"{prefix}_items",
        **({} if view is None else {"value": items_text(view)}),
    )


def typed(prefix: str) -> dict[str, object]:
    state = st.session_state
    end = state.get(f"{prefix}_end")
    return {
        "name": str(state.get(f"{prefix}_name") or ""),
        "discipline": str(state.get(f"{prefix}_discipline") or ""),
        "inspector": str(state.get(f"{prefix}_inspector") or ""),
        "frequency": str(state.get(f"{prefix}_frequency") or ""),
        "every": int(state.get(f"{prefix}_every") or 1),
        "start_date": state.get(f"{prefix}_start") or date.today(),
        "end_date": end if isinstance(end, date) else None,
        "route": parse_route(str(state.get(f"{prefix}_route") or "")),
        "items": parse_items(str(state.get(f"{prefix}_items") or "")),
    }


# ---------------------------------------------------------------- callbacks


def _draft(user: Principal, office_code: str) -> None:
    state = st.session_state
    try:
        with unit_of_work(operational_engine()) as db:
            plan = insp.draft_inspection_plan(
                db,
                user,
                kind=str(state.get(f"{NEW_FORM}_kind") or ""),
                office_code=office_code,
                **typed(NEW_FORM),  # type: ignore[arg-type]
            )
            number = plan.document_no
    except DomainError as refused:
        forms.refuse(NEW_FORM, refused)
        return
    forms.accept(NEW_FORM)
    state[OPEN] = number
    flash(tr("insp_ui.drafted", document_no=number))


def _move(user: Principal, document_no: str, version: int, step: str) -> None:
    reason = str(st.session_state.get(f"insp_reason_{document_no}") or "")
    try:
        with unit_of_work(operational_engine()) as db:
            plan = insp.get_inspection_plan(db, user, document_no)
            if step == "submit":
                insp.submit_inspection_plan(db, user, plan, version)
            elif step == "approve":
                insp.approve_inspection_plan(db, user, plan, version)
            else:
                insp.return_inspection_plan(db, user, plan, version, reason)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr(f"insp_ui.done_{step}", document_no=document_no))


def _revise(user: Principal, document_no: str, version: int, prefix: str, submit: bool) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            plan = insp.get_inspection_plan(db, user, document_no)
            insp.revise_inspection_plan(db, user, plan, version, **typed(prefix))  # type: ignore[arg-type]
            if submit:
                insp.submit_inspection_plan(db, user, plan, plan.version)
    except DomainError as refused:
        forms.refuse(prefix, refused)
        return
    forms.accept(prefix)
    key = "insp_ui.resubmitted" if submit else "plans_ui2.revised"
    flash(tr(key, document_no=document_no))


def _labels(user: Principal, document_no: str) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            pdf = insp.checkpoint_labels_pdf(db, user, document_no, settings().base_url, language())
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    st.session_state[f"insp_labels_{document_no}"] = pdf


# ---------------------------------------------------------------- parts of the page


def plan_summary(view: insp.PlanView) -> None:
    st.markdown(
        f"**{md(view.document_no)} · {md(view.name)}** — "
        f"{tr(f'inspections.kind.{view.kind}')} · {tr(f'workflow.state.{view.state}')}  \n"
        f"{tr(f'discipline.{view.discipline}')} · "
        + tr(
            "maint_ui.plans.every",
            every=view.every,
            frequency=tr(f"plans.frequency.{view.frequency}"),
        )
        + f" · {tr('insp_ui.inspector')}: {md(view.inspector)}"
    )
    if view.returned_reason:
        st.warning(tr("plans_ui2.returned_because", reason=md(view.returned_reason)))
    route = pl.DataFrame(
        {
            tr("insp_ui.col.position"): [str(c.position) for c in view.route],
            tr("insp_ui.col.checkpoint"): [c.code for c in view.route],
            tr("insp_ui.col.where"): [
                f"{c.object_name} ({c.object_code})" if c.object_code else str(c.area or "")
                for c in view.route
            ],
        },
        schema=dict.fromkeys(
            [tr("insp_ui.col.position"), tr("insp_ui.col.checkpoint"), tr("insp_ui.col.where")],
            pl.String,
        ),
    )
    st.dataframe(route, hide_index=True, placeholder=tr("finish.table.missing"))
    items = pl.DataFrame(
        {
            tr("insp_ui.col.checkpoint"): [i.checkpoint for i in view.items],
            tr("insp_ui.col.item"): [i.name for i in view.items],
            tr("insp_ui.col.max_score"): [str(i.max_score) for i in view.items],
            tr("insp_ui.col.pass_mark"): [str(i.pass_mark) for i in view.items],
        },
        schema=dict.fromkeys(
            [
                tr("insp_ui.col.checkpoint"),
                tr("insp_ui.col.item"),
                tr("insp_ui.col.max_score"),
                tr("insp_ui.col.pass_mark"),
            ],
            pl.String,
        ),
    )
    st.dataframe(items, hide_index=True, placeholder=tr("finish.table.missing"))


def actions_section(user: Principal, waiting: list[insp.PlanView]) -> None:
    if not waiting:
        return
    st.subheader(tr("maint_ui.plans.waiting_title"))
    for view in waiting:
        steps = [s for s in view.actions if s in QUEUE_STEPS]
        with st.container(border=True, width=WIDTH):
            plan_summary(view)
            if "return" in steps:
                st.text_input(tr("maint_ui.plans.reason"), key=f"insp_reason_{view.document_no}")
            buttons = st.columns(len(steps))
            for column, step in zip(buttons, steps, strict=True):
                column.button(
                    tr(f"workflow.transition.{step}"),
                    type="primary" if step in ("submit", "approve") else "secondary",
                    width="stretch",
                    on_click=_move,
                    args=(user, view.document_no, view.version, step),
                    key=f"insp_{step}_{view.document_no}",
                )


def draft_section(
    user: Principal, office_code: str, kinds: dict[str, str], inspectors: dict[str, str]
) -> None:
    if not kinds:
        return
    with (
        st.expander(
            tr("insp_ui.draft_title"),
            expanded=forms.expanded(NEW_FORM),
            icon=":material/edit_calendar:",
            key="insp_plan_draft_box",
            width=WIDTH,
        ),
        st.form(NEW_FORM, width=WIDTH),
    ):
        offered = [d for kind in kinds for d in insp.plan_disciplines(user, kind, office_code)]
        plan_fields(NEW_FORM, inspectors, list(dict.fromkeys(offered)), kinds=kinds)
        forms.problems(NEW_FORM)
        st.form_submit_button(
            tr("workflow.transition.draft"),
            type="primary",
            width="stretch",
            on_click=_draft,
            args=(user, office_code),
            key=f"{NEW_FORM}_submit",
        )


def open_section(user: Principal, lines: list[insp.PlanLine], inspectors: dict[str, str]) -> None:
    labels = {p.document_no: f"{p.document_no} · {p.name}" for p in lines}
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
        view = insp.inspection_plan_view(db, user, str(chosen))
    with st.container(border=True, width=WIDTH):
        plan_summary(view)
        st.button(
            tr("insp_ui.labels"),
            icon=":material/qr_code_2:",
            on_click=_labels,
            args=(user, view.document_no),
            key=f"insp_labels_make_{view.document_no}",
        )
        pdf = st.session_state.get(f"insp_labels_{view.document_no}")
        if isinstance(pdf, bytes):
            st.download_button(
                tr("insp_ui.labels_download"),
                pdf,
                file_name=f"checkpoints-{view.document_no}.pdf",
                mime="application/pdf",
                key=f"insp_labels_get_{view.document_no}",
            )
    if "revise" in view.actions:
        prefix = f"insp_edit_{view.document_no}_v{view.version}"
        st.markdown(f"**{tr('plans_ui2.edit_title')}**")
        with st.form(prefix, width=WIDTH):
            offered = insp.plan_disciplines(user, view.kind, view.office_code)
            plan_fields(prefix, inspectors, offered, view)
            forms.problems(prefix)
            save, resubmit = st.columns(2)
            save.form_submit_button(
                tr("plans_ui2.save"),
                width="stretch",
                on_click=_revise,
                args=(user, view.document_no, view.version, prefix, False),
                key=f"{prefix}_save",
            )
            resubmit.form_submit_button(
                tr("plans_ui2.save_and_submit"),
                type="primary",
                width="stretch",
                on_click=_revise,
                args=(user, view.document_no, view.version, prefix, True),
                key=f"{prefix}_resubmit",
            )


def lists_section(lines: list[insp.PlanLine], orders: list[insp.OrderLine]) -> None:
    st.subheader(tr("maint_ui.plans.list_title"))
    plans = pl.DataFrame(
        {
            tr("maint_ui.col.document_no"): [p.document_no for p in lines],
            tr("insp_ui.kind"): [tr(f"inspections.kind.{p.kind}") for p in lines],
            tr("maint_ui.plans.name"): [p.name for p in lines],
            tr("maint_ui.col.discipline"): [tr(f"discipline.{p.discipline}") for p in lines],
            tr("maint_ui.col.state"): [tr(f"workflow.state.{p.state}") for p in lines],
        }
    )
    plans = plans.cast(dict.fromkeys(plans.columns, pl.String))
    st.dataframe(plans, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(plans, tr("maint_ui.plans.list_title"), key="insp_plans_excel")
    st.subheader(tr("insp_ui.orders_title"))
    table = pl.DataFrame(
        {
            tr("maint_ui.col.document_no"): [o.document_no for o in orders],
            tr("insp_ui.kind"): [tr(f"inspections.kind.{o.kind}") for o in orders],
            tr("insp_ui.scheduled"): [o.scheduled_for.isoformat() for o in orders],
            tr("maint_ui.col.state"): [tr(f"workflow.state.{o.state}") for o in orders],
            tr("insp_ui.open_link"): [f"/inspection?order={o.document_no}" for o in orders],
        }
    )
    table = table.cast(dict.fromkeys(table.columns, pl.String))
    st.dataframe(
        table,
        hide_index=True,
        placeholder=tr("finish.table.missing"),
        column_config={
            tr("insp_ui.open_link"): st.column_config.LinkColumn(display_text=tr("insp_ui.open"))
        },
    )
    excel_download(table, tr("insp_ui.orders_title"), key="insp_orders_excel")


def render() -> None:
    user = require(Permission.VIEW_INSPECTIONS)
    st.title(tr("insp_ui.plans_title"))
    with st.container():
        show_flash()
    office_code = office_choice(user, Permission.VIEW_INSPECTIONS, OFFICE)
    if office_code is None:
        return
    with unit_of_work(operational_engine()) as db:
        lines = insp.inspection_plans(db, user, office_code)
        waiting = [
            view
            for view in (
                insp.inspection_plan_view(db, user, p.document_no)
                for p in lines
                if p.state in ("draft", "submitted", "returned")
            )
            if set(view.actions) & set(QUEUE_STEPS)
        ]
        orders = insp.inspection_orders(db, user, office_code)
        people = (
            lookup.people_with(db, user, office_code, Permission.INSPECT)
            if user.can(Permission.VIEW_ORDERS, office_code)
            else []
        )
    inspectors = {p.username: f"{p.display_name} ({p.username})" for p in people}
    kinds = {
        kind: tr(f"inspections.kind.{kind}")
        for kind, permission in insp.DRAFTERS.items()
        if user.can(permission, office_code)
    }
    actions_section(user, waiting)
    draft_section(user, office_code, kinds, inspectors)
    open_section(user, lines, inspectors)
    lists_section(lines, orders)


render()
