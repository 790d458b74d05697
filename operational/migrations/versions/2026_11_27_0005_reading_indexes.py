"""reading indexes: partial index on supersedes_id; (point_id, read_at) for a point's context

Revision ID: 0005_reading_indexes
Revises: 0004_faults
Create Date: 2026-11-27 16:00:00.000000

``supersedes_id`` is NULL on nearly every reading, so a full index on it tells SQLite's planner
(once ``ANALYZE`` has run) that a lookup returns the whole table, and the superseded check was
planned as a scan of ``energy_reading`` per reading. The index now holds only the corrections
(``WHERE supersedes_id IS NOT NULL``), which the check ``supersedes_id = id`` implies, on both
SQLite and PostgreSQL. The index on ``point_id`` becomes ``(point_id, read_at)``: the readings
import and the reading form load a point's readings around a time (its *context*) by that key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_reading_indexes"
down_revision: str | None = "0004_faults"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL = sa.text("supersedes_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_energy_reading_supersedes_id", table_name="energy_reading")
    op.create_index(
        "ix_energy_reading_supersedes_id",
        "energy_reading",
        ["supersedes_id"],
        sqlite_where=_NOT_NULL,
        postgresql_where=_NOT_NULL,
    )
    op.create_index("ix_energy_reading_point_id_read_at", "energy_reading", ["point_id", "read_at"])
    op.drop_index("ix_energy_reading_point_id", table_name="energy_reading")


def downgrade() -> None:
    op.create_index("ix_energy_reading_point_id", "energy_reading", ["point_id"])
    op.drop_index("ix_energy_reading_point_id_read_at", table_name="energy_reading")
    op.drop_index("ix_energy_reading_supersedes_id", table_name="energy_reading")
    op.create_index("ix_energy_reading_supersedes_id", "energy_reading", ["supersedes_id"])
