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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from operational import bulk
from operational.auth import Permission, Principal, system_principal
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
from operational.scope import office_code_clause, scoped_read
from operational.services.orders import office_by_code, person_for
from operational.workflow import engine

# --- plans (P3) ------------------------------------------------------------------------------


def draft_plan(
    session: Session,
    actor: Principal,
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
        drafted_by_id=None if actor.is_system else actor.user_id,
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


@scoped_read(Permission.DRAFT_PLANS)
def get_plan(session: Session, principal: Principal, document_no: str) -> PeriodicPlan:
    """The plan with this number at an office where ``principal`` drafts plans; another
    office's plan is NotFound, as a missing one is."""
    plan = session.scalars(
        select(PeriodicPlan)
        .join(Office, Office.id == PeriodicPlan.office_id)
        .where(
            PeriodicPlan.document_no == document_no,
            office_code_clause(principal, Permission.DRAFT_PLANS, Office.code),
        )
    ).one_or_none()
    if plan is None:
        raise NotFound("plans.unknown_plan", document_no=document_no)
    return plan


def submit_plan(
    session: Session,
    actor: Principal,
    plan: PeriodicPlan,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    engine.transition(session, actor, plan, "submit", {}, expected_version, at=at)


def approve_plan(
    session: Session,
    actor: Principal,
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
    actor: Principal,
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


@scoped_read(Permission.DRAFT_PLANS)
def objects_without_plan(
    session: Session, principal: Principal, office_code: str, on: date | None = None
) -> list[MaintObject]:
    """The office's objects that no plan covers (待建计划): no plan in any state that has not
    ended by ``on`` (default: today in the office's zone). The office must be one where
    ``principal`` drafts plans (else NotFound)."""
    office = session.scalars(
        select(Office).where(
            Office.code == office_code,
            office_code_clause(principal, Permission.DRAFT_PLANS, Office.code),
        )
    ).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=office_code)
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


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def occurrences(
    start_date: date, frequency: Frequency, every: int, first: date, last: date
) -> Iterator[date]:
    """The scheduled dates in ``[first, last]`` of a schedule anchored at ``start_date``."""
    # Start at the first occurrence that may fall on or after ``first`` (no walk from the start).
    if frequency in (Frequency.DAILY, Frequency.WEEKLY):
        step = timedelta(days=every * (1 if frequency is Frequency.DAILY else 7))
        k = max(0, -(-(first - start_date).days // step.days))
    else:
        step_months = every * _MONTHS[frequency]
        k = max(0, _months_between(start_date, first) // step_months)
    while True:
        if frequency in (Frequency.DAILY, Frequency.WEEKLY):
            day = start_date + k * step
        else:
            day = _add_months(start_date, k * step_months)
        if day > last:
            return
        if day >= first:
            yield day
        k += 1


def count_occurrences(
    start_date: date, frequency: Frequency, every: int, first: date, last: date
) -> int:
    """How many scheduled dates lie in ``[first, last]`` (0 if ``last < first``)."""
    if last < first:
        return 0
    if frequency in (Frequency.DAILY, Frequency.WEEKLY):
        step = every * (1 if frequency is Frequency.DAILY else 7)
        lo = max(0, -(-(first - start_date).days // step))
        hi = (last - start_date).days // step
        return max(0, hi - lo + 1)
    return sum(1 for _ in occurrences(start_date, frequency, every, first, last))


@dataclass(frozen=True)
class _Window:
    """What one plan issues in this run: its office's zone and the dates still missing."""

    plan: PeriodicPlan
    zone: ZoneInfo
    days: list[date]


def generate_orders(
    session: Session, plan: PeriodicPlan | None, horizon_end: date, *, at: datetime | None = None
) -> list[PeriodicOrder]:
    """Issue the periodic orders of one approved plan (or of all) scheduled up to ``horizon_end``.

    An order is issued for every occurrence from the later of the plan's start and the day it was
    approved, to the earlier of its end date and ``horizon_end``, unless the plan already has one
    for that date. Set-based: the missing dates of every plan are found with one aggregate
    query, then the orders, their ``issue`` events, completion clocks and checklists are written
    in bulk (:func:`operational.workflow.engine.create_many` — exactly what ``engine.create``
    writes for each). The unique key (plan, scheduled date) backs the check: an order that a
    concurrent run wrote first is skipped (``ON CONFLICT DO NOTHING``) with nothing written for
    it. Running twice, or again after a crash half-way, therefore never duplicates. Returns the
    orders issued now, plan by plan (by id), date by date.

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
    for p in plans:
        if p.state != "approved" or p.approved_at is None:
            raise DomainError("plans.not_approved", document_no=p.document_no)
    if not plans:
        return []
    windows = _missing_days(session, plans, horizon_end)
    objects = _objects_of(session, [w.plan.id for w in windows if w.days])
    items = _items_by_type({o.type_id for group in objects.values() for o in group}, session)
    documents: list[engine.NewDocument] = []
    keys: list[tuple[PeriodicPlan, date]] = []
    for w in windows:
        p = w.plan
        for day in w.days:
            documents.append(
                engine.NewDocument(
                    {
                        "office_id": p.office_id,
                        "plan_id": p.id,
                        "scheduled_for": day,
                        "work_starts_at": datetime.combine(day, time(0), tzinfo=w.zone).astimezone(
                            UTC
                        ),
                        "discipline": p.discipline,
                        "responsible_id": p.responsible_id,
                        "handler_id": None,
                    },
                    {"plan": p.document_no, "scheduled_for": day},
                )
            )
            keys.append((p, day))
    ids = engine.create_many(
        session,
        system_principal(engine.SYSTEM_ACTOR),
        PeriodicOrder,
        "issue",
        documents,
        at=at,
        unique_key=("plan_id", "scheduled_for"),
    )
    answers: list[dict[str, object]] = []
    issued_ids: list[int] = []
    for (p, _day), order_id in zip(keys, ids, strict=True):
        if order_id is None:
            continue  # a concurrent run issued it first
        issued_ids.append(order_id)
        for obj in objects.get(p.id, []):
            for item in items.get(obj.type_id, []):
                answers.append(
                    {
                        "order_id": order_id,
                        "object_id": obj.id,
                        "item_id": item.id,
                        "position": item.position,
                        "text": item.text,
                    }
                )
    table = ChecklistAnswer.__table__
    assert isinstance(table, Table)
    bulk.insert_rows(session, table, answers)
    loaded: dict[int, PeriodicOrder] = {}
    for start in range(0, len(issued_ids), 1_000):
        chunk = issued_ids[start : start + 1_000]
        loaded.update(
            (o.id, o)
            for o in session.scalars(select(PeriodicOrder).where(PeriodicOrder.id.in_(chunk)))
        )
    return [loaded[i] for i in issued_ids]


def _missing_days(session: Session, plans: list[PeriodicPlan], horizon_end: date) -> list[_Window]:
    """Per plan, the occurrences from the later of its start and approval day up to the earlier
    of its end and ``horizon_end`` that have no order yet.

    Reads no plan's whole history: one aggregate over the unique index (count and latest date
    of each plan's orders up to the horizon). Generation fills each plan's dates from the first
    on, so when a plan's orders are exactly its occurrences up to its latest one, only the dates
    after that are missing; otherwise (orders written some other way) that plan's dates in its
    window are read and compared.
    """
    zones = {
        o.id: ZoneInfo(o.timezone)
        for o in session.scalars(select(Office).where(Office.id.in_({p.office_id for p in plans})))
    }
    seen: dict[int, tuple[int, date]] = {}
    ids = [p.id for p in plans]
    for start in range(0, len(ids), 1_000):
        for plan_id, count, latest in session.execute(
            select(PeriodicOrder.plan_id, func.count(), func.max(PeriodicOrder.scheduled_for))
            .where(
                PeriodicOrder.plan_id.in_(ids[start : start + 1_000]),
                PeriodicOrder.scheduled_for <= horizon_end,
            )
            .group_by(PeriodicOrder.plan_id)
        ):
            seen[plan_id] = (int(count), latest)
    windows: list[_Window] = []
    for p in plans:
        assert p.approved_at is not None
        zone = zones[p.office_id]
        frequency = Frequency(p.frequency)
        first = max(p.start_date, p.approved_at.astimezone(zone).date())
        last = min(p.end_date or horizon_end, horizon_end)
        count, latest = seen.get(p.id, (0, first - timedelta(days=1)))
        if count == count_occurrences(p.start_date, frequency, p.every, first, latest):
            have: set[date] = set()
            first_missing = max(first, latest + timedelta(days=1))
        else:
            have = set(
                session.scalars(
                    select(PeriodicOrder.scheduled_for).where(
                        PeriodicOrder.plan_id == p.id,
                        PeriodicOrder.scheduled_for >= first,
                        PeriodicOrder.scheduled_for <= last,
                    )
                )
            )
            first_missing = first
        days = [
            day
            for day in occurrences(p.start_date, frequency, p.every, first_missing, last)
            if day not in have
        ]
        windows.append(_Window(p, zone, days))
    return windows


def _objects_of(session: Session, plan_ids: list[int]) -> dict[int, list[MaintObject]]:
    """Each plan's objects, by code (one query)."""
    out: dict[int, list[MaintObject]] = {}
    for start in range(0, len(plan_ids), 1_000):
        for plan_id, obj in session.execute(
            select(plan_object.c.plan_id, MaintObject)
            .join(plan_object, plan_object.c.object_id == MaintObject.id)
            .where(plan_object.c.plan_id.in_(plan_ids[start : start + 1_000]))
            .order_by(plan_object.c.plan_id, MaintObject.code)
        ):
            out.setdefault(plan_id, []).append(obj)
    return out


def _items_by_type(type_ids: set[int], session: Session) -> dict[int, list[ChecklistItem]]:
    """The work-standard items of these object types, by position (one query)."""
    out: dict[int, list[ChecklistItem]] = {}
    if type_ids:
        for item in session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.type_id.in_(type_ids))
            .order_by(ChecklistItem.position)
        ):
            out.setdefault(item.type_id, []).append(item)
    return out
