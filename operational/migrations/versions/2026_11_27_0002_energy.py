"""energy: buildings, metering points, meter installations, readings

Revision ID: 0002_energy
Revises: 0001_foundation
Create Date: 2026-11-27 11:11:30.908173

Quantities are NUMERIC (REAL on SQLite). ``energy_reading`` is append-only by convention: the
services never update or delete it (corrections supersede, withdrawals add a void row).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_energy"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "energy_building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_energy_building_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_building")),
        sa.UniqueConstraint("office_id", "name", name=op.f("uq_energy_building_office_id_name")),
    )
    op.create_table(
        "energy_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('electricity', 'water')", name=op.f("ck_energy_point_kind")),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["energy_building.id"],
            name=op.f("fk_energy_point_building_id_energy_building"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_energy_point_office_id_org_office")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["energy_point.id"], name=op.f("fk_energy_point_parent_id_energy_point")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_point")),
        sa.UniqueConstraint("code", name=op.f("uq_energy_point_code")),
    )
    op.create_index(op.f("ix_energy_point_office_id"), "energy_point", ["office_id"])

    op.create_table(
        "energy_meter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column(
            "multiplier", sa.Numeric(precision=12, scale=4), server_default="1", nullable=False
        ),
        sa.Column("digits", sa.Integer(), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.Column("initial_reading", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("final_reading", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["point_id"], ["energy_point.id"], name=op.f("fk_energy_meter_point_id_energy_point")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_meter")),
    )
    op.create_index(op.f("ix_energy_meter_point_id"), "energy_meter", ["point_id"])
    op.create_index(
        "uq_energy_meter_open_point",
        "energy_meter",
        ["point_id"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )

    op.create_table(
        "energy_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.Column("reading", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("void", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "flag IS NULL OR flag IN ('rollover', 'high')", name=op.f("ck_energy_reading_flag")
        ),
        sa.CheckConstraint(
            "source IN ('form', 'scan', 'import', 'demo')", name=op.f("ck_energy_reading_source")
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["energy_meter.id"], name=op.f("fk_energy_reading_meter_id_energy_meter")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["energy_point.id"], name=op.f("fk_energy_reading_point_id_energy_point")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["energy_reading.id"],
            name=op.f("fk_energy_reading_supersedes_id_energy_reading"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_reading")),
    )
    op.create_index("ix_energy_reading_meter_id_read_at", "energy_reading", ["meter_id", "read_at"])
    op.create_index(op.f("ix_energy_reading_point_id"), "energy_reading", ["point_id"])
    op.create_index(op.f("ix_energy_reading_supersedes_id"), "energy_reading", ["supersedes_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_energy_reading_supersedes_id"), table_name="energy_reading")
    op.drop_index(op.f("ix_energy_reading_point_id"), table_name="energy_reading")
    op.drop_index("ix_energy_reading_meter_id_read_at", table_name="energy_reading")
    op.drop_table("energy_reading")
    op.drop_index("uq_energy_meter_open_point", table_name="energy_meter")
    op.drop_index(op.f("ix_energy_meter_point_id"), table_name="energy_meter")
    op.drop_table("energy_meter")
    op.drop_index(op.f("ix_energy_point_office_id"), table_name="energy_point")
    op.drop_table("energy_point")
    op.drop_table("energy_building")
