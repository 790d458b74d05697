"""The organisation import: all or nothing, row-numbered errors, idempotent, CSV and XLSX."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.imports.org import ensure_group, import_org_file
from operational.imports.table import ImportRejected
from operational.models import AuditEntry, CityCompany, Office

HEADER = "city_code,city_name,office_code,office_name,timezone\n"


def write_csv(tmp_path: Path, body: str, name: str = "org.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def run(session: Session, path: Path):  # type: ignore[no-untyped-def]
    group = ensure_group(session, "YY", "一应物业集团")
    return import_org_file(session, path, group=group, actor=system_principal("tester"))


def test_import_creates_cities_and_offices_with_default_time_zone(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "SH,上海城市公司,SH001,上海翠湖花园管理处,\n"
        "SH,上海城市公司,SH002,上海星河湾管理处,Asia/Shanghai\n"
        "UR,乌鲁木齐城市公司,UR001,乌鲁木齐天誉城管理处,Asia/Urumqi\n",
    )
    summary = run(session, path)
    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    offices = {o.code: o for o in session.scalars(select(Office))}
    assert offices["SH001"].timezone == "Asia/Shanghai"
    assert offices["UR001"].timezone == "Asia/Urumqi"
    assert {c.code for c in session.scalars(select(CityCompany))} == {"SH", "UR"}


def test_importing_the_same_file_twice_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "SH,上海城市公司,SH001,上海翠湖花园管理处,\n")
    run(session, path)
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    summary = run(session, path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 1)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_a_renamed_office_is_updated_and_audited(session: Session, tmp_path: Path) -> None:
    run(session, write_csv(tmp_path, "SH,上海城市公司,SH001,旧名管理处,\n"))
    summary = run(session, write_csv(tmp_path, "SH,上海城市公司,SH001,新名管理处,\n", "b.csv"))
    assert summary.updated == 1
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.before == {"name": "旧名管理处", "timezone": "Asia/Shanghai"}
    assert entry.after is not None and entry.after["name"] == "新名管理处"


def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "SH,上海城市公司,SH001,上海翠湖花园管理处,\n"  # row 2: good
        ",上海城市公司,SH002,上海星河湾管理处,\n"  # row 3: missing city code
        "SH,上海城市公司,SH003,上海锦绣家园管理处,Mars/Olympus\n"  # row 4: unknown zone
        "BJ,北京城市公司,SH001,北京望京管理处,\n"  # row 5: SH001 under another city
        "SH,上海城市公司,,上海某管理处,\n",  # row 6: missing office code
    )
    with pytest.raises(ImportRejected) as caught:
        run(session, path)
    rows = [e.row for e in caught.value.errors]
    assert rows == [3, 4, 5, 6]
    report = caught.value.report("en")
    assert report[0].startswith("Nothing was imported")
    assert "Row 4: Unknown time zone 'Mars/Olympus'" in report[2]
    assert "SH001" in report[3] and "row 2" in report[3]
    zh = caught.value.report("zh_CN")
    assert zh[1].startswith("第 3 行") and "city_code" in zh[1]
    assert session.scalar(select(func.count()).select_from(Office)) == 0


def test_an_office_cannot_move_to_another_city_by_import(session: Session, tmp_path: Path) -> None:
    run(session, write_csv(tmp_path, "SH,上海城市公司,SH001,上海翠湖花园管理处,\n"))
    with pytest.raises(ImportRejected) as caught:
        run(session, write_csv(tmp_path, "BJ,北京城市公司,SH001,上海翠湖花园管理处,\n", "b.csv"))
    assert caught.value.errors[0].key == "import.org.office_moved"


def test_xlsx_and_gbk_csv_are_read(session: Session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["City_Code", "city_name", "office_code", "office_name"])
    sheet.append(["SZ", "深圳城市公司", "SZ001", "深圳滨江公馆管理处"])
    xlsx = tmp_path / "org.xlsx"
    book.save(xlsx)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes((HEADER + "GZ,广州城市公司,GZ001,广州云栖山庄管理处,\n").encode("gb18030"))
    assert run(session, xlsx).created == 1
    assert run(session, gbk).created == 1
    names = set(session.scalars(select(Office.name)))
    assert names == {"深圳滨江公馆管理处", "广州云栖山庄管理处"}


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("office_code,office_name\nSH001,x\n", "import.missing_columns"),
        (HEADER.strip() + ",colour\nSH,上海,SH001,x,,red\n", "import.unknown_columns"),
        ("", "import.empty_file"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(
    session: Session, tmp_path: Path, content: str, key: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Exception) as caught:
        run(session, path)
    assert getattr(caught.value, "key", None) == key
