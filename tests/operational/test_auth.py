"""Logins, throttling after failures, role scopes and user administration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from operational.auth import (
    ROLE_PERMISSIONS,
    Grant,
    Permission,
    Principal,
    authenticate,
    lock_duration,
    system_principal,
)
from operational.demo import DemoOptions, load_demo
from operational.errors import DomainError, PermissionDenied
from operational.models import AuditEntry, Role, ScopeLevel, User, utcnow
from operational.services.users import GrantSpec, add_user, list_users, set_active, set_grants

CLI = system_principal("cli")


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo(session, DemoOptions(offices=8, days=0, seed=1, now=utcnow()))
    return session


def test_demo_logins_see_their_scope(demo: Session) -> None:
    hq = authenticate(demo, "hq", "propcloud")
    manager = authenticate(demo, "manager", "propcloud")
    city = authenticate(demo, "city.audit", "propcloud")
    assert hq.offices_for(Permission.VIEW_OVERVIEW) is None  # the whole group
    assert manager.offices_for(Permission.VIEW_OVERVIEW) == {"SH001"}
    city_offices = city.offices_for(Permission.VIEW_OVERVIEW)
    assert city_offices is not None and {o[:2] for o in city_offices} == {"SH"}
    assert len(city_offices) > 1
    assert not hq.can(Permission.MANAGE_USERS)
    assert authenticate(demo, "admin", "propcloud").can(Permission.MANAGE_USERS)


def test_wrong_password_and_unknown_user_give_the_same_message(demo: Session) -> None:
    for username, password in [("hq", "wrong-password"), ("nobody", "propcloud")]:
        with pytest.raises(DomainError) as caught:
            authenticate(demo, username, password)
        assert caught.value.message("en") == "Wrong user name or password."


def test_repeated_failures_lock_the_account_for_a_growing_while(demo: Session) -> None:
    now = utcnow()
    for _ in range(5):
        with pytest.raises(DomainError):
            authenticate(demo, "hq", "bad-password", now)
    with pytest.raises(DomainError) as caught:
        authenticate(demo, "hq", "propcloud", now + timedelta(seconds=5))
    assert caught.value.key == "auth.locked"
    assert "秒后再试" in caught.value.message("zh_CN")
    # after the pause the right password works again and clears the counter
    principal = authenticate(demo, "hq", "propcloud", now + timedelta(seconds=31))
    assert principal.username == "hq"
    user = demo.scalars(select(User).where(User.username == "hq")).one()
    assert user.failed_logins == 0
    assert lock_duration(4) == timedelta(0)
    assert lock_duration(6) == timedelta(seconds=60)
    assert lock_duration(50) == timedelta(minutes=15)


def test_every_login_attempt_and_logout_is_audited(demo: Session) -> None:
    """Internal audit sees who got in, who was refused and why, and who logged out."""
    from operational import login_sessions

    now = utcnow()
    principal = authenticate(demo, "hq", "propcloud", now)
    for _ in range(5):
        with pytest.raises(DomainError):
            authenticate(demo, "manager", "wrong-password", now)
    with pytest.raises(DomainError):
        authenticate(demo, "manager", "propcloud", now + timedelta(seconds=1))
    with pytest.raises(DomainError):
        authenticate(demo, " nobody ", "propcloud", now)
    started = login_sessions.start(
        demo,
        b"k" * 32,
        principal.user_id,
        login_sessions.Lifetime(timedelta(hours=1), timedelta(days=1)),
    )
    login_sessions.end(demo, started.session_id)
    login_sessions.end(demo, started.session_id)  # already ended: nothing more to record
    entries = demo.scalars(
        select(AuditEntry).where(AuditEntry.entity == "login").order_by(AuditEntry.id)
    ).all()
    assert [(e.entity_key, e.action, e.after["reason"]) for e in entries[:1]] == [
        ("hq", "login", "password")
    ]
    assert [e.action for e in entries[1:6]] == ["login_failed"] * 5
    assert [e.after["failed_logins"] for e in entries[1:6]] == [1, 2, 3, 4, 5]
    assert "locked_until" in entries[5].after and "wrong-password" not in str(entries[5].after)
    assert (entries[6].action, entries[6].after["reason"]) == ("login_refused", "locked")
    assert (entries[7].entity_key, entries[7].after["reason"]) == ("nobody", "unknown_user")
    assert [(e.entity_key, e.action) for e in entries[8:]] == [("hq", "logout")]


def test_a_disabled_user_cannot_log_in(demo: Session) -> None:
    set_active(demo, system_principal("cli"), "engineer", False)
    with pytest.raises(DomainError):
        authenticate(demo, "engineer", "propcloud")


def test_admin_manages_users_and_every_change_is_audited(demo: Session) -> None:
    admin = authenticate(demo, "admin", "propcloud")
    view = add_user(
        demo,
        admin,
        username="li.na",
        display_name="李娜",
        password="a-long-password",
        grants=[GrantSpec(Role.OFFICE_MANAGER, ScopeLevel.OFFICE, "SH002")],
    )
    assert view.grants[0].label() == "office_manager@office:SH002"
    set_grants(demo, admin, "li.na", [GrantSpec(Role.CITY_AUDIT_MANAGER, ScopeLevel.CITY, "BJ")])
    lina = authenticate(demo, "li.na", "a-long-password")
    offices = lina.offices_for(Permission.VIEW_OVERVIEW)
    assert offices is not None and all(code.startswith("BJ") for code in offices)
    entries = demo.scalars(
        select(AuditEntry).where(AuditEntry.entity_key == "li.na", AuditEntry.entity == "auth_user")
    ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before == {"roles": ["office_manager@office:SH002"]}
    assert all("password" not in str(e.after) for e in entries)
    assert "li.na" in {u.username for u in list_users(demo, admin)}


def test_only_a_group_admin_manages_users(demo: Session) -> None:
    hq = authenticate(demo, "hq", "propcloud")
    with pytest.raises(PermissionDenied):
        list_users(demo, hq)


@pytest.mark.parametrize(
    ("username", "password", "grants", "key"),
    [
        ("x", "long-enough", True, "users.bad_username"),
        ("hq", "long-enough", True, "users.username_taken"),
        ("new.user", "short", True, "auth.password_too_short"),
        ("new.user", "long-enough", False, "users.role_required"),
    ],
)
def test_bad_user_input_gets_a_clear_message(
    demo: Session, username: str, password: str, grants: bool, key: str
) -> None:
    with pytest.raises(DomainError) as caught:
        add_user(
            demo,
            CLI,
            username=username,
            display_name="王伟",
            password=password,
            grants=[GrantSpec(Role.HQ_VIEWER, ScopeLevel.GROUP)] if grants else [],
        )
    assert caught.value.key == key


def test_the_audit_log_is_append_only_in_the_database(demo: Session) -> None:
    with pytest.raises(DBAPIError, match="append-only"), demo.begin_nested():
        demo.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), demo.begin_nested():
        demo.execute(text("DELETE FROM audit_log"))


OFFICE_STAFF = {
    Role.OFFICE_MANAGER,
    Role.ENGINEERING_SUPERVISOR,
    Role.LANDSCAPING_SUPERVISOR,
    Role.SECURITY_SUPERVISOR,
    Role.CLEANING_SUPERVISOR,
    Role.CS_SUPERVISOR,
    Role.CS_ASSISTANT,
    Role.TECHNICIAN,
    Role.RENOVATION_ADMIN,
    Role.SECURITY_GUARD,
    Role.SUPPLIER_USER,
}


@pytest.mark.parametrize("role", list(Role))
def test_only_people_working_at_an_office_raise_corrective_orders(role: Role) -> None:
    """Head office (admin, HQ viewers, internal audit) reads orders but files none."""
    at_office = Principal(
        1,
        "someone",
        "某人",
        "zh_CN",
        (Grant(role, ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),),
    )
    assert at_office.can(Permission.RAISE_ORDERS, "SH001") is (role in OFFICE_STAFF)
    assert not at_office.can(Permission.RAISE_ORDERS, "BJ001")
    assert at_office.can(Permission.VIEW_ORDERS, "SH001")


def test_every_handler_may_raise_the_corrective_order_of_a_failed_checklist_item() -> None:
    assert ROLE_PERMISSIONS[Permission.HANDLE_ORDERS] <= ROLE_PERMISSIONS[Permission.RAISE_ORDERS]


def test_demo_head_office_logins_cannot_raise_orders_anywhere(demo: Session) -> None:
    for username in ("hq", "audit", "city.audit", "admin"):
        user = authenticate(demo, username, "propcloud")
        assert user.offices_for(Permission.RAISE_ORDERS) == frozenset(), username
        assert user.can(Permission.VIEW_ORDERS)
    for username in ("manager", "engineer"):
        assert authenticate(demo, username, "propcloud").offices_for(Permission.RAISE_ORDERS) == {
            "SH001"
        }
