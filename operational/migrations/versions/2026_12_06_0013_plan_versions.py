"""plan versions: a change to an approved plan is its next version, taking over from a day

Revision ID: 0013_plan_versions
Revises: 0012_audit_office
Create Date: 2026-12-06 12:00:00.000000

``maint_periodic_plan`` gains ``revision`` (1 for every existing plan), ``supersedes_id`` (the
plan a version replaces; at most one next version per plan) and ``takes_over_on`` (the day the
version takes over; set exactly when ``supersedes_id`` is). docs/workflow.md, "Changing and
ending an approved plan".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_plan_versions"
down_revision: str | None = "0012_audit_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CHECK = (
    "(supersedes_id IS NULL AND takes_over_on IS NULL)"
    " OR (supersedes_id IS NOT NULL AND takes_over_on IS NOT NULL)"
)


def upgrade() -> None:
    # SQLite cannot add a constraint to an existing table without copying it, and dropping the
    # old copy would cascade into maint_plan_object: there the columns carry their foreign key
    # and check with them (ALTER TABLE ADD COLUMN allows both), which SQLite then enforces.
    op.add_column(
        "maint_periodic_plan",
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE maint_periodic_plan ADD COLUMN supersedes_id INTEGER"
            " CONSTRAINT fk_maint_periodic_plan_supersedes_id_maint_periodic_plan"
            " REFERENCES maint_periodic_plan (id)"
        )
        op.execute(
            "ALTER TABLE maint_periodic_plan ADD COLUMN takes_over_on DATE"
            f" CONSTRAINT ck_maint_periodic_plan_version_takes_over CHECK ({CHECK})"
        )
    else:
        op.add_column("maint_periodic_plan", sa.Column("supersedes_id", sa.Integer()))
        op.add_column("maint_periodic_plan", sa.Column("takes_over_on", sa.Date()))
        op.create_foreign_key(
            op.f("fk_maint_periodic_plan_supersedes_id_maint_periodic_plan"),
            "maint_periodic_plan",
            "maint_periodic_plan",
            ["supersedes_id"],
            ["id"],
        )
        op.create_check_constraint(
            op.f("ck_maint_periodic_plan_version_takes_over"), "maint_periodic_plan", CHECK
        )
    op.create_index(
        op.f("ix_maint_periodic_plan_supersedes_id"),
        "maint_periodic_plan",
        ["supersedes_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_maint_periodic_plan_supersedes_id"), table_name="maint_periodic_plan")
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
        return
    op.drop_constraint(
        op.f("ck_maint_periodic_plan_version_takes_over"), "maint_periodic_plan", type_="check"
    )
    op.drop_constraint(
        op.f("fk_maint_periodic_plan_supersedes_id_maint_periodic_plan"),
        "maint_periodic_plan",
        type_="foreignkey",
    )
    op.drop_column("maint_periodic_plan", "takes_over_on")
    op.drop_column("maint_periodic_plan", "supersedes_id")
    op.drop_column("maint_periodic_plan", "revision")


def _downgrade_sqlite() -> None:
    """A column in a foreign key cannot be dropped in place: the table is copied without the
    three columns. Dropping the old copy deletes its rows first, which with foreign keys on
    would cascade into maint_plan_object and trip the orders' key, so foreign keys are off
    meanwhile (SQLite allows that only outside a transaction, which is how the migration
    starts: DDL does not open one)."""
    bind = op.get_bind()
    bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar() != 0:
        raise RuntimeError("0013_plan_versions: downgrade it on its own, outside a transaction")
    with op.batch_alter_table("maint_periodic_plan", recreate="always") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_maint_periodic_plan_version_takes_over"), type_="check"
        )
        batch_op.drop_column("takes_over_on")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("revision")
    bind.exec_driver_sql("PRAGMA foreign_keys = ON")
