"""Property base data (基础信息) and customers (客户): the checks, the forms and the reads.

A house is named ``building-unit-room`` (``3-2-301``; ``3-301`` without units). The checks here
are shared by the forms (:func:`save_house`, :func:`save_customer`) and the imports
(``operational.imports.property``), so a value refused in one is refused in the other.

Reads take the principal and filter inside their query (``operational.scope``); every phone
and ID number a read returns went through :func:`operational.pii.shown`. Reading a customer's
full record (:func:`customer_record`) appends an audit entry in the caller's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from operational import audit, entry, pii
from operational.auth import Permission, Principal
from operational.db import WriteLock, serialise
from operational.errors import NotFound, PermissionDenied, Problems, StaleVersion, Term
from operational.models import (
    Customer,
    Decoration,
    FeeStandard,
    Furnishing,
    House,
    Occupancy,
    Office,
    ParkingSpace,
    Pet,
    PropBuilding,
    RentalStatus,
    SaleStatus,
    Vehicle,
)
from operational.models.property import AREA
from operational.scope import office_code_clause, scoped_read

PROPERTY = WriteLock("property", 18)
"""The writers of offices' property base data: a form locks its office, an import all of them,
so two writers of one house or customer never race to a half-checked state."""

PART = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff]{1,16}$")
"""A building, unit or room code: letters, digits or Chinese characters, no ``-`` (which
separates them in a house's name)."""
PHONE = re.compile(r"^\+?[0-9]{5,19}$")
ID_NUMBER = re.compile(r"^[0-9A-Za-z]{6,32}$")
SEARCH_LIMIT = 50

Refusal = tuple[str, dict[str, object]]


# ---------------------------------------------------------------- checks shared with the imports


def normal_phone(value: str) -> str:
    """A phone number as stored and looked up: blanks, ``-`` and brackets removed."""
    return re.sub(r"[\s\-()（）]", "", value)


def phone_refusal(value: str) -> Refusal | None:
    if value and not PHONE.match(value):
        return "property.bad_phone", {"value": value}
    return None


def id_number_refusal(value: str) -> Refusal | None:
    if value and not ID_NUMBER.match(value):
        return "property.bad_id_number", {"value": value}
    return None


def part_refusal(value: str) -> Refusal | None:
    if value and not PART.match(value):
        return "property.bad_part", {"value": value}
    return None


def area_of(text: str) -> Decimal:
    """A positive area in m² from ``text`` (at most two decimals); else :class:`Refused`."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise Refused("import.bad_number", {"value": text}) from None
    refusal = entry.column_refusal(value, AREA)
    if refusal is not None:
        raise Refused(refusal[0], {"value": text, **refusal[1]})
    if value <= 0:
        raise Refused("property.area_not_positive", {"value": text})
    return value


def choice_refusal(value: str, allowed: type[SaleStatus] | type[RentalStatus]) -> Refusal | None:
    if value not in {v.value for v in allowed}:
        return "property.bad_choice", {
            "value": value,
            "allowed": ", ".join(v.value for v in allowed),
        }
    return None


class Refused(Exception):
    """A value a check refused, as a catalogue key and its parameters (the imports report it
    by row and column, the forms by field)."""

    def __init__(self, key: str, params: dict[str, object]) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def house_name(building: str, unit: str, room: str) -> str:
    return "-".join(p for p in (building, unit, room) if p)


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class CustomerHit:
    """One customer found by the lookup, personal information as the reader may see it."""

    office_code: str
    office_name: str
    code: str
    name: str
    phone: str
    houses: tuple[str, ...]


@dataclass(frozen=True)
class OccupancyLine:
    customer_code: str
    customer_name: str
    role: str
    moved_in_on: date
    moved_out_on: date | None


@dataclass(frozen=True)
class HouseView:
    name: str
    building: str
    unit: str
    floor: int
    room: str
    area: Decimal
    sale_status: str
    rental_status: str
    occupants: tuple[OccupancyLine, ...]
    """Every past and present occupant, latest first."""
    decorations: tuple[tuple[date, date | None, str, str], ...] = ()
    """Its decoration records (装修记录): start, end, contractor, what was done; latest first."""


@dataclass(frozen=True)
class CustomerRecord:
    """Everything the customer view shows (顾客视图)."""

    office_code: str
    office_name: str
    code: str
    name: str
    phone: str
    id_number: str
    masked: bool
    version: int
    houses: tuple[HouseView, ...]
    family: tuple[OccupancyLine, ...]
    """The other occupants of the customer's houses now (family members, tenants, owners)."""
    vehicles: tuple[tuple[str, str], ...]
    pets: tuple[tuple[str, str, str], ...]
    furnishings: tuple[tuple[str, str, str], ...] = ()
    """Furniture and appliances (家具家电): item, brand, note."""


def _office_in_scope(
    session: Session, principal: Principal, permission: Permission, office_code: str
) -> Office:
    office = session.scalars(
        select(Office).where(
            Office.code == office_code.strip(),
            office_code_clause(principal, permission, Office.code),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    return office


def phone_of(query: str) -> str | None:
    """The phone number one search field means (7 or more digits, blanks, ``-`` and brackets
    ignored), else None."""
    digits = normal_phone(query.strip())
    return digits if PHONE.match(digits) and len(digits) >= 7 else None


def house_of(query: str) -> tuple[str, str, str] | None:
    """The house (building, unit, room) one search field may mean — ``3-2-301``, ``3-301`` —
    else None. Written with dashes, a house can also read as a phone number (``10-1-1203``,
    ``138-1234-5678``): the search then asks for both (:func:`phone_of`)."""
    text = query.strip()
    parts = text.split("-")
    if len(parts) not in (2, 3):
        return None
    if not all(PART.match(p) for p in parts):
        return None
    return (parts[0], "", parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])


def name_prefix(query: str) -> ColumnElement[bool]:
    """A name's beginning (``LIKE 'x%'``; on PostgreSQL through ``ix_prop_customer_name_prefix``,
    a ``text_pattern_ops`` index)."""
    text = query.strip()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Customer.name.like(f"{escaped}%", escape="\\")


def _search_clauses(query: str) -> list[ColumnElement[bool]]:
    """What one search field means, as the conditions of one query each (their answers
    together): a phone number (digits), a house (``3-2-301``, ``3-301``) — both when it reads
    as either (``10-1-1203``); else a name's
    beginning, and apart from it a customer code — an OR of the two would read every customer
    (no one index serves both)."""
    phone = phone_of(query)
    house = house_of(query)
    clauses: list[ColumnElement[bool]] = []
    if phone is not None:
        clauses.append(Customer.phone == phone)
    if house is not None:
        building, unit, room = house
        houses = (
            select(Occupancy.customer_id)
            .join(House, House.id == Occupancy.house_id)
            .join(PropBuilding, PropBuilding.id == House.building_id)
            .where(PropBuilding.code == building, House.unit == unit, House.room == room)
        )
        clauses.append(Customer.id.in_(houses))
    return clauses or [name_prefix(query), Customer.code == query.strip()]


@scoped_read(Permission.VIEW_PROPERTY)
def find_customers(
    session: Session,
    principal: Principal,
    query: str = "",
    office_code: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[CustomerHit]:
    """The customers a caller may be, from one field: a phone number, a house
    (``building-unit-room``) or a name; of ``office_code`` only if given (an empty ``query``
    then lists its customers). At most ``limit``, by office and name."""
    if not query.strip() and office_code is None:
        return []
    statement = (
        select(Customer, Office.code, Office.name)
        .join(Office, Office.id == Customer.office_id)
        .where(office_code_clause(principal, Permission.VIEW_PROPERTY, Office.code))
        .order_by(Office.code, Customer.name, Customer.code)
        .limit(limit)
    )
    if office_code is not None:
        statement = statement.where(Office.code == office_code.strip())
    found: dict[int, tuple[Customer, str, str]] = {}
    for clause in _search_clauses(query) if query.strip() else [None]:
        chosen = statement if clause is None else statement.where(clause)
        for customer, code, name in session.execute(chosen).all():
            found[customer.id] = (customer, code, name)
    rows = sorted(found.values(), key=lambda r: (r[1], r[0].name, r[0].code))[:limit]
    homes = _current_houses(session, [c.id for c, _, _ in rows])
    hits = []
    for customer, code, name in rows:
        phone, _ = pii.shown(principal, code, customer.phone, "")
        hits.append(
            CustomerHit(code, name, customer.code, customer.name, phone, homes.get(customer.id, ()))
        )
    return hits


def _current_houses(session: Session, customer_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not customer_ids:
        return {}
    found: dict[int, list[str]] = {}
    for customer_id, building, unit, room in session.execute(
        select(Occupancy.customer_id, PropBuilding.code, House.unit, House.room)
        .join(House, House.id == Occupancy.house_id)
        .join(PropBuilding, PropBuilding.id == House.building_id)
        .where(Occupancy.customer_id.in_(customer_ids), Occupancy.moved_out_on.is_(None))
        .order_by(PropBuilding.code, House.unit, House.room)
    ):
        found.setdefault(customer_id, []).append(house_name(building, unit, room))
    return {k: tuple(v) for k, v in found.items()}


def _customer_in(session: Session, office: Office, code: str) -> Customer:
    customer = session.scalars(
        select(Customer).where(Customer.office_id == office.id, Customer.code == code.strip())
    ).one_or_none()
    if customer is None:
        raise NotFound("property.unknown_customer", code=code, office=office.code)
    return customer


@scoped_read(Permission.VIEW_PROPERTY)
def customer_record(
    session: Session, principal: Principal, office_code: str, customer_code: str
) -> CustomerRecord:
    """A customer's full record (顾客视图) for a ``principal`` holding ``VIEW_PROPERTY`` at the
    office — phone and ID number masked unless they hold ``VIEW_CUSTOMER_PII`` there. The view
    is audited (action ``view``) in the caller's transaction."""
    office = _office_in_scope(session, principal, Permission.VIEW_PROPERTY, office_code)
    customer = _customer_in(session, office, customer_code)
    phone, id_number = pii.shown(principal, office.code, customer.phone, customer.id_number)
    masked = not pii.may_see(principal, office.code)
    house_ids = list(
        session.scalars(
            select(Occupancy.house_id).where(Occupancy.customer_id == customer.id).distinct()
        )
    )
    houses = _house_views(session, house_ids)
    family = tuple(
        line
        for house in houses
        for line in house.occupants
        if line.customer_code != customer.code and line.moved_out_on is None
    )
    vehicles = tuple(
        (v.plate, v.licence_no)
        for v in session.scalars(
            select(Vehicle).where(Vehicle.customer_id == customer.id).order_by(Vehicle.plate)
        )
    )
    pets = tuple(
        (p.kind, p.name, p.note)
        for p in session.scalars(select(Pet).where(Pet.customer_id == customer.id).order_by(Pet.id))
    )
    furnishings = tuple(
        (f.item, f.brand, f.note)
        for f in session.scalars(
            select(Furnishing).where(Furnishing.customer_id == customer.id).order_by(Furnishing.id)
        )
    )
    audit.record(
        session,
        actor=principal.username,
        action="view",
        entity="prop_customer",
        entity_key=f"{office.code}:{customer.code}",
        office_id=office.id,
        after={"masked": masked},
    )
    return CustomerRecord(
        office.code,
        office.name,
        customer.code,
        customer.name,
        phone,
        id_number,
        masked,
        customer.version,
        houses,
        family,
        vehicles,
        pets,
        furnishings,
    )


def _house_views(session: Session, house_ids: list[int]) -> tuple[HouseView, ...]:
    if not house_ids:
        return ()
    occupants: dict[int, list[OccupancyLine]] = {}
    for occupancy, code, name in session.execute(
        select(Occupancy, Customer.code, Customer.name)
        .join(Customer, Customer.id == Occupancy.customer_id)
        .where(Occupancy.house_id.in_(house_ids))
        .order_by(Occupancy.moved_in_on.desc(), Customer.code)
    ):
        occupants.setdefault(occupancy.house_id, []).append(
            OccupancyLine(code, name, occupancy.role, occupancy.moved_in_on, occupancy.moved_out_on)
        )
    decorations: dict[int, list[tuple[date, date | None, str, str]]] = {}
    for d in session.scalars(
        select(Decoration)
        .where(Decoration.house_id.in_(house_ids))
        .order_by(Decoration.started_on.desc())
    ):
        decorations.setdefault(d.house_id, []).append(
            (d.started_on, d.finished_on, d.contractor, d.description)
        )
    views = []
    for house, building in session.execute(
        select(House, PropBuilding.code)
        .join(PropBuilding, PropBuilding.id == House.building_id)
        .where(House.id.in_(house_ids))
        .order_by(PropBuilding.code, House.unit, House.room)
    ):
        views.append(
            HouseView(
                house_name(building, house.unit, house.room),
                building,
                house.unit,
                house.floor,
                house.room,
                house.area,
                house.sale_status,
                house.rental_status,
                tuple(occupants.get(house.id, ())),
                tuple(decorations.get(house.id, ())),
            )
        )
    return tuple(views)


@dataclass(frozen=True)
class HouseLine:
    office_code: str
    name: str
    building: str
    unit: str
    floor: int
    room: str
    area: Decimal
    sale_status: str
    rental_status: str


@scoped_read(Permission.VIEW_PROPERTY)
def office_houses(
    session: Session, principal: Principal, office_code: str, limit: int = 500
) -> list[HouseLine]:
    """An office's houses, by building, unit and room (at most ``limit``)."""
    office = _office_in_scope(session, principal, Permission.VIEW_PROPERTY, office_code)
    return [
        HouseLine(
            office.code,
            house_name(building, h.unit, h.room),
            building,
            h.unit,
            h.floor,
            h.room,
            h.area,
            h.sale_status,
            h.rental_status,
        )
        for h, building in session.execute(
            select(House, PropBuilding.code)
            .join(PropBuilding, PropBuilding.id == House.building_id)
            .where(House.office_id == office.id)
            .order_by(PropBuilding.code, House.unit, House.room)
            .limit(limit)
        )
    ]


@dataclass(frozen=True)
class FeeLine:
    office_code: str
    code: str
    name: str
    unit_price: Decimal
    basis: str


@scoped_read(Permission.VIEW_PROPERTY)
def office_fee_standards(session: Session, principal: Principal, office_code: str) -> list[FeeLine]:
    """An office's fee standards (收费标准), so the call centre can answer what a fee is."""
    office = _office_in_scope(session, principal, Permission.VIEW_PROPERTY, office_code)
    return [
        FeeLine(office.code, f.code, f.name, f.unit_price, f.basis)
        for f in session.scalars(
            select(FeeStandard).where(FeeStandard.office_id == office.id).order_by(FeeStandard.code)
        )
    ]


@dataclass(frozen=True)
class ParkingLine:
    office_code: str
    space_no: str
    location: str
    area: Decimal
    sale_status: str
    rental_status: str
    stacked: bool


@scoped_read(Permission.VIEW_PROPERTY)
def office_parking(session: Session, principal: Principal, office_code: str) -> list[ParkingLine]:
    """An office's parking spaces (车位), by number."""
    office = _office_in_scope(session, principal, Permission.VIEW_PROPERTY, office_code)
    return [
        ParkingLine(
            office.code, p.space_no, p.location, p.area, p.sale_status, p.rental_status, p.stacked
        )
        for p in session.scalars(
            select(ParkingSpace)
            .where(ParkingSpace.office_id == office.id)
            .order_by(ParkingSpace.space_no)
        )
    ]


# ---------------------------------------------------------------- forms


HOUSE_FIELDS = ("building", "unit", "floor", "room", "area", "sale_status", "rental_status")
CUSTOMER_FIELDS = ("code", "name", "phone", "id_number")


def _writable_office(session: Session, actor: Principal, office_code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == office_code.strip())).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
    if not actor.can(Permission.MANAGE_PROPERTY, office.code):
        raise PermissionDenied("property.not_allowed", office=office.code)
    return office


def _add(problems: Problems, field: str, refusal: Refusal | None, value: object = "") -> None:
    """``refusal`` as a problem of ``field``, its message naming the field."""
    if refusal is not None:
        params = {"value": entry.short(value), **refusal[1]}
        problems.add(field, refusal[0], column=Term(f"property.field.{field}"), **params)


def building_for(session: Session, office: Office, code: str) -> PropBuilding:
    """The office's building ``code``, added if it is new."""
    building = session.scalars(
        select(PropBuilding).where(PropBuilding.office_id == office.id, PropBuilding.code == code)
    ).one_or_none()
    if building is None:
        building = PropBuilding(office_id=office.id, code=code, name="")
        session.add(building)
        session.flush()
    return building


def find_house(
    session: Session, office: Office, building: str, unit: str, room: str
) -> House | None:
    return session.scalars(
        select(House)
        .join(PropBuilding, PropBuilding.id == House.building_id)
        .where(
            PropBuilding.office_id == office.id,
            PropBuilding.code == building,
            House.unit == unit,
            House.room == room,
        )
    ).one_or_none()


def save_house(
    session: Session,
    actor: Principal,
    office_code: str,
    *,
    building: str,
    unit: str,
    floor: str,
    room: str,
    area: str,
    sale_status: str,
    rental_status: str,
) -> str:
    """Add a house, or change the one at ``building-unit-room``; every problem at once
    (:class:`FormRejected`). Returns the house's name."""
    office = _writable_office(session, actor, office_code)
    serialise(session, PROPERTY, [office.id])
    building, unit, room = building.strip(), unit.strip(), room.strip()
    problems = Problems(HOUSE_FIELDS)
    for field, value in (("building", building), ("room", room)):
        if not value:
            _add(problems, field, ("property.required", {}))
        _add(problems, field, part_refusal(value))
    _add(problems, "unit", part_refusal(unit))
    floor_value = 0
    try:
        floor_value = int(floor.strip())
        _add(problems, "floor", entry.integer_refusal(floor_value, -10, 300), floor)
    except ValueError:
        _add(problems, "floor", ("import.bad_number", {"value": floor}))
    area_value = Decimal(0)
    try:
        area_value = area_of(area)
    except Refused as refused:
        _add(problems, "area", (refused.key, refused.params))
    _add(problems, "sale_status", choice_refusal(sale_status, SaleStatus))
    _add(problems, "rental_status", choice_refusal(rental_status, RentalStatus))
    problems.raise_if_any()
    name = house_name(building, unit, room)
    values = {
        "floor": floor_value,
        "area": area_value,
        "sale_status": sale_status,
        "rental_status": rental_status,
    }
    house = find_house(session, office, building, unit, room)
    if house is None:
        place = building_for(session, office, building)
        session.add(
            House(office_id=office.id, building_id=place.id, unit=unit, room=room, **values)
        )
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="prop_house",
            entity_key=f"{office.code}:{name}",
            office_id=office.id,
            after=values,
        )
    else:
        before = {k: getattr(house, k) for k in values}
        if before != values:
            for attribute, new in values.items():
                setattr(house, attribute, new)
            house.version += 1
            audit.record(
                session,
                actor=actor.username,
                action="update",
                entity="prop_house",
                entity_key=f"{office.code}:{name}",
                office_id=office.id,
                before=before,
                after=values,
            )
    session.flush()
    return name


def save_customer(
    session: Session,
    actor: Principal,
    office_code: str,
    *,
    code: str,
    name: str,
    phone: str,
    id_number: str,
    version: int | None = None,
) -> str:
    """Add a customer, or change customer ``code`` (``version``: as the form read it; a
    changed record is :class:`StaleVersion`). Every problem at once. Personal information is
    not written to the audit log, only that it changed."""
    office = _writable_office(session, actor, office_code)
    serialise(session, PROPERTY, [office.id])
    code, name = code.strip(), name.strip()
    phone, id_number = normal_phone(phone.strip()), id_number.strip().upper()
    problems = Problems(CUSTOMER_FIELDS)
    if not code:
        _add(problems, "code", ("property.required", {}))
    elif not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$", code):
        _add(problems, "code", ("import.bad_code", {"value": code}))
    if not name:
        _add(problems, "name", ("property.required", {}))
    else:
        _add(problems, "name", entry.text_refusal(name, Customer.name), name)
    _add(problems, "phone", phone_refusal(phone))
    _add(problems, "id_number", id_number_refusal(id_number))
    problems.raise_if_any()
    customer = session.scalars(
        select(Customer).where(Customer.office_id == office.id, Customer.code == code)
    ).one_or_none()
    if customer is None:
        session.add(
            Customer(office_id=office.id, code=code, name=name, phone=phone, id_number=id_number)
        )
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="prop_customer",
            entity_key=f"{office.code}:{code}",
            office_id=office.id,
            after={"name": name},
        )
    else:
        if version is not None and customer.version != version:
            raise StaleVersion("property.customer_changed", code=code)
        changed = pii_change(customer, name, phone, id_number)
        if changed:
            before = {"name": customer.name}
            customer.name, customer.phone, customer.id_number = name, phone, id_number
            customer.version += 1
            audit.record(
                session,
                actor=actor.username,
                action="update",
                entity="prop_customer",
                entity_key=f"{office.code}:{code}",
                office_id=office.id,
                before=before,
                after={"name": name, "changed": changed},
            )
    session.flush()
    return code


def pii_change(customer: Customer, name: str, phone: str, id_number: str) -> list[str]:
    """Which of a customer's fields a change touches (names only: the audit log keeps no
    phone or ID number)."""
    return [
        field
        for field, old, new in (
            ("name", customer.name, name),
            ("phone", customer.phone, phone),
            ("id_number", customer.id_number, id_number),
        )
        if old != new
    ]
