"""Finding an order by its number and checking the people named on it: any
number the engine or the go-live import gave, and every scope a role can be held at."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_workflow_support import T0, World, build_world

from operational.auth import system_principal
from operational.errors import DomainError, NotFound
from operational.models import (
    CityCompany,
    CorrectiveOrder,
    Discipline,
    Group,
    Office,
    PeriodicOrder,
    Role,
    RoleGrant,
    ScopeLevel,
    User,
)
from operational.services import orders
from operational.services.orders import CorrectiveSpec
from operational.workflow import engine

CLI = system_principal("cli")


def _corrective(w: World, number: str = "") -> CorrectiveOrder:
    office = w.session.scalars(select(Office).where(Office.code == "OF1")).one()
    order = CorrectiveOrder(
        office_id=office.id,
        discipline="cleaning",
        title="Litter",
        responsible_id=w["clean"].user_id,
    )
    if number:
        order.document_no = number
    engine.create(w.session, w["guard"], order, "raise", {}, at=T0)
    return order


def test_an_order_is_found_by_any_number_it_was_given(session: Session) -> None:
    world = build_world(session)
    s = world.session
    periodic = world.periodic_order()
    raised = _corrective(world)
    imported = _corrective(world, "OLD-17")
    misleading = _corrective(world, "PM-FROM-OLD-SYSTEM")  # a corrective order numbered PM-…
    assert raised.document_no.startswith("CM-OF1-")
    for order in (periodic, raised, imported, misleading):
        s.expire_all()
        found = orders.get_order(s, CLI, order.document_no)
        assert (type(found), found.id) == (type(order), order.id)
    assert isinstance(orders.get_order(s, CLI, periodic.document_no), PeriodicOrder)
    for unknown in ("CM-OF1-999999", "PM-OF1-999999", "nope"):
        with pytest.raises(NotFound) as missing:
            orders.get_order(s, CLI, unknown)
        assert missing.value.key == "orders.unknown_order"


def _user(s: Session, name: str, *grants: RoleGrant, active: bool = True) -> str:
    s.add(User(username=name, display_name=name, password_hash="x", is_active=active))
    s.flush()
    user = s.scalars(select(User).where(User.username == name)).one()
    for grant in grants:
        grant.user_id = user.id
        s.add(grant)
    s.flush()
    return name


def test_people_are_checked_at_the_orders_office_whatever_their_scope(session: Session) -> None:
    world = build_world(session)
    s = world.session
    group = s.scalars(select(Group)).first()
    assert group is not None
    here = s.scalars(select(Office).where(Office.code == "OF1")).one()
    other_city = CityCompany(group_id=group.id, code="WTC2", name="City 2")
    s.add(other_city)
    s.flush()
    s.add(Office(city_id=other_city.id, code="OF3", name="OF3", timezone="Asia/Shanghai"))
    s.flush()
    city_tech = _user(
        s,
        "city.tech",
        RoleGrant(
            role=Role.TECHNICIAN.value, scope_level=ScopeLevel.CITY.value, city_id=here.city_id
        ),
    )
    far_tech = _user(
        s,
        "far.tech",
        RoleGrant(
            role=Role.TECHNICIAN.value, scope_level=ScopeLevel.CITY.value, city_id=other_city.id
        ),
    )
    gone = _user(
        s,
        "gone.tech",
        RoleGrant(
            role=Role.TECHNICIAN.value, scope_level=ScopeLevel.OFFICE.value, office_id=here.id
        ),
        active=False,
    )
    viewer = _user(
        s, "hq.viewer", RoleGrant(role=Role.HQ_VIEWER.value, scope_level=ScopeLevel.GROUP.value)
    )

    order = orders.raise_corrective(
        s,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("clean", "Litter", discipline=Discipline.CLEANING),
        at=T0,
    )
    refusals = {
        far_tech: "orders.not_a_handler",  # a technician of another city company
        viewer: "orders.not_a_handler",  # head office reads, it does not handle
        "tech_of2": "orders.not_a_handler",  # another office of the same city
        gone: "users.unknown_user",
        "nobody": "users.unknown_user",
    }
    for name, key in refusals.items():
        with pytest.raises(DomainError) as refused:
            orders.assign(s, world["clean"], order, name, order.version)
        assert refused.value.key == key, name
    assert order.state == "open" and order.handler_id is None
    orders.assign(s, world["clean"], order, f" {city_tech} ", order.version)
    assert order.state == "assigned"
    assert engine.history(s, order)[-1].payload == {"handler": city_tech}
    # The group's admin role does not make anyone an order's responsible person.
    with pytest.raises(DomainError) as not_responsible:
        orders.raise_corrective(
            s,
            world["guard"],
            office_code="OF1",
            spec=CorrectiveSpec("admin", "x", discipline=Discipline.CLEANING),
        )
    assert not_responsible.value.key == "orders.not_responsible"


def test_a_full_move_through_the_services_one_transaction_each(session: Session) -> None:
    """assign → process → verify, each step starting from the number as a web request does."""
    world = build_world(session)
    s = world.session
    number = orders.raise_corrective(
        s,
        world["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("clean", "Litter", discipline=Discipline.CLEANING),
        at=T0,
    ).document_no
    steps = [
        lambda o: orders.assign(s, world["clean"], o, "tech", o.version),
        lambda o: orders.process_corrective(s, world["tech"], o, o.version, "done"),
        lambda o: orders.verify_corrective(s, world["clean"], o, o.version, accepted=True),
    ]
    for step in steps:
        s.flush()  # what a commit writes; the fixture rolls everything back at the end
        s.expunge_all()
        order = orders.get_order(s, CLI, number)
        assert isinstance(order, CorrectiveOrder)
        step(order)
    s.flush()
    s.expunge_all()
    order = orders.get_order(s, CLI, number)
    assert (order.state, order.version) == ("closed", 4)
    assert [e.transition for e in engine.history(s, order)] == [
        "raise",
        "assign",
        "process",
        "verify",
    ]
    assert engine.open_clocks(s, order) == []
