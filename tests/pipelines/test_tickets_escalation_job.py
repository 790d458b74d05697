"""The 5-minute escalation job fires a breached complaint's level 1 and sends its notice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import CityCompany, Notice, Office, Ticket, utcnow
from operational.services import tickets
from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.tickets import escalate_complaints_every_5_minutes, escalate_complaints_job
from tests.db_support import migrated


def test_the_job_escalates_a_breached_complaint_once_and_sends_the_notice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tickets.db"
    migrated(url)
    engine = create_db_engine(url)
    with Session(engine) as session, session.begin():
        group = ensure_group(session, "YY", "Group")
        city = CityCompany(group_id=group.id, code="C1", name="City")
        session.add(city)
        session.flush()
        session.add(Office(city_id=city.id, code="OF1", name="Office", timezone="Asia/Shanghai"))
        session.flush()
        tickets.record_ticket(
            session,
            system_principal("test"),
            tickets.Intake("OF1", "complaint", "Noise at night", severity="minor"),
            received_at=utcnow() - timedelta(hours=49),
        )
    resource = WarehouseBuild.at(url, "unused")
    first = escalate_complaints_job.execute_in_process(resources={"warehouse": resource})
    second = escalate_complaints_job.execute_in_process(resources={"warehouse": resource})
    assert first.output_for_node("check_complaint_escalations") == 1
    assert second.output_for_node("check_complaint_escalations") == 0
    with unit_of_work(engine) as session:
        (ticket,) = session.scalars(select(Ticket)).all()
        (notice,) = session.scalars(select(Notice)).all()
        assert ticket.escalation_level == 1
        assert (notice.recipient_role, notice.sent_at is not None) == ("city_audit_manager", True)
    engine.dispose()


def test_the_schedule_runs_every_five_minutes() -> None:
    assert escalate_complaints_every_5_minutes.cron_schedule == "*/5 * * * *"
    from pipelines.definitions import defs

    assert defs.resolve_job_def("escalate_complaints_job") is not None
    assert isinstance(escalate_complaints_every_5_minutes, dg.ScheduleDefinition)
