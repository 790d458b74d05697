"""Writing to the append-only audit log, in the same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from operational.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of the fields worth recording."""
    return {key: _jsonable(value) for key, value in values.items()}


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry; it commits or rolls back with the caller's transaction."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before=snapshot(before) if before is not None else None,
        after=snapshot(after) if after is not None else None,
    )
    session.add(entry)
    return entry
