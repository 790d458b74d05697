"""The ticket page's dispatch as the call centre meets it: a complaint received in office hours
offers its office's manager, already chosen, and one click sends it there; an office without a
manager says so; a night complaint leaves the choice of the CS staff on duty to the agent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.auth import system_principal
from operational.db import unit_of_work
from operational.demo import DEMO_PASSWORD
from operational.models import Role, ScopeLevel, Ticket, User
from operational.services.ticket_desk import TicketForm, take_call
from operational.services.users import GrantSpec, add_user

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

TICKET = "views/ticket.py"
DAY = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
NIGHT = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)  # Saturday 03:00


def _complaint(dash: Dashboard, office: str, at: datetime) -> str:
    with unit_of_work(dash.engine) as db:
        return take_call(
            db,
            system_principal("cli"),
            TicketForm(office, "complaint", "保洁不到位", category="environment", severity="minor"),
            now=at,
        ).document_no


def _open(dash: Dashboard, number: str, username: str = "manager") -> AppTest:
    app = dash.app
    app.run()
    dash.log_in(username)
    app.switch_page(TICKET)
    app.query_params["ticket"] = number
    app.run()
    assert not app.exception, app.exception
    return app


def _shown(app: AppTest) -> str:
    return "\n".join(
        [c.value for c in app.caption]
        + [w.value for w in app.warning]
        + [e.value for e in app.error]
    ).replace("\\", "")


def test_a_day_complaint_is_dispatched_to_the_office_manager_preselected(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    number = _complaint(dash, "SH001", DAY)
    app = _open(dash, number)
    handler = app.selectbox(key="ticket_handler")
    assert handler.value == "manager"  # the office's manager, chosen already
    assert handler.options == [handler.format_func("manager")]  # nobody else takes it
    assert "办公时间内受理的投诉派给管理处经理" in _shown(app)
    app.button(key="ticket_step_dispatch").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.document_no == number)).one()
        manager = db.scalars(select(User.id).where(User.username == "manager")).one()
        assert (ticket.state, ticket.handler_id) == ("dispatched", manager)


def test_an_office_without_a_manager_says_so_and_a_night_complaint_is_the_agents_choice(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        add_user(
            db,
            system_principal("cli"),
            username="agent.sh002",
            display_name="坐席",
            password=DEMO_PASSWORD,
            grants=[GrantSpec(Role.CALL_CENTRE_AGENT, ScopeLevel.OFFICE, "SH002")],
        )
    day = _complaint(dash, "SH002", DAY)  # the demo's SH002 has no office manager
    night = _complaint(dash, "SH001", NIGHT)
    app = _open(dash, day, "agent.sh002")
    assert "管理处 SH002 没有管理处经理，该投诉无法派单" in _shown(app)
    assert not [b for b in app.button if b.key == "ticket_step_dispatch"]
    app = _open(dashboard(), night)  # the manager, in another browser
    assert "夜间服务：派给当班的客服人员" in _shown(app)
    assert app.selectbox(key="ticket_handler").value is None  # the agent picks who is on duty
