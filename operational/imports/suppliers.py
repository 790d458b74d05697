"""Supplier imports: ``propcloud import suppliers | contracts | deduction-standards |
nonconformities | supplier-scores FILE`` (the data contract: ``docs/import-formats.md``).

* **suppliers** — ``supplier_code, name, discipline``; keyed by the code (within the group).
* **contracts** — ``contract_no, supplier_code, office_code, discipline, starts_on, ends_on,
  amount``; keyed by the number. A stored contract keeps its supplier, office and discipline (a
  row changing one is refused); its period and amount are set from the file, as long as the
  period keeps its stored nonconformities and score months.
* **deduction-standards** — ``contract_no, points, amount``; keyed by (contract, points).
* **nonconformities** — ``nc_no, office_code, kind, discipline, opened_at, closed_at,
  contract_no, breach_points`` (the go-live history); keyed by the number. Times without an
  offset are the office's local time; an empty cell is none. A row naming a contract must
  match its office and discipline, be opened within its period, and its breach points must be
  a step of the contract's deduction standard; a ``corrective_preventive`` row naming a contract
  must carry breach points, and points need a contract.
* **supplier-scores** — ``contract_no, month`` (``YYYY-MM``), ``item, points`` (signed); keyed by
  (contract, month, item); the month must be one the contract is active in.

Every import: all rows or none — every bad row reported by its number and column; a key given
twice in one file is refused; re-importing a row *updates* the stored record with that key
(upsert), an identical row is counted unchanged. Each change is audited. Imports are serialised
with each other (:data:`SUPPLIERS`). Load them in the order above: each refers to the ones before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from operational import audit, entry
from operational import suppliers as rules
from operational.auth import Permission, Principal
from operational.db import WriteLock, serialise
from operational.errors import DomainError, PermissionDenied
from operational.imports.calendars import parse_day
from operational.imports.energy import number_refusal, parse_number, parse_time, time_refusal
from operational.imports.table import (
    CODE_PATTERN,
    ImportRejected,
    ImportSummary,
    Row,
    RowError,
    read_table,
)
from operational.models import (
    NONCONFORMITY_MODELS,
    DeductionStandard,
    Discipline,
    Group,
    Nonconformity,
    NonconformityKind,
    Office,
    Supplier,
    SupplierContract,
    SupplierScoreEntry,
    WorkflowEvent,
    utcnow,
)
from operational.progress import NO_PROGRESS, Progress, counted, stage
from operational.suppliers import history_state

SUPPLIERS = WriteLock("suppliers", 16)
"""One supplier import at a time (:func:`operational.db.serialise`), taken before anything is
read: the second of two concurrent imports validates against the first one's records."""

SUPPLIER_COLUMNS = ("supplier_code", "name", "discipline")
CONTRACT_COLUMNS = (
    "contract_no",
    "supplier_code",
    "office_code",
    "discipline",
    "starts_on",
    "ends_on",
    "amount",
)
STANDARD_COLUMNS = ("contract_no", "points", "amount")
NONCONFORMITY_COLUMNS = ("nc_no", "office_code", "kind", "discipline", "opened_at")
NONCONFORMITY_OPTIONAL = ("closed_at", "contract_no", "breach_points")
SCORE_COLUMNS = ("contract_no", "month", "item", "points")

DOCUMENT_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,39}$")
MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-01(?: 00:00:00)?)?$")
DISCIPLINES = frozenset(d.value for d in Discipline)
KINDS = frozenset(k.value for k in NonconformityKind)
NONCONFORMITY_DOCUMENT_TYPES = (
    "nonconformity_notice",
    "nonconformity_handling",
    "nonconformity_corrective",
)
"""The workflow document types of the three kinds (operational/workflow/definitions.py)."""


def may_import(actor: Principal) -> bool:
    """Supplier data is the group's: whoever manages the group's suppliers group-wide (the group
    administrator, and the command line) loads it."""
    return actor.offices_for(Permission.MANAGE_SUPPLIERS) is None


def _check_actor(actor: Principal) -> None:
    if not may_import(actor):
        raise PermissionDenied("auth.not_allowed")


# --- reading cells ------------------------------------------------------------------------------


class _Row:
    """One row's cells, with the errors found in them so far (each naming row and column)."""

    def __init__(self, number: int, values: dict[str, str], errors: list[RowError]) -> None:
        self.number = number
        self.values = values
        self.errors: list[RowError] = []
        self._all = errors

    def fail(self, key: str, /, **params: object) -> None:
        self.errors.append(RowError(self.number, key, params))

    def done(self) -> bool:
        """Whether the row is good; its errors go to the report if not."""
        self._all.extend(self.errors)
        return not self.errors

    def required(self, *columns: str) -> None:
        for column in columns:
            if not self.values[column]:
                self.fail("import.missing_value", column=column)

    def text(self, column: str, model_column: Any) -> str:
        """The cell, if it fits the model's column (the reader checks it for a file too)."""
        value = self.values[column]
        refusal = entry.text_refusal(value, model_column)
        if refusal is not None:
            self.fail(refusal[0], column=column, value=value, **refusal[1])
        return value

    def code(self, column: str, pattern: re.Pattern[str] = CODE_PATTERN) -> str:
        value = self.values[column]
        if value and not pattern.match(value):
            key = "import.bad_code" if pattern is CODE_PATTERN else "import.suppliers.bad_number"
            self.fail(key, column=column, value=value)
        return value

    def discipline(self) -> str:
        value = self.values["discipline"].lower()
        if value and value not in DISCIPLINES:
            self.fail("import.suppliers.bad_discipline", column="discipline", value=value)
        return value

    def day(self, column: str) -> date | None:
        text = self.values[column]
        if not text:
            return None
        day = parse_day(text)
        if day is None:
            self.fail("import.suppliers.bad_date", column=column, value=entry.short(text))
            return None
        refusal = entry.day_refusal(day)
        if refusal is not None:
            key, params = refusal
            self.fail(key, column=column, value=entry.short(text), **params)
            return None
        return day

    def money(self, column: str, column_type: Any) -> Decimal | None:
        text = self.values[column]
        if not text:
            return None
        value = parse_number(text)
        if value is None:
            self.fail("import.bad_number", column=column, value=entry.short(text))
            return None
        refused = number_refusal(self.number, column, text, value, column_type)
        if refused is not None:
            self.errors.append(refused)
            return None
        if value < 0:
            self.fail("import.suppliers.negative", column=column, value=entry.short(text))
            return None
        return value

    def points(self, column: str) -> int | None:
        """A whole number of breach points above 0."""
        text = self.values[column]
        if not text:
            return None
        value = parse_number(text)
        if value is None or value != value.to_integral_value() or value <= 0:
            self.fail("import.suppliers.bad_points", column=column, value=entry.short(text))
            return None
        refusal = entry.integer_refusal(int(value))
        if refusal is not None:
            key, params = refusal
            self.fail(key, column=column, value=entry.short(text), **params)
            return None
        return int(value)

    def instant(self, column: str, zone: ZoneInfo, now: datetime) -> datetime | None:
        text = self.values[column]
        if not text:
            return None
        at = parse_time(text, zone)
        if at is None:
            self.fail("import.bad_time", column=column, value=entry.short(text))
            return None
        refused = time_refusal(self.number, column, text, at, now)
        if refused is not None:
            self.errors.append(refused)
            return None
        return at

    def once(self, key: object, label: str, first_rows: dict[Any, int]) -> None:
        """Refuse a key the file gave in an earlier row."""
        first = first_rows.setdefault(key, self.number)
        if first != self.number:
            self.fail("import.suppliers.duplicate", key=label, first_row=first)


def _rows(rows: Sequence[Row], errors: list[RowError], progress: Progress) -> Iterable[_Row]:
    with stage(progress, "ops.progress.import.rows", len(rows)) as advance:
        for number, values in counted(rows, advance):
            yield _Row(number, values, errors)


def _rejected(errors: list[RowError]) -> ImportRejected:
    return ImportRejected(sorted(errors, key=lambda e: e.row))


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _upsert(
    session: Session,
    summary: ImportSummary,
    actor: Principal,
    *,
    current: Any | None,
    model: type[Any],
    identity: dict[str, Any],
    fields: dict[str, Any],
    entity: str,
    key: str,
) -> Any:
    """Create the record (``model`` with ``identity`` and ``fields``), or set ``fields`` on
    ``current`` if any differs; audit and count."""
    if current is None:
        record = model(**identity, **fields)
        session.add(record)
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity=entity,
            entity_key=key,
            after={k: _plain(v) for k, v in fields.items()},
        )
        summary.created += 1
        return record
    changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
    if not changed:
        summary.unchanged += 1
        return current
    before = {k: _plain(getattr(current, k)) for k in changed}
    for k, v in changed.items():
        setattr(current, k, v)
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity=entity,
        entity_key=key,
        before=before,
        after={k: _plain(v) for k, v in changed.items()},
    )
    summary.updated += 1
    return current


def _group(session: Session) -> Group:
    group = session.scalars(select(Group).order_by(Group.id)).first()
    if group is None:
        raise DomainError("import.suppliers.no_group")
    return group


def _offices(session: Session) -> dict[str, Office]:
    return {o.code: o for o in session.scalars(select(Office))}


def _contracts(session: Session) -> dict[str, SupplierContract]:
    return {c.contract_no: c for c in session.scalars(select(SupplierContract))}


def _days_in_use(
    session: Session, contracts: Iterable[SupplierContract], office_zones: dict[int, str]
) -> dict[int, tuple[date, date]]:
    """Per contract id, the latest day it may start and the earliest it may end so that its
    period keeps its records: the office-local days its nonconformities were opened, and a day
    in each of its score months."""
    zones = {c.id: ZoneInfo(office_zones[c.office_id]) for c in contracts}
    starts: dict[int, list[date]] = {}
    ends: dict[int, list[date]] = {}
    for contract_id, opened_at in session.execute(
        select(Nonconformity.contract_id, Nonconformity.opened_at).where(
            Nonconformity.contract_id.is_not(None)
        )
    ):
        if contract_id in zones:
            day = opened_at.astimezone(zones[contract_id]).date()
            starts.setdefault(contract_id, []).append(day)
            ends.setdefault(contract_id, []).append(day)
    for contract_id, first, last in session.execute(
        select(
            SupplierScoreEntry.contract_id,
            func.min(SupplierScoreEntry.month),
            func.max(SupplierScoreEntry.month),
        ).group_by(SupplierScoreEntry.contract_id)
    ):
        starts.setdefault(contract_id, []).append(_last_day(first))
        ends.setdefault(contract_id, []).append(last)
    return {k: (min(v), max(ends[k])) for k, v in starts.items()}


def _last_day(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _unknown_contract(row: _Row, contracts: dict[str, SupplierContract]) -> SupplierContract | None:
    number = row.values["contract_no"]
    contract = contracts.get(number)
    if number and contract is None and DOCUMENT_NO.match(number):
        row.fail("import.suppliers.unknown_contract", column="contract_no", no=number)
    return contract


# --- suppliers ----------------------------------------------------------------------------------


def import_supplier_rows(
    session: Session, rows: Sequence[Row], *, actor: Principal, progress: Progress = NO_PROGRESS
) -> ImportSummary:
    """Create or update suppliers by code; nothing if any row is bad."""
    _check_actor(actor)
    serialise(session, SUPPLIERS)
    group = _group(session)
    stored = {
        s.supplier_code: s
        for s in session.scalars(select(Supplier).where(Supplier.group_id == group.id))
    }
    errors: list[RowError] = []
    good: list[tuple[str, dict[str, Any]]] = []
    first: dict[Any, int] = {}
    for row in _rows(rows, errors, progress):
        row.required(*SUPPLIER_COLUMNS)
        code = row.code("supplier_code")
        name = row.text("name", Supplier.name)
        discipline = row.discipline()
        if code:
            row.once(code, code, first)
        if row.done():
            good.append((code, {"name": name, "discipline": discipline}))
    if errors:
        raise _rejected(errors)
    summary = ImportSummary()
    for code, fields in good:
        _upsert(
            session,
            summary,
            actor,
            current=stored.get(code),
            model=Supplier,
            identity={"group_id": group.id, "supplier_code": code},
            fields=fields,
            entity="supplier",
            key=code,
        )
    session.flush()
    return summary


# --- contracts ----------------------------------------------------------------------------------


def import_contract_rows(
    session: Session, rows: Sequence[Row], *, actor: Principal, progress: Progress = NO_PROGRESS
) -> ImportSummary:
    """Create contracts, or update the period and amount of stored ones; nothing if any row is
    bad. A stored contract keeps its supplier, office and discipline."""
    _check_actor(actor)
    serialise(session, SUPPLIERS)
    group = _group(session)
    suppliers = {
        s.supplier_code: s
        for s in session.scalars(select(Supplier).where(Supplier.group_id == group.id))
    }
    supplier_codes = {s.id: code for code, s in suppliers.items()}
    offices = _offices(session)
    office_codes = {o.id: code for code, o in offices.items()}
    stored = _contracts(session)
    in_use = _days_in_use(
        session, stored.values(), office_zones={o.id: o.timezone for o in offices.values()}
    )
    errors: list[RowError] = []
    good: list[tuple[str, Supplier, Office, dict[str, Any]]] = []
    first: dict[Any, int] = {}
    for row in _rows(rows, errors, progress):
        row.required(*CONTRACT_COLUMNS)
        number = row.code("contract_no", DOCUMENT_NO)
        supplier_code = row.code("supplier_code")
        supplier = suppliers.get(supplier_code)
        if supplier_code and supplier is None and CODE_PATTERN.match(supplier_code):
            row.fail(
                "import.suppliers.unknown_supplier", column="supplier_code", code=supplier_code
            )
        office = offices.get(row.values["office_code"])
        if row.values["office_code"] and office is None:
            row.fail("users.unknown_office", code=row.values["office_code"])
        discipline = row.discipline()
        starts_on, ends_on = row.day("starts_on"), row.day("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            row.fail("import.suppliers.ends_before_start", column="ends_on")
        amount = row.money("amount", SupplierContract.amount.type)
        if number:
            row.once(number, number, first)
        current = stored.get(number)
        if current is not None and supplier is not None and office is not None:
            for column, was, now in (
                ("supplier_code", supplier_codes[current.supplier_id], supplier.supplier_code),
                ("office_code", office_codes[current.office_id], office.code),
                ("discipline", current.discipline, discipline),
            ):
                if was != now:
                    row.fail(
                        "import.suppliers.contract_fixed", column=column, no=number, stored=was
                    )
        if current is not None and starts_on and ends_on:
            used = in_use.get(current.id)
            if used is not None and (used[0] < starts_on or used[1] > ends_on):
                row.fail(
                    "import.suppliers.period_excludes",
                    column="starts_on" if used[0] < starts_on else "ends_on",
                    no=number,
                    first=used[0].isoformat(),
                    last=used[1].isoformat(),
                )
        if row.done():
            assert supplier is not None and office is not None
            fields = {
                "discipline": discipline,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "amount": amount,
            }
            good.append((number, supplier, office, fields))
    if errors:
        raise _rejected(errors)
    summary = ImportSummary()
    for number, supplier, office, fields in good:
        _upsert(
            session,
            summary,
            actor,
            current=stored.get(number),
            model=SupplierContract,
            identity={"contract_no": number, "supplier_id": supplier.id, "office_id": office.id},
            fields=fields,
            entity="supplier_contract",
            key=number,
        )
    session.flush()
    return summary


# --- deduction standards ------------------------------------------------------------------------


def import_standard_rows(
    session: Session, rows: Sequence[Row], *, actor: Principal, progress: Progress = NO_PROGRESS
) -> ImportSummary:
    """Create or update the steps of contracts' deduction standards by (contract, points)."""
    _check_actor(actor)
    serialise(session, SUPPLIERS)
    contracts = _contracts(session)
    stored = {(s.contract_id, s.points): s for s in session.scalars(select(DeductionStandard))}
    errors: list[RowError] = []
    good: list[tuple[SupplierContract, int, Decimal]] = []
    first: dict[Any, int] = {}
    for row in _rows(rows, errors, progress):
        row.required(*STANDARD_COLUMNS)
        row.code("contract_no", DOCUMENT_NO)
        contract = _unknown_contract(row, contracts)
        points = row.points("points")
        amount = row.money("amount", DeductionStandard.amount.type)
        if contract is not None and points is not None:
            row.once((contract.id, points), f"{contract.contract_no} / {points}", first)
        if row.done():
            assert contract is not None and points is not None and amount is not None
            good.append((contract, points, amount))
    if errors:
        raise _rejected(errors)
    summary = ImportSummary()
    for contract, points, amount in good:
        _upsert(
            session,
            summary,
            actor,
            current=stored.get((contract.id, points)),
            model=DeductionStandard,
            identity={"contract_id": contract.id, "points": points},
            fields={"amount": amount},
            entity="supplier_deduction_standard",
            key=f"{contract.contract_no}:{points}",
        )
    session.flush()
    return summary


# --- nonconformities ----------------------------------------------------------------------------


def import_nonconformity_rows(
    session: Session,
    rows: Sequence[Row],
    *,
    actor: Principal,
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> ImportSummary:
    """Create or update nonconformities (the go-live history) by number; nothing if any row is
    bad (docs/import-formats.md lists what a row must satisfy)."""
    _check_actor(actor)
    now = now or utcnow()
    serialise(session, SUPPLIERS)
    offices = _offices(session)
    office_codes = {o.id: code for code, o in offices.items()}
    contracts = _contracts(session)
    standards: dict[int, dict[int, Decimal]] = {}
    for s in session.scalars(select(DeductionStandard)):
        standards.setdefault(s.contract_id, {})[s.points] = s.amount
    stored = {n.nc_no: n for n in session.scalars(select(Nonconformity))}
    live = set(
        session.scalars(
            select(Nonconformity.document_no).where(
                Nonconformity.id.in_(
                    select(WorkflowEvent.document_id).where(
                        WorkflowEvent.document_type.in_(NONCONFORMITY_DOCUMENT_TYPES)
                    )
                )
            )
        )
    )
    """Tickets worked through the engine: the history import does not overwrite them."""
    errors: list[RowError] = []
    good: list[tuple[str, Office, dict[str, Any]]] = []
    first: dict[Any, int] = {}
    for row in _rows(rows, errors, progress):
        row.required(*NONCONFORMITY_COLUMNS)
        number = row.code("nc_no", DOCUMENT_NO)
        office = offices.get(row.values["office_code"])
        if row.values["office_code"] and office is None:
            row.fail("users.unknown_office", code=row.values["office_code"])
        kind = row.values["kind"].lower()
        if kind and kind not in KINDS:
            row.fail("import.suppliers.bad_kind", column="kind", value=entry.short(kind))
        discipline = row.discipline()
        zone = ZoneInfo(office.timezone) if office is not None else None
        opened_at = closed_at = None
        if zone is not None:
            opened_at = row.instant("opened_at", zone, now)
            closed_at = row.instant("closed_at", zone, now)
        if opened_at and closed_at and closed_at < opened_at:
            row.fail("import.suppliers.closed_before_opened", column="closed_at")
        row.code("contract_no", DOCUMENT_NO)
        contract = _unknown_contract(row, contracts)
        points = row.points("breach_points")
        rule_contract = None
        if contract is not None and office is not None:
            rule_contract = rules.Contract(
                contract_no=contract.contract_no,
                supplier_code="",
                discipline=contract.discipline,
                starts_on=contract.starts_on,
                ends_on=contract.ends_on,
                office_code=office_codes[contract.office_id],
                standard=standards.get(contract.id, {}),
            )
        for problem in rules.charge_problems(
            kind=kind,
            office_code=office.code if office is not None else "",
            discipline=discipline,
            opened_on=(
                opened_at.astimezone(zone).date()
                if opened_at is not None and zone is not None
                else None
            ),
            contract_no=row.values["contract_no"],
            contract=rule_contract,
            points=points,
        ):
            if (
                problem.key == "import.suppliers.corrective_needs_points"
                and row.values["breach_points"]
            ):
                continue  # the cell is there but bad: refused by its own message
            row.fail(problem.key, column=problem.field, **problem.params)
        if number:
            row.once(number, number, first)
        if number in live:
            row.fail("ncflows.import_live", column="nc_no", no=number)
        if row.done():
            assert office is not None
            fields = {
                "office_id": office.id,
                "kind": kind,
                "discipline": discipline,
                "opened_at": opened_at,
                "closed_at": closed_at,
                "contract_id": contract.id if contract is not None else None,
                "breach_points": points,
            }
            good.append((number, office, fields))
    if errors:
        raise _rejected(errors)
    summary = ImportSummary()
    for number, _office, fields in good:
        # History enters its kind's first state, or its last when closed (never moved by the
        # engine: no events, no clocks — docs/nonconformities.md).
        state = history_state(str(fields["kind"]), fields["closed_at"] is not None)
        current = stored.get(number)
        if current is not None and current.kind != fields["kind"]:
            current = _change_kind(session, actor, current, str(fields["kind"]), state)
        _upsert(
            session,
            summary,
            actor,
            current=current,
            model=NONCONFORMITY_MODELS[str(fields["kind"])],
            identity={"document_no": number, "version": 1},
            fields={**fields, "state": state},
            entity="supplier_nonconformity",
            key=number,
        )
    session.flush()
    return summary


def _change_kind(
    session: Session, actor: Principal, current: Nonconformity, kind: str, state: str
) -> Nonconformity:
    """A history row imported again with another kind: the row becomes a document of that kind
    (its class follows ``kind``), audited; returns it loaded as such."""
    before = {"kind": current.kind, "state": current.state}
    session.flush()
    session.execute(
        update(Nonconformity.__table__)  # type: ignore[arg-type]
        .where(Nonconformity.__table__.c.id == current.id)
        .values(kind=kind, state=state)
    )
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="supplier_nonconformity",
        entity_key=current.document_no,
        before=before,
        after={"kind": kind, "state": state},
    )
    identity = current.id
    session.expunge(current)
    return session.get_one(Nonconformity, identity)


# --- manual scores ------------------------------------------------------------------------------


def parse_month(text: str) -> date | None:
    """``2026-03`` (or a spreadsheet's first-of-month date ``2026-03-01``) → 2026-03-01."""
    match = MONTH.match(text.strip())
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1) if 1 <= month <= 12 else None


def import_score_rows(
    session: Session, rows: Sequence[Row], *, actor: Principal, progress: Progress = NO_PROGRESS
) -> ImportSummary:
    """Create or update the office's manual points by (contract, month, item)."""
    _check_actor(actor)
    serialise(session, SUPPLIERS)
    contracts = _contracts(session)
    stored = {
        (s.contract_id, s.month, s.item): s for s in session.scalars(select(SupplierScoreEntry))
    }
    errors: list[RowError] = []
    good: list[tuple[SupplierContract, date, str, Decimal]] = []
    first: dict[Any, int] = {}
    for row in _rows(rows, errors, progress):
        row.required(*SCORE_COLUMNS)
        row.code("contract_no", DOCUMENT_NO)
        contract = _unknown_contract(row, contracts)
        text = row.values["month"]
        month = parse_month(text) if text else None
        if text and month is None:
            row.fail("import.suppliers.bad_month", column="month", value=entry.short(text))
        elif month is not None and (refusal := entry.day_refusal(month)) is not None:
            row.fail(refusal[0], column="month", value=text, **refusal[1])
            month = None
        points_text = row.values["points"]
        points = parse_number(points_text) if points_text else None
        if points_text and points is None:
            row.fail("import.bad_number", column="points", value=entry.short(points_text))
        elif points is not None:
            refused = number_refusal(
                row.number, "points", points_text, points, SupplierScoreEntry.points.type
            )
            if refused is not None:
                row.errors.append(refused)
        if contract is not None and month is not None:
            if not (contract.starts_on.replace(day=1) <= month <= contract.ends_on.replace(day=1)):
                row.fail(
                    "import.suppliers.month_outside_contract",
                    column="month",
                    no=contract.contract_no,
                    starts=contract.starts_on.isoformat(),
                    ends=contract.ends_on.isoformat(),
                )
            item = row.text("item", SupplierScoreEntry.item)
            row.once(
                (contract.id, month, item),
                f"{contract.contract_no} / {month:%Y-%m} / {entry.short(item)}",
                first,
            )
        if row.done():
            assert contract is not None and month is not None and points is not None
            good.append((contract, month, row.values["item"], points))
    if errors:
        raise _rejected(errors)
    summary = ImportSummary()
    for contract, month, item, points in good:
        _upsert(
            session,
            summary,
            actor,
            current=stored.get((contract.id, month, item)),
            model=SupplierScoreEntry,
            identity={"contract_id": contract.id, "month": month, "item": item},
            fields={"points": points},
            entity="supplier_score_entry",
            key=f"{contract.contract_no}:{month:%Y-%m}:{item}",
        )
    session.flush()
    return summary


# --- files --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    lengths: dict[str, Any]


_FORMATS = {
    "suppliers": _Format(SUPPLIER_COLUMNS, (), {"name": Supplier.name}),
    "contracts": _Format(CONTRACT_COLUMNS, (), {}),
    "deduction-standards": _Format(STANDARD_COLUMNS, (), {}),
    "nonconformities": _Format(NONCONFORMITY_COLUMNS, NONCONFORMITY_OPTIONAL, {}),
    "supplier-scores": _Format(SCORE_COLUMNS, (), {"item": SupplierScoreEntry.item}),
}

_IMPORTERS: dict[str, Callable[..., ImportSummary]] = {
    "suppliers": import_supplier_rows,
    "contracts": import_contract_rows,
    "deduction-standards": import_standard_rows,
    "nonconformities": import_nonconformity_rows,
    "supplier-scores": import_score_rows,
}

KINDS_OF_FILE = tuple(_FORMATS)
"""The five imports, as the command line names them."""


def import_file(
    session: Session,
    kind: str,
    path: Path,
    *,
    actor: Principal,
    encoding: str | None = None,
    progress: Progress = NO_PROGRESS,
) -> ImportSummary:
    """Read ``path`` (CSV or XLSX) as the ``kind`` of file and import it (all rows or none)."""
    _check_actor(actor)
    form = _FORMATS[kind]
    with stage(progress, "ops.progress.import.read", None, file=path.name):
        read = read_table(
            path, form.required, form.optional, encoding=encoding, lengths=form.lengths
        )
    summary = _IMPORTERS[kind](session, read.rows, actor=actor, progress=progress)
    return summary.read_as(read.encoding)
