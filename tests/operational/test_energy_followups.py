"""Following up an energy exception: an office user notes it and marks it done; audited; scoped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Grant, Principal
from operational.errors import DomainError, NotFound
from operational.models import AuditEntry, ExceptionFollowUp, Role, ScopeLevel
from operational.services.energy_followups import (
    ExceptionKey,
    follow_up_exception,
    latest_follow_ups,
)
from tests.operational.test_energy_services import setup_office

START = datetime(2026, 6, 3, 1, 0, tzinfo=UTC)
KEY = ExceptionKey("EC01-E-B1", "held", START)


def person(username: str, role: Role, office: str | None) -> Principal:
    grant = (
        Grant(role, ScopeLevel.GROUP, "", None)
        if office is None
        else Grant(role, ScopeLevel.OFFICE, office, frozenset({office}))
    )
    return Principal(1, username, username, "zh_CN", (grant,))


def test_an_office_user_notes_an_exception_and_marks_it_done(session: Session) -> None:
    setup_office(session)
    engineer = person("engineer", Role.ENGINEERING_SUPERVISOR, "EC01")
    first = follow_up_exception(
        session,
        engineer,
        KEY,
        "  asked the technician to re-read ",
        done=False,
        now=datetime(2026, 6, 3, 9, tzinfo=UTC),
    )
    assert (first.note, first.done, first.followed_up_by) == (
        "asked the technician to re-read",
        False,
        "engineer",
    )
    # the key as the warehouse hands it over: naive UTC
    naive = ExceptionKey("EC01-E-B1", "held", START.replace(tzinfo=None))
    follow_up_exception(
        session,
        engineer,
        naive,
        "meter replaced, reading corrected",
        done=True,
        now=datetime(2026, 6, 4, tzinfo=UTC),
    )
    latest = latest_follow_ups(session, engineer, [KEY])
    assert latest[KEY].done and latest[KEY].note == "meter replaced, reading corrected"
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "energy_exception").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor, e.action, e.entity_key) for e in entries] == [
        ("engineer", "follow_up", f"EC01-E-B1/held@{START.isoformat()}")
    ] * 2
    assert entries[-1].after is not None and entries[-1].after["done"] is True


@pytest.mark.parametrize(
    "who",
    [
        person("other", Role.OFFICE_MANAGER, "EC02"),  # another office
        person("hq", Role.HQ_VIEWER, None),  # sees every office, enters nothing
    ],
    ids=["other_office", "hq_viewer"],
)
def test_someone_who_may_not_enter_readings_there_cannot_follow_up(
    session: Session, who: Principal
) -> None:
    setup_office(session)
    with pytest.raises(NotFound) as excinfo:
        follow_up_exception(session, who, KEY, "not mine", done=True)
    assert "EC01-E-B1" in excinfo.value.message("en")
    assert session.scalars(select(ExceptionFollowUp)).all() == []


def test_a_note_is_required_and_the_rule_must_be_known(session: Session) -> None:
    setup_office(session)
    manager = person("manager", Role.OFFICE_MANAGER, "EC01")
    with pytest.raises(DomainError) as excinfo:
        follow_up_exception(session, manager, KEY, "   ", done=True)
    assert excinfo.value.key == "energy_followup.note_required"
    with pytest.raises(DomainError) as excinfo:
        follow_up_exception(
            session, manager, ExceptionKey("EC01-E-B1", "bogus", START), "x", done=False
        )
    assert excinfo.value.key == "energy_followup.unknown_rule"
    with pytest.raises(DomainError) as excinfo:
        follow_up_exception(session, manager, KEY, "x" * 2001, done=False)
    assert excinfo.value.key == "energy_followup.note_too_long"
    assert session.scalars(select(ExceptionFollowUp)).all() == []


def test_follow_ups_are_read_within_the_readers_offices(session: Session) -> None:
    setup_office(session)
    follow_up_exception(
        session, person("manager", Role.OFFICE_MANAGER, "EC01"), KEY, "checked", done=True
    )
    assert KEY in latest_follow_ups(session, person("hq", Role.HQ_VIEWER, None), [KEY])
    assert latest_follow_ups(session, person("m2", Role.OFFICE_MANAGER, "EC02"), [KEY]) == {}
    other = ExceptionKey("EC01-E-B1", "held", datetime(2026, 6, 5, tzinfo=UTC))
    assert latest_follow_ups(session, person("hq", Role.HQ_VIEWER, None), [other]) == {}
