"""Login sessions: the signed token a browser keeps, and every way such a session ends.

On SQLite and PostgreSQL (the ``session`` fixture), plus the installation key and the 0008
migration's round trip on both.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from operational import login_sessions
from operational.auth import (
    hash_password,
    system_principal,
)
from operational.db import alembic_config, create_db_engine, upgrade
from operational.errors import DomainError
from operational.login_sessions import Lifetime
from operational.models import Role, RoleGrant, ScopeLevel, User
from operational.models.people import LoginSession
from operational.services.users import set_active, set_password
from operational.settings import load_settings, signing_key
from tests.conftest import BACKENDS, fresh_database_url

CLI = system_principal("cli")

KEY = b"k" * 48
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LIFE = Lifetime(idle=timedelta(hours=12), max_age=timedelta(days=7))


def _user(session: Session, username: str = "zhang.wei") -> User:
    user = User(
        username=username,
        display_name="张伟",
        password_hash=hash_password("a-long-password"),
        language="en",
        grants=[RoleGrant(role=Role.HQ_VIEWER.value, scope_level=ScopeLevel.GROUP.value)],
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class Begun:
    session_id: int
    token: str


def _begin(
    session: Session, user_id: int, *, key: bytes = KEY, now: datetime | None = None
) -> Begun:
    """A login as the dashboards make it: the session started, its nonce exchanged for the
    cookie's token by the route."""
    started = login_sessions.start(session, key, user_id, LIFE, now=now)
    token = login_sessions.exchange(session, key, started.nonce, LIFE, now=now)
    assert token is not None
    return Begun(started.session_id, token)


def _resume(session: Session, token: str, at: datetime) -> str | None:
    """The username a token logs in as at ``at``, or None."""
    found = login_sessions.resume(session, KEY, token, LIFE, now=at)
    return None if found is None else found.principal.username


def test_a_token_logs_its_user_back_in_with_their_roles(session: Session) -> None:
    user = _user(session)
    started = _begin(session, user.id, now=T0)
    found = login_sessions.resume(session, KEY, started.token, LIFE, now=T0 + timedelta(hours=1))
    assert found is not None and found.session_id == started.session_id
    assert found.principal.username == "zhang.wei"
    assert found.principal.language == "en"
    assert [g.role for g in found.principal.grants] == [Role.HQ_VIEWER]
    # the database keeps a hash, never the secret the browser holds
    row = session.get_one(LoginSession, started.session_id)
    secret = started.token.split(".")[1]
    assert secret not in row.secret_hash and len(row.secret_hash) == 64


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "999" + t,  # another session id under the same signature
        lambda t: t.replace(".", "", 1),  # malformed
        lambda t: "",
        lambda t: "1.x.y",
    ],
)
def test_a_forged_or_damaged_token_is_refused(session: Session, forge: object) -> None:
    user = _user(session)
    token = _begin(session, user.id, now=T0).token
    assert callable(forge)
    assert _resume(session, forge(token), T0) is None
    assert _resume(session, token, T0) == "zhang.wei"


def test_a_token_signed_with_another_key_is_refused(session: Session) -> None:
    user = _user(session)
    token = _begin(session, user.id, key=b"another key" * 4, now=T0).token
    assert _resume(session, token, T0) is None


def test_a_genuine_signature_over_a_wrong_secret_is_refused(session: Session) -> None:
    user = _user(session)
    started = _begin(session, user.id, now=T0)
    other = login_sessions.sign(KEY, started.session_id, "not-the-secret")
    assert _resume(session, other, T0) is None


def test_idle_sessions_end_and_use_keeps_them_alive_up_to_the_maximum_age(
    session: Session,
) -> None:
    user = _user(session)
    token = _begin(session, user.id, now=T0).token
    assert _resume(session, token, T0 + timedelta(hours=11)) == "zhang.wei"
    # used at +11 h, so +22 h is only 11 h idle
    assert _resume(session, token, T0 + timedelta(hours=22)) == "zhang.wei"
    at = T0 + timedelta(hours=22)
    while at + timedelta(hours=11) <= T0 + LIFE.max_age:
        at += timedelta(hours=11)
        assert _resume(session, at=at, token=token) == "zhang.wei"
    # however often used, a week after the login it has ended
    assert _resume(session, token, T0 + LIFE.max_age + timedelta(seconds=1)) is None

    idle = _begin(session, user.id, now=T0).token
    assert _resume(session, idle, T0 + LIFE.idle + timedelta(seconds=1)) is None


def test_use_is_written_at_most_every_few_minutes(session: Session) -> None:
    user = _user(session)
    started = _begin(session, user.id, now=T0)
    row = session.get_one(LoginSession, started.session_id)
    login_sessions.still_live(session, started.session_id, LIFE, now=T0 + timedelta(minutes=1))
    assert row.last_seen_at == T0
    later = T0 + login_sessions.TOUCH_EVERY
    assert login_sessions.still_live(session, started.session_id, LIFE, now=later)
    assert row.last_seen_at == later


def test_logout_ends_that_session_only(session: Session) -> None:
    user = _user(session)
    phone = _begin(session, user.id, now=T0)
    desk = _begin(session, user.id, now=T0)
    login_sessions.end(session, phone.session_id, now=T0 + timedelta(minutes=1))
    assert _resume(session, phone.token, T0 + timedelta(minutes=2)) is None
    assert not login_sessions.still_live(session, phone.session_id, LIFE, now=T0)
    assert _resume(session, desk.token, T0 + timedelta(minutes=2)) == "zhang.wei"


def test_a_password_reset_or_a_disabled_account_ends_every_session(session: Session) -> None:
    user = _user(session)
    first = _begin(session, user.id)
    second = _begin(session, user.id)
    set_password(session, CLI, "zhang.wei", "a-new-long-password")
    assert _resume(session, first.token, datetime.now(UTC)) is None
    assert _resume(session, second.token, datetime.now(UTC)) is None

    third = _begin(session, user.id)
    set_active(session, CLI, "zhang.wei", False)
    assert _resume(session, third.token, datetime.now(UTC)) is None
    set_active(session, CLI, "zhang.wei", True)  # enabling again does not revive it
    assert _resume(session, third.token, datetime.now(UTC)) is None


def test_a_disabled_account_cannot_resume_even_a_live_session(session: Session) -> None:
    user = _user(session)
    started = _begin(session, user.id, now=T0)
    user.is_active = False  # e.g. switched off in the database directly
    session.flush()
    assert _resume(session, started.token, T0) is None
    assert not login_sessions.still_live(session, started.session_id, LIFE, now=T0)


def test_starting_a_session_clears_the_users_ended_and_expired_ones(session: Session) -> None:
    user = _user(session)
    other = _user(session, "li.na")
    ended = _begin(session, user.id, now=T0)
    login_sessions.end(session, ended.session_id, now=T0)
    _begin(session, user.id, now=T0)  # expired by the next login
    theirs = _begin(session, other.id, now=T0)
    login_sessions.end(session, theirs.session_id, now=T0)
    fresh = _begin(session, user.id, now=T0 + timedelta(days=1))

    def count(user_id: int) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(LoginSession)
                .where(LoginSession.user_id == user_id)
            )
            or 0
        )

    assert count(user.id) == 1 and session.get(LoginSession, fresh.session_id) is not None
    assert count(other.id) == 1  # someone else's rows are left to their own next login


# ---------------------------------------------------------------- the installation's key


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith("PROPCLOUD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PROPCLOUD_VAR_DIR", str(tmp_path / "var"))
    yield tmp_path / "var"


def test_without_a_configured_key_one_is_made_once_for_the_owner_only(env: Path) -> None:
    settings = load_settings()
    key = signing_key(settings)
    path = env / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32
    assert signing_key(load_settings()) == key  # kept, not made again
    assert [p.name for p in env.iterdir()] == ["secret_key"]  # no draft left behind


def test_a_configured_key_is_used_as_given(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPCLOUD_SECRET_KEY", "a shared secret of the installation")
    assert signing_key(load_settings()) == b"a shared secret of the installation"
    assert not (env / "secret_key").exists()


def test_a_damaged_key_file_is_reported_not_replaced(env: Path) -> None:
    env.mkdir(parents=True)
    (env / "secret_key").write_text("short\n")
    with pytest.raises(DomainError) as caught:
        signing_key(load_settings())
    assert "PROPCLOUD_SECRET_KEY" in caught.value.message("en")
    assert "密钥文件" in caught.value.message("zh_CN")


def test_session_lifetimes_default_to_12_hours_idle_and_7_days(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    assert (settings.session_idle, settings.session_max_age) == (
        timedelta(hours=12),
        timedelta(days=7),
    )
    monkeypatch.setenv("PROPCLOUD_SESSION_IDLE_HOURS", "0.5")
    monkeypatch.setenv("PROPCLOUD_SESSION_MAX_DAYS", "30")
    settings = load_settings()
    assert replace(settings, secret_key="") == replace(
        settings, session_idle=timedelta(minutes=30), session_max_age=timedelta(days=30)
    )


@pytest.mark.parametrize("value", ["twelve", "0", "-3", "nan", "inf"])
def test_a_bad_lifetime_setting_gets_a_clear_message(
    env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PROPCLOUD_SESSION_IDLE_HOURS", value)
    with pytest.raises(DomainError) as caught:
        load_settings()
    assert caught.value.message("en") == (
        f"The setting PROPCLOUD_SESSION_IDLE_HOURS must be a positive number, not “{value}”."
    )


# ---------------------------------------------------------------- migration 0008


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0008_adds_and_removes_the_session_table(backend: str, tmp_path: Path) -> None:
    for url in fresh_database_url(backend, tmp_path):
        upgrade(url, "0007_clock_pauses")
        engine = create_db_engine(url)
        try:
            assert "auth_session" not in inspect(engine).get_table_names()
            upgrade(url, "0008_login_sessions")
            inspector = inspect(engine)
            assert {c["name"] for c in inspector.get_columns("auth_session")} == {
                "id",
                "user_id",
                "secret_hash",
                "created_at",
                "last_seen_at",
                "ended_at",
            }
            [fk] = inspector.get_foreign_keys("auth_session")
            assert fk["referred_table"] == "auth_user"
            command.downgrade(alembic_config(url), "0007_clock_pauses")
            assert "auth_session" not in inspect(engine).get_table_names()
            upgrade(url)
            assert "auth_session" in inspect(engine).get_table_names()
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0015_moves_the_lock_from_the_account_to_name_and_source(
    backend: str, tmp_path: Path
) -> None:
    for url in fresh_database_url(backend, tmp_path):
        upgrade(url, "0011_energy_followups")
        engine = create_db_engine(url)
        try:
            upgrade(url, "0015_login_throttle")
            inspector = inspect(engine)
            assert {c["name"] for c in inspector.get_columns("auth_login_failure")} == {
                "id",
                "username",
                "source",
                "failed_at",
            }
            user_columns = {c["name"] for c in inspector.get_columns("auth_user")}
            assert not {"failed_logins", "locked_until"} & user_columns
            session_columns = {c["name"] for c in inspector.get_columns("auth_session")}
            assert {"handover_hash", "handover_until"} <= session_columns
            command.downgrade(alembic_config(url), "0011_energy_followups")
            inspector = inspect(engine)
            assert "auth_login_failure" not in inspector.get_table_names()
            assert {"failed_logins", "locked_until"} <= {
                c["name"] for c in inspector.get_columns("auth_user")
            }
            upgrade(url, "0015_login_throttle")
        finally:
            engine.dispose()


def test_a_nonce_is_exchanged_once_within_its_life_for_a_working_token(session: Session) -> None:
    user = _user(session)
    started = login_sessions.start(session, KEY, user.id, LIFE, now=T0)
    late = login_sessions.exchange(
        session, KEY, started.nonce, LIFE, now=T0 + login_sessions.HANDOVER_LIFE + timedelta(1)
    )
    assert late is None
    # before any exchange, no token works: the session's first secret was never shown
    row = session.get_one(LoginSession, started.session_id)
    assert row.handover_hash is not None and started.nonce.split(".")[1] not in row.handover_hash
    token = login_sessions.exchange(
        session, KEY, started.nonce, LIFE, now=T0 + timedelta(minutes=1)
    )
    assert token is not None and token.startswith(f"{started.session_id}.")
    assert _resume(session, token, T0 + timedelta(minutes=2)) == "zhang.wei"
    # single use: the same nonce again gives nothing
    assert login_sessions.exchange(session, KEY, started.nonce, LIFE, now=T0) is None
    # a forged nonce, another session's id, or an ended session's nonce give nothing
    other = login_sessions.start(session, KEY, user.id, LIFE, now=T0)
    session_id, secret = other.nonce.split(".")
    for forged in (f"{session_id}.x{secret}", f"{started.session_id}.{secret}", "junk"):
        assert login_sessions.exchange(session, KEY, forged, LIFE, now=T0) is None
    login_sessions.end(session, other.session_id)
    assert login_sessions.exchange(session, KEY, other.nonce, LIFE, now=T0) is None
