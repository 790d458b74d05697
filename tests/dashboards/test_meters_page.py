"""The meters page: an office's metering points, meters and buildings in forms, its imports, labels.

Driven as the demo's office manager (SH001): a point added with its first meter, every problem of a
refused form at once with the typed values kept and nothing stored, a point's name and parent
changed (a loop refused), the meters of a point with the link to the replacement page, a building's
area, a bad readings file reported row by row, a label sheet of the points chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.db import unit_of_work
from operational.models import AuditEntry, Building, Meter, MeterPoint

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/meters.py"


def open_page(dashboard: MakeDashboard, username: str = "manager") -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(PAGE).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def point(dash: Dashboard, code: str) -> tuple[str, str | None, list[Meter]] | None:
    """(name, parent code, meters) of a stored point."""
    with unit_of_work(dash.engine) as db:
        found = db.scalars(select(MeterPoint).where(MeterPoint.code == code)).one_or_none()
        if found is None:
            return None
        parent = db.get(MeterPoint, found.parent_id) if found.parent_id else None
        meters = list(db.scalars(select(Meter).where(Meter.point_id == found.id)))
        for m in meters:
            db.expunge(m)
        return found.name, parent.code if parent else None, meters


def test_the_points_of_the_users_office(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard).app
    assert app.title[0].value == "计量点与仪表"
    codes = list(app.dataframe[0].value["编码"])
    assert "SH001-E-MAIN" in codes and all(c.startswith("SH001-") for c in codes)


def test_adding_a_point_with_its_first_meter(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.text_input(key="met_new_code").input("SH001-E-B9")
    app.text_input(key="met_new_name").input("9号楼总电表")
    app.selectbox(key="met_new_kind").set_value("electricity")
    app.selectbox(key="met_new_parent").set_value("SH001-E-MAIN")
    app.text_input(key="met_new_building").input("9号楼")
    app.text_input(key="met_new_serial").input("A-0009")
    app.text_input(key="met_new_multiplier").input("40")
    app.text_input(key="met_new_digits").input("6")
    app.date_input(key="met_new_date").set_value(date(2026, 11, 1))
    app.time_input(key="met_new_time").set_value(time(8, 30))
    app.text_input(key="met_new_initial").input("120.5")
    app.button(key="met_new_submit").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "已新增计量点 SH001\\-E\\-B9（9号楼总电表）及其仪表。"
    ]
    stored = point(dash, "SH001-E-B9")
    assert stored is not None
    name, parent, meters = stored
    assert (name, parent) == ("9号楼总电表", "SH001-E-MAIN")
    [meter] = meters
    assert (meter.serial, meter.multiplier, meter.digits, meter.initial_reading) == (
        "A-0009",
        Decimal(40),
        6,
        Decimal("120.5"),
    )
    assert "SH001-E-B9" in list(app.dataframe[0].value["编码"])
    with unit_of_work(dash.engine) as db:
        actors = set(
            db.scalars(select(AuditEntry.actor).where(AuditEntry.entity_key == "SH001-E-B9"))
        )
    assert actors == {"manager"}


def test_a_refused_point_lists_every_problem_and_keeps_what_was_typed(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.text_input(key="met_new_code").input("SH001-E-MAIN")
    app.selectbox(key="met_new_kind").set_value("water")
    app.selectbox(key="met_new_parent").set_value("SH001-E-MAIN")
    app.text_input(key="met_new_multiplier").input("-2")
    app.text_input(key="met_new_digits").input("20")
    app.text_input(key="met_new_initial").input("12")
    app.button(key="met_new_submit").click().run()
    [error] = app.error
    lines = error.value.splitlines()
    assert lines[0] == "未保存：发现 5 个问题。请修正后重新提交。"
    text = "\n".join(lines)
    assert "请填写名称。" in text
    assert "SH001\\-E\\-MAIN 已存在" in text
    assert "上级计量点 SH001\\-E\\-MAIN 计量的是 电" in text  # the kind in words
    assert "\\-2" in text and "20" in text
    assert app.text_input(key="met_new_code").value == "SH001-E-MAIN"
    assert app.text_input(key="met_new_multiplier").value == "-2"
    with unit_of_work(dash.engine) as db:
        assert db.scalar(select(MeterPoint.name).where(MeterPoint.code == "SH001-E-MAIN")) != ""


def test_changing_a_point_and_refusing_a_loop(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="met_edit_pick").set_value("SH001-E-B1").run()
    assert app.selectbox(key="met_edit_parent").value == "SH001-E-MAIN"
    app.selectbox(key="met_edit_parent").set_value("SH001-E-B1-LIFT")
    app.text_input(key="met_edit_name").input("一号楼总电表")
    app.button(key="met_edit_submit").click().run()
    assert "SH001\\-E\\-B1\\-LIFT 是本计量点的下级" in app.error[0].value
    assert app.text_input(key="met_edit_name").value == "一号楼总电表"  # kept
    assert point(dash, "SH001-E-B1")[:2] != ("一号楼总电表", "SH001-E-B1-LIFT")  # type: ignore[index]
    app.selectbox(key="met_edit_parent").set_value("")
    app.button(key="met_edit_submit").click().run()
    assert [s.value for s in app.success] == ["已保存计量点 SH001\\-E\\-B1。"]
    assert point(dash, "SH001-E-B1")[:2] == ("一号楼总电表", None)  # type: ignore[index]


def test_the_meters_of_a_point_link_to_the_replacement_page(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard).app
    app.selectbox(key="met_meters_pick").set_value("SH001-E-MAIN").run()
    [table] = [d.value for d in app.dataframe if "表号" in d.value.columns]
    assert len(table) >= 1
    assert any("换表" in str(link.proto.label) for link in app.get("page_link"))
    assert "met_install_submit" not in [b.key for b in app.button]


def test_a_building_and_its_area(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.text_input(key="met_building_area").input("-5")
    app.button(key="met_building_submit").click().run()
    lines = app.error[0].value.splitlines()
    assert lines[0] == "未保存：发现 2 个问题。请修正后重新提交。"
    assert app.text_input(key="met_building_area").value == "-5"
    app.text_input(key="met_building_name").input("9号楼")
    app.text_input(key="met_building_area").input("12000.5")
    app.button(key="met_building_submit").click().run()
    assert [s.value for s in app.success] == ["已保存楼栋 9号楼。"]
    with unit_of_work(dash.engine) as db:
        area = db.scalar(select(Building.area_m2).where(Building.name == "9号楼"))
    assert area == Decimal("12000.5")


def test_a_bad_readings_file_is_reported_row_by_row(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.radio(key="met_import_kind").set_value("readings").run()
    bad = (
        "point_code,read_at,reading\n"
        "SH001-E-MAIN,2026-11-20 09:00,abc\n"
        "SH002-E-MAIN,2026-11-20 09:00,100\n"
    )
    app.file_uploader(key="met_import_readings_file_0").set_value(
        ("readings.csv", bad.encode("gb18030"), "text/csv")
    )
    app.run()
    assert list(app.dataframe[-1].value["行号"]) == [2, 3]  # the preview
    app.button(key="met_import_readings_commit").click().run()
    assert not app.exception
    report = app.dataframe[-1].value
    assert list(report["行号"]) == [2, 3]
    assert "SH002-E-MAIN" in report["问题"][1]  # another office's point is unknown


def test_a_label_sheet_of_the_chosen_points(
    dashboard: MakeDashboard, downloads: Callable[[AppTest, str], bytes]
) -> None:
    app = open_page(dashboard).app
    app.button(key="met_label_make").click().run()
    assert app.error[0].value == "请先选择要打印标签的项目。"
    app.multiselect(key="met_label_codes").set_value(["SH001-E-MAIN", "SH001-W-MAIN"]).run()
    app.button(key="met_label_make").click().run()
    [button] = [b for b in app.download_button if b.key == "met_label_download"]
    assert "2 个标签" in button.proto.label
    pdf = downloads(app, "met_label_download")
    assert pdf.startswith(b"%PDF") and b"/Type /Page" in pdf
