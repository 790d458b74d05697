"""foundation: organisation, users, roles, audit log

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-27 11:06:05.202273
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_key", sa.String(length=128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_user_username")),
    )
    op.create_table(
        "org_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_group")),
        sa.UniqueConstraint("code", name=op.f("uq_org_group_code")),
    )
    op.create_table(
        "org_city_company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["org_group.id"],
            name=op.f("fk_org_city_company_group_id_org_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_city_company")),
        sa.UniqueConstraint("code", name=op.f("uq_org_city_company_code")),
    )
    op.create_table(
        "org_office",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["org_city_company.id"],
            name=op.f("fk_org_office_city_id_org_city_company"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_office")),
        sa.UniqueConstraint("code", name=op.f("uq_org_office_code")),
    )
    with op.batch_alter_table("org_office", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_office_city_id"), ["city_id"], unique=False)

    op.create_table(
        "auth_role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("scope_level", sa.String(length=10), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(scope_level = 'group' AND city_id IS NULL AND office_id IS NULL) OR (scope_level = 'city' AND city_id IS NOT NULL AND office_id IS NULL) OR (scope_level = 'office' AND office_id IS NOT NULL AND city_id IS NULL)",
            name=op.f("ck_auth_role_grant_scope_matches_level"),
        ),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["org_city_company.id"],
            name=op.f("fk_auth_role_grant_city_id_org_city_company"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_auth_role_grant_office_id_org_office"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name=op.f("fk_auth_role_grant_user_id_auth_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_role_grant")),
    )
    with op.batch_alter_table("auth_role_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_role_grant_user_id"), ["user_id"], unique=False)

    _make_audit_log_append_only()


_APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{op} BEFORE {OP} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
_APPEND_ONLY_PG = [
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
]


def _make_audit_log_append_only() -> None:
    """The audit log is append-only in the database itself, not only by convention."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in _APPEND_ONLY_PG:
            op.execute(statement)
    else:
        for verb in ("update", "delete"):
            op.execute(_APPEND_ONLY_SQLITE.format(op=verb, OP=verb.upper()))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table("auth_role_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_role_grant_user_id"))

    op.drop_table("auth_role_grant")
    with op.batch_alter_table("org_office", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_office_city_id"))

    op.drop_table("org_office")
    op.drop_table("org_city_company")
    op.drop_table("org_group")
    op.drop_table("auth_user")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
