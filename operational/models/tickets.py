"""Customer-service tickets (工单: 咨询, 报修, 投诉) and the notice outbox.

A ticket is a workflow document (``docs/tickets.md``): one table ``cs_ticket`` for the three
types, mapped as one class per type (single-table inheritance on ``ticket_type``) so each type
is its own document type for the engine. Notices (dispatch to the office manager, each
escalation) are written to ``notice_outbox`` in the same transaction as their event and drained
later by a sender.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow
from operational.models.orders import WorkflowDocument


class TicketType(enum.StrEnum):
    INQUIRY = "inquiry"  # 咨询
    REPAIR = "repair"  # 报修
    COMPLAINT = "complaint"  # 投诉


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"  # 紧急: on site within 30 minutes
    APPOINTMENT = "appointment"  # 预约: on site by the appointed time


class Severity(enum.StrEnum):
    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般
    MAJOR = "major"  # 重大


class Place(enum.StrEnum):
    """Where a repair is (报修位置)."""

    IN_HOME = "in_home"  # 户内: in the caller's house
    COMMON_AREA = "common_area"  # 公共区域


class ComplaintCategory(enum.StrEnum):
    """What a complaint is about (投诉类别): the "same matter" of the repeat-complaint rule."""

    SERVICE = "service"  # 服务态度
    ENVIRONMENT = "environment"  # 环境卫生
    SECURITY = "security"  # 安全秩序
    REPAIR_QUALITY = "repair_quality"  # 维修质量
    NOISE = "noise"  # 噪音扰民
    FEES = "fees"  # 收费
    FACILITIES = "facilities"  # 公共设施
    OTHER = "other"  # 其他


class FollowUpResult(enum.StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


class Ticket(WorkflowDocument, Base):
    """One ticket. ``received_at`` is when the call or visit came in (the clocks of resolution
    count from it); ``night_service`` is fixed at intake from the office calendar.
    ``escalation_level`` (complaints: 0, 1, 2) is the highest level the ladder has fired."""

    __tablename__ = "cs_ticket"
    __table_args__ = (
        CheckConstraint(
            "ticket_type IN ('inquiry', 'repair', 'complaint')", name="ticket_type_known"
        ),
        CheckConstraint(
            "urgency IS NULL OR urgency IN ('normal', 'urgent', 'appointment')",
            name="urgency_known",
        ),
        CheckConstraint(
            "severity IS NULL OR severity IN ('minor', 'general', 'major')", name="severity_known"
        ),
        CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_level_known"),
        CheckConstraint("place IS NULL OR place IN ('in_home', 'common_area')", name="place_known"),
        CheckConstraint(
            "category IS NULL OR category IN ("
            + ", ".join(f"'{c.value}'" for c in ComplaintCategory)
            + ")",
            name="category_known",
        ),
        Index("ix_cs_ticket_house_received", "house_id", "received_at"),
    )

    ticket_type: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    urgency: Mapped[str | None] = mapped_column(String(20), default=None)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    severity: Mapped[str | None] = mapped_column(String(20), default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    night_service: Mapped[bool] = mapped_column(default=False)
    handler_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_user.id"), default=None, index=True
    )
    reopened_from_id: Mapped[int | None] = mapped_column(ForeignKey("cs_ticket.id"), default=None)
    follow_up_result: Mapped[str | None] = mapped_column(String(20), default=None)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Who called, as typed (the property base data links houses and customers later); never
    # extracted to the warehouse.
    house_ref: Mapped[str | None] = mapped_column(String(80), default=None)
    caller_name: Mapped[str | None] = mapped_column(String(80), default=None)
    caller_phone: Mapped[str | None] = mapped_column(String(40), default=None)
    # The desk's links to the property base data (docs/tickets.md, "The desk"): the house and
    # the customer picked at intake; where a repair is; what a complaint is about.
    house_id: Mapped[int | None] = mapped_column(ForeignKey("prop_house.id"), default=None)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("prop_customer.id"), default=None, index=True
    )
    place: Mapped[str | None] = mapped_column(String(20), default=None)
    category: Mapped[str | None] = mapped_column(String(20), default=None)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        table = cls.__table__
        return {
            "version_id_col": table.c.version,
            "version_id_generator": False,
            "polymorphic_on": table.c.ticket_type,
        }


class InquiryTicket(Ticket):
    __mapper_args__ = {"polymorphic_identity": TicketType.INQUIRY.value}  # noqa: RUF012


class RepairTicket(Ticket):
    __mapper_args__ = {"polymorphic_identity": TicketType.REPAIR.value}  # noqa: RUF012


class ComplaintTicket(Ticket):
    __mapper_args__ = {"polymorphic_identity": TicketType.COMPLAINT.value}  # noqa: RUF012


class Notice(Base):
    """One notice to send (a dispatch to the office manager, an escalation), written in the
    transaction of its event. ``idempotency_key`` is unique: the same notice is never queued
    twice, and a sender passes it on so the receiver can drop a repeat after a crash."""

    __tablename__ = "notice_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"))
    document_no: Mapped[str] = mapped_column(String(40))
    recipient_role: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
