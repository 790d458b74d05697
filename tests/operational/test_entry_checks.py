"""The entry checks every form path shares (operational/entry.py): a number must fit where it is
stored, an instant must lie between 2000-01-01 and a day from now — with a message naming the
field, in the user's language, and nothing stored. The imports' side is the bad-input corpus
(test_bad_input.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_energy_services import NOW, day, setup_office
from test_workflow_support import build_world

from operational import entry
from operational.auth import system_principal
from operational.db import translated_errors
from operational.errors import DomainError
from operational.models import Discipline, Frequency, Reading
from operational.services import orders, plans
from operational.services.energy import (
    add_meter,
    add_point,
    correct_reading,
    record_reading,
    replace_meter,
    set_building,
)
from operational.services.orders import CorrectiveSpec

CLI = system_principal("cli")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("1e400", "entry.number.too_large"),
        ("1234567890123456", "entry.number.too_large"),
        ("99999.123456", "entry.number.too_many_decimals"),
        ("1234567890123.456", "entry.number.too_precise"),
        ("Infinity", "entry.number.not_finite"),
        ("1e-400", "entry.number.too_many_decimals"),
        ("123456789012345", None),
        ("12345.678", None),
        ("1.000000", None),  # trailing zeros are not digits of the value
        ("1E+3", None),
        ("0", None),
    ],
)
def test_a_reading_must_fit_its_column(text: str, key: str | None) -> None:
    refusal = entry.column_refusal(Decimal(text), Reading.reading.type)
    assert (refusal[0] if refusal else None) == key


def test_a_wall_time_at_the_ends_of_the_calendar_is_refused_not_a_crash() -> None:
    shanghai, west = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Los_Angeles")
    first = entry.to_utc(datetime(1, 1, 1), shanghai)  # before year 1 in UTC: OverflowError
    last = entry.to_utc(datetime(9999, 12, 31, 23, 0), west)
    assert entry.instant_refusal(first, NOW) == (
        "entry.time.too_early",
        {"earliest": "2000-01-01"},
    )
    assert entry.instant_refusal(last, NOW) == ("entry.time.too_late", {})
    assert entry.instant_refusal(NOW + timedelta(hours=23), NOW) is None
    assert entry.instant_refusal(entry.EARLIEST, NOW) is None


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Reading)) or 0


@pytest.mark.parametrize(
    ("at", "value", "key", "field"),
    [
        (day(1), "1e400", "entry.number.too_large", "读数"),
        (day(1), "99100.12345", "entry.number.too_many_decimals", "读数"),
        (datetime(1900, 1, 1, 8, 0), "99100", "entry.time.too_early", "抄表时间"),
        (datetime(1, 1, 1), "99100", "entry.time.too_early", "抄表时间"),
    ],
)
def test_the_reading_form_refuses_what_does_not_fit_naming_the_field(
    session: Session, at: datetime, value: str, key: str, field: str
) -> None:
    setup_office(session, digits=None)
    before = _count(session)
    with pytest.raises(DomainError) as refused:
        record_reading(session, CLI, "EC01-E-B1", at, value, now=NOW)
    assert refused.value.key == key
    assert refused.value.message("zh_CN").startswith(field)
    assert refused.value.message("en").startswith("The reading")
    assert _count(session) == before


def test_corrections_replacements_and_meters_check_their_numbers_and_times(
    session: Session,
) -> None:
    setup_office(session, digits=None)
    stored = record_reading(session, CLI, "EC01-E-B1", day(1), 99100, now=NOW)
    cases = [
        lambda: correct_reading(session, CLI, stored.reading.reading_id, "1e400", now=NOW),
        lambda: replace_meter(session, CLI, "EC01-E-B1", day(2), "1e400", 0, now=NOW),
        lambda: replace_meter(session, CLI, "EC01-E-B1", day(2), 99200, 0, "S", "1.234567"),
        lambda: replace_meter(
            session, CLI, "EC01-E-B1", datetime(1900, 1, 1, tzinfo=UTC), 99200, 0, now=NOW
        ),
        lambda: set_building(session, CLI, "EC01", "1号楼", "1e400"),
    ]
    keys = []
    for case in cases:
        with pytest.raises(DomainError) as refused:
            case()
        keys.append(refused.value.key)
    assert keys == [
        "entry.number.too_large",
        "entry.number.too_large",
        "entry.number.too_many_decimals",
        "entry.time.too_early",
        "entry.number.too_large",
    ]
    add_point(session, CLI, office_code="EC01", code="EC01-W-1", name="水", kind="water")
    with pytest.raises(DomainError) as early:
        add_meter(
            session,
            CLI,
            point_code="EC01-W-1",
            installed_at=datetime(1999, 12, 31, tzinfo=UTC),
            initial_reading=0,
            now=NOW,
        )
    assert early.value.key == "entry.time.too_early"
    assert "The installation time" in early.value.message("en")


def test_documents_refuse_instants_and_dates_out_of_bounds(session: Session) -> None:
    """One rule for every document's instants (the workflow engine), and plans' dates."""
    world = build_world(session)
    s = world.session
    with pytest.raises(DomainError) as old_order:
        orders.raise_corrective(
            s,
            world["guard"],
            office_code="OF1",
            spec=CorrectiveSpec("clean", "Litter", discipline=Discipline.CLEANING),
            at=datetime(1900, 1, 1, tzinfo=UTC),
        )
    assert old_order.value.key == "entry.time.too_early"
    with pytest.raises(DomainError) as future_order:
        orders.raise_corrective(
            s,
            world["guard"],
            office_code="OF1",
            spec=CorrectiveSpec("clean", "Litter", discipline=Discipline.CLEANING),
            at=datetime.now(UTC) + timedelta(days=2),
        )
    assert future_order.value.key == "entry.time.too_late"
    with pytest.raises(DomainError) as old_plan:
        plans.draft_plan(
            s,
            world["clean"],
            office_code="OF1",
            name="Lobby",
            discipline=Discipline.CLEANING,
            responsible="clean",
            frequency=Frequency.WEEKLY,
            start_date=date(1900, 3, 10),
            object_codes=["LB-1"],
        )
    assert old_plan.value.key == "entry.time.too_early"
    assert "开始日期" in old_plan.value.message("zh_CN")
    with pytest.raises(DomainError) as huge:
        orders.set_deadline(s, CLI, "OF1", Discipline.CLEANING, 10**12)
    assert huge.value.key == "entry.number.integer_range"


def test_a_busy_or_duplicate_refusal_from_the_driver_itself_becomes_a_message() -> None:
    """Bulk writers use the driver directly (COPY, executemany): its own errors are translated
    as SQLAlchemy's are."""
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    with pytest.raises(DomainError) as translated, translated_errors():
        raise busy
    assert translated.value.key == "integrity.busy"
    other = sqlite3.OperationalError("no such table: x")
    with pytest.raises(sqlite3.OperationalError), translated_errors():
        raise other
