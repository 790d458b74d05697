"""property: buildings, houses, customers, occupancies, parking, fees, vehicles, pets, furnishings,
decorations

Revision ID: 0018_property
Revises: 0017_tickets
Create Date: 2026-12-06 07:57:43.407501

An office's property base data (docs/property.md): ``prop_building``, ``prop_house`` (building,
unit, floor, room; area, sale and rental status), ``prop_customer`` (name, phone, ID number —
personal information, indexed by phone for the caller lookup), ``prop_occupancy`` (every past and
present owner, tenant and family member of a house), ``prop_parking_space``,
``prop_fee_standard``, ``prop_vehicle``, ``prop_pet``, ``prop_furnishing`` (家具家电) and
``prop_decoration`` (装修记录).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_property"
down_revision: str | None = "0017_tickets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prop_building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_prop_building_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_building")),
        sa.UniqueConstraint("office_id", "code", name=op.f("uq_prop_building_office_id_code")),
    )
    with op.batch_alter_table("prop_building", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prop_building_office_id"), ["office_id"], unique=False)

    op.create_table(
        "prop_customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_prop_customer_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_customer")),
        sa.UniqueConstraint("office_id", "code", name=op.f("uq_prop_customer_office_id_code")),
    )
    with op.batch_alter_table("prop_customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prop_customer_office_id"), ["office_id"], unique=False)
        batch_op.create_index("ix_prop_customer_office_name", ["office_id", "name"], unique=False)
        batch_op.create_index("ix_prop_customer_phone", ["phone"], unique=False)

    op.create_table(
        "prop_fee_standard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "basis IN ('per_m2_month', 'per_house_month', 'per_space_month', 'per_m2_once', 'per_use')",
            name=op.f("ck_prop_fee_standard_basis_known"),
        ),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_prop_fee_standard_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_prop_fee_standard_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_fee_standard")),
        sa.UniqueConstraint("office_id", "code", name=op.f("uq_prop_fee_standard_office_id_code")),
    )
    with op.batch_alter_table("prop_fee_standard", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prop_fee_standard_office_id"), ["office_id"], unique=False
        )

    op.create_table(
        "prop_parking_space",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("space_no", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("area", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("sale_status", sa.String(length=16), nullable=False),
        sa.Column("rental_status", sa.String(length=16), nullable=False),
        sa.Column("stacked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "rental_status IN ('vacant', 'self_use', 'rented')",
            name=op.f("ck_prop_parking_space_rental_status_known"),
        ),
        sa.CheckConstraint(
            "sale_status IN ('unsold', 'sold')",
            name=op.f("ck_prop_parking_space_sale_status_known"),
        ),
        sa.CheckConstraint("area > 0", name=op.f("ck_prop_parking_space_area_positive")),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_prop_parking_space_office_id_org_office"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_parking_space")),
        sa.UniqueConstraint(
            "office_id", "space_no", name=op.f("uq_prop_parking_space_office_id_space_no")
        ),
    )
    with op.batch_alter_table("prop_parking_space", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prop_parking_space_office_id"), ["office_id"], unique=False
        )

    op.create_table(
        "prop_house",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("area", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("sale_status", sa.String(length=16), nullable=False),
        sa.Column("rental_status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "rental_status IN ('vacant', 'self_use', 'rented')",
            name=op.f("ck_prop_house_rental_status_known"),
        ),
        sa.CheckConstraint(
            "sale_status IN ('unsold', 'sold')", name=op.f("ck_prop_house_sale_status_known")
        ),
        sa.CheckConstraint("area > 0", name=op.f("ck_prop_house_area_positive")),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["prop_building.id"],
            name=op.f("fk_prop_house_building_id_prop_building"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_prop_house_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_house")),
        sa.UniqueConstraint(
            "building_id", "unit", "room", name=op.f("uq_prop_house_building_id_unit_room")
        ),
    )
    with op.batch_alter_table("prop_house", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prop_house_building_id"), ["building_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_prop_house_office_id"), ["office_id"], unique=False)
        batch_op.create_index("ix_prop_house_office_room", ["office_id", "room"], unique=False)

    op.create_table(
        "prop_pet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["prop_customer.id"],
            name=op.f("fk_prop_pet_customer_id_prop_customer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_pet")),
    )
    with op.batch_alter_table("prop_pet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prop_pet_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "prop_vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("licence_no", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["prop_customer.id"],
            name=op.f("fk_prop_vehicle_customer_id_prop_customer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_vehicle")),
        sa.UniqueConstraint("customer_id", "plate", name=op.f("uq_prop_vehicle_customer_id_plate")),
    )
    with op.batch_alter_table("prop_vehicle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prop_vehicle_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "prop_occupancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("house_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("moved_in_on", sa.Date(), nullable=False),
        sa.Column("moved_out_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'tenant', 'family')", name=op.f("ck_prop_occupancy_role_known")
        ),
        sa.CheckConstraint(
            "moved_out_on IS NULL OR moved_out_on >= moved_in_on",
            name=op.f("ck_prop_occupancy_out_after_in"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["prop_customer.id"],
            name=op.f("fk_prop_occupancy_customer_id_prop_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["house_id"], ["prop_house.id"], name=op.f("fk_prop_occupancy_house_id_prop_house")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_occupancy")),
        sa.UniqueConstraint(
            "house_id",
            "customer_id",
            "role",
            "moved_in_on",
            name=op.f("uq_prop_occupancy_house_id_customer_id_role_moved_in_on"),
        ),
    )
    with op.batch_alter_table("prop_occupancy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prop_occupancy_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_prop_occupancy_house_id"), ["house_id"], unique=False)

    op.create_table(
        "prop_furnishing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["prop_customer.id"],
            name=op.f("fk_prop_furnishing_customer_id_prop_customer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_furnishing")),
        sa.UniqueConstraint(
            "customer_id", "item", "brand", name=op.f("uq_prop_furnishing_customer_id_item_brand")
        ),
    )
    with op.batch_alter_table("prop_furnishing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prop_furnishing_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "prop_decoration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("house_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("finished_on", sa.Date(), nullable=True),
        sa.Column("contractor", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "finished_on IS NULL OR finished_on >= started_on",
            name=op.f("ck_prop_decoration_finished_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["house_id"], ["prop_house.id"], name=op.f("fk_prop_decoration_house_id_prop_house")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prop_decoration")),
        sa.UniqueConstraint(
            "house_id", "started_on", name=op.f("uq_prop_decoration_house_id_started_on")
        ),
    )
    with op.batch_alter_table("prop_decoration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prop_decoration_house_id"), ["house_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prop_decoration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_decoration_house_id"))

    op.drop_table("prop_decoration")
    with op.batch_alter_table("prop_furnishing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_furnishing_customer_id"))

    op.drop_table("prop_furnishing")

    with op.batch_alter_table("prop_occupancy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_occupancy_house_id"))
        batch_op.drop_index(batch_op.f("ix_prop_occupancy_customer_id"))

    op.drop_table("prop_occupancy")
    with op.batch_alter_table("prop_vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_vehicle_customer_id"))

    op.drop_table("prop_vehicle")
    with op.batch_alter_table("prop_pet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_pet_customer_id"))

    op.drop_table("prop_pet")
    with op.batch_alter_table("prop_house", schema=None) as batch_op:
        batch_op.drop_index("ix_prop_house_office_room")
        batch_op.drop_index(batch_op.f("ix_prop_house_office_id"))
        batch_op.drop_index(batch_op.f("ix_prop_house_building_id"))

    op.drop_table("prop_house")
    with op.batch_alter_table("prop_parking_space", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_parking_space_office_id"))

    op.drop_table("prop_parking_space")
    with op.batch_alter_table("prop_fee_standard", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_fee_standard_office_id"))

    op.drop_table("prop_fee_standard")
    with op.batch_alter_table("prop_customer", schema=None) as batch_op:
        batch_op.drop_index("ix_prop_customer_phone")
        batch_op.drop_index("ix_prop_customer_office_name")
        batch_op.drop_index(batch_op.f("ix_prop_customer_office_id"))

    op.drop_table("prop_customer")
    with op.batch_alter_table("prop_building", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prop_building_office_id"))

    op.drop_table("prop_building")
