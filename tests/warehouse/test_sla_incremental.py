"""The incremental SLA refresh gives exactly what a build from scratch gives.

A warehouse file is refreshed through a series of changes in the operational store — new orders,
assignments, completions, a pause and its resume, an event committed late with a smaller id, a
calendar change, as_of moving forward (open clocks become breached) and back — and after every
refresh the SLA marts (and the raw copies they come from) must equal those of a fresh build of
the same data at the same as_of, on SQLite and PostgreSQL. The build log must say which refreshes
were incremental and which had to recompute everything — for the SLA step and for the marts it
keeps incrementally (``incremental.log``: the group-bys and the late list rebuild only the groups
and clocks of the clock rows the step rewrote).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from operational.auth import (
    Principal,
    load_principal,
    system_principal,
)
from operational.db import create_db_engine, unit_of_work
from operational.models import (
    CorrectiveOrder,
    Discipline,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    Ticket,
    User,
    WorkflowClock,
    WorkflowEvent,
)
from operational.services import calendars, orders, tickets
from operational.services.orders import CorrectiveSpec
from operational.services.tickets import Intake
from tests.conftest import BACKENDS
from tests.warehouse.sla_support import AS_OF_1, AS_OF_2, SLA_MARTS, scenario_database
from warehouse import buckets as buckets_module
from warehouse import sla
from warehouse.buckets import IdRange
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_source
from warehouse.models import load_models, run_model, write_run_params

CLI = system_principal("cli")

H = timedelta(hours=1)
D = timedelta(days=1)
MARTS = (
    "marts.sla_clocks",
    "marts.sla_compliance",
    "marts.office_workload",
    "marts.order_throughput",
    "marts.sla_late_clocks",
    "marts.ticket_compliance",
)
INCREMENTAL = (
    "marts.sla_clocks",
    "marts.sla_compliance",
    "marts.sla_late_clocks",
    "marts.ticket_compliance",
)
"""The SLA step and the marts kept incrementally on it (warehouse.incremental)."""
RAW = (
    "raw.workflow_event",
    "raw.workflow_clock",
    "raw.workflow_clock_pause",
    "raw.maint_periodic_order",
    "raw.maint_corrective_order",
)


@pytest.fixture(params=BACKENDS)
def scenario_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from scenario_database(request.param, tmp_path)


def refresh(
    url: str, con: duckdb.DuckDBPyConnection, as_of: datetime, *, readers: bool = True
) -> sla.SlaBuildStats:
    """What a pipeline run does to its build file: extract (the events before the document
    tables, as the assets' lineage orders them), stage, build the SLA marts (without
    ``readers``: the SLA step alone, a selection without the marts reading it)."""
    write_run_params(con, version="t", as_of=as_of, database_backend=database_backend(url))
    with OperationalSource(url) as database:  # one connection for every table, as a pipeline run
        for source in SOURCES:
            if not source.table.startswith("energy_"):
                extract_source(database, con, source)
    models = [
        m
        for m in load_models()
        if "energy" not in m.name and not any("energy" in table for table in m.depends_on)
    ]  # no energy marts here, nor the marts reading them (the control tower)
    for model in models:
        if model.name not in SLA_MARTS:
            run_model(con, model)
    stats = sla.build_sla_clocks(con)
    for model in models:
        if model.name in SLA_MARTS and readers:
            run_model(con, model)
    return stats


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.sql(f"select * from {table} order by all").fetchall()


def assert_same_as_scratch(url: str, con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
    scratch = duckdb.connect()
    stats = refresh(url, scratch, as_of)
    assert stats.mode == "full"
    for table in (*MARTS, *RAW):
        assert rows(con, table) == rows(scratch, table), table
    scratch.close()


def people(session: Session) -> dict[str, Principal]:
    return {u.username: load_principal(session, u.id) for u in session.scalars(select(User))}


def corrective(session: Session) -> list[CorrectiveOrder]:
    return list(session.scalars(select(CorrectiveOrder).order_by(CorrectiveOrder.id)))


def raise_order(session: Session, who: dict[str, Principal], at: datetime) -> CorrectiveOrder:
    order = orders.raise_corrective(
        session,
        who["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("clean", "Spill", discipline=Discipline.CLEANING, object_code="LB-1"),
        at=at,
    )
    orders.assign(session, who["clean"], order, "tech", order.version, at=at + H)
    return order


def late_order(session: Session, event_id: int, at: datetime) -> None:
    """A corrective order whose creating event has the id ``event_id``, as a transaction that
    drew its id before others committed and committed after them (PostgreSQL sequences)."""
    office = session.scalars(select(Office).where(Office.code == "OF1")).one()
    clean = session.scalars(select(User).where(User.username == "clean")).one()
    number = f"CM-LATE-{event_id}"
    order = CorrectiveOrder(
        office_id=office.id,
        discipline="cleaning",
        title="late",
        responsible_id=clean.id,
        state="open",
        version=1,
        document_no=number,
        created_at=at,
    )
    session.add(order)
    session.flush()
    session.execute(
        insert(WorkflowEvent).values(
            id=event_id,
            document_type="corrective_order",
            document_id=order.id,
            document_no=number,
            office_id=office.id,
            transition="raise",
            from_state=None,
            to_state="open",
            actor="guard",
            at=at,
            payload={},
        )
    )
    session.add(
        WorkflowClock(
            document_type="corrective_order",
            document_id=order.id,
            document_no=number,
            office_id=office.id,
            clock="completion",
            target_amount=72,
            target_unit="calendar_hours",
            calendar="24x7",
            started_at=at,
            due_at=at + 72 * H,
            started_event_id=event_id,
        )
    )


def max_event_id(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("select max(id) from workflow_event")).scalar_one())


def sync_sequence(engine: Engine) -> None:
    """After ids given by hand, PostgreSQL's sequence must move past them."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(
                text(
                    "select setval(pg_get_serial_sequence('workflow_event', 'id'),"
                    " (select max(id) from workflow_event))"
                )
            )


def log(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.sql("select mode, reason from sla.build_log order by built_at").fetchall()


def builds(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, int]]:
    """Each build of ``table`` in ``incremental.log``: whole or incremental, why, keys rebuilt."""
    return con.sql(
        "select mode, reason, keys from incremental.log where table_name = $t order by seq",
        params={"t": table},
    ).fetchall()


def call_centre(session: Session) -> Principal:
    """A call-centre agent of OF1 (the scenario's world has none)."""
    office = session.scalars(select(Office).where(Office.code == "OF1")).one()
    agent = User(
        username="agent",
        display_name="agent",
        password_hash="x",
        grants=[
            RoleGrant(
                role=Role.CALL_CENTRE_AGENT.value,
                scope_level=ScopeLevel.OFFICE.value,
                office_id=office.id,
            )
        ],
    )
    session.add(agent)
    session.flush()
    return load_principal(session, agent.id)


def ticket(session: Session, subject: str) -> Ticket:
    return session.scalars(select(Ticket).where(Ticket.subject == subject)).one()


@pytest.mark.slow
def test_refreshes_equal_a_build_from_scratch(scenario_url: str, tmp_path: Path) -> None:
    url = scenario_url
    engine = create_db_engine(url)
    con = duckdb.connect(str(tmp_path / "build.duckdb"))

    # 0. The first build recomputes everything.
    first = refresh(url, con, AS_OF_1)
    assert (first.mode, first.reason) == ("full", "first build")
    assert_same_as_scratch(url, con, AS_OF_1)
    pending_before = dict(con.sql("select document_no, state from marts.sla_clocks").fetchall())

    # 1. A new order raised and assigned, an older one processed.
    t1 = AS_OF_1 + H
    with unit_of_work(engine) as session:
        who = people(session)
        raise_order(session, who, t1)
        c3 = corrective(session)[2]
        orders.process_corrective(session, who["tech"], c3, c3.version, "done", at=t1 + H)
    stats = refresh(url, con, AS_OF_1 + D)
    assert stats.mode == "incremental"
    assert stats.documents == 2  # the new order and C3
    assert_same_as_scratch(url, con, AS_OF_1 + D)

    # 2. The new order waits for parts (its clock pauses); C3 is verified (its clock stops).
    t2 = AS_OF_1 + D + H
    with unit_of_work(engine) as session:
        who = people(session)
        c3, c5 = corrective(session)[2], corrective(session)[4]
        orders.wait_corrective(session, who["tech"], c5, c5.version, "parts", at=t2)
        orders.verify_corrective(session, who["clean"], c3, c3.version, accepted=True, at=t2)
    stats = refresh(url, con, AS_OF_1 + 2 * D)
    assert (stats.mode, stats.documents) == ("incremental", 2)
    assert con.sql(
        "select paused from marts.sla_clocks where document_no = $n", params={"n": c5.document_no}
    ).fetchall() == [(True,)]
    assert_same_as_scratch(url, con, AS_OF_1 + 2 * D)

    # 3. It resumes; another order's event is committed with an id left free below it...
    t3 = AS_OF_1 + 2 * D + H
    watermark = max_event_id(engine)
    with unit_of_work(engine) as session:
        who = people(session)
        c5 = corrective(session)[4]
        orders.resume_corrective(session, who["tech"], c5, c5.version, at=t3)
    resumed = max_event_id(engine)
    with unit_of_work(engine) as session:
        late_order(session, resumed + 50, t3 + H)
    stats = refresh(url, con, AS_OF_1 + 3 * D)
    assert (stats.mode, stats.documents) == ("incremental", 2)
    assert_same_as_scratch(url, con, AS_OF_1 + 3 * D)

    # 4. ... and an order whose event took an id in that gap commits afterwards: the look-back
    # below the watermark finds it.
    with unit_of_work(engine) as session:
        late_order(session, resumed + 10, t3 + 2 * H)
    sync_sequence(engine)
    stats = refresh(url, con, AS_OF_1 + 3 * D)
    assert (stats.mode, stats.documents) == ("incremental", 1)
    late = con.sql(
        "select document_no, state from marts.sla_clocks where document_no like 'CM-LATE-%'"
        " order by 1"
    ).fetchall()
    assert late == [
        (f"CM-LATE-{resumed + 10}", "pending"),
        (f"CM-LATE-{resumed + 50}", "pending"),
    ]
    assert watermark < resumed
    assert_same_as_scratch(url, con, AS_OF_1 + 3 * D)

    # 4b. Tickets: a complaint by day, a repair by day and one at night (23:00 local), each
    # dispatched — new groups of ticket_compliance, day and night.
    t4 = AS_OF_1 + 2 * D + 2 * H  # 11:00 local, a Friday
    with unit_of_work(engine) as session:
        who = people(session) | {"agent": call_centre(session)}
        noise = Intake("OF1", "complaint", "Noise", severity="minor")
        pipe = Intake("OF1", "repair", "Pipe", urgency="urgent")
        door = Intake("OF1", "repair", "Door", urgency="urgent")
        for intake, at, handler in (
            (noise, t4, "mgr"),
            (pipe, t4, "tech"),
            (door, t4 + 12 * H, "tech"),
        ):
            made = tickets.record_ticket(session, who["agent"], intake, received_at=at)
            tickets.dispatch(session, who["agent"], made, handler, made.version, at=at + H)
    stats = refresh(url, con, AS_OF_1 + 3 * D)
    assert (stats.mode, stats.documents) == ("incremental", 3)
    assert con.sql(
        "select distinct night_service from marts.ticket_compliance order by 1"
    ).fetchall() == [(False,), (True,)]
    assert_same_as_scratch(url, con, AS_OF_1 + 3 * D)

    # 4c. The complaint is picked up and resolved, the day repair picked up: their clocks stop.
    with unit_of_work(engine) as session:
        who = people(session)
        noise_ticket, pipe_ticket = ticket(session, "Noise"), ticket(session, "Pipe")
        tickets.pick_up(session, who["mgr"], noise_ticket, noise_ticket.version, at=t4 + 2 * H)
        tickets.resolve(
            session, who["mgr"], noise_ticket, noise_ticket.version, "quiet", at=t4 + 3 * H
        )
        tickets.pick_up(session, who["tech"], pipe_ticket, pipe_ticket.version, at=t4 + 2 * H)
    stats = refresh(url, con, AS_OF_1 + 3 * D)
    assert (stats.mode, stats.documents) == ("incremental", 2)
    assert_same_as_scratch(url, con, AS_OF_1 + 3 * D)

    # 5. A calendar change (a day off) may move any office-calendar deadline: all recomputed.
    with unit_of_work(engine) as session:
        calendars.add_day_override(session, CLI, "OF1", (AS_OF_1 + 4 * D).date(), "holiday")
    stats = refresh(url, con, AS_OF_1 + 3 * D)
    assert (stats.mode, stats.reason) == ("full", "offices or calendars changed")
    assert_same_as_scratch(url, con, AS_OF_1 + 3 * D)

    # 6. as_of moves on without a change: open clocks become breached, the periodic order's
    # clock (scheduled ahead) starts — all without a new event.
    stats = refresh(url, con, AS_OF_2)
    assert (stats.mode, stats.documents) == ("incremental", 0)
    assert stats.clocks_recomputed < stats.clocks  # those stopped by the last as_of are kept
    after = dict(con.sql("select document_no, state from marts.sla_clocks").fetchall())
    assert pending_before and set(pending_before.values()) == {"pending"}
    assert {after[n] for n in pending_before} >= {"breached"}
    assert len(after) > len(pending_before) + 3  # the new orders and the periodic one
    assert_same_as_scratch(url, con, AS_OF_2)

    # 6b. The SLA step runs twice without its readers (a selection of it alone), then once with
    # them: they missed a build's changes, so they are rebuilt whole.
    refresh(url, con, AS_OF_2 + H, readers=False)
    refresh(url, con, AS_OF_2 + 2 * H, readers=False)
    stats = refresh(url, con, AS_OF_2 + 3 * H)
    assert stats.mode == "incremental"
    assert_same_as_scratch(url, con, AS_OF_2 + 3 * H)
    # ... and an hour later they follow it again (the late clocks still running grew later).
    stats = refresh(url, con, AS_OF_2 + 4 * H)
    assert stats.mode == "incremental"
    assert_same_as_scratch(url, con, AS_OF_2 + 4 * H)

    # 7. An earlier as_of cannot continue a later build.
    stats = refresh(url, con, AS_OF_1 + D)
    assert (stats.mode, stats.reason) == ("full", "as_of before the previous build's")
    assert_same_as_scratch(url, con, AS_OF_1 + D)

    assert [mode for mode, _ in log(con)] == [
        "full",
        "incremental",
        "incremental",
        "incremental",
        "incremental",
        "incremental",
        "incremental",
        "full",
        "incremental",
        "incremental",
        "incremental",
        "incremental",
        "incremental",
        "full",
    ]
    # The mechanism's log: the SLA step's builds as it decided them, and every mart on it
    # rebuilt only its changed groups or clocks whenever the step was incremental.
    whole, inc = "whole", "incremental"
    steps = [whole, inc, inc, inc, inc, inc, inc, whole, inc]
    assert [mode for mode, _, _ in builds(con, "marts.sla_clocks")] == [
        *steps,
        inc,
        inc,
        inc,
        inc,
        whole,
    ]
    assert builds(con, "marts.sla_clocks")[7][1] == "offices or calendars changed"
    for table in INCREMENTAL[1:]:
        done = builds(con, table)
        assert [mode for mode, _, _ in done] == [*steps, whole, inc, whole], table
        assert done[7][1] == "marts.sla_clocks rebuilt whole", table
        assert done[9][1] == "marts.sla_clocks built more than once since", table
        # the incremental builds did rebuild keys (the changes were seen)
        assert any(keys for mode, _, keys in done if mode == inc), table
    # the orders' refreshes (1-4) rewrote no ticket clock: no ticket compliance group rebuilt
    keys = [keys for _, _, keys in builds(con, "marts.ticket_compliance")]
    assert keys[1:5] == [0, 0, 0, 0] and keys[5] > 0
    # an hour on with nothing new: the SLA step recomputed its running clocks, but no clock
    # changed state or group (no compliance row rebuilt); the late ones still running grew later
    last = {table: builds(con, table)[10] for table in INCREMENTAL}
    assert last["marts.sla_clocks"][2] > 0
    assert last["marts.sla_compliance"][2] == last["marts.ticket_compliance"][2] == 0
    assert last["marts.sla_late_clocks"][2] > 0
    con.close()
    engine.dispose()


@pytest.mark.slow  # a build and a refresh
def test_document_tables_follow_only_their_documents(scenario_url: str, tmp_path: Path) -> None:
    """A refresh re-extracts the rows of the documents with new events, not the whole tables."""
    engine = create_db_engine(scenario_url)
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    refresh(scenario_url, con, AS_OF_1)
    with unit_of_work(engine) as session:
        raise_order(session, people(session), AS_OF_1 + H)
    write_run_params(con, version="t", as_of=AS_OF_2, database_backend="x")
    done = {
        s.table: extract_source(scenario_url, con, s)
        for s in SOURCES
        if s.table in {"workflow_event", "workflow_clock", "maint_periodic_order"}
    }
    assert done["workflow_event"]["appended_rows"] == 2  # raise, assign
    assert done["workflow_clock"] | {"dagster/row_count": 0} == {
        "mode": "incremental",
        "documents": 1,
        "rows": 1,
        "dagster/row_count": 0,
    }
    # no periodic order has a new event: nothing read (a table where the touched documents are
    # over a fifth of the rows, like the four corrective orders here, is copied whole instead)
    assert (done["maint_periodic_order"]["mode"], done["maint_periodic_order"]["rows"]) == (
        "incremental",
        0,
    )
    con.close()
    engine.dispose()


@pytest.mark.postgres
def test_postgres_event_committed_after_a_larger_id_is_found(tmp_path: Path) -> None:
    """Two real transactions on PostgreSQL: the one holding the smaller event id commits after a
    refresh has read the larger one; the next refresh finds it (look-back) and equals scratch."""
    for url in scenario_database("postgres", tmp_path):
        engine = create_db_engine(url)
        con = duckdb.connect(str(tmp_path / "build.duckdb"))
        refresh(url, con, AS_OF_1)
        slow = Session(engine)
        with slow.begin():
            first = raise_order(slow, people(slow), AS_OF_1 + H)  # ids drawn, not committed
            with unit_of_work(engine) as fast:
                second = raise_order(fast, people(fast), AS_OF_1 + 2 * H)
            stats = refresh(url, con, AS_OF_1 + D)
            assert stats.documents == 1
            assert_same_as_scratch(url, con, AS_OF_1 + D)
            seen = {n for (n,) in con.sql("select document_no from marts.sla_clocks").fetchall()}
            assert second.document_no in seen and first.document_no not in seen
        slow.close()
        stats = refresh(url, con, AS_OF_1 + D)
        assert (stats.mode, stats.documents) == ("incremental", 1)
        late = con.sql(
            "select late_keys from extract_log.loads where table_name = 'workflow_event'"
            " order by load_no desc limit 1"
        )
        assert len(late.fetchall()[0][0]) == 2  # raise and assign of the first order
        assert_same_as_scratch(url, con, AS_OF_1 + D)
        con.close()
        engine.dispose()


@pytest.mark.slow  # the clocks built twice
def test_a_full_build_in_buckets_of_clocks_equals_one_pass(
    scenario_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At scale a full build evaluates the clocks a share at a time (to bound its memory); the
    marts are the same as evaluating every clock at once."""
    one_pass = duckdb.connect(":memory:")
    stats = refresh(scenario_url, one_pass, AS_OF_2)
    assert stats.mode == "full" and stats.clocks_recomputed > 3
    monkeypatch.setattr(sla, "CLOCK_BUCKET", 2)  # every bucket a couple of clocks
    monkeypatch.setattr(sla, "_ID_GRANULE", 1)
    splits: list[int] = []

    def id_ranges(*args: Any, **kwargs: Any) -> list[IdRange]:
        ranges = buckets_module.id_ranges(*args, **kwargs)
        splits.append(len(ranges))
        return ranges

    monkeypatch.setattr(sla, "id_ranges", id_ranges)
    buckets = duckdb.connect(":memory:")
    bucketed = refresh(scenario_url, buckets, AS_OF_2)
    assert len(splits) == 2 and min(splits) > 1  # clock inputs, evaluation: in several buckets
    assert bucketed.clocks_recomputed == stats.clocks_recomputed
    for table in MARTS:
        assert rows(buckets, table) == rows(one_pass, table), table
