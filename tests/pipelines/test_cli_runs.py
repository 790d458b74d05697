"""Builds started on the command line: in the Dagster UI's run history, with progress; run
config can never point a build elsewhere; the instance propcloud sets up stays on the network."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from click.testing import CliRunner

import pipelines.defs.assets
from pipelines.definitions import defs
from pipelines.run import STARTED_BY, PipelineFailed, run_pipeline
from propcloud.cli import main
from propcloud.dagster_instance import DAGSTER_YAML, ensure_dagster_home
from tests.pipelines.test_pipeline_run import AS_OF
from tests.progress_support import Recorder
from warehouse.models import Model, run_model


@pytest.mark.slow  # a persistent instance stores each of a run's events with an fsync
def test_a_build_started_on_the_command_line_is_in_the_ui_run_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("PROPCLOUD_WAREHOUSE_DIR", raising=False)
    monkeypatch.delenv("PROPCLOUD_DATABASE_URL", raising=False)
    monkeypatch.setenv("PROPCLOUD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    org = tmp_path / "org.csv"
    org.write_text("city_code,city_name,office_code,office_name\nCL,城,CL01,处\n", encoding="utf-8")
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    result = runner.invoke(main, ["pipeline", "run", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Published {tmp_path / 'warehouse' / 'versions'}")
    assert "Building the warehouse, table by table …" in result.stderr.splitlines()
    # `propcloud serve` gives the UI the same instance: <data folder>/dagster
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        (run,) = instance.get_runs()
        assert instance.telemetry_enabled is False and instance.nux_enabled is False
        assert (run.job_name, run.status, run.tags[STARTED_BY]) == (
            "refresh_warehouse",
            dg.DagsterRunStatus.SUCCESS,
            "cli",
        )
        assert result.stdout.strip().endswith(f"{run.run_id}.duckdb")
        materialized = instance.get_latest_materialization_event(
            dg.AssetKey(["marts", "dim_office"])
        )
        assert materialized is not None and materialized.run_id == run.run_id


@pytest.mark.parametrize("org_url", ["sqlite"], indirect=True)
@pytest.mark.slow  # a whole pipeline build
def test_a_build_is_recorded_in_the_instance_given_and_reports_each_table(
    org_url: str, tmp_path: Path
) -> None:
    recorder = Recorder()
    with dg.DagsterInstance.ephemeral() as instance:
        published = run_pipeline(
            org_url, tmp_path, AS_OF, instance=instance, progress=recorder, tags={STARTED_BY: "cli"}
        )
        (run,) = instance.get_runs()
    assert published.stem == run.run_id
    assert (run.job_name, run.status, run.tags[STARTED_BY]) == (
        "refresh_warehouse",  # the schedule's job: one history for both
        dg.DagsterRunStatus.SUCCESS,
        "cli",
    )
    (built,) = recorder.stages
    tables = defs.resolve_asset_graph().get_all_asset_keys()
    assert (built.key, built.total, built.done, built.ended) == (
        "ops.progress.build.tables",
        len(tables),
        len(tables),
        "done",
    )
    assert {"marts/dim_office", "raw/org_office"} <= set(built.items)
    assert built.items[-1] == "published_warehouse"


@pytest.mark.slow
@pytest.mark.parametrize("org_url", ["sqlite"], indirect=True)
def test_a_build_that_publishes_nothing_ends_its_progress_as_stopped(
    org_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(con: duckdb.DuckDBPyConnection, model: Model) -> int:
        if model.table == "marts.dim_office":
            raise RuntimeError("boom")
        return run_model(con, model)

    monkeypatch.setattr(pipelines.defs.assets, "run_model", failing)
    recorder = Recorder()
    with pytest.raises(PipelineFailed, match="boom"):
        run_pipeline(org_url, tmp_path, AS_OF, progress=recorder)
    (built,) = recorder.stages
    assert built.ended == "failed" and "published_warehouse" not in built.items


@pytest.mark.parametrize(
    "config",
    [
        {"database_url": "postgresql+psycopg://attacker@elsewhere/db"},
        {"warehouse_dir": "/tmp/elsewhere"},
        {"location": {"database_url": "sqlite:///x.db", "warehouse_dir": "/tmp/elsewhere"}},
    ],
)
def test_run_config_cannot_choose_the_database_or_the_warehouse(
    tmp_path: Path, config: dict[str, object]
) -> None:
    """A run launched from the UI or its GraphQL API is refused before anything runs."""
    job = defs.resolve_job_def("refresh_warehouse")
    elsewhere = {"resources": {"warehouse": {"config": config}}}
    with pytest.raises(dg.DagsterInvalidConfigError, match="warehouse"):
        dg.validate_run_config(job, elsewhere)
    with pytest.raises(dg.DagsterInvalidConfigError):
        job.execute_in_process(run_config=elsewhere, instance=dg.DagsterInstance.ephemeral())
    assert not Path("/tmp/elsewhere").exists()
    # what a launch may choose: the instant the build is evaluated at
    as_of = {"resources": {"warehouse": {"config": {"as_of": AS_OF.isoformat()}}}}
    assert dg.validate_run_config(job, as_of)


def test_the_instance_propcloud_sets_up_sends_nothing_out_and_has_no_first_visit_pop_up(
    tmp_path: Path,
) -> None:
    """Dagster reads these two settings of dagster.yaml (the slow test above opens the instance);
    the pop-up would load a page from dagster.io."""
    ensure_dagster_home(tmp_path)
    settings = yaml.safe_load((tmp_path / "dagster.yaml").read_text())
    assert settings["telemetry"] == {"enabled": False}
    assert settings["nux"] == {"enabled": False}
    assert settings["concurrency"]["pools"]["default_limit"] == 1


def test_a_dagster_yaml_an_earlier_propcloud_wrote_is_brought_up_to_date(tmp_path: Path) -> None:
    earlier = (
        "# Written by `propcloud serve`. Every warehouse writer ...\ntelemetry:\n  enabled: false\n"
    )
    (tmp_path / "dagster.yaml").write_text(earlier)
    ensure_dagster_home(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == DAGSTER_YAML


def test_an_operators_own_dagster_settings_are_kept(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ensure_dagster_home(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
