"""Clean-up after a failed run: its private build is deleted, the published version stays."""

import dagster as dg

from pipelines.defs.resources import WarehouseBuild


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def discard_failed_build(context: dg.RunFailureSensorContext, warehouse: WarehouseBuild) -> None:
    """A failed step or blocking check fails the run; its build file would otherwise stay."""
    warehouse.warehouse.discard(warehouse.build_path(context.dagster_run.run_id))
