"""Sensors: a refresh when new operational data arrives, and clean-up after a failed run."""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.schedules import refresh_warehouse
from pipelines.run import STARTED_BY
from warehouse.freshness import operational_watermark

WATERMARK_TAG = "propcloud/watermark"
NEW_DATA_INTERVAL_SECONDS = 20
"""How often the operational database's watermark is read (one small query)."""

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def discard_failed_build(context: dg.RunFailureSensorContext, warehouse: WarehouseBuild) -> None:
    """A failed step or blocking check fails the run; its build file would otherwise stay."""
    warehouse.warehouse.discard(warehouse.build_path(context.dagster_run.run_id))


@dg.sensor(
    job=refresh_warehouse,
    minimum_interval_seconds=NEW_DATA_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts a refresh of the warehouse when the operational database has something a build "
        "would read that the last refresh this sensor started did not (a reading, an order's "
        "move, an edited office or meter), so new data is on the dashboards within a minute. "
        "Waits while a refresh is queued or running; does nothing while nothing changes."
    ),
)
def refresh_on_new_data(
    context: dg.SensorEvaluationContext, warehouse: WarehouseBuild
) -> dg.SensorResult | dg.SkipReason:
    """Compare the operational watermark (``warehouse.freshness``) with the one the last run
    this sensor requested started from (its cursor); request a run when they differ.

    Never two refreshes at once: while a run of ``refresh_warehouse`` is queued or running —
    whoever started it — nothing is requested and the cursor stays, so what arrives meanwhile
    is picked up by the next tick after that run.
    """
    unfinished = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=refresh_warehouse.name, statuses=UNFINISHED), limit=1
    )
    if unfinished:
        return dg.SkipReason(f"a refresh is queued or running: {unfinished[0].run_id}")
    watermark = operational_watermark(warehouse.database_url)
    text = json.dumps(watermark, sort_keys=True)
    if context.cursor is not None and _same(context.cursor, watermark):
        return dg.SkipReason("nothing new in the operational database")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=digest,  # the same watermark never starts two runs
                tags={STARTED_BY: "sensor", WATERMARK_TAG: digest},
            )
        ],
        cursor=text,
    )


def _same(cursor: str, watermark: dict[str, int]) -> bool:
    try:
        seen = json.loads(cursor)
    except ValueError:
        return False
    return bool(seen == watermark)
