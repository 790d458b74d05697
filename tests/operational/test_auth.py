"""Logins, throttling after failures, role scopes and user administration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import operational.auth as auth_module
from operational.auth import (
    FREE_FAILURES,
    MAX_LOCK,
    ROLE_PERMISSIONS,
    SOURCE_FREE_FAILURES,
    SOURCE_WINDOW,
    Grant,
    Permission,
    Principal,
    authenticate,
    lock_duration,
    source_lock_duration,
    system_principal,
)
from operational.db import create_db_engine, unit_of_work
from operational.demo import DemoOptions, load_demo
from operational.errors import DomainError, PermissionDenied
from operational.imports.org import ensure_group
from operational.models import AuditEntry, LoginFailure, Role, ScopeLevel, utcnow
from operational.services.users import (
    GrantSpec,
    add_user,
    list_users,
    set_active,
    set_grants,
    set_password,
    unlock,
)
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated

CLI = system_principal("cli")


# One worker runs this module, so its module-scoped demo is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("auth-demo")


@pytest.fixture(scope="module", params=BACKENDS)
def demo_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The demo's eight offices, loaded once per backend (and test process): loading them takes
    seconds, and every test here works inside a transaction that ``demo`` rolls back."""
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("auth_demo")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            load_demo(session, DemoOptions(offices=8, days=0, seed=1, now=utcnow()))
        yield engine
        engine.dispose()


@pytest.fixture
def demo(demo_engine: Engine) -> Iterator[Session]:
    """A session on the demo whose every change is rolled back after the test (commits become
    savepoints), as the ``session`` fixture does on the empty database."""
    with demo_engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        transaction.rollback()


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


HOME = "10.1.1.7"  # the real user's desk
STRANGER = "203.0.113.9"  # someone who knows the name


def _fail(session: Session, username: str, source: str, now: datetime, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(DomainError) as caught:
            authenticate(session, username, "bad-password", now, source=source)
        assert caught.value.key == "auth.invalid_login"


def _refusal(session: Session, username: str, password: str, source: str, now: datetime) -> str:
    with pytest.raises(DomainError) as caught:
        authenticate(session, username, password, now, source=source)
    return caught.value.message("en")


def test_failures_from_one_source_hold_back_that_source_only(demo: Session) -> None:
    now = utcnow()
    _fail(demo, "hq", STRANGER, now, FREE_FAILURES)
    # the stranger now waits, even with the right password
    message = _refusal(demo, "hq", "propcloud", STRANGER, now + timedelta(seconds=5))
    assert message == "Too many failed attempts. Try again in 26 seconds."
    # the real user at their own desk is let in at once
    assert authenticate(demo, "hq", "propcloud", now, source=HOME).username == "hq"
    # after the pause the stranger's source may try again; each failure doubles the wait
    _fail(demo, "hq", STRANGER, now + timedelta(seconds=31))
    assert "61 seconds" in _refusal(demo, "hq", "x", STRANGER, now + timedelta(seconds=31))
    assert lock_duration(4) == timedelta(0)
    assert lock_duration(6) == timedelta(seconds=60)
    assert lock_duration(50) == timedelta(minutes=15)


def test_a_success_forgets_that_sources_failures_of_the_name(demo: Session) -> None:
    now = utcnow()
    _fail(demo, "hq", HOME, now, FREE_FAILURES - 1)
    authenticate(demo, "hq", "propcloud", now, source=HOME)
    _fail(demo, "hq", HOME, now, FREE_FAILURES - 1)  # four again: still free
    assert authenticate(demo, "hq", "propcloud", now, source=HOME).username == "hq"
    assert demo.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_unknown_names_are_answered_exactly_like_real_ones(demo: Session) -> None:
    """Neither the message, nor the throttle, nor the lock says whether a name exists."""
    now = utcnow()
    for name in ("hq", "nobody.here"):
        assert _refusal(demo, name, "bad-password", STRANGER, now) == "Wrong user name or password."
        _fail(demo, name, STRANGER, now, FREE_FAILURES - 1)
    real = _refusal(demo, "hq", "propcloud", STRANGER, now + timedelta(seconds=3))
    unknown = _refusal(demo, "nobody.here", "propcloud", STRANGER, now + timedelta(seconds=3))
    assert real == unknown == "Too many failed attempts. Try again in 28 seconds."


def test_an_unknown_name_takes_as_long_as_a_wrong_password(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that does not exist costs one password hash, as a wrong password does, so the
    time of a refusal does not tell which names exist (counted, not timed)."""
    hasher = auth_module._hasher
    spent: list[str] = []

    class Counting:
        def hash(self, password: str) -> str:
            spent.append("hash")
            return hasher.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            spent.append("verify")
            return hasher.verify(password_hash, password)

        def check_needs_rehash(self, password_hash: str) -> bool:
            return hasher.check_needs_rehash(password_hash)

    monkeypatch.setattr(auth_module, "_hasher", Counting())

    def work(username: str) -> list[str]:
        spent.clear()
        with pytest.raises(DomainError):
            authenticate(demo, username, "bad-password", source="198.51.100.1")
        return list(spent)

    assert work("hq") == ["verify"]
    assert work("nobody.here") == ["hash"]  # one argon2 computation each, same parameters


def test_a_source_trying_many_names_is_held_back_for_every_name(demo: Session) -> None:
    now = utcnow()
    for number in range(SOURCE_FREE_FAILURES):
        _fail(demo, f"guess{number}", STRANGER, now)
    assert "Too many failed attempts" in _refusal(demo, "admin", "propcloud", STRANGER, now)
    # the administrator, from anywhere else, always gets in
    assert authenticate(demo, "admin", "propcloud", now, source=HOME).username == "admin"
    assert source_lock_duration(SOURCE_FREE_FAILURES - 1) == timedelta(0)
    later = now + SOURCE_WINDOW + MAX_LOCK
    assert authenticate(demo, "admin", "propcloud", later, source=STRANGER).username == "admin"


def test_the_administrator_unlocks_a_name_from_every_source(demo: Session) -> None:
    now = utcnow()
    _fail(demo, "manager", STRANGER, now, FREE_FAILURES)
    _fail(demo, "manager", HOME, now, FREE_FAILURES)
    admin = authenticate(demo, "admin", "propcloud", now, source=HOME)
    with pytest.raises(PermissionDenied):
        unlock(demo, authenticate(demo, "hq", "propcloud", now), "manager")
    assert unlock(demo, admin, "manager") == 2 * FREE_FAILURES
    assert authenticate(demo, "manager", "propcloud", now, source=STRANGER).username == "manager"
    entry = demo.scalars(
        select(AuditEntry).where(AuditEntry.action == "unlock").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.entity_key == "manager" and entry.actor == "admin"


def test_a_new_password_clears_the_names_failures(demo: Session) -> None:
    now = utcnow()
    _fail(demo, "engineer", HOME, now, FREE_FAILURES)
    set_password(demo, CLI, "engineer", "a-brand-new-password")
    principal = authenticate(demo, "engineer", "a-brand-new-password", now, source=HOME)
    assert principal.username == "engineer"


def test_every_login_attempt_and_logout_is_audited(demo: Session) -> None:
    """Internal audit sees who got in, who was refused and why, from where, and who logged
    out."""
    from operational import login_sessions

    now = utcnow()
    principal = authenticate(demo, "hq", "propcloud", now, source=HOME)
    _fail(demo, "manager", STRANGER, now, 5)
    with pytest.raises(DomainError):
        authenticate(demo, "manager", "propcloud", now + timedelta(seconds=1), source=STRANGER)
    with pytest.raises(DomainError):
        authenticate(demo, " nobody ", "propcloud", now, source=HOME)
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
    first = entries[0]
    assert (first.entity_key, first.action, first.after["reason"], first.after["source"]) == (
        "hq",
        "login",
        "password",
        HOME,
    )
    assert [(e.action, e.after["reason"]) for e in entries[1:6]] == [
        ("login_failed", "wrong_password")
    ] * 5
    assert all(e.after["source"] == STRANGER for e in entries[1:7])
    assert "bad-password" not in str([e.after for e in entries])
    assert (entries[6].action, entries[6].after["reason"]) == ("login_refused", "throttled")
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
        supplier_id=7 if role is Role.SUPPLIER_USER else None,  # a supplier's own staff
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


def test_user_administration_needs_a_group_scope_grant() -> None:
    """Accounts span every office: an administrator granted at one office manages none."""
    from operational.auth import GROUP_WIDE, Grant, Permission, Principal, system_principal
    from operational.models import Role, ScopeLevel

    at_office = Principal(
        1,
        "a",
        "a",
        "zh_CN",
        (Grant(Role.GROUP_ADMIN, ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),),
    )
    at_group = Principal(
        2, "b", "b", "zh_CN", (Grant(Role.GROUP_ADMIN, ScopeLevel.GROUP, "", None),)
    )
    assert Permission.MANAGE_USERS in GROUP_WIDE
    assert not at_office.can(Permission.MANAGE_USERS)
    assert not at_office.can(Permission.MANAGE_USERS, "SH001")
    assert at_office.can(Permission.MANAGE_METERS, "SH001")  # office permissions are unchanged
    assert at_group.can(Permission.MANAGE_USERS)
    assert system_principal("cli").can(Permission.MANAGE_USERS)


@pytest.mark.parametrize("role", list(Role))
def test_whoever_may_run_an_import_opens_the_imports_page(role: Role) -> None:
    """A customer-service supervisor keeps the office's houses and owners (an import) without
    entering readings: the page opens for them too, and for nobody who can run none."""
    from operational.auth import IMPORT_PERMISSIONS

    at_office = Principal(
        1,
        "someone",
        "某人",
        "zh_CN",
        (Grant(role, ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),),
    )
    may_import = any(role in ROLE_PERMISSIONS[p] for p in IMPORT_PERMISSIONS)
    assert at_office.can(Permission.OPEN_IMPORTS, "SH001") is may_import
    assert not at_office.can(Permission.OPEN_IMPORTS, "BJ001")
    if role is Role.CS_SUPERVISOR:
        assert may_import and not at_office.can(Permission.ENTER_READINGS)


@pytest.mark.parametrize("role", list(Role))
def test_a_supplier_account_holds_the_supplier_user_role_and_nothing_else(role: Role) -> None:
    """The supplier-user role counts only for an account tied to a supplier, and such an
    account's other roles count for nothing."""
    grant = (Grant(role, ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),)
    staff = Principal(1, "someone", "某人", "zh_CN", grant)
    supplier = Principal(1, "someone", "某人", "zh_CN", grant, supplier_id=7)
    supplier_role = role is Role.SUPPLIER_USER
    assert staff.can(Permission.VIEW_ORDERS, "SH001") is not supplier_role
    assert supplier.can(Permission.VIEW_ORDERS, "SH001") is supplier_role
