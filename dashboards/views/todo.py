"""My to-do list (我的待办): every document whose next step is mine, oldest deadline first.

Straight from the operational services (``todo_list``), since it must show what waits *now*.
Each row has a button that opens the order's form (``views/orders.py``); plans open the plans page;
tickets (dispatched to the user, to pick up, to dispatch, follow-up visits due) open the ticket
page (``/ticket?ticket=NO``), night-service tickets marked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards.export import excel_download
from dashboards.session import operational_engine, require, tr
from operational.auth import Permission
from operational.db import unit_of_work
from operational.services.orders import todo_list
from operational.services.ticket_desk import is_ticket_type, waiting_tickets
from operational.workflow.engine import TodoItem

DISPLAY_ZONE = "Asia/Shanghai"
OPEN_ORDER = "maint_open_order"  # read by views/orders.py: the order to show


def local_text(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(DISPLAY_ZONE)).strftime("%Y-%m-%d %H:%M")


def actions_text(item: TodoItem) -> str:
    return " / ".join(tr(f"workflow.transition.{a}") for a in item.actions)


def type_text(item: TodoItem, night: set[str]) -> str:
    text = tr(f"workflow.document.{item.document_type}")
    if item.document_no in night:
        text += f" · {tr('ticketdesk.todo.night')}"
    return text


def todo_table(items: list[TodoItem], now: datetime, night: set[str] | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            tr("maint_ui.col.document_no"): [i.document_no for i in items],
            tr("maint_ui.col.document_type"): [type_text(i, night or set()) for i in items],
            tr("maint_ui.col.office_code"): [i.office_code for i in items],
            tr("maint_ui.col.state"): [tr(f"workflow.state.{i.state}") for i in items],
            tr("maint_ui.col.next_step"): [actions_text(i) for i in items],
            tr("maint_ui.col.due_at"): [local_text(i.due_at) for i in items],
            tr("maint_ui.col.overdue"): [
                tr("maint_ui.yes") if i.due_at is not None and i.due_at < now else "" for i in items
            ],
        },
        schema={
            tr(f"maint_ui.col.{c}"): pl.String
            for c in (
                "document_no",
                "document_type",
                "office_code",
                "state",
                "next_step",
                "due_at",
                "overdue",
            )
        },
    )


def render() -> None:
    user = require(Permission.VIEW_ORDERS)
    st.title(tr("maint_ui.todo.title"))
    with unit_of_work(operational_engine()) as db:
        items = todo_list(db, user)
        night = (
            {w.item.document_no for w in waiting_tickets(db, user) if w.night_service}
            if any(is_ticket_type(i.document_type) for i in items)
            else set()
        )
    if not items:
        st.info(tr("maint_ui.todo.empty"), icon=":material/task_alt:")
        return
    now = datetime.now(UTC)
    st.caption(tr("maint_ui.todo.count", count=len(items), zone=DISPLAY_ZONE))
    for item in items:
        overdue = item.due_at is not None and item.due_at < now
        due = (  # "due …" or "no deadline", never "due —"
            tr("maint_ui.todo.due", due=local_text(item.due_at))
            if item.due_at is not None
            else tr("maint_ui.todo.no_deadline")
        )
        ticket = is_ticket_type(item.document_type)
        label = (
            f"{item.document_no} · {type_text(item, night) + ' · ' if ticket else ''}"
            f"{tr(f'workflow.state.{item.state}')} · {actions_text(item)} · {due}"
        )
        if st.button(
            label,
            key=f"todo_open_{item.document_no}",
            icon=":material/warning:"
            if overdue
            else ":material/dark_mode:"
            if item.document_no in night
            else ":material/assignment:",
            type="primary" if overdue else "secondary",
            width="stretch",
        ):
            if ticket:
                st.switch_page("views/ticket.py", query_params={"ticket": item.document_no})
            if item.document_type == "inspection":  # views/inspection.py, on a phone
                st.session_state["insp_open_order"] = item.document_no
                st.switch_page("views/inspection.py")
            if item.document_type.endswith("inspection_plan"):
                st.session_state["insp_plan_open"] = item.document_no
                st.switch_page("views/inspection_plans.py")
            if item.document_type == "periodic_plan":
                st.session_state["plan_open"] = item.document_no  # views/plans.py opens it
                st.switch_page("views/plans.py")
            if item.document_type.startswith("nonconformity_"):
                st.session_state["nc_open"] = item.document_no  # views/nonconformity.py
                st.switch_page("views/nonconformity.py")
            st.session_state[OPEN_ORDER] = item.document_no
            st.switch_page("views/orders.py")
    with st.expander(tr("maint_ui.todo.table_title")):
        table = todo_table(items, now, night)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, tr("maint_ui.todo.table_title"), key="todo_excel")


render()
