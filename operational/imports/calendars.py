"""``propcloud import working-hours`` and ``propcloud import calendar-days``: working calendars.

**working-hours** — columns ``office_code, weekday, start, end``: one working interval a row
(weekday 1 = Monday … 7 = Sunday; ``HH:MM`` office-local, an end of ``24:00`` or ``00:00`` is
midnight; a lunch break is two rows). The file replaces the whole week of each office it names;
rows with an empty ``office_code`` make the group's week, worked by every office without its own.

**calendar-days** — columns ``office_code, date, kind`` and optional ``start, end``: a
``holiday`` (not worked) or a ``workday`` (worked: with the row's hours — several rows for several
intervals — or, with ``start`` and ``end`` empty, with the office's Monday hours). Each day named
replaces that day's earlier entry of the office; other days are kept. An empty ``office_code``
is a day of the whole group: how next year's official list of public holidays and make-up
working days (调休) is loaded.

An office's own rows always win over the group's, whichever was loaded first
(:func:`operational.services.calendars.calendar_for_office`). Both imports check every row first
and write nothing if one is bad (every problem reported by row and column); an unchanged week or
day is counted *unchanged* and not written again. A user needs ``MANAGE_CALENDARS`` at each office
named, and at group scope for the group's rows. Contract: ``docs/import-formats.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Principal
from operational.calendars import MIDNIGHT, Interval
from operational.entry import day_refusal
from operational.imports.table import ImportRejected, ImportSummary, Row, RowError, read_table
from operational.models import Office
from operational.services import calendars
from operational.services.calendars import DayKind, DayOverride

WORKING_HOURS_COLUMNS = ("office_code", "weekday", "start", "end")
CALENDAR_DAYS_REQUIRED = ("office_code", "date", "kind")
CALENDAR_DAYS_OPTIONAL = ("start", "end")
CALENDAR_DAYS_COLUMNS = (*CALENDAR_DAYS_REQUIRED, *CALENDAR_DAYS_OPTIONAL)

Owner = str | None
"""An office code, or None for the group's own rows (an empty ``office_code``)."""


@dataclass(frozen=True)
class _Span:
    row: int
    interval: Interval


def _owner(
    number: int,
    code: str,
    offices: dict[str, Office],
    actor: Principal,
    errors: list[RowError],
) -> tuple[bool, Owner]:
    """Whether the row's ``office_code`` names a calendar the actor may edit, and which."""
    if not code:
        if calendars.may_edit(actor, None):
            return True, None
        errors.append(
            RowError(number, "calendars.import.group_not_allowed", {"column": "office_code"})
        )
        return False, None
    if code not in offices:
        errors.append(
            RowError(
                number, "calendars.import.unknown_office", {"column": "office_code", "code": code}
            )
        )
        return False, None
    if not calendars.may_edit(actor, code):
        errors.append(
            RowError(
                number, "calendars.import.not_allowed", {"column": "office_code", "code": code}
            )
        )
        return False, None
    return True, code


def _interval(number: int, values: dict[str, str], errors: list[RowError]) -> Interval | None:
    """The row's ``start``–``end``, each checked; None (and the errors) if either is bad."""
    start_text, end_text = values["start"], values["end"]
    start = calendars.parse_clock(start_text) if start_text else None
    end = calendars.parse_clock(end_text, end=True) if end_text else None
    for column, text, clock in (("start", start_text, start), ("end", end_text, end)):
        if not text:
            errors.append(RowError(number, "import.missing_value", {"column": column}))
        elif clock is None:
            errors.append(
                RowError(number, "calendars.import.bad_time", {"column": column, "value": text})
            )
    if start is None or end is None:
        return None
    if end != MIDNIGHT and end <= start:
        errors.append(
            RowError(
                number,
                "calendars.import.end_not_after_start",
                {"column": "end", "start": start_text, "end": end_text},
            )
        )
        return None
    return start, end


def _overlaps(spans: Sequence[_Span], errors: list[RowError]) -> None:
    """Report each interval that overlaps an earlier one of the same day, on its own row."""
    ordered = sorted(spans, key=lambda s: (s.interval[0], s.row))
    for first, second in pairwise(ordered):
        if first.interval[1] == MIDNIGHT or first.interval[1] > second.interval[0]:
            errors.append(
                RowError(
                    max(first.row, second.row),
                    "calendars.import.overlap",
                    {
                        "column": "start",
                        "span": calendars.span_text(second.interval),
                        "other": calendars.span_text(first.interval),
                        "other_row": min(first.row, second.row),
                    },
                )
            )


def _offices(session: Session) -> dict[str, Office]:
    return {o.code: o for o in session.scalars(select(Office))}


def _rejected(errors: list[RowError]) -> ImportRejected:
    return ImportRejected(sorted(errors, key=lambda e: e.row))


# --- working hours ------------------------------------------------------------------------------


def import_working_hours_rows(
    session: Session, rows: list[Row], *, actor: Principal
) -> ImportSummary:
    """Validate every row, then replace the week of each office named (and of the group, for
    rows with an empty ``office_code``); nothing if any row is bad. Counts weeks."""
    offices = _offices(session)
    errors: list[RowError] = []
    weeks: dict[Owner, dict[int, list[_Span]]] = {}
    for number, values in rows:
        row_errors: list[RowError] = []
        ok, owner = _owner(number, values["office_code"], offices, actor, row_errors)
        weekday_text = values["weekday"]
        weekday = int(weekday_text) if weekday_text.isdigit() else 0
        if not weekday_text:
            row_errors.append(RowError(number, "import.missing_value", {"column": "weekday"}))
        elif weekday not in range(1, 8):
            row_errors.append(
                RowError(
                    number,
                    "calendars.import.bad_weekday",
                    {"column": "weekday", "value": weekday_text},
                )
            )
        interval = _interval(number, values, row_errors)
        if row_errors or not ok or interval is None:
            errors.extend(row_errors)
            continue
        weeks.setdefault(owner, {}).setdefault(weekday, []).append(_Span(number, interval))
    for week in weeks.values():
        for spans in week.values():
            _overlaps(spans, errors)
    if errors:
        raise _rejected(errors)

    summary = ImportSummary()
    for owner, week in weeks.items():
        office = None if owner is None else offices[owner]
        wanted = {
            weekday: tuple(sorted((s.interval for s in spans), key=lambda i: i[0]))
            for weekday, spans in week.items()
        }
        stored = calendars.weekly_hours(session, office)
        if stored == wanted:
            summary.unchanged += 1
            continue
        calendars.set_working_hours(
            session,
            actor,
            owner,
            {weekday - 1: list(intervals) for weekday, intervals in wanted.items()},
        )
        if stored:
            summary.updated += 1
        else:
            summary.created += 1
    return summary


def import_working_hours_file(
    session: Session, path: Path, *, actor: Principal, encoding: str | None = None
) -> ImportSummary:
    read = read_table(path, WORKING_HOURS_COLUMNS, encoding=encoding)
    return import_working_hours_rows(session, read.rows, actor=actor).read_as(read.encoding)


# --- calendar days ----------------------------------------------------------------------------


def parse_day(text: str) -> date | None:
    """``2027-01-01`` or ``2027/1/1`` (a spreadsheet's date cell reads as ``2027-01-01
    00:00:00``); None if it is not a date."""
    value = text.strip().replace("/", "-")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        parts = value.split("-")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        try:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            return None
    if moment.time() != datetime.min.time() or moment.tzinfo is not None:
        return None
    return moment.date()


@dataclass
class _Day:
    first_row: int
    kind: DayKind
    monday_hours: bool = False  # a workday row with empty start and end
    spans: list[_Span] | None = None


def import_calendar_days_rows(
    session: Session, rows: list[Row], *, actor: Principal
) -> ImportSummary:
    """Validate every row, then set each day named for its office (or the whole group, for an
    empty ``office_code``); nothing if any row is bad. Counts days."""
    offices = _offices(session)
    errors: list[RowError] = []
    days: dict[tuple[Owner, date], _Day] = {}
    for number, values in rows:
        row_errors: list[RowError] = []
        ok, owner = _owner(number, values["office_code"], offices, actor, row_errors)
        day_text, kind_text = values["date"], values["kind"]
        day = parse_day(day_text) if day_text else None
        if not day_text:
            row_errors.append(RowError(number, "import.missing_value", {"column": "date"}))
        elif day is None:
            row_errors.append(
                RowError(number, "calendars.import.bad_date", {"column": "date", "value": day_text})
            )
        elif (refusal := day_refusal(day)) is not None:
            key, params = refusal
            row_errors.append(
                RowError(number, key, {"column": "date", "value": day_text, **params})
            )
            day = None
        kind = kind_text.strip().lower()
        if not kind_text:
            row_errors.append(RowError(number, "import.missing_value", {"column": "kind"}))
        elif kind not in calendars.DAY_KINDS:
            row_errors.append(
                RowError(
                    number, "calendars.import.bad_kind", {"column": "kind", "value": kind_text}
                )
            )
        has_hours = bool(values["start"] or values["end"])
        interval: Interval | None = None
        if kind == "holiday" and has_hours:
            column = "start" if values["start"] else "end"
            row_errors.append(
                RowError(number, "calendars.import.holiday_hours", {"column": column})
            )
        elif kind == "workday" and has_hours:
            interval = _interval(number, values, row_errors)
        if row_errors or not ok or day is None:
            errors.extend(row_errors)
            continue
        day_kind: DayKind = "holiday" if kind == "holiday" else "workday"
        _add_day(days, owner, day, day_kind, number, interval, errors)
    for (owner, _day), entry in days.items():
        if entry.spans:
            _overlaps(entry.spans, errors)
        if (
            entry.monday_hours
            and owner is not None
            and not calendars.week_of(session, offices[owner]).get(1)
        ):
            errors.append(
                RowError(
                    entry.first_row,
                    "calendars.import.monday_not_worked",
                    {"column": "start", "code": owner},
                )
            )
    if errors:
        raise _rejected(errors)

    summary = ImportSummary()
    for (owner, day), entry in sorted(days.items(), key=lambda item: item[1].first_row):
        office = None if owner is None else offices[owner]
        hours = tuple(sorted((s.interval for s in entry.spans or ()), key=lambda i: i[0]))
        wanted = DayOverride(day, entry.kind, None, hours)
        stored = calendars.stored_day(session, office, day)
        if stored == wanted:
            summary.unchanged += 1
            continue
        calendars.add_day_override(session, actor, owner, day, entry.kind, None, hours)
        if stored is None:
            summary.created += 1
        else:
            summary.updated += 1
    return summary


def _add_day(
    days: dict[tuple[Owner, date], _Day],
    owner: Owner,
    day: date,
    kind: DayKind,
    number: int,
    interval: Interval | None,
    errors: list[RowError],
) -> None:
    """Record one good row in its day; a row that contradicts an earlier one of the same day
    (another kind, a holiday twice, Monday hours besides own hours) is a bad row."""
    entry = days.get((owner, day))
    if entry is None:
        days[(owner, day)] = _Day(
            number,
            kind,
            monday_hours=kind == "workday" and interval is None,
            spans=[_Span(number, interval)] if interval is not None else None,
        )
        return
    if entry.kind != kind:
        key = "calendars.import.day_conflict"
    elif kind == "holiday" or entry.monday_hours or interval is None:
        key = "calendars.import.day_twice"
    else:
        assert entry.spans is not None
        entry.spans.append(_Span(number, interval))
        return
    errors.append(
        RowError(
            number, key, {"column": "date", "day": day.isoformat(), "first_row": entry.first_row}
        )
    )


def import_calendar_days_file(
    session: Session, path: Path, *, actor: Principal, encoding: str | None = None
) -> ImportSummary:
    read = read_table(path, CALENDAR_DAYS_REQUIRED, CALENDAR_DAYS_OPTIONAL, encoding=encoding)
    return import_calendar_days_rows(session, read.rows, actor=actor).read_as(read.encoding)
