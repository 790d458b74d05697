"""The owner-service desk in the app: call intake (find the caller, record; every refusal at once,
nothing written; the repeat-complaint proposal), the ticket page's steps through a repair's whole
life with a rework, tickets in the to-do list (night service marked) and in the customer view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from operational.auth import system_principal
from operational.db import unit_of_work
from operational.models import Customer, Office, Ticket
from operational.services import tickets
from operational.services.ticket_desk import TicketForm, take_call

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

INTAKE, TICKET, TODO = "views/ticket_intake.py", "views/ticket.py", "views/todo.py"


def open_page(dashboard: MakeDashboard, page: str, username: str = "manager") -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(page).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def owner_phone(dash: Dashboard) -> str:
    with unit_of_work(dash.engine) as db:
        return db.scalars(
            select(Customer.phone)
            .join(Office, Office.id == Customer.office_id)
            .where(Office.code == "SH001", Customer.code == "C00001")
        ).one()


def ticket_count(dash: Dashboard) -> int:
    with unit_of_work(dash.engine) as db:
        return db.scalar(select(func.count()).select_from(Ticket)) or 0


def text(app: AppTest) -> str:
    return "\n".join(
        [m.value for m in app.markdown]
        + [c.value for c in app.caption]
        + [e.value for e in app.error]
        + [i.value for i in app.info]
        + [s.value for s in app.success]
        + [f.value.to_csv() for f in app.dataframe]
    ).replace("\\", "")


def find_caller(app: AppTest, query: str) -> None:
    app.text_input(key="intake_query").input(query).run()
    assert not app.exception, app.exception


def test_the_call_centre_finds_the_caller_by_phone_and_records_a_repair(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard, INTAKE)
    app = dash.app
    find_caller(app, owner_phone(dash))
    assert app.selectbox(key="intake_pick").value.startswith("SH001/")  # the one hit, picked
    assert "1-1-101" in app.selectbox(key="intake_pick").format_func(
        app.selectbox(key="intake_pick").value
    )
    app.radio(key="intake_type").set_value("repair").run()
    app.text_input(key="intake_subject").input("厨房水管漏水")
    app.radio(key="intake_place").set_value("in_home")
    app.radio(key="intake_urgency").set_value("urgent").run()
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.subject == "厨房水管漏水")).one()
        customer = db.get_one(Customer, ticket.customer_id)
        assert (ticket.house_ref, ticket.place, ticket.urgency) == ("1-1-101", "in_home", "urgent")
        assert (customer.code, ticket.state) == ("C00001", "recorded")
        number = ticket.document_no
    assert number in text(app)  # "工单 … 已登记"
    assert any(number in link.proto.label.replace("\\", "") for link in app.get("page_link"))
    assert app.text_input(key="intake_subject").value == ""  # ready for the next call
    assert app.text_input(key="intake_query").value == ""


def test_the_intake_lists_every_problem_keeps_what_was_typed_and_writes_nothing(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard, INTAKE)
    app = dash.app
    before = ticket_count(dash)
    find_caller(app, "nobody-here-zz")  # nobody found: record without a caller
    assert "未找到" in text(app)
    app.radio(key="intake_type").set_value("complaint").run()
    app.text_area(key="intake_description").input("楼道里一直有噪音").run()
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    shown = text(app)
    for problem in ("主题", "投诉类别：请选择", "投诉等级：请选择"):
        assert problem in shown, shown
    assert app.text_area(key="intake_description").value == "楼道里一直有噪音"
    # An appointment in the past is refused in the user's language, too.
    app.radio(key="intake_type").set_value("repair").run()
    app.text_input(key="intake_subject").input("门禁坏了")
    app.radio(key="intake_place").set_value("in_home")
    app.radio(key="intake_urgency").set_value("appointment").run()
    app.date_input(key="intake_day").set_value(datetime(2026, 1, 5).date())
    app.time_input(key="intake_time").set_value(datetime(2026, 1, 5, 9, 0).time()).run()
    app.button(key="intake_submit").click().run()
    shown = text(app)
    assert "户内报修需要来电人的房产" in shown and "预约时间" in shown
    assert ticket_count(dash) == before


def test_a_repeat_complaint_of_the_same_house_is_proposed_general(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard, INTAKE)
    app = dash.app
    phone = owner_phone(dash)

    def complain(severity: str | None) -> None:
        find_caller(app, phone)
        app.radio(key="intake_type").set_value("complaint").run()
        app.text_input(key="intake_subject").input("楼上装修噪音")
        app.selectbox(key="intake_category").set_value("noise").run()
        if severity is not None:
            app.radio(key="intake_severity").set_value(severity).run()

    complain("minor")
    assert app.radio(key="intake_severity").value == "minor"  # nothing proposed the first time
    app.button(key="intake_submit").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        first = db.scalars(select(Ticket.document_no).where(Ticket.subject == "楼上装修噪音")).one()
    complain(None)
    assert app.radio(key="intake_severity").value == "general"  # proposed; the user confirms
    assert first in text(app)
    app.button(key="intake_submit").click().run()
    with unit_of_work(dash.engine) as db:
        severities = db.scalars(
            select(Ticket.severity).where(Ticket.subject == "楼上装修噪音").order_by(Ticket.id)
        ).all()
    assert severities == ["minor", "general"]


def _repair(dash: Dashboard, received: datetime | None = None) -> str:
    with unit_of_work(dash.engine) as db:
        ticket = take_call(
            db,
            system_principal("cli"),
            TicketForm("SH001", "repair", "电梯异响", place="common_area", urgency="urgent"),
            now=received or datetime.now(UTC),
        )
        return ticket.document_no


def open_ticket(dash: Dashboard, number: str) -> AppTest:
    app = dash.app
    app.switch_page(TICKET)
    app.query_params["ticket"] = number
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_ticket_page_takes_a_repair_through_its_steps_to_a_rework(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    number = _repair(dash)
    dash.app.run()
    dash.log_in("manager")
    app = open_ticket(dash, number)
    assert "电梯异响" in text(app)
    app.selectbox(key="ticket_handler").set_value("manager")
    app.button(key="ticket_step_dispatch").click().run()
    assert not app.exception, app.exception
    app.button(key="ticket_step_pick_up").click().run()
    app.button(key="ticket_step_arrive").click().run()
    app.button(key="ticket_step_resolve").click().run()  # no note: refused, nothing moves
    assert app.error and "处理说明" in app.error[0].value
    app.text_area(key="ticket_note").input("更换导靴")
    app.button(key="ticket_step_resolve").click().run()
    assert not app.exception, app.exception
    app.radio(key="ticket_result").set_value("unsatisfied").run()
    app.checkbox(key="ticket_rework").check()
    app.button(key="ticket_step_follow_up").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        first = db.scalars(select(Ticket).where(Ticket.document_no == number)).one()
        rework = db.scalars(select(Ticket).where(Ticket.reopened_from_id == first.id)).one()
        assert (first.state, first.follow_up_result) == ("closed", "unsatisfied")
        assert rework.state == "recorded"
    timeline = app.dataframe[1].value
    assert list(timeline["操作"]) == ["登记", "派单", "接单", "到场", "处理完成", "回访"]
    assert "更换导靴" in timeline.to_csv()
    clocks = app.dataframe[0].value
    assert set(clocks["时限"]) == {"处理", "接单", "到场"}
    assert rework.document_no in text(app)


def test_a_link_opens_its_ticket_and_another_offices_shows_nothing(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        foreign = take_call(
            db,
            system_principal("cli"),
            TicketForm("BJ001", "inquiry", "北京的咨询"),
        ).document_no
    own = _repair(dash)
    dash.app.run()
    dash.log_in("manager")
    assert "电梯异响" in text(open_ticket(dash, own))
    app = open_ticket(dash, foreign)  # the next link opens the next ticket, in the same session
    assert "北京的咨询" not in text(app) and "电梯异响" not in text(app)
    assert app.warning and foreign in app.warning[0].value.replace("\\", "")


def test_the_todo_list_shows_tickets_waiting_and_marks_night_service(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    day = _repair(dash, datetime(2026, 12, 4, 2, 0, tzinfo=UTC))  # Friday 10:00 in Shanghai
    night = _repair(dash, datetime(2026, 12, 4, 19, 0, tzinfo=UTC))  # Saturday 03:00
    with unit_of_work(dash.engine) as db:
        for number in (day, night):
            ticket = db.scalars(select(Ticket).where(Ticket.document_no == number)).one()
            tickets.dispatch(db, system_principal("cli"), ticket, "manager", ticket.version)
        assert db.scalars(select(Ticket.night_service).where(Ticket.document_no == night)).one()
    dash.app.run()
    dash.log_in("manager")
    app = dash.app.switch_page(TODO).run()
    assert not app.exception, app.exception
    labels = {b.key: b.label for b in app.button}
    assert f"todo_open_{day}" in labels and f"todo_open_{night}" in labels
    assert "夜间服务" in labels[f"todo_open_{night}"]
    assert "夜间服务" not in labels[f"todo_open_{day}"]
    assert "接单" in labels[f"todo_open_{day}"]
    app.button(key=f"todo_open_{night}").click().run()  # opens the ticket's page
    assert not app.exception, app.exception
    assert [t.value.replace("\\", "") for t in app.title] == [f"客服工单 {night}"]
    assert app.button(key="ticket_step_pick_up")


def test_the_customer_view_lists_the_tickets_of_the_customers_houses(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard, INTAKE)
    app = dash.app
    phone = owner_phone(dash)
    find_caller(app, phone)
    app.radio(key="intake_type").set_value("inquiry").run()
    app.text_input(key="intake_subject").input("物业费怎么交")
    app.button(key="intake_submit").click().run()
    with unit_of_work(dash.engine) as db:
        number = db.scalars(
            select(Ticket.document_no).where(Ticket.subject == "物业费怎么交")
        ).one()
    app.switch_page("views/customers.py").run()
    app.text_input(key="cust_query").input(phone).run()
    assert not app.exception, app.exception
    assert number in text(app)


def test_an_inquiry_is_opened_answered_and_closed_on_its_page(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        number = take_call(
            db, system_principal("cli"), TicketForm("SH001", "inquiry", "车位月租多少")
        ).document_no
    dash.app.run()
    dash.log_in("manager")
    app = open_ticket(dash, number)
    app.button(key="ticket_step_open").click().run()
    app.text_area(key="ticket_note").input("每月 300 元")
    app.button(key="ticket_step_reply").click().run()
    app.button(key="ticket_step_close").click().run()
    assert not app.exception, app.exception
    with unit_of_work(dash.engine) as db:
        assert db.scalars(select(Ticket.state).where(Ticket.document_no == number)).one() == (
            "closed"
        )
    steps = list(app.dataframe[1].value["操作"])
    assert steps == ["登记", "开启", "答复", "关闭"]
    assert "每月 300 元" in app.dataframe[1].value.to_csv()
    assert "该工单目前没有等待您处理的步骤" in text(app)
