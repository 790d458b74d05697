"""ticket desk: a ticket's house, customer, place and complaint category

Revision ID: 0022_ticket_desk
Revises: 0020_nonconformity_flows
Create Date: 2026-12-06 12:00:00.000000

The intake page picks the caller and the house from the property base data, so a ticket names
them (``house_id``, ``customer_id``; the typed ``house_ref``, ``caller_name`` and
``caller_phone`` stay); a repair says where it is (``place``: ``in_home`` / ``common_area``) and
a complaint what it is about (``category``), which the repeat-complaint rule reads through the
index ``ix_cs_ticket_house_received`` (docs/tickets.md, "The desk"). The caller lookup by phone
uses ``ix_prop_customer_phone`` of ``0018_property``. Existing tickets keep NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_ticket_desk"
down_revision: str | None = "0020_nonconformity_flows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CATEGORIES = (
    "service",
    "environment",
    "security",
    "repair_quality",
    "noise",
    "fees",
    "facilities",
    "other",
)


def upgrade() -> None:
    with op.batch_alter_table("cs_ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("house_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("place", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cs_ticket_house_id_prop_house"), "prop_house", ["house_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cs_ticket_customer_id_prop_customer"),
            "prop_customer",
            ["customer_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_cs_ticket_place_known"),
            "place IS NULL OR place IN ('in_home', 'common_area')",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_cs_ticket_category_known"),
            "category IS NULL OR category IN (" + ", ".join(f"'{c}'" for c in _CATEGORIES) + ")",
        )
        batch_op.create_index(batch_op.f("ix_cs_ticket_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_cs_ticket_house_received", ["house_id", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cs_ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_cs_ticket_house_received")
        batch_op.drop_index(batch_op.f("ix_cs_ticket_customer_id"))
        batch_op.drop_constraint(batch_op.f("ck_cs_ticket_category_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_cs_ticket_place_known"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_cs_ticket_customer_id_prop_customer"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_cs_ticket_house_id_prop_house"), type_="foreignkey")
        batch_op.drop_column("category")
        batch_op.drop_column("place")
        batch_op.drop_column("customer_id")
        batch_op.drop_column("house_id")
