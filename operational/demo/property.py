"""Demo property base data: houses, owners with family, tenants past and present, vehicles,
pets, furniture and appliances, decoration records, parking spaces and fee standards for
every demo office (docs/property.md).

Loaded through the property imports (the same checks, audited as ``demo``), with draws of its
own so the steps before it stay as they were; a second run finds every row unchanged. Every
office has customer ``C00001``, the owner of its first house.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.imports.property import (
    import_customer_rows,
    import_decoration_rows,
    import_fee_standard_rows,
    import_furnishing_rows,
    import_house_rows,
    import_occupancy_rows,
    import_parking_rows,
    import_pet_rows,
    import_vehicle_rows,
)
from operational.imports.table import Row
from operational.models import Office
from operational.models.property import Customer
from operational.progress import stage

if TYPE_CHECKING:
    from operational.demo import DemoOptions

BUILDINGS, UNITS, FLOORS, ROOMS = 2, 2, 6, 2
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "军",
    "涛",
    "明",
    "超",
    "霞",
    "平",
]
PLATE_PREFIX = {"SH": "沪A", "BJ": "京B", "GZ": "粤A", "SZ": "粤B", "HZ": "浙A", "CD": "川A"}
FEES = (
    ("MGMT", "物业管理费", "2.80", "per_m2_month"),
    ("FUND", "维修基金", "80", "per_m2_once"),
    ("PARK", "停车费", "300", "per_space_month"),
    ("WATER", "二次供水费", "0.35", "per_m2_month"),
)
APPLIANCES = (("空调", "格力"), ("空调", "美的"), ("热水器", "海尔"), ("冰箱", "西门子"))
CONTRACTORS = ("城建装饰", "东易日盛", "业之峰装饰")
WORKS = ("全屋装修", "更换厨卫", "阳台封窗", "墙面翻新")
DEMO = system_principal("demo")


def property_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    rng = random.Random(options.seed * 7919 + 18)  # its own draws: other steps stay as they were
    offices = list(session.scalars(select(Office).order_by(Office.code)))
    stored = set(session.scalars(select(Customer.office_id).distinct()))
    todo = [o for o in offices if o.id not in stored]
    if not todo:
        return
    with stage(options.progress, "ops.progress.demo.property"):
        _load(session, rng, todo)


def _row(rows: list[Row], **values: str) -> None:
    rows.append((len(rows) + 2, values))


def _load(session: Session, rng: random.Random, offices: list[Office]) -> None:
    houses: list[Row] = []
    customers: list[Row] = []
    occupancies: list[Row] = []
    parking: list[Row] = []
    fees: list[Row] = []
    vehicles: list[Row] = []
    pets: list[Row] = []
    furnishings: list[Row] = []
    decorations: list[Row] = []
    for office in offices:
        number = 0

        def customer(name: str, with_id: bool = True, office_code: str = office.code) -> str:
            nonlocal number
            number += 1
            code = f"C{number:05d}"
            phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            birth = (
                f"{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
            )
            id_number = f"{rng.randrange(110000, 659999)}{birth}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
            _row(
                customers,
                office_code=office_code,
                customer_code=code,
                name=name,
                phone=phone,
                id_number=id_number if with_id else "",
            )
            return code

        for b in range(1, BUILDINGS + 1):
            for u in range(1, UNITS + 1):
                for f in range(1, FLOORS + 1):
                    for r in range(1, ROOMS + 1):
                        room = f"{f}{r:02d}"
                        sold = number == 0 or rng.random() < 0.9
                        rented = sold and rng.random() < 0.15
                        _row(
                            houses,
                            office_code=office.code,
                            building=str(b),
                            unit=str(u),
                            floor=str(f),
                            room=room,
                            area_m2=f"{rng.choice((68, 89, 96, 118, 135))}.{rng.randrange(100):02d}",
                            sale_status="sold" if sold else "unsold",
                            rental_status="rented" if rented else "self_use" if sold else "vacant",
                        )
                        if not sold:
                            continue
                        surname = rng.choice(SURNAMES)
                        owner = customer(surname + rng.choice(GIVEN))
                        since = f"{rng.randrange(2008, 2024)}-{rng.randrange(1, 13):02d}-01"
                        place = {
                            "office_code": office.code,
                            "building": str(b),
                            "unit": str(u),
                            "room": room,
                        }
                        _row(
                            occupancies,
                            **place,
                            customer_code=owner,
                            role="owner",
                            moved_in_on=since,
                            moved_out_on="",
                        )
                        if not rented and rng.random() < 0.6:
                            family = customer(surname + rng.choice(GIVEN), with_id=False)
                            _row(
                                occupancies,
                                **place,
                                customer_code=family,
                                role="family",
                                moved_in_on=since,
                                moved_out_on="",
                            )
                        if rented:
                            for start, end in (("2022-03-01", "2024-02-29"), ("2024-04-01", "")):
                                tenant = customer(rng.choice(SURNAMES) + rng.choice(GIVEN))
                                _row(
                                    occupancies,
                                    **place,
                                    customer_code=tenant,
                                    role="tenant",
                                    moved_in_on=start,
                                    moved_out_on=end,
                                )
                        if rng.random() < 0.4:
                            prefix = PLATE_PREFIX.get(office.code[:2], "沪A")
                            plate = f"{prefix}{rng.randrange(10000, 99999)}"
                            _row(
                                vehicles,
                                office_code=office.code,
                                customer_code=owner,
                                plate=plate,
                                licence_no=f"{rng.randrange(10**11, 10**12)}",
                            )
                        if rng.random() < 0.3:
                            item, brand = rng.choice(APPLIANCES)
                            _row(
                                furnishings,
                                office_code=office.code,
                                customer_code=owner,
                                item=item,
                                brand=brand,
                                note="",
                            )
                        if rng.random() < 0.1:
                            year = rng.randrange(2015, 2026)
                            _row(
                                decorations,
                                **place,
                                started_on=f"{year}-{rng.randrange(3, 10):02d}-01",
                                finished_on=f"{year}-11-30",
                                contractor=rng.choice(CONTRACTORS),
                                description=rng.choice(WORKS),
                            )
                        if rng.random() < 0.15:
                            _row(
                                pets,
                                office_code=office.code,
                                customer_code=owner,
                                kind=rng.choice(("犬", "猫")),
                                name=rng.choice(("豆豆", "团团", "咪咪", "旺财")),
                                note="",
                            )
        for n in range(1, 21):
            _row(
                parking,
                office_code=office.code,
                space_no=f"B1-{n:03d}",
                location="地下一层",
                area_m2="13.50" if n > 4 else "18.00",
                sale_status=rng.choice(("sold", "unsold")),
                rental_status=rng.choice(("self_use", "rented", "vacant")),
                stacked="yes" if n > 16 else "no",
            )
        for code, name, price, basis in FEES:
            _row(
                fees,
                office_code=office.code,
                fee_code=code,
                name=name,
                unit_price=price,
                basis=basis,
            )
    for rows, run in (
        (houses, import_house_rows),
        (customers, import_customer_rows),
        (occupancies, import_occupancy_rows),
        (parking, import_parking_rows),
        (fees, import_fee_standard_rows),
        (vehicles, import_vehicle_rows),
        (pets, import_pet_rows),
        (furnishings, import_furnishing_rows),
        (decorations, import_decoration_rows),
    ):
        run(session, rows, actor=DEMO)
    session.flush()
