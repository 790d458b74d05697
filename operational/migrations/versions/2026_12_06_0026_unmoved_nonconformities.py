"""unmoved nonconformities: an index of the rows at version 1

Revision ID: 0026_unmoved_nonconformities
Revises: 0025_ticket_scale
Create Date: 2026-12-06 22:40:00

A warehouse refresh reads again the nonconformities the workflow engine never moved (version 1:
the go-live history import's, and those just opened), as they change without events
(docs/warehouse.md, "by documents"). Without an index that read scanned every nonconformity:
0.25 s of each refresh over 950 000 of them on SQLite (docs/benchmarks.md). A partial index
holds only those rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_unmoved_nonconformities"
down_revision: str | None = "0025_ticket_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNMOVED = "version = 1"


def upgrade() -> None:
    op.create_index(
        "ix_supplier_nonconformity_unmoved",
        "supplier_nonconformity",
        ["id"],
        unique=False,
        sqlite_where=sa.text(_UNMOVED),
        postgresql_where=sa.text(_UNMOVED),
    )


def downgrade() -> None:
    op.drop_index("ix_supplier_nonconformity_unmoved", table_name="supplier_nonconformity")
