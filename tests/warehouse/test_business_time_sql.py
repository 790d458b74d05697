"""Every shared SLA vector through the DuckDB SQL implementation (warehouse/business_time.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from warehouse import business_time

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "sla_clock_vectors.json").read_text(encoding="utf-8")
)


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _load_calendars(con: duckdb.DuckDBPyConnection, calendars: dict[str, Any]) -> None:
    for calendar_id, spec in calendars.items():
        con.execute("INSERT INTO calendars VALUES (?, ?)", [calendar_id, spec["timezone"]])
        for weekday, intervals in spec["weekly"].items():
            for start, end in intervals:
                con.execute(
                    "INSERT INTO calendar_weekday_intervals VALUES (?, ?, ?::TIME, ?::TIME)",
                    [calendar_id, int(weekday), start, end],
                )
        for day in spec["holidays"]:
            con.execute(
                "INSERT INTO calendar_days VALUES (?, ?::DATE, 'holiday', NULL)", [calendar_id, day]
            )
        for day, weekday in spec["makeup_days"].items():
            con.execute(
                "INSERT INTO calendar_days VALUES (?, ?::DATE, 'workday', ?)",
                [calendar_id, day, weekday],
            )
        for day, intervals in spec.get("day_hours", {}).items():
            for start, end in intervals:
                con.execute(
                    "INSERT INTO calendar_day_intervals VALUES (?, ?::DATE, ?::TIME, ?::TIME)",
                    [calendar_id, day, start, end],
                )


def _insert_clock(con: duckdb.DuckDBPyConnection, vector: dict[str, Any]) -> None:
    """The vector's clock and its pauses, as rows of the macros' input tables."""
    target = vector["target"]
    con.execute(
        "INSERT INTO clocks VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            vector["id"],
            vector["calendar"],
            target["calendar_kind"],
            _instant(vector["started_at"]),
            target["amount"],
            target["unit"],
            _instant(vector["stopped_at"]),
        ],
    )
    for paused_at, resumed_at in vector["pauses"]:
        con.execute(
            "INSERT INTO clock_pauses VALUES (?, ?, ?)",
            [vector["id"], _instant(paused_at), _instant(resumed_at)],
        )


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    business_time.install(con)
    _load_calendars(con, VECTORS["calendars"])
    first, last = (date.fromisoformat(d) for d in VECTORS["calendar_range"])
    business_time.build_calendar_intervals(con, first, last)
    for v in VECTORS["clocks"]:
        _insert_clock(con, v)
    yield con
    con.close()


@pytest.mark.parametrize("vector", VECTORS["clocks"], ids=lambda v: v["id"])
def test_vector(con: duckdb.DuckDBPyConnection, vector: dict[str, Any]) -> None:
    states = business_time.clock_states(con, datetime.fromisoformat(vector["as_of"]))
    row = states.filter(pl.col("clock_id") == vector["id"]).to_dicts()
    assert len(row) == 1
    expected = vector["expected"]
    assert row[0]["due_at"] == _instant(expected["due_at"])
    assert row[0]["elapsed_minutes"] == expected["elapsed_minutes"]
    assert row[0]["state"] == expected["state"]


@pytest.fixture(scope="module")
def calendar_only() -> Iterator[duckdb.DuckDBPyConnection]:
    """The vectors' calendars expanded over their whole range, and no clock yet."""
    con = duckdb.connect()
    business_time.install(con)
    _load_calendars(con, VECTORS["calendars"])
    first, last = (date.fromisoformat(d) for d in VECTORS["calendar_range"])
    business_time.build_calendar_intervals(con, first, last)
    yield con
    con.close()


@pytest.mark.parametrize("vector", VECTORS["clocks"], ids=lambda v: v["id"])
def test_vector_alone_over_the_calendar_window_of_its_clock(
    calendar_only: duckdb.DuckDBPyConnection, vector: dict[str, Any]
) -> None:
    """A refresh evaluates a few clocks over the part of the calendar they can reach: each
    vector alone, over the window of its own clock (most of the calendar left out), comes out
    as expected."""
    con = calendar_only
    con.execute("DELETE FROM clocks; DELETE FROM clock_pauses")
    _insert_clock(con, vector)
    states = business_time.clock_states(con, datetime.fromisoformat(vector["as_of"]), windowed=True)
    expected = vector["expected"]
    assert states.select("due_at", "elapsed_minutes", "state").rows() == [
        (_instant(expected["due_at"]), expected["elapsed_minutes"], expected["state"])
    ]


def test_the_calendar_window_keeps_from_the_second_last_interval_before_the_clocks() -> None:
    con = duckdb.connect()
    business_time.install(con)
    _load_calendars(con, {"office": VECTORS["calendars"]["shanghai_office"]})
    business_time.build_calendar_intervals(con, date(2026, 9, 1), date(2026, 10, 31))
    # Started on a Sunday evening: the last intervals starting by then are Friday's two.
    con.execute(
        "INSERT INTO clocks VALUES ('c', 'office', 'office',"
        " '2026-09-13 20:00:00+08', 60, 'business_minutes', NULL)"
    )
    window = business_time.calendar_window(con)
    kept = con.sql(
        f"SELECT min(start_utc), count(*) FROM {window} WHERE calendar_kind = 'office'"
    ).fetchall()[0]
    every = con.sql(
        "SELECT count(*) FROM calendar_intervals WHERE calendar_kind = 'office'"
        " AND start_utc >= $from",
        params={"from": kept[0]},
    ).fetchall()[0][0]
    assert kept[0] == datetime(2026, 9, 11, 1, tzinfo=UTC)  # Friday 09:00 in Shanghai
    assert kept[1] == every  # and every later one
    ranges = con.sql(f"SELECT count(*) FROM {window} WHERE calendar_kind = '24x7'").fetchall()
    assert ranges == [(1,)]


def test_clocks_not_started_by_as_of_are_left_out(con: duckdb.DuckDBPyConnection) -> None:
    states = business_time.clock_states(con, datetime(2026, 1, 1, tzinfo=UTC))
    assert states.height == 0


def test_dst_fold_and_gap_read_as_the_later_instant() -> None:
    con = duckdb.connect()
    business_time.install(con)
    con.execute(
        "INSERT INTO calendars VALUES ('night', 'Europe/London');"
        "INSERT INTO calendar_weekday_intervals VALUES ('night', 7, '01:30', '02:30');"
    )
    business_time.build_calendar_intervals(con, date(2026, 3, 29), date(2026, 10, 25))
    rows = con.sql(
        "SELECT start_utc, end_utc FROM calendar_intervals"
        " WHERE calendar_kind = 'office' ORDER BY start_utc"
    ).fetchall()
    # 03-29: 01:30 does not exist (gap 01:00-02:00 GMT) and is read as GMT, i.e. 02:30 BST, the
    # interval's end: the interval is empty and dropped.
    assert rows[0] == (
        datetime(2026, 4, 5, 0, 30, tzinfo=UTC),
        datetime(2026, 4, 5, 1, 30, tzinfo=UTC),
    )
    # 10-25: 01:30 occurs twice and means its later occurrence, 01:30 GMT.
    assert rows[-1] == (
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    )


def test_calendar_range_too_short_is_an_error() -> None:
    con = duckdb.connect()
    business_time.install(con)
    _load_calendars(con, {"office": VECTORS["calendars"]["shanghai_office"]})
    business_time.build_calendar_intervals(con, date(2026, 9, 28), date(2026, 9, 30))
    con.execute(
        "INSERT INTO clocks VALUES ('late', 'office', 'office',"
        " '2026-09-30 17:00:00+08', 120, 'business_minutes', NULL)"
    )
    with pytest.raises(duckdb.Error, match="end before the deadline of clock late"):
        business_time.clock_states(con, datetime(2026, 9, 30, 10, tzinfo=UTC))
    with pytest.raises(duckdb.Error, match="do not cover clock late"):
        business_time.clock_states(con, datetime(2026, 10, 8, tzinfo=UTC))
