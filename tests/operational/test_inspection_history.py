"""The inspection history writer's days of operation (``existing_plans``): a day adds the orders
of the plans that already run — their item scores, failures and nonconformities — and never a
plan; a window written twice never gives a plan two orders on one day; ended plans stay quiet.
Pending orders move on as the history would have moved them (``advance_orders``). This is what
``propcloud bench quality`` measures its refresh "after a day" with."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.demo import org_rows
from operational.demo.inspection_history import (
    CUSTOMER_SERVICE,
    DISCIPLINES,
    advance_orders,
    write_inspection_history,
)
from operational.imports.org import import_org_rows
from operational.models import (
    Group,
    InspectionItem,
    InspectionOrder,
    InspectionPlan,
    InspectionScore,
    Nonconformity,
    Office,
    User,
    WorkflowClock,
    WorkflowEvent,
)

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
D = timedelta(days=1)
ITEMS = 4


def _history(session: Session) -> list[Office]:
    """Two offices with 30 days of history up to ``NOW``: running maintenance plans (two weekly
    per discipline and a monthly quality one) and customer-service plans that ended."""
    group = session.scalars(select(Group)).one()
    import_org_rows(session, org_rows(2, 5), group=group, actor=system_principal("test"))
    session.add(User(username="inspector", display_name="巡检员", password_hash="x"))
    session.flush()
    offices = list(session.scalars(select(Office).order_by(Office.code)))
    write_inspection_history(session, offices, 30, NOW, seed=3, plans_per_discipline=2, items=4)
    write_inspection_history(
        session,
        offices,
        30,
        NOW,
        seed=3,
        ended=True,
        disciplines=CUSTOMER_SERVICE,
        quality_plan=False,
        items=ITEMS,
    )
    return offices


def _orders_after(session: Session, last_id: int) -> list[InspectionOrder]:
    return list(
        session.scalars(
            select(InspectionOrder).where(InspectionOrder.id > last_id).order_by(InspectionOrder.id)
        )
    )


def _local_day(office: Office, at: datetime) -> date:
    return at.astimezone(ZoneInfo(office.timezone)).date()


def test_a_day_of_operation_writes_the_orders_of_the_existing_plans(session: Session) -> None:
    offices = _history(session)
    plans = {p.id: p for p in session.scalars(select(InspectionPlan))}
    last_order = session.scalar(select(func.max(InspectionOrder.id))) or 0
    last_nc = session.scalar(select(func.max(Nonconformity.id))) or 0
    items_of = Counter(session.scalars(select(InspectionItem.plan_id)))

    # the day after the history, at every office
    everything = (*DISCIPLINES, *CUSTOMER_SERVICE)
    written = write_inspection_history(
        session, offices, 1, NOW + D, seed=3, disciplines=everything, existing_plans=True
    )
    assert written["plans"] == 0
    assert session.scalar(select(func.count()).select_from(InspectionPlan)) == len(plans)
    day = _orders_after(session, last_order)
    assert len(day) == written["orders"] > 0
    office_of = {o.id: o for o in offices}
    for order in day:
        plan = plans[order.plan_id]
        # only on the running plans, on the new day, of the plan's office, kind and discipline
        assert plan.end_date is None and plan.discipline in DISCIPLINES
        assert order.scheduled_for == _local_day(office_of[order.office_id], NOW + D)
        assert (order.office_id, order.kind, order.discipline) == (
            plan.office_id,
            plan.kind,
            plan.discipline,
        )
    # every item of each order is there to score, once; failures opened nonconformities
    scores = list(
        session.scalars(
            select(InspectionScore).where(InspectionScore.order_id.in_([o.id for o in day]))
        )
    )
    assert len(scores) == written["scores"] == ITEMS * len(day)
    assert Counter(s.order_id for s in scores) == {o.id: items_of[o.plan_id] for o in day}
    assert len({(s.order_id, s.item_id) for s in scores}) == len(scores)
    failed = [s for s in scores if s.score is not None and s.score < s.pass_mark]
    assert all(s.nonconformity_id is not None for s in failed)
    assert written["nonconformities"] == written["failed_items"] == len(failed)
    opened = session.scalar(select(func.count()).where(Nonconformity.id > last_nc))
    assert opened == len(failed)
    # each order was issued through the engine's events, with its completion clock
    issued = set(
        session.scalars(
            select(WorkflowEvent.document_id).where(
                WorkflowEvent.document_type == "inspection", WorkflowEvent.transition == "issue"
            )
        )
    )
    clocked = set(
        session.scalars(
            select(WorkflowClock.document_id).where(WorkflowClock.document_type == "inspection")
        )
    )
    assert {o.id for o in day} <= issued & clocked

    # The week from that day, written over it: the day is not written twice, and every running
    # plan has its orders — a weekly plan one, the monthly plans on their history's day of month.
    week = write_inspection_history(session, offices, 7, NOW + 7 * D, seed=3, existing_plans=True)
    assert week["plans"] == 0
    orders = _orders_after(session, last_order)
    assert len(orders) == len(day) + week["orders"]
    pairs = Counter((o.plan_id, o.scheduled_for) for o in orders)
    assert max(pairs.values()) == 1
    per_plan = Counter(o.plan_id for o in orders)
    for plan in plans.values():
        if plan.end_date is not None:  # the customer-service plans ended with the history
            assert per_plan[plan.id] == 0
        elif plan.frequency == "weekly":
            assert per_plan[plan.id] == 1, plan.id
        else:
            first = _local_day(office_of[plan.office_id], NOW + D)
            runs = plan.start_date.day in {(first + k * D).day for k in range(7)}
            assert per_plan[plan.id] == int(runs), plan.id
    # the monthly plans' orders, the history's and the new, all on their day of the month
    monthly = session.execute(
        select(InspectionPlan.start_date, InspectionOrder.scheduled_for)
        .join(InspectionOrder, InspectionOrder.plan_id == InspectionPlan.id)
        .where(InspectionPlan.frequency == "monthly")
    ).all()
    assert len(monthly) > len(offices)
    assert all(start.day == day.day for start, day in monthly)


def _pending(session: Session) -> dict[int, str]:
    """The history orders not submitted, with their state."""
    rows = session.execute(
        select(InspectionOrder.id, InspectionOrder.state).where(
            InspectionOrder.state != "submitted"
        )
    )
    return {int(order_id): str(state) for order_id, state in rows}


def _check_orders(session: Session, now: datetime) -> None:
    """Every order's state, version and submission agree with its events (none after ``now``);
    a submitted order has every item scored, its clock stopped by its submit event and a
    nonconformity, opened by then, for each failed item."""
    events: dict[int, list[WorkflowEvent]] = {}
    for event in session.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.document_type == "inspection")
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    ):
        events.setdefault(event.document_id, []).append(event)
    assert max(session.scalars(select(WorkflowEvent.at))) <= now
    clocks = {
        c.document_id: c
        for c in session.scalars(
            select(WorkflowClock).where(WorkflowClock.document_type == "inspection")
        )
    }
    scores: dict[int, list[InspectionScore]] = {}
    for score in session.scalars(select(InspectionScore)):
        scores.setdefault(score.order_id, []).append(score)
    ncs = {n.id: n for n in session.scalars(select(Nonconformity))}
    for order in session.scalars(select(InspectionOrder)):
        moves = events[order.id]
        assert [e.transition for e in moves] == ["issue", "start", "submit"][: order.version]
        assert [e.from_state for e in moves[1:]] == [e.to_state for e in moves[:-1]]
        assert moves[-1].to_state == order.state
        clock = clocks[order.id]
        if order.state != "submitted":
            assert order.submitted_at is None and clock.stopped_at is None
            assert all(s.score is None for s in scores[order.id])
            continue
        submit = moves[-1]
        assert order.submitted_at == submit.at
        assert clock.stopped_event_id == submit.id
        assert clock.stopped_at == max(submit.at, clock.started_at)
        for score in scores[order.id]:
            assert score.score is not None and score.scored_at is not None
            assert score.scored_at <= submit.at
            if score.score < score.pass_mark:
                nc = ncs[score.nonconformity_id or 0]
                assert nc.discipline == order.discipline and nc.opened_at <= submit.at
                assert nc.breach_points is None or nc.kind == "handling"
            else:
                assert score.nonconformity_id is None


def test_advancing_moves_the_pending_orders_on_as_the_history_would(session: Session) -> None:
    group = session.scalars(select(Group)).one()
    import_org_rows(session, org_rows(2, 5), group=group, actor=system_principal("test"))
    session.add(User(username="inspector", display_name="巡检员", password_hash="x"))
    session.flush()
    offices = list(session.scalars(select(Office).order_by(Office.code)))
    assert {o.timezone for o in offices} == {"Asia/Shanghai"}
    # At 09:00 in Shanghai the day's orders are issued or started (from 08:00 to 10:00), each
    # plan having one a week: with 9 plans a discipline some are pending.
    now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    write_inspection_history(session, offices, 14, now, seed=3, plans_per_discipline=9, items=12)
    pending = _pending(session)
    assert "issued" in pending.values() and "in_progress" in pending.values()
    _check_orders(session, now)
    events_before = session.scalar(select(func.count()).select_from(WorkflowEvent)) or 0
    last_nc = session.scalar(select(func.max(Nonconformity.id))) or 0

    # a day later: what the draws put before it has moved, nothing after it
    day = advance_orders(session, offices, now + D, seed=3)
    still = _pending(session)
    assert set(still) <= set(pending)  # only pending orders moved on
    # every one started (8 to 10 hours after its day's work start), the slow ones still at it
    assert set(still.values()) <= {"in_progress"}
    assert day["advanced"] == sum(1 for i in pending if still.get(i) != pending[i]) > 0
    assert day["submitted"] == len(pending) - len(still) > 0
    assert day["scores"] == 12 * day["submitted"]
    assert day["nonconformities"] == day["failed_items"] > 0
    opened = list(
        session.scalars(select(Nonconformity.office_id).where(Nonconformity.id > last_nc))
    )
    assert len(opened) == day["nonconformities"]
    assert set(opened) == {o.id for o in offices}  # at both offices, each its own
    after = session.scalar(select(func.count()).select_from(WorkflowEvent)) or 0
    assert after - events_before == day["events"]
    _check_orders(session, now + D)

    # the same instant again: nothing to move
    again = advance_orders(session, offices, now + D, seed=3)
    assert again["advanced"] == again["events"] == 0
    assert session.scalar(select(func.count()).select_from(WorkflowEvent)) == after

    # three days on, every order issued by the history's end is submitted (48 h at most)
    advance_orders(session, offices, now + 3 * D, seed=3)
    assert _pending(session) == {}
    _check_orders(session, now + 3 * D)
