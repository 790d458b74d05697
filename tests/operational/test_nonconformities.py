"""Nonconformity tickets, live (operational.services.nonconformities): open one of each kind,
the breach-point rule against the contract's deduction standard, contracts of another office or
discipline refused, each kind's steps through the engine with its clock, a supplier user as the
assignee, scoped reads, the to-do list, and the supplier score fed as before — on SQLite and
PostgreSQL (docs/nonconformities.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from operational.auth import load_principal
from operational.db import alembic_config, create_db_engine, upgrade
from operational.errors import FormRejected, NotFound, PermissionDenied, StaleVersion
from operational.models import (
    Nonconformity,
    NonconformityCorrective,
    NonconformityHandling,
    Role,
    RoleGrant,
    ScopeLevel,
    Supplier,
    User,
    WorkflowClock,
    WorkflowEvent,
)
from operational.services import nonconformities as ncs
from operational.services.orders import todo_list
from operational.services.suppliers import contract_month
from tests.conftest import BACKENDS, fresh_database_url
from tests.operational.test_supplier_imports import load_contracts
from tests.operational.test_workflow_support import World, build_world

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def _supplier_user(session: Session, world: World, name: str = "sup", supplier: str = "S1") -> None:
    """A supplier's staff member with an account at OF1 (role supplier_user), tied to the
    supplier ``supplier`` (of the contracts ``load_contracts`` loads)."""
    supplier_id = session.scalars(
        select(Supplier.id).where(Supplier.supplier_code == supplier)
    ).one()
    office_id = session.scalars(
        select(RoleGrant.office_id).where(RoleGrant.role == Role.OFFICE_MANAGER.value)
    ).first()
    user = User(
        username=name,
        display_name=name,
        password_hash="x",
        supplier_id=supplier_id,
        grants=[
            RoleGrant(
                role=Role.SUPPLIER_USER.value,
                scope_level=ScopeLevel.OFFICE.value,
                office_id=office_id,
            )
        ],
    )
    session.add(user)
    session.flush()
    world.people[name] = load_principal(session, user.id)


@pytest.fixture
def world(session: Session) -> World:
    world = build_world(session)
    load_contracts(session, world)
    _supplier_user(session, world)
    return world


def _open(session: Session, world: World, **kwargs: object) -> Nonconformity:
    args: dict[str, object] = {
        "office_code": "OF1",
        "kind": "handling",
        "discipline": "cleaning",
        "description": "Lobby floor not mopped",
        "at": AT,
    }
    args.update(kwargs)
    who = str(args.pop("actor", "clean"))
    return ncs.open_nonconformity(session, world[who], **args)  # type: ignore[arg-type]


def test_a_corrective_ticket_against_a_contract_needs_points_from_its_standard(
    session: Session, world: World
) -> None:
    with pytest.raises(FormRejected) as missing:
        _open(session, world, kind="corrective_preventive", contract_no="K1")
    assert missing.value.fields() == ["breach_points"]
    assert "违约扣分" in missing.value.message("zh_CN")
    with pytest.raises(FormRejected) as outside:
        _open(session, world, kind="corrective_preventive", contract_no="K1", breach_points=3)
    assert "1, 2" in outside.value.message("en")  # the standard's steps are named
    assert session.scalars(select(Nonconformity)).all() == []
    nc = _open(session, world, kind="corrective_preventive", contract_no="K1", breach_points=2)
    assert isinstance(nc, NonconformityCorrective)
    assert (nc.state, nc.breach_points, nc.opened_at) == ("opened", 2, AT)
    assert nc.document_no.startswith("NCP-OF1-")


def test_a_contract_of_another_office_or_discipline_is_refused_with_every_problem(
    session: Session, world: World
) -> None:
    with pytest.raises(FormRejected) as other_office:
        _open(session, world, contract_no="K2")
    assert "OF2" in other_office.value.message("en")
    with pytest.raises(FormRejected) as other_discipline:
        _open(session, world, discipline="security", contract_no="K1", description=" ")
    assert other_discipline.value.fields() == ["description", "contract_no"]
    assert "cleaning" in other_discipline.value.message("en")
    with pytest.raises(FormRejected) as unknown:
        _open(session, world, contract_no="NOPE", kind="bogus")
    assert unknown.value.fields() == ["kind", "contract_no"]
    assert session.scalars(select(Nonconformity)).all() == []


def test_who_may_open_and_where(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        _open(session, world, actor="tech")  # works at OF1, opens none
    with pytest.raises(NotFound):
        _open(session, world, actor="mgr2")  # OF1 is outside their scope
    with pytest.raises(FormRejected) as bad_assignee:
        _open(session, world, assignee="tech_of2")
    assert bad_assignee.value.fields() == ["assignee"]


def test_a_handling_order_goes_to_a_supplier_user_and_closes_when_verified(
    session: Session, world: World
) -> None:
    nc = _open(session, world, contract_no="K1", breach_points=1, assignee="sup")
    assert isinstance(nc, NonconformityHandling) and nc.state == "assigned"
    clock = session.scalars(select(WorkflowClock).where(WorkflowClock.document_id == nc.id)).one()
    assert (clock.document_type, clock.due_at) == (
        "nonconformity_handling",
        AT + timedelta(hours=72),
    )
    sup = world["sup"]
    # The supplier user sees it (assigned to them) and it waits in their to-do list.
    assert ncs.get_nonconformity(session, sup, nc.document_no) is nc
    assert [i.document_no for i in todo_list(session, sup)] == [nc.document_no]
    assert [r.nc_no for r in ncs.list_nonconformities(session, sup)] == [nc.document_no]
    with pytest.raises(PermissionDenied):
        ncs.act(session, world["tech"], nc, "handle", nc.version, text="done")
    with pytest.raises(FormRejected):
        ncs.act(session, sup, nc, "handle", nc.version, text="  ")
    ncs.act(session, sup, nc, "handle", nc.version, text="Mopped twice", at=AT + timedelta(hours=5))
    assert (nc.state, nc.handling_note, nc.closed_at) == ("handled", "Mopped twice", None)
    assert ncs.available_steps(session, sup, nc) == []
    assert ncs.available_steps(session, world["clean"], nc) == ["verify", "send_back"]
    with pytest.raises(StaleVersion):
        ncs.act(session, world["clean"], nc, "verify", nc.version - 1)
    done = AT + timedelta(hours=6)
    ncs.act(session, world["clean"], nc, "verify", nc.version, text="Checked", at=done)
    assert (nc.state, nc.closed_at) == ("verified", done)
    session.refresh(clock)
    assert clock.stopped_at == done
    steps = [e.transition for e in ncs.nonconformity_history(session, world["mgr"], nc.document_no)]
    assert steps == ["assign", "handle", "verify"]
    # Another office's manager does not see it; nor does another supplier user.
    with pytest.raises(NotFound):
        ncs.get_nonconformity(session, world["mgr2"], nc.document_no)
    _supplier_user(session, world, "sup2", "S2")
    with pytest.raises(NotFound):
        ncs.get_nonconformity(session, world["sup2"], nc.document_no)


def test_a_notice_is_acknowledged_and_a_corrective_runs_its_four_steps(
    session: Session, world: World
) -> None:
    notice = _open(session, world, kind="notice", assignee="tech")
    ncs.act(
        session, world["tech"], notice, "acknowledge", notice.version, at=AT + timedelta(hours=1)
    )
    assert (notice.state, notice.closed_at) == ("acknowledged", AT + timedelta(hours=1))
    capa = _open(
        session,
        world,
        kind="corrective_preventive",
        contract_no="K1",
        breach_points=1,
        assignee="sup",
    )
    sup, clean = world["sup"], world["clean"]
    ncs.act(session, sup, capa, "find_cause", capa.version, text="Short of staff")
    ncs.act(session, sup, capa, "correct", capa.version, text="Extra shift")
    ncs.act(session, sup, capa, "prevent", capa.version, text="Rota with cover")
    ncs.act(session, clean, capa, "send_back", capa.version, text="Rota not signed")
    assert capa.state == "cause_found" and capa.closed_at is None
    ncs.act(session, sup, capa, "correct", capa.version, text="Extra shift")
    ncs.act(session, sup, capa, "prevent", capa.version, text="Signed rota")
    ncs.act(session, clean, capa, "verify", capa.version, text="OK")
    assert (capa.state, capa.cause, capa.prevention) == (
        "verified",
        "Short of staff",
        "Signed rota",
    )
    assert capa.closed_at is not None
    # Reassigning is the opener's, and moves the to-do.
    other = _open(session, world, assignee="tech")
    ncs.act(session, clean, other, "reassign", other.version, assignee="tech2")
    assert [i.document_no for i in todo_list(session, world["tech2"])] == [other.document_no]
    events = session.scalars(
        select(WorkflowEvent.transition).where(WorkflowEvent.document_no == other.document_no)
    ).all()
    assert events == ["assign", "reassign"]


def test_a_live_ticket_feeds_the_contract_score_like_an_imported_one(
    session: Session, world: World
) -> None:
    nc = _open(session, world, kind="corrective_preventive", contract_no="K1", breach_points=2)
    view = contract_month(
        session, world["mgr"], "K1", AT.date().replace(day=1), now=AT + timedelta(days=1)
    )
    assert [(n.nc_no, n.breach_points, n.amount) for n in view.nonconformities] == [
        (nc.document_no, 2, 100)
    ]
    assert view.figures is not None and view.figures.score == 98


def test_an_office_sets_its_own_target_for_a_kind_and_discipline(
    session: Session, world: World
) -> None:
    from operational.models import Discipline
    from operational.services import orders
    from operational.sla import ClockTarget, ClockUnit

    target = ClockTarget(24, ClockUnit.CALENDAR_HOURS, "24x7")
    with pytest.raises(PermissionDenied):
        orders.set_target(
            session,
            world["clean"],
            "OF1",
            Discipline.CLEANING,
            target,
            document_type="nonconformity_handling",
        )
    orders.set_target(
        session,
        world["mgr"],
        "OF1",
        Discipline.CLEANING,
        target,
        document_type="nonconformity_handling",
    )
    shown = orders.corrective_targets(
        session, world["mgr"], "OF1", document_type="nonconformity_handling"
    )
    assert shown[Discipline.CLEANING] == (target, True)
    assert shown[Discipline.SECURITY][1] is False  # the default elsewhere
    nc = _open(session, world)
    clock = session.scalars(select(WorkflowClock).where(WorkflowClock.document_id == nc.id)).one()
    assert clock.due_at == AT + timedelta(hours=24)
    # Corrective orders keep theirs.
    assert orders.corrective_targets(session, world["mgr"], "OF1")[Discipline.CLEANING][1] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0020_puts_the_imported_history_into_its_states(
    backend: str, tmp_path: Path
) -> None:
    """Rows of the go-live import before 0020 become documents of their kind: closed ones in
    their kind's last state, open ones in its first; the way back drops the new columns."""
    for url in fresh_database_url(backend, tmp_path):
        upgrade(url, "0018_property")
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
                for i, (kind, closed) in enumerate(
                    [("notice", True), ("handling", False), ("corrective_preventive", True)]
                ):
                    con.execute(
                        text(
                            "insert into supplier_nonconformity (id, nc_no, office_id, kind,"
                            " discipline, opened_at, closed_at, created_at) values (:i, :no, 1,"
                            " :kind, 'cleaning', :opened, :closed, :opened)"
                        ),
                        {
                            "i": i + 1,
                            "no": f"NC-{i}",
                            "kind": kind,
                            "opened": datetime(2026, 1, 5, 2),
                            "closed": datetime(2026, 1, 6, 2) if closed else None,
                        },
                    )
            upgrade(url, "0020_nonconformity_flows")
            with Session(engine) as s:
                rows = s.scalars(select(Nonconformity).order_by(Nonconformity.id)).all()
                assert [(type(n).__name__, n.nc_no, n.state, n.version) for n in rows] == [
                    ("NonconformityNotice", "NC-0", "acknowledged", 1),
                    ("NonconformityHandling", "NC-1", "assigned", 1),
                    ("NonconformityCorrective", "NC-2", "verified", 1),
                ]
            command.downgrade(alembic_config(url), "0018_property")
            columns = {c["name"] for c in inspect(engine).get_columns("supplier_nonconformity")}
            assert "state" not in columns and "assignee_id" not in columns
            upgrade(url, "0020_nonconformity_flows")
        finally:
            engine.dispose()


def test_the_history_import_keeps_states_in_step_and_leaves_live_tickets_alone(
    session: Session, world: World
) -> None:
    import warnings

    from operational.imports.suppliers import import_nonconformity_rows
    from operational.imports.table import ImportRejected
    from tests.operational.test_supplier_imports import NC_COLUMNS, rows

    admin = world["admin"]

    def load(*line: str) -> None:
        import_nonconformity_rows(session, rows(NC_COLUMNS, line), actor=admin)

    load("NC-1", "OF1", "notice", "cleaning", "2026-02-01 09:00", "", "", "")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no flush of a row under the wrong class
        load("NC-1", "OF1", "handling", "cleaning", "2026-02-01 09:00", "2026-02-03 09:00", "", "")
    session.expunge_all()
    nc = session.scalars(select(Nonconformity).where(Nonconformity.document_no == "NC-1")).one()
    assert (type(nc), nc.state) == (NonconformityHandling, "verified")
    live = _open(session, world)
    with pytest.raises(ImportRejected) as refused:
        load(live.document_no, "OF1", "notice", "cleaning", "2026-02-01 09:00", "", "", "")
    [line] = refused.value.report("en")[1:]
    assert live.document_no in line and "live nonconformity" in line


def test_the_list_pages_through_what_the_reader_may_see(session: Session, world: World) -> None:
    opened = [
        _open(session, world, at=AT + timedelta(minutes=i), assignee="sup" if i % 2 else "tech")
        for i in range(5)
    ]
    clean, sup = world["clean"], world["sup"]
    assert ncs.count_nonconformities(session, clean) == 5
    newest_first = [n.document_no for n in reversed(opened)]
    first = ncs.list_nonconformities(session, clean, limit=3)
    rest = ncs.list_nonconformities(session, clean, limit=3, offset=3)
    assert [r.nc_no for r in first + rest] == newest_first
    # the supplier user: the two assigned to them
    assert ncs.count_nonconformities(session, sup) == 2
    assert {r.nc_no for r in ncs.list_nonconformities(session, sup, limit=None)} == {
        opened[1].document_no,
        opened[3].document_no,
    }
    ncs.act(session, world["tech"], opened[0], "handle", opened[0].version, text="done")
    ncs.act(session, clean, opened[0], "verify", opened[0].version)
    assert ncs.count_nonconformities(session, clean, open_only=True) == 4
    assert ncs.count_nonconformities(session, world["mgr2"]) == 0


def test_a_suppliers_nonconformity_never_goes_to_another_suppliers_staff(
    session: Session, world: World
) -> None:
    """A nonconformity against S1's contract is S1's work: it may go to S1's staff or the
    office's own, never to S2's — opened or reassigned; one against no contract may."""
    _supplier_user(session, world, "sup2", "S2")
    with pytest.raises(FormRejected) as refused:
        _open(session, world, contract_no="K1", breach_points=1, assignee="sup2")
    assert refused.value.fields() == ["assignee"]
    assert "sup2" in refused.value.message("en") and "K1" in refused.value.message("en")
    assert session.scalars(select(Nonconformity)).all() == []
    nc = _open(session, world, contract_no="K1", breach_points=1, assignee="sup")
    with pytest.raises(FormRejected) as moved:
        ncs.act(session, world["clean"], nc, "reassign", nc.version, assignee="sup2")
    assert moved.value.fields() == ["assignee"]
    assert nc.assignee_id == world["sup"].user_id
    ncs.act(session, world["clean"], nc, "reassign", nc.version, assignee="clean")  # staff: yes
    own_work = _open(session, world, assignee="sup2")  # no contract: whoever it is sent to
    assert ncs.get_nonconformity(session, world["sup2"], own_work.document_no) is own_work
    with pytest.raises(NotFound):
        ncs.get_nonconformity(session, world["sup2"], nc.document_no)


def test_a_customer_service_nonconformity_is_opened_by_hand_without_a_contract(
    session: Session, world: World
) -> None:
    """Customer service (the fifth inspection discipline) opens by hand; no supplier contract
    is of that discipline, so naming one is refused on the contract field."""
    nc = _open(session, world, kind="notice", discipline="customer_service", actor="mgr")
    assert (nc.discipline, nc.state, nc.contract_id) == ("customer_service", "issued", None)
    assert ncs.contract_choices(session, world["mgr"], "OF1", "customer_service") == []
    with pytest.raises(FormRejected) as refused:
        _open(session, world, discipline="customer_service", contract_no="K1", actor="mgr")
    assert refused.value.fields() == ["contract_no"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow  # migrations down and back up
def test_migration_0026_indexes_the_unmoved_nonconformities_and_takes_it_back(
    backend: str, tmp_path: Path
) -> None:
    """The rows a warehouse refresh reads again every time (version 1: the go-live history's and
    those just opened, docs/warehouse.md) come from a partial index, not a scan of the table;
    the way back drops it."""
    name = "ix_supplier_nonconformity_unmoved"
    for url in fresh_database_url(backend, tmp_path):
        upgrade(url, "0025_ticket_scale")
        engine = create_db_engine(url)
        try:

            def indexed(engine: Engine = engine) -> bool:
                return name in {
                    i["name"] for i in inspect(engine).get_indexes("supplier_nonconformity")
                }

            assert not indexed()
            upgrade(url, "0026_unmoved_nonconformities")
            assert indexed()
            if engine.dialect.name == "sqlite":
                with engine.connect() as con:
                    plan = " ".join(
                        str(row[-1])
                        for row in con.execute(
                            text(
                                "EXPLAIN QUERY PLAN SELECT * FROM supplier_nonconformity"
                                " WHERE version = 1"
                            )
                        )
                    )
                assert name in plan, plan
            else:
                with engine.connect() as con:
                    definition = con.scalar(
                        text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}
                    )
                assert "WHERE (version = 1)" in str(definition)
            command.downgrade(alembic_config(url), "0025_ticket_scale")
            assert not indexed()
            upgrade(url)
            assert indexed()
        finally:
            engine.dispose()
