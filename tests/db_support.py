"""A new database brought to the head of the migrations, cheaply.

Running every Alembic migration costs about half a second of CPU on SQLite, and the tests make
dozens of fresh databases. On SQLite :func:`migrated` runs the migrations once per test process
into a template file and gives each new database a copy of it: the same file the migrations
write, since nothing in it depends on where it lives. The tests of a migration itself keep
calling :func:`operational.db.upgrade`, and PostgreSQL databases are migrated as before.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from operational.db import upgrade

_templates: dict[str, Path] = {}


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


def migrated(url: str) -> None:
    """Bring the new database at ``url`` to head, as ``operational.db.upgrade(url)`` does.

    A SQLite file that does not exist yet is a copy of the per-process template; anything else
    (PostgreSQL, an existing file) is migrated by Alembic.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        upgrade(url)
        return
    target = Path(database)
    if target.exists():
        upgrade(url)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template(), target)
