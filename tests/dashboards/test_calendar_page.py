"""The working-calendar page (工作日历) as an office manager and the group administrator
use it: weekly hours with several intervals, holidays and working days, a preview of deadlines,
imports with their row report and templates, corrective-order targets, and the warning that a
coming year has no public holidays. The demo ``manager`` runs SH001 and must see and change no
other office's calendar.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboards.navigation import HERE
from operational.auth import load_principal
from operational.db import unit_of_work
from operational.models import AuditEntry, ClockPolicy, Office, OfficeCalendarDay, User
from operational.services import calendars

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/calendar.py"
LUNCH = "08:30-12:00, 13:30-17:30"


def open_page(
    dashboard: MakeDashboard, username: str = "manager", language: str = "zh_CN"
) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    if language != "zh_CN":
        dash.app.radio(key="language_switch").set_value(language).run()
    dash.app.switch_page(PAGE).run()
    assert not dash.app.exception, dash.app.exception
    return dash


def unescaped(text: str) -> str:
    """A Markdown text as the user reads it (the page escapes what users typed)."""
    return re.sub(r"\\(.)", r"\1", text)


def frame(app: AppTest, column: str) -> pd.DataFrame:
    """The table on the page with this column."""
    (found,) = [d.value for d in app.dataframe if column in d.value.columns]
    return found


def week_of(dash: Dashboard, code: str) -> dict[int, tuple[tuple[time, time], ...]]:
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office).where(Office.code == code)).one()
        return calendars.weekly_hours(db, office)


def missing_years(dash: Dashboard) -> list[int]:
    with unit_of_work(dash.engine) as db:
        return calendars.years_without_holidays(db, datetime.now(ZoneInfo("Asia/Shanghai")).date())


def test_the_manager_sees_only_their_office_and_the_warning_about_next_year(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard)
    app = dash.app
    assert app.title[0].value == "工作日历"
    assert app.selectbox(key="cal_office").options == ["SH001 · 上海丽都公馆管理处"]
    missing = missing_years(dash)
    assert missing  # chinese_calendar 1.11 stops at 2026: next year has no data yet
    assert [w.value.split(" 年")[0] for w in app.warning] == [str(y) for y in missing]
    assert [t.label for t in app.tabs] == [
        "每周工作时段",
        "节假日与工作日",
        "时限预览",
        "导入",
        "纠正派工单时限",
    ]
    assert app.text_input(key="cal_week_0").value  # filled from the stored week


def test_weekly_hours_with_a_lunch_break_are_saved_and_audited(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    for key in ("cal_week_0", "cal_week_1", "cal_week_2", "cal_week_3", "cal_week_4"):
        app.text_input(key=key).input(LUNCH)
    app.text_input(key="cal_week_5").input("09:00-12:00")
    app.text_input(key="cal_week_6").input("")
    app.button(key="cal_week_submit").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["已保存每周工作时段。"]
    lunch = ((time(8, 30), time(12)), (time(13, 30), time(17, 30)))
    assert week_of(dash, "SH001") == {
        **dict.fromkeys(range(1, 6), lunch),
        6: ((time(9), time(12)),),
    }
    assert app.text_input(key="cal_week_0").value == "08:30-12:00, 13:30-17:30"
    with unit_of_work(dash.engine) as db:
        entry = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "org_calendar_interval")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and (entry.actor, entry.entity_key) == ("manager", "SH001")


def test_bad_hours_list_every_problem_and_keep_what_was_typed(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    before = week_of(dash, "SH001")
    app.text_input(key="cal_week_0").input("9-12 **bold**")
    app.text_input(key="cal_week_1").input("09:00-12:00, 11:00-13:00")
    app.text_input(key="cal_week_2").input("14:00-13:00")
    app.button(key="cal_week_submit").click().run()
    [error] = app.error
    lines = unescaped(error.value).splitlines()
    assert lines[0] == "未保存：发现 3 个问题。请修正后再保存。"
    assert lines[2:] == [
        "- 星期一：无法识别时段“9-12 **bold**”：请写成例如 09:00-12:00（时:分，结束时间 24:00 表示午夜）。",
        "- 星期二：时段 09:00–12:00 与 11:00–13:00 重叠。",
        "- 星期三：时段 14:00–13:00 的结束时间必须晚于开始时间（结束时间 00:00 表示午夜）。",
    ]
    assert r"\*\*bold\*\*" in error.value  # what the user typed is shown as typed
    assert app.text_input(key="cal_week_0").value == "9-12 **bold**"
    assert week_of(dash, "SH001") == before
    # Correcting one keeps the others listed, and what was typed in every field.
    app.text_input(key="cal_week_0").input("09:00-12:00")
    app.button(key="cal_week_submit").click().run()
    assert (
        unescaped(app.error[0].value).splitlines()[0] == "未保存：发现 2 个问题。请修正后再保存。"
    )
    assert app.text_input(key="cal_week_1").value == "09:00-12:00, 11:00-13:00"
    assert week_of(dash, "SH001") == before


def test_holidays_and_working_days_are_added_and_removed(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.date_input(key="cal_day_date").set_value(date(2027, 1, 1))
    app.radio(key="cal_day_kind").set_value("holiday")
    app.button(key="cal_day_submit").click().run()
    assert [s.value for s in app.success] == ["2027-01-01 现为：休息日（不上班）。"]
    app.date_input(key="cal_day_date").set_value(date(2027, 1, 9))
    app.radio(key="cal_day_kind").set_value("workday")
    app.text_input(key="cal_day_hours").input("09:00-12:00")
    app.button(key="cal_day_submit").click().run()
    table = frame(app, "日期")
    assert table.values.tolist() == [
        ["2027-01-01", "星期五", "休息日（不上班）", ""],
        ["2027-01-09", "星期六", "工作日", "09:00-12:00"],
    ]
    app.selectbox(key="cal_remove_day").set_value(date(2027, 1, 1))
    app.button(key="cal_remove_submit").click().run()
    assert frame(app, "日期")["日期"].tolist() == ["2027-01-09"]
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office).where(Office.code == "SH001")).one()
        stored = calendars.day_overrides(db, office)
    assert [(d.day, d.kind, d.hours) for d in stored] == [
        (date(2027, 1, 9), "workday", ((time(9), time(12)),))
    ]
    # A holiday with hours is refused, and the form keeps them.
    app.date_input(key="cal_day_date").set_value(date(2027, 1, 2))
    app.radio(key="cal_day_kind").set_value("holiday")
    app.text_input(key="cal_day_hours").input("09:00-10:00")
    app.button(key="cal_day_submit").click().run()
    assert "休息日没有工作时段" in app.error[0].value
    assert app.text_input(key="cal_day_hours").value == "09:00-10:00"


def test_the_preview_shows_deadlines_in_the_offices_calendar(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    for key in ("cal_week_0", "cal_week_1", "cal_week_2", "cal_week_3", "cal_week_4"):
        app.text_input(key=key).input("09:00-12:00, 13:30-18:00")
    for key in ("cal_week_5", "cal_week_6"):
        app.text_input(key=key).input("")
    app.button(key="cal_week_submit").click().run()
    # Friday before Qingming (清明节, 2026-04-04 to 04-06), 17:58: the pickup clock runs 2
    # minutes on Friday and 3 on Tuesday morning.
    app.date_input(key="cal_preview_date").set_value(date(2026, 4, 3))
    app.time_input(key="cal_preview_time").set_value(time(17, 58))
    app.run()
    rows = frame(app, "计时").values.tolist()
    assert rows[0] == ["派单接单（接单）", "5 个工作分钟", "2026-04-07 09:03 (星期二)"]
    # 24 business hours (1 440 minutes): 2 on Friday, 450 a day Tuesday to Thursday, the last
    # 88 on Friday 04-10 from 09:00.
    assert rows[1][0] == "24 个工作小时" and rows[1][2] == "2026-04-10 10:28 (星期五)"
    assert rows[2] == ["报修处理", "72 小时（全天候）", "2026-04-06 17:58 (星期一)"]
    assert any("2026-04-07 09:03" in c.value for c in app.caption)


def test_corrective_order_targets_per_discipline(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.number_input(key="cal_target_amount_engineering").set_value(480)
    app.selectbox(key="cal_target_unit_engineering").set_value("business_minutes")
    app.number_input(key="cal_target_amount_cleaning").set_value(24)
    app.selectbox(key="cal_target_unit_cleaning").set_value("calendar_hours")
    app.button(key="cal_targets_submit").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("已保存时限")
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office).where(Office.code == "SH001")).one()
        policies = {
            p.discipline: (p.amount, p.unit, p.calendar_kind)
            for p in db.scalars(select(ClockPolicy).where(ClockPolicy.office_id == office.id))
        }
    assert policies["engineering"] == (480, "business_minutes", "office")
    assert policies["cleaning"] == (24, "calendar_hours", "24x7")
    clocks = frame(app, "计时")["计时"].tolist()
    assert "纠正派工单（工程）" in clocks and "纠正派工单（保洁）" in clocks


def test_uploading_a_file_shows_its_row_report_then_imports(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.radio(key="cal_import_kind").set_value("calendar-days").run()
    assert app.download_button[0].label == "下载 Excel 模板（本日历的现有内容）"
    bad = (
        "office_code,date,kind,start,end\n"
        "SH001,2027-01-01,holiday,,\n"
        "SH002,2027-01-01,holiday,,\n"  # another office
        ",2027-01-01,holiday,,\n"  # the whole group
        "SH001,2027-01-09,workday,9:00,**\n"
    )
    app.file_uploader(key="cal_upload").set_value(("days.csv", bad.encode(), "text/csv"))
    app.button(key="cal_import_submit").click().run()
    assert app.error[0].value == "未导入任何数据：发现 3 个问题。请修正后重新导入该文件。"
    report = frame(app, "问题").values.tolist()
    assert [(row, column) for row, column, _ in report] == [
        (3, "office_code"),
        (4, "office_code"),
        (5, "end"),
    ]
    assert report[0][2] == "第 3 行：office_code：您无权修改管理处 SH002 的日历。"
    assert report[2][2] == "第 5 行：end：“**”不是时间：请使用 时:分（结束时间 24:00 表示午夜）。"
    with unit_of_work(dash.engine) as db:
        assert db.scalars(select(OfficeCalendarDay)).first() is None
    good = "office_code,date,kind,start,end\nSH001,2027-01-01,holiday,,\n"
    app.file_uploader(key="cal_upload").set_value(("days.csv", good.encode(), "text/csv"))
    app.button(key="cal_import_submit").click().run()
    assert [unescaped(s.value) for s in app.success] == [
        "days.csv：导入完成：新增 1 条，更新 0 条，未变 0 条。文件按 UTF-8 编码读取。"
    ]
    assert frame(app, "日期")["日期"].tolist() == ["2027-01-01"]


def test_the_group_loads_next_years_list_and_the_warning_goes(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard, "admin", "en")
    app = dash.app
    options = app.selectbox(key="cal_office").options
    assert options[0] == "The whole group (every office without its own)"
    assert [o.split(" · ")[0] for o in options[1:]] == ["BJ001", "BJ002", "SH001", "SH002"]
    missing = missing_years(dash)
    assert [w.value.split(" ")[0] for w in app.warning] == [str(y) for y in missing]
    # Test data for the missing years (not the official list): one holiday each.
    lines = "".join(f",{year}-01-01,holiday,,\n" for year in missing)
    app.radio(key="cal_import_kind").set_value("calendar-days").run()
    app.file_uploader(key="cal_upload").set_value(
        ("next-year.csv", f"office_code,date,kind,start,end\n{lines}".encode(), "text/csv")
    )
    app.button(key="cal_import_submit").click().run()
    assert not app.exception
    assert app.success[0].value.endswith(
        f"{len(missing)} created, 0 updated, 0 unchanged. File read as UTF-8."
    )
    assert not app.warning
    assert frame(app, "Date")["Date"].tolist() == [f"{year}-01-01" for year in missing]
    assert missing_years(dash) == []


@pytest.mark.parametrize("username", ["hq", "engineer", "city.audit"])
def test_only_calendar_managers_have_the_page(dashboard: MakeDashboard, username: str) -> None:
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


def test_another_offices_calendar_cannot_be_forced_through_the_session(
    dashboard: MakeDashboard,
) -> None:
    dash = open_page(dashboard)
    with unit_of_work(dash.engine) as db:
        admin = load_principal(
            db, db.scalars(select(User.id).where(User.username == "admin")).one()
        )
        calendars.set_working_hours(db, admin, "SH002", {0: [(time(7), time(8))]})
    page = AppTest.from_file(str(HERE / PAGE), default_timeout=30)
    page.session_state["principal"] = dash.app.session_state["principal"]
    page.session_state["cal_office"] = "SH002"
    page.run()
    assert not page.exception
    assert page.text_input(key="cal_week_0").value != "07:00-08:00"  # SH001's week, not SH002's
    page.text_input(key="cal_week_0").input("06:00-07:00")
    page.button(key="cal_week_submit").click().run()
    assert week_of(dash, "SH002") == {1: ((time(7), time(8)),)}
    assert week_of(dash, "SH001")[1] == ((time(6), time(7)),)


def test_inspection_targets_include_customer_service(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard)
    app = dash.app
    app.selectbox(key="cal_targets_type").set_value("inspection").run()
    app.number_input(key="cal_target_amount_customer_service").set_value(8)
    app.selectbox(key="cal_target_unit_customer_service").set_value("calendar_hours")
    app.button(key="cal_targets_submit").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("已保存时限")
    with unit_of_work(dash.engine) as db:
        office = db.scalars(select(Office).where(Office.code == "SH001")).one()
        policies = {
            (p.document_type, p.discipline): (p.amount, p.unit)
            for p in db.scalars(select(ClockPolicy).where(ClockPolicy.office_id == office.id))
        }
    assert policies[("inspection", "customer_service")] == (8, "calendar_hours")
