"""Scope inside every read: the role × scope test (docs/architecture.md, "Every read carries its
scope").

Against the two-city demo (city companies SH and BJ, offices SH001, SH002, BJ001, BJ002), every
role at office (SH001), city (SH) and group scope drives

- every registered operational read (``operational.scope.READS``), with each office's records
  as arguments: a record of an office outside the scope is NotFound (never loaded, then
  checked), one inside is found;
- every warehouse reader method (``WarehouseReader`` and its subclasses), with each office's
  nodes as arguments;
- every registered page (``dashboards.navigation.PAGES``), plain and with URL parameters that
  name another office's record (the page's ``probes``), and every Excel export it offers;

and fails if anything of an office outside the scope — its code or its name, which the order,
plan and point numbers carry — appears. A supplier user (供方用户, the demo's ``supplier`` of
SH001's cleaning supplier) at each scope drives them too, with its own and other suppliers'
records as arguments, and fails if anything of another supplier — its code, name, contracts,
nonconformities, users, the orders not dispatched to its own users — or any meter point appears.
A new read joins by being registered with ``@scoped_read``, a new reader method by being a public method of a reader, a new page by its
``PageSpec`` line: none by remembering to.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from google.protobuf import text_format
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

import operational
import warehouse
from dashboards import navigation
from dashboards.text import md
from operational.auth import ROLE_PERMISSIONS, Grant, Permission, Principal
from operational.db import create_db_engine
from operational.errors import NotFound
from operational.models import (
    CorrectiveOrder,
    MaintObject,
    MeterPoint,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    Role,
    ScopeLevel,
)
from operational.scope import READS, ReadSpec
from operational.services.energy_followups import ExceptionKey
from operational.sla import ClockTarget, ClockUnit
from warehouse.queries import WarehouseReader, query_names, query_text
from warehouse.queries_energy import LEVELS
from warehouse.scope import OfficeScope

if TYPE_CHECKING:
    from conftest import Site

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
OFFICES = ("BJ001", "BJ002", "SH001", "SH002")
SCOPES: dict[str, tuple[ScopeLevel, str, frozenset[str] | None]] = {
    "office": (ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),
    "city": (ScopeLevel.CITY, "SH", frozenset({"SH001", "SH002"})),
    "group": (ScopeLevel.GROUP, "", None),
}


def _import_all(package: Any) -> None:
    """Import every module of ``package``, so that every read registers itself."""
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


_import_all(operational)
_import_all(warehouse)


def permissions_of(role: Role) -> frozenset[Permission]:
    return frozenset(p for p, roles in ROLE_PERMISSIONS.items() if role in roles)


SUPPLIER_LOGIN = "supplier"
"""The demo's supplier user (SH001's cleaning supplier): supplier principals act as it."""
UNBOUND = -1
"""The supplier id of a supplier principal before :func:`bind` reads the demo's."""


def principal(role: Role, scope: str) -> Principal:
    level, code, offices = SCOPES[scope]
    return Principal(
        900,
        f"{role.value}@{scope}",
        "测试",
        "zh_CN",
        (Grant(role, level, code, offices),),
        supplier_id=UNBOUND if role is Role.SUPPLIER_USER else None,
    )


PRINCIPALS = [
    pytest.param(principal(role, scope), id=f"{role.value}@{scope}")
    for role in Role
    for scope in SCOPES
]


def page_principals() -> list[Principal]:
    """One principal per distinct set of permissions and scope: pages and reads test
    permissions, never role names (docs/architecture.md), so two roles with the same
    permissions see the same pages and records."""
    seen: dict[tuple[frozenset[Permission], str], Principal] = {}
    for role in Role:
        for scope in SCOPES:
            seen.setdefault((permissions_of(role), scope), principal(role, scope))
    return list(seen.values())


# ---------------------------------------------------------------- the demo's records


@dataclasses.dataclass(frozen=True)
class Records:
    """A few records of every office of the demo, to name in arguments and URL parameters."""

    names: dict[str, str]  # office code → office name
    ids: dict[int, str]  # office id → office code
    cities: dict[str, str]  # office code → city code
    orders: dict[str, tuple[str, ...]]  # a periodic and a corrective order number
    plans: dict[str, str]
    points: dict[str, str]
    buildings: dict[str, str]  # office code → "office/building" node of the energy marts
    objects: dict[str, str]
    supplier: tuple[int, int, str]  # the supplier login's user id, supplier id and code
    own_orders: dict[str, str]  # office code → an order dispatched to the supplier's users
    own_contracts: dict[str, str]  # office code → a contract of the supplier
    foreign_orders: dict[str, str]  # office code → an order dispatched to another supplier
    foreign_contracts: dict[str, str]  # office code → a contract of another supplier
    own_ncs: dict[str, str]  # office code → a nonconformity against the supplier's contract
    foreign_ncs: dict[str, str]  # office code → one against another supplier's contract
    handed_over: dict[str, tuple[str, str]]
    """office code → an order and a nonconformity handed to the supplier by another supplier's
    user (:func:`_with_handover`): its work, whose history names the other's user."""
    supplier_markers: tuple[str, ...]
    """What a supplier user must never see: other suppliers' codes, names, contracts,
    nonconformities and users, the orders not dispatched to its own users, meter points."""
    inspections: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    """office code → an inspection plan's number and one of its orders' (docs/inspections.md)"""
    nonconformities: dict[str, str] = dataclasses.field(default_factory=dict)
    tickets: dict[str, str] = dataclasses.field(default_factory=dict)  # a ticket number

    def record(self, kind: str, office: str) -> str:
        return {
            "ticket": self.tickets.get(office, ""),
            "order": self.orders[office][-1],
            "plan": self.plans[office],
            "point": self.points[office],
            "object": self.objects[office],
            "office": office,
            "inspection_plan": self.inspections[office][0],
            "inspection_order": self.inspections[office][1],
            "nonconformity": self.nonconformities.get(office, ""),
            "city": self.cities[office],
        }[kind]


def _with_tickets(database: Path) -> None:
    """A ticket at every office of the demo (a repair of its customer C00001's house), unless
    the demo has tickets already: the ticket reads and the ticket page join the test."""
    from operational.auth import system_principal
    from operational.db import unit_of_work
    from operational.models import Customer, Occupancy, Ticket
    from operational.services.ticket_desk import TicketForm, take_call

    engine = create_db_engine(f"sqlite:///{database}")
    with unit_of_work(engine) as s:
        have = {o for (o,) in s.execute(select(Ticket.office_id).distinct())}
        for office in s.scalars(select(Office)):
            if office.id in have:
                continue
            customer = s.scalars(
                select(Customer).where(Customer.office_id == office.id, Customer.code == "C00001")
            ).first()
            house = (
                s.scalars(
                    select(Occupancy.house_id).where(Occupancy.customer_id == customer.id)
                ).first()
                if customer is not None
                else None
            )
            take_call(
                s,
                system_principal("demo"),
                TicketForm(
                    office.code,
                    "repair",
                    f"{office.name} 水管漏水",
                    house_id=house,
                    customer_id=customer.id if customer is not None else None,
                    place="in_home" if house is not None else "common_area",
                    urgency="urgent",
                ),
                now=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
            )
    engine.dispose()


HANDOVER_OFFICE = "SH001"
HANDOVER_TITLE = "交接测试：地库照明"  # the corrective order handed from one supplier to another
HANDOVER_NC = "交接测试：前台登记"  # the nonconformity handed over likewise


def _with_handover(database: Path) -> None:
    """At SH001, work handed from another supplier's user (the security supplier's
    ``sh001.sup.se``) to the demo's ``supplier``: a corrective order dispatched to the one and
    then to the other, and a corrective-and-preventive nonconformity against no contract whose
    cause the one wrote before it was reassigned to the other. Both are the supplier's work
    now; their histories name the other supplier's user."""
    from operational.auth import load_principal
    from operational.db import unit_of_work
    from operational.models import Discipline, User
    from operational.services import nonconformities as ncs
    from operational.services import orders

    engine = create_db_engine(f"sqlite:///{database}")
    at = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
    with unit_of_work(engine) as s:

        def who(username: str) -> Principal:
            return load_principal(
                s, s.scalars(select(User.id).where(User.username == username)).one()
            )

        supervisor, other = who("sh001.clean"), who("sh001.sup.se")
        order = orders.raise_corrective(
            s,
            supervisor,
            office_code=HANDOVER_OFFICE,
            spec=orders.CorrectiveSpec(
                "sh001.clean", HANDOVER_TITLE, discipline=Discipline.CLEANING
            ),
            at=at,
        )
        orders.assign(s, supervisor, order, "sh001.sup.se", order.version, at=at)
        orders.assign(s, supervisor, order, SUPPLIER_LOGIN, order.version, at=at)
        nc = ncs.open_nonconformity(
            s,
            supervisor,
            office_code=HANDOVER_OFFICE,
            kind="corrective_preventive",
            discipline="cleaning",
            description=HANDOVER_NC,
            assignee="sh001.sup.se",
            at=at,
        )
        ncs.act(s, other, nc, "find_cause", nc.version, text="交接前已分析原因", at=at)
        ncs.act(s, supervisor, nc, "reassign", nc.version, assignee=SUPPLIER_LOGIN, at=at)
    engine.dispose()


@pytest.fixture(scope="module")
def scope_database(demo_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo, with a ticket at every office (:func:`_with_tickets`) and work
    handed from one supplier to another (:func:`_with_handover`)."""
    import shutil

    database = tmp_path_factory.mktemp("scope_db") / "propcloud.db"
    shutil.copyfile(demo_site.database, database)
    _with_tickets(database)
    _with_handover(database)
    return database


@pytest.fixture(scope="module")
def engine(scope_database: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{scope_database}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def records(engine: Engine) -> Records:
    with Session(engine) as s:
        offices = {o.id: o for o in s.scalars(select(Office))}
        codes = {i: o.code for i, o in offices.items()}

        def first(model: Any, column: Any) -> dict[str, str]:
            found: dict[str, str] = {}
            for office_id, value in s.execute(
                select(model.office_id, column).order_by(model.office_id, column)
            ):
                found.setdefault(codes[office_id], value)
            return found

        from operational.models import Ticket

        periodic = first(PeriodicOrder, PeriodicOrder.document_no)
        corrective = first(CorrectiveOrder, CorrectiveOrder.document_no)
        buildings: dict[str, str] = {}
        for office_id, name in s.execute(
            select(MeterPoint.office_id, MeterPoint.building_id).where(
                MeterPoint.building_id.is_not(None)
            )
        ):
            buildings.setdefault(codes[office_id], str(name))
        from operational.models import Building

        building_names = {b.id: b.name for b in s.scalars(select(Building))}
        city_codes = {
            o.code: c
            for o, c in s.execute(
                select(Office, operational.models.CityCompany.code).join(
                    operational.models.CityCompany,
                    operational.models.CityCompany.id == Office.city_id,
                )
            )
        }
        supplier_fields = _supplier_records(s, codes)
        return Records(
            names={o.code: o.name for o in offices.values()},
            ids=codes,
            cities=city_codes,
            orders={c: (periodic[c], corrective[c]) for c in OFFICES},
            plans=first(PeriodicPlan, PeriodicPlan.document_no),
            points=first(MeterPoint, MeterPoint.code),
            buildings={c: f"{c}/{building_names[int(b)]}" for c, b in buildings.items()},
            objects=first(MaintObject, MaintObject.code),
            **supplier_fields,
            inspections=_inspections(s, codes),
            nonconformities=first(
                operational.models.Nonconformity, operational.models.Nonconformity.document_no
            ),
            tickets=first(Ticket, Ticket.document_no),
        )


def _inspections(s: Session, codes: dict[int, str]) -> dict[str, tuple[str, str]]:
    """Each office's first inspection plan and that plan's first order."""
    from operational.models import InspectionOrder, InspectionPlan

    found: dict[str, tuple[str, str]] = {}
    for office_id, plan_no, order_no in s.execute(
        select(InspectionPlan.office_id, InspectionPlan.document_no, InspectionOrder.document_no)
        .join(InspectionOrder, InspectionOrder.plan_id == InspectionPlan.id)
        .order_by(InspectionPlan.office_id, InspectionPlan.id, InspectionOrder.id)
    ):
        found.setdefault(codes[office_id], (plan_no, order_no))
    return found


def _supplier_records(s: Session, codes: dict[int, str]) -> dict[str, Any]:
    from operational.models import Nonconformity, Supplier, SupplierContract, User

    user_id, supplier_id = s.execute(
        select(User.id, User.supplier_id).where(User.username == SUPPLIER_LOGIN)
    ).one()
    assert supplier_id is not None
    suppliers = {
        i: (c, n)
        for i, c, n in s.execute(select(Supplier.id, Supplier.supplier_code, Supplier.name))
    }
    own_users = set(s.scalars(select(User.id).where(User.supplier_id == supplier_id)))
    other_users = list(
        s.scalars(
            select(User.username).where(
                User.supplier_id.is_not(None), User.supplier_id != supplier_id
            )
        )
    )
    contracts = list(
        s.execute(
            select(
                SupplierContract.id,
                SupplierContract.contract_no,
                SupplierContract.supplier_id,
                SupplierContract.office_id,
            )
        )
    )
    own_contract_ids = {i for i, _, sid, _ in contracts if sid == supplier_id}
    orders: list[tuple[str, int | None, int]] = [
        (no, handler, office)
        for model in (CorrectiveOrder, PeriodicOrder)
        for no, handler, office in s.execute(
            select(model.document_no, model.handler_id, model.office_id).order_by(model.document_no)
        )
    ]
    ncs = [
        (no, contract, office)
        for no, contract, assignee, office in s.execute(
            select(
                Nonconformity.document_no,
                Nonconformity.contract_id,
                Nonconformity.assignee_id,
                Nonconformity.office_id,
            ).order_by(Nonconformity.document_no)
        )
        if assignee not in own_users  # one assigned to its users is its work too
    ]
    handed_order = s.scalars(
        select(CorrectiveOrder.document_no).where(CorrectiveOrder.title == HANDOVER_TITLE)
    ).one()
    handed_nc = s.scalars(
        select(Nonconformity.document_no).where(Nonconformity.description == HANDOVER_NC)
    ).one()
    own_ncs: dict[str, str] = {}
    foreign_ncs: dict[str, str] = {}
    for no, contract, office in ncs:
        if contract in own_contract_ids:
            own_ncs.setdefault(codes[office], no)
        elif contract is not None:
            foreign_ncs.setdefault(codes[office], no)
    own_orders: dict[str, str] = {}
    foreign_orders: dict[str, str] = {}
    for no, handler, office in orders:
        if handler in own_users:
            own_orders.setdefault(codes[office], no)
        elif handler is not None and s.get(User, handler).supplier_id is not None:
            foreign_orders.setdefault(codes[office], no)
    markers = [
        *(text for i, pair in suppliers.items() if i != supplier_id for text in pair),
        *(no for i, no, sid, _ in contracts if sid != supplier_id),
        *(no for no, contract, _ in ncs if contract not in own_contract_ids),
        *other_users,
        *(no for no, handler, _ in orders if handler not in own_users),
        *s.scalars(select(MeterPoint.code)),
    ]
    return {
        "supplier": (user_id, supplier_id, suppliers[supplier_id][0]),
        "own_orders": own_orders,
        "own_contracts": {codes[o]: no for i, no, sid, o in contracts if sid == supplier_id},
        "foreign_orders": foreign_orders,
        "foreign_contracts": {codes[o]: no for i, no, sid, o in contracts if sid != supplier_id},
        "own_ncs": own_ncs,
        "foreign_ncs": foreign_ncs,
        "handed_over": {HANDOVER_OFFICE: (handed_order, handed_nc)},
        "supplier_markers": tuple(markers),
    }


def bind(who: Principal, records: Records) -> Principal:
    """A supplier principal as the demo's supplier user (its user id, supplier id and code);
    any other principal as it is."""
    if who.supplier_id is None:
        return who
    user_id, supplier_id, supplier_code = records.supplier
    return dataclasses.replace(
        who, user_id=user_id, supplier_id=supplier_id, supplier_code=supplier_code
    )


def markers(
    records: Records, allowed: frozenset[str] | None, *, supplier: bool = False
) -> list[str]:
    """What of the offices outside ``allowed`` must never appear: their codes and names; for
    a supplier user also anything of other suppliers and the offices' other work."""
    outside = [c for c in OFFICES if allowed is not None and c not in allowed]
    found = [*outside, *(records.names[c] for c in outside)]
    return found + list(records.supplier_markers) if supplier else found


def strings(value: Any, records: Records) -> Iterator[str]:
    """Every piece of text in a read's result (dataclasses, frames, rows, mapped objects)."""
    if value is None or isinstance(value, bool | int | float | date):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, pl.DataFrame):
        yield value.write_csv()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings(getattr(value, field.name), records)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings(item, records)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, records)
            yield from strings(item, records)
    elif hasattr(value, "__table__"):  # a mapped row: its columns and its office
        for column in value.__table__.columns:
            yield str(getattr(value, column.key, ""))
        if getattr(value, "office_id", None) is not None:
            yield records.ids[value.office_id]
    else:
        yield str(value)


def leaked(
    value: Any, records: Records, allowed: frozenset[str] | None, *, supplier: bool = False
) -> list[str]:
    text = "\n".join(strings(value, records)).lower()
    return [m for m in markers(records, allowed, supplier=supplier) if m.lower() in text]


# ---------------------------------------------------------------- operational reads

TARGETS = {"document_no", "office_code", "point_code", "code", "contract_no", "nc_no"}
EXTRA_ARGUMENTS: dict[str, Any] = {
    "start": datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
    "month": date(2026, 11, 1),
    "targets": [
        ClockTarget(5, ClockUnit.BUSINESS_MINUTES, "office"),
        ClockTarget(72, ClockUnit.CALENDAR_HOURS, "24x7"),
    ],
}
"""Values for a read's other required parameters, by name (a callable gets the demo's records
and the office the call is about, or None)."""
EXTRA_ARGUMENTS["customer_code"] = "C00001"  # every demo office's first owner (operational/demo)
EXTRA_ARGUMENTS["keys"] = lambda records, office: [
    ExceptionKey(records.points[o], "point_held", datetime(2026, 11, 1, tzinfo=UTC))
    for o in OFFICES
]


def _read_id(spec: ReadSpec) -> str:
    return f"{spec.function.__module__.rsplit('.', 1)[-1]}.{spec.function.__name__}"


def _arguments(spec: ReadSpec, records: Records, office: str | None) -> dict[str, Any]:
    """Arguments naming ``office``'s records, by parameter name (None: a read of no one
    office), and the read's other required parameters."""
    params = inspect.signature(spec.function).parameters
    args: dict[str, Any] = {}
    if office is None:
        return _extra(params, records, office)
    if "document_no" in params:
        module = spec.function.__module__.rsplit(".", 1)[-1]
        kind = (
            "plan"
            if "plan" in spec.function.__name__
            else "ticket"
            if module in ("tickets", "ticket_desk")
            else "order"
        )
        if spec.function.__module__.endswith(".inspections"):
            kind = f"inspection_{kind}"
        args["document_no"] = records.record(kind, office)
    if "office_code" in params:
        args["office_code"] = office
    if "point_code" in params:
        args["point_code"] = records.points[office]
    if "code" in params:
        args["code"] = records.objects[office]
    if "contract_no" in params:
        args["contract_no"] = f"HT-{office}-CL"  # the demo's cleaning contract of the office
    if "nc_no" in params:
        args["nc_no"] = records.nonconformities[office]
    return args | _extra(params, records, office)


def _extra(params: Any, records: Records, office: str | None) -> dict[str, Any]:
    return {
        name: value(records, office) if callable(value) else value
        for name, value in EXTRA_ARGUMENTS.items()
        if name in params and params[name].default is inspect.Parameter.empty
    }


def test_every_read_of_a_read_only_module_is_registered() -> None:
    """The forms' lookups are all reads: each one is registered, so none escapes the test."""
    from operational.services import lookup

    registered = {spec.function for spec in READS}
    public = [
        f
        for name, f in inspect.getmembers(lookup, inspect.isfunction)
        if f.__module__ == lookup.__name__ and not name.startswith("_")
    ]
    assert public and [f.__name__ for f in public if f not in registered] == []


def _permissions_to_try(spec: ReadSpec, who: Principal, every: bool) -> list[Permission]:
    """The permissions to ask ``spec`` for as ``who``: its own, or — for a read that takes any
    permission — every one (``every``) or one for each set of offices a permission gives ``who``
    (what decides the scope of the read: the first permission whose offices are those)."""
    if spec.permission:
        return [spec.permission]
    if every:
        return list(Permission)
    first: dict[frozenset[str] | None, Permission] = {}
    for permission in Permission:
        offices = who.offices_for(permission)
        first.setdefault(None if offices is None else frozenset(offices), permission)
    return list(first.values())


def _read_params() -> list[Any]:
    """Every registered read. A read that takes any permission (``spec.permission`` None) runs
    once per kind of scope each principal gets from the permissions, and — marked slow, for
    ``make test`` — with every permission (41 × each principal × each office: seconds apiece)."""
    params = []
    for spec in READS:
        params.append(pytest.param(spec, False, id=_read_id(spec)))
        if spec.permission is None:
            params.append(
                pytest.param(
                    spec, True, id=f"{_read_id(spec)}-every-permission", marks=pytest.mark.slow
                )
            )
    return params


@pytest.mark.parametrize(("spec", "every"), _read_params())
def test_an_operational_read_keeps_to_every_scope(
    spec: ReadSpec, every: bool, engine: Engine, records: Records
) -> None:
    params = inspect.signature(spec.function).parameters
    targeted = bool(TARGETS & set(params))
    found_in_scope = 0
    for who in page_principals():
        if who.supplier_id is not None:
            continue  # test_an_operational_read_keeps_to_a_supplier_user
        for permission in _permissions_to_try(spec, who, every):
            allowed = who.offices_for(permission)
            for office in OFFICES if targeted else (None,):
                args = _arguments(spec, records, office)
                if "permission" in params:
                    args["permission"] = (
                        permission if spec.permission is None else Permission.HANDLE_ORDERS
                    )
                inside = office is None or allowed is None or office in allowed
                with Session(engine) as s:
                    try:
                        result = spec.function(s, who, **args)
                    except NotFound:
                        assert not inside, (who.username, permission, office, "not found")
                        continue
                    seen = leaked(result, records, allowed)
                    s.rollback()
                assert not seen, (who.username, permission, office, seen)
                # A record of another office is NotFound or nothing: what it holds may
                # carry no marker (an object named 1号电梯 exists at every office).
                assert inside or not result, (who.username, permission, office, result)
                found_in_scope += inside and office is not None
    assert found_in_scope or not targeted, "no principal found any record: the test is vacuous"


# ---------------------------------------------------------------- warehouse readers


def _reader_classes() -> list[type[WarehouseReader]]:
    found, todo = [], [WarehouseReader]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _reader_methods() -> list[tuple[type[WarehouseReader], str]]:
    return [
        (cls, name)
        for cls in _reader_classes()
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_") and name != "frame"
    ]


def _node_calls(
    method: Callable[..., Any], records: Records
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Argument sets for a reader method, each with the office the call is about (None: a
    call about the reader's whole scope)."""
    params = inspect.signature(method).parameters
    base: dict[str, Any] = {}
    for name, value in {
        "kind": "electricity",
        "start": date(2000, 1, 1),
        "end": date(2030, 12, 1),
        "year": 2026,
        "limit": 100_000,
    }.items():
        if name in params:
            base[name] = value
    if "level" in params:
        for level in LEVELS:
            for office in OFFICES:
                node = {
                    "point": records.points[office],
                    "building": records.buildings.get(office, f"{office}/-"),
                    "office": office,
                    "city": records.cities[office],
                    "group": "YY",
                }[level]
                about = None if level == "group" else office
                yield {**base, "level": level, "node_code": node}, about
    elif "point_code" in params:
        for office in OFFICES:
            yield {**base, "point_code": records.points[office]}, office
    elif "office_code" in params:
        for office in OFFICES:
            yield {**base, "office_code": office}, office
    else:
        yield base, None


def _in(office: str, allowed: frozenset[str] | None) -> bool:
    return allowed is None or office in allowed


def figures(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` that carry any value beyond a month number (this-year-vs-last
    answers twelve months, empty or not)."""
    values = frame.drop("month_number") if "month_number" in frame.columns else frame
    if values.width == 0:
        return values
    return values.filter(~pl.all_horizontal(pl.all().is_null()))


def _city_scope(allowed: frozenset[str] | None, records: Records) -> set[str]:
    """The cities whose every office is in ``allowed``: their totals are visible."""
    return {
        c
        for c in set(records.cities.values())
        if all(allowed is None or o in allowed for o, oc in records.cities.items() if oc == c)
    }


@pytest.mark.parametrize(
    ("cls", "name"), _reader_methods(), ids=[f"{c.__name__}.{n}" for c, n in _reader_methods()]
)
def test_a_warehouse_reader_keeps_to_every_scope(
    cls: type[WarehouseReader], name: str, demo_site: Site, records: Records
) -> None:
    for scope in SCOPES:
        allowed = SCOPES[scope][2]
        reader = cls(demo_site.warehouse_dir, OfficeScope.of(allowed))
        cities = _city_scope(allowed, records)
        method = getattr(reader, name)
        for args, about in _node_calls(method, records):
            result = method(**args)
            assert not leaked(result, records, allowed), (scope, name, args)
            if not isinstance(result, pl.DataFrame):
                continue
            if "office_code" in result.columns:
                seen = set(result["office_code"].drop_nulls())
                assert allowed is None or seen <= allowed, (scope, name, args)
            level = args.get("level")
            if "office_code" in result.columns or (
                name == "children" and level in ("city", "group")
            ):
                continue  # rows of offices (or child nodes) in scope: their codes are checked above
            # A total mixes its offices' figures, which no marker shows: a node outside the
            # scope — an office, a building, a point, a city or the group not wholly in scope —
            # must have no figures at all.
            outside = (
                (level == "city" and args["node_code"] not in cities)
                or (level == "group" and allowed is not None)
                or (
                    level not in ("city", "group") and about is not None and not _in(about, allowed)
                )
            )
            if outside:
                assert figures(result).is_empty(), (scope, name, args)


def test_every_query_file_keeps_to_the_readers_scope() -> None:
    """A query that forgot the scope is refused when it is loaded (and so here, for all)."""
    names = query_names()
    assert names
    for name in names:
        query_text(name)


# ---------------------------------------------------------------- pages and exports


def rendered(app: AppTest) -> str:
    """Everything a page put on the screen: every element's text, options, tables and charts."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children) or ():
            walk(child)

    walk(app._tree)
    parts.extend(frame.value.to_csv() for frame in app.dataframe)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def site_env(
    demo_site: Site, scope_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The app's settings, pointed at a copy of the demo (pages may write: a form, a login)."""
    import os
    import shutil

    database = tmp_path_factory.mktemp("scope") / "propcloud.db"
    shutil.copyfile(scope_database, database)
    saved = {k: os.environ.get(k) for k in ("PROPCLOUD_DATABASE_URL", "PROPCLOUD_WAREHOUSE_DIR")}
    os.environ["PROPCLOUD_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["PROPCLOUD_WAREHOUSE_DIR"] = str(demo_site.warehouse_dir)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_every_page_is_opened_by_some_principal() -> None:
    for page in navigation.PAGES:
        assert any(who.can(page.permission) for who in page_principals()), page.file


@pytest.mark.slow
@pytest.mark.parametrize("who", [pytest.param(w, id=w.username) for w in page_principals()])
def test_every_page_and_export_keeps_to_the_scope(
    who: Principal, site_env: None, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page the principal may open, plain and with URL parameters naming another
    office's record, and every table it offers to export."""
    from dashboards import export

    exported: list[pl.DataFrame] = []
    original = export.excel_download

    def keep(table: pl.DataFrame, file_stem: str, *, key: str) -> None:
        exported.append(table() if callable(table) else table)
        original(table, file_stem, key=key)

    monkeypatch.setattr(export, "excel_download", keep)
    who = bind(who, records)
    supplier = who.supplier_id is not None
    (grant,) = who.grants
    allowed = grant.offices
    foreign = [o for o in OFFICES if allowed is not None and o not in allowed]
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["principal"] = who
    for page in navigation.PAGES:
        if not who.can(page.permission):
            continue
        probes = [{}] + [
            {key: records.record(kind, office) for key, kind in page.probes}
            for office in (foreign if page.probes else [])
        ]
        kinds = {kind for _, kind in page.probes}
        if supplier and kinds in ({"order"}, {"nonconformity"}):
            # another supplier's order or nonconformity at an office in scope, and one handed
            # over to this supplier from another (its history names the other's user)
            nc = kinds == {"nonconformity"}
            foreign = records.foreign_ncs if nc else records.foreign_orders
            probes += [
                {key: record for key, _ in page.probes}
                for office, record in [
                    *foreign.items(),
                    *((o, pair[nc]) for o, pair in records.handed_over.items()),
                ]
                if allowed is None or office in allowed
            ]
        for query in probes:
            exported.clear()
            app.query_params.clear()
            app.switch_page(page.file)
            for key, value in query.items():
                app.query_params[key] = value
            app.run()
            where = (page.file, query)
            assert not app.exception, (*where, app.exception)
            screen = rendered(app)
            for echoed in query.values():  # the page may repeat what it was asked for
                escaped = md(echoed)  # as a Markdown element shows it (and as its proto text)
                for variant in (echoed, escaped, escaped.replace("\\", "\\\\")):
                    screen = screen.replace(variant, "")
            found = [
                m
                for m in markers(records, allowed, supplier=supplier)
                if m.lower() in screen.lower()
            ]
            assert not found, (*where, found)
            assert not leaked(exported, records, allowed, supplier=supplier), (*where, "export")


# ---------------------------------------------------------------- supplier users


def supplier_principals(records: Records) -> list[Principal]:
    """The supplier user at office (SH001), city (SH) and group scope, as the demo's one."""
    return [bind(principal(Role.SUPPLIER_USER, scope), records) for scope in SCOPES]


def _supplier_calls(
    spec: ReadSpec, records: Records, office: str
) -> Iterator[tuple[dict[str, Any], bool | None]]:
    """Arguments for a read about ``office``, each with whether it names the supplier's own
    record (True), another's (False) or no record of a supplier (None: an office, a point)."""
    params = inspect.signature(spec.function).parameters
    args = _arguments(spec, records, office)
    if "document_no" in params and "plan" not in spec.function.__name__:
        handed = records.handed_over.get(office, (None, None))[0]
        for order, own in (
            (records.own_orders.get(office), True),
            (handed, True),
            (records.foreign_orders.get(office), False),
            (records.orders[office][-1], False),
        ):
            if order is not None:
                yield {**args, "document_no": order}, own
    elif "contract_no" in params:
        for contract, own in (
            (records.own_contracts.get(office), True),
            (records.foreign_contracts.get(office), False),
        ):
            if contract is not None:
                yield {**args, "contract_no": contract}, own
    elif "nc_no" in params:
        for nc, own in (
            (records.own_ncs.get(office), True),
            (records.handed_over.get(office, (None, None))[1], True),
            (records.foreign_ncs.get(office), False),
        ):
            if nc is not None:
                yield {**args, "nc_no": nc}, own
    elif TARGETS & set(params) - {"office_code"}:
        yield args, False  # a point or an object: no supplier's work
    else:
        yield args, None


@pytest.mark.parametrize("spec", READS, ids=_read_id)
def test_an_operational_read_keeps_to_a_supplier_user(
    spec: ReadSpec, engine: Engine, records: Records
) -> None:
    """A supplier user finds its own supplier's orders and contracts and nothing of another
    supplier's, nor anything of the offices' other work, whatever the permission asked."""
    params = inspect.signature(spec.function).parameters
    targeted = bool(TARGETS & set(params))
    found_own = 0
    for who in supplier_principals(records):
        for permission in [spec.permission] if spec.permission else list(Permission):
            allowed = who.offices_for(permission)
            offices = [o for o in OFFICES if allowed is None or o in allowed]
            calls = (
                [c for o in offices for c in _supplier_calls(spec, records, o)]
                if targeted
                else [(_extra(params, records, None), None)]
            )
            for args, own in calls:
                if "permission" in params:
                    args["permission"] = (
                        permission if spec.permission is None else Permission.HANDLE_ORDERS
                    )
                with Session(engine) as s:
                    try:
                        result = spec.function(s, who, **args)
                    except NotFound:
                        continue
                    seen = leaked(result, records, allowed, supplier=True)
                    s.rollback()
                assert not seen, (who.username, permission, args, seen)
                assert own is not False or not result, (who.username, permission, args)
                found_own += bool(own)
    holds = spec.permission is None or any(
        w.can(spec.permission) for w in supplier_principals(records)
    )
    if (
        holds
        and {"document_no", "contract_no", "nc_no"} & set(params)
        and "plan" not in spec.function.__name__
    ):
        assert found_own, "the supplier user found none of its own records: the test is vacuous"


@pytest.mark.parametrize(
    ("cls", "name"), _reader_methods(), ids=[f"{c.__name__}.{n}" for c, n in _reader_methods()]
)
def test_a_warehouse_reader_keeps_to_a_supplier(
    cls: type[WarehouseReader], name: str, demo_site: Site, records: Records
) -> None:
    """A reader bound to a supplier returns only that supplier's rows, and nothing at all from
    a query that does not apply the supplier's scope (energy, SLA, the control tower)."""
    from warehouse.queries_suppliers import SupplierReader

    _, _, code = records.supplier
    for scope in SCOPES:
        allowed = SCOPES[scope][2]
        reader = cls(demo_site.warehouse_dir, OfficeScope.of(allowed, supplier=code))
        method = getattr(reader, name)
        for args, _about in _node_calls(method, records):
            result = method(**args)
            assert not leaked(result, records, allowed, supplier=True), (scope, name, args)
            if not isinstance(result, pl.DataFrame):
                continue
            if "supplier_code" in result.columns:
                assert set(result["supplier_code"].drop_nulls()) <= {code}, (scope, name, args)
            elif cls is not SupplierReader and name != "build_info":
                assert figures(result).is_empty(), (scope, name, args)


def test_a_supplier_readers_ranking_is_its_rows_of_the_offices_ranking(
    demo_site: Site, records: Records
) -> None:
    """The supplier user sees its own rank among the suppliers of its offices: the rows of
    the office reader's ranking that are its supplier's, and only those."""
    from warehouse.queries_suppliers import SupplierReader

    _, _, code = records.supplier
    office = OfficeScope.of({"SH001"})
    mine = SupplierReader(demo_site.warehouse_dir, OfficeScope.of({"SH001"}, supplier=code))
    everyone = SupplierReader(demo_site.warehouse_dir, office).ranking()
    ranking = mine.ranking()
    assert not ranking.is_empty()
    assert ranking.equals(everyone.filter(pl.col("supplier_code") == code))
    assert everyone["supplier_code"].n_unique() > 1  # others are ranked, and hidden from it
