"""tickets: customer-service tickets (inquiry, repair, complaint) and the notice outbox

Revision ID: 0017_tickets
Revises: 0016_suppliers
Create Date: 2026-12-06 08:07:00

``cs_ticket`` holds the three ticket types (``ticket_type``) as workflow documents; their events
and clocks go to ``workflow_event`` / ``workflow_clock`` like every document (docs/tickets.md).
``notice_outbox`` queues the notices written with their events (dispatch, escalations).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_tickets"
down_revision: str | None = "0016_suppliers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cs_ticket",
        sa.Column("ticket_type", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=True),
        sa.Column("appointment_at", sa.DateTime(), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("night_service", sa.Boolean(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("reopened_from_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_result", sa.String(length=20), nullable=True),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("house_ref", sa.String(length=80), nullable=True),
        sa.Column("caller_name", sa.String(length=80), nullable=True),
        sa.Column("caller_phone", sa.String(length=40), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "severity IS NULL OR severity IN ('minor', 'general', 'major')",
            name=op.f("ck_cs_ticket_severity_known"),
        ),
        sa.CheckConstraint(
            "ticket_type IN ('inquiry', 'repair', 'complaint')",
            name=op.f("ck_cs_ticket_ticket_type_known"),
        ),
        sa.CheckConstraint(
            "urgency IS NULL OR urgency IN ('normal', 'urgent', 'appointment')",
            name=op.f("ck_cs_ticket_urgency_known"),
        ),
        sa.CheckConstraint(
            "escalation_level BETWEEN 0 AND 2", name=op.f("ck_cs_ticket_escalation_level_known")
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"], ["auth_user.id"], name=op.f("fk_cs_ticket_handler_id_auth_user")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_cs_ticket_office_id_org_office")
        ),
        sa.ForeignKeyConstraint(
            ["reopened_from_id"],
            ["cs_ticket.id"],
            name=op.f("fk_cs_ticket_reopened_from_id_cs_ticket"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cs_ticket")),
        sa.UniqueConstraint("document_no", name=op.f("uq_cs_ticket_document_no")),
    )
    with op.batch_alter_table("cs_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cs_ticket_handler_id"), ["handler_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cs_ticket_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cs_ticket_received_at"), ["received_at"], unique=False)

    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("recipient_role", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_notice_outbox_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notice_outbox_idempotency_key")),
    )
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_outbox_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_outbox_sent_at"))

    op.drop_table("notice_outbox")
    with op.batch_alter_table("cs_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cs_ticket_received_at"))
        batch_op.drop_index(batch_op.f("ix_cs_ticket_office_id"))
        batch_op.drop_index(batch_op.f("ix_cs_ticket_handler_id"))

    op.drop_table("cs_ticket")
