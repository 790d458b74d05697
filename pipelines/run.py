"""Run the whole pipeline in-process (the ``propcloud pipeline run`` command)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from operational.progress import NO_PROGRESS, Progress, stage
from pipelines.defs.assets import all_assets
from pipelines.defs.resources import WarehouseBuild, shared_connections
from pipelines.defs.schedules import refresh_warehouse
from warehouse.publish import KEEP_VERSIONS

STARTED_BY = "propcloud/started_by"
"""Run tag saying where a run outside the Dagster UI and daemon came from (``cli``)."""


class PipelineFailed(RuntimeError):
    """The build failed or a blocking check failed: nothing was published."""


def run_pipeline(
    database_url: str,
    warehouse_dir: Path,
    as_of: datetime | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    progress: Progress = NO_PROGRESS,
    tags: Mapping[str, str] | None = None,
    keep_versions: int = KEEP_VERSIONS,
) -> Path:
    """Materialise every asset in this process, check and publish; return the published file.

    ``as_of`` (default: now) is the instant the build is evaluated at, recorded in
    ``marts.build_info``. On failure the private build is discarded and the published version
    is untouched. The run is the job ``refresh_warehouse`` (the one the schedule runs), recorded
    in ``instance`` — the installation's Dagster instance, so that the UI lists it with the
    scheduled runs; by default a throw-away one. ``progress`` hears of each table built.
    """
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    resource = WarehouseBuild.at(
        database_url,
        warehouse_dir,
        as_of=(as_of or datetime.now(UTC)).isoformat(),
        keep_versions=keep_versions,
    )
    # Building the job each call costs ≈ 10 ms; a cached job configured at launch measured no
    # faster, so each call builds its own.
    job = dg.Definitions(
        assets=all_assets,
        jobs=[refresh_warehouse],
        resources={"warehouse": resource},
        executor=dg.in_process_executor,
    ).resolve_job_def(refresh_warehouse.name)
    tables = len(job.asset_layer.executable_asset_keys)
    run_id = str(uuid.uuid4())
    with (
        dg.DagsterInstance.ephemeral() if instance is None else nullcontext(instance) as runs,
        stage(progress, "ops.progress.build.tables", tables) as advance,
    ):

        def built(entry: dg.EventLogEntry) -> None:
            if entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialization = entry.asset_materialization
                advance(1, materialization.asset_key.to_user_string() if materialization else None)

        runs.add_event_listener(run_id, built)
        with shared_connections():  # every step in this process: open the build file once
            result = job.execute_in_process(
                instance=runs,
                run_id=run_id,
                raise_on_error=False,
                tags=tags,
                # The command line shows what went wrong, not every step's debug events.
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
        # Inside the stage: a build that published nothing ends its progress as stopped.
        return _published(resource, result)


def _published(resource: WarehouseBuild, result: dg.ExecuteInProcessResult) -> Path:
    """The version the run published; else its build is discarded and PipelineFailed says why."""
    warehouse = resource.warehouse
    warehouse.discard(warehouse.build_path(result.run_id))  # left behind only by a failure
    published = warehouse.version_path(result.run_id)
    if not published.exists():
        failed_checks = [
            f"{e.asset_key.to_user_string()}:{e.check_name}"
            for e in result.get_asset_check_evaluations()
            if not e.passed
        ]
        failed_steps = [
            f"{e.step_key} ({_error(e)})" for e in result.all_events if e.is_step_failure
        ]
        raise PipelineFailed(
            f"warehouse not published (failed steps: {failed_steps or 'none'}, "
            f"failed checks: {failed_checks or 'none'})"
        )
    return published


def _error(event: dg.DagsterEvent) -> str:
    """What went wrong in a failed step (its first line): the user code's error, not Dagster's
    wrapper of it, e.g. ``pipelines.defs.assets.TableFailed: marts.dim_office: ...``."""
    error = event.step_failure_data.error
    if error is None:
        return "unknown error"
    while error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause
    return error.message.strip().splitlines()[0]
