"""faults: the fault library per object type; required object-type attributes

Revision ID: 0004_faults
Revises: 0003_maintenance
Create Date: 2026-11-27 14:00:00.000000

``maint_fault`` holds the group's fault library (故障库). Attributes of an object type
may now be required (``maint_object_type_attribute.required``, false for existing rows).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_faults"
down_revision: str | None = "0003_maintenance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maint_fault",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("symptom", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=1000), nullable=False),
        sa.Column("remedy", sa.String(length=2000), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["maint_object_type.id"],
            name=op.f("fk_maint_fault_type_id_maint_object_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_fault")),
        sa.UniqueConstraint("type_id", "symptom", name=op.f("uq_maint_fault_type_id_symptom")),
    )
    with op.batch_alter_table("maint_fault", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maint_fault_type_id"), ["type_id"], unique=False)
    with op.batch_alter_table("maint_object_type_attribute", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("maint_object_type_attribute", schema=None) as batch_op:
        batch_op.drop_column("required")
    with op.batch_alter_table("maint_fault", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_fault_type_id"))
    op.drop_table("maint_fault")
