"""The ticket marts: the SQL ladder on the shared vectors, and a live-worked database whose
recomputed escalations, clocks and tickets equal what the operational core recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import Ticket, WorkflowEvent
from operational.services import tickets
from operational.services.tickets import Intake
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_tickets import _world
from tests.operational.test_workflow_support import T0
from tests.warehouse.sla_support import SLA_MARTS
from warehouse import sla
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_table
from warehouse.models import load_models, run_model, write_run_params

VECTORS = Path(__file__).parents[1] / "vectors" / "escalation_vectors.json"
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def _model_sql(name: str) -> str:
    (model,) = [m for m in load_models() if m.name == name]
    return model.sql


def _naive(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize(
    "case", json.loads(VECTORS.read_text())["cases"], ids=lambda c: str(c["name"])
)
def test_the_sql_ladder_gives_the_vectors(case: dict[str, object]) -> None:
    con = duckdb.connect()
    for schema in ("raw", "staging", "delta"):
        con.execute(f"create schema {schema}")
    # The complaints the mart rebuilds (warehouse.incremental): on a whole build, every one.
    con.execute("create table delta.complaint_escalations as select 1::bigint as ticket_id")
    con.execute(
        "create table raw.run_params as select $a::timestamp as as_of",
        {"a": _naive(str(case["as_of"]))},
    )
    con.execute(
        "create table staging.stg_tickets as select 1::bigint as ticket_id, 'TS-1' as ticket_no,"
        " 1::bigint as office_id, 'complaint' as ticket_type"
    )
    con.execute(
        "create table staging.stg_offices as select 1::bigint as office_id, 'OF1' as office_code"
    )
    events: list[tuple[int, str | None, str, datetime]] = [
        (1, None, "recorded", _naive(str(case["received_at"])))
    ]
    for at in case["resolutions"]:  # type: ignore[attr-defined]
        events.append((len(events) + 1, "in_progress", "resolved", _naive(at)))
    for visit in case["follow_ups"]:  # type: ignore[attr-defined]
        to = "closed" if visit["result"] == "satisfied" else "in_progress"
        events.append((len(events) + 1, "resolved", to, _naive(visit["at"])))
    con.execute(
        "create table staging.stg_workflow_events (event_id bigint, document_type varchar,"
        " document_id bigint, from_state varchar, to_state varchar, event_at timestamp)"
    )
    con.executemany(
        "insert into staging.stg_workflow_events values (?, 'complaint', 1, ?, ?, ?)", events
    )
    con.execute(
        "create table staging.stg_workflow_clocks as select 'complaint' as document_type,"
        " 1::bigint as document_id, 'resolution' as clock, $h::integer as target_amount,"
        " 'calendar_hours' as target_unit, 1::bigint as started_event_id",
        {"h": case["target_hours"]},
    )
    rows = con.sql(
        "select level, escalated_at, reason, holder_role from ("
        + _model_sql("complaint_escalations")
        + ")"
    ).fetchall()
    expected = [
        (e["level"], _naive(e["at"]), e["reason"], e["holder_role"])
        for e in case["expected"]  # type: ignore[attr-defined]
    ]
    assert rows == expected


def _build(url: str, as_of: datetime) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    with OperationalSource(url) as database:  # one connection for every table, as a pipeline run
        for source in SOURCES:
            extract_table(database, con, source.table)
    write_run_params(con, version="t", as_of=as_of, database_backend=database_backend(url))
    models = [
        m
        for m in load_models()
        if "energy" not in m.name and not any("energy" in table for table in m.depends_on)
    ]
    for model in models:
        if model.name not in SLA_MARTS:
            run_model(con, model)
    sla.build_sla_clocks(con)
    for model in models:
        if model.name in SLA_MARTS:
            run_model(con, model)
    return con


# One worker runs this module, so its module-scoped worked desk is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("tickets-marts")


@pytest.fixture(scope="module", params=BACKENDS)
def worked_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Tickets worked live: a late complaint climbing both levels, a night repair, an
    appointment repair with a rework, an inquiry."""
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("tickets")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            w = _world(session)
            s = w.session
            c = tickets.record_ticket(
                s, w["agent"], Intake("OF1", "complaint", "Noise", severity="minor"), received_at=T0
            )
            tickets.dispatch(s, w["agent"], c, "mgr", c.version, at=T0 + MIN)
            tickets.pick_up(s, w["mgr"], c, c.version, at=T0 + 3 * MIN)
            tickets.check_escalations(s, as_of=T0 + 49 * H)
            tickets.resolve(s, w["mgr"], c, c.version, "done", at=T0 + 50 * H)
            tickets.follow_up(s, w["agent"], c, c.version, "unsatisfied", at=T0 + 51 * H)
            night = datetime(2026, 3, 2, 15, 10, tzinfo=UTC)
            r = tickets.record_ticket(
                s, w["agent"], Intake("OF1", "repair", "Pipe", urgency="urgent"), received_at=night
            )
            tickets.dispatch(s, w["agent"], r, "tech", r.version, at=night + 2 * MIN)
            a = tickets.record_ticket(
                s,
                w["agent"],
                Intake(
                    "OF1",
                    "repair",
                    "Door",
                    urgency="appointment",
                    appointment_at=T0 + 26 * H + 30 * MIN,
                ),
                received_at=T0 + 4 * H + timedelta(seconds=7),
            )
            tickets.dispatch(
                s, w["agent"], a, "tech", a.version, at=T0 + 5 * H + timedelta(seconds=13)
            )
            tickets.pick_up(s, w["tech"], a, a.version, at=T0 + 6 * H)
            tickets.resolve(s, w["tech"], a, a.version, "fixed", at=T0 + 27 * H)
            tickets.follow_up(
                s, w["agent"], a, a.version, "unsatisfied", rework=True, at=T0 + 30 * H
            )
            tickets.record_ticket(s, w["agent"], Intake("OF1", "inquiry", "Fees"), received_at=T0)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def built(worked_url: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The desk's marts built once as of 20 March, after everything (the tests only read them)."""
    con = _build(worked_url, datetime(2026, 3, 20, tzinfo=UTC))
    yield con
    con.close()


@pytest.mark.slow  # a build of the ticket marts
def test_recomputed_escalations_equal_the_live_ones(
    worked_url: str, built: duckdb.DuckDBPyConnection
) -> None:
    engine = create_db_engine(worked_url)
    with unit_of_work(engine) as session:
        live = sorted(
            (e.document_no, int(e.transition[-1]), e.at.replace(tzinfo=None), e.payload["reason"])
            for e in session.scalars(
                select(WorkflowEvent).where(WorkflowEvent.transition.like("escalate_%"))
            )
        )
        numbers: dict[str, str] = {}
        for t in session.scalars(select(Ticket).order_by(Ticket.id)):
            numbers.setdefault(t.subject, t.document_no)  # the first, not its rework
    engine.dispose()
    assert len(live) == 2
    con = built
    rows = con.sql(
        "select ticket_no, level, escalated_at, reason from marts.complaint_escalations"
    ).fetchall()
    assert sorted(rows) == live
    # As of a moment between the two levels, only level 1 had fired.
    earlier = _build(worked_url, T0 + 50 * H)
    assert [
        r[0] for r in earlier.sql("select level from marts.complaint_escalations").fetchall()
    ] == [1]
    ticket = con.sql(
        "select type, severity, escalation_level from marts.tickets where ticket_no = $n",
        params={"n": numbers["Noise"]},
    ).fetchall()
    assert ticket == [("complaint", "minor", 2)]
    rework = con.sql(
        "select reopened_from from marts.tickets where reopened_from is not null"
    ).fetchall()
    assert rework == [(numbers["Door"],)]
    night = con.sql(
        "select night_service from marts.tickets where ticket_no = $n",
        params={"n": numbers["Pipe"]},
    ).fetchall()
    assert night == [(True,)]


@pytest.mark.slow  # a build of the ticket marts
def test_ticket_clocks_join_sla_clocks_with_the_live_deadlines(
    built: duckdb.DuckDBPyConnection,
) -> None:
    con = built
    rows = con.sql(
        "select document_type, clock, discipline, due_at = stored_due_at from marts.sla_clocks"
        " where document_type in ('inquiry', 'repair', 'complaint') order by all"
    ).fetchall()
    assert {r[2] for r in rows} == {"customer_service"}
    assert all(r[3] for r in rows), rows
    assert {(r[0], r[1]) for r in rows} == {
        ("complaint", "escalated_resolution"),
        ("complaint", "pickup"),
        ("complaint", "resolution"),
        ("inquiry", "pickup"),
        ("repair", "on_site"),
        ("repair", "pickup"),
        ("repair", "resolution"),
    }


def test_ticket_compliance_counts_every_ticket_clock_by_day_and_night(
    built: duckdb.DuckDBPyConnection,
) -> None:
    con = built
    clocks, total = con.sql(
        "select (select count(*) from marts.sla_clocks"
        " where document_type in ('inquiry', 'repair', 'complaint')),"
        " (select sum(total) from marts.ticket_compliance)"
    ).fetchall()[0]
    assert clocks == total
    # Both repairs were received outside working time (23:10, and 13:00 in the lunch break);
    # one was never picked up, the other an hour after its dispatch: two night breaches.
    night_pickups = con.sql(
        "select night_service, total, met, breached, pending from marts.ticket_compliance"
        " where type = 'repair' and clock = 'pickup' order by night_service"
    ).fetchall()
    assert night_pickups == [(True, 2, 0, 2, 0)]
    complaint = con.sql(
        "select night_service, met, breached, compliance_pct from marts.ticket_compliance"
        " where type = 'complaint' and clock = 'resolution'"
    ).fetchall()
    assert complaint == [(False, 0, 1, 0.0)]
