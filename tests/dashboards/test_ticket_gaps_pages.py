"""The ticket page's dispatch as the call centre meets it: a complaint received in office hours
offers its office's manager, already chosen, and one click sends it there; an office without a
manager says so; a night complaint leaves the choice of the CS staff on duty to the agent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.auth import system_principal
from operational.db import unit_of_work
from operational.demo import DEMO_PASSWORD
from operational.models import (
    Customer,
    House,
    Occupancy,
    Office,
    PropBuilding,
    Role,
    ScopeLevel,
    Ticket,
    User,
)
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


# ---------------------------------------------------------------- intake: which caller, which house

INTAKE = "views/ticket_intake.py"


def _intake(dash: Dashboard) -> AppTest:
    app = dash.app
    app.run()
    dash.log_in("manager")
    app.switch_page(INTAKE).run()
    assert not app.exception, app.exception
    return app


def _second_house(dash: Dashboard) -> tuple[str, str]:
    """C00001 of SH001 comes to own a second house (its phone number, the house's id)."""
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office.id).where(Office.code == "SH001")).one()
        customer = db.scalars(
            select(Customer).where(Customer.office_id == office, Customer.code == "C00001")
        ).one()
        homes = select(Occupancy.house_id).where(Occupancy.customer_id == customer.id)
        other = db.scalars(
            select(House.id)
            .where(House.office_id == office, House.id.not_in(homes))
            .order_by(House.id)
            .limit(1)
        ).one()
        db.add(
            Occupancy(
                house_id=other, customer_id=customer.id, role="owner", moved_in_on=date(2026, 1, 1)
            )
        )
        return customer.phone, str(other)


def test_a_caller_with_two_houses_is_asked_which_one_and_nothing_is_assumed(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    phone, other = _second_house(dash)
    app = _intake(dash)
    before = _count(dash)
    app.text_input(key="intake_query").input(phone).run()
    pick = app.selectbox(key="intake_pick")
    assert pick.value is None and len(pick.options) == 3  # two houses, "not in the records"
    assert "找到 2 条：请选择来电人及来电所涉的房产" in _shown(app)
    app.radio(key="intake_type").set_value("repair").run()
    app.text_input(key="intake_subject").input("阳台漏水")
    app.radio(key="intake_place").set_value("in_home")
    app.radio(key="intake_urgency").set_value("normal").run()
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    assert "找到多位来电人（或多处房产）：请选择来电的那一位" in _shown(app)
    assert _count(dash) == before  # nothing recorded without a caller
    keys = [k for k in app.session_state["intake_callers"] if k.endswith(f"/{other}")]
    app.selectbox(key="intake_pick").set_value(keys[0]).run()
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.subject == "阳台漏水")).one()
        assert ticket.house_id == int(other) and ticket.customer_id is not None


def test_a_call_about_an_empty_house_records_who_called(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office.id).where(Office.code == "SH001")).one()
        house, building, unit, room = db.execute(
            select(House.id, PropBuilding.code, House.unit, House.room)
            .join(PropBuilding, PropBuilding.id == House.building_id)
            .where(House.office_id == office)
            .order_by(House.id)
            .limit(1)
        ).one()
        for occupancy in db.scalars(select(Occupancy).where(Occupancy.house_id == house)):
            occupancy.moved_out_on = max(occupancy.moved_in_on, date(2026, 1, 1))
    app = _intake(dash)
    app.text_input(key="intake_query").input(f"{building}-{unit}-{room}").run()
    assert "目前无人居住" in app.selectbox(key="intake_pick").format_func(
        app.selectbox(key="intake_pick").value
    )
    app.text_input(key="intake_caller_name").input("物业中介李先生")
    app.text_input(key="intake_caller_phone").input("13700001234")
    app.radio(key="intake_type").set_value("repair").run()
    app.text_input(key="intake_subject").input("空置房漏水到楼下")
    app.radio(key="intake_place").set_value("in_home")
    app.radio(key="intake_urgency").set_value("urgent").run()
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.subject == "空置房漏水到楼下")).one()
        assert (ticket.house_id, ticket.caller_name, ticket.caller_phone) == (
            house,
            "物业中介李先生",
            "13700001234",
        )


# ---------------------------------------------------------------- the ticket page's steps


def _count(dash: Dashboard) -> int:
    with unit_of_work(dash.engine) as db:
        return len(db.scalars(select(Ticket.id)).all())


def test_a_step_without_its_choice_says_what_to_choose_and_no_choice_follows_to_another_ticket(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        numbers = [
            take_call(
                db,
                system_principal("cli"),
                TicketForm("SH001", "repair", subject, place="common_area", urgency="normal"),
                now=DAY,
            ).document_no
            for subject in ("路灯不亮", "井盖松动")
        ]
    app = _open(dash, numbers[0])
    app.button(key="ticket_step_dispatch").click().run()  # nobody chosen
    assert "请选择派单给谁。" in _shown(app)
    app.selectbox(key="ticket_handler").set_value("manager")
    app.button(key="ticket_step_dispatch").click().run()
    app.button(key="ticket_step_pick_up").click().run()
    app.text_area(key="ticket_note").input("已更换灯泡")
    app.button(key="ticket_step_resolve").click().run()
    assert not app.exception, app.exception
    assert app.text_area(key="ticket_note").value == ""  # the note went with its step
    app.button(key="ticket_step_follow_up").click().run()  # satisfied? not said
    assert "请选择业主满意还是不满意。" in _shown(app)
    app.radio(key="ticket_result").set_value("unsatisfied").run()
    # The agent opens the other ticket before recording: nothing chosen here follows it.
    app.query_params["ticket"] = numbers[1]
    app.run()
    assert not app.exception, app.exception
    assert app.selectbox(key="ticket_handler").value is None
    with unit_of_work(dash.engine) as db:
        first = db.scalars(select(Ticket).where(Ticket.document_no == numbers[0])).one()
        assert (first.state, first.follow_up_result) == ("resolved", None)


def test_the_type_is_chosen_for_every_call_and_a_mistyped_number_is_refused(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    app = _intake(dash)
    before = _count(dash)
    assert app.radio(key="intake_type").value is None  # nothing assumed
    app.text_input(key="intake_query").input("无此人zz").run()  # not in the records
    app.text_input(key="intake_caller_name").input("王女士")
    app.text_input(key="intake_caller_phone").input("138-OOOO-1234")  # letters O for zeros
    app.text_input(key="intake_subject").input("门口有积水")
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    shown = _shown(app)
    assert "类型：请选择。" in shown
    assert "“138-OOOO-1234”不是电话号码" in shown
    assert _count(dash) == before
    app.text_input(key="intake_caller_phone").input("(021) 6543-2100")
    app.radio(key="intake_type").set_value("inquiry").run()
    app.button(key="intake_submit").click().run()
    with unit_of_work(dash.engine) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.subject == "门口有积水")).one()
        assert (ticket.ticket_type, ticket.caller_phone) == ("inquiry", "02165432100")
    assert app.radio(key="intake_type").value is None  # the next call chooses again
