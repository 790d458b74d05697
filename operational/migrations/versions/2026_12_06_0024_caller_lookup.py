"""caller lookup: a name's beginning on PostgreSQL, a house for many offices, through indexes

Revision ID: 0024_caller_lookup
Revises: 0023_inspection_disciplines
Create Date: 2026-12-06 13:30:00

The caller lookup finds a customer by the beginning of the name (docs/tickets.md, "The desk").
On PostgreSQL with a collation other than C, a plain b-tree index does not serve ``LIKE 'x%'``:
``ix_prop_customer_name_prefix`` on ``prop_customer (name text_pattern_ops)`` does. On SQLite the
same index is an ordinary one on ``name``, which the lookup's range on the name (SQLite's
``LIKE`` uses no index) uses whatever offices the user works at — ``ix_prop_customer_office_name``
serves it only office by office. Building it on PostgreSQL locks the table against writes for
the time it takes (seconds for millions of customers).

A house typed as ``3-2-301`` by a user of several offices (a city's or the group's call centre)
is looked up through ``ix_prop_building_code`` on ``prop_building (code)``: the buildings of that
name, then the house by its unique key. Without it the planner had no way into the houses but
the office (``prop_building``'s unique key leads with it), and for every office at once it
scanned ``prop_house``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024_caller_lookup"
down_revision: str | None = "0023_inspection_disciplines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_prop_building_code", "prop_building", ["code"], unique=False)
    op.create_index(
        "ix_prop_customer_name_prefix",
        "prop_customer",
        ["name"],
        unique=False,
        postgresql_ops={"name": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_prop_customer_name_prefix", table_name="prop_customer")
    op.drop_index("ix_prop_building_code", table_name="prop_building")
