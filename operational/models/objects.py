"""Object management (对象管理): the group's object-type tree and each office's objects.

The group defines one tree of object types under four discipline roots (engineering, landscaping,
security, cleaning). A type carries typed attributes (an elevator: brand, model, rated load) and
its work standard (作业标准): the checklist items a periodic order answers for each object of the
type. Offices add concrete objects under a type.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow


class Discipline(enum.StrEnum):
    """The four maintenance disciplines (专业); each is the root of the object-type tree."""

    ENGINEERING = "engineering"  # 工程
    LANDSCAPING = "landscaping"  # 园艺
    SECURITY = "security"  # 秩序
    CLEANING = "cleaning"  # 保洁


INSPECTION_DISCIPLINES: tuple[str, ...] = (*(d.value for d in Discipline), "customer_service")
"""The disciplines an inspection plan, its orders and the nonconformities its failed items open
may have: the four maintenance disciplines and customer service (客服), whose supervisor inspects
too. Customer service has no object types, orders or contracts, so it is not a
:class:`Discipline`."""


class AttributeKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"


class ObjectType(Base):
    """One node of the group-wide type tree; a root has no parent. The discipline is the root's."""

    __tablename__ = "maint_object_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("maint_object_type.id"), default=None, index=True
    )
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(20))


class ObjectTypeAttribute(Base):
    """A typed attribute an object of this type (and its sub-types) records, e.g. rated load (kg)."""

    __tablename__ = "maint_object_type_attribute"
    __table_args__ = (
        UniqueConstraint("type_id", "code"),
        CheckConstraint("kind IN ('text', 'number', 'date')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("maint_object_type.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    unit: Mapped[str | None] = mapped_column(String(20), default=None)
    required: Mapped[bool] = mapped_column(default=False, server_default=false())


class ChecklistItem(Base):
    """One item of a type's work standard (作业标准), answered ✓ or ✗ by every periodic order."""

    __tablename__ = "maint_checklist_item"
    __table_args__ = (UniqueConstraint("type_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("maint_object_type.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    guidance: Mapped[str | None] = mapped_column(String(2000), default=None)


class MaintObject(Base):
    """A concrete object an office maintains: an elevator, a pump room, a lawn zone, a guard post."""

    __tablename__ = "maint_object"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("maint_object_type.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
