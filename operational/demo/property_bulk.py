"""Houses and their occupants in bulk, for the benchmark's scale (a thousand houses an office
and more): the rows ``operational.demo.property`` loads through the property imports, without
the imports' row-by-row checks and audit entries (demo data: the bench writes a million houses).

Per office: buildings of two units, 25 floors, four rooms a floor (``1-1-101`` …), each house
with its area, sale and rental status; an owner for every sold house (customer ``C00001`` owns
the first), family members and current tenants (a rented house's earlier tenant has moved
out) until the office has ``occupants_per_house`` current occupants a house on average — every
customer with a mobile number and a name drawn as the demo draws them. Deterministic for the
seed. The caller commits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from operational.bulk import allocate_ids, insert_rows
from operational.demo.property import GIVEN, SURNAMES
from operational.models import Office
from operational.models.property import Customer, House, Occupancy, PropBuilding

UNITS, FLOORS, ROOMS = 2, 25, 4
PER_BUILDING = UNITS * FLOORS * ROOMS


@dataclass
class Written:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def _table(model: type[object]) -> Table:
    table = getattr(model, "__table__", None)
    assert isinstance(table, Table)
    return table


def write_houses(
    session: Session,
    offices: Sequence[Office],
    *,
    houses_per_office: int,
    occupants_per_house: float,
    seed: int,
) -> dict[str, int]:
    """``houses_per_office`` houses at each of ``offices`` with their occupants (see the module
    docstring). Returns the counts written."""
    if houses_per_office < 1 or occupants_per_house < 0:
        raise ValueError("need houses ≥ 1 and occupants ≥ 0")
    written = Written()
    for office in offices:
        _write_office(session, office, houses_per_office, occupants_per_house, seed, written)
    return written.counts


def _write_office(
    session: Session,
    office: Office,
    n_houses: int,
    per_house: float,
    seed: int,
    written: Written,
) -> None:
    rng = random.Random(f"{seed}:houses:{office.code}")
    n_buildings = -(-n_houses // PER_BUILDING)
    building_ids = allocate_ids(session, _table(PropBuilding), n_buildings)
    insert_rows(
        session,
        _table(PropBuilding),
        [
            {"id": b, "office_id": office.id, "code": str(n + 1), "name": ""}
            for n, b in enumerate(building_ids)
        ],
    )
    house_ids = allocate_ids(session, _table(House), n_houses)
    houses: list[dict[str, Any]] = []
    for n, house_id in enumerate(house_ids):
        building, rest = divmod(n, PER_BUILDING)
        unit, rest = divmod(rest, FLOORS * ROOMS)
        floor, room = divmod(rest, ROOMS)
        sold = n == 0 or rng.random() < 0.95
        rented = sold and rng.random() < 0.15
        houses.append(
            {
                "id": house_id,
                "office_id": office.id,
                "building_id": building_ids[building],
                "unit": str(unit + 1),
                "floor": floor + 1,
                "room": f"{floor + 1}{room + 1:02d}",
                "area": Decimal(f"{rng.choice((68, 89, 96, 118, 135))}.{rng.randrange(100):02d}"),
                "sale_status": "sold" if sold else "unsold",
                "rental_status": "rented" if rented else "self_use" if sold else "vacant",
            }
        )
    insert_rows(session, _table(House), houses)
    # Who lives where: an owner per sold house, then family or a current tenant until the
    # office's share of current occupants is reached (a rented house's past tenant moved out).
    owned = [h for h in houses if h["sale_status"] == "sold"]
    wanted = round(per_house * n_houses)
    people: list[tuple[dict[str, Any], str, date, date | None, str]] = []
    for h in owned[:wanted]:
        since = date(rng.randrange(2008, 2024), rng.randrange(1, 13), 1)
        people.append((h, "owner", since, None, rng.choice(SURNAMES)))
    current = len(people)
    while current < wanted and owned:
        h = owned[rng.randrange(len(owned))]
        if h["rental_status"] == "rented":
            people.append((h, "tenant", date(2022, 3, 1), date(2024, 2, 29), rng.choice(SURNAMES)))
            people.append((h, "tenant", date(2024, 4, 1), None, rng.choice(SURNAMES)))
        else:
            people.append((h, "family", date(2015, 1, 1), None, rng.choice(SURNAMES)))
        current += 1
    customer_ids = allocate_ids(session, _table(Customer), len(people))
    customers: list[dict[str, Any]] = []
    occupancies: list[dict[str, Any]] = []
    seen: set[tuple[int, int, str, date]] = set()
    for number, (customer_id, (h, role, since, until, surname)) in enumerate(
        zip(customer_ids, people, strict=True), start=1
    ):
        customers.append(
            {
                "id": customer_id,
                "office_id": office.id,
                "code": f"C{number:05d}",
                "name": surname + rng.choice(GIVEN),
                "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                "id_number": "",
            }
        )
        key = (h["id"], customer_id, role, since)
        if key not in seen:
            seen.add(key)
            occupancies.append(
                {
                    "house_id": h["id"],
                    "customer_id": customer_id,
                    "role": role,
                    "moved_in_on": since,
                    "moved_out_on": until,
                }
            )
    insert_rows(session, _table(Customer), customers)
    insert_rows(session, _table(Occupancy), occupancies)
    written.add("buildings", n_buildings)
    written.add("houses", len(houses))
    written.add("customers", len(customers))
    written.add("occupants", sum(1 for o in occupancies if o["moved_out_on"] is None))
