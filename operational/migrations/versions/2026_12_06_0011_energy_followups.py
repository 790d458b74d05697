"""energy exception follow-ups: an office's note on an exception and whether it is done

Revision ID: 0011_energy_followups
Revises: 0010_reading_integrity
Create Date: 2026-12-06 10:00:00.000000

``energy_exception_followup`` holds one row per follow-up of an energy exception, named by its
point, rule and start instant as in ``marts.energy_exceptions`` (docs/energy-marts.md); the
latest row counts. The warehouse extracts it whole.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_energy_followups"
down_revision: str | None = "0010_reading_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "energy_exception_followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("followed_up_by", sa.String(length=64), nullable=False),
        sa.Column("followed_up_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["energy_point.id"],
            name=op.f("fk_energy_exception_followup_point_id_energy_point"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_exception_followup")),
    )
    with op.batch_alter_table("energy_exception_followup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_energy_exception_followup_key", ["point_id", "rule", "start_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("energy_exception_followup", schema=None) as batch_op:
        batch_op.drop_index("ix_energy_exception_followup_key")
    op.drop_table("energy_exception_followup")
