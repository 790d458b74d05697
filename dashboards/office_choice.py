"""The office an office page works on: one of the offices where the user holds the page's
permission (a scoped read), chosen in a select box; a link's ``?office=`` preselects it when it
is one of them, and any other code is simply not offered."""

from __future__ import annotations

import streamlit as st

from dashboards.session import operational_engine, tr
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.services import lookup


def office_choice(user: Principal, permission: Permission, key: str) -> str | None:
    """The chosen office's code; None, with a notice, when the user holds ``permission`` at no
    office."""
    with unit_of_work(operational_engine()) as db:
        offices = lookup.offices(db, user, permission)
    if not offices:
        st.info(tr("selfservice.no_offices"))
        return None
    names = {o.code: f"{o.code} {o.name}" for o in offices}
    asked = st.query_params.get("office")
    if asked in names and key not in st.session_state:
        st.session_state[key] = asked  # a link naming one of the user's offices
    chosen = st.selectbox(
        tr("selfservice.office"), list(names), format_func=names.__getitem__, key=key
    )
    return str(chosen or offices[0].code)
