"""The Python energy interval rule against the shared vectors (the warehouse SQL runs the same)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from operational.energy import (
    History,
    Installation,
    IntervalStatus,
    classify,
    point_intervals,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "energy_interval_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value.astimezone(UTC)


def _installation(data: dict[str, Any]) -> Installation:
    return Installation(
        multiplier=Decimal(data["multiplier"]),
        digits=data["digits"],
        installed_at=_instant(data["installed_at"]),
        initial_reading=Decimal(data["initial_reading"]),
        readings=[(_instant(r["read_at"]), Decimal(r["reading"])) for r in data["readings"]],
        removed_at=_instant(data["removed_at"]) if data["removed_at"] else None,
        final_reading=Decimal(data["final_reading"]) if data["final_reading"] else None,
    )


def test_vectors_are_there() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_intervals(case: dict[str, Any]) -> None:
    intervals = point_intervals([_installation(i) for i in case["installations"]])
    got = [(i.start, i.end, i.delta, i.status.value) for i in intervals]
    expected = [
        (
            _instant(e["start"]),
            _instant(e["end"]),
            Decimal(e["delta"]) if e["delta"] is not None else None,
            e["status"],
        )
        for e in case["expected_intervals"]
    ]
    assert got == expected


T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)


def test_rollover_without_digits_is_held() -> None:
    result = classify(T0, T1, Decimal(90), Decimal(10), Decimal(1), None, Decimal(50))
    assert (result.status, result.delta) == (IntervalStatus.HELD, None)


def test_history_keeps_only_ten_most_recent_ordinary_rates() -> None:
    history = History(Decimal(100) for _ in range(10))
    for _ in range(6):
        history.add(classify(T0, T1, Decimal(0), Decimal(1), Decimal(1), None, None))
    assert history.typical() == Decimal(1)
