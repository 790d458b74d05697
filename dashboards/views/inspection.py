"""The inspection order, on a phone (检查工单): walk the route, score every item, photograph
what is wrong, open a nonconformity for a failed item, submit.

Opened as ``/inspection?order=IO-…`` (the to-do list, the plans page) or by scanning a
checkpoint's QR label: ``/inspection?plan=IP-…&checkpoint=CP-1`` opens the inspector's open
order of that plan at that checkpoint's step (``services.inspections.order_for_plan``). Reads
and writes only through ``operational.services.inspections``, as the user; the buttons are the
engine's steps the user may take. A refused submit lists every problem and offers, right there,
the nonconformity form of each failed item that has none (docs/inspections.md).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import forms
from dashboards.session import error_text, flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import NonconformityKind
from operational.services import inspections as insp

OPEN = "insp_open_order"  # the order shown (set by the to-do list, a link or a label)
STEP = "insp_step"  # the checkpoint whose step is open
SUBMIT_FORM = "insp_submit"
DISPLAY_ZONE = "Asia/Shanghai"


# ---------------------------------------------------------------- callbacks


def _start(user: Principal, number: str, version: int) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            order = insp.get_inspection_order(db, user, number)
            insp.start_inspection(db, user, order, version)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr("insp_ui.started", document_no=number))


def _score(user: Principal, number: str, score_id: int, form: str, checkpoint: str) -> None:
    state = st.session_state
    state[STEP] = checkpoint
    value = state.get(f"{form}_score")
    try:
        with unit_of_work(operational_engine()) as db:
            order = insp.get_inspection_order(db, user, number)
            insp.score_item(
                db,
                user,
                order,
                score_id,
                score=int(value) if value is not None else -1,
                note=str(state.get(f"{form}_note") or ""),
            )
    except DomainError as refused:
        forms.refuse(form, refused)
        return
    forms.accept(form)


def _photo(user: Principal, number: str, score_id: int, key: str) -> None:
    uploaded = st.session_state.get(key)
    if uploaded is None:
        return
    try:
        with unit_of_work(operational_engine()) as db:
            order = insp.get_inspection_order(db, user, number)
            insp.attach_photo(
                db,
                user,
                order,
                score_id,
                data=uploaded.getvalue(),
                content_type=str(uploaded.type or ""),
            )
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr("insp_ui.photo_kept"))


def _nonconformity(user: Principal, number: str, score_id: int, form: str) -> None:
    state = st.session_state
    points = str(state.get(f"{form}_points") or "").strip()
    try:
        with unit_of_work(operational_engine()) as db:
            order = insp.get_inspection_order(db, user, number)
            nc = insp.open_item_nonconformity(
                db,
                user,
                order,
                score_id,
                kind=str(state.get(f"{form}_kind") or ""),
                description=str(state.get(f"{form}_description") or ""),
                contract_no=str(state.get(f"{form}_contract") or "").strip() or None,
                breach_points=int(points) if points.isdigit() else (-1 if points else None),
            )
            nc_no = nc.nc_no
    except DomainError as refused:
        forms.refuse(form, refused)
        return
    forms.accept(form)
    flash(tr("insp_ui.nc_opened", nc_no=nc_no))


def _submit(user: Principal, number: str, version: int) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            order = insp.get_inspection_order(db, user, number)
            insp.submit_inspection(db, user, order, version)
    except DomainError as refused:
        forms.refuse(SUBMIT_FORM, refused)
        return
    forms.accept(SUBMIT_FORM)
    flash(tr("insp_ui.submitted", document_no=number))


# ---------------------------------------------------------------- parts of the page


def nonconformity_form(user: Principal, view: insp.OrderView, item: insp.ScoreView) -> None:
    form = f"insp_nc_{item.id}"
    kinds = {k.value: tr(f"insp_ui.nc_kind.{k.value}") for k in NonconformityKind}
    with st.form(form, border=True):
        st.markdown(tr("insp_ui.nc_title", item=md(item.name)))
        st.selectbox(
            tr("insp_ui.nc_kind_label"),
            list(kinds),
            format_func=kinds.__getitem__,
            key=f"{form}_kind",
        )
        st.text_area(tr("insp_ui.nc_description"), key=f"{form}_description", height=80)
        contract, points = st.columns(2)
        contract.text_input(tr("insp_ui.nc_contract"), key=f"{form}_contract")
        points.text_input(tr("insp_ui.nc_points"), key=f"{form}_points")
        forms.problems(form)
        st.form_submit_button(
            tr("insp_ui.nc_open"),
            type="primary",
            width="stretch",
            on_click=_nonconformity,
            args=(user, view.document_no, item.id, form),
            key=f"{form}_submit",
        )


def item_block(
    user: Principal,
    view: insp.OrderView,
    item: insp.ScoreView,
    walking: bool,
    photo: tuple[bytes, str] | None,
) -> None:
    mark = (  # Material icons: they show on every phone, emoji fonts do not
        ":material/radio_button_unchecked:"
        if item.score is None
        else (":red[:material/cancel:]" if item.failed else ":green[:material/check_circle:]")
    )
    scored = "—" if item.score is None else str(item.score)
    st.markdown(
        f"{mark} **{md(item.name)}** — "
        + tr(
            "insp_ui.score_of",
            score=scored,
            max_score=item.max_score,
            pass_mark=item.pass_mark,
        )
    )
    if item.note:
        st.caption(md(item.note))
    if item.nonconformity_no:
        st.caption(tr("insp_ui.nc_linked", nc_no=md(item.nonconformity_no)))
    if photo is not None:
        st.image(photo[0], width=240)
    if not walking:
        return
    form = f"insp_item_{item.id}"
    with st.form(form, border=False):
        st.number_input(
            tr("insp_ui.score_label", max_score=item.max_score),
            min_value=0,
            max_value=item.max_score,
            step=1,
            value=item.score,
            key=f"{form}_score",
        )
        st.text_input(tr("insp_ui.note"), value=item.note, key=f"{form}_note")
        forms.problems(form)
        st.form_submit_button(
            tr("insp_ui.save_score"),
            width="stretch",
            on_click=_score,
            args=(user, view.document_no, item.id, form, item.checkpoint),
            key=f"{form}_save",
        )
    with st.popover(tr("insp_ui.photo"), icon=":material/photo_camera:", width="stretch"):
        st.camera_input(
            tr("insp_ui.take_photo"),
            key=f"insp_cam_{item.id}",
            on_change=_photo,
            args=(user, view.document_no, item.id, f"insp_cam_{item.id}"),
        )
        st.file_uploader(
            tr("insp_ui.upload_photo"),
            type=["jpg", "jpeg", "png", "webp", "heic"],
            key=f"insp_file_{item.id}",
            on_change=_photo,
            args=(user, view.document_no, item.id, f"insp_file_{item.id}"),
        )
    if item.failed and item.nonconformity_no is None:
        st.warning(tr("insp_ui.needs_nc"), icon=":material/report:")
        nonconformity_form(user, view, item)


def route_section(user: Principal, view: insp.OrderView, opened: str | None) -> None:
    walking = "submit" in view.actions
    with unit_of_work(operational_engine()) as db:
        photos = insp.inspection_photos(db, user, view.document_no)
    for checkpoint in view.route:
        items = [s for s in view.scores if s.checkpoint == checkpoint.code]
        done = sum(1 for s in items if s.score is not None)
        where = (
            f"{checkpoint.object_name} ({checkpoint.object_code})"
            if checkpoint.object_code
            else str(checkpoint.area or "")
        )
        # A stable label and key: the step stays open while its items are scored.
        with st.expander(
            md(f"{checkpoint.position}. {checkpoint.code} · {where}"),
            expanded=checkpoint.code in (opened, st.session_state.get(STEP)),
            icon=":material/pin_drop:",
            key=f"insp_cp_{view.document_no}_{checkpoint.code}",
        ):
            st.caption(tr("insp_ui.progress", scored=done, total=len(items)))
            for item in items:
                item_block(user, view, item, walking, photos.get(item.id))


def submit_section(user: Principal, view: insp.OrderView) -> None:
    scored = sum(1 for s in view.scores if s.score is not None)
    st.progress(
        scored / len(view.scores) if view.scores else 1.0,
        text=tr("insp_ui.progress", scored=scored, total=len(view.scores)),
    )
    with st.container(border=True):
        forms.problems(SUBMIT_FORM)
        refused = forms.refused(SUBMIT_FORM)
        if refused is not None:
            # Offer the nonconformity of each failed item that still has none, right here.
            for item in view.scores:
                if item.failed and item.nonconformity_no is None:
                    nonconformity_form(user, view, item)
        st.button(
            tr("insp_ui.submit"),
            type="primary",
            width="stretch",
            icon=":material/send:",
            on_click=_submit,
            args=(user, view.document_no, view.version),
            key="insp_submit_button",
        )


def choose_order(user: Principal) -> str | None:
    """No order named: the user's orders waiting (issued or in progress), to pick one."""
    with unit_of_work(operational_engine()) as db:
        lines = [o for o in insp.inspection_orders(db, user) if o.state != "submitted"]
    if not lines:
        st.info(tr("insp_ui.no_orders"))
        return None
    labels = {
        o.document_no: f"{o.document_no} · {o.scheduled_for.isoformat()} · "
        f"{tr(f'workflow.state.{o.state}')}"
        for o in lines
    }
    chosen = st.selectbox(
        tr("insp_ui.choose_order"),
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key="insp_choose",
    )
    return str(chosen) if chosen else None


def requested(user: Principal) -> tuple[str | None, str | None]:
    """The order and checkpoint the URL (or the to-do list) asks for; a label names a plan."""
    params = st.query_params
    checkpoint = params.get("checkpoint")
    if params.get("order"):
        return str(params["order"]), checkpoint
    if params.get("plan"):
        try:
            with unit_of_work(operational_engine()) as db:
                number = insp.order_for_plan(db, user, str(params["plan"]), checkpoint or "")
        except DomainError as refused:
            st.warning(error_text(refused))
            return None, None
        return number, checkpoint
    kept = st.session_state.get(OPEN)
    return (str(kept) if kept else None), None


def render() -> None:
    user = require(Permission.VIEW_INSPECTIONS)
    st.title(tr("insp_ui.order_title"))
    with st.container():
        show_flash()
    number, checkpoint = requested(user)
    if number is None:
        number = choose_order(user)
        if number is None:
            return
    try:
        with unit_of_work(operational_engine()) as db:
            view = insp.inspection_order_view(db, user, number)
    except DomainError as refused:
        st.warning(error_text(refused))
        return
    st.session_state[OPEN] = view.document_no
    due = (
        view.due_at.astimezone(ZoneInfo(DISPLAY_ZONE)).strftime("%Y-%m-%d %H:%M")
        if view.due_at
        else "—"
    )
    st.markdown(
        f"**{md(view.document_no)}** · {tr(f'inspections.kind.{view.kind}')} · "
        f"{tr(f'discipline.{view.discipline}')}  \n"
        f"{md(view.plan_name)} ({md(view.plan_no)}) · {view.scheduled_for.isoformat()}  \n"
        + tr(
            "insp_ui.status",
            state=tr(f"workflow.state.{view.state}"),
            inspector=md(view.inspector),
            due=due,
        )
    )
    if checkpoint:
        st.caption(tr("insp_ui.scanned", checkpoint=md(checkpoint)))
    if "start" in view.actions:
        st.button(
            tr("workflow.transition.start"),
            type="primary",
            width="stretch",
            icon=":material/directions_walk:",
            on_click=_start,
            args=(user, view.document_no, view.version),
            key="insp_start",
        )
    route_section(user, view, checkpoint)
    if "submit" in view.actions:
        submit_section(user, view)


render()
