"""Office working calendars (工作日历) and business-time arithmetic.

A :class:`WorkCalendar` says when an office works, in its own time zone: several working intervals
per weekday (a lunch break is two intervals), public holidays (法定节假日) on which nothing is worked,
make-up working days (调休) on which a weekend day is worked like a given weekday, and days worked
with hours of their own.

All arithmetic goes interval by interval over local days, never second by second. Every instant
taken or returned is a timezone-aware ``datetime``; returned instants are in UTC. The rules are
written down in ``docs/sla-clocks.md``; the same rules are implemented in DuckDB SQL in
``warehouse/sql/macros/business_time.sql`` and both are checked against
``tests/vectors/sla_clock_vectors.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import chinese_calendar

Interval = tuple[time, time]
"""A working interval of a local day, ``[start, end)``; an end of ``time(0)`` means 24:00."""

MIDNIGHT = time(0)
MONDAY = 1
ONE_MINUTE = timedelta(minutes=1)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """When an office works (工作日历).

    ``weekly`` maps the ISO weekday (1 = Monday … 7 = Sunday) to that day's working intervals,
    in order and not overlapping; a weekday that is absent is not worked. ``holidays`` (法定节假日)
    are not worked at all. ``makeup_days`` (调休) maps a date to the ISO weekday whose intervals
    are worked on it (usually Monday's). ``day_hours`` maps a date to the intervals it is worked
    with instead of its weekday's (a short day, a make-up day with hours of its own).
    """

    timezone: str
    weekly: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[date] = frozenset()
    makeup_days: Mapping[date, int] = field(default_factory=dict)
    day_hours: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown time zone
        if not any(self.weekly.values()):
            raise ValueError("a calendar needs at least one working interval")
        for weekday, intervals in self.weekly.items():
            if weekday not in range(1, 8):
                raise ValueError(f"weekday {weekday} is not an ISO weekday 1..7")
            if not _ordered_and_disjoint(intervals):
                raise ValueError(f"weekday {weekday}: intervals must be ordered and disjoint")
        for day, intervals in self.day_hours.items():
            if not intervals or not _ordered_and_disjoint(intervals):
                raise ValueError(f"{day}: intervals must be given, ordered and disjoint")
        if clash := self.holidays & self.makeup_days.keys():
            raise ValueError(f"days both holiday and make-up day: {sorted(clash)}")
        if clash := (self.holidays | self.makeup_days.keys()) & self.day_hours.keys():
            raise ValueError(f"days with their own hours also listed otherwise: {sorted(clash)}")
        if bad := {d: w for d, w in self.makeup_days.items() if not self.weekly.get(w)}:
            raise ValueError(f"make-up days work a weekday without intervals: {bad}")

    @classmethod
    def always(cls, timezone: str = "Asia/Shanghai") -> WorkCalendar:
        """The 24×7 calendar (全天候): every instant is working time."""
        return cls(timezone, dict.fromkeys(range(1, 8), ((MIDNIGHT, MIDNIGHT),)))

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of one local day."""
        if day in self.holidays:
            return ()
        own = self.day_hours.get(day)
        if own is not None:
            return own
        return self.weekly.get(self.makeup_days.get(day, day.isoweekday()), ())


def china_calendar(
    timezone: str,
    weekly: Mapping[int, tuple[Interval, ...]],
    start_year: int,
    end_year: int,
    *,
    add_holidays: Iterable[date] = (),
    remove_holidays: Iterable[date] = (),
    add_makeup_days: Iterable[date] = (),
    remove_makeup_days: Iterable[date] = (),
    makeup_weekday: int = MONDAY,
) -> WorkCalendar:
    """An office calendar with China's public holidays and make-up days (调休) for the given years.

    Holidays and make-up days come from the ``chinese_calendar`` package (which raises for years it
    has no data for); an office overrides them with the ``add_*`` / ``remove_*`` arguments. Make-up
    days are worked like ``makeup_weekday`` (default Monday).
    """
    first, last = date(start_year, 1, 1), date(end_year, 12, 31)
    official_holidays: list[date] = chinese_calendar.get_holidays(
        first, last, include_weekends=False
    )
    workdays: list[date] = chinese_calendar.get_workdays(first, last, include_weekends=True)
    holidays = (set(official_holidays) | set(add_holidays)) - set(remove_holidays)
    makeup = ({d for d in workdays if d.isoweekday() >= 6} | set(add_makeup_days)) - set(
        remove_makeup_days
    )
    return WorkCalendar(
        timezone, weekly, frozenset(holidays), dict.fromkeys(sorted(makeup), makeup_weekday)
    )


def _since_midnight(clock: time) -> timedelta:
    return datetime.combine(date.min, clock) - datetime.min


def _ordered_and_disjoint(intervals: Iterable[Interval]) -> bool:
    bounds = [(_since_midnight(s), _since_midnight(e) or ONE_DAY) for s, e in intervals]
    return all(s < e for s, e in bounds) and all(
        earlier[1] <= later[0] for earlier, later in pairwise(bounds)
    )


def years_without_holidays(holidays: Iterable[date], today: date) -> list[int]:
    """Which of this year and next year have no public holiday at all in ``holidays``: a year
    without holiday data (China's list is published each November or December), which must
    never pass silently — every year has public holidays."""
    years = {day.year for day in holidays}
    return [year for year in (today.year, today.year + 1) if year not in years]


@lru_cache(maxsize=16_384)
def _to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time. A wall time that occurs twice (autumn fold) means
    its later occurrence; one that does not exist (spring gap) is read with the offset in force
    before the gap. Both are the later of the two readings — what DuckDB's ICU does.

    Memoised (a pure function of immutable values): the interval bounds of the same days recur
    in every deadline, and this conversion was most of a deadline's cost."""
    local = datetime.combine(day, clock, tzinfo=zone)
    return max(local.replace(fold=0).astimezone(UTC), local.replace(fold=1).astimezone(UTC))


def working_intervals(cal: WorkCalendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The working intervals from ``start`` on, in order, as UTC ``[from, to)`` pairs; the first
    one is cut at ``start``. Endless: the caller stops iterating."""
    if start.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    start = start.astimezone(UTC)
    zone = ZoneInfo(cal.timezone)
    day = start.astimezone(zone).date()
    while True:
        for begin, end in cal.intervals_on(day):
            since = max(_to_utc(day, begin, zone), start)
            to = _to_utc(day + ONE_DAY if end == MIDNIGHT else day, end, zone)
            if to > since:  # also drops an interval emptied by a DST gap
                yield since, to
        day += ONE_DAY


def advance_through(
    intervals: Iterable[tuple[datetime, datetime]], amount: timedelta
) -> datetime | None:
    """The earliest instant by which ``amount`` of time inside the ordered ``intervals`` has
    passed, or None if they hold less. An amount used up exactly at an interval's end gives
    that end, not the next interval's start."""
    remaining = amount
    for begin, end in intervals:
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    return None


def time_within(intervals: Iterable[tuple[datetime, datetime]], until: datetime) -> timedelta:
    """Total time of the ordered ``intervals`` before ``until``."""
    total = timedelta()
    for begin, end in intervals:
        if begin >= until:
            break
        total += min(end, until) - begin
    return total


def business_minutes_between(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """Working minutes in ``[start, end)`` (0 if ``end <= start``).

    A float: exact business microseconds divided by 60 000 000, rounded once (IEEE), which gives
    bit-identical figures in Python and DuckDB. Decisions (deadline, breach) never use it.
    """
    return time_within(working_intervals(cal, start), end) / ONE_MINUTE


def add_business_minutes(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """The earliest instant by which ``minutes`` working minutes have passed since ``start``.

    Time before the next working interval does not count (night service — 夜间服务); adding 0
    gives :func:`next_working_instant`.
    """
    instant = advance_through(working_intervals(cal, start), timedelta(minutes=minutes))
    assert instant is not None  # working intervals never run out
    return instant


def next_working_instant(cal: WorkCalendar, t: datetime) -> datetime:
    """``t`` if it is working time, else the instant the next working interval opens."""
    return next(working_intervals(cal, t))[0]


def is_working_time(cal: WorkCalendar, t: datetime) -> bool:
    """Whether ``t`` lies in a working interval (start included, end excluded)."""
    return next_working_instant(cal, t) == t
