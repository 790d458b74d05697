"""The bad-input corpus: one fixture file per case and import (tests/fixtures/bad_input/<import>/),
each refused naming its row and column, with nothing written — never a crash, never a value
stored that stops the warehouse build (an infinite reading, an order dated 1900), never a file
read otherwise than it says (a cell split at a comma, Big5 read as GBK, a formula read as blank).
A case without a row is a refusal of the whole file (its header, its encoding)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.errors import DomainError
from operational.imports.calendars import import_calendar_days_file
from operational.imports.energy import (
    import_meters_file,
    import_readings_file,
    import_replacements_file,
)
from operational.imports.object_types import import_object_types_file
from operational.imports.objects import import_objects_file
from operational.imports.org import import_org_file, import_org_rows
from operational.imports.table import ImportRejected, ImportSummary
from operational.imports.work_orders import import_work_orders_file
from operational.models import (
    AttributeKind,
    AuditEntry,
    Discipline,
    Group,
    MaintObject,
    Meter,
    MeterPoint,
    ObjectType,
    Office,
    OfficeCalendarDay,
    Reading,
    WorkflowEvent,
)
from operational.services import objects
from operational.services.objects import AttributeSpec

CLI = system_principal("cli")

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input"
ENERGY_NOW = datetime(2026, 7, 1, tzinfo=UTC)
ORDERS_NOW = datetime(2026, 3, 1, tzinfo=UTC)

METERS = """office_code,point_code,name,kind,parent_point_code,building,serial,multiplier,digits,installed_at,initial_reading
IM01,IM01-E-B1,1号楼总电表,electricity,IM01-E-MAIN,1号楼,S1,40,5,2026-06-01 00:00,99990.5
IM01,IM01-E-MAIN,小区总电表,electricity,,,S0,200,,2026-06-01 00:00,100
IM01,IM01-W-MAIN,小区总水表,water,,,,,,2026-06-01T00:00:00+08:00,50
"""


def _org(session: Session, office: str) -> None:
    import_org_rows(
        session,
        [
            (
                2,
                {
                    "city_code": "BI",
                    "city_name": "坏输入城",
                    "office_code": office,
                    "office_name": "坏输入管理处",
                    "timezone": "Asia/Shanghai",
                },
            )
        ],
        group=session.scalars(select(Group)).one(),
        actor=system_principal("test"),
    )


def _energy(session: Session, tmp_path: Path, *, meters: bool = True) -> None:
    _org(session, "IM01")
    if meters:
        path = tmp_path / "meters.csv"
        path.write_text(METERS, encoding="utf-8")
        assert (
            import_meters_file(session, path, actor=system_principal("t"), now=ENERGY_NOW).created
            == 3
        )


def _objects(session: Session) -> None:
    _org(session, "OF1")
    objects.add_object_type(
        session,
        CLI,
        code="BI-ELEV",
        name="电梯",
        discipline=Discipline.ENGINEERING,
        attributes=[AttributeSpec("rated_load", "额定载重", AttributeKind.NUMBER, "kg")],
        checklist=["运行平稳"],
    )


Run = Callable[[Session, Path], ImportSummary]


def _setup_and_run(name: str, session: Session, tmp_path: Path) -> tuple[Run, list[Any]]:
    """Prepare the database for import ``name``; its runner and the tables it writes."""
    if name == "readings":
        _energy(session, tmp_path)
        return (
            lambda s, f: import_readings_file(s, f, actor=system_principal("t"), now=ENERGY_NOW),
            [Reading],
        )
    if name == "meters":
        _energy(session, tmp_path, meters=False)
        return (
            lambda s, f: import_meters_file(s, f, actor=system_principal("t"), now=ENERGY_NOW),
            [MeterPoint],
        )
    if name == "replacements":
        _energy(session, tmp_path)
        return (
            lambda s, f: import_replacements_file(
                s, f, actor=system_principal("t"), now=ENERGY_NOW
            ),
            [Meter],
        )
    if name == "work_orders":
        _objects(session)
        return (
            lambda s, f: import_work_orders_file(s, f, actor=system_principal("t"), now=ORDERS_NOW),
            [WorkflowEvent],
        )
    if name == "org":
        group = session.scalars(select(Group)).one()
        return (
            lambda s, f: import_org_file(s, f, group=group, actor=system_principal("t")),
            [Office],
        )
    if name == "calendar_days":
        _org(session, "OF1")
        return (lambda s, f: import_calendar_days_file(s, f, actor=CLI), [OfficeCalendarDay])
    if name == "object_types":
        return (lambda s, f: import_object_types_file(s, f, actor=CLI), [ObjectType])
    assert name == "objects"
    _objects(session)
    return (lambda s, f: import_objects_file(s, f, actor=system_principal("t")), [MaintObject])


def _cases() -> list[Any]:
    cases = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        expected = tomllib.loads((folder / "cases.toml").read_text(encoding="utf-8"))
        files = sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".xlsx"))
        assert files == sorted(expected), f"{folder.name}: every case file needs its expectation"
        cases.extend(
            pytest.param(folder.name, f, expected[f], id=f"{folder.name}/{f}") for f in files
        )
    return cases


def _counts(session: Session, models: list[Any]) -> list[int]:
    return [session.scalar(select(func.count()).select_from(m)) or 0 for m in [*models, AuditEntry]]


@pytest.mark.parametrize(("name", "case", "expected"), _cases())
def test_every_bad_input_is_refused_naming_row_and_column_and_nothing_is_written(
    session: Session, tmp_path: Path, name: str, case: str, expected: dict[str, Any]
) -> None:
    run, written = _setup_and_run(name, session, tmp_path)
    before = _counts(session, written)
    with pytest.raises(DomainError) as refused:
        run(session, CORPUS / name / case)
    error = refused.value
    if "row" in expected:
        assert isinstance(error, ImportRejected), error
        errors = error.errors
        assert [(e.row, e.key) for e in errors] == [(expected["row"], expected["key"])]
        for language in ("en", "zh_CN"):
            message = errors[0].message(language)
            assert str(expected["row"]) in message
            assert expected["column"] in message, message
        assert len(errors[0].message("en")) < 400  # a short quote of the value, not all of it
        assert expected.get("params", {}).items() <= errors[0].params.items()
    else:  # the whole file: its header, its encoding
        assert not isinstance(error, ImportRejected), error.report("en")
        assert error.key == expected["key"]
        for language in ("en", "zh_CN"):
            assert expected["column"] in error.message(language), error.message(language)
    assert _counts(session, written) == before
