"""The inspection pages: plans of both kinds drafted, submitted and approved by the right people;
an order walked on its page — scanned checkpoint, scores, the failed item refused until its
nonconformity is opened right there, submitted; inspection orders in the to-do list."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from conftest import shown
from sqlalchemy import select

from operational.db import unit_of_work
from operational.models import InspectionOrder, InspectionPlan, InspectionScore, User

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PLANS = "views/inspection_plans.py"
ORDER = "views/inspection.py"
FORM = "insp_plan_form"


def session(dashboard: MakeDashboard, username: str, page: str = PLANS) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(page).run()
    assert not dash.app.exception
    return dash


def _fill(app: object, route: str, items: str, inspector: str) -> None:
    app.text_input(key=f"{FORM}_name").input("大堂巡检")  # type: ignore[attr-defined]
    app.selectbox(key=f"{FORM}_inspector").set_value(inspector)  # type: ignore[attr-defined]
    app.text_area(key=f"{FORM}_route").input(route)  # type: ignore[attr-defined]
    app.text_area(key=f"{FORM}_items").input(items)  # type: ignore[attr-defined]


def test_a_professional_plan_goes_from_the_supervisor_to_the_office_manager(
    dashboard: MakeDashboard,
) -> None:
    engineer = session(dashboard, "engineer")
    app = engineer.app
    assert app.radio(key=f"{FORM}_kind").options == ["专业检查"]  # only what they may draft
    assert app.selectbox(key=f"{FORM}_discipline").options == ["工程"]  # their own discipline
    _fill(app, "A; 大堂\nB; #NOPE", "A; 地面干净; 10; 12", "engineer")
    app.button(key=f"{FORM}_submit").click().run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "合格分须在 0 与满分（10）之间" in errors and "没有对象 NOPE" in errors
    assert app.text_area(key=f"{FORM}_route").value == "A; 大堂\nB; #NOPE"  # kept as typed
    app.text_area(key=f"{FORM}_route").input("A; 大堂")
    app.text_area(key=f"{FORM}_items").input("A; 地面干净; 10; 7")
    app.button(key=f"{FORM}_submit").click().run()
    [drafted] = [m.value for m in app.success if "已起草" in m.value]
    number = re.search(r"IP-SH001-\d+", drafted).group()  # type: ignore[union-attr]
    app.button(key=f"insp_submit_{number}").click().run()
    assert f"计划 {number} 已提交审批。" in [s.value for s in app.success]

    audit = session(dashboard, "city.audit")
    assert not [b for b in audit.app.button if (b.key or "") == f"insp_approve_{number}"]
    manager = session(dashboard, "manager")
    manager.app.button(key=f"insp_approve_{number}").click().run()
    assert not manager.app.exception
    with unit_of_work(manager.engine) as db:
        plan = db.scalars(select(InspectionPlan).where(InspectionPlan.document_no == number)).one()
        assert (plan.state, plan.kind) == ("approved", "professional")


def test_a_quality_plan_goes_from_the_office_manager_to_city_audit(
    dashboard: MakeDashboard,
) -> None:
    manager = session(dashboard, "manager")
    app = manager.app
    assert app.radio(key=f"{FORM}_kind").options == ["品质检验"]
    assert app.selectbox(key=f"{FORM}_discipline").options == [
        "工程",
        "园艺",
        "秩序",
        "保洁",
        "客服",
    ]
    _fill(app, "Q; 客服中心", "Q; 接待礼仪; 10; 8", "manager")
    app.button(key=f"{FORM}_submit").click().run()
    number = re.search(r"QP-SH001-\d+", app.success[0].value).group()  # type: ignore[union-attr]
    app.button(key=f"insp_submit_{number}").click().run()
    assert not [b for b in app.button if (b.key or "") == f"insp_approve_{number}"]
    audit = session(dashboard, "city.audit")
    audit.app.text_input(key=f"insp_reason_{number}").input("请补充公共区域")
    audit.app.button(key=f"insp_return_{number}").click().run()
    with unit_of_work(audit.engine) as db:
        plan = db.scalars(select(InspectionPlan).where(InspectionPlan.document_no == number)).one()
        assert plan.state == "returned"


def _open_order(dash: Dashboard) -> InspectionOrder:
    """The engineer's issued order of the demo (the newest of their weekly plan)."""
    with unit_of_work(dash.engine) as db:
        engineer = db.scalars(select(User).where(User.username == "engineer")).one()
        order = db.scalars(
            select(InspectionOrder).where(
                InspectionOrder.inspector_id == engineer.id, InspectionOrder.state == "issued"
            )
        ).one()
        db.expunge(order)
        return order


def test_an_order_is_walked_and_a_failed_item_needs_its_nonconformity(
    dashboard: MakeDashboard,
) -> None:
    dash = dashboard()
    order = _open_order(dash)
    app = dash.app
    app.run()
    dash.log_in("engineer")
    # the to-do list offers the order
    app.switch_page("views/todo.py").run()
    assert any(order.document_no in (b.label or "") for b in app.button)
    # a checkpoint label opens the order at its step
    with unit_of_work(dash.engine) as db:
        plan_no = db.get_one(InspectionPlan, order.plan_id).document_no
    app.switch_page(ORDER)
    app.query_params["plan"] = plan_no
    app.query_params["checkpoint"] = "CP-3"
    app.run()
    assert not app.exception
    assert order.document_no in " ".join(shown(m.value) for m in app.markdown)
    opened = [e for e in app.expander if e.proto.expanded]
    assert [e.label for e in opened] == [e.label for e in app.expander if "CP\\-3" in e.label]
    app.button(key="insp_start").click().run()
    with unit_of_work(dash.engine) as db:
        scores = db.scalars(
            select(InspectionScore)
            .where(InspectionScore.order_id == order.id)
            .order_by(InspectionScore.checkpoint_position, InspectionScore.position)
        ).all()
        ids = [(s.id, s.pass_mark, s.max_score) for s in scores]
    failed_id = ids[-1][0]
    for score_id, pass_mark, max_score in ids:
        value = pass_mark - 1 if score_id == failed_id else max_score
        app.number_input(key=f"insp_item_{score_id}_score").set_value(value)
        app.button(key=f"insp_item_{score_id}_save").click().run()
        assert not app.exception
    app.button(key="insp_submit_button").click().run()
    refused = " ".join(e.value for e in app.error)
    assert "提交前请为其开具不合格单" in refused
    nc = f"insp_nc_{failed_id}"
    assert app.text_area(key=f"{nc}_description")  # offered right there
    app.text_area(key=f"{nc}_description").input("大堂地面有积水")
    app.button(key=f"{nc}_submit").click().run()
    assert any("已开具并关联" in s.value for s in app.success)
    app.button(key="insp_submit_button").click().run()
    assert not app.exception
    with unit_of_work(dash.engine) as db:
        walked = db.get_one(InspectionOrder, order.id)
        failed = db.get_one(InspectionScore, failed_id)
        assert walked.state == "submitted"
        assert failed.nonconformity_id is not None


def test_another_office_s_order_is_not_shown(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        foreign = db.scalars(
            select(InspectionOrder.document_no).where(~InspectionOrder.document_no.like("%SH001%"))
        ).first()
    assert foreign
    dash.app.run()
    dash.log_in("engineer")
    dash.app.switch_page(ORDER)
    dash.app.query_params["order"] = foreign
    dash.app.run()
    assert not dash.app.exception
    assert [w.value for w in dash.app.warning if "检查工单" in w.value]
    assert not [b for b in dash.app.button if b.key == "insp_start"]
