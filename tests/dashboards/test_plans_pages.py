"""The periodic-plan page: objects without a plan, draft → submit → approve, and who may do what."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from operational.auth import Principal, load_principal
from operational.db import unit_of_work
from operational.models import Discipline, Frequency, PeriodicOrder, PeriodicPlan, User
from operational.services.plans import draft_plan, generate_orders, return_plan, submit_plan

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PLANS = "views/plans.py"


def session(dashboard: MakeDashboard, username: str) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(PLANS).run()
    assert not dash.app.exception
    return dash


def uncovered(dash: Dashboard) -> list[str]:
    tables = [d.value for d in dash.app.dataframe if "设施设备编码" in d.value.columns]
    return list(tables[0]["设施设备编码"]) if tables else []


def test_a_plan_is_drafted_submitted_and_approved_by_the_office_manager(
    dashboard: MakeDashboard,
) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    [missing] = uncovered(engineer)  # the demo leaves one fire pump room of SH001 without a plan
    app.text_input(key="plan_name").input("消防泵房月检（补）")
    app.selectbox(key="plan_discipline").set_value("engineering")
    app.selectbox(key="plan_responsible").set_value("engineer")
    app.selectbox(key="plan_frequency").set_value("monthly")
    app.date_input(key="plan_start").set_value(date(2026, 12, 1))
    app.multiselect(key="plan_objects").set_value([missing])
    app.button(key="plan_submit").click().run()
    assert not app.exception
    [drafted] = [m.value for m in app.success if "草稿" in m.value]
    found = re.search(r"PP-SH001-\d+", drafted)
    assert found, drafted
    number = found.group()
    assert uncovered(engineer) == []  # a draft covers the object already
    # the author submits; a supervisor may not approve
    app.button(key=f"plan_submit_{number}").click().run()
    assert f"计划 {number} 已提交管理处经理审批。" in [s.value for s in app.success]
    assert not [b for b in app.button if (b.key or "").startswith(f"plan_approve_{number}")]

    manager = session(dashboard, "manager")
    manager.app.button(key=f"plan_approve_{number}").click().run()
    assert f"计划 {number} 已审批，将据此生成工单。" in [s.value for s in manager.app.success]
    with unit_of_work(manager.engine) as db:
        plan = db.scalars(select(PeriodicPlan).where(PeriodicPlan.document_no == number)).one()
        assert (plan.state, plan.frequency) == ("approved", "monthly")


def test_a_plan_is_returned_only_with_a_reason(dashboard: MakeDashboard) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    [missing] = uncovered(engineer)
    app.text_input(key="plan_name").input("临时计划")
    app.selectbox(key="plan_responsible").set_value("engineer")
    app.multiselect(key="plan_objects").set_value([missing])
    app.button(key="plan_submit").click().run()
    number = re.search(r"PP-SH001-\d+", app.success[0].value).group()  # type: ignore[union-attr]
    app.button(key=f"plan_submit_{number}").click().run()

    manager = session(dashboard, "manager").app
    manager.button(key=f"plan_return_{number}").click().run()
    assert [e.value for e in manager.error] == ["请说明退回原因。"]
    manager.text_input(key=f"plan_reason_{number}").input("频次应为每周")
    manager.button(key=f"plan_return_{number}").click().run()
    assert f"计划 {number} 已退回编制人。" in [s.value for s in manager.success]


def test_a_draft_without_objects_is_refused_with_the_services_message(
    dashboard: MakeDashboard,
) -> None:
    app = session(dashboard, "engineer").app
    app.text_input(key="plan_name").input("空计划")
    app.selectbox(key="plan_responsible").set_value("engineer")
    app.button(key="plan_submit").click().run()
    assert [e.value for e in app.error] == ["请至少选择一个对象。"]


@pytest.mark.parametrize("username", ["sh001.tech1", "sh001.guard", "hq"])
def test_technicians_and_hq_have_no_plan_page(dashboard: MakeDashboard, username: str) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        dash.app.switch_page(PLANS)


def test_the_manager_sees_only_their_offices_plans(dashboard: MakeDashboard) -> None:
    dash = session(dashboard, "manager")
    assert list(dash.app.selectbox(key="plan_office").options) == ["SH001 上海丽都公馆管理处"]
    [plans] = [d.value for d in dash.app.dataframe if "计划名称" in d.value.columns]
    assert len(plans) == 5 and all(n.startswith("PP-SH001-") for n in plans["单号"])
    assert dash.app.download_button


# ---------------------------------------------------------------- forms, edit, end, change


def as_user(dash: Dashboard, username: str) -> Principal:
    with unit_of_work(dash.engine) as db:
        user = db.scalars(select(User).where(User.username == username)).one()
        return load_principal(db, user.id)


def plan_row(dash: Dashboard, number: str) -> PeriodicPlan:
    with unit_of_work(dash.engine) as db:
        plan = db.scalars(select(PeriodicPlan).where(PeriodicPlan.document_no == number)).one()
        db.expunge(plan)
        return plan


def test_a_refused_draft_lists_every_problem_keeps_what_was_typed_and_the_next_submit_works(
    dashboard: MakeDashboard,
) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    [missing] = uncovered(engineer)
    app.text_input(key="plan_name").input("消防泵房季检")
    app.selectbox(key="plan_frequency").set_value("quarterly")
    app.date_input(key="plan_start").set_value(date(2027, 1, 5))
    app.button(key="plan_submit").click().run()
    assert not app.exception
    [refused] = [e.value for e in app.error]
    assert refused.splitlines() == [
        "有 2 处需要修改：",
        "- 请选择责任人。",
        "- 请至少选择一个对象。",
    ]
    # the form stays open, the problems inside it
    [box] = [x for x in app.expander if x.label == "编制新计划"]
    assert box.proto.expanded
    assert [e.value for e in box.error] == [refused]
    assert app.text_input(key="plan_name").value == "消防泵房季检"
    assert app.selectbox(key="plan_frequency").value == "quarterly"
    assert app.date_input(key="plan_start").value == date(2027, 1, 5)
    assert not app.success or all("草稿" not in s.value for s in app.success)

    app.selectbox(key="plan_responsible").set_value("engineer")
    app.multiselect(key="plan_objects").set_value([missing])
    app.button(key="plan_submit").click().run()
    assert not app.error
    [drafted] = [m.value for m in app.success if "草稿" in m.value]
    number = re.search(r"PP-SH001-\d+", drafted).group()  # type: ignore[union-attr]
    plan = plan_row(engineer, number)
    assert (plan.name, plan.frequency, plan.start_date) == (
        "消防泵房季检",
        "quarterly",
        date(2027, 1, 5),
    )


def test_a_returned_plan_is_edited_resubmitted_and_approved(dashboard: MakeDashboard) -> None:
    engineer = session(dashboard, "engineer")
    [missing] = uncovered(engineer)
    with unit_of_work(engineer.engine) as db:
        eng, mgr = as_user(engineer, "engineer"), as_user(engineer, "manager")
        plan = draft_plan(
            db,
            eng,
            office_code="SH001",
            name="消防泵房月检",
            discipline=Discipline.ENGINEERING,
            responsible="engineer",
            frequency=Frequency.MONTHLY,
            start_date=date(2027, 1, 1),
            object_codes=[missing],
        )
        submit_plan(db, eng, plan, plan.version)
        return_plan(db, mgr, plan, plan.version, "频次应为每周")
        number = plan.document_no
    app = engineer.app
    app.run()
    assert "退回原因：频次应为每周" in [w.value for w in app.warning]
    app.button(key=f"plan_revise_{number}").click().run()
    assert app.selectbox(key="plan_open").value == number
    version = plan_row(engineer, number).version
    prefix = f"plan_edit_{number}_v{version}"
    assert app.text_input(key=f"{prefix}_name").value == "消防泵房月检"
    # a refused edit keeps what was typed and lists the problems
    app.text_input(key=f"{prefix}_name").input("")
    app.selectbox(key=f"{prefix}_frequency").set_value("weekly")
    app.multiselect(key=f"{prefix}_objects").set_value([])
    app.button(key=f"{prefix}_resubmit").click().run()
    assert [e.value.splitlines() for e in app.error] == [
        ["有 2 处需要修改：", "- 请填写计划名称。", "- 请至少选择一个对象。"]
    ]
    assert app.selectbox(key=f"{prefix}_frequency").value == "weekly"
    assert plan_row(engineer, number).state == "returned"
    app.text_input(key=f"{prefix}_name").input("消防泵房周检")
    app.multiselect(key=f"{prefix}_objects").set_value([missing])
    app.button(key=f"{prefix}_resubmit").click().run()
    assert not app.error
    assert f"计划 {number} 已修改并重新提交管理处经理审批。" in [s.value for s in app.success]
    assert (plan_row(engineer, number).state, plan_row(engineer, number).frequency) == (
        "submitted",
        "weekly",
    )

    manager = session(dashboard, "manager").app
    manager.button(key=f"plan_approve_{number}").click().run()
    assert f"计划 {number} 已审批，将据此生成工单。" in [s.value for s in manager.success]
    plan = plan_row(engineer, number)
    assert (plan.state, plan.name) == ("approved", "消防泵房周检")


def test_an_approved_plan_is_changed_then_ended_and_generation_never_duplicates(
    dashboard: MakeDashboard,
) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    old_no = "PP-SH001-000011"  # the demo's elevators, every two weeks
    old = plan_row(engineer, old_no)
    app.selectbox(key="plan_open").set_value(old_no).run()
    prefix = f"plan_change_{old_no}_v{old.version}"
    takes_over = date.today() + timedelta(days=3)
    app.date_input(key=f"{prefix}_takes_over").set_value(takes_over)
    app.number_input(key=f"{prefix}_every").set_value(1)
    app.button(key=f"{prefix}_submit").click().run()
    assert not app.exception and not app.error
    [changed] = [s.value for s in app.success if "新版本" in s.value]
    new_no = re.search(r"PP-SH001-\d+", changed).group()  # type: ignore[union-attr]
    assert app.selectbox(key="plan_open").value == new_no
    assert any("第 2 版" in c.value for c in app.caption)
    app.button(key=f"plan_submit_{new_no}").click().run()

    manager = session(dashboard, "manager").app
    manager.button(key=f"plan_approve_{new_no}").click().run()
    assert plan_row(engineer, old_no).end_date == takes_over - timedelta(days=1)
    with unit_of_work(engineer.engine) as db:
        generate_orders(db, None, date.today() + timedelta(days=120))

    def orders_of(number: str) -> list[date]:
        with unit_of_work(engineer.engine) as db:
            return list(
                db.scalars(
                    select(PeriodicOrder.scheduled_for)
                    .join(PeriodicPlan, PeriodicPlan.id == PeriodicOrder.plan_id)
                    .where(PeriodicPlan.document_no == number)
                    .order_by(PeriodicOrder.scheduled_for)
                )
            )

    old_dates, new_dates = orders_of(old_no), orders_of(new_no)
    # the old plan's last order covers the elevators for two weeks: the new one starts after
    assert new_dates and new_dates[0] >= old_dates[-1] + timedelta(days=14)
    assert new_dates[0] >= takes_over

    # the manager ends the new version: nothing after its end date
    manager.selectbox(key="plan_open").set_value(new_no).run()
    new = plan_row(engineer, new_no)
    end_prefix = f"plan_end_{new_no}_v{new.version}"
    ends = new_dates[1]
    manager.date_input(key=f"{end_prefix}_date").set_value(ends)
    manager.button(key=f"{end_prefix}_submit").click().run()
    assert not manager.error
    assert plan_row(engineer, new_no).end_date == ends
    with unit_of_work(engineer.engine) as db:
        generate_orders(db, None, date.today() + timedelta(days=240))
    assert orders_of(new_no) == new_dates  # the orders already issued stay, no new ones
    [table] = [d.value for d in manager.dataframe if "版本" in d.value.columns]
    versions = dict(zip(table["单号"], table["版本"], strict=True))
    assert versions[new_no].startswith(f"第 2 版 · 接替 {old_no}")
    assert versions[old_no] == f"第 1 版 · 由 {new_no} 接替"


def test_an_english_user_reads_the_problems_and_the_plan_forms_in_english(
    dashboard: MakeDashboard,
) -> None:
    engineer = session(dashboard, "engineer")
    engineer.app.radio(key="language_switch").set_value("en").run()
    app = engineer.app.switch_page(PLANS).run()
    app.text_input(key="plan_name").input("x" * 201)
    app.button(key="plan_submit").click().run()
    [refused] = [e.value for e in app.error]
    assert refused.replace("\\", "").splitlines() == [  # user text is escaped Markdown
        "3 things to correct:",
        "- Plan name '" + "x" * 39 + "…' is too long: 201 characters, at most 200.",
        "- Choose the responsible person.",
        "- Choose at least one object.",
    ]
    app.selectbox(key="plan_open").set_value("PP-SH001-000011").run()
    assert [e.label for e in app.expander if e.label.startswith("Change")] == [
        "Change the plan (draft a new version)"
    ]
