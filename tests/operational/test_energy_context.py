"""The context of a point: imports and the form check against a window, never the whole history.

The windowed readings import must give exactly what walking each point's whole history gives
(the reference below loads every reading), and load a number of rows independent of the
history's length. The superseded check uses the partial index once SQLite has statistics.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.energy import History, point_intervals
from operational.imports import energy as energy_imports
from operational.imports.energy import import_reading_columns, insert_readings
from operational.imports.org import import_org_rows
from operational.imports.table import ImportRejected
from operational.models import Group, MeterPoint, Reading
from operational.services import energy as energy_services
from operational.services.energy import (
    CONTEXT_BEFORE,
    END_OF_TIME,
    PointContext,
    add_meter,
    add_point,
    context_readings_query,
    correct_reading,
    load_contexts,
    load_meters,
    point_status,
    record_reading,
    replace_meter,
)

CLI = system_principal("cli")

T0 = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
NOW = datetime(2026, 9, 1, tzinfo=UTC)
ZONE = "+08:00"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def setup(session: Session, points: Mapping[str, int | None]) -> dict[str, int]:
    """An office with one point per ``code → digits``, installed at T0 with reading 0."""
    group = session.scalars(select(Group)).one()
    row = {
        "city_code": "XC",
        "city_name": "窗口城",
        "office_code": "XC01",
        "office_name": "窗口管理处",
        "timezone": "Asia/Shanghai",
    }
    import_org_rows(session, [(2, row)], group=group, actor=system_principal("test"))
    ids = {}
    for code, digits in points.items():
        add_point(session, CLI, office_code="XC01", code=code, name=code, kind="electricity")
        add_meter(
            session,
            CLI,
            point_code=code,
            installed_at=T0,
            initial_reading=0,
            digits=digits,
            now=NOW,
        )
        ids[code] = session.scalars(select(MeterPoint.id).where(MeterPoint.code == code)).one()
    return ids


def store(session: Session, code: str, values: list[tuple[datetime, float]]) -> None:
    """Readings stored as they are, unchecked (a history may hold anything)."""
    point = session.scalars(select(MeterPoint).where(MeterPoint.code == code)).one()
    meters = load_meters(session, [point.id])[point.id]
    rows = []
    for at, value in values:
        meter = [m for m in meters if m.installed_at < at][-1]
        rows.append(
            {
                "point_id": point.id,
                "meter_id": meter.id,
                "read_at": at,
                "reading": Decimal(str(value)),
                "source": "import",
                "flag": None,
                "entered_by": "test",
                "entered_at": NOW,
            }
        )
    insert_readings(session, rows)
    session.expire_all()


def columns(rows: list[tuple[str, datetime, float | str]]) -> dict[str, list[str]]:
    return {
        "point_code": [r[0] for r in rows],
        "read_at": [r[1].astimezone(UTC).isoformat() for r in rows],
        "reading": [str(r[2]) for r in rows],
        "source": [""] * len(rows),
    }


def whole_history(
    session: Session, windows: Mapping[int, tuple[datetime, datetime]]
) -> dict[int, PointContext]:
    """The reference: every effective reading of each point (what the import used to load)."""
    meters = load_meters(session, windows)
    readings = energy_services._window_readings(
        session, dict.fromkeys(windows, (END_OF_TIME, END_OF_TIME)), None
    )
    return {
        pid: PointContext(pid, start, end, tuple(meters[pid]), tuple(readings[pid]), None, None)
        for pid, (start, end) in windows.items()
    }


def outcome(session: Session, rows: list[tuple[str, datetime, float | str]]) -> Any:
    """The import's result — errors, or created/unchanged and the stored rows — then undone."""
    nested = session.begin_nested()
    try:
        summary = import_reading_columns(
            session,
            list(range(2, len(rows) + 2)),
            columns(rows),
            actor=system_principal("t"),
            now=NOW,
        )
    except ImportRejected as rejected:
        result: Any = [(e.row, e.key, e.params) for e in rejected.errors]
    else:
        stored = session.execute(
            select(Reading.point_id, Reading.read_at, Reading.reading, Reading.flag).order_by(
                Reading.point_id, Reading.read_at
            )
        )
        result = (summary.created, summary.unchanged, [tuple(r) for r in stored])
    nested.rollback()
    return result


def both(
    session: Session, monkeypatch: pytest.MonkeyPatch, rows: list[tuple[str, datetime, float | str]]
) -> Any:
    windowed = outcome(session, rows)
    with monkeypatch.context() as patch:
        patch.setattr(energy_imports, "load_contexts", whole_history)
        reference = outcome(session, rows)
    assert windowed == reference
    return windowed


def test_daily_file_uses_the_last_ten_intervals(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(session, {"XC01-A": None, "XC01-B": 4})
    # 20 days of 100/day, then 10 days of 10/day: typical daily use is 10, not 100.
    values = [(day(n), 100.0 * n) for n in range(1, 21)]
    values += [(day(20 + n), 2000.0 + 10 * n) for n in range(1, 11)]
    store(session, "XC01-A", values)
    store(session, "XC01-B", [(day(n), 9000.0 + 100 * n) for n in range(1, 10)])
    rows: list[tuple[str, datetime, float | str]] = [
        ("XC01-A", day(31), 2140),  # 40 in a day > 3 × 10: high
        ("XC01-B", day(10), 20),  # 9900 → 20 on 4 digits: a plausible roll-over (120)
    ]
    created, unchanged, stored = both(session, monkeypatch, rows)
    assert (created, unchanged) == (2, 0)
    flags = {(pid, at): flag for pid, at, _, flag in stored}
    assert load_contexts(session, {}) == {}
    assert sorted(f for f in flags.values() if f) == ["high", "rollover"]
    again = both(session, monkeypatch, rows)
    assert again[:2] == (2, 0)


def test_late_and_out_of_order_files_match_the_whole_history(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(session, {"XC01-A": None, "XC01-B": 4})
    store(session, "XC01-A", [(day(n), 100.0 * n) for n in range(1, 41)])
    store(session, "XC01-B", [(day(n), (1000.0 * n) % 10000) for n in range(1, 41)])
    late: list[tuple[str, datetime, float | str]] = [
        ("XC01-A", day(30.5), 3050),  # between two stored readings: fine
        ("XC01-A", day(12.5), 1250),
        ("XC01-B", day(25.5), 5500),  # the roll-over at day 30 stays a roll-over
    ]
    created, unchanged, stored = both(session, monkeypatch, late)
    assert (created, unchanged) == (3, 0)
    assert len(stored) == 83
    bad: list[tuple[str, datetime, float | str]] = [
        ("XC01-A", day(30.5), 3150),  # higher than the next stored reading (3100)
        ("XC01-A", day(12.5), 1190),  # lower than the previous stored reading (1200)
        ("XC01-A", day(20), 2000),  # already stored, same value
        ("XC01-A", day(21), 2111),  # already stored, another value
        ("XC01-B", day(35.5), 5400),  # lower than the previous (5000 is at day 35: fine)
        ("XC01-B", day(33.5), 9999),  # above the next (4000): roll-over on the way back
    ]
    errors = both(session, monkeypatch, bad)
    assert [(row, key) for row, key, _ in errors] == [
        (2, "energy.reading.higher_than_next"),
        (3, "energy.reading.lower_than_previous"),
        (5, "import.energy.other_value_stored"),
        (7, "energy.reading.higher_than_next"),
    ]


@pytest.mark.slow  # 25 random rounds checked both ways
def test_random_histories_match_the_whole_history(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    codes = {f"XC01-R{i}": (None if i % 3 == 0 else 3) for i in range(6)}
    setup(session, codes)
    for i, code in enumerate(codes):
        value = 0.0
        values = []
        for n in range(1, 60):
            step = rng.choice([5, 8, 10, 12, 300]) if i % 2 else rng.choice([-7, 3, 9, -2])
            value = max(0.0, value + step) % 1000 if codes[code] else max(0.0, value + step)
            values.append((day(n), value))
        store(session, code, values)
    replace_meter(session, CLI, "XC01-R1", day(60.5), 999, 0, now=NOW)
    for _ in range(25):
        rows: list[tuple[str, datetime, float | str]] = []
        for code in rng.sample(sorted(codes), 3):
            for _ in range(rng.randint(1, 3)):
                at = day(rng.choice([rng.uniform(1, 62), rng.randint(1, 61)]))
                rows.append((code, at, round(rng.uniform(0, 999), 1)))
        both(session, monkeypatch, rows)


def test_rows_loaded_do_not_grow_with_the_history(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = setup(session, {"XC01-SHORT": None, "XC01-LONG": None})
    store(session, "XC01-SHORT", [(day(n), 10.0 * n) for n in range(1, 31)])
    store(session, "XC01-LONG", [(day(n), 10.0 * n) for n in range(1, 151)])
    seen: list[dict[int, PointContext]] = []

    def spy(s: Session, windows: Mapping[int, tuple[datetime, datetime]]) -> Any:
        contexts = load_contexts(s, windows)
        seen.append(contexts)
        return contexts

    monkeypatch.setattr(energy_imports, "load_contexts", spy)
    rows: list[tuple[str, datetime, float | str]] = [
        ("XC01-SHORT", day(31), 310),
        ("XC01-LONG", day(151), 1510),
    ]
    created, _, _ = outcome(session, rows)
    assert created == 2
    (contexts,) = seen
    assert len(contexts[ids["XC01-SHORT"]].readings) == CONTEXT_BEFORE
    assert len(contexts[ids["XC01-LONG"]].readings) == CONTEXT_BEFORE


def test_form_and_status_agree_with_the_whole_history(session: Session) -> None:
    """A point whose recent intervals are mostly held: the context loads more, still right."""
    setup(session, {"XC01-F": None})
    values = [(day(n), 100.0 * n) for n in range(1, 11)]  # ordinary, 100/day
    values += [(day(10 + n), 900.0 - n) for n in range(1, 16)]  # 15 held (falling) intervals
    store(session, "XC01-F", values)
    status = point_status(session, CLI, "XC01-F")
    meters = load_meters(session, [status_id(session)])[status_id(session)]
    everything = whole_history(session, {status_id(session): (END_OF_TIME, END_OF_TIME)})
    history = History()
    point_intervals(everything[status_id(session)].installations(), history)
    assert status.typical_daily_use == history.typical() == Decimal(100)
    assert len(meters) == 1 and status.last_reading == Decimal(885)
    assert [r.reading for r in status.recent][:2] == [Decimal(885), Decimal(886)]
    # 885 → 1300 in a day: 415 > 3 × 100 needs confirmation; 1100 does not.
    with pytest.raises(energy_services.HighReadingConfirmationNeeded):
        record_reading(session, CLI, "XC01-F", day(26), 1300, now=NOW)
    stored = record_reading(session, CLI, "XC01-F", day(26), 1100, now=NOW)
    assert stored.reading.flag is None
    corrected = correct_reading(session, CLI, stored.reading.reading_id, 1000, now=NOW)
    assert corrected.reading == Decimal(1000)


def status_id(session: Session) -> int:
    return session.scalars(select(MeterPoint.id).where(MeterPoint.code == "XC01-F")).one()


def test_superseded_check_uses_the_partial_index_after_analyze(session: Session) -> None:
    ids = setup(session, {f"XC01-P{i}": None for i in range(20)})
    for code in ids:
        store(session, code, [(day(n), 10.0 * n) for n in range(1, 101)])
    first = session.scalars(select(Reading).order_by(Reading.id)).first()
    assert first is not None
    correct_reading(session, CLI, first.id, "10.5", now=NOW)
    session.execute(text("ANALYZE"))
    if session.get_bind().dialect.name == "postgresql":
        (definition,) = session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
            {"n": "uq_energy_reading_supersedes_id"},
        ).one()
        assert "UNIQUE" in definition and "WHERE (supersedes_id IS NOT NULL)" in definition
    else:
        check_sqlite_plan(session, ids)
    # the import works with statistics
    rows: list[tuple[str, datetime, float | str]] = [(code, day(101), 1010) for code in ids]
    created, _, _ = outcome(session, rows)
    assert created == 20


def check_sqlite_plan(session: Session, ids: dict[str, int]) -> None:
    """No full scan of energy_reading, the superseded check through the partial index."""
    windows = {pid: (day(101), day(101)) for pid in ids.values()}
    sql = str(
        context_readings_query(windows).compile(
            dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    plan = [str(row[-1]) for row in session.execute(text("EXPLAIN QUERY PLAN " + sql))]
    assert not [line for line in plan if re.match(r"SCAN (energy_reading|x)\b", line)], plan
    superseded = [line for line in plan if "supersedes_id" in line]
    assert superseded, plan
    assert all("uq_energy_reading_supersedes_id" in line for line in superseded), plan
