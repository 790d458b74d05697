"""The Python supplier score rule against the shared vectors (the warehouse SQL runs the same)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from operational.suppliers import (
    Breach,
    Contract,
    ManualPoints,
    evaluate,
    local_month,
    mean,
    scored_months,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "supplier_score_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _inputs(case: dict[str, Any]) -> tuple[list[Contract], list[Breach], list[ManualPoints]]:
    contracts = [
        Contract(
            contract_no=c["contract_no"],
            supplier_code=c["supplier_code"],
            discipline=c["discipline"],
            starts_on=date.fromisoformat(c["starts_on"]),
            ends_on=date.fromisoformat(c["ends_on"]),
            timezone=case["offices"][c["office_code"]],
            office_code=c["office_code"],
            standard={int(k): Decimal(v) for k, v in c["standard"].items()},
        )
        for c in case["contracts"]
    ]
    breaches = [
        Breach(n["contract_no"], _instant(n["opened_at"]), n["breach_points"])
        for n in case["nonconformities"]
    ]
    manual = [
        ManualPoints(s["contract_no"], date.fromisoformat(s["month"] + "-01"), Decimal(s["points"]))
        for s in case["scores"]
    ]
    return contracts, breaches, manual


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vectors(case: dict[str, Any]) -> None:
    months, ranked = evaluate(*_inputs(case), _instant(case["as_of"]))
    got_months = [
        [
            m.contract_no,
            m.month.strftime("%Y-%m"),
            m.nonconformities,
            m.breach_points,
            m.deduction_amount,
            m.manual_points,
            m.score,
        ]
        for m in months
    ]
    want_months = [
        [r[0], r[1], r[2], r[3], Decimal(r[4]), Decimal(r[5]), Decimal(r[6])]
        for r in case["expected"]["contract_scores"]
    ]
    assert sorted(got_months) == sorted(want_months)
    got_ranked = sorted(
        [
            r.period_type,
            r.period,
            r.discipline,
            r.supplier_code,
            r.contracts,
            r.score,
            r.nonconformities,
            r.breach_points,
            r.deduction_amount,
            r.rank,
        ]
        for r in ranked
    )
    want_ranked = sorted(
        [*r[:5], Decimal(r[5]), r[6], r[7], Decimal(r[8]), r[9]]
        for r in case["expected"]["supplier_ranking"]
    )
    assert got_ranked == want_ranked


def test_a_month_belongs_to_the_office_local_day() -> None:
    late_evening_utc = datetime(2026, 1, 31, 17, 0, tzinfo=UTC)  # 1 February 01:00 in Shanghai
    assert local_month(late_evening_utc, "Asia/Shanghai") == date(2026, 2, 1)
    assert local_month(late_evening_utc, "Europe/London") == date(2026, 1, 1)


def test_a_contract_scores_only_months_begun() -> None:
    contract = Contract("C", "S", "cleaning", date(2025, 12, 20), date(2026, 6, 30))
    as_of = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)  # 1 March 00:30 in Shanghai
    assert scored_months(contract, as_of) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_means_round_halves_away_from_zero() -> None:
    assert mean([Decimal("100"), Decimal("99.99")]) == Decimal("100.00")
    assert mean([Decimal("-10.01"), Decimal("-10.00")]) == Decimal("-10.01")
    assert mean([Decimal("100"), Decimal("100"), Decimal("99")]) == Decimal("99.67")
