"""Suppliers (供方): outsourced service suppliers, their contracts and how they are scored.

A *supplier* (供应商) works for management offices under *contracts* (供方合同), each for one
office, one discipline and a period. A contract's *deduction standard* (供方扣款标准) turns breach
points (违约扣分) into yuan. *Nonconformities* (不合格) are raised against the work at an office —
a notice (不合格提示单), a handling ticket (不合格处理单) or a corrective-and-preventive ticket
(纠正预防单) — and one against a supplier names its contract and the breach points chosen from
that contract's standard. The office scores the other items of the monthly evaluation (staffing
shortfall 缺编, training, tools and materials, others) by hand: *score entries*.

The scoring rule lives in :mod:`operational.suppliers` and in the warehouse marts
(``docs/supplier-marts.md``). Money is ``Numeric`` (``Decimal``); enumerations are stored as their
values with check constraints, since the warehouse reads these tables by name.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, synonym

from operational.models.base import Base, UTCDateTime
from operational.models.objects import INSPECTION_DISCIPLINES, Discipline
from operational.models.orders import WorkflowDocument, _placeholder_no

MONEY = Numeric(18, 2, asdecimal=True)
"""Yuan with fen: contract amounts and deduction amounts."""
DEDUCTION = Numeric(12, 2, asdecimal=True)
"""What breach points cost: at most ¥9 999 999 999.99 a step, so that the warehouse's sums of
deductions stay within DECIMAL(18,2) however many there are."""
POINTS = Numeric(7, 2, asdecimal=True)
"""Signed points an office gives by hand (may be halves)."""

_DISCIPLINES = ", ".join(f"'{d.value}'" for d in Discipline)

UNMOVED = "version = 1"
"""A nonconformity the workflow engine has not moved since it was written: the predicate of
``ix_supplier_nonconformity_unmoved`` and the rows the warehouse reads on every refresh."""


class NonconformityKind(enum.StrEnum):
    """The three nonconformity documents (不合格单据)."""

    NOTICE = "notice"  # 不合格提示单
    HANDLING = "handling"  # 不合格处理单
    CORRECTIVE_PREVENTIVE = "corrective_preventive"  # 纠正预防单


class Supplier(Base):
    """An outsourced service supplier (供应商) of the group, in its main discipline."""

    __tablename__ = "supplier"
    __table_args__ = (
        UniqueConstraint("group_id", "supplier_code"),
        CheckConstraint(f"discipline IN ({_DISCIPLINES})", name="discipline_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("org_group.id"))
    supplier_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(20))


class SupplierContract(Base):
    """A supplier contract (供方合同): one supplier, one office, one discipline, a period
    (``starts_on`` … ``ends_on``, both days included) and the contract amount in yuan."""

    __tablename__ = "supplier_contract"
    __table_args__ = (
        CheckConstraint(f"discipline IN ({_DISCIPLINES})", name="discipline_known"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    discipline: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class DeductionStandard(Base):
    """One step of a contract's deduction standard (供方扣款标准): ``points`` breach points
    cost ``amount`` yuan (e.g. 1 point ¥50, 2 points ¥100, 3 points ¥200)."""

    __tablename__ = "supplier_deduction_standard"
    __table_args__ = (
        UniqueConstraint("contract_id", "points"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("supplier_contract.id"))
    points: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(DEDUCTION)


class Nonconformity(WorkflowDocument, Base):
    """A nonconformity (不合格) found at an office: a notice (不合格提示单), a handling ticket
    (不合格处理单) or a corrective-and-preventive ticket (纠正预防单) — one workflow document
    type each (:class:`NonconformityNotice`, :class:`NonconformityHandling`,
    :class:`NonconformityCorrective`), one table, ``kind`` telling them apart.

    One raised against a supplier names its ``contract`` (of the same office and discipline) and
    the ``breach_points`` (违约扣分) chosen from that contract's deduction standard; a
    corrective-and-preventive ticket naming a contract must carry them. It counts in the
    office-local month of ``opened_at``. ``closed_at`` None: still open (the live workflow sets
    it at its last step: acknowledged, verified). Times are UTC instants.

    The number is the column ``nc_no`` (attribute :attr:`document_no`, the engine's name; also
    readable as :attr:`nc_no`). ``assignee_id`` is the user who must act (any user: office staff
    or a supplier user); ``opened_by_id`` who opened it (None: the go-live history import). The
    workflow's step texts (cause, correction, prevention, handling, verification) are kept on
    the row; every step is also an event of ``workflow_event`` (docs/nonconformities.md).
    """

    __tablename__ = "supplier_nonconformity"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('notice', 'handling', 'corrective_preventive')", name="kind_known"
        ),
        CheckConstraint(
            "discipline IN (" + ", ".join(f"'{d}'" for d in INSPECTION_DISCIPLINES) + ")",
            name="discipline_known",
        ),
        CheckConstraint("breach_points IS NULL OR breach_points > 0", name="points_positive"),
        CheckConstraint(
            "breach_points IS NULL OR contract_id IS NOT NULL", name="points_need_contract"
        ),
        CheckConstraint("closed_at IS NULL OR closed_at >= opened_at", name="closed_after_open"),
        # The rows at version 1 — the go-live history's, never moved by the engine, and those
        # just opened — which the warehouse reads again on every refresh (docs/warehouse.md,
        # "by documents"): without it that read scanned the whole table.
        Index(
            "ix_supplier_nonconformity_unmoved",
            "id",
            sqlite_where=text(UNMOVED),
            postgresql_where=text(UNMOVED),
        ),
    )

    document_no: Mapped[str] = mapped_column(
        "nc_no", String(40), unique=True, default=_placeholder_no
    )
    kind: Mapped[str] = mapped_column(String(24))
    discipline: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_contract.id"), default=None, index=True
    )
    breach_points: Mapped[int | None] = mapped_column(Integer, default=None)
    description: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_user.id"), default=None, index=True
    )
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), default=None)
    cause: Mapped[str | None] = mapped_column(String(2000), default=None)
    correction: Mapped[str | None] = mapped_column(String(2000), default=None)
    prevention: Mapped[str | None] = mapped_column(String(2000), default=None)
    handling_note: Mapped[str | None] = mapped_column(String(2000), default=None)
    verification_note: Mapped[str | None] = mapped_column(String(2000), default=None)

    nc_no: Mapped[str] = synonym("document_no")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        table = cls.__table__
        return {
            "version_id_col": table.c.version,
            "version_id_generator": False,
            "polymorphic_on": table.c.kind,
        }


class NonconformityNotice(Nonconformity):
    """不合格提示单: issued → acknowledged."""

    __mapper_args__ = {"polymorphic_identity": NonconformityKind.NOTICE.value}  # noqa: RUF012


class NonconformityHandling(Nonconformity):
    """不合格处理单: assigned → handled → verified."""

    __mapper_args__ = {"polymorphic_identity": NonconformityKind.HANDLING.value}  # noqa: RUF012


class NonconformityCorrective(Nonconformity):
    """纠正预防单: opened → cause found → corrected → prevented → verified."""

    __mapper_args__ = {  # noqa: RUF012
        "polymorphic_identity": NonconformityKind.CORRECTIVE_PREVENTIVE.value
    }


NONCONFORMITY_MODELS: dict[str, type[Nonconformity]] = {
    NonconformityKind.NOTICE.value: NonconformityNotice,
    NonconformityKind.HANDLING.value: NonconformityHandling,
    NonconformityKind.CORRECTIVE_PREVENTIVE.value: NonconformityCorrective,
}
"""The document class of each kind."""


class SupplierScoreEntry(Base):
    """One item of a contract's monthly evaluation scored by the office by hand (缺编 staffing
    shortfall, training sessions, tools and materials, others): signed ``points`` added to the
    month's score. ``month`` is the month's first day; one entry per contract, month and item."""

    __tablename__ = "supplier_score_entry"
    __table_args__ = (UniqueConstraint("contract_id", "month", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("supplier_contract.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String(100))
    points: Mapped[Decimal] = mapped_column(POINTS)
