"""The HTTP route that gives the browser its HttpOnly login cookie (dashboards/server.py).

Called directly as an ASGI handler, as Starlette would: a page's script POSTs a token to keep
it or sends DELETE to drop it; anything else is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from dashboards import browser_session
from operational.login_sessions import sign
from operational.settings import load_settings, signing_key


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[bytes]:
    monkeypatch.setenv("PROPCLOUD_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("PROPCLOUD_SECRET_KEY", raising=False)
    monkeypatch.delenv("PROPCLOUD_WAREHOUSE_DIR", raising=False)
    monkeypatch.setenv("PROPCLOUD_BASE_URL", "http://propcloud.example")
    yield signing_key(load_settings())


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

    return asyncio.run(browser_session.session_cookie(Request(scope, receive)))


def set_cookie(response: Response) -> str:
    [header] = [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]
    return header


def test_a_genuine_token_is_kept_in_an_httponly_cookie_for_the_sessions_longest_life(
    key: bytes,
) -> None:
    token = sign(key, 7, "a-random-secret")
    response = call("POST", token)
    assert response.status_code == 204
    cookie = set_cookie(response)
    assert cookie.startswith(f"propcloud_session={token};")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert f"Max-Age={7 * 24 * 3600}" in cookie
    assert "Secure" not in cookie


def test_over_https_the_cookie_is_secure(key: bytes) -> None:
    token = sign(key, 7, "a-random-secret")
    assert "Secure" in set_cookie(call("POST", token, scheme="https"))
    behind_proxy = call("POST", token, headers={"X-Forwarded-Proto": "https"})
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
    key: bytes, headers: dict[str, str], status: int
) -> None:
    response = call("POST", sign(key, 7, "a-random-secret"), headers=headers)
    assert response.status_code == status
    if status != 204:
        assert not [k for k, _ in response.raw_headers if k == b"set-cookie"]


@pytest.mark.parametrize("token", ["", "7.secret.forged", "not a token"])
def test_a_token_that_is_not_genuine_is_not_kept(key: bytes, token: str) -> None:
    response = call("POST", token)
    assert response.status_code == 400
    assert not [k for k, _ in response.raw_headers if k == b"set-cookie"]


def test_a_token_signed_with_another_key_is_not_kept(key: bytes) -> None:
    assert call("POST", sign(b"x" * 48, 7, "a-random-secret")).status_code == 400
