"""supplier users: an account tied to exactly one supplier (供方用户)

Revision ID: 0021_supplier_users
Revises: 0020_nonconformity_flows
Create Date: 2026-12-06 11:00:00.000000

``auth_user.supplier_id`` (nullable) names the supplier whose staff the account belongs to; such
an account holds only the supplier-user role and sees only its supplier's work
(docs/architecture.md, "Every read carries its scope"). Added with a plain ``ALTER TABLE … ADD
COLUMN`` on both backends (SQLite's batch mode would rebuild the table). Existing users keep
NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_supplier_users"
down_revision: str | None = "0020_nonconformity_flows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_auth_user_supplier_id_supplier"
_INDEX = "ix_auth_user_supplier_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("auth_user", sa.Column("supplier_id", sa.Integer(), nullable=True))
        op.create_foreign_key(_FK, "auth_user", "supplier", ["supplier_id"], ["id"])
    else:
        # SQLite adds a column with an inline reference (NULL default) without rebuilding.
        op.execute("ALTER TABLE auth_user ADD COLUMN supplier_id INTEGER REFERENCES supplier (id)")
    op.create_index(_INDEX, "auth_user", ["supplier_id"], unique=False)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="auth_user")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_FK, "auth_user", type_="foreignkey")
        op.drop_column("auth_user", "supplier_id")
    else:
        # SQLite cannot drop a referencing column in place: rebuild the table. Other tables
        # reference auth_user, so foreign keys are off while it is rebuilt (same ids), and
        # checked whole afterwards.
        op.execute("PRAGMA foreign_keys = OFF")
        with op.batch_alter_table("auth_user", schema=None) as batch_op:
            batch_op.drop_column("supplier_id")
        op.execute("PRAGMA foreign_keys = ON")
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild of auth_user: {broken[:5]}")
