"""The supplier score (供方绩效评价), once in Python: pure functions on plain values, ``Decimal``.

The warehouse computes the same in SQL (``warehouse/sql/marts/contract_scores.sql`` and
``supplier_ranking.sql``); the shared vectors ``tests/vectors/supplier_score_vectors.json`` hold
both to it. The rule (``docs/supplier-marts.md``):

* a nonconformity counts in the office-local month of ``opened_at``, if it was opened by the
  evaluation instant ``as_of``; its deduction is the amount its breach points cost in its
  contract's deduction standard (points the standard lacks cost nothing — the imports refuse
  them, and the warehouse warns of any);
* a contract scores every month in which it is active on at least one day (``starts_on`` …
  ``ends_on``) and that has begun by ``as_of`` (office-local):
  ``100 − breach points + Σ manual points`` of that month — a month with nothing recorded
  scores 100;
* a supplier's monthly score, per discipline (the contracts'), is the mean of its contracts'
  scores that month; its yearly score the mean of its monthly scores in that year. Means are
  rounded to 0.01, halves away from zero; counts, points and money are sums;
* ranking per period and discipline: higher score first, then the lower deduction amount; still
  equal, equal rank (1, 2, 2, 4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

FULL_SCORE = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Contract:
    """A contract as the rule sees it: who, which discipline, when, in which office's zone, and
    its deduction standard (breach points → yuan)."""

    contract_no: str
    supplier_code: str
    discipline: str
    starts_on: date
    ends_on: date
    timezone: str = "Asia/Shanghai"
    office_code: str = ""
    standard: Mapping[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Breach:
    """A nonconformity raised against a contract, with its breach points (None: none chosen)."""

    contract_no: str
    opened_at: datetime
    breach_points: int | None = None


@dataclass(frozen=True)
class ManualPoints:
    """Signed points the office gave a contract by hand for a month (its first day)."""

    contract_no: str
    month: date
    points: Decimal


@dataclass(frozen=True)
class ContractMonth:
    """One row of ``marts.contract_scores``."""

    contract_no: str
    supplier_code: str
    office_code: str
    discipline: str
    month: date
    nonconformities: int
    breach_points: int
    deduction_amount: Decimal
    manual_points: Decimal
    score: Decimal


@dataclass(frozen=True)
class Ranked:
    """One row of ``marts.supplier_ranking``."""

    period_type: str  # 'month' | 'year'
    period: str  # 'YYYY-MM' | 'YYYY'
    discipline: str
    supplier_code: str
    contracts: int
    score: Decimal
    nonconformities: int
    breach_points: int
    deduction_amount: Decimal
    rank: int


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def local_month(at: datetime, timezone: str) -> date:
    """The first day of the month ``at`` (an aware instant) falls in, in ``timezone``."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: instants must carry a zone")
    return first_of_month(at.astimezone(ZoneInfo(timezone)).date())


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def scored_months(contract: Contract, as_of: datetime) -> list[date]:
    """The months (first days) the contract scores: active on at least one day, and begun by
    ``as_of`` in the office's time zone."""
    last = min(first_of_month(contract.ends_on), local_month(as_of, contract.timezone))
    months = []
    month = first_of_month(contract.starts_on)
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def mean(values: Sequence[Decimal]) -> Decimal:
    """The mean of scores held to 0.01, rounded to 0.01 with halves away from zero — done in
    whole hundredths, so that SQL (``supplier_ranking.sql``) computes exactly the same."""
    cents = sum(int(v * 100) for v in values)
    n = len(values)
    if n == 0:
        raise ValueError("mean of nothing")
    rounded = (2 * abs(cents) + n) // (2 * n)
    return Decimal(rounded if cents >= 0 else -rounded) * CENT


def contract_scores(
    contracts: Iterable[Contract],
    breaches: Iterable[Breach],
    manual: Iterable[ManualPoints],
    as_of: datetime,
) -> list[ContractMonth]:
    """Every scored month of every contract, ordered by contract and month."""
    by_no = {c.contract_no: c for c in contracts}
    found: dict[tuple[str, date], list[Breach]] = defaultdict(list)
    for b in breaches:
        contract = by_no.get(b.contract_no)
        if contract is None or b.opened_at > as_of:
            continue
        found[(b.contract_no, local_month(b.opened_at, contract.timezone))].append(b)
    given: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for m in manual:
        given[(m.contract_no, first_of_month(m.month))] += m.points
    rows = []
    for contract in sorted(by_no.values(), key=lambda c: c.contract_no):
        for month in scored_months(contract, as_of):
            month_breaches = found.get((contract.contract_no, month), [])
            points = sum(b.breach_points or 0 for b in month_breaches)
            money = sum(
                (
                    contract.standard.get(b.breach_points, Decimal(0))
                    for b in month_breaches
                    if b.breach_points is not None
                ),
                Decimal(0),
            )
            added = given.get((contract.contract_no, month), Decimal(0))
            rows.append(
                ContractMonth(
                    contract_no=contract.contract_no,
                    supplier_code=contract.supplier_code,
                    office_code=contract.office_code,
                    discipline=contract.discipline,
                    month=month,
                    nonconformities=len(month_breaches),
                    breach_points=points,
                    deduction_amount=money.quantize(CENT),
                    manual_points=added.quantize(CENT),
                    score=(FULL_SCORE - points + added).quantize(CENT),
                )
            )
    return rows


@dataclass
class _Period:
    contracts: set[str] = field(default_factory=set)
    scores: list[Decimal] = field(default_factory=list)
    nonconformities: int = 0
    breach_points: int = 0
    deduction_amount: Decimal = Decimal(0)


def _rank(rows: list[tuple[tuple[str, str, str, str], _Period, Decimal]]) -> list[Ranked]:
    """Rank within each (period type, period, discipline): score desc, deduction asc; ties
    share a rank and the next rank skips (1, 2, 2, 4)."""
    groups: dict[tuple[str, str, str], list[tuple[str, _Period, Decimal]]] = defaultdict(list)
    for (kind, period, discipline, supplier), p, score in rows:
        groups[(kind, period, discipline)].append((supplier, p, score))
    ranked = []
    for (kind, period, discipline), members in sorted(groups.items()):
        members.sort(key=lambda m: (-m[2], m[1].deduction_amount, m[0]))
        rank = 0
        previous: tuple[Decimal, Decimal] | None = None
        for position, (supplier, p, score) in enumerate(members, start=1):
            key = (score, p.deduction_amount)
            if key != previous:
                rank, previous = position, key
            ranked.append(
                Ranked(
                    period_type=kind,
                    period=period,
                    discipline=discipline,
                    supplier_code=supplier,
                    contracts=len(p.contracts),
                    score=score,
                    nonconformities=p.nonconformities,
                    breach_points=p.breach_points,
                    deduction_amount=p.deduction_amount.quantize(CENT),
                    rank=rank,
                )
            )
    return ranked


def supplier_ranking(months: Iterable[ContractMonth]) -> list[Ranked]:
    """The ranking of suppliers per month and per year, from :func:`contract_scores`."""
    monthly: dict[tuple[str, str, str, str], _Period] = defaultdict(_Period)
    for row in months:
        key = ("month", row.month.strftime("%Y-%m"), row.discipline, row.supplier_code)
        p = monthly[key]
        p.contracts.add(row.contract_no)
        p.scores.append(row.score)
        p.nonconformities += row.nonconformities
        p.breach_points += row.breach_points
        p.deduction_amount += row.deduction_amount
    month_rows = [(key, p, mean(p.scores)) for key, p in monthly.items()]
    yearly: dict[tuple[str, str, str, str], _Period] = defaultdict(_Period)
    for (_, period, discipline, supplier), p, score in month_rows:
        y = yearly[("year", period[:4], discipline, supplier)]
        y.contracts |= p.contracts
        y.scores.append(score)
        y.nonconformities += p.nonconformities
        y.breach_points += p.breach_points
        y.deduction_amount += p.deduction_amount
    year_rows = [(key, p, mean(p.scores)) for key, p in yearly.items()]
    return _rank(month_rows) + _rank(year_rows)


def evaluate(
    contracts: Iterable[Contract],
    breaches: Iterable[Breach],
    manual: Iterable[ManualPoints],
    as_of: datetime,
) -> tuple[list[ContractMonth], list[Ranked]]:
    """Both marts' rows at once."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a zone")
    months = contract_scores(contracts, breaches, manual, as_of.astimezone(UTC))
    return months, supplier_ranking(months)


# --- which nonconformity may be charged to a contract (one rule: imports and the live form) ----


@dataclass(frozen=True)
class ChargeProblem:
    """Why a nonconformity may not be charged as given: the field at fault (``contract_no``,
    ``opened_at``, ``breach_points``), a catalogue key (its message names ``{column}``) and the
    key's parameters."""

    field: str
    key: str
    params: Mapping[str, object]


CORRECTIVE_PREVENTIVE = "corrective_preventive"


def charge_problems(
    *,
    kind: str,
    office_code: str,
    discipline: str | None,
    opened_on: date | None,
    contract_no: str | None,
    contract: Contract | None,
    points: int | None,
) -> list[ChargeProblem]:
    """The rule for the contract and breach points a nonconformity names (违约扣分), for the
    go-live import and the live form alike (``docs/nonconformities.md``):

    * the contract (when ``contract_no`` names one that exists: ``contract``) must be of the
      nonconformity's office and discipline, and the nonconformity opened (office-local day
      ``opened_on``) within its period;
    * breach points must be a step of that contract's deduction standard, and need a contract;
    * a corrective-and-preventive ticket (纠正预防单) naming a contract must carry breach points.

    ``discipline`` / ``opened_on`` None: not known (already refused), not checked here.
    """
    problems: list[ChargeProblem] = []
    if contract is not None:
        if contract.office_code != office_code:
            problems.append(
                ChargeProblem(
                    "contract_no",
                    "import.suppliers.contract_other_office",
                    {"no": contract.contract_no, "office": contract.office_code},
                )
            )
        if discipline and contract.discipline != discipline:
            problems.append(
                ChargeProblem(
                    "contract_no",
                    "import.suppliers.contract_other_discipline",
                    {"no": contract.contract_no, "discipline": contract.discipline},
                )
            )
        if opened_on is not None and not contract.starts_on <= opened_on <= contract.ends_on:
            problems.append(
                ChargeProblem(
                    "opened_at",
                    "import.suppliers.opened_outside_contract",
                    {
                        "no": contract.contract_no,
                        "starts": contract.starts_on.isoformat(),
                        "ends": contract.ends_on.isoformat(),
                    },
                )
            )
        if points is not None and points not in contract.standard:
            problems.append(
                ChargeProblem(
                    "breach_points",
                    "import.suppliers.points_not_in_standard",
                    {
                        "no": contract.contract_no,
                        "points": points,
                        "known": ", ".join(str(p) for p in sorted(contract.standard)) or "—",
                    },
                )
            )
    if points is not None and not contract_no:
        problems.append(ChargeProblem("contract_no", "import.suppliers.points_need_contract", {}))
    if kind == CORRECTIVE_PREVENTIVE and contract_no and points is None:
        problems.append(
            ChargeProblem("breach_points", "import.suppliers.corrective_needs_points", {})
        )
    return problems


FIRST_STATES: Mapping[str, str] = {
    "notice": "issued",
    "handling": "assigned",
    CORRECTIVE_PREVENTIVE: "opened",
}
LAST_STATES: Mapping[str, str] = {
    "notice": "acknowledged",
    "handling": "verified",
    CORRECTIVE_PREVENTIVE: "verified",
}
"""The first and last workflow state of each nonconformity kind (operational/workflow)."""


def history_state(kind: str, closed: bool) -> str:
    """The state a nonconformity of the go-live history is stored in: its kind's last state
    when it was closed, else its first (migration ``0020_nonconformity_flows`` says the same)."""
    return (LAST_STATES if closed else FIRST_STATES)[kind]
