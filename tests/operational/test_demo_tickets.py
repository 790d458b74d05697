"""The demo's tickets: every type, night service, reworks, escalations at both levels — worked
through the ticket services, so the warehouse recomputes exactly the escalations the live ladder
fired — complaints open at level 1 and level 2 now, and a second run that adds nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.db import create_db_engine, unit_of_work
from operational.demo import DemoOptions, load_demo
from operational.demo.tickets import tickets_step
from operational.models import (
    ComplaintTicket,
    Notice,
    Office,
    RoleGrant,
    Ticket,
    User,
    WorkflowClock,
    WorkflowEvent,
)
from pipelines.run import run_pipeline
from tests.db_support import migrated

# Both tests share a 150-day demo of three offices, loaded once (about half a minute on a
# shared machine); `make test` runs them, `make check` does not.
# One worker runs this module, so its module-scoped demo is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo-tickets")]

NOW = datetime(2026, 2, 20, 6, tzinfo=UTC)
OPTIONS = DemoOptions(offices=3, days=150, seed=7, now=NOW)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo_tickets')}/demo.db"
    migrated(url)
    db = create_db_engine(url)
    with unit_of_work(db) as session:
        load_demo(session, OPTIONS)
    db.dispose()
    yield url


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_open_complaints_at_both_levels_now_and_a_second_run_adds_nothing(demo_url: str) -> None:
    db = create_db_engine(demo_url)
    with unit_of_work(db) as session:
        open_levels = {
            level
            for (level,) in session.execute(
                select(ComplaintTicket.escalation_level).where(ComplaintTicket.state != "closed")
            )
        }
        assert {1, 2} <= open_levels  # the escalation board has content at both levels
        # Nothing happened after the demo's now.
        latest = session.scalar(select(func.max(WorkflowEvent.at)))
        assert latest is not None and latest.replace(tzinfo=UTC) <= NOW
        # The complaints of the demo login "manager"'s office go to that login.
        first = session.scalars(
            select(Office)
            .join(RoleGrant, RoleGrant.office_id == Office.id)
            .join(User, User.id == RoleGrant.user_id)
            .where(User.username == "manager")
        ).one()
        handlers = set(
            session.scalars(
                select(User.username)
                .join(ComplaintTicket, ComplaintTicket.handler_id == User.id)
                .where(ComplaintTicket.office_id == first.id)
            )
        )
        assert handlers == {"manager"}
        # A night ticket's pickup clock counts from the next working interval: its deadline
        # is more than 5 minutes after the receipt.
        night = session.scalars(
            select(Ticket).where(Ticket.night_service.is_(True), Ticket.ticket_type == "inquiry")
        ).first()
        assert night is not None
        pickup = session.scalars(
            select(WorkflowClock).where(
                WorkflowClock.document_no == night.document_no, WorkflowClock.clock == "pickup"
            )
        ).one()
        assert pickup.due_at is not None
        assert pickup.due_at - night.received_at > timedelta(minutes=5)
        # The history's notices count as sent; the check at now queued the ones it fired.
        unsent = session.scalars(select(Notice.kind).where(Notice.sent_at.is_(None))).all()
        assert set(unsent) == {"complaint_escalated"}
        before = (_count(session, Ticket), _count(session, WorkflowEvent), _count(session, User))
        tickets_step(session, OPTIONS, random.Random(7))
        after = (_count(session, Ticket), _count(session, WorkflowEvent), _count(session, User))
        assert after == before
    db.dispose()


def test_the_warehouse_has_every_kind_of_ticket_and_the_live_escalations(
    demo_url: str, tmp_path: Path
) -> None:
    db = create_db_engine(demo_url)
    with unit_of_work(db) as session:
        live = {
            (
                e.document_no,
                int(e.transition[-1]),
                e.at.replace(tzinfo=None),
                str(e.payload["reason"]),
            )
            for e in session.scalars(
                select(WorkflowEvent).where(WorkflowEvent.transition.like("escalate_%"))
            )
        }
    db.dispose()
    published = run_pipeline(demo_url, tmp_path, NOW)  # PipelineFailed if a check fails
    with duckdb.connect(str(published), read_only=True) as con:
        kinds = con.sql(
            "select type, coalesce(severity, urgency, '-'), count(*) from marts.tickets group by all"
        ).fetchall()
        night = dict(
            con.sql("select night_service, count(*) from marts.tickets group by all").fetchall()
        )
        reworks = con.sql(
            "select r.ticket_no, f.type from marts.tickets r"
            " join marts.tickets f on f.ticket_no = r.reopened_from"
        ).fetchall()
        escalations = {
            (no, level, at.replace(tzinfo=None), reason)
            for no, level, at, reason in con.sql(
                "select ticket_no, level, escalated_at, reason from marts.complaint_escalations"
            ).fetchall()
        }
        # the tickets' clocks (customer service's inspections have their completion clocks too)
        clocks = {
            row[0]
            for row in con.sql(
                "select distinct clock from marts.sla_clocks where discipline = 'customer_service'"
                " and document_type in ('inquiry', 'repair', 'complaint')"
            ).fetchall()
        }
    seen = {(kind, detail) for kind, detail, _ in kinds}
    assert seen == {
        ("inquiry", "-"),
        ("repair", "normal"),
        ("repair", "urgent"),
        ("repair", "appointment"),
        ("complaint", "minor"),
        ("complaint", "general"),
        ("complaint", "major"),
    }
    assert night.get(True, 0) > 0 and night.get(False, 0) > night[True]
    assert reworks and {kind for _, kind in reworks} == {"repair"}
    assert {level for _, level, _, _ in escalations} == {1, 2}
    assert {reason for *_, reason in escalations} == {"timeout", "unsatisfied"}
    assert escalations == live  # the warehouse fires what the live ladder fired
    assert clocks == {"pickup", "on_site", "resolution", "escalated_resolution"}
