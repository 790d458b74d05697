"""Staying logged in: the login's cookie, a reload that keeps the user, a logout that ends it.

``AppTest`` has no browser to keep cookies, so the tests read the script the page sends the
browser (the one-time nonce it would POST), exchange it as the cookie route does
(``login_sessions.exchange``) and hand the token back as the cookie of a new browser session
(``browser_session.read``). tests/e2e/test_login_session_browser.py does the same in real
Chromium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboards import browser_session
from operational.auth import system_principal
from operational.db import unit_of_work
from operational.login_sessions import Lifetime, exchange, verify
from operational.models.people import LoginSession
from operational.services.users import set_active, set_password
from operational.settings import load_settings, signing_key

CLI = system_principal("cli")

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

ORDERS = "views/orders.py"


def scripts(app: AppTest) -> list[str]:
    """The bodies of the login-cookie scripts this run sent (main area and sidebar)."""
    return [e.proto.body for e in app.get("html") if "_propcloud/session" in e.proto.body]


def sent_nonce(app: AppTest) -> str:
    """What the page's script POSTs to the cookie route (the login's one-time nonce)."""
    [script] = [s for s in scripts(app) if '"POST"' in s]
    found = re.search(r"fetch\((\".*?\"), (\{.*\})\)\.catch", script)
    assert found, script
    assert json.loads(found.group(1)) == "/_propcloud/session"
    options = json.loads(found.group(2))
    assert options["headers"]["X-Propcloud-Session"] == "1"
    body: str = options["body"]
    return body


def exchanged(dash: Dashboard, nonce: str) -> str | None:
    """What the cookie route puts in the cookie for ``nonce`` (None: it refuses)."""
    settings = load_settings()
    lifetime = Lifetime(settings.session_idle, settings.session_max_age)
    with unit_of_work(dash.engine) as db:
        return exchange(db, signing_key(settings), nonce, lifetime)


def kept_token(dash: Dashboard) -> str:
    """The token the browser keeps after the login: the page's nonce, exchanged by the route."""
    token = exchanged(dash, sent_nonce(dash.app))
    assert token is not None
    return token


@pytest.fixture
def cookie(monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    """Set the cookie the next browser sessions send when they connect."""

    def send(token: str | None) -> None:
        monkeypatch.setattr(browser_session, "read", lambda: token)

    send(None)
    return send


def logged_in(dashboard: MakeDashboard, username: str) -> tuple[Dashboard, str]:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    assert not dash.app.exception
    return dash, kept_token(dash)


def reloaded(dashboard: MakeDashboard) -> AppTest:
    """A new browser session (a reload, a link opened in another tab) on the same site."""
    app = dashboard().app.run()
    assert not app.exception
    return app


def test_a_login_hands_the_page_only_a_one_time_nonce(
    dashboard: MakeDashboard, cookie: Callable[[str | None], None]
) -> None:
    """The page's script carries a nonce that the cookie route exchanges once; the token that
    logs the browser in exists only in the route's answer, never on the page."""
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    nonce = sent_nonce(dash.app)
    key = signing_key(load_settings())
    assert verify(key, nonce) is None  # not a token: useless as a cookie
    cookie(nonce)
    assert reloaded(dashboard).button(key="login_submit").label == "登录"
    token = exchanged(dash, nonce)
    assert token is not None and nonce.split(".")[1] not in token
    assert exchanged(dash, nonce) is None  # once only
    cookie(token)
    assert reloaded(dashboard).title[0].value == "运营驾驶舱"


def test_a_login_hands_the_browser_a_token_once(
    dashboard: MakeDashboard, cookie: Callable[[str | None], None]
) -> None:
    dash, token = logged_in(dashboard, "hq")
    assert dash.app.title[0].value == "运营驾驶舱"
    with unit_of_work(dash.engine) as db:
        [row] = db.scalars(select(LoginSession)).all()
        assert row.ended_at is None and row.user_id == dash.user("hq").id
    assert token.startswith(f"{row.id}.")
    dash.app.run()  # the next run sends no token again
    assert scripts(dash.app) == []


def test_a_reload_with_the_cookie_stays_logged_in_in_the_users_language(
    dashboard: MakeDashboard, cookie: Callable[[str | None], None]
) -> None:
    dash, token = logged_in(dashboard, "hq")
    dash.app.radio(key="language_switch").set_value("en").run()
    cookie(token)
    app = reloaded(dashboard)
    assert app.title[0].value == "Control tower"
    assert "hq" in app.sidebar.caption[0].value
    assert not app.text_input  # no login form
    assert scripts(app) == []  # the cookie is already there


def test_logout_ends_the_session_and_drops_the_cookie(
    dashboard: MakeDashboard, cookie: Callable[[str | None], None]
) -> None:
    _, token = logged_in(dashboard, "manager")
    cookie(token)
    app = reloaded(dashboard)
    app.sidebar.button[0].click().run()  # 退出登录
    assert app.button(key="login_submit").label == "登录"
    assert [s for s in scripts(app) if '"DELETE"' in s]
    assert not app.info  # a logout is not an "ended" session
    # the old cookie, had the browser kept it, opens nothing any more
    again = reloaded(dashboard)
    assert again.button(key="login_submit").label == "登录"
    assert [i.value for i in again.info] == ["您的登录已结束，请重新登录。"]
    assert [s for s in scripts(again) if '"DELETE"' in s]


def test_a_forged_cookie_shows_the_login_form(
    dashboard: MakeDashboard, cookie: Callable[[str | None], None]
) -> None:
    _, token = logged_in(dashboard, "hq")
    session_id, secret, _signature = token.split(".")
    cookie(f"{session_id}.{secret}.forged")
    app = reloaded(dashboard)
    assert app.button(key="login_submit").label == "登录"
    assert [i.value for i in app.info] == ["您的登录已结束，请重新登录。"]


@pytest.mark.parametrize("change", ["disable", "password"])
def test_a_disabled_account_or_a_new_password_logs_every_tab_out(
    dashboard: MakeDashboard, cookie: Callable[[str | None], None], change: str
) -> None:
    dash, token = logged_in(dashboard, "manager")
    cookie(token)
    open_tab = reloaded(dashboard)
    assert open_tab.title[0].value == "运营驾驶舱"
    with unit_of_work(dash.engine) as db:
        if change == "disable":
            set_active(db, CLI, "manager", False)
        else:
            set_password(db, CLI, "manager", "a-brand-new-password")
    open_tab.run()  # the next click in a tab that is already open
    assert open_tab.button(key="login_submit").label == "登录"
    assert [i.value for i in open_tab.info] == ["您的登录已结束，请重新登录。"]
    assert reloaded(dashboard).button(key="login_submit").label == "登录"


def test_the_session_lifetime_comes_from_the_settings(
    dashboard: MakeDashboard,
    cookie: Callable[[str | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dash, token = logged_in(dashboard, "hq")
    with unit_of_work(dash.engine) as db:
        row = db.scalars(select(LoginSession)).one()
        row.last_seen_at -= timedelta(hours=2)
        row.created_at = row.last_seen_at
    cookie(token)
    monkeypatch.setenv("PROPCLOUD_SESSION_IDLE_HOURS", "1")  # two hours idle: too long
    assert reloaded(dashboard).button(key="login_submit").label == "登录"
    monkeypatch.setenv("PROPCLOUD_SESSION_IDLE_HOURS", "3")  # within the limit
    assert reloaded(dashboard).title[0].value == "运营驾驶舱"


# ---------------------------------------------------------------- raising orders


@pytest.mark.parametrize(
    ("username", "raises"), [("engineer", True), ("hq", False), ("audit", False), ("admin", False)]
)
def test_only_office_staff_see_the_raise_order_tab(
    dashboard: MakeDashboard, username: str, raises: bool
) -> None:
    dash, _ = logged_in(dashboard, username)
    app = dash.app.switch_page(ORDERS).run()
    assert not app.exception
    assert [t.label for t in app.tabs] == ["打开工单", "新建整改工单"][: 2 if raises else 1]
    if raises:
        assert app.selectbox(key="raise_office").options == ["SH001 上海丽都公馆管理处"]
    else:
        with pytest.raises(KeyError):
            app.selectbox(key="raise_office")
        # HQ still opens any order to read it, with no step to take
        app.text_input(key="order_no").input("PM-SH001-000065").run()
        assert not app.warning
        assert [i.value for i in app.info] == ["此工单目前没有需要您处理的步骤。"]
