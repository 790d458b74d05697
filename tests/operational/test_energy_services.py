"""Reading entry, corrections and meter replacement as a meter reader and a supervisor see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import (
    Grant,
    Permission,
    Principal,
    system_principal,
)
from operational.errors import DomainError, PermissionDenied
from operational.imports.org import import_org_rows
from operational.models import AuditEntry, Group, Reading, Role, ScopeLevel
from operational.services.energy import (
    HighReadingConfirmationNeeded,
    RolloverConfirmationNeeded,
    add_meter,
    add_point,
    correct_reading,
    list_points,
    point_status,
    record_reading,
    replace_meter,
)

CLI = system_principal("cli")

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def setup_office(session: Session, digits: int | None = 5) -> None:
    group = session.scalars(select(Group)).one()
    import_org_rows(
        session,
        [
            (
                2,
                {
                    "city_code": "EC",
                    "city_name": "测试城市",
                    "office_code": "EC01",
                    "office_name": "测试管理处",
                    "timezone": "Asia/Shanghai",
                },
            ),
            (
                3,
                {
                    "city_code": "EC",
                    "city_name": "测试城市",
                    "office_code": "EC02",
                    "office_name": "另一管理处",
                    "timezone": "Asia/Shanghai",
                },
            ),
        ],
        group=group,
        actor=system_principal("test"),
    )
    add_point(
        session,
        CLI,
        office_code="EC01",
        code="EC01-E-MAIN",
        name="总表",
        kind="electricity",
        building=None,
    )
    add_point(
        session,
        CLI,
        office_code="EC01",
        code="EC01-E-B1",
        name="1号楼",
        kind="electricity",
        parent_code="EC01-E-MAIN",
        building="1号楼",
    )
    add_meter(
        session,
        CLI,
        point_code="EC01-E-B1",
        installed_at=T0,
        initial_reading="99000",
        digits=digits,
        multiplier="1",
        serial="S-1",
        now=NOW,
    )


def principal(role: Role, office: str = "EC01") -> Principal:
    return Principal(
        1,
        "reader",
        "抄表员",
        "zh_CN",
        (Grant(role, ScopeLevel.OFFICE, office, frozenset({office})),),
    )


def history(session: Session, days: int = 5, per_day: int = 100) -> None:
    for n in range(1, days + 1):
        record_reading(session, CLI, "EC01-E-B1", day(n), 99000 + per_day * n, now=NOW)


def error_of(excinfo: pytest.ExceptionInfo[DomainError]) -> tuple[str, str, str]:
    e = excinfo.value
    return e.key, e.message("en"), e.message("zh_CN")


def test_reading_is_stored_on_the_installed_meter(session: Session) -> None:
    setup_office(session)
    result = record_reading(
        session, principal(Role.TECHNICIAN), "EC01-E-B1", day(1), "99100.5", now=NOW
    )
    assert result.delta == Decimal("100.5")
    status = point_status(session, CLI, "EC01-E-B1")
    assert status.last_reading == Decimal("99100.5")
    assert status.meter is not None and status.meter.serial == "S-1"
    assert status.typical_daily_use == Decimal("100.5")
    assert status.recent[0].entered_by == "reader"


def test_naive_time_is_office_local(session: Session) -> None:
    setup_office(session)
    result = record_reading(session, CLI, "EC01-E-B1", datetime(2026, 6, 2, 9, 0), 99100, now=NOW)
    assert result.reading.read_at == day(1)


def test_checks_give_clear_messages(session: Session) -> None:
    setup_office(session)
    history(session, 3)
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", NOW + timedelta(days=1), 99400, now=NOW)
    assert exc.value.key == "energy.reading.future"
    assert "future" in exc.value.message("en") and "晚于当前时间" in exc.value.message("zh_CN")
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", T0 - timedelta(days=1), 98000, now=NOW)
    assert exc.value.key == "energy.reading.before_installation"
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(2), 99200, now=NOW)
    assert exc.value.key == "energy.reading.duplicate_time"
    assert "99200" in exc.value.message("en")
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(4), 100000, now=NOW)
    assert exc.value.key == "energy.reading.exceeds_register"
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(4), 50000, now=NOW)
    assert exc.value.key == "energy.reading.rollover_implausible"
    assert "99300" in exc.value.message("zh_CN")
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "NOPE", day(4), 5, now=NOW)
    assert exc.value.key == "energy.unknown_point"
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(4), "abc", now=NOW)
    assert exc.value.key == "energy.reading.bad_number"


def test_lower_reading_without_digits_is_refused(session: Session) -> None:
    setup_office(session, digits=None)
    history(session, 2)
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(3), 99150, now=NOW)
    key, en, zh = error_of(exc)
    assert key == "energy.reading.lower_than_previous"
    assert "lower than the previous reading 99200" in en
    assert "低于上次读数 99200" in zh


def test_rollover_needs_confirmation_then_is_flagged(session: Session) -> None:
    setup_office(session)
    history(session, 9)  # 99900 at day 9
    with pytest.raises(RolloverConfirmationNeeded) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(10), 5, now=NOW)
    assert exc.value.confirmation == "rollover"
    assert "the use would be 105 kWh." in exc.value.message("en")
    assert "用量为 105 kWh" in exc.value.message("zh_CN")
    result = record_reading(session, CLI, "EC01-E-B1", day(10), 5, confirm_rollover=True, now=NOW)
    assert result.reading.flag == "rollover" and result.delta == Decimal(105)


def test_high_reading_needs_confirmation_then_is_flagged(session: Session) -> None:
    setup_office(session)
    history(session, 3)  # 99300
    with pytest.raises(HighReadingConfirmationNeeded) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(4), 99700, now=NOW)
    assert exc.value.confirmation == "high"
    assert "400" in exc.value.message("en") and "100" in exc.value.message("zh_CN")
    assert "would be 400 kWh" in exc.value.message("en")  # quantities carry their unit
    assert "每天约 100 kWh" in exc.value.message("zh_CN")
    result = record_reading(session, CLI, "EC01-E-B1", day(4), 99700, confirm_high=True, now=NOW)
    assert result.reading.flag == "high"


def test_backfilled_reading_must_fit_between_neighbours(session: Session) -> None:
    setup_office(session)
    record_reading(session, CLI, "EC01-E-B1", day(1), 99100, now=NOW)
    record_reading(session, CLI, "EC01-E-B1", day(3), 99300, now=NOW)
    record_reading(session, CLI, "EC01-E-B1", day(2), 99200, now=NOW)
    with pytest.raises(DomainError) as exc:
        record_reading(session, CLI, "EC01-E-B1", day(2) + timedelta(hours=1), 99350, now=NOW)
    assert exc.value.key == "energy.reading.higher_than_next"


def test_scope_is_checked(session: Session) -> None:
    setup_office(session)
    with pytest.raises(PermissionDenied):
        record_reading(
            session, principal(Role.TECHNICIAN, "EC02"), "EC01-E-B1", day(1), 99100, now=NOW
        )
    with pytest.raises(PermissionDenied):
        record_reading(session, principal(Role.HQ_VIEWER), "EC01-E-B1", day(1), 99100, now=NOW)
    with pytest.raises(PermissionDenied):
        replace_meter(session, principal(Role.TECHNICIAN), "EC01-E-B1", day(1), 99100, 0)


def test_correction_supersedes_and_audit_shows_both(session: Session) -> None:
    setup_office(session)
    history(session, 3)
    wrong = point_status(session, CLI, "EC01-E-B1").recent[0]
    new = correct_reading(
        session, principal(Role.ENGINEERING_SUPERVISOR), wrong.reading_id, "99310", now=NOW
    )
    rows = session.scalars(
        select(Reading).where(Reading.read_at == day(3)).order_by(Reading.id)
    ).all()
    assert [(r.reading, r.supersedes_id) for r in rows] == [
        (Decimal(99300), None),
        (Decimal(99310), wrong.reading_id),
    ]
    assert point_status(session, CLI, "EC01-E-B1").last_reading == Decimal(99310)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "correct")).one()
    assert entry.before is not None and Decimal(entry.before["reading"]) == 99300
    assert entry.after is not None and Decimal(entry.after["reading"]) == 99310
    assert entry.actor == "reader"
    with pytest.raises(DomainError) as exc:
        correct_reading(session, CLI, wrong.reading_id, "99320", now=NOW)
    assert exc.value.key == "energy.reading.not_current"
    correct_reading(session, CLI, new.reading_id, None, now=NOW)
    status = point_status(session, CLI, "EC01-E-B1")
    assert status.last_reading == Decimal(99200)
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "void")).one()


def test_replacement_in_one_step(session: Session) -> None:
    setup_office(session)
    history(session, 3)
    new = replace_meter(
        session,
        CLI,
        "EC01-E-B1",
        day(3) + timedelta(hours=5),
        "99350",
        "0",
        new_serial="S-2",
        now=NOW,
    )
    assert (new.serial, new.multiplier, new.digits) == ("S-2", Decimal(1), 5)
    result = record_reading(session, CLI, "EC01-E-B1", day(4), 60, now=NOW)
    assert result.delta == Decimal(60)
    status = point_status(session, CLI, "EC01-E-B1")
    assert status.meter is not None and status.meter.serial == "S-2"
    # an old reading before the swap still goes to the old meter
    late = record_reading(session, CLI, "EC01-E-B1", day(3) + timedelta(hours=2), 99320, now=NOW)
    assert late.reading.meter_id != new.meter_id
    with pytest.raises(DomainError) as exc:
        replace_meter(session, CLI, "EC01-E-B1", day(3), 70, 0, now=NOW)
    assert exc.value.key == "energy.replace.not_after_last"
    with pytest.raises(DomainError) as exc:
        replace_meter(session, CLI, "EC01-E-B1", day(5), 30, 0, now=NOW)
    assert exc.value.key == "energy.replace.final_lower"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "replace")).one()
    assert entry.after is not None and Decimal(entry.after["final_reading"]) == 99350


def test_points_and_parents(session: Session) -> None:
    setup_office(session)
    with pytest.raises(DomainError) as exc:
        add_point(
            session,
            CLI,
            office_code="EC01",
            code="EC01-W-1",
            name="水",
            kind="water",
            parent_code="EC01-E-MAIN",
        )
    assert exc.value.key == "energy.parent_other_kind"
    with pytest.raises(DomainError) as exc:
        add_point(
            session,
            CLI,
            office_code="EC02",
            code="EC02-E-1",
            name="电",
            kind="electricity",
            parent_code="EC01-E-MAIN",
        )
    assert exc.value.key == "energy.parent_other_office"
    with pytest.raises(DomainError) as exc:
        add_meter(session, CLI, point_code="EC01-E-B1", installed_at=T0, initial_reading=0, now=NOW)
    assert exc.value.key == "energy.meter.already_open"
    points = list_points(session, CLI, Permission.ENTER_READINGS, ["EC01"])
    assert [(p.code, p.parent_code, p.building, p.has_meter) for p in points] == [
        ("EC01-E-B1", "EC01-E-MAIN", "1号楼", True),
        ("EC01-E-MAIN", None, None, False),
    ]
    assert list_points(session, CLI, Permission.ENTER_READINGS, ["EC02"]) == []
