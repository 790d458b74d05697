"""The workflow engine: document types as data, versions, events in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational.errors import StaleVersion
from operational.models import CorrectiveOrder, Discipline, WorkflowEvent
from operational.services import orders, plans
from operational.services.orders import CorrectiveSpec
from operational.workflow import definitions, engine
from operational.workflow.engine import DocumentType, Transition


def _order(w: World) -> CorrectiveOrder:
    return orders.raise_corrective(
        w.session,
        w["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("clean", "Litter", discipline=Discipline.CLEANING),
        at=T0,
    )


def test_every_maintenance_document_type_is_registered_data() -> None:
    names = {t.name for t in engine.registered()}
    assert {"periodic_plan", "periodic_order", "corrective_order"} <= names
    assert definitions.CORRECTIVE_ORDER.get("verify").stops == ("completion",)


def test_a_type_naming_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown state"):
        DocumentType(
            "bad", CorrectiveOrder, "X", ("open",), (Transition("go", ("open",), "nowhere", None),)
        )


def test_a_stale_form_is_refused_with_a_clear_message_and_nothing_changes(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _order(world)
    form_version = order.version  # two people open the same order
    orders.assign(s, world["clean"], order, "tech", form_version)
    with pytest.raises(StaleVersion) as stale:
        orders.assign(s, world["clean"], order, "tech2", form_version)
    assert order.document_no in stale.value.message("en")
    assert "someone else" in stale.value.message("en")
    assert "他人" in stale.value.message("zh_CN")
    s.refresh(order)
    assert (order.handler_id, order.version) == (world["tech"].user_id, form_version + 1)
    assert [e.transition for e in engine.history(s, order)] == ["raise", "assign"]


def test_a_concurrent_move_between_read_and_write_is_caught_too(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _order(world)
    seen = order.version
    # Another user's transaction moves the order after ours read it.
    s.execute(
        update(CorrectiveOrder).where(CorrectiveOrder.id == order.id).values(version=seen + 1),
        execution_options={"synchronize_session": False},
    )
    assert order.version == seen
    with pytest.raises(StaleVersion):
        orders.assign(s, world["clean"], order, "tech", seen)


def test_each_move_appends_one_event_with_explicit_columns(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _order(world)
    orders.assign(s, world["clean"], order, "tech", order.version, at=T0 + timedelta(minutes=5))
    event = engine.history(s, order)[-1]
    assert (
        event.document_type,
        event.document_id,
        event.document_no,
        event.office_id,
        event.transition,
        event.from_state,
        event.to_state,
        event.actor,
        event.at,
        event.payload,
    ) == (
        "corrective_order",
        order.id,
        order.document_no,
        order.office_id,
        "assign",
        "open",
        "assigned",
        "clean",
        T0 + timedelta(minutes=5),
        {"handler": "tech"},
    )


def test_the_event_log_is_append_only(session: Session) -> None:
    world = build_world(session)
    s = world.session
    _order(world)
    with pytest.raises(DBAPIError), s.begin_nested():
        s.execute(update(WorkflowEvent).values(actor="someone else"))
    with pytest.raises(DBAPIError), s.begin_nested():
        s.execute(text("DELETE FROM workflow_event"))


def test_available_transitions_depend_on_person_and_state(session: Session) -> None:
    world = build_world(session)
    s = world.session
    order = _order(world)
    assert [t.name for t in engine.available(s, world["clean"], order)] == ["assign"]
    assert engine.available(s, world["tech"], order) == []


def test_todo_list_is_oldest_deadline_first_and_undated_work_last(session: Session) -> None:
    world = build_world(session)
    s = world.session
    orders.set_deadline(s, world["mgr"], "OF1", Discipline.ENGINEERING, 24)
    late = orders.raise_corrective(
        s,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("mgr", "Pump leak", discipline=Discipline.ENGINEERING),
        at=T0 + timedelta(hours=10),
    )  # due T0 + 34 h
    early = orders.raise_corrective(
        s,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("mgr", "Lawn", discipline=Discipline.LANDSCAPING),
        at=T0 - timedelta(hours=20),
    )  # due T0 + 52 h (72 h after T0 - 20 h)
    first = orders.raise_corrective(
        s,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("mgr", "Gate", discipline=Discipline.ENGINEERING),
        at=T0,
    )  # due T0 + 24 h
    plan = world.plan(approve=False)
    plans.submit_plan(s, world["eng"], plan, plan.version)  # waits for the manager, no deadline
    todo = orders.todo_list(s, world["mgr"])
    assert [i.document_no for i in todo] == [
        first.document_no,
        late.document_no,
        early.document_no,
        plan.document_no,
    ]
    assert todo[0].due_at == T0 + timedelta(hours=24)
    assert todo[-1].due_at is None and todo[-1].actions == ("approve", "return")
