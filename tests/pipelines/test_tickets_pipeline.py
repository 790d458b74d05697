"""`pipeline run --as-of T` publishes the complaint escalations the live ladder had fired by T."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import WorkflowEvent
from operational.services import tickets
from operational.services.tickets import Intake
from pipelines.run import run_pipeline
from tests.db_support import migrated
from tests.operational.test_tickets import _world
from tests.operational.test_workflow_support import T0

pytestmark = pytest.mark.slow  # pipeline builds: `make test` runs them, `make check` does not

H = timedelta(hours=1)


def test_pipeline_as_of_gives_what_the_live_ladder_fired_by_then(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tickets.db"
    migrated(url)
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        ensure_group(session, "YY", "一应物业集团")
        w = _world(session)
        c = tickets.record_ticket(
            session,
            w["agent"],
            Intake("OF1", "complaint", "Noise", severity="minor"),
            received_at=T0,
        )
        tickets.dispatch(session, w["agent"], c, "mgr", c.version, at=T0 + H / 60)
        tickets.pick_up(session, w["mgr"], c, c.version, at=T0 + H / 20)
        tickets.check_escalations(session, as_of=T0 + 48 * H + H / 12)  # the 5-minute tick
        tickets.resolve(session, w["mgr"], c, c.version, "done", at=T0 + 50 * H)
        tickets.follow_up(session, w["agent"], c, c.version, "unsatisfied", at=T0 + 51 * H)
    with unit_of_work(engine) as session:
        live = sorted(
            (e.document_no, int(e.transition[-1]), e.at.replace(tzinfo=None))
            for e in session.scalars(
                select(WorkflowEvent).where(WorkflowEvent.transition.like("escalate_%"))
            )
        )
    engine.dispose()
    assert len(live) == 2

    def escalations(as_of: datetime) -> list[tuple[object, ...]]:
        published = run_pipeline(url, tmp_path / "wh", as_of)
        with duckdb.connect(str(published), read_only=True) as con:
            return con.sql(
                "select ticket_no, level, escalated_at from marts.complaint_escalations"
                " order by level"
            ).fetchall()

    assert escalations(T0 + 49 * H) == live[:1]
    assert escalations(datetime(2026, 3, 20, tzinfo=UTC)) == live
