"""reading integrity: at most one effective reading per installation and instant

Revision ID: 0010_reading_integrity
Revises: 0009_calendar_imports
Create Date: 2026-12-06 04:00:00.000000

The rows of one installation (``meter_id``) at one instant (``read_at``) become one chain: a
first entry, then each correction or withdrawal superseding the row before it, and a reading
entered again after a withdrawal superseding the ``void`` row. Only a chain's last row can be
effective. Three rules make the database hold that whatever path writes:

* ``uq_energy_reading_meter_instant`` — unique ``(meter_id, read_at, coalesce(supersedes_id,
  0))``: one first entry per installation and instant. It replaces the plain index
  ``ix_energy_reading_meter_id_read_at`` (same leading columns), so inserts pay no extra index;
* ``uq_energy_reading_supersedes_id`` — the partial index of corrections becomes unique: a row is
  superseded at most once (two concurrent corrections of one reading cannot both land);
* the trigger ``trg_energy_reading_same_instant`` — a row supersedes only a row of the same
  installation and instant.

``ix_energy_reading_void`` indexes the withdrawals (few), where a reading entered again continues
a chain.

Existing rows are put in that shape first. Instants with several first entries (a reading
entered again after a withdrawal, before this revision; or two imports that both landed) and
rows superseded twice are re-chained: the rows that are not effective in time order, then the
effective one — no reading changes status. Where two effective readings of one installation
and instant hold the **same** value (the same file imported twice at once), the later one is
withdrawn: a ``void`` row superseding it, entered by ``migration 0009``, with an audit entry.
Where they hold **different** values the upgrade stops and lists them: withdraw the wrong ones
in the reading form (correction → withdraw), then upgrade again (docs/operations.md).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010_reading_integrity"
down_revision: str | None = "0009_calendar_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "migration 0009"
_NOT_NULL = sa.text("supersedes_id IS NOT NULL")

reading = sa.table(
    "energy_reading",
    sa.column("id", sa.Integer()),
    sa.column("point_id", sa.Integer()),
    sa.column("meter_id", sa.Integer()),
    sa.column("read_at", sa.DateTime()),
    sa.column("reading", sa.Numeric(18, 3)),
    sa.column("source", sa.String()),
    sa.column("flag", sa.String()),
    sa.column("supersedes_id", sa.Integer()),
    sa.column("void", sa.Boolean()),
    sa.column("entered_by", sa.String()),
    sa.column("entered_at", sa.DateTime()),
)
point = sa.table("energy_point", sa.column("id", sa.Integer()), sa.column("code", sa.String()))
audit_log = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("entity_key", sa.String()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
)

_SQLITE_TRIGGER = """
CREATE TRIGGER trg_energy_reading_same_instant
BEFORE INSERT ON energy_reading
WHEN NEW.supersedes_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM energy_reading AS o
    WHERE o.id = NEW.supersedes_id AND o.meter_id = NEW.meter_id AND o.read_at = NEW.read_at)
BEGIN
    SELECT RAISE(ABORT, 'energy_reading: a row supersedes only a reading of the same meter and instant');
END
"""
_PG_FUNCTION = """
CREATE FUNCTION energy_reading_same_instant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM energy_reading AS o
        WHERE o.id = NEW.supersedes_id AND o.meter_id = NEW.meter_id
          AND o.read_at = NEW.read_at) THEN
        RAISE EXCEPTION 'energy_reading: a row supersedes only a reading of the same meter and instant'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER trg_energy_reading_same_instant
BEFORE INSERT ON energy_reading
FOR EACH ROW WHEN (NEW.supersedes_id IS NOT NULL)
EXECUTE FUNCTION energy_reading_same_instant()
"""


def _problem_rows(bind: sa.Connection) -> dict[tuple[int, Any], list[Any]]:
    """Every row of the instants to repair, by (meter_id, read_at)."""
    r, c = reading.alias("r"), reading.alias("c")
    several_first = (
        sa.select(reading.c.meter_id, reading.c.read_at)
        .group_by(reading.c.meter_id, reading.c.read_at)
        .having(sa.func.sum(sa.case((reading.c.supersedes_id.is_(None), 1), else_=0)) > 1)
    )
    twice_superseded = (
        sa.select(r.c.meter_id, r.c.read_at)
        .join(c, c.c.supersedes_id == r.c.id)
        .group_by(r.c.id, r.c.meter_id, r.c.read_at)
        .having(sa.func.count() > 1)
    )
    groups = sa.union(several_first, twice_superseded).subquery("g")
    rows = bind.execute(
        sa.select(reading)
        .join(
            groups,
            sa.and_(groups.c.meter_id == reading.c.meter_id, groups.c.read_at == reading.c.read_at),
        )
        .order_by(reading.c.meter_id, reading.c.read_at, reading.c.id)
    )
    by_instant: dict[tuple[int, Any], list[Any]] = defaultdict(list)
    for row in rows:
        by_instant[(row.meter_id, row.read_at)].append(row)
    return by_instant


def _effective(rows: list[Any]) -> list[Any]:
    superseded = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    return [row for row in rows if not row.void and row.id not in superseded]


def _withdraw_exact_duplicates(bind: sa.Connection) -> None:
    """Withdraw the later of equal effective readings; stop on different ones."""
    conflicts: list[str] = []
    withdrawn: list[Any] = []
    for rows in _problem_rows(bind).values():
        effective = _effective(rows)
        if len(effective) < 2:
            continue
        if len({row.reading for row in effective}) > 1:
            conflicts.append(
                f"point id {effective[0].point_id}, meter id {effective[0].meter_id}, "
                f"{effective[0].read_at} UTC: readings "
                + ", ".join(f"{row.reading} (id {row.id})" for row in effective)
            )
            continue
        withdrawn.extend(effective[1:])
    if conflicts:
        shown = "\n  ".join(conflicts[:50])
        more = f"\n  … and {len(conflicts) - 50} more" if len(conflicts) > 50 else ""
        raise RuntimeError(
            f"{len(conflicts)} instant(s) hold two effective readings of one meter with different"
            f" values (two imports that both landed):\n  {shown}{more}\nWithdraw the wrong"
            " reading of each in the reading form (correction, withdraw) and upgrade again."
        )
    if not withdrawn:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    codes = dict(
        bind.execute(
            sa.select(point.c.id, point.c.code).where(
                point.c.id.in_({row.point_id for row in withdrawn})
            )
        ).all()
    )
    bind.execute(
        reading.insert(),
        [
            {
                "point_id": row.point_id,
                "meter_id": row.meter_id,
                "read_at": row.read_at,
                "reading": row.reading,
                "source": row.source,
                "flag": None,
                "supersedes_id": row.id,
                "void": True,
                "entered_by": ACTOR,
                "entered_at": now,
            }
            for row in withdrawn
        ],
    )
    bind.execute(
        audit_log.insert(),
        [
            {
                "at": now,
                "actor": ACTOR,
                "action": "void",
                "entity": "energy_reading",
                "entity_key": f"{codes.get(row.point_id, row.point_id)}@"
                f"{row.read_at.replace(tzinfo=UTC).isoformat()}",
                "before": {"id": row.id, "reading": str(row.reading), "flag": row.flag},
                "after": {"void": True, "reason": "the same reading stored twice"},
            }
            for row in withdrawn
        ],
    )


def _rechain(bind: sa.Connection) -> None:
    """Each instant's rows as one chain: the rows not effective by id, the effective one last."""
    changes: list[dict[str, Any]] = []
    for rows in _problem_rows(bind).values():
        effective = _effective(rows)
        assert len(effective) <= 1, rows
        chain = [row for row in rows if row not in effective] + effective
        previous: int | None = None
        for row in chain:
            if row.supersedes_id != previous:
                changes.append({"row_id": row.id, "new_supersedes": previous})
            previous = row.id
    if changes:
        bind.execute(
            reading.update()
            .where(reading.c.id == sa.bindparam("row_id"))
            .values(supersedes_id=sa.bindparam("new_supersedes")),
            changes,
        )


def upgrade() -> None:
    bind = op.get_bind()
    _withdraw_exact_duplicates(bind)
    _rechain(bind)
    op.drop_index("ix_energy_reading_meter_id_read_at", table_name="energy_reading")
    op.create_index(
        "uq_energy_reading_meter_instant",
        "energy_reading",
        ["meter_id", "read_at", sa.text("coalesce(supersedes_id, 0)")],
        unique=True,
    )
    op.drop_index("ix_energy_reading_supersedes_id", table_name="energy_reading")
    op.create_index(
        "uq_energy_reading_supersedes_id",
        "energy_reading",
        ["supersedes_id"],
        unique=True,
        sqlite_where=_NOT_NULL,
        postgresql_where=_NOT_NULL,
    )
    op.create_index(
        "ix_energy_reading_void",
        "energy_reading",
        ["meter_id", "read_at"],
        sqlite_where=sa.text("void = 1"),
        postgresql_where=sa.text("void"),
    )
    if bind.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS trg_energy_reading_same_instant"
        + (" ON energy_reading" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS energy_reading_same_instant()")
    op.drop_index("ix_energy_reading_void", table_name="energy_reading")
    op.drop_index("uq_energy_reading_supersedes_id", table_name="energy_reading")
    op.create_index(
        "ix_energy_reading_supersedes_id",
        "energy_reading",
        ["supersedes_id"],
        sqlite_where=_NOT_NULL,
        postgresql_where=_NOT_NULL,
    )
    op.drop_index("uq_energy_reading_meter_instant", table_name="energy_reading")
    op.create_index("ix_energy_reading_meter_id_read_at", "energy_reading", ["meter_id", "read_at"])
