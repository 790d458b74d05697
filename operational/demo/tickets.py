"""Demo step: two years of customer-service tickets (工单) — inquiries, repairs (in-home and
common area; normal, urgent and appointment), complaints of every severity — for every demo
office, worked through the ticket services (:mod:`operational.services.tickets`) at their past
instants, so their events, clocks, night service and escalations are what live work writes.

Every office gets its customer-service staff (an office manager — the demo login ``manager``
at the first office —, a CS assistant, a call-centre agent, technicians) and a lateness factor.
Callers are the current occupants of the office's houses (:mod:`operational.demo.property`).
The tickets' steps run in time order across the whole group, like live work: a ticket received
outside the office's working intervals is night service (the service decides it) and its pickup
waits for the next working interval; an unsatisfied repair visit sometimes opens a rework
(``reopened_from``); a complaint is checked against the escalation ladder before each of its
steps (as every relevant event checks it live) and climbs to level 1 on a late resolution or an
unsatisfied visit, to level 2 on a late second resolution or a second unsatisfied visit. Steps
that fall after ``options.now`` have not happened yet: those tickets are open now. Some offices
have complaints stuck unresolved past their deadline, so the escalation board shows complaints
open at level 1 and level 2; the schedule's check (:func:`tickets.check_escalations`) runs once
at ``now``. Notices of the history count as sent; those of that last check wait in the outbox.

Deterministic for the seed (draws of its own); an office that has tickets already is skipped.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from operational.auth import Principal, hash_password, load_principal
from operational.calendars import WorkCalendar, next_working_instant, working_intervals
from operational.demo.staff import office_staff
from operational.models import (
    ComplaintTicket,
    Notice,
    Office,
    RepairTicket,
    Role,
    Ticket,
)
from operational.models.property import Customer, House, Occupancy, PropBuilding
from operational.progress import stage
from operational.services import tickets
from operational.services.calendars import calendar_for_office
from operational.services.tickets import Intake

if TYPE_CHECKING:
    from operational.demo import DemoOptions

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# Tickets a day per office, by type.
RATES = {"inquiry": 0.25, "repair": 0.3, "complaint": 0.1}
INQUIRIES = [
    "物业费缴纳方式",
    "停车月卡办理",
    "装修申请流程",
    "门禁卡补办",
    "快递代收",
    "水电费查询",
]
IN_HOME = ["厨房下水道堵塞", "卫生间漏水", "入户门锁损坏", "空调冷凝水管滴漏", "插座无电"]
COMMON_AREA = ["楼道灯不亮", "电梯按键失灵", "单元门闭门器损坏", "地库积水", "消防通道门关不上"]
COMPLAINTS = [
    "夜间装修噪音",
    "楼上漏水未处理",
    "保洁不到位",
    "宠物扰民",
    "停车位被占",
    "维修人员态度差",
]
SEVERITIES = (("minor", 0.5), ("general", 0.35), ("major", 0.15))
TARGET_HOURS = {"minor": 48, "general": 72, "major": 120}  # docs/tickets.md
STAFF = {
    "mgr": Role.OFFICE_MANAGER,
    "cs": Role.CS_ASSISTANT,
    "agent": Role.CALL_CENTRE_AGENT,
    "tech1": Role.TECHNICIAN,
    "tech2": Role.TECHNICIAN,
}


@dataclass(frozen=True)
class Caller:
    """Who calls the demo's call centre: a current owner or tenant, with the house."""

    house_ref: str
    name: str
    phone: str


def callers(session: Session, office: Office) -> list[Caller]:
    """The office's current owners and tenants, with their houses (the demo's callers)."""
    return [
        Caller(f"{building}-{unit}-{room}", name, phone)
        for building, unit, room, name, phone in session.execute(
            select(PropBuilding.code, House.unit, House.room, Customer.name, Customer.phone)
            .join(House, House.building_id == PropBuilding.id)
            .join(Occupancy, Occupancy.house_id == House.id)
            .join(Customer, Customer.id == Occupancy.customer_id)
            .where(
                House.office_id == office.id,
                Occupancy.moved_out_on.is_(None),
                Occupancy.role.in_(("owner", "tenant")),
            )
            .order_by(House.id, Customer.id)
        )
    ]


@dataclass
class _Office:
    office: Office
    zone: ZoneInfo
    calendar: WorkCalendar
    staff: dict[str, tuple[str, Principal]]  # key → (username, principal)
    callers: list[Caller]
    lateness: float


Steps = Iterator[datetime]
"""A ticket's life: yields the instant of its next step; resumed then, it takes that step."""


def tickets_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    """``options.days`` of tickets up to ``options.now`` for every office without tickets."""
    if not options.tickets:
        return
    with_tickets = set(session.scalars(select(Ticket.office_id).distinct()))
    offices = [
        o for o in session.scalars(select(Office).order_by(Office.code)) if o.id not in with_tickets
    ]
    if not offices:
        return
    now = options.now.astimezone(UTC)
    password_hash = hash_password(_demo_password())
    places = [
        _set_up_office(
            session, office, random.Random(f"{options.seed}:tickets:{office.code}"), password_hash
        )
        for office in offices
    ]
    queue: list[tuple[datetime, int, Steps]] = []
    order = itertools.count()

    def spawn(life: Steps) -> None:
        first = next(life, None)
        if first is not None:
            heapq.heappush(queue, (first, next(order), life))

    start = now - timedelta(days=options.days)
    for number, place in enumerate(places):
        rng = random.Random(f"{options.seed}:ticket-plan:{place.office.code}")
        for received in _arrivals(rng, place, start, now):
            spawn(_life(session, rng, place, received, spawn))
        for stuck in _stuck_complaints(number, now):
            spawn(_stuck(session, rng, place, stuck))
    with stage(options.progress, "ops.progress.demo.tickets", len(queue)) as advance:
        while queue:
            at, _, life = heapq.heappop(queue)
            if at > now:
                continue  # not happened yet: the ticket is open at this step
            following = next(life, None)
            if following is not None:
                heapq.heappush(queue, (following, next(order), life))
            else:
                advance(1)
        session.flush()
    # The history's notices went out at the time; the schedule's check at now queues its own.
    session.execute(update(Notice).where(Notice.sent_at.is_(None)).values(sent_at=now))
    tickets.check_escalations(session, as_of=now)
    session.flush()


def _demo_password() -> str:
    from operational.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def _set_up_office(
    session: Session, office: Office, rng: random.Random, password_hash: str
) -> _Office:
    # The demo login "manager" manages the first office.
    ids = office_staff(session, office, STAFF, rng, password_hash, {"mgr": "manager"})
    staff = {
        duty: (name, load_principal(session, user_id)) for duty, (user_id, name) in ids.items()
    }
    people = callers(session, office)
    lateness = rng.choice([0.6, 0.8, 1.0, 1.0, 1.25, 1.5, 1.9])
    return _Office(
        office,
        ZoneInfo(office.timezone),
        calendar_for_office(session, office),
        staff,
        people,
        lateness,
    )


def _arrivals(
    rng: random.Random, place: _Office, start: datetime, now: datetime
) -> Iterator[tuple[str, datetime]]:
    """(type, instant received) of the office's tickets from ``start`` to ``now``: mostly in
    the day, some in the evening and at night, more around the Spring Festival."""
    day = start.astimezone(place.zone).date()
    last = now.astimezone(place.zone).date()
    while day <= last:
        for kind, rate in RATES.items():
            for _ in range(_poisson(rng, rate)):
                at = _call(rng, place, day)
                if start <= at <= now:
                    yield kind, at
        day += DAY


def _call(rng: random.Random, place: _Office, day: date) -> datetime:
    """When a call of ``day`` comes in: mostly while the office works; the rest at any hour,
    mostly in the day and evening — out of the office's hours that is night service."""
    opens = datetime.combine(day, time(0), place.zone).astimezone(UTC)
    spans = list(
        itertools.takewhile(
            lambda span: span[0] < opens + DAY, working_intervals(place.calendar, opens)
        )
    )
    if spans and rng.random() < 0.8:
        start, end = rng.choices(spans, [(e - s).total_seconds() for s, e in spans])[0]
        return start + (end - start) * rng.random()
    if rng.random() < 0.85:  # 07:00–23:00
        minutes = 7 * 60 + rng.randrange(16 * 60)
    else:
        minutes = (23 * 60 + rng.randrange(8 * 60)) % (24 * 60)
    local = datetime.combine(day, time(minutes // 60, minutes % 60), place.zone)
    return (local + timedelta(seconds=rng.randrange(60))).astimezone(UTC)


def _poisson(rng: random.Random, rate: float) -> int:
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def _pickup(rng: random.Random, place: _Office, dispatched: datetime) -> datetime:
    """The handler opens the task: a few minutes into working time (5 business minutes due)."""
    opens = next_working_instant(place.calendar, dispatched)
    minutes = _lognormal(rng, 1.8 * place.lateness, 0.9)
    return max(opens, dispatched) + timedelta(minutes=minutes) + _jitter(rng)


def _jitter(rng: random.Random) -> timedelta:
    return timedelta(seconds=rng.randrange(1, 60))


def _life(
    session: Session,
    rng: random.Random,
    place: _Office,
    arrival: tuple[str, datetime],
    spawn: Callable[[Steps], None],
) -> Steps:
    kind, received = arrival
    caller = rng.choice(place.callers) if place.callers else None
    agent = place.staff["agent"][1]
    if kind == "inquiry":
        yield received
        ticket = tickets.record_ticket(
            session,
            agent,
            _intake(place, kind, rng.choice(INQUIRIES), caller),
            received_at=received,
        )
        yield from _inquiry(session, rng, place, ticket, received)
    elif kind == "repair":
        in_home = caller is not None and rng.random() < 0.65
        urgency = rng.choices(("normal", "urgent", "appointment"), (0.6, 0.25, 0.15))[0]
        appointment = None
        if urgency == "appointment":
            local = received.astimezone(place.zone).date() + timedelta(days=rng.randint(1, 3))
            hour = rng.choice((10, 15))
            appointment = datetime.combine(local, time(hour), place.zone).astimezone(UTC)
        yield received
        ticket = tickets.record_ticket(
            session,
            agent,
            _intake(
                place,
                kind,
                rng.choice(IN_HOME if in_home else COMMON_AREA),
                caller,
                in_home=in_home,
                urgency=urgency,
                appointment_at=appointment,
            ),
            received_at=received,
        )
        assert isinstance(ticket, RepairTicket)
        yield from _repair(session, rng, place, ticket, received, spawn, rework=False)
    else:
        severity = rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
        yield received
        ticket = tickets.record_ticket(
            session,
            agent,
            _intake(place, kind, rng.choice(COMPLAINTS), caller, severity=severity),
            received_at=received,
        )
        assert isinstance(ticket, ComplaintTicket)
        yield from _complaint(session, rng, place, ticket, received)


def _intake(
    place: _Office,
    kind: str,
    subject: str,
    caller: Caller | None,
    *,
    in_home: bool = True,
    urgency: str | None = None,
    appointment_at: datetime | None = None,
    severity: str | None = None,
) -> Intake:
    return Intake(
        office_code=place.office.code,
        ticket_type=kind,
        subject=subject,
        urgency=urgency,
        appointment_at=appointment_at,
        severity=severity,
        house_ref=caller.house_ref if caller and in_home else None,
        caller_name=caller.name if caller else None,
        caller_phone=caller.phone if caller else None,
    )


def _inquiry(
    session: Session, rng: random.Random, place: _Office, ticket: Ticket, received: datetime
) -> Steps:
    cs = place.staff["cs"][1]
    at = _pickup(rng, place, received)
    yield at
    tickets.pick_up(session, cs, ticket, ticket.version, at=at)
    at += timedelta(minutes=_lognormal(rng, 90 * place.lateness, 1.0)) + _jitter(rng)
    yield at
    tickets.resolve(session, cs, ticket, ticket.version, "已答复业主", at=at)
    at += timedelta(minutes=rng.randint(5, 120))
    yield at
    tickets.close_inquiry(session, cs, ticket, ticket.version, at=at)  # type: ignore[arg-type]


def _repair(
    session: Session,
    rng: random.Random,
    place: _Office,
    ticket: RepairTicket,
    received: datetime,
    spawn: Callable[[Steps], None],
    *,
    rework: bool,
) -> Steps:
    agent = place.staff["agent"][1]
    # Night tasks go to the office's CS staff; by day to a technician.
    key = "cs" if ticket.night_service else rng.choice(("tech1", "tech2"))
    username, handler = place.staff[key]
    at = received + timedelta(minutes=rng.uniform(1, 15))
    yield at
    tickets.dispatch(session, agent, ticket, username, ticket.version, at=at)
    at = _pickup(rng, place, at)
    yield at
    tickets.pick_up(session, handler, ticket, ticket.version, at=at)
    if ticket.urgency == "urgent":
        at += timedelta(minutes=_lognormal(rng, 14 * place.lateness, 0.6))
        yield at
        tickets.arrive(session, handler, ticket, ticket.version, at=at)
    elif ticket.urgency == "appointment" and ticket.appointment_at is not None:
        appointed = ticket.appointment_at
        if rng.random() < 0.85 / place.lateness:
            arrival = appointed - timedelta(minutes=rng.uniform(0, 40))
        else:
            arrival = appointed + timedelta(minutes=rng.uniform(5, 120))
        at = max(at + MINUTE, arrival)
        yield at
        tickets.arrive(session, handler, ticket, ticket.version, at=at)
    hours = _lognormal(rng, 16 * place.lateness, 1.0)
    at = max(at + 10 * MINUTE, received + timedelta(hours=hours)) + _jitter(rng)
    yield at
    tickets.resolve(session, handler, ticket, ticket.version, "已修复", at=at)
    at += timedelta(hours=rng.uniform(2, 48))
    yield at
    satisfied = rng.random() < (0.9 if at - received <= 72 * HOUR else 0.7)
    again = not satisfied and not rework and rng.random() < 0.5
    new = tickets.follow_up(
        session,
        agent,
        ticket,
        ticket.version,
        "satisfied" if satisfied else "unsatisfied",
        "" if satisfied else "业主不满意",
        rework=again,
        at=at,
    )
    if isinstance(new, RepairTicket):  # the rework: its own life from its receipt on
        spawn(_repair(session, rng, place, new, at, spawn, rework=True))


def _complaint(
    session: Session,
    rng: random.Random,
    place: _Office,
    ticket: ComplaintTicket,
    received: datetime,
    *,
    worked: bool = True,
) -> Steps:
    """Dispatch to the office manager, pickup, then (``worked``) up to three rounds of
    resolution and follow-up; not ``worked``: it stays unresolved."""
    agent = place.staff["agent"][1]
    username, manager = place.staff["mgr"]
    target = TARGET_HOURS[ticket.severity or "general"] * HOUR

    def check(at: datetime) -> None:  # every relevant event checks the ladder at once
        if ticket.escalation_level < 2:
            tickets.check_complaint(session, ticket, as_of=at)

    at = received + timedelta(minutes=rng.uniform(1, 20))
    yield at
    tickets.dispatch(session, agent, ticket, username, ticket.version, at=at)
    at = _pickup(rng, place, at)
    yield at
    tickets.pick_up(session, manager, ticket, ticket.version, at=at)
    start, median = received, 0.3
    for round_ in range(3 if worked else 0):
        share = _lognormal(rng, median * place.lateness, 0.7)
        at = max(at + 10 * MINUTE, start + target * share) + _jitter(rng)
        yield at
        check(at)
        tickets.resolve(session, manager, ticket, ticket.version, "已处理并回复业主", at=at)
        at += timedelta(hours=rng.uniform(1, 24))
        yield at
        check(at)
        late = at - start > target
        satisfied = round_ == 2 or rng.random() < (0.75 if late else 0.92) + 0.05 * round_
        tickets.follow_up(
            session,
            agent,
            ticket,
            ticket.version,
            "satisfied" if satisfied else "unsatisfied",
            "" if satisfied else "业主仍不满意",
            at=at,
        )
        if satisfied:
            return
        start, median = at, 0.3  # open again (and escalated): worked once more


@dataclass(frozen=True)
class _Stuck:
    received: datetime
    severity: str


def _stuck_complaints(number: int, now: datetime) -> list[_Stuck]:
    """Complaints still unresolved now, past their deadline: at level 1 (every other office)
    and past the escalated deadline too, at level 2 (every third office)."""
    stuck = []
    if number % 2 == 0:
        stuck.append(_Stuck(now - TARGET_HOURS["minor"] * HOUR * 1.5, "minor"))
    if number % 3 == 0:
        stuck.append(_Stuck(now - TARGET_HOURS["general"] * HOUR * 2.4, "general"))
    return stuck


def _stuck(session: Session, rng: random.Random, place: _Office, stuck: _Stuck) -> Steps:
    caller = rng.choice(place.callers) if place.callers else None
    yield stuck.received
    ticket = tickets.record_ticket(
        session,
        place.staff["agent"][1],
        _intake(place, "complaint", rng.choice(COMPLAINTS), caller, severity=stuck.severity),
        received_at=stuck.received,
    )
    assert isinstance(ticket, ComplaintTicket)
    yield from _complaint(session, rng, place, ticket, stuck.received, worked=False)
