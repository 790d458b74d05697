"""Energy: buildings, metering points (计量点), meter installations (仪表) and readings (抄表读数).

A *point* is a fixed place in the meter tree; a *meter* row is one installation of a device at a
point, from ``installed_at`` (with its initial reading) to ``removed_at`` (with its final
reading). Readings are append-only: a correction adds a row that supersedes the old one, a
withdrawal adds a ``void`` row; rows are never updated or deleted. The warehouse reads these
tables by name (see ``docs/data-contracts.md``) and extracts ``energy_reading`` incrementally by id.

Quantities are ``Numeric``; on SQLite they are stored as REAL (8-byte floats, exact to the
15 significant digits a register reading needs) and read back as ``Decimal``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow

READING_TYPE = Numeric(18, 3, asdecimal=True)


class EnergyKind(enum.StrEnum):
    ELECTRICITY = "electricity"
    WATER = "water"


class ReadingSource(enum.StrEnum):
    FORM = "form"
    SCAN = "scan"
    IMPORT = "import"
    DEMO = "demo"


class ReadingFlag(enum.StrEnum):
    ROLLOVER = "rollover"
    HIGH = "high"


class Building(Base):
    """A building (楼栋) of an office's estate; its area serves consumption per m²."""

    __tablename__ = "energy_building"
    __table_args__ = (UniqueConstraint("office_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"))
    name: Mapped[str] = mapped_column(String(100))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2, asdecimal=True), default=None)


class MeterPoint(Base):
    """A metering point (计量点): a fixed place in the meter tree of one office and one kind."""

    __tablename__ = "energy_point"
    __table_args__ = (CheckConstraint("kind IN ('electricity', 'water')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("energy_point.id"), default=None)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("energy_building.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Meter(Base):
    """One installation of a meter (仪表) at a point; at most one open installation per point."""

    __tablename__ = "energy_meter"
    __table_args__ = (
        Index(
            "uq_energy_meter_open_point",
            "point_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("energy_point.id"), index=True)
    serial: Mapped[str | None] = mapped_column(String(64), default=None)
    multiplier: Mapped[Decimal] = mapped_column(
        Numeric(12, 4, asdecimal=True), default=Decimal(1), server_default="1"
    )
    digits: Mapped[int | None] = mapped_column(Integer, default=None)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    initial_reading: Mapped[Decimal] = mapped_column(READING_TYPE)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    final_reading: Mapped[Decimal | None] = mapped_column(READING_TYPE, default=None)


class Reading(Base):
    """A meter reading (抄表读数). Never updated or deleted: corrections supersede.

    The rows of one installation at one instant form one chain: a first entry (``supersedes_id``
    NULL), then each correction or withdrawal (``void``) superseding the row before it, and a
    reading entered again after a withdrawal superseding the ``void`` row. Only the chain's last
    row can be effective, so the database itself holds at most one effective reading per
    installation and instant (migration ``0010_reading_integrity``):

    * ``uq_energy_reading_meter_instant`` — one first entry per ``(meter_id, read_at)``;
    * ``uq_energy_reading_supersedes_id`` — a row is superseded at most once;
    * a trigger (``trg_energy_reading_same_instant``) — a row supersedes only a row of the same
      installation and instant.
    """

    __tablename__ = "energy_reading"
    __table_args__ = (
        Index("ix_energy_reading_point_id_read_at", "point_id", "read_at"),
        # Only corrections: the superseded check (supersedes_id = id) implies NOT NULL, and a
        # full index on a nearly always NULL column makes SQLite scan once ANALYZE has run.
        Index(
            "uq_energy_reading_supersedes_id",
            "supersedes_id",
            unique=True,
            sqlite_where=text("supersedes_id IS NOT NULL"),
            postgresql_where=text("supersedes_id IS NOT NULL"),
        ),
        # The withdrawals, few: where a reading entered again must continue a chain.
        Index(
            "ix_energy_reading_void",
            "meter_id",
            "read_at",
            sqlite_where=text("void = 1"),
            postgresql_where=text("void"),
        ),
        CheckConstraint("source IN ('form', 'scan', 'import', 'demo')", name="source"),
        CheckConstraint("flag IS NULL OR flag IN ('rollover', 'high')", name="flag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("energy_point.id"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("energy_meter.id"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reading: Mapped[Decimal] = mapped_column(READING_TYPE)
    source: Mapped[str] = mapped_column(String(16))
    flag: Mapped[str | None] = mapped_column(String(16), default=None)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("energy_reading.id"), default=None)
    void: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


Index(
    "uq_energy_reading_meter_instant",
    Reading.meter_id,
    Reading.read_at,
    func.coalesce(Reading.supersedes_id, 0),
    unique=True,
)
"""One first entry per installation and instant; also the index of an installation's readings
by time (it replaced ``ix_energy_reading_meter_id_read_at``)."""


class ExceptionFollowUp(Base):
    """An office's follow-up (跟进) of an energy exception: a note, and whether it is done.

    An exception lives in the warehouse (``marts.energy_exceptions``) and is named by its point,
    its rule and its start instant, which stay the same from one build to the next. Each
    follow-up is a row of its own (the latest counts), so the history stays; every one is also
    in the audit log. The warehouse extracts this table whole.
    """

    __tablename__ = "energy_exception_followup"
    __table_args__ = (Index("ix_energy_exception_followup_key", "point_id", "rule", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("energy_point.id"))
    rule: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    followed_up_by: Mapped[str] = mapped_column(String(64))
    followed_up_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
