"""Maintenance documents and the two tables every workflow document shares.

Plans, periodic orders and corrective orders are *workflow documents*: each has a state, a
``version`` (optimistic locking — a stale form is refused, never silently overwritten), an office
and a ``document_no``. Their moves are recorded in ``workflow_event`` (one append-only log for every
document type) and their SLA clocks, with the deadline fixed when the clock starts, in
``workflow_clock``. See ``docs/workflow.md``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow


def _placeholder_no() -> str:
    """A unique stand-in until the row has an id and its real number."""
    return "tmp-" + uuid.uuid4().hex[:24]


class WorkflowDocument:
    """Columns every workflow document has; the engine works on these alone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_no: Mapped[str] = mapped_column(String(40), unique=True, default=_placeholder_no)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        # The engine sets the version itself (each transition adds one); the ORM adds
        # "WHERE version = <old>" to every UPDATE, so a concurrent change cannot be overwritten.
        table = cls.__table__  # type: ignore[attr-defined]
        return {"version_id_col": table.c.version, "version_id_generator": False}


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


plan_object = Table(
    "maint_plan_object",
    Base.metadata,
    Column("plan_id", ForeignKey("maint_periodic_plan.id", ondelete="CASCADE"), primary_key=True),
    Column("object_id", ForeignKey("maint_object.id"), primary_key=True, index=True),
)


class PeriodicPlan(WorkflowDocument, Base):
    """A periodic work plan (定期计划): who is responsible, how often, from when, for which objects.

    A change to an approved plan is a new plan, its next version: ``supersedes_id`` names the
    plan it replaces (at most one next version per plan), ``revision`` counts the versions (1 for
    a first plan; not the workflow ``version``, which counts the moves of one document) and
    ``takes_over_on`` is the day the new version takes over; the old one then ends the day
    before (docs/workflow.md, "Changing and ending an approved plan").
    """

    __tablename__ = "maint_periodic_plan"
    __table_args__ = (
        CheckConstraint("every >= 1", name="every_positive"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint(
            "(supersedes_id IS NULL AND takes_over_on IS NULL)"
            " OR (supersedes_id IS NOT NULL AND takes_over_on IS NOT NULL)",
            name="version_takes_over",
        ),
        Index(None, "supersedes_id", unique=True),
    )

    name: Mapped[str] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(20))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), index=True)
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), default=None)
    frequency: Mapped[str] = mapped_column(String(10))
    every: Mapped[int] = mapped_column(Integer, default=1)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("maint_periodic_plan.id"), default=None
    )
    takes_over_on: Mapped[date | None] = mapped_column(Date, default=None)


class PeriodicOrder(WorkflowDocument, Base):
    """A periodic work order (定期工单), one per plan and scheduled date."""

    __tablename__ = "maint_periodic_order"
    __table_args__ = (UniqueConstraint("plan_id", "scheduled_for"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("maint_periodic_plan.id"))
    scheduled_for: Mapped[date] = mapped_column(Date)
    work_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    discipline: Mapped[str] = mapped_column(String(20))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_user.id"), default=None, index=True
    )


class ChecklistAnswer(Base):
    """One work-standard item for one object of a periodic order: ✓ (True), ✗ (False) or unanswered.

    The item's text is copied when the order is issued, so later edits of the work standard do not
    rewrite what was checked.
    """

    __tablename__ = "maint_checklist_answer"
    __table_args__ = (UniqueConstraint("order_id", "object_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("maint_periodic_order.id", ondelete="CASCADE"), index=True
    )
    object_id: Mapped[int] = mapped_column(ForeignKey("maint_object.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("maint_checklist_item.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    ok: Mapped[bool | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(1000), default="")
    corrective_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("maint_corrective_order.id"), default=None
    )


class CorrectiveOrder(WorkflowDocument, Base):
    """A corrective order (纠正派工单): a problem found on patrol, by a ✗, or a sudden event."""

    __tablename__ = "maint_corrective_order"

    discipline: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    object_id: Mapped[int | None] = mapped_column(ForeignKey("maint_object.id"), default=None)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_user.id"), default=None, index=True
    )
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), default=None)
    source_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("maint_periodic_order.id"), default=None, index=True
    )


class ClockPolicy(Base):
    """An office's own target for one clock of one document type and discipline (时效标准).

    Without a row the target of ``operational.sla.DEFAULT_TARGETS`` applies (e.g. 72 calendar
    hours for a corrective order's completion)."""

    __tablename__ = "workflow_clock_policy"
    __table_args__ = (
        UniqueConstraint("office_id", "document_type", "clock", "discipline"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"))
    document_type: Mapped[str] = mapped_column(String(40))
    clock: Mapped[str] = mapped_column(String(40))
    discipline: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20))
    calendar_kind: Mapped[str] = mapped_column(String(10), default="24x7")


class WorkflowEvent(Base):
    """One state change of one document, of any type. Append-only (database triggers refuse
    updates and deletes). ``from_state`` is NULL for the event that creates the document."""

    __tablename__ = "workflow_event"
    __table_args__ = (Index(None, "document_type", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[int] = mapped_column(Integer)
    document_no: Mapped[str] = mapped_column(String(40))
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"))
    transition: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


BREACHABLE = "stopped_at IS NULL OR stopped_at > due_at"
"""A clock that can still be (or was) breached: the predicate of ``ix_workflow_clock_breachable``."""


class WorkflowClock(Base):
    """One run of one SLA clock on one document: the target it was started with and its deadline,
    fixed at start. ``stopped_at`` is NULL while the clock runs."""

    __tablename__ = "workflow_clock"
    __table_args__ = (
        Index(None, "document_type", "document_id"),
        # The clocks that can still breach (running, or stopped past their deadline): what the
        # escalation check looks for among millions of stopped ones (docs/benchmarks.md). With
        # the document's id and the stop the check reads the index alone, not each clock's row.
        Index(
            "ix_workflow_clock_breachable",
            "document_type",
            "clock",
            "due_at",
            "document_id",
            "stopped_at",
            sqlite_where=text(BREACHABLE),
            postgresql_where=text(BREACHABLE),
        ),
        CheckConstraint("stopped_at IS NULL OR stopped_at >= started_at", name="stops_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[int] = mapped_column(Integer)
    document_no: Mapped[str] = mapped_column(String(40))
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"))
    clock: Mapped[str] = mapped_column(String(40))
    target_amount: Mapped[int] = mapped_column(Integer)
    target_unit: Mapped[str] = mapped_column(String(20))
    calendar: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    started_event_id: Mapped[int] = mapped_column(ForeignKey("workflow_event.id"))
    stopped_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_event.id"), default=None
    )


class WorkflowClockPause(Base):
    """One pause (挂起) of one clock run: from the event that paused it to the one that resumed it
    (``resumed_at`` NULL while still paused). A clock stopped while paused closes its pause at the
    stop instant (``resumed_event_id`` is then the stop event). Instants are those of the events,
    clamped so a pause lies inside its clock (not before the start, resumed not before paused)."""

    __tablename__ = "workflow_clock_pause"
    __table_args__ = (
        CheckConstraint(
            "resumed_at IS NULL OR resumed_at >= paused_at", name="resumes_after_pause"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("workflow_clock.id"), index=True)
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    paused_event_id: Mapped[int] = mapped_column(ForeignKey("workflow_event.id"))
    resumed_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_event.id"), default=None
    )
