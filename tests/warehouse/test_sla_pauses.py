"""Paused clocks: marts.sla_clocks (SQL, pauses rebuilt from the events) agrees with
``operational.sla.evaluate`` (Python, pauses as the engine stored them) and with the deadlines the
engine stored on resume — 24×7 and office-calendar clocks, one still paused at as_of, one whose
resume comes after as_of, one paused after its deadline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import select

from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import CorrectiveOrder, Discipline, WorkflowClock, WorkflowClockPause
from operational.services import orders
from operational.services.calendars import office_calendar
from operational.services.orders import CorrectiveSpec
from operational.sla import ClockTarget, ClockUnit, evaluate
from operational.workflow import engine
from pipelines.run import run_pipeline
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_workflow_support import T0, build_world
from tests.warehouse.sla_support import build

H = timedelta(hours=1)
SH = timedelta(hours=8)
AS_OF = T0 + 5 * 24 * H  # Saturday 2026-03-07 09:00 in Shanghai


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - SH


# Cleaning (OF1): 72 calendar hours, 24×7. Engineering (OF1): 480 business minutes on the office
# calendar (group default hours 09:00–12:00, 13:30–18:00). Steps: (transition, instant).
VECTORS: dict[str, dict[str, Any]] = {
    # paused a day: due T0 + 96 h, done before it
    "resumed_met": {
        "discipline": "cleaning",
        "steps": [("wait", T0 + 2 * H), ("resume", T0 + 26 * H), ("verify", T0 + 90 * H)],
        "due": T0 + 96 * H,
        "state": "met",
    },
    # two pauses of an hour each, verified an hour after the moved deadline
    "two_pauses_breached": {
        "discipline": "cleaning",
        "steps": [
            ("wait", T0 + 1 * H),
            ("resume", T0 + 2 * H),
            ("wait", T0 + 3 * H),
            ("resume", T0 + 4 * H),
            ("verify", T0 + 75 * H),
        ],
        "due": T0 + 74 * H,
        "state": "breached",
    },
    # still paused at as_of: deadline unknown, pending
    "still_paused": {
        "discipline": "cleaning",
        "steps": [("wait", T0 + 1 * H)],
        "due": None,
        "state": "pending",
    },
    # resumed only after as_of: at as_of it is paused (only what is known by as_of counts)
    "resumed_after_as_of": {
        "discipline": "cleaning",
        "steps": [("wait", T0 + 3 * H), ("resume", AS_OF + 24 * H)],
        "due": None,
        "state": "pending",
    },
    # paused after its deadline had passed: the breach stands, the deadline does not move
    "paused_after_breach": {
        "discipline": "cleaning",
        "steps": [("wait", T0 + 80 * H)],
        "due": T0 + 72 * H,
        "state": "breached",
    },
    # office calendar, Monday 09:00: due Tuesday 09:30; waiting 11:30–14:00 pauses 60 working
    # minutes (not the lunch break) → Tuesday 10:30, verified exactly then: met
    "office_lunch": {
        "discipline": "engineering",
        "steps": [
            ("wait", _local("2026-03-02T11:30")),
            ("resume", _local("2026-03-02T14:00")),
            ("verify", _local("2026-03-03T10:30")),
        ],
        "due": _local("2026-03-03T10:30"),
        "state": "met",
    },
    # office calendar, waiting inside the lunch break only: nothing paused, due Tuesday 09:30
    "office_in_lunch": {
        "discipline": "engineering",
        "steps": [("wait", _local("2026-03-02T12:10")), ("resume", _local("2026-03-02T13:20"))],
        "due": _local("2026-03-03T09:30"),
        "state": "breached",
    },
}


PAUSED_AT_AS_OF = {"still_paused", "resumed_after_as_of", "paused_after_breach"}


def _load(session: Any) -> dict[str, str]:
    w = build_world(session)
    orders.set_target(
        session,
        w["mgr"],
        "OF1",
        Discipline.ENGINEERING,
        ClockTarget(480, ClockUnit.BUSINESS_MINUTES, "office"),
    )
    numbers = {}
    for name, v in VECTORS.items():
        discipline = Discipline(v["discipline"])
        responsible = "clean" if discipline is Discipline.CLEANING else "eng"
        order: CorrectiveOrder = orders.raise_corrective(
            session,
            w["guard"],
            office_code="OF1",
            spec=CorrectiveSpec(responsible, name, discipline=discipline),
            at=T0,
        )
        orders.assign(session, w[responsible], order, "tech", order.version, at=T0)
        for step, at in v["steps"]:
            if step == "wait":
                orders.wait_corrective(session, w["tech"], order, order.version, "parts", at=at)
            elif step == "resume":
                orders.resume_corrective(session, w["tech"], order, order.version, at=at)
            else:
                orders.process_corrective(session, w["tech"], order, order.version, "done", at=at)
                orders.verify_corrective(
                    session, w[responsible], order, order.version, accepted=True, at=at
                )
        numbers[name] = order.document_no
    return numbers


# One worker runs this module, so its module-scoped world is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("sla-pauses")


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("pauses")):
        migrated(url)
        engine_ = create_db_engine(url)
        with unit_of_work(engine_) as session:
            ensure_group(session, "YY", "一应物业集团")
            numbers = _load(session)
        engine_.dispose()
        yield url, numbers


def _naive(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(UTC).replace(tzinfo=None)


@pytest.mark.slow
def test_python_and_sql_agree_on_paused_clocks(world: tuple[str, dict[str, str]]) -> None:
    url, numbers = world
    con = build(url, AS_OF)
    mart = {
        r[0]: r[1:]
        for r in con.sql(
            "select document_no, due_at, stored_due_at, state, elapsed_minutes, paused"
            " from marts.sla_clocks"
        ).fetchall()
    }
    db = create_db_engine(url)
    with unit_of_work(db) as session:
        calendar = office_calendar(session, "OF1")
        clocks = {c.document_no: c for c in session.scalars(select(WorkflowClock))}
        pauses: dict[int, list[tuple[datetime, datetime | None]]] = {}
        for p in session.scalars(select(WorkflowClockPause).order_by(WorkflowClockPause.paused_at)):
            pauses.setdefault(p.clock_id, []).append((p.paused_at, p.resumed_at))
    db.dispose()
    assert len(mart) == len(VECTORS)
    for name, v in VECTORS.items():
        clock = clocks[numbers[name]]
        python = evaluate(
            clock.started_at,
            engine.clock_target(clock),
            calendar,
            AS_OF,
            pauses.get(clock.id, []),
            clock.stopped_at,
        )
        due, stored_due, state, elapsed, paused = mart[clock.document_no]
        assert paused == (name in PAUSED_AT_AS_OF), name
        assert (python.due_at, python.state.value) == (v["due"], v["state"]), name
        assert (due, state, elapsed) == (
            _naive(python.due_at),
            python.state.value,
            python.elapsed_minutes,
        ), name
        if name == "resumed_after_as_of":
            # stored on resume, a day after as_of: the deadline as known now
            assert stored_due == _naive(T0 + 72 * H + (AS_OF + 24 * H - (T0 + 3 * H)))
        elif name != "still_paused":
            assert stored_due == due, name  # the engine stored what the rule gives
        else:
            assert stored_due == _naive(T0 + 72 * H)  # paused: the deadline before the pause


@pytest.mark.slow
def test_the_compliance_mart_counts_paused_clocks_as_pending(
    world: tuple[str, dict[str, str]],
) -> None:
    url, _ = world
    con = build(url, AS_OF)
    rows = con.sql(
        "select discipline, total, met, breached, pending from marts.sla_compliance"
        " order by discipline"
    ).fetchall()
    assert rows == [("cleaning", 5, 1, 2, 2), ("engineering", 2, 1, 1, 0)]
    # a paused open order is open, not overdue
    (open_orders, overdue) = con.sql(
        "select open_orders, overdue_orders from marts.office_workload where office_code = 'OF1'"
    ).fetchall()[0]
    assert (open_orders, overdue) == (4, 2)


@pytest.mark.slow
def test_the_pipeline_publishes_with_clocks_paused_at_as_of(
    world: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """The blocking SLA checks accept a clock that is paused at as_of or resumed after it."""
    url, numbers = world
    published = run_pipeline(url, tmp_path / "warehouse", AS_OF)
    con = duckdb.connect(str(published), read_only=True)
    try:
        paused = {
            row[0]
            for row in con.sql("select document_no from marts.sla_clocks where paused").fetchall()
        }
    finally:
        con.close()
    assert paused == {numbers[name] for name in PAUSED_AT_AS_OF}
