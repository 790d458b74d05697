"""Working calendars (工作日历): read an office's calendar, edit hours and day overrides.

One place builds an office's :class:`~operational.calendars.WorkCalendar`
(:func:`calendar_for_office`), in three layers, each winning over the one before:

1. **the package**: China's public holidays and make-up working days (调休) from the
   ``chinese_calendar`` package for every year it knows (:func:`china_days`; 1.11: up to 2026);
2. **the group** (rows with ``office_id`` NULL): its week (else :data:`DEFAULT_WEEKLY`) and its
   days — the official list loaded each year with ``propcloud import calendar-days`` and an empty
   ``office_code`` (:func:`group_days`), which wins over the package for each day it names;
3. **the office**: its own week (replacing the group's whole) and its own days.

The warehouse rebuilds the same calendars from the same tables and the same package
(``warehouse/sla.py``); the rules are in ``docs/sla-clocks.md``. Edits are audited and need
``MANAGE_CALENDARS`` at the office (the group's rows: at group scope). :func:`years_without_holidays`
says which of this year and next has no holiday data, so that a missing list never passes
silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from itertools import pairwise
from types import MappingProxyType
from typing import Final, Literal

import chinese_calendar
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from operational import audit, entry, sla
from operational.auth import Permission, Principal
from operational.calendars import MIDNIGHT, Interval, WorkCalendar
from operational.calendars import years_without_holidays as _years_without
from operational.errors import DomainError, FormRejected, NotFound, PermissionDenied, Term
from operational.models import (
    Office,
    OfficeCalendarDay,
    OfficeCalendarDayInterval,
    OfficeCalendarInterval,
)
from operational.scope import office_code_clause, scoped_read

DayKind = Literal["holiday", "workday"]
DAY_KINDS: Final = ("holiday", "workday")
WEEKDAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday 0 = Monday … 6 = Sunday, as stored in ``org_calendar_interval``."""
GROUP_KEY: Final = "*"
"""The audit key of the group's own calendar rows (no office code contains it)."""

_GROUP_DAY: Final[tuple[Interval, ...]] = ((time(9), time(12)), (time(13, 30), time(18)))
DEFAULT_WEEKLY: Final[Mapping[int, tuple[Interval, ...]]] = MappingProxyType(
    dict.fromkeys(range(1, 6), _GROUP_DAY)
)
"""The group default by ISO weekday, while the group has stored no week of its own:
Monday–Friday 09:00–12:00 and 13:30–18:00."""

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


@dataclass(frozen=True)
class DayOverride:
    """One stored day of an office or of the group: a holiday, or a working day worked with
    its own ``hours`` or else like ``as_weekday`` (0 = Monday … 6 = Sunday; None: Monday)."""

    day: date
    kind: DayKind
    as_weekday: int | None = None
    hours: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class CalendarDays:
    """Holidays, make-up days (date → ISO weekday worked) and days with their own hours."""

    holidays: frozenset[date]
    makeup_days: Mapping[date, int]
    day_hours: Mapping[date, tuple[Interval, ...]]


@dataclass(frozen=True)
class CalendarChoice:
    """A calendar a user may edit: an office's, or the group's (``office_code`` None)."""

    office_code: str | None
    name: str
    timezone: str


def office_by_code(session: Session, code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == code)).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=code)
    return office


def _office_filter(office: Office | None) -> ColumnElement[bool]:
    """The rows of ``office``, or of the group (``office_id`` NULL) for None."""
    return (
        OfficeCalendarInterval.office_id.is_(None)
        if office is None
        else OfficeCalendarInterval.office_id == office.id
    )


def weekly_hours(session: Session, office: Office | None) -> dict[int, tuple[Interval, ...]]:
    """The stored intervals by ISO weekday of the office, or of the group for None (empty: the
    office works the group's week; the group, :data:`DEFAULT_WEEKLY`)."""
    weekly: dict[int, list[Interval]] = {}
    for row in session.scalars(
        select(OfficeCalendarInterval)
        .where(_office_filter(office))
        .order_by(OfficeCalendarInterval.weekday, OfficeCalendarInterval.start_local)
    ):
        weekly.setdefault(row.weekday + 1, []).append((row.start_local, row.end_local))
    return {weekday: tuple(intervals) for weekday, intervals in weekly.items()}


def group_week(session: Session) -> dict[int, tuple[Interval, ...]]:
    """The week every office without its own works: the group's stored one, else the default."""
    return weekly_hours(session, None) or dict(DEFAULT_WEEKLY)


def week_of(session: Session, office: Office) -> dict[int, tuple[Interval, ...]]:
    """The week the office works: its own, else the group's."""
    return weekly_hours(session, office) or group_week(session)


def day_overrides(session: Session, office: Office | None) -> list[DayOverride]:
    """The stored days of the office, or of the group for None, by date."""
    day_filter = (
        OfficeCalendarDay.office_id.is_(None)
        if office is None
        else OfficeCalendarDay.office_id == office.id
    )
    rows = session.execute(
        select(OfficeCalendarDay, OfficeCalendarDayInterval)
        .outerjoin(
            OfficeCalendarDayInterval, OfficeCalendarDayInterval.day_id == OfficeCalendarDay.id
        )
        .where(day_filter)
        .order_by(OfficeCalendarDay.day, OfficeCalendarDayInterval.start_local)
    ).all()
    found: dict[date, DayOverride] = {}
    for day, interval in rows:
        current = found.get(day.day) or DayOverride(
            day.day, "holiday" if day.kind == "holiday" else "workday", day.as_weekday
        )
        if interval is not None:
            current = DayOverride(
                current.day,
                current.kind,
                current.as_weekday,
                (*current.hours, (interval.start_local, interval.end_local)),
            )
        found[day.day] = current
    return list(found.values())


def _apply(
    overrides: Iterable[DayOverride],
    holidays: set[date],
    makeup: dict[date, int],
    hours: dict[date, tuple[Interval, ...]],
) -> None:
    """Each override replaces whatever the day was."""
    for row in overrides:
        holidays.discard(row.day)
        makeup.pop(row.day, None)
        hours.pop(row.day, None)
        if row.kind == "holiday":
            holidays.add(row.day)
        elif row.hours:
            hours[row.day] = row.hours
        else:
            makeup[row.day] = (row.as_weekday or 0) + 1


def group_days(session: Session) -> CalendarDays:
    """The group's days: China's from the package, overridden by the group's stored days (the
    official lists loaded for the years the package does not know, or corrections)."""
    official_holidays, official_makeup = china_days()
    holidays = set(official_holidays)
    makeup = dict.fromkeys(official_makeup, CHINA_MAKEUP_WEEKDAY)
    hours: dict[date, tuple[Interval, ...]] = {}
    _apply(day_overrides(session, None), holidays, makeup, hours)
    return CalendarDays(frozenset(holidays), makeup, hours)


def years_without_holidays(session: Session, today: date) -> list[int]:
    """Which of ``today``'s year and the next have no public holiday in the group's calendar
    (package and loaded lists): those years need the official list loaded (docs/sla-clocks.md)."""
    return _years_without(group_days(session).holidays, today)


def calendar_for_office(session: Session, office: Office) -> WorkCalendar:
    """The office's working calendar: its week (or the group's), the group's days (China's and
    the loaded lists), then its own days. A make-up day worked like a weekday the office does
    not work is not worked (a holiday)."""
    weekly = week_of(session, office)
    days = group_days(session)
    holidays = set(days.holidays)
    makeup = dict(days.makeup_days)
    hours = dict(days.day_hours)
    _apply(day_overrides(session, office), holidays, makeup, hours)
    for day, weekday in list(makeup.items()):
        if not weekly.get(weekday):
            del makeup[day]
            holidays.add(day)
    return WorkCalendar(office.timezone, weekly, frozenset(holidays), makeup, hours)


def office_calendar(session: Session, office_code: str) -> WorkCalendar:
    """The working calendar of the office with this code (see :func:`calendar_for_office`)."""
    return calendar_for_office(session, office_by_code(session, office_code))


def may_edit(actor: Principal, office_code: str | None) -> bool:
    """Whether ``actor`` may edit the office's calendar (``None``: the group's, which needs
    group scope, as the system principal of the command line has)."""
    if office_code is None:
        return actor.offices_for(Permission.MANAGE_CALENDARS) is None
    return actor.can(Permission.MANAGE_CALENDARS, office_code)


@scoped_read(Permission.MANAGE_CALENDARS)
def editable_calendars(session: Session, principal: Principal) -> list[CalendarChoice]:
    """The calendars ``principal`` may edit: the group's first (group scope only), then the
    offices, by code — filtered in the query."""
    group = principal.offices_for(Permission.MANAGE_CALENDARS) is None
    query = (
        select(Office.code, Office.name, Office.timezone)
        .where(office_code_clause(principal, Permission.MANAGE_CALENDARS, Office.code))
        .order_by(Office.code)
    )
    choices = [CalendarChoice(None, "", "Asia/Shanghai")] if group else []
    return choices + [
        CalendarChoice(code, name, zone) for code, name, zone in session.execute(query)
    ]


def _manageable(session: Session, principal: Principal, office_code: str | None) -> Office | None:
    """The office whose calendar ``principal`` may manage (None: the group's, at group scope),
    read with the scope inside the query; any other is :class:`NotFound`, as a missing one."""
    if office_code is None:
        if principal.offices_for(Permission.MANAGE_CALENDARS) is not None:
            raise NotFound("users.unknown_office", code=GROUP_KEY)
        return None
    office = session.scalars(
        select(Office).where(
            Office.code == office_code,
            office_code_clause(principal, Permission.MANAGE_CALENDARS, Office.code),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    return office


def _editable(session: Session, actor: Principal, office_code: str | None) -> Office | None:
    """The office to edit (None: the group's rows), if ``actor`` may."""
    office = None if office_code is None else office_by_code(session, office_code)
    if not may_edit(actor, office_code):
        raise PermissionDenied("auth.not_allowed")
    return office


def clock_text(clock: time) -> str:
    """``09:00``; an end of 00:00 as ``24:00``."""
    return "24:00" if clock == MIDNIGHT else clock.strftime("%H:%M")


def span_text(interval: Interval) -> str:
    """``09:00–12:00`` (an end of 00:00 shown as 24:00)."""
    return f"{clock_text(interval[0])}–{clock_text(interval[1])}"


def intervals_text(intervals: Iterable[Interval]) -> str:
    """``09:00-12:00, 13:30-18:00``: what :func:`parse_intervals` reads back."""
    return ", ".join(f"{clock_text(s)}-{clock_text(e)}" for s, e in intervals)


def parse_clock(text: str, *, end: bool = False) -> time | None:
    """``HH:MM`` (or ``H:MM``, or ``HH:MM:SS`` as a spreadsheet writes a time); ``24:00`` as an
    end means midnight (stored as 00:00). None if it is not a time of day."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    if len(parts[0]) > 2 or any(len(p) != 2 for p in parts[1:]):
        return None
    hour, minute, second = int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 0
    if end and (hour, minute, second) == (24, 0, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """``09:00-12:00, 13:30-18:00`` (separated by commas, ``、`` or ``;``; ``-``, ``–`` or ``~``
    between start and end) → intervals in the order written; blank → none."""
    spans = [
        span.strip()
        for span in text.replace("，", ",").replace("、", ",").replace(";", ",").split(",")
    ]
    intervals: list[Interval] = []
    for span in filter(None, spans):
        for dash in ("-", "–", "~", "～"):
            start_text, found, end_text = span.partition(dash)
            if found:
                break
        start = parse_clock(start_text) if found else None
        end = parse_clock(end_text, end=True) if found else None
        if start is None or end is None:
            raise DomainError("calendars.bad_interval", value=span)
        intervals.append((start, end))
    return tuple(intervals)


def interval_problems(label: str, intervals: Sequence[Interval]) -> list[DomainError]:
    """What is wrong with one day's intervals (``label`` names the day in the messages): an
    interval that does not end after it starts (an end of 00:00 means 24:00), two that overlap."""
    problems: list[DomainError] = []
    ordered = sorted(intervals, key=lambda i: i[0])
    for start, end in ordered:
        if end != MIDNIGHT and end <= start:
            problems.append(
                DomainError(
                    "calendars.end_not_after_start",
                    weekday=label,
                    start=clock_text(start),
                    end=clock_text(end),
                )
            )
    for first, second in pairwise(ordered):
        if first[1] == MIDNIGHT or first[1] > second[0]:
            problems.append(
                DomainError(
                    "calendars.overlap",
                    weekday=label,
                    first=span_text(first),
                    second=span_text(second),
                )
            )
    return problems


def validate_week(
    intervals_by_weekday: Mapping[int, Sequence[Interval]],
) -> dict[int, list[Interval]]:
    """Checked and sorted intervals by weekday (0 = Monday … 6 = Sunday); every problem found
    is reported at once (:class:`FormRejected`)."""
    week: dict[int, list[Interval]] = {}
    problems: list[DomainError] = []
    for weekday, intervals in sorted(intervals_by_weekday.items()):
        if weekday not in range(7):
            problems.append(DomainError("calendars.bad_weekday", weekday=weekday))
            continue
        problems += interval_problems(WEEKDAY_NAMES[weekday], intervals)
        if intervals:
            week[weekday] = sorted(intervals, key=lambda i: i[0])
    if problems:
        raise FormRejected(problems)
    return week


def _week_snapshot(weekly: Mapping[int, Sequence[Interval]]) -> dict[str, list[str]]:
    """By ISO weekday → {"mon": ["09:00–12:00", …]} for the audit log."""
    return {
        WEEKDAY_NAMES[weekday - 1]: [span_text(i) for i in intervals]
        for weekday, intervals in sorted(weekly.items())
    }


def _key(office: Office | None) -> str:
    return GROUP_KEY if office is None else office.code


def set_working_hours(
    session: Session,
    actor: Principal,
    office_code: str | None,
    intervals_by_weekday: Mapping[int, Sequence[Interval]],
) -> None:
    """Replace the weekly working hours of the office, or of the group for None (weekday 0 =
    Monday … 6 = Sunday; a weekday left out is not worked). Intervals must end after they start
    (an end of 00:00 means 24:00) and not overlap. An empty mapping returns the office to the
    group's week (the group: to the default). Clocks already started keep their deadlines."""
    office = _editable(session, actor, office_code)
    week = validate_week(intervals_by_weekday)
    before = weekly_hours(session, office)
    session.execute(delete(OfficeCalendarInterval).where(_office_filter(office)))
    for weekday, intervals in sorted(week.items()):
        for start, end in intervals:
            session.add(
                OfficeCalendarInterval(
                    office_id=None if office is None else office.id,
                    weekday=weekday,
                    start_local=start,
                    end_local=end,
                )
            )
    session.flush()
    after = {weekday + 1: tuple(intervals) for weekday, intervals in week.items()}
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="org_calendar_interval",
        entity_key=_key(office),
        office_id=None if office is None else office.id,
        before=_week_snapshot(before) if before else {"default": True},
        after=_week_snapshot(after) if after else {"default": True},
    )


def _day_row(session: Session, office: Office | None, day: date) -> OfficeCalendarDay | None:
    owner = (
        OfficeCalendarDay.office_id.is_(None)
        if office is None
        else OfficeCalendarDay.office_id == office.id
    )
    return session.scalars(
        select(OfficeCalendarDay).where(owner, OfficeCalendarDay.day == day)
    ).one_or_none()


def _day_snapshot(override: DayOverride) -> dict[str, object]:
    snapshot: dict[str, object] = {"kind": override.kind, "as_weekday": override.as_weekday}
    if override.hours:
        snapshot["hours"] = [span_text(i) for i in override.hours]
    return snapshot


def stored_day(session: Session, office: Office | None, day: date) -> DayOverride | None:
    """The stored override of ``day`` for the office (None: the group), if any."""
    row = _day_row(session, office, day)
    if row is None:
        return None
    hours = tuple(
        (i.start_local, i.end_local)
        for i in session.scalars(
            select(OfficeCalendarDayInterval)
            .where(OfficeCalendarDayInterval.day_id == row.id)
            .order_by(OfficeCalendarDayInterval.start_local)
        )
    )
    kind: DayKind = "holiday" if row.kind == "holiday" else "workday"
    return DayOverride(row.day, kind, row.as_weekday, hours)


def add_day_override(
    session: Session,
    actor: Principal,
    office_code: str | None,
    day: date,
    kind: DayKind,
    as_weekday: int | None = None,
    hours: Sequence[Interval] = (),
) -> None:
    """Make ``day`` a holiday or a working day for the office (None: for the whole group),
    whatever the layers below say (docs/sla-clocks.md).

    A working day is worked with its own ``hours`` if given, else with the intervals of
    ``as_weekday`` (0 = Monday … 6 = Sunday; default Monday), which an office must work.
    Replaces an earlier override of the same day. Every problem is reported at once.
    """
    office = _editable(session, actor, office_code)
    problems: list[DomainError] = []
    too_early = entry.day_refusal(day)
    if too_early is not None:
        key, params = too_early
        problems.append(
            DomainError(key, column=Term("entry.field.day"), value=day.isoformat(), **params)
        )
    if kind not in DAY_KINDS:
        problems.append(DomainError("calendars.bad_kind", kind=kind))
    if kind == "holiday" and (as_weekday is not None or hours):
        problems.append(DomainError("calendars.holiday_has_no_weekday"))
    if as_weekday is not None and as_weekday not in range(7):
        problems.append(DomainError("calendars.bad_weekday", weekday=as_weekday))
    if hours and as_weekday is not None:
        problems.append(DomainError("calendars.hours_or_weekday"))
    if kind == "workday" and hours:
        problems += interval_problems(day.isoformat(), hours)
    elif (
        kind == "workday"
        and office is not None
        and as_weekday in (None, *range(7))
        and not week_of(session, office).get((as_weekday or 0) + 1)
    ):
        problems.append(
            DomainError("calendars.weekday_not_worked", weekday=WEEKDAY_NAMES[as_weekday or 0])
        )
    if problems:
        raise FormRejected(problems)
    before = stored_day(session, office, day)
    row = _day_row(session, office, day)
    if row is None:
        row = OfficeCalendarDay(office_id=None if office is None else office.id, day=day, kind=kind)
        session.add(row)
    row.kind = kind
    row.as_weekday = as_weekday
    session.flush()
    session.execute(
        delete(OfficeCalendarDayInterval).where(OfficeCalendarDayInterval.day_id == row.id)
    )
    ordered = tuple(sorted(hours, key=lambda i: i[0]))
    for start, end in ordered:
        session.add(OfficeCalendarDayInterval(day_id=row.id, start_local=start, end_local=end))
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="update" if before else "create",
        entity="org_calendar_day",
        entity_key=f"{_key(office)}:{day.isoformat()}",
        office_id=None if office is None else office.id,
        before=_day_snapshot(before) if before else None,
        after=_day_snapshot(DayOverride(day, kind, as_weekday, ordered)),
    )


def remove_day_override(
    session: Session, actor: Principal, office_code: str | None, day: date
) -> None:
    """Drop the override of ``day`` of the office (None: of the group): the layer below (the
    group's days, China's list, the weekday) applies again."""
    office = _editable(session, actor, office_code)
    before = stored_day(session, office, day)
    row = _day_row(session, office, day)
    if row is None or before is None:
        raise NotFound("calendars.no_override", office=_key(office), day=day.isoformat())
    session.execute(
        delete(OfficeCalendarDayInterval).where(OfficeCalendarDayInterval.day_id == row.id)
    )
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="delete",
        entity="org_calendar_day",
        entity_key=f"{_key(office)}:{day.isoformat()}",
        office_id=None if office is None else office.id,
        before=_day_snapshot(before),
    )


# --- reading a calendar for the calendar page -----------------------------------------------


@dataclass(frozen=True)
class CalendarView:
    """One calendar as the calendar page shows it: the office's (or the group's, for
    ``office_code`` None), the week it works and whether that week is its own, its own days."""

    office_code: str | None
    timezone: str
    week: Mapping[int, tuple[Interval, ...]]
    """By ISO weekday: the week worked (an office's own, else the group's; the group's stored,
    else the default)."""
    own_week: bool
    days: list[DayOverride]


@scoped_read(Permission.MANAGE_CALENDARS)
def calendar_view(session: Session, principal: Principal, office_code: str | None) -> CalendarView:
    """The calendar ``principal`` may edit (else :class:`NotFound`, as for a missing office)."""
    office = _manageable(session, principal, office_code)
    own = weekly_hours(session, office)
    week = own or (group_week(session) if office is not None else dict(DEFAULT_WEEKLY))
    return CalendarView(
        office_code,
        "Asia/Shanghai" if office is None else office.timezone,
        week,
        bool(own),
        day_overrides(session, office),
    )


def group_calendar(session: Session, timezone: str = "Asia/Shanghai") -> WorkCalendar:
    """The calendar of an office with nothing of its own: the group's week and days."""
    weekly = group_week(session)
    days = group_days(session)
    holidays = set(days.holidays)
    makeup = dict(days.makeup_days)
    for day, weekday in list(makeup.items()):
        if not weekly.get(weekday):
            del makeup[day]
            holidays.add(day)
    return WorkCalendar(timezone, weekly, frozenset(holidays), makeup, dict(days.day_hours))


@scoped_read(Permission.MANAGE_CALENDARS)
def preview_deadlines(
    session: Session,
    principal: Principal,
    office_code: str | None,
    start: datetime,
    targets: Sequence[sla.ClockTarget],
) -> list[datetime]:
    """When a clock of each target started at ``start`` would be due in the office's calendar
    (None: the group's, in Asia/Shanghai) — :func:`operational.sla.due_at`, as the engine
    computes it. Only for a calendar ``principal`` may edit (else :class:`NotFound`)."""
    office = _manageable(session, principal, office_code)
    calendar = group_calendar(session) if office is None else calendar_for_office(session, office)
    return [sla.due_at(start, target, calendar) for target in targets]
