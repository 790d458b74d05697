"""The services behind the objects and meters pages, on SQLite and PostgreSQL.

An office manager of EC01 adds and changes objects, points, meters and buildings: every problem
of a form at once and nothing written, another office's records are not found, a form drawn
before someone else's change is refused, the audit log names the user, label sheets hold the
records chosen; the imports a page runs as the user refuse another office's rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import labels
from operational.auth import Grant, Principal, system_principal
from operational.errors import FormRejected, NotFound, PermissionDenied, StaleVersion
from operational.imports.energy import import_meter_rows, import_reading_columns
from operational.imports.objects import import_object_rows
from operational.imports.org import import_org_rows
from operational.imports.table import ImportRejected
from operational.imports.work_orders import import_work_order_rows
from operational.models import (
    AttributeKind,
    AuditEntry,
    Building,
    Discipline,
    MaintObject,
    MeterPoint,
    Role,
    ScopeLevel,
)
from operational.services.energy import (
    MeterEntry,
    PointEntry,
    add_meter,
    add_point,
    create_point,
    install_meter,
    list_buildings,
    meter_labels_pdf,
    point_meters,
    point_status,
    save_building,
    update_point,
)
from operational.services.objects import (
    AttributeSpec,
    ObjectEntry,
    add_object_type,
    list_objects,
    object_for_edit,
    object_labels_pdf,
    save_object,
)

CLI = system_principal("cli")
MANAGER = Principal(
    41,
    "ec.manager",
    "经理",
    "zh_CN",
    (Grant(Role.OFFICE_MANAGER, ScopeLevel.OFFICE, "EC01", frozenset({"EC01"})),),
)
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
INSTALLED = datetime(2026, 6, 1, 9, 0)  # office-local


@pytest.fixture
def site(session: Session) -> Session:
    from operational.models import Group

    group = session.scalars(select(Group)).one()
    import_org_rows(
        session,
        [
            (
                n,
                {
                    "city_code": "EC",
                    "city_name": "测试城市",
                    "office_code": code,
                    "office_name": name,
                    "timezone": "Asia/Shanghai",
                },
            )
            for n, code, name in ((2, "EC01", "测试管理处"), (3, "EC02", "另一管理处"))
        ],
        group=group,
        actor=system_principal("test"),
    )
    add_object_type(
        session,
        CLI,
        code="lift",
        name="电梯",
        discipline=Discipline.ENGINEERING,
        attributes=[
            AttributeSpec("load", "额定载重", AttributeKind.NUMBER, "kg", required=True),
            AttributeSpec("since", "投用日期", AttributeKind.DATE),
        ],
    )
    for office in ("EC01", "EC02"):
        save_object(
            session,
            CLI,
            ObjectEntry(office, "L-1", f"{office} 1号梯", "lift", "1号楼", {"load": "1000"}),
            create=True,
        )
        add_point(
            session, CLI, office_code=office, code=f"{office}-E", name="总表", kind="electricity"
        )
        add_meter(
            session,
            CLI,
            point_code=f"{office}-E",
            installed_at=INSTALLED,
            initial_reading=0,
            digits=6,
            now=NOW,
        )
    session.flush()
    return session


def keys(error: FormRejected) -> list[str]:
    return [p.key for p in error.problems]


# ---------------------------------------------------------------- objects


def test_a_new_object_refused_for_every_problem_at_once(site: Session) -> None:
    with pytest.raises(FormRejected) as refused:
        save_object(
            site,
            MANAGER,
            ObjectEntry("EC01", "L 2", "", "lift", "x" * 201, {"since": "yesterday"}),
            create=True,
        )
    assert sorted(keys(refused.value)) == sorted(
        [
            "selfservice.form.required",  # the name
            "selfservice.form.bad_code",
            "entry.text.too_long",  # the location
            "objects.bad_attribute",  # since
            "objects.required_attribute",  # load
        ]
    )
    assert site.scalars(select(MaintObject).where(MaintObject.code == "L 2")).first() is None


def test_objects_are_added_and_changed_only_in_the_users_offices(site: Session) -> None:
    entry = ObjectEntry("EC01", "L-2", "2号梯", "lift", "2号楼", {"load": "1350"})
    assert save_object(site, MANAGER, entry, create=True) == "created"
    with pytest.raises(FormRejected) as twice:
        save_object(site, MANAGER, entry, create=True)
    assert keys(twice.value) == ["objects.object_exists"]
    with pytest.raises(NotFound):
        save_object(
            site, MANAGER, ObjectEntry("EC02", "L-9", "x", "lift", "", {"load": "1"}), create=True
        )
    drawn = object_for_edit(site, MANAGER, "EC01", "L-2")
    changed = ObjectEntry("EC01", "L-2", "2号客梯", "lift", "", {"load": "1350"})
    assert save_object(site, MANAGER, changed, create=False, drawn=drawn) == "updated"
    assert save_object(site, MANAGER, changed, create=False) == "unchanged"
    with pytest.raises(StaleVersion):  # the form showed the object before that change
        save_object(site, MANAGER, entry, create=False, drawn=drawn)
    stored = object_for_edit(site, MANAGER, "EC01", "L-2")
    assert (stored.name, stored.location) == ("2号客梯", "")  # a blank field clears in a form
    with pytest.raises(NotFound):
        object_for_edit(site, MANAGER, "EC02", "L-1")
    actors = site.scalars(select(AuditEntry.actor).where(AuditEntry.entity_key == "EC01:L-2")).all()
    assert actors == ["ec.manager", "ec.manager"]


def test_the_list_is_filtered_and_paged(site: Session) -> None:
    for n in range(2, 6):
        save_object(
            site,
            MANAGER,
            ObjectEntry(
                "EC01", f"L-{n}", f"{n}号梯", "lift", "北楼" if n % 2 else "南楼", {"load": "1"}
            ),
            create=True,
        )
    page = list_objects(site, MANAGER, "EC01", limit=2, offset=2)
    assert page.total == 5 and [r.code for r in page.rows] == ["L-3", "L-4"]
    assert [r.code for r in list_objects(site, MANAGER, "EC01", text="北楼").rows] == ["L-3", "L-5"]
    with pytest.raises(NotFound):
        list_objects(site, MANAGER, "EC02")


def test_label_sheets_hold_the_chosen_records(
    site: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed: list[list[str]] = []

    def record(sheet: Any, **kwargs: Any) -> bytes:
        printed.append([label.code for label in sheet])
        return b"%PDF"

    monkeypatch.setattr(labels, "label_sheet_pdf", record)
    save_object(
        site, MANAGER, ObjectEntry("EC01", "L-2", "2号梯", "lift", "", {"load": "1"}), create=True
    )
    object_labels_pdf(site, MANAGER, "EC01", "http://x", "zh_CN", codes=["L-2"])
    add_point(site, CLI, office_code="EC01", code="EC01-W", name="水表", kind="water")
    meter_labels_pdf(site, MANAGER, "EC01", "http://x", "zh_CN", codes=["EC01-W", "EC02-E"])
    assert printed == [["L-2"], ["EC01-W"]]


def test_the_objects_import_as_a_user_refuses_other_offices_rows(site: Session) -> None:
    row = {
        "office_code": "EC02",
        "object_code": "L-7",
        "name": "7号梯",
        "type_code": "lift",
        "location": "",
        "attr:load": "800",
    }
    with pytest.raises(ImportRejected) as refused:
        import_object_rows(site, [(2, row)], actor=MANAGER)
    assert [(e.row, e.key) for e in refused.value.errors] == [
        (2, "selfservice.import.office_not_allowed")
    ]
    assert (
        import_object_rows(site, [(2, row | {"office_code": "EC01"})], actor=MANAGER).created == 1
    )


# ---------------------------------------------------------------- points, meters, buildings


def meter(**changes: Any) -> MeterEntry:
    values: dict[str, Any] = {
        "installed_at": INSTALLED,
        "initial_reading": "10",
        "serial": "S-1",
        "multiplier": "1",
        "digits": "6",
    }
    return MeterEntry(**(values | changes))


def test_a_new_point_refused_for_every_problem_at_once(site: Session) -> None:
    with pytest.raises(FormRejected) as refused:
        create_point(
            site,
            MANAGER,
            PointEntry("EC01", "EC01-E", "", "gas", "EC02-E", "b" * 101),
            meter(initial_reading="1e400", multiplier="0", digits="13", installed_at=None),
            now=NOW,
        )
    assert sorted(keys(refused.value)) == sorted(
        [
            "selfservice.form.required",  # name
            "energy.bad_kind",
            "entry.text.too_long",  # building
            "selfservice.meters.point_exists",
            "energy.unknown_parent",  # another office's point is unknown
            "energy.meter.bad_multiplier",
            "energy.meter.bad_digits",
            "entry.number.too_large",
            "selfservice.form.required",  # installed_at
        ]
    )
    assert site.scalars(select(Building).where(Building.name == "b" * 101)).first() is None


def test_a_point_with_its_meter_then_changed(site: Session) -> None:
    create_point(
        site,
        MANAGER,
        PointEntry("EC01", "EC01-E-B1", "1号楼", "electricity", "EC01-E", "1号楼"),
        meter(),
        now=NOW,
    )
    [installed] = point_meters(site, MANAGER, "EC01-E-B1")
    assert (installed.serial, installed.initial_reading, installed.digits) == (
        "S-1",
        Decimal(10),
        6,
    )
    drawn = point_status(site, MANAGER, "EC01-E-B1")
    with pytest.raises(FormRejected) as loop:
        update_point(site, MANAGER, "EC01-E", name="总表", parent_code="EC01-E-B1")
    assert keys(loop.value) == ["selfservice.meters.parent_cycle"]
    assert (
        update_point(site, MANAGER, "EC01-E-B1", name="一号楼", building="2号楼", drawn=drawn)
        == "updated"
    )
    with pytest.raises(StaleVersion):
        update_point(site, MANAGER, "EC01-E-B1", name="1号楼", drawn=drawn)
    status = point_status(site, MANAGER, "EC01-E-B1")
    assert (status.name, status.parent_code, status.building) == ("一号楼", None, "2号楼")
    with pytest.raises(NotFound):
        update_point(site, MANAGER, "EC02-E", name="x")
    with pytest.raises(NotFound):
        point_meters(site, MANAGER, "EC02-E")


def test_a_meter_installed_where_none_is(site: Session) -> None:
    add_point(site, CLI, office_code="EC01", code="EC01-W", name="水表", kind="water")
    with pytest.raises(FormRejected) as refused:
        install_meter(site, MANAGER, "EC01-W", meter(initial_reading="", multiplier="x"), now=NOW)
    assert sorted(keys(refused.value)) == [
        "energy.meter.bad_multiplier",
        "selfservice.form.required",
    ]
    install_meter(site, MANAGER, "EC01-W", meter(), now=NOW)
    assert len(point_meters(site, MANAGER, "EC01-W")) == 1


def test_buildings_and_their_area(site: Session) -> None:
    with pytest.raises(FormRejected) as refused:
        save_building(site, MANAGER, "EC01", " ", "-3")
    assert sorted(keys(refused.value)) == ["energy.building.bad_area", "selfservice.form.required"]
    save_building(site, MANAGER, "EC01", "1号楼", "12000.5")
    [view] = list_buildings(site, MANAGER, "EC01")
    assert (view.name, view.area_m2, view.points) == ("1号楼", Decimal("12000.5"), 0)
    with pytest.raises(NotFound):
        list_buildings(site, MANAGER, "EC02")


def test_energy_imports_as_a_user_keep_to_the_users_offices(site: Session, tmp_path: Path) -> None:
    row = {
        "office_code": "EC02",
        "point_code": "EC02-E-2",
        "name": "x",
        "kind": "electricity",
        "installed_at": "2026-06-01 09:00",
        "initial_reading": "0",
        "parent_point_code": "",
        "building": "",
        "serial": "",
        "multiplier": "",
        "digits": "",
    }
    with pytest.raises(ImportRejected) as meters:
        import_meter_rows(site, [(2, row)], actor=MANAGER, now=NOW)
    assert [e.key for e in meters.value.errors] == ["selfservice.import.office_not_allowed"]
    with pytest.raises(ImportRejected) as readings:
        import_reading_columns(
            site,
            [2, 3],
            {
                "point_code": ["EC01-E", "EC02-E"],
                "read_at": ["2026-06-02 09:00"] * 2,
                "reading": ["5", "5"],
                "source": ["", ""],
            },
            actor=MANAGER,
            now=NOW,
        )
    assert [(e.row, e.key) for e in readings.value.errors] == [(3, "energy.unknown_point")]
    assert site.scalars(select(MeterPoint).where(MeterPoint.code == "EC02-E-2")).first() is None


def test_org_and_work_order_imports_as_a_user(site: Session) -> None:
    from operational.models import Group

    group = site.scalars(select(Group)).one()
    office = {
        "city_code": "EC",
        "city_name": "测试城市",
        "office_code": "EC03",
        "office_name": "新管理处",
        "timezone": "Asia/Shanghai",
    }
    with pytest.raises(PermissionDenied):  # the group's set-up: group administrators only
        import_org_rows(site, [(2, office)], group=group, actor=MANAGER)
    order = {
        "order_no": "OLD-1",
        "office_code": "EC02",
        "discipline": "engineering",
        "kind": "corrective",
        "created_at": "2026-03-01 08:30",
        "assigned_at": "",
        "completed_at": "",
        "verified_at": "",
        "object_code": "",
    }
    with pytest.raises(ImportRejected) as refused:
        import_work_order_rows(
            site,
            [(2, order), (3, order | {"order_no": "OLD-2", "office_code": "EC01"})],
            actor=MANAGER,
            now=NOW,
        )
    assert [(e.row, e.key) for e in refused.value.errors] == [
        (2, "selfservice.import.office_not_allowed")
    ]
