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
from dataclasses import dataclass, field, replace
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


@dataclass(frozen=True)
class _Write:
    """One checked row, ready to be written: the stored record it updates (found by ``key``),
    else a new one, ``build(**values)``; audited as ``entity`` ``audit_key`` of ``office``.
    A blank value of a ``keep_stored`` field keeps the stored one."""

    office: Office
    key: tuple[Any, ...]
    build: Callable[..., Any]
    values: dict[str, Any]
    audit_key: str
    keep_stored: tuple[str, ...] = ()


Checked = tuple[Any, str, _Write] | None
RowCheck = Callable[[int, dict[str, str], Office | None], Checked]
"""An import's own checks of one row (its number, its values, its office if that is good):
problems go to the :class:`_Rows`; a row that may be written gives (the key it must be unique
by in the file, the name a duplicate is reported by, its :class:`_Write`)."""


def _checked_rows(
    check: _Rows, rows: list[Row], required: Sequence[str], check_row: RowCheck
) -> list[_Write]:
    """Every row through the shared checks (required cells, office, permission), the import's
    own (``check_row``) and the file's duplicates; :class:`ImportRejected` if any was bad."""
    valid: list[_Write] = []
    seen: dict[Any, int] = {}
    for row, values in rows:
        before = len(check.errors)
        office = check.office(row, values, required)
        found = check_row(row, values, office)
        if len(check.errors) > before or office is None or found is None:
            continue
        unique, name, write = found
        if check.once(seen, unique, row, name):
            valid.append(write)
    check.finish()
    return valid


def _stored(
    session: Session, model: type[Any], key: Sequence[str], writes: list[_Write]
) -> dict[tuple[Any, ...], Any]:
    """The stored ``model`` records the writes may update, by ``key`` (column names; the first
    one's values are those of the writes' keys)."""
    column = getattr(model, key[0])
    parents = sorted({w.key[0] for w in writes})
    return {
        tuple(getattr(r, k) for k in key): r
        for r in session.scalars(select(model).where(column.in_(parents)))
    }


def _write_all(
    session: Session,
    actor: Principal,
    writes: list[_Write],
    stored: Mapping[tuple[Any, ...], Any],
    entity: str,
    shown: Callable[[dict[str, Any]], dict[str, Any]] = lambda v: v,
) -> ImportSummary:
    """Create or update every record (:func:`_apply`), then flush."""
    summary = ImportSummary()
    for w in writes:
        current = stored.get(w.key)
        values = {
            name: getattr(current, name)
            if current is not None and name in w.keep_stored and not value
            else value
            for name, value in w.values.items()
        }
        _apply(
            session,
            actor,
            summary,
            current,
            partial(w.build, **values),
            values,
            entity,
            w.office,
            w.audit_key,
            shown,
        )
    session.flush()
    return summary


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


def _offices_named(check: _Rows, rows: list[Row]) -> set[int]:
    """The ids of the known offices the rows name."""
    return {
        check.offices[v["office_code"]].id for _, v in rows if v["office_code"] in check.offices
    }


def _customer(
    check: _Rows,
    row: int,
    v: dict[str, str],
    office: Office | None,
    customers: Mapping[tuple[int, str], Customer],
) -> Customer | None:
    """The row's customer (``customer_code``) of its office; a problem if there is none."""
    if office is None or not v["customer_code"]:
        return None
    customer = customers.get((office.id, v["customer_code"]))
    if customer is None:
        check.bad(row, "property.unknown_customer", code=v["customer_code"], office=office.code)
    return customer


def _house(
    check: _Rows,
    row: int,
    v: dict[str, str],
    office: Office | None,
    houses: Mapping[tuple[int, str, str, str], House],
) -> House | None:
    """The row's house (``building``, ``unit``, ``room``) of its office; a problem if there is
    none."""
    if office is None or not (v["building"] and v["room"]):
        return None
    house = houses.get((office.id, v["building"], v["unit"], v["room"]))
    if house is None:
        name = house_name(v["building"], v["unit"], v["room"])
        check.bad(row, "property.import.unknown_house", house=name, office=office.code)
    return house


# ---------------------------------------------------------------- houses


def import_house_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Houses by office, building, unit and room: floor, area (m²), sale and rental status."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
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
        if office is None or area is None or floor is None:
            return None
        name = house_name(v["building"], v["unit"], v["room"])
        values = {
            "floor": floor,
            "area": area,
            "sale_status": v["sale_status"],
            "rental_status": v["rental_status"],
        }
        key = (office.id, v["building"], v["unit"], v["room"])
        # ``build`` takes its building once the buildings are stored (below).
        return (
            (office.code, name),
            f"{office.code} {name}",
            _Write(office, key, House, values, name),
        )

    valid = _checked_rows(check, rows, HOUSES.required, check_row)
    office_ids = {w.office.id for w in valid}
    buildings = {
        (b.office_id, b.code): b
        for b in session.scalars(
            select(PropBuilding).where(PropBuilding.office_id.in_(sorted(office_ids)))
        )
    }
    writes: list[_Write] = []
    for w in valid:
        office_id, building, unit, room = w.key
        place = buildings.get((office_id, building))
        if place is None:
            place = buildings[(office_id, building)] = PropBuilding(
                office_id=office_id, code=building, name=""
            )
            session.add(place)
            session.flush()
        build = partial(House, office_id=office_id, building_id=place.id, unit=unit, room=room)
        writes.append(replace(w, build=build))
    stored = _houses_of(session, office_ids)
    return _write_all(session, actor, writes, stored, "prop_house")


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

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
        check.code(row, "customer_code", v["customer_code"])
        phone = normal_phone(v["phone"])
        id_number = v["id_number"].upper()
        check.refused(row, "phone", phone_refusal(phone))
        check.refused(row, "id_number", id_number_refusal(id_number))
        if office is None:
            return None
        code = v["customer_code"]
        values = {"name": v["name"], "phone": phone, "id_number": id_number}
        build = partial(Customer, office_id=office.id, code=code)
        write = _Write(office, (office.id, code), build, values, code, ("phone", "id_number"))
        return (office.code, code), code, write

    writes = _checked_rows(check, rows, CUSTOMERS.required, check_row)
    stored = _customers_of(session, {w.office.id for w in writes})
    return _write_all(session, actor, writes, stored, "prop_customer", _no_pii)


# ---------------------------------------------------------------- occupancies


def import_occupancy_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Who held or lived in which house, in which role, from and to which day. A stored
    occupancy (same house, customer, role and move-in day) takes the row's move-out day."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    wanted = _offices_named(check, rows)
    houses = _houses_of(session, wanted)
    customers = _customers_of(session, wanted)
    names = {h.id: name for (_, b, u, r), h in houses.items() for name in [house_name(b, u, r)]}

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
        check.choice(row, "role", v["role"], OccupantRole)
        moved_in = check.day(row, "moved_in_on", v["moved_in_on"])
        moved_out = check.day(row, "moved_out_on", v["moved_out_on"])
        if moved_in and moved_out and moved_out < moved_in:
            check.bad(row, "property.import.out_before_in", moved_out_on=v["moved_out_on"])
        house = _house(check, row, v, office, houses)
        customer = _customer(check, row, v, office, customers)
        if office is None or house is None or customer is None or moved_in is None:
            return None
        role = v["role"]
        key = (house.id, customer.id, role, moved_in)
        build = partial(
            Occupancy, house_id=house.id, customer_id=customer.id, role=role, moved_in_on=moved_in
        )
        audit_key = f"{names[house.id]}:{customer.code}:{role}:{moved_in.isoformat()}"
        write = _Write(office, key, build, {"moved_out_on": moved_out}, audit_key)
        return key, f"{customer.code} {role} {moved_in}", write

    writes = _checked_rows(check, rows, OCCUPANCIES.required, check_row)
    key = ("house_id", "customer_id", "role", "moved_in_on")
    stored = _stored(session, Occupancy, key, writes)
    return _write_all(session, actor, writes, stored, "prop_occupancy")


# ---------------------------------------------------------------- parking spaces


def import_parking_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Parking spaces by office and number: location, area, sale and rental status, stacked."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
        check.code(row, "space_no", v["space_no"])
        area = check.area(row, "area_m2", v["area_m2"])
        check.choice(row, "sale_status", v["sale_status"], SaleStatus)
        check.choice(row, "rental_status", v["rental_status"], RentalStatus)
        stacked = v["stacked"].lower()
        if stacked not in YES | NO:
            check.bad(row, "property.import.bad_yes_no", column="stacked", value=v["stacked"])
        if office is None or area is None:
            return None
        space_no = v["space_no"]
        values = {
            "location": v["location"],
            "area": area,
            "sale_status": v["sale_status"],
            "rental_status": v["rental_status"],
            "stacked": stacked in YES,
        }
        build = partial(ParkingSpace, office_id=office.id, space_no=space_no)
        write = _Write(office, (office.id, space_no), build, values, space_no)
        return (office.code, space_no), space_no, write

    writes = _checked_rows(check, rows, PARKING.required, check_row)
    stored = _stored(session, ParkingSpace, ("office_id", "space_no"), writes)
    return _write_all(session, actor, writes, stored, "prop_parking_space")


# ---------------------------------------------------------------- fee standards


def import_fee_standard_rows(
    session: Session, rows: list[Row], *, actor: Principal
) -> ImportSummary:
    """Fee standards by office and fee code: name, unit price (yuan), basis."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
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
        if office is None or price is None:
            return None
        code = v["fee_code"]
        values = {"name": v["name"], "unit_price": price, "basis": v["basis"]}
        build = partial(FeeStandard, office_id=office.id, code=code)
        return (office.code, code), code, _Write(office, (office.id, code), build, values, code)

    writes = _checked_rows(check, rows, FEE_STANDARDS.required, check_row)
    stored = _stored(session, FeeStandard, ("office_id", "code"), writes)
    return _write_all(session, actor, writes, stored, "prop_fee_standard")


# ---------------------------------------------------------------- vehicles


def import_vehicle_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers' vehicles by office, customer code and plate: the licence number."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    customers = _customers_of(session, _offices_named(check, rows))

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
        plate = v["plate"].replace(" ", "").upper()
        customer = _customer(check, row, v, office, customers)
        if office is None or customer is None:
            return None
        key = (customer.id, plate)
        build = partial(Vehicle, customer_id=customer.id, plate=plate)
        values = {"licence_no": v["licence_no"]}
        return key, plate, _Write(office, key, build, values, f"{customer.code}:{plate}")

    writes = _checked_rows(check, rows, VEHICLES.required, check_row)
    stored = _stored(session, Vehicle, ("customer_id", "plate"), writes)
    return _write_all(session, actor, writes, stored, "prop_vehicle")


# ---------------------------------------------------------------- pets, furniture and appliances


def _owned_rows(
    session: Session,
    rows: list[Row],
    actor: Principal,
    layout: Format,
    model: type[Pet] | type[Furnishing],
    named_by: tuple[str, str],
    entity: str,
) -> ImportSummary:
    """A customer's things (pets, furniture and appliances) by office, customer code and the
    two ``named_by`` columns: the note."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    customers = _customers_of(session, _offices_named(check, rows))
    first, second = named_by

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
        customer = _customer(check, row, v, office, customers)
        if office is None or customer is None:
            return None
        key = (customer.id, v[first], v[second])
        build = partial(model, customer_id=customer.id, **{first: v[first], second: v[second]})
        audit_key = f"{customer.code}:{v[first]}:{v[second]}"
        write = _Write(office, key, build, {"note": v["note"]}, audit_key)
        return key, f"{customer.code} {v[first]} {v[second]}", write

    writes = _checked_rows(check, rows, layout.required, check_row)
    stored = _stored(session, model, ("customer_id", first, second), writes)
    return _write_all(session, actor, writes, stored, entity)


def import_pet_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers' pets by office, customer code, kind and name: the note."""
    return _owned_rows(session, rows, actor, PETS, Pet, ("kind", "name"), "prop_pet")


def import_furnishing_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Customers' furniture and appliances by office, customer code, item and brand: the note."""
    return _owned_rows(
        session, rows, actor, FURNISHINGS, Furnishing, ("item", "brand"), "prop_furnishing"
    )


# ---------------------------------------------------------------- decorations


def import_decoration_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Houses' decoration records by house and start day: end day, contractor, what was done."""
    serialise(session, PROPERTY)
    check = _Rows(session, actor)
    houses = _houses_of(session, _offices_named(check, rows))

    def check_row(row: int, v: dict[str, str], office: Office | None) -> Checked:
        started = check.day(row, "started_on", v["started_on"])
        finished = check.day(row, "finished_on", v["finished_on"])
        if started and finished and finished < started:
            check.bad(row, "property.import.finished_before_start", finished_on=v["finished_on"])
        house = _house(check, row, v, office, houses)
        if office is None or house is None or started is None:
            return None
        name = house_name(v["building"], v["unit"], v["room"])
        values = {
            "finished_on": finished,
            "contractor": v["contractor"],
            "description": v["description"],
        }
        build = partial(Decoration, house_id=house.id, started_on=started)
        audit_key = f"{name}:{started.isoformat()}"
        return (
            (house.id, started),
            f"{name} {started}",
            _Write(office, (house.id, started), build, values, audit_key),
        )

    writes = _checked_rows(check, rows, DECORATIONS.required, check_row)
    stored = _stored(session, Decoration, ("house_id", "started_on"), writes)
    return _write_all(session, actor, writes, stored, "prop_decoration")


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
