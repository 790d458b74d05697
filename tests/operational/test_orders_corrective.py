"""Corrective orders (纠正派工单): raise → assign → process → verify, or sent back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational.errors import DomainError, PermissionDenied
from operational.models import CorrectiveOrder, Discipline, WorkflowClock, WorkflowEvent
from operational.services import orders
from operational.services.orders import CorrectiveSpec
from operational.workflow import engine


def _raise(
    w: World, discipline: Discipline = Discipline.CLEANING, by: str = "guard"
) -> CorrectiveOrder:
    responsible = "clean" if discipline is Discipline.CLEANING else "eng"
    return orders.raise_corrective(
        w.session,
        w[by],
        office_code="OF1",
        spec=CorrectiveSpec(
            responsible, "Litter in the lobby", discipline=discipline, object_code="LB-1"
        ),
        at=T0,
    )


def _todo(w: World, who: str) -> list[str]:
    return [i.document_no for i in orders.todo_list(w.session, w[who])]


def test_a_guard_files_an_order_to_the_cleaning_supervisor(session: Session) -> None:
    world = build_world(session)
    order = _raise(world)
    assert order.state == "open"
    assert order.document_no == f"CM-OF1-{order.id:06d}"
    assert _todo(world, "clean") == [order.document_no]
    assert _todo(world, "guard") == []
    (event,) = engine.history(world.session, order)
    assert (event.transition, event.from_state, event.to_state, event.actor) == (
        "raise",
        None,
        "open",
        "guard",
    )
    assert event.payload["responsible"] == "clean"


def test_full_flow_with_send_back_and_the_clock(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _raise(world)
    orders.assign(s, world["clean"], order, "tech", order.version, at=T0 + timedelta(hours=1))
    assert (order.state, _todo(world, "tech"), _todo(world, "clean")) == (
        "assigned",
        [order.document_no],
        [],
    )
    orders.process_corrective(
        s, world["tech"], order, order.version, "swept", at=T0 + timedelta(hours=2)
    )
    assert order.state == "processed"
    assert _todo(world, "clean") == [order.document_no]
    with pytest.raises(DomainError) as refused:
        orders.verify_corrective(s, world["clean"], order, order.version, accepted=False)
    assert refused.value.key == "orders.send_back_needs_reason"
    orders.verify_corrective(
        s, world["clean"], order, order.version, accepted=False, note="corner missed"
    )
    assert order.state == "assigned"
    assert _todo(world, "tech") == [order.document_no]
    orders.process_corrective(s, world["tech"], order, order.version, "done")
    orders.verify_corrective(
        s, world["clean"], order, order.version, accepted=True, at=T0 + timedelta(hours=5)
    )
    assert order.state == "closed"
    assert _todo(world, "clean") == [] and _todo(world, "tech") == []
    assert [e.transition for e in engine.history(s, order)] == [
        "raise",
        "assign",
        "process",
        "send_back",
        "process",
        "verify",
    ]
    (clock,) = s.scalars(
        select(WorkflowClock).where(
            WorkflowClock.document_id == order.id, WorkflowClock.document_type == "corrective_order"
        )
    )
    assert clock.started_at == T0
    assert clock.due_at == T0 + timedelta(hours=72)
    assert clock.stopped_at == T0 + timedelta(hours=5)
    assert (clock.target_amount, clock.target_unit) == (72, "calendar_hours")


def test_deadline_comes_from_the_office_and_discipline_policy(session: Session) -> None:
    world = build_world(session)
    orders.set_deadline(world.session, world["mgr"], "OF1", Discipline.CLEANING, 24)
    cleaning = _raise(world, Discipline.CLEANING)
    engineering = _raise(world, Discipline.ENGINEERING)
    due = {
        o.discipline: engine.open_clocks(world.session, o)[0].due_at
        for o in (cleaning, engineering)
    }
    assert due == {"cleaning": T0 + timedelta(hours=24), "engineering": T0 + timedelta(hours=72)}
    with pytest.raises(PermissionDenied):
        orders.set_deadline(world.session, world["mgr2"], "OF1", Discipline.CLEANING, 12)


def test_only_the_right_people_take_each_step(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _raise(world)
    # Only the responsible person assigns: not another supervisor, not the handler-to-be.
    for who in ("eng", "tech", "mgr2"):
        with pytest.raises(PermissionDenied):
            orders.assign(s, world[who], order, "tech", order.version)
    orders.assign(s, world["clean"], order, "tech", order.version)
    # Only the handler reports the work done.
    for who in ("tech2", "clean"):
        with pytest.raises(PermissionDenied):
            orders.process_corrective(s, world[who], order, order.version)
    # A step from the wrong state is refused.
    with pytest.raises(DomainError) as wrong:
        orders.verify_corrective(s, world["clean"], order, order.version, accepted=True)
    assert wrong.value.key == "workflow.wrong_state"
    assert order.state == "assigned"


def test_the_people_named_must_fit_the_office(session: Session) -> None:
    world = build_world(session)
    s = world.session
    with pytest.raises(DomainError) as not_responsible:
        orders.raise_corrective(
            s,
            world["guard"],
            office_code="OF1",
            spec=CorrectiveSpec("tech", "x", discipline=Discipline.CLEANING),
        )
    assert not_responsible.value.key == "orders.not_responsible"
    order = _raise(world)
    with pytest.raises(DomainError) as not_handler:
        orders.assign(s, world["clean"], order, "tech_of2", order.version)
    assert not_handler.value.key == "orders.not_a_handler"
    assert order.state == "open" and order.handler_id is None


def test_reassigning_keeps_the_state_and_moves_the_todo(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _raise(world)
    orders.assign(s, world["clean"], order, "tech", order.version)
    orders.assign(s, world["clean"], order, "tech2", order.version)
    assert order.state == "assigned"
    assert _todo(world, "tech") == [] and _todo(world, "tech2") == [order.document_no]
    last = s.scalars(select(WorkflowEvent).order_by(WorkflowEvent.id.desc())).first()
    assert last is not None and (last.transition, last.payload) == (
        "reassign",
        {"handler": "tech2"},
    )
