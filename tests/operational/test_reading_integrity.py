"""At most one effective reading per installation and instant, held by the database itself
(migration 0010_reading_integrity), on SQLite and PostgreSQL: whatever path writes, and across
the upgrade of a database that already holds duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operational import audit
from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work, upgrade
from operational.errors import DomainError
from operational.imports.energy import import_readings_file
from operational.imports.org import ensure_group, import_org_rows
from operational.models import AuditEntry, Group, Meter, MeterPoint, Reading, utcnow
from operational.services.energy import (
    add_meter,
    add_point,
    correct_reading,
    effective_readings_query,
    record_reading,
)
from tests.conftest import BACKENDS, fresh_database_url

CLI = system_principal("cli")

NOW = datetime(2026, 7, 1, tzinfo=UTC)
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def _point(session: Session, code: str = "RI-1") -> tuple[int, int]:
    if session.scalar(select(func.count()).select_from(Group)) == 0:
        ensure_group(session, "YY", "一应物业集团")
    import_org_rows(
        session,
        [
            (
                2,
                {
                    "city_code": "RI",
                    "city_name": "完整城",
                    "office_code": "RI01",
                    "office_name": "完整管理处",
                    "timezone": "Asia/Shanghai",
                },
            )
        ],
        group=session.scalars(select(Group)).one(),
        actor=system_principal("test"),
    )
    add_point(session, CLI, office_code="RI01", code=code, name=code, kind="water")
    meter = add_meter(session, CLI, point_code=code, installed_at=T0, initial_reading=0, now=NOW)
    point_id = session.scalars(select(MeterPoint.id).where(MeterPoint.code == code)).one()
    return point_id, meter.meter_id


def _row(point_id: int, meter_id: int, at: datetime, value: int, **extra: object) -> Reading:
    return Reading(
        point_id=point_id,
        meter_id=meter_id,
        read_at=at,
        reading=Decimal(value),
        source="import",
        entered_by="test",
        entered_at=utcnow(),
        **extra,
    )


def _effective(session: Session, point_id: int) -> list[tuple[datetime, Decimal]]:
    return [(r.read_at, r.reading) for r in session.scalars(effective_readings_query([point_id]))]


def _refused(session: Session, row: Reading) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(row)
        session.flush()


def test_the_database_refuses_a_second_effective_reading_whatever_path_writes(
    session: Session,
) -> None:
    point_id, meter_id = _point(session)
    first = _row(point_id, meter_id, day(1), 10)
    session.add(first)
    session.flush()
    # A second first entry of the installation at that instant (the same file imported twice).
    _refused(session, _row(point_id, meter_id, day(1), 10))
    # Two rows superseding one reading (two corrections at once).
    session.add(_row(point_id, meter_id, day(1), 11, supersedes_id=first.id))
    session.flush()
    _refused(session, _row(point_id, meter_id, day(1), 12, supersedes_id=first.id))
    # A "correction" at another instant would add an effective reading there.
    _refused(session, _row(point_id, meter_id, day(2), 13, supersedes_id=first.id))
    assert _effective(session, point_id) == [(day(1), Decimal(11))]


def test_a_reading_withdrawn_and_entered_again_continues_its_chain(
    session: Session, tmp_path: Path
) -> None:
    point_id, _ = _point(session)
    stored = record_reading(session, CLI, "RI-1", day(1), 10, now=NOW)
    withdrawal = correct_reading(session, CLI, stored.reading.reading_id, None, now=NOW)
    again = record_reading(session, CLI, "RI-1", day(1), 12, now=NOW)
    row = session.get_one(Reading, again.reading.reading_id)
    assert row.supersedes_id == withdrawal.reading_id
    assert _effective(session, point_id) == [(day(1), Decimal(12))]
    with pytest.raises(DomainError) as twice:
        record_reading(session, CLI, "RI-1", day(1), 13, now=NOW)
    assert twice.value.key == "energy.reading.duplicate_time"
    # The import too: withdraw it again, then import a reading at that instant.
    second = correct_reading(session, CLI, again.reading.reading_id, None, now=NOW)
    path = tmp_path / "again.csv"
    path.write_text(f"point_code,read_at,reading\nRI-1,{day(1).isoformat()},14\n", encoding="utf-8")
    assert import_readings_file(session, path, actor=system_principal("t"), now=NOW).created == 1
    imported = session.scalars(
        select(Reading).where(Reading.point_id == point_id, Reading.reading == 14)
    ).one()
    assert imported.supersedes_id == second.reading_id
    assert _effective(session, point_id) == [(day(1), Decimal(14))]


# ---------------------------------------------------------------- the upgrade


@pytest.fixture(params=BACKENDS)
def at_0008(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A database at the revision before this rule, with one metering point."""
    for url in fresh_database_url(request.param, tmp_path):
        upgrade(url, "0008_login_sessions")
        engine = create_db_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()


@contextmanager
def _audit_of_0008() -> Iterator[None]:
    """Set-up at revision 0008: its audit log has no office column yet, so the set-up's own
    audit entries (the office and the point it creates) are left out."""
    with patch.object(audit, "record", lambda *args, **kwargs: None):
        yield


def _store(engine: Engine, rows: list[tuple[int, int, dict[str, object]]]) -> list[int]:
    """Rows as the code before this rule could leave them: (day, value, extra columns)."""
    with unit_of_work(engine) as session:
        point_id, meter_id = session.execute(select(Meter.point_id, Meter.id)).one()
        stored = []
        for n, value, extra in rows:
            row = _row(point_id, meter_id, day(n), value, **extra)
            session.add(row)
            session.flush()
            stored.append(row.id)
        return stored


def test_the_upgrade_repairs_duplicates_and_keeps_every_reading_status(
    at_0008: tuple[str, Engine],
) -> None:
    url, engine = at_0008
    with unit_of_work(engine) as session, _audit_of_0008():
        point_id, _ = _point(session)
    a, _b = _store(engine, [(1, 10, {}), (1, 10, {})])  # the same file imported twice at once
    (c,) = _store(engine, [(2, 20, {})])
    (v,) = _store(engine, [(2, 20, {"supersedes_id": c, "void": True})])  # withdrawn …
    (d,) = _store(engine, [(2, 21, {})])  # … and entered again, as before this rule
    (e,) = _store(engine, [(3, 30, {})])
    _store(
        engine, [(3, 31, {"supersedes_id": e}), (3, 31, {"supersedes_id": e})]
    )  # corrected twice
    upgrade(url)
    with unit_of_work(engine) as session:
        assert _effective(session, point_id) == [
            (day(1), Decimal(10)),
            (day(2), Decimal(21)),
            (day(3), Decimal(31)),
        ]
        assert session.get_one(Reading, d).supersedes_id == v
        kept = session.scalars(effective_readings_query([point_id])).first()
        assert kept is not None and kept.id == a  # the first of equal duplicates stays
        withdrawn = session.scalars(
            select(AuditEntry).where(AuditEntry.actor == "migration 0009")
        ).all()
        assert len(withdrawn) == 2 and {w.action for w in withdrawn} == {"void"}
        assert all(w.entity_key.startswith("RI-1@") for w in withdrawn)
    # From now on the database holds the rule (a unit of work says so in the user's words).
    with pytest.raises(DomainError) as refused:
        _store(engine, [(1, 10, {})])
    assert refused.value.key == "integrity.conflict"


def test_the_upgrade_stops_on_different_duplicates_until_one_is_withdrawn(
    at_0008: tuple[str, Engine],
) -> None:
    url, engine = at_0008
    with unit_of_work(engine) as session, _audit_of_0008():
        point_id, _ = _point(session)
    _low, high = _store(engine, [(1, 10, {}), (1, 11, {})])  # two conflicting files both landed
    with pytest.raises(RuntimeError) as stopped:
        upgrade(url)
    assert "different values" in str(stopped.value)
    assert "10.000 (id" in str(stopped.value) or "10 (id" in str(stopped.value)
    # the operator withdraws the wrong one in the form (still before 0012's audit office)
    with unit_of_work(engine) as session, _audit_of_0008():
        correct_reading(session, CLI, high, None, now=NOW)
    upgrade(url)
    with unit_of_work(engine) as session:
        assert _effective(session, point_id) == [(day(1), Decimal(10))]
