"""Shared by the SLA warehouse and pipeline tests: a small scenario with known outcomes, and a
build of the SLA marts without Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
from sqlalchemy.orm import Session

from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import CorrectiveOrder, Discipline
from operational.services import orders, plans
from operational.services.orders import Answer, CorrectiveSpec
from tests.conftest import fresh_database_url
from tests.db_support import migrated
from tests.operational.test_workflow_support import T0, build_world
from warehouse import sla
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_table
from warehouse.models import load_models, run_model, write_run_params

AS_OF_1 = T0 + timedelta(days=2)  # 2026-03-04 01:00 UTC
AS_OF_2 = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
DUE = timedelta(hours=72)


def load_scenario(session: Session) -> None:
    """Office OF1 (Asia/Shanghai): four cleaning corrective orders and one periodic order.

    C1 verified exactly at its deadline, C2 one second after it, C3 never processed, C4
    verified a day late; P1 (scheduled 2026-03-10, clock from 03-09 16:00 UTC) done in a day.
    """
    w = build_world(session)

    def corrective(at: datetime) -> CorrectiveOrder:
        return orders.raise_corrective(
            session,
            w["guard"],
            office_code="OF1",
            spec=CorrectiveSpec(
                "clean", "Litter", discipline=Discipline.CLEANING, object_code="LB-1"
            ),
            at=at,
        )

    def finish(order: CorrectiveOrder, raised: datetime, verified: datetime | None) -> None:
        orders.assign(session, w["clean"], order, "tech", order.version, at=raised)
        if verified is None:
            return
        at = raised + timedelta(hours=2)
        orders.process_corrective(session, w["tech"], order, order.version, "done", at=at)
        orders.verify_corrective(
            session, w["clean"], order, order.version, accepted=True, at=verified
        )

    day2 = T0 + timedelta(days=1)
    finish(corrective(T0), T0, T0 + DUE)  # C1
    finish(corrective(T0), T0, T0 + DUE + timedelta(seconds=1))  # C2
    finish(corrective(day2), day2, None)  # C3
    finish(corrective(T0), T0, T0 + timedelta(days=4))  # C4
    plan = w.plan(end=date(2026, 3, 10))
    (p1,) = plans.generate_orders(session, plan, date(2026, 3, 31), at=T0)
    orders.assign(
        session, w["eng"], p1, "tech", p1.version, at=datetime(2026, 3, 10, 2, tzinfo=UTC)
    )
    answers = {item.id: Answer(ok=True) for item in orders.checklist(session, p1)}
    orders.complete_periodic(
        session,
        w["tech"],
        p1,
        answers,
        p1.version,
        note="checked",
        at=datetime(2026, 3, 11, 2, tzinfo=UTC),
    )


SLA_MARTS = {
    "sla_compliance",
    "office_workload",
    "order_throughput",
    "sla_late_clocks",
    "ticket_compliance",
    "quality_review",  # reads the nonconformities' clocks (docs/quality-marts.md)
}


def build(url: str, as_of: datetime) -> duckdb.DuckDBPyConnection:
    """Extract, stage, build marts.sla_clocks and the SQL marts on it, in memory."""
    con = duckdb.connect()
    with OperationalSource(url) as database:  # one connection for every table, as a pipeline run
        for source in SOURCES:
            extract_table(database, con, source.table)
    write_run_params(con, version="t", as_of=as_of, database_backend=database_backend(url))
    models = [
        m
        for m in load_models()
        if "energy" not in m.name and not any("energy" in table for table in m.depends_on)
    ]  # no energy marts here, nor the marts reading them (the control tower)
    for model in models:
        if model.name not in SLA_MARTS:
            run_model(con, model)
    sla.build_sla_clocks(con)
    for model in models:
        if model.name in SLA_MARTS:
            run_model(con, model)
    return con


def scenario_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """A committed database on ``backend`` holding :func:`load_scenario`."""
    for url in fresh_database_url(backend, tmp_dir):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            load_scenario(session)
        engine.dispose()
        yield url
