"""The propcloud dashboards: ``streamlit run dashboards/app.py``.

This entry point runs on every interaction. It first restores the login from the browser's
session cookie (``session.restore_login``: a reload or an opened link stays logged in). Logged
out, it shows only the login form (with the language switch). Logged in, it builds the menu from
the page registry for the user's roles (``dashboards.navigation``), draws the sidebar (user,
language, logout) and runs the chosen page.

Served through ``dashboards/server.py`` (``propcloud serve``) so that the browser can be given
its HttpOnly cookie; plain ``streamlit run dashboards/app.py`` works too, with logins that last
only as long as the tab's connection.
"""

from __future__ import annotations

import streamlit as st

from dashboards import browser_session, frontend_i18n, navigation
from dashboards.build_status import running_build
from dashboards.session import (
    error_text,
    language,
    language_switch,
    log_in,
    log_out,
    principal,
    restore_login,
    session_ended_notice,
    tr,
)
from dashboards.text import md
from operational.errors import DomainError


def _submit_login() -> None:
    try:
        log_in(st.session_state["login_username"], st.session_state["login_password"])
    except DomainError as refused:
        st.session_state["login_error"] = error_text(refused)
    else:
        st.session_state.pop("login_error", None)
    st.session_state["login_password"] = ""


def login_page() -> None:
    if st.query_params:  # e.g. a meter label's ?point=…: kept for the page opened after login
        st.session_state["login_query"] = st.query_params.to_dict()
    st.title(tr("app.title"))
    st.caption(tr("app.subtitle"))
    language_switch()
    with st.form("login", width=420):
        st.subheader(tr("dashboards.login.title"))
        st.text_input(tr("dashboards.login.username"), key="login_username")
        st.text_input(tr("dashboards.login.password"), type="password", key="login_password")
        st.form_submit_button(
            tr("dashboards.login.submit"),
            type="primary",
            width="stretch",
            on_click=_submit_login,
            key="login_submit",
        )
    refused = st.session_state.pop("login_error", None)
    if refused:
        st.error(refused)
    ended = session_ended_notice()
    if ended and not refused:
        st.info(ended, icon=":material/lock_clock:")


def no_pages() -> None:
    st.info(tr("dashboards.nav.no_pages"))


def sidebar() -> None:
    user = principal()
    assert user is not None
    with st.sidebar:
        st.caption(
            tr(
                "dashboards.sidebar.signed_in_as",
                name=md(user.display_name),
                username=md(user.username),
            )
        )
        language_switch()
        running_build()
        st.button(
            tr("dashboards.sidebar.logout"),
            icon=":material/logout:",
            on_click=log_out,
            width="stretch",
        )
        browser_session.apply_pending()  # a new login's cookie


def main() -> None:
    restore_login()
    st.set_page_config(page_title=tr("app.title"), page_icon=":material/apartment:", layout="wide")
    frontend_i18n.tell_language(language())  # Streamlit's own texts follow the session's
    user = principal()
    if user is None:
        # A link to a page with its own address (a meter label's /reading?point=…) shows the
        # login form at that address, so the same address opens that page once logged in.
        title = tr("dashboards.login.title")
        links = [
            st.Page(login_page, title=title, url_path=spec.url_path, visibility="hidden")
            for spec in navigation.PAGES
            if spec.url_path
        ]
        page = st.navigation([st.Page(login_page, title=title), *links], position="hidden")
        page.run()
        browser_session.apply_pending()  # a logout's or an ended session's cookie is dropped
    else:
        menu = navigation.menu(user)
        # Fully expanded: with more than twelve pages Streamlit would otherwise hide all but ten
        # behind "View more" (the administrator has thirteen).
        page = st.navigation(menu or [st.Page(no_pages, title=tr("app.title"))], expanded=True)
        sidebar()
        page.run()


main()
