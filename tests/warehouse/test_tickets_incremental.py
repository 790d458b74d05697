"""The ticket marts refreshed incrementally give exactly what a build from scratch gives.

One DuckDB build file is refreshed through a ticket desk's days, worked through the ticket
services — new inquiries, repairs and complaints; a complaint's level 1 and then level 2 firing
by timeout only because as_of moved on (no event); a complaint resolved in time whose owner is
unsatisfied after its deadline (level 1 by `unsatisfied`) and whose level 2 then times out with no
event; a rework; a go-live import whose tickets are dated after the build's as_of and appear as
as_of moves on; as_of exactly at a level's deadline and then past it; as_of moved back; an
office's code changed — and after every refresh `marts.tickets`, `marts.complaint_escalations`
and the ticket rows of `marts.sla_clocks` must equal a fresh build of the same data at the same
as_of, on SQLite and PostgreSQL. `incremental.log` must say which refreshes rebuilt only the
changed tickets and which had to rebuild whole, and why (docs/tickets.md, docs/warehouse.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Principal, load_principal, system_principal
from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.imports.tickets import import_tickets_file
from operational.models import Office, Ticket, User
from operational.services import tickets
from operational.services.tickets import Intake
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_tickets import _world
from tests.operational.test_workflow_support import T0
from warehouse import sla
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_source
from warehouse.models import Model, load_models, run_model, write_run_params

VECTORS = Path(__file__).parents[1] / "vectors" / "escalation_vectors.json"

pytestmark = pytest.mark.slow

CLI = system_principal("cli")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
MARTS = ("marts.complaint_escalations", "marts.tickets")
INCREMENTAL = ("marts.complaint_escalations", "marts.tickets")
TICKET_CLOCKS = (
    "select * from marts.sla_clocks where document_type in ('inquiry', 'repair', 'complaint')"
    " order by all"
)
HEADER = (
    "ticket_no,office_code,type,severity,urgency,appointment_at,received_at,dispatched_at,"
    "picked_up_at,on_site_at,resolved_at,follow_up_at,follow_up_result"
)


def _models() -> list[Model]:
    """The staging models and the two ticket marts (in dependency order), energy's left out."""
    return [
        m
        for m in load_models()
        if (m.schema == "staging" and "energy" not in m.name) or m.table in MARTS
    ]


def refresh(url: str, con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
    """What a pipeline run does to its build file: extract (the events before the document
    tables), stage, build the ticket marts and the SLA clocks."""
    write_run_params(con, version="t", as_of=as_of, database_backend=database_backend(url))
    with OperationalSource(url) as database:  # one connection for every table, as a pipeline run
        for source in sorted(SOURCES, key=lambda s: s.documents is not None):
            if not source.table.startswith("energy_"):
                extract_source(database, con, source)
    for model in _models():
        run_model(con, model)
    sla.build_sla_clocks(con)


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.sql(f"select * from {table} order by all").fetchall()


def assert_same_as_scratch(url: str, con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
    scratch = duckdb.connect()
    refresh(url, scratch, as_of)
    assert [m for _, m, _ in last_builds(scratch)] == ["whole", "whole"]
    for table in MARTS:
        assert rows(con, table) == rows(scratch, table), table
    assert con.sql(TICKET_CLOCKS).fetchall() == scratch.sql(TICKET_CLOCKS).fetchall()
    scratch.close()


def last_builds(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(table, mode, reason) of the latest build of each ticket mart."""
    return con.sql(
        "select table_name, arg_max(mode, seq), arg_max(reason, seq) from incremental.log"
        " where list_contains($t, table_name) group by table_name order by table_name",
        params={"t": list(INCREMENTAL)},
    ).fetchall()


def keys_rebuilt(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many keys the latest build of each ticket mart rebuilt."""
    return dict(
        con.sql(
            "select table_name, arg_max(keys, seq) from incremental.log"
            " where list_contains($t, table_name) group by table_name",
            params={"t": list(INCREMENTAL)},
        ).fetchall()
    )


def levels(con: duckdb.DuckDBPyConnection, ticket_no: str) -> list[tuple[object, ...]]:
    return con.sql(
        "select level, escalated_at, reason from marts.complaint_escalations"
        " where ticket_no = $n order by level",
        params={"n": ticket_no},
    ).fetchall()


def ticket_row(con: duckdb.DuckDBPyConnection, ticket_no: str) -> dict[str, object]:
    cursor = con.execute("select * from marts.tickets where ticket_no = $n", {"n": ticket_no})
    names = [d[0] for d in cursor.description or ()]
    found = cursor.fetchall()
    return dict(zip(names, found[0], strict=True)) if found else {}


def people(session: Session) -> dict[str, Principal]:
    return {u.username: load_principal(session, u.id) for u in session.scalars(select(User))}


def ticket(session: Session, number: str) -> Ticket:
    return session.scalars(select(Ticket).where(Ticket.document_no == number)).one()


def naive(instant: datetime) -> datetime:
    return instant.replace(tzinfo=None)


@pytest.fixture(params=BACKENDS)
def desk_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Office OF1's desk on the first morning: C1 (minor complaint, never resolved: level 1 at
    T0 + 48 h, level 2 at T0 + 96 h by timeout), C2 (minor, resolved in time), an inquiry and an
    urgent repair waiting."""
    for url in fresh_database_url(request.param, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            w = _world(session)
            s, agent = w.session, w["agent"]
            c1 = tickets.record_ticket(
                s, agent, Intake("OF1", "complaint", "Noise", severity="minor"), received_at=T0
            )
            tickets.dispatch(s, agent, c1, "mgr", c1.version, at=T0 + MIN)
            tickets.pick_up(s, w["mgr"], c1, c1.version, at=T0 + 3 * MIN)
            c2 = tickets.record_ticket(
                s, agent, Intake("OF1", "complaint", "Lift", severity="minor"), received_at=T0 + H
            )
            tickets.dispatch(s, agent, c2, "mgr", c2.version, at=T0 + H + MIN)
            tickets.pick_up(s, w["mgr"], c2, c2.version, at=T0 + H + 3 * MIN)
            tickets.resolve(s, w["mgr"], c2, c2.version, "fixed", at=T0 + 5 * H)
            tickets.record_ticket(s, agent, Intake("OF1", "inquiry", "Fees"), received_at=T0)
            r1 = tickets.record_ticket(
                s,
                agent,
                Intake("OF1", "repair", "Pipe", urgency="urgent"),
                received_at=T0 + 2 * H,
            )
            tickets.dispatch(s, agent, r1, "tech", r1.version, at=T0 + 2 * H + 2 * MIN)
        engine.dispose()
        yield url


def numbers(url: str) -> dict[str, str]:
    """Ticket numbers by subject (the first ticket of each subject: not its rework)."""
    engine = create_db_engine(url)
    found: dict[str, str] = {}
    with unit_of_work(engine) as session:
        for t in session.scalars(select(Ticket).order_by(Ticket.id)):
            found.setdefault(t.subject, t.document_no)
    engine.dispose()
    return found


def test_refreshes_equal_a_build_from_scratch(desk_url: str, tmp_path: Path) -> None:
    url = desk_url
    engine = create_db_engine(url)
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    no = numbers(url)
    c1, c2 = no["Noise"], no["Lift"]
    expected_log: list[tuple[str, str]] = []

    def step(as_of: datetime, mode: str, reason: str = "") -> None:
        refresh(url, con, as_of)
        assert last_builds(con) == [(t, mode, reason) for t in INCREMENTAL], as_of
        expected_log.append((mode, reason))
        assert_same_as_scratch(url, con, as_of)

    # 0. The first build is whole.
    step(T0 + 6 * H, "whole", "first build")
    assert ticket_row(con, c1)["escalation_level"] == 0

    # 1. New tickets of each type, worked; the waiting inquiry answered.
    t1 = T0 + 7 * H
    with unit_of_work(engine) as session:
        who = people(session)
        agent, mgr = who["agent"], who["mgr"]
        inquiry = ticket(session, no["Fees"])
        tickets.pick_up(session, who["cs"], inquiry, inquiry.version, at=t1)
        tickets.resolve(session, who["cs"], inquiry, inquiry.version, "fee table", at=t1 + MIN)
        i2 = tickets.record_ticket(
            session, agent, Intake("OF1", "inquiry", "Parking"), received_at=t1
        )
        r2 = tickets.record_ticket(
            session, agent, Intake("OF1", "repair", "Door"), received_at=t1 + H
        )
        tickets.dispatch(session, agent, r2, "tech", r2.version, at=t1 + H + MIN)
        c3 = tickets.record_ticket(
            session, agent, Intake("OF1", "complaint", "Dog", severity="general"), received_at=t1
        )
        tickets.dispatch(session, agent, c3, "mgr", c3.version, at=t1 + MIN)
        tickets.pick_up(session, mgr, c3, c3.version, at=t1 + 2 * MIN)
        tickets.resolve(session, mgr, c3, c3.version, "talked", at=t1 + 2 * H)
        tickets.follow_up(session, agent, c3, c3.version, "satisfied", at=t1 + 3 * H)
        new = (i2.document_no, r2.document_no, c3.document_no)
    step(T0 + 12 * H, "incremental")
    assert [ticket_row(con, n)["state"] for n in new] == ["todo", "dispatched", "closed"]
    assert ticket_row(con, no["Fees"])["state"] == "replied"

    # 2. No event, as_of past C1's resolution deadline (T0 + 48 h): level 1 by timeout.
    step(T0 + 50 * H, "incremental")
    assert levels(con, c1) == [(1, naive(T0 + 48 * H), "timeout")]
    assert ticket_row(con, c1)["escalation_level"] == 1
    assert keys_rebuilt(con)["marts.complaint_escalations"] < 3  # not every complaint

    # 3. C2 was resolved in time (deadline T0 + 49 h); its owner is unsatisfied at T0 + 61 h:
    # level 1 by `unsatisfied` at the visit. A repair's unsatisfied visit opens a rework.
    with unit_of_work(engine) as session:
        who = people(session)
        complaint = ticket(session, c2)
        tickets.follow_up(
            session, who["agent"], complaint, complaint.version, "unsatisfied", at=T0 + 61 * H
        )
        r1 = ticket(session, no["Pipe"])
        tickets.pick_up(session, who["tech"], r1, r1.version, at=T0 + 50 * H)
        tickets.resolve(session, who["tech"], r1, r1.version, "sealed", at=T0 + 58 * H)
        rework = tickets.follow_up(
            session, who["agent"], r1, r1.version, "unsatisfied", rework=True, at=T0 + 60 * H
        )
        assert rework is not None
        rework_no = rework.document_no
    step(T0 + 62 * H, "incremental")
    assert levels(con, c2) == [(1, naive(T0 + 61 * H), "unsatisfied")]
    assert ticket_row(con, rework_no)["reopened_from"] == no["Pipe"]
    assert ticket_row(con, no["Pipe"])["state"] == "closed"

    # 4. as_of exactly at C1's level-2 deadline (level 1 + 48 h): still pending ...
    step(T0 + 96 * H, "incremental")
    assert [lv for lv, *_ in levels(con, c1)] == [1]
    # 5. ... and past it, with no event: level 2 by timeout.
    step(T0 + 100 * H, "incremental")
    assert levels(con, c1)[1] == (2, naive(T0 + 96 * H), "timeout")
    assert ticket_row(con, c1)["escalation_level"] == 2

    # 6. as_of exactly at C2's level-2 deadline (its visit + 48 h) ...
    step(T0 + 109 * H, "incremental")
    assert [lv for lv, *_ in levels(con, c2)] == [1]
    # 7. ... and past it, with no event: level 2 by timeout.
    step(T0 + 120 * H, "incremental")
    assert levels(con, c2)[1] == (2, naive(T0 + 109 * H), "timeout")

    # 8. A go-live import: one ticket of the past, and tickets dated after the build's as_of.
    def local(instant: datetime) -> str:
        return instant.isoformat()

    lines = [
        # long closed: all its events before the previous as_of
        f"TS-H1,OF1,complaint,major,,,{local(T0 + 20 * H)},{local(T0 + 20 * H + MIN)},"
        f"{local(T0 + 21 * H)},,{local(T0 + 30 * H)},{local(T0 + 31 * H)},satisfied",
        # received after the previous as_of, resolved in time, the owner unsatisfied later
        f"TS-H2,OF1,complaint,minor,,,{local(T0 + 125 * H)},{local(T0 + 125 * H + MIN)},"
        f"{local(T0 + 126 * H)},,{local(T0 + 140 * H)},{local(T0 + 150 * H)},unsatisfied",
        f"BX-H1,OF1,repair,,normal,,{local(T0 + 130 * H)},{local(T0 + 130 * H + MIN)},"
        f"{local(T0 + 131 * H)},,{local(T0 + 135 * H)},,",
        f"ZX-H1,OF1,inquiry,,,,{local(T0 + 118 * H)},,{local(T0 + 119 * H)},,"
        f"{local(T0 + 122 * H)},,",
    ]
    path = tmp_path / "tickets.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    with unit_of_work(engine) as session:
        assert import_tickets_file(session, path, actor=CLI).created == 4
    step(T0 + 120 * H, "incremental")
    assert ticket_row(con, "TS-H1")["state"] == "closed"
    assert ticket_row(con, "TS-H2") == {} and ticket_row(con, "ZX-H1")["state"] == "open"
    # 9. as_of moves on, no new event: the imported tickets' later events count now.
    step(T0 + 160 * H, "incremental")
    assert ticket_row(con, "BX-H1")["state"] == "resolved"
    assert ticket_row(con, "ZX-H1")["state"] == "closed"
    assert levels(con, "TS-H2") == [(1, naive(T0 + 150 * H), "unsatisfied")]

    # 10. An earlier as_of cannot continue a later build: whole.
    step(T0 + 30 * H, "whole", "as_of before the previous build's")
    assert levels(con, c1) == [] and ticket_row(con, "TS-H2") == {}
    # 11. From there far forward at once: everything dated in between counts.
    step(T0 + 200 * H, "incremental")
    assert ticket_row(con, "TS-H2")["escalation_level"] == 2  # 150 h + 48 h: by timeout

    # 12. An office's code changed: every row names it, all rebuilt whole.
    with unit_of_work(engine) as session:
        session.scalars(select(Office).where(Office.code == "OF1")).one().code = "OF9"
    step(T0 + 200 * H, "whole", "inputs changed")
    assert {o for (o,) in con.sql("select distinct office_code from marts.tickets").fetchall()} == {
        "OF9"
    }

    # 13. And refreshes continue incrementally after it: C1 resolved at last.
    with unit_of_work(engine) as session:
        who = people(session)
        complaint = ticket(session, c1)
        tickets.resolve(session, who["mgr"], complaint, complaint.version, "quiet", at=T0 + 201 * H)
    step(T0 + 210 * H, "incremental")
    assert ticket_row(con, c1)["resolved_at"] == naive(T0 + 201 * H)

    # The log holds every build of both marts, in order.
    log = con.sql(
        "select table_name, mode, reason from incremental.log"
        " where list_contains($t, table_name) order by seq",
        params={"t": list(INCREMENTAL)},
    ).fetchall()
    assert log == [(t, mode, reason) for mode, reason in expected_log for t in INCREMENTAL]
    con.close()
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def vectors_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every complaint of tests/vectors/escalation_vectors.json worked through the services:
    received, dispatched, picked up, then its resolutions and follow-up visits in turn."""
    cases = json.loads(VECTORS.read_text())["cases"]
    for url in fresh_database_url(request.param, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            w = _world(session)
            s, agent, mgr = w.session, w["agent"], w["mgr"]
            for case in cases:
                received = datetime.fromisoformat(case["received_at"])
                severity = {48: "minor", 72: "general", 120: "major"}[case["target_hours"]]
                c = tickets.record_ticket(
                    s,
                    agent,
                    Intake("OF1", "complaint", case["name"], severity=severity),
                    received_at=received,
                )
                tickets.dispatch(s, agent, c, "mgr", c.version, at=received + MIN)
                tickets.pick_up(s, mgr, c, c.version, at=received + 2 * MIN)
                steps = [(at, None) for at in case["resolutions"]] + [
                    (v["at"], v["result"]) for v in case["follow_ups"]
                ]
                for at, result in sorted(steps):
                    when = datetime.fromisoformat(at)
                    if result is None:
                        tickets.resolve(s, mgr, c, c.version, "done", at=when)
                    else:
                        tickets.follow_up(s, agent, c, c.version, result, at=when)
        engine.dispose()
        yield url


def instants_of_the_vectors() -> list[datetime]:
    """Every instant at which a vector complaint's ladder may move — its events, its resolution
    deadline, the escalated deadlines after a level 1 by timeout or by a follow-up — and the
    second after each, so a build falls on each and just past it."""
    found: set[datetime] = set()
    for case in json.loads(VECTORS.read_text())["cases"]:
        received = datetime.fromisoformat(case["received_at"])
        target = timedelta(hours=case["target_hours"])
        events = [received, *map(datetime.fromisoformat, case["resolutions"])]
        visits = [datetime.fromisoformat(v["at"]) for v in case["follow_ups"]]
        found |= {*events, *visits, received + target, received + 2 * target}
        found |= {at + target for at in visits}
        found.add(datetime.fromisoformat(case["as_of"]))
    return sorted(found | {at + timedelta(seconds=1) for at in found})


def test_as_of_moving_on_alone_equals_a_whole_build(vectors_url: str) -> None:
    """From a whole build at each instant of the vectors to the next (and to the last) with no
    new event, the incremental build equals a whole one: every level that fires by as_of alone —
    a deadline exactly at the previous as_of included — is rebuilt."""
    con = duckdb.connect()
    grid = instants_of_the_vectors()
    refresh(vectors_url, con, grid[0])
    marts = [m for m in _models() if m.table in MARTS]

    def build(as_of: datetime, *, full: bool) -> list[list[tuple[object, ...]]]:
        write_run_params(con, version="t", as_of=as_of, database_backend="x")
        for model in marts:
            run_model(con, model, full=full)
        return [rows(con, m.table) for m in marts]

    def incremental_equals_whole(as_of: datetime) -> None:
        kept = build(as_of, full=False)
        assert [m for _, m, _ in last_builds(con)] == ["incremental", "incremental"]
        assert kept == build(as_of, full=True), as_of  # ... and the base of the next step

    build(grid[0], full=True)
    for as_of in grid[1:]:
        incremental_equals_whole(as_of)
    for previous in grid[:-2:7]:
        build(previous, full=True)
        incremental_equals_whole(grid[-1])
    fired = con.sql("select count(*) from marts.complaint_escalations").fetchall()[0][0]
    assert fired > 5
    con.close()
