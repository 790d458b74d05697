"""Installation settings, read from ``PROPCLOUD_*`` environment variables.

Every setting has a default that works on a developer's machine: the operational store is a
SQLite file under ``var/`` and the warehouse lives in ``var/warehouse``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """What one installation of propcloud is configured with."""

    database_url: str
    warehouse_dir: Path
    group_code: str
    group_name: str
    base_url: str
    language: str

    @property
    def var_dir(self) -> Path:
        return self.warehouse_dir.parent


def default_language() -> str:
    """``zh_CN`` or ``en``: ``PROPCLOUD_LANG`` first, then the POSIX locale."""
    raw = os.environ.get("PROPCLOUD_LANG") or os.environ.get("LANG") or ""
    return "zh_CN" if raw.lower().startswith("zh") else "en"


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
    )
