"""Imports (数据导入): every ``propcloud import …`` file a user may run, uploaded in the page.

The imports of ``dashboards.imports_registry`` the user may run (the permission of each, at some
office), one at a time: its columns and Excel template, the upload with a preview of the first
rows and the encoding read, then the import as the logged-in user — all or nothing, each row
checked against the user's offices by the import itself — with its progress and its row report
(``dashboards.import_panel``).
"""

from __future__ import annotations

import streamlit as st

from dashboards.import_panel import upload_panel
from dashboards.imports_registry import runnable
from dashboards.session import operational_engine, require, tr
from operational.auth import Permission
from operational.db import unit_of_work
from operational.services import lookup

CHOICE = "imp_kind"


def render() -> None:
    user = require(Permission.OPEN_IMPORTS)
    st.title(tr("selfservice.imports.title"))
    st.caption(tr("selfservice.imports.intro"))
    specs = runnable(user)
    if not specs:
        st.info(tr("selfservice.imports.none"))
        return
    titles = {s.name: tr(s.title_key) for s in specs}
    name = st.selectbox(
        tr("selfservice.imports.kind_label"),
        list(titles),
        format_func=lambda n: f"{titles[n]} ({n})",
        key=CHOICE,
    )
    spec = next(s for s in specs if s.name == name)
    with unit_of_work(operational_engine()) as db:
        offices = lookup.offices(db, user, spec.permission)
    st.caption(tr(f"selfservice.imports.about.{spec.name.replace('-', '_')}"))
    with st.container(width=720):
        upload_panel(spec, user, f"imp_{spec.name}", offices[0].code if offices else None)


render()
