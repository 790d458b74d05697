"""The HTTP route that gives the browser its HttpOnly login cookie (dashboards/server.py).

Called directly as an ASGI handler, as Starlette would: a page's script POSTs a login's
one-time nonce, which the route exchanges in the database for the token it puts in the cookie,
or sends DELETE to drop the cookie; anything else is refused. The page never holds the token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from dashboards import browser_session
from dashboards.browser_session import COOKIE
from operational.auth import hash_password
from operational.db import engine_for, unit_of_work
from operational.login_sessions import Lifetime, resume, sign, start
from operational.models import Role, RoleGrant, ScopeLevel, User, utcnow
from operational.models.people import LoginSession
from operational.settings import load_settings, signing_key
from tests.async_support import run_coroutine
from tests.db_support import migrated


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[bytes]:
    monkeypatch.setenv("PROPCLOUD_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("PROPCLOUD_SECRET_KEY", raising=False)
    monkeypatch.delenv("PROPCLOUD_WAREHOUSE_DIR", raising=False)
    monkeypatch.setenv("PROPCLOUD_BASE_URL", "http://propcloud.example")
    url = f"sqlite:///{tmp_path}/propcloud.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    migrated(url)
    yield signing_key(load_settings())


@pytest.fixture
def login(key: bytes) -> Callable[[], tuple[int, str]]:
    """Start a login session as the login form does: (its id, the nonce the page is given)."""
    settings = load_settings()
    engine = engine_for(settings.database_url)
    lifetime = Lifetime(settings.session_idle, settings.session_max_age)

    def start_one() -> tuple[int, str]:
        with unit_of_work(engine) as db:
            user = db.scalars(select(User).where(User.username == "zhang.wei")).one_or_none()
            if user is None:
                user = User(
                    username="zhang.wei",
                    display_name="张伟",
                    password_hash=hash_password("a-long-password"),
                    grants=[
                        RoleGrant(role=Role.HQ_VIEWER.value, scope_level=ScopeLevel.GROUP.value)
                    ],
                )
                db.add(user)
                db.flush()
            started = start(db, key, user.id, lifetime)
        return started.session_id, started.nonce

    return start_one


def cookie_token(response: Response) -> str:
    header = set_cookie(response)
    assert header.startswith(f"{COOKIE}=")
    return header.split(";")[0].split("=", 1)[1]


def call(
    method: str,
    body: str = "",
    *,
    headers: dict[str, str] | None = None,
    scheme: str = "http",
) -> Response:
    sent = {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501", **(headers or {})}
    if "X-Propcloud-Session" not in sent:
        sent["X-Propcloud-Session"] = "1"
    scope = {
        "type": "http",
        "method": method,
        "scheme": scheme,
        "path": "/_propcloud/session",
        "raw_path": b"/_propcloud/session",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items() if v],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body.encode(), "more_body": False}

    return run_coroutine(browser_session.session_cookie(Request(scope, receive)))


def set_cookie(response: Response) -> str:
    [header] = [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]
    return header


def test_a_logins_nonce_becomes_a_working_token_in_an_httponly_cookie(
    key: bytes, login: Callable[[], tuple[int, str]]
) -> None:
    session_id, nonce = login()
    response = call("POST", nonce)
    assert response.status_code == 204
    cookie = set_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert f"Max-Age={7 * 24 * 3600}" in cookie
    assert "Secure" not in cookie
    token = cookie_token(response)
    assert nonce not in token and token.startswith(f"{session_id}.")
    settings = load_settings()
    with unit_of_work(engine_for(settings.database_url)) as db:
        lifetime = Lifetime(settings.session_idle, settings.session_max_age)
        resumed = resume(db, key, token, lifetime)
    assert resumed is not None and resumed.principal.username == "zhang.wei"


def test_a_nonce_works_once_and_only_for_a_short_while(
    key: bytes, login: Callable[[], tuple[int, str]]
) -> None:
    _, nonce = login()
    assert call("POST", nonce).status_code == 204
    replayed = call("POST", nonce)  # a page script that kept the nonce gets nothing
    assert replayed.status_code == 400
    assert not [k for k, _ in replayed.raw_headers if k == b"set-cookie"]
    session_id, late = login()
    with unit_of_work(engine_for(load_settings().database_url)) as db:
        db.get_one(LoginSession, session_id).handover_until = utcnow() - timedelta(seconds=1)
    assert call("POST", late).status_code == 400


def test_over_https_the_cookie_is_secure(key: bytes, login: Callable[[], tuple[int, str]]) -> None:
    assert "Secure" in set_cookie(call("POST", login()[1], scheme="https"))
    behind_proxy = call("POST", login()[1], headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in set_cookie(behind_proxy)


def test_delete_drops_the_cookie(key: bytes) -> None:
    response = call("DELETE")
    assert response.status_code == 204
    cookie = set_cookie(response)
    assert cookie.startswith('propcloud_session="";') and "Max-Age=0" in cookie


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Propcloud-Session": "0"}, 403),  # not the page's own script
        ({"origin": "http://evil.example"}, 403),  # another site planting its login
        ({"origin": "http://propcloud.example", "host": "10.0.0.5:8501"}, 204),  # via a proxy
        ({"origin": ""}, 204),  # no Origin at all: the header alone decides
    ],
)
def test_only_the_sites_own_pages_may_set_the_cookie(
    key: bytes, login: Callable[[], tuple[int, str]], headers: dict[str, str], status: int
) -> None:
    response = call("POST", login()[1], headers=headers)
    assert response.status_code == status
    if status != 204:
        assert not [k for k, _ in response.raw_headers if k == b"set-cookie"]


@pytest.mark.parametrize("body", ["", "1.forged", "not a nonce", "1"])
def test_anything_but_a_logins_nonce_is_refused(
    key: bytes, login: Callable[[], tuple[int, str]], body: str
) -> None:
    login()  # session 1 exists, with a nonce nobody here knows
    response = call("POST", body)
    assert response.status_code == 400
    assert not [k for k, _ in response.raw_headers if k == b"set-cookie"]


def test_a_token_is_not_accepted_in_place_of_a_nonce(
    key: bytes, login: Callable[[], tuple[int, str]]
) -> None:
    session_id, _ = login()
    assert call("POST", sign(key, session_id, "a-random-secret")).status_code == 400
