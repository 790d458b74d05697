"""The entry point: login, logout, language, and the menu each role is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from dashboards import browser_session
from operational.auth import FREE_FAILURES, UNKNOWN_SOURCE
from operational.db import unit_of_work
from operational.models import LoginFailure

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]


def texts(dash: Dashboard) -> str:
    """Every piece of text the run drew, for asserting on what a person would read."""
    app = dash.app
    parts = [e.value for e in (*app.title, *app.subheader, *app.caption, *app.markdown)]
    parts += [e.value for e in (*app.error, *app.info, *app.success)]
    parts += [w.label for w in (*app.text_input, *app.button, *app.radio)]
    return "\n".join(str(p) for p in parts)


def test_a_logged_out_visitor_sees_only_the_login_form_in_chinese(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    assert not dash.app.exception
    assert [w.label for w in dash.app.text_input] == ["用户名", "密码"]
    assert dash.app.button(key="login_submit").label == "登录"
    assert "运营驾驶舱" not in texts(dash)
    assert not dash.app.sidebar.button


def test_the_language_switch_on_the_login_page_changes_every_string(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.app.radio(key="language_switch").set_value("en").run()
    assert [w.label for w in dash.app.text_input] == ["User name", "Password"]
    assert "Sign in" in texts(dash)
    assert "登录" not in texts(dash)
    dash.app.radio(key="language_switch").set_value("zh_CN").run()
    assert "用户名" in texts(dash)


def failures(dash: Dashboard) -> list[tuple[str, str]]:
    with unit_of_work(dash.engine) as db:
        return [(f.username, f.source) for f in db.scalars(select(LoginFailure))]


def test_a_wrong_password_is_refused_and_counted(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq", "not-the-password")
    assert [e.value for e in dash.app.error] == ["用户名或密码错误。"]
    assert dash.app.text_input(key="login_password").value == ""
    assert failures(dash) == [("hq", UNKNOWN_SOURCE)]  # AppTest has no client address


@pytest.mark.parametrize("username", ["manager", "no.such.person"])
def test_repeated_failures_hold_back_this_browser_with_a_countdown(
    dashboard: MakeDashboard, username: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a name that exists and one that does not; another browser elsewhere is not
    held back."""
    monkeypatch.setattr(browser_session, "client_address", lambda: "198.51.100.7")
    dash = dashboard()
    dash.app.run()
    dash.app.radio(key="language_switch").set_value("en").run()
    for _ in range(FREE_FAILURES):
        dash.log_in(username, "wrong-password")
    dash.log_in(username)  # the right password (for the manager), but too soon
    [message] = [e.value for e in dash.app.error]
    assert message.startswith("Too many failed attempts. Try again in ")
    assert message.endswith(" seconds.")
    assert failures(dash) == [(username, "198.51.100.7")] * FREE_FAILURES
    monkeypatch.setattr(browser_session, "client_address", lambda: "10.1.1.7")
    if username == "manager":  # the manager at their own desk gets in
        elsewhere = dashboard()
        elsewhere.app.run()
        elsewhere.log_in("manager")
        assert not elsewhere.app.error
        assert elsewhere.app.title[0].value == "运营驾驶舱"


def test_hq_logs_in_to_the_control_tower_in_their_stored_language_and_logs_out(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    assert not dash.app.exception
    assert dash.app.title[0].value == "运营驾驶舱"
    assert "hq" in dash.app.sidebar.caption[0].value
    dash.app.sidebar.button[0].click().run()
    assert dash.app.button(key="login_submit").label == "登录"


def test_switching_language_after_login_is_saved_in_the_account(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    dash.app.radio(key="language_switch").set_value("en").run()
    assert dash.app.title[0].value == "Control tower"
    assert dash.app.sidebar.button[0].label == "Log out"
    assert dash.user("hq").language == "en"

    again = dashboard()  # a new browser session starts in the saved language
    again.app.run()
    again.log_in("hq")
    assert again.app.title[0].value == "Control tower"


def test_a_language_chosen_on_the_login_page_survives_the_login_and_is_saved(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    assert dash.user("hq").language == "zh_CN"
    dash.app.radio(key="language_switch").set_value("en").run()
    dash.log_in("hq")
    assert not dash.app.exception
    assert dash.app.title[0].value == "Control tower"
    assert dash.app.sidebar.button[0].label == "Log out"
    assert dash.user("hq").language == "en"

    again = dashboard()  # the next login, in another tab, starts in it
    again.app.run()
    again.log_in("hq")
    assert again.app.title[0].value == "Control tower"


def test_without_a_choice_on_the_login_page_each_account_gets_its_own_language(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    dash.app.radio(key="language_switch").set_value("en").run()  # saved in hq's account
    dash.app.sidebar.button[0].click().run()  # log out: the login page stays in English
    assert dash.app.button(key="login_submit").label == "Sign in"
    dash.log_in("manager")  # nothing chosen on this login page: the manager's Chinese
    assert dash.app.title[0].value == "运营驾驶舱"
    assert dash.user("manager").language == "zh_CN"
    assert dash.user("hq").language == "en"


@pytest.mark.parametrize(
    ("username", "sees_admin"),
    [("admin", True), ("hq", False), ("audit", False), ("manager", False), ("engineer", False)],
)
def test_the_admin_page_is_in_the_menu_only_for_group_admins(
    dashboard: MakeDashboard, username: str, sees_admin: bool
) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    assert not dash.app.exception
    if sees_admin:
        dash.app.switch_page("views/admin_users.py").run()
        assert dash.app.title[0].value == "用户与角色"
    else:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            dash.app.switch_page("views/admin_users.py")


def language_cookie_scripts(dash: Dashboard) -> list[str]:
    return [e.proto.body for e in dash.app.get("html") if "propcloud_lang" in e.proto.body]


def test_the_browser_is_told_the_language_for_streamlits_own_texts_on_each_change(
    dashboard: MakeDashboard,
) -> None:
    """The script that translates Streamlit's own texts reads the ``propcloud_lang`` cookie."""
    dash = dashboard()
    dash.app.run()
    [first] = language_cookie_scripts(dash)
    assert 'document.cookie = "propcloud_lang=zh_CN; path=/;' in first
    dash.app.run()
    assert language_cookie_scripts(dash) == []  # told once, not on every run
    dash.app.radio(key="language_switch").set_value("en").run()
    [switched] = language_cookie_scripts(dash)
    assert "propcloud_lang=en;" in switched
    dash.log_in("manager")  # chosen on the login page: stays English, nothing new to tell
    assert language_cookie_scripts(dash) == []


@pytest.mark.parametrize(
    ("peer", "headers", "source"),
    [
        (None, {}, "local"),  # served on this machine, no proxy
        (None, {"X-Forwarded-For": "198.51.100.7"}, "198.51.100.7"),  # behind the local proxy
        # a client's own X-Forwarded-For comes first; the proxy appends the real address
        (None, {"x-forwarded-for": "10.9.9.9, 198.51.100.7"}, "198.51.100.7"),
        (None, {"X-Real-IP": "2001:db8::1"}, "2001:db8::1"),
        (None, {"X-Forwarded-For": "not an address"}, "local"),
        ("203.0.113.5", {"X-Forwarded-For": "10.9.9.9"}, "203.0.113.5"),  # a remote peer: ignored
    ],
)
def test_the_throttles_source_is_the_address_the_proxy_saw(
    peer: str | None, headers: dict[str, str], source: str
) -> None:
    assert browser_session.source_of(peer, headers) == source
