"""Demo step for maintenance: objects, approved plans and orders that the engine can continue."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import load_principal
from operational.db import create_db_engine, unit_of_work, upgrade
from operational.demo import STEPS, DemoOptions
from operational.demo.orders import orders_step
from operational.imports.org import ensure_group
from operational.models import (
    ChecklistAnswer,
    CorrectiveOrder,
    MaintObject,
    ObjectType,
    PeriodicOrder,
    PeriodicPlan,
    User,
    WorkflowClock,
    WorkflowEvent,
)
from operational.services import orders, plans
from operational.services.orders import Answer
from operational.workflow import engine
from tests.conftest import BACKENDS, fresh_database_url

NOW = datetime(2026, 2, 20, 6, tzinfo=UTC)


def _load(session: Session, offices: int, days: int, seed: int = 5) -> None:
    options = DemoOptions(offices=offices, days=days, seed=seed, now=NOW)
    ensure_group(session, "YY", "一应物业集团")
    STEPS[0](session, options, random.Random(seed))
    orders_step(session, options, random.Random(seed))


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("demo_orders")):
        upgrade(url)
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
            len(plans.objects_without_plan(session, c)) for c in ("BJ001", "SH001", "SH002")
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
                session, handler, order, answers, order.version, at=NOW + timedelta(hours=1)
            )
            assert order.state == "closed"
            assert responsible.username.endswith((".eng", ".land", ".sec", ".clean")) or (
                responsible.username == "engineer"
            )
        transaction.rollback()
    db.dispose()


def test_deterministic_idempotent_and_compliance_differs(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path}/{name}.db"
        upgrade(url)
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


def test_the_default_demo_scale_loads_two_years_of_orders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/big.db"
    upgrade(url)
    db = create_db_engine(url)
    with unit_of_work(db) as session:
        options = DemoOptions(offices=12, days=730, seed=7, now=NOW)
        ensure_group(session, "YY", "一应物业集团")
        STEPS[0](session, options, random.Random(7))
        orders_step(session, options, random.Random(7))
        assert _count(session, select(func.count()).select_from(ChecklistAnswer)) > 10_000
        assert _count(session, select(func.count()).select_from(User)) > 12 * 6
    db.dispose()
