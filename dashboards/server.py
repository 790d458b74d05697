"""The dashboards' web server: ``streamlit run dashboards/server.py`` (what ``propcloud serve``
runs).

Streamlit serves ``dashboards/app.py`` as always; ``st.App`` adds the one HTTP route through
which a browser receives and drops its HttpOnly login cookie (``dashboards.browser_session``).
``dashboards.frontend_i18n`` adds the routes and the middleware that put Streamlit's own texts
into the user's language. ``streamlit run`` finds the ``app`` object here and runs it with the
usual ``--server.*`` flags.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from dashboards import frontend_i18n
from dashboards.browser_session import routes

app = st.App(
    Path(__file__).with_name("app.py"),
    routes=[*routes(), *frontend_i18n.routes()],
    middleware=[Middleware(frontend_i18n.InjectScript)],
)
