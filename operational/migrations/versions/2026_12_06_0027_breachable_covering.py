"""breachable clocks covering: the escalation check reads the index alone

Revision ID: 0027_breachable_covering
Revises: 0026_unmoved_nonconformities
Create Date: 2026-12-06 23:30:00

``ix_workflow_clock_breachable`` (``0025_ticket_scale``) finds the complaint clocks that can still
breach, but the check then read each one's row for its document id: on PostgreSQL, over 5.2 M
tickets, 105 000 breachable resolution clocks of complaints long escalated were read from the
heap on every 5-minute tick (1.06-1.19 s a tick, docs/benchmarks.md). With ``document_id`` and
``stopped_at`` as the index's last columns the check reads the index alone (SQLite: a covering
index; PostgreSQL: an index-only scan).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_breachable_covering"
down_revision: str | None = "0026_unmoved_nonconformities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_workflow_clock_breachable"
_BREACHABLE = "stopped_at IS NULL OR stopped_at > due_at"


def _create(columns: list[str]) -> None:
    op.create_index(
        _NAME,
        "workflow_clock",
        columns,
        unique=False,
        sqlite_where=sa.text(_BREACHABLE),
        postgresql_where=sa.text(_BREACHABLE),
    )


def upgrade() -> None:
    op.drop_index(_NAME, table_name="workflow_clock")
    _create(["document_type", "clock", "due_at", "document_id", "stopped_at"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="workflow_clock")
    _create(["document_type", "clock", "due_at"])
