"""Periodic plans after approval and after a return: edit and resubmit, end, change (a new
version that takes over from a day), every form problem at once, and order generation that
never issues two orders for one object and period across versions (docs/workflow.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational.db import alembic_config, create_db_engine, unit_of_work, upgrade
from operational.demo import DemoOptions, load_demo
from operational.errors import (
    DomainError,
    FormRejected,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from operational.models import (
    AuditEntry,
    Discipline,
    Frequency,
    PeriodicOrder,
    PeriodicPlan,
)
from operational.services import orders, plans
from operational.workflow import engine
from tests.conftest import BACKENDS, fresh_database_url


def day_at(day: date) -> datetime:
    """09:00 in Shanghai on ``day``."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


def fields(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "Elevators, building 15",
        "discipline": Discipline.ENGINEERING,
        "responsible": "eng",
        "frequency": Frequency.MONTHLY,
        "every": 1,
        "start_date": date(2026, 3, 10),
        "end_date": None,
        "object_codes": ["EL-1", "EL-2"],
    }
    return base | changes


def scheduled(w: World) -> list[tuple[str, date]]:
    """Every periodic order as (plan number, date), by date."""
    return [
        (no, day)
        for no, day in w.session.execute(
            select(PeriodicPlan.document_no, PeriodicOrder.scheduled_for)
            .join(PeriodicPlan, PeriodicPlan.id == PeriodicOrder.plan_id)
            .order_by(PeriodicOrder.scheduled_for)
        )
    ]


def audit_of(w: World, document_no: str) -> list[str]:
    return list(
        w.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_key == document_no)
            .order_by(AuditEntry.id)
        )
    )


def test_a_form_is_refused_with_every_problem_and_nothing_is_written(session: Session) -> None:
    world = build_world(session)
    s = world.session
    before = s.scalar(select(func.count()).select_from(PeriodicPlan))
    with pytest.raises(FormRejected) as refused:
        plans.draft_plan(
            s,
            world["eng"],
            office_code="OF1",
            **fields(  # type: ignore[arg-type]
                name="  ",
                responsible="",
                every=0,
                start_date=date(2026, 3, 10),
                end_date=date(2026, 3, 1),
                object_codes=["EL-1", "NOPE"],
            ),
        )
    problems = refused.value.problems
    assert [(p.field, p.key) for p in problems] == [
        ("name", "plans.name_required"),
        ("responsible", "plans.responsible_required"),
        ("every", "plans.bad_interval"),
        ("end_date", "plans.end_before_start"),
        ("objects", "orders.unknown_object"),
    ]
    assert refused.value.messages("zh_CN") == [
        "请填写计划名称。",
        "请选择责任人。",
        "间隔至少为 1。",
        "结束日期早于开始日期。",
        "管理处 OF1 没有对象 NOPE。",
    ]
    assert refused.value.message("en").splitlines()[0] == "5 things to correct:"
    assert s.scalar(select(func.count()).select_from(PeriodicPlan)) == before
    # someone who may not draft hears that, not about the fields
    with pytest.raises(PermissionDenied):
        plans.draft_plan(s, world["tech"], office_code="OF1", **fields(name=""))  # type: ignore[arg-type]
    # a responsible person who may not manage orders is a problem of that field
    with pytest.raises(FormRejected) as wrong_person:
        plans.draft_plan(s, world["eng"], office_code="OF1", **fields(responsible="tech"))  # type: ignore[arg-type]
    assert wrong_person.value.fields() == ["responsible"]


def test_a_returned_plan_is_edited_and_submitted_again(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(approve=False)
    plans.submit_plan(s, world["eng"], plan, plan.version, at=T0)
    plans.return_plan(s, world["mgr"], plan, plan.version, "weekly, and only EL-1", at=T0)
    detail = plans.plan_detail(s, world["eng"], plan.document_no)
    assert (detail.state, detail.returned_reason) == ("returned", "weekly, and only EL-1")
    assert "revise" in detail.actions and "submit" in detail.actions
    # only the drafter edits; a stale form and an approved plan are refused
    with pytest.raises(PermissionDenied):
        plans.revise_plan(s, world["clean"], plan, plan.version, **fields())  # type: ignore[arg-type]
    with pytest.raises(StaleVersion):
        plans.revise_plan(s, world["eng"], plan, plan.version - 1, **fields())  # type: ignore[arg-type]
    with pytest.raises(FormRejected) as refused:
        plans.revise_plan(
            s,
            world["eng"],
            plan,
            plan.version,
            **fields(name="", object_codes=[]),  # type: ignore[arg-type]
        )
    assert refused.value.fields() == ["name", "objects"]
    assert plan.name == "Elevators, building 15"  # nothing changed

    plans.revise_plan(
        s,
        world["eng"],
        plan,
        plan.version,
        **fields(  # type: ignore[arg-type]
            name="Elevator 1, weekly", frequency=Frequency.WEEKLY, object_codes=["EL-1"]
        ),
        at=T0,
    )
    assert (plan.state, plan.frequency, plan.name) == ("draft", "weekly", "Elevator 1, weekly")
    assert [o.code for o in plans.plan_objects(s, plan)] == ["EL-1"]
    # the reason stays in view until the plan is submitted again
    assert plans.plan_detail(s, world["eng"], plan.document_no).returned_reason == (
        "weekly, and only EL-1"
    )
    plans.submit_plan(s, world["eng"], plan, plan.version, at=T0)
    assert plans.plan_detail(s, world["eng"], plan.document_no).returned_reason is None
    assert plan.document_no in [i.document_no for i in orders.todo_list(s, world["mgr"])]
    plans.approve_plan(s, world["mgr"], plan, plan.version, at=T0)
    history = engine.history(s, plan)
    assert [e.transition for e in history] == [
        "draft",
        "submit",
        "return",
        "revise",
        "submit",
        "approve",
    ]
    assert history[3].payload == {
        "changed": ["name", "frequency", "objects"],
        "name": "Elevator 1, weekly",
        "frequency": "weekly",
        "objects": ["EL-1"],
    }
    assert audit_of(world, plan.document_no) == ["update"]
    with pytest.raises(DomainError) as approved:
        plans.revise_plan(s, world["eng"], plan, plan.version, **fields())  # type: ignore[arg-type]
    assert approved.value.key == "workflow.wrong_state"
    issued = plans.generate_orders(s, plan, date(2026, 3, 31), at=T0)
    assert [o.scheduled_for.day for o in issued] == [10, 17, 24, 31]


def test_an_ended_plan_issues_nothing_after_its_end(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan(frequency=Frequency.WEEKLY, start=date(2026, 3, 10))
    plans.generate_orders(s, plan, date(2026, 3, 31), at=T0)  # 10, 17, 24, 31
    with pytest.raises(PermissionDenied):
        plans.end_plan(s, world["eng"], plan, plan.version, date(2026, 3, 20))
    with pytest.raises(FormRejected) as early:
        plans.end_plan(s, world["mgr"], plan, plan.version, date(2026, 3, 1))
    assert [p.key for p in early.value.problems] == ["plans.end_before_start"]
    plans.end_plan(s, world["mgr"], plan, plan.version, date(2026, 3, 20), at=T0)
    assert (plan.state, plan.end_date) == ("approved", date(2026, 3, 20))
    assert plans.generate_orders(s, None, date(2026, 4, 30), at=T0) == []
    # orders already issued for later dates stay
    assert [d.day for _, d in scheduled(world)] == [10, 17, 24, 31]
    with pytest.raises(FormRejected) as later:
        plans.end_plan(s, world["mgr"], plan, plan.version, date(2026, 4, 30))
    assert [p.key for p in later.value.problems] == ["plans.end_after_current"]
    assert engine.history(s, plan)[-1].payload == {"end_date": "2026-03-20", "was": None}
    assert audit_of(world, plan.document_no) == ["update"]


def change(
    world: World, plan: PeriodicPlan, takes_over: date, today: date, **changes: object
) -> PeriodicPlan:
    return plans.change_plan(
        world.session,
        world["eng"],
        plan,
        takes_over_on=takes_over,
        **fields(**changes),  # type: ignore[arg-type]
        at=day_at(today),
    )


def approve(world: World, plan: PeriodicPlan, today: date) -> None:
    s = world.session
    plans.submit_plan(s, world["eng"], plan, plan.version, at=day_at(today))
    plans.approve_plan(s, world["mgr"], plan, plan.version, at=day_at(today))


def test_a_change_in_the_middle_of_a_period_never_issues_an_order_twice(
    session: Session,
) -> None:
    world = build_world(session)
    s = world.session
    old = world.plan(start=date(2026, 3, 10))  # monthly on the 10th
    plans.generate_orders(s, None, date(2026, 4, 15), at=day_at(date(2026, 4, 15)))
    # From 20 April (the middle of the period 10 April – 9 May): a new responsible person.
    new = change(world, old, date(2026, 4, 20), date(2026, 4, 15), responsible="mgr")
    assert (new.state, new.revision, new.supersedes_id) == ("draft", 2, old.id)
    # until it is approved the old plan goes on alone
    plans.generate_orders(s, None, date(2026, 4, 30), at=day_at(date(2026, 4, 16)))
    approve(world, new, date(2026, 4, 16))
    assert old.end_date == date(2026, 4, 19)
    assert [e.transition for e in engine.history(s, old)][-1] == "supersede"
    issued = plans.generate_orders(s, None, date(2026, 7, 31), at=day_at(date(2026, 4, 16)))
    assert [(o.plan_id, o.scheduled_for) for o in issued] == [
        (new.id, date(2026, 5, 10)),
        (new.id, date(2026, 6, 10)),
        (new.id, date(2026, 7, 10)),
    ]
    assert scheduled(world) == [
        (old.document_no, date(2026, 3, 10)),
        (old.document_no, date(2026, 4, 10)),
        (new.document_no, date(2026, 5, 10)),
        (new.document_no, date(2026, 6, 10)),
        (new.document_no, date(2026, 7, 10)),
    ]
    assert plans.generate_orders(s, None, date(2026, 7, 31), at=day_at(date(2026, 4, 16))) == []


def test_a_version_waits_for_the_orders_its_old_plan_issued_ahead(session: Session) -> None:
    world = build_world(session)
    s = world.session
    old = world.plan(start=date(2026, 3, 10))
    # The old plan has already issued May's order when the change is approved.
    plans.generate_orders(s, None, date(2026, 5, 15), at=day_at(date(2026, 4, 15)))
    new = change(
        world,
        old,
        date(2026, 4, 20),
        date(2026, 4, 15),
        frequency=Frequency.WEEKLY,
        start_date=date(2026, 4, 20),
    )
    approve(world, new, date(2026, 4, 16))
    plans.generate_orders(s, None, date(2026, 6, 30), at=day_at(date(2026, 4, 16)))
    dates = [d for _, d in scheduled(world)]
    assert dates[:3] == [date(2026, 3, 10), date(2026, 4, 10), date(2026, 5, 10)]
    # weekly from 20 April, but the order of 10 May covers the objects until 9 June
    assert dates[3] == date(2026, 6, 15)
    assert len(dates) == len(set(dates))


def test_change_rules(session: Session) -> None:
    world = build_world(session)
    s = world.session
    draft = world.plan(approve=False)
    with pytest.raises(DomainError) as not_approved:
        change(world, draft, date(2026, 4, 20), date(2026, 4, 15))
    assert not_approved.value.key == "plans.change_needs_approval"
    old = world.plan(start=date(2026, 3, 10))
    with pytest.raises(FormRejected) as refused:
        change(
            world,
            old,
            date(2026, 3, 10),
            date(2026, 3, 2),
            start_date=date(2026, 3, 1),
            end_date=date(2026, 3, 9),
            object_codes=[],
        )
    assert [(p.field, p.key) for p in refused.value.problems] == [
        ("end_date", "plans.end_before_takeover"),
        ("objects", "plans.objects_required"),
        ("takes_over_on", "plans.takeover_before_start"),
    ]
    with pytest.raises(FormRejected) as past:
        change(world, old, date(2026, 4, 1), date(2026, 4, 15))
    assert [p.key for p in past.value.problems] == ["plans.takeover_in_past"]
    with pytest.raises(PermissionDenied):
        plans.change_plan(
            s,
            world["tech"],
            old,
            takes_over_on=date(2026, 5, 1),
            **fields(),  # type: ignore[arg-type]
        )
    new = change(world, old, date(2026, 5, 1), date(2026, 4, 15))
    detail = plans.plan_detail(s, world["eng"], old.document_no)
    assert (detail.next_version, detail.next_state, detail.may_change) == (
        new.document_no,
        "draft",
        False,
    )
    with pytest.raises(DomainError) as twice:
        change(world, old, date(2026, 5, 1), date(2026, 4, 15))
    assert (twice.value.key, twice.value.params["next_no"]) == (
        "plans.has_next_version",
        new.document_no,
    )
    # the version is edited like any draft, its takeover day included
    plans.revise_plan(
        s,
        world["eng"],
        new,
        new.version,
        **fields(),  # type: ignore[arg-type]
        takes_over_on=date(2026, 6, 1),
        at=day_at(date(2026, 4, 15)),
    )
    assert new.takes_over_on == date(2026, 6, 1)
    approve(world, new, date(2026, 4, 20))
    assert old.end_date == date(2026, 5, 31)
    assert audit_of(world, new.document_no) == ["create", "update"]
    assert audit_of(world, old.document_no) == ["update"]
    third = change(world, new, date(2026, 7, 1), date(2026, 4, 20))
    assert third.revision == 3
    versions = plans.plan_versions(s, world["mgr"], "OF1")
    assert versions[new.document_no] == plans.PlanVersion(
        2, old.document_no, date(2026, 6, 1), third.document_no
    )
    assert versions[old.document_no].next_version == new.document_no


def test_plan_reads_keep_to_the_users_offices(session: Session) -> None:
    world = build_world(session)
    s = world.session
    plan = world.plan()
    with pytest.raises(NotFound):
        plans.plan_detail(s, world["mgr2"], plan.document_no)
    assert plans.plan_versions(s, world["mgr2"], "OF1") == {}
    assert plan.document_no in plans.plan_versions(s, world["mgr"], "OF1")


# ---------------------------------------------------------------- migration 0013


def _without_customer_service(database: Engine) -> None:
    """The demo's customer-service inspections and their nonconformities removed: migration
    0023's downgrade refuses customer-service rows (before it only four disciplines exist)."""
    orders = "select id from insp_order where discipline = 'customer_service'"
    plans = "select id from insp_plan where discipline = 'customer_service'"
    with database.begin() as con:
        for sql in (
            f"delete from insp_photo where score_id in"
            f" (select id from insp_score where order_id in ({orders}))",
            f"delete from insp_score where order_id in ({orders})",
            "delete from insp_order where discipline = 'customer_service'",
            f"delete from insp_item where plan_id in ({plans})",
            f"delete from insp_checkpoint where plan_id in ({plans})",
            "delete from insp_plan where discipline = 'customer_service'",
            "delete from supplier_nonconformity where discipline = 'customer_service'",
        ):
            con.execute(text(sql))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow  # every migration down to 0012 and back up
def test_migration_0013_keeps_every_plan_its_objects_and_orders_both_ways(
    backend: str, tmp_path: Path
) -> None:
    for url in fresh_database_url(backend, tmp_path):
        upgrade(url)
        database = create_db_engine(url)
        try:
            with unit_of_work(database) as db:
                load_demo(
                    db, DemoOptions(offices=1, days=3, seed=7, now=day_at(date(2026, 11, 20)))
                )

            def counts(database: Engine) -> list[int]:
                with database.connect() as con:
                    return [
                        con.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                        for table in (
                            "maint_periodic_plan",
                            "maint_plan_object",
                            "maint_periodic_order",
                        )
                    ]

            before = counts(database)
            assert before[0] and before[1] and before[2]
            _without_customer_service(database)
            database.dispose()
            command.downgrade(alembic_config(url), "0011_energy_followups")
            assert counts(database) == before
            assert "revision" not in {
                c["name"] for c in inspect(database).get_columns("maint_periodic_plan")
            }
            database.dispose()
            upgrade(url)
            assert counts(database) == before
            with database.connect() as con:
                assert con.execute(
                    text("SELECT DISTINCT revision FROM maint_periodic_plan")
                ).scalars().all() == [1]
        finally:
            database.dispose()
