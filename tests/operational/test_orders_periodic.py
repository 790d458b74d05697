"""Periodic orders (定期工单): issued → assigned → checklist answered → closed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_workflow_support import build_world

from operational.errors import DomainError, PermissionDenied
from operational.models import ChecklistAnswer, CorrectiveOrder, Discipline
from operational.services import orders
from operational.services.orders import Answer, CorrectiveSpec
from operational.workflow import engine

# 2026-03-10 00:00 in Shanghai: the scheduled day starts the 72-hour clock.
DAY_START = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)


def test_an_issued_order_waits_for_the_responsible_person_with_a_stored_deadline(
    session: Session,
) -> None:
    world = build_world(session)
    order = world.periodic_order()
    assert (order.state, order.scheduled_for, order.document_no) == (
        "issued",
        date(2026, 3, 10),
        f"PM-OF1-{order.id:06d}",
    )
    (clock,) = engine.open_clocks(world.session, order)
    assert (clock.clock, clock.started_at, clock.due_at) == (
        "completion",
        DAY_START,
        DAY_START + timedelta(hours=72),
    )
    assert [i.document_no for i in orders.todo_list(world.session, world["eng"])] == [
        order.document_no
    ]
    items = orders.checklist(world.session, order)
    assert [(i.text, i.ok) for i in items][:3] == [
        ("Brake test", None),
        ("Door sensors", None),
        ("Emergency phone", None),
    ]
    assert len(items) == 6  # three items for each of the two elevators
    (event,) = engine.history(world.session, order)
    assert (event.actor, event.transition, event.to_state) == ("system", "issue", "issued")


def test_nobody_issues_a_periodic_order_by_hand(session: Session) -> None:
    world = build_world(session)
    from operational.models import PeriodicOrder

    plan = world.plan()
    order = PeriodicOrder(
        office_id=plan.office_id,
        plan_id=plan.id,
        scheduled_for=date(2026, 3, 10),
        work_starts_at=DAY_START,
        discipline="engineering",
        responsible_id=plan.responsible_id,
    )
    with pytest.raises(PermissionDenied):
        engine.create(world.session, world["mgr"], order, "issue")


def _all_ok(items: list[ChecklistAnswer]) -> dict[int, Answer]:
    return {i.id: Answer(True) for i in items}


def test_handler_completes_with_every_item_answered(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = world.periodic_order()
    orders.assign(s, world["eng"], order, "tech", order.version)
    assert [i.document_no for i in orders.todo_list(s, world["tech"])] == [order.document_no]
    items = orders.checklist(s, order)
    with pytest.raises(PermissionDenied):
        orders.complete_periodic(s, world["tech2"], order, _all_ok(items), order.version)
    partial = dict(list(_all_ok(items).items())[:-1])
    with pytest.raises(DomainError) as incomplete:
        orders.complete_periodic(s, world["tech"], order, partial, order.version, note="checked")
    assert incomplete.value.key == "orders.checklist_incomplete"
    assert incomplete.value.params == {"count": 1}
    done_at = DAY_START + timedelta(hours=30)
    raised = orders.complete_periodic(
        s, world["tech"], order, _all_ok(items), order.version, note="all checked", at=done_at
    )
    assert raised == [] and order.state == "closed"
    assert all(i.ok for i in orders.checklist(s, order))
    assert engine.open_clocks(s, order) == []
    assert orders.todo_list(s, world["tech"]) == []
    assert engine.history(s, order)[-1].payload == {
        "note": "all checked",
        "passed": 6,
        "failed": 0,
        "corrective_orders": [],
    }


def test_a_failed_item_cannot_be_submitted_without_a_corrective_order(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = world.periodic_order()
    orders.assign(s, world["eng"], order, "tech", order.version)
    items = orders.checklist(s, order)
    answers = _all_ok(items)
    answers[items[1].id] = Answer(False, "door sensor dead")
    with pytest.raises(DomainError) as refused:
        orders.complete_periodic(s, world["tech"], order, answers, order.version, note="checked")
    assert refused.value.key == "orders.failed_item_needs_corrective"
    assert refused.value.params == {"item": "Door sensors"}
    assert order.state == "assigned"
    assert s.scalars(select(CorrectiveOrder)).all() == []


def test_a_failed_item_raises_a_linked_corrective_order_in_the_same_step(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = world.periodic_order()
    orders.assign(s, world["eng"], order, "tech", order.version)
    items = orders.checklist(s, order)
    answers = _all_ok(items)
    answers[items[1].id] = Answer(
        False,
        "door sensor dead",
        CorrectiveSpec("eng", "Replace door sensor of EL-1", object_code="EL-1"),
    )
    (corrective,) = orders.complete_periodic(
        s, world["tech"], order, answers, order.version, note="sensor failed"
    )
    assert order.state == "closed"
    assert (corrective.state, corrective.discipline, corrective.source_order_id) == (
        "open",
        Discipline.ENGINEERING.value,
        order.id,
    )
    failed = next(i for i in orders.checklist(s, order) if i.id == items[1].id)
    assert (failed.ok, failed.note, failed.corrective_order_id) == (
        False,
        "door sensor dead",
        corrective.id,
    )
    complete = engine.history(s, order)[-1]
    assert complete.payload == {
        "note": "sensor failed",
        "passed": 5,
        "failed": 1,
        "corrective_orders": [corrective.document_no],
    }
    raised = engine.history(s, corrective)[0]
    assert (raised.actor, raised.payload["source_order"]) == ("tech", order.document_no)
    assert [i.document_no for i in orders.todo_list(s, world["eng"])] == [corrective.document_no]
