"""Inspection orders' completion clocks in ``marts.sla_clocks``: rebuilt from the event log with
the discipline of the order and the live deadline (from the scheduled day's start), met,
breached or pending as the orders were walked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from sqlalchemy import select

from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import InspectionScore
from operational.services import inspections as insp
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_inspections import _approved, _world
from tests.operational.test_workflow_support import T0
from tests.warehouse.sla_support import SLA_MARTS
from warehouse import sla
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_table
from warehouse.models import load_models, run_model, write_run_params

H = timedelta(hours=1)
DAY1 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 2 March 00:00 in Shanghai


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


@pytest.fixture(scope="module", params=BACKENDS)
def walked_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A weekly engineering plan from 2 March: the first order submitted within its 72 hours,
    the second four days after its day began, the third never walked."""
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("inspections")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            w = _world(session)
            s = w.session
            _approved(w, end=date(2026, 3, 16))
            issued = insp.generate_inspection_orders(s, None, date(2026, 3, 31), at=T0)
            for order, done in zip(
                issued[:2], (T0 + 5 * H, DAY1 + 7 * 24 * H + 96 * H), strict=True
            ):
                insp.start_inspection(s, w["eng"], order, order.version, at=done - H)
                for row in s.scalars(
                    select(InspectionScore).where(InspectionScore.order_id == order.id)
                ):
                    insp.score_item(s, w["eng"], order, row.id, score=row.max_score)
                insp.submit_inspection(s, w["eng"], order, order.version, at=done)
        engine.dispose()
        yield url


def test_inspection_clocks_join_sla_clocks_with_the_live_deadlines(walked_url: str) -> None:
    con = _build(walked_url, datetime(2026, 3, 20, tzinfo=UTC))
    rows = con.sql(
        "select discipline, clock, started_at, due_at = stored_due_at, state, stopped_at"
        " from marts.sla_clocks where document_type = 'inspection' order by started_at"
    ).fetchall()
    week = timedelta(days=7)
    naive = DAY1.replace(tzinfo=None)
    t0 = T0.replace(tzinfo=None)
    assert rows == [
        # issued at T0, after its day began: its clock starts then
        ("engineering", "completion", t0, True, "met", t0 + 5 * H),
        ("engineering", "completion", naive + week, True, "breached", naive + week + 96 * H),
        ("engineering", "completion", naive + 2 * week, True, "breached", None),
    ]
    compliance = con.sql(
        "select total, met, breached from marts.sla_compliance where document_type = 'inspection'"
    ).fetchall()
    assert compliance == [(3, 1, 2)]


@pytest.fixture(scope="module", params=BACKENDS)
def customer_service_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The customer-service supervisor's plan for 2 March, walked that day: its one item failed
    and opened a customer-service notice."""
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("cs_inspections")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            w = _world(session)
            s = w.session
            plan = insp.draft_inspection_plan(
                s,
                w["cs"],
                kind="professional",
                office_code="OF1",
                name="Front desk walk",
                discipline="customer_service",
                inspector="cs",
                frequency="weekly",
                start_date=date(2026, 3, 2),
                end_date=date(2026, 3, 2),
                route=(insp.Checkpoint("DESK", area="Service centre"),),
                items=(insp.Item("DESK", "Greeting within 30 s", 10, 8),),
                at=T0,
            )
            insp.submit_inspection_plan(s, w["cs"], plan, plan.version, at=T0)
            insp.approve_inspection_plan(s, w["mgr"], plan, plan.version, at=T0)
            (order,) = insp.generate_inspection_orders(s, None, date(2026, 3, 31), at=T0)
            insp.start_inspection(s, w["cs"], order, order.version, at=T0 + H)
            (row,) = s.scalars(select(InspectionScore).where(InspectionScore.order_id == order.id))
            insp.score_item(s, w["cs"], order, row.id, score=5)
            insp.open_item_nonconformity(
                s, w["cs"], order, row.id, kind="notice", description="Visitor waited", at=T0 + H
            )
            insp.submit_inspection(s, w["cs"], order, order.version, at=T0 + 2 * H)
        engine.dispose()
        yield url


def test_customer_service_inspections_reach_the_clocks_and_the_quality_review(
    customer_service_url: str,
) -> None:
    con = _build(customer_service_url, datetime(2026, 3, 20, tzinfo=UTC))
    clocks = con.sql(
        "select document_type, discipline, state from marts.sla_clocks order by document_type"
    ).fetchall()
    assert clocks == [
        ("inspection", "customer_service", "met"),
        ("nonconformity_notice", "customer_service", clocks[1][2]),
    ]
    review = con.sql(
        "select discipline, kind, orders_executed, items_failed, nonconformities_opened"
        " from marts.quality_review where month = date '2026-03-01'"
    ).fetchall()
    assert review == [("customer_service", "professional", 1, 1, 1)]
