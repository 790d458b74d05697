"""Writing to the append-only audit log, in the same transaction as the change it records.

An entry that concerns one office's record (an object, a reading, an office's calendar or
targets) names that office (``office_id``), so that a city's internal audit reads its offices'
entries; an entry without one (users, the group's object-type tree and calendar, an import
spanning offices) is group-level and read only at group scope
(``operational.services.lookup.audit_entries``).
"""

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
    office_id: int | None = None,
) -> AuditEntry:
    """Append one audit entry; it commits or rolls back with the caller's transaction.

    ``office_id``: the office whose record the entry concerns (None: a group-level entry)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before=snapshot(before) if before is not None else None,
        after=snapshot(after) if after is not None else None,
        office_id=office_id,
    )
    session.add(entry)
    return entry
