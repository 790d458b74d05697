"""The monthly supplier evaluation (供方月度评价) and a contract's month as finance reads it.

An office scores each of its supplier contracts every month: the system computes the
nonconformities, breach points and deduction amount of the month (the rule of
:mod:`operational.suppliers`, the same as the warehouse's, ``docs/supplier-marts.md``); the
office enters by hand signed points for the other items — staffing shortfall (缺编), training
sessions (培训), tools and materials (工具物料) and others (其他) — with no formula imposed. The
entries are :class:`~operational.models.SupplierScoreEntry` rows (one per contract, month and
item, the same rows ``propcloud import supplier-scores`` writes), audited in the same
transaction, and the next warehouse build scores them.

Who: the office manager at their office and the group administrator
(:data:`EVALUATE_PERMISSION`) enter; whoever may view supplier figures
(:data:`VIEW_PERMISSION`) reads a contract's month (the deduction statement). Both filter by the
principal's offices inside the query: a contract of another office is not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from operational import audit
from operational.auth import Permission, Principal
from operational.db import as_utc
from operational.errors import NotFound, Problems, Term
from operational.models import (
    DeductionStandard,
    Nonconformity,
    Office,
    Supplier,
    SupplierContract,
    SupplierScoreEntry,
)
from operational.scope import office_clause, scoped_read
from operational.suppliers import (
    Breach,
    Contract,
    ContractMonth,
    ManualPoints,
    contract_scores,
    first_of_month,
    local_month,
    scored_months,
)

EVALUATE_PERMISSION = Permission.EVALUATE_SUPPLIERS
VIEW_PERMISSION = Permission.VIEW_SUPPLIERS
EVALUATION_ITEMS: tuple[tuple[str, str], ...] = (
    ("staffing", "缺编 staffing shortfall"),
    ("training", "培训 training"),
    ("tools", "工具物料 tools and materials"),
    ("other", "其他 other"),
)
"""The items the office scores by hand: the form's field name and the ``item`` stored (the
names the demo and the imports use, so that a month entered either way is the same month)."""
MAX_POINTS = Decimal("99999.99")
"""What an item's points can hold (``Numeric(7, 2)``), either sign."""


@dataclass(frozen=True)
class ContractInfo:
    """A supplier contract as the pages show it."""

    contract_no: str
    supplier_code: str
    supplier_name: str
    office_code: str
    office_name: str
    timezone: str
    discipline: str
    starts_on: date
    ends_on: date
    amount: Decimal


@dataclass(frozen=True)
class NonconformityLine:
    """A nonconformity of the month naming the contract, with what its points cost."""

    nc_no: str
    kind: str
    opened_at: datetime  # aware UTC
    closed_at: datetime | None
    breach_points: int | None
    amount: Decimal


@dataclass(frozen=True)
class ContractMonthView:
    """One contract's month: its nonconformities, the office's entries (item → points, every
    item stored, the form's and any imported) and the figures computed by the live rule
    (``figures`` None: the contract does not score that month — not active, or not begun)."""

    contract: ContractInfo
    month: date
    as_of: datetime
    standard: dict[int, Decimal]
    nonconformities: tuple[NonconformityLine, ...]
    entries: dict[str, Decimal]
    figures: ContractMonth | None

    @property
    def scored(self) -> bool:
        return self.figures is not None


def _contracts(
    principal: Principal, permission: Permission
) -> Select[SupplierContract, Supplier, Office]:
    return (
        select(SupplierContract, Supplier, Office)
        .join(Supplier, Supplier.id == SupplierContract.supplier_id)
        .join(Office, Office.id == SupplierContract.office_id)
        .where(office_clause(principal, permission, SupplierContract.office_id))
    )


def _info(contract: SupplierContract, supplier: Supplier, office: Office) -> ContractInfo:
    return ContractInfo(
        contract_no=contract.contract_no,
        supplier_code=supplier.supplier_code,
        supplier_name=supplier.name,
        office_code=office.code,
        office_name=office.name,
        timezone=office.timezone,
        discipline=contract.discipline,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        amount=contract.amount,
    )


@scoped_read(EVALUATE_PERMISSION)
def evaluation_contracts(
    session: Session, principal: Principal, office_code: str | None = None
) -> list[ContractInfo]:
    """The contracts the principal may evaluate (of one office if given), by office and
    contract number."""
    query = _contracts(principal, EVALUATE_PERMISSION)
    if office_code is not None:
        query = query.where(Office.code == office_code)
    query = query.order_by(Office.code, SupplierContract.contract_no)
    return [_info(c, s, o) for c, s, o in session.execute(query)]


def _find(
    session: Session, principal: Principal, permission: Permission, contract_no: str
) -> tuple[SupplierContract, ContractInfo]:
    found = session.execute(
        _contracts(principal, permission).where(SupplierContract.contract_no == contract_no.strip())
    ).one_or_none()
    if found is None:
        raise NotFound("suppliers_ui.unknown_contract", contract=contract_no)
    contract, supplier, office = found
    return contract, _info(contract, supplier, office)


def evaluable_months(contract: ContractInfo, as_of: datetime) -> list[date]:
    """The months (first days) a contract can be evaluated for at ``as_of``: those it scores,
    newest first."""
    rule = Contract(
        contract.contract_no,
        contract.supplier_code,
        contract.discipline,
        contract.starts_on,
        contract.ends_on,
        contract.timezone,
    )
    return list(reversed(scored_months(rule, as_of)))


def _month_view(
    session: Session, contract: SupplierContract, info: ContractInfo, month: date, as_of: datetime
) -> ContractMonthView:
    standard = {
        s.points: s.amount
        for s in session.scalars(
            select(DeductionStandard).where(DeductionStandard.contract_id == contract.id)
        )
    }
    lines = [
        NonconformityLine(
            n.nc_no,
            n.kind,
            as_utc(n.opened_at),
            None if n.closed_at is None else as_utc(n.closed_at),
            n.breach_points,
            standard.get(n.breach_points, Decimal(0))
            if n.breach_points is not None
            else Decimal(0),
        )
        for n in session.scalars(
            select(Nonconformity)
            .where(Nonconformity.contract_id == contract.id)
            .order_by(Nonconformity.opened_at, Nonconformity.nc_no)
        )
        if local_month(as_utc(n.opened_at), info.timezone) == month and as_utc(n.opened_at) <= as_of
    ]
    entries = {
        e.item: e.points
        for e in session.scalars(
            select(SupplierScoreEntry)
            .where(SupplierScoreEntry.contract_id == contract.id)
            .where(SupplierScoreEntry.month == month)
            .order_by(SupplierScoreEntry.item)
        )
    }
    rule = Contract(
        info.contract_no,
        info.supplier_code,
        info.discipline,
        info.starts_on,
        info.ends_on,
        info.timezone,
        info.office_code,
        standard,
    )
    rows = contract_scores(
        [rule],
        [Breach(info.contract_no, line.opened_at, line.breach_points) for line in lines],
        [ManualPoints(info.contract_no, month, points) for points in entries.values()],
        as_of,
    )
    figures = next((row for row in rows if row.month == month), None)
    return ContractMonthView(info, month, as_of, standard, tuple(lines), entries, figures)


@scoped_read(VIEW_PERMISSION)
def contract_month(
    session: Session,
    principal: Principal,
    contract_no: str,
    month: date,
    *,
    now: datetime | None = None,
) -> ContractMonthView:
    """A contract's month (the deduction statement's content) by the live rule at ``now``;
    :class:`NotFound` for a contract of an office where the principal may not view suppliers."""
    contract, info = _find(session, principal, VIEW_PERMISSION, contract_no)
    return _month_view(session, contract, info, first_of_month(month), as_utc(now or _now()))


def _now() -> datetime:
    return datetime.now(UTC)


def _points(text: str) -> Decimal | None:
    """A form's points: blank is none; otherwise a signed number with at most two decimals."""
    cleaned = text.strip().replace("，", ".").replace(",", ".").replace("＋", "+")
    cleaned = cleaned.replace("－", "-").replace("−", "-")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    return value


def save_evaluation(
    session: Session,
    principal: Principal,
    contract_no: str,
    month: date,
    points: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> ContractMonthView:
    """Store the office's points of ``contract_no`` for ``month``: ``points`` by form field
    (:data:`EVALUATION_ITEMS`; blank removes the item's entry). Every field is checked before
    anything is written (one :class:`~operational.errors.FormRejected` naming each bad field);
    the month must be one the contract scores by ``now``. Audited with the entries before and
    after. Returns the month as it now stands."""
    contract, info = _find(session, principal, EVALUATE_PERMISSION, contract_no)
    as_of = as_utc(now or _now())
    month = first_of_month(month)
    problems = Problems(["month", *(name for name, _ in EVALUATION_ITEMS)])
    if month not in evaluable_months(info, as_of):
        problems.add(
            "month",
            "suppliers_ui.month_not_scored",
            contract=info.contract_no,
            month=f"{month:%Y-%m}",
        )
    wanted: dict[str, Decimal | None] = {}
    for name, item in EVALUATION_ITEMS:
        label = Term(f"suppliers_ui.item.{name}")
        try:
            value = _points(points.get(name, ""))
        except ValueError:
            problems.add(name, "suppliers_ui.points_not_number", item=label)
            continue
        if value is not None and value != value.quantize(Decimal("0.01")):
            problems.add(name, "suppliers_ui.points_decimals", item=label)
        elif value is not None and abs(value) > MAX_POINTS:
            problems.add(name, "suppliers_ui.points_too_large", item=label, max=str(MAX_POINTS))
        else:
            wanted[item] = None if value is None else value.quantize(Decimal("0.01"))
    problems.raise_if_any()
    stored = {
        e.item: e
        for e in session.scalars(
            select(SupplierScoreEntry)
            .where(SupplierScoreEntry.contract_id == contract.id)
            .where(SupplierScoreEntry.month == month)
            .where(SupplierScoreEntry.item.in_(list(wanted)))
        )
    }
    before = {item: str(e.points) for item, e in sorted(stored.items())}
    after: dict[str, str] = {}
    for item, value in wanted.items():
        entry = stored.get(item)
        if value is None:
            if entry is not None:
                session.delete(entry)
        elif entry is None:
            session.add(
                SupplierScoreEntry(contract_id=contract.id, month=month, item=item, points=value)
            )
            after[item] = str(value)
        else:
            entry.points = value
            after[item] = str(value)
    session.flush()
    if before != dict(sorted(after.items())):
        audit.record(
            session,
            actor=principal.username,
            action="evaluate",
            entity="supplier_evaluation",
            entity_key=f"{info.contract_no}/{month:%Y-%m}",
            office_id=contract.office_id,
            before=before,
            after=dict(sorted(after.items())),
        )
    return _month_view(session, contract, info, month, as_of)
