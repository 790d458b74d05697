"""The owner-service desk (docs/tickets.md, "The desk"): the caller lookup within scope, the
repeat-complaint proposal, the intake form's refusals and office-local appointments, the
ticket view with its clocks and steps, the tickets waiting on a user and a customer's tickets —
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import Principal, load_principal, system_principal
from operational.errors import FormRejected, NotFound
from operational.imports.property import import_property_file
from operational.models import (
    CityCompany,
    Customer,
    Group,
    House,
    Occupancy,
    Office,
    PropBuilding,
    Role,
    RoleGrant,
    ScopeLevel,
    Ticket,
    User,
)
from operational.services import tickets
from operational.services.property import find_customers
from operational.services.ticket_desk import (
    TicketForm,
    customer_tickets,
    find_callers,
    month_before,
    proposed_severity,
    take_call,
    ticket_view,
    waiting_tickets,
)

CLI = system_principal("cli")
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
MONDAY = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai: day service
MIN = timedelta(minutes=1)


@pytest.fixture
def desk(session: Session) -> dict[str, Principal]:
    """Offices SH001 and SH002 with the example property data, and people at SH001 (an agent,
    a technician) and SH002 (an agent)."""
    group = session.scalars(select(Group)).one()
    city = CityCompany(group_id=group.id, code="PRC", name="物业城市")
    session.add(city)
    session.flush()
    offices = {}
    for code in ("SH001", "SH002"):
        office = session.scalars(select(Office).where(Office.code == code)).one_or_none()
        offices[code] = office or Office(city_id=city.id, code=code, name=f"{code}管理处")
        session.add(offices[code])
    session.flush()
    for name in ("houses", "customers", "occupancies"):
        import_property_file(session, name, EXAMPLES / f"{name}.csv", actor=CLI)
    people = {}
    for name, role, office in (
        ("agent", Role.CALL_CENTRE_AGENT, "SH001"),
        ("tech", Role.TECHNICIAN, "SH001"),
        ("agent2", Role.CALL_CENTRE_AGENT, "SH002"),
    ):
        user = User(
            username=name,
            display_name=f"{name}名",
            password_hash="x",
            grants=[
                RoleGrant(
                    role=role.value,
                    scope_level=ScopeLevel.OFFICE.value,
                    office_id=offices[office].id,
                )
            ],
        )
        session.add(user)
        session.flush()
        people[name] = load_principal(session, user.id)
    return people


def _house(session: Session, room: str) -> int:
    return session.scalars(select(House.id).where(House.room == room)).one()


def _customer(session: Session, code: str) -> int:
    return session.scalars(select(Customer.id).where(Customer.code == code)).one()


def _complaint(session: Session, who: Principal, house: int, category: str, at: datetime) -> Ticket:
    return take_call(
        session,
        who,
        TicketForm(
            "SH001", "complaint", "楼上漏水", house_id=house, category=category, severity="minor"
        ),
        now=at,
    )


def test_one_field_finds_the_caller_by_phone_house_or_name_within_scope(
    session: Session, desk: dict[str, Principal]
) -> None:
    agent, other = desk["agent"], desk["agent2"]
    (hit,) = find_callers(session, agent, "139 0000 1111")
    assert (hit.customer_code, hit.house, hit.phone) == ("C0002", "3-2-1202", "13900001111")
    assert {(h.customer_code, h.role) for h in find_callers(session, agent, "3-2-1201")} == {
        ("C0001", "owner"),
        ("C0004", "family"),
    }
    # A house nobody lives in now is still found (a common call: the empty flat leaks).
    (empty,) = find_callers(session, agent, "3-2-101")
    assert (empty.customer_code, empty.house) == (None, "3-2-101")
    # A past tenant is found by name, but no longer in the house.
    (past,) = find_callers(session, agent, "王")
    assert (past.customer_code, past.house_id) == ("C0003", None)
    # Another office's agent finds none of SH001's callers, by any of the three.
    for query in ("13900001111", "3-2-1201", "张", "C0001"):
        assert find_callers(session, other, query) == []
    assert find_callers(session, agent, "") == []


def test_a_house_that_also_reads_as_a_phone_number_is_found_and_so_is_the_number(
    session: Session, desk: dict[str, Principal]
) -> None:
    """Building 10, unit 1, room 1203 is seven digits without its dashes: the field asks for
    the house and for the number, so the agent finds the household either way."""
    agent = desk["agent"]
    office = session.scalars(select(Office.id).where(Office.code == "SH001")).one()
    building = PropBuilding(office_id=office, code="10", name="10号楼")
    session.add(building)
    session.flush()
    house = House(
        office_id=office,
        building_id=building.id,
        unit="1",
        floor=12,
        room="1203",
        area=Decimal("88.50"),
        sale_status="sold",
        rental_status="self_use",
    )
    owner = Customer(office_id=office, code="C1203", name="钱十二", phone="13912031203")
    session.add_all([house, owner])
    session.flush()
    session.add(
        Occupancy(
            house_id=house.id, customer_id=owner.id, role="owner", moved_in_on=date(2020, 1, 1)
        )
    )
    session.flush()
    (hit,) = find_callers(session, agent, "10-1-1203")
    assert (hit.customer_code, hit.house) == ("C1203", "10-1-1203")
    assert [c.code for c in find_customers(session, agent, "10-1-1203")] == ["C1203"]
    # a number typed with dashes is still a number, found once with its house
    (by_phone,) = find_callers(session, agent, "139-1203-1203")
    assert (by_phone.customer_code, by_phone.house) == ("C1203", "10-1-1203")


def test_the_phone_lookup_finds_the_one_caller_among_thousands(
    session: Session, desk: dict[str, Principal]
) -> None:
    office = session.scalars(select(Office.id).where(Office.code == "SH001")).one()
    session.add_all(
        Customer(office_id=office, code=f"N{i:05d}", name=f"客户{i}", phone=f"1380000{i:04d}")
        for i in range(5000)
    )
    session.flush()
    # How fast is the benchmark's (docs/benchmarks.md); that it is an index lookup, the query
    # plans' test (tests/operational/test_caller_lookup_plans.py).
    for i in range(0, 5000, 250):
        (hit,) = find_callers(session, desk["agent"], f"1380000{i:04d}")
        assert hit.customer_code == f"N{i:05d}"


def test_month_before_keeps_to_the_calendar() -> None:
    assert month_before(datetime(2026, 3, 31, 8, tzinfo=UTC)) == datetime(
        2026, 2, 28, 8, tzinfo=UTC
    )
    assert month_before(datetime(2028, 3, 30, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert month_before(datetime(2026, 1, 15, tzinfo=UTC)) == datetime(2025, 12, 15, tzinfo=UTC)


def test_a_repeat_complaint_about_the_same_matter_within_a_month_proposes_general(
    session: Session, desk: dict[str, Principal]
) -> None:
    agent = desk["agent"]
    house, neighbour = _house(session, "1201"), _house(session, "1202")
    first = _complaint(session, agent, house, "noise", MONDAY)
    later = MONDAY + timedelta(days=20)
    proposal = proposed_severity(session, agent, "SH001", house, "noise", later)
    assert (proposal.severity, proposal.earlier) == ("general", first.document_no)
    assert proposal.earlier_at == MONDAY
    # Another matter, another house, or more than a month later: nothing proposed.
    assert proposed_severity(session, agent, "SH001", house, "fees", later).severity is None
    assert proposed_severity(session, agent, "SH001", neighbour, "noise", later).severity is None
    month_later = datetime(2026, 12, 16, 2, 1, tzinfo=UTC)
    assert proposed_severity(session, agent, "SH001", house, "noise", month_later).severity is None
    assert (
        proposed_severity(session, agent, "SH001", house, "noise", month_later - 2 * MIN).severity
        == "general"
    )
    # The rule is read within scope: another office's agent cannot ask about SH001.
    with pytest.raises(NotFound):
        proposed_severity(session, desk["agent2"], "SH001", house, "noise", later)


def test_the_intake_refuses_with_every_problem_and_writes_nothing(
    session: Session, desk: dict[str, Principal]
) -> None:
    agent = desk["agent"]
    before = session.scalar(select(func.count()).select_from(Ticket))
    with pytest.raises(FormRejected) as refused:
        take_call(
            session,
            agent,
            TicketForm("SH001", "repair", " ", place="in_home", urgency="appointment"),
            now=MONDAY,
        )
    assert [p.field for p in refused.value.problems] == ["subject", "place", "appointment"]
    assert "house" in refused.value.message("en")
    with pytest.raises(FormRejected) as refused:
        take_call(session, agent, TicketForm("SH001", "complaint", "噪音"), now=MONDAY)
    assert [p.field for p in refused.value.problems] == ["category", "severity"]
    assert "Complaint category" in refused.value.messages("en")[0]
    with pytest.raises(FormRejected) as refused:  # another office's house, another office
        take_call(
            session,
            desk["agent2"],
            TicketForm("SH001", "inquiry", "物业费", house_id=_house(session, "1201")),
            now=MONDAY,
        )
    assert [p.field for p in refused.value.problems] == ["office"]
    with pytest.raises(FormRejected) as refused:  # no caller picked and no office chosen
        take_call(session, agent, TicketForm("", "inquiry", "物业费"), now=MONDAY)
    assert refused.value.messages("zh_CN") == ["管理处：请选择。"]
    with pytest.raises(FormRejected) as refused:  # an appointment before now
        take_call(
            session,
            agent,
            TicketForm(
                "SH001",
                "repair",
                "门锁坏了",
                place="common_area",
                urgency="appointment",
                appointment_on=date(2026, 11, 16),
                appointment_time=clock(9, 0),
            ),
            now=MONDAY,
        )
    assert [p.key for p in refused.value.problems] == ["tickets.appointment_in_past"]
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_an_appointment_is_typed_on_the_office_clock(
    session: Session, desk: dict[str, Principal]
) -> None:
    ticket = take_call(
        session,
        desk["agent"],
        TicketForm(
            "SH001",
            "repair",
            "热水器不热",
            house_id=_house(session, "1201"),
            customer_id=_customer(session, "C0001"),
            place="in_home",
            urgency="appointment",
            appointment_on=date(2026, 11, 17),
            appointment_time=clock(9, 30),
        ),
        now=MONDAY,
    )
    assert ticket.appointment_at == datetime(2026, 11, 17, 1, 30, tzinfo=UTC)  # 09:30 +08:00
    assert (ticket.house_ref, ticket.caller_name, ticket.caller_phone) == (
        "3-2-1201",
        "张伟",
        "13812345678",
    )
    assert (ticket.place, ticket.night_service, ticket.state) == ("in_home", False, "recorded")


def test_the_ticket_view_shows_clocks_timeline_and_the_users_steps(
    session: Session, desk: dict[str, Principal]
) -> None:
    agent, tech = desk["agent"], desk["tech"]
    repair = take_call(
        session,
        agent,
        TicketForm(
            "SH001",
            "repair",
            "水管爆裂",
            house_id=_house(session, "1201"),
            place="in_home",
            urgency="urgent",
        ),
        now=MONDAY,
    )
    no = repair.document_no
    assert ticket_view(session, agent, no).actions == ("dispatch",)
    assert ticket_view(session, tech, no).actions == ()
    tickets.dispatch(session, agent, repair, "tech", repair.version, at=MONDAY + MIN)
    assert [w.item.document_no for w in waiting_tickets(session, tech)] == [no]
    assert ticket_view(session, tech, no).actions == ("pick_up",)
    tickets.pick_up(session, tech, repair, repair.version, at=MONDAY + 3 * MIN)
    tickets.arrive(session, tech, repair, repair.version, at=MONDAY + 40 * MIN)
    tickets.resolve(session, tech, repair, repair.version, "换了水管", at=MONDAY + 60 * MIN)
    view = ticket_view(session, agent, no)
    clocks = {c.clock: c.summary for c in view.clocks}
    assert {k: c.state.value for k, c in clocks.items()} == {
        "resolution": "met",
        "pickup": "met",
        "on_site": "breached",  # 30 minutes from dispatch, on site after 39
    }
    assert round(clocks["on_site"].late_minutes) == 9
    assert [(line.transition, line.actor) for line in view.timeline] == [
        ("record", "agent"),
        ("dispatch", "agent"),
        ("pick_up", "tech"),
        ("arrive", "tech"),
        ("resolve", "tech"),
    ]
    assert view.timeline[1].details == (("handler", "tech"),)
    assert view.timeline[-1].note == "换了水管"
    assert view.actions == ("follow_up",)
    assert [w.item.document_no for w in waiting_tickets(session, agent)] == [no]  # follow-up due
    with pytest.raises(NotFound):
        ticket_view(session, desk["agent2"], no)


def test_a_customers_tickets_are_those_of_their_houses(
    session: Session, desk: dict[str, Principal]
) -> None:
    agent = desk["agent"]
    mine = _complaint(session, agent, _house(session, "1201"), "noise", MONDAY)
    take_call(
        session,
        agent,
        TicketForm("SH001", "inquiry", "物业费多少", customer_id=_customer(session, "C0002")),
        now=MONDAY + MIN,
    )
    take_call(session, agent, TicketForm("SH001", "inquiry", "停车"), now=MONDAY + 2 * MIN)
    assert [t.document_no for t in customer_tickets(session, agent, "SH001", "C0004")] == [
        mine.document_no  # family of 3-2-1201: the house's tickets
    ]
    assert [t.ticket_type for t in customer_tickets(session, agent, "SH001", "C0002")] == [
        "inquiry"
    ]
    with pytest.raises(NotFound):
        customer_tickets(session, desk["agent2"], "SH001", "C0004")
