"""audit office: the office an audit entry concerns, and indexes for the order list

Revision ID: 0012_audit_office
Revises: 0011_energy_followups
Create Date: 2026-12-06 12:00:00.000000

``audit_log.office_id`` (nullable) names the office whose record an entry concerns; NULL is a
group-level entry (users, the object-type tree, the group's calendar, imports spanning offices),
visible only at group scope. The table stays append-only: the column is added with a plain
``ALTER TABLE … ADD COLUMN`` on both backends, which keeps the triggers of ``0001_foundation``
(SQLite's batch mode would rebuild the table and drop them). Existing entries keep NULL.

Four indexes serve the order search (docs/dashboards.md, "Order search"): corrective and
periodic orders by creation time (the newest first, group-wide) and by office and creation time
(one office, or the few of a city).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_audit_office"
down_revision: str | None = "0011_energy_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_audit_log_office_id_org_office"
_ORDER_INDEXES = {
    "ix_maint_corrective_order_office_created": (
        "maint_corrective_order",
        ["office_id", "created_at"],
    ),
    "ix_maint_periodic_order_office_created": ("maint_periodic_order", ["office_id", "created_at"]),
    "ix_maint_corrective_order_created": ("maint_corrective_order", ["created_at"]),
    "ix_maint_periodic_order_created": ("maint_periodic_order", ["created_at"]),
}
_APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{op} BEFORE {OP} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("audit_log", sa.Column("office_id", sa.Integer(), nullable=True))
        op.create_foreign_key(_FK, "audit_log", "org_office", ["office_id"], ["id"])
    else:
        # SQLite adds a column with an inline reference (NULL default) without rebuilding.
        op.execute("ALTER TABLE audit_log ADD COLUMN office_id INTEGER REFERENCES org_office (id)")
    op.create_index("ix_audit_log_office_at", "audit_log", ["office_id", "at"], unique=False)
    for name, (table, columns) in _ORDER_INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _) in _ORDER_INDEXES.items():
        op.drop_index(name, table_name=table)
    op.drop_index("ix_audit_log_office_at", table_name="audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_FK, "audit_log", type_="foreignkey")
        op.drop_column("audit_log", "office_id")
        return
    # SQLite cannot drop a referencing column in place: rebuild the table, then put back the
    # append-only triggers the rebuild dropped.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("office_id")
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb}")
        op.execute(_APPEND_ONLY_SQLITE.format(op=verb, OP=verb.upper()))
