"""``propcloud import org``: city companies and management offices (the first data contract).

Columns: ``city_code, city_name, office_code, office_name`` and optional ``timezone``
(default ``Asia/Shanghai``). The group is the installation's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import audit
from operational.auth import Permission, Principal
from operational.errors import PermissionDenied
from operational.imports.table import (
    CODE_PATTERN,
    ImportRejected,
    ImportSummary,
    Row,
    RowError,
    read_table,
)
from operational.models import CityCompany, Group, Office

REQUIRED = ("city_code", "city_name", "office_code", "office_name")
OPTIONAL = ("timezone",)
LENGTHS = {"city_name": CityCompany.name, "office_name": Office.name}
DEFAULT_TIMEZONE = "Asia/Shanghai"


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass(frozen=True)
class OfficeRow:
    row: int
    city_code: str
    city_name: str
    office_code: str
    office_name: str
    timezone: str


def _validate(rows: list[Row]) -> tuple[list[OfficeRow], list[RowError]]:
    errors: list[RowError] = []
    good: list[OfficeRow] = []
    city_names: dict[str, tuple[int, str]] = {}
    offices: dict[str, OfficeRow] = {}
    for number, values in rows:
        row_errors: list[RowError] = []
        for column in REQUIRED:
            if not values[column]:
                row_errors.append(RowError(number, "import.missing_value", {"column": column}))
        for column in ("city_code", "office_code"):
            code = values[column]
            if code and not CODE_PATTERN.match(code):
                row_errors.append(
                    RowError(number, "import.bad_code", {"column": column, "value": code})
                )
        zone = values["timezone"] or DEFAULT_TIMEZONE
        if zone not in _zones():
            row_errors.append(RowError(number, "import.org.unknown_timezone", {"value": zone}))
        if row_errors:
            errors.extend(row_errors)
            continue
        office = OfficeRow(
            number,
            values["city_code"],
            values["city_name"],
            values["office_code"],
            values["office_name"],
            zone,
        )
        first_city = city_names.setdefault(office.city_code, (number, office.city_name))
        if first_city[1] != office.city_name:
            errors.append(
                RowError(
                    number,
                    "import.org.city_name_conflict",
                    {"code": office.city_code, "name": first_city[1], "first_row": first_city[0]},
                )
            )
            continue
        earlier = offices.get(office.office_code)
        if earlier is None:
            offices[office.office_code] = office
            good.append(office)
        elif earlier.city_code != office.city_code:
            errors.append(
                RowError(
                    number,
                    "import.org.office_in_two_cities",
                    {
                        "code": office.office_code,
                        "city": earlier.city_code,
                        "first_row": earlier.row,
                    },
                )
            )
        elif (earlier.office_name, earlier.timezone) != (office.office_name, office.timezone):
            errors.append(
                RowError(
                    number,
                    "import.org.office_conflict",
                    {"code": office.office_code, "first_row": earlier.row},
                )
            )
    return good, errors


def ensure_group(session: Session, code: str, name: str) -> Group:
    """The installation's group, created on first use."""
    group = session.scalars(select(Group)).first()
    if group is None:
        group = Group(code=code, name=name)
        session.add(group)
        session.flush()
        audit.record(
            session,
            actor="system",
            action="create",
            entity="org_group",
            entity_key=code,
            after={"code": code, "name": name},
        )
    return group


def import_org_rows(
    session: Session, rows: list[Row], *, group: Group, actor: Principal
) -> ImportSummary:
    """Validate every row, then create or update cities and offices; nothing if any row is bad.

    ``actor`` needs ``MANAGE_USERS`` (held group-wide only: the group administrator, or the
    command line's system principal)."""
    principal = actor
    if not principal.can(Permission.MANAGE_USERS):
        raise PermissionDenied("auth.not_allowed")
    name = principal.username
    offices, errors = _validate(rows)
    cities = {c.code: c for c in session.scalars(select(CityCompany))}
    existing = {o.code: o for o in session.scalars(select(Office))}
    city_by_id = {c.id: c for c in cities.values()}
    for office in offices:
        current = existing.get(office.office_code)
        if current is not None and city_by_id[current.city_id].code != office.city_code:
            errors.append(
                RowError(
                    office.row,
                    "import.org.office_moved",
                    {"code": office.office_code, "city": city_by_id[current.city_id].code},
                )
            )
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))

    summary = ImportSummary()
    for office in offices:
        city = cities.get(office.city_code)
        if city is None:
            city = CityCompany(group_id=group.id, code=office.city_code, name=office.city_name)
            session.add(city)
            session.flush()
            cities[city.code] = city
            audit.record(
                session,
                actor=name,
                action="create",
                entity="org_city_company",
                entity_key=city.code,
                after={"code": city.code, "name": city.name},
            )
        elif city.name != office.city_name:
            before = {"name": city.name}
            city.name = office.city_name
            audit.record(
                session,
                actor=name,
                action="update",
                entity="org_city_company",
                entity_key=city.code,
                before=before,
                after={"name": city.name},
            )
        current = existing.get(office.office_code)
        fields = {"name": office.office_name, "timezone": office.timezone}
        if current is None:
            session.add(Office(city_id=city.id, code=office.office_code, **fields))
            audit.record(
                session,
                actor=name,
                action="create",
                entity="org_office",
                entity_key=office.office_code,
                after={"code": office.office_code, "city_code": city.code, **fields},
            )
            summary.created += 1
        elif (current.name, current.timezone) != (office.office_name, office.timezone):
            before = {"name": current.name, "timezone": current.timezone}
            current.name, current.timezone = office.office_name, office.timezone
            audit.record(
                session,
                actor=name,
                action="update",
                entity="org_office",
                entity_key=office.office_code,
                before=before,
                after=fields,
            )
            summary.updated += 1
        else:
            summary.unchanged += 1
    session.flush()
    return summary


def import_org_file(
    session: Session,
    path: Path,
    *,
    group: Group,
    actor: Principal,
    encoding: str | None = None,
) -> ImportSummary:
    read = read_table(path, REQUIRED, OPTIONAL, encoding=encoding, lengths=LENGTHS)
    return import_org_rows(session, read.rows, group=group, actor=actor).read_as(read.encoding)
