"""nonconformity flows: the three nonconformity documents run on the workflow engine

Revision ID: 0020_nonconformity_flows
Revises: 0019_inspections
Create Date: 2026-12-06 10:20:00

``supplier_nonconformity`` becomes a workflow document (docs/nonconformities.md): ``state`` and
``version`` (rows of the go-live history import get the last state of their kind when closed,
else its first, and version 1), the ``description``, who must act (``assignee_id``, any user —
office staff or a supplier user), who opened it (``opened_by_id``) and the texts of its steps
(``cause``, ``correction``, ``prevention``, ``handling_note``, ``verification_note``). The number
stays in ``nc_no``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_nonconformity_flows"
down_revision: str | None = "0019_inspections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXTS = ("cause", "correction", "prevention", "handling_note", "verification_note")


def upgrade() -> None:
    with op.batch_alter_table("supplier_nonconformity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.add_column(
            sa.Column("description", sa.String(length=2000), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("opened_by_id", sa.Integer(), nullable=True))
        for name in _TEXTS:
            batch_op.add_column(sa.Column(name, sa.String(length=2000), nullable=True))
    op.execute(
        "UPDATE supplier_nonconformity SET state = CASE"
        " WHEN kind = 'notice' AND closed_at IS NOT NULL THEN 'acknowledged'"
        " WHEN kind = 'notice' THEN 'issued'"
        " WHEN kind = 'handling' AND closed_at IS NOT NULL THEN 'verified'"
        " WHEN kind = 'handling' THEN 'assigned'"
        " WHEN closed_at IS NOT NULL THEN 'verified'"
        " ELSE 'opened' END"
    )
    with op.batch_alter_table("supplier_nonconformity", schema=None) as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("version", existing_type=sa.Integer(), server_default=None)
        batch_op.create_foreign_key(
            batch_op.f("fk_supplier_nonconformity_assignee_id_auth_user"),
            "auth_user",
            ["assignee_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_supplier_nonconformity_opened_by_id_auth_user"),
            "auth_user",
            ["opened_by_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_nonconformity_assignee_id"), ["assignee_id"], unique=False
        )


def downgrade() -> None:
    # On SQLite the table is copied and the old copy dropped, which with foreign keys on trips
    # the rows that point at it (insp_score.nonconformity_id, 0019_inspections): keys are off
    # meanwhile, as in 0013_plan_versions (SQLite allows it outside a transaction only).
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.get_bind().exec_driver_sql("PRAGMA foreign_keys = OFF")
    _downgrade()
    if sqlite:
        op.get_bind().exec_driver_sql("PRAGMA foreign_keys = ON")


def _downgrade() -> None:
    with op.batch_alter_table("supplier_nonconformity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_nonconformity_assignee_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_supplier_nonconformity_opened_by_id_auth_user"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_supplier_nonconformity_assignee_id_auth_user"), type_="foreignkey"
        )
        for name in reversed(_TEXTS):
            batch_op.drop_column(name)
        batch_op.drop_column("opened_by_id")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("description")
        batch_op.drop_column("version")
        batch_op.drop_column("state")
