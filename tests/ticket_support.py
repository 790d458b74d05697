"""Tickets worked live through the services in the four-office demo (SH001, SH002, BJ001,
BJ002): the escalation board's page, reader, control-tower and browser tests build on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from operational.demo import DEMO_PASSWORD

TICKET_HANDLER = "cs.group"
COMPLAINT_HANDLER = "om.sh"
"""An office manager of SH001 and SH002: their complaints received in office hours go to him."""


def work_tickets(session: Session) -> None:
    """Complaints and repairs of the demo's four offices, worked through the services:

    - SH001 TS(a): minor, 10 Nov, never resolved — level 1 at its 48-hour breach, level 2 at
      the escalated clock's breach; open, 9.5 days old at the build. TS(b): general, received
      the day before the build, dispatched: level 0, under a day old.
    - SH002 TS(c): minor, October, unsatisfied visit (level 1), resolved again, satisfied:
      closed (in the October trend only).
    - BJ001 TS(d): major, received at night on 15 Nov, resolved, unsatisfied visit: level 1,
      open (in progress).
    - Complaints in office hours are dispatched to ``om.sh`` (office manager of SH001 and
      SH002), the night one and the repair to ``cs.group`` (CS supervisor of the group).
    - BJ002: an urgent repair received at night, dispatched, picked up, resolved next day.
    """
    from operational.auth import system_principal
    from operational.models import Role, ScopeLevel
    from operational.services import tickets
    from operational.services.tickets import Intake
    from operational.services.users import GrantSpec, add_user

    desk = system_principal("demo")
    add_user(
        session,
        desk,
        username=TICKET_HANDLER,
        display_name="客服主管",
        password=DEMO_PASSWORD,
        grants=[GrantSpec(Role.CS_SUPERVISOR, ScopeLevel.GROUP, "")],
    )
    # Complaints received in office hours go to an office manager of their office.
    add_user(
        session,
        desk,
        username=COMPLAINT_HANDLER,
        display_name="管理处经理",
        password=DEMO_PASSWORD,
        grants=[
            GrantSpec(Role.OFFICE_MANAGER, ScopeLevel.OFFICE, "SH001"),
            GrantSpec(Role.OFFICE_MANAGER, ScopeLevel.OFFICE, "SH002"),
        ],
    )
    h = timedelta(hours=1)

    def complaint(office: str, severity: str, at: datetime) -> Any:
        ticket = tickets.record_ticket(
            session, desk, Intake(office, "complaint", "噪音", severity=severity), received_at=at
        )
        handler = TICKET_HANDLER if ticket.night_service else COMPLAINT_HANDLER
        tickets.dispatch(session, desk, ticket, handler, ticket.version, at=at + h / 6)
        tickets.pick_up(session, desk, ticket, ticket.version, at=at + h / 4)
        return ticket

    a = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    complaint("SH001", "minor", a)
    b = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
    tickets.dispatch(
        session,
        desk,
        t := tickets.record_ticket(
            session, desk, Intake("SH001", "complaint", "停车", severity="general"), received_at=b
        ),
        COMPLAINT_HANDLER,
        t.version,
        at=b + h / 6,
    )
    c_at = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    c = complaint("SH002", "minor", c_at)
    tickets.resolve(session, desk, c, c.version, "done", at=c_at + 20 * h)
    tickets.follow_up(session, desk, c, c.version, "unsatisfied", at=c_at + 30 * h)
    tickets.resolve(session, desk, c, c.version, "redone", at=c_at + 40 * h)
    tickets.follow_up(session, desk, c, c.version, "satisfied", at=c_at + 44 * h)
    d_at = datetime(2026, 11, 15, 15, 0, tzinfo=UTC)  # 23:00 in Beijing: night service
    d = complaint("BJ001", "major", d_at)
    tickets.resolve(session, desk, d, d.version, "done", at=d_at + 20 * h)
    tickets.follow_up(session, desk, d, d.version, "unsatisfied", at=d_at + 26 * h)
    r_at = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)  # midnight in Beijing
    r = tickets.record_ticket(
        session, desk, Intake("BJ002", "repair", "漏水", urgency="urgent"), received_at=r_at
    )
    tickets.dispatch(session, desk, r, TICKET_HANDLER, r.version, at=r_at + h / 6)
    tickets.pick_up(session, desk, r, r.version, at=r_at + h / 3)
    tickets.resolve(session, desk, r, r.version, "fixed", at=r_at + 10 * h)
    tickets.check_escalations(session, as_of=datetime(2026, 11, 20, 1, 30, tzinfo=UTC))
