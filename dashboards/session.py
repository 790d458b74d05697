"""The browser session: who is logged in, which language they read, and the way to the stores.

Everything a page needs about the current session goes through here, so that pages stay short:
``tr()`` translates in the session's language, ``require()`` stops a page the user may not see,
``operational_engine()`` and ``settings()`` come from the ``PROPCLOUD_*`` environment variables.

A login outlives the browser tab's connection: :func:`log_in` starts a login session
(``operational.login_sessions``) whose token the browser keeps in an HttpOnly cookie
(``dashboards.browser_session``), and :func:`restore_login`, run first on every page run, logs
a reloaded page or an opened link back in from that cookie — and logs out a page whose session
has ended meanwhile (logout elsewhere, disabled account, password reset, expiry).

The user's roles are read afresh from the database on every page run (one query,
``login_sessions.current``), so a role withdrawn by the administrator stops working at the next
click of a tab already open. The principal a page hands to a widget callback as an argument is
a :class:`SessionPrincipal`: its permission checks use the roles as of the run the callback
belongs to, so a service called from a button checks the fresh grants too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboards import browser_session
from dashboards.text import md
from operational import login_sessions
from operational.auth import Permission, Principal, authenticate
from operational.db import engine_for, session_factory, unit_of_work
from operational.errors import DomainError, FormRejected, Term, render
from operational.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from operational.models import Role
from operational.services.users import set_language
from operational.settings import Settings, load_settings, signing_key
from warehouse.queries import WarehouseReader
from warehouse.queries_energy import EnergyReader
from warehouse.queries_sla import SlaReader
from warehouse.queries_suppliers import SupplierReader
from warehouse.queries_tickets import TicketReader
from warehouse.queries_tower import TowerReader
from warehouse.scope import OfficeScope

PRINCIPAL_KEY = "principal"
FRESH_KEY = "principal_fresh"  # (this run's marker, user id, the principal as of this run)
LOGIN_SESSION_KEY = "login_session"  # id of the login session behind this browser tab
COOKIE_TRIED_KEY = "login_cookie_tried"  # the cookie value already tried in this tab
SESSION_ENDED_KEY = "login_session_ended"  # tell the login page why the user is logged out
LANGUAGE_KEY = "language"
LANGUAGE_WIDGET_KEY = "language_switch"
LANGUAGE_CHOSEN_KEY = "language_chosen_logged_out"  # switched on this tab's login page: it wins
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
    """A refusal in the session's language, for a Markdown element (``st.error``, a flash):
    its parameters — often what the user typed — are shown as text (``dashboards.text.md``)."""
    if isinstance(error, FormRejected) and len(error.problems) > 1:  # a heading, then each
        lines = [render(error.key, language(), _as_text(error.params))]
        lines += [f"- {render(p.key, language(), _as_text(p.params))}" for p in error.problems]
        return "\n".join(lines)
    return render(error.key, language(), _as_text(error.params))


def _as_text(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v if isinstance(v, Term) else md(v) for k, v in params.items()}


@dataclass(frozen=True)
class SessionPrincipal(Principal):
    """The logged-in user of a browser tab. Its permission checks use the user's roles as of
    the current page run (:func:`fresh_principal`), even when a page handed it to a widget
    callback during an earlier run: a withdrawn role or a disabled account is refused at once.
    """

    @classmethod
    def of(cls, user: Principal) -> SessionPrincipal:
        return cls(
            user.user_id,
            user.username,
            user.display_name,
            user.language,
            user.grants,
            supplier_id=user.supplier_id,
            supplier_code=user.supplier_code,
        )

    def offices_for(self, permission: Permission) -> frozenset[str] | None:
        current = fresh_principal(self.user_id)
        return current.offices_for(permission) if current is not None else frozenset()

    @property
    def roles(self) -> frozenset[Role]:
        current = fresh_principal(self.user_id)
        return current.roles if current is not None else frozenset()


def _this_run() -> object | None:
    """An object that is the same throughout one script run (its callbacks included) and new
    for the next: the run context's widget cursors, which Streamlit replaces on every run."""
    ctx = get_script_run_ctx()
    return ctx.cursors if ctx is not None else None


def _load_fresh(user_id: int, *, touch: bool) -> Principal | None:
    session_id = st.session_state.get(LOGIN_SESSION_KEY)
    engine = operational_engine()
    live_session = session_id if isinstance(session_id, int) else None
    if touch:
        with unit_of_work(engine) as db:
            return login_sessions.current(db, user_id, live_session, _lifetime())
    with session_factory(engine)() as db:  # read only: may run inside a service's transaction
        return login_sessions.current(db, user_id, live_session, _lifetime(), touch=False)


def fresh_principal(user_id: int, *, touch: bool = False) -> Principal | None:
    """User ``user_id`` as of this page run — roles read from the database once per run — or
    None if their login session has ended or the account is disabled."""
    marker = _this_run()
    kept = st.session_state.get(FRESH_KEY)
    if (
        not touch
        and marker is not None
        and isinstance(kept, tuple)
        and kept[0] is marker
        and kept[1] == user_id
    ):
        found: Principal | None = kept[2]
        return found
    found = _load_fresh(user_id, touch=touch)
    st.session_state[FRESH_KEY] = (marker, user_id, found)
    return found


def principal() -> Principal | None:
    found = st.session_state.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def _lifetime() -> login_sessions.Lifetime:
    current = settings()
    return login_sessions.Lifetime(current.session_idle, current.session_max_age)


def _remember(user: Principal, session_id: int) -> None:
    st.session_state[PRINCIPAL_KEY] = SessionPrincipal.of(user)
    st.session_state[FRESH_KEY] = (_this_run(), user.user_id, user)
    st.session_state[LOGIN_SESSION_KEY] = session_id
    st.session_state.pop(SESSION_ENDED_KEY, None)
    if st.session_state.pop(LANGUAGE_CHOSEN_KEY, False):  # chosen on the login page: kept, saved
        with unit_of_work(operational_engine()) as db:
            set_language(db, user.user_id, language())
    else:
        st.session_state[LANGUAGE_KEY] = user.language if user.language in LANGUAGES else language()


def _forget() -> None:
    st.session_state.pop(PRINCIPAL_KEY, None)
    st.session_state.pop(LOGIN_SESSION_KEY, None)
    st.session_state.pop(FRESH_KEY, None)


def log_in(username: str, password: str) -> None:
    """Check the credentials, start a login session and remember the user; raises
    :class:`DomainError` if refused.

    The attempt is committed whether it succeeds or not, so failures count towards the
    throttle of this name from this browser's address (``browser_session.client_address``).
    The page is given a one-time nonce that the cookie route exchanges for the session's
    token (``browser_session``): the token itself never reaches the page.
    """
    engine = operational_engine()
    with session_factory(engine)() as db:
        try:
            user = authenticate(db, username, password, source=browser_session.client_address())
        finally:
            db.commit()
    key = signing_key(settings())
    with unit_of_work(engine) as db:
        started = login_sessions.start(db, key, user.user_id, _lifetime())
    _remember(user, started.session_id)
    browser_session.store_later(started.nonce)


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
    """Run first on every page run: read the logged-in user afresh (their roles as of now; a
    login session that has ended or a disabled account logs the tab out), or log the tab in
    from the browser's cookie (a reload, a link opened in a new tab, a scanned label)."""
    session_id = st.session_state.get(LOGIN_SESSION_KEY)
    user = principal()
    if isinstance(user, SessionPrincipal):
        current = fresh_principal(user.user_id, touch=True)
        if current is not None:
            st.session_state[PRINCIPAL_KEY] = SessionPrincipal.of(current)
            return
        _forget()
        if isinstance(session_id, int):
            st.session_state[SESSION_ENDED_KEY] = True
            st.session_state[COOKIE_TRIED_KEY] = browser_session.read()  # the same session's
            browser_session.clear_later()
        return
    if user is not None:
        return  # a fixed principal put here by a test itself
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
    if user is None:
        st.session_state[LANGUAGE_CHOSEN_KEY] = True
    else:
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
    tickets: TicketReader


def readers(permission: Permission) -> Readers:
    """The warehouse readers of the logged-in user, bound to the offices where they hold
    ``permission`` — the one place the dashboards turn a user into an office scope, so a page
    never works it out itself. Stops the page (as :func:`require`) if the user lacks it."""
    user = require(permission)
    scope = OfficeScope.of(user.offices_for(permission), supplier=user.supplier_code)
    directory = settings().warehouse_dir
    return Readers(
        scope,
        WarehouseReader(directory, scope),
        SlaReader(directory, scope),
        EnergyReader(directory, scope),
        TowerReader(directory, scope),
        SupplierReader(directory, scope),
        TicketReader(directory, scope),
    )
