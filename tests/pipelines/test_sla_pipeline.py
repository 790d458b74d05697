"""The SLA assets, checks, order-generation job and schedule, and the typed SLA read API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from sqlalchemy import func, select

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.models import PeriodicOrder, PeriodicPlan
from operational.services import calendars
from pipelines.definitions import defs
from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.sla import (
    generate_orders_daily,
    generate_orders_job,
    sla_checks,
    sla_clock_due_after_start,
    sla_clock_met_not_past_due,
    sla_compliance_counts_every_clock,
)
from pipelines.run import run_pipeline
from tests.conftest import BACKENDS
from tests.warehouse.sla_support import AS_OF_1, AS_OF_2, scenario_database
from warehouse.publish import Warehouse
from warehouse.queries_sla import LATE_ORDERS_SCHEMA, SlaReader
from warehouse.scope import OfficeScope

# One worker runs this module, so its module-scoped scenario is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("sla-pipeline")


@pytest.fixture(scope="module", params=BACKENDS)
def scenario_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from scenario_database(request.param, tmp_path_factory.mktemp("slapipe"))


def test_definitions_hold_the_sla_assets_with_lineage_from_raw_events() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "marts/sla_clocks",
        "marts/sla_compliance",
        "marts/office_workload",
        "marts/order_throughput",
        "staging/stg_workflow_events",
        "raw/workflow_event",
        "raw/workflow_clock",
    } <= keys
    parents = {
        k.to_user_string() for k in graph.get(dg.AssetKey(["marts", "sla_clocks"])).parent_keys
    }
    assert {"staging/stg_workflow_events", "staging/stg_workflow_clocks"} <= parents
    compliance = graph.get(dg.AssetKey(["marts", "sla_compliance"])).parent_keys
    assert dg.AssetKey(["marts", "sla_clocks"]) in compliance
    events = graph.get(dg.AssetKey(["staging", "stg_workflow_events"])).parent_keys
    assert events == {dg.AssetKey(["raw", "workflow_event"])}
    assert defs.resolve_job_def("generate_orders_job") is not None
    schedule = defs.resolve_schedule_def("generate_periodic_orders_daily")
    assert schedule.cron_schedule == "30 0 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"


@pytest.mark.slow
def test_pipeline_as_of_changes_pending_into_breached(scenario_url: str, tmp_path: Path) -> None:
    reader = SlaReader(tmp_path, OfficeScope.everything())
    of1 = SlaReader(tmp_path, OfficeScope.of({"OF1"}))
    run_pipeline(scenario_url, tmp_path, AS_OF_1)
    early = reader.compliance_heatmap()
    assert early.select("discipline", "total", "met", "breached", "pending").rows() == [
        ("cleaning", 4, 0, 0, 4)
    ]
    assert early["compliance_pct"].to_list() == [None]
    assert reader.late_orders().is_empty()
    assert reader.office_workload().filter(office_code="OF1")["open_orders"].to_list() == [4]
    run_pipeline(scenario_url, tmp_path, AS_OF_2)  # incremental: starts from the first build
    late = of1.compliance_heatmap(first_month=date(2026, 3, 1))
    assert late.select(
        "discipline", "total", "met", "breached", "pending", "compliance_pct"
    ).rows() == [
        ("cleaning", 4, 1, 3, 0, 25.0),
        ("engineering", 1, 1, 0, 0, 100.0),
    ]
    assert late["month"].to_list() == [date(2026, 3, 1)] * 2
    drill = reader.late_orders(office_code="OF1", discipline="cleaning", month=date(2026, 3, 1))
    assert drill.height == 3
    assert drill["late_minutes"].to_list()[0] == max(drill["late_minutes"].to_list())
    assert set(drill["state"].to_list()) == {"breached"}
    workload = reader.office_workload()
    assert workload.row(0, named=True) | {"office_name": None} == {
        "office_code": "OF1",
        "office_name": None,
        "open_orders": 1,
        "overdue_orders": 1,
        "closed_last_30d": 4,
        "objects": 3,
        "objects_without_plan": 3,
        "plan_coverage_pct": 0.0,
    }
    throughput = of1.order_throughput()
    assert throughput.rows() == [("OF1", date(2026, 3, 1), 5, 4)]
    nobody = SlaReader(tmp_path, OfficeScope.of(set()))
    assert nobody.compliance_heatmap().is_empty()  # an empty scope sees nothing
    assert nobody.office_workload().is_empty()
    assert SlaReader(tmp_path, OfficeScope.of({"OF2"})).late_orders().is_empty()
    assert reader.late_orders_count() == 3 == reader.late_orders(limit=10).height
    assert reader.late_orders(limit=2, offset=2).height == 1  # paged, never cut silently


def test_reader_before_anything_is_published(tmp_path: Path) -> None:
    reader = SlaReader(tmp_path, OfficeScope.everything())
    assert reader.compliance_heatmap().is_empty()
    assert reader.office_workload().columns[0] == "office_code"
    assert reader.late_orders().schema == LATE_ORDERS_SCHEMA


def _publish_bad_clocks(tmp_path: Path, written: str = "whole") -> None:
    """A published file whose clock A is due before its start and clock B met after its
    deadline; ``written``: the clocks its build wrote (``whole``, or a clock id)."""
    warehouse = Warehouse(tmp_path)
    path = warehouse.begin_build("bad")
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema sla")
        con.execute(
            "create table marts.sla_clocks as select * from (values"
            " (1, 'A', timestamp '2026-03-02 00:00', timestamp '2026-03-01 00:00', null::timestamp,"
            "  'pending', timestamp '2026-03-03 00:00', timestamp '2026-03-01 00:00', false),"
            " (2, 'B', timestamp '2026-03-01 00:00', timestamp '2026-03-02 00:00',"
            "  timestamp '2026-03-02 00:00:01', 'met', timestamp '2026-03-03 00:00',"
            "  timestamp '2026-03-02 00:00', false))"
            " t(clock_id, document_no, started_at, due_at, stopped_at, state, as_of,"
            " stored_due_at, paused)"
        )
        con.execute(
            "create table sla.build_scope as select"
            + (
                " null::bigint as clock_id, true as whole"
                if written == "whole"
                else f" {int(written)}::bigint as clock_id, false as whole"
            )
        )
        con.execute(
            "create table marts.sla_compliance as select 1 as total, 1 as met, 0 as breached,"
            " 0 as pending"
        )
    warehouse.publish(path)


def test_checks_alone_catch_bad_clocks(tmp_path: Path) -> None:
    _publish_bad_clocks(tmp_path)
    resource = WarehouseBuild.at("sqlite:///unused.db", tmp_path)
    for check in (
        sla_clock_due_after_start,
        sla_clock_met_not_past_due,
        sla_compliance_counts_every_clock,
    ):
        result = check(resource, "a-run-without-a-build")
        assert isinstance(result, dg.AssetCheckResult)
        assert not result.passed
    assert len(sla_checks) == 4


def test_clock_checks_look_at_the_clocks_the_build_wrote(tmp_path: Path) -> None:
    """A refresh rewrites some clocks and keeps the rest, checked when they were written: the
    checks of the clocks look at the rewritten ones (here clock B only)."""
    _publish_bad_clocks(tmp_path, written="2")
    resource = WarehouseBuild.at("sqlite:///unused.db", tmp_path)
    due = sla_clock_due_after_start(resource, "a-run-without-a-build")
    met = sla_clock_met_not_past_due(resource, "a-run-without-a-build")
    assert isinstance(due, dg.AssetCheckResult) and isinstance(met, dg.AssetCheckResult)
    assert due.passed  # clock A, due before its start, was not written by this build
    assert not met.passed  # clock B, met after its deadline, was
    assert met.metadata["sample"].value == ["B"]


def test_generate_orders_job_issues_each_order_once(scenario_url: str) -> None:
    engine = create_db_engine(scenario_url)
    with unit_of_work(engine) as session:  # reopen the scenario's plan for a while
        plan = session.scalars(select(PeriodicPlan)).one()
        plan.end_date = None
        plan.version += 1
        before = session.scalar(select(func.count()).select_from(PeriodicOrder))
    resource = WarehouseBuild.at(scenario_url, "unused")
    config = {"ops": {"generate_periodic_orders": {"config": {"horizon_days": 3}}}}
    first = generate_orders_job.execute_in_process(
        run_config=config, resources={"warehouse": resource}
    )
    second = generate_orders_job.execute_in_process(
        run_config=config, resources={"warehouse": resource}
    )
    assert first.success and second.success
    issued = first.output_for_node("generate_periodic_orders")
    assert issued >= 1
    assert second.output_for_node("generate_periodic_orders") == 0
    with unit_of_work(engine) as session:
        after = session.scalar(select(func.count()).select_from(PeriodicOrder))
    engine.dispose()
    assert after == before + issued


def test_schedule_runs_the_generation_job() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 1, tzinfo=UTC))
    result = generate_orders_daily.evaluate_tick(context)
    assert [r.job_name for r in result.run_requests or []] in ([None], ["generate_orders_job"])


def _clock_rows(warehouse_dir: Path) -> list[tuple[object, ...]]:
    path = Warehouse(warehouse_dir).current_path()
    assert path is not None
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select * from marts.sla_clocks order by clock_id").fetchall()


def _calendars(instance: dg.DagsterInstance) -> object:
    """What the latest build of marts/sla_clocks did with the office calendars."""
    event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "sla_clocks"]))
    assert event is not None and event.asset_materialization is not None
    return event.asset_materialization.metadata["calendars"].value


@pytest.mark.slow
def test_refresh_keeps_unchanged_calendars_and_rebuilds_changed_ones(tmp_path: Path) -> None:
    """A refresh whose offices and calendars did not change keeps the previous build's office
    calendars and the days they were expanded over; a day off added rebuilds them. Each time
    the clocks are those of a build from scratch at the same as_of."""
    for url in scenario_database("sqlite", tmp_path / "db"):
        runs = dg.DagsterInstance.ephemeral()
        kept = tmp_path / "kept"
        run_pipeline(url, kept, AS_OF_1, instance=runs)
        assert _calendars(runs) == "built"
        for day, change in ((1, False), (2, True)):
            as_of = AS_OF_1 + timedelta(days=day)
            if change:
                with unit_of_work(create_db_engine(url)) as session:
                    calendars.add_day_override(
                        session, system_principal("test"), "OF1", as_of.date(), "holiday"
                    )
            run_pipeline(url, kept, as_of, instance=runs)
            assert _calendars(runs) == ("built" if change else "kept")
            scratch = tmp_path / f"scratch-{day}"
            run_pipeline(url, scratch, as_of)
            assert _clock_rows(kept) == _clock_rows(scratch)
