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
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from operational import audit, bulk, entry
from operational.auth import Permission, Principal, system_principal
from operational.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    Problems,
    StaleVersion,
    Term,
)
from operational.models import (
    ChecklistAnswer,
    ChecklistItem,
    Discipline,
    Frequency,
    InspectionPlan,
    MaintObject,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    User,
    plan_object,
    utcnow,
)
from operational.scope import office_code_clause, scoped_read
from operational.services.orders import office_by_code, person_for
from operational.workflow import engine

# --- plans (P3) ------------------------------------------------------------------------------

PLAN_FIELDS = (
    "name",
    "discipline",
    "responsible",
    "frequency",
    "every",
    "start_date",
    "end_date",
    "objects",
    "takes_over_on",
)
"""The fields of the plan form, in the order a :class:`FormRejected` lists their problems."""


@dataclass(frozen=True)
class _Checked:
    objects: list[MaintObject]
    person: User


def _check_fields(
    session: Session,
    office: Office,
    *,
    name: str,
    discipline: Discipline | str,
    responsible: str,
    frequency: Frequency | str,
    every: int,
    start_date: date,
    end_date: date | None,
    object_codes: Sequence[str],
    takes_over: tuple[PeriodicPlan, date, date] | None = None,
) -> _Checked:
    """Every field of the plan form checked; all problems refused at once (:class:`FormRejected`,
    fields in :data:`PLAN_FIELDS` order). ``takes_over``: (the plan a new version replaces, the
    day it takes over, today at the office) for a version."""
    problems = Problems(order=PLAN_FIELDS)
    if not name.strip():
        problems.add("name", "plans.name_required")
    else:
        long = entry.text_refusal(name.strip(), PeriodicPlan.name)
        if long is not None:
            key, params = long
            problems.add(
                "name", key, column=Term("entry.field.plan_name"), value=entry.short(name), **params
            )
    if discipline not in {d.value for d in Discipline}:
        problems.add("discipline", "orders.discipline_required")
    person: User | None = None
    if not responsible.strip():
        problems.add("responsible", "plans.responsible_required")
    else:
        with problems.field("responsible"):
            person = person_for(session, responsible, Permission.MANAGE_ORDERS, office)
    if frequency not in {f.value for f in Frequency}:
        problems.add("frequency", "plans.frequency_required")
    if every < 1:
        problems.add("every", "plans.bad_interval")
    else:
        with problems.field("every"):
            entry.check_integer(every, "every")
    with problems.field("start_date"):
        entry.check_day(start_date, "start_date")
    if end_date is not None:
        with problems.field("end_date"):
            entry.check_day(end_date, "end_date")
        if end_date < start_date:
            problems.add("end_date", "plans.end_before_start")
    objects: list[MaintObject] = []
    if not object_codes:
        problems.add("objects", "plans.objects_required")
    else:
        objects = list(
            session.scalars(
                select(MaintObject)
                .where(MaintObject.office_id == office.id, MaintObject.code.in_(set(object_codes)))
                .order_by(MaintObject.code)
            )
        )
        missing = sorted(set(object_codes) - {o.code for o in objects})
        if missing:
            problems.add(
                "objects", "orders.unknown_object", code=", ".join(missing), office=office.code
            )
    if takes_over is not None:
        replaced, day, today = takes_over
        with problems.field("takes_over_on"):
            entry.check_day(day, "takes_over_on")
        if day <= replaced.start_date:
            problems.add(
                "takes_over_on",
                "plans.takeover_before_start",
                document_no=replaced.document_no,
                start=replaced.start_date.isoformat(),
            )
        elif replaced.end_date is not None and day > replaced.end_date + timedelta(days=1):
            problems.add(
                "takes_over_on",
                "plans.takeover_after_end",
                document_no=replaced.document_no,
                end=replaced.end_date.isoformat(),
            )
        elif day < today:
            problems.add("takes_over_on", "plans.takeover_in_past", today=today.isoformat())
        if end_date is not None and end_date < day:
            problems.add("end_date", "plans.end_before_takeover", day=day.isoformat())
    problems.raise_if_any()
    assert person is not None
    return _Checked(objects, person)


def _require(actor: Principal, permission: Permission, office: Office, transition: str) -> None:
    """Refuse an actor who may not act at all before the form's fields are checked."""
    if not actor.can(permission, office.code):
        raise PermissionDenied("workflow.not_allowed", transition=transition)


def _today(office: Office, at: datetime | None) -> date:
    return (at or utcnow()).astimezone(ZoneInfo(office.timezone)).date()


def _fields(plan: PeriodicPlan, responsible: str, objects: Sequence[str]) -> dict[str, object]:
    """What the audit log and the events record of a plan's fields."""
    return {
        "name": plan.name,
        "discipline": plan.discipline,
        "responsible": responsible,
        "frequency": plan.frequency,
        "every": plan.every,
        "start_date": plan.start_date,
        "end_date": plan.end_date,
        "objects": sorted(objects),
        **({"takes_over_on": plan.takes_over_on} if plan.takes_over_on else {}),
    }


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
    """Draft a plan (by a discipline supervisor) for one or many of the office's objects.

    Every field is checked before anything is written; all problems are refused together
    (:class:`FormRejected`)."""
    office = office_by_code(session, office_code)
    _require(actor, Permission.DRAFT_PLANS, office, "draft")
    checked = _check_fields(
        session,
        office,
        name=name,
        discipline=discipline,
        responsible=responsible,
        frequency=frequency,
        every=every,
        start_date=start_date,
        end_date=end_date,
        object_codes=object_codes,
    )
    plan = PeriodicPlan(
        office_id=office.id,
        name=name.strip(),
        discipline=Discipline(discipline).value,
        responsible_id=checked.person.id,
        drafted_by_id=None if actor.is_system else actor.user_id,
        frequency=Frequency(frequency).value,
        every=every,
        start_date=start_date,
        end_date=end_date,
    )
    codes = [o.code for o in checked.objects]
    engine.create(
        session, actor, plan, "draft", _fields(plan, checked.person.username, codes), at=at
    )
    _set_objects(session, plan, checked.objects)
    return plan


def _set_objects(session: Session, plan: PeriodicPlan, objects: Sequence[MaintObject]) -> None:
    session.execute(delete(plan_object).where(plan_object.c.plan_id == plan.id))
    session.execute(insert(plan_object), [{"plan_id": plan.id, "object_id": o.id} for o in objects])


def revise_plan(
    session: Session,
    actor: Principal,
    plan: PeriodicPlan,
    expected_version: int,
    *,
    name: str,
    discipline: Discipline,
    responsible: str,
    frequency: Frequency,
    every: int = 1,
    start_date: date,
    end_date: date | None = None,
    object_codes: Sequence[str],
    takes_over_on: date | None = None,
    at: datetime | None = None,
) -> None:
    """The drafter edits a draft or a returned plan (a returned one becomes a draft again, to be
    submitted): every field of :func:`draft_plan`, and for a version the day it takes over.
    All problems are refused together; the change is recorded as a ``revise`` event with the
    fields before and after, and in the audit log."""
    office = session.get_one(Office, plan.office_id)
    _precheck(session, actor, plan, "revise", expected_version)
    replaced = session.get_one(PeriodicPlan, plan.supersedes_id) if plan.supersedes_id else None
    if replaced is not None and takes_over_on is None:
        takes_over_on = plan.takes_over_on
    checked = _check_fields(
        session,
        office,
        name=name,
        discipline=discipline,
        responsible=responsible,
        frequency=frequency,
        every=every,
        start_date=start_date,
        end_date=end_date,
        object_codes=object_codes,
        takes_over=(
            None
            if replaced is None or takes_over_on is None
            else (replaced, takes_over_on, _today(office, at))
        ),
    )
    before = _fields(plan, _username(session, plan.responsible_id), _codes(session, plan))
    after: dict[str, object] = {
        "name": name.strip(),
        "discipline": Discipline(discipline).value,
        "responsible": checked.person.username,
        "frequency": Frequency(frequency).value,
        "every": every,
        "start_date": start_date,
        "end_date": end_date,
        "objects": sorted(o.code for o in checked.objects),
        **({"takes_over_on": takes_over_on} if replaced is not None else {}),
    }
    changed = [k for k, v in after.items() if before.get(k) != v]

    def apply() -> None:
        plan.name = name.strip()
        plan.discipline = Discipline(discipline).value
        plan.responsible_id = checked.person.id
        plan.frequency = Frequency(frequency).value
        plan.every = every
        plan.start_date = start_date
        plan.end_date = end_date
        if replaced is not None:
            plan.takes_over_on = takes_over_on
        _set_objects(session, plan, checked.objects)

    engine.transition(
        session,
        actor,
        plan,
        "revise",
        {"changed": changed, **{k: after[k] for k in changed}},
        expected_version,
        apply=apply,
        at=at,
    )
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="maint_periodic_plan",
        entity_key=plan.document_no,
        before=before,
        after=after,
    )


def _precheck(
    session: Session, actor: Principal, plan: PeriodicPlan, name: str, expected_version: int
) -> None:
    """The engine's own refusals (stale form, wrong state, not allowed) before a form's fields
    are checked, so a user who may not act is not told about the fields."""
    t = engine.type_of(plan).get(name)
    office = session.get_one(Office, plan.office_id)
    if plan.version != expected_version:
        raise StaleVersion("workflow.stale", document_no=plan.document_no, state=plan.state)
    if plan.state not in t.sources:
        raise DomainError(
            "workflow.wrong_state", document_no=plan.document_no, transition=name, state=plan.state
        )
    if not engine.may_take(actor, plan, t, office.code):
        raise PermissionDenied("workflow.not_allowed", transition=name)


def _username(session: Session, user_id: int) -> str:
    return session.get_one(User, user_id).username


def _codes(session: Session, plan: PeriodicPlan) -> list[str]:
    return [o.code for o in plan_objects(session, plan)]


def next_version(session: Session, plan: PeriodicPlan) -> PeriodicPlan | None:
    """The plan that replaces ``plan`` (drafted, submitted, returned or approved), if any."""
    return session.scalars(
        select(PeriodicPlan).where(PeriodicPlan.supersedes_id == plan.id)
    ).one_or_none()


def change_plan(
    session: Session,
    actor: Principal,
    plan: PeriodicPlan,
    *,
    takes_over_on: date,
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
    """Draft the next version of an approved plan: a new plan (``revision`` + 1,
    ``supersedes_id``) that, once approved, takes over on ``takes_over_on``; ``plan`` then ends
    the day before (:func:`approve_plan`). A plan has at most one next version; the newest
    version is the one to change. ``start_date`` anchors the new schedule (keep the old one's
    to keep its dates). Every field is checked first, all problems refused together."""
    office = session.get_one(Office, plan.office_id)
    _require(actor, Permission.DRAFT_PLANS, office, "change")
    if plan.state != "approved":
        raise DomainError("plans.change_needs_approval", document_no=plan.document_no)
    following = next_version(session, plan)
    if following is not None:
        raise DomainError(
            "plans.has_next_version",
            document_no=plan.document_no,
            next_no=following.document_no,
        )
    checked = _check_fields(
        session,
        office,
        name=name,
        discipline=discipline,
        responsible=responsible,
        frequency=frequency,
        every=every,
        start_date=start_date,
        end_date=end_date,
        object_codes=object_codes,
        takes_over=(plan, takes_over_on, _today(office, at)),
    )
    version = PeriodicPlan(
        office_id=office.id,
        name=name.strip(),
        discipline=Discipline(discipline).value,
        responsible_id=checked.person.id,
        drafted_by_id=None if actor.is_system else actor.user_id,
        frequency=Frequency(frequency).value,
        every=every,
        start_date=start_date,
        end_date=end_date,
        revision=plan.revision + 1,
        supersedes_id=plan.id,
        takes_over_on=takes_over_on,
    )
    codes = [o.code for o in checked.objects]
    fields = _fields(version, checked.person.username, codes)
    engine.create(
        session, actor, version, "change", {"supersedes": plan.document_no, **fields}, at=at
    )
    _set_objects(session, version, checked.objects)
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="maint_periodic_plan",
        entity_key=version.document_no,
        after={"supersedes": plan.document_no, "revision": version.revision, **fields},
    )
    return version


def end_plan(
    session: Session,
    actor: Principal,
    plan: PeriodicPlan,
    expected_version: int,
    end_date: date,
    *,
    at: datetime | None = None,
) -> None:
    """End an approved plan on ``end_date``: no order is issued for a later date; orders
    already issued stay. A plan only ends earlier than it would (never later: that is a
    change) and not before its start."""
    _precheck(session, actor, plan, "end", expected_version)
    problems = Problems()
    with problems.field("end_date"):
        entry.check_day(end_date, "end_date")
    if end_date < plan.start_date:
        problems.add("end_date", "plans.end_before_start")
    elif plan.end_date is not None and end_date > plan.end_date:
        problems.add("end_date", "plans.end_after_current", end=plan.end_date.isoformat())
    problems.raise_if_any()
    before = plan.end_date

    def apply() -> None:
        plan.end_date = end_date

    engine.transition(
        session,
        actor,
        plan,
        "end",
        {"end_date": end_date, "was": before},
        expected_version,
        apply=apply,
        at=at,
    )
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="maint_periodic_plan",
        entity_key=plan.document_no,
        before={"end_date": before},
        after={"end_date": end_date},
    )


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


@dataclass(frozen=True)
class PlanDetail:
    """One plan as its page shows it: its fields, versions, last return and what the user may
    do (``actions``: engine steps; ``may_change``: draft its next version)."""

    document_no: str
    office_code: str
    name: str
    discipline: str
    responsible: str
    frequency: str
    every: int
    start_date: date
    end_date: date | None
    objects: tuple[str, ...]
    state: str
    version: int
    revision: int
    supersedes: str | None
    takes_over_on: date | None
    next_version: str | None
    next_state: str | None
    returned_reason: str | None
    actions: tuple[str, ...]
    may_change: bool


@scoped_read(Permission.DRAFT_PLANS)
def plan_detail(session: Session, principal: Principal, document_no: str) -> PlanDetail:
    """The plan with this number (NotFound outside the offices where ``principal`` drafts
    plans) with its versions, the reason it was last returned (while that return is not yet
    answered by a new submit) and the steps ``principal`` may take."""
    plan = get_plan(session, principal, document_no)
    office = session.get_one(Office, plan.office_id)
    replaced = session.get_one(PeriodicPlan, plan.supersedes_id) if plan.supersedes_id else None
    following = next_version(session, plan)
    reason: str | None = None
    for event in reversed(engine.history(session, plan)):
        if event.transition == "submit":
            break
        if event.transition == "return":
            reason = str(event.payload.get("reason", ""))
            break
    actions = tuple(t.name for t in engine.available(session, principal, plan))
    return PlanDetail(
        document_no=plan.document_no,
        office_code=office.code,
        name=plan.name,
        discipline=plan.discipline,
        responsible=_username(session, plan.responsible_id),
        frequency=plan.frequency,
        every=plan.every,
        start_date=plan.start_date,
        end_date=plan.end_date,
        objects=tuple(_codes(session, plan)),
        state=plan.state,
        version=plan.version,
        revision=plan.revision,
        supersedes=replaced.document_no if replaced else None,
        takes_over_on=plan.takes_over_on,
        next_version=following.document_no if following else None,
        next_state=following.state if following else None,
        returned_reason=reason,
        actions=tuple(a for a in actions if a != "supersede"),
        may_change=(
            plan.state == "approved"
            and following is None
            and principal.can(Permission.DRAFT_PLANS, office.code)
        ),
    )


@dataclass(frozen=True)
class PlanVersion:
    """Where a plan stands among its versions (for the list of plans)."""

    revision: int
    supersedes: str | None
    takes_over_on: date | None
    next_version: str | None


@scoped_read(Permission.DRAFT_PLANS)
def plan_versions(
    session: Session, principal: Principal, office_code: str
) -> dict[str, PlanVersion]:
    """By plan number, the version of each plan of ``office_code`` (an office where
    ``principal`` drafts plans; another office gives nothing): its revision, the plan it
    replaces and the one replacing it."""
    previous = aliased(PeriodicPlan)
    following = aliased(PeriodicPlan)
    rows = session.execute(
        select(
            PeriodicPlan.document_no,
            PeriodicPlan.revision,
            previous.document_no,
            PeriodicPlan.takes_over_on,
            following.document_no,
        )
        .join(Office, Office.id == PeriodicPlan.office_id)
        .outerjoin(previous, previous.id == PeriodicPlan.supersedes_id)
        .outerjoin(following, following.supersedes_id == PeriodicPlan.id)
        .where(
            Office.code == office_code,
            office_code_clause(principal, Permission.DRAFT_PLANS, Office.code),
        )
    )
    return {
        no: PlanVersion(revision, before, takes_over, after)
        for no, revision, before, takes_over, after in rows
    }


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
    """The office manager approves; orders are generated from the approval day on. A new
    version also ends the plan it replaces the day before it takes over (a ``supersede`` event
    on that plan; an earlier end it already has stays)."""
    moment = at or utcnow()
    replaced = session.get_one(PeriodicPlan, plan.supersedes_id) if plan.supersedes_id else None

    def apply() -> None:
        plan.approved_at = moment

    engine.transition(session, actor, plan, "approve", {}, expected_version, apply=apply, at=moment)
    if replaced is None:
        return
    assert plan.takes_over_on is not None
    last_day = plan.takes_over_on - timedelta(days=1)
    before = replaced.end_date
    ends = last_day if before is None or before > last_day else before

    def end_replaced() -> None:
        replaced.end_date = ends

    engine.transition(
        session,
        actor,
        replaced,
        "supersede",
        {"by": plan.document_no, "end_date": ends, "was": before},
        replaced.version,
        apply=end_replaced,
        at=moment,
    )
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="maint_periodic_plan",
        entity_key=replaced.document_no,
        before={"end_date": before},
        after={"end_date": ends, "superseded_by": plan.document_no},
    )


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


IssuingPlan = TypeVar("IssuingPlan", PeriodicPlan, InspectionPlan)


def plans_to_issue(
    session: Session, model: type[IssuingPlan], plan: IssuingPlan | None
) -> list[IssuingPlan]:
    """The plans whose orders a generator issues: ``plan`` alone, or every approved plan of
    ``model`` by id; a plan that is not approved is refused (``plans.not_approved``). The
    periodic-order and the inspection-order generators both start here."""
    plans = (
        [plan]
        if plan is not None
        else list(
            session.scalars(select(model).where(model.state == "approved").order_by(model.id))
        )
    )
    for p in plans:
        if p.state != "approved" or p.approved_at is None:
            raise DomainError("plans.not_approved", document_no=p.document_no)
    return plans


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
    plans = plans_to_issue(session, PeriodicPlan, plan)
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
        first = _first_day(session, p, zone)
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


def _first_day(session: Session, plan: PeriodicPlan, zone: ZoneInfo) -> date:
    """The first day an approved plan may issue an order for: the later of its start, the day
    it was approved (office time) and, for a version, the day it takes over and the end of the
    last period its earlier versions issued (or will issue) an order for."""
    assert plan.approved_at is not None
    first = max(plan.start_date, plan.approved_at.astimezone(zone).date())
    if plan.takes_over_on is not None:
        first = max(first, plan.takes_over_on)
    if plan.supersedes_id is not None:
        covered = _covered_until(session, session.get_one(PeriodicPlan, plan.supersedes_id), zone)
        if covered is not None:
            first = max(first, covered)
    return first


def _covered_until(session: Session, plan: PeriodicPlan, zone: ZoneInfo) -> date | None:
    """The day after the last period that ``plan`` or a version before it has an order for, or
    will still issue one for (its dates up to its end); None if they cover none.

    A period is an occurrence up to the day before the next one: the periodic order of the
    occurrence covers its objects until then. A version that takes over in the middle of a
    period therefore issues its first order only once that period is over, and never a second
    order for it. This is what keeps orders unique across versions, where the database's key
    (plan, date) cannot."""
    latest = session.scalar(
        select(func.max(PeriodicOrder.scheduled_for)).where(PeriodicOrder.plan_id == plan.id)
    )
    frequency = Frequency(plan.frequency)
    if plan.state == "approved" and plan.approved_at is not None and plan.end_date is not None:
        first = _first_day(session, plan, zone)
        for day in occurrences(plan.start_date, frequency, plan.every, first, plan.end_date):
            latest = day if latest is None or day > latest else latest
    own: date | None = None
    if latest is not None:
        own = next(occurrences(plan.start_date, frequency, plan.every, latest + _DAY, date.max))
    earlier = (
        _covered_until(session, session.get_one(PeriodicPlan, plan.supersedes_id), zone)
        if plan.supersedes_id is not None
        else None
    )
    found = [d for d in (own, earlier) if d is not None]
    return max(found) if found else None


_DAY = timedelta(days=1)


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
