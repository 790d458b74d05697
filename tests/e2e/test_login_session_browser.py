"""In real Chromium: a login survives a reload and opened links, and a logout ends it.

A supervisor scans a label (a deep link) while logged out, logs in and lands on the labelled
object; reloads; opens other labels' links in new tabs; logs out; reloads and sees the login.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

from operational.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

COOKIE = "propcloud_session"
CARD = "/object?code=EL-1&office=SH001"
READING = "/reading?point=SH001-E-B1-LIFT"
ORDER = "/orders?order=PM-SH001-000065"


def is_cookie_call(method: str) -> Callable[[Response], bool]:
    """The response of the page's call that stores (POST) or drops (DELETE) the cookie."""
    return lambda r: r.url.endswith("/_propcloud/session") and r.request.method == method


def session_cookie(context: BrowserContext) -> dict[str, object] | None:
    found = [dict(c) for c in context.cookies() if c["name"] == COOKIE]
    return found[0] if found else None


def log_in_here(page: Page, username: str) -> str:
    """Fill in the login form shown at the current address; wait for the cookie to be set.
    What the page's script sent (the login's one-time nonce)."""
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    with page.expect_response(is_cookie_call("POST")) as stored:
        page.get_by_role("button", name="登录", exact=True).click()
    assert stored.value.status == 204
    return stored.value.request.post_data or ""


def logged_in_as(page: Page, username: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name="退出登录")).to_be_visible()
    expect(sidebar.get_by_text(f"（{username}）")).to_be_visible()
    expect(page.get_by_role("button", name="登录", exact=True)).to_have_count(0)


def test_a_login_survives_reloads_and_links_until_logout(page: Page) -> None:
    # a scanned label, opened while logged out: the login form at the label's address
    page.goto(CARD)
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    sent = log_in_here(page, "engineer")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="1号电梯")).to_be_visible()
    assert "code=EL-1" in page.url and "office=SH001" in page.url
    logged_in_as(page, "engineer")

    cookie = session_cookie(page.context)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert COOKIE not in page.evaluate("document.cookie")  # no script on the page can read it
    # the page only ever held a one-time nonce, not the token the cookie carries
    assert sent and sent not in str(cookie["value"])
    assert str(cookie["value"]) not in page.content()

    page.reload()  # F5
    expect(main.get_by_role("heading", name="1号电梯")).to_be_visible()
    logged_in_as(page, "engineer")

    # other labels' links, opened in new tabs of the same browser
    tab = page.context.new_page()
    tab.goto(READING)
    expect(tab.get_by_role("heading", name="抄表")).to_be_visible()
    expect(tab.get_by_test_id("stMain").get_by_text("SH001-E-B1-LIFT").first).to_be_visible()
    logged_in_as(tab, "engineer")
    tab.goto(ORDER)
    expect(tab.get_by_role("heading", name="工单")).to_be_visible()
    expect(tab.get_by_role("heading", name=re.compile("^PM-SH001-000065 · "))).to_be_visible()
    logged_in_as(tab, "engineer")
    tab.close()

    with page.expect_response(is_cookie_call("DELETE")) as dropped:
        page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
    assert dropped.value.status == 204
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    assert session_cookie(page.context) is None

    page.reload()
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录")).to_have_count(0)


def test_an_old_cookie_after_logout_opens_nothing(page: Page) -> None:
    page.goto("/")
    log_in_here(page, "manager")
    logged_in_as(page, "manager")
    [kept] = [c for c in page.context.cookies() if c["name"] == COOKIE]
    with page.expect_response(is_cookie_call("DELETE")):
        page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()

    page.context.add_cookies([kept])  # a copy of the cookie kept from before the logout
    page.goto(READING)
    expect(page.get_by_text("您的登录已结束，请重新登录。")).to_be_visible()
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
