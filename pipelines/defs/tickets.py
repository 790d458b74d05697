"""Tickets: the complaint escalation check, every 5 minutes.

``check_complaint_escalations`` fires every level of the ladder a complaint has reached
(:func:`operational.services.tickets.check_escalations`: a breached ``resolution`` or
``escalated_resolution`` clock) and then drains the notice outbox with the configured sender —
so no complaint sits breached and unescalated for longer than one period (docs/tickets.md).
Unsatisfied follow-ups escalate at once, in their own transaction; this is the clock side.
"""

import dagster as dg

from operational import outbox
from operational.db import create_db_engine, unit_of_work
from operational.services.tickets import check_escalations
from pipelines.defs.resources import WarehouseBuild


@dg.op
def check_complaint_escalations(context: dg.OpExecutionContext, warehouse: WarehouseBuild) -> int:
    """Fire the escalations due by now, then send the queued notices (the configured sender:
    ``operational.outbox.configured_sender``)."""
    engine = create_db_engine(warehouse.database_url)
    try:
        with unit_of_work(engine) as session:
            fired = check_escalations(session)
        with unit_of_work(engine) as session:
            sent = outbox.drain(session, outbox.configured_sender())
    finally:
        engine.dispose()
    context.log.info(f"{fired} escalation(s) fired, {sent} notice(s) sent")
    return fired


@dg.job(description="Escalate breached complaints and send the queued notices.")
def escalate_complaints_job() -> None:
    check_complaint_escalations()


escalate_complaints_every_5_minutes = dg.ScheduleDefinition(
    name="escalate_complaints_every_5_minutes",
    job=escalate_complaints_job,
    cron_schedule="*/5 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
