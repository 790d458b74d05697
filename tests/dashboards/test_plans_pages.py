"""The periodic-plan page: objects without a plan, draft → submit → approve, and who may do what."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from operational.db import unit_of_work
from operational.models import PeriodicPlan

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
