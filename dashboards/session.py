"""The browser session: who is logged in, which language they read, and the way to the stores.

Everything a page needs about the current session goes through here, so that pages stay short:
``tr()`` translates in the session's language, ``require()`` stops a page the user may not see,
``operational_engine()`` and ``settings()`` come from the ``PROPCLOUD_*`` environment variables.

A login outlives the browser tab's connection: :func:`log_in` starts a login session
(``operational.login_sessions``) whose token the browser keeps in an HttpOnly cookie
(``dashboards.browser_session``), and :func:`restore_login`, run first on every page run, logs
a reloaded page or an opened link back in from that cookie — and logs out a page whose session
has ended meanwhile (logout elsewhere, disabled account, password reset, expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboards import browser_session
from operational import login_sessions
from operational.auth import Permission, Principal, authenticate
from operational.db import engine_for, session_factory, unit_of_work
from operational.errors import DomainError
from operational.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from operational.services.users import set_language
from operational.settings import Settings, load_settings, signing_key
from warehouse.queries import WarehouseReader
from warehouse.queries_energy import EnergyReader
from warehouse.queries_sla import SlaReader
from warehouse.queries_suppliers import SupplierReader
from warehouse.queries_tower import TowerReader
from warehouse.scope import OfficeScope

PRINCIPAL_KEY = "principal"
LOGIN_SESSION_KEY = "login_session"  # id of the login session behind this browser tab
COOKIE_TRIED_KEY = "login_cookie_tried"  # the cookie value already tried in this tab
SESSION_ENDED_KEY = "login_session_ended"  # tell the login page why the user is logged out
LANGUAGE_KEY = "language"
LANGUAGE_WIDGET_KEY = "language_switch"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def settings() -> Settings:
    return load_settings()


def operational_engine() -> Engine:
    return engine_for(settings().database_url)


def language() -> str:
    """The language of this browser session: chosen, else the user's stored one, else Chinese."""
    chosen = st.session_state.get(LANGUAGE_KEY)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def tr(key: str, /, **params: Any) -> str:
    """The catalogue text for ``key`` in the session's language."""
    return t(key, language(), **params)


def error_text(error: DomainError) -> str:
    return error.message(language())


def principal() -> Principal | None:
    found = st.session_state.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def _lifetime() -> login_sessions.Lifetime:
    current = settings()
    return login_sessions.Lifetime(current.session_idle, current.session_max_age)


def _remember(user: Principal, session_id: int) -> None:
    st.session_state[PRINCIPAL_KEY] = user
    st.session_state[LOGIN_SESSION_KEY] = session_id
    st.session_state[LANGUAGE_KEY] = user.language if user.language in LANGUAGES else language()
    st.session_state.pop(SESSION_ENDED_KEY, None)


def _forget() -> None:
    st.session_state.pop(PRINCIPAL_KEY, None)
    st.session_state.pop(LOGIN_SESSION_KEY, None)


def log_in(username: str, password: str) -> None:
    """Check the credentials, start a login session and remember the user; raises
    :class:`DomainError` if refused.

    The attempt is committed whether it succeeds or not, so failures count towards the lock.
    The browser is given the session's cookie in this page run (``browser_session``).
    """
    engine = operational_engine()
    with session_factory(engine)() as db:
        try:
            user = authenticate(db, username, password)
        finally:
            db.commit()
    key = signing_key(settings())
    with unit_of_work(engine) as db:
        started = login_sessions.start(db, key, user.user_id, _lifetime())
    _remember(user, started.session_id)
    browser_session.store_later(started.token)


def log_out() -> None:
    """End the login session, forget the user and have the browser drop its cookie; the
    language stays as it was for the login page."""
    session_id = st.session_state.get(LOGIN_SESSION_KEY)
    if isinstance(session_id, int):
        with unit_of_work(operational_engine()) as db:
            login_sessions.end(db, session_id)
    _forget()
    st.session_state[COOKIE_TRIED_KEY] = browser_session.read()  # ended: not to be tried again
    browser_session.clear_later()


def restore_login() -> None:
    """Run first on every page run: check this tab's login session is still alive, or log the
    tab in from the browser's cookie (a reload, a link opened in a new tab, a scanned label)."""
    session_id = st.session_state.get(LOGIN_SESSION_KEY)
    if isinstance(session_id, int):
        with unit_of_work(operational_engine()) as db:
            alive = login_sessions.still_live(db, session_id, _lifetime())
        if not alive:
            _forget()
            st.session_state[SESSION_ENDED_KEY] = True
            st.session_state[COOKIE_TRIED_KEY] = browser_session.read()  # the same session's
            browser_session.clear_later()
        return
    if principal() is not None:
        return  # logged in without a login session (tests put a principal here themselves)
    token = browser_session.read()
    if token is None or st.session_state.get(COOKIE_TRIED_KEY) == token:
        return
    st.session_state[COOKIE_TRIED_KEY] = token
    with unit_of_work(operational_engine()) as db:
        resumed = login_sessions.resume(db, signing_key(settings()), token, _lifetime())
    if resumed is None:
        st.session_state[SESSION_ENDED_KEY] = True
        browser_session.clear_later()
        return
    _remember(resumed.principal, resumed.session_id)


def session_ended_notice() -> str | None:
    """Why the login page is shown, once, when a login session ended by itself."""
    if st.session_state.pop(SESSION_ENDED_KEY, None):
        return tr("session.ended")
    return None


def _language_changed() -> None:
    chosen = st.session_state[LANGUAGE_WIDGET_KEY]
    st.session_state[LANGUAGE_KEY] = chosen
    user = principal()
    if user is not None:
        with unit_of_work(operational_engine()) as db:
            set_language(db, user.user_id, chosen)


def language_switch() -> None:
    """The 中文 / English switch; a logged-in user's choice is remembered in their account."""
    current = language()
    if st.session_state.get(LANGUAGE_WIDGET_KEY) != current:
        st.session_state[LANGUAGE_WIDGET_KEY] = current
    st.radio(
        t("dashboards.language", current),
        options=list(LANGUAGES),
        format_func=LANGUAGE_NAMES.__getitem__,
        key=LANGUAGE_WIDGET_KEY,
        horizontal=True,
        on_change=_language_changed,
    )


def require(permission: Permission) -> Principal:
    """The logged-in user if they hold ``permission``; otherwise an error and the page stops.

    ``st.navigation`` already hides pages a user may not open; pages call this as well so that
    a page never relies on the menu alone.
    """
    user = principal()
    if user is None or not user.can(permission):
        st.error(t("auth.not_allowed", language()))
        st.stop()
    return user


def flash(message: str, *, ok: bool = True) -> None:
    """Keep the outcome of an action (run in a widget callback) for the page to show."""
    st.session_state["flash"] = (ok, message)


def show_flash() -> None:
    """Show, once, the outcome kept by :func:`flash`."""
    kept = st.session_state.pop("flash", None)
    if kept is not None:
        ok, message = kept
        (st.success if ok else st.error)(message)


@dataclass(frozen=True)
class Readers:
    """The published warehouse as one page's user may read it: every reader is already bound to
    the offices where the user holds the page's permission (``warehouse.scope``)."""

    scope: OfficeScope
    org: WarehouseReader
    sla: SlaReader
    energy: EnergyReader
    tower: TowerReader
    suppliers: SupplierReader


def readers(permission: Permission) -> Readers:
    """The warehouse readers of the logged-in user, bound to the offices where they hold
    ``permission`` — the one place the dashboards turn a user into an office scope, so a page
    never works it out itself. Stops the page (as :func:`require`) if the user lacks it."""
    user = require(permission)
    scope = OfficeScope.of(user.offices_for(permission))
    directory = settings().warehouse_dir
    return Readers(
        scope,
        WarehouseReader(directory, scope),
        SlaReader(directory, scope),
        EnergyReader(directory, scope),
        TowerReader(directory, scope),
        SupplierReader(directory, scope),
    )
