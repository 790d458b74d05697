"""The fault library (故障库): common faults per object type, with cause and remedy.

Entries belong to the group (every office reads the same library) and to one object type; an
object's card shows the entries of its type and of the type's ancestors, so an entry filed under
"engineering equipment" applies to every elevator and pump as well.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow


class Fault(Base):
    """One known fault of an object type: what is seen, why it happens, what to do."""

    __tablename__ = "maint_fault"
    __table_args__ = (UniqueConstraint("type_id", "symptom"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("maint_object_type.id"), index=True)
    symptom: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(1000), default="")
    remedy: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
