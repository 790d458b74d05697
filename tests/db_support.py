"""A new database brought to the head of the migrations, cheaply.

Running every Alembic migration costs about half a second of CPU on SQLite, and the tests make
dozens of fresh databases. On SQLite :func:`migrated` runs the migrations once per test process
into a template file and gives each new database a copy of it: the same file the migrations
write, since nothing in it depends on where it lives. On PostgreSQL, where the migrations take
several seconds of the server's time (4 s under load), it does the same with a template
database: the migrations run once per test process into it, and each new, empty database is
made again as ``CREATE DATABASE ... TEMPLATE`` of it (about a second). The tests of a migration
itself keep calling :func:`operational.db.upgrade`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from operational.db import upgrade

# The server the PostgreSQL tests make their databases on (tests/conftest.py).
PG_ADMIN_URL = os.environ.get(
    "PROPCLOUD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_templates: dict[str, Path] = {}
_pg_template: list[str] = []  # the name of this process's migrated PostgreSQL template


def _sqlite_template() -> Path:
    """The per-process SQLite file migrated to head, its write-ahead log folded in."""
    template = _templates.get("sqlite")
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix="propcloud-head-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "head.db"
        upgrade(f"sqlite:///{template}")
        with closing(sqlite3.connect(template)) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _templates["sqlite"] = template
    return template


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            # and Dagster's, which a pipeline run against this database creates beside it
            # (propcloud.dagster_instance)
            for database in (name, f"{name}_dagster"):
                con.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _postgres_template() -> str:
    """The name of this process's PostgreSQL database migrated to head, made on first use and
    dropped when the process ends."""
    if not _pg_template:
        name = f"propcloud_t_head_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as con:
                con.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        atexit.register(_drop_postgres_database, name)
        upgrade(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
        _pg_template.append(name)
    return _pg_template[0]


def _postgres_migrated(url: str) -> bool:
    """Remake the empty PostgreSQL database at ``url`` as a copy of the per-process template;
    False (nothing done) when it is not empty or not on the tests' server."""
    parsed = make_url(url)
    admin_url = make_url(PG_ADMIN_URL)
    if (parsed.host, parsed.port) != (admin_url.host, admin_url.port) or not parsed.database:
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as con:
            tables = con.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
    if tables:
        return False
    template = _postgres_template()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
            con.execute(text(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return True


def migrated(url: str) -> None:
    """Bring the new database at ``url`` to head, as ``operational.db.upgrade(url)`` does.

    A SQLite file that does not exist yet is a copy of the per-process template, an empty
    PostgreSQL database on the tests' server is remade from the per-process template database;
    anything else (an existing file, a database with tables) is migrated by Alembic.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "postgresql" and _postgres_migrated(url):
        return
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        upgrade(url)
        return
    target = Path(database)
    if target.exists():
        upgrade(url)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template(), target)
