"""The object card (/object?code=…) and the fault library page (P16), on the demo site."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from conftest import shown
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from operational.db import unit_of_work
from operational.models import Fault

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

CARD = "views/object_card.py"
FAULTS = "views/faults.py"


def scanned(dashboard: MakeDashboard, username: str, **query: str) -> AppTest:
    """A label scanned by a logged-out phone: the login form, then the page the label named."""
    dash = dashboard()
    for key, value in query.items():
        dash.app.query_params[key] = value
    dash.app.run()
    assert dash.app.session_state["login_query"] == query
    dash.log_in(username)
    dash.app.query_params.clear()  # the address lost its query: the stash still knows
    app = dash.app.switch_page(CARD).run()
    assert not app.exception, app.exception
    return app


def text_of(app: AppTest) -> str:
    return " ".join([m.value for m in app.markdown] + [c.value for c in app.caption])


def test_a_scanned_label_survives_the_login_and_opens_the_card(dashboard: MakeDashboard) -> None:
    app = scanned(dashboard, "manager", code="EL-1", office="SH001")
    assert app.text_input(key="object_card_code").value == "EL-1"
    assert [h.value for h in app.subheader] == ["1号电梯"]
    text = text_of(app)
    assert "SH001" in text and "工程设备 / 电梯" in text and "**品牌**" in text
    labels = [t.label for t in app.tabs]
    assert labels[0].startswith("待办工单（") and labels[1:] == ["工单历史", "作业指导", "故障库"]
    assert "1. 曳引机运行无异响" in text  # the type's work standard
    faults = [e.label for e in app.expander]
    assert "电梯困人 · 电梯" in faults and "设备突然断电停机 · 工程设备" in faults
    assert not any("水泵" in f for f in faults)
    assert (app.query_params["code"], app.query_params["office"]) == ("EL-1", "SH001")


def test_the_fault_search_on_the_card(dashboard: MakeDashboard) -> None:
    app = scanned(dashboard, "engineer", code="EL-1", office="SH001")
    app.text_input(key="object_card_fault_search").input("隔磁板").run()
    assert [e.label for e in app.expander] == ["平层不准 · 电梯"]
    app.text_input(key="object_card_fault_search").input("没有这种故障").run()
    assert [e.label for e in app.expander] == []
    assert "没有符合条件的故障条目。" in text_of(app)


def test_an_object_of_another_office_is_not_shown(dashboard: MakeDashboard) -> None:
    app = scanned(dashboard, "manager", code="EL-1", office="BJ001")
    assert [shown(w.value) for w in app.warning] == [
        "找不到对象 EL-1，或该对象不在您的管理处范围内。"
    ]
    assert not app.subheader


def test_a_code_without_office_asks_which_office(dashboard: MakeDashboard) -> None:
    app = scanned(dashboard, "admin", code="EL-1")
    choice = app.selectbox(key="object_card_office")
    assert len(choice.options) == 4 and choice.value is None
    assert not app.subheader
    choice.set_value("BJ001").run()
    assert not app.exception
    assert [h.value for h in app.subheader] == ["1号电梯"]
    assert "BJ001" in text_of(app)
    # The manager sees only their office: the same code opens straight away.
    app = scanned(dashboard, "manager", code="EL-1")
    assert not app.get("selectbox")
    assert "SH001" in text_of(app)


def test_a_code_can_be_typed_and_a_technician_may_look(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("sh001.tech1")
    app = dash.app.switch_page(CARD).run()
    assert not app.exception
    assert "请输入对象编码" in app.info[0].value
    app.text_input(key="object_card_code").input("LB-1").run()
    assert [h.value for h in app.subheader] == ["1号楼大堂"]
    assert "地面洁净无水渍" in text_of(app)
    assert [e.label for e in app.expander] == ["大堂地面有水渍易滑倒 · 大堂"]
    assert app.tabs[0].label == "待办工单（2）"
    pending, history = (d.value for d in app.dataframe)
    assert list(pending.columns) == ["单号", "单据类型", "标题", "状态", "创建时间", "截止时间"]
    assert tuple(pending.iloc[0])[1:4] == ("定期工单", "大堂保洁检查", "已下发")
    assert tuple(pending.iloc[1])[1:4] == ("纠正派工单", "大堂石材地面开裂", "挂起中")  # demo
    assert pending.iloc[0]["截止时间"]  # the deadline, on the office's clock
    assert set(history["状态"]) == {"已关闭"} and len(history) >= 1
    assert f"共 {len(history)} 张已关闭工单" in text_of(app)


def test_fault_library_page_search_and_who_may_add(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("manager")
    app = dash.app.switch_page(FAULTS).run()
    assert not app.exception
    assert not app.get("form")  # an office manager reads, does not add
    app.text_input(key="faults_search").input("异响").run()
    table = app.dataframe[0].value
    assert set(table["故障现象"]) == {"水泵异响", "运行中轿厢异响或抖动"}
    app.selectbox(key="faults_type").set_value("water_pump").run()
    assert list(app.dataframe[0].value["故障现象"]) == ["水泵异响"]

    dash = dashboard()
    dash.app.run()
    dash.log_in("engineer")
    app = dash.app.switch_page(FAULTS).run()
    with unit_of_work(dash.engine) as db:
        before = db.scalar(select(func.count()).select_from(Fault))
    app.selectbox(key="fault_new_type").set_value("elevator")
    app.text_input(key="fault_new_symptom").input("轿厢照明不亮")
    app.text_area(key="fault_new_cause").input("灯管老化或照明回路保险熔断")
    app.button(key="fault_new_submit").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["已新增故障条目「轿厢照明不亮」。"]
    with unit_of_work(dash.engine) as db:
        assert db.scalar(select(func.count()).select_from(Fault)) == (before or 0) + 1
    app.selectbox(key="fault_new_type").set_value("elevator")
    app.text_input(key="fault_new_symptom").input("电梯困人")
    app.text_area(key="fault_new_remedy").input("盘车放人")
    app.button(key="fault_new_submit").click().run()
    assert [e.value for e in app.error] == ["类型「电梯」已有故障「电梯困人」。"]


def test_the_menu_offers_the_pages_to_anyone_at_an_office(dashboard: MakeDashboard) -> None:
    from dashboards.navigation import visible_pages
    from operational.auth import load_principal
    from operational.models import User

    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        for username in ("sh001.tech1", "hq", "manager"):
            user_id = db.scalars(select(User.id).where(User.username == username)).one()
            files = {p.file for p in visible_pages(load_principal(db, user_id))}
            assert {CARD, FAULTS} <= files
