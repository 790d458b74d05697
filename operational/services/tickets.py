"""Customer-service tickets (工单): intake, dispatch, work, follow-up — through the engine.

Inquiry: to-do → open → reply → close. Repair: record → dispatch to a technician → pick up →
(arrive) → resolve → follow-up visit (回访); an unsatisfied visit may open a rework, a new repair
linked by ``reopened_from_id``. Complaint: record → dispatch to the office manager (a notice) →
pick up → resolve → follow-up; an unsatisfied visit opens it again. Complaints climb the
escalation ladder (:mod:`operational.escalation`) — :func:`check_escalations` fires it, after
every relevant event and on a schedule. Rules and clocks: ``docs/tickets.md``. The caller
commits; every move takes the ``expected_version`` the user's form was opened on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from operational import entry, escalation, outbox
from operational.auth import Permission, Principal, load_principal, system_principal
from operational.calendars import is_working_time
from operational.errors import DomainError, NotFound, StaleVersion
from operational.models import (
    ComplaintTicket,
    FollowUpResult,
    InquiryTicket,
    Office,
    RepairTicket,
    Severity,
    Ticket,
    TicketType,
    Urgency,
    User,
    WorkflowClock,
    WorkflowEvent,
    utcnow,
)
from operational.scope import office_clause, scoped_read
from operational.services.calendars import calendar_for_office
from operational.workflow import engine
from operational.workflow.definitions import ESCALATED_RESOLUTION, RESOLUTION

_MODELS: dict[TicketType, type[Ticket]] = {
    TicketType.INQUIRY: InquiryTicket,
    TicketType.REPAIR: RepairTicket,
    TicketType.COMPLAINT: ComplaintTicket,
}

LADDER_ACTOR = "escalation"
"""The actor recorded on escalation events (the product fires them, nobody presses a button)."""


@dataclass(frozen=True)
class Intake:
    """What the call centre or the office types in for a new ticket."""

    office_code: str
    ticket_type: TicketType | str
    subject: str
    description: str = ""
    urgency: Urgency | str | None = None  # repairs (default normal)
    appointment_at: datetime | None = None  # appointment repairs
    severity: Severity | str | None = None  # complaints
    house_ref: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None


def _office(session: Session, code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == code)).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=code)
    return office


E = TypeVar("E", TicketType, Urgency, Severity, FollowUpResult)


def _enum(kind: type[E], value: str, key: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise DomainError(key, value=str(value)) from None


def record_ticket(
    session: Session,
    actor: Principal,
    intake: Intake,
    *,
    received_at: datetime | None = None,
    reopened_from: Ticket | None = None,
    document_no: str | None = None,
) -> Ticket:
    """Record a new ticket received at ``received_at`` (default now). Night service (夜间服务)
    is decided here: received outside the office's working intervals."""
    now = utcnow()
    received = received_at or now
    entry.check_instant(received, now, "received_at")
    office = _office(session, intake.office_code)
    kind = _enum(TicketType, intake.ticket_type, "tickets.bad_type")
    subject = intake.subject.strip()
    if not subject:
        raise DomainError("tickets.subject_required")
    urgency: Urgency | None = None
    severity: Severity | None = None
    appointment = None
    if kind is TicketType.REPAIR:
        urgency = _enum(Urgency, intake.urgency or Urgency.NORMAL, "tickets.bad_urgency")
        if urgency is Urgency.APPOINTMENT:
            appointment = intake.appointment_at
            if appointment is None:
                raise DomainError("tickets.appointment_required")
            if appointment <= received:
                raise DomainError("tickets.appointment_in_past")
    elif kind is TicketType.COMPLAINT:
        if intake.severity is None:
            raise DomainError("tickets.severity_required")
        severity = _enum(Severity, intake.severity, "tickets.bad_severity")
    ticket = _MODELS[kind](
        office_id=office.id,
        **({"document_no": document_no} if document_no else {}),
        ticket_type=kind.value,
        subject=subject,
        description=intake.description.strip(),
        urgency=urgency.value if urgency else None,
        appointment_at=appointment,
        severity=severity.value if severity else None,
        received_at=received,
        night_service=not is_working_time(calendar_for_office(session, office), received),
        reopened_from_id=reopened_from.id if reopened_from is not None else None,
        house_ref=(intake.house_ref or "").strip() or None,
        caller_name=(intake.caller_name or "").strip() or None,
        caller_phone=(intake.caller_phone or "").strip() or None,
    )
    payload = {
        "type": kind.value,
        "urgency": ticket.urgency,
        "severity": ticket.severity,
        "appointment_at": appointment,
        "night_service": ticket.night_service,
        "reopened_from": reopened_from.document_no if reopened_from is not None else None,
    }
    engine.create(session, actor, ticket, "record", payload, at=received)
    return ticket


def goes_to_office_manager(ticket: Ticket) -> bool:
    """Whether ``ticket`` may be dispatched only to an office manager of its office
    (``Permission.TAKE_COMPLAINTS``): a complaint received in office hours. A night-service
    complaint goes to whoever is on duty (the office's CS staff, or the manager), like every
    night ticket; repairs go to a technician."""
    return isinstance(ticket, ComplaintTicket) and not ticket.night_service


def _handler(session: Session, username: str, ticket: Ticket, office: Office) -> User:
    """The active user ``username`` who may work tickets at ``office`` — for a complaint in
    office hours, one of its office managers (:func:`goes_to_office_manager`)."""
    if not username.strip():
        raise DomainError("ticketgaps.handler_required")
    user = session.scalars(select(User).where(User.username == username.strip())).one_or_none()
    if user is None or not user.is_active:
        raise NotFound("users.unknown_user", username=username)
    principal = load_principal(session, user.id)
    if not principal.can(Permission.HANDLE_TICKETS, office.code):
        raise DomainError("tickets.not_a_handler", username=username, office=office.code)
    if goes_to_office_manager(ticket) and not principal.can(
        Permission.TAKE_COMPLAINTS, office.code
    ):
        raise DomainError(
            "ticketgaps.not_office_manager",
            name=user.display_name,
            username=user.username,
            office=office.code,
        )
    return user


def dispatch(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    handler: str,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """Dispatch a repair to a technician or a complaint to the office manager (派单); the
    pickup clock starts (a night ticket's counts from the next working interval), and the
    on-site clock of an urgent or appointment repair. A complaint received in office hours
    goes only to an office manager of its office (else refused, nothing written); a
    complaint's dispatch queues a notice to the office manager."""
    office = session.get_one(Office, ticket.office_id)
    user = _handler(session, handler, ticket, office)

    def apply() -> None:
        ticket.handler_id = user.id

    event = engine.transition(
        session,
        actor,
        ticket,
        "dispatch",
        {"handler": user.username},
        expected_version,
        apply=apply,
        at=at,
    )
    if isinstance(ticket, ComplaintTicket):
        outbox.enqueue(
            session,
            key=f"dispatch:{ticket.document_no}:{event.id}",
            kind="complaint_dispatched",
            office_id=office.id,
            document_no=ticket.document_no,
            recipient_role="office_manager",
            payload={
                "handler": user.username,
                "severity": ticket.severity,
                "subject": ticket.subject,
            },
        )


def _move(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    name: str,
    expected_version: int,
    note: str = "",
    at: datetime | None = None,
) -> WorkflowEvent:
    return engine.transition(
        session, actor, ticket, name, {"note": note.strip()}, expected_version, at=at
    )


def pick_up(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """The handler opens the task (接单): stops the pickup clock. For an inquiry: open it."""
    name = "open" if isinstance(ticket, InquiryTicket) else "pick_up"
    _move(session, actor, ticket, name, expected_version, at=at)


def arrive(
    session: Session,
    actor: Principal,
    ticket: RepairTicket,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """The technician is on site (到场): stops the on-site clock."""
    _move(session, actor, ticket, "arrive", expected_version, at=at)


def resolve(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    expected_version: int,
    note: str = "",
    *,
    at: datetime | None = None,
) -> None:
    """The handler reports the ticket resolved (for an inquiry: the reply), with a note."""
    if not note.strip() and not actor.is_system:
        raise DomainError("tickets.note_required")
    name = "reply" if isinstance(ticket, InquiryTicket) else "resolve"
    _move(session, actor, ticket, name, expected_version, note, at)


def close_inquiry(
    session: Session,
    actor: Principal,
    ticket: InquiryTicket,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    _move(session, actor, ticket, "close", expected_version, at=at)


def follow_up(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    expected_version: int,
    result: FollowUpResult | str,
    note: str = "",
    *,
    rework: bool = False,
    at: datetime | None = None,
) -> Ticket | None:
    """The follow-up visit (回访). A repair closes either way (its outcome stays); if the owner
    is unsatisfied and wants it, ``rework`` opens a new repair linked to it, with its own
    clocks (returned). A complaint closes when the owner is satisfied and is open again
    otherwise — and the ladder checks it at once."""
    if not str(result).strip():
        raise DomainError("ticketgaps.follow_up_result_required")
    outcome = _enum(FollowUpResult, result, "tickets.bad_follow_up_result")
    if isinstance(ticket, InquiryTicket):
        raise DomainError("tickets.no_follow_up")
    if rework and (
        not isinstance(ticket, RepairTicket) or outcome is not FollowUpResult.UNSATISFIED
    ):
        raise DomainError("tickets.rework_needs_unsatisfied_repair")
    name = (
        "follow_up_unsatisfied"
        if isinstance(ticket, ComplaintTicket) and outcome is FollowUpResult.UNSATISFIED
        else "follow_up"
    )

    def apply() -> None:
        ticket.follow_up_result = outcome.value

    event = engine.transition(
        session,
        actor,
        ticket,
        name,
        {"result": outcome.value, "note": note.strip()},
        expected_version,
        apply=apply,
        at=at,
    )
    if isinstance(ticket, ComplaintTicket):
        check_complaint(session, ticket, as_of=event.at)
        return None
    if not rework:
        return None
    office = session.get_one(Office, ticket.office_id)
    return record_ticket(
        session,
        actor,
        Intake(
            office_code=office.code,
            ticket_type=TicketType.REPAIR,
            subject=ticket.subject,
            description=ticket.description,
            house_ref=ticket.house_ref,
            caller_name=ticket.caller_name,
            caller_phone=ticket.caller_phone,
        ),
        received_at=event.at,
        reopened_from=ticket,
    )


# --- the escalation ladder, live ----------------------------------------------------------


def complaint_facts(
    session: Session, ticket: ComplaintTicket
) -> tuple[datetime, timedelta, list[datetime], list[escalation.FollowUp]]:
    """What the ladder reads of one complaint: its resolution deadline and target, its
    resolutions and its follow-up visits (from its events)."""
    clock = session.scalars(
        select(WorkflowClock).where(
            WorkflowClock.document_type == "complaint",
            WorkflowClock.document_id == ticket.id,
            WorkflowClock.clock == RESOLUTION,
        )
    ).one()
    target = timedelta(minutes=engine.clock_target(clock).minutes)
    resolutions: list[datetime] = []
    visits: list[escalation.FollowUp] = []
    for event in engine.history(session, ticket):
        if event.transition == "resolve":
            resolutions.append(event.at)
        elif event.transition in ("follow_up", "follow_up_unsatisfied"):
            visits.append(escalation.FollowUp(event.at, event.transition == "follow_up"))
    return clock.due_at, target, resolutions, visits


def check_complaint(
    session: Session,
    ticket: ComplaintTicket,
    *,
    as_of: datetime | None = None,
    notify: bool = True,
) -> list[escalation.Escalation]:
    """Fire the levels the ladder says had fired by ``as_of`` (default now) and this complaint
    has not recorded yet: each an ``escalate_N`` event at its own instant, with a notice to its
    holder (``notify`` False: none — the go-live history import). Returns the levels fired."""
    as_of = as_of or utcnow()
    due, target, resolutions, visits = complaint_facts(session, ticket)
    fired, clock = escalation.ladder(due, target, resolutions, visits, as_of)
    system = system_principal(LADDER_ACTOR)
    new: list[escalation.Escalation] = []
    for level in fired:
        if level.level <= ticket.escalation_level:
            continue

        def apply(level: escalation.Escalation = level) -> None:
            ticket.escalation_level = level.level

        event = engine.transition(
            session,
            system,
            ticket,
            f"escalate_{level.level}",
            {"level": level.level, "reason": level.reason, "holder_role": level.holder_role},
            ticket.version,
            apply=apply,
            at=level.at,
        )
        if level.level == 1 and clock is not None and clock.stopped_at is not None:
            # Resolved after the level-1 instant, before this check ran: the fresh clock
            # stopped at that resolution (the rule, as the warehouse reads it).
            _stop_escalated_clock(session, ticket, clock.stopped_at)
        new.append(level)
        if not notify:
            continue
        outbox.enqueue(
            session,
            key=f"escalation:{ticket.document_no}:{level.level}",
            kind="complaint_escalated",
            office_id=ticket.office_id,
            document_no=ticket.document_no,
            recipient_role=level.holder_role,
            payload={
                "level": level.level,
                "reason": level.reason,
                "escalated_at": level.at,
                "severity": ticket.severity,
                "event_id": event.id,
            },
        )
    return new


def _stop_escalated_clock(session: Session, ticket: ComplaintTicket, stopped_at: datetime) -> None:
    stop_event = session.scalars(
        select(WorkflowEvent)
        .where(
            WorkflowEvent.document_type == "complaint",
            WorkflowEvent.document_id == ticket.id,
            WorkflowEvent.transition == "resolve",
            WorkflowEvent.at == stopped_at,
        )
        .order_by(WorkflowEvent.id)
    ).first()
    for clock in engine.open_clocks(session, ticket):
        if clock.clock == ESCALATED_RESOLUTION:
            clock.stopped_at = stopped_at
            clock.stopped_event_id = stop_event.id if stop_event is not None else None
    session.flush()


def check_escalations(session: Session, *, as_of: datetime | None = None) -> int:
    """The schedule's check (every 5 minutes): every complaint below level 2 whose current
    clock — ``resolution`` at level 0, ``escalated_resolution`` at level 1 — has breached by
    ``as_of``, through :func:`check_complaint`, each complaint in a savepoint of its own (one
    a user changed meanwhile is left for the next check). Returns how many levels fired. The
    caller commits."""
    as_of = as_of or utcnow()
    breached = and_(
        WorkflowClock.due_at < as_of,
        or_(WorkflowClock.stopped_at.is_(None), WorkflowClock.stopped_at > WorkflowClock.due_at),
    )
    # One query per level, each reading ix_workflow_clock_breachable alone (document_type,
    # clock, due_at, document_id, stopped_at): an OR of the two levels' clocks reads every
    # breachable complaint clock instead (late pickups included), 2.3 times the work at 5 M
    # tickets (docs/benchmarks.md).
    candidates = sorted(
        (
            ticket
            for level, clock in ((0, RESOLUTION), (1, ESCALATED_RESOLUTION))
            for ticket in session.scalars(
                select(ComplaintTicket)
                .join(
                    WorkflowClock,
                    and_(
                        WorkflowClock.document_type == "complaint",
                        WorkflowClock.document_id == ComplaintTicket.id,
                    ),
                )
                .where(
                    WorkflowClock.clock == clock,
                    ComplaintTicket.escalation_level == level,
                    breached,
                )
            )
        ),
        key=lambda ticket: ticket.id,
    )
    fired = 0
    for ticket in candidates:
        try:
            with session.begin_nested():  # one complaint changed meanwhile spoils no other
                fired += len(check_complaint(session, ticket, as_of=as_of))
        except StaleVersion:
            continue  # a user moved it since it was read: the next check escalates it
    return fired


# --- reads ----------------------------------------------------------------------------------


@scoped_read(Permission.VIEW_TICKETS)
def get_ticket(session: Session, principal: Principal, document_no: str) -> Ticket:
    """One ticket by number, if the principal may see its office (else :class:`NotFound`)."""
    ticket = session.scalars(
        select(Ticket).where(
            Ticket.document_no == document_no,
            office_clause(principal, Permission.VIEW_TICKETS, Ticket.office_id),
        )
    ).one_or_none()
    if ticket is None:
        raise NotFound("tickets.unknown_ticket", document_no=document_no)
    return ticket


@scoped_read(Permission.VIEW_TICKETS)
def list_tickets(
    session: Session,
    principal: Principal,
    *,
    ticket_type: TicketType | None = None,
    open_only: bool = False,
    limit: int = 500,
) -> list[Ticket]:
    """Tickets of the offices in scope, newest first."""
    query = select(Ticket).where(
        office_clause(principal, Permission.VIEW_TICKETS, Ticket.office_id)
    )
    if ticket_type is not None:
        query = query.where(Ticket.ticket_type == ticket_type.value)
    if open_only:
        query = query.where(Ticket.state != "closed")
    return list(session.scalars(query.order_by(Ticket.received_at.desc()).limit(limit)))


@scoped_read(Permission.VIEW_TICKETS)
def timeline(session: Session, principal: Principal, document_no: str) -> list[WorkflowEvent]:
    """A ticket's events in order (its timeline), scoped like :func:`get_ticket`."""
    return engine.history(session, get_ticket(session, principal, document_no))
