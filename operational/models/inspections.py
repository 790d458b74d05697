"""Inspections (检查): professional inspection plans (专业检查计划) and quality inspection plans
(品质检验计划), their routes and items, the inspection orders they issue and the item scores.

A plan is a workflow document (``docs/inspections.md``): one table ``insp_plan`` for both kinds,
mapped as one class per kind (single-table inheritance on ``kind``) so each kind is its own
document type for the engine — a professional plan is drafted by a discipline supervisor and
approved by the office manager, a quality plan drafted by the office manager and approved by the
city company's internal-audit manager.

A plan's *route* (巡检路线) is its ordered *checkpoints* (检查点): an object of the office or a
named area, each with a code printed on its QR label. Each *inspection item* (检查项目) belongs to
one checkpoint and has a maximum score and a pass mark. An approved plan issues *inspection
orders* (检查工单) on its schedule (one per plan and scheduled date); each order gets a copy of
the plan's items as *scores* (评分), so a later version of a plan never rewrites what was scored.
A score below its item's pass mark is a failed item: the order cannot be submitted until a
nonconformity (``supplier_nonconformity``) is linked to it. A failed item may carry one photo,
kept in the database (``insp_photo``): the product has no file store, and a phone photo of a
few hundred kilobytes, capped at 5 MB, sits well there (backed up and scoped with the order).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow
from operational.models.objects import INSPECTION_DISCIPLINES
from operational.models.orders import WorkflowDocument

_DISCIPLINES = ", ".join(f"'{d}'" for d in INSPECTION_DISCIPLINES)
_FREQUENCIES = "'daily', 'weekly', 'monthly', 'quarterly', 'yearly'"
_KINDS = "'professional', 'quality'"


class InspectionKind(enum.StrEnum):
    PROFESSIONAL = "professional"  # 专业检查
    QUALITY = "quality"  # 品质检验


class InspectionPlan(WorkflowDocument, Base):
    """An inspection plan (检查计划): its discipline, who walks it (``inspector``), how often and
    from when (the schedule rule of periodic plans, ``docs/workflow.md``)."""

    __tablename__ = "insp_plan"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),
        CheckConstraint(f"discipline IN ({_DISCIPLINES})", name="discipline_known"),
        CheckConstraint(f"frequency IN ({_FREQUENCIES})", name="frequency_known"),
        CheckConstraint("every >= 1", name="every_positive"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(20))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), index=True)
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), default=None)
    frequency: Mapped[str] = mapped_column(String(10))
    every: Mapped[int] = mapped_column(Integer, default=1)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        table = cls.__table__
        return {
            "version_id_col": table.c.version,
            "version_id_generator": False,
            "polymorphic_on": table.c.kind,
        }


class ProfessionalInspectionPlan(InspectionPlan):
    """专业检查计划: drafted by a discipline supervisor, approved by the office manager."""

    __mapper_args__ = {"polymorphic_identity": InspectionKind.PROFESSIONAL.value}  # noqa: RUF012


class QualityInspectionPlan(InspectionPlan):
    """品质检验计划: drafted by the office manager, approved by the city's internal audit."""

    __mapper_args__ = {"polymorphic_identity": InspectionKind.QUALITY.value}  # noqa: RUF012


class InspectionCheckpoint(Base):
    """One checkpoint (检查点) of a plan's route, at ``position`` (1, 2, …): an object of the
    office or a named area. ``code`` is what its QR label carries (unique within the plan)."""

    __tablename__ = "insp_checkpoint"
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        UniqueConstraint("plan_id", "code"),
        CheckConstraint("(object_id IS NULL) <> (area IS NULL)", name="object_or_area"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("insp_plan.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(
        ForeignKey("maint_object.id"), default=None, index=True
    )
    area: Mapped[str | None] = mapped_column(String(200), default=None)


class InspectionItem(Base):
    """One inspection item (检查项目) of a plan, checked at one checkpoint: scored from 0 to
    ``max_score``; below ``pass_mark`` it fails."""

    __tablename__ = "insp_item"
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        CheckConstraint("max_score > 0", name="max_score_positive"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= max_score", name="pass_mark_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("insp_plan.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("insp_checkpoint.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    max_score: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)


class InspectionOrder(WorkflowDocument, Base):
    """An inspection order (检查工单), one per plan and scheduled date, issued to the plan's
    inspector: issued → in progress → submitted. ``kind`` and ``discipline`` are the plan's,
    copied so the warehouse groups orders without the plan."""

    __tablename__ = "insp_order"
    __table_args__ = (
        UniqueConstraint("plan_id", "scheduled_for"),
        CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),
        CheckConstraint(f"discipline IN ({_DISCIPLINES})", name="discipline_known"),
    )

    plan_id: Mapped[int] = mapped_column(ForeignKey("insp_plan.id"))
    kind: Mapped[str] = mapped_column(String(20))
    discipline: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[date] = mapped_column(Date)
    work_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    inspector_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class InspectionScore(Base):
    """One item scored on one order (检查评分): the item's checkpoint, name, maximum and pass mark
    copied when the order is issued; ``score`` None until scored. ``nonconformity_id``: the
    nonconformity opened for a failed item (required before the order is submitted)."""

    __tablename__ = "insp_score"
    __table_args__ = (
        UniqueConstraint("order_id", "item_id"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= max_score)", name="in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("insp_order.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("insp_item.id"))
    checkpoint_position: Mapped[int] = mapped_column(Integer)
    checkpoint_code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    max_score: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(String(1000), default="")
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    nonconformity_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_nonconformity.id"), default=None, index=True
    )


class InspectionPhoto(Base):
    """The photo of one scored item (at most one; a new one replaces it), as bytes."""

    __tablename__ = "insp_photo"
    __table_args__ = (
        UniqueConstraint("score_id"),
        CheckConstraint("size > 0 AND size <= 5242880", name="size_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("insp_score.id", ondelete="CASCADE"))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
