"""Office working calendars (工作日历) as stored data: weekly working hours and day overrides.

An office without ``org_calendar_interval`` rows works the group default (Mon–Fri 09:00–12:00 and
13:30–18:00); China's public holidays and make-up working days (调休) come from the
``chinese_calendar`` package for the years it knows; ``org_calendar_day`` rows override single
days. :func:`operational.services.calendars.office_calendar` turns all of that into one
:class:`operational.calendars.WorkCalendar`. Weekdays here are 0 = Monday … 6 = Sunday
(``date.weekday()``). Rules: ``docs/sla-clocks.md``.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base


class OfficeCalendarInterval(Base):
    """One working interval ``[start_local, end_local)`` of one weekday of an office (local wall
    time; an end of 00:00 means 24:00). A lunch break is two rows for the weekday."""

    __tablename__ = "org_calendar_interval"
    __table_args__ = (
        UniqueConstraint("office_id", "weekday", "start_local"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_local: Mapped[time] = mapped_column(Time())
    end_local: Mapped[time] = mapped_column(Time())


class OfficeCalendarDay(Base):
    """An office's override of one local day: ``holiday`` (not worked) or ``workday`` (worked with
    the intervals of ``as_weekday``, 0 = Monday … 6 = Sunday; NULL: Monday). It wins over China's
    holiday list for that day."""

    __tablename__ = "org_calendar_day"
    __table_args__ = (
        UniqueConstraint("office_id", "day"),
        CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),
        CheckConstraint(
            "as_weekday IS NULL OR (kind = 'workday' AND as_weekday BETWEEN 0 AND 6)",
            name="as_weekday_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    as_weekday: Mapped[int | None] = mapped_column(Integer, default=None)
