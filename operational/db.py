"""Engines, sessions and the schema upgrade, for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


PING_AFTER_IDLE_SECONDS = 5.0
"""A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out
(see :func:`_ping_if_idle`)."""


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling, paid only after idleness: a connection back in the pool
    for more than :data:`PING_AFTER_IDLE_SECONDS` runs ``SELECT 1`` before it is handed out, and
    one that fails is replaced by a fresh connection (``DisconnectionError``: the pool
    reconnects). Connections are dropped while idle — a server restart, an idle timeout of the
    server or the network — which is how the long-running Streamlit app meets them; back-to-back
    units of work (a burst of moves, the CLI, the pipeline) skip the round trip. A connection
    that dies within the window fails its next statement, and SQLAlchemy then recycles the
    whole pool."""
    last = record.info.get("checked_in_at")
    if last is None or time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
        return  # just connected, or in use moments ago
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as error:
        raise exc.DisconnectionError() from error


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created and WAL switched on; on
    PostgreSQL a connection idle in the pool is pinged before use (:func:`_ping_if_idle`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url)
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


@cache
def engine_for(url: str) -> Engine:
    """One shared engine per URL for long-running processes (the dashboards, the CLI)."""
    return create_db_engine(url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``, for a caller that keeps it (each call sets a new
    factory up; :func:`unit_of_work` uses one shared factory instead)."""
    return sessionmaker(engine, expire_on_commit=False)


_SESSIONS = sessionmaker(expire_on_commit=False)
"""One factory for every unit of work, bound per session: building a ``sessionmaker`` per call
(a new ``Session`` subclass each time) cost ≈ 0.1 ms per unit of work, and caching one per
engine would keep every engine alive."""


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed if the block succeeds, rolled back if it raises."""
    with _SESSIONS(bind=engine) as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the operational schema at ``url`` up to ``revision`` (Alembic)."""
    create_db_engine(url).dispose()  # creates the SQLite folder if needed
    command.upgrade(alembic_config(url), revision)
