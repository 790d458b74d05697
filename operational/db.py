"""Engines, sessions and the schema upgrade, for SQLite (embedded) and PostgreSQL (production);
the serialisation of concurrent writers and the translation of the database's refusals into
messages (docs/operations.md, "Concurrent writers and a busy database").
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from operational.errors import DomainError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

BUSY_TIMEOUT_SECONDS = 10.0
"""How long a writer waits for another one before it gives up with ``integrity.busy`` ("the
database is busy with another import, try again in a moment"). SQLite's busy handler retries the
write lock meanwhile (``PRAGMA busy_timeout``, set on connecting); on PostgreSQL it is the
``lock_timeout`` of :func:`serialise`."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
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


def as_utc(instant: datetime) -> datetime:
    """An instant read back from the database (or the warehouse) as aware UTC: SQLite and the
    warehouse hand over naive UTC, PostgreSQL an aware instant."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


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
    """One transaction: committed if the block succeeds, rolled back if it raises.

    The database's refusals a user can meet are raised as :class:`DomainError` with a message
    (:func:`translated_errors`): a writer that waited too long for another (``integrity.busy``),
    a record someone else saved first (``integrity.conflict``). Never a traceback."""
    with translated_errors(), _SESSIONS(bind=engine) as session, session.begin():
        yield session


# ---------------------------------------------------------------- the database's refusals

_SQLITE_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_SQLITE_DUPLICATE = {
    getattr(sqlite3, "SQLITE_CONSTRAINT_UNIQUE", 2067),
    getattr(sqlite3, "SQLITE_CONSTRAINT_PRIMARYKEY", 1555),
}
_PG_BUSY = {"55P03", "40P01", "40001"}  # lock_not_available, deadlock, serialization_failure
_PG_DUPLICATE = {"23505"}  # unique_violation


def is_busy(error: BaseException) -> bool:
    """The database refused because another writer held what this one needed."""
    orig = getattr(error, "orig", error)
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF in _SQLITE_BUSY) or "locked" in str(orig)
    return getattr(orig, "sqlstate", None) in _PG_BUSY


def is_duplicate(error: BaseException) -> bool:
    """The database refused a row whose unique key another row (another writer's) holds."""
    orig = getattr(error, "orig", error)
    if isinstance(orig, sqlite3.IntegrityError):
        return getattr(orig, "sqlite_errorcode", None) in _SQLITE_DUPLICATE
    return getattr(orig, "sqlstate", None) in _PG_DUPLICATE


@contextmanager
def translated_errors() -> Iterator[None]:
    """Raise a busy database and a lost race for a unique key as :class:`DomainError`
    (``integrity.busy``, ``integrity.conflict``); any other database error as it is."""
    try:
        yield
    except Exception as error:
        # SQLAlchemy's wrapper, or the driver's own error where a bulk writer used the driver
        # directly (COPY, executemany on the DB-API cursor).
        if isinstance(error, exc.DBAPIError | sqlite3.Error) or hasattr(error, "sqlstate"):
            if is_busy(error):
                raise DomainError("integrity.busy") from error
            if is_duplicate(error):
                raise DomainError("integrity.conflict") from error
        raise


# ---------------------------------------------------------------- serialised writers


@dataclass(frozen=True)
class WriteLock:
    """The writers of one area of the database (the readings of metering points, an office's
    objects, the work-order history), serialised by :func:`serialise`.

    ``namespace`` is the first key of PostgreSQL's two-key advisory locks: ``(namespace, 0)`` is
    the area's gate, ``(namespace, key)`` one key's lock (a metering point's id).
    """

    name: str
    namespace: int
    _registered: ClassVar[dict[int, str]] = {}

    def __post_init__(self) -> None:
        taken = WriteLock._registered.setdefault(self.namespace, self.name)
        if taken != self.name:
            raise ValueError(f"write lock namespace {self.namespace} is {taken!r}'s")


@dataclass
class _Held:
    transaction: SessionTransaction
    sqlite_write: bool = False
    whole: set[int] = field(default_factory=set)
    gates: set[int] = field(default_factory=set)
    keys: set[tuple[int, int]] = field(default_factory=set)


_HELD = "operational.db.write_locks"


def _held(session: Session) -> _Held:
    """What this session's current (outermost) transaction holds already."""
    transaction = session.get_transaction() or session.begin()
    while transaction.parent is not None:
        transaction = transaction.parent
    held = session.info.get(_HELD)
    if not isinstance(held, _Held) or held.transaction is not transaction:
        held = session.info[_HELD] = _Held(transaction)
    return held


def serialise(session: Session, lock: WriteLock, keys: Iterable[int] | None = None) -> None:
    """Make the session's transaction the only writer of ``lock``'s area — of all of it
    (``keys`` None: an import) or of its ``keys`` (a form: one metering point) — until it ends.

    Call it *before* reading what the write is validated against, so that a concurrent writer's
    rows are either committed and seen, or not yet begun. SQLite has one writer at a time: the
    transaction takes the database's write lock (``BEGIN IMMEDIATE``). PostgreSQL: advisory
    transaction locks — the whole area takes its gate ``(namespace, 0)`` exclusively; keys take
    the gate shared and then each key's lock, in ascending order, so two forms on different
    points run side by side and an import waits for both (and they for it). Taking a lock the
    transaction holds already costs nothing. Waits up to :data:`BUSY_TIMEOUT_SECONDS`, then raises
    ``DomainError("integrity.busy")``.
    """
    held = _held(session)
    wanted = None if keys is None else sorted(set(keys))
    if lock.namespace in held.whole:
        return
    connection = session.connection()
    with translated_errors():
        if connection.dialect.name == "sqlite":
            if not held.sqlite_write:
                _sqlite_write_lock(connection)
                held.sqlite_write = True
        elif connection.dialect.name == "postgresql":
            todo = (
                None
                if wanted is None
                else [k for k in wanted if (lock.namespace, k) not in held.keys]
            )
            if todo == []:
                return
            _pg_advisory_locks(connection, lock.namespace, todo, held)
    if wanted is None:
        held.whole.add(lock.namespace)
    else:
        held.keys.update((lock.namespace, k) for k in wanted)


def _sqlite_write_lock(connection: Connection) -> None:
    """The database's write lock for this transaction. The driver begins a transaction only
    before the first write, so a transaction that has only read so far has not begun: it begins
    as ``BEGIN IMMEDIATE``. One that has begun (a write, a savepoint) writes nothing to take it."""
    dbapi = connection.connection.dbapi_connection
    if getattr(dbapi, "in_transaction", True):
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num WHERE 0")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _pg_advisory_locks(
    connection: Connection, namespace: int, keys: list[int] | None, held: _Held
) -> None:
    old = connection.execute(
        text(
            "select o.old, set_config('lock_timeout', :wait, true)"
            " from (select current_setting('lock_timeout') as old) o"
        ),
        {"wait": f"{int(BUSY_TIMEOUT_SECONDS * 1000)}ms"},
    ).scalar_one()
    if keys is None:
        connection.execute(
            text("select pg_advisory_xact_lock(cast(:ns as integer), 0)"), {"ns": namespace}
        )
    else:
        if namespace not in held.gates:
            connection.execute(
                text("select pg_advisory_xact_lock_shared(cast(:ns as integer), 0)"),
                {"ns": namespace},
            )
            held.gates.add(namespace)
        for key in keys:  # ascending: two writers never wait for each other in a circle
            if key < 1:
                raise ValueError(f"write lock keys start at 1, not {key}")
            connection.execute(
                text("select pg_advisory_xact_lock(cast(:ns as integer), cast(:key as integer))"),
                {"ns": namespace, "key": key},
            )
    connection.execute(text("select set_config('lock_timeout', :old, true)"), {"old": old})


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the operational schema at ``url`` up to ``revision`` (Alembic)."""
    create_db_engine(url).dispose()  # creates the SQLite folder if needed
    command.upgrade(alembic_config(url), revision)
