"""Demo step for maintenance: objects, approved plans and orders that the engine can continue;
orders waiting now (paused clocks), an office whose corrective clocks run on its own calendar,
and a pipeline build of it all that passes its checks."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import (
    load_principal,
    system_principal,
)
from operational.db import create_db_engine, unit_of_work
from operational.demo import STEPS, DemoOptions
from operational.demo.orders import orders_step
from operational.imports.org import ensure_group
from operational.models import (
    ChecklistAnswer,
    ClockPolicy,
    CorrectiveOrder,
    MaintObject,
    ObjectType,
    Office,
    OfficeCalendarInterval,
    PeriodicOrder,
    PeriodicPlan,
    User,
    WorkflowClock,
    WorkflowClockPause,
    WorkflowEvent,
)
from operational.services import orders, plans
from operational.services.calendars import office_calendar
from operational.services.orders import Answer
from operational.sla import evaluate
from operational.workflow import engine
from pipelines.run import run_pipeline
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from warehouse.queries_sla import SlaReader
from warehouse.scope import OfficeScope

CLI = system_principal("cli")

NOW = datetime(2026, 2, 20, 6, tzinfo=UTC)


def _load(session: Session, offices: int, days: int, seed: int = 5) -> None:
    options = DemoOptions(offices=offices, days=days, seed=seed, now=NOW)
    ensure_group(session, "YY", "一应物业集团")
    STEPS[0](session, options, random.Random(seed))
    orders_step(session, options, random.Random(seed))


# One worker runs this module, so its module-scoped demo is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("demo-orders")


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("demo_orders")):
        migrated(url)
        db = create_db_engine(url)
        with unit_of_work(db) as session:
            _load(session, offices=3, days=90)
        db.dispose()
        yield url


def _count(session: Session, statement: Any) -> int:
    return int(session.scalar(statement) or 0)


def _summary(session: Session) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in session.execute(
            select(WorkflowEvent.document_no, WorkflowEvent.transition, WorkflowEvent.at)
            .order_by(WorkflowEvent.document_no, WorkflowEvent.id)
            .limit(2000)
        )
    ]


def test_tree_objects_plans_and_orders(demo_url: str) -> None:
    db = create_db_engine(demo_url)
    with unit_of_work(db) as session:
        codes = set(session.scalars(select(ObjectType.code)))
        assert {
            "elevator",
            "water_pump",
            "fire_equipment",
            "lawn_zone",
            "guard_post",
            "lobby",
        } <= codes
        assert _count(session, select(func.count()).select_from(MaintObject)) >= 3 * 8
        assert set(session.scalars(select(PeriodicPlan.state))) == {"approved"}
        assert _count(session, select(func.count()).select_from(PeriodicPlan)) == 15
        kinds = Counter(session.scalars(select(WorkflowClock.document_type)))
        assert kinds["periodic_order"] > 3 * 150 and kinds["corrective_order"] > 20
        # Some office leaves an object without a plan (coverage below 100 %) — or all are covered.
        uncovered = [
            len(plans.objects_without_plan(session, CLI, c)) for c in ("BJ001", "SH001", "SH002")
        ]
        assert all(n in (0, 1) for n in uncovered)
    db.dispose()


def test_events_and_clocks_are_what_the_engine_writes(demo_url: str) -> None:
    db = create_db_engine(demo_url)
    with unit_of_work(db) as session:
        documents: list[PeriodicOrder | CorrectiveOrder] = [
            *session.scalars(select(PeriodicOrder).limit(200)),
            *session.scalars(select(CorrectiveOrder).limit(200)),
        ]
        for order in documents:
            history = engine.history(session, order)
            assert history[0].from_state is None
            assert all(a.to_state == b.from_state for a, b in itertools.pairwise(history))
            assert history[-1].to_state == order.state
            assert order.version == len(history)
            assert [e.at for e in history] == sorted(e.at for e in history)
            prefix = "PM" if isinstance(order, PeriodicOrder) else "CM"
            assert order.document_no.startswith(f"{prefix}-")
            assert order.document_no.endswith(f"{order.id:06d}")
        stray = _count(
            session,
            select(func.count())
            .select_from(WorkflowClock)
            .join(WorkflowEvent, WorkflowEvent.id == WorkflowClock.started_event_id)
            .where(WorkflowEvent.document_no != WorkflowClock.document_no),
        )
        assert stray == 0
        open_clocks = _count(
            session,
            select(func.count())
            .select_from(WorkflowClock)
            .where(WorkflowClock.stopped_at.is_(None)),
        )
        not_closed = _count(
            session,
            select(func.count()).select_from(PeriodicOrder).where(PeriodicOrder.state != "closed"),
        ) + _count(
            session,
            select(func.count())
            .select_from(CorrectiveOrder)
            .where(CorrectiveOrder.state != "closed"),
        )
        assert open_clocks == not_closed > 0
    db.dispose()


def test_the_engine_continues_a_demo_order(demo_url: str) -> None:
    db = create_db_engine(demo_url)
    with db.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection) as session:
            order = session.scalars(
                select(PeriodicOrder).where(PeriodicOrder.state == "assigned").limit(1)
            ).one()
            handler = load_principal(session, order.handler_id or 0)
            responsible = load_principal(session, order.responsible_id)
            todo = [i.document_no for i in orders.todo_list(session, handler)]
            assert order.document_no in todo
            answers = {a.id: Answer(ok=True) for a in orders.checklist(session, order)}
            assert answers
            orders.complete_periodic(
                session,
                handler,
                order,
                answers,
                order.version,
                note="checked",
                at=NOW + timedelta(hours=1),
            )
            assert order.state == "closed"
            assert responsible.username.endswith((".eng", ".land", ".sec", ".clean")) or (
                responsible.username == "engineer"
            )
        transaction.rollback()
    db.dispose()


@pytest.mark.slow
def test_deterministic_idempotent_and_compliance_differs(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path}/{name}.db"
        migrated(url)
        db = create_db_engine(url)
        with unit_of_work(db) as session:
            _load(session, offices=4, days=120, seed=11)
        with unit_of_work(db) as session:
            before = _count(session, select(func.count()).select_from(WorkflowEvent))
            orders_step(session, DemoOptions(4, 120, 11, NOW), random.Random(11))
            assert _count(session, select(func.count()).select_from(WorkflowEvent)) == before
            runs.append(_summary(session))
            late: dict[tuple[int, str], list[bool]] = {}
            for office_id, discipline, due, stopped in session.execute(
                select(
                    CorrectiveOrder.office_id,
                    CorrectiveOrder.discipline,
                    WorkflowClock.due_at,
                    WorkflowClock.stopped_at,
                )
                .join(CorrectiveOrder, CorrectiveOrder.id == WorkflowClock.document_id)
                .where(
                    WorkflowClock.document_type == "corrective_order",
                    WorkflowClock.stopped_at.is_not(None),
                )
            ):
                late.setdefault((office_id, discipline), []).append(
                    stopped is not None and stopped > due
                )
        db.dispose()
    assert runs[0] == runs[1]
    rates = [sum(v) / len(v) for v in late.values() if len(v) >= 5]
    assert max(rates) - min(rates) > 0.05  # offices and disciplines differ


@pytest.mark.slow
def test_the_default_demo_scale_loads_two_years_of_orders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/big.db"
    migrated(url)
    db = create_db_engine(url)
    with unit_of_work(db) as session:
        options = DemoOptions(offices=12, days=730, seed=7, now=NOW)
        ensure_group(session, "YY", "一应物业集团")
        STEPS[0](session, options, random.Random(7))
        orders_step(session, options, random.Random(7))
        assert _count(session, select(func.count()).select_from(ChecklistAnswer)) > 10_000
        assert _count(session, select(func.count()).select_from(User)) > 12 * 6
    db.dispose()


def _corrective_clocks(
    session: Session, office_code: str
) -> list[tuple[CorrectiveOrder, WorkflowClock]]:
    return [
        (order, clock)
        for order, clock in session.execute(
            select(CorrectiveOrder, WorkflowClock)
            .join(Office, Office.id == CorrectiveOrder.office_id)
            .join(
                WorkflowClock,
                (WorkflowClock.document_type == "corrective_order")
                & (WorkflowClock.document_id == CorrectiveOrder.id),
            )
            .where(Office.code == office_code)
            .order_by(CorrectiveOrder.id)
        )
    ]


def test_some_offices_have_orders_waiting_now_with_their_clocks_paused(demo_url: str) -> None:
    db = create_db_engine(demo_url)
    with unit_of_work(db) as session:
        waiting = Counter(
            session.scalars(
                select(Office.code)
                .join(CorrectiveOrder, CorrectiveOrder.office_id == Office.id)
                .where(CorrectiveOrder.state == "waiting")
            )
        )
        assert waiting == {"BJ001": 3, "SH002": 3}  # every other office (of BJ001, SH001, SH002)
        seen: Counter[str] = Counter()
        for code in waiting:
            calendar = office_calendar(session, code)
            for order, clock in _corrective_clocks(session, code):
                pauses = [(p.paused_at, p.resumed_at) for p in engine.clock_pauses(session, clock)]
                if not pauses:
                    continue
                history = [e.transition for e in engine.history(session, order)]
                seen[order.state] += 1
                python = evaluate(
                    clock.started_at,
                    engine.clock_target(clock),
                    calendar,
                    NOW,
                    pauses,
                    clock.stopped_at,
                )
                if order.state == "waiting":  # paused now: its deadline is not known
                    assert history == ["raise", "assign", "wait"]
                    assert pauses[-1][1] is None and python.due_at is None
                    assert python.state.value == "pending" and clock.stopped_at is None
                else:  # waited a day for parts and was resumed: the deadline moved
                    assert (order.state, history) == (
                        "assigned",
                        ["raise", "assign", "wait", "resume"],
                    )
                    ((paused_at, resumed_at),) = pauses
                    assert resumed_at is not None and resumed_at - paused_at > timedelta(hours=24)
                    assert clock.due_at == python.due_at
                    target = timedelta(minutes=engine.clock_target(clock).minutes)
                    assert clock.due_at == clock.started_at + target + (resumed_at - paused_at)
        assert seen == {"waiting": 6, "assigned": 2}
        # the handler finds a waiting order in the to-do list, to resume it
        order = session.scalars(
            select(CorrectiveOrder).where(CorrectiveOrder.state == "waiting").limit(1)
        ).one()
        handler = load_principal(session, order.handler_id or 0)
        [item] = [
            i for i in orders.todo_list(session, handler) if i.document_no == order.document_no
        ]
        assert item.actions == ("resume",)
        reasons = {
            e.payload["reason"]
            for e in session.scalars(
                select(WorkflowEvent).where(WorkflowEvent.transition == "wait")
            )
        }
        assert reasons == {"parts", "owner", "other"}
        open_pauses = session.scalar(
            select(func.count())
            .select_from(WorkflowClockPause)
            .where(WorkflowClockPause.resumed_at.is_(None))
        )
        assert open_pauses == 6
    db.dispose()


def test_an_office_counts_corrective_clocks_in_business_minutes_of_its_own_calendar(
    demo_url: str,
) -> None:
    db = create_db_engine(demo_url)
    with unit_of_work(db) as session:
        office = session.scalars(select(Office).where(Office.code == "SH001")).one()
        policies = {
            p.discipline: (p.amount, p.unit, p.calendar_kind)
            for p in session.scalars(select(ClockPolicy).where(ClockPolicy.office_id == office.id))
        }
        assert policies == {
            "engineering": (900, "business_minutes", "office"),
            "landscaping": (1350, "business_minutes", "office"),
            "security": (450, "business_minutes", "office"),
            "cleaning": (450, "business_minutes", "office"),
        }
        saturday = session.scalars(
            select(OfficeCalendarInterval).where(
                OfficeCalendarInterval.office_id == office.id, OfficeCalendarInterval.weekday == 5
            )
        ).all()
        assert [(i.start_local.isoformat(), i.end_local.isoformat()) for i in saturday] == [
            ("09:00:00", "12:00:00")
        ]
        calendar = office_calendar(session, "SH001")
        clocks = _corrective_clocks(session, "SH001")
        assert len(clocks) > 20
        zone = ZoneInfo(office.timezone)
        for _, clock in clocks:
            assert (clock.calendar, clock.target_unit) == ("office", "business_minutes")
            target = engine.clock_target(clock)
            assert clock.due_at == evaluate(clock.started_at, target, calendar, NOW).due_at
            local = clock.due_at.astimezone(zone)
            # a deadline falls in working time (or at the end of an interval), never on a Sunday
            assert local.isoweekday() != 7
            assert time(8, 30) < local.time() <= time(17, 30), clock.document_no
        # The other offices keep calendar-hour clocks round the clock.
        others = {
            c.calendar for code in ("BJ001", "SH002") for _, c in _corrective_clocks(session, code)
        }
        assert others == {"24x7"}
    db.dispose()


@pytest.mark.slow  # a pipeline build of the demo
def test_the_pipeline_builds_the_demo_and_its_checks_pass(demo_url: str, tmp_path: Path) -> None:
    published = run_pipeline(demo_url, tmp_path, NOW)  # PipelineFailed if a check fails
    assert published.exists()
    reader = SlaReader(tmp_path, OfficeScope.everything())
    heatmap = reader.compliance_heatmap()
    assert set(heatmap["office_code"].to_list()) == {"BJ001", "SH001", "SH002"}
    with duckdb.connect(str(published), read_only=True) as con:
        paused = con.sql(
            "select office_code, count(*) from marts.sla_clocks"
            " where due_at is null and state = 'pending' group by all order by 1"
        ).fetchall()
        calendars = con.sql(
            "select office_code, count(*) from marts.sla_clocks c join raw.workflow_clock w"
            " on w.document_no = c.document_no and w.clock = c.clock"
            " where w.calendar = 'office' group by all order by 1"
        ).fetchall()
    assert paused == [("BJ001", 3), ("SH002", 3)]
    assert [code for code, _ in calendars] == ["SH001"]
