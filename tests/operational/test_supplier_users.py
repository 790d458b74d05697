"""Supplier users (供方用户): an account tied to one supplier holds only the supplier-user role,
is dispatched orders like any handler, and sees and processes only its supplier's work — the
orders dispatched to its users, the nonconformities and statements of its contracts — and
nothing of another supplier's or of the office's other work; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Permission, Principal, load_principal
from operational.errors import DomainError, NotFound
from operational.imports.suppliers import (
    CONTRACT_COLUMNS,
    SUPPLIER_COLUMNS,
    import_contract_rows,
    import_nonconformity_rows,
    import_supplier_rows,
)
from operational.models import AuditEntry, Discipline, Role, ScopeLevel
from operational.scope import UNNAMED
from operational.services import lookup, orders
from operational.services.energy import list_points
from operational.services.supplier_work import open_nonconformities
from operational.services.suppliers import contract_month
from operational.services.users import GrantSpec, add_user, list_users, set_grants
from tests.operational.test_supplier_imports import NC_COLUMNS, load_contracts, rows
from tests.operational.test_workflow_support import T0, World, build_world


def supplier_user(session: Session, world: World, username: str, supplier: str) -> Principal:
    view = add_user(
        session,
        world["admin"],
        username=username,
        display_name=username,
        password="long enough",
        grants=[GrantSpec(Role.SUPPLIER_USER, ScopeLevel.OFFICE, "OF1")],
        supplier_code=supplier,
    )
    return load_principal(session, view.user_id)


def test_a_supplier_user_belongs_to_one_supplier_and_holds_only_its_role(
    session: Session,
) -> None:
    world = build_world(session)
    load_contracts(session, world)
    user = supplier_user(session, world, "s1.wang", "S1")
    assert user.supplier_code == "S1" and user.can(Permission.HANDLE_ORDERS, "OF1")
    assert not user.can(Permission.VIEW_ENERGY) and not user.can(Permission.VIEW_OVERVIEW)
    assert [
        u.supplier_code for u in list_users(session, world["admin"]) if u.username == "s1.wang"
    ] == ["S1"]
    created = session.scalars(select(AuditEntry).where(AuditEntry.entity_key == "s1.wang")).one()
    assert created.after is not None and created.after["supplier"] == "S1"

    def add(username: str, role: Role, supplier: str) -> None:
        add_user(
            session,
            world["admin"],
            username=username,
            display_name=username,
            password="long enough",
            grants=[GrantSpec(role, ScopeLevel.OFFICE, "OF1")],
            supplier_code=supplier,
        )

    with pytest.raises(DomainError) as other_role:
        add("s1.li", Role.OFFICE_MANAGER, "S1")
    assert other_role.value.key == "supplierusers.supplier_role_only"
    with pytest.raises(DomainError) as no_supplier:
        add("s1.zhao", Role.SUPPLIER_USER, "")
    assert no_supplier.value.key == "supplierusers.supplier_required"
    with pytest.raises(NotFound) as unknown:
        add("s9.qian", Role.SUPPLIER_USER, "S9")
    assert unknown.value.key == "supplierusers.unknown_supplier"
    with pytest.raises(DomainError):  # nor given another role later
        set_grants(
            session,
            world["admin"],
            "s1.wang",
            [GrantSpec(Role.TECHNICIAN, ScopeLevel.OFFICE, "OF1")],
        )


def _dispatch(session: Session, world: World, handler: str, title: str) -> orders.Order:
    order = orders.raise_corrective(
        session,
        world["clean"],
        office_code="OF1",
        spec=orders.CorrectiveSpec("clean", title, discipline=Discipline.CLEANING),
        at=T0,
    )
    orders.assign(
        session, world["clean"], order, handler, order.version, at=T0 + timedelta(minutes=5)
    )
    return order


def test_a_supplier_user_sees_and_processes_only_its_suppliers_work(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)  # S1: K1 at OF1, K2 at OF2
    admin = world["admin"]
    import_supplier_rows(
        session,
        rows(SUPPLIER_COLUMNS, ("S3", "净源清洁", "cleaning")),
        actor=admin,
    )
    import_contract_rows(
        session,
        rows(
            CONTRACT_COLUMNS, ("K3", "S3", "OF1", "cleaning", "2026-01-01", "2026-12-31", "50000")
        ),
        actor=admin,
    )
    import_nonconformity_rows(
        session,
        rows(
            NC_COLUMNS,
            ("NC-1", "OF1", "handling", "cleaning", "2026-03-01 09:00", "", "K1", ""),
            ("NC-2", "OF1", "handling", "cleaning", "2026-03-01 10:00", "", "K3", ""),
            ("NC-3", "OF1", "notice", "cleaning", "2026-03-01 11:00", "", "", ""),
            ("NC-4", "OF1", "notice", "cleaning", "2026-02-01 11:00", "2026-02-02 11:00", "K1", ""),
        ),
        actor=admin,
    )
    mine = supplier_user(session, world, "s1.wang", "S1")
    colleague = supplier_user(session, world, "s1.chen", "S1")
    other = supplier_user(session, world, "s3.li", "S3")
    # orders are dispatched to supplier users like to any handler
    handlers = {
        p.username
        for p in lookup.people_with(session, world["clean"], "OF1", Permission.HANDLE_ORDERS)
    }
    assert {"s1.wang", "s1.chen", "s3.li", "tech"} <= handlers
    own = _dispatch(session, world, "s1.wang", "大堂地面污渍")
    colleagues = _dispatch(session, world, "s1.chen", "垃圾桶满溢")
    others = _dispatch(session, world, "s3.li", "电梯轿厢异味")
    staff = _dispatch(session, world, "tech", "楼道灯不亮")

    # orders: its supplier's, its own to do
    listed = {r.document_no for r in lookup.order_list(session, mine).rows}
    assert listed == {own.document_no, colleagues.document_no}
    for refused in (others, staff):
        with pytest.raises(NotFound):
            lookup.order_view(session, mine, refused.document_no)
    assert [i.document_no for i in orders.todo_list(session, mine)] == [own.document_no]
    view = lookup.order_view(session, mine, own.document_no)
    assert "process" in view.actions
    assert lookup.order_view(session, mine, colleagues.document_no).actions == ()
    orders.process_corrective(
        session, mine, own, own.version, "地面已清洁", at=T0 + timedelta(hours=1)
    )
    assert own.state == "processed"
    # nonconformities and statements: its contracts' only
    assert [n.nc_no for n in open_nonconformities(session, mine)] == ["NC-1"]
    assert [n.nc_no for n in open_nonconformities(session, other)] == ["NC-2"]
    assert [n.nc_no for n in open_nonconformities(session, world["mgr"])] == [
        "NC-1",
        "NC-2",
        "NC-3",
    ]
    assert contract_month(session, mine, "K1", date(2026, 3, 1)).contract.supplier_code == "S1"
    with pytest.raises(NotFound):
        contract_month(session, mine, "K3", date(2026, 3, 1))
    # another supplier's people are not offered to it, nor anything of the office's other work
    offered = {
        p.username for p in lookup.people_with(session, mine, "OF1", Permission.MANAGE_ORDERS)
    }
    assert "clean" in offered
    named = {p.username for p in lookup.people_with(session, mine, "OF1", Permission.HANDLE_ORDERS)}
    assert "s3.li" not in named and {"s1.wang", "s1.chen"} <= named
    assert list_points(session, mine, Permission.VIEW_ORDERS) == []
    assert lookup.audit_entries(session, mine).total == 0
    assert colleague.supplier_id == mine.supplier_id != other.supplier_id


def test_work_handed_from_one_supplier_to_another_names_neither_to_the_other(
    session: Session,
) -> None:
    """An order dispatched to S3's user and then to S1's: S1's user reads it (its work now)
    with S3's user unnamed in its history; the office still sees who did what."""
    world = build_world(session)
    load_contracts(session, world)
    import_supplier_rows(
        session, rows(SUPPLIER_COLUMNS, ("S3", "净源清洁", "cleaning")), actor=world["admin"]
    )
    mine = supplier_user(session, world, "s1.wang", "S1")
    supplier_user(session, world, "s3.li", "S3")
    order = _dispatch(session, world, "s3.li", "大堂地面污渍")
    orders.assign(
        session, world["clean"], order, "s1.wang", order.version, at=T0 + timedelta(hours=1)
    )
    seen = lookup.order_view(session, mine, order.document_no)
    assert [(h.transition, h.handler) for h in seen.history] == [
        ("raise", ""),
        ("assign", UNNAMED),
        ("reassign", "s1.wang"),
    ]
    office = lookup.order_view(session, world["clean"], order.document_no)
    assert [h.handler for h in office.history] == ["", "s3.li", "s1.wang"]
