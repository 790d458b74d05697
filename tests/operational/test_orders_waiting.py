"""Waiting (挂起) corrective orders: the completion clock pauses and resumes through the engine.

The stored deadline moves by the working time of each pause, computed by ``sla.evaluate`` (the
rule the warehouse runs too); pauses are rows tied to the events that paused and resumed them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational.auth import system_principal
from operational.errors import DomainError, PermissionDenied
from operational.models import CorrectiveOrder, Discipline, WorkflowClock, WorkflowEvent
from operational.services import orders
from operational.services.calendars import office_calendar
from operational.services.orders import CorrectiveSpec, WaitReason
from operational.sla import ClockTarget, ClockUnit, evaluate
from operational.workflow import definitions, engine
from operational.workflow.engine import DocumentType, Transition

CLI = system_principal("cli")

H = timedelta(hours=1)
SH = timedelta(hours=8)


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - SH


def _assigned(
    w: World, at: datetime = T0, discipline: Discipline = Discipline.CLEANING
) -> CorrectiveOrder:
    responsible = "clean" if discipline is Discipline.CLEANING else "eng"
    order = orders.raise_corrective(
        w.session,
        w["guard"],
        office_code="OF1",
        spec=CorrectiveSpec(responsible, "Pump leaks", discipline=discipline),
        at=at,
    )
    orders.assign(w.session, w[responsible], order, "tech", order.version, at=at)
    return order


def _clock(s: Session, order: CorrectiveOrder) -> WorkflowClock:
    return s.scalars(
        select(WorkflowClock).where(
            WorkflowClock.document_type == "corrective_order",
            WorkflowClock.document_id == order.id,
        )
    ).one()


def _pauses(s: Session, order: CorrectiveOrder) -> list[tuple[datetime, datetime | None]]:
    return [(p.paused_at, p.resumed_at) for p in engine.clock_pauses(s, _clock(s, order))]


def _python_due(s: Session, order: CorrectiveOrder, as_of: datetime) -> datetime | None:
    clock = _clock(s, order)
    target = engine.clock_target(clock)
    return evaluate(
        clock.started_at,
        target,
        office_calendar(s, "OF1"),
        as_of,
        _pauses(s, order),
        clock.stopped_at,
    ).due_at


def test_waiting_for_parts_pauses_the_clock_and_resuming_moves_the_deadline(
    session: Session,
) -> None:
    w = build_world(session)
    s = w.session
    order = _assigned(w)
    assert _clock(s, order).due_at == T0 + 72 * H
    orders.wait_corrective(
        s, w["tech"], order, order.version, WaitReason.PARTS, "pump seal", at=T0 + 2 * H
    )
    assert order.state == "waiting"
    assert _pauses(s, order) == [(T0 + 2 * H, None)]
    assert _clock(s, order).due_at == T0 + 72 * H  # unknown while paused: the stored one stays
    assert _python_due(s, order, T0 + 10 * H) is None
    # the handler finds it in the to-do list, to resume; nobody else is asked to act on it
    [item] = [i for i in orders.todo_list(s, w["tech"]) if i.document_no == order.document_no]
    assert (item.state, item.actions) == ("waiting", ("resume",))
    assert order.document_no not in [i.document_no for i in orders.todo_list(s, w["clean"])]

    orders.resume_corrective(s, w["tech"], order, order.version, at=T0 + 26 * H)
    assert order.state == "assigned"
    clock = _clock(s, order)
    assert _pauses(s, order) == [(T0 + 2 * H, T0 + 26 * H)]
    assert clock.due_at == T0 + 96 * H  # 24 h of 24×7 time paused
    assert clock.due_at == _python_due(s, order, T0 + 30 * H)
    (pause,) = engine.clock_pauses(s, clock)
    events = {e.id: e for e in engine.history(s, order)}
    assert events[pause.paused_event_id].transition == "wait"
    assert events[pause.paused_event_id].payload == {"reason": "parts", "note": "pump seal"}
    assert events[pause.resumed_event_id or 0].transition == "resume"

    orders.process_corrective(s, w["tech"], order, order.version, "seal replaced", at=T0 + 90 * H)
    orders.verify_corrective(s, w["clean"], order, order.version, accepted=True, at=T0 + 95 * H)
    clock = _clock(s, order)
    assert (clock.stopped_at, clock.due_at) == (T0 + 95 * H, T0 + 96 * H)
    assert (
        evaluate(
            clock.started_at,
            engine.clock_target(clock),
            office_calendar(s, "OF1"),
            T0 + 100 * H,
            _pauses(s, order),
            clock.stopped_at,
        ).state.value
        == "met"
    )


def test_several_pauses_add_up(session: Session) -> None:
    w = build_world(session)
    s = w.session
    order = _assigned(w)
    for start, end, reason in ((1, 2, WaitReason.OWNER), (5, 8, WaitReason.PARTS)):
        orders.wait_corrective(s, w["tech"], order, order.version, reason, at=T0 + start * H)
        orders.resume_corrective(s, w["tech"], order, order.version, at=T0 + end * H)
    assert _clock(s, order).due_at == T0 + 76 * H
    assert _clock(s, order).due_at == _python_due(s, order, T0 + 9 * H)
    # a step dated before the last resume would make the pauses overlap: refused
    with pytest.raises(DomainError) as refused:
        orders.wait_corrective(s, w["tech"], order, order.version, "owner", at=T0 + 7 * H)
    assert refused.value.key == "workflow.before_last_pause"


def test_a_pause_over_lunch_on_the_office_calendar_counts_working_time_only(
    session: Session,
) -> None:
    w = build_world(session)
    s = w.session
    target = ClockTarget(480, ClockUnit.BUSINESS_MINUTES, "office")
    orders.set_target(s, w["mgr"], "OF1", Discipline.ENGINEERING, target)
    # default hours 09:00–12:00, 13:30–18:00: raised Monday 09:00, 450 min Monday, due Tue 09:30
    order = _assigned(w, _local("2026-03-02T09:00"), Discipline.ENGINEERING)
    assert _clock(s, order).due_at == _local("2026-03-03T09:30")
    # waiting 11:30–14:00 pauses 30 + 30 working minutes, not the lunch break
    orders.wait_corrective(
        s, w["tech"], order, order.version, "parts", at=_local("2026-03-02T11:30")
    )
    orders.resume_corrective(s, w["tech"], order, order.version, at=_local("2026-03-02T14:00"))
    assert _clock(s, order).due_at == _local("2026-03-03T10:30")
    # waiting inside the lunch break pauses nothing
    other = _assigned(w, _local("2026-03-02T09:00"), Discipline.ENGINEERING)
    orders.wait_corrective(
        s, w["tech"], other, other.version, "owner", at=_local("2026-03-02T12:10")
    )
    with pytest.raises(DomainError) as refused:  # dated before its pause
        orders.resume_corrective(s, w["tech"], other, other.version, at=_local("2026-03-02T12:00"))
    assert refused.value.key == "workflow.before_last_pause"
    assert other.state == "waiting"  # refused before anything changed
    orders.resume_corrective(s, w["tech"], other, other.version, at=_local("2026-03-02T13:20"))
    assert _pauses(s, other) == [(_local("2026-03-02T12:10"), _local("2026-03-02T13:20"))]
    assert _clock(s, other).due_at == _local("2026-03-03T09:30")


def test_wait_needs_a_reason_and_only_the_handler_takes_it(session: Session) -> None:
    w = build_world(session)
    s = w.session
    order = _assigned(w)
    for reason, note, key in (
        (None, "", "orders.wait_needs_reason"),
        ("tea", "", "orders.wait_needs_reason"),
        (WaitReason.OTHER, " ", "orders.wait_other_needs_note"),
    ):
        with pytest.raises(DomainError) as refused:
            orders.wait_corrective(s, w["tech"], order, order.version, reason, note)
        assert refused.value.key == key
    for who in ("tech2", "clean", "guard"):
        with pytest.raises(PermissionDenied):
            orders.wait_corrective(s, w[who], order, order.version, "parts")
    with pytest.raises(DomainError) as refused:
        orders.resume_corrective(s, w["tech"], order, order.version)
    assert refused.value.key == "workflow.wrong_state"
    orders.wait_corrective(s, w["tech"], order, order.version, WaitReason.OTHER, "key holder")
    with pytest.raises(DomainError) as refused:  # waiting: nothing to report done yet
        orders.process_corrective(s, w["tech"], order, order.version)
    assert refused.value.key == "workflow.wrong_state"
    with pytest.raises(PermissionDenied):
        orders.resume_corrective(s, w["tech2"], order, order.version)
    names = [t.name for t in engine.available(s, w["tech"], order)]
    assert names == ["resume"]


def test_a_clock_stopped_while_paused_closes_the_pause_at_the_stop(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Corrective orders cannot close while waiting, so a type that can shows the engine rule."""
    base = definitions.CORRECTIVE_ORDER
    closing = Transition(
        "cancel",
        ("waiting",),
        "closed",
        None,
        stops=(definitions.COMPLETION,),
    )
    monkeypatch.setitem(
        engine._REGISTRY,
        CorrectiveOrder,
        replace(base, transitions=(*base.transitions, closing)),
    )
    w = build_world(session)
    s = w.session
    order = _assigned(w)
    orders.wait_corrective(s, w["tech"], order, order.version, "owner", at=T0 + 10 * H)
    with pytest.raises(DomainError) as refused:
        engine.transition(s, CLI, order, "cancel", {}, order.version, at=T0 + 9 * H)
    assert refused.value.key == "workflow.before_last_pause"
    event = engine.transition(s, CLI, order, "cancel", {}, order.version, at=T0 + 20 * H)
    clock = _clock(s, order)
    (pause,) = engine.clock_pauses(s, clock)
    assert (pause.paused_at, pause.resumed_at, pause.resumed_event_id) == (
        T0 + 10 * H,
        T0 + 20 * H,
        event.id,
    )
    assert (clock.stopped_at, clock.stopped_event_id) == (T0 + 20 * H, event.id)
    assert clock.due_at == T0 + 82 * H == _python_due(s, order, T0 + 30 * H)
    assert s.get_one(WorkflowEvent, event.id).to_state == "closed"


def test_a_type_pausing_an_unknown_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown clock"):
        DocumentType(
            "bad",
            CorrectiveOrder,
            "X",
            ("open", "waiting"),
            (Transition("wait", ("open",), "waiting", None, pauses=("nope",)),),
        )
