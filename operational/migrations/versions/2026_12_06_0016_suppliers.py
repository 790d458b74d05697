"""suppliers: suppliers, contracts, deduction standards, nonconformities, manual score entries

Revision ID: 0016_suppliers
Revises: 0015_login_throttle
Create Date: 2026-12-06 07:13:57.874450

``supplier`` (unique code per group), ``supplier_contract`` (one office and discipline, a period,
an amount), ``supplier_deduction_standard`` (breach points → yuan, per contract),
``supplier_nonconformity`` (不合格提示单 / 不合格处理单 / 纠正预防单, with the contract and breach
points of one raised against a supplier) and ``supplier_score_entry`` (the office's signed points
per contract, month and item). The warehouse extracts them whole (docs/supplier-marts.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_suppliers"
down_revision: str | None = "0015_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("supplier_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "discipline IN ('engineering', 'landscaping', 'security', 'cleaning')",
            name=op.f("ck_supplier_discipline_known"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["org_group.id"], name=op.f("fk_supplier_group_id_org_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint(
            "group_id", "supplier_code", name=op.f("uq_supplier_group_id_supplier_code")
        ),
    )
    op.create_table(
        "supplier_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_no", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint(
            "discipline IN ('engineering', 'landscaping', 'security', 'cleaning')",
            name=op.f("ck_supplier_contract_discipline_known"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_supplier_contract_amount_not_negative")),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_supplier_contract_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_supplier_contract_office_id_org_office")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_supplier_contract_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_contract")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_supplier_contract_contract_no")),
    )
    with op.batch_alter_table("supplier_contract", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_contract_office_id"), ["office_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_contract_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supplier_deduction_standard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint(
            "amount >= 0", name=op.f("ck_supplier_deduction_standard_amount_not_negative")
        ),
        sa.CheckConstraint(
            "points > 0", name=op.f("ck_supplier_deduction_standard_points_positive")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["supplier_contract.id"],
            name=op.f("fk_supplier_deduction_standard_contract_id_supplier_contract"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_deduction_standard")),
        sa.UniqueConstraint(
            "contract_id", "points", name=op.f("uq_supplier_deduction_standard_contract_id_points")
        ),
    )
    op.create_table(
        "supplier_nonconformity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nc_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("breach_points", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "discipline IN ('engineering', 'landscaping', 'security', 'cleaning')",
            name=op.f("ck_supplier_nonconformity_discipline_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('notice', 'handling', 'corrective_preventive')",
            name=op.f("ck_supplier_nonconformity_kind_known"),
        ),
        sa.CheckConstraint(
            "breach_points IS NULL OR breach_points > 0",
            name=op.f("ck_supplier_nonconformity_points_positive"),
        ),
        sa.CheckConstraint(
            "breach_points IS NULL OR contract_id IS NOT NULL",
            name=op.f("ck_supplier_nonconformity_points_need_contract"),
        ),
        sa.CheckConstraint(
            "closed_at IS NULL OR closed_at >= opened_at",
            name=op.f("ck_supplier_nonconformity_closed_after_open"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["supplier_contract.id"],
            name=op.f("fk_supplier_nonconformity_contract_id_supplier_contract"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_supplier_nonconformity_office_id_org_office"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_nonconformity")),
        sa.UniqueConstraint("nc_no", name=op.f("uq_supplier_nonconformity_nc_no")),
    )
    with op.batch_alter_table("supplier_nonconformity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_nonconformity_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_nonconformity_office_id"), ["office_id"], unique=False
        )

    op.create_table(
        "supplier_score_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["supplier_contract.id"],
            name=op.f("fk_supplier_score_entry_contract_id_supplier_contract"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_score_entry")),
        sa.UniqueConstraint(
            "contract_id",
            "month",
            "item",
            name=op.f("uq_supplier_score_entry_contract_id_month_item"),
        ),
    )
    with op.batch_alter_table("supplier_score_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_score_entry_contract_id"), ["contract_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supplier_score_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_score_entry_contract_id"))

    op.drop_table("supplier_score_entry")
    with op.batch_alter_table("supplier_nonconformity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_nonconformity_office_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_nonconformity_contract_id"))

    op.drop_table("supplier_nonconformity")
    op.drop_table("supplier_deduction_standard")
    with op.batch_alter_table("supplier_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_contract_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_contract_office_id"))

    op.drop_table("supplier_contract")
    op.drop_table("supplier")
