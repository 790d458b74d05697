"""maintenance: objects, plans, orders, workflow events and clocks

Revision ID: 0003_maintenance
Revises: 0002_energy
Create Date: 2026-11-27 11:15:13.320622
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_maintenance"
down_revision: str | None = "0002_energy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maint_object_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["maint_object_type.id"],
            name=op.f("fk_maint_object_type_parent_id_maint_object_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_object_type")),
        sa.UniqueConstraint("code", name=op.f("uq_maint_object_type_code")),
    )
    with op.batch_alter_table("maint_object_type", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maint_object_type_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "maint_checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("guidance", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["maint_object_type.id"],
            name=op.f("fk_maint_checklist_item_type_id_maint_object_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_checklist_item")),
        sa.UniqueConstraint(
            "type_id", "position", name=op.f("uq_maint_checklist_item_type_id_position")
        ),
    )
    op.create_table(
        "maint_object_type_attribute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "kind IN ('text', 'number', 'date')",
            name=op.f("ck_maint_object_type_attribute_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["maint_object_type.id"],
            name=op.f("fk_maint_object_type_attribute_type_id_maint_object_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_object_type_attribute")),
        sa.UniqueConstraint(
            "type_id", "code", name=op.f("uq_maint_object_type_attribute_type_id_code")
        ),
    )
    op.create_table(
        "maint_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_maint_object_office_id_org_office")
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["maint_object_type.id"],
            name=op.f("fk_maint_object_type_id_maint_object_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_object")),
        sa.UniqueConstraint("office_id", "code", name=op.f("uq_maint_object_office_id_code")),
    )
    with op.batch_alter_table("maint_object", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maint_object_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_maint_object_type_id"), ["type_id"], unique=False)

    op.create_table(
        "maint_periodic_plan",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=False),
        sa.Column("drafted_by_id", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("every", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_maint_periodic_plan_end_after_start"),
        ),
        sa.CheckConstraint("every >= 1", name=op.f("ck_maint_periodic_plan_every_positive")),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_periodic_plan_drafted_by_id_auth_user"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_maint_periodic_plan_office_id_org_office"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_periodic_plan_responsible_id_auth_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_periodic_plan")),
        sa.UniqueConstraint("document_no", name=op.f("uq_maint_periodic_plan_document_no")),
    )
    with op.batch_alter_table("maint_periodic_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maint_periodic_plan_office_id"), ["office_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maint_periodic_plan_responsible_id"), ["responsible_id"], unique=False
        )

    op.create_table(
        "workflow_clock_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=40), nullable=False),
        sa.Column("clock", sa.String(length=40), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("calendar_kind", sa.String(length=10), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_workflow_clock_policy_amount_positive")),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_workflow_clock_policy_office_id_org_office"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_clock_policy")),
        sa.UniqueConstraint(
            "office_id",
            "document_type",
            "clock",
            "discipline",
            name=op.f("uq_workflow_clock_policy_office_id_document_type_clock_discipline"),
        ),
    )
    op.create_table(
        "workflow_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_workflow_event_office_id_org_office")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_event")),
    )
    with op.batch_alter_table("workflow_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_event_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workflow_event_document_type"),
            ["document_type", "document_id"],
            unique=False,
        )

    op.create_table(
        "maint_periodic_order",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("work_starts_at", sa.DateTime(), nullable=False),
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_periodic_order_handler_id_auth_user"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_maint_periodic_order_office_id_org_office"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["maint_periodic_plan.id"],
            name=op.f("fk_maint_periodic_order_plan_id_maint_periodic_plan"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_periodic_order_responsible_id_auth_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_periodic_order")),
        sa.UniqueConstraint("document_no", name=op.f("uq_maint_periodic_order_document_no")),
        sa.UniqueConstraint(
            "plan_id", "scheduled_for", name=op.f("uq_maint_periodic_order_plan_id_scheduled_for")
        ),
    )
    with op.batch_alter_table("maint_periodic_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maint_periodic_order_handler_id"), ["handler_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maint_periodic_order_office_id"), ["office_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maint_periodic_order_responsible_id"), ["responsible_id"], unique=False
        )

    op.create_table(
        "maint_plan_object",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["maint_object.id"],
            name=op.f("fk_maint_plan_object_object_id_maint_object"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["maint_periodic_plan.id"],
            name=op.f("fk_maint_plan_object_plan_id_maint_periodic_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "object_id", name=op.f("pk_maint_plan_object")),
    )
    with op.batch_alter_table("maint_plan_object", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maint_plan_object_object_id"), ["object_id"], unique=False
        )

    op.create_table(
        "workflow_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=40), nullable=False),
        sa.Column("target_amount", sa.Integer(), nullable=False),
        sa.Column("target_unit", sa.String(length=20), nullable=False),
        sa.Column("calendar", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("started_event_id", sa.Integer(), nullable=False),
        sa.Column("stopped_event_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "stopped_at IS NULL OR stopped_at >= started_at",
            name=op.f("ck_workflow_clock_stops_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["org_office.id"], name=op.f("fk_workflow_clock_office_id_org_office")
        ),
        sa.ForeignKeyConstraint(
            ["started_event_id"],
            ["workflow_event.id"],
            name=op.f("fk_workflow_clock_started_event_id_workflow_event"),
        ),
        sa.ForeignKeyConstraint(
            ["stopped_event_id"],
            ["workflow_event.id"],
            name=op.f("fk_workflow_clock_stopped_event_id_workflow_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_clock")),
    )
    with op.batch_alter_table("workflow_clock", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_clock_document_type"),
            ["document_type", "document_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_workflow_clock_due_at"), ["due_at"], unique=False)

    op.create_table(
        "maint_corrective_order",
        sa.Column("discipline", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("responsible_id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("source_order_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_no", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_corrective_order_handler_id_auth_user"),
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["maint_object.id"],
            name=op.f("fk_maint_corrective_order_object_id_maint_object"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["org_office.id"],
            name=op.f("fk_maint_corrective_order_office_id_org_office"),
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_corrective_order_raised_by_id_auth_user"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["auth_user.id"],
            name=op.f("fk_maint_corrective_order_responsible_id_auth_user"),
        ),
        sa.ForeignKeyConstraint(
            ["source_order_id"],
            ["maint_periodic_order.id"],
            name=op.f("fk_maint_corrective_order_source_order_id_maint_periodic_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_corrective_order")),
        sa.UniqueConstraint("document_no", name=op.f("uq_maint_corrective_order_document_no")),
    )
    with op.batch_alter_table("maint_corrective_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maint_corrective_order_handler_id"), ["handler_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maint_corrective_order_office_id"), ["office_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maint_corrective_order_responsible_id"), ["responsible_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maint_corrective_order_source_order_id"),
            ["source_order_id"],
            unique=False,
        )

    op.create_table(
        "maint_checklist_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("corrective_order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["corrective_order_id"],
            ["maint_corrective_order.id"],
            name=op.f("fk_maint_checklist_answer_corrective_order_id_maint_corrective_order"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["maint_checklist_item.id"],
            name=op.f("fk_maint_checklist_answer_item_id_maint_checklist_item"),
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["maint_object.id"],
            name=op.f("fk_maint_checklist_answer_object_id_maint_object"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["maint_periodic_order.id"],
            name=op.f("fk_maint_checklist_answer_order_id_maint_periodic_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maint_checklist_answer")),
        sa.UniqueConstraint(
            "order_id",
            "object_id",
            "item_id",
            name=op.f("uq_maint_checklist_answer_order_id_object_id_item_id"),
        ),
    )
    with op.batch_alter_table("maint_checklist_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maint_checklist_answer_order_id"), ["order_id"], unique=False
        )

    _make_workflow_event_append_only()


_APPEND_ONLY_SQLITE = """
CREATE TRIGGER workflow_event_no_{op} BEFORE {OP} ON workflow_event
BEGIN SELECT RAISE(ABORT, 'workflow_event is append-only'); END
"""
_APPEND_ONLY_PG = [
    """
    CREATE FUNCTION workflow_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'workflow_event is append-only'; END $$
    """,
    """
    CREATE TRIGGER workflow_event_append_only BEFORE UPDATE OR DELETE ON workflow_event
    FOR EACH ROW EXECUTE FUNCTION workflow_event_append_only()
    """,
]


def _make_workflow_event_append_only() -> None:
    """The event log the warehouse rebuilds every SLA clock from cannot be rewritten."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in _APPEND_ONLY_PG:
            op.execute(statement)
    else:
        for verb in ("update", "delete"):
            op.execute(_APPEND_ONLY_SQLITE.format(op=verb, OP=verb.upper()))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER workflow_event_append_only ON workflow_event")
        op.execute("DROP FUNCTION workflow_event_append_only()")
    else:
        op.execute("DROP TRIGGER workflow_event_no_update")
        op.execute("DROP TRIGGER workflow_event_no_delete")
    with op.batch_alter_table("maint_checklist_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_checklist_answer_order_id"))

    op.drop_table("maint_checklist_answer")
    with op.batch_alter_table("maint_corrective_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_corrective_order_source_order_id"))
        batch_op.drop_index(batch_op.f("ix_maint_corrective_order_responsible_id"))
        batch_op.drop_index(batch_op.f("ix_maint_corrective_order_office_id"))
        batch_op.drop_index(batch_op.f("ix_maint_corrective_order_handler_id"))

    op.drop_table("maint_corrective_order")
    with op.batch_alter_table("workflow_clock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_clock_due_at"))
        batch_op.drop_index(batch_op.f("ix_workflow_clock_document_type"))

    op.drop_table("workflow_clock")
    with op.batch_alter_table("maint_plan_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_plan_object_object_id"))

    op.drop_table("maint_plan_object")
    with op.batch_alter_table("maint_periodic_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_periodic_order_responsible_id"))
        batch_op.drop_index(batch_op.f("ix_maint_periodic_order_office_id"))
        batch_op.drop_index(batch_op.f("ix_maint_periodic_order_handler_id"))

    op.drop_table("maint_periodic_order")
    with op.batch_alter_table("workflow_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_event_document_type"))
        batch_op.drop_index(batch_op.f("ix_workflow_event_at"))

    op.drop_table("workflow_event")
    op.drop_table("workflow_clock_policy")
    with op.batch_alter_table("maint_periodic_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_periodic_plan_responsible_id"))
        batch_op.drop_index(batch_op.f("ix_maint_periodic_plan_office_id"))

    op.drop_table("maint_periodic_plan")
    with op.batch_alter_table("maint_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_object_type_id"))
        batch_op.drop_index(batch_op.f("ix_maint_object_office_id"))

    op.drop_table("maint_object")
    op.drop_table("maint_object_type_attribute")
    op.drop_table("maint_checklist_item")
    with op.batch_alter_table("maint_object_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maint_object_type_parent_id"))

    op.drop_table("maint_object_type")
