"""A small maintenance world shared by the workflow, order and plan tests (imported by them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Principal, load_principal
from operational.models import (
    AttributeKind,
    CityCompany,
    Discipline,
    Frequency,
    Group,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    Role,
    RoleGrant,
    ScopeLevel,
    User,
)
from operational.services import objects, plans
from operational.services.objects import AttributeSpec

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@dataclass
class World:
    session: Session
    people: dict[str, Principal]

    def __getitem__(self, username: str) -> Principal:
        return self.people[username]

    def plan(
        self,
        frequency: Frequency = Frequency.MONTHLY,
        every: int = 1,
        start: date = date(2026, 3, 10),
        end: date | None = None,
        objects: tuple[str, ...] = ("EL-1", "EL-2"),
        approve: bool = True,
    ) -> PeriodicPlan:
        plan = plans.draft_plan(
            self.session,
            self["eng"],
            office_code="OF1",
            name="Elevators, building 15",
            discipline=Discipline.ENGINEERING,
            responsible="eng",
            frequency=frequency,
            every=every,
            start_date=start,
            end_date=end,
            object_codes=objects,
            at=T0,
        )
        if approve:
            plans.submit_plan(self.session, self["eng"], plan, plan.version, at=T0)
            plans.approve_plan(self.session, self["mgr"], plan, plan.version, at=T0)
        return plan

    def periodic_order(self) -> PeriodicOrder:
        """An issued periodic order for EL-1 and EL-2, scheduled 2026-03-10."""
        plan = self.plan(end=date(2026, 3, 10))
        (order,) = plans.generate_orders(self.session, plan, date(2026, 3, 31), at=T0)
        return order


USERS = {
    "mgr": [(Role.OFFICE_MANAGER, "OF1")],
    "eng": [(Role.ENGINEERING_SUPERVISOR, "OF1")],
    "clean": [(Role.CLEANING_SUPERVISOR, "OF1")],
    "tech": [(Role.TECHNICIAN, "OF1")],
    "tech2": [(Role.TECHNICIAN, "OF1")],
    "guard": [(Role.SECURITY_GUARD, "OF1")],
    "mgr2": [(Role.OFFICE_MANAGER, "OF2")],
    "tech_of2": [(Role.TECHNICIAN, "OF2")],
    "admin": [(Role.GROUP_ADMIN, "")],
}


def build_world(session: Session) -> World:
    group = session.scalars(select(Group)).first()
    assert group is not None
    city = CityCompany(group_id=group.id, code="WTC1", name="City 1")
    session.add(city)
    session.flush()
    offices = {}
    for code in ("OF1", "OF2"):
        office = Office(city_id=city.id, code=code, name=code, timezone="Asia/Shanghai")
        session.add(office)
        offices[code] = office
    session.flush()
    users = {}
    for username, grants in USERS.items():
        user = User(
            username=username,
            display_name=username,
            password_hash="x",
            grants=[
                RoleGrant(role=role.value, scope_level=ScopeLevel.GROUP.value)
                if not office
                else RoleGrant(
                    role=role.value,
                    scope_level=ScopeLevel.OFFICE.value,
                    office_id=offices[office].id,
                )
                for role, office in grants
            ],
        )
        session.add(user)
        users[username] = user
    session.flush()
    people = {name: load_principal(session, u.id) for name, u in users.items()}
    world = World(session, people)
    admin = people["admin"]
    objects.add_object_type(
        session, admin, code="WT-ENG", name="Engineering", discipline=Discipline.ENGINEERING
    )
    objects.add_object_type(
        session,
        admin,
        code="WT-ELEV",
        name="Elevator",
        parent_code="WT-ENG",
        attributes=[
            AttributeSpec("brand", "Brand"),
            AttributeSpec("model", "Model"),
            AttributeSpec("rated_load", "Rated load", AttributeKind.NUMBER, "kg"),
        ],
        checklist=["Brake test", "Door sensors", "Emergency phone"],
    )
    objects.add_object_type(
        session, admin, code="WT-CLN", name="Cleaning", discipline=Discipline.CLEANING
    )
    objects.add_object_type(
        session, admin, code="WT-LOBBY", name="Lobby", parent_code="WT-CLN", checklist=["Floor"]
    )
    for code in ("EL-1", "EL-2"):
        objects.add_object(
            session,
            people["mgr"],
            office_code="OF1",
            type_code="WT-ELEV",
            code=code,
            name=f"Elevator {code}",
            location="Building 15",
            attributes={"brand": "Otis", "rated_load": "1000"},
        )
    objects.add_object(
        session, people["mgr"], office_code="OF1", type_code="WT-LOBBY", code="LB-1", name="Lobby 1"
    )
    return world
