"""Periodic plans (定期计划), order generation (P4) and objects (P1)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational.auth import system_principal
from operational.errors import DomainError, FormRejected, PermissionDenied
from operational.models import Discipline, Frequency, PeriodicOrder
from operational.services import objects, orders, plans
from operational.workflow import engine

CLI = system_principal("cli")


def _count(w: World) -> int:
    return w.session.scalar(select(func.count()).select_from(PeriodicOrder)) or 0


def test_draft_submit_return_resubmit_approve(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(approve=False)
    assert (plan.state, plan.document_no) == ("draft", f"PP-OF1-{plan.id:06d}")
    assert [o.code for o in plans.plan_objects(s, plan)] == ["EL-1", "EL-2"]
    plans.submit_plan(s, world["eng"], plan, plan.version)
    assert [i.document_no for i in orders.todo_list(s, world["mgr"])] == [plan.document_no]
    with pytest.raises(DomainError) as no_reason:
        plans.return_plan(s, world["mgr"], plan, plan.version, " ")
    assert no_reason.value.key == "plans.return_needs_reason"
    plans.return_plan(s, world["mgr"], plan, plan.version, "add the escalators")
    assert plan.state == "returned"
    assert [i.document_no for i in orders.todo_list(s, world["eng"])] == [plan.document_no]
    plans.submit_plan(s, world["eng"], plan, plan.version)
    plans.approve_plan(s, world["mgr"], plan, plan.version, at=T0)
    assert (plan.state, plan.approved_at) == ("approved", T0)
    assert [e.transition for e in engine.history(s, plan)] == [
        "draft",
        "submit",
        "return",
        "submit",
        "approve",
    ]
    assert engine.history(s, plan)[2].payload == {"reason": "add the escalators"}


def test_only_supervisors_draft_and_only_the_office_manager_approves(session: Session) -> None:
    world = build_world(session)
    s = world.session
    with pytest.raises(PermissionDenied):
        plans.draft_plan(
            s,
            world["tech"],
            office_code="OF1",
            name="x",
            discipline=Discipline.ENGINEERING,
            responsible="eng",
            frequency=Frequency.DAILY,
            start_date=date(2026, 3, 10),
            object_codes=["EL-1"],
        )
    plan = world.plan(approve=False)
    with pytest.raises(PermissionDenied):
        plans.submit_plan(s, world["clean"], plan, plan.version)  # not the drafter
    plans.submit_plan(s, world["eng"], plan, plan.version)
    for who in ("eng", "mgr2", "tech"):
        with pytest.raises(PermissionDenied):
            plans.approve_plan(s, world[who], plan, plan.version)
    assert plan.state == "submitted"


def test_a_plan_is_checked_before_it_is_drafted(session: Session) -> None:
    world = build_world(session)
    s = world.session
    common = {
        "office_code": "OF1",
        "name": "Lobby",
        "discipline": Discipline.CLEANING,
        "responsible": "clean",
        "frequency": Frequency.WEEKLY,
        "start_date": date(2026, 3, 10),
    }
    with pytest.raises(DomainError) as unknown:
        plans.draft_plan(s, world["clean"], **common, object_codes=["LB-1", "LB-9"])  # type: ignore[arg-type]
    assert isinstance(unknown.value, FormRejected)
    [problem] = unknown.value.problems
    assert (problem.field, problem.key, problem.params["code"]) == (
        "objects",
        "orders.unknown_object",
        "LB-9",
    )
    with pytest.raises(DomainError) as ends_early:
        plans.draft_plan(
            s, world["clean"], **common, end_date=date(2026, 3, 1), object_codes=["LB-1"]
        )  # type: ignore[arg-type]
    assert [p.key for p in ends_early.value.problems] == ["plans.end_before_start"]  # type: ignore[attr-defined]


def test_generation_twice_gives_the_same_orders(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.WEEKLY, start=date(2026, 3, 10))
    first = plans.generate_orders(s, None, date(2026, 4, 30), at=T0)
    assert [o.scheduled_for for o in first] == [
        date(2026, 3, 10),
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 31),
        date(2026, 4, 7),
        date(2026, 4, 14),
        date(2026, 4, 21),
        date(2026, 4, 28),
    ]
    assert plans.generate_orders(s, None, date(2026, 4, 30), at=T0) == []
    assert plans.generate_orders(s, plan, date(2026, 4, 30), at=T0) == []
    assert _count(world) == 8


def test_generation_after_a_crash_half_way_fills_only_the_gap(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.DAILY, every=2, start=date(2026, 3, 10))
    plans.generate_orders(s, plan, date(2026, 3, 14), at=T0)  # 10, 12, 14 written, then "crash"
    again = plans.generate_orders(s, plan, date(2026, 3, 20), at=T0)
    assert [o.scheduled_for.day for o in again] == [16, 18, 20]
    assert _count(world) == 6
    # The database refuses a second order for the same plan and day whatever the code does.
    duplicate = PeriodicOrder(
        office_id=plan.office_id,
        plan_id=plan.id,
        scheduled_for=date(2026, 3, 10),
        work_starts_at=T0,
        discipline="engineering",
        responsible_id=plan.responsible_id,
        state="issued",
        version=1,
    )
    with pytest.raises(IntegrityError), s.begin_nested():
        s.add(duplicate)
        s.flush()


def test_generation_respects_end_date_and_approval_day(session: Session) -> None:
    world = build_world(session)
    s = world.session
    # Starts in January but approved on 2 March: nothing before the approval day is issued.
    plan = world.plan(start=date(2026, 1, 31), end=date(2026, 6, 30))
    issued = plans.generate_orders(s, plan, date(2026, 12, 31), at=T0)
    assert [o.scheduled_for for o in issued] == [
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]


def test_unapproved_plans_generate_nothing(session: Session) -> None:
    world = build_world(session)
    plan = world.plan(approve=False)
    with pytest.raises(DomainError) as refused:
        plans.generate_orders(world.session, plan, date(2026, 12, 31))
    assert refused.value.key == "plans.not_approved"
    assert plans.generate_orders(world.session, None, date(2026, 12, 31)) == []


@pytest.mark.parametrize(
    ("frequency", "every", "expected"),
    [
        (Frequency.MONTHLY, 1, [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]),
        (Frequency.QUARTERLY, 1, [date(2026, 1, 31), date(2026, 4, 30), date(2026, 7, 31)]),
        (Frequency.YEARLY, 2, [date(2026, 1, 31), date(2028, 1, 31), date(2030, 1, 31)]),
        (Frequency.WEEKLY, 2, [date(2026, 1, 31), date(2026, 2, 14), date(2026, 2, 28)]),
    ],
)
def test_occurrences_count_from_the_start_date(
    frequency: Frequency, every: int, expected: list[date]
) -> None:
    got = list(
        plans.occurrences(date(2026, 1, 31), frequency, every, date(2026, 1, 1), expected[-1])
    )
    assert got == expected


def test_objects_without_plan(session: Session) -> None:
    world = build_world(session)
    s = world.session
    assert [o.code for o in plans.objects_without_plan(s, CLI, "OF1")] == ["EL-1", "EL-2", "LB-1"]
    world.plan(objects=("EL-1",), approve=False)
    assert [o.code for o in plans.objects_without_plan(s, CLI, "OF1")] == ["EL-2", "LB-1"]
    world.plan(objects=("EL-2",), end=date(2026, 3, 31))
    assert [o.code for o in plans.objects_without_plan(s, CLI, "OF1", on=date(2026, 3, 31))] == [
        "LB-1"
    ]
    assert [o.code for o in plans.objects_without_plan(s, CLI, "OF1", on=date(2026, 4, 1))] == [
        "EL-2",
        "LB-1",
    ]
    assert plans.objects_without_plan(s, CLI, "OF2") == []


def test_objects_carry_the_attributes_of_their_type(session: Session) -> None:
    world = build_world(session)
    s = world.session
    common = {"office_code": "OF1", "type_code": "WT-ELEV", "name": "Elevator 3"}
    with pytest.raises(DomainError) as unknown:
        objects.add_object(s, world["mgr"], code="EL-3", attributes={"colour": "red"}, **common)
    assert unknown.value.key == "objects.unknown_attribute"
    with pytest.raises(DomainError) as bad:
        objects.add_object(
            s, world["mgr"], code="EL-3", attributes={"rated_load": "heavy"}, **common
        )
    assert bad.value.key == "objects.bad_attribute"
    with pytest.raises(DomainError) as twice:
        objects.add_object(s, world["mgr"], code="EL-1", **common)
    assert twice.value.key == "objects.object_exists"
    with pytest.raises(PermissionDenied):
        objects.add_object(s, world["tech"], code="EL-3", **common)
    with pytest.raises(PermissionDenied):
        objects.add_object_type(s, world["mgr"], code="WT-PUMP", name="Pump", parent_code="WT-ENG")
    obj = objects.add_object(s, world["eng"], code="EL-3", attributes={"model": "Gen2"}, **common)
    assert obj.attributes == {"model": "Gen2"}
