"""The append-only audit log (审计日志): who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One change. Rows are never updated or deleted (database triggers refuse it)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_office_at", "office_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(64))
    entity_key: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("org_office.id"), default=None)
    """The office whose record the entry concerns; None for a group-level entry (users, the
    object-type tree, the group's calendar, an import spanning offices), which only group-scope
    readers of the audit log see."""
