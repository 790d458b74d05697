"""Run the whole pipeline in-process (the ``propcloud pipeline run`` command)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.defs.assets import all_assets
from pipelines.defs.resources import WarehouseBuild, shared_connections


class PipelineFailed(RuntimeError):
    """The build failed or a blocking check failed: nothing was published."""


def run_pipeline(database_url: str, warehouse_dir: Path, as_of: datetime | None = None) -> Path:
    """Materialise every asset in this process, check and publish; return the published file.

    ``as_of`` (default: now) is the instant the build is evaluated at, recorded in
    ``marts.build_info``. On failure the private build is discarded and the published version
    is untouched.
    """
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    resource = WarehouseBuild(
        database_url=database_url,
        warehouse_dir=str(warehouse_dir),
        as_of=(as_of or datetime.now(UTC)).isoformat(),
    )
    with shared_connections():  # every step in this process: open the build file once
        # Building the job each call costs ≈ 10 ms; a cached job configured at launch measured
        # no faster, so each call builds its own.
        result = dg.materialize(
            all_assets,
            resources={"warehouse": resource},
            raise_on_error=False,
            # The command line shows what went wrong, not every step's debug events.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
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
