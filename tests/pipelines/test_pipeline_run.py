"""Materialise the pipeline: it publishes, and a failure publishes nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import pipelines.defs.assets
import pipelines.defs.sla
from operational.db import create_db_engine
from pipelines.definitions import defs
from pipelines.defs.checks import dim_office_code_unique, dim_office_has_city
from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.sensors import discard_failed_build
from pipelines.run import PipelineFailed, run_pipeline
from warehouse.models import Model, run_model
from warehouse.publish import Warehouse
from warehouse.queries import WarehouseReader
from warehouse.scope import OfficeScope

AS_OF = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


@pytest.mark.slow  # a whole pipeline build
def test_run_pipeline_publishes_the_org_marts(org_url: str, tmp_path: Path) -> None:
    published = run_pipeline(org_url, tmp_path / "wh", AS_OF)
    warehouse = Warehouse(tmp_path / "wh")
    assert published == warehouse.current_path()
    assert list((tmp_path / "wh" / "building").iterdir()) == []
    reader = WarehouseReader(tmp_path / "wh", OfficeScope.everything())
    assert reader.org_overview()["office_code"].to_list() == ["SZ001", "SZ002"]
    one = WarehouseReader(tmp_path / "wh", OfficeScope.of({"SZ002"}))
    assert one.org_overview()["office_name"].to_list() == ["蛇口管理处"]
    info = reader.build_info()
    assert info is not None
    assert info["as_of"] == AS_OF
    assert info["version"] == warehouse.current_version()
    assert info["database_backend"] in {"sqlite", "postgresql"}


@pytest.mark.slow  # a whole pipeline build
def test_materialize_all_assets(org_url: str, tmp_path: Path) -> None:
    resource = WarehouseBuild.at(org_url, tmp_path)
    result = dg.materialize(pipelines.defs.assets.all_assets, resources={"warehouse": resource})
    assert result.success
    assert Warehouse(tmp_path).current_version() == result.run_id
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} >= {"dim_office_code_unique", "dim_office_has_city"}
    assert len(evaluations) == 13
    assert all(e.passed for e in evaluations if e.check_name != "holidays_loaded_for_next_year")
    # every table is still its own asset, with its own row count
    counts = {
        e.asset_key.to_user_string(): e.materialization.metadata.get("dagster/row_count")
        for e in result.get_asset_materialization_events()
    }
    assert counts["raw/org_office"] == dg.IntMetadataValue(2)
    assert counts["staging/stg_offices"] == dg.IntMetadataValue(2)
    assert counts["marts/dim_office"] == dg.IntMetadataValue(2)
    assert counts["marts/build_info"] == dg.IntMetadataValue(1)
    assert len(counts) == len(defs.resolve_asset_graph().get_all_asset_keys())


def test_a_subset_builds_only_the_selected_tables(org_url: str, tmp_path: Path) -> None:
    resource = WarehouseBuild.at(org_url, tmp_path)
    selected = {
        "raw/org_group",
        "raw/org_city_company",
        "raw/org_office",
        "staging/stg_groups",
        "staging/stg_city_companies",
        "staging/stg_offices",
        "marts/dim_office",
    }
    result = dg.materialize(
        pipelines.defs.assets.all_assets,
        resources={"warehouse": resource},
        selection=sorted(selected),
    )
    assert result.success
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert built == selected
    assert {e.check_name for e in result.get_asset_check_evaluations()} == {
        "dim_office_code_unique",
        "dim_office_has_city",
    }
    with duckdb.connect(str(resource.build_path(result.run_id)), read_only=True) as con:
        found = con.sql(
            "select table_schema || '/' || table_name from information_schema.tables"
            " where table_schema in ('raw', 'staging', 'marts')"
        ).fetchall()
    tables = {table for (table,) in found}
    assert selected <= tables
    assert not {"raw/workflow_event", "staging/stg_energy_points", "marts/build_info"} & tables


@pytest.mark.slow
def test_a_model_that_fails_publishes_nothing(
    org_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_pipeline(org_url, tmp_path, AS_OF)

    def failing(con: duckdb.DuckDBPyConnection, model: Model) -> int:
        if model.table == "marts.build_info":  # rebuilt by every build (it reads run_params)
            raise RuntimeError("boom")
        return run_model(con, model)

    monkeypatch.setattr(pipelines.defs.assets, "run_model", failing)
    with pytest.raises(PipelineFailed, match=r"marts\.build_info: RuntimeError: boom"):
        run_pipeline(org_url, tmp_path, AS_OF)
    assert Warehouse(tmp_path).current_path() == first
    assert list((tmp_path / "building").iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("org_url", ["sqlite"], indirect=True)
def test_a_failing_blocking_check_publishes_nothing(org_url: str, tmp_path: Path) -> None:
    first = run_pipeline(org_url, tmp_path, AS_OF)
    database = make_url(org_url).database
    assert database is not None
    with sqlite3.connect(database) as db:  # a corrupt source: foreign keys off, an orphan office
        db.execute(
            "insert into org_office (city_id, code, name, timezone) values (99, 'X1', 'x', 'UTC')"
        )
    with pytest.raises(PipelineFailed, match="dim_office_has_city"):
        run_pipeline(org_url, tmp_path, AS_OF)
    assert Warehouse(tmp_path).current_path() == first
    assert WarehouseReader(tmp_path, OfficeScope.everything()).org_overview().height == 2


@pytest.mark.slow
def test_a_failing_check_of_a_python_mart_publishes_nothing(
    org_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_pipeline(org_url, tmp_path, AS_OF)
    # the clock checks run in the step that builds marts/sla_clocks; make them all find a bad one
    monkeypatch.setattr(pipelines.defs.sla, "_documents", lambda con, sql: (1, ["SLA-1"]))
    with pytest.raises(PipelineFailed, match="sla_clock_due_after_start") as failed:
        run_pipeline(org_url, tmp_path, AS_OF)
    assert "failed steps: ['sla_clocks (" in str(failed.value)
    assert "3 blocking asset checks failed" in str(failed.value)
    assert Warehouse(tmp_path).current_path() == first
    assert list((tmp_path / "building").iterdir()) == []


def test_checks_alone_read_the_published_version(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    path = warehouse.begin_build("dup")
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_office as select * from (values ('A', 'SZ'), ('A', NULL))"
            " t(office_code, city_code)"
        )
    warehouse.publish(path)
    resource = WarehouseBuild.at("sqlite:///unused.db", tmp_path)
    for check in (dim_office_code_unique, dim_office_has_city):
        result = check(resource, "a-run-without-a-build")
        assert isinstance(result, dg.AssetCheckResult)
        assert not result.passed
    # as the UI runs them: the checks alone, without building their asset
    run = dg.materialize(
        pipelines.defs.assets.all_assets,
        resources={"warehouse": resource},
        selection=dg.AssetSelection.checks(dim_office_code_unique.key, dim_office_has_city.key),
        raise_on_error=False,
    )
    assert not run.success  # they are blocking
    assert {e.check_name: e.passed for e in run.get_asset_check_evaluations()} == {
        "dim_office_code_unique": False,
        "dim_office_has_city": False,
    }
    assert run.get_asset_materialization_events() == []
    assert not resource.build_path(run.run_id).exists()
    assert warehouse.current_version() == "dup"


def test_a_step_writes_the_build_whole_or_not_at_all(tmp_path: Path) -> None:
    """A step's writes are one transaction: a step that fails half-way leaves the build file as
    it found it, and the next step sees everything a finished one wrote."""
    resource = WarehouseBuild.at("sqlite:///unused.db", tmp_path)
    with resource.connect("run-1") as con:
        con.execute("create schema marts")
        con.execute("create table marts.kept as select 1 as n")
    with pytest.raises(RuntimeError, match="half-way"), resource.connect("run-1") as con:
        con.execute("insert into marts.kept values (2)")
        con.execute("create table marts.half as select 1 as n")
        raise RuntimeError("the step failed half-way")
    # a DuckDB error leaves the transaction aborted: rolled back all the same
    with pytest.raises(duckdb.CatalogException), resource.connect("run-1") as con:
        con.execute("insert into marts.kept values (3)")
        con.execute("select * from marts.missing")
    with resource.connect("run-1", transaction=False) as con:
        con.execute("CHECKPOINT")  # publishing's step: outside a transaction
    with duckdb.connect(str(resource.build_path("run-1")), read_only=True) as con:
        assert con.sql("select n from marts.kept").fetchall() == [(1,)]
        tables = con.sql("select table_name from information_schema.tables").fetchall()
        assert ("half",) not in tables


def test_a_failed_run_has_its_build_discarded(tmp_path: Path) -> None:
    resource = WarehouseBuild.at("sqlite:///unused.db", tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        pipelines.defs.assets.all_assets,
        resources={"warehouse": resource},
        instance=instance,
        raise_on_error=False,
        selection=["marts/build_info"],
    )
    build = resource.build_path(result.run_id)
    assert result.success  # build_info alone: begun, not published
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        dg.AssetKey(["marts", "build_info"])
    ]
    assert build.exists()
    with dg.build_run_status_sensor_context(
        sensor_name="discard_failed_build",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.all_events[-1],
        resources={"warehouse": resource},
    ) as context:
        discard_failed_build(context.for_run_failure())
    assert not build.exists()


def _rebuilt(instance: dg.DagsterInstance, *tables: str) -> dict[str, object]:
    """Whether the latest materialisation of each table rebuilt it (a model) or copied it (a
    raw table copied whole)."""
    found: dict[str, object] = {}
    for table in tables:
        event = instance.get_latest_materialization_event(dg.AssetKey(table.split("/")))
        assert event is not None and event.asset_materialization is not None, table
        metadata = event.asset_materialization.metadata
        value = metadata.get("rebuilt", metadata.get("copied"))
        found[table] = value.value if isinstance(value, dg.BoolMetadataValue) else value
    return found


@pytest.mark.slow  # three pipeline builds
def test_a_refresh_keeps_what_did_not_change_and_rebuilds_what_did(
    org_url: str, tmp_path: Path
) -> None:
    """A refresh continues the previous version: the office tables, unchanged, are kept (still
    materialised, each with its row count); an office renamed in place is copied again and the
    models reading it rebuilt; ``build_info`` (the run's own) is rebuilt every time."""
    tables = ("raw/org_office", "staging/stg_offices", "marts/dim_office", "marts/build_info")
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(org_url, tmp_path, AS_OF, instance=instance)
        assert _rebuilt(instance, *tables) == dict.fromkeys(tables, True)
        run_pipeline(org_url, tmp_path, AS_OF, instance=instance)
        assert _rebuilt(instance, *tables) == {
            "raw/org_office": False,
            "staging/stg_offices": False,
            "marts/dim_office": False,
            "marts/build_info": True,
        }
        engine = create_db_engine(org_url)
        with engine.begin() as db:
            db.execute(text("update org_office set name = '华侨城一期' where code = 'SZ001'"))
        engine.dispose()
        run_pipeline(org_url, tmp_path, AS_OF, instance=instance)
        assert _rebuilt(instance, *tables) == dict.fromkeys(tables, True)
    reader = WarehouseReader(tmp_path, OfficeScope.of({"SZ001"}))
    assert reader.org_overview()["office_name"].to_list() == ["华侨城一期"]
