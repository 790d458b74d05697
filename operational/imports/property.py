"""``propcloud import houses|customers|occupancies|parking|fee-standards|vehicles|pets|
furnishings|decorations``: an office's property base data (docs/import-formats.md, docs/property.md).

Every import reads its file with the shared reader (``operational.imports.table``), checks
every row — each row's office against the actor's ``MANAGE_PROPERTY`` — and writes nothing if
any row is bad (:class:`ImportRejected`, by row). A row names its record by its natural key (a
house by office, building, unit and room; a customer by office and customer code …): a new
one is created, a stored one updated to the row, an unchanged one left alone, so importing the
same file twice changes nothing. Every change is audited (phone and ID numbers never appear in
the audit log). The imports are the only writers of property data meanwhile (:data:`PROPERTY`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import audit, entry
from operational.auth import Permission, Principal
from operational.db import serialise
from operational.imports.table import (
    CODE_PATTERN,
    ImportRejected,
    ImportSummary,
    Row,
    RowError,
    read_table,
)
from operational.models import (
    Customer,
    Decoration,
    FeeBasis,
    FeeStandard,
    Furnishing,
    House,
    Occupancy,
    OccupantRole,
    Office,
    ParkingSpace,
    Pet,
    PropBuilding,
    RentalStatus,
    SaleStatus,
    Vehicle,
)
from operational.models.property import PRICE
from operational.services.property import (
    PROPERTY,
    Refused,
    area_of,
    house_name,
    id_number_refusal,
    normal_phone,
    part_refusal,
    phone_refusal,
)

YES = {"yes", "y", "true", "1", "是"}
NO = {"", "no", "n", "false", "0", "否"}


@dataclass(frozen=True)
class Format:
    """One import's columns, in the documented order."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    lengths: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    """Every column in the documented order (empty: the required ones, then the optional)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.order or (*self.required, *self.optional)


HOUSES = Format(
    ("office_code", "building", "floor", "room", "area_m2", "sale_status", "rental_status"),
    ("unit",),
    order=(
        "office_code",
        "building",
        "unit",
        "floor",
        "room",
        "area_m2",
        "sale_status",
        "rental_status",
    ),
)
CUSTOMERS = Format(
    ("office_code", "customer_code", "name"),
    ("phone", "id_number"),
    {"name": Customer.name},
)
OCCUPANCIES = Format(
    ("office_code", "building", "room", "customer_code", "role", "moved_in_on"),
    ("unit", "moved_out_on"),
    order=(
        "office_code",
        "building",
        "unit",
        "room",
        "customer_code",
        "role",
        "moved_in_on",
        "moved_out_on",
    ),
)
PARKING = Format(
    ("office_code", "space_no", "area_m2", "sale_status", "rental_status"),
    ("location", "stacked"),
    {"location": ParkingSpace.location},
    order=(
        "office_code",
        "space_no",
        "location",
        "area_m2",
        "sale_status",
        "rental_status",
        "stacked",
    ),
)
FEE_STANDARDS = Format(
    ("office_code", "fee_code", "name", "unit_price", "basis"),
    (),
    {"name": FeeStandard.name},
)
VEHICLES = Format(
    ("office_code", "customer_code", "plate"),
    ("licence_no",),
    {"plate": Vehicle.plate, "licence_no": Vehicle.licence_no},
)
FURNISHINGS = Format(
    ("office_code", "customer_code", "item"),
    ("brand", "note"),
    {"item": Furnishing.item, "brand": Furnishing.brand, "note": Furnishing.note},
)
DECORATIONS = Format(
    ("office_code", "building", "room", "started_on"),
    ("unit", "finished_on", "contractor", "description"),
    {"contractor": Decoration.contractor, "description": Decoration.description},
    order=(
        "office_code",
        "building",
        "unit",
        "room",
        "started_on",
        "finished_on",
        "contractor",
        "description",
    ),
)
PETS = Format(
    ("office_code", "customer_code", "kind", "name"),
    ("note",),
    {"kind": Pet.kind, "name": Pet.name, "note": Pet.note},
)


class _Rows:
    """The checks of one file: every problem of every row, with the row's office."""

    def __init__(self, session: Session, actor: Principal) -> None:
        self.session = session
        self.actor = actor
        self.offices = {o.code: o for o in session.scalars(select(Office))}
        self.errors: list[RowError] = []

    def bad(self, row: int, key: str, **params: object) -> None:
        self.errors.append(RowError(row, key, params))

    def office(self, row: int, values: dict[str, str], required: Sequence[str]) -> Office | None:
        """The row's office, after checking that every required cell has a value."""
        for column in required:
            if not values[column]:
                self.bad(row, "import.missing_value", column=column)
        code = values["office_code"]
        office = self.offices.get(code)
        if code and office is None:
            self.bad(row, "users.unknown_office", code=code)
            return None
        if office is not None and not self.actor.can(Permission.MANAGE_PROPERTY, office.code):
            self.bad(row, "selfservice.import.office_not_allowed", code=office.code)
            return None
        return office

    def refused(self, row: int, column: str, refusal: tuple[str, dict[str, object]] | None) -> bool:
        if refusal is not None:
            self.bad(row, refusal[0], column=column, **refusal[1])
            return True
        return False

    def area(self, row: int, column: str, text: str) -> Decimal | None:
        if not text:
            return None
        try:
            return area_of(text)
        except Refused as refused:
            self.bad(row, refused.key, column=column, **refused.params)
            return None

    def choice(self, row: int, column: str, value: str, allowed: type[Any]) -> bool:
        if value and value not in {v.value for v in allowed}:
            options = ", ".join(v.value for v in allowed)
            self.bad(row, "property.bad_choice", column=column, value=value, allowed=options)
            return False
        return True

    def day(self, row: int, column: str, text: str) -> date | None:
        if not text:
            return None
        value = text.strip()
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.bad(row, "property.bad_date", column=column, value=value)
            return None
        if moment.time() != datetime.min.time() or moment.tzinfo is not None:
            self.bad(row, "property.bad_date", column=column, value=value)
            return None
        day = moment.date()
        if self.refused(row, column, entry.day_refusal(day)):
            return None
        return day

    def code(self, row: int, column: str, value: str) -> bool:
        if value and not CODE_PATTERN.match(value):
            self.bad(row, "import.bad_code", column=column, value=value)
            return False
        return True

    def once(self, seen: dict[Any, int], key: Any, row: int, name: str) -> bool:
        first = seen.setdefault(key, row)
        if first != row:
            self.bad(row, "property.import.duplicate", name=name, first_row=first)
            return False
        return True

    def finish(self) -> None:
        if self.errors:
            raise ImportRejected(sorted(self.errors, key=lambda e: e.row))


def _audit(
    session: Session,
    actor: Principal,
    action: str,
    entity: str,
    office: Office,
    key: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
) -> None:
    audit.record(
        session,
        actor=actor.username,
        action=action,
        entity=entity,
        entity_key=f"{office.code}:{key}",
        office_id=office.id,
        before=before,
        after=after,
    )


def _apply(
    session: Session,
    actor: Principal,
    summary: ImportSummary,
    current: Any,
    make: Callable[[], Any],
    values: dict[str, Any],
    entity: str,
    office: Office,
    key: str,
    shown: Callable[[dict[str, Any]], dict[str, Any]] = lambda v: v,
) -> Any:
    """Create the record (``make``) or update ``current`` to ``values``; audited."""
    if current is None:
        record = make()
        session.add(record)
        _audit(session, actor, "create", entity, office, key, None, shown(values))
        summary.created += 1
        return record
    before = {k: getattr(current, k) for k in values}
    if before == values:
        summary.unchanged += 1
        return current
    for name, value in values.items():
        setattr(current, name, value)
    if hasattr(current, "version"):
        current.version += 1
    _audit(session, actor, "update", entity, office, key, shown(before), shown(values))
    summary.updated += 1
    return current


def _houses_of(session: Session, office_ids: set[int]) -> dict[tuple[int, str, str, str], House]:
    return {
        (h.office_id, b, h.unit, h.room): h
        for h, b in session.execute(
            select(House, PropBuilding.code)
            .join(PropBuilding, PropBuilding.id == House.building_id)
            .where(House.office_id.in_(sorted(office_ids)))
        )
    }


def _customers_of(session: Session, office_ids: set[int]) -> dict[tuple[int, str], Customer]:
    return {
        (c.office_id, c.code): c
        for c in session.scalars(select(Customer).where(Customer.office_id.in_(sorted(office_ids))))
    }


# ---------------------------------------------------------------- houses


def import_house_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Houses by office, building, unit and room: floor, area (m²), sale and rental status."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    valid: list[tuple[Office, str, str, str, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, HOUSES.required)
        for column in ("building", "unit", "room"):
            check.refused(row, column, part_refusal(v[column]))
        floor = None
        if v["floor"]:
            try:
                floor = int(v["floor"])
            except ValueError:
                check.bad(row, "import.bad_number", column="floor", value=v["floor"])
            else:
                refusal = entry.integer_refusal(floor, -10, 300)
                check.refused(
                    row, "floor", refusal and (refusal[0], {"value": floor, **refusal[1]})
                )
        area = check.area(row, "area_m2", v["area_m2"])
        check.choice(row, "sale_status", v["sale_status"], SaleStatus)
        check.choice(row, "rental_status", v["rental_status"], RentalStatus)
        if len(check.errors) > before or office is None or area is None or floor is None:
            continue
        name = house_name(v["building"], v["unit"], v["room"])
        if not check.once(seen, (office.code, name), row, f"{office.code} {name}"):
            continue
        values = {
            "floor": floor,
            "area": area,
            "sale_status": v["sale_status"],
            "rental_status": v["rental_status"],
        }
        valid.append((office, v["building"], v["unit"], v["room"], values))
    check.finish()
    summary = ImportSummary()
    houses = _houses_of(session, {o.id for o, *_ in valid})
    buildings = {
        (b.office_id, b.code): b
        for b in session.scalars(
            select(PropBuilding).where(
                PropBuilding.office_id.in_(sorted({o.id for o, *_ in valid}))
            )
        )
    }
    for office, building, unit, room, values in valid:
        place = buildings.get((office.id, building))
        if place is None:
            place = buildings[(office.id, building)] = PropBuilding(
                office_id=office.id, code=building, name=""
            )
            session.add(place)
            session.flush()
        placed = place
        _apply(
            session,
            actor,
            summary,
            houses.get((office.id, building, unit, room)),
            partial(
                House, office_id=office.id, building_id=placed.id, unit=unit, room=room, **values
            ),
            values,
            "prop_house",
            office,
            house_name(building, unit, room),
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- customers


def _no_pii(values: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a customer: the name, and whether numbers were given."""
    return {
        "name": values.get("name"),
        "phone": "***" if values.get("phone") else "",
        "id_number": "***" if values.get("id_number") else "",
    }


def import_customer_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers by office and customer code: name, phone, ID number. A blank phone or ID
    number keeps the stored one."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    valid: list[tuple[Office, str, str, str, str]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, CUSTOMERS.required)
        check.code(row, "customer_code", v["customer_code"])
        phone = normal_phone(v["phone"])
        id_number = v["id_number"].upper()
        check.refused(row, "phone", phone_refusal(phone))
        check.refused(row, "id_number", id_number_refusal(id_number))
        if len(check.errors) > before or office is None:
            continue
        if not check.once(seen, (office.code, v["customer_code"]), row, v["customer_code"]):
            continue
        valid.append((office, v["customer_code"], v["name"], phone, id_number))
    check.finish()
    summary = ImportSummary()
    stored = _customers_of(session, {o.id for o, *_ in valid})
    for office, code, name, phone, id_number in valid:
        current = stored.get((office.id, code))
        values = {
            "name": name,
            "phone": phone or (current.phone if current else ""),
            "id_number": id_number or (current.id_number if current else ""),
        }
        _apply(
            session,
            actor,
            summary,
            current,
            partial(Customer, office_id=office.id, code=code, **values),
            values,
            "prop_customer",
            office,
            code,
            _no_pii,
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- occupancies


def import_occupancy_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Who held or lived in which house, in which role, from and to which day. A stored
    occupancy (same house, customer, role and move-in day) takes the row's move-out day."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    wanted = {
        check.offices[v["office_code"]].id for _, v in rows if v["office_code"] in check.offices
    }
    houses = _houses_of(session, wanted)
    customers = _customers_of(session, wanted)
    valid: list[tuple[Office, House, Customer, str, date, date | None]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, OCCUPANCIES.required)
        check.choice(row, "role", v["role"], OccupantRole)
        moved_in = check.day(row, "moved_in_on", v["moved_in_on"])
        moved_out = check.day(row, "moved_out_on", v["moved_out_on"])
        if moved_in and moved_out and moved_out < moved_in:
            check.bad(row, "property.import.out_before_in", moved_out_on=v["moved_out_on"])
        house = customer = None
        if office is not None and v["building"] and v["room"]:
            name = house_name(v["building"], v["unit"], v["room"])
            house = houses.get((office.id, v["building"], v["unit"], v["room"]))
            if house is None:
                check.bad(row, "property.import.unknown_house", house=name, office=office.code)
        if office is not None and v["customer_code"]:
            customer = customers.get((office.id, v["customer_code"]))
            if customer is None:
                check.bad(
                    row,
                    "property.unknown_customer",
                    code=v["customer_code"],
                    office=office.code,
                )
        if len(check.errors) > before or None in (office, house, customer, moved_in):
            continue
        assert office is not None and house is not None and customer is not None
        assert moved_in is not None
        key = (house.id, customer.id, v["role"], moved_in)
        if not check.once(seen, key, row, f"{customer.code} {v['role']} {moved_in}"):
            continue
        valid.append((office, house, customer, v["role"], moved_in, moved_out))
    check.finish()
    summary = ImportSummary()
    stored = {
        (o.house_id, o.customer_id, o.role, o.moved_in_on): o
        for o in session.scalars(
            select(Occupancy).where(Occupancy.house_id.in_(sorted({h.id for _, h, *_ in valid})))
        )
    }
    names = {h.id: name for (_, b, u, r), h in houses.items() for name in [house_name(b, u, r)]}
    for office, house, customer, role, moved_in, moved_out in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((house.id, customer.id, role, moved_in)),
            partial(
                Occupancy,
                house_id=house.id,
                customer_id=customer.id,
                role=role,
                moved_in_on=moved_in,
                moved_out_on=moved_out,
            ),
            {"moved_out_on": moved_out},
            "prop_occupancy",
            office,
            f"{names[house.id]}:{customer.code}:{role}:{moved_in.isoformat()}",
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- parking spaces


def import_parking_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Parking spaces by office and number: location, area, sale and rental status, stacked."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    valid: list[tuple[Office, str, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, PARKING.required)
        check.code(row, "space_no", v["space_no"])
        area = check.area(row, "area_m2", v["area_m2"])
        check.choice(row, "sale_status", v["sale_status"], SaleStatus)
        check.choice(row, "rental_status", v["rental_status"], RentalStatus)
        stacked = v["stacked"].lower()
        if stacked not in YES | NO:
            check.bad(row, "property.import.bad_yes_no", column="stacked", value=v["stacked"])
        if len(check.errors) > before or office is None or area is None:
            continue
        if not check.once(seen, (office.code, v["space_no"]), row, v["space_no"]):
            continue
        values = {
            "location": v["location"],
            "area": area,
            "sale_status": v["sale_status"],
            "rental_status": v["rental_status"],
            "stacked": stacked in YES,
        }
        valid.append((office, v["space_no"], values))
    check.finish()
    summary = ImportSummary()
    stored = {
        (p.office_id, p.space_no): p
        for p in session.scalars(
            select(ParkingSpace).where(
                ParkingSpace.office_id.in_(sorted({o.id for o, *_ in valid}))
            )
        )
    }
    for office, space_no, values in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((office.id, space_no)),
            partial(ParkingSpace, office_id=office.id, space_no=space_no, **values),
            values,
            "prop_parking_space",
            office,
            space_no,
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- fee standards


def import_fee_standard_rows(
    session: Session, rows: list[Row], *, actor: Principal
) -> ImportSummary:
    """Fee standards by office and fee code: name, unit price (yuan), basis."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    valid: list[tuple[Office, str, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, FEE_STANDARDS.required)
        check.code(row, "fee_code", v["fee_code"])
        check.choice(row, "basis", v["basis"], FeeBasis)
        price = None
        if v["unit_price"]:
            try:
                price = Decimal(v["unit_price"])
            except InvalidOperation:
                check.bad(row, "import.bad_number", column="unit_price", value=v["unit_price"])
            else:
                refusal = entry.column_refusal(price, PRICE)
                if refusal is None and price < 0:
                    refusal = ("property.price_negative", {})
                if check.refused(
                    row,
                    "unit_price",
                    refusal and (refusal[0], {"value": v["unit_price"], **refusal[1]}),
                ):
                    price = None
        if len(check.errors) > before or office is None or price is None:
            continue
        if not check.once(seen, (office.code, v["fee_code"]), row, v["fee_code"]):
            continue
        valid.append(
            (office, v["fee_code"], {"name": v["name"], "unit_price": price, "basis": v["basis"]})
        )
    check.finish()
    summary = ImportSummary()
    stored = {
        (f.office_id, f.code): f
        for f in session.scalars(
            select(FeeStandard).where(FeeStandard.office_id.in_(sorted({o.id for o, *_ in valid})))
        )
    }
    for office, code, values in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((office.id, code)),
            partial(FeeStandard, office_id=office.id, code=code, **values),
            values,
            "prop_fee_standard",
            office,
            code,
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- vehicles


def import_vehicle_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers' vehicles by office, customer code and plate: the licence number."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    wanted = {
        check.offices[v["office_code"]].id for _, v in rows if v["office_code"] in check.offices
    }
    customers = _customers_of(session, wanted)
    valid: list[tuple[Office, Customer, str, str]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, VEHICLES.required)
        plate = v["plate"].replace(" ", "").upper()
        customer = None
        if office is not None and v["customer_code"]:
            customer = customers.get((office.id, v["customer_code"]))
            if customer is None:
                check.bad(
                    row, "property.unknown_customer", code=v["customer_code"], office=office.code
                )
        if len(check.errors) > before or office is None or customer is None:
            continue
        if not check.once(seen, (customer.id, plate), row, plate):
            continue
        valid.append((office, customer, plate, v["licence_no"]))
    check.finish()
    summary = ImportSummary()
    stored = {
        (x.customer_id, x.plate): x
        for x in session.scalars(
            select(Vehicle).where(Vehicle.customer_id.in_(sorted({c.id for _, c, *_ in valid})))
        )
    }
    for office, customer, plate, licence in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((customer.id, plate)),
            partial(Vehicle, customer_id=customer.id, plate=plate, licence_no=licence),
            {"licence_no": licence},
            "prop_vehicle",
            office,
            f"{customer.code}:{plate}",
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- pets


def import_pet_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers' pets by office, customer code, kind and name: the note."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    wanted = {
        check.offices[v["office_code"]].id for _, v in rows if v["office_code"] in check.offices
    }
    customers = _customers_of(session, wanted)
    valid: list[tuple[Office, Customer, str, str, str]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, PETS.required)
        customer = None
        if office is not None and v["customer_code"]:
            customer = customers.get((office.id, v["customer_code"]))
            if customer is None:
                check.bad(
                    row, "property.unknown_customer", code=v["customer_code"], office=office.code
                )
        if len(check.errors) > before or office is None or customer is None:
            continue
        key = (customer.id, v["kind"], v["name"])
        if not check.once(seen, key, row, f"{customer.code} {v['kind']} {v['name']}"):
            continue
        valid.append((office, customer, v["kind"], v["name"], v["note"]))
    check.finish()
    summary = ImportSummary()
    stored = {
        (p.customer_id, p.kind, p.name): p
        for p in session.scalars(
            select(Pet).where(Pet.customer_id.in_(sorted({c.id for _, c, *_ in valid})))
        )
    }
    for office, customer, kind, name, note in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((customer.id, kind, name)),
            partial(Pet, customer_id=customer.id, kind=kind, name=name, note=note),
            {"note": note},
            "prop_pet",
            office,
            f"{customer.code}:{kind}:{name}",
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- furniture and decorations


def import_furnishing_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers' furniture and appliances by office, customer code, item and brand: the note."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    wanted = {
        check.offices[v["office_code"]].id for _, v in rows if v["office_code"] in check.offices
    }
    customers = _customers_of(session, wanted)
    valid: list[tuple[Office, Customer, str, str, str]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, FURNISHINGS.required)
        customer = None
        if office is not None and v["customer_code"]:
            customer = customers.get((office.id, v["customer_code"]))
            if customer is None:
                check.bad(
                    row, "property.unknown_customer", code=v["customer_code"], office=office.code
                )
        if len(check.errors) > before or office is None or customer is None:
            continue
        key = (customer.id, v["item"], v["brand"])
        if not check.once(seen, key, row, f"{customer.code} {v['item']} {v['brand']}"):
            continue
        valid.append((office, customer, v["item"], v["brand"], v["note"]))
    check.finish()
    summary = ImportSummary()
    stored = {
        (f.customer_id, f.item, f.brand): f
        for f in session.scalars(
            select(Furnishing).where(
                Furnishing.customer_id.in_(sorted({c.id for _, c, *_ in valid}))
            )
        )
    }
    for office, customer, item, brand, note in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((customer.id, item, brand)),
            partial(Furnishing, customer_id=customer.id, item=item, brand=brand, note=note),
            {"note": note},
            "prop_furnishing",
            office,
            f"{customer.code}:{item}:{brand}",
        )
    session.flush()
    return summary


def import_decoration_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Houses' decoration records by house and start day: end day, contractor, what was done."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    wanted = {
        check.offices[v["office_code"]].id for _, v in rows if v["office_code"] in check.offices
    }
    houses = _houses_of(session, wanted)
    valid: list[tuple[Office, House, str, date, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for row, v in rows:
        before = len(check.errors)
        office = check.office(row, v, DECORATIONS.required)
        started = check.day(row, "started_on", v["started_on"])
        finished = check.day(row, "finished_on", v["finished_on"])
        if started and finished and finished < started:
            check.bad(row, "property.import.finished_before_start", finished_on=v["finished_on"])
        house = None
        name = house_name(v["building"], v["unit"], v["room"])
        if office is not None and v["building"] and v["room"]:
            house = houses.get((office.id, v["building"], v["unit"], v["room"]))
            if house is None:
                check.bad(row, "property.import.unknown_house", house=name, office=office.code)
        if len(check.errors) > before or office is None or house is None or started is None:
            continue
        if not check.once(seen, (house.id, started), row, f"{name} {started}"):
            continue
        values = {
            "finished_on": finished,
            "contractor": v["contractor"],
            "description": v["description"],
        }
        valid.append((office, house, name, started, values))
    check.finish()
    summary = ImportSummary()
    stored = {
        (d.house_id, d.started_on): d
        for d in session.scalars(
            select(Decoration).where(Decoration.house_id.in_(sorted({h.id for _, h, *_ in valid})))
        )
    }
    for office, house, name, started, values in valid:
        _apply(
            session,
            actor,
            summary,
            stored.get((house.id, started)),
            partial(Decoration, house_id=house.id, started_on=started, **values),
            values,
            "prop_decoration",
            office,
            f"{name}:{started.isoformat()}",
        )
    session.flush()
    return summary


# ---------------------------------------------------------------- files

Importer = Callable[..., ImportSummary]

IMPORTS: dict[str, tuple[Format, Importer]] = {
    "houses": (HOUSES, import_house_rows),
    "customers": (CUSTOMERS, import_customer_rows),
    "occupancies": (OCCUPANCIES, import_occupancy_rows),
    "parking": (PARKING, import_parking_rows),
    "fee-standards": (FEE_STANDARDS, import_fee_standard_rows),
    "vehicles": (VEHICLES, import_vehicle_rows),
    "pets": (PETS, import_pet_rows),
    "furnishings": (FURNISHINGS, import_furnishing_rows),
    "decorations": (DECORATIONS, import_decoration_rows),
}
"""``propcloud import <name>`` → its columns and the function importing its rows."""


def import_property_file(
    session: Session, name: str, path: Path, *, actor: Principal, encoding: str | None = None
) -> ImportSummary:
    """Read ``path`` as the ``name`` import's file and import it as ``actor``: all or nothing."""
    layout, run = IMPORTS[name]
    read = read_table(
        path, layout.required, layout.optional, encoding=encoding, lengths=layout.lengths
    )
    return run(session, read.rows, actor=actor).read_as(read.encoding)
