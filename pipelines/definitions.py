"""The Dagster entry point: ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.assets import all_assets
from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.schedules import refresh_every_15_minutes, refresh_warehouse
from pipelines.defs.sensors import discard_failed_build, refresh_on_new_data
from pipelines.defs.sla import generate_orders_daily, generate_orders_job
from pipelines.defs.tickets import escalate_complaints_every_5_minutes, escalate_complaints_job

defs = dg.Definitions(
    assets=all_assets,  # the checks are check_specs of the steps building their tables
    jobs=[refresh_warehouse, generate_orders_job, escalate_complaints_job],
    schedules=[
        refresh_every_15_minutes,
        generate_orders_daily,
        escalate_complaints_every_5_minutes,
    ],
    sensors=[discard_failed_build, refresh_on_new_data],
    resources={"warehouse": WarehouseBuild.from_settings()},
    # One process, steps in turn: a build file is open read-write by one step at a time.
    executor=dg.in_process_executor,
)
