"""The owner-service desk (客服工作台): the call centre's intake, the ticket page, the to-do
items and the customer's tickets — over :mod:`operational.services.tickets`.

- :func:`find_callers`: one field finds who calls — a phone number, a house
  (``building-unit-room``) or a name — among the offices where the user records tickets; each
  hit is a customer with one of their current houses (or a house nobody lives in now).
- :func:`proposed_severity`: the repeat-complaint rule (docs/tickets.md, "The desk": the same
  matter again within a month is ``general``) in one place; the intake form proposes it and the user confirms.
- :func:`take_call`: the intake form's service — every problem at once (``FormRejected``),
  office-local appointment times, nothing written on a refusal.
- :func:`ticket_view`: what the ticket page shows — details, clocks (evaluated by the SLA
  code, :mod:`operational.services.clock_views`), the timeline, the steps the user may take.
- :func:`customer_tickets`: every ticket of a customer's houses (the customer view, C9).

Reads take the principal and filter inside their query (``@scoped_read``); phone numbers
pass through :func:`operational.pii.shown`. Rules: ``docs/tickets.md`` ("The desk").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

from operational import pii
from operational.auth import Permission, Principal
from operational.errors import NotFound, Problems, Term
from operational.models import (
    ComplaintTicket,
    Customer,
    House,
    Occupancy,
    Office,
    PropBuilding,
    Severity,
    Ticket,
    TicketType,
    Urgency,
    User,
    WorkflowClock,
    utcnow,
)
from operational.models.tickets import ComplaintCategory, Place
from operational.scope import office_clause, office_code_clause, scoped_office, scoped_read
from operational.services import tickets
from operational.services.clock_views import ClockSummary, clock_summary
from operational.services.lookup import Person, people_with
from operational.services.property import (
    PHONE,
    house_name,
    house_of,
    name_prefix,
    normal_phone,
    phone_of,
)
from operational.workflow import engine

CALLER_LIMIT = 30
"""At most this many callers a search shows (by office, name and house)."""


# ---------------------------------------------------------------- offices


@dataclass(frozen=True)
class DeskOffice:
    code: str
    name: str
    timezone: str


@scoped_read(Permission.RECORD_TICKETS)
def intake_offices(session: Session, principal: Principal) -> list[DeskOffice]:
    """The offices where ``principal`` records tickets, by code, with their time zones (the
    form's appointed times are on the office's clock)."""
    return [
        DeskOffice(code, name, zone)
        for code, name, zone in session.execute(
            select(Office.code, Office.name, Office.timezone)
            .where(office_code_clause(principal, Permission.RECORD_TICKETS, Office.code))
            .order_by(Office.code)
        )
    ]


# ---------------------------------------------------------------- caller lookup


@dataclass(frozen=True)
class Caller:
    """One answer of the caller lookup: a customer in one of their current houses, or a house
    alone (nobody lives there now: ``customer_code`` None). ``phone`` as the user may see it."""

    office_code: str
    office_name: str
    customer_id: int | None
    customer_code: str | None
    customer_name: str
    phone: str
    house_id: int | None
    house: str
    role: str | None


def _house_rows(
    session: Session, principal: Principal, house: tuple[str, str, str]
) -> list[Caller]:
    building, unit, room = house
    rows = session.execute(
        select(House.id, PropBuilding.code, House.unit, House.room, Office.code, Office.name)
        .join(PropBuilding, PropBuilding.id == House.building_id)
        .join(Office, Office.id == House.office_id)
        .where(
            office_code_clause(principal, Permission.RECORD_TICKETS, Office.code),
            PropBuilding.code == building,
            House.unit == unit,
            House.room == room,
        )
        .order_by(Office.code)
        .limit(CALLER_LIMIT)
    ).all()
    ids = [r[0] for r in rows]
    living: dict[int, list[tuple[Customer, str]]] = {}
    if ids:
        for occupancy_house, customer, role in session.execute(
            select(Occupancy.house_id, Customer, Occupancy.role)
            .join(Customer, Customer.id == Occupancy.customer_id)
            .where(Occupancy.house_id.in_(ids), Occupancy.moved_out_on.is_(None))
            .order_by(Customer.name, Customer.code)
        ):
            living.setdefault(occupancy_house, []).append((customer, role))
    found: list[Caller] = []
    for house_id, b, u, r, office_code, office_name in rows:
        name = house_name(b, u, r)
        people = living.get(house_id, [])
        for customer, role in people:
            phone, _ = pii.shown(principal, office_code, customer.phone, "")
            found.append(
                Caller(
                    office_code,
                    office_name,
                    customer.id,
                    customer.code,
                    customer.name,
                    phone,
                    house_id,
                    name,
                    role,
                )
            )
        if not people:
            found.append(Caller(office_code, office_name, None, None, "", "", house_id, name, None))
    return found[:CALLER_LIMIT]


@scoped_read(Permission.RECORD_TICKETS)
def find_callers(session: Session, principal: Principal, query: str = "") -> list[Caller]:
    """Who may be calling, from one field, among the offices where ``principal`` records
    tickets: a phone number (exact, ``ix_prop_customer_phone``), a house (its current
    occupants, or the house alone) — both when the text reads as either (``10-1-1203``), else a name's beginning or a customer code (each customer
    once per current house; once without a house if they live in none now). At most
    :data:`CALLER_LIMIT`."""
    text = query.strip()
    if not text:
        return []
    house = house_of(text)
    phone = phone_of(text)
    at_house = [] if house is None else _house_rows(session, principal, house)
    if phone is None and house is not None:
        return at_house
    # A house written with dashes may read as a phone number too (10-1-1203): both are asked.
    clauses: list[ColumnElement[bool]]
    if phone is not None:
        # The number's customers first, through ix_prop_customer_phone alone: asked together
        # with the office, SQLite walks the office's customers in name order instead. Only
        # their ids; the query below keeps to the user's offices.
        ids = list(session.scalars(select(Customer.id).where(Customer.phone == phone)))
        if not ids:
            return at_house
        clauses = [Customer.id.in_(ids)]
    elif session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE uses no index: a name's prefix as a range (exact in SQLite's BINARY
        # order) through ix_prop_customer_name_prefix, and the code apart (an OR of the two
        # would scan).
        upper = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
        clauses = [and_(Customer.name >= text, Customer.name < upper), Customer.code == text]
    else:
        # PostgreSQL: LIKE 'x%' through the text_pattern_ops index ix_prop_customer_name_prefix
        # (a plain b-tree serves no LIKE under a non-C collation), and the code apart.
        clauses = [name_prefix(text), Customer.code == text]
    found_rows: dict[int, tuple[Customer, str, str]] = {}
    for clause in clauses:
        for customer, office_code, office_name in session.execute(
            select(Customer, Office.code, Office.name)
            .join(Office, Office.id == Customer.office_id)
            .where(office_code_clause(principal, Permission.RECORD_TICKETS, Office.code), clause)
            .order_by(Office.code, Customer.name, Customer.code)
            .limit(CALLER_LIMIT)
        ):
            found_rows[customer.id] = (customer, office_code, office_name)
    customers = sorted(found_rows.values(), key=lambda r: (r[1], r[0].name, r[0].code))[
        :CALLER_LIMIT
    ]
    homes: dict[int, list[tuple[int, str, str]]] = {}
    ids = [c.id for c, _, _ in customers]
    if ids:
        for customer_id, house_id, b, u, r, role in session.execute(
            select(
                Occupancy.customer_id,
                House.id,
                PropBuilding.code,
                House.unit,
                House.room,
                Occupancy.role,
            )
            .join(House, House.id == Occupancy.house_id)
            .join(PropBuilding, PropBuilding.id == House.building_id)
            .where(Occupancy.customer_id.in_(ids), Occupancy.moved_out_on.is_(None))
            .order_by(PropBuilding.code, House.unit, House.room)
        ):
            homes.setdefault(customer_id, []).append((house_id, house_name(b, u, r), role))
    found: list[Caller] = []
    for customer, office_code, office_name in customers:
        phone_shown, _ = pii.shown(principal, office_code, customer.phone, "")
        places: list[tuple[int | None, str, str | None]] = list(homes.get(customer.id, []))
        for home_id, home, held_as in places or [(None, "", None)]:
            found.append(
                Caller(
                    office_code,
                    office_name,
                    customer.id,
                    customer.code,
                    customer.name,
                    phone_shown,
                    home_id,
                    home,
                    held_as,
                )
            )
    seen = {(c.customer_id, c.house_id) for c in at_house}
    return (at_house + [c for c in found if (c.customer_id, c.house_id) not in seen])[:CALLER_LIMIT]


# ---------------------------------------------------------------- the repeat-complaint rule


def month_before(moment: datetime) -> datetime:
    """The same instant one calendar month earlier (the 31st of March → the 28th/29th of
    February): the start of "within the last month"."""
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


@dataclass(frozen=True)
class SeverityProposal:
    """What the intake form proposes for a complaint: ``general`` because of ``earlier`` (the
    number of the same house's complaint about the same category within the month before), or
    nothing (``severity`` None)."""

    severity: str | None
    earlier: str | None = None
    earlier_at: datetime | None = None


def _repeat_of(
    session: Session, office_id: int, house_id: int, category: str, at: datetime
) -> ComplaintTicket | None:
    return session.scalars(
        select(ComplaintTicket)
        .where(
            ComplaintTicket.office_id == office_id,
            ComplaintTicket.house_id == house_id,
            ComplaintTicket.category == category,
            ComplaintTicket.received_at >= month_before(at),
            ComplaintTicket.received_at <= at,
        )
        .order_by(ComplaintTicket.received_at.desc())
        .limit(1)
    ).first()


@scoped_read(Permission.RECORD_TICKETS)
def proposed_severity(
    session: Session,
    principal: Principal,
    office_code: str,
    house_id: int | None = None,
    category: str | None = None,
    at: datetime | None = None,
) -> SeverityProposal:
    """The repeat-complaint rule (一般投诉: the same matter again within a month): when the same
    house complained about the same category within the calendar month before ``at`` (default
    now), the form proposes ``general``; the user confirms or chooses otherwise. The office
    must be one where ``principal`` records tickets (else :class:`NotFound`)."""
    office = scoped_office(session, principal, Permission.RECORD_TICKETS, office_code)
    if house_id is None or not category:
        return SeverityProposal(None)
    earlier = _repeat_of(session, office.id, house_id, category, at or utcnow())
    if earlier is None:
        return SeverityProposal(None)
    return SeverityProposal(Severity.GENERAL.value, earlier.document_no, earlier.received_at)


# ---------------------------------------------------------------- intake


@dataclass(frozen=True)
class TicketForm:
    """The intake form as typed (strings as the widgets give them). Times are office-local."""

    office_code: str
    ticket_type: str
    subject: str
    description: str = ""
    house_id: int | None = None
    customer_id: int | None = None
    caller_name: str = ""
    caller_phone: str = ""
    place: str = ""  # repairs: in_home / common_area
    urgency: str = ""  # repairs: normal / urgent / appointment
    appointment_on: date | None = None
    appointment_time: time | None = None
    category: str = ""  # complaints
    severity: str = ""  # complaints, chosen or confirmed by the user
    caller_undecided: bool = False
    """The lookup found several callers (or one caller's several houses) and the user picked
    none of them, nor "not in the records": refused, so no ticket loses its caller unnoticed."""


FORM_FIELDS = (
    "office",
    "caller",
    "ticket_type",
    "subject",
    "description",
    "place",
    "urgency",
    "appointment",
    "category",
    "severity",
)


def _choice(
    problems: Problems,
    field: str,
    value: str,
    kind: type[Place] | type[Urgency] | type[ComplaintCategory] | type[Severity],
) -> str | None:
    if not value:
        problems.add(field, "ticketdesk.required", what=Term(f"ticketdesk.field.{field}"))
        return None
    if value not in {k.value for k in kind}:
        problems.add(
            field, "ticketdesk.bad_choice", what=Term(f"ticketdesk.field.{field}"), value=value
        )
        return None
    return value


def take_call(
    session: Session, actor: Principal, form: TicketForm, *, now: datetime | None = None
) -> Ticket:
    """Record the ticket the intake form describes, or refuse with every problem at once
    (:class:`operational.errors.FormRejected`); nothing is written on a refusal. The caller
    commits."""
    now = now or utcnow()
    problems = Problems(FORM_FIELDS)
    office: Office | None = None
    if form.caller_undecided:  # the caller picked names the office
        problems.add("caller", "ticketgaps.pick_caller")
    elif not form.office_code.strip():
        problems.add("office", "ticketdesk.required", what=Term("ticketdesk.field.office"))
    else:
        with problems.field("office"):
            office = scoped_office(session, actor, Permission.RECORD_TICKETS, form.office_code)
    house: House | None = None
    customer: Customer | None = None
    if office is not None and form.house_id is not None:
        house = session.scalars(
            select(House).where(House.id == form.house_id, House.office_id == office.id)
        ).one_or_none()
        if house is None:
            problems.add("caller", "ticketdesk.house_elsewhere", office=office.code)
    if office is not None and form.customer_id is not None:
        customer = session.scalars(
            select(Customer).where(Customer.id == form.customer_id, Customer.office_id == office.id)
        ).one_or_none()
        if customer is None:
            problems.add("caller", "ticketdesk.customer_elsewhere", office=office.code)
    typed_phone = normal_phone(form.caller_phone.strip())
    if form.customer_id is None and typed_phone and not PHONE.match(typed_phone):
        problems.add("caller", "ticketgaps.bad_caller_phone", phone=form.caller_phone.strip())
    kind = form.ticket_type
    if kind not in {t.value for t in TicketType}:
        problems.add(
            "ticket_type", "ticketdesk.required", what=Term("ticketdesk.field.ticket_type")
        )
    if not form.subject.strip():
        problems.add("subject", "tickets.subject_required")
    place = urgency = category = severity = None
    appointment: datetime | None = None
    if kind == TicketType.REPAIR.value:
        place = _choice(problems, "place", form.place, Place)
        if place == Place.IN_HOME.value and form.house_id is None:
            problems.add("place", "ticketdesk.in_home_needs_house")
        urgency = _choice(problems, "urgency", form.urgency, Urgency)
        if urgency == Urgency.APPOINTMENT.value:
            if form.appointment_on is None or form.appointment_time is None:
                problems.add("appointment", "tickets.appointment_required")
            elif office is not None:
                zone = ZoneInfo(office.timezone)
                local = datetime.combine(form.appointment_on, form.appointment_time, zone)
                appointment = local.astimezone(ZoneInfo("UTC"))
                if appointment <= now:
                    problems.add("appointment", "tickets.appointment_in_past")
                elif appointment > now + timedelta(days=366):
                    problems.add("appointment", "ticketdesk.appointment_far")
    elif kind == TicketType.COMPLAINT.value:
        category = _choice(problems, "category", form.category, ComplaintCategory)
        severity = _choice(problems, "severity", form.severity, Severity)
    problems.raise_if_any()
    assert office is not None
    caller_name = customer.name if customer is not None else form.caller_name
    caller_phone = customer.phone if customer is not None else typed_phone
    with problems.field("subject"):
        ticket = tickets.record_ticket(
            session,
            actor,
            tickets.Intake(
                office_code=office.code,
                ticket_type=kind,
                subject=form.subject,
                description=form.description,
                urgency=urgency,
                appointment_at=appointment,
                severity=severity,
                house_ref=_house_text(session, house),
                caller_name=caller_name[:80],
                caller_phone=caller_phone[:40],
            ),
            received_at=now,
        )
        ticket.house_id = house.id if house is not None else None
        ticket.customer_id = customer.id if customer is not None else None
        ticket.place = place
        ticket.category = category
        session.flush()
        return ticket
    problems.raise_if_any()
    raise AssertionError("unreachable")  # pragma: no cover


def _house_text(session: Session, house: House | None) -> str | None:
    if house is None:
        return None
    building = session.get_one(PropBuilding, house.building_id)
    return house_name(building.code, house.unit, house.room)


# ---------------------------------------------------------------- the ticket page


@dataclass(frozen=True)
class ClockLine:
    clock: str
    summary: ClockSummary


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    actor: str
    actor_name: str
    transition: str
    to_state: str
    note: str
    details: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TicketView:
    """Everything the ticket page shows; ``version`` is the one its buttons submit."""

    document_no: str
    ticket_type: str
    office_code: str
    office_name: str
    timezone: str
    state: str
    version: int
    subject: str
    description: str
    received_at: datetime
    night_service: bool
    urgency: str | None
    appointment_at: datetime | None
    severity: str | None
    category: str | None
    place: str | None
    house: str | None
    customer_code: str | None
    caller_name: str | None
    caller_phone: str
    handler: str | None
    handler_name: str | None
    follow_up_result: str | None
    escalation_level: int
    reopened_from: str | None
    reworks: tuple[str, ...]
    clocks: tuple[ClockLine, ...]
    timeline: tuple[TimelineLine, ...]
    actions: tuple[str, ...]


_DETAIL_KEYS = ("handler", "result", "level", "reason", "holder_role", "reopened_from")


@scoped_read(Permission.VIEW_TICKETS)
def ticket_view(session: Session, principal: Principal, document_no: str) -> TicketView:
    """One ticket as its page shows it, if ``principal`` sees its office (else
    :class:`NotFound`): the clocks evaluated now by the SLA code, the timeline, and the steps
    ``principal`` may take at its state (``engine.available``)."""
    ticket = tickets.get_ticket(session, principal, document_no.strip())
    office = session.get_one(Office, ticket.office_id)
    handler = session.get(User, ticket.handler_id) if ticket.handler_id is not None else None
    first = aliased(Ticket)
    reopened = (
        session.scalars(
            select(first.document_no).where(first.id == ticket.reopened_from_id)
        ).first()
        if ticket.reopened_from_id is not None
        else None
    )
    reworks = tuple(
        session.scalars(
            select(Ticket.document_no)
            .where(Ticket.reopened_from_id == ticket.id)
            .order_by(Ticket.id)
        )
    )
    clocks = tuple(
        ClockLine(row.clock, clock_summary(session, office, row))
        for row in session.scalars(
            select(WorkflowClock)
            .where(
                WorkflowClock.document_type == ticket.ticket_type,
                WorkflowClock.document_id == ticket.id,
            )
            .order_by(WorkflowClock.started_at, WorkflowClock.id)
        )
    )
    events = engine.history(session, ticket)
    names = dict(
        session.execute(
            select(User.username, User.display_name).where(
                User.username.in_({e.actor for e in events})
            )
        ).all()
    )
    timeline = tuple(
        TimelineLine(
            e.at,
            e.actor,
            names.get(e.actor, e.actor),
            e.transition,
            e.to_state,
            str((e.payload or {}).get("note") or ""),
            tuple(
                (k, str(v))
                for k in _DETAIL_KEYS
                if (v := (e.payload or {}).get(k)) not in (None, "")
            ),
        )
        for e in events
    )
    phone, _ = pii.shown(principal, office.code, ticket.caller_phone or "", "")
    actions = tuple(
        dict.fromkeys(t.name for t in engine.available(session, principal, ticket) if t.permission)
    )
    return TicketView(
        ticket.document_no,
        ticket.ticket_type,
        office.code,
        office.name,
        office.timezone,
        ticket.state,
        ticket.version,
        ticket.subject,
        ticket.description,
        ticket.received_at,
        ticket.night_service,
        ticket.urgency,
        ticket.appointment_at,
        ticket.severity,
        ticket.category,
        ticket.place,
        ticket.house_ref,
        session.scalars(select(Customer.code).where(Customer.id == ticket.customer_id)).first()
        if ticket.customer_id is not None
        else None,
        ticket.caller_name,
        phone,
        handler.username if handler is not None else None,
        handler.display_name if handler is not None else None,
        ticket.follow_up_result,
        ticket.escalation_level,
        reopened,
        reworks,
        clocks,
        timeline,
        actions,
    )


# ---------------------------------------------------------------- dispatch


@dataclass(frozen=True)
class DispatchChoice:
    """Whom the ticket page offers to dispatch a ticket to. ``managers_only``: a complaint in
    office hours, offered to the office's managers alone (by name), the first preselected
    (``preselected`` None when the office has none); else everyone who works tickets at the
    office (a repair's technician, a night ticket's CS staff), nobody preselected."""

    people: tuple[Person, ...]
    managers_only: bool
    night_service: bool
    preselected: str | None


@scoped_read(Permission.VIEW_TICKETS)
def dispatch_choice(session: Session, principal: Principal, document_no: str) -> DispatchChoice:
    """The people ``document_no`` may be dispatched to (the rule is
    ``tickets.goes_to_office_manager``), for a ticket ``principal`` sees (else
    :class:`NotFound`)."""
    ticket = tickets.get_ticket(session, principal, document_no.strip())
    office = session.get_one(Office, ticket.office_id)
    if tickets.goes_to_office_manager(ticket):
        managers = sorted(
            people_with(session, principal, office.code, Permission.TAKE_COMPLAINTS),
            key=lambda p: (p.display_name, p.username),
        )
        first = managers[0].username if managers else None
        return DispatchChoice(tuple(managers), True, ticket.night_service, first)
    handlers = people_with(session, principal, office.code, Permission.HANDLE_TICKETS)
    return DispatchChoice(tuple(handlers), False, ticket.night_service, None)


# ---------------------------------------------------------------- the customer's tickets


@dataclass(frozen=True)
class TicketLine:
    document_no: str
    ticket_type: str
    state: str
    received_at: datetime
    house: str | None
    subject: str
    night_service: bool
    severity: str | None
    urgency: str | None
    timezone: str


@scoped_read(Permission.VIEW_TICKETS)
def customer_tickets(
    session: Session, principal: Principal, office_code: str, customer_code: str
) -> list[TicketLine]:
    """Every ticket of the customer's houses (past and present), and every ticket the
    customer called in, newest first — for the customer view (C9)."""
    office = scoped_office(session, principal, Permission.VIEW_TICKETS, office_code)
    customer = session.scalars(
        select(Customer).where(Customer.office_id == office.id, Customer.code == customer_code)
    ).one_or_none()
    if customer is None:
        raise NotFound("property.unknown_customer", code=customer_code, office=office.code)
    houses = select(Occupancy.house_id).where(Occupancy.customer_id == customer.id)
    rows = session.scalars(
        select(Ticket)
        .where(
            office_clause(principal, Permission.VIEW_TICKETS, Ticket.office_id),
            Ticket.office_id == office.id,
            or_(Ticket.house_id.in_(houses), Ticket.customer_id == customer.id),
        )
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(500)
    )
    return [
        TicketLine(
            t.document_no,
            t.ticket_type,
            t.state,
            t.received_at,
            t.house_ref,
            t.subject,
            t.night_service,
            t.severity,
            t.urgency,
            office.timezone,
        )
        for t in rows
    ]


@dataclass(frozen=True)
class WaitingTicket:
    """A ticket of the user's to-do list (待办): what they can do, its earliest open deadline,
    and whether it is night service (夜间服务)."""

    item: engine.TodoItem
    night_service: bool


@scoped_read(Permission.VIEW_TICKETS)
def waiting_tickets(session: Session, principal: Principal) -> list[WaitingTicket]:
    """The tickets waiting on ``principal`` — dispatched to them (pick up, arrive, resolve), to
    dispatch, follow-up visits due for the call centre, inquiries to open, reply and close —
    in the to-do list's order (``engine.waiting_for``), each marked night service or not."""
    items = [i for i in engine.waiting_for(session, principal) if is_ticket_type(i.document_type)]
    if not items:
        return []
    night = set(
        session.scalars(
            select(Ticket.id).where(
                office_clause(principal, Permission.VIEW_TICKETS, Ticket.office_id),
                Ticket.id.in_([i.document_id for i in items]),
                Ticket.night_service.is_(True),
            )
        )
    )
    return [WaitingTicket(i, i.document_id in night) for i in items]


def is_ticket_type(document_type: str) -> bool:
    """Whether a to-do item's document type is a ticket's (inquiry, repair, complaint)."""
    return document_type in {t.value for t in TicketType}
