"""Links to the ticket page (``/ticket?ticket=NO``) from the intake page, the to-do list and the
customer view; shown only to users who may open it."""

from __future__ import annotations

import streamlit as st

from dashboards import navigation
from dashboards.text import md
from operational.auth import Permission, Principal

TICKET_PAGE = "views/ticket.py"


def ticket_link(user: Principal, document_no: str, label: str, *, icon: str | None = None) -> None:
    """A link that opens ``document_no`` on the ticket page (nothing if the user may not)."""
    if not user.can(Permission.VIEW_TICKETS):
        return
    spec = next(s for s in navigation.PAGES if s.file == TICKET_PAGE)
    st.page_link(
        navigation.page(spec),
        label=md(label),
        icon=icon or spec.icon,
        query_params={"ticket": document_no},
    )
