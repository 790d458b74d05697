"""ticket scale: an index of the clocks that can still breach

Revision ID: 0025_ticket_scale
Revises: 0024_caller_lookup
Create Date: 2026-12-06 14:30:00

The escalation check (``operational.services.tickets.check_escalations``) looks for complaints
whose current clock has breached; with years of history SQLite walked every complaint clock to
find them (2.6 s a tick over 2.6 M tickets, docs/benchmarks.md). A partial index of
``workflow_clock`` holding only the clocks still running or stopped past their deadline
(``operational.models.orders.BREACHABLE``) leaves the stopped-in-time ones out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_ticket_scale"
down_revision: str | None = "0024_caller_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BREACHABLE = "stopped_at IS NULL OR stopped_at > due_at"


def upgrade() -> None:
    op.create_index(
        "ix_workflow_clock_breachable",
        "workflow_clock",
        ["document_type", "clock", "due_at"],
        unique=False,
        sqlite_where=sa.text(_BREACHABLE),
        postgresql_where=sa.text(_BREACHABLE),
    )


def downgrade() -> None:
    op.drop_index("ix_workflow_clock_breachable", table_name="workflow_clock")
