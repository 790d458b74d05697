"""The object-types page: the group administrator maintains the type tree.

The tree per discipline with attributes and work standards; adding a type; changing a type's
name, attributes and checklist (issued orders keep theirs; a stale form is refused); uploading
an import file with the import's row-numbered messages. Only group administrators see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from conftest import shown
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboards.navigation import HERE
from operational.db import unit_of_work
from operational.models import AuditEntry, ChecklistAnswer, ChecklistItem, ObjectType
from operational.services.objects import type_tree

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/object_types.py"


def open_page(dashboard: MakeDashboard, language: str = "zh_CN") -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in("admin")
    if language != "zh_CN":
        dash.app.radio(key="language_switch").set_value(language).run()
    dash.app.switch_page(PAGE).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def texts(app: AppTest) -> str:
    return "\n".join([m.value for m in app.markdown] + [c.value for c in app.caption])


def stored(dash: Dashboard, code: str) -> tuple[str, list[str], list[str]]:
    """(name, attribute codes, checklist) of a stored type."""
    with unit_of_work(dash.engine) as db:
        view = next(v for v in type_tree(db) if v.code == code)
        return view.name, [a.code for a in view.attributes], list(view.checklist)


def test_the_tree_per_discipline_with_attributes_and_work_standards(
    dashboard: MakeDashboard,
) -> None:
    app = open_page(dashboard).app
    assert app.title[0].value == "对象类型与作业标准"
    assert [e.label for e in app.expander] == [
        "工程 · 4 个类型",
        "园艺 · 2 个类型",
        "秩序 · 2 个类型",
        "保洁 · 2 个类型",
    ]
    text = texts(app)
    assert "**工程设备 / 电梯** · `elevator` · " in text
    assert "- 额定载重 (`rated_load`) · 数值 · kg" in text
    assert "1. 曳引机运行无异响\n2. 轿厢平层准确\n3. 紧急呼叫对讲可用" in text
    assert app.download_button[0].label == "下载类型树（导入文件格式，.xlsx）"


def test_in_english(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "en").app
    assert app.title[0].value == "Object types and work standards"
    assert app.expander[0].label == "Engineering · 4 type(s)"
    assert "- 额定载重 (`rated_load`) · number · kg" in texts(app)


@pytest.mark.parametrize("username", ["hq", "manager", "engineer"])
def test_only_group_administrators_have_the_page(dashboard: MakeDashboard, username: str) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        dash.app.switch_page(PAGE)
    page = AppTest.from_file(str(HERE / PAGE), default_timeout=30)
    page.session_state["principal"] = dash.app.session_state["principal"]
    page.run()
    assert [e.value for e in page.error] == ["您的角色无权执行此操作。"]
    assert not page.text_input and not page.file_uploader


def test_the_admin_adds_a_type_under_a_parent(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="ot_new_parent").set_value("engineering").run()
    assert "ot_new_discipline" not in [s.key for s in app.selectbox]  # from the parent
    app.text_input(key="ot_new_code").input("escalator")
    app.text_input(key="ot_new_name").input("自动扶梯")
    app.text_area(key="ot_new_attributes").input("step_width:number:梯级宽度:mm\nbrand:text:品牌")
    app.text_area(key="ot_new_checklist").input("梯级无破损\n扶手带运行同步\n")
    app.button(key="ot_new_submit").click().run()
    assert not app.exception
    assert [shown(s.value) for s in app.success] == ["已新增类型 自动扶梯（escalator）。"]
    assert stored(dash, "escalator") == (
        "自动扶梯",
        ["step_width", "brand"],
        ["梯级无破损", "扶手带运行同步"],
    )
    assert app.text_input(key="ot_new_code").value == ""
    assert "**工程设备 / 自动扶梯** · `escalator` · 0 个对象" in texts(app)
    assert app.expander[0].label == "工程 · 5 个类型"
    with unit_of_work(dash.engine) as db:
        actors = db.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.entity == "maint_object_type", AuditEntry.entity_key == "escalator"
            )
        ).all()
    assert actors == ["admin"]


def test_a_bad_new_type_shows_every_problem_and_saves_nothing(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="ot_new_discipline").set_value("security").run()
    app.text_input(key="ot_new_code").input("gate post")
    app.text_input(key="ot_new_name").input("门岗")
    app.text_area(key="ot_new_attributes").input("shift:hours")
    app.text_area(key="ot_new_checklist").input("交接班\n交接班")
    app.button(key="ot_new_submit").click().run()
    [error] = app.error
    assert error.value.splitlines() == [
        "未导入任何数据：发现 3 个问题。请修正后重新导入该文件。",
        "- type_code「gate post」不是有效编码（字母、数字、- _ .，最多 32 位）。",
        "- 属性 shift：「hours」不是有效的属性类型（text、number 或 date）。",
        "- 检查项「交接班」重复列出。",
    ]
    assert app.text_input(key="ot_new_code").value == "gate post"  # kept for correcting
    with unit_of_work(dash.engine) as db:
        assert db.scalars(select(ObjectType).where(ObjectType.name == "门岗")).first() is None
    app.text_input(key="ot_new_code").input("elevator")
    app.button(key="ot_new_submit").click().run()
    assert app.error[0].value.splitlines()[1:] == ["- 编码为 elevator 的对象类型已存在。"]


def test_changing_a_checklist_keeps_issued_orders_and_refuses_removing_used_items(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard)
    app = dash.app
    with unit_of_work(dash.engine) as db:
        issued_before = sorted(
            set(
                db.scalars(
                    select(ChecklistAnswer.text)
                    .join(ChecklistItem, ChecklistItem.id == ChecklistAnswer.item_id)
                    .join(ObjectType, ObjectType.id == ChecklistItem.type_id)
                    .where(ObjectType.code == "elevator")
                )
            )
        )
    assert issued_before == ["曳引机运行无异响", "紧急呼叫对讲可用", "轿厢平层准确"]
    app.selectbox(key="ot_edit_type").set_value("elevator").run()
    assert app.text_input(key="ot_edit_name").value == "电梯"
    assert app.text_area(key="ot_edit_attributes").value == (
        "brand:text:品牌\nrated_load:number:额定载重:kg"
    )
    assert app.text_area(key="ot_edit_checklist").value == (
        "曳引机运行无异响\n轿厢平层准确\n紧急呼叫对讲可用"
    )
    # Dropping an item issued orders answer is refused; what was typed stays in the form.
    app.text_area(key="ot_edit_checklist").input("曳引机运行无异响\n轿厢平层准确")
    app.button(key="ot_edit_submit").click().run()
    assert app.error[0].value.splitlines()[1] == (
        "- 检查项「紧急呼叫对讲可用」已用于已下发的定期工单，不能删除；请保留或改写该项。"
    )
    assert app.text_area(key="ot_edit_checklist").value == "曳引机运行无异响\n轿厢平层准确"
    # Rewording, adding an item and an attribute, renaming: saved.
    app.text_input(key="ot_edit_name").input("垂直电梯")
    app.text_area(key="ot_edit_attributes").input(
        "brand:text:品牌\nrated_load:number:额定载重:kg\nserial:text:出厂编号"
    )
    app.text_area(key="ot_edit_checklist").input(
        "曳引机运行无异响\n轿厢平层准确（误差≤10mm）\n紧急呼叫对讲可用\n底坑清洁无积水"
    )
    app.button(key="ot_edit_submit").click().run()
    assert [shown(s.value) for s in app.success] == ["类型 elevator 已保存。"]
    assert stored(dash, "elevator") == (
        "垂直电梯",
        ["brand", "rated_load", "serial"],
        ["曳引机运行无异响", "轿厢平层准确（误差≤10mm）", "紧急呼叫对讲可用", "底坑清洁无积水"],
    )
    assert "4. 底坑清洁无积水" in texts(app)
    with unit_of_work(dash.engine) as db:
        issued_after = sorted(
            set(
                db.scalars(
                    select(ChecklistAnswer.text)
                    .join(ChecklistItem, ChecklistItem.id == ChecklistAnswer.item_id)
                    .join(ObjectType, ObjectType.id == ChecklistItem.type_id)
                    .where(ObjectType.code == "elevator")
                )
            )
        )
    assert issued_after == issued_before  # orders already issued keep what they copied


def test_a_stale_edit_form_is_refused_and_reloaded(dashboard: MakeDashboard) -> None:
    first = open_page(dashboard)
    second = open_page(dashboard)
    for dash in (first, second):
        dash.app.selectbox(key="ot_edit_type").set_value("lobby").run()
    second.app.text_input(key="ot_edit_name").input("入户大堂")
    second.app.button(key="ot_edit_submit").click().run()
    assert [s.value for s in second.app.success] == ["类型 lobby 已保存。"]

    first.app.text_input(key="ot_edit_name").input("大厅")
    first.app.button(key="ot_edit_submit").click().run()
    assert [e.value for e in first.app.error] == [
        "类型 lobby 在您打开期间已被他人修改。请刷新后重试；本次未保存任何内容。"
    ]
    assert stored(first, "lobby")[0] == "入户大堂"
    assert first.app.text_input(key="ot_edit_name").value == "入户大堂"  # reloaded


def test_uploading_an_import_file(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    header = "type_code,name,parent_type_code,discipline,attributes,checklist\n"
    bad = header + "pool,泳池,,,,\npump_room,泵房,engineering,,power:watts,\n"
    app.file_uploader(key="ot_upload").set_value(("types.csv", bad.encode(), "text/csv"))
    app.button(key="ot_import_submit").click().run()
    assert app.error[0].value.splitlines() == [
        "未导入任何数据：发现 2 个问题。请修正后重新导入该文件。",
        "- 第 2 行：顶级对象类型需要指定专业。",
        "- 第 3 行：属性 power：「watts」不是有效的属性类型（text、number 或 date）。",
    ]
    good = (
        header + "pump_room,泵房,engineering,,power:number:功率:kW,"
        '"水泵运行无异响\n阀门无渗漏"\n'
        "lobby,大堂,cleaning,,,地面洁净无水渍 | 玻璃门无污迹\n"
    ).encode("gb18030")  # as Excel in China saves a CSV
    app.file_uploader(key="ot_upload").set_value(("types.csv", good, "text/csv"))
    app.button(key="ot_import_submit").click().run()
    assert [shown(s.value) for s in app.success] == [
        "types.csv：导入完成：新增 1 条，更新 0 条，未变 1 条。文件按 GBK/GB18030 编码读取。"
    ]
    assert stored(dash, "pump_room") == ("泵房", ["power"], ["水泵运行无异响", "阀门无渗漏"])
