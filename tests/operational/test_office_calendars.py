"""Office working calendars: defaults, China's holidays, overrides, validation, permissions, and
office-calendar clocks through the engine (docs/sla-clocks.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.calendars import add_business_minutes, is_working_time
from operational.errors import FormRejected, NotFound, PermissionDenied
from operational.i18n import LANGUAGES
from operational.models import AuditEntry, ClockPolicy, Discipline, WorkflowClock
from operational.services import calendars, orders
from operational.services.calendars import DEFAULT_WEEKLY, office_calendar
from operational.services.orders import CorrectiveSpec
from operational.sla import ClockTarget, ClockUnit
from operational.workflow import engine
from tests.operational.test_workflow_support import World, build_world

SH = timedelta(hours=8)  # Asia/Shanghai is UTC+8, no DST


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Shanghai wall time as a UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - SH


LUNCH_BREAK_HOURS = {d: [(time(9), time(12)), (time(13, 30), time(18))] for d in range(5)}


def test_an_office_without_hours_uses_the_group_default_and_chinas_holidays(
    session: Session,
) -> None:
    build_world(session)
    cal = office_calendar(session, "OF1")
    assert cal.timezone == "Asia/Shanghai"
    assert dict(cal.weekly) == dict(DEFAULT_WEEKLY)
    assert is_working_time(cal, local(2026, 9, 30, 9))  # Wednesday
    assert not is_working_time(cal, local(2026, 9, 30, 12, 30))  # lunch
    assert not is_working_time(cal, local(2026, 10, 1, 10))  # National Day (法定节假日)
    assert is_working_time(cal, local(2026, 10, 10, 10))  # Saturday make-up day (调休)
    assert not is_working_time(cal, local(2026, 10, 11, 10))  # an ordinary Sunday
    assert not is_working_time(cal, local(2025, 1, 1, 10))  # earlier years are known too
    assert is_working_time(cal, local(2027, 1, 1, 10))  # a Friday of a year without data


def test_working_hours_replace_the_default_and_are_audited(session: Session) -> None:
    world = build_world(session)
    hours = {0: [(time(13), time(17)), (time(8), time(12))], 5: [(time(8), time(12))]}
    calendars.set_working_hours(session, world["mgr"], "OF1", hours)
    cal = office_calendar(session, "OF1")
    assert dict(cal.weekly) == {
        1: ((time(8), time(12)), (time(13), time(17))),
        6: ((time(8), time(12)),),
    }
    assert dict(office_calendar(session, "OF2").weekly) == dict(DEFAULT_WEEKLY)
    # 2026-10-10 is China's make-up Saturday, worked like a Monday.
    assert is_working_time(cal, local(2026, 10, 10, 13))
    calendars.set_working_hours(session, world["admin"], "OF1", {})
    assert dict(office_calendar(session, "OF1").weekly) == dict(DEFAULT_WEEKLY)
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "org_calendar_interval")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.actor, e.entity_key) for e in entries] == [("mgr", "OF1"), ("admin", "OF1")]
    assert entries[0].before == {"default": True}
    assert entries[0].after == {"mon": ["08:00–12:00", "13:00–17:00"], "sat": ["08:00–12:00"]}
    assert entries[1].after == {"default": True}


def test_an_interval_may_run_to_midnight(session: Session) -> None:
    world = build_world(session)
    calendars.set_working_hours(
        session, world["mgr"], "OF1", {d: [(time(18), time(0))] for d in range(7)}
    )
    cal = office_calendar(session, "OF1")
    assert add_business_minutes(cal, local(2026, 3, 2, 23), 120) == local(2026, 3, 3, 19)


@pytest.mark.parametrize(
    ("hours", "key"),
    [
        ({7: [(time(9), time(12))]}, "calendars.bad_weekday"),
        ({0: [(time(12), time(9))]}, "calendars.end_not_after_start"),
        ({0: [(time(9), time(9))]}, "calendars.end_not_after_start"),
        ({1: [(time(9), time(12)), (time(11), time(14))]}, "calendars.overlap"),
        ({1: [(time(9), time(0)), (time(20), time(22))]}, "calendars.overlap"),
    ],
)
def test_bad_working_hours_are_refused_with_a_message(
    session: Session, hours: dict[int, list[tuple[time, time]]], key: str
) -> None:
    world = build_world(session)
    with pytest.raises(FormRejected) as caught:
        calendars.set_working_hours(session, world["mgr"], "OF1", hours)
    assert [problem.key for problem in caught.value.problems] == [key]
    for language in LANGUAGES:
        assert all("{" not in line for line in caught.value.messages(language))
    assert dict(office_calendar(session, "OF1").weekly) == dict(DEFAULT_WEEKLY)


def test_touching_intervals_are_allowed(session: Session) -> None:
    world = build_world(session)
    calendars.set_working_hours(
        session, world["mgr"], "OF1", {0: [(time(9), time(12)), (time(12), time(13))]}
    )
    assert office_calendar(session, "OF1").weekly[1] == (
        (time(9), time(12)),
        (time(12), time(13)),
    )


def test_day_overrides_win_over_chinas_list(session: Session) -> None:
    world = build_world(session)
    mgr = world["mgr"]
    calendars.add_day_override(session, mgr, "OF1", date(2026, 10, 1), "workday")  # works NatDay
    calendars.add_day_override(session, mgr, "OF1", date(2026, 10, 10), "holiday")  # skips 调休
    calendars.add_day_override(session, mgr, "OF1", date(2026, 3, 2), "holiday")  # a Monday
    calendars.add_day_override(session, mgr, "OF1", date(2026, 3, 8), "workday", as_weekday=4)
    cal = office_calendar(session, "OF1")
    assert is_working_time(cal, local(2026, 10, 1, 10))
    assert not is_working_time(cal, local(2026, 10, 10, 10))
    assert not is_working_time(cal, local(2026, 3, 2, 10))
    assert is_working_time(cal, local(2026, 3, 8, 10))  # a Sunday worked like a Friday
    assert not is_working_time(office_calendar(session, "OF2"), local(2026, 10, 1, 10))
    # Replacing and removing.
    calendars.add_day_override(session, mgr, "OF1", date(2026, 3, 2), "workday")
    assert is_working_time(office_calendar(session, "OF1"), local(2026, 3, 2, 10))
    calendars.remove_day_override(session, mgr, "OF1", date(2026, 10, 10))
    assert is_working_time(office_calendar(session, "OF1"), local(2026, 10, 10, 10))
    with pytest.raises(NotFound) as caught:
        calendars.remove_day_override(session, mgr, "OF1", date(2026, 10, 10))
    assert caught.value.key == "calendars.no_override"
    keys = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "org_calendar_day")
    ).all()
    assert sorted(keys) == ["create"] * 4 + ["delete", "update"]


def test_bad_day_overrides_are_refused(session: Session) -> None:
    world = build_world(session)
    mgr = world["mgr"]
    with pytest.raises(FormRejected) as caught:
        calendars.add_day_override(session, mgr, "OF1", date(2026, 3, 8), "workday", as_weekday=5)
    assert "sat" in caught.value.messages("en")[0]
    with pytest.raises(FormRejected) as caught:
        calendars.add_day_override(session, mgr, "OF1", date(2026, 3, 8), "holiday", as_weekday=1)
    assert [p.key for p in caught.value.problems] == ["calendars.holiday_has_no_weekday"]
    with pytest.raises(FormRejected) as caught:
        calendars.add_day_override(session, mgr, "OF1", date(2026, 3, 8), "weekend")  # type: ignore[arg-type]
    assert [p.key for p in caught.value.problems] == ["calendars.bad_kind"]
    # Every problem at once: own hours that overlap and end before they start.
    with pytest.raises(FormRejected) as caught:
        calendars.add_day_override(
            session,
            mgr,
            "OF1",
            date(2026, 3, 8),
            "workday",
            hours=[(time(9), time(12)), (time(11), time(10))],
        )
    assert sorted(p.key for p in caught.value.problems) == [
        "calendars.end_not_after_start",
        "calendars.overlap",
    ]
    with pytest.raises(NotFound):
        calendars.add_day_override(session, mgr, "NOPE", date(2026, 3, 8), "holiday")


def test_a_makeup_day_worked_like_a_day_the_office_does_not_work_is_not_worked(
    session: Session,
) -> None:
    world = build_world(session)
    calendars.set_working_hours(session, world["mgr"], "OF1", {5: [(time(9), time(12))]})
    cal = office_calendar(session, "OF1")  # only Saturdays; 2026-10-10 is China's 调休 Saturday
    assert not is_working_time(cal, local(2026, 10, 10, 10))
    assert is_working_time(cal, local(2026, 10, 17, 10))


def test_only_the_office_manager_and_group_admin_edit_calendars(session: Session) -> None:
    world = build_world(session)
    for user in ("mgr2", "eng", "tech"):
        with pytest.raises(PermissionDenied):
            calendars.set_working_hours(session, world[user], "OF1", LUNCH_BREAK_HOURS)
        with pytest.raises(PermissionDenied):
            calendars.add_day_override(session, world[user], "OF1", date(2026, 3, 2), "holiday")
    calendars.set_working_hours(session, world["mgr2"], "OF2", LUNCH_BREAK_HOURS)
    calendars.add_day_override(session, world["admin"], "OF1", date(2026, 3, 2), "holiday")
    with pytest.raises(PermissionDenied):
        calendars.remove_day_override(session, world["mgr2"], "OF1", date(2026, 3, 2))


def _raise_engineering(world: World, at: datetime) -> WorkflowClock:
    order = orders.raise_corrective(
        world.session,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("eng", "Pump leak", discipline=Discipline.ENGINEERING),
        at=at,
    )
    (clock,) = engine.open_clocks(world.session, order)
    return clock


def test_business_minute_corrective_target_runs_in_the_office_calendar(session: Session) -> None:
    world = build_world(session)
    target = ClockTarget(480, ClockUnit.BUSINESS_MINUTES, "office")
    orders.set_target(session, world["mgr"], "OF1", Discipline.ENGINEERING, target)
    policy = session.scalars(select(ClockPolicy)).one()
    assert (policy.amount, policy.unit, policy.calendar_kind) == (
        480,
        "business_minutes",
        "office",
    )
    # Friday 2026-04-03 17:30; Saturday to Monday are Qingming holidays (清明节). 30 minutes on
    # Friday, then Tuesday 09:00–12:00 and 13:30–18:00 make the other 450: due Tuesday 18:00.
    clock = _raise_engineering(world, local(2026, 4, 3, 17, 30))
    assert (clock.target_amount, clock.target_unit, clock.calendar) == (
        480,
        "business_minutes",
        "office",
    )
    assert clock.started_at == local(2026, 4, 3, 17, 30)
    assert clock.due_at == local(2026, 4, 7, 18)
    # The office closes Tuesday too: due Wednesday 18:00. Clocks already started keep theirs.
    calendars.add_day_override(session, world["mgr"], "OF1", date(2026, 4, 7), "holiday")
    later = _raise_engineering(world, local(2026, 4, 3, 17, 30))
    assert later.due_at == local(2026, 4, 8, 18)
    assert session.get_one(WorkflowClock, clock.id).due_at == local(2026, 4, 7, 18)
    # Raised at night before the National Day week: counts from Thursday 10-08 09:00; a working
    # day holds 450 minutes, so the last 30 fall on Friday morning.
    night = _raise_engineering(world, local(2026, 9, 30, 22))
    assert night.due_at == local(2026, 10, 9, 9, 30)
    # Other disciplines keep the 72-hour round-the-clock default.
    cleaning = orders.raise_corrective(
        session,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("clean", "Litter", discipline=Discipline.CLEANING),
        at=local(2026, 4, 3, 17, 30),
    )
    (clean_clock,) = engine.open_clocks(session, cleaning)
    assert clean_clock.calendar == "24x7"
    assert clean_clock.due_at == local(2026, 4, 6, 17, 30)


def test_office_hours_move_business_minute_deadlines(session: Session) -> None:
    world = build_world(session)
    orders.set_target(
        session,
        world["admin"],
        "OF1",
        Discipline.ENGINEERING,
        ClockTarget(120, ClockUnit.BUSINESS_MINUTES, "office"),
    )
    calendars.set_working_hours(
        session,
        world["mgr"],
        "OF1",
        {d: [(time(8), time(11)), (time(14), time(20))] for d in (0, 1)},
    )
    # Monday 10:30: 30 minutes before the break, 90 after it. Tuesday is worked too.
    assert _raise_engineering(world, local(2026, 3, 2, 10, 30)).due_at == local(2026, 3, 2, 15, 30)
    # Tuesday 19:30: 30 minutes, then the next Monday (Wednesday–Sunday not worked).
    assert _raise_engineering(world, local(2026, 3, 3, 19, 30)).due_at == local(2026, 3, 9, 9, 30)


def test_set_target_checks_permission_and_deadline_keeps_hours(session: Session) -> None:
    world = build_world(session)
    target = ClockTarget(480, ClockUnit.BUSINESS_MINUTES, "office")
    with pytest.raises(PermissionDenied):
        orders.set_target(session, world["mgr2"], "OF1", Discipline.ENGINEERING, target)
    orders.set_target(session, world["mgr"], "OF1", Discipline.ENGINEERING, target)
    orders.set_deadline(session, world["mgr"], "OF1", Discipline.ENGINEERING, 24)
    policy = session.scalars(select(ClockPolicy)).one()
    assert (policy.amount, policy.unit, policy.calendar_kind) == (24, "calendar_hours", "24x7")
    after = session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.entity == "workflow_clock_policy")
        .order_by(AuditEntry.id)
    ).all()
    assert after == [
        {"amount": 480, "unit": "business_minutes", "calendar_kind": "office"},
        {"hours": 24},
    ]


def test_the_calendar_reads_carry_the_users_scope(session: Session) -> None:
    """Reads of the calendar page: a manager sees their office only, another office (or the
    group's calendar) is not found, as a missing one; a group admin sees the group and all."""
    world = build_world(session)
    mgr, admin = world["mgr"], world["admin"]
    assert [c.office_code for c in calendars.editable_calendars(session, mgr)] == ["OF1"]
    assert [c.office_code for c in calendars.editable_calendars(session, admin)] == [
        None,
        "OF1",
        "OF2",
    ]
    assert calendars.editable_calendars(session, world["eng"]) == []
    start = local(2026, 4, 3, 17, 58)  # the Friday before Qingming
    pickup = ClockTarget(5, ClockUnit.BUSINESS_MINUTES, "office")
    assert calendars.preview_deadlines(session, mgr, "OF1", start, [pickup]) == [
        local(2026, 4, 7, 9, 3)
    ]
    view = calendars.calendar_view(session, mgr, "OF1")
    assert (view.own_week, dict(view.week)) == (False, dict(DEFAULT_WEEKLY))
    for read in (
        lambda code: calendars.calendar_view(session, mgr, code),
        lambda code: calendars.preview_deadlines(session, mgr, code, start, [pickup]),
        lambda code: orders.corrective_targets(session, mgr, code),
    ):
        for code in ("OF2", "NOPE"):
            with pytest.raises(NotFound):
                read(code)
    with pytest.raises(NotFound):
        calendars.calendar_view(session, mgr, None)
    assert calendars.calendar_view(session, admin, None).office_code is None
    targets = orders.corrective_targets(session, mgr, "OF1")
    assert targets[Discipline.ENGINEERING] == (
        ClockTarget(72, ClockUnit.CALENDAR_HOURS, "24x7"),
        False,
    )
