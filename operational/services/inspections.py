"""Inspections (P6–P9): plans of both kinds, the orders they issue, scoring an order on site.

Plans run on the workflow engine as periodic plans do (draft → submit → approve or return), one
document type per kind, so the engine checks who drafts and who approves
(``operational/workflow/definitions.py``). Approved plans issue orders on the periodic plans'
schedule rule (:func:`operational.services.plans.occurrences`) through the engine's bulk
creation with the unique key (plan, scheduled date): generation never issues an order twice,
however often it runs. An order is walked on a phone: started, each item scored (a photo where
something is wrong), and submitted — refused while an item below its pass mark has no
nonconformity (:func:`open_item_nonconformity`). See ``docs/inspections.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

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
    INSPECTION_DISCIPLINES,
    Frequency,
    InspectionCheckpoint,
    InspectionItem,
    InspectionKind,
    InspectionOrder,
    InspectionPhoto,
    InspectionPlan,
    InspectionScore,
    MaintObject,
    Nonconformity,
    Office,
    ProfessionalInspectionPlan,
    QualityInspectionPlan,
    User,
    WorkflowDocument,
    utcnow,
)
from operational.scope import office_code_clause, scoped_read
from operational.services.nonconformities import open_nonconformity
from operational.services.orders import office_by_code, person_for
from operational.services.plans import occurrences, plans_to_issue
from operational.workflow import engine

PLAN_FIELDS = (
    "name",
    "discipline",
    "inspector",
    "frequency",
    "every",
    "start_date",
    "end_date",
    "route",
    "items",
)
"""The fields of the plan form, in the order a :class:`FormRejected` lists their problems."""

PLAN_CLASSES: dict[str, type[InspectionPlan]] = {
    InspectionKind.PROFESSIONAL.value: ProfessionalInspectionPlan,
    InspectionKind.QUALITY.value: QualityInspectionPlan,
}
DRAFTERS: dict[str, Permission] = {
    InspectionKind.PROFESSIONAL.value: Permission.DRAFT_INSPECTIONS,
    InspectionKind.QUALITY.value: Permission.DRAFT_QUALITY_INSPECTIONS,
}
"""Who drafts a plan of each kind (the engine's ``draft`` transition of its document type)."""

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
PHOTO_MAX_BYTES = 5 * 1024 * 1024
CODE_MAX = 32


# --- plans (P6, P8) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a route as the form gives it: its label code and an object's code or
    an area's name (exactly one)."""

    code: str
    object_code: str = ""
    area: str = ""


@dataclass(frozen=True)
class Item:
    """One inspection item as the form gives it: the checkpoint (its code) it is checked at."""

    checkpoint: str
    name: str
    max_score: int
    pass_mark: int


@dataclass(frozen=True)
class _Checked:
    inspector: User
    objects: dict[str, MaintObject]


def _check_plan(
    session: Session,
    office: Office,
    *,
    name: str,
    discipline: str,
    inspector: str,
    frequency: str,
    every: int,
    start_date: date,
    end_date: date | None,
    route: Sequence[Checkpoint],
    items: Sequence[Item],
    disciplines: frozenset[str] | None = None,
) -> _Checked:
    """Every field of the plan form checked; all problems refused at once. ``disciplines``: the
    ones the drafter may choose (None: any; :func:`plan_disciplines`)."""
    problems = Problems(order=PLAN_FIELDS)
    if not name.strip():
        problems.add("name", "plans.name_required")
    else:
        long = entry.text_refusal(name.strip(), InspectionPlan.name)
        if long is not None:
            key, params = long
            problems.add(
                "name", key, column=Term("entry.field.plan_name"), value=entry.short(name), **params
            )
    if discipline not in INSPECTION_DISCIPLINES:
        problems.add("discipline", "orders.discipline_required")
    elif disciplines is not None and discipline not in disciplines:
        problems.add(
            "discipline", "inspfix.not_your_discipline", discipline=Term(f"discipline.{discipline}")
        )
    person: User | None = None
    if not inspector.strip():
        problems.add("inspector", "inspections.inspector_required")
    else:
        try:
            person = person_for(session, inspector, Permission.INSPECT, office)
        except NotFound as error:
            problems.add("inspector", error.key, **error.params)
        except DomainError:
            problems.add(
                "inspector", "inspections.not_an_inspector", username=inspector, office=office.code
            )
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
    objects = _check_route(session, office, route, problems)
    _check_items(route, items, problems)
    problems.raise_if_any()
    assert person is not None
    return _Checked(person, objects)


def _check_route(
    session: Session, office: Office, route: Sequence[Checkpoint], problems: Problems
) -> dict[str, MaintObject]:
    if not route:
        problems.add("route", "inspections.route_required")
        return {}
    seen: set[str] = set()
    for n, c in enumerate(route, start=1):
        code = c.code.strip()
        if not code:
            problems.add("route", "inspections.checkpoint_code_required", position=n)
        elif len(code) > CODE_MAX or not all(ch.isalnum() or ch in "-_." for ch in code):
            problems.add(
                "route", "inspections.bad_checkpoint_code", position=n, value=entry.short(code)
            )
        elif code in seen:
            problems.add("route", "inspections.duplicate_checkpoint", code=code)
        seen.add(code)
        has_object, has_area = bool(c.object_code.strip()), bool(c.area.strip())
        if has_object == has_area:
            problems.add("route", "inspections.object_or_area", position=n)
        elif has_area and len(c.area.strip()) > 200:
            problems.add("route", "entry.text.too_long", max=200, length=len(c.area.strip()))
    codes = {c.object_code.strip() for c in route if c.object_code.strip()}
    objects = {
        o.code: o
        for o in session.scalars(
            select(MaintObject).where(
                MaintObject.office_id == office.id, MaintObject.code.in_(sorted(codes))
            )
        )
    }
    missing = sorted(codes - set(objects))
    if missing:
        problems.add("route", "orders.unknown_object", code=", ".join(missing), office=office.code)
    return objects


def _check_items(route: Sequence[Checkpoint], items: Sequence[Item], problems: Problems) -> None:
    if not items:
        problems.add("items", "inspections.items_required")
        return
    codes = {c.code.strip() for c in route}
    for n, item in enumerate(items, start=1):
        if not item.name.strip():
            problems.add("items", "inspections.item_name_required", position=n)
        elif len(item.name.strip()) > 200:
            problems.add("items", "entry.text.too_long", max=200, length=len(item.name.strip()))
        if item.checkpoint.strip() not in codes:
            problems.add(
                "items",
                "inspections.item_checkpoint_unknown",
                position=n,
                code=entry.short(item.checkpoint),
            )
        if not 1 <= item.max_score <= 1000:
            problems.add("items", "inspections.bad_max_score", position=n)
        elif not 0 <= item.pass_mark <= item.max_score:
            problems.add("items", "inspections.bad_pass_mark", position=n, max_score=item.max_score)
    empty = sorted(codes - {i.checkpoint.strip() for i in items} - {""})
    if empty:
        problems.add("items", "inspections.checkpoint_without_items", code=", ".join(empty))


def _require(actor: Principal, permission: Permission, office: Office, transition: str) -> None:
    if not actor.can(permission, office.code):
        raise PermissionDenied("workflow.not_allowed", transition=transition)


def plan_disciplines(actor: Principal, kind: str, office_code: str) -> list[str]:
    """The disciplines ``actor`` may draft a plan of ``kind`` in at the office: a discipline
    supervisor only their own (``auth.SUPERVISED_DISCIPLINES``), the office manager any. The
    plan form offers these; the services refuse any other."""
    allowed = actor.disciplines_for(DRAFTERS[_kind(kind)], office_code)
    return [d for d in INSPECTION_DISCIPLINES if allowed is None or d in allowed]


def _kind(kind: str) -> str:
    if kind not in PLAN_CLASSES:
        raise DomainError("inspections.bad_kind", value=entry.short(kind))
    return kind


def _set_route(
    session: Session,
    plan: InspectionPlan,
    route: Sequence[Checkpoint],
    items: Sequence[Item],
    objects: dict[str, MaintObject],
) -> None:
    """Replace the plan's route and items (a draft's; orders copy what they score)."""
    session.execute(delete(InspectionItem).where(InspectionItem.plan_id == plan.id))
    session.execute(delete(InspectionCheckpoint).where(InspectionCheckpoint.plan_id == plan.id))
    by_code: dict[str, InspectionCheckpoint] = {}
    for n, c in enumerate(route, start=1):
        obj = objects.get(c.object_code.strip()) if c.object_code.strip() else None
        checkpoint = InspectionCheckpoint(
            plan_id=plan.id,
            position=n,
            code=c.code.strip(),
            object_id=obj.id if obj is not None else None,
            area=None if obj is not None else c.area.strip(),
        )
        session.add(checkpoint)
        by_code[checkpoint.code] = checkpoint
    session.flush()
    for n, item in enumerate(items, start=1):
        session.add(
            InspectionItem(
                plan_id=plan.id,
                checkpoint_id=by_code[item.checkpoint.strip()].id,
                position=n,
                name=item.name.strip(),
                max_score=item.max_score,
                pass_mark=item.pass_mark,
            )
        )
    session.flush()


def _route_record(route: Sequence[Checkpoint], items: Sequence[Item]) -> dict[str, object]:
    return {
        "route": [c.code.strip() + ":" + (c.object_code.strip() or c.area.strip()) for c in route],
        "items": [
            f"{i.checkpoint.strip()}:{i.name.strip()}:{i.pass_mark}/{i.max_score}" for i in items
        ],
    }


def draft_inspection_plan(
    session: Session,
    actor: Principal,
    *,
    kind: str,
    office_code: str,
    name: str,
    discipline: str,
    inspector: str,
    frequency: str,
    every: int = 1,
    start_date: date,
    end_date: date | None = None,
    route: Sequence[Checkpoint],
    items: Sequence[Item],
    at: datetime | None = None,
) -> InspectionPlan:
    """Draft a plan of ``kind`` (``professional``: by a discipline supervisor; ``quality``: by
    the office manager): its route, items, inspector and schedule. Every field is checked
    before anything is written; all problems are refused together (:class:`FormRejected`)."""
    kind = _kind(kind)
    office = office_by_code(session, office_code)
    _require(actor, DRAFTERS[kind], office, "draft")
    checked = _check_plan(
        session,
        office,
        name=name,
        discipline=discipline,
        inspector=inspector,
        frequency=frequency,
        every=every,
        start_date=start_date,
        end_date=end_date,
        route=route,
        items=items,
        disciplines=actor.disciplines_for(DRAFTERS[kind], office.code),
    )
    plan = PLAN_CLASSES[kind](
        office_id=office.id,
        name=name.strip(),
        discipline=discipline,
        inspector_id=checked.inspector.id,
        drafted_by_id=None if actor.is_system else actor.user_id,
        frequency=frequency,
        every=every,
        start_date=start_date,
        end_date=end_date,
    )
    engine.create(
        session,
        actor,
        plan,
        "draft",
        {
            "name": plan.name,
            "discipline": discipline,
            "inspector": checked.inspector.username,
            "frequency": frequency,
            "every": every,
            "start_date": start_date,
            "end_date": end_date,
            **_route_record(route, items),
        },
        at=at,
    )
    _set_route(session, plan, route, items, checked.objects)
    return plan


def revise_inspection_plan(
    session: Session,
    actor: Principal,
    plan: InspectionPlan,
    expected_version: int,
    *,
    name: str,
    discipline: str,
    inspector: str,
    frequency: str,
    every: int = 1,
    start_date: date,
    end_date: date | None = None,
    route: Sequence[Checkpoint],
    items: Sequence[Item],
    at: datetime | None = None,
) -> None:
    """The drafter edits a draft or a returned plan (a returned one becomes a draft again)."""
    office = session.get_one(Office, plan.office_id)
    _precheck(session, actor, plan, "revise", expected_version)
    checked = _check_plan(
        session,
        office,
        name=name,
        discipline=discipline,
        inspector=inspector,
        frequency=frequency,
        every=every,
        start_date=start_date,
        end_date=end_date,
        route=route,
        items=items,
        disciplines=actor.disciplines_for(DRAFTERS[plan.kind], office.code),
    )

    def apply() -> None:
        plan.name = name.strip()
        plan.discipline = discipline
        plan.inspector_id = checked.inspector.id
        plan.frequency = frequency
        plan.every = every
        plan.start_date = start_date
        plan.end_date = end_date
        _set_route(session, plan, route, items, checked.objects)

    after = {
        "name": name.strip(),
        "discipline": discipline,
        "inspector": checked.inspector.username,
        "frequency": frequency,
        "every": every,
        "start_date": start_date,
        "end_date": end_date,
        **_route_record(route, items),
    }
    engine.transition(session, actor, plan, "revise", after, expected_version, apply=apply, at=at)
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="insp_plan",
        entity_key=plan.document_no,
        after=after,
        office_id=plan.office_id,
    )


def _precheck(
    session: Session,
    actor: Principal,
    document: WorkflowDocument,
    name: str,
    expected_version: int,
) -> None:
    """The engine's own refusals (stale form, wrong state, not allowed) before a form's fields
    are checked, so a user who may not act is not told about the fields."""
    t = engine.type_of(document).get(name)
    office = session.get_one(Office, document.office_id)
    if document.version != expected_version:
        raise StaleVersion("workflow.stale", document_no=document.document_no, state=document.state)
    if document.state not in t.sources:
        raise DomainError(
            "workflow.wrong_state",
            document_no=document.document_no,
            transition=name,
            state=document.state,
        )
    if not engine.may_take(actor, document, t, office.code):
        raise PermissionDenied("workflow.not_allowed", transition=name)


def submit_inspection_plan(
    session: Session,
    actor: Principal,
    plan: InspectionPlan,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    engine.transition(session, actor, plan, "submit", {}, expected_version, at=at)


def approve_inspection_plan(
    session: Session,
    actor: Principal,
    plan: InspectionPlan,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """The approver of the plan's kind approves; orders are issued from the approval day on."""
    moment = at or utcnow()

    def apply() -> None:
        plan.approved_at = moment

    engine.transition(session, actor, plan, "approve", {}, expected_version, apply=apply, at=moment)


def return_inspection_plan(
    session: Session,
    actor: Principal,
    plan: InspectionPlan,
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


# --- order generation ------------------------------------------------------------------------


def generate_inspection_orders(
    session: Session,
    plan: InspectionPlan | None,
    horizon_end: date,
    *,
    at: datetime | None = None,
) -> list[InspectionOrder]:
    """Issue the inspection orders of one approved plan (or of all) scheduled up to
    ``horizon_end``: one for every occurrence of the plan's schedule (the periodic plans'
    rule) from the later of its start and its approval day (office time) to the earlier of its
    end and the horizon, unless the plan has one for that date. Orders go to the plan's
    inspector; each gets a score row per item. The unique key (plan, scheduled date) backs the
    check (a concurrent run's order is skipped, nothing written for it): running twice never
    issues an order twice. The completion clock starts at the scheduled day's start."""
    plans = plans_to_issue(session, InspectionPlan, plan)
    if not plans:
        return []
    offices = {
        o.id: o
        for o in session.scalars(select(Office).where(Office.id.in_({p.office_id for p in plans})))
    }
    have: dict[int, set[date]] = {}
    ids = [p.id for p in plans]
    for start in range(0, len(ids), 1_000):
        for plan_id, day in session.execute(
            select(InspectionOrder.plan_id, InspectionOrder.scheduled_for).where(
                InspectionOrder.plan_id.in_(ids[start : start + 1_000]),
                InspectionOrder.scheduled_for <= horizon_end,
            )
        ):
            have.setdefault(plan_id, set()).add(day)
    documents: list[engine.NewDocument] = []
    keys: list[InspectionPlan] = []
    for p in plans:
        assert p.approved_at is not None
        zone = ZoneInfo(offices[p.office_id].timezone)
        first = max(p.start_date, p.approved_at.astimezone(zone).date())
        last = min(p.end_date or horizon_end, horizon_end)
        taken = have.get(p.id, set())
        for day in occurrences(p.start_date, Frequency(p.frequency), p.every, first, last):
            if day in taken:
                continue
            documents.append(
                engine.NewDocument(
                    {
                        "office_id": p.office_id,
                        "plan_id": p.id,
                        "kind": p.kind,
                        "discipline": p.discipline,
                        "scheduled_for": day,
                        "work_starts_at": datetime.combine(day, time(0), tzinfo=zone).astimezone(
                            UTC
                        ),
                        "inspector_id": p.inspector_id,
                    },
                    {"plan": p.document_no, "scheduled_for": day},
                )
            )
            keys.append(p)
    order_ids = engine.create_many(
        session,
        system_principal(engine.SYSTEM_ACTOR),
        InspectionOrder,
        "issue",
        documents,
        at=at,
        unique_key=("plan_id", "scheduled_for"),
    )
    items = _items_of(session, sorted({p.id for p in keys}))
    rows: list[dict[str, object]] = []
    issued: list[int] = []
    for p, order_id in zip(keys, order_ids, strict=True):
        if order_id is None:
            continue  # a concurrent run issued it first
        issued.append(order_id)
        for item, checkpoint in items.get(p.id, []):
            rows.append(
                {
                    "order_id": order_id,
                    "item_id": item.id,
                    "checkpoint_position": checkpoint.position,
                    "checkpoint_code": checkpoint.code,
                    "position": item.position,
                    "name": item.name,
                    "max_score": item.max_score,
                    "pass_mark": item.pass_mark,
                    "note": "",
                }
            )
    table = InspectionScore.__table__
    assert isinstance(table, Table)
    bulk.insert_rows(session, table, rows)
    loaded: dict[int, InspectionOrder] = {}
    for start in range(0, len(issued), 1_000):
        chunk = issued[start : start + 1_000]
        loaded.update(
            (o.id, o)
            for o in session.scalars(select(InspectionOrder).where(InspectionOrder.id.in_(chunk)))
        )
    return [loaded[i] for i in issued]


def _items_of(
    session: Session, plan_ids: list[int]
) -> dict[int, list[tuple[InspectionItem, InspectionCheckpoint]]]:
    out: dict[int, list[tuple[InspectionItem, InspectionCheckpoint]]] = {}
    for start in range(0, len(plan_ids), 1_000):
        for item, checkpoint in session.execute(
            select(InspectionItem, InspectionCheckpoint)
            .join(InspectionCheckpoint, InspectionCheckpoint.id == InspectionItem.checkpoint_id)
            .where(InspectionItem.plan_id.in_(plan_ids[start : start + 1_000]))
            .order_by(InspectionItem.plan_id, InspectionItem.position)
        ):
            out.setdefault(item.plan_id, []).append((item, checkpoint))
    return out


# --- walking an order (P7, P9) ---------------------------------------------------------------


def start_inspection(
    session: Session,
    actor: Principal,
    order: InspectionOrder,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """The inspector starts walking the route (issued → in progress)."""
    engine.transition(session, actor, order, "start", {}, expected_version, at=at)


def _walking(session: Session, actor: Principal, order: InspectionOrder) -> None:
    """Refuse a change to an order that is not in progress or not the actor's to walk."""
    office = session.get_one(Office, order.office_id)
    submit = engine.type_of(order).get("submit")
    if not engine.may_take(actor, order, submit, office.code):
        raise PermissionDenied("workflow.not_allowed", transition="submit")
    if order.state != "in_progress":
        raise DomainError("inspections.not_in_progress", document_no=order.document_no)


def _score_row(session: Session, order: InspectionOrder, score_id: int) -> InspectionScore:
    row = session.get(InspectionScore, score_id)
    if row is None or row.order_id != order.id:
        raise NotFound("inspections.unknown_item", document_no=order.document_no)
    return row


def failed(score: InspectionScore) -> bool:
    """An item fails when scored below its pass mark (the one rule; the mart uses the same)."""
    return score.score is not None and score.score < score.pass_mark


def score_item(
    session: Session,
    actor: Principal,
    order: InspectionOrder,
    score_id: int,
    *,
    score: int,
    note: str = "",
    at: datetime | None = None,
) -> InspectionScore:
    """Score one item of an order in progress (0 … its maximum), with a note; scoring again
    replaces the score. A nonconformity already opened for the item stays linked."""
    _walking(session, actor, order)
    row = _score_row(session, order, score_id)
    problems = Problems(order=("score", "note"))
    if not isinstance(score, int) or not 0 <= score <= row.max_score:
        problems.add("score", "inspections.bad_score", item=row.name, max_score=row.max_score)
    long = entry.text_refusal(note.strip(), InspectionScore.note)
    if long is not None:
        key, params = long
        problems.add("note", key, **params)
    problems.raise_if_any()
    moment = at or utcnow()
    if at is not None:
        entry.check_instant(at, utcnow(), "at")
    before = {"score": row.score, "note": row.note}
    row.score = score
    row.note = note.strip()
    row.scored_at = moment
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="insp_score",
        entity_key=f"{order.document_no}/{row.checkpoint_code}/{row.position}",
        before=before,
        after={"score": score, "note": row.note},
        office_id=order.office_id,
    )
    session.flush()
    return row


def attach_photo(
    session: Session,
    actor: Principal,
    order: InspectionOrder,
    score_id: int,
    *,
    data: bytes,
    content_type: str,
) -> InspectionPhoto:
    """Keep a photo of one item (an image of at most 5 MB); a new photo replaces the old."""
    _walking(session, actor, order)
    row = _score_row(session, order, score_id)
    if content_type not in PHOTO_TYPES:
        raise DomainError("inspections.photo_type", value=entry.short(content_type))
    if not data or len(data) > PHOTO_MAX_BYTES:
        raise DomainError("inspections.photo_size", max_mb=PHOTO_MAX_BYTES // (1024 * 1024))
    session.execute(delete(InspectionPhoto).where(InspectionPhoto.score_id == row.id))
    photo = InspectionPhoto(
        score_id=row.id,
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_by=actor.username,
    )
    session.add(photo)
    session.flush()
    return photo


def open_item_nonconformity(
    session: Session,
    actor: Principal,
    order: InspectionOrder,
    score_id: int,
    *,
    kind: str,
    description: str,
    contract_no: str | None = None,
    breach_points: int | None = None,
    at: datetime | None = None,
) -> Nonconformity:
    """Open a nonconformity for a failed item of an order in progress and link it to the item
    (at most one per item): :func:`operational.services.nonconformities.open_nonconformity`,
    of the order's office and discipline, assigned to the inspector (its rules: who may open
    one, the contract and its breach points; every problem at once)."""
    _walking(session, actor, order)
    row = _score_row(session, order, score_id)
    if not failed(row):
        raise DomainError("inspections.item_not_failed", item=row.name)
    if row.nonconformity_id is not None:
        raise DomainError("inspections.item_has_nonconformity", item=row.name)
    office = session.get_one(Office, order.office_id)
    nc = open_nonconformity(
        session,
        actor,
        office_code=office.code,
        kind=kind,
        discipline=order.discipline,
        description=description,
        contract_no=contract_no,
        breach_points=breach_points,
        at=at,
    )
    row.nonconformity_id = nc.id
    session.flush()
    return nc


def submit_inspection(
    session: Session,
    actor: Principal,
    order: InspectionOrder,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> None:
    """Submit a walked order (stops its completion clock). Refused, with every problem listed,
    while an item is unscored or an item below its pass mark has no nonconformity."""
    _precheck(session, actor, order, "submit", expected_version)
    scores = list(
        session.scalars(
            select(InspectionScore)
            .where(InspectionScore.order_id == order.id)
            .order_by(InspectionScore.checkpoint_position, InspectionScore.position)
        )
    )
    problems = Problems(order=("scores", "nonconformities"))
    unscored = [s for s in scores if s.score is None]
    if unscored:
        problems.add("scores", "inspections.unscored", count=len(unscored))
    for s in scores:
        if failed(s) and s.nonconformity_id is None:
            problems.add(
                "nonconformities",
                "inspections.failed_needs_nonconformity",
                item=s.name,
                checkpoint=s.checkpoint_code,
                score=s.score,
                pass_mark=s.pass_mark,
            )
    problems.raise_if_any()
    moment = at or utcnow()

    def apply() -> None:
        order.submitted_at = moment

    engine.transition(
        session,
        actor,
        order,
        "submit",
        {
            "total": sum(s.score or 0 for s in scores),
            "max": sum(s.max_score for s in scores),
            "failed": sum(1 for s in scores if failed(s)),
        },
        expected_version,
        apply=apply,
        at=moment,
    )


# --- reads -----------------------------------------------------------------------------------


@scoped_read(Permission.VIEW_INSPECTIONS)
def get_inspection_plan(session: Session, principal: Principal, document_no: str) -> InspectionPlan:
    """The plan with this number at an office where ``principal`` reads inspections; another
    office's plan is NotFound, as a missing one is."""
    plan = session.scalars(
        select(InspectionPlan)
        .join(Office, Office.id == InspectionPlan.office_id)
        .where(
            InspectionPlan.document_no == document_no.strip(),
            office_code_clause(principal, Permission.VIEW_INSPECTIONS, Office.code),
        )
    ).one_or_none()
    if plan is None:
        raise NotFound("inspections.unknown_plan", document_no=document_no)
    return plan


@dataclass(frozen=True)
class CheckpointView:
    position: int
    code: str
    object_code: str | None
    object_name: str | None
    area: str | None


@dataclass(frozen=True)
class ItemView:
    checkpoint: str
    name: str
    max_score: int
    pass_mark: int


@dataclass(frozen=True)
class PlanView:
    """One plan as its page shows it, with what ``principal`` may do (engine steps)."""

    document_no: str
    kind: str
    office_code: str
    name: str
    discipline: str
    inspector: str
    frequency: str
    every: int
    start_date: date
    end_date: date | None
    state: str
    version: int
    route: tuple[CheckpointView, ...]
    items: tuple[ItemView, ...]
    returned_reason: str | None
    actions: tuple[str, ...]


def _route_of(session: Session, plan_id: int) -> list[CheckpointView]:
    return [
        CheckpointView(c.position, c.code, code, name, c.area)
        for c, code, name in session.execute(
            select(InspectionCheckpoint, MaintObject.code, MaintObject.name)
            .outerjoin(MaintObject, MaintObject.id == InspectionCheckpoint.object_id)
            .where(InspectionCheckpoint.plan_id == plan_id)
            .order_by(InspectionCheckpoint.position)
        )
    ]


@scoped_read(Permission.VIEW_INSPECTIONS)
def inspection_plan_view(session: Session, principal: Principal, document_no: str) -> PlanView:
    plan = get_inspection_plan(session, principal, document_no)
    office = session.get_one(Office, plan.office_id)
    reason: str | None = None
    for event in reversed(engine.history(session, plan)):
        if event.transition == "submit":
            break
        if event.transition == "return":
            reason = str(event.payload.get("reason", ""))
            break
    items = [
        ItemView(code, i.name, i.max_score, i.pass_mark)
        for i, code in session.execute(
            select(InspectionItem, InspectionCheckpoint.code)
            .join(InspectionCheckpoint, InspectionCheckpoint.id == InspectionItem.checkpoint_id)
            .where(InspectionItem.plan_id == plan.id)
            .order_by(InspectionItem.position)
        )
    ]
    return PlanView(
        document_no=plan.document_no,
        kind=plan.kind,
        office_code=office.code,
        name=plan.name,
        discipline=plan.discipline,
        inspector=session.get_one(User, plan.inspector_id).username,
        frequency=plan.frequency,
        every=plan.every,
        start_date=plan.start_date,
        end_date=plan.end_date,
        state=plan.state,
        version=plan.version,
        route=tuple(_route_of(session, plan.id)),
        items=tuple(items),
        returned_reason=reason,
        actions=tuple(t.name for t in engine.available(session, principal, plan)),
    )


@dataclass(frozen=True)
class PlanLine:
    document_no: str
    kind: str
    office_code: str
    name: str
    discipline: str
    state: str
    frequency: str
    every: int


@scoped_read(Permission.VIEW_INSPECTIONS)
def inspection_plans(
    session: Session, principal: Principal, office_code: str | None = None
) -> list[PlanLine]:
    """The inspection plans of the offices in scope (or of one of them), newest first."""
    query = (
        select(InspectionPlan, Office.code)
        .join(Office, Office.id == InspectionPlan.office_id)
        .where(office_code_clause(principal, Permission.VIEW_INSPECTIONS, Office.code))
        .order_by(InspectionPlan.id.desc())
        .limit(500)
    )
    if office_code:
        query = query.where(Office.code == office_code)
    return [
        PlanLine(p.document_no, p.kind, code, p.name, p.discipline, p.state, p.frequency, p.every)
        for p, code in session.execute(query)
    ]


@scoped_read(Permission.VIEW_INSPECTIONS)
def get_inspection_order(
    session: Session, principal: Principal, document_no: str
) -> InspectionOrder:
    order = session.scalars(
        select(InspectionOrder)
        .join(Office, Office.id == InspectionOrder.office_id)
        .where(
            InspectionOrder.document_no == document_no.strip(),
            office_code_clause(principal, Permission.VIEW_INSPECTIONS, Office.code),
        )
    ).one_or_none()
    if order is None:
        raise NotFound("inspections.unknown_order", document_no=document_no)
    return order


@dataclass(frozen=True)
class ScoreView:
    id: int
    checkpoint: str
    position: int
    name: str
    max_score: int
    pass_mark: int
    score: int | None
    note: str
    failed: bool
    nonconformity_no: str | None
    has_photo: bool


@dataclass(frozen=True)
class OrderView:
    """One order as the phone page shows it: its route, the items of each checkpoint, and what
    ``principal`` may do now."""

    document_no: str
    kind: str
    office_code: str
    plan_no: str
    plan_name: str
    discipline: str
    inspector: str
    scheduled_for: date
    state: str
    version: int
    due_at: datetime | None
    route: tuple[CheckpointView, ...]
    scores: tuple[ScoreView, ...]
    actions: tuple[str, ...]


@scoped_read(Permission.VIEW_INSPECTIONS)
def inspection_order_view(session: Session, principal: Principal, document_no: str) -> OrderView:
    order = get_inspection_order(session, principal, document_no)
    plan = session.get_one(InspectionPlan, order.plan_id)
    office = session.get_one(Office, order.office_id)
    photos = set(
        session.scalars(
            select(InspectionPhoto.score_id)
            .join(InspectionScore, InspectionScore.id == InspectionPhoto.score_id)
            .where(InspectionScore.order_id == order.id)
        )
    )
    scores = [
        ScoreView(
            s.id,
            s.checkpoint_code,
            s.position,
            s.name,
            s.max_score,
            s.pass_mark,
            s.score,
            s.note,
            failed(s),
            nc_no,
            s.id in photos,
        )
        for s, nc_no in session.execute(
            select(InspectionScore, Nonconformity.nc_no)
            .outerjoin(Nonconformity, Nonconformity.id == InspectionScore.nonconformity_id)
            .where(InspectionScore.order_id == order.id)
            .order_by(InspectionScore.checkpoint_position, InspectionScore.position)
        )
    ]
    clocks = engine.open_clocks(session, order)
    return OrderView(
        document_no=order.document_no,
        kind=order.kind,
        office_code=office.code,
        plan_no=plan.document_no,
        plan_name=plan.name,
        discipline=order.discipline,
        inspector=session.get_one(User, order.inspector_id).username,
        scheduled_for=order.scheduled_for,
        state=order.state,
        version=order.version,
        due_at=clocks[0].due_at if clocks else None,
        route=tuple(_route_of(session, plan.id)),
        scores=tuple(scores),
        actions=tuple(t.name for t in engine.available(session, principal, order)),
    )


@scoped_read(Permission.VIEW_INSPECTIONS)
def inspection_photos(
    session: Session, principal: Principal, document_no: str
) -> dict[int, tuple[bytes, str]]:
    """The photos of an order in scope: by score id, the bytes and the image type."""
    order = get_inspection_order(session, principal, document_no)
    return {
        score_id: (bytes(data), str(content_type))
        for score_id, data, content_type in session.execute(
            select(InspectionPhoto.score_id, InspectionPhoto.data, InspectionPhoto.content_type)
            .join(InspectionScore, InspectionScore.id == InspectionPhoto.score_id)
            .where(InspectionScore.order_id == order.id)
        )
    }


@scoped_read(Permission.VIEW_INSPECTIONS)
def order_for_plan(
    session: Session, principal: Principal, document_no: str, checkpoint: str = ""
) -> str:
    """The order a checkpoint's label (plan ``document_no``, ``checkpoint``) opens: the plan's
    oldest order not yet submitted that ``principal`` walks (issued or in progress), else its
    latest order. NotFound for a plan outside scope, a checkpoint the plan does not have, or a
    plan with no order yet."""
    plan_no = document_no
    plan = get_inspection_plan(session, principal, plan_no)
    known = session.scalar(
        select(func.count())
        .select_from(InspectionCheckpoint)
        .where(
            InspectionCheckpoint.plan_id == plan.id, InspectionCheckpoint.code == checkpoint.strip()
        )
    )
    if checkpoint.strip() and not known:
        raise NotFound("inspections.unknown_checkpoint", code=checkpoint, document_no=plan_no)
    open_no = session.scalar(
        select(InspectionOrder.document_no)
        .where(
            InspectionOrder.plan_id == plan.id,
            InspectionOrder.state.in_(("issued", "in_progress")),
            InspectionOrder.inspector_id == principal.user_id,
        )
        .order_by(InspectionOrder.scheduled_for)
        .limit(1)
    )
    if open_no is not None:
        return str(open_no)
    latest = session.scalar(
        select(InspectionOrder.document_no)
        .where(InspectionOrder.plan_id == plan.id)
        .order_by(InspectionOrder.scheduled_for.desc())
        .limit(1)
    )
    if latest is None:
        raise NotFound("inspections.no_order_yet", document_no=plan_no)
    return str(latest)


@dataclass(frozen=True)
class OrderLine:
    document_no: str
    kind: str
    office_code: str
    discipline: str
    scheduled_for: date
    state: str


@scoped_read(Permission.VIEW_INSPECTIONS)
def inspection_orders(
    session: Session, principal: Principal, office_code: str | None = None, *, days: int = 60
) -> list[OrderLine]:
    """The inspection orders of the offices in scope scheduled in the last ``days`` days and
    ahead, newest first (at most 500)."""
    since = utcnow().date() - timedelta(days=days)
    query = (
        select(InspectionOrder, Office.code)
        .join(Office, Office.id == InspectionOrder.office_id)
        .where(
            office_code_clause(principal, Permission.VIEW_INSPECTIONS, Office.code),
            InspectionOrder.scheduled_for >= since,
        )
        .order_by(InspectionOrder.scheduled_for.desc(), InspectionOrder.id.desc())
        .limit(500)
    )
    if office_code:
        query = query.where(Office.code == office_code)
    return [
        OrderLine(o.document_no, o.kind, code, o.discipline, o.scheduled_for, o.state)
        for o, code in session.execute(query)
    ]


def checkpoint_url(base_url: str, plan_no: str, checkpoint: str) -> str:
    """What a checkpoint's QR label opens: the inspection page at that checkpoint's step."""
    from urllib.parse import urlencode

    query = urlencode({"plan": plan_no, "checkpoint": checkpoint})
    return f"{base_url.rstrip('/')}/inspection?{query}"


def checkpoint_labels_pdf(
    session: Session, principal: Principal, document_no: str, base_url: str, language: str
) -> bytes:
    """The A4 QR label sheet of a plan's route, one label per checkpoint, for a principal who
    reads the plan's office's inspections (else NotFound)."""
    from operational.i18n import t
    from operational.labels import Label, label_sheet_pdf

    plan = get_inspection_plan(session, principal, document_no)
    office = session.get_one(Office, plan.office_id)
    labels = [
        Label(
            code=c.code,
            title=c.object_name or c.area or c.code,
            subtitle=" / ".join(x for x in (c.object_code, plan.name) if x),
            url=checkpoint_url(base_url, plan.document_no, c.code),
        )
        for c in _route_of(session, plan.id)
    ]
    return label_sheet_pdf(
        labels,
        heading=t(
            "inspections.labels.title",
            language,
            plan=f"{plan.document_no} {plan.name}",
            office=office.code,
        ),
        hint=t("inspections.labels.scan_hint", language),
    )
