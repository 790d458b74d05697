"""Set-based periodic order generation (P4): every order gets exactly what the engine gives one
order — its ``issue`` event, its completion clock with the deadline of ``operational.sla``, its
checklist — and no run, however interleaved, writes a second order for a plan and day."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational import sla
from operational.auth import system_principal
from operational.db import create_db_engine
from operational.errors import PermissionDenied
from operational.imports.org import ensure_group
from operational.models import (
    ChecklistAnswer,
    ChecklistItem,
    ClockPolicy,
    Frequency,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    WorkflowClock,
    WorkflowEvent,
)
from operational.services import plans
from operational.services.calendars import calendar_for_office
from operational.workflow import engine
from tests.conftest import fresh_database_url
from tests.db_support import migrated

CLI = system_principal("cli")

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _events(s: Session, order: PeriodicOrder) -> list[WorkflowEvent]:
    return engine.history(s, order)


def _clocks(s: Session, order: PeriodicOrder) -> list[WorkflowClock]:
    return list(
        s.scalars(
            select(WorkflowClock).where(
                WorkflowClock.document_type == "periodic_order",
                WorkflowClock.document_id == order.id,
            )
        )
    )


def _answers(s: Session, order: PeriodicOrder) -> list[tuple[str, int, str]]:
    rows = s.execute(
        select(ChecklistAnswer.object_id, ChecklistAnswer.position, ChecklistAnswer.text)
        .where(ChecklistAnswer.order_id == order.id)
        .order_by(ChecklistAnswer.id)
    )
    return [(str(o), p, t) for o, p, t in rows]


def _check_order(s: Session, order: PeriodicOrder, at: datetime) -> None:
    """What ``engine.create`` + the checklist give one order, checked from the stored rows."""
    office = s.get_one(Office, order.office_id)
    plan = s.get_one(PeriodicPlan, order.plan_id)
    starts = datetime.combine(order.scheduled_for, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    assert (order.state, order.version, order.work_starts_at) == ("issued", 1, starts)
    assert order.document_no == f"PM-{office.code}-{order.id:06d}"
    assert (order.discipline, order.responsible_id, order.handler_id) == (
        plan.discipline,
        plan.responsible_id,
        None,
    )
    (event,) = _events(s, order)
    assert (event.transition, event.from_state, event.to_state, event.actor, event.at) == (
        "issue",
        None,
        "issued",
        "system",
        at,
    )
    assert (event.document_no, event.office_id) == (order.document_no, order.office_id)
    assert event.payload == {
        "plan": plan.document_no,
        "scheduled_for": order.scheduled_for.isoformat(),
    }
    (clock,) = _clocks(s, order)
    target = engine.target_for(s, office.id, "periodic_order", "completion", order.discipline)
    started = max(at, starts)
    calendar = engine.office_calendar(office, target)
    assert (clock.clock, clock.started_at, clock.stopped_at, clock.started_event_id) == (
        "completion",
        started,
        None,
        event.id,
    )
    assert (clock.target_amount, clock.target_unit, clock.calendar) == (
        target.amount,
        target.unit.value,
        target.calendar_kind,
    )
    assert clock.due_at == sla.due_at(started, target, calendar)
    assert clock.document_no == order.document_no


def _expected_answers(s: Session, plan: PeriodicPlan) -> list[tuple[str, int, str]]:
    """Per object of the plan (by code), its type's work-standard items (by position)."""
    out = []
    for obj in plans.plan_objects(s, plan):
        for item in s.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.type_id == obj.type_id)
            .order_by(ChecklistItem.position)
        ):
            out.append((str(obj.id), item.position, item.text))
    return out


def test_every_batched_order_has_its_event_clock_and_checklist(session: Session) -> None:
    world = build_world(session)
    s = world.session
    elevators = world.plan(frequency=Frequency.DAILY, start=date(2026, 3, 1))
    lobby = plans.draft_plan(
        s,
        world["clean"],
        office_code="OF1",
        name="Lobby",
        discipline="cleaning",  # type: ignore[arg-type]
        responsible="clean",
        frequency=Frequency.WEEKLY,
        start_date=date(2026, 3, 3),
        object_codes=["LB-1", "EL-1"],  # a plan may mix object types: each its own items
        at=T0,
    )
    plans.submit_plan(s, world["clean"], lobby, lobby.version, at=T0)
    plans.approve_plan(s, world["mgr"], lobby, lobby.version, at=T0)
    at = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # after some scheduled days have begun
    issued = plans.generate_orders(s, None, date(2026, 3, 31), at=at)

    # Approved 2 March (Shanghai): daily from the 2nd, weekly on Tuesdays from the 3rd.
    assert [(o.plan_id, o.scheduled_for.day) for o in issued] == [
        *((elevators.id, d) for d in range(2, 32)),
        *((lobby.id, d) for d in (3, 10, 17, 24, 31)),
    ]
    for order in issued:
        _check_order(s, order, at)
        plan = elevators if order.plan_id == elevators.id else lobby
        assert _answers(s, order) == _expected_answers(s, plan)
    assert len(_answers(s, issued[0])) == 6 and len(_answers(s, issued[-1])) == 4
    # The to-do list shows them like any other order, oldest deadline first.
    todo = [i.document_no for i in engine.waiting_for(s, world["eng"])]
    assert todo == [o.document_no for o in issued if o.plan_id == elevators.id]


def test_deadlines_follow_the_offices_own_periodic_target_and_calendar(session: Session) -> None:
    """An office that runs periodic clocks on business minutes of its working calendar: the
    batched deadlines are those of ``sla.due_at`` on that calendar (weekends and holidays)."""
    world = build_world(session)
    s = world.session
    office = s.scalars(select(Office).where(Office.code == "OF1")).one()
    s.add(
        ClockPolicy(
            office_id=office.id,
            document_type="periodic_order",
            clock="completion",
            discipline="engineering",
            amount=8 * 60,
            unit="business_minutes",
            calendar_kind="office",
        )
    )
    s.flush()
    plan = world.plan(frequency=Frequency.DAILY, start=date(2026, 4, 1))
    at = datetime(2026, 3, 20, tzinfo=UTC)
    issued = plans.generate_orders(s, plan, date(2026, 4, 10), at=at)
    assert len(issued) == 10
    calendar = calendar_for_office(s, office)
    target = sla.ClockTarget(480, sla.ClockUnit.BUSINESS_MINUTES, "office")
    due = {o.scheduled_for: _clocks(s, o)[0].due_at for o in issued}
    for order in issued:
        _check_order(s, order, at)
        assert due[order.scheduled_for] == sla.due_at(order.work_starts_at, target, calendar)
    # 4–6 April 2026 are the Qingming holiday: an order of the 3rd (Friday) is due on the 7th.
    assert due[date(2026, 4, 3)].astimezone(SHANGHAI).date() == date(2026, 4, 7)
    assert due[date(2026, 4, 4)] == due[date(2026, 4, 5)] == due[date(2026, 4, 6)]


def _totals(s: Session) -> tuple[int, int, int, int]:
    def count(model: Any, *where: Any) -> int:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return (
        count(PeriodicOrder),
        count(WorkflowEvent, WorkflowEvent.document_type == "periodic_order"),
        count(WorkflowClock, WorkflowClock.document_type == "periodic_order"),
        count(ChecklistAnswer),
    )


def test_a_day_another_run_wrote_first_is_skipped_whole(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs that both read "missing" before either writes: the second writes nothing for
    the days the first took (no order, event, clock or checklist row), and the rest normally."""
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.DAILY, start=date(2026, 3, 10))
    stale = plans._missing_days(s, [plan], date(2026, 3, 15))  # read before the other run
    first = plans.generate_orders(s, plan, date(2026, 3, 12), at=T0)  # the other run: 10–12
    assert [o.scheduled_for.day for o in first] == [10, 11, 12]
    before = _totals(s)
    monkeypatch.setattr(plans, "_missing_days", lambda *_: stale)
    second = plans.generate_orders(s, plan, date(2026, 3, 15), at=T0)
    assert [o.scheduled_for.day for o in second] == [13, 14, 15]
    assert _totals(s) == (before[0] + 3, before[1] + 3, before[2] + 3, before[3] + 3 * 2 * 3)
    days = Counter(s.scalars(select(PeriodicOrder.scheduled_for)))
    assert set(days.values()) == {1}
    for order in second:
        _check_order(s, order, T0)


def test_create_many_skips_a_taken_key_and_numbers_the_rest(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.DAILY, start=date(2026, 3, 10))
    (taken,) = plans.generate_orders(s, plan, date(2026, 3, 10), at=T0)

    def doc(day: date) -> engine.NewDocument:
        starts = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
        return engine.NewDocument(
            {
                "office_id": plan.office_id,
                "plan_id": plan.id,
                "scheduled_for": day,
                "work_starts_at": starts,
                "discipline": "engineering",
                "responsible_id": plan.responsible_id,
            },
            {"plan": plan.document_no, "scheduled_for": day},
        )

    ids = engine.create_many(
        s,
        system_principal(),
        PeriodicOrder,
        "issue",
        [doc(date(2026, 3, 10)), doc(date(2026, 3, 11))],
        at=T0,
        unique_key=("plan_id", "scheduled_for"),
    )
    assert ids[0] is None and ids[1] is not None and ids[1] > taken.id
    assert len(_events(s, taken)) == 1 and len(_clocks(s, taken)) == 1
    new = s.get_one(PeriodicOrder, ids[1])
    _check_order(s, new, T0)
    # Nobody issues a periodic order by hand, in bulk either.
    with pytest.raises(PermissionDenied):
        engine.create_many(s, world["mgr"], PeriodicOrder, "issue", [doc(date(2026, 3, 12))])


def test_a_gap_in_a_plans_orders_is_filled_and_nothing_else(session: Session) -> None:
    """Orders a plan should have but lacks (written some other way) are issued; the run reads
    that plan's dates rather than trusting its latest one."""
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.DAILY, start=date(2026, 3, 10))
    issued = plans.generate_orders(s, plan, date(2026, 3, 20), at=T0)
    gone = next(o for o in issued if o.scheduled_for == date(2026, 3, 14))
    s.execute(delete(ChecklistAnswer).where(ChecklistAnswer.order_id == gone.id))
    s.execute(delete(PeriodicOrder).where(PeriodicOrder.id == gone.id))
    again = plans.generate_orders(s, plan, date(2026, 3, 22), at=T0)
    assert [o.scheduled_for.day for o in again] == [14, 21, 22]
    assert sorted(s.scalars(select(PeriodicOrder.scheduled_for))) == [
        date(2026, 3, d) for d in range(10, 23)
    ]


def test_a_shorter_horizon_after_a_longer_one_issues_nothing(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.WEEKLY, every=2, start=date(2026, 3, 3))
    assert len(plans.generate_orders(s, None, date(2026, 6, 30), at=T0)) == 9
    before = _totals(s)
    assert plans.generate_orders(s, None, date(2026, 4, 15), at=T0) == []
    assert plans.generate_orders(s, plan, date(2026, 6, 30), at=T0) == []
    assert _totals(s) == before


def _naive_occurrences(
    start: date, frequency: Frequency, every: int, first: date, last: date
) -> list[date]:
    out, k = [], 0
    while True:
        if frequency is Frequency.DAILY:
            day = start + timedelta(days=k * every)
        elif frequency is Frequency.WEEKLY:
            day = start + timedelta(weeks=k * every)
        else:
            months = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}
            day = plans._add_months(start, k * every * months[frequency])
        if day > last:
            return out
        if day >= first:
            out.append(day)
        k += 1


@pytest.mark.parametrize("frequency", list(Frequency))
@pytest.mark.parametrize("every", [1, 2, 3])
def test_occurrences_from_any_window_are_those_counted_from_the_start(
    frequency: Frequency, every: int
) -> None:
    start = date(2024, 1, 31)
    for first in (date(2023, 12, 1), start, date(2024, 2, 29), date(2025, 3, 30), date(2026, 1, 1)):
        for last in (
            first - timedelta(days=1),
            first,
            first + timedelta(days=45),
            date(2027, 1, 1),
        ):
            expected = _naive_occurrences(start, frequency, every, first, last)
            assert list(plans.occurrences(start, frequency, every, first, last)) == expected
            assert plans.count_occurrences(start, frequency, every, first, last) == len(expected)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_runs_at_once_never_duplicate(backend: str, tmp_path: Path) -> None:
    """Two schedulers started together on a real database (committed transactions): the one
    that writes second waits for the first and skips its days (PostgreSQL), or is refused
    (SQLite serialises writers) — never a second order, event, clock or checklist."""
    for url in fresh_database_url(backend, tmp_path):
        _race(url, backend)


def _race(url: str, backend: str) -> None:
    migrated(url)
    db = create_db_engine(url)
    try:
        with Session(db) as s, s.begin():
            ensure_group(s, "YY", "一应物业集团")
        with Session(db) as s, s.begin():
            world: World = build_world(s)
            world.plan(frequency=Frequency.DAILY, start=date(2026, 3, 10))
        results: dict[str, Any] = {}
        first = Session(db)
        first.begin()
        results["first"] = len(plans.generate_orders(first, None, date(2026, 4, 30), at=T0))

        def second() -> None:
            try:
                with Session(db) as s, s.begin():
                    results["second"] = len(
                        plans.generate_orders(s, None, date(2026, 4, 30), at=T0)
                    )
            except Exception as error:  # SQLite: refused, the other run holds the lock
                results["second"] = error

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)  # let it read and reach its insert (it cannot finish before the commit)
        first.commit()
        first.close()
        thread.join()
        with Session(db) as s:
            totals = _totals(s)
        assert results["first"] == 52
        assert results["second"] == 0 or backend == "sqlite", results["second"]
        assert totals == (52, 52, 52, 52 * 6)
    finally:
        db.dispose()
