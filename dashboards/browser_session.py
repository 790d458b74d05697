"""The login cookie: how a browser keeps its login session across reloads and scanned links.

The token (``operational.login_sessions``) lives in an **HttpOnly** cookie, so no script on the
page can read it. Streamlit reads cookies (``st.context.cookies``, from the request that opened
the page's connection) but cannot set them, so the dashboards are served through ``st.App``
(``dashboards/server.py``) with one extra HTTP route, ``/_propcloud/session``:

- after a login the page runs a one-line script that POSTs the login's **one-time nonce**
  there (never the token: no script on the page ever holds it); the route exchanges the nonce
  in the database (``login_sessions.exchange``: once, within two minutes, for a session still
  alive — so it works whichever of the app's processes answers) and answers with
  ``Set-Cookie`` carrying the token (HttpOnly, SameSite=Lax, Secure when served over HTTPS,
  Max-Age = the sessions' longest life);
- after a logout the script sends DELETE there and the route clears the cookie.

The route refuses requests without the ``X-Propcloud-Session`` header or from another origin,
so another site cannot plant its own login in a user's browser. The server never trusts the
cookie alone: every use goes through ``login_sessions.resume`` against the database.

Served by plain ``streamlit run dashboards/app.py`` the route does not exist: logins work as
before but last only as long as the browser tab's connection.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from urllib.parse import urlsplit

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from streamlit import config

from operational import login_sessions
from operational.auth import UNKNOWN_SOURCE
from operational.db import engine_for, unit_of_work
from operational.settings import Settings, load_settings, signing_key

COOKIE = "propcloud_session"
ROUTE = "_propcloud/session"
HEADER = "X-Propcloud-Session"
PENDING_KEY = "session_cookie_pending"  # ("store", nonce) or ("clear", ""): done in this run


def _base_path() -> str:
    """``/`` or ``/<server.baseUrlPath>/``."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def route_path() -> str:
    return f"{_base_path()}{ROUTE}"


def read() -> str | None:
    """The token the browser sent when this page connected, if any."""
    try:
        value = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):  # no browser behind this run (a bare script run)
        return None
    return value if isinstance(value, str) and value else None


def client_address() -> str:
    """Where this browser session connects from, for the login throttle.

    The address of the WebSocket's peer (``st.context.ip_address``; Streamlit gives None for
    a peer on this machine). A peer on this machine is taken to be the reverse proxy
    (docs/operations.md), so the client is the **last** address of its ``X-Forwarded-For``
    (the one the proxy appended; the ones before it are whatever the client sent), else its
    ``X-Real-IP``. A remote peer's forwarding headers are ignored: anyone could write them.
    """
    try:
        peer = st.context.ip_address
        headers = dict(st.context.headers)
    except (AttributeError, RuntimeError, KeyError):  # no browser behind this run
        return UNKNOWN_SOURCE
    return source_of(peer, headers)


def source_of(peer: str | None, headers: Mapping[str, str]) -> str:
    """:func:`client_address` for a peer (None: this machine) and its request headers."""
    if peer:
        return _address(peer) or UNKNOWN_SOURCE
    lower = {name.lower(): value for name, value in headers.items()}
    forwarded = [part.strip() for part in lower.get("x-forwarded-for", "").split(",")]
    for candidate in (forwarded[-1], lower.get("x-real-ip", "")):
        found = _address(candidate)
        if found:
            return found
    return "local"


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def store_later(nonce: str) -> None:
    """Have the browser exchange the login's one-time ``nonce`` for its cookie (done by
    :func:`apply_pending` in this run)."""
    st.session_state[PENDING_KEY] = ("store", nonce)


def clear_later() -> None:
    """Have the browser drop its cookie (done by :func:`apply_pending` in this run)."""
    st.session_state[PENDING_KEY] = ("clear", "")


def _script(method: str, body: str | None) -> str:
    options: dict[str, object] = {
        "method": method,
        "headers": {HEADER: "1", "Content-Type": "text/plain"},
        "credentials": "same-origin",
        "cache": "no-store",
    }
    if body is not None:
        options["body"] = body
    # json.dumps of our own path and nonce (URL-safe characters only): nothing of a user's.
    return (
        f"<script>fetch({json.dumps(route_path())}, {json.dumps(options)})"
        ".catch(function () {});</script>"
    )


def apply_pending() -> None:
    """Send the browser the script that stores or clears the cookie, once."""
    pending = st.session_state.pop(PENDING_KEY, None)
    if not pending:
        return
    action, nonce = pending
    script = _script("POST", nonce) if action == "store" else _script("DELETE", None)
    st.html(script, width="content", unsafe_allow_javascript=True)


# ---------------------------------------------------------------- the HTTP route (server side)


def _secure(request: Request, settings: Settings) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        request.url.scheme == "https"
        or forwarded.split(",")[0].strip() == "https"
        or settings.base_url.startswith("https:")
    )


def _same_origin(request: Request, settings: Settings) -> bool:
    """Whether the call comes from a page of this site: its Origin names this server as the
    browser reached it (``Host``, a proxy's ``X-Forwarded-Host``, or ``PROPCLOUD_BASE_URL``)."""
    origin = request.headers.get("origin")
    if origin is None:  # browsers send Origin with every POST and DELETE from a script
        return True
    ours = {
        request.headers.get("host", ""),
        request.headers.get("x-forwarded-host", "").split(",")[0].strip(),
        urlsplit(settings.base_url).netloc,
    }
    return urlsplit(origin).netloc in ours - {""}


def _exchange(settings: Settings, nonce: str) -> str | None:
    lifetime = login_sessions.Lifetime(settings.session_idle, settings.session_max_age)
    with unit_of_work(engine_for(settings.database_url)) as db:
        return login_sessions.exchange(db, signing_key(settings), nonce, lifetime)


async def session_cookie(request: Request) -> Response:
    """``POST`` a login's one-time nonce: keep its session's token in the HttpOnly cookie.
    ``DELETE``: drop the cookie."""
    settings = load_settings()
    if request.headers.get(HEADER) != "1" or not _same_origin(request, settings):
        return Response(status_code=403)
    secure = _secure(request, settings)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if request.method == "DELETE":
        response.delete_cookie(
            COOKIE, path=_base_path(), secure=secure, httponly=True, samesite="lax"
        )
        return response
    nonce = (await request.body()).decode("ascii", errors="replace").strip()
    token = await run_in_threadpool(_exchange, settings, nonce)
    if token is None:
        return Response(status_code=400)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.session_max_age.total_seconds()),
        path=_base_path(),
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return response


def routes() -> list[BaseRoute]:
    """The extra route ``dashboards/server.py`` serves beside Streamlit's own."""
    return [Route(route_path(), session_cookie, methods=["POST", "DELETE"])]
