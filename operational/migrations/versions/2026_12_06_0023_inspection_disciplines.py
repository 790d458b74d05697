"""inspection disciplines: customer service inspects too

Revision ID: 0023_inspection_disciplines
Revises: 0022_ticket_desk
Create Date: 2026-12-06 12:00:00

Inspection plans, inspection orders and nonconformities may be of discipline
``customer_service`` (``operational.models.objects.INSPECTION_DISCIPLINES``,
docs/inspections.md): their ``discipline_known`` check constraints are replaced. On SQLite each
table is copied; the rows pointing at it (checkpoints, items, scores, photos) would trip their
foreign keys while the old copy is dropped, so keys are off meanwhile (SQLite allows that only
outside a transaction, which is how the migration starts: DDL does not open one).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023_inspection_disciplines"
down_revision: str | None = "0022_ticket_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOUR = ("engineering", "landscaping", "security", "cleaning")
_TABLES = ("insp_plan", "insp_order", "supplier_nonconformity")


def _replace(disciplines: Sequence[str]) -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_discipline_known"), type_="check")
            batch_op.create_check_constraint(
                batch_op.f(f"ck_{table}_discipline_known"),
                "discipline IN (" + ", ".join(f"'{d}'" for d in disciplines) + ")",
            )
    if sqlite:
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")


def upgrade() -> None:
    _replace((*_FOUR, "customer_service"))


def downgrade() -> None:
    _replace(_FOUR)
