"""The caller lookup answers through indexes on both backends (docs/tickets.md, "The desk"):
every query ``find_callers`` runs — by phone, by house, by a name's beginning or a customer
code, for an agent of one office and for the whole group — is EXPLAINed as it ran (same text,
same parameters) and must read the customers, houses, buildings and occupancies through an
index, never by scanning them; the name's beginning through ``ix_prop_customer_name_prefix``
(on PostgreSQL a ``text_pattern_ops`` index: a plain one serves no LIKE under a non-C
collation). PostgreSQL is asked with sequential scans disabled, so its plan says whether an index
*can* serve the query, whatever the size of the test's tables."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, event, insert, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from operational.auth import Principal, load_principal, system_principal
from operational.db import alembic_config, create_db_engine, upgrade
from operational.imports.property import import_property_file
from operational.models import (
    CityCompany,
    Customer,
    Group,
    House,
    Occupancy,
    Office,
    PropBuilding,
    Role,
    RoleGrant,
    ScopeLevel,
    User,
)
from operational.services.property import find_customers
from operational.services.ticket_desk import find_callers
from tests.conftest import BACKENDS, fresh_database_url

CLI = system_principal("cli")
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
BIG_TABLES = ("prop_customer", "prop_house", "prop_building", "prop_occupancy")


@pytest.fixture
def agent(session: Session) -> Principal:
    """Offices SH001 and SH002 with the example property data, an agent at SH001."""
    group = session.scalars(select(Group)).one()
    city = CityCompany(group_id=group.id, code="PLN", name="计划城市")
    session.add(city)
    session.flush()
    offices = {}
    for code in ("SH001", "SH002"):
        office = session.scalars(select(Office).where(Office.code == code)).one_or_none()
        offices[code] = office or Office(city_id=city.id, code=code, name=f"{code}管理处")
        session.add(offices[code])
    session.flush()
    for name in ("houses", "customers", "occupancies"):
        import_property_file(session, name, EXAMPLES / f"{name}.csv", actor=CLI)
    _fill(session, [offices["SH001"].id, offices["SH002"].id])
    user = User(
        username="plan.agent",
        display_name="坐席",
        password_hash="x",
        grants=[
            RoleGrant(
                role=Role.CALL_CENTRE_AGENT.value,
                scope_level=ScopeLevel.OFFICE.value,
                office_id=offices["SH001"].id,
            )
        ],
    )
    session.add(user)
    session.flush()
    return load_principal(session, user.id)


def _fill(session: Session, office_ids: list[int]) -> None:
    """Some volume beside the examples — per office 8 buildings of 4 units × 60 rooms, each
    house with its owner — and, on PostgreSQL, fresh statistics (its autovacuum would have
    them): on a handful of rows walking a whole index costs about as much as a lookup, and the
    planner's choice would prove nothing."""
    buildings = session.execute(
        insert(PropBuilding).returning(PropBuilding.id, PropBuilding.office_id),
        [{"office_id": o, "code": f"B{b}", "name": ""} for o in office_ids for b in range(8)],
    ).all()
    houses = session.execute(
        insert(House).returning(House.id, House.office_id),
        [
            {
                "office_id": office,
                "building_id": building,
                "unit": str(unit),
                "floor": floor,
                "room": f"{floor:02d}{door:02d}",
                "area": Decimal("88.5"),
                "sale_status": "sold",
                "rental_status": "self_use",
            }
            for building, office in buildings
            for unit in range(1, 5)
            for floor in range(1, 16)
            for door in range(1, 5)
        ],
    ).all()
    customers = session.execute(
        insert(Customer).returning(Customer.id),
        [
            {
                "office_id": office,
                "code": f"V{i:05d}",
                "name": f"{'赵钱孙李周吴郑王冯陈'[i % 10]}{i}",
                "phone": f"1501{i:07d}",
                "id_number": "",
            }
            for i, (_, office) in enumerate(houses)
        ],
    ).scalars()
    session.execute(
        insert(Occupancy),
        [
            {
                "house_id": house,
                "customer_id": customer,
                "role": "owner",
                "moved_in_on": date(2020, 1, 1),
            }
            for (house, _), customer in zip(houses, customers, strict=True)
        ],
    )
    if session.get_bind().dialect.name != "sqlite":
        for table in (*BIG_TABLES, "org_office"):
            session.execute(text(f"ANALYZE {table}"))


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _lines(plan: dict[str, Any], leading: dict[str, tuple[str, str]]) -> list[str]:
    """A PostgreSQL plan (``FORMAT JSON``) as one line per node: what it reads and how. An
    index read of a big table whose condition leaves out the index's first column walks the
    whole index (PostgreSQL still calls that an index condition): marked ``WHOLE INDEX``."""
    lines = []
    for node in _nodes(plan):
        line = " ".join(
            f"{key}={node[key]}" if key != "Node Type" else node[key]
            for key in ("Node Type", "Relation Name", "Index Name", "Index Cond")
            if key in node
        )
        table, first = leading.get(node.get("Index Name", ""), ("", ""))
        if table in BIG_TABLES and not re.search(rf"\b{first}\b", node.get("Index Cond", "")):
            line += " WHOLE INDEX"
        lines.append(line)
    return lines


def _plans(
    session: Session, who: Principal, query: str, lookup: Callable[..., list[Any]] = find_callers
) -> Iterator[str]:
    """The plan of every statement ``lookup(who, query)`` runs, each as one text: on
    SQLite its ``EXPLAIN QUERY PLAN`` lines, on PostgreSQL one line per node (type, table,
    index, index condition)."""
    connection: Connection = session.connection()
    ran: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            ran.append((statement, parameters))

    event.listen(connection.engine, "before_cursor_execute", capture)
    try:
        hits = lookup(session, who, query)
    finally:
        event.remove(connection.engine, "before_cursor_execute", capture)
    assert hits, (query, "the lookup must find someone, else its plans prove little")
    if connection.dialect.name == "sqlite":
        for statement, parameters in ran:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            yield "\n".join(str(row[-1]) for row in rows)
        return
    leading = {
        index: (table, column)
        for index, table, column in connection.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, a.attname"
            " FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        )
    }
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    try:
        for statement, parameters in ran:
            found = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = found.scalar_one()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            yield "\n".join(_lines(plan[0]["Plan"], leading))
    finally:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")


def _scans(plan: str, sqlite: bool) -> list[str]:
    """The lines of ``plan`` that read a big table whole: a scan, or an index read without an
    index condition (PostgreSQL walking a whole index)."""
    tables = "|".join(BIG_TABLES)
    if sqlite:
        return [line for line in plan.splitlines() if re.search(rf"\bSCAN ({tables})\b", line)]
    return [
        line
        for line in plan.splitlines()
        if line.endswith("WHOLE INDEX")
        or (
            re.search(rf"Relation Name=({tables})\b", line)
            and ("Seq Scan" in line or "Index Cond=" not in line)
            and "Bitmap Heap Scan" not in line  # its Bitmap Index Scan child has the condition
        )
    ]


@pytest.mark.parametrize("query", ["139 0000 1111", "3-2-1201", "张", "C0001"])
def test_every_branch_of_the_caller_lookup_is_an_index_lookup(
    session: Session, agent: Principal, query: str
) -> None:
    sqlite = session.get_bind().dialect.name == "sqlite"
    for who in (agent, CLI):  # one office, and every office
        plans = list(_plans(session, who, query))
        assert plans
        for plan in plans:
            assert not _scans(plan, sqlite), plan


def test_a_names_beginning_goes_through_the_name_prefix_index(
    session: Session, agent: Principal
) -> None:
    for who in (agent, CLI):
        plans = "\n".join(_plans(session, who, "张"))
        assert "ix_prop_customer_name_prefix" in plans or (
            session.get_bind().dialect.name == "sqlite"
            and "ix_prop_customer_office_name (office_id=? AND name>? AND name<?)" in plans
        ), plans
    plans = "\n".join(_plans(session, CLI, "张"))  # every office: only the name index serves
    assert "ix_prop_customer_name_prefix" in plans, plans
    if session.get_bind().dialect.name != "sqlite":  # the pattern operators: LIKE served
        assert "~>=~" in plans and "~<~" in plans, plans
    assert "ix_prop_customer_phone" in "\n".join(_plans(session, agent, "13900001111"))


def test_the_customers_page_search_is_an_index_lookup_too(
    session: Session, agent: Principal
) -> None:
    """The customers page reads the same field (``find_customers``). Its name's beginning is
    SQLite's case-blind ``LIKE`` there, which no index serves (a small installation's page);
    on PostgreSQL the pattern index, and the code a query of its own."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    queries = ["139 0000 1111", "3-2-1201"] + ([] if sqlite else ["张", "C0001"])
    for query in queries:
        for who in (agent, CLI):
            plans = list(_plans(session, who, query, find_customers))
            for plan in plans:
                assert not _scans(plan, sqlite), (query, plan)
            if query == "张" and who is CLI:
                assert "ix_prop_customer_name_prefix" in "\n".join(plans)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow  # migrations down and back up
def test_migration_0024_adds_the_lookup_indexes_and_takes_them_back(
    backend: str, tmp_path: Path
) -> None:
    def indexes(engine: Engine) -> dict[str, str]:
        found = {
            i["name"]: i
            for table in ("prop_customer", "prop_building")
            for i in inspect(engine).get_indexes(table)
        }
        wanted = ("ix_prop_customer_name_prefix", "ix_prop_building_code")
        if engine.dialect.name == "sqlite":
            return {n: ",".join(map(str, found[n]["column_names"])) for n in wanted if n in found}
        with engine.connect() as con:
            return dict(
                con.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"
                    ),
                    {"names": list(wanted)},
                ).all()
            )

    for url in fresh_database_url(backend, tmp_path):
        upgrade(url, "0023_inspection_disciplines")
        engine = create_db_engine(url)
        try:
            assert indexes(engine) == {}
            upgrade(url, "0024_caller_lookup")
            found = indexes(engine)
            assert set(found) == {"ix_prop_customer_name_prefix", "ix_prop_building_code"}
            if backend == "postgres":  # what the model declares, too
                assert "(name text_pattern_ops)" in found["ix_prop_customer_name_prefix"]
                model = CreateIndex(
                    next(
                        i
                        for i in Customer.__table__.indexes
                        if i.name == "ix_prop_customer_name_prefix"
                    )
                ).compile(dialect=engine.dialect)
                assert "name text_pattern_ops" in str(model)
            command.downgrade(alembic_config(url), "0023_inspection_disciplines")
            assert indexes(engine) == {}
            upgrade(url)
            assert len(indexes(engine)) == 2
        finally:
            engine.dispose()
