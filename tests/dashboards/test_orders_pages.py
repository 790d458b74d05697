"""The to-do list and the order forms, through the real services on a copy of the demo database."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from conftest import shown
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.auth import system_principal
from operational.db import unit_of_work
from operational.models import (
    ChecklistAnswer,
    CorrectiveOrder,
    PeriodicOrder,
    WorkflowClock,
    WorkflowClockPause,
    WorkflowEvent,
)
from operational.services import lookup

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

ORDERS = "views/orders.py"
TODO = "views/todo.py"
PERIODIC = "PM-SH001-000065"  # issued to sh001.sec on the demo's last day, checklist of GP-1


def session(dashboard: MakeDashboard, username: str, page: str = ORDERS) -> Dashboard:
    """A browser session of ``username`` on ``page`` (all sessions share one database copy)."""
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(page).run()
    assert not dash.app.exception
    return dash


def open_order(app: AppTest, number: str) -> AppTest:
    return app.text_input(key="order_no").input(number).run()


def messages(app: AppTest) -> list[str]:
    return [shown(m.value) for m in (*app.success, *app.error, *app.warning, *app.info)]


def raise_corrective(app: AppTest, title: str, responsible: str = "engineer") -> str:
    """Fill in and submit the corrective-order form; returns the new order's number."""
    app.text_input(key="raise_title").input(title)
    app.selectbox(key="raise_discipline").set_value("engineering")
    app.selectbox(key="raise_object").set_value("EL-1")
    app.selectbox(key="raise_responsible").set_value(responsible)
    app.button(key="raise_submit").click().run()
    assert not app.exception
    [done] = app.success
    found = re.search(r"CM-SH001-\d+", done.value)
    assert found, done.value
    return found.group()


def test_a_corrective_order_goes_round_the_whole_workflow(dashboard: MakeDashboard) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    number = raise_corrective(app, "2号电梯异响")
    # the new order is open on the form, waiting to be assigned by its responsible person
    assert app.text_input(key="order_no").value == number
    assert "待派工" in app.markdown[-1].value or any("待派工" in m.value for m in app.markdown)
    app.selectbox(key=f"assign_handler_{number}").set_value("sh001.tech1")
    app.button(key=f"do_assign_{number}").click().run()
    assert f"{number} 已派给 sh001.tech1。" in messages(app)

    # the technician finds it in their to-do list and opens it from there
    tech = session(dashboard, "sh001.tech1", TODO)
    todo = tech.app
    [row] = [b for b in todo.button if number in b.label]
    assert "已派工" in row.label and "处理" in row.label
    row.click().run()
    assert not todo.exception
    assert todo.text_input(key="order_no").value == number
    assert todo.button(key=f"do_process_{number}")
    # (AppTest's next run() goes back to the page it last switched to itself: switch explicitly)
    todo = open_order(tech.app.switch_page(ORDERS).run(), number)
    todo.text_area(key=f"process_note_{number}").input("更换导靴")
    todo.button(key=f"do_process_{number}").click().run()
    assert f"{number} 已处理完毕，等待验收。" in messages(todo)

    # the responsible person verifies it
    app = open_order(engineer.app.switch_page(ORDERS).run(), number)
    app.button(key=f"do_verify_{number}").click().run()
    assert f"{number} 已验收并关闭。" in messages(app)
    with unit_of_work(engineer.engine) as db:
        order = db.scalars(select(CorrectiveOrder).where(CorrectiveOrder.document_no == number))
        assert order.one().state == "closed"
        steps = db.scalars(
            select(WorkflowEvent.transition)
            .where(WorkflowEvent.document_no == number)
            .order_by(WorkflowEvent.id)
        ).all()
    assert steps == ["raise", "assign", "process", "verify"]


def test_a_failed_checklist_item_needs_its_corrective_order_in_the_same_submit(
    dashboard: MakeDashboard,
) -> None:
    supervisor = session(dashboard, "sh001.sec")
    app = open_order(supervisor.app, PERIODIC)
    app.selectbox(key=f"assign_handler_{PERIODIC}").set_value("sh001.guard")
    app.button(key=f"do_assign_{PERIODIC}").click().run()
    assert f"{PERIODIC} 已派给 sh001.guard。" in messages(app)

    guard = session(dashboard, "sh001.guard")
    app = open_order(guard.app, PERIODIC)
    with unit_of_work(guard.engine) as db:
        order_id = db.scalars(
            select(PeriodicOrder.id).where(PeriodicOrder.document_no == PERIODIC)
        ).one()
        ids = db.scalars(
            select(ChecklistAnswer.id)
            .where(ChecklistAnswer.order_id == order_id)
            .order_by(ChecklistAnswer.id)
        ).all()
    first, *rest = ids
    # nothing answered: every item is needed
    app.button(key=f"do_complete_{PERIODIC}").click().run()
    assert any("还有" in m or "未" in m for m in messages(app)), messages(app)
    for answer_id in rest:
        app.radio(key=f"ck_{PERIODIC}_{answer_id}").set_value("ok")
    app.radio(key=f"ck_{PERIODIC}_{first}").set_value("fail").run()
    assert app.text_input(key=f"ck_{PERIODIC}_{first}_title")  # its corrective-order fields
    app.button(key=f"do_complete_{PERIODIC}").click().run()
    # every problem at once: the ✗ without its corrective order and the missing work note
    [both] = app.error
    assert "「交接班记录完整」标记为 ✗：提交前请为其发起纠正派工单。" in both.value
    assert "「处理情况」" in both.value
    assert app.radio(key=f"ck_{PERIODIC}_{first}").value == "fail"  # what was chosen is kept
    app.text_area(key=f"complete_note_{PERIODIC}").input("巡查完毕").run()
    app.button(key=f"do_complete_{PERIODIC}").click().run()
    assert "「交接班记录完整」标记为 ✗：提交前请为其发起纠正派工单。" in messages(app)
    with unit_of_work(guard.engine) as db:
        assert db.get_one(PeriodicOrder, order_id).state == "assigned"  # nothing saved

    app.text_input(key=f"ck_{PERIODIC}_{first}_title").input("交接班记录缺页")
    app.button(key=f"do_complete_{PERIODIC}").click().run()
    [done] = app.success
    assert done.value.startswith(f"{PERIODIC} 已完成并关闭。 已生成整改工单：CM-SH001-")
    with unit_of_work(guard.engine) as db:
        assert db.get_one(PeriodicOrder, order_id).state == "closed"
        failed = db.scalars(select(ChecklistAnswer).where(ChecklistAnswer.id == first)).one()
        corrective = db.get_one(CorrectiveOrder, failed.corrective_order_id)
        assert (failed.ok, corrective.title, corrective.source_order_id) == (
            False,
            "交接班记录缺页",
            order_id,
        )


def test_a_form_someone_else_overtook_is_refused_with_a_message(dashboard: MakeDashboard) -> None:
    first = session(dashboard, "engineer")
    number = raise_corrective(first.app, "水泵漏水")
    second = session(dashboard, "engineer")
    other = open_order(second.app, number)  # the same order, open in a second browser
    first.app.selectbox(key=f"assign_handler_{number}").set_value("sh001.tech1")
    first.app.button(key=f"do_assign_{number}").click().run()
    other.selectbox(key=f"assign_handler_{number}").set_value("sh001.tech2")
    other.button(key=f"do_assign_{number}").click().run()
    assert not other.exception
    [refused] = other.error
    assert shown(refused.value).startswith(f"{number} 在您打开后已被他人修改")
    with unit_of_work(first.engine) as db:
        order = db.scalars(select(CorrectiveOrder).where(CorrectiveOrder.document_no == number))
        assert order.one().handler_id == first.user("sh001.tech1").id  # not overwritten
    # reloaded, the form offers the step that is possible now
    assert other.button(key=f"do_assign_{number}").label == "改派"


def test_sending_back_without_a_reason_is_refused_in_english_too(dashboard: MakeDashboard) -> None:
    engineer = session(dashboard, "engineer")
    number = raise_corrective(engineer.app, "楼道灯不亮")
    app = engineer.app
    app.selectbox(key=f"assign_handler_{number}").set_value("engineer")
    app.button(key=f"do_assign_{number}").click().run()
    app.text_area(key=f"process_note_{number}").input("更换灯管")
    app.button(key=f"do_process_{number}").click().run()
    app.radio(key="language_switch").set_value("en").run()
    app = engineer.app.switch_page(ORDERS).run()
    app.button(key=f"do_send_back_{number}").click().run()
    assert "Say why the work is sent back." in messages(app)
    app.text_area(key=f"verify_note_{number}").input("灯仍闪烁")
    app.button(key=f"do_send_back_{number}").click().run()
    assert f"{number} is sent back to the handler." in messages(app)


def test_the_handler_puts_an_order_on_hold_and_resumes_it(dashboard: MakeDashboard) -> None:
    engineer = session(dashboard, "engineer")
    number = raise_corrective(engineer.app, "水泵密封件损坏")
    engineer.app.selectbox(key=f"assign_handler_{number}").set_value("sh001.tech1")
    engineer.app.button(key=f"do_assign_{number}").click().run()

    app = open_order(session(dashboard, "sh001.tech1").app, number)
    app.button(key=f"do_wait_{number}").click().run()  # no reason chosen
    assert "请选择挂起原因。" in messages(app)
    app.selectbox(key=f"wait_reason_{number}").set_value("parts")
    app.button(key=f"do_wait_{number}").click().run()
    assert not app.exception
    assert f"{number} 已挂起（等配件），时效计时暂停。" in messages(app)
    assert any("挂起中" in m.value for m in app.markdown)
    assert [b.key for b in app.button if (b.key or "").startswith("do_")] == [f"do_resume_{number}"]
    app.button(key=f"do_resume_{number}").click().run()
    assert f"{number} 已恢复处理，时限已按挂起时长顺延。" in messages(app)
    assert app.button(key=f"do_process_{number}")
    with unit_of_work(engineer.engine) as db:
        order = db.scalars(
            select(CorrectiveOrder).where(CorrectiveOrder.document_no == number)
        ).one()
        events = db.scalars(
            select(WorkflowEvent)
            .where(WorkflowEvent.document_no == number)
            .order_by(WorkflowEvent.id)
        ).all()
        (clock,) = db.scalars(
            select(WorkflowClock).where(
                WorkflowClock.document_type == "corrective_order",
                WorkflowClock.document_id == order.id,
            )
        )
        (pause,) = db.scalars(
            select(WorkflowClockPause).where(WorkflowClockPause.clock_id == clock.id)
        )
        assert order.state == "assigned"
        assert [e.transition for e in events] == ["raise", "assign", "wait", "resume"]
        assert events[2].payload == {"reason": "parts", "note": ""}
        assert (pause.paused_event_id, pause.resumed_event_id) == (events[2].id, events[3].id)
        assert pause.resumed_at is not None


def test_an_order_of_another_office_does_not_open(dashboard: MakeDashboard) -> None:
    app = open_order(session(dashboard, "sh001.tech1").app, "CM-BJ002-000012")
    assert "CM-BJ002-000012" in shown(app.warning[0].value)
    assert not [b for b in app.button if (b.key or "").startswith("do_")]


@pytest.mark.parametrize("username", ["engineer", "manager", "sh001.tech1"])
def test_every_office_user_gets_the_to_do_list_and_the_order_form(
    dashboard: MakeDashboard, username: str
) -> None:
    dash = session(dashboard, username, TODO)
    assert dash.app.title[0].value == "我的待办"
    dash.app.switch_page(ORDERS).run()
    assert not dash.app.exception
    assert dash.app.title[0].value == "工单"


def test_the_to_do_list_shows_what_waits_oldest_deadline_first(dashboard: MakeDashboard) -> None:
    dash = session(dashboard, "sh001.sec", TODO)
    assert "暂无待办" not in " ".join(messages(dash.app))
    labels = [b.label for b in dash.app.button if b.label.startswith(("PM-", "CM-"))]
    assert labels and labels[0].startswith(PERIODIC)
    [table] = dash.app.dataframe
    assert list(table.value["单号"]) == [label.split(" · ")[0] for label in labels]
    assert dash.app.download_button

    empty = session(dashboard, "manager", TODO)
    assert any("暂无待办" in m for m in messages(empty.app))


def test_marking_an_order_done_needs_a_work_note_and_keeps_what_was_typed(
    dashboard: MakeDashboard,
) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    number = raise_corrective(app, "地下室排水沟堵塞")
    app.selectbox(key=f"assign_handler_{number}").set_value("engineer")
    app.button(key=f"do_assign_{number}").click().run()
    app.text_area(key=f"process_note_{number}").input("   ")
    app.button(key=f"do_process_{number}").click().run()
    assert not app.exception
    [refused] = app.error
    assert refused.value == "请填写「处理情况」：说明做了哪些工作，再标记完成。"
    assert app.text_area(key=f"process_note_{number}").value == "   "  # kept as typed
    with unit_of_work(engineer.engine) as db:
        order = db.scalars(select(CorrectiveOrder).where(CorrectiveOrder.document_no == number))
        assert order.one().state == "assigned"
    app.text_area(key=f"process_note_{number}").input("疏通排水沟，清出淤泥两袋")
    app.button(key=f"do_process_{number}").click().run()
    assert f"{number} 已处理完毕，等待验收。" in messages(app)
    # the history below the form says who did what, with the note
    history = app.dataframe[-1].value
    assert list(history["操作"]) == ["发起", "派工", "处理完成"]
    assert list(history["说明"])[-1] == "疏通排水沟，清出淤泥两袋"
    assert "负责人：engineer" in history["说明"].iloc[0]
    assert list(history["操作人"])[-1].endswith("(engineer)")


def test_head_office_reads_a_closed_late_orders_history_and_lateness(
    dashboard: MakeDashboard,
) -> None:
    dash = session(dashboard, "hq")
    with unit_of_work(dash.engine) as db:
        system = system_principal("cli")
        chosen = lookup.OrderFilter(state="closed", late=True)
        row = next(
            r
            for r in lookup.order_list(db, system, chosen, limit=None).rows
            if r.document_type == "corrective_order"
        )
        view = lookup.order_view(db, system, row.document_no)
    app = open_order(dash.app, row.document_no)
    assert not app.exception
    details = "\n".join(m.value for m in app.markdown)
    assert "**时限**" in details and "超时" in details and "**完成时间**" in details
    assert "按自然时间计" in details or "按工作时间计" in details
    assert "None" not in details and "无时限" not in details
    assert any("时间均为管理处当地时间（Asia/Shanghai）" in c.value for c in app.caption)
    history = app.dataframe[-1].value
    assert list(history["操作"]) == [
        {"raise": "发起", "assign": "派工", "process": "处理完成", "verify": "验证"}[
            line.transition
        ]
        for line in view.history
    ]
    assert list(history["状态"])[-1] == "已关闭"
    assert not [b for b in app.button if (b.key or "").startswith("do_")]  # HQ only reads
