"""The users-and-roles page: every change through the user services, messages translated."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from conftest import shown
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from streamlit.testing.v1 import AppTest

from dashboards.navigation import HERE
from operational.auth import Permission, authenticate
from operational.db import unit_of_work
from operational.models import AuditEntry, User

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]


def open_admin_page(dashboard: MakeDashboard, language: str = "zh_CN") -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in("admin")
    dash.app.radio(key="language_switch").set_value(language).run()
    dash.app.switch_page("views/admin_users.py").run()
    assert not dash.app.exception
    return dash


@pytest.fixture
def admin(dashboard: MakeDashboard) -> Dashboard:
    return open_admin_page(dashboard)


def roles_of(dash: Dashboard, username: str) -> list[str]:
    with unit_of_work(dash.engine) as session:
        user = session.scalars(
            select(User).where(User.username == username).options(selectinload(User.grants))
        ).one()
        return sorted(f"{g.role}@{g.scope_level}" for g in user.grants)


def test_the_user_list_shows_translated_roles_and_scopes(admin: Dashboard) -> None:
    [table] = admin.app.dataframe
    rows = table.value.set_index("用户名")
    assert {"admin", "audit", "city.audit", "engineer", "hq", "manager"} <= set(rows.index)
    assert list(rows.index) == sorted(rows.index)
    assert rows.loc["hq", "角色"] == "总部查看者 · 全集团"
    assert "(SH001)" in rows.loc["manager", "角色"]
    assert "上海城市公司 (SH)" in rows.loc["city.audit", "角色"]
    assert rows.loc["manager", "启用"] == "是"
    assert admin.app.download_button[0].label == "导出 Excel"


def test_adding_a_user_with_an_office_role(admin: Dashboard) -> None:
    app = admin.app
    app.segmented_control(key="new_level").set_value("office").run()
    app.text_input(key="new_username").input("wang.fang")
    app.text_input(key="new_display_name").input("王芳")
    app.text_input(key="new_password").input("secret-pass-1")
    app.selectbox(key="new_role").set_value("cs_supervisor")
    app.selectbox(key="new_code").set_value("BJ002")
    app.button(key="add_user_submit").click().run()

    assert [shown(s.value) for s in app.success] == ["已新增用户 wang.fang。"]
    assert "wang.fang" in app.dataframe[0].value["用户名"].tolist()
    assert app.text_input(key="new_username").value == ""
    assert roles_of(admin, "wang.fang") == ["cs_supervisor@office"]
    with unit_of_work(admin.engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_key == "wang.fang")
        ).one()
        assert entry.actor == "admin"
        principal = authenticate(session, "wang.fang", "secret-pass-1")
        assert principal.offices_for(Permission.VIEW_OVERVIEW) == frozenset({"BJ002"})


def test_a_refused_user_shows_the_reason_in_the_users_language(dashboard: MakeDashboard) -> None:
    app = open_admin_page(dashboard, "en").app
    app.segmented_control(key="new_level").set_value("group").run()
    app.text_input(key="new_username").input("hq")
    app.text_input(key="new_display_name").input("Someone")
    app.text_input(key="new_password").input("secret-pass-1")
    app.button(key="add_user_submit").click().run()
    assert [e.value for e in app.error] == ["The user name hq is taken."]
    assert app.text_input(key="new_username").value == "hq"  # kept for correcting

    app.text_input(key="new_username").input("li.na")
    app.text_input(key="new_password").input("short")
    app.button(key="add_user_submit").click().run()
    assert [e.value for e in app.error] == ["The password must have at least 8 characters."]


def test_changing_roles_disabling_and_resetting_a_password(admin: Dashboard) -> None:
    app = admin.app
    app.selectbox(key="edit_user").set_value("manager").run()

    app.selectbox(key="extra_role").set_value("city_audit_manager")
    app.segmented_control(key="extra_level").set_value("city").run()
    app.selectbox(key="extra_code").set_value("BJ")
    app.button(key="add_role").click().run()
    assert [s.value for s in app.success] == ["已保存 manager 的角色。"]
    assert roles_of(admin, "manager") == ["city_audit_manager@city", "office_manager@office"]

    [keep] = app.multiselect
    office_role = next(g for g in keep.value if g.scope_code == "SH001")
    keep.unselect(office_role).run()
    app.button(key="save_roles").click().run()
    assert roles_of(admin, "manager") == ["city_audit_manager@city"]

    app.button(key="toggle_active").click().run()
    assert [s.value for s in app.success] == ["已停用账号 manager。"]
    assert admin.user("manager").is_active is False
    assert app.button(key="toggle_active").label == "启用账号"
    app.button(key="toggle_active").click().run()
    assert admin.user("manager").is_active is True

    app.text_input(key="reset_password").input("brand-new-pass")
    app.button(key="reset_submit").click().run()
    assert [s.value for s in app.success] == ["已为 manager 设置新密码，登录锁定已解除。"]
    with unit_of_work(admin.engine) as session:
        assert authenticate(session, "manager", "brand-new-pass").username == "manager"


def test_an_admin_cannot_disable_themselves(admin: Dashboard) -> None:
    app = admin.app
    app.selectbox(key="edit_user").set_value("admin").run()
    app.button(key="toggle_active").click().run()
    assert [e.value for e in app.error] == ["不能停用自己的账号。"]
    assert admin.user("admin").is_active is True


def test_the_page_refuses_a_user_without_the_right(dashboard: MakeDashboard) -> None:
    """Defence in depth: run directly, the page shows nothing to an HQ viewer."""
    dash = dashboard()
    dash.app.run()
    dash.log_in("hq")
    page = AppTest.from_file(str(HERE / "views" / "admin_users.py"), default_timeout=30)
    page.session_state["principal"] = dash.app.session_state["principal"]
    page.run()
    assert [e.value for e in page.error] == ["您的角色无权执行此操作。"]
    assert not page.dataframe
    assert not page.text_input


def test_the_admin_clears_a_names_failed_logins(admin: Dashboard) -> None:
    from datetime import UTC, datetime

    from operational.auth import FREE_FAILURES
    from operational.errors import DomainError

    now = datetime.now(UTC)
    for _ in range(FREE_FAILURES):
        with unit_of_work(admin.engine) as session, pytest.raises(DomainError):
            authenticate(session, "manager", "wrong-password", now, source="198.51.100.7")
    app = admin.app
    app.selectbox(key="edit_user").set_value("manager").run()
    app.button(key="unlock_logins").click().run()
    assert [shown(s.value) for s in app.success] == [
        f"已清除 manager 的登录失败记录（{FREE_FAILURES} 条）。"
    ]
    with unit_of_work(admin.engine) as session:
        principal = authenticate(session, "manager", "propcloud", now, source="198.51.100.7")
    assert principal.username == "manager"
