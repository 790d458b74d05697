"""The job that refreshes the warehouse and the schedule that runs it."""

from __future__ import annotations

import dagster as dg

refresh_warehouse = dg.define_asset_job(
    "refresh_warehouse",
    selection=dg.AssetSelection.all(),
    description="Extract, build, check and publish the whole warehouse.",
)

refresh_every_15_minutes = dg.ScheduleDefinition(
    name="refresh_warehouse_every_15_minutes",
    job=refresh_warehouse,
    cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
