"""The calendar imports as an office or the group uses them (docs/import-formats.md): weekly
working hours and calendar days, for one office or for the whole group (an empty office_code),
an office's own rows winning whatever was loaded first; every bad row reported by row and column,
nothing written then; next year's official holiday list loaded group-wide.

The 2027 dates below are test data (a Friday holiday, a Saturday worked), not the official list.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.calendars import is_working_time
from operational.imports.calendars import (
    import_calendar_days_file,
    import_calendar_days_rows,
    import_working_hours_file,
    import_working_hours_rows,
)
from operational.imports.table import ImportRejected, Row
from operational.models import AuditEntry, OfficeCalendarDay, OfficeCalendarInterval
from operational.services import calendars
from operational.services.calendars import DEFAULT_WEEKLY, office_calendar
from propcloud.cli import main
from tests.db_support import migrated
from tests.operational.test_workflow_support import build_world

SH = timedelta(hours=8)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - SH


def hours_rows(*rows: tuple[str, str, str, str]) -> list[Row]:
    return [
        (n, dict(zip(("office_code", "weekday", "start", "end"), r, strict=True)))
        for n, r in enumerate(rows, start=2)
    ]


def day_rows(*rows: tuple[str, ...]) -> list[Row]:
    columns = ("office_code", "date", "kind", "start", "end")
    return [
        (n, dict(zip(columns, (*r, "", "")[:5], strict=True))) for n, r in enumerate(rows, start=2)
    ]


def problems(caught: pytest.ExceptionInfo[ImportRejected]) -> list[str]:
    return [e.message("en") for e in caught.value.errors]


# --- working hours ----------------------------------------------------------------------------


def test_group_week_for_every_office_and_an_offices_own_rows_win(session: Session) -> None:
    world = build_world(session)
    rows = hours_rows(
        *(("", str(d), "08:00", "12:00") for d in range(1, 7)),
        *(("", str(d), "13:00", "17:00") for d in range(1, 7)),
        ("OF1", "1", "09:00", "12:00"),
        ("OF1", "1", "13:30", "18:00"),
        ("OF1", "7", "20:00", "24:00"),
    )
    summary = import_working_hours_rows(session, rows, actor=world["admin"])
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    group_week = {d: ((time(8), time(12)), (time(13), time(17))) for d in range(1, 7)}
    assert dict(office_calendar(session, "OF2").weekly) == group_week
    assert dict(office_calendar(session, "OF1").weekly) == {
        1: ((time(9), time(12)), (time(13, 30), time(18))),
        7: ((time(20), time(0)),),
    }
    # Saturday: OF2 works the group's week, OF1 only its own Monday and Sunday.
    assert is_working_time(office_calendar(session, "OF2"), local(2026, 3, 7, 9))
    assert not is_working_time(office_calendar(session, "OF1"), local(2026, 3, 7, 9))
    # The same file again changes nothing; a later group-only file leaves OF1's own week.
    again = import_working_hours_rows(session, rows, actor=world["admin"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    later = import_working_hours_rows(
        session, hours_rows(("", "1", "07:00", "19:00")), actor=world["admin"]
    )
    assert (later.created, later.updated, later.unchanged) == (0, 1, 0)
    assert dict(office_calendar(session, "OF2").weekly) == {1: ((time(7), time(19)),)}
    assert office_calendar(session, "OF1").weekly[1] == (
        (time(9), time(12)),
        (time(13, 30), time(18)),
    )
    keys = session.scalars(
        select(AuditEntry.entity_key)
        .where(AuditEntry.entity == "org_calendar_interval")
        .order_by(AuditEntry.id)
    ).all()
    assert keys == ["*", "OF1", "*"]


def test_a_file_replaces_the_whole_week_of_each_office_it_names(session: Session) -> None:
    world = build_world(session)
    import_working_hours_rows(
        session,
        hours_rows(("OF1", "1", "09:00", "18:00"), ("OF1", "2", "09:00", "18:00")),
        actor=world["mgr"],
    )
    summary = import_working_hours_rows(
        session, hours_rows(("OF1", "6", "9:00", "12:00:00")), actor=world["mgr"]
    )
    assert (summary.created, summary.updated) == (0, 1)
    assert dict(office_calendar(session, "OF1").weekly) == {6: ((time(9), time(12)),)}
    assert dict(office_calendar(session, "OF2").weekly) == dict(DEFAULT_WEEKLY)


def test_bad_working_hours_rows_are_all_reported_and_nothing_is_written(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(ImportRejected) as caught:
        import_working_hours_rows(
            session,
            hours_rows(
                ("OF1", "1", "09:00", "12:00"),  # 2: good
                ("NOPE", "1", "09:00", "12:00"),  # 3
                ("OF1", "8", "09:00", "12:00"),  # 4
                ("OF1", "2", "9h", "25:00"),  # 5: both times
                ("OF1", "2", "14:00", "13:00"),  # 6
                ("OF1", "1", "11:00", "14:00"),  # 7: overlaps row 2
                ("OF1", "", "", "14:00"),  # 8: two empty cells
            ),
            actor=world["admin"],
        )
    assert problems(caught) == [
        "Row 3: office_code: no office with code NOPE.",
        "Row 4: weekday: '8' is not a weekday: use 1 (Monday) to 7 (Sunday).",
        "Row 5: start: '9h' is not a time of day: use HH:MM (an end of 24:00 is midnight).",
        "Row 5: end: '25:00' is not a time of day: use HH:MM (an end of 24:00 is midnight).",
        "Row 6: end: the interval 14:00–13:00 must end after it starts"
        " (an end of 00:00 or 24:00 means midnight).",
        "Row 7: start: the interval 11:00–14:00 overlaps 09:00–12:00 of row 2.",
        "Row 8: weekday is empty.",
        "Row 8: start is empty.",
    ]
    assert caught.value.report("zh_CN")[1].startswith("第 3 行：office_code：")
    assert session.scalars(select(OfficeCalendarInterval)).first() is None


def test_only_the_calendars_a_user_may_edit(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(ImportRejected) as caught:
        import_working_hours_rows(
            session,
            hours_rows(
                ("OF1", "1", "09:00", "12:00"),
                ("OF2", "1", "09:00", "12:00"),
                ("", "1", "09:00", "12:00"),
            ),
            actor=world["mgr"],
        )
    assert problems(caught) == [
        "Row 3: office_code: you may not change the calendar of office OF2.",
        "Row 4: office_code: an empty office code sets the whole group's calendar,"
        " which needs the group calendar permission.",
    ]
    with pytest.raises(ImportRejected):
        import_calendar_days_rows(
            session, day_rows(("", "2027-01-01", "holiday")), actor=world["mgr2"]
        )
    assert session.scalars(select(OfficeCalendarDay)).first() is None


# --- calendar days ------------------------------------------------------------------------------


def test_group_days_for_every_office_and_an_offices_own_day_wins(session: Session) -> None:
    world = build_world(session)
    assert calendars.years_without_holidays(session, date(2026, 12, 6)) == [2027]
    # The office's own rows first: they win over the group's loaded later.
    own = import_calendar_days_rows(
        session,
        day_rows(
            ("OF1", "2027-01-01", "workday", "09:00", "10:00"),
            ("OF1", "2027-01-01", "workday", "14:00", "15:00"),
        ),
        actor=world["mgr"],
    )
    assert (own.created, own.updated, own.unchanged) == (1, 0, 0)
    group = import_calendar_days_rows(
        session,
        day_rows(
            ("", "2027-01-01", "Holiday"),  # a Friday
            ("", "2027-01-09", "workday"),  # a Saturday worked with each office's Monday hours
            ("", "2027-01-16", "workday", "10:00", "12:00"),  # a Saturday with its own hours
        ),
        actor=world["admin"],
    )
    assert (group.created, group.updated, group.unchanged) == (3, 0, 0)
    of1, of2 = office_calendar(session, "OF1"), office_calendar(session, "OF2")
    assert not is_working_time(of2, local(2027, 1, 1, 10))
    assert is_working_time(of1, local(2027, 1, 1, 9, 30))
    assert not is_working_time(of1, local(2027, 1, 1, 10, 30))
    assert is_working_time(of1, local(2027, 1, 1, 14, 30))
    for cal in (of1, of2):
        assert is_working_time(cal, local(2027, 1, 9, 17))  # Monday hours: 13:30–18:00
        assert is_working_time(cal, local(2027, 1, 16, 11))
        assert not is_working_time(cal, local(2027, 1, 16, 14))
    assert calendars.years_without_holidays(session, date(2026, 12, 6)) == []
    assert calendars.years_without_holidays(session, date(2027, 3, 1)) == [2028]
    # Again: unchanged. A changed group day is an update; the office's own day still wins.
    again = import_calendar_days_rows(
        session, day_rows(("", "2027-01-01", "holiday")), actor=world["admin"]
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = import_calendar_days_rows(
        session, day_rows(("", "2027-01-01", "workday")), actor=world["admin"]
    )
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert is_working_time(office_calendar(session, "OF2"), local(2027, 1, 1, 17))
    assert not is_working_time(office_calendar(session, "OF1"), local(2027, 1, 1, 17))
    after = session.scalars(
        select(AuditEntry.after).where(
            AuditEntry.entity == "org_calendar_day", AuditEntry.entity_key == "OF1:2027-01-01"
        )
    ).one()
    assert after == {"kind": "workday", "as_weekday": None, "hours": ["09:00–10:00", "14:00–15:00"]}


def test_a_group_day_overrides_the_package(session: Session) -> None:
    world = build_world(session)
    import_calendar_days_rows(
        session,
        day_rows(("", "2026-10-10", "holiday"), ("", "2026-10-08", "workday", "09:00", "12:00")),
        actor=world["admin"],
    )
    cal = office_calendar(session, "OF2")
    assert not is_working_time(cal, local(2026, 10, 10, 10))  # the package's 调休 Saturday
    assert is_working_time(cal, local(2026, 10, 8, 10))  # the package's National Day holiday
    assert not is_working_time(cal, local(2026, 10, 8, 14))


def test_bad_calendar_day_rows_are_all_reported(session: Session) -> None:
    world = build_world(session)
    calendars.set_working_hours(session, world["mgr"], "OF1", {5: [(time(9), time(12))]})
    with pytest.raises(ImportRejected) as caught:
        import_calendar_days_rows(
            session,
            day_rows(
                ("OF1", "2027-02-30", "holiday"),  # 2
                ("OF1", "2027-01-01", "weekend"),  # 3
                ("OF1", "2027-01-02", "holiday", "09:00", ""),  # 4
                ("OF1", "2027-01-03", "workday", "09:00", ""),  # 5
                ("OF1", "2027-01-04", "holiday"),  # 6
                ("OF1", "2027-01-04", "workday", "09:00", "12:00"),  # 7: another kind
                ("OF1", "2027-01-05", "holiday"),  # 8
                ("OF1", "2027-01-05", "holiday"),  # 9: twice
                ("OF1", "2027-01-06", "workday", "09:00", "12:00"),  # 10
                ("OF1", "2027-01-06", "workday", "11:30", "13:00"),  # 11: overlaps 10
                ("OF1", "2027-01-09", "workday"),  # 12: OF1 does not work Mondays
                ("", "", ""),  # 13
            ),
            actor=world["admin"],
        )
    assert problems(caught) == [
        "Row 2: date: '2027-02-30' is not a date (e.g. 2027-01-01).",
        "Row 3: kind: 'weekend' is not a kind of day: use holiday or workday.",
        "Row 4: start: a holiday has no working hours; leave start and end empty.",
        "Row 5: end is empty.",
        "Row 7: date: 2027-01-04 is given another kind in row 6.",
        "Row 9: date: 2027-01-05 is already given in row 8 (several rows for one day are"
        " several intervals of a workday, each with start and end).",
        "Row 11: start: the interval 11:30–13:00 overlaps 09:00–12:00 of row 10.",
        "Row 12: start: office OF1 does not work on Mondays, so a workday without hours"
        " (worked like a Monday) is not worked; give its hours.",
        "Row 13: date is empty.",
        "Row 13: kind is empty.",
    ]
    assert session.scalars(select(OfficeCalendarDay)).first() is None


# --- files --------------------------------------------------------------------------------------


def test_xlsx_files_with_spreadsheet_cells(session: Session, tmp_path: Path) -> None:
    world = build_world(session)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Office_Code", "Weekday", "Start", "End"])
    sheet.append(["OF1", 1, time(8, 30), time(12)])
    sheet.append([None, 2, "09:00", "17:00"])
    hours = tmp_path / "hours.xlsx"
    book.save(hours)
    summary = import_working_hours_file(session, hours, actor=world["admin"])
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    assert dict(office_calendar(session, "OF1").weekly) == {1: ((time(8, 30), time(12)),)}
    assert dict(office_calendar(session, "OF2").weekly) == {2: ((time(9), time(17)),)}
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["office_code", "date", "kind", "start", "end"])
    sheet.append([None, datetime(2027, 1, 1), "holiday"])
    sheet.append(["OF2", date(2027, 1, 2), "workday", time(9), time(12)])
    days = tmp_path / "days.xlsx"
    book.save(days)
    summary = import_calendar_days_file(session, days, actor=world["admin"])
    assert summary.created == 2
    assert [d.day for d in calendars.day_overrides(session, None)] == [date(2027, 1, 1)]
    assert office_calendar(session, "OF2").day_hours == {date(2027, 1, 2): ((time(9), time(12)),)}


def test_the_example_official_list_matches_the_package(session: Session) -> None:
    """docs/examples/calendar-days-china-2026.csv is the 2026 list as the State Council
    published it, in the import's format: loading it changes no office's days."""
    world = build_world(session)
    before = office_calendar(session, "OF1")
    summary = import_calendar_days_file(
        session, EXAMPLES / "calendar-days-china-2026.csv", actor=world["admin"]
    )
    assert summary.created == 39
    after = office_calendar(session, "OF1")
    assert (after.holidays, dict(after.makeup_days)) == (before.holidays, dict(before.makeup_days))


def test_the_import_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    org = tmp_path / "org.csv"
    org.write_text(
        "city_code,city_name,office_code,office_name\nSH,上海,SH001,一号\nSH,上海,SH002,二号\n",
        encoding="utf-8",
    )
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    result = runner.invoke(main, ["import", "working-hours", str(EXAMPLES / "working-hours.csv")])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    days = tmp_path / "days.csv"
    days.write_text("office_code,date,kind\n,2027-01-01,holiday\nSH009,2027-01-02,holiday\n")
    result = runner.invoke(main, ["import", "calendar-days", str(days)])
    assert result.exit_code == 1
    assert "Row 3: office_code: no office with code SH009." in result.output
    days.write_text("office_code,date,kind\n,2027-01-01,holiday\n")
    result = runner.invoke(main, ["import", "calendar-days", str(days)])
    assert result.exit_code == 0 and "1 created" in result.output
    shown = runner.invoke(main, ["calendar", "show", "SH002"])
    assert "mon  09:00-12:00, 13:30-18:00" in shown.output
    assert "The group's own days: 1 (2027)" in shown.output
