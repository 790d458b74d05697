"""The objects page: an office's objects listed, added, changed, imported and labelled in forms.

Driven as the demo's office manager (SH001): every problem of a refused form at once with the
form keeping what was typed, nothing written then; the audit log names the user; an upload is
previewed before it is imported and a bad file's rows are reported; another office's rows are
refused; the label sheet holds the objects chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.db import unit_of_work
from operational.models import AuditEntry, MaintObject, Office

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/objects.py"


def open_page(dashboard: MakeDashboard, username: str = "manager") -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(PAGE).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def stored(dash: Dashboard, code: str, office: str = "SH001") -> MaintObject | None:
    with unit_of_work(dash.engine) as db:
        obj = db.scalars(
            select(MaintObject)
            .join(Office, Office.id == MaintObject.office_id)
            .where(Office.code == office, MaintObject.code == code)
        ).one_or_none()
        if obj is not None:
            db.expunge(obj)
        return obj


def test_the_list_is_the_offices_objects_and_filtered(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    assert app.title[0].value == "对象管理"
    [office] = app.selectbox(key="obj_office").options
    assert office.startswith("SH001 ")  # the manager's office only
    with unit_of_work(dash.engine) as db:
        stored = db.scalars(
            select(MaintObject.code)
            .join(Office, Office.id == MaintObject.office_id)
            .where(Office.code == "SH001")
        ).all()
    assert sorted(app.dataframe[0].value["编码"]) == sorted(stored)
    app.text_input(key="obj_filter").input("EL-1").run()
    assert list(app.dataframe[0].value["编码"]) == ["EL-1"]
    app.text_input(key="obj_filter").input("").run()
    app.selectbox(key="obj_filter_type").set_value("elevator").run()
    assert all(c.startswith("EL-") for c in app.dataframe[0].value["编码"])


def test_adding_an_object_with_its_attributes(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="obj_new_type").set_value("elevator").run()
    app.text_input(key="obj_new_code").input("EL-99")
    app.text_input(key="obj_new_name").input("99号电梯")
    app.text_input(key="obj_new_location").input("9号楼")
    app.text_input(key="obj_new_attr_brand").input("通力")
    app.text_input(key="obj_new_attr_rated_load").input("1000")
    app.button(key="obj_new_submit").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["已新增对象 EL\\-99（99号电梯）。"]
    obj = stored(dash, "EL-99")
    assert obj is not None
    assert (obj.name, obj.location, obj.attributes) == (
        "99号电梯",
        "9号楼",
        {"brand": "通力", "rated_load": "1000"},
    )
    assert app.text_input(key="obj_new_code").value == ""
    with unit_of_work(dash.engine) as db:
        actors = db.scalars(
            select(AuditEntry.actor).where(AuditEntry.entity_key == "SH001:EL-99")
        ).all()
    assert actors == ["manager"]


def test_a_refused_object_lists_every_problem_and_keeps_what_was_typed(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="obj_new_type").set_value("elevator").run()
    app.text_input(key="obj_new_code").input("EL 1/2")
    app.text_input(key="obj_new_attr_rated_load").input("一吨")
    app.button(key="obj_new_submit").click().run()
    [error] = app.error
    lines = error.value.splitlines()
    assert lines[0] == "未保存：发现 3 个问题。请修正后重新提交。"
    assert "- 请填写名称。" in lines
    assert any("对象编码只能包含字母" in line for line in lines)
    assert any("额定载重" in line and "一吨" in line for line in lines)
    assert app.text_input(key="obj_new_code").value == "EL 1/2"
    assert app.text_input(key="obj_new_attr_rated_load").value == "一吨"
    assert stored(dash, "EL 1/2") is None


def test_changing_an_object(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="obj_edit_pick").set_value("EL-1").run()
    assert app.text_input(key="obj_edit_name").value == stored(dash, "EL-1").name  # type: ignore[union-attr]
    app.text_input(key="obj_edit_name").input("1号客梯")
    app.text_input(key="obj_edit_attr_rated_load").input("abc")
    app.button(key="obj_edit_submit").click().run()
    assert "额定载重" in app.error[0].value
    assert app.text_input(key="obj_edit_name").value == "1号客梯"  # kept
    assert stored(dash, "EL-1").name != "1号客梯"  # type: ignore[union-attr]
    app.text_input(key="obj_edit_attr_rated_load").input("1350")
    app.button(key="obj_edit_submit").click().run()
    assert [s.value for s in app.success] == ["已保存对象 EL\\-1。"]
    obj = stored(dash, "EL-1")
    assert obj is not None and obj.name == "1号客梯" and obj.attributes["rated_load"] == "1350"


def test_upload_preview_then_a_bad_file_is_reported_row_by_row(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    header = "office_code,object_code,name,type_code,location,attr:rated_load\n"
    bad = (
        header
        + "SH001,PM-9,9号泵,water_pump,,\nSH002,EL-77,别处电梯,elevator,,\nSH001,EL-78,,elevator,,heavy\n"
    )
    app.file_uploader(key="obj_import_file_0").set_value(("objects.csv", bad.encode(), "text/csv"))
    app.run()
    assert "文件按 UTF-8 编码读取。" in [c.value for c in app.caption]
    preview = app.dataframe[-1].value
    assert list(preview["行号"]) == [2, 3, 4]
    app.button(key="obj_import_commit").click().run()
    assert not app.exception
    assert app.error[-1].value.startswith("未导入任何数据")
    report = app.dataframe[-1].value
    assert list(report["行号"]) == [3, 4]
    problems = list(report["问题"])
    assert "您无权维护管理处 SH002 的数据。" in problems
    assert any("name" in p for p in problems)
    assert stored(dash, "PM-9") is None  # all or nothing
    good = header + "SH001,PM-9,9号泵,water_pump,泵房,\n"
    app.file_uploader(key="obj_import_file_0").set_value(("objects.csv", good.encode(), "text/csv"))
    app.run()
    assert not app.error
    app.button(key="obj_import_commit").click().run()
    assert not app.exception
    assert app.success[-1].value.startswith("objects\\.csv：导入完成：新增 1 条")
    obj = stored(dash, "PM-9")
    assert obj is not None and obj.location == "泵房"


def test_a_label_sheet_of_the_chosen_objects(
    dashboard: MakeDashboard, downloads: Callable[[AppTest, str], bytes]
) -> None:
    app = open_page(dashboard).app
    app.multiselect(key="obj_label_codes").set_value(["EL-1", "EL-2"]).run()
    app.button(key="obj_label_make").click().run()
    [button] = [b for b in app.download_button if b.key == "obj_label_download"]
    assert "2 个标签" in button.proto.label
    pdf = downloads(app, "obj_label_download")
    assert pdf.startswith(b"%PDF") and b"/Type /Page" in pdf


def test_the_page_and_its_messages_in_english(dashboard: MakeDashboard) -> None:
    dash = dashboard()
    dash.app.run()
    dash.log_in("engineer")
    dash.app.radio(key="language_switch").set_value("en").run()
    app = dash.app.switch_page(PAGE).run()
    assert app.title[0].value == "Objects"
    app.selectbox(key="obj_new_type").set_value("elevator").run()
    app.text_input(key="obj_new_code").input("EL-1")
    app.text_input(key="obj_new_name").input("x")
    app.button(key="obj_new_submit").click().run()
    lines = app.error[0].value.splitlines()
    assert lines[0] == "Not saved: 1 problem(s) found. Correct them and submit again."
    assert "EL\\-1" in lines[1] and "SH001" in lines[1]  # already an object of the office
