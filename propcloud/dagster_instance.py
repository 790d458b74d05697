"""Dagster's own instance for propcloud: its folder, its dagster.yaml, and its storage.

``propcloud serve``, ``propcloud pipeline run`` and ``propcloud dagster webserver|daemon`` use
one instance, ``$DAGSTER_HOME`` (default ``<data folder>/dagster``), so the UI lists every run.
Its ``dagster.yaml`` is written by propcloud: the warehouse pool of one slot, no telemetry, no
first-visit pop-up, and — when the operational store is PostgreSQL — Dagster's run history,
event log and schedule state in PostgreSQL too (``dagster-postgres``), so that the webserver
and the daemon can run as separate services, on separate machines if need be, and the history
is backed up with the database server. The URL is not written into the file: the file names
the environment variable :data:`STORAGE_ENV`, which propcloud sets for the processes it
starts (no password in a file).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from operational.settings import Settings

STORAGE_ENV = "PROPCLOUD_DAGSTER_DATABASE_URL"
"""Dagster's PostgreSQL database; default: the operational database's name + ``_dagster`` on
the same server, when the operational store is PostgreSQL (docs/operations.md)."""

DAGSTER_YAML = """\
# Written by propcloud (delete this line to keep your own edits). Every warehouse writer runs in
# the pool "warehouse" (size 1). No usage statistics leave the office network (telemetry), and
# the UI shows no first-visit pop-up (nux), which would load a page from dagster.io.
concurrency:
  pools:
    granularity: run
    default_limit: 1
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
nux:
  enabled: false
"""
POSTGRES_STORAGE = f"""\
# Runs, events and schedules in PostgreSQL (dagster-postgres), at the URL in ${STORAGE_ENV}.
storage:
  postgres:
    postgres_url:
      env: {STORAGE_ENV}
"""
_OURS = ("# Written by propcloud", "# Written by `propcloud serve`")
"""First lines of a dagster.yaml propcloud wrote (this release's and an earlier one's)."""


def dagster_home(settings: Settings) -> Path:
    """Dagster's instance folder: ``DAGSTER_HOME``, else ``<data folder>/dagster``. ``serve`` and
    ``pipeline run`` use the same one, so the UI lists the runs started here too."""
    return Path(os.environ.get("DAGSTER_HOME") or settings.var_dir / "dagster").resolve()


def dagster_yaml(postgres: bool = False) -> str:
    """The dagster.yaml propcloud writes; with ``postgres``, Dagster's storage in PostgreSQL."""
    return DAGSTER_YAML + (POSTGRES_STORAGE if postgres else "")


def ensure_dagster_home(home: Path, *, postgres: bool = False) -> None:
    """Create Dagster's home with propcloud's instance settings, or bring a file propcloud wrote
    up to date; a dagster.yaml the operator wrote is left as it is."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = dagster_yaml(postgres)
    if config.exists():
        current = config.read_text(encoding="utf-8")
        if current == wanted or not current.startswith(_OURS):
            return
    config.write_text(wanted, encoding="utf-8")


def storage_url(settings: Settings) -> str | None:
    """Dagster's PostgreSQL URL (``postgresql+psycopg2://…``, the driver of dagster-postgres), or None
    for Dagster's own SQLite files in its folder (an operational store on SQLite)."""
    given = os.environ.get(STORAGE_ENV, "").strip()
    if given:
        return _plain(given)
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return _plain(url.set(database=f"{url.database}_dagster").render_as_string(False))


def _plain(url: str) -> str:
    """Any PostgreSQL URL → ``postgresql+psycopg2://…``: dagster-postgres is written for psycopg2
    (which it installs) — under SQLAlchemy 2.1 a bare ``postgresql://`` means psycopg 3, whose
    server-side parameters break its ``NOTIFY run_events, %s``."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"{STORAGE_ENV} must be a PostgreSQL URL, not {parsed.drivername}")
    return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def ensure_storage_database(url: str, admin_url: str) -> bool:
    """Create Dagster's database at ``url`` unless it exists, connecting as ``admin_url`` (the
    operational database's URL: same server, a user allowed to create databases); True if it
    was created. Dagster creates its own tables in it."""
    name = make_url(url).database
    if not name:
        raise ValueError(f"{STORAGE_ENV} names no database: {url}")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            found = con.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if found:
                return False
            quoted = name.replace('"', '""')
            con.execute(text(f'CREATE DATABASE "{quoted}"'))
            return True
    finally:
        engine.dispose()


def prepare_instance(settings: Settings) -> dict[str, str]:
    """Set up the instance for ``settings``: the folder, its dagster.yaml and, with PostgreSQL,
    Dagster's database; the environment variables a Dagster process needs to open it."""
    home = dagster_home(settings)
    url = storage_url(settings)
    if url is not None and not os.environ.get(STORAGE_ENV, "").strip():
        # The default database, next to the operational one: made on first use. One named in
        # the environment is the operator's to create.
        ensure_storage_database(url, settings.database_url)
    ensure_dagster_home(home, postgres=url is not None)
    env = {"DAGSTER_HOME": str(home)}
    if url is not None:
        env[STORAGE_ENV] = url
    return env
