"""Periodic plans (P3) and the generation of periodic orders from them (P4).

Occurrences count from the plan's start date, never from when the last order was completed:
occurrence *k* is ``start_date + k × every × period`` (months clamp to the month's last day and
are always counted from the start date, so 31 Jan → 28 Feb → 31 Mar). A late or early completion
therefore never shifts the schedule, and generation is a pure function of the plan and the
horizon — which is what makes it idempotent. See ``docs/workflow.md``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operational.auth import Permission, Principal
from operational.errors import DomainError, NotFound
from operational.models import (
    ChecklistAnswer,
    ChecklistItem,
    Discipline,
    Frequency,
    MaintObject,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    plan_object,
    utcnow,
)
from operational.services.orders import office_by_code, person_for
from operational.workflow import engine

# --- plans (P3) ------------------------------------------------------------------------------


def draft_plan(
    session: Session,
    actor: Principal | None,
    *,
    office_code: str,
    name: str,
    discipline: Discipline,
    responsible: str,
    frequency: Frequency,
    every: int = 1,
    start_date: date,
    end_date: date | None = None,
    object_codes: Sequence[str],
    at: datetime | None = None,
) -> PeriodicPlan:
    """Draft a plan (by a discipline supervisor) for one or many of the office's objects."""
    office = office_by_code(session, office_code)
    if not name.strip():
        raise DomainError("plans.name_required")
    if every < 1:
        raise DomainError("plans.bad_interval")
    if end_date is not None and end_date < start_date:
        raise DomainError("plans.end_before_start")
    if not object_codes:
        raise DomainError("plans.objects_required")
    objects = list(
        session.scalars(
            select(MaintObject).where(
                MaintObject.office_id == office.id, MaintObject.code.in_(set(object_codes))
            )
        )
    )
    missing = sorted(set(object_codes) - {o.code for o in objects})
    if missing:
        raise NotFound("orders.unknown_object", code=", ".join(missing), office=office.code)
    person = person_for(session, responsible, Permission.MANAGE_ORDERS, office)
    plan = PeriodicPlan(
        office_id=office.id,
        name=name.strip(),
        discipline=Discipline(discipline).value,
        responsible_id=person.id,
        drafted_by_id=actor.user_id if actor else None,
        frequency=Frequency(frequency).value,
        every=every,
        start_date=start_date,
        end_date=end_date,
    )
    payload = {
        "name": plan.name,
        "responsible": person.username,
        "frequency": plan.frequency,
        "every": every,
        "start_date": start_date,
        "end_date": end_date,
        "objects": sorted(object_codes),
    }
    engine.create(session, actor, plan, "draft", payload, at=at)
    session.execute(insert(plan_object), [{"plan_id": plan.id, "object_id": o.id} for o in objects])
    return plan


def plan_objects(session: Session, plan: PeriodicPlan) -> list[MaintObject]:
    return list(
        session.scalars(
            select(MaintObject)
            .join(plan_object, plan_object.c.object_id == MaintObject.id)
            .where(plan_object.c.plan_id == plan.id)
            .order_by(MaintObject.code)
        )
    )


def get_plan(session: Session, document_no: str) -> PeriodicPlan:
    plan = session.scalars(
        select(PeriodicPlan).where(PeriodicPlan.document_no == document_no)
    ).one_or_none()
    if plan is None:
        raise NotFound("plans.unknown_plan", document_no=document_no)
    return plan


def submit_plan(
    session: Session,
    actor: Principal | None,
    plan: PeriodicPlan,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    engine.transition(session, actor, plan, "submit", {}, expected_version, at=at)


def approve_plan(
    session: Session,
    actor: Principal | None,
    plan: PeriodicPlan,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """The office manager approves; orders are generated from the approval day on."""
    moment = at or utcnow()

    def apply() -> None:
        plan.approved_at = moment

    engine.transition(session, actor, plan, "approve", {}, expected_version, apply=apply, at=moment)


def return_plan(
    session: Session,
    actor: Principal | None,
    plan: PeriodicPlan,
    expected_version: int,
    reason: str,
    *,
    at: datetime | None = None,
) -> None:
    if not reason.strip():
        raise DomainError("plans.return_needs_reason")
    engine.transition(
        session, actor, plan, "return", {"reason": reason.strip()}, expected_version, at=at
    )


def objects_without_plan(
    session: Session, office_code: str, on: date | None = None
) -> list[MaintObject]:
    """The office's objects that no plan covers (待建计划): no plan in any state that has not
    ended by ``on`` (default: today in the office's zone)."""
    office = office_by_code(session, office_code)
    on = on or utcnow().astimezone(ZoneInfo(office.timezone)).date()
    covered = (
        select(plan_object.c.object_id)
        .join(PeriodicPlan, PeriodicPlan.id == plan_object.c.plan_id)
        .where(
            plan_object.c.object_id == MaintObject.id,
            or_(PeriodicPlan.end_date.is_(None), PeriodicPlan.end_date >= on),
        )
    )
    return list(
        session.scalars(
            select(MaintObject)
            .where(MaintObject.office_id == office.id, ~exists(covered))
            .order_by(MaintObject.code)
        )
    )


# --- order generation (P4) -------------------------------------------------------------------

_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def occurrences(
    start_date: date, frequency: Frequency, every: int, first: date, last: date
) -> Iterator[date]:
    """The scheduled dates in ``[first, last]`` of a schedule anchored at ``start_date``."""
    k = 0
    while True:
        if frequency is Frequency.DAILY:
            day = start_date + timedelta(days=k * every)
        elif frequency is Frequency.WEEKLY:
            day = start_date + timedelta(weeks=k * every)
        else:
            day = _add_months(start_date, k * every * _MONTHS[frequency])
        if day > last:
            return
        if day >= first:
            yield day
        k += 1


def generate_orders(
    session: Session, plan: PeriodicPlan | None, horizon_end: date, *, at: datetime | None = None
) -> list[PeriodicOrder]:
    """Issue the periodic orders of one approved plan (or of all) scheduled up to ``horizon_end``.

    An order is issued for every occurrence from the later of the plan's start and the day it was
    approved, to the earlier of its end date and ``horizon_end``, unless the plan already has one
    for that date. The unique key (plan, scheduled date) backs the check: each order is written in
    a savepoint, and one that a concurrent run wrote first is skipped. Running twice, or again
    after a crash half-way, therefore never duplicates. Returns the orders issued now.

    An order's 72-hour clock starts at its scheduled day's start (office time), or when it is
    issued (``at``, default now) if that is later.
    """
    plans = (
        [plan]
        if plan is not None
        else list(
            session.scalars(
                select(PeriodicPlan)
                .where(PeriodicPlan.state == "approved")
                .order_by(PeriodicPlan.id)
            )
        )
    )
    issued: list[PeriodicOrder] = []
    for p in plans:
        if p.state != "approved" or p.approved_at is None:
            raise DomainError("plans.not_approved", document_no=p.document_no)
        office = session.get_one(Office, p.office_id)
        zone = ZoneInfo(office.timezone)
        first = max(p.start_date, p.approved_at.astimezone(zone).date())
        last = min(p.end_date or horizon_end, horizon_end)
        have = set(
            session.scalars(
                select(PeriodicOrder.scheduled_for).where(PeriodicOrder.plan_id == p.id)
            )
        )
        objects = plan_objects(session, p)
        for day in occurrences(p.start_date, Frequency(p.frequency), p.every, first, last):
            if day in have:
                continue
            try:
                with session.begin_nested():
                    issued.append(_issue(session, p, objects, day, zone, at))
            except IntegrityError:
                continue  # a concurrent run issued it first
    return issued


def _issue(
    session: Session,
    plan: PeriodicPlan,
    objects: list[MaintObject],
    day: date,
    zone: ZoneInfo,
    at: datetime | None,
) -> PeriodicOrder:
    order = PeriodicOrder(
        office_id=plan.office_id,
        plan_id=plan.id,
        scheduled_for=day,
        work_starts_at=datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC),
        discipline=plan.discipline,
        responsible_id=plan.responsible_id,
    )
    engine.create(
        session, None, order, "issue", {"plan": plan.document_no, "scheduled_for": day}, at=at
    )
    items = session.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.type_id.in_({o.type_id for o in objects}))
        .order_by(ChecklistItem.position)
    ).all()
    for obj in objects:
        for item in items:
            if item.type_id == obj.type_id:
                session.add(
                    ChecklistAnswer(
                        order_id=order.id,
                        object_id=obj.id,
                        item_id=item.id,
                        position=item.position,
                        text=item.text,
                    )
                )
    session.flush()
    return order
