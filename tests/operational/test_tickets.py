"""Customer-service tickets: the three flows, night service, the clocks, the escalation ladder
live, the notice outbox (docs/tickets.md)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import escalation, outbox
from operational.auth import load_principal
from operational.errors import DomainError, NotFound, PermissionDenied, StaleVersion
from operational.models import (
    ComplaintTicket,
    Notice,
    Office,
    RepairTicket,
    Role,
    RoleGrant,
    ScopeLevel,
    Ticket,
    User,
    WorkflowClock,
)
from operational.services import orders, tickets
from operational.services.tickets import Intake
from operational.workflow import engine
from tests.operational.test_workflow_support import T0, World, build_world

VECTORS = Path(__file__).parents[1] / "vectors" / "escalation_vectors.json"
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def _world(session: Session) -> World:
    world = build_world(session)
    of1 = session.scalars(select(Office).where(Office.code == "OF1")).one()
    for name, role in (("agent", Role.CALL_CENTRE_AGENT), ("cs", Role.CS_ASSISTANT)):
        user = User(
            username=name,
            display_name=name,
            password_hash="x",
            grants=[
                RoleGrant(role=role.value, scope_level=ScopeLevel.OFFICE.value, office_id=of1.id)
            ],
        )
        session.add(user)
        session.flush()
        world.people[name] = load_principal(session, user.id)
    return world


def _clocks(session: Session, ticket: Ticket) -> dict[str, WorkflowClock]:
    return {
        c.clock: c
        for c in session.scalars(
            select(WorkflowClock).where(
                WorkflowClock.document_id == ticket.id,
                WorkflowClock.document_type == ticket.ticket_type,
            )
        )
    }


def _repair(w: World, at: datetime, urgency: str = "urgent", **kw: object) -> Ticket:
    return tickets.record_ticket(
        w.session,
        w["agent"],
        Intake("OF1", "repair", "Leaking pipe", urgency=urgency, **kw),  # type: ignore[arg-type]
        received_at=at,
    )


def _complaint(w: World, at: datetime, severity: str = "minor") -> ComplaintTicket:
    ticket = tickets.record_ticket(
        w.session,
        w["agent"],
        Intake("OF1", "complaint", "Noise", severity=severity),
        received_at=at,
    )
    assert isinstance(ticket, ComplaintTicket)
    return ticket


def test_repair_flow_clocks_and_a_rework(session: Session) -> None:
    w = _world(session)
    s = w.session
    received = T0 + H  # Monday 10:00 in Shanghai: day service
    repair = _repair(w, received)
    assert (repair.state, repair.night_service) == ("recorded", False)
    assert repair.document_no == f"BX-OF1-{repair.id:06d}"
    with pytest.raises(PermissionDenied):
        tickets.dispatch(s, w["tech"], repair, "tech", repair.version, at=received + MIN)
    tickets.dispatch(s, w["agent"], repair, "tech", repair.version, at=received + 2 * MIN)
    clocks = _clocks(s, repair)
    assert clocks["resolution"].due_at == received + 72 * H
    assert clocks["pickup"].due_at == received + 7 * MIN  # 5 business minutes from dispatch
    assert clocks["on_site"].due_at == received + 32 * MIN  # urgent: 30 calendar minutes
    assert [i.document_no for i in orders.todo_list(s, w["tech"])] == [repair.document_no]
    with pytest.raises(PermissionDenied):  # dispatched to tech, not tech2
        tickets.pick_up(s, w["tech2"], repair, repair.version, at=received + 3 * MIN)
    tickets.pick_up(s, w["tech"], repair, repair.version, at=received + 7 * MIN)
    tickets.arrive(s, w["tech"], repair, repair.version, at=received + 40 * MIN)
    tickets.resolve(s, w["tech"], repair, repair.version, "pipe replaced", at=received + 2 * H)
    clocks = _clocks(s, repair)
    assert clocks["pickup"].stopped_at == clocks["pickup"].due_at  # at the deadline: met
    assert clocks["on_site"].stopped_at == received + 40 * MIN  # after its deadline: breached
    assert clocks["resolution"].stopped_at == received + 2 * H
    rework = tickets.follow_up(
        s, w["agent"], repair, repair.version, "unsatisfied", rework=True, at=received + 5 * H
    )
    assert (repair.state, repair.follow_up_result) == ("closed", "unsatisfied")
    assert isinstance(rework, RepairTicket)
    assert (rework.reopened_from_id, rework.state, rework.received_at) == (
        repair.id,
        "recorded",
        received + 5 * H,
    )
    assert _clocks(s, rework)["resolution"].due_at == received + 77 * H  # its own clock
    assert repair.escalation_level == 0  # repairs never escalate


def test_night_service_pickup_waits_for_the_next_working_interval(session: Session) -> None:
    w = _world(session)
    night = datetime(2026, 3, 2, 15, 10, tzinfo=UTC)  # Monday 23:10 in Shanghai
    repair = _repair(w, night, urgency="normal")
    assert repair.night_service is True
    tickets.dispatch(w.session, w["agent"], repair, "tech", repair.version, at=night + MIN)
    clocks = _clocks(w.session, repair)
    assert clocks["pickup"].due_at == datetime(2026, 3, 3, 1, 5, tzinfo=UTC)  # Tuesday 09:05
    assert "on_site" not in clocks  # a normal repair has no on-site clock
    lunch = _repair(w, T0 + 3 * H)  # 12:00: the lunch break is not working time
    assert lunch.night_service is True
    day = _repair(w, T0 + 5 * H)
    assert day.night_service is False


def test_appointment_repair_is_due_on_site_at_the_appointed_time(session: Session) -> None:
    w = _world(session)
    appointed = T0 + 26 * H
    repair = _repair(w, T0, urgency="appointment", appointment_at=appointed)
    tickets.dispatch(w.session, w["agent"], repair, "tech", repair.version, at=T0 + 30 * MIN)
    assert _clocks(w.session, repair)["on_site"].due_at == appointed
    with pytest.raises(DomainError) as refused:
        _repair(w, T0, urgency="appointment")
    assert refused.value.key == "tickets.appointment_required"


def test_inquiry_to_do_open_reply_close(session: Session) -> None:
    w = _world(session)
    s = w.session
    inquiry = tickets.record_ticket(
        s, w["agent"], Intake("OF1", "inquiry", "Fee standard?"), received_at=T0
    )
    assert inquiry.state == "todo"
    assert [i.document_no for i in orders.todo_list(s, w["cs"])] == [inquiry.document_no]
    tickets.pick_up(s, w["cs"], inquiry, inquiry.version, at=T0 + 2 * MIN)
    assert _clocks(s, inquiry)["pickup"].stopped_at == T0 + 2 * MIN
    with pytest.raises(DomainError):
        tickets.resolve(s, w["cs"], inquiry, inquiry.version, "  ")
    tickets.resolve(s, w["cs"], inquiry, inquiry.version, "2.5 yuan/m²", at=T0 + 5 * MIN)
    tickets.close_inquiry(s, w["cs"], inquiry, inquiry.version, at=T0 + 6 * MIN)
    assert inquiry.state == "closed"
    assert [e.transition for e in tickets.timeline(s, w["cs"], inquiry.document_no)] == [
        "record",
        "open",
        "reply",
        "close",
    ]
    with pytest.raises(NotFound):  # another office's manager does not see it
        tickets.get_ticket(s, w["mgr2"], inquiry.document_no)
    with pytest.raises(NotFound):
        tickets.timeline(s, w["mgr2"], inquiry.document_no)
    assert tickets.list_tickets(s, w["mgr2"]) == []
    assert [t.document_no for t in tickets.list_tickets(s, w["mgr"])] == [inquiry.document_no]
    assert tickets.list_tickets(s, w["guard"]) == []  # no VIEW_TICKETS at all


def _dispatched_complaint(w: World, received: datetime, severity: str = "minor") -> ComplaintTicket:
    complaint = _complaint(w, received, severity)
    tickets.dispatch(w.session, w["agent"], complaint, "mgr", complaint.version, at=received + MIN)
    tickets.pick_up(w.session, w["mgr"], complaint, complaint.version, at=received + 3 * MIN)
    return complaint


def _escalations(w: World, ticket: Ticket) -> list[tuple[str, object, object]]:
    return [
        (e.transition, e.at, e.payload["reason"])
        for e in engine.history(w.session, ticket)
        if e.transition.startswith("escalate_")
    ]


def test_a_late_complaint_climbs_both_levels(session: Session) -> None:
    w = _world(session)
    s = w.session
    complaint = _dispatched_complaint(w, T0)
    (notice,) = s.scalars(select(Notice)).all()
    assert (notice.kind, notice.recipient_role) == ("complaint_dispatched", "office_manager")
    due = T0 + 48 * H
    assert _clocks(s, complaint)["resolution"].due_at == due
    assert tickets.check_escalations(s, as_of=due) == 0  # exactly at the deadline: pending
    assert tickets.check_escalations(s, as_of=due + 5 * MIN) == 1
    assert tickets.check_escalations(s, as_of=due + 10 * MIN) == 0  # each level fires once
    assert complaint.escalation_level == 1
    assert _escalations(w, complaint) == [("escalate_1", due, "timeout")]
    escalated = _clocks(s, complaint)["escalated_resolution"]
    assert (escalated.started_at, escalated.due_at) == (due, due + 48 * H)
    tickets.resolve(s, w["mgr"], complaint, complaint.version, "apologised", at=due + 2 * H)
    assert _clocks(s, complaint)["escalated_resolution"].stopped_at == due + 2 * H
    tickets.follow_up(s, w["agent"], complaint, complaint.version, "unsatisfied", at=due + 3 * H)
    assert complaint.state == "in_progress"  # open again
    assert complaint.escalation_level == 2
    assert _escalations(w, complaint)[1] == ("escalate_2", due + 3 * H, "unsatisfied")
    notices = s.scalars(select(Notice).order_by(Notice.id)).all()
    assert [(n.kind, n.recipient_role) for n in notices] == [
        ("complaint_dispatched", "office_manager"),
        ("complaint_escalated", "city_audit_manager"),
        ("complaint_escalated", "group_audit_manager"),
    ]
    assert outbox.drain(s, outbox.LogSender()) == 3
    assert outbox.drain(s, outbox.LogSender()) == 0


def test_an_unsatisfied_follow_up_escalates_and_the_fresh_clock_can_breach(
    session: Session,
) -> None:
    w = _world(session)
    s = w.session
    complaint = _dispatched_complaint(w, T0, "general")
    tickets.resolve(s, w["mgr"], complaint, complaint.version, "fixed", at=T0 + 5 * H)
    visit = T0 + 6 * H
    tickets.follow_up(s, w["agent"], complaint, complaint.version, "unsatisfied", at=visit)
    assert (complaint.state, complaint.escalation_level) == ("in_progress", 1)
    assert _escalations(w, complaint) == [("escalate_1", visit, "unsatisfied")]
    escalated = _clocks(s, complaint)["escalated_resolution"]
    assert escalated.due_at == visit + 72 * H  # the same target as the complaint's
    assert tickets.check_escalations(s, as_of=visit + 72 * H + MIN) == 1
    assert _escalations(w, complaint)[1] == ("escalate_2", visit + 72 * H, "timeout")


def test_resolved_after_the_breach_before_the_check(session: Session) -> None:
    """The schedule runs after the late resolution: level 1 still fires at the breach instant,
    and its fresh clock stopped at that resolution — as the rule (and the warehouse) says."""
    w = _world(session)
    s = w.session
    complaint = _dispatched_complaint(w, T0)
    due = T0 + 48 * H
    tickets.resolve(s, w["mgr"], complaint, complaint.version, "done", at=due + 2 * MIN)
    assert tickets.check_escalations(s, as_of=due + 5 * MIN) == 1
    escalated = _clocks(s, complaint)["escalated_resolution"]
    assert (escalated.started_at, escalated.stopped_at) == (due, due + 2 * MIN)
    assert complaint.state == "resolved"


def test_escalation_vectors() -> None:
    for case in json.loads(VECTORS.read_text())["cases"]:
        fired, clock = escalation.ladder(
            datetime.fromisoformat(case["resolution_due"]),
            timedelta(hours=case["target_hours"]),
            [datetime.fromisoformat(r) for r in case["resolutions"]],
            [
                escalation.FollowUp(datetime.fromisoformat(f["at"]), f["result"] == "satisfied")
                for f in case["follow_ups"]
            ],
            datetime.fromisoformat(case["as_of"]),
        )
        got = [
            {
                "level": e.level,
                "at": e.at.isoformat(),
                "reason": e.reason,
                "holder_role": e.holder_role,
            }
            for e in fired
        ]
        assert got == case["expected"], case["name"]
        expected_clock = case.get("escalated_clock")
        if expected_clock is not None:
            assert clock is not None
            assert clock.due_at.isoformat() == expected_clock["due_at"], case["name"]


class _Receiver(BaseHTTPRequestHandler):
    seen: list[str] = []  # noqa: RUF012
    fail_first = 0

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.rfile.read(length)
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Receiver.seen.append(self.headers["Idempotency-Key"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.seen = []
    _Receiver.fail_first = 0
    try:
        yield f"http://127.0.0.1:{server.server_port}/notices"
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_sender_retries_and_passes_the_idempotency_key(
    session: Session, receiver: str
) -> None:
    w = _world(session)
    _dispatched_complaint(w, T0)
    (notice,) = w.session.scalars(select(Notice)).all()
    _Receiver.fail_first = 2
    sender = outbox.WebhookSender(receiver, retries=3, sleep=lambda _: None)
    assert outbox.drain(w.session, sender) == 1
    assert _Receiver.seen == [notice.idempotency_key]
    # The receiver down for good: the notice stays queued with its error, not lost.
    tickets.record_ticket(w.session, w["agent"], Intake("OF1", "complaint", "x", severity="major"))
    other = _dispatched_complaint(w, T0 + H)
    down = outbox.WebhookSender("http://127.0.0.1:9/", retries=1, sleep=lambda _: None)
    assert outbox.drain(w.session, down) == 0
    queued = w.session.scalars(select(Notice).where(Notice.sent_at.is_(None))).one()
    assert (queued.document_no, queued.attempts) == (other.document_no, 1)
    assert queued.last_error


def test_a_complaint_changed_meanwhile_does_not_stop_the_check_of_the_others(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _world(session)
    first = _dispatched_complaint(w, T0)
    second = _dispatched_complaint(w, T0 + MIN)
    checked = tickets.check_complaint

    def stale_first(s: Session, ticket: ComplaintTicket, **kw: object) -> object:
        if ticket.id == first.id:
            raise StaleVersion("workflow.stale", document_no=ticket.document_no, state="x")
        return checked(s, ticket, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(tickets, "check_complaint", stale_first)
    assert tickets.check_escalations(w.session, as_of=T0 + 49 * H) == 1
    assert (first.escalation_level, second.escalation_level) == (0, 1)
