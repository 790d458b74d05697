"""The object-type tree import: ``propcloud import object-types``.

All or nothing with row-numbered errors in both languages; parents anywhere in the file; a
stored type renamed, given attributes and a new checklist but never moved; a checklist change
leaves orders already issued as they were; importing the same file again changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_workflow_support import T0, build_world

from operational.auth import system_principal
from operational.errors import PermissionDenied, StaleVersion
from operational.imports.object_types import (
    COLUMNS,
    export_rows,
    import_object_type_rows,
    import_object_types_file,
)
from operational.imports.table import ImportRejected, ImportSummary, read_rows
from operational.models import (
    AuditEntry,
    ChecklistAnswer,
    ChecklistItem,
    ObjectType,
)
from operational.services import orders, plans
from operational.services.objects import AttributeView, TypeView, type_tree
from propcloud.cli import main
from tests.db_support import migrated

CLI = system_principal("cli")

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "object-types.csv"
HEADER = ",".join(COLUMNS)


def counts(summary: ImportSummary) -> tuple[int, int, int]:
    return summary.created, summary.updated, summary.unchanged


def tree(session: Session) -> dict[str, TypeView]:
    return {v.code: v for v in type_tree(session)}


def write_csv(tmp_path: Path, body: str, name: str = "types.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n" + body, encoding="utf-8")
    return path


def audits(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_the_documented_example_builds_the_tree_and_imports_again_unchanged(
    session: Session,
) -> None:
    assert counts(import_object_types_file(session, EXAMPLE, actor=CLI)) == (10, 0, 0)
    types = tree(session)
    assert [v.code for v in type_tree(session)][:5] == [
        "engineering",  # roots in discipline order, children in the order they were added
        "elevator",
        "water_pump",
        "fire_equipment",
        "landscaping",
    ]
    elevator = types["elevator"]
    assert (elevator.parent_code, elevator.discipline, elevator.path) == (
        "engineering",
        "engineering",
        ("工程设备", "电梯"),
    )
    assert elevator.attributes == (
        AttributeView("brand", "品牌", "text", None, True),
        AttributeView("model", "型号", "text", None, False),
        AttributeView("rated_load", "额定载重", "number", "kg", False),
    )
    assert elevator.inherited == (AttributeView("installed_on", "投用日期", "date", None, False),)
    assert elevator.checklist == ("曳引机运行无异响", "轿厢平层准确", "紧急呼叫对讲可用")
    # a quoted CSV cell with a line break: one item a line
    assert types["water_pump"].checklist == ("压力表读数正常", "泵体及管路无渗漏")
    assert types["lobby"].discipline == "cleaning"
    assert {v.code for v in types.values() if v.parent_code is None} == {
        "engineering",
        "landscaping",
        "security",
        "cleaning",
    }
    before = audits(session)
    assert counts(import_object_types_file(session, EXAMPLE, actor=CLI)) == (0, 0, 10)
    assert audits(session) == before


def test_xlsx_cells_with_line_breaks_give_the_same_tree(session: Session, tmp_path: Path) -> None:
    rows = read_rows(EXAMPLE, COLUMNS)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([c.upper() for c in COLUMNS])  # headers match without regard to case
    for _, values in rows:
        cells = dict(values)
        cells["attributes"] = cells["attributes"].replace("; ", "\n")
        cells["checklist"] = cells["checklist"].replace(" | ", "\n")
        sheet.append([cells[c] or None for c in COLUMNS])
    path = tmp_path / "types.xlsx"
    workbook.save(path)
    assert counts(import_object_types_file(session, path, actor=CLI)) == (10, 0, 0)
    from_xlsx = type_tree(session)
    assert counts(import_object_types_file(session, EXAMPLE, actor=CLI)) == (0, 0, 10)
    assert type_tree(session) == from_xlsx


def test_the_exported_tree_imports_again_unchanged(session: Session, tmp_path: Path) -> None:
    build_world(session)
    import_object_types_file(session, EXAMPLE, actor=CLI)
    exported = export_rows(type_tree(session))
    rows = [(n, values) for n, values in enumerate(exported, start=2)]
    assert counts(import_object_type_rows(session, rows, actor=CLI)) == (0, 0, len(rows))


def test_every_bad_new_row_is_reported_by_number_and_nothing_is_imported(
    session: Session, tmp_path: Path
) -> None:
    build_world(session)
    types_before = session.scalar(select(func.count()).select_from(ObjectType))
    path = write_csv(
        tmp_path,
        "ot_ok,好的,WT-ENG,,,\n"  # 2 good
        "ot_a,,WT-ENG,,,\n"  # 3 name missing
        "ot b,B,WT-ENG,,,\n"  # 4 bad code
        "ot_c,C,ot_nowhere,,,\n"  # 5 unknown parent
        "ot_d,D,ot_e,,,\n"  # 6 a cycle
        "ot_e,E,ot_d,,,\n"  # 7 the same cycle
        "ot_root,Root,,,,\n"  # 8 a root needs a discipline
        "ot_root2,Root,,plumbing,,\n"  # 9 not a discipline
        "ot_f,F,WT-ENG,cleaning,,\n"  # 10 not the parent's discipline
        "ot_g,G,WT-ENG,,brand:colour,\n"  # 11 not a kind
        "ot_h,H,WT-ENG,,brand,\n"  # 12 no kind
        "ot_i,I,WT-ENG,,brand:text; Brand:number,\n"  # 13 listed twice
        "ot_j,J,ot_ok,,serial:text,\n"  # 14 good: ot_ok below has no serial
        "ot_k,K,ot_j,,serial:number,\n"  # 15 serial is defined above
        "ot_ok,again,WT-ENG,,,\n"  # 16 the same type twice
        "ot_l,L,WT-ENG,,,a | b | a\n"  # 17 an item twice
        "ot_m,M,ot_a,,,\n",  # 18 good: its parent's row is bad, but it is in the file
    )
    with pytest.raises(ImportRejected) as caught:
        import_object_types_file(session, path, actor=CLI)
    assert session.scalar(select(func.count()).select_from(ObjectType)) == types_before
    assert [(e.row, e.key) for e in caught.value.errors] == [
        (3, "import.missing_value"),
        (4, "import.bad_code"),
        (5, "object_types.unknown_parent"),
        (6, "object_types.parent_cycle"),
        (7, "object_types.parent_cycle"),
        (8, "objects.root_needs_discipline"),
        (9, "object_types.bad_discipline"),
        (10, "object_types.discipline_mismatch"),
        (11, "object_types.bad_kind"),
        (12, "object_types.bad_attribute"),
        (13, "object_types.duplicate_attribute"),
        (15, "object_types.attribute_inherited"),
        (16, "object_types.duplicate_type"),
        (17, "object_types.duplicate_item"),
    ]
    zh = caught.value.report("zh_CN")
    assert zh[0] == "未导入任何数据：发现 14 个问题。请修正后重新导入该文件。"
    assert "第 5 行：上级类型 ot_nowhere 既不在类型树中，也不在本文件中。" in zh
    assert "第 6 行：类型 ot_d 将成为自己的上级：ot_d → ot_e → ot_d。" in zh
    assert "第 15 行：属性 serial 已由上级类型 ot_j 定义。" in zh
    en = caught.value.report("en")
    assert "Row 11: Attribute brand: 'colour' is not a kind (text, number or date)." in en
    assert "Row 16: Type ot_ok already appears in row 2." in en


def test_a_stored_type_keeps_its_place_its_attributes_and_their_kinds(
    session: Session, tmp_path: Path
) -> None:
    build_world(session)
    listed = "brand:text:Brand; model:text:Model; rated_load:number:Rated load:kg"
    path = write_csv(
        tmp_path,
        f"WT-ELEV,Elevator,WT-CLN,,{listed},\n"  # 2 moved
        "WT-ENG,Engineering,,cleaning,,\n"  # 3 another discipline
        "WT-ELEV,Elevator,,,,\n"  # 4 moved to the top (and twice in the file)
        "WT-LOBBY,Lobby,WT-CLN,,area:number,\n"  # 5 area is defined above, by row 6
        "WT-CLN,Cleaning,,,area:text,\n",  # 6 (one conflict, told once)
    )
    with pytest.raises(ImportRejected) as caught:
        import_object_types_file(session, path, actor=CLI)
    assert [(e.row, e.key) for e in caught.value.errors] == [
        (2, "object_types.parent_changed"),
        (3, "object_types.discipline_changed"),
        (4, "object_types.duplicate_type"),
        (5, "object_types.attribute_inherited"),
    ]
    path = write_csv(
        tmp_path,
        "WT-ELEV,Elevator,WT-ENG,,brand:text:Brand; rated_load:text:Rated load:kg,\n"
        "WT-LOBBY,Lobby,WT-CLN,,area*:number:Area:m²,\n"
        "WT-ENG,Engineering,,,model:text,\n",
        "b.csv",
    )
    with pytest.raises(ImportRejected) as caught:
        import_object_types_file(session, path, actor=CLI)
    assert [(e.row, e.key) for e in caught.value.errors] == [
        (2, "object_types.attribute_not_listed"),  # model is not listed: never removed
        (2, "object_types.kind_changed"),
        (3, "object_types.required_needs_values"),  # LB-1 has no area
        (4, "object_types.attribute_below"),  # WT-ELEV has model
    ]
    en = caught.value.report("en")
    assert (
        "Row 2: Type WT-ELEV has the attribute model: list it as well "
        "(attributes are never removed)." in en
    )
    assert "Row 2: The attribute rated_load is stored as number; its kind cannot change." in en
    assert (
        "Row 3: The attribute area cannot be required: 1 object(s) of this type have no value "
        "for it." in en
    )


def test_a_stored_type_is_renamed_and_extended_and_a_blank_cell_keeps_what_is_stored(
    session: Session, tmp_path: Path
) -> None:
    build_world(session)
    path = write_csv(
        tmp_path,
        "WT-ELEV,Lift,WT-ENG,engineering,"
        "brand*:text:Make; model:text:Model; rated_load:number:Rated load:t; serial:text,\n"
        "WT-LOBBY,Lobby,WT-CLN,,,\n",
    )
    assert counts(import_object_types_file(session, path, actor=CLI)) == (0, 1, 1)
    lift = tree(session)["WT-ELEV"]
    assert lift.name == "Lift"
    assert lift.attributes == (
        AttributeView("brand", "Make", "text", None, True),  # both elevators have a brand
        AttributeView("model", "Model", "text", None, False),
        AttributeView("rated_load", "Rated load", "number", "t", False),
        AttributeView("serial", "serial", "text", None, False),
    )
    assert lift.checklist == ("Brake test", "Door sensors", "Emergency phone")
    (entry,) = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "maint_object_type",
            AuditEntry.entity_key == "WT-ELEV",
            AuditEntry.action == "update",
        )
    )
    assert entry.actor == "cli"
    assert entry.before is not None and entry.after is not None
    assert (entry.before["name"], entry.after["name"]) == ("Elevator", "Lift")
    assert counts(import_object_types_file(session, path, actor=CLI)) == (0, 0, 2)


def test_a_new_checklist_leaves_orders_already_issued_as_they_were(
    session: Session, tmp_path: Path
) -> None:
    world = build_world(session)
    s = world.session
    issued = world.periodic_order()  # copies Brake test, Door sensors, Emergency phone
    answered = [(a.position, a.text) for a in orders.checklist(s, issued)][:3]
    path = write_csv(
        tmp_path,
        "WT-ELEV,Elevator,WT-ENG,,,"
        "Emergency phone | Brake test | Door sensors and light curtain | Pit clean\n",
    )
    assert counts(import_object_types_file(session, path, actor=CLI)) == (0, 1, 0)
    assert tree(s)["WT-ELEV"].checklist == (
        "Emergency phone",
        "Brake test",
        "Door sensors and light curtain",
        "Pit clean",
    )
    s.expire_all()
    assert [(a.position, a.text) for a in orders.checklist(s, issued)][:3] == answered
    assert answered == [(1, "Brake test"), (2, "Door sensors"), (3, "Emergency phone")]
    # The next order is issued with the new work standard.
    plan = world.plan(start=date(2026, 4, 10), end=date(2026, 4, 10))
    (later,) = plans.generate_orders(s, plan, date(2026, 4, 30), at=T0)
    assert [a.text for a in orders.checklist(s, later)][:4] == [
        "Emergency phone",
        "Brake test",
        "Door sensors and light curtain",
        "Pit clean",
    ]
    # Items issued orders refer to cannot go; one they do not know can.
    items_before = s.scalar(select(func.count()).select_from(ChecklistItem))
    shorter = write_csv(tmp_path, "WT-ELEV,Elevator,WT-ENG,,,Brake test | Pit clean\n", "b.csv")
    with pytest.raises(ImportRejected) as caught:
        import_object_types_file(session, shorter, actor=CLI)
    assert [(e.row, e.key) for e in caught.value.errors] == [
        (2, "object_types.item_in_use"),
        (2, "object_types.item_in_use"),
    ]
    assert s.scalar(select(func.count()).select_from(ChecklistItem)) == items_before
    zh = caught.value.report("zh_CN")
    assert (
        "第 2 行：检查项「Emergency phone」已用于已下发的定期工单，不能删除；请保留或改写该项。"
        in zh
    )
    answers = s.scalar(select(func.count()).select_from(ChecklistAnswer))
    assert answers == 14  # two elevators × (3 + 4) items
    current = " | ".join(tree(s)["WT-ELEV"].checklist)
    longer = write_csv(tmp_path, f"WT-ELEV,Elevator,WT-ENG,,,{current} | Extra\n", "c.csv")
    assert counts(import_object_types_file(session, longer, actor=CLI)) == (0, 1, 0)
    again = write_csv(tmp_path, f"WT-ELEV,Elevator,WT-ENG,,,{current}\n", "d.csv")
    assert counts(import_object_types_file(session, again, actor=CLI)) == (0, 1, 0)
    assert " | ".join(tree(s)["WT-ELEV"].checklist) == current


def test_forms_use_the_same_rules_with_the_actor_checked_and_stale_forms_refused(
    session: Session,
) -> None:
    world = build_world(session)
    s = world.session
    row = {
        "type_code": "WT-ESC",
        "name": "Escalator",
        "parent_type_code": "WT-ENG",
        "discipline": "",
        "attributes": "step_width:number:Step width:mm",
        "checklist": "Steps\nHandrail",
    }
    with pytest.raises(PermissionDenied):
        import_object_type_rows(s, [(1, row)], actor=world["mgr"])
    summary = import_object_type_rows(s, [(1, row)], actor=world["admin"], create_only=True)
    assert counts(summary) == (1, 0, 0)
    assert s.scalars(select(AuditEntry.actor).where(AuditEntry.entity_key == "WT-ESC")).all() == [
        "admin"
    ]
    with pytest.raises(ImportRejected) as taken:
        import_object_type_rows(s, [(1, row)], actor=world["admin"], create_only=True)
    assert [e.key for e in taken.value.errors] == ["objects.type_exists"]

    drawn = tree(s)["WT-ESC"]
    import_object_type_rows(s, [(1, {**row, "name": "Moving stairs"})], actor=world["admin"])
    with pytest.raises(StaleVersion) as stale:
        import_object_type_rows(
            s, [(1, {**row, "name": "Rolltreppe"})], actor=world["admin"], expected=drawn
        )
    assert stale.value.message("en").startswith("Type WT-ESC was changed by someone else")
    assert tree(s)["WT-ESC"].name == "Moving stairs"
    # a form's empty checklist means none (a file's blank cell keeps it)
    cleared = {**row, "name": "Moving stairs", "checklist": ""}
    import_object_type_rows(
        s, [(1, cleared)], actor=world["admin"], expected=tree(s)["WT-ESC"], blank_clears=True
    )
    assert tree(s)["WT-ESC"].checklist == ()


def test_the_command_as_an_operator_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    bad = write_csv(tmp_path, "pump,Pump,,,,\nvalve,,pump,,,\n")
    result = runner.invoke(main, ["import", "object-types", str(bad)])
    assert result.exit_code == 1
    assert "Row 2: A top-level object type needs a discipline." in result.output
    assert "Row 3: name is empty." in result.output
    result = runner.invoke(main, ["import", "object-types", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "Imported: 10 created, 0 updated, 0 unchanged." in result.output
    result = runner.invoke(main, ["import", "object-types", str(EXAMPLE)])
    assert "Imported: 0 created, 0 updated, 10 unchanged." in result.output
    monkeypatch.setenv("PROPCLOUD_LANG", "zh_CN")
    result = runner.invoke(main, ["import", "object-types", str(bad)])
    assert "第 3 行：name 为空。" in result.output
