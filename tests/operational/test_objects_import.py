"""The objects import and the object QR label sheet (P2).

All or nothing with row-numbered errors in both languages, attributes checked against the
row's type (kind, required), idempotent, CSV and XLSX; labels open the object card.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.imports.objects import import_objects_file
from operational.imports.table import ImportRejected, ImportSummary
from operational.models import (
    AttributeKind,
    AuditEntry,
    CityCompany,
    Discipline,
    Group,
    MaintObject,
    ObjectType,
    Office,
)
from operational.services.objects import AttributeSpec, add_object_type, object_labels_pdf
from propcloud.cli import main
from tests.db_support import migrated

CLI = system_principal("cli")

BASIC = "office_code,object_code,name,type_code"
HEADER = BASIC + ",location,attr:brand,attr:rated_load,attr:installed_on"


def world(session: Session) -> None:
    group = session.scalars(select(Group)).one()
    city = CityCompany(group_id=group.id, code="OI", name="导入城市公司")
    session.add(city)
    session.flush()
    for code in ("OI1", "OI2"):
        session.add(Office(city_id=city.id, code=code, name=f"{code}管理处"))
    session.flush()
    add_object_type(
        session,
        CLI,
        code="oi_eng",
        name="工程设备",
        discipline=Discipline.ENGINEERING,
        attributes=[AttributeSpec("installed_on", "安装日期", AttributeKind.DATE)],
    )
    add_object_type(
        session,
        CLI,
        code="oi_elev",
        name="电梯",
        parent_code="oi_eng",
        attributes=[
            AttributeSpec("brand", "品牌", required=True),
            AttributeSpec("rated_load", "额定载重", AttributeKind.NUMBER, "kg"),
        ],
        checklist=["平层准确"],
    )
    add_object_type(session, CLI, code="oi_pump", name="水泵", parent_code="oi_eng")


def write_csv(tmp_path: Path, body: str, name: str = "objects.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + body, encoding="utf-8")
    return path


def run(session: Session, path: Path) -> ImportSummary:
    return import_objects_file(session, path, actor=system_principal("tester"))


def counts(summary: ImportSummary) -> tuple[int, int, int]:
    return summary.created, summary.updated, summary.unchanged


def objects(session: Session) -> dict[str, MaintObject]:
    return {
        f"{o.code}@{oc}": o
        for o, oc in session.execute(
            select(MaintObject, Office.code).join(Office, Office.id == MaintObject.office_id)
        )
        if oc.startswith("OI")
    }


GOOD = (
    "OI1,EL-1,1号电梯,oi_elev,1号楼,奥的斯,1000,2019-05-01\n"
    "OI1,EL-2,2号电梯,oi_elev,2号楼,三菱,,\n"
    "OI2,EL-1,1号电梯,oi_elev,A座,通力,1350.5,\n"
    "OI1,WP-1,1号生活水泵,oi_pump,地下泵房,,,2020-01-15\n"
)


def test_objects_are_created_with_the_attributes_of_their_type(
    session: Session, tmp_path: Path
) -> None:
    world(session)
    assert counts(run(session, write_csv(tmp_path, GOOD))) == (4, 0, 0)
    found = objects(session)
    assert found["EL-1@OI1"].attributes == {
        "brand": "奥的斯",
        "rated_load": "1000",
        "installed_on": "2019-05-01",
    }
    assert found["EL-2@OI1"].attributes == {"brand": "三菱"}
    assert found["EL-1@OI2"].location == "A座"
    assert found["WP-1@OI1"].attributes == {"installed_on": "2020-01-15"}
    created = session.scalars(
        select(AuditEntry.entity_key).where(
            AuditEntry.entity == "maint_object", AuditEntry.actor == "tester"
        )
    ).all()
    assert sorted(created) == ["OI1:EL-1", "OI1:EL-2", "OI1:WP-1", "OI2:EL-1"]


def test_importing_again_changes_nothing_and_a_changed_row_is_updated(
    session: Session, tmp_path: Path
) -> None:
    world(session)
    path = write_csv(tmp_path, GOOD)
    run(session, path)
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    assert counts(run(session, path)) == (0, 0, 4)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    # A blank cell keeps the stored value; a filled one replaces it.
    changed = write_csv(tmp_path, "OI1,EL-1,1号客梯,oi_elev,,日立,,\n", "b.csv")
    assert counts(run(session, changed)) == (0, 1, 0)
    el1 = objects(session)["EL-1@OI1"]
    assert (el1.name, el1.location) == ("1号客梯", "1号楼")
    assert el1.attributes == {"brand": "日立", "rated_load": "1000", "installed_on": "2019-05-01"}
    assert counts(run(session, changed)) == (0, 0, 1)
    # A file without attribute columns never wipes them.
    bare = write_csv(
        tmp_path,
        "OI1,EL-1,1号客梯,oi_elev\n",
        "c.csv",
        header=BASIC,
    )
    assert counts(run(session, bare)) == (0, 0, 1)


def test_every_bad_row_is_reported_by_number_and_nothing_is_imported(
    session: Session, tmp_path: Path
) -> None:
    world(session)
    path = write_csv(
        tmp_path,
        "OI1,EL-1,1号电梯,oi_elev,1号楼,奥的斯,1000,\n"  # 2 good
        "XX9,EL-1,1号电梯,oi_elev,,奥的斯,,\n"  # 3 unknown office
        "OI1,EL-3,3号电梯,oi_nope,,奥的斯,,\n"  # 4 unknown type
        "OI1,WP-1,1号水泵,oi_pump,,格兰富,,\n"  # 5 brand is not a pump attribute
        "OI1,EL-4,4号电梯,oi_elev,,奥的斯,重型,\n"  # 6 not a number
        "OI1,EL-5,5号电梯,oi_elev,,,800,\n"  # 7 required brand missing
        "OI1,EL-1,1号电梯,oi_elev,,奥的斯,,\n"  # 8 twice in the file
        "OI1,EL-6,6号电梯,oi_elev,,奥的斯,,2019-13-01\n"  # 9 not a date
        "OI1,EL 7,,oi_elev,,奥的斯,,\n",  # 10 bad code, missing name
    )
    with pytest.raises(ImportRejected) as caught:
        run(session, path)
    assert objects(session) == {}
    rows = [(e.row, e.key) for e in caught.value.errors]
    assert rows == [
        (3, "users.unknown_office"),
        (4, "objects.unknown_type"),
        (5, "objects.unknown_attribute"),
        (6, "objects.bad_attribute"),
        (7, "objects.required_attribute"),
        (8, "objects.import.duplicate_object"),
        (9, "objects.bad_attribute"),
        (10, "import.missing_value"),
        (10, "import.bad_code"),
    ]
    zh = caught.value.report("zh_CN")
    assert zh[0] == "未导入任何数据：发现 9 个问题。请修正后重新导入该文件。"
    assert "第 7 行：必填属性「品牌」（attr:brand）为空。" in zh
    assert "第 8 行：管理处 OI1 的对象 EL-1 已在第 2 行出现。" in zh
    en = caught.value.report("en")
    assert "Row 7: The required attribute '品牌' (attr:brand) is empty." in en
    assert "Row 8: Object EL-1 of office OI1 already appears in row 2." in en


def test_an_unknown_attribute_column_rejects_the_file(session: Session, tmp_path: Path) -> None:
    world(session)
    path = write_csv(
        tmp_path, "OI1,EL-1,1号电梯,oi_elev,红色\n", header=BASIC + ",location,attr:colour"
    )
    with pytest.raises(DomainError) as caught:
        run(session, path)
    assert caught.value.key == "import.unknown_columns"
    assert "attr:colour" in caught.value.message("en")


def test_an_import_never_changes_an_objects_type(session: Session, tmp_path: Path) -> None:
    world(session)
    run(session, write_csv(tmp_path, GOOD))
    with pytest.raises(ImportRejected) as caught:
        run(session, write_csv(tmp_path, "OI1,EL-1,1号电梯,oi_pump,,,,\n", "b.csv"))
    assert [(e.row, e.key) for e in caught.value.errors] == [(2, "objects.import.type_changed")]


def test_xlsx_with_number_and_date_cells(session: Session, tmp_path: Path) -> None:
    world(session)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.upper().replace("ATTR:", "attr:").split(","))
    sheet.append(
        ["OI1", "EL-9", "9号电梯", "oi_elev", "9号楼", "奥的斯", 1000, datetime(2021, 3, 4)]
    )
    sheet.append(["OI1", "EL-8", "8号电梯", "oi_elev", None, "三菱", 800.5, date(2022, 1, 2)])
    path = tmp_path / "objects.xlsx"
    workbook.save(path)
    assert counts(run(session, path)) == (2, 0, 0)
    found = objects(session)
    assert found["EL-9@OI1"].attributes == {
        "brand": "奥的斯",
        "rated_load": "1000",
        "installed_on": "2021-03-04",
    }
    assert found["EL-8@OI1"].attributes["rated_load"] == "800.5"
    assert found["EL-8@OI1"].attributes["installed_on"] == "2022-01-02"
    assert counts(run(session, path)) == (0, 0, 2)


def test_label_sheet_has_one_qr_link_per_object(session: Session) -> None:
    world(session)
    office_id = session.scalars(select(Office.id).where(Office.code == "OI1")).one()
    types = dict(session.execute(select(ObjectType.code, ObjectType.id)).all())
    for i in range(1, 27):
        session.add(
            MaintObject(
                office_id=office_id,
                type_id=types["oi_elev" if i <= 25 else "oi_pump"],
                code=f"X-{i:02d}",
                name=f"{i}号设备",
                location="1号楼",
                attributes={},
            )
        )
    session.flush()
    pdf = object_labels_pdf(session, CLI, "OI1", "https://pc.example/", "zh_CN")
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 2  # 24 labels a page
    urls = re.findall(rb"/URI \((.*?)\)", pdf)
    assert len(urls) == 26
    assert urls[0] == b"https://pc.example/object?code=X-01&office=OI1"
    pumps = object_labels_pdf(session, CLI, "OI1", "https://pc.example", "en", type_code="oi_pump")
    assert re.findall(rb"/URI \((.*?)\)", pumps) == [
        b"https://pc.example/object?code=X-26&office=OI1"
    ]
    engineering = object_labels_pdf(
        session, CLI, "OI1", "https://pc.example", "en", type_code="oi_eng"
    )
    assert len(re.findall(rb"/URI \(", engineering)) == 26  # a type's sub-types are included
    with pytest.raises(DomainError) as none:
        object_labels_pdf(session, CLI, "OI2", "https://pc.example", "en")
    assert none.value.key == "objects.labels.no_objects"


def test_the_commands_as_an_operator_runs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    monkeypatch.setenv("PROPCLOUD_BASE_URL", "https://pc.example")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    org = tmp_path / "org.csv"
    org.write_text("city_code,city_name,office_code,office_name\nCL,城,CL01,处\n", encoding="utf-8")
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    engine = create_db_engine(f"sqlite:///{tmp_path}/cli.db")
    with unit_of_work(engine) as session:
        add_object_type(session, CLI, code="pump", name="水泵", discipline=Discipline.ENGINEERING)
    engine.dispose()
    bad = write_csv(tmp_path, "CL01,WP-1,1号水泵,pump\nCL01,WP-2,,pump\n", header=BASIC)
    result = runner.invoke(main, ["import", "objects", str(bad)])
    assert result.exit_code == 1
    assert "Row 3: name is empty." in result.output
    good = write_csv(tmp_path, "CL01,WP-1,1号水泵,pump\n", "good.csv", header=BASIC)
    result = runner.invoke(main, ["import", "objects", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    out = tmp_path / "labels.pdf"
    result = runner.invoke(main, ["labels", "objects", "--office", "CL01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 object labels written" in result.output
    assert b"https://pc.example/object?code=WP-1&office=CL01" in out.read_bytes()
    result = runner.invoke(main, ["labels", "objects", "--office", "CL01", "--type", "nope"])
    assert result.exit_code == 1
    assert "No object type with code nope" in result.output
