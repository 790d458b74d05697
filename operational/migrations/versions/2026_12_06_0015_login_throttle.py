"""login throttle by name and source; one-time nonce for the login cookie

Revision ID: 0015_login_throttle
Revises: 0013_plan_versions
Create Date: 2026-12-06 12:00:00.000000

``auth_login_failure`` holds one row per failed login: the name as typed (whether it exists or
not), the client's address and when. ``operational.auth`` throttles a name from one source and a
source trying many names from these rows, so that failures from elsewhere never lock a person
out; they replace the per-account counter (``auth_user.failed_logins`` / ``locked_until``, which
any stranger who knew a name could drive). ``auth_session`` gains the hash and expiry of the
one-time nonce a page hands the cookie route after a login (docs/operations.md, "Login
sessions").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_login_throttle"
down_revision: str | None = "0013_plan_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_login_failure")),
    )
    with op.batch_alter_table("auth_login_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_auth_login_failure_name_source", ["username", "source", "failed_at"], unique=False
        )
        batch_op.create_index("ix_auth_login_failure_source", ["source", "failed_at"], unique=False)
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handover_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("handover_until", sa.DateTime(), nullable=True))
    # In place (ALTER TABLE … DROP COLUMN, SQLite 3.35+), never by copying auth_user: dropping
    # the old copy of a table that sessions, grants and audit entries refer to fails with
    # foreign keys on, as soon as the installation has users.
    op.drop_column("auth_user", "failed_logins")
    op.drop_column("auth_user", "locked_until")


def downgrade() -> None:
    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_column("auth_session", "handover_until")
    op.drop_column("auth_session", "handover_hash")
    with op.batch_alter_table("auth_login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_login_failure_source")
        batch_op.drop_index("ix_auth_login_failure_name_source")
    op.drop_table("auth_login_failure")
