"""A supplier user's own to-do list (供方待办), made for a phone: the orders dispatched to them
whose next step is theirs, and their supplier's open nonconformities.

Straight from the operational services, so it shows what waits *now*: the workflow's to-do list
(``todo_list``) and :func:`operational.services.supplier_work.open_nonconformities`, both kept
to the user's supplier inside their queries (``operational.scope``). Each order opens its form
(``views/orders.py``), where the user takes the order's next step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards.session import operational_engine, require, tr
from dashboards.text import md
from operational.auth import Permission
from operational.db import unit_of_work
from operational.services.orders import todo_list
from operational.services.supplier_work import OpenNonconformity, open_nonconformities
from operational.workflow.engine import TodoItem

DISPLAY_ZONE = "Asia/Shanghai"
OPEN_ORDER = "maint_open_order"  # read by views/orders.py: the order to show
OPEN_NC = "nc_open"  # read by views/nonconformity.py: the nonconformity to show
ORDER_TYPES = ("periodic_order", "corrective_order")


def local_text(moment: datetime | None, zone: str = DISPLAY_ZONE) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def order_label(item: TodoItem, now: datetime) -> str:
    actions = " / ".join(tr(f"workflow.transition.{a}") for a in item.actions)
    due = (
        tr("maint_ui.todo.due", due=local_text(item.due_at))
        if item.due_at is not None
        else tr("maint_ui.todo.no_deadline")
    )
    late = f" · {tr('supplierusers.todo.overdue')}" if item.due_at and item.due_at < now else ""
    return (
        f"{item.document_no} · {item.office_code} · {tr(f'workflow.state.{item.state}')} · "
        f"{actions} · {due}{late}"
    )


def nonconformity_text(line: OpenNonconformity) -> str:
    """One open nonconformity as Markdown, its values as text."""
    points = (
        tr("supplierusers.todo.points", points=line.breach_points)
        if line.breach_points is not None
        else ""
    )
    return "  \n".join(
        part
        for part in (
            f"**{md(line.nc_no)}** · {md(tr(f'suppliers_ui.kind.{line.kind}'))}",
            tr(
                "supplierusers.todo.nc_where",
                office=md(f"{line.office_name} ({line.office_code})"),
                contract=md(line.contract_no),
                discipline=md(tr(f"discipline.{line.discipline}")),
            ),
            tr("supplierusers.todo.opened", at=local_text(line.opened_at, line.timezone))
            + (f" · {points}" if points else ""),
        )
        if part
    )


def orders_section(items: list[TodoItem]) -> None:
    st.subheader(tr("supplierusers.todo.orders"))
    orders = [i for i in items if i.document_type in ORDER_TYPES]
    if not orders:
        st.info(tr("supplierusers.todo.no_orders"), icon=":material/task_alt:")
        return
    now = datetime.now(UTC)
    for item in orders:
        overdue = item.due_at is not None and item.due_at < now
        if st.button(
            order_label(item, now),
            key=f"supplier_todo_{item.document_no}",
            icon=":material/warning:" if overdue else ":material/assignment:",
            type="primary" if overdue else "secondary",
            width="stretch",
        ):
            st.session_state[OPEN_ORDER] = item.document_no
            st.switch_page("views/orders.py")


def nonconformities_section(lines: list[OpenNonconformity]) -> None:
    st.subheader(tr("supplierusers.todo.nonconformities"))
    if not lines:
        st.info(tr("supplierusers.todo.no_nonconformities"), icon=":material/verified:")
        return
    for line in lines:
        with st.container(border=True):
            st.markdown(nonconformity_text(line))
            if st.button(
                tr("supplierusers.todo.open_nc"),
                key=f"supplier_todo_nc_{line.nc_no}",
                icon=":material/open_in_new:",
            ):
                st.session_state[OPEN_NC] = line.nc_no  # views/nonconformity.py opens it
                st.switch_page("views/nonconformity.py")


def render() -> None:
    user = require(Permission.VIEW_SUPPLIER_WORK)
    st.title(tr("supplierusers.todo.title"))
    with unit_of_work(operational_engine()) as db:
        items = todo_list(db, user)
        lines = open_nonconformities(db, user)
    st.caption(
        tr("supplierusers.todo.caption", supplier=md(user.supplier_code or ""), zone=DISPLAY_ZONE)
    )
    orders_section(items)
    nonconformities_section(lines)


render()
