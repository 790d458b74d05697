"""The quality marts refreshed incrementally give exactly what a build from scratch gives.

A warehouse file is refreshed through the changes of the quality work — a new day of
inspections (pending orders submitted, their scores updated in place; new plans, orders,
scores, failed items opening nonconformities), nonconformities acknowledged and handled through
the services, the go-live history import creating and then rewriting nonconformities (no
events: the engine never moved them), a plan drafted, approved and walked through the services
with its orders scheduled ahead, as_of moving on within a month and across a month's end, as_of
moved back, an office renamed, a day off at an office — and after every refresh the raw copies
and the quality and supplier marts must equal those of a fresh build of the same data at the
same as_of, on SQLite and PostgreSQL. The nonconformities and
plans are re-extracted by their documents' new events (docs/quality-marts.md), never copied
whole; ``marts.quality_review`` and ``marts.inspection_item_failures`` are rebuilt only for the
office-months a change can reach (``incremental.log`` says so), whole only when the history
import, the offices, the calendars or an earlier as_of require it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import select

from benchmarks.quality import Options, generate
from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.demo.inspection_history import advance_orders, write_inspection_history
from operational.imports.suppliers import import_nonconformity_rows
from operational.models import (
    InspectionOrder,
    InspectionScore,
    Nonconformity,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    User,
)
from operational.services import calendars
from operational.services import inspections as insp
from operational.services import nonconformities as ncs
from tests.conftest import BACKENDS, fresh_database_url
from tests.operational.test_supplier_imports import NC_COLUMNS
from tests.operational.test_supplier_imports import rows as import_rows
from warehouse import sla
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_source
from warehouse.models import load_models, run_model, write_run_params
from warehouse.versions import Versions

pytestmark = pytest.mark.slow

CLI = system_principal("cli")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
D = timedelta(days=1)
OPTIONS = Options(offices=8, contracts=32, days=45, plans=1, items=4, seed=5)
"""Eight offices: a new day's plans for one office (five) stay under a fifth of the plans, so
they are re-extracted by their documents rather than copied whole."""
RAW = ("raw.supplier_nonconformity", "raw.insp_plan", "raw.insp_order", "raw.insp_score")
MARTS = (
    "staging.stg_inspection_nonconformity_links",
    "marts.quality_review",
    "marts.inspection_item_failures",
    "marts.contract_scores",
    "marts.supplier_ranking",
)
INCREMENTAL = ("marts.quality_review", "marts.inspection_item_failures")
BY_DOCUMENTS = ("supplier_nonconformity", "insp_plan", "insp_order", "insp_score")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for database in fresh_database_url(request.param, tmp_path):
        generate(database, replace(OPTIONS, backend=request.param), NOW - D, lambda _: None)
        yield database


def refresh(url: str, con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, Any]:
    """What a pipeline run does to its build file (the events extracted before the document
    tables, the SQL models reading the SLA clocks after them); what each extraction did."""
    write_run_params(con, version="t", as_of=as_of, database_backend=database_backend(url))
    done = {}
    with OperationalSource(url) as database:  # one connection for every table, as a pipeline run
        for source in sorted(SOURCES, key=lambda s: s.documents is not None):
            if not source.table.startswith("energy_"):
                done[source.table] = extract_source(database, con, source)
    models = [
        m
        for m in load_models()
        if "energy" not in m.name and not any("energy" in t for t in m.depends_on)
    ]
    late: set[str] = set()
    for m in models:
        if any(d.startswith("sla.") or d == "marts.sla_clocks" for d in m.depends_on) or (
            m.depends_on & late
        ):
            late.add(m.table)
    for m in models:
        if m.table not in late:
            run_model(con, m)
    sla.build_sla_clocks(con)
    for m in models:
        if m.table in late:
            run_model(con, m)
    return done


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.sql(f"select * from {table} order by all").fetchall()


def assert_same_as_scratch(url: str, con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
    scratch = duckdb.connect()
    refresh(url, scratch, as_of)
    for table in (*RAW, *MARTS):
        assert rows(con, table) == rows(scratch, table), table
    scratch.close()


def assert_by_documents(done: dict[str, Any]) -> None:
    for table in BY_DOCUMENTS:
        assert done[table]["mode"] == "incremental", (table, done[table])


def last_builds(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, int]]:
    """The last build of each incremental quality mart: mode, reason, keys rebuilt."""
    rows = con.sql(
        "select table_name, arg_max(mode, seq), arg_max(reason, seq), arg_max(keys, seq)"
        " from incremental.log where list_contains($t, table_name) group by table_name",
        params={"t": list(INCREMENTAL)},
    ).fetchall()
    return {t: (mode, reason, keys) for t, mode, reason, keys in rows}


def keys_of(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(
        con.sql(
            f"select count(*) from (select distinct office_code, month from {table})"
        ).fetchall()[0][0]
    )


def assert_incremental(con: duckdb.DuckDBPyConnection) -> None:
    """Both marts were refreshed incrementally, over fewer office-months than they hold, and
    the items' links to their nonconformities over the orders with new events only."""
    for table, (mode, reason, keys) in last_builds(con).items():
        assert (mode, reason) == ("incremental", ""), table
        assert keys < keys_of(con, table), (table, keys)
    mode, reason, orders = con.sql(
        "select arg_max(mode, seq), arg_max(reason, seq), arg_max(keys, seq)"
        " from incremental.log where table_name = 'staging.stg_inspection_nonconformity_links'"
    ).fetchall()[0]
    assert (mode, reason) == ("incremental", "")
    assert orders < con.sql("select count(*) from raw.insp_order").fetchall()[0][0]


def assert_whole(con: duckdb.DuckDBPyConnection, *reasons: str) -> None:
    builds = last_builds(con)
    assert [(builds[t][0], builds[t][1]) for t in INCREMENTAL] == [
        ("whole", reason) for reason in reasons
    ]


def history(url: str, *lines: tuple[str, ...]) -> None:
    """The go-live import of nonconformities (no events: the engine never moves them)."""
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        import_nonconformity_rows(session, import_rows(NC_COLUMNS, *lines), actor=CLI)
    engine.dispose()


def test_refreshes_of_the_quality_marts_equal_a_build_from_scratch(
    url: str, tmp_path: Path
) -> None:
    engine = create_db_engine(url)
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    refresh(url, con, NOW)
    assert_whole(con, "first build", "first build")
    assert_same_as_scratch(url, con, NOW)
    before = rows(con, "marts.quality_review")

    # 1. A new day of inspections: the orders the history left pending moved on at every office
    # (started, submitted, their score rows scored in place, failed items opening
    # nonconformities, clocks stopped); at one office new plans (drafted, submitted, approved),
    # their first orders scored, failed items opening nonconformities — all with their events.
    with unit_of_work(engine) as session:
        offices = list(session.scalars(select(Office).order_by(Office.code)))
        office = offices[0]
        code = office.code
        moved = advance_orders(session, offices, NOW + D, seed=OPTIONS.seed)
        written = write_inspection_history(
            session, [office], 1, NOW + D, seed=9, plans_per_discipline=1, items=4
        )
    assert moved["submitted"] > 0
    assert written["plans"] > 0
    done = refresh(url, con, NOW + D)
    assert_by_documents(done)
    assert done["insp_plan"]["documents"] == written["plans"]
    assert rows(con, "marts.quality_review") != before
    assert_incremental(con)
    assert_same_as_scratch(url, con, NOW + D)

    # 2. A nonconformity charged to a contract opened through the services, then handled; an
    # older open one acknowledged or handled: a new event each.
    at = NOW + D + timedelta(hours=2)
    with unit_of_work(engine) as session:
        opened_id = ncs.open_nonconformity(
            session,
            CLI,
            office_code=code,
            kind="handling",
            discipline="cleaning",
            description="地面未清洁",
            contract_no=f"HT-{code}-CL",
            breach_points=2,
            at=at,
        ).id
    done = refresh(url, con, NOW + D + timedelta(hours=3))
    assert_by_documents(done)
    assert_incremental(con)
    # the contract's scores too: its month rebuilt, not every contract's every month
    (mode, reason, keys), held = con.sql(
        "select (select (arg_max(mode, seq), arg_max(reason, seq), arg_max(keys, seq))"
        " from incremental.log where table_name = 'marts.contract_scores'),"
        " (select count(*) from marts.contract_scores)"
    ).fetchall()[0]
    assert (mode, reason) == ("incremental", "") and 0 < keys < held, (mode, reason, keys)
    assert_same_as_scratch(url, con, NOW + D + timedelta(hours=3))
    with unit_of_work(engine) as session:
        open_ones = list(
            session.scalars(
                select(Nonconformity)
                .where(Nonconformity.closed_at.is_(None))
                .order_by(Nonconformity.id.desc())
                .limit(3)
            )
        )
        assert opened_id in {nc.id for nc in open_ones}
        for nc in open_ones:
            step = "acknowledge" if nc.kind == "notice" else "handle"
            ncs.act(session, CLI, nc, step, nc.version, text="done", at=at + timedelta(hours=1))
    done = refresh(url, con, NOW + 2 * D)
    assert_by_documents(done)
    assert done["supplier_nonconformity"]["documents"] == len(open_ones)
    assert_incremental(con)
    assert_same_as_scratch(url, con, NOW + 2 * D)

    # 3. The go-live history: a nonconformity imported (no event) ...
    history(url, ("NC-HIST-1", code, "notice", "cleaning", "2026-11-02 09:00", "", "", ""))
    done = refresh(url, con, NOW + 2 * D)
    assert_by_documents(done)
    assert con.sql(
        "select closed_at from raw.supplier_nonconformity where nc_no = 'NC-HIST-1'"
    ).fetchall() == [(None,)]
    assert last_builds(con)["marts.quality_review"][:2] == ("whole", "inputs changed")
    assert last_builds(con)["marts.inspection_item_failures"][:2] == ("incremental", "")
    assert_same_as_scratch(url, con, NOW + 2 * D)

    # ... then imported again, closed and of another kind: the row changes without an event.
    history(
        url,
        ("NC-HIST-1", code, "handling", "cleaning", "2026-11-02 09:00", "2026-11-03 09:00", "", ""),
    )
    done = refresh(url, con, NOW + 3 * D)
    assert_by_documents(done)
    assert con.sql(
        "select kind, state from raw.supplier_nonconformity where nc_no = 'NC-HIST-1'"
    ).fetchall() == [("handling", "verified")]
    assert last_builds(con)["marts.quality_review"][:2] == ("whole", "inputs changed")
    assert_same_as_scratch(url, con, NOW + 3 * D)

    assert done["supplier_nonconformity"]["rows"] >= 1  # the history's changed row re-read

    # 4. Nothing new: nothing read again but the history's rows, found as raw holds them, so raw
    # and its version are kept and the staged nonconformities are not rebuilt.
    version = Versions.load(con).get("raw.supplier_nonconformity")
    done = refresh(url, con, NOW + 3 * D)
    assert (done["insp_plan"]["mode"], done["insp_plan"]["rows"]) == ("incremental", 0)
    assert (done["supplier_nonconformity"]["mode"], done["supplier_nonconformity"]["rows"]) == (
        "incremental",
        0,
    )
    assert Versions.load(con).get("raw.supplier_nonconformity") == version
    assert_incremental(con)
    assert {keys for _, _, keys in last_builds(con).values()} == {0}
    assert_same_as_scratch(url, con, NOW + 3 * D)

    # 5. A plan drafted, submitted and approved through the services, its weekly orders issued
    # ahead (each Wednesday from 25 November: scheduled after as_of, not due yet).
    at = NOW + 3 * D  # 2026-11-23 10:00 office time
    with unit_of_work(engine) as session:
        inspector = session.scalars(select(User).where(User.username == "inspector")).one()
        office = session.scalars(select(Office).where(Office.code == code)).one()
        session.add(
            RoleGrant(
                user_id=inspector.id,
                role=Role.OFFICE_MANAGER.value,
                scope_level=ScopeLevel.OFFICE.value,
                office_id=office.id,
            )
        )
        session.flush()
        plan = insp.draft_inspection_plan(
            session,
            CLI,
            kind="professional",
            office_code=code,
            name="Lobby walk",
            discipline="cleaning",
            inspector="inspector",
            frequency="weekly",
            start_date=date(2026, 11, 25),
            route=(insp.Checkpoint("LOBBY", area="Lobby"),),
            items=(insp.Item("LOBBY", "Floor clean", 10, 6), insp.Item("LOBBY", "Bins", 10, 6)),
            at=at - timedelta(hours=2),
        )
        insp.submit_inspection_plan(session, CLI, plan, plan.version, at=at - timedelta(hours=1))
        insp.approve_inspection_plan(session, CLI, plan, plan.version, at=at - timedelta(minutes=5))
        issued = insp.generate_inspection_orders(session, plan, date(2026, 12, 10), at=at)
        days = [o.scheduled_for for o in issued]
        first_id = issued[0].id
    assert days == [
        date(2026, 11, 25),
        date(2026, 12, 2),
        date(2026, 12, 9),
    ]
    done = refresh(url, con, at)
    assert_by_documents(done)
    assert_incremental(con)
    assert_same_as_scratch(url, con, at)

    # 6. Its first order started on its day: extracted by a refresh at the earlier as_of (known,
    # not yet counted), counted by the next one, as_of moved on with no new event.
    with unit_of_work(engine) as session:
        first = session.get_one(InspectionOrder, first_id)
        started = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
        insp.start_inspection(session, CLI, first, first.version, at=started)
    done = refresh(url, con, at)
    assert_incremental(con)
    assert_same_as_scratch(url, con, at)
    done = refresh(url, con, NOW + 6 * D)
    assert done["workflow_event"]["appended_rows"] == 0
    assert_incremental(con)
    assert_same_as_scratch(url, con, NOW + 6 * D)

    # 7. as_of across the month's end: the plan's schedule reaches December (its order of
    # 2 December not due yet), open nonconformities' clocks run past their deadlines — no event.
    december = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    done = refresh(url, con, december)
    assert done["workflow_event"]["appended_rows"] == 0
    assert_incremental(con)
    ((plans, due),) = con.sql(
        "select plans_approved, orders_due from marts.quality_review"
        " where office_code = $c and month = '2026-12-01' and kind = 'professional'"
        " and discipline = 'cleaning'",
        params={"c": code},
    ).fetchall()
    assert plans > 0 and due == 0
    assert_same_as_scratch(url, con, december)

    # 8. The November order walked late, on 1 December: an item failed and its nonconformity was
    # opened (December) — the item's score and its link reach the warehouse only with the order's
    # next event, so this refresh counts the nonconformity as not raised by an inspection —, then
    # the order is submitted: the refresh re-reads its scores, and the nonconformity's month is
    # rebuilt with the inspection's kind though the nonconformity itself has no new event; the
    # submission, dated after that refresh's as_of, counts in the next one.
    walked = december + timedelta(hours=1)
    with unit_of_work(engine) as session:
        first = session.get_one(InspectionOrder, first_id)
        scored = list(
            session.scalars(
                select(InspectionScore)
                .where(InspectionScore.order_id == first.id)
                .order_by(InspectionScore.id)
            )
        )
        insp.score_item(session, CLI, first, scored[0].id, score=3, at=walked)
        insp.score_item(session, CLI, first, scored[1].id, score=9, at=walked)
        insp.open_item_nonconformity(
            session, CLI, first, scored[0].id, kind="notice", description="水渍", at=walked
        )
    refresh(url, con, walked + timedelta(hours=1))
    assert_incremental(con)
    raised = (
        "select kind, sum(nonconformities_opened) from marts.quality_review"
        " where office_code = $c and month = '2026-12-01' and discipline = 'cleaning'"
        " and nonconformities_opened > 0 group by kind"
    )
    assert con.sql(raised, params={"c": code}).fetchall() == [("other", 1)]
    with unit_of_work(engine) as session:
        first = session.get_one(InspectionOrder, first_id)
        insp.submit_inspection(session, CLI, first, first.version, at=walked + timedelta(hours=2))
    refresh(url, con, walked + timedelta(minutes=90))  # the submission is after this as_of
    assert_incremental(con)
    assert con.sql(raised, params={"c": code}).fetchall() == [("professional", 1)]
    assert_same_as_scratch(url, con, walked + timedelta(minutes=90))
    done = refresh(url, con, walked + timedelta(hours=3))  # now it counts, with no new event
    assert done["workflow_event"]["appended_rows"] == 0
    assert_incremental(con)
    failures = con.sql(
        "select month, items_failed from marts.inspection_item_failures"
        " where office_code = $c and item_name = 'Floor clean'",
        params={"c": code},
    ).fetchall()
    assert failures == [(date(2026, 11, 1), 1)]
    assert_same_as_scratch(url, con, walked + timedelta(hours=3))

    # 9. An earlier as_of cannot continue a later build: both rebuilt whole.
    refresh(url, con, NOW + 6 * D)
    assert_whole(con, "as_of before the previous build's", "as_of before the previous build's")
    assert_same_as_scratch(url, con, NOW + 6 * D)

    # 10. An office renamed: every row of its office may read otherwise, both rebuilt whole.
    with unit_of_work(engine) as session:
        office = session.scalars(select(Office).where(Office.code == code)).one()
        office.name = office.name + " (新)"
    refresh(url, con, NOW + 7 * D)
    assert_whole(con, "inputs changed", "inputs changed")
    assert_same_as_scratch(url, con, NOW + 7 * D)
    refresh(url, con, NOW + 7 * D)
    assert_incremental(con)

    # 11. A day off at the office: its calendar moves the nonconformities' deadlines, the review
    # (their clocks met or breached) is rebuilt whole; the failing items need not be.
    with unit_of_work(engine) as session:
        calendars.add_day_override(session, CLI, code, date(2026, 11, 27), "holiday")
    refresh(url, con, NOW + 8 * D)
    assert last_builds(con)["marts.quality_review"][:2] == ("whole", "inputs changed")
    assert last_builds(con)["marts.inspection_item_failures"][:2] == ("incremental", "")
    assert_same_as_scratch(url, con, NOW + 8 * D)
    con.close()
    engine.dispose()
