"""Office working calendars (工作日历): read one office's calendar, edit its hours and day overrides.

One place builds an office's :class:`~operational.calendars.WorkCalendar`
(:func:`calendar_for_office`): the office's weekly intervals (``org_calendar_interval``) or, with
none stored, the group default :data:`DEFAULT_WEEKLY`; China's public holidays and make-up working
days (调休) from the ``chinese_calendar`` package for every year it knows (:func:`china_days`);
then the office's own day overrides (``org_calendar_day``), which win. The warehouse rebuilds the
same calendar from the same tables and the same package (``warehouse/sla.py``); the rules are in
``docs/sla-clocks.md``. Edits are audited and need ``MANAGE_CALENDARS`` at the office.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time
from functools import cache
from itertools import pairwise
from types import MappingProxyType
from typing import Final, Literal

import chinese_calendar
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from operational import audit
from operational.auth import Permission, Principal
from operational.calendars import MIDNIGHT, Interval, WorkCalendar
from operational.errors import DomainError, NotFound, PermissionDenied
from operational.models import Office, OfficeCalendarDay, OfficeCalendarInterval

DayKind = Literal["holiday", "workday"]
DAY_KINDS: Final = ("holiday", "workday")
WEEKDAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday 0 = Monday … 6 = Sunday, as stored in ``org_calendar_interval``."""

_GROUP_DAY: Final[tuple[Interval, ...]] = ((time(9), time(12)), (time(13, 30), time(18)))
DEFAULT_WEEKLY: Final[Mapping[int, tuple[Interval, ...]]] = MappingProxyType(
    dict.fromkeys(range(1, 6), _GROUP_DAY)
)
"""The group default by ISO weekday: Monday–Friday 09:00–12:00 and 13:30–18:00."""

CHINA_MAKEUP_WEEKDAY: Final = 1
"""China's make-up working days are worked like a Monday (ISO weekday)."""


@cache
def china_days() -> tuple[frozenset[date], frozenset[date]]:
    """China's official public holidays and weekend make-up working days, for every year the
    installed ``chinese_calendar`` knows (1.11: 2004–2026). Years it does not know have none."""
    # Its own tables, read directly: what get_holidays / get_workdays over every known year
    # return, without testing each of 8 000 days (0.36 s, paid by every pipeline run).
    holidays: frozenset[date] = frozenset(chinese_calendar.holidays)
    workdays: frozenset[date] = frozenset(chinese_calendar.workdays)
    return holidays, frozenset(d for d in workdays if d.isoweekday() >= 6)


def office_by_code(session: Session, code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == code)).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=code)
    return office


def weekly_hours(session: Session, office: Office) -> dict[int, tuple[Interval, ...]]:
    """The office's stored intervals by ISO weekday (empty: it uses the group default)."""
    weekly: dict[int, list[Interval]] = {}
    for row in session.scalars(
        select(OfficeCalendarInterval)
        .where(OfficeCalendarInterval.office_id == office.id)
        .order_by(OfficeCalendarInterval.weekday, OfficeCalendarInterval.start_local)
    ):
        weekly.setdefault(row.weekday + 1, []).append((row.start_local, row.end_local))
    return {weekday: tuple(intervals) for weekday, intervals in weekly.items()}


def day_overrides(session: Session, office: Office) -> list[OfficeCalendarDay]:
    return list(
        session.scalars(
            select(OfficeCalendarDay)
            .where(OfficeCalendarDay.office_id == office.id)
            .order_by(OfficeCalendarDay.day)
        )
    )


def calendar_for_office(session: Session, office: Office) -> WorkCalendar:
    """The office's working calendar: its hours (or the group default), China's holidays and
    make-up days, then its own overrides. A make-up day worked like a weekday the office does not
    work is not worked (a holiday)."""
    weekly = weekly_hours(session, office) or dict(DEFAULT_WEEKLY)
    official_holidays, official_makeup = china_days()
    holidays = set(official_holidays)
    makeup = dict.fromkeys(official_makeup, CHINA_MAKEUP_WEEKDAY)
    for row in day_overrides(session, office):
        holidays.discard(row.day)
        makeup.pop(row.day, None)
        if row.kind == "holiday":
            holidays.add(row.day)
        else:
            makeup[row.day] = (row.as_weekday or 0) + 1
    for day, weekday in list(makeup.items()):
        if not weekly.get(weekday):
            del makeup[day]
            holidays.add(day)
    return WorkCalendar(office.timezone, weekly, frozenset(holidays), makeup)


def office_calendar(session: Session, office_code: str) -> WorkCalendar:
    """The working calendar of the office with this code (see :func:`calendar_for_office`)."""
    return calendar_for_office(session, office_by_code(session, office_code))


def _editable_office(session: Session, actor: Principal, office_code: str) -> Office:
    office = office_by_code(session, office_code)
    if not actor.can(Permission.MANAGE_CALENDARS, office.code):
        raise PermissionDenied("auth.not_allowed")
    return office


def _span(interval: Interval) -> tuple[time, time | None]:
    """Start and end, with an end of 00:00 read as 24:00 (None sorts it last)."""
    start, end = interval
    return start, None if end == MIDNIGHT else end


def validate_week(
    intervals_by_weekday: Mapping[int, Sequence[Interval]],
) -> dict[int, list[Interval]]:
    """Checked and sorted intervals by weekday (0 = Monday … 6 = Sunday)."""
    week: dict[int, list[Interval]] = {}
    for weekday, intervals in intervals_by_weekday.items():
        if weekday not in range(7):
            raise DomainError("calendars.bad_weekday", weekday=weekday)
        name = WEEKDAY_NAMES[weekday]
        ordered = sorted(intervals, key=lambda i: i[0])
        for start, end in ordered:
            if end != MIDNIGHT and end <= start:
                raise DomainError(
                    "calendars.end_not_after_start", weekday=name, start=_hm(start), end=_hm(end)
                )
        for (s1, e1), (s2, e2) in pairwise(ordered):
            if e1 == MIDNIGHT or e1 > s2:
                raise DomainError(
                    "calendars.overlap",
                    weekday=name,
                    first=f"{_hm(s1)}–{_hm(e1)}",
                    second=f"{_hm(s2)}–{_hm(e2)}",
                )
        if ordered:
            week[weekday] = ordered
    return week


def _hm(clock: time) -> str:
    return "24:00" if clock == MIDNIGHT else clock.strftime("%H:%M")


def _week_snapshot(weekly: Mapping[int, Sequence[Interval]]) -> dict[str, list[str]]:
    """By ISO weekday → {"mon": ["09:00–12:00", …]} for the audit log."""
    return {
        WEEKDAY_NAMES[weekday - 1]: [f"{_hm(s)}–{_hm(e)}" for s, e in intervals]
        for weekday, intervals in sorted(weekly.items())
    }


def set_working_hours(
    session: Session,
    actor: Principal,
    office_code: str,
    intervals_by_weekday: Mapping[int, Sequence[Interval]],
) -> None:
    """Replace the office's weekly working hours (weekday 0 = Monday … 6 = Sunday; a weekday left
    out is not worked). Intervals must end after they start (an end of 00:00 means 24:00) and not
    overlap. An empty mapping returns the office to the group default. Clocks already started
    keep their deadlines."""
    office = _editable_office(session, actor, office_code)
    week = validate_week(intervals_by_weekday)
    before = weekly_hours(session, office)
    session.execute(
        delete(OfficeCalendarInterval).where(OfficeCalendarInterval.office_id == office.id)
    )
    for weekday, intervals in sorted(week.items()):
        for start, end in intervals:
            session.add(
                OfficeCalendarInterval(
                    office_id=office.id, weekday=weekday, start_local=start, end_local=end
                )
            )
    session.flush()
    after = {weekday + 1: tuple(intervals) for weekday, intervals in week.items()}
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="org_calendar_interval",
        entity_key=office.code,
        before=_week_snapshot(before) if before else {"default": True},
        after=_week_snapshot(after) if after else {"default": True},
    )


def add_day_override(
    session: Session,
    actor: Principal,
    office_code: str,
    day: date,
    kind: DayKind,
    as_weekday: int | None = None,
) -> None:
    """Make ``day`` a holiday or a working day for the office, whatever China's list says.

    A working day is worked with the intervals of ``as_weekday`` (0 = Monday … 6 = Sunday; default
    Monday), which the office must work. Replaces an earlier override of the same day.
    """
    office = _editable_office(session, actor, office_code)
    if kind not in DAY_KINDS:
        raise DomainError("calendars.bad_kind", kind=kind)
    if kind == "holiday" and as_weekday is not None:
        raise DomainError("calendars.holiday_has_no_weekday")
    if as_weekday is not None and as_weekday not in range(7):
        raise DomainError("calendars.bad_weekday", weekday=as_weekday)
    if kind == "workday":
        weekly = weekly_hours(session, office) or dict(DEFAULT_WEEKLY)
        if not weekly.get((as_weekday or 0) + 1):
            raise DomainError(
                "calendars.weekday_not_worked", weekday=WEEKDAY_NAMES[as_weekday or 0]
            )
    row = session.scalars(
        select(OfficeCalendarDay).where(
            OfficeCalendarDay.office_id == office.id, OfficeCalendarDay.day == day
        )
    ).one_or_none()
    before = {"kind": row.kind, "as_weekday": row.as_weekday} if row else None
    if row is None:
        row = OfficeCalendarDay(office_id=office.id, day=day, kind=kind)
        session.add(row)
    row.kind = kind
    row.as_weekday = as_weekday
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="update" if before else "create",
        entity="org_calendar_day",
        entity_key=f"{office.code}:{day.isoformat()}",
        before=before,
        after={"kind": kind, "as_weekday": as_weekday},
    )


def remove_day_override(session: Session, actor: Principal, office_code: str, day: date) -> None:
    """Drop the office's override of ``day``: China's list (or the weekday) applies again."""
    office = _editable_office(session, actor, office_code)
    row = session.scalars(
        select(OfficeCalendarDay).where(
            OfficeCalendarDay.office_id == office.id, OfficeCalendarDay.day == day
        )
    ).one_or_none()
    if row is None:
        raise NotFound("calendars.no_override", office=office.code, day=day.isoformat())
    before = {"kind": row.kind, "as_weekday": row.as_weekday}
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="delete",
        entity="org_calendar_day",
        entity_key=f"{office.code}:{day.isoformat()}",
        before=before,
    )
