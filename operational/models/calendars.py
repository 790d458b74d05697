"""Working calendars (工作日历) as stored data: weekly working hours and day overrides.

Two levels. **The group** (rows with ``office_id`` NULL): its week, worked by every office without
its own, and its days — the official list of public holidays and make-up working days (调休)
loaded each year (``propcloud import calendar-days`` with an empty ``office_code``), which wins
over the ``chinese_calendar`` package for the days it names. **An office** (``office_id`` set):
its own week and its own days, which win over the group's. Without any week stored the group
default applies (Mon–Fri 09:00–12:00 and 13:30–18:00).
:func:`operational.services.calendars.office_calendar` turns all of that into one
:class:`operational.calendars.WorkCalendar`. Weekdays here are 0 = Monday … 6 = Sunday
(``date.weekday()``). Rules: ``docs/sla-clocks.md``.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base

_GROUP_ROW = text("office_id IS NULL")


class OfficeCalendarInterval(Base):
    """One working interval ``[start_local, end_local)`` of one weekday (local wall time; an end
    of 00:00 means 24:00) of an office, or of the group's week (``office_id`` NULL). A lunch
    break is two rows for the weekday."""

    __tablename__ = "org_calendar_interval"
    __table_args__ = (
        UniqueConstraint("office_id", "weekday", "start_local"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        # NULLs are distinct in a unique constraint: the group's rows get their own index.
        Index(
            "uq_org_calendar_interval_group_weekday_start_local",
            "weekday",
            "start_local",
            unique=True,
            sqlite_where=_GROUP_ROW,
            postgresql_where=_GROUP_ROW,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("org_office.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_local: Mapped[time] = mapped_column(Time())
    end_local: Mapped[time] = mapped_column(Time())


class OfficeCalendarDay(Base):
    """An override of one local day, for an office or for the whole group (``office_id`` NULL):
    ``holiday`` (not worked) or ``workday`` (worked: with its own intervals,
    :class:`OfficeCalendarDayInterval`, or else with those of ``as_weekday``, 0 = Monday … 6 =
    Sunday, NULL: Monday). An office's row wins over the group's, the group's over the
    ``chinese_calendar`` package."""

    __tablename__ = "org_calendar_day"
    __table_args__ = (
        UniqueConstraint("office_id", "day"),
        CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),
        CheckConstraint(
            "as_weekday IS NULL OR (kind = 'workday' AND as_weekday BETWEEN 0 AND 6)",
            name="as_weekday_range",
        ),
        Index(
            "uq_org_calendar_day_group_day",
            "day",
            unique=True,
            sqlite_where=_GROUP_ROW,
            postgresql_where=_GROUP_ROW,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("org_office.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    as_weekday: Mapped[int | None] = mapped_column(Integer, default=None)


class OfficeCalendarDayInterval(Base):
    """One working interval of a ``workday`` override worked with its own hours (a short day,
    a make-up day with other hours); several rows for several intervals."""

    __tablename__ = "org_calendar_day_interval"
    __table_args__ = (UniqueConstraint("day_id", "start_local"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(
        ForeignKey("org_calendar_day.id", ondelete="CASCADE"), index=True
    )
    start_local: Mapped[time] = mapped_column(Time())
    end_local: Mapped[time] = mapped_column(Time())
