"""Inspections (P6–P9): plans of both kinds and who approves them, order generation that never
issues twice, scoring, the pass-mark rule, photos, nonconformities and the completion clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operational.auth import load_principal
from operational.db import alembic_config, create_db_engine, upgrade
from operational.errors import DomainError, FormRejected, NotFound, PermissionDenied
from operational.models import (
    CityCompany,
    DeductionStandard,
    Discipline,
    InspectionOrder,
    InspectionPlan,
    InspectionScore,
    Nonconformity,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    Supplier,
    SupplierContract,
    User,
    WorkflowClock,
)
from operational.services import inspections as insp
from operational.services import orders
from operational.services.inspections import Checkpoint, Item
from operational.workflow import engine
from tests.conftest import BACKENDS, fresh_database_url
from tests.operational.test_workflow_support import T0, World, build_world

ROUTE = (Checkpoint("CP-1", object_code="EL-1"), Checkpoint("CP-2", area="Lobby, building 15"))
ITEMS = (
    Item("CP-1", "Car clean and lit", 10, 6),
    Item("CP-1", "Emergency phone answers", 5, 5),
    Item("CP-2", "Floor dry, no litter", 10, 7),
)


def _person(world: World, username: str, role: Role, *, office: str = "", city: str = "") -> None:
    s = world.session
    if city:
        city_id = s.scalars(select(CityCompany.id).where(CityCompany.code == city)).one()
        grant = RoleGrant(role=role.value, scope_level=ScopeLevel.CITY.value, city_id=city_id)
    else:
        office_id = s.scalars(select(Office.id).where(Office.code == office)).one()
        grant = RoleGrant(role=role.value, scope_level=ScopeLevel.OFFICE.value, office_id=office_id)
    user = User(username=username, display_name=username, password_hash="x", grants=[grant])
    s.add(user)
    s.flush()
    world.people[username] = load_principal(s, user.id)


def _world(session: Session) -> World:
    world = build_world(session)
    _person(world, "audit", Role.CITY_AUDIT_MANAGER, city="WTC1")
    _person(world, "cs", Role.CS_SUPERVISOR, office="OF1")
    return world


def _draft(
    world: World,
    kind: str = "professional",
    *,
    who: str = "eng",
    inspector: str = "eng",
    frequency: str = "weekly",
    start: date = date(2026, 3, 2),
    end: date | None = None,
) -> InspectionPlan:
    return insp.draft_inspection_plan(
        world.session,
        world[who],
        kind=kind,
        office_code="OF1",
        name="Weekly walk, building 15",
        discipline="engineering",
        inspector=inspector,
        frequency=frequency,
        start_date=start,
        end_date=end,
        route=ROUTE,
        items=ITEMS,
        at=T0,
    )


def _approved(world: World, kind: str = "professional", **kw: object) -> InspectionPlan:
    drafter, approver = ("eng", "mgr") if kind == "professional" else ("mgr", "audit")
    plan = _draft(world, kind, who=drafter, inspector=drafter, **kw)  # type: ignore[arg-type]
    s = world.session
    insp.submit_inspection_plan(s, world[drafter], plan, plan.version, at=T0)
    insp.approve_inspection_plan(s, world[approver], plan, plan.version, at=T0)
    return plan


def _orders(world: World) -> int:
    return world.session.scalar(select(func.count()).select_from(InspectionOrder)) or 0


def test_a_professional_plan_is_drafted_by_a_supervisor_and_approved_by_the_office_manager(
    session: Session,
) -> None:
    world = _world(session)
    s = world.session
    with pytest.raises(PermissionDenied):
        _draft(world, who="mgr")  # the office manager drafts quality plans, not professional
    plan = _draft(world)
    assert (plan.state, plan.kind, plan.document_no) == (
        "draft",
        "professional",
        f"IP-OF1-{plan.id:06d}",
    )
    insp.submit_inspection_plan(s, world["eng"], plan, plan.version)
    assert [i.document_no for i in orders.todo_list(s, world["mgr"])] == [plan.document_no]
    assert plan.document_no not in [i.document_no for i in orders.todo_list(s, world["audit"])]
    for who in ("eng", "audit", "mgr2", "cs"):
        with pytest.raises(PermissionDenied):
            insp.approve_inspection_plan(s, world[who], plan, plan.version)
    insp.return_inspection_plan(s, world["mgr"], plan, plan.version, "add the escalators")
    view = insp.inspection_plan_view(s, world["eng"], plan.document_no)
    assert (view.state, view.returned_reason) == ("returned", "add the escalators")
    assert "revise" in view.actions and "submit" in view.actions
    insp.submit_inspection_plan(s, world["eng"], plan, plan.version)
    insp.approve_inspection_plan(s, world["mgr"], plan, plan.version, at=T0)
    assert (plan.state, plan.approved_at) == ("approved", T0)


def test_a_quality_plan_is_drafted_by_the_office_manager_and_approved_by_city_audit(
    session: Session,
) -> None:
    world = _world(session)
    s = world.session
    with pytest.raises(PermissionDenied):
        _draft(world, "quality", who="eng")
    plan = _draft(world, "quality", who="mgr", inspector="mgr")
    assert plan.document_no.startswith("QP-OF1-")
    insp.submit_inspection_plan(s, world["mgr"], plan, plan.version)
    assert [i.document_no for i in orders.todo_list(s, world["audit"])] == [plan.document_no]
    with pytest.raises(PermissionDenied):
        insp.approve_inspection_plan(s, world["mgr"], plan, plan.version)  # not its own
    insp.approve_inspection_plan(s, world["audit"], plan, plan.version, at=T0)
    assert plan.state == "approved"


def test_a_supervisor_drafts_and_edits_plans_of_their_own_discipline_only(
    session: Session,
) -> None:
    world = _world(session)
    s = world.session

    def draft(who: str, discipline: str, kind: str = "professional") -> InspectionPlan:
        return insp.draft_inspection_plan(
            s,
            world[who],
            kind=kind,
            office_code="OF1",
            name="Walk",
            discipline=discipline,
            inspector=who,
            frequency="weekly",
            start_date=date(2026, 3, 2),
            route=ROUTE,
            items=ITEMS,
            at=T0,
        )

    for who, theirs, other in (
        ("eng", "engineering", "cleaning"),
        ("clean", "cleaning", "security"),
    ):
        assert insp.plan_disciplines(world[who], "professional", "OF1") == [theirs]
        with pytest.raises(FormRejected) as rejected:
            draft(who, other)
        [problem] = rejected.value.problems
        assert (problem.field, problem.key) == ("discipline", "inspfix.not_your_discipline")
        assert draft(who, theirs).discipline == theirs
    assert s.scalar(select(func.count()).select_from(InspectionPlan)) == 2
    # the office manager drafts quality plans of any discipline
    assert insp.plan_disciplines(world["mgr"], "quality", "OF1") == [
        "engineering",
        "landscaping",
        "security",
        "cleaning",
        "customer_service",
    ]
    assert draft("mgr", "security", "quality").discipline == "security"
    # editing a returned plan keeps to the drafter's discipline too
    plan = draft("eng", "engineering")
    insp.submit_inspection_plan(s, world["eng"], plan, plan.version)
    insp.return_inspection_plan(s, world["mgr"], plan, plan.version, "wrong route")
    with pytest.raises(FormRejected):
        insp.revise_inspection_plan(
            s,
            world["eng"],
            plan,
            plan.version,
            name="Walk",
            discipline="landscaping",
            inspector="eng",
            frequency="weekly",
            start_date=date(2026, 3, 2),
            route=ROUTE,
            items=ITEMS,
        )
    assert (plan.discipline, plan.state) == ("engineering", "returned")


def test_a_plan_lists_every_problem_of_its_form(session: Session) -> None:
    world = _world(session)
    with pytest.raises(FormRejected) as rejected:
        insp.draft_inspection_plan(
            world.session,
            world["eng"],
            kind="professional",
            office_code="OF1",
            name=" ",
            discipline="engineering",
            inspector="tech",  # technicians do not inspect
            frequency="weekly",
            start_date=date(2026, 3, 2),
            route=(
                Checkpoint("CP-1", object_code="NOPE"),
                Checkpoint("CP-1", area="x"),
                Checkpoint("CP-3"),
            ),
            items=(Item("CP-9", "x", 5, 6), Item("CP-1", "y", 5, 6)),
        )
    keys = [p.key for p in rejected.value.problems]
    assert keys == [
        "plans.name_required",
        "inspections.not_an_inspector",
        "inspections.duplicate_checkpoint",
        "inspections.object_or_area",
        "orders.unknown_object",
        "inspections.item_checkpoint_unknown",
        "inspections.bad_pass_mark",
        "inspections.bad_pass_mark",
        "inspections.checkpoint_without_items",
    ]
    assert world.session.scalar(select(func.count()).select_from(InspectionPlan)) == 0


def test_approved_plans_issue_orders_once_per_period_with_every_item(session: Session) -> None:
    world = _world(session)
    s = world.session
    draft = _draft(world)
    with pytest.raises(DomainError) as not_approved:
        insp.generate_inspection_orders(s, draft, date(2026, 3, 31), at=T0)
    assert not_approved.value.key == "plans.not_approved"
    plan = _approved(world)
    issued = insp.generate_inspection_orders(s, None, date(2026, 3, 20), at=T0)
    assert [o.scheduled_for for o in issued] == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert {(o.state, o.kind, o.inspector_id) for o in issued} == {
        ("issued", "professional", world["eng"].user_id)
    }
    assert insp.generate_inspection_orders(s, None, date(2026, 3, 20), at=T0) == []
    assert insp.generate_inspection_orders(s, plan, date(2026, 3, 20), at=T0) == []
    later = insp.generate_inspection_orders(s, plan, date(2026, 3, 31), at=T0)
    assert [o.scheduled_for for o in later] == [date(2026, 3, 23), date(2026, 3, 30)]
    assert _orders(world) == 5
    scores = s.scalars(
        select(InspectionScore)
        .where(InspectionScore.order_id == issued[0].id)
        .order_by(InspectionScore.checkpoint_position, InspectionScore.position)
    ).all()
    assert [(x.checkpoint_code, x.name, x.max_score, x.pass_mark, x.score) for x in scores] == [
        ("CP-1", "Car clean and lit", 10, 6, None),
        ("CP-1", "Emergency phone answers", 5, 5, None),
        ("CP-2", "Floor dry, no litter", 10, 7, None),
    ]


def test_the_completion_clock_runs_from_the_scheduled_day_per_office_and_discipline(
    session: Session,
) -> None:
    world = _world(session)
    s = world.session
    orders.set_deadline(
        s, world["mgr"], "OF1", Discipline.ENGINEERING, 24, document_type="inspection"
    )
    _approved(world, end=date(2026, 3, 9))
    first, second = insp.generate_inspection_orders(s, None, date(2026, 3, 31), at=T0)
    clock = s.scalars(
        select(WorkflowClock).where(
            WorkflowClock.document_type == "inspection", WorkflowClock.document_id == second.id
        )
    ).one()
    start = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)  # 9 March 00:00 in Shanghai
    assert (clock.started_at, clock.due_at) == (start, start + timedelta(hours=24))
    order = first
    insp.start_inspection(s, world["eng"], order, order.version, at=T0)
    for row in _scores(s, order):
        insp.score_item(s, world["eng"], order, row.id, score=row.max_score)
    insp.submit_inspection(s, world["eng"], order, order.version, at=T0 + timedelta(hours=2))
    (stopped,) = s.scalars(
        select(WorkflowClock).where(
            WorkflowClock.document_type == "inspection", WorkflowClock.document_id == order.id
        )
    ).all()
    assert stopped.stopped_at == T0 + timedelta(hours=2)
    assert (order.state, order.submitted_at) == ("submitted", T0 + timedelta(hours=2))


def _scores(s: Session, order: InspectionOrder) -> list[InspectionScore]:
    return list(
        s.scalars(
            select(InspectionScore)
            .where(InspectionScore.order_id == order.id)
            .order_by(InspectionScore.checkpoint_position, InspectionScore.position)
        )
    )


def _walking(world: World) -> InspectionOrder:
    _approved(world, end=date(2026, 3, 2))
    (order,) = insp.generate_inspection_orders(world.session, None, date(2026, 3, 31), at=T0)
    insp.start_inspection(world.session, world["eng"], order, order.version, at=T0)
    return order


def test_a_failed_item_cannot_be_submitted_without_a_nonconformity(session: Session) -> None:
    world = _world(session)
    s = world.session
    order = _walking(world)
    car, phone, floor = _scores(s, order)
    insp.score_item(s, world["eng"], order, car.id, score=8)
    with pytest.raises(FormRejected) as unscored:
        insp.submit_inspection(s, world["eng"], order, order.version)
    assert unscored.value.key == "inspections.unscored"
    insp.score_item(s, world["eng"], order, phone.id, score=5)  # at the pass mark: passes
    insp.score_item(s, world["eng"], order, floor.id, score=4, note="water by the door")
    with pytest.raises(FormRejected) as refused:
        insp.submit_inspection(s, world["eng"], order, order.version)
    assert [p.key for p in refused.value.problems] == ["inspections.failed_needs_nonconformity"]
    assert refused.value.problems[0].params["item"] == "Floor dry, no litter"
    assert order.state == "in_progress"
    with pytest.raises(DomainError) as passed:
        insp.open_item_nonconformity(
            s, world["eng"], order, car.id, kind="notice", description="fine"
        )
    assert passed.value.key == "inspections.item_not_failed"
    nc = insp.open_item_nonconformity(
        s, world["eng"], order, floor.id, kind="notice", description="Wet floor at the entrance"
    )
    assert (nc.nc_no, nc.kind, nc.discipline) == (f"NCN-OF1-{nc.id:06d}", "notice", "engineering")
    assert (nc.state, nc.assignee_id) == ("issued", world["eng"].user_id)
    assert floor.nonconformity_id == nc.id
    with pytest.raises(DomainError) as twice:
        insp.open_item_nonconformity(
            s, world["eng"], order, floor.id, kind="notice", description="again"
        )
    assert twice.value.key == "inspections.item_has_nonconformity"
    insp.submit_inspection(s, world["eng"], order, order.version)
    assert order.state == "submitted"
    assert engine.history(s, order)[-1].payload == {"total": 17, "max": 25, "failed": 1}
    view = insp.inspection_order_view(s, world["eng"], order.document_no)
    assert [(x.score, x.failed, x.nonconformity_no) for x in view.scores] == [
        (8, False, None),
        (5, False, None),
        (4, True, nc.nc_no),
    ]


def test_only_the_inspector_scores_and_only_while_in_progress(session: Session) -> None:
    world = _world(session)
    s = world.session
    _approved(world, end=date(2026, 3, 2))
    (order,) = insp.generate_inspection_orders(s, None, date(2026, 3, 31), at=T0)
    row = _scores(s, order)[0]
    with pytest.raises(DomainError) as not_started:
        insp.score_item(s, world["eng"], order, row.id, score=3)
    assert not_started.value.key == "inspections.not_in_progress"
    with pytest.raises(PermissionDenied):
        insp.start_inspection(s, world["clean"], order, order.version)
    insp.start_inspection(s, world["eng"], order, order.version)
    for who in ("clean", "mgr", "tech"):
        with pytest.raises(PermissionDenied):
            insp.score_item(s, world[who], order, row.id, score=3)
    with pytest.raises(FormRejected) as out_of_range:
        insp.score_item(s, world["eng"], order, row.id, score=11)
    assert out_of_range.value.key == "inspections.bad_score"
    assert row.score is None


def test_a_photo_is_kept_with_its_item_and_replaced_by_a_new_one(session: Session) -> None:
    world = _world(session)
    s = world.session
    order = _walking(world)
    row = _scores(s, order)[2]
    with pytest.raises(DomainError) as not_image:
        insp.attach_photo(
            s, world["eng"], order, row.id, data=b"%PDF", content_type="application/pdf"
        )
    assert not_image.value.key == "inspections.photo_type"
    with pytest.raises(DomainError) as too_big:
        insp.attach_photo(
            s,
            world["eng"],
            order,
            row.id,
            data=b"x" * (5 * 1024 * 1024 + 1),
            content_type="image/jpeg",
        )
    assert too_big.value.key == "inspections.photo_size"
    insp.attach_photo(s, world["eng"], order, row.id, data=b"first", content_type="image/jpeg")
    insp.attach_photo(s, world["eng"], order, row.id, data=b"second", content_type="image/png")
    assert insp.inspection_photos(s, world["mgr"], order.document_no) == {
        row.id: (b"second", "image/png")
    }
    assert insp.inspection_order_view(s, world["eng"], order.document_no).scores[2].has_photo
    with pytest.raises(NotFound):
        insp.inspection_photos(s, world["mgr2"], order.document_no)


def test_a_nonconformity_against_a_contract_takes_points_from_its_standard(
    session: Session,
) -> None:
    world = _world(session)
    s = world.session
    office = s.scalars(select(Office).where(Office.code == "OF1")).one()
    supplier = Supplier(group_id=1, supplier_code="SUP-1", name="Lift Co", discipline="engineering")
    s.add(supplier)
    s.flush()
    contract = SupplierContract(
        contract_no="C-1",
        supplier_id=supplier.id,
        office_id=office.id,
        discipline="engineering",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        amount=Decimal("120000.00"),
    )
    s.add(contract)
    s.flush()
    s.add_all(
        [
            DeductionStandard(contract_id=contract.id, points=1, amount=Decimal("50")),
            DeductionStandard(contract_id=contract.id, points=2, amount=Decimal("100")),
        ]
    )
    order = _walking(world)
    floor = _scores(s, order)[2]
    insp.score_item(s, world["eng"], order, floor.id, score=0)
    with pytest.raises(FormRejected) as refused:
        insp.open_item_nonconformity(
            s,
            world["eng"],
            order,
            floor.id,
            kind="corrective_preventive",
            description="",
            contract_no="C-1",
            breach_points=3,
        )
    assert [p.field for p in refused.value.problems] == ["description", "breach_points"]
    with pytest.raises(FormRejected) as no_points:
        insp.open_item_nonconformity(
            s,
            world["eng"],
            order,
            floor.id,
            kind="corrective_preventive",
            description="Lift pit flooded",
            contract_no="C-1",
        )
    assert [p.field for p in no_points.value.problems] == ["breach_points"]
    nc = insp.open_item_nonconformity(
        s,
        world["eng"],
        order,
        floor.id,
        kind="corrective_preventive",
        description="Lift pit flooded",
        contract_no="C-1",
        breach_points=2,
    )
    assert (nc.contract_id, nc.breach_points) == (contract.id, 2)
    assert s.scalar(select(func.count()).select_from(Nonconformity)) == 1


def test_a_checkpoint_label_opens_the_inspectors_open_order(session: Session) -> None:
    world = _world(session)
    s = world.session
    plan = _approved(world, end=date(2026, 3, 9))
    first, second = insp.generate_inspection_orders(s, None, date(2026, 3, 31), at=T0)
    assert insp.order_for_plan(s, world["eng"], plan.document_no, "CP-2") == first.document_no
    with pytest.raises(NotFound):
        insp.order_for_plan(s, world["eng"], plan.document_no, "CP-9")
    with pytest.raises(NotFound):
        insp.order_for_plan(s, world["mgr2"], plan.document_no, "CP-2")
    todo = [i.document_no for i in orders.todo_list(s, world["eng"])]
    assert todo[:2] == [first.document_no, second.document_no]


def test_customer_service_inspects_its_own_discipline_with_its_own_target(
    session: Session,
) -> None:
    """The customer-service supervisor drafts a customer-service plan; its orders run the office's
    inspection target for customer service, and a failed item opens a customer-service
    nonconformity."""
    world = _world(session)
    s = world.session
    assert insp.plan_disciplines(world["cs"], "professional", "OF1") == ["customer_service"]
    orders.set_deadline(s, world["mgr"], "OF1", "customer_service", 8, document_type="inspection")
    with pytest.raises(ValueError, match="no corrective_order of discipline customer_service"):
        orders.set_deadline(s, world["mgr"], "OF1", "customer_service", 8)  # no such orders
    targets = orders.corrective_targets(s, world["mgr"], "OF1", document_type="inspection")
    assert (targets["customer_service"][0].minutes, targets["customer_service"][1]) == (480, True)
    assert "customer_service" not in orders.corrective_targets(s, world["mgr"], "OF1")
    plan = insp.draft_inspection_plan(
        s,
        world["cs"],
        kind="professional",
        office_code="OF1",
        name="Front desk walk",
        discipline="customer_service",
        inspector="cs",
        frequency="weekly",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 2),
        route=(Checkpoint("DESK", area="Service centre"),),
        items=(Item("DESK", "Greeting within 30 s", 10, 8),),
        at=T0,
    )
    insp.submit_inspection_plan(s, world["cs"], plan, plan.version, at=T0)
    insp.approve_inspection_plan(s, world["mgr"], plan, plan.version, at=T0)
    (order,) = insp.generate_inspection_orders(s, None, date(2026, 3, 31), at=T0)
    assert order.discipline == "customer_service"
    clock = s.scalars(
        select(WorkflowClock).where(
            WorkflowClock.document_type == "inspection", WorkflowClock.document_id == order.id
        )
    ).one()
    assert clock.due_at - clock.started_at == timedelta(hours=8)  # the office's, not 72 h
    insp.start_inspection(s, world["cs"], order, order.version, at=T0)
    (row,) = _scores(s, order)
    insp.score_item(s, world["cs"], order, row.id, score=5)
    nc = insp.open_item_nonconformity(
        s, world["cs"], order, row.id, kind="notice", description="Visitor waited two minutes"
    )
    assert (nc.discipline, nc.state) == ("customer_service", "issued")
    insp.submit_inspection(s, world["cs"], order, order.version)
    assert order.state == "submitted"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow  # migrations down and back up
def test_migration_0023_lets_customer_service_inspect_and_the_way_back_refuses_it(
    backend: str, tmp_path: Path
) -> None:
    """After 0023 an inspection plan, order or nonconformity may be of customer service; before
    it (the way back) the discipline check refuses one."""
    insert = text(
        "insert into supplier_nonconformity (id, nc_no, office_id, kind, discipline, opened_at,"
        " created_at, state, version, description) values (1, 'NC-1', 1, 'notice',"
        " 'customer_service', '2026-01-05 02:00:00', '2026-01-05 02:00:00', 'issued', 1, 'x')"
    )
    for url in fresh_database_url(backend, tmp_path):
        upgrade(url)
        engine = create_db_engine(url)
        try:
            with engine.begin() as con:
                con.execute(text("insert into org_group (id, code, name) values (1, 'G', 'G')"))
                con.execute(
                    text(
                        "insert into org_city_company (id, group_id, code, name)"
                        " values (1, 1, 'C', 'C')"
                    )
                )
                con.execute(
                    text(
                        "insert into org_office (id, city_id, code, name, timezone)"
                        " values (1, 1, 'OF1', 'OF1', 'Asia/Shanghai')"
                    )
                )
                con.execute(insert)
                con.execute(text("delete from supplier_nonconformity"))
            command.downgrade(alembic_config(url), "0022_ticket_desk")
            with pytest.raises(IntegrityError), engine.begin() as con:
                con.execute(insert)
            upgrade(url)
            with engine.begin() as con:
                con.execute(insert)
        finally:
            engine.dispose()
