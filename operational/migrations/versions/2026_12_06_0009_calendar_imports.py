"""calendar imports: the group's week and days, a working day's own hours

Revision ID: 0009_calendar_imports
Revises: 0008_login_sessions
Create Date: 2026-12-06 09:00:00.000000

``org_calendar_interval`` and ``org_calendar_day`` rows with ``office_id`` NULL belong to the
whole group: its week (worked by every office without its own) and its days (the official list
of public holidays and make-up working days loaded each year, which wins over the
``chinese_calendar`` package). ``org_calendar_day_interval`` holds a working day's own hours.
See docs/sla-clocks.md and docs/import-formats.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_calendar_imports"
down_revision: str | None = "0008_login_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GROUP_ROW = sa.text("office_id IS NULL")


def upgrade() -> None:
    for table in ("org_calendar_interval", "org_calendar_day"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("office_id", existing_type=sa.Integer(), nullable=True)
    op.create_index(
        "uq_org_calendar_interval_group_weekday_start_local",
        "org_calendar_interval",
        ["weekday", "start_local"],
        unique=True,
        sqlite_where=_GROUP_ROW,
        postgresql_where=_GROUP_ROW,
    )
    op.create_index(
        "uq_org_calendar_day_group_day",
        "org_calendar_day",
        ["day"],
        unique=True,
        sqlite_where=_GROUP_ROW,
        postgresql_where=_GROUP_ROW,
    )
    op.create_table(
        "org_calendar_day_interval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("start_local", sa.Time(), nullable=False),
        sa.Column("end_local", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["day_id"],
            ["org_calendar_day.id"],
            name=op.f("fk_org_calendar_day_interval_day_id_org_calendar_day"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_calendar_day_interval")),
        sa.UniqueConstraint(
            "day_id", "start_local", name=op.f("uq_org_calendar_day_interval_day_id_start_local")
        ),
    )
    op.create_index(
        op.f("ix_org_calendar_day_interval_day_id"),
        "org_calendar_day_interval",
        ["day_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_org_calendar_day_interval_day_id"), "org_calendar_day_interval")
    op.drop_table("org_calendar_day_interval")
    op.drop_index("uq_org_calendar_day_group_day", "org_calendar_day")
    op.drop_index("uq_org_calendar_interval_group_weekday_start_local", "org_calendar_interval")
    op.execute("DELETE FROM org_calendar_day WHERE office_id IS NULL")
    op.execute("DELETE FROM org_calendar_interval WHERE office_id IS NULL")
    for table in ("org_calendar_interval", "org_calendar_day"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("office_id", existing_type=sa.Integer(), nullable=False)
