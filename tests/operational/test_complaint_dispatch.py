"""A complaint goes to the office manager (docs/tickets.md): received in office hours, it is
dispatched only to an office manager of its office (anyone else is refused, in both languages,
nothing written); at night to the CS staff on duty like every night ticket. The ticket page's
choice (``ticket_desk.dispatch_choice``) offers the office's managers, the first by name
preselected, or none (then the page says so)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import load_principal, system_principal
from operational.errors import DomainError
from operational.models import (
    ComplaintTicket,
    Notice,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    User,
)
from operational.services import tickets
from operational.services.ticket_desk import dispatch_choice
from operational.services.tickets import Intake
from tests.operational.test_workflow_support import T0, World, build_world

MIN = timedelta(minutes=1)
H = timedelta(hours=1)
DAY = T0 + H  # Monday 10:00 in Shanghai
NIGHT = datetime(2026, 3, 2, 15, 10, tzinfo=UTC)  # Monday 23:10 in Shanghai


def _person(w: World, username: str, display: str, role: Role, office: str) -> None:
    office_id = w.session.scalars(select(Office.id).where(Office.code == office)).one()
    user = User(
        username=username,
        display_name=display,
        password_hash="x",
        grants=[
            RoleGrant(role=role.value, scope_level=ScopeLevel.OFFICE.value, office_id=office_id)
        ],
    )
    w.session.add(user)
    w.session.flush()
    w.people[username] = load_principal(w.session, user.id)


@pytest.fixture
def w(session: Session) -> World:
    world = build_world(session)
    _person(world, "agent", "坐席", Role.CALL_CENTRE_AGENT, "OF1")
    _person(world, "cs", "客服助理", Role.CS_ASSISTANT, "OF1")
    return world


def _complaint(w: World, at: datetime, office: str = "OF1") -> ComplaintTicket:
    ticket = tickets.record_ticket(
        w.session,
        system_principal("cli"),
        Intake(office, "complaint", "楼上噪音", severity="minor"),
        received_at=at,
    )
    assert isinstance(ticket, ComplaintTicket)
    return ticket


def _notices(w: World) -> int:
    return w.session.scalar(select(func.count()).select_from(Notice)) or 0


def test_a_complaint_in_office_hours_goes_only_to_an_office_manager(w: World) -> None:
    complaint = _complaint(w, DAY)
    assert complaint.night_service is False
    version, notices = complaint.version, _notices(w)
    with pytest.raises(DomainError) as refused:  # a CS assistant works tickets, not complaints
        tickets.dispatch(w.session, w["agent"], complaint, "cs", version, at=DAY + MIN)
    assert refused.value.key == "ticketgaps.not_office_manager"
    assert refused.value.message("en") == (
        "客服助理 (cs) is not an office manager of OF1: a complaint received in office hours is "
        "dispatched to the office manager."
    )
    assert refused.value.message("zh_CN") == (
        "客服助理（cs）不是管理处 OF1 的经理：办公时间内受理的投诉须派给管理处经理。"
    )
    with pytest.raises(DomainError) as refused:  # another office's manager
        tickets.dispatch(w.session, w["agent"], complaint, "mgr2", version, at=DAY + MIN)
    assert refused.value.key == "tickets.not_a_handler"
    # Nothing written by either refusal: the complaint still waits for its dispatch.
    assert (complaint.state, complaint.version, complaint.handler_id) == ("recorded", version, None)
    assert _notices(w) == notices
    tickets.dispatch(w.session, w["agent"], complaint, "mgr", version, at=DAY + MIN)
    assert complaint.state == "dispatched"
    assert _notices(w) == notices + 1  # the office manager is notified


def test_a_night_complaint_goes_to_the_cs_staff_on_duty(w: World) -> None:
    complaint = _complaint(w, NIGHT)
    assert complaint.night_service is True
    tickets.dispatch(w.session, w["agent"], complaint, "cs", complaint.version, at=NIGHT + MIN)
    assert complaint.state == "dispatched"
    assert _notices(w) == 1  # the office manager still hears of it


def test_the_page_offers_the_managers_by_name_and_preselects_the_first(w: World) -> None:
    _person(w, "deputy", "Ann Deputy", Role.OFFICE_MANAGER, "OF1")  # sorts before "mgr"
    day = dispatch_choice(w.session, w["agent"], _complaint(w, DAY).document_no)
    assert day.managers_only
    assert [p.username for p in day.people] == ["deputy", "mgr"]
    assert day.preselected == "deputy"
    night = dispatch_choice(w.session, w["agent"], _complaint(w, NIGHT).document_no)
    assert not night.managers_only and night.preselected is None
    assert {"cs", "mgr", "deputy", "tech"} <= {p.username for p in night.people}
    repair = tickets.record_ticket(
        w.session, w["agent"], Intake("OF1", "repair", "漏水"), received_at=DAY
    )
    choice = dispatch_choice(w.session, w["agent"], repair.document_no)
    assert not choice.managers_only and choice.preselected is None


def test_an_office_without_a_manager_has_nobody_to_offer(w: World) -> None:
    w.session.execute(
        RoleGrant.__table__.delete().where(
            RoleGrant.user_id.in_(select(User.id).where(User.username == "mgr2"))
        )
    )
    cli = system_principal("cli")
    complaint = _complaint(w, DAY, "OF2")
    choice = dispatch_choice(w.session, cli, complaint.document_no)
    assert choice.managers_only and choice.people == () and choice.preselected is None
