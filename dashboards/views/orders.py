"""Work orders (工单): raise a corrective order; open an order to assign, process or verify it,
or to put it on hold (waiting for parts or the owner: its clock pauses) and resume it.

Phone-first: one narrow column, big buttons, no tables needed to work. The page never writes SQL:
it reads through ``operational.services.lookup`` and acts through ``operational.services.orders``,
always passing the version the form was drawn from, so a form someone else overtook is refused
(``StaleVersion``) with a message, as is a step the user's role may not take. Actions run in
widget callbacks, so the form below already shows their result. The to-do page opens an order
here (session key ``maint_open_order``); so does the address ``?order=<number>``.

Below the form, the order's whole history (who raised, assigned, processed, verified, sent back,
put on hold and resumed it, when, with their notes) from the engine's events, and its deadline:
met, pending, or how late it is or was in its clock's time (``lookup.ClockSummary``, the rule of
docs/sla-clocks.md). Every time is on the office's clock. Marking an order done needs a work
note (the service refuses an empty one; the form keeps what was typed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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
from operational import sla
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import CorrectiveOrder, Discipline, PeriodicOrder
from operational.services import lookup
from operational.services.orders import (
    Answer,
    CorrectiveSpec,
    WaitReason,
    assign,
    complete_periodic,
    get_order,
    process_corrective,
    raise_corrective,
    resume_corrective,
    verify_corrective,
    wait_corrective,
)

DISPLAY_ZONE = "Asia/Shanghai"
ORDER = "order_no"
OPEN_ORDER = "maint_open_order"  # set by views/todo.py
WIDTH = 560
PHONE_CSS = """
<style>
.st-key-maint_entry input, .st-key-maint_entry textarea { font-size: 1.1rem; }
.st-key-maint_entry button { min-height: 2.8rem; }
</style>
"""


def local_text(moment: datetime | None, zone: str = DISPLAY_ZONE) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def person_text(person: lookup.Person | None) -> str:
    if person is None:
        return "—"
    if person.display_name == person.username:  # a system actor (cli, demo, pipeline)
        return person.username
    return f"{person.display_name} ({person.username})"


def duration_text(minutes: float) -> str:
    """A span of clock time in hours and minutes (whole minutes, rounded up)."""
    whole = int(-(-minutes // 1))
    if whole < 1:
        return tr("orders_ui2.duration.under_a_minute")
    hours, rest = divmod(whole, 60)
    if hours:
        return tr("orders_ui2.duration.hours_minutes", hours=f"{hours:,}", minutes=rest)
    return tr("orders_ui2.duration.minutes", minutes=rest)


def deadline_text(clock: lookup.ClockSummary | None, zone: str) -> str:
    """The deadline as a reader wants it: when, and met / not yet due / how late (in the
    clock's time: working time on an office calendar, else round the clock)."""
    if clock is None:
        return tr("orders_ui2.order.no_deadline")
    if clock.due_at is None:
        return tr("orders_ui2.order.paused")
    text = local_text(clock.due_at, zone)
    if clock.started_at > datetime.now(UTC):
        return f"{text} ({tr('orders_ui2.order.starts', start=local_text(clock.started_at, zone))})"
    if clock.state is sla.ClockState.BREACHED:
        calendar = (
            "orders_ui2.order.business_time"
            if clock.target.calendar_kind == "office"
            else "orders_ui2.order.calendar_time"
        )
        late = tr(
            "orders_ui2.order.late",
            late=duration_text(clock.late_minutes),
            calendar=tr(calendar),
        )
        return f"{text} · {late}"
    word = "met" if clock.state is sla.ClockState.MET else "pending"
    return f"{text} · {tr(f'orders_ui2.order.{word}')}"


# ---------------------------------------------------------------- callbacks


def _raise(user: Principal) -> None:
    office = st.session_state.get("raise_office")
    responsible = st.session_state.get("raise_responsible")
    discipline = st.session_state.get("raise_discipline")
    if not office or not responsible:
        flash(tr("maint_ui.raise.choose_responsible"), ok=False)
        return
    spec = CorrectiveSpec(
        responsible=str(responsible),
        title=str(st.session_state.get("raise_title") or ""),
        description=str(st.session_state.get("raise_description") or ""),
        discipline=Discipline(discipline) if discipline else None,
        object_code=st.session_state.get("raise_object") or None,
    )
    try:
        with unit_of_work(operational_engine()) as db:
            order = raise_corrective(db, user, office_code=str(office), spec=spec)
            number = order.document_no
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    st.session_state["raise_title"] = ""
    st.session_state["raise_description"] = ""
    st.session_state[ORDER] = number
    flash(tr("maint_ui.raise.done", document_no=number))


def _assign(user: Principal, document_no: str, version: int) -> None:
    handler = st.session_state.get(f"assign_handler_{document_no}")
    if not handler:
        flash(tr("maint_ui.order.choose_handler"), ok=False)
        return
    try:
        with unit_of_work(operational_engine()) as db:
            assign(db, user, get_order(db, user, document_no), str(handler), version)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr("maint_ui.order.done_assign", document_no=document_no, handler=md(handler)))


def _answers(document_no: str, lines: tuple[lookup.ChecklistLine, ...]) -> dict[int, Answer]:
    """The checklist as answered on the form; a ✗ without a title has no corrective order."""
    answers: dict[int, Answer] = {}
    for line in lines:
        key = f"ck_{document_no}_{line.answer_id}"
        choice = st.session_state.get(key)
        if choice is None:
            continue
        note = str(st.session_state.get(f"{key}_note") or "")
        if choice == "ok":
            answers[line.answer_id] = Answer(ok=True, note=note)
            continue
        title = str(st.session_state.get(f"{key}_title") or "").strip()
        responsible = st.session_state.get(f"{key}_responsible")
        corrective = (
            CorrectiveSpec(
                responsible=str(responsible),
                title=title,
                description=str(st.session_state.get(f"{key}_description") or ""),
                object_code=line.object_code,
            )
            if title and responsible
            else None
        )
        answers[line.answer_id] = Answer(ok=False, note=note, corrective=corrective)
    return answers


def _complete(
    user: Principal, document_no: str, version: int, lines: tuple[lookup.ChecklistLine, ...]
) -> None:
    answers = _answers(document_no, lines)
    note = str(st.session_state.get(f"complete_note_{document_no}") or "")
    try:
        with unit_of_work(operational_engine()) as db:
            order = get_order(db, user, document_no)
            assert isinstance(order, PeriodicOrder)
            raised = [
                c.document_no
                for c in complete_periodic(db, user, order, answers, version, note=note)
            ]
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    message = tr("maint_ui.order.done_complete", document_no=document_no)
    if raised:
        message += " " + tr("maint_ui.order.raised", numbers=", ".join(raised))
    flash(message)


def _process(user: Principal, document_no: str, version: int) -> None:
    note = str(st.session_state.get(f"process_note_{document_no}") or "")
    try:
        with unit_of_work(operational_engine()) as db:
            order = get_order(db, user, document_no)
            assert isinstance(order, CorrectiveOrder)
            process_corrective(db, user, order, version, note)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr("maint_ui.order.done_process", document_no=document_no))


def _verify(user: Principal, document_no: str, version: int, accepted: bool) -> None:
    note = str(st.session_state.get(f"verify_note_{document_no}") or "")
    try:
        with unit_of_work(operational_engine()) as db:
            order = get_order(db, user, document_no)
            assert isinstance(order, CorrectiveOrder)
            verify_corrective(db, user, order, version, accepted=accepted, note=note)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    done = "verify" if accepted else "send_back"
    flash(tr(f"maint_ui.order.done_{done}", document_no=document_no))


def _wait(user: Principal, document_no: str, version: int) -> None:
    reason = st.session_state.get(f"wait_reason_{document_no}")
    note = str(st.session_state.get(f"wait_note_{document_no}") or "")
    try:
        with unit_of_work(operational_engine()) as db:
            order = get_order(db, user, document_no)
            assert isinstance(order, CorrectiveOrder)
            wait_corrective(db, user, order, version, reason, note)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(
        tr(
            "maint_ui.order.done_wait",
            document_no=document_no,
            reason=tr(f"orders.wait_reason.{reason}"),
        )
    )


def _resume(user: Principal, document_no: str, version: int) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            order = get_order(db, user, document_no)
            assert isinstance(order, CorrectiveOrder)
            resume_corrective(db, user, order, version)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    flash(tr("maint_ui.order.done_resume", document_no=document_no))


# ---------------------------------------------------------------- the order form


def show_details(view: lookup.OrderView) -> None:
    """The order's facts; stored text (title, names, description) is shown as text."""
    zone = view.timezone
    st.subheader(f"{md(view.document_no)} · {md(view.title)}")
    lines = [
        (tr("maint_ui.col.document_type"), tr(f"workflow.document.{view.document_type}")),
        (tr("maint_ui.col.state"), tr(f"workflow.state.{view.state}")),
        (tr("maint_ui.col.office_code"), md(f"{view.office_code} {view.office_name}")),
        (tr("maint_ui.col.discipline"), tr(f"discipline.{view.discipline}")),
        (tr("maint_ui.order.responsible"), md(person_text(view.responsible))),
        (tr("maint_ui.order.handler"), md(person_text(view.handler))),
        (tr("orders_ui2.order.deadline"), md(deadline_text(view.clock, zone))),
    ]
    if view.clock is not None and view.clock.stopped_at is not None:
        lines.append((tr("orders_ui2.order.finished"), local_text(view.clock.stopped_at, zone)))
    if view.scheduled_for is not None:
        lines.append((tr("maint_ui.order.scheduled_for"), view.scheduled_for.isoformat()))
    if view.object_label:
        lines.append((tr("maint_ui.order.object"), md(view.object_label)))
    if view.description:
        lines.append((tr("maint_ui.raise.description"), md(view.description)))
    st.markdown("\n".join(f"- **{label}**: {value}" for label, value in lines))
    st.caption(tr("orders_ui2.order.times_in", zone=zone))


def history_details(line: lookup.HistoryLine) -> str:
    """What a move's payload says, in words: the handler named, the reason of a wait, the
    corrective orders a checklist raised, the note."""
    parts: list[str] = []
    if line.handler:
        parts.append(tr("orders_ui2.history.handler", handler=line.handler))
    if line.responsible:
        parts.append(tr("orders_ui2.history.responsible", responsible=line.responsible))
    if line.reason:
        parts.append(
            tr("orders_ui2.history.reason", reason=tr(f"orders.wait_reason.{line.reason}"))
        )
    if line.corrective_orders:
        numbers = ", ".join(line.corrective_orders)
        parts.append(tr("orders_ui2.history.corrective", numbers=numbers))
    if line.note:
        parts.append(line.note)
    return "；".join(parts) if parts else "—"


def history_table(view: lookup.OrderView) -> pl.DataFrame:
    """The order's moves, oldest first, times on the office's clock."""
    zone = view.timezone
    when = f"{tr('orders_ui2.history.at')} ({zone})"
    columns = {
        when: [local_text(line.at, zone) for line in view.history],
        tr("orders_ui2.history.actor"): [person_text(line.actor) for line in view.history],
        tr("orders_ui2.history.step"): [
            tr(f"workflow.transition.{line.transition}") for line in view.history
        ],
        tr("orders_ui2.history.state"): [
            tr(f"workflow.state.{line.to_state}") for line in view.history
        ],
        tr("orders_ui2.history.details"): [history_details(line) for line in view.history],
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def show_history(view: lookup.OrderView) -> None:
    st.markdown(f"**{tr('orders_ui2.history.title')}**")
    if not view.history:
        st.caption(tr("orders_ui2.history.empty"))
        return
    table = history_table(view)
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(
        table,
        f"{view.document_no}-{tr('orders_ui2.history.title')}",
        key=f"history_excel_{view.document_no}",
    )


def assign_form(user: Principal, view: lookup.OrderView, handlers: list[lookup.Person]) -> None:
    labels = {p.username: person_text(p) for p in handlers}
    step = "reassign" if "reassign" in view.actions else "assign"
    st.selectbox(
        tr("maint_ui.order.handler"),
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key=f"assign_handler_{view.document_no}",
    )
    st.button(
        tr(f"workflow.transition.{step}"),
        type="primary",
        width="stretch",
        on_click=_assign,
        args=(user, view.document_no, view.version),
        key=f"do_assign_{view.document_no}",
    )


def checklist_form(
    user: Principal, view: lookup.OrderView, responsibles: list[lookup.Person]
) -> None:
    st.markdown(f"**{tr('maint_ui.order.checklist')}**")
    st.caption(tr("maint_ui.order.checklist_hint"))
    choices = {"ok": tr("maint_ui.order.ok"), "fail": tr("maint_ui.order.fail")}
    people = {p.username: person_text(p) for p in responsibles}
    names = list(people)
    default = names.index(view.responsible.username) if view.responsible.username in people else 0
    current_object = None
    for line in view.checklist:
        if line.object_code != current_object:
            current_object = line.object_code
            st.markdown(f"*{md(line.object_name)} ({md(line.object_code)})*")
        key = f"ck_{view.document_no}_{line.answer_id}"
        with st.container(border=True):
            choice = st.radio(
                md(line.text),
                list(choices),
                index=None,
                format_func=choices.__getitem__,
                horizontal=True,
                key=key,
            )
            if choice == "fail":
                st.warning(tr("maint_ui.order.fail_needs_corrective"), icon=":material/build:")
                st.text_input(
                    tr("maint_ui.raise.title_field"),
                    placeholder=tr("maint_ui.raise.title_hint"),
                    key=f"{key}_title",
                )
                st.selectbox(
                    tr("maint_ui.order.responsible"),
                    names,
                    index=default if names else None,
                    format_func=people.__getitem__,
                    key=f"{key}_responsible",
                )
                st.text_area(tr("maint_ui.raise.description"), key=f"{key}_description")
            st.text_input(tr("maint_ui.order.note"), key=f"{key}_note")
    st.text_area(
        tr("orders_ui2.field.work_note"),
        placeholder=tr("orders_ui2.order.work_note_hint"),
        key=f"complete_note_{view.document_no}",
    )
    st.button(
        tr("workflow.transition.complete"),
        type="primary",
        width="stretch",
        on_click=_complete,
        args=(user, view.document_no, view.version, view.checklist),
        key=f"do_complete_{view.document_no}",
    )


def process_form(user: Principal, view: lookup.OrderView) -> None:
    st.text_area(
        tr("orders_ui2.field.work_note"),
        placeholder=tr("orders_ui2.order.work_note_hint"),
        key=f"process_note_{view.document_no}",
    )
    st.button(
        tr("workflow.transition.process"),
        type="primary",
        width="stretch",
        on_click=_process,
        args=(user, view.document_no, view.version),
        key=f"do_process_{view.document_no}",
    )


def verify_form(user: Principal, view: lookup.OrderView) -> None:
    st.text_area(tr("maint_ui.order.verify_note"), key=f"verify_note_{view.document_no}")
    accept, back = st.columns(2)
    accept.button(
        tr("workflow.transition.verify"),
        type="primary",
        width="stretch",
        on_click=_verify,
        args=(user, view.document_no, view.version, True),
        key=f"do_verify_{view.document_no}",
    )
    back.button(
        tr("workflow.transition.send_back"),
        width="stretch",
        on_click=_verify,
        args=(user, view.document_no, view.version, False),
        key=f"do_send_back_{view.document_no}",
    )


def wait_form(user: Principal, view: lookup.OrderView) -> None:
    """Put the order on hold (挂起): waiting for parts or for the owner pauses its clock."""
    reasons = {r.value: tr(f"orders.wait_reason.{r.value}") for r in WaitReason}
    st.selectbox(
        tr("maint_ui.order.wait_reason"),
        list(reasons),
        index=None,
        format_func=reasons.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key=f"wait_reason_{view.document_no}",
    )
    st.text_input(tr("maint_ui.order.wait_note"), key=f"wait_note_{view.document_no}")
    st.button(
        tr("workflow.transition.wait"),
        width="stretch",
        on_click=_wait,
        args=(user, view.document_no, view.version),
        key=f"do_wait_{view.document_no}",
    )


def resume_form(user: Principal, view: lookup.OrderView) -> None:
    st.button(
        tr("workflow.transition.resume"),
        type="primary",
        width="stretch",
        on_click=_resume,
        args=(user, view.document_no, view.version),
        key=f"do_resume_{view.document_no}",
    )


def checklist_table(view: lookup.OrderView) -> pl.DataFrame:
    marks = {True: "✓", False: "✗", None: ""}
    return pl.DataFrame(
        {
            tr("maint_ui.order.object"): [
                f"{c.object_name} ({c.object_code})" for c in view.checklist
            ],
            tr("maint_ui.order.item"): [c.text for c in view.checklist],
            tr("maint_ui.order.result"): [marks[c.ok] for c in view.checklist],
            tr("maint_ui.order.note"): [c.note for c in view.checklist],
        },
        schema={
            tr("maint_ui.order.object"): pl.String,
            tr("maint_ui.order.item"): pl.String,
            tr("maint_ui.order.result"): pl.String,
            tr("maint_ui.order.note"): pl.String,
        },
    )


def show_order(user: Principal, document_no: str) -> None:
    handlers: list[lookup.Person] = []
    responsibles: list[lookup.Person] = []
    try:
        with unit_of_work(operational_engine()) as db:
            view = lookup.order_view(db, user, document_no)
            if {"assign", "reassign"} & set(view.actions):
                handlers = lookup.people_with(db, user, view.office_code, Permission.HANDLE_ORDERS)
            if "complete" in view.actions:
                responsibles = lookup.people_with(
                    db, user, view.office_code, Permission.MANAGE_ORDERS
                )
    except DomainError as refused:
        st.warning(error_text(refused))
        return
    show_details(view)
    actions = set(view.actions)
    if {"assign", "reassign"} & actions:
        assign_form(user, view, handlers)
    if "complete" in actions:
        checklist_form(user, view, responsibles)
    if "process" in actions:
        process_form(user, view)
    if "wait" in actions:
        wait_form(user, view)
    if "resume" in actions:
        resume_form(user, view)
    if {"verify", "send_back"} & actions:
        verify_form(user, view)
    if not actions:
        st.info(tr("maint_ui.order.nothing_to_do"))
    if view.checklist and "complete" not in actions:
        table = checklist_table(view)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, view.document_no, key=f"checklist_excel_{view.document_no}")
    show_history(view)


# ---------------------------------------------------------------- raising a corrective order


def raise_form(user: Principal) -> None:
    with unit_of_work(operational_engine()) as db:
        offices = lookup.offices(db, user, Permission.RAISE_ORDERS)
        office_labels = {o.code: f"{o.code} {o.name}" for o in offices}
        if st.session_state.get("raise_office") not in office_labels:
            st.session_state["raise_office"] = offices[0].code if len(offices) == 1 else None
        office = st.session_state.get("raise_office")
        people = lookup.people_with(db, user, office, Permission.MANAGE_ORDERS) if office else []
        objects = lookup.objects_of(db, user, office) if office else []
    st.selectbox(
        tr("maint_ui.col.office_code"),
        list(office_labels),
        format_func=office_labels.__getitem__,
        placeholder=tr("maint_ui.choose"),
        key="raise_office",
    )
    if not office:
        return
    disciplines = {d.value: tr(f"discipline.{d.value}") for d in Discipline}
    responsible = {p.username: person_text(p) for p in people}
    object_labels = {"": tr("maint_ui.raise.no_object")} | {
        o.code: f"{o.name} ({o.code}) · {o.location}" for o in objects
    }
    with st.form("raise_form", width=WIDTH, clear_on_submit=False):
        st.selectbox(
            tr("maint_ui.col.discipline"),
            list(disciplines),
            format_func=disciplines.__getitem__,
            key="raise_discipline",
        )
        st.text_input(
            tr("maint_ui.raise.title_field"),
            placeholder=tr("maint_ui.raise.title_hint"),
            key="raise_title",
        )
        st.text_area(tr("maint_ui.raise.description"), key="raise_description")
        st.selectbox(
            tr("maint_ui.order.object"),
            list(object_labels),
            format_func=object_labels.__getitem__,
            key="raise_object",
        )
        st.selectbox(
            tr("maint_ui.order.responsible"),
            list(responsible),
            index=None,
            format_func=responsible.__getitem__,
            placeholder=tr("maint_ui.choose"),
            key="raise_responsible",
        )
        st.form_submit_button(
            tr("maint_ui.raise.submit"),
            type="primary",
            width="stretch",
            on_click=_raise,
            args=(user,),
            key="raise_submit",
        )


# ---------------------------------------------------------------- the page


def render() -> None:
    user = require(Permission.VIEW_ORDERS)
    st.markdown(PHONE_CSS, unsafe_allow_html=True)
    st.title(tr("maint_ui.order.title"))
    show_flash()
    opened = st.session_state.pop(OPEN_ORDER, None)
    linked = st.query_params.get("order")
    if linked and linked != st.session_state.get("order_linked"):
        st.session_state["order_linked"] = linked  # the address's order, applied once
        opened = opened or linked
    if opened:
        st.session_state[ORDER] = opened
    with st.container(key="maint_entry", width=WIDTH):
        can_raise = user.can(Permission.RAISE_ORDERS)  # HQ and audit only read orders
        tabs = [tr("maint_ui.order.tab_open")] + ([tr("maint_ui.raise.tab")] if can_raise else [])
        work, *new = st.tabs(tabs)
        with work:
            number = st.text_input(
                tr("maint_ui.col.document_no"),
                placeholder=tr("maint_ui.order.number_hint"),
                key=ORDER,
            )
            if number and number.strip():
                show_order(user, number.strip())
            else:
                st.caption(tr("maint_ui.order.open_hint"))
        for tab in new:
            with tab:
                raise_form(user)


render()
