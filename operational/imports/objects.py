"""``propcloud import objects``: an office's objects (对象) under the group's type tree.

Columns: ``office_code, object_code, name, type_code`` and optional ``location`` and
``attr:<code>`` — one column per attribute of the tree (``attr:brand``, ``attr:rated_load``),
checked against the row's type: the type (or an ancestor) must define the attribute, the value
must fit its kind (number, ISO date, text), and a required attribute needs a value.

A new object is created. An object already in its office keeps its type (a different
``type_code`` is a bad row); its name is set from the file, and a non-blank location or attribute
value replaces the stored one — a blank cell keeps what is stored, so a file without attribute
columns never wipes them. Importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import audit
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
from operational.models import AttributeKind, MaintObject, ObjectType, ObjectTypeAttribute, Office
from operational.services.objects import (
    OBJECTS,
    all_attribute_codes,
    attribute_problems,
    type_attributes,
    update_object,
)

REQUIRED = ("office_code", "object_code", "name", "type_code")
OPTIONAL = ("location",)
LENGTHS = {"name": MaintObject.name, "location": MaintObject.location}
ATTR_PREFIX = "attr:"


@dataclass
class _Valid:
    row: int
    office: Office
    object_type: ObjectType
    code: str
    name: str
    location: str
    attributes: dict[str, str]
    current: MaintObject | None


def attribute_columns(session: Session) -> dict[str, str]:
    """``attr:<code>`` column (lower case, as the header is matched) → attribute code."""
    return {f"{ATTR_PREFIX}{code.lower()}": code for code in all_attribute_codes(session)}


def _normalised(kind: AttributeKind, value: str) -> str:
    """A spreadsheet's date cell reads as ``2020-05-01 00:00:00``: keep the date."""
    if kind is AttributeKind.DATE:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.time() == datetime.min.time() and moment.tzinfo is None:
            return moment.date().isoformat()
    return value


def _validate(
    session: Session, rows: list[Row], columns: dict[str, str], actor: Principal
) -> tuple[list[_Valid], list[RowError]]:
    errors: list[RowError] = []
    valid: list[_Valid] = []
    offices = {o.code: o for o in session.scalars(select(Office))}
    types = {t.code: t for t in session.scalars(select(ObjectType))}
    known: dict[str, dict[str, ObjectTypeAttribute]] = {}
    wanted_offices = {values["office_code"] for _, values in rows} & offices.keys()
    existing = {
        (o.office_id, o.code): o
        for o in session.scalars(
            select(MaintObject).where(
                MaintObject.office_id.in_(sorted(offices[c].id for c in wanted_offices))
            )
        )
    }
    seen: dict[tuple[str, str], int] = {}
    for number, values in rows:
        row_errors: list[RowError] = []
        for column in REQUIRED:
            if not values[column]:
                row_errors.append(RowError(number, "import.missing_value", {"column": column}))
        code = values["object_code"]
        if code and not CODE_PATTERN.match(code):
            row_errors.append(
                RowError(number, "import.bad_code", {"column": "object_code", "value": code})
            )
        office = offices.get(values["office_code"])
        if values["office_code"] and office is None:
            row_errors.append(
                RowError(number, "users.unknown_office", {"code": values["office_code"]})
            )
        object_type = types.get(values["type_code"])
        if values["type_code"] and object_type is None:
            row_errors.append(
                RowError(number, "objects.unknown_type", {"code": values["type_code"]})
            )
        if office is not None and not actor.can(Permission.MANAGE_OBJECTS, office.code):
            row_errors.append(
                RowError(number, "selfservice.import.office_not_allowed", {"code": office.code})
            )
        if row_errors or office is None or object_type is None:
            errors.extend(row_errors)
            continue
        first = seen.setdefault((office.code, code), number)
        if first != number:
            errors.append(
                RowError(
                    number,
                    "objects.import.duplicate_object",
                    {"code": code, "office": office.code, "first_row": first},
                )
            )
            continue
        current = existing.get((office.id, code))
        if current is not None and current.type_id != object_type.id:
            stored = session.get_one(ObjectType, current.type_id)
            errors.append(
                RowError(
                    number,
                    "objects.import.type_changed",
                    {"code": code, "office": office.code, "type": stored.code},
                )
            )
            continue
        if object_type.code not in known:
            known[object_type.code] = type_attributes(session, object_type)
        specs = known[object_type.code]
        given = {
            columns[c]: _normalised(AttributeKind(specs[columns[c]].kind), v)
            if columns[c] in specs
            else v
            for c, v in values.items()
            if c in columns and v
        }
        attributes = dict(current.attributes) if current is not None else {}
        attributes = {k: v for k, v in attributes.items() if k in specs}
        attributes.update(given)
        problems = attribute_problems(specs, attributes, object_type.code)
        if problems:
            errors.extend(RowError(number, p.key, dict(p.params)) for p in problems)
            continue
        location = values["location"] or (current.location if current is not None else "")
        valid.append(
            _Valid(number, office, object_type, code, values["name"], location, attributes, current)
        )
    return valid, errors


def import_object_rows(
    session: Session,
    rows: list[Row],
    *,
    actor: Principal,
    columns: dict[str, str] | None = None,
) -> ImportSummary:
    """Validate every row, then create or update the objects; nothing if any row is bad.

    ``actor`` needs ``MANAGE_OBJECTS`` at each row's office (a row of another office is a bad
    row); a name acts as that system principal (the command line).

    The import is the only writer of objects meanwhile (:data:`OBJECTS`, taken before anything
    is read): the second of two concurrent imports validates against the first one's objects."""
    principal = actor
    serialise(session, OBJECTS)
    valid, errors = _validate(session, rows, columns or attribute_columns(session), principal)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    summary = ImportSummary()
    for v in valid:
        if v.current is None:
            session.add(
                MaintObject(
                    office_id=v.office.id,
                    type_id=v.object_type.id,
                    code=v.code,
                    name=v.name,
                    location=v.location,
                    attributes=v.attributes,
                )
            )
            audit.record(
                session,
                actor=principal.username,
                action="create",
                entity="maint_object",
                entity_key=f"{v.office.code}:{v.code}",
                office_id=v.office.id,
                after={
                    "type": v.object_type.code,
                    "name": v.name,
                    "location": v.location,
                    **v.attributes,
                },
            )
            summary.created += 1
        elif (v.current.name, v.current.location, v.current.attributes) == (
            v.name,
            v.location,
            v.attributes,
        ):
            summary.unchanged += 1
        else:
            update_object(
                session,
                principal.username,
                v.current,
                office_code=v.office.code,
                name=v.name,
                location=v.location,
                attributes=v.attributes,
            )
            summary.updated += 1
    session.flush()
    return summary


def import_objects_file(
    session: Session, path: Path, *, actor: Principal, encoding: str | None = None
) -> ImportSummary:
    columns = attribute_columns(session)
    read = read_table(path, REQUIRED, (*OPTIONAL, *columns), encoding=encoding, lengths=LENGTHS)
    return import_object_rows(session, read.rows, actor=actor, columns=columns).read_as(
        read.encoding
    )
