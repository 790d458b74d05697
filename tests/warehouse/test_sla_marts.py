"""The SLA marts: exact rows for a known scenario, as_of, and Python = SQL on the demo data."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from operational.db import create_db_engine, unit_of_work
from operational.demo import STEPS, DemoOptions
from operational.demo.orders import orders_step
from operational.imports.org import ensure_group
from operational.models import Office, WorkflowClock, WorkflowClockPause
from operational.services.calendars import calendar_for_office
from operational.sla import evaluate
from operational.workflow import engine as workflow
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_workflow_support import T0
from tests.warehouse.sla_support import AS_OF_1, AS_OF_2, DUE, build, scenario_database

CONTRACT = [
    "document_no",
    "office_code",
    "discipline",
    "document_type",
    "clock",
    "started_at",
    "due_at",
    "stopped_at",
    "state",
]
NAIVE = {"t0": T0.replace(tzinfo=None)}


# One worker runs this module, so its module-scoped scenario and demo are made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making them.
pytestmark = pytest.mark.xdist_group("sla-marts")


@pytest.fixture(scope="module", params=BACKENDS)
def scenario_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from scenario_database(request.param, tmp_path_factory.mktemp("sla"))


@pytest.fixture(scope="module")
def built(scenario_url: str) -> Iterator[dict[datetime, duckdb.DuckDBPyConnection]]:
    """The scenario's SLA marts built once at each as_of the tests read (they only read them)."""
    builds = {as_of: build(scenario_url, as_of) for as_of in (AS_OF_1, AS_OF_2)}
    yield builds
    for con in builds.values():
        con.close()


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _clocks(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[object, ...]]:
    rows = con.sql(
        f"select {', '.join(CONTRACT)} from marts.sla_clocks order by document_no"
    ).fetchall()
    return {str(r[0]): r[1:] for r in rows}


def test_sla_clocks_contract_and_rows_at_a_late_as_of(
    built: dict[datetime, duckdb.DuckDBPyConnection],
) -> None:
    con = built[AS_OF_2]
    columns = [c[0] for c in con.sql("describe marts.sla_clocks").fetchall()]
    assert columns[: len(CONTRACT)] == CONTRACT
    clocks = _clocks(con)
    corrective = sorted(no for no in clocks if no.startswith("CM-"))
    (periodic,) = [no for no in clocks if no.startswith("PM-")]
    c1, c2, c3, c4 = corrective
    t0 = _naive(T0)
    day2 = t0 + timedelta(days=1)
    assert clocks[c1] == (
        "OF1",
        "cleaning",
        "corrective_order",
        "completion",
        t0,
        t0 + DUE,
        t0 + DUE,
        "met",
    )  # stopped exactly at its deadline: met
    assert clocks[c2][5:] == (t0 + DUE, t0 + DUE + timedelta(seconds=1), "breached")
    assert clocks[c3][4:] == (day2, day2 + DUE, None, "breached")  # open past its deadline
    assert clocks[c4][6:] == (t0 + timedelta(days=4), "breached")
    starts = datetime(2026, 3, 9, 16, 0)  # 00:00 of 03-10 in Shanghai
    assert clocks[periodic] == (
        "OF1",
        "engineering",
        "periodic_order",
        "completion",
        starts,
        starts + DUE,
        datetime(2026, 3, 11, 2, 0),
        "met",
    )
    agree = con.sql("select count(*) from marts.sla_clocks where due_at <> stored_due_at")
    assert agree.fetchall() == [(0,)]


def test_the_same_data_at_an_earlier_as_of(
    built: dict[datetime, duckdb.DuckDBPyConnection],
) -> None:
    con = built[AS_OF_1]
    clocks = _clocks(con)
    assert len(clocks) == 4  # the periodic order's clock has not started yet
    assert {c[7] for c in clocks.values()} == {"pending"}
    assert {c[6] for c in clocks.values()} == {None}  # stops after as_of have not happened


@pytest.mark.slow  # a build of the SLA marts
def test_compliance_counts_and_percentages(
    built: dict[datetime, duckdb.DuckDBPyConnection],
) -> None:
    late = built[AS_OF_2].sql(
        "select * exclude (month) from marts.sla_compliance order by discipline"
    )
    assert late.fetchall() == [
        ("OF1", "cleaning", "corrective_order", "completion", 4, 1, 3, 0, 25.0),
        ("OF1", "engineering", "periodic_order", "completion", 1, 1, 0, 0, 100.0),
    ]
    early = built[AS_OF_1].sql(
        "select month, total, pending, compliance_pct from marts.sla_compliance"
    )
    assert early.fetchall() == [(date(2026, 3, 1), 4, 4, None)]


def test_office_month_is_local(tmp_path: Path) -> None:
    """A clock started at 23:30 UTC on 31 March is in April in Shanghai."""
    con = duckdb.connect()
    con.execute("create schema raw; create schema staging; create schema marts")
    con.execute(
        "create table marts.sla_clocks as select 'X' as office_code, 'cleaning' as discipline,"
        " 'corrective_order' as document_type, 'completion' as clock,"
        " cast(date_trunc('month', timezone('Asia/Shanghai', timestamptz '2026-03-31 23:30+00'))"
        " as date) as month, 'met' as state"
    )
    assert con.sql("select month from marts.sla_clocks").fetchall() == [(date(2026, 4, 1),)]


@pytest.mark.slow  # a build of the SLA marts
def test_office_workload_and_throughput(built: dict[datetime, duckdb.DuckDBPyConnection]) -> None:
    con = built[AS_OF_2]
    rows = con.sql("select * exclude (as_of) from marts.office_workload order by office_code")
    assert rows.fetchall() == [
        ("OF1", 1, 1, 4, 3, 3, 0.0),  # the plan ended on 03-10: it covers nothing now
        ("OF2", 0, 0, 0, 0, 0, None),
    ]
    early = built[AS_OF_1].sql(
        "select open_orders, overdue_orders, closed_last_30d, objects_without_plan,"
        " plan_coverage_pct from marts.office_workload where office_code = 'OF1'"
    )
    assert early.fetchall() == [(4, 0, 0, 1, pytest.approx(200 / 3))]
    throughput = con.sql(
        "select discipline, document_type, month, created, closed from marts.order_throughput"
        " order by discipline"
    )
    assert throughput.fetchall() == [
        ("cleaning", "corrective_order", date(2026, 3, 1), 4, 3),
        ("engineering", "periodic_order", date(2026, 3, 1), 1, 1),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("demo")):
        migrated(url)
        engine = create_db_engine(url)
        options = DemoOptions(offices=4, days=120, seed=3, now=datetime(2026, 2, 20, 6, tzinfo=UTC))
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            STEPS[0](session, options, random.Random(3))
            orders_step(session, options, random.Random(3))
        engine.dispose()
        yield url


@pytest.mark.slow
@pytest.mark.parametrize(
    "as_of", [datetime(2026, 2, 20, 6, tzinfo=UTC), datetime(2026, 1, 15, 12, tzinfo=UTC)]
)
def test_python_and_sql_agree_on_the_demo_data(demo_url: str, as_of: datetime) -> None:
    con = build(demo_url, as_of)
    mart = {
        r[0]: (r[1], r[2], r[3])
        for r in con.sql(
            "select clock_id, due_at, stopped_at, state from marts.sla_clocks"
        ).fetchall()
    }
    engine = create_db_engine(demo_url)
    with unit_of_work(engine) as session:
        # The demo has office-calendar clocks (business minutes) and paused ones (waiting).
        calendars = {o.id: calendar_for_office(session, o) for o in session.scalars(select(Office))}
        clocks = list(
            session.scalars(select(WorkflowClock).where(WorkflowClock.started_at <= as_of))
        )
        pauses: dict[int, list[tuple[datetime, datetime | None]]] = {c.id: [] for c in clocks}
        for pause in session.scalars(
            select(WorkflowClockPause).order_by(WorkflowClockPause.paused_at)
        ):
            pauses.get(pause.clock_id, []).append((pause.paused_at, pause.resumed_at))
    engine.dispose()
    assert len(clocks) == len(mart) > 500
    states = set()
    for clock in clocks:
        python = evaluate(
            clock.started_at,
            workflow.clock_target(clock),
            calendars[clock.office_id],
            as_of,
            pauses[clock.id],
            stopped_at=clock.stopped_at,
        )
        due, stopped, state = mart[clock.id]
        python_due = _naive(python.due_at) if python.due_at is not None else None
        assert (python_due, python.state.value) == (due, state), clock.document_no
        assert stopped == (
            _naive(clock.stopped_at) if clock.stopped_at and clock.stopped_at <= as_of else None
        )
        states.add(state)
    assert states == {"met", "breached", "pending"}


@pytest.mark.slow
def test_local_months_by_offset_where_fixed_and_by_zone_rules_elsewhere() -> None:
    """Months are office-local: a zone that kept one UTC offset over the build (China) by
    arithmetic, one with summer time (Berlin) by its rules — either way the right month."""
    from warehouse import sla

    con = duckdb.connect()
    con.execute("create schema staging; create schema sla")
    con.execute(
        "create table staging.stg_offices as select * from (values ('Asia/Shanghai'),"
        " ('Europe/Berlin'), ('Not/AZone')) t(timezone)"
    )
    con.execute(
        "create table staging.stg_workflow_events as select * from (values"
        " (timestamp '2026-01-05 08:00'), (timestamp '2026-06-30 08:00')) t(event_at)"
    )
    sla._load_zone_offsets(con, datetime(2026, 7, 1))
    assert con.sql("select * from sla.zone_offsets").fetchall() == [("Asia/Shanghai", 28800)]
    month = sla._local_month("x.instant", "x.timezone", "z.offset_seconds")
    rows = con.sql(
        f"""
        select x.timezone, cast(x.instant as varchar), {month}
        from (values ('Asia/Shanghai', timestamp '2026-03-31 16:30'),
                     ('Asia/Shanghai', timestamp '2026-03-31 15:30'),
                     ('Europe/Berlin', timestamp '2026-03-31 22:30'),
                     ('Europe/Berlin', timestamp '2026-02-28 23:30'),
                     ('Europe/Berlin', timestamp '2026-02-28 22:30')) x(timezone, instant)
        left join sla.zone_offsets z using (timezone)
        """
    ).fetchall()
    assert rows == [
        ("Asia/Shanghai", "2026-03-31 16:30:00", date(2026, 4, 1)),  # 00:30 on 1 April, +08
        ("Asia/Shanghai", "2026-03-31 15:30:00", date(2026, 3, 1)),
        ("Europe/Berlin", "2026-03-31 22:30:00", date(2026, 4, 1)),  # summer time: +02
        ("Europe/Berlin", "2026-02-28 23:30:00", date(2026, 3, 1)),  # winter time: +01
        ("Europe/Berlin", "2026-02-28 22:30:00", date(2026, 2, 1)),
    ]
