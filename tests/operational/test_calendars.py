"""Working calendars and business-time arithmetic (operational.calendars)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from operational.calendars import (
    WorkCalendar,
    add_business_minutes,
    business_minutes_between,
    china_calendar,
    is_working_time,
    next_working_instant,
    working_intervals,
)

OFFICE_HOURS = ((time(9), time(12)), (time(13, 30), time(18)))
WEEKLY = dict.fromkeys(range(1, 6), OFFICE_HOURS)
SHANGHAI = china_calendar("Asia/Shanghai", WEEKLY, 2026, 2026)


def _sh(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def test_china_calendar_2026_matches_the_shared_vectors() -> None:
    vectors = json.loads(
        (Path(__file__).parents[1] / "vectors" / "sla_clock_vectors.json").read_text("utf-8")
    )
    spec = vectors["calendars"]["shanghai_office"]
    assert SHANGHAI.holidays == {date.fromisoformat(d) for d in spec["holidays"]}
    assert SHANGHAI.makeup_days == {
        date.fromisoformat(d): w for d, w in spec["makeup_days"].items()
    }
    assert date(2026, 10, 1) in SHANGHAI.holidays
    assert SHANGHAI.makeup_days[date(2026, 10, 10)] == 1  # Saturday worked like Monday (调休)


def test_china_calendar_office_overrides() -> None:
    cal = china_calendar(
        "Asia/Shanghai",
        WEEKLY,
        2026,
        2026,
        add_holidays=[date(2026, 12, 31)],
        remove_holidays=[date(2026, 10, 7)],
        add_makeup_days=[date(2026, 12, 26)],
        remove_makeup_days=[date(2026, 10, 10)],
        makeup_weekday=5,
    )
    assert date(2026, 12, 31) in cal.holidays
    assert date(2026, 10, 7) not in cal.holidays
    assert cal.intervals_on(date(2026, 10, 7)) == OFFICE_HOURS  # a Wednesday, now worked
    assert cal.makeup_days[date(2026, 12, 26)] == 5
    assert cal.intervals_on(date(2026, 10, 10)) == ()  # Saturday, no longer a make-up day


def test_intervals_on_holiday_makeup_day_weekend() -> None:
    assert SHANGHAI.intervals_on(date(2026, 9, 30)) == OFFICE_HOURS  # Wednesday
    assert SHANGHAI.intervals_on(date(2026, 10, 1)) == ()  # National Day
    assert SHANGHAI.intervals_on(date(2026, 9, 19)) == ()  # Saturday
    assert SHANGHAI.intervals_on(date(2026, 9, 20)) == OFFICE_HOURS  # make-up Sunday


@pytest.mark.parametrize(
    ("weekly", "holidays", "makeup", "message"),
    [
        ({}, (), {}, "at least one"),
        ({8: OFFICE_HOURS}, (), {}, "ISO weekday"),
        ({1: ((time(9), time(12)), (time(11), time(14)))}, (), {}, "disjoint"),
        ({1: ((time(13), time(12)),)}, (), {}, "disjoint"),
        ({1: ((time(9), time(0)), (time(20), time(21)))}, (), {}, "disjoint"),
        (WEEKLY, (date(2026, 1, 4),), {date(2026, 1, 4): 1}, "both holiday"),
        (WEEKLY, (), {date(2026, 1, 4): 6}, "without intervals"),
    ],
)
def test_invalid_calendars(
    weekly: dict[int, tuple[tuple[time, time], ...]],
    holidays: tuple[date, ...],
    makeup: dict[date, int],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar("Asia/Shanghai", weekly, frozenset(holidays), makeup)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(KeyError):
        WorkCalendar("Asia/Nowhere", WEEKLY)


def test_business_minutes_between() -> None:
    assert (
        business_minutes_between(SHANGHAI, _sh("2026-09-08T08:00"), _sh("2026-09-08T20:00")) == 450
    )
    assert (
        business_minutes_between(SHANGHAI, _sh("2026-09-08T11:30"), _sh("2026-09-08T14:00")) == 60
    )
    # Across National Day: Wed 17:00-18:00, then Thu 10-08 09:00-10:00.
    assert (
        business_minutes_between(SHANGHAI, _sh("2026-09-30T17:00"), _sh("2026-10-08T10:00")) == 120
    )
    assert business_minutes_between(SHANGHAI, _sh("2026-09-08T10:00"), _sh("2026-09-08T09:00")) == 0
    assert (
        business_minutes_between(SHANGHAI, _sh("2026-09-08T10:00"), _sh("2026-09-08T10:00:30"))
        == 0.5
    )


def test_add_business_minutes() -> None:
    assert add_business_minutes(SHANGHAI, _sh("2026-09-08T11:55"), 5) == _sh("2026-09-08T12:00")
    assert add_business_minutes(SHANGHAI, _sh("2026-09-08T11:55"), 6) == _sh("2026-09-08T13:31")
    assert add_business_minutes(SHANGHAI, _sh("2026-09-08T12:00"), 0) == _sh("2026-09-08T13:30")
    assert add_business_minutes(SHANGHAI, _sh("2026-09-08T09:00"), 450) == _sh("2026-09-08T18:00")
    result = add_business_minutes(SHANGHAI, _sh("2026-09-30T17:00"), 120)
    assert result == _sh("2026-10-08T10:00")
    assert result.tzinfo is UTC


def test_next_working_instant_and_is_working_time() -> None:
    assert next_working_instant(SHANGHAI, _sh("2026-09-08T23:10")) == _sh("2026-09-09T09:00")
    assert next_working_instant(SHANGHAI, _sh("2026-10-03T10:00")) == _sh("2026-10-08T09:00")
    assert next_working_instant(SHANGHAI, _sh("2026-10-09T18:00")) == _sh("2026-10-10T09:00")
    assert next_working_instant(SHANGHAI, _sh("2026-09-08T10:00")) == _sh("2026-09-08T10:00")
    assert is_working_time(SHANGHAI, _sh("2026-09-08T09:00"))  # start included
    assert not is_working_time(SHANGHAI, _sh("2026-09-08T12:00"))  # end excluded
    assert not is_working_time(SHANGHAI, _sh("2026-09-08T12:45"))  # lunch
    assert not is_working_time(SHANGHAI, _sh("2026-10-01T10:00"))  # holiday
    assert is_working_time(SHANGHAI, _sh("2026-09-20T10:00"))  # make-up Sunday


def test_naive_instants_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_working_instant(SHANGHAI, datetime(2026, 9, 8, 10))


def test_always_counts_wall_time_across_dst() -> None:
    london = WorkCalendar.always("Europe/London")
    # The local day 2026-03-29 has 23 hours, 2026-10-25 has 25.
    start, end = datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC)
    assert business_minutes_between(london, start, end) == 48 * 60
    fall = datetime(2026, 10, 24, 23, tzinfo=UTC)
    assert add_business_minutes(london, fall, 25 * 60) == datetime(2026, 10, 26, 0, tzinfo=UTC)


def test_dst_fold_and_gap_read_as_the_later_instant() -> None:
    night = WorkCalendar("Europe/London", {7: ((time(1, 30), time(2, 30)),)})
    intervals = working_intervals(night, datetime(2026, 3, 28, tzinfo=UTC))
    # 03-29: 01:30 is in the gap and read as GMT = 02:30 BST, the end: empty, dropped.
    assert next(intervals) == (
        datetime(2026, 4, 5, 0, 30, tzinfo=UTC),
        datetime(2026, 4, 5, 1, 30, tzinfo=UTC),
    )
    fold = working_intervals(night, datetime(2026, 10, 25, tzinfo=UTC))
    assert next(fold) == (
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # the later 01:30, GMT
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    )
