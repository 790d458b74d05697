"""Installation settings, read from ``PROPCLOUD_*`` environment variables.

Every setting has a default that works on a developer's machine: the operational store is a
SQLite file under ``var/`` and the warehouse lives in ``var/warehouse``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from operational.errors import DomainError

SECRET_KEY_FILE = "secret_key"
DEFAULT_SESSION_IDLE_HOURS = 12.0
DEFAULT_SESSION_MAX_DAYS = 7.0
DEFAULT_KEEP_VERSIONS = 3
DEFAULT_DAGSTER_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    """What one installation of propcloud is configured with."""

    database_url: str
    warehouse_dir: Path
    group_code: str
    group_name: str
    base_url: str
    language: str
    secret_key: str = ""
    """``PROPCLOUD_SECRET_KEY``; empty: a key generated once into the data folder."""
    session_idle: timedelta = timedelta(hours=DEFAULT_SESSION_IDLE_HOURS)
    """A login session unused for this long ends (``PROPCLOUD_SESSION_IDLE_HOURS``)."""
    session_max_age: timedelta = timedelta(days=DEFAULT_SESSION_MAX_DAYS)
    """A login session ends this long after the login, used or not (``PROPCLOUD_SESSION_MAX_DAYS``)."""
    warehouse_keep_versions: int = DEFAULT_KEEP_VERSIONS
    """Published warehouse versions kept (``PROPCLOUD_WAREHOUSE_KEEP_VERSIONS``): the current one
    and the spares the next builds start from."""
    dagster_host: str = DEFAULT_DAGSTER_HOST
    """The address the Dagster UI listens on (``PROPCLOUD_DAGSTER_HOST``); it has no login of its
    own, so only this machine by default (docs/operations.md: behind single sign-on)."""

    @property
    def var_dir(self) -> Path:
        return self.warehouse_dir.parent


def default_language() -> str:
    """``zh_CN`` or ``en``: ``PROPCLOUD_LANG`` first, then the POSIX locale."""
    raw = os.environ.get("PROPCLOUD_LANG") or os.environ.get("LANG") or ""
    return "zh_CN" if raw.lower().startswith("zh") else "en"


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise DomainError("settings.not_a_positive_number", name=name, value=raw)
    return value


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise DomainError("settings.not_a_positive_whole_number", name=name, value=raw)
    return int(raw)


def load_settings() -> Settings:
    var_dir = Path(os.environ.get("PROPCLOUD_VAR_DIR", "var"))
    return Settings(
        database_url=os.environ.get(
            "PROPCLOUD_DATABASE_URL",
            f"sqlite:///{(var_dir / 'propcloud.db').as_posix()}",
        ),
        warehouse_dir=Path(os.environ.get("PROPCLOUD_WAREHOUSE_DIR", str(var_dir / "warehouse"))),
        group_code=os.environ.get("PROPCLOUD_GROUP_CODE", "YY"),
        group_name=os.environ.get("PROPCLOUD_GROUP_NAME", "一应物业集团"),
        base_url=os.environ.get("PROPCLOUD_BASE_URL", "http://localhost:8501"),
        language=default_language(),
        secret_key=os.environ.get("PROPCLOUD_SECRET_KEY", "").strip(),
        session_idle=timedelta(
            hours=_positive("PROPCLOUD_SESSION_IDLE_HOURS", DEFAULT_SESSION_IDLE_HOURS)
        ),
        session_max_age=timedelta(
            days=_positive("PROPCLOUD_SESSION_MAX_DAYS", DEFAULT_SESSION_MAX_DAYS)
        ),
        warehouse_keep_versions=_count("PROPCLOUD_WAREHOUSE_KEEP_VERSIONS", DEFAULT_KEEP_VERSIONS),
        dagster_host=os.environ.get("PROPCLOUD_DAGSTER_HOST", "").strip() or DEFAULT_DAGSTER_HOST,
    )


def signing_key(settings: Settings) -> bytes:
    """The installation's secret for signing login cookies.

    ``PROPCLOUD_SECRET_KEY`` if set (every server of an installation must share it). Otherwise a
    random key kept in ``<data folder>/secret_key``: made once, readable by its owner only
    (0600), and shared by every process that uses the same data folder. Changing or deleting
    the key logs every browser out.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.var_dir / SECRET_KEY_FILE
    if not path.exists():
        _create_key_file(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise DomainError("settings.secret_key_file_bad", path=str(path))
    return key.encode()


def _create_key_file(path: Path) -> None:
    """Write a new key next to ``path`` and link it into place; a process that loses the race
    to another one keeps the other's key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
