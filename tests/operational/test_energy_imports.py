"""Energy imports (meters, readings, replacements): all or nothing, row numbers, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.imports.energy import (
    import_meters_file,
    import_readings_file,
    import_replacements_file,
)
from operational.imports.org import import_org_rows
from operational.imports.table import ImportRejected
from operational.models import Group, Meter, MeterPoint, Reading
from operational.services.energy import point_status

CLI = system_principal("cli")

NOW = datetime(2026, 7, 1, tzinfo=UTC)

METERS = """office_code,point_code,name,kind,parent_point_code,building,serial,multiplier,digits,installed_at,initial_reading
IM01,IM01-E-B1,1号楼总电表,electricity,IM01-E-MAIN,1号楼,S1,40,5,2026-06-01 00:00,99990.5
IM01,IM01-E-MAIN,小区总电表,electricity,,,S0,200,,2026-06-01 00:00,100
IM01,IM01-W-MAIN,小区总水表,water,,,,,,2026-06-01T00:00:00+08:00,50
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def setup(session: Session, tmp_path: Path) -> None:
    group = session.scalars(select(Group)).one()
    import_org_rows(
        session,
        [
            (
                2,
                {
                    "city_code": "IC",
                    "city_name": "导入城",
                    "office_code": "IM01",
                    "office_name": "导入管理处",
                    "timezone": "Asia/Shanghai",
                },
            )
        ],
        group=group,
        actor=system_principal("test"),
    )
    summary = import_meters_file(
        session, write(tmp_path, "m.csv", METERS), actor=system_principal("t"), now=NOW
    )
    assert summary.created == 3


def readings(session: Session) -> list[tuple[str, datetime, Decimal, str | None]]:
    rows = session.execute(
        select(MeterPoint.code, Reading.read_at, Reading.reading, Reading.flag)
        .join(MeterPoint, Reading.point_id == MeterPoint.id)
        .order_by(MeterPoint.code, Reading.read_at)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_meters_import_creates_tree_parent_later_and_is_idempotent(
    session: Session, tmp_path: Path
) -> None:
    setup(session, tmp_path)
    b1 = session.scalars(select(MeterPoint).where(MeterPoint.code == "IM01-E-B1")).one()
    main = session.scalars(select(MeterPoint).where(MeterPoint.code == "IM01-E-MAIN")).one()
    assert b1.parent_id == main.id
    meter = session.scalars(select(Meter).where(Meter.point_id == b1.id)).one()
    assert (meter.multiplier, meter.digits, meter.serial) == (Decimal(40), 5, "S1")
    assert meter.installed_at == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)  # local midnight
    water = point_status(session, CLI, "IM01-W-MAIN")
    assert water.meter is not None and water.meter.multiplier == 1
    again = import_meters_file(session, tmp_path / "m.csv", actor=system_principal("t"), now=NOW)
    assert (again.created, again.unchanged) == (0, 3)


def test_meters_import_reports_every_bad_row_and_writes_nothing(
    session: Session, tmp_path: Path
) -> None:
    setup(session, tmp_path)
    bad = write(
        tmp_path,
        "bad.csv",
        "office_code,point_code,name,kind,installed_at,initial_reading,parent_point_code\n"
        "IM01,IM01-X1,好,electricity,2026-06-01,1,\n"
        "IM01,IM01-X2,坏,gas,2026-06-01,1,\n"
        "NOPE,IM01-X3,坏,water,2026-06-01,1,\n"
        "IM01,IM01-X4,坏,water,2026-06-01,1,IM01-E-MAIN\n"
        "IM01,IM01-X5,坏,water,someday,1,\n",
    )
    with pytest.raises(ImportRejected) as exc:
        import_meters_file(session, bad, actor=system_principal("t"), now=NOW)
    report = exc.value.report("en")
    assert report[0].startswith("Nothing was imported: 4 problem(s)")
    assert report[1].startswith("Row 3: Unknown kind 'gas'")
    assert report[2] == "Row 4: No office with code NOPE."
    assert report[3].startswith("Row 5: Parent point IM01-E-MAIN meters electricity")
    assert report[4].startswith("Row 6: installed_at 'someday'")
    assert "第 3 行" in exc.value.report("zh_CN")[1]
    assert session.scalar(select(MeterPoint.id).where(MeterPoint.code == "IM01-X1")) is None


def test_readings_import_local_and_offset_times_flags_and_reimport(
    session: Session, tmp_path: Path
) -> None:
    setup(session, tmp_path)
    text = (
        "point_code,read_at,reading\n"
        "IM01-W-MAIN,2026-06-02 00:00,60\n"
        "IM01-W-MAIN,2026-06-02T16:00:00Z,70.5\n"
        "\n"
        "IM01-W-MAIN,2026-06-04 00:00,80\n"
        "IM01-W-MAIN,2026-06-05 00:00,200\n"  # unusually high: kept and flagged
        "IM01-E-B1,2026-06-02 00:00,99995\n"
        "IM01-E-B1,2026-06-03 00:00,0.5\n"  # roll-over of the 5-digit register
    )
    path = write(tmp_path, "r.csv", text)
    summary = import_readings_file(session, path, actor=system_principal("t"), now=NOW)
    assert (summary.created, summary.unchanged) == (6, 0)
    got = readings(session)
    assert got[0] == ("IM01-E-B1", datetime(2026, 6, 1, 16, tzinfo=UTC), Decimal(99995), None)
    assert got[1][2:] == (Decimal("0.5"), "rollover")
    water = [g for g in got if g[0] == "IM01-W-MAIN"]
    assert water[1][1] == datetime(2026, 6, 2, 16, tzinfo=UTC)  # the offset is honoured
    assert water[-1][2:] == (Decimal(200), "high")
    again = import_readings_file(session, path, actor=system_principal("t"), now=NOW)
    assert (again.created, again.unchanged) == (0, 6)
    assert len(readings(session)) == 6


def test_readings_import_is_all_or_nothing_with_row_numbers(
    session: Session, tmp_path: Path
) -> None:
    setup(session, tmp_path)
    import_readings_file(
        session,
        write(tmp_path, "ok.csv", "point_code,read_at,reading\nIM01-W-MAIN,2026-06-02,60\n"),
        actor=system_principal("t"),
        now=NOW,
    )
    text = (
        "point_code,read_at,reading,source\n"
        "IM01-W-MAIN,2026-06-03,65,\n"  # good
        "IM01-W-MAIN,2026-06-02,61,\n"  # same time, other value than stored
        "IM01-W-MAIN,2026-06-04,55,\n"  # lower than previous, no digits
        "IM01-W-MAIN,2026-07-04,99,\n"  # in the future
        "NOPE,2026-06-04,1,\n"
        "IM01-W-MAIN,2026-06-05,abc,\n"
        "IM01-W-MAIN,2026-05-01,40,\n"  # before the installation
        "IM01-W-MAIN,2026-06-06,70,phone\n"
    )
    with pytest.raises(ImportRejected) as exc:
        import_readings_file(
            session, write(tmp_path, "bad.csv", text), actor=system_principal("t"), now=NOW
        )
    rows = [(e.row, e.key) for e in exc.value.errors]
    assert rows == [
        (3, "import.energy.other_value_stored"),
        (4, "energy.reading.lower_than_previous"),
        (5, "import.future_time"),
        (6, "energy.unknown_point"),
        (7, "import.bad_number"),
        (8, "energy.reading.before_installation"),
        (9, "energy.bad_source"),
    ]
    assert exc.value.report("en")[2] == (
        "Row 4: The reading 55 is lower than the previous reading 65 (2026-06-03 00:00)."
        " Check the value; if the meter was replaced, record the replacement."
    )
    assert len(readings(session)) == 1


def test_readings_import_xlsx(session: Session, tmp_path: Path) -> None:
    setup(session, tmp_path)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Point_Code", "Read_At", "Reading"])
    sheet.append(["IM01-W-MAIN", datetime(2026, 6, 2, 8, 30), 60.25])
    sheet.append([])
    sheet.append(["IM01-W-MAIN", "2026-06-03T08:30:00+08:00", 61])
    sheet.append(["IM01-W-MAIN", datetime(2026, 6, 4, 8, 30), 50])
    path = tmp_path / "r.xlsx"
    book.save(path)
    with pytest.raises(ImportRejected) as exc:
        import_readings_file(session, path, actor=system_principal("t"), now=NOW)
    assert [e.row for e in exc.value.errors] == [5]  # the blank row 3 still counts
    sheet.delete_rows(5)
    book.save(path)
    import_readings_file(session, path, actor=system_principal("t"), now=NOW)
    assert [r[1:3] for r in readings(session)] == [
        (datetime(2026, 6, 2, 0, 30, tzinfo=UTC), Decimal("60.25")),
        (datetime(2026, 6, 3, 0, 30, tzinfo=UTC), Decimal(61)),
    ]


def test_replacements_import(session: Session, tmp_path: Path) -> None:
    setup(session, tmp_path)
    import_readings_file(
        session,
        write(tmp_path, "r.csv", "point_code,read_at,reading\nIM01-W-MAIN,2026-06-02,60\n"),
        actor=system_principal("t"),
        now=NOW,
    )
    text = (
        "point_code,replaced_at,old_final_reading,new_initial_reading,new_serial,new_multiplier\n"
        "IM01-W-MAIN,2026-06-03 10:00,65,0,W2,\n"
    )
    path = write(tmp_path, "rep.csv", text)
    assert (
        import_replacements_file(session, path, actor=system_principal("t"), now=NOW).created == 1
    )
    assert (
        import_replacements_file(session, path, actor=system_principal("t"), now=NOW).unchanged == 1
    )
    status = point_status(session, CLI, "IM01-W-MAIN")
    assert status.meter is not None and status.meter.serial == "W2"
    assert status.last_reading == 0
    bad = write(
        tmp_path,
        "bad.csv",
        "point_code,replaced_at,old_final_reading,new_initial_reading\n"
        "IM01-W-MAIN,2026-06-04 10:00,0,0\n"
        "IM01-W-MAIN,2026-06-03 12:00,-5,0\n"
        "IM01-E-MAIN,2026-06-02 10:00,100,0\n",
    )
    with pytest.raises(ImportRejected) as exc:
        import_replacements_file(session, bad, actor=system_principal("t"), now=NOW)
    assert [(e.row, e.key) for e in exc.value.errors] == [
        (3, "energy.reading.negative"),
    ]
    count = session.scalar(select(func.count()).select_from(Meter))
    assert count == 4
