"""calendars: office working hours and day overrides

Revision ID: 0006_calendars
Revises: 0005_reading_indexes
Create Date: 2026-11-27 17:00:00.000000

``org_calendar_interval`` holds an office's working intervals per weekday (0 = Monday), several a
day; an office without rows works the group default. ``org_calendar_day`` holds an office's
holiday / make-up working day overrides over China's official list. See docs/sla-clocks.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_calendars"
down_revision: str | None = "0005_reading_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_calendar_interval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_local", sa.Time(), nullable=False),
        sa.Column("end_local", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_org_calendar_interval_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_org_calendar_interval_office_id_org_office"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_calendar_interval")),
        sa.UniqueConstraint(
            "office_id",
            "weekday",
            "start_local",
            name=op.f("uq_org_calendar_interval_office_id_weekday_start_local"),
        ),
    )
    with op.batch_alter_table("org_calendar_interval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_calendar_interval_office_id"), ["office_id"], unique=False
        )
    op.create_table(
        "org_calendar_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("as_weekday", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('holiday', 'workday')", name=op.f("ck_org_calendar_day_kind_known")
        ),
        sa.CheckConstraint(
            "as_weekday IS NULL OR (kind = 'workday' AND as_weekday BETWEEN 0 AND 6)",
            name=op.f("ck_org_calendar_day_as_weekday_range"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_org_calendar_day_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_calendar_day")),
        sa.UniqueConstraint("office_id", "day", name=op.f("uq_org_calendar_day_office_id_day")),
    )
    with op.batch_alter_table("org_calendar_day", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_calendar_day_office_id"), ["office_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("org_calendar_day", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_calendar_day_office_id"))
    op.drop_table("org_calendar_day")
    with op.batch_alter_table("org_calendar_interval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_calendar_interval_office_id"))
    op.drop_table("org_calendar_interval")
