"""The browser session: who is logged in, which language they read, and the way to the stores.

Everything a page needs about the current session goes through here, so that pages stay short:
``tr()`` translates in the session's language, ``require()`` stops a page the user may not see,
``operational_engine()`` and ``settings()`` come from the ``PROPCLOUD_*`` environment variables.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy import Engine

from operational.auth import Permission, Principal, authenticate
from operational.db import engine_for, session_factory, unit_of_work
from operational.errors import DomainError
from operational.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from operational.services.users import set_language
from operational.settings import Settings, load_settings

PRINCIPAL_KEY = "principal"
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


def log_in(username: str, password: str) -> None:
    """Check the credentials and remember the user; raises :class:`DomainError` if refused.

    The attempt is committed whether it succeeds or not, so failures count towards the lock.
    """
    with session_factory(operational_engine())() as db:
        try:
            user = authenticate(db, username, password)
        finally:
            db.commit()
    st.session_state[PRINCIPAL_KEY] = user
    st.session_state[LANGUAGE_KEY] = user.language if user.language in LANGUAGES else language()


def log_out() -> None:
    """Forget the user; the language stays as it was for the login page."""
    st.session_state.pop(PRINCIPAL_KEY, None)


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
