"""Run the whole pipeline in-process (the ``propcloud pipeline run`` command)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.defs.assets import all_assets
from pipelines.defs.checks import all_checks
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
        result = dg.materialize(
            [*all_assets, *all_checks],
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
        failed_steps = [e.step_key for e in result.all_events if e.is_step_failure]
        raise PipelineFailed(
            f"warehouse not published (failed steps: {failed_steps or 'none'}, "
            f"failed checks: {failed_checks or 'none'})"
        )
    return published
