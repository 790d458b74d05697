"""clock pauses: one row per pause of an SLA clock run

Revision ID: 0007_clock_pauses
Revises: 0006_calendars
Create Date: 2026-11-27 18:00:00.000000

``workflow_clock_pause`` holds each pause (挂起) of a ``workflow_clock`` row with the events that
paused and resumed it, so the live deadline and the warehouse both rebuild it from the event log.
See docs/workflow.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_clock_pauses"
down_revision: str | None = "0006_calendars"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workflow_clock_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("paused_at", sa.DateTime(), nullable=False),
        sa.Column("resumed_at", sa.DateTime(), nullable=True),
        sa.Column("paused_event_id", sa.Integer(), nullable=False),
        sa.Column("resumed_event_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "resumed_at IS NULL OR resumed_at >= paused_at",
            name=op.f("ck_workflow_clock_pause_resumes_after_pause"),
        ),
        sa.ForeignKeyConstraint(
            ["clock_id"],
            ["workflow_clock.id"],
            name=op.f("fk_workflow_clock_pause_clock_id_workflow_clock"),
        ),
        sa.ForeignKeyConstraint(
            ["paused_event_id"],
            ["workflow_event.id"],
            name=op.f("fk_workflow_clock_pause_paused_event_id_workflow_event"),
        ),
        sa.ForeignKeyConstraint(
            ["resumed_event_id"],
            ["workflow_event.id"],
            name=op.f("fk_workflow_clock_pause_resumed_event_id_workflow_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_clock_pause")),
    )
    with op.batch_alter_table("workflow_clock_pause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_clock_pause_clock_id"), ["clock_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_clock_pause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_clock_pause_clock_id"))
    op.drop_table("workflow_clock_pause")
