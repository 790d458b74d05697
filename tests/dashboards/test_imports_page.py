"""The imports page: every import a user may run, uploaded, previewed, committed, with templates.

The registry's columns are the ones docs/import-formats.md documents (and the ones each import
reads); the page offers each user the imports they may run; a template holds exactly the
documented header and an example row; an upload is previewed with the encoding read before it
is imported; a bad file's rows are reported by number with the reason; a good one is imported
as the user, with progress reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
import streamlit.testing.v1.app_test as app_test
from sqlalchemy import select
from streamlit.runtime.media_file_manager import MediaFileManager

from dashboards.imports_registry import IMPORTS, template_bytes
from operational.auth import IMPORT_PERMISSIONS
from operational.db import unit_of_work
from operational.imports.objects import attribute_columns
from operational.models import MeterPoint, Reading

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]

PAGE = "views/imports.py"
DOC = Path(__file__).resolve().parents[2] / "docs" / "import-formats.md"


def documented_columns() -> dict[str, list[str]]:
    """Each ``propcloud import NAME`` section's columns, in the order of its table."""
    found: dict[str, list[str]] = {}
    name: str | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## `propcloud import ([a-z-]+) FILE`", line)
        if heading:
            name = heading.group(1)
            found[name] = []
        elif line.startswith("## "):
            name = None
        elif name and line.startswith("| `"):
            found[name].append(line.split("`")[1])
    return found


def test_every_import_of_the_registry_opens_the_page_for_who_may_run_it() -> None:
    assert {spec.permission for spec in IMPORTS} <= IMPORT_PERMISSIONS


def test_the_registry_holds_every_documented_import_and_its_columns() -> None:
    documented = documented_columns()
    assert {s.name for s in IMPORTS} == set(documented)
    for spec in IMPORTS:
        columns = list(spec.columns) + (["attr:<code>"] if spec.attributes else [])
        assert columns == documented[spec.name], spec.name
        assert set(spec.required) <= set(spec.columns)
        assert len(spec.example) == len(spec.columns)


def open_page(dashboard: MakeDashboard, username: str) -> Dashboard:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    dash.app.switch_page(PAGE).run()
    assert not dash.app.exception, dash.app.exception
    return dash


@pytest.mark.parametrize(
    ("username", "offered"),
    [
        (
            "manager",
            [
                "objects",
                "meters",
                "readings",
                "replacements",
                "working-hours",
                "calendar-days",
                "work-orders",
                "tickets",
                "houses",
                "customers",
                "occupancies",
                "parking",
                "fee-standards",
                "vehicles",
                "pets",
                "furnishings",
                "decorations",
            ],
        ),
        (
            "admin",
            [
                "meters",
                "readings",
                "replacements",
                "object-types",
                "working-hours",
                "calendar-days",
                "org",
            ],
        ),
        ("sh001.tech1", ["readings"]),
    ],
)
def test_each_user_is_offered_the_imports_they_may_run(
    dashboard: MakeDashboard, username: str, offered: list[str]
) -> None:
    app = open_page(dashboard, username).app
    assert app.title[0].value == "数据导入"
    assert [o.rsplit("(", 1)[1].rstrip(")") for o in app.selectbox(key="imp_kind").options] == (
        offered
    )


def _header(data: bytes) -> tuple[list[str], list[str]]:
    sheet = openpyxl.load_workbook(BytesIO(data)).active
    assert sheet is not None
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    return [str(c) for c in rows[0]], [str(c) for c in rows[1]]


@pytest.mark.parametrize("spec", IMPORTS, ids=lambda s: s.name)
def test_a_template_has_exactly_the_documented_header_and_an_example(
    dashboard: MakeDashboard, spec: object
) -> None:
    from dashboards.imports_registry import ImportSpec

    assert isinstance(spec, ImportSpec)
    documented = documented_columns()[spec.name]
    dash = dashboard()
    with unit_of_work(dash.engine) as db:
        attributes = list(attribute_columns(db))
        columns = spec.all_columns(db)
    expected = [c for c in documented if c != "attr:<code>"]
    expected += attributes if "attr:<code>" in documented else []
    header, example = _header(template_bytes(columns, spec.example_row("SH001"), spec.name))
    assert header == expected
    assert all(example[header.index(c)] for c in spec.required)  # every required cell filled


def test_the_page_hands_over_the_template(
    dashboard: MakeDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    app = open_page(dashboard, "manager").app
    app.selectbox(key="imp_kind").set_value("meters").run()
    [button] = [b for b in app.get("download_button") if "imp_meters_template" in b.proto.id]
    assert button.proto.label == "下载 Excel 模板（表头 + 示例行）"
    stored = managers[-1]._storage.get_file(button.proto.url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    header, example = _header(bytes(stored.content))
    assert header == documented_columns()["meters"]
    assert example[:2] == ["SH001", "SH001-E-B9"]  # the user's office


def test_preview_then_a_bad_file_then_a_good_one(dashboard: MakeDashboard) -> None:
    dash = open_page(dashboard, "manager")
    app = dash.app
    app.selectbox(key="imp_kind").set_value("readings").run()
    bad = (
        "point_code,read_at,reading,source\n"
        "SH001-W-MAIN,2026-11-20 09:00,不是数字,import\n"
        "NOPE-1,2026-11-20 09:00,5,import\n"
    ).encode("gb18030")
    app.file_uploader(key="imp_readings_file_0").set_value(("r.csv", bad, "text/csv"))
    app.run()
    assert "文件按 GBK/GB18030 编码读取。" in [c.value for c in app.caption]
    assert "以上是文件的全部 2 行。" in [c.value for c in app.caption]
    preview = app.dataframe[-1].value
    assert list(preview["行号"]) == [2, 3] and list(preview["reading"]) == ["不是数字", "5"]
    app.button(key="imp_readings_commit").click().run()
    assert not app.exception
    assert app.error[-1].value == "未导入任何数据：发现 2 个问题。请修正后重新导入该文件。"
    [bar] = app.get("progress")  # the import's stages, the last one where it stopped
    assert bar.proto.text == "按计量点核对读数"
    report = app.dataframe[-1].value
    assert list(report["行号"]) == [2, 3]
    assert report["列"][0] == "reading"
    assert "NOPE-1" in report["问题"][1]
    with unit_of_work(dash.engine) as db:
        before = db.scalar(select(Reading.id).order_by(Reading.id.desc()).limit(1))
    good = b"point_code,read_at,reading\nSH001-W-MAIN,2026-11-20 20:00,999999\n"
    app.file_uploader(key="imp_readings_file_0").set_value(("r2.csv", good, "text/csv"))
    app.run()
    assert not app.error  # the old report belongs to the other file
    app.button(key="imp_readings_commit").click().run()
    assert not app.exception
    assert [s.value for s in app.success] != []
    with unit_of_work(dash.engine) as db:
        latest = db.execute(
            select(Reading.id, Reading.entered_by, MeterPoint.code)
            .join(MeterPoint, MeterPoint.id == Reading.point_id)
            .order_by(Reading.id.desc())
            .limit(1)
        ).one()
    assert latest.id != before and (latest.entered_by, latest.code) == ("manager", "SH001-W-MAIN")


def test_an_unreadable_file_is_refused_before_anything(dashboard: MakeDashboard) -> None:
    app = open_page(dashboard, "manager").app
    app.selectbox(key="imp_kind").set_value("objects").run()
    header = b"office_code,object_code,nam,type_code\nSH001,X-1,x,elevator\n"
    app.file_uploader(key="imp_objects_file_0").set_value(("o.csv", header, "text/csv"))
    app.run()
    assert app.error and "nam" in app.error[-1].value
    assert "imp_objects_commit" not in [b.key for b in app.button]


def test_every_template_imports_as_it_is(dashboard: MakeDashboard, tmp_path: Path) -> None:
    """The example rows are good rows: each template, imported unchanged by a user who may run
    it, is accepted (the energy ones in order: a point, its reading, its replacement)."""
    from operational.auth import load_principal
    from operational.models import User
    from operational.progress import NO_PROGRESS

    dash = dashboard()
    for spec in IMPORTS:
        with unit_of_work(dash.engine) as db:
            username = "admin" if spec.name in ("object-types", "org") else "manager"
            user_id = db.scalars(select(User.id).where(User.username == username)).one()
            user = load_principal(db, user_id)
            path = tmp_path / f"{spec.name}.xlsx"
            path.write_bytes(template_bytes(spec.all_columns(db), spec.example_row("SH001"), "t"))
            summary = spec.run(db, path, user, None, NO_PROGRESS)
        assert summary.created + summary.updated + summary.unchanged >= 1, spec.name
