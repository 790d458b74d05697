"""Property base data: the six imports, the forms, the caller lookup and the personal-information
rule (docs/property.md, docs/import-formats.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import Grant, Principal, system_principal
from operational.errors import FormRejected, NotFound, PermissionDenied
from operational.imports.property import import_property_file
from operational.imports.table import ImportRejected
from operational.models import (
    AuditEntry,
    CityCompany,
    Customer,
    FeeStandard,
    Group,
    House,
    Occupancy,
    Office,
    ParkingSpace,
    Role,
    ScopeLevel,
    Vehicle,
)
from operational.pii import mask_id_number, mask_phone
from operational.services.property import (
    customer_record,
    find_customers,
    office_fee_standards,
    save_customer,
    save_house,
)

CLI = system_principal("cli")
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ORDER = (
    "houses",
    "customers",
    "occupancies",
    "parking",
    "fee-standards",
    "vehicles",
    "pets",
    "furnishings",
    "decorations",
)


def person(role: Role, office: str = "SH001") -> Principal:
    return Principal(
        77,
        f"{role.value}-{office}",
        "测试",
        "zh_CN",
        (Grant(role, ScopeLevel.OFFICE, office, frozenset({office})),),
    )


@pytest.fixture
def offices(session: Session) -> dict[str, Office]:
    group = session.scalars(select(Group)).one()
    city = CityCompany(group_id=group.id, code="PRC", name="物业城市")
    session.add(city)
    session.flush()
    made = {}
    for code in ("SH001", "SH002"):
        existing = session.scalars(select(Office).where(Office.code == code)).one_or_none()
        made[code] = existing or Office(city_id=city.id, code=code, name=f"{code}管理处")
        session.add(made[code])
    session.flush()
    return made


def _examples(session: Session) -> None:
    for name in ORDER:
        import_property_file(session, name, EXAMPLES / f"{name}.csv", actor=CLI)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_files_import_and_import_again_unchanged(
    session: Session, offices: dict[str, Office]
) -> None:
    _examples(session)
    office = offices["SH001"].id
    assert (
        session.scalar(select(func.count()).select_from(House).where(House.office_id == office))
        == 4
    )
    house = session.scalars(select(House).where(House.room == "1201")).one()
    assert house.area == Decimal("89.50") and house.unit == "2" and house.floor == 12
    li = session.scalars(select(Customer).where(Customer.code == "C0002")).one()
    assert li.phone == "13900001111"  # stored without the dashes, so the lookup finds it
    stacked = session.scalars(select(ParkingSpace).where(ParkingSpace.space_no == "B1-024")).one()
    assert stacked.stacked is True
    fee = session.scalars(select(FeeStandard).where(FeeStandard.code == "MGMT")).one()
    assert fee.unit_price == Decimal("2.35") and fee.basis == "per_m2_month"
    assert session.scalars(select(Vehicle.plate).where(Vehicle.plate == "沪B6789C")).one()
    past = session.scalars(select(Occupancy).where(Occupancy.role == "tenant")).one()
    assert past.moved_out_on == date(2023, 12, 31)
    for name in ORDER:
        summary = import_property_file(session, name, EXAMPLES / f"{name}.csv", actor=CLI)
        assert (summary.created, summary.updated) == (0, 0), name


def test_a_bad_file_imports_nothing_and_names_every_bad_row(
    session: Session, offices: dict[str, Office], tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "office_code,building,unit,floor,room,area_m2,sale_status,rental_status\n"
        "SH001,1,,3,301,88,sold,vacant\n"
        "SH001,1-2,,3,302,0,sold,leased\n"
        "NOPE,1,,3,303,88,sold,vacant\n"
        "SH001,1,,x,301,88,sold,vacant\n",
    )
    with pytest.raises(ImportRejected) as refused:
        import_property_file(session, "houses", path, actor=CLI)
    rows = [(e.row, e.key) for e in refused.value.errors]
    assert rows == [
        (3, "property.bad_part"),
        (3, "property.area_not_positive"),
        (3, "property.bad_choice"),
        (4, "users.unknown_office"),
        (5, "import.bad_number"),
    ]
    assert "第 3 行" in "\n".join(refused.value.report("zh_CN"))
    assert session.scalar(select(func.count()).select_from(House)) == 0


def test_an_occupancy_needs_a_stored_house_and_customer_and_moves_out(
    session: Session, offices: dict[str, Office], tmp_path: Path
) -> None:
    _examples(session)
    header = "office_code,building,unit,room,customer_code,role,moved_in_on,moved_out_on\n"
    bad = _csv(
        tmp_path,
        header
        + "SH001,9,,901,C0001,owner,2020-01-01,\nSH001,3,2,1201,C9,owner,2020-01-01,2019-01-01\n",
    )
    with pytest.raises(ImportRejected) as refused:
        import_property_file(session, "occupancies", bad, actor=CLI)
    assert [e.key for e in refused.value.errors] == [
        "property.import.unknown_house",
        "property.import.out_before_in",
        "property.unknown_customer",
    ]
    out = _csv(tmp_path, header + "SH001,3,2,1201,C0001,owner,2020-05-01,2026-06-30\n")
    assert import_property_file(session, "occupancies", out, actor=CLI).updated == 1
    owner = session.scalars(
        select(Occupancy).join(Customer).where(Customer.code == "C0001", Occupancy.role == "owner")
    ).one()
    assert owner.moved_out_on == date(2026, 6, 30)


def test_an_xlsx_file_with_date_cells_imports(
    session: Session, offices: dict[str, Office], tmp_path: Path
) -> None:
    _examples(session)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["office_code", "building", "unit", "room", "customer_code", "role", "moved_in_on"]
    )
    sheet.append(["SH001", "3", "2", "1202", "C0004", "family", date(2022, 2, 2)])
    path = tmp_path / "occ.xlsx"
    book.save(path)
    assert import_property_file(session, "occupancies", path, actor=CLI).created == 1


def test_a_user_imports_only_their_offices_rows(
    session: Session, offices: dict[str, Office], tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "office_code,customer_code,name\nSH001,K1,甲\nSH002,K2,乙\n",
    )
    with pytest.raises(ImportRejected) as refused:
        import_property_file(session, "customers", path, actor=person(Role.CS_ASSISTANT))
    assert [(e.row, e.key) for e in refused.value.errors] == [
        (3, "selfservice.import.office_not_allowed")
    ]
    with pytest.raises(ImportRejected):
        import_property_file(session, "customers", path, actor=person(Role.TECHNICIAN))


def test_the_audit_log_keeps_no_phone_or_id_number(
    session: Session, offices: dict[str, Office]
) -> None:
    _examples(session)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "prop_customer")).all()
    assert len(entries) == 4
    text = repr([(e.before, e.after) for e in entries])
    assert "13812345678" not in text and "110101199001011234" not in text


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("110101199001011234") == "1101**********1234"
    assert mask_phone("") == "" and mask_phone("12345") == "***45"


def test_pii_is_whole_only_for_those_who_work_with_the_owner(
    session: Session, offices: dict[str, Office]
) -> None:
    _examples(session)
    for role in (Role.CS_ASSISTANT, Role.CALL_CENTRE_AGENT, Role.OFFICE_MANAGER):
        record = customer_record(session, person(role), "SH001", "C0001")
        assert (record.phone, record.id_number, record.masked) == (
            "13812345678",
            "110101199001011234",
            False,
        )
    for role in (Role.ENGINEERING_SUPERVISOR, Role.HQ_VIEWER, Role.RENOVATION_ADMIN):
        record = customer_record(session, person(role), "SH001", "C0001")
        assert (record.phone, record.id_number, record.masked) == (
            "138****5678",
            "1101**********1234",
            True,
        )
        (hit,) = find_customers(session, person(role), "13812345678")
        assert hit.phone == "138****5678"
    # a call-centre agent of another office sees SH001's customers not at all
    with pytest.raises(NotFound):
        customer_record(session, person(Role.CALL_CENTRE_AGENT, "SH002"), "SH001", "C0001")
    assert find_customers(session, person(Role.CALL_CENTRE_AGENT, "SH002"), "张伟") == []
    views = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "prop_customer", AuditEntry.action == "view")
    ).all()
    assert len(views) == 6 and {v.entity_key for v in views} == {"SH001:C0001"}


def test_the_customer_record_holds_houses_history_family_and_vehicles(
    session: Session, offices: dict[str, Office]
) -> None:
    _examples(session)
    record = customer_record(session, CLI, "SH001", "C0002")
    (house,) = record.houses
    assert house.name == "3-2-1202"
    assert [(o.customer_code, o.role, o.moved_out_on) for o in house.occupants] == [
        ("C0003", "tenant", date(2023, 12, 31)),
        ("C0002", "owner", None),
    ]
    assert record.vehicles == (("沪B6789C", ""),)
    assert customer_record(session, CLI, "SH001", "C0003").pets == (("猫", "咪咪", ""),)
    assert house.decorations == ((date(2026, 10, 8), None, "", "阳台封窗"),)
    owner = customer_record(session, CLI, "SH001", "C0001")
    assert [f.customer_code for f in owner.family] == ["C0004"]
    assert owner.furnishings == (
        ("空调", "格力", "开发商赠送，保修至 2026-05"),
        ("热水器", "A.O.史密斯", ""),
    )


def test_one_field_finds_by_phone_house_or_name(
    session: Session, offices: dict[str, Office]
) -> None:
    _examples(session)
    assert [h.code for h in find_customers(session, CLI, "139-0000-1111")] == ["C0002"]
    assert {h.code for h in find_customers(session, CLI, "3-2-1201")} == {"C0001", "C0004"}
    assert [h.code for h in find_customers(session, CLI, "王")] == ["C0003"]
    assert [h.code for h in find_customers(session, CLI, "A座-501")] == []
    assert find_customers(session, CLI, "张伟")[0].houses == ("3-2-1201",)
    assert find_customers(session, CLI, "%") == []


def test_the_phone_lookup_is_fast_among_thousands(
    session: Session, offices: dict[str, Office]
) -> None:
    office = offices["SH001"].id
    session.add_all(
        Customer(office_id=office, code=f"N{i:05d}", name=f"客户{i}", phone=f"1380000{i:04d}")
        for i in range(5000)
    )
    session.flush()
    started = time.perf_counter()
    for i in range(0, 5000, 250):
        (hit,) = find_customers(session, CLI, f"1380000{i:04d}")
        assert hit.code == f"N{i:05d}"
    assert (time.perf_counter() - started) / 20 < 0.1


def test_the_forms_list_every_problem_and_save(
    session: Session, offices: dict[str, Office]
) -> None:
    cs = person(Role.CS_ASSISTANT)
    with pytest.raises(FormRejected) as refused:
        save_house(
            session,
            cs,
            "SH001",
            building="",
            unit="1-2",
            floor="x",
            room="101",
            area="-3",
            sale_status="sold",
            rental_status="bad",
        )
    assert refused.value.fields() == ["building", "unit", "floor", "area", "rental_status"]
    assert "楼栋" in refused.value.message("zh_CN")
    name = save_house(
        session,
        cs,
        "SH001",
        building="5",
        unit="",
        floor="2",
        room="201",
        area="77.7",
        sale_status="sold",
        rental_status="self_use",
    )
    assert name == "5-201"
    with pytest.raises(FormRejected) as refused:
        save_customer(session, cs, "SH001", code="", name="", phone="12a", id_number="!")
    assert refused.value.fields() == ["code", "name", "phone", "id_number"]
    save_customer(session, cs, "SH001", code="F1", name="钱七", phone="137 0000 0000", id_number="")
    assert find_customers(session, cs, "13700000000")[0].name == "钱七"
    with pytest.raises(PermissionDenied):
        save_customer(
            session,
            person(Role.CS_ASSISTANT, "SH002"),
            "SH001",
            code="F2",
            name="x",
            phone="",
            id_number="",
        )


def test_fee_standards_answer_the_call_centre(session: Session, offices: dict[str, Office]) -> None:
    _examples(session)
    fees = office_fee_standards(session, person(Role.CALL_CENTRE_AGENT), "SH001")
    assert [(f.code, f.unit_price) for f in fees] == [
        ("FUND", Decimal("80")),
        ("MGMT", Decimal("2.35")),
        ("PARK", Decimal("300")),
    ]
