"""Demo step: the inspection history (检查) before the live demo weeks, with failures and the
nonconformities they opened.

``operational.demo.inspections`` walks the last weeks of the demo through the services; this
step writes the ``options.days`` before them, in bulk (two years through the services would take
the demo minutes): every office gets, per discipline (the four maintenance ones, then customer
service), a weekly professional inspection plan (专业检查计划, walked by the office's user) and
a monthly quality inspection plan (品质检验计划) of one maintenance discipline, each approved at the start of the history and ended at its last day, with a route of three checkpoints and six items (maximum 10
points, pass mark 6). Each plan's orders (检查工单) of the history are issued the day before,
started and submitted within hours; every item is scored, and an item below its pass mark opened
a nonconformity (不合格: a notice or a handling ticket — against the office's supplier contract of
that discipline, with breach points, when it has one), linked from the item's score. Offices,
disciplines and months differ in how often items fail (an office's quality drifts month to
month), so the quality review and the supplier ranking change over time.

The rows are written in bulk with the same rules as the services (operational.services
.inspections, .nonconformities): the plan's and order's states and versions, one
``workflow_event`` per move, each order's completion clock (the office's target) and each
nonconformity's completion clock (its kind's target, office calendar) started and stopped by the
moves' events. :func:`write_inspection_history` is what the benchmark (``propcloud bench
quality``) uses at scale — and, with ``existing_plans``, for its day of operation: that day's
orders on the plans already there, no new plans — after :func:`advance_orders` has moved the
orders still pending at the history's end on to the day's end (started, submitted and scored,
failures opening nonconformities), as the writer would have. A second run of the demo adds
nothing (offices with history plans are skipped).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session

from operational import sla
from operational.bulk import allocate_ids, insert_rows, update_rows
from operational.db import as_utc
from operational.models import (
    DeductionStandard,
    Discipline,
    InspectionCheckpoint,
    InspectionItem,
    InspectionOrder,
    InspectionPlan,
    InspectionScore,
    Nonconformity,
    Office,
    RoleGrant,
    SupplierContract,
    User,
    WorkflowClock,
    WorkflowEvent,
)
from operational.progress import stage
from operational.workflow import engine

if TYPE_CHECKING:
    from operational.demo import DemoOptions

COMPLETION = "completion"
INSPECTION = "inspection"  # the inspection order's document type (docs/inspections.md)
HISTORY_MARK = "（历史）"
"""The start of a history plan's name: what a second run of the demo step recognises."""
ITEMS = 6
CHECKPOINTS = 3
MAX_SCORE, PASS_MARK = 10, 6
DISCIPLINES = tuple(d.value for d in Discipline)
ITEM_NAMES = {
    "engineering": ("设备房整洁", "配电柜温度", "水泵运行", "电梯轿厢", "消防设施", "记录完整"),
    "landscaping": ("草坪修剪", "绿篱造型", "病虫害", "浇灌", "枯枝清理", "工具摆放"),
    "security": ("岗亭值守", "仪容仪表", "巡更记录", "车辆秩序", "消防通道", "对讲机"),
    "cleaning": ("大堂地面", "电梯轿厢", "垃圾桶", "楼梯扶手", "卫生间", "玻璃门"),
    "customer_service": ("接待礼仪", "来电接听", "报修登记", "投诉回访", "公告更新", "服务台整洁"),
}
CUSTOMER_SERVICE = ("customer_service",)
"""The demo's history of customer-service inspections (客服专业检查), written per office after
the four maintenance disciplines' with draws of its own (:func:`inspection_history_step`)."""
CHECKPOINT_AREAS = ("大堂", "地下车库", "中心花园")
NC_KINDS = ("notice", "handling")
NC_TYPES = {"notice": "nonconformity_notice", "handling": "nonconformity_handling"}
NC_PREFIX = {"notice": "NCN", "handling": "NCH"}
CHUNK = 5_000
"""Ids per ``IN (…)`` when reading the running plans, their orders and items."""


@dataclass
class _Written:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def inspection_history_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    """The history of every office without one: ``options.days`` up to the start of the weeks
    that ``operational.demo.inspections`` walks through the services (its plans and orders are
    the live ones), in bulk; history plans end on their last day, so the live order generation
    never continues them."""
    days = options.days - 7 * live_weeks(options.days)
    if days <= 0:
        return
    done = set(
        session.scalars(
            select(InspectionPlan.office_id)
            .where(InspectionPlan.name.startswith(HISTORY_MARK))
            .distinct()
        )
    )
    offices = [o for o in session.scalars(select(Office).order_by(Office.code)) if o.id not in done]
    if not offices:
        return
    end = options.now - timedelta(days=7 * live_weeks(options.days))
    with stage(options.progress, "quality.progress.demo", len(offices)) as advance:
        for office in offices:
            write_inspection_history(session, [office], days, end, seed=options.seed, ended=True)
            write_inspection_history(
                session,
                [office],
                days,
                end,
                seed=options.seed,
                ended=True,
                disciplines=CUSTOMER_SERVICE,
                quality_plan=False,
            )
            advance(1, office.code)


def live_weeks(days: int) -> int:
    """The weeks ``operational.demo.inspections`` walks through the services."""
    return max(1, min(8, days // 7))


def _inspector(session: Session, office: Office) -> tuple[int, str]:
    """A user who works at ``office`` (its first grant holder), else the first user."""
    row = session.execute(
        select(User.id, User.username)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.office_id == office.id, User.supplier_id.is_(None))
        .order_by(User.id)
        .limit(1)
    ).first()
    if row is None:
        row = session.execute(select(User.id, User.username).order_by(User.id).limit(1)).first()
    if row is None:
        raise LookupError("no user to inspect with")
    return int(row[0]), str(row[1])


def _quality(seed: int, office: Office, discipline: str, month: date) -> float:
    """How often an item fails that month: the office's and discipline's level, drifting."""
    base = random.Random(f"{seed}:quality:{office.code}:{discipline}")
    level, phase, period = base.uniform(0.01, 0.08), base.uniform(0, 6.3), base.uniform(5, 13)
    months = month.year * 12 + month.month
    return max(0.002, level * (1 + 0.8 * math.sin(months * 2 * math.pi / period + phase)))


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def write_inspection_history(
    session: Session,
    offices: Sequence[Office],
    days: int,
    now: datetime,
    *,
    seed: int = 1,
    plans_per_discipline: int = 1,
    items: int = ITEMS,
    ended: bool = False,
    disciplines: Sequence[str] = DISCIPLINES,
    quality_plan: bool = True,
    existing_plans: bool = False,
) -> dict[str, int]:
    """Write ``days`` of inspection history up to ``now`` for ``offices`` (see the module):
    ``plans_per_discipline`` weekly professional plans per discipline of ``disciplines`` (the
    four maintenance ones unless given; the benchmark's scale knob) of ``items`` items each,
    and a monthly quality plan if ``quality_plan``; return the counts written (plans, orders,
    scores, failed items, nonconformities, events). Other ``disciplines`` than the default draw
    from a generator of their own, so that the default ones' rows stay what they were.

    With ``existing_plans`` no plan is written: the window's orders go on each office's
    approved history plans (:data:`HISTORY_MARK`) of ``disciplines`` (and its quality plans if
    ``quality_plan``) that run on their day — a day of operation rather than new plans
    (``plans_per_discipline``, ``items`` and ``ended`` do not apply). The plans' schedule is
    fixed by the plan alone, not by the draws that placed the plans' first orders:

    * a weekly plan has an order on day ``d`` when
      ``(d - start_date).days % (7 * every) == id % (7 * every)``;
    * a monthly plan on its start date's day of the month (at most the 28th, as the history
      moves monthly orders on: :func:`_next_month`) in every ``every``-th month from its start;

    within ``start_date`` ≤ ``d`` ≤ ``end_date`` (when it has one). A day that already has the
    plan's order (one per plan and day: the orders' unique constraint) is skipped. The orders,
    their item scores, failures, nonconformities, events and clocks follow the same rules as the
    history's, with draws of their own for the window."""
    now = now.astimezone(UTC)
    shared = _shared(session, offices, seed, now)
    chosen = (tuple(disciplines), quality_plan)
    own = "" if chosen[0] == DISCIPLINES else ":" + ",".join(chosen[0])
    running = _running_plans(session, offices, days, now, chosen) if existing_plans else {}
    for office in offices:
        zone = ZoneInfo(office.timezone)
        today = now.astimezone(zone).date()
        first = today - timedelta(days=days - 1)
        inspector_id, inspector = _inspector(session, office)
        if existing_plans:
            rng = random.Random(f"{seed}:inspection-orders:{office.code}{own}:{first}")
            desk = _Desk(office, zone, inspector_id, inspector, rng)
            orders = _scheduled_orders(session, running.get(office.id, []), first, today)
            items_of = _plan_items(session, sorted({o["plan_id"] for o in orders}))
            plans: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
        else:
            rng = random.Random(f"{seed}:inspections:{office.code}{own}")
            desk = _Desk(office, zone, inspector_id, inspector, rng)
            plans, items_of, events = _write_plans(
                session, desk, (first, today), (plans_per_discipline, items, ended), chosen
            )
            orders = _new_plans_orders(rng, plans, first, today)
        shared.written.add("plans", len(plans))
        _write_orders(session, shared, desk, orders, items_of, events)
    return shared.written.counts


def advance_orders(
    session: Session, offices: Sequence[Office], now: datetime, *, seed: int = 1
) -> dict[str, int]:
    """Move the offices' pending history orders (on plans named with :data:`HISTORY_MARK`:
    issued, or started and not submitted) on up to ``now``, as :func:`write_inspection_history`
    would have had they been written up to ``now``: started 8 to 10 hours after their day's
    work start, submitted 40 minutes to 4 hours after (6 %: up to 48 hours), every item then
    scored, the failed ones opening nonconformities, the completion clock stopped by the submit
    event. An order's draws come from ``seed`` and its id alone, so a rerun moves the same
    orders to the same instants and a second call with the same ``now`` writes nothing. A move
    is never before the order's last event (an order already started keeps its start) nor after
    ``now``. Return the counts written (orders advanced, orders submitted, scores,
    failed items, nonconformities, events)."""
    now = now.astimezone(UTC)
    shared = _shared(session, offices, seed, now)
    counts = shared.written
    for key in ("advanced", "submitted", "scores", "failed_items", "nonconformities", "events"):
        counts.add(key, 0)
    pending = _pending_orders(session, [o.id for o in offices], now)
    ids = [o["id"] for o in pending]
    last_at = _last_events(session, ids)
    clocks = _running_order_clocks(session, ids)
    items = _order_scores(session, ids)
    by_office: dict[int, list[dict[str, Any]]] = {}
    for order in pending:
        by_office.setdefault(order["office_id"], []).append(order)
    order_updates: list[dict[str, Any]] = []
    score_updates: list[dict[str, Any]] = []
    clock_updates: list[tuple[dict[str, Any], int]] = []
    events: list[dict[str, Any]] = []
    nc_clocks: list[dict[str, Any]] = []
    for office in offices:
        orders = by_office.get(office.id)
        if not orders:
            continue
        zone = ZoneInfo(office.timezone)
        inspector_id, inspector = _inspector(session, office)
        desk = _Desk(office, zone, inspector_id, inspector, random.Random(0))
        failures: list[_Failure] = []
        for order in orders:
            order_id, number = order["id"], order["document_no"]
            rng = random.Random(f"{seed}:advance:{order_id}")
            previous = last_at.get(order_id, order["created_at"])  # issued then, at the latest
            started = max(order["work_starts_at"] + _start_delay(rng), previous)
            if order["state"] == "in_progress":
                started = previous  # its start event
            submitted = started + _submit_delay(rng)
            moves: list[tuple[str, str | None, str, datetime]] = []
            if order["state"] == "issued" and started <= now:
                moves.append(("start", "issued", "in_progress", started))
            if submitted <= now:
                moves.append(("submit", "in_progress", "submitted", submitted))
            if not moves:
                continue
            for name, source, target, at in moves:
                events.append(
                    _event(
                        INSPECTION, order_id, number, office.id, name, source, target, inspector, at
                    )
                )
            done = moves[-1][0] == "submit"
            order_updates.append(
                {
                    "id": order_id,
                    "state": moves[-1][2],
                    "version": order["version"] + len(moves),
                    "submitted_at": submitted if done else None,
                }
            )
            if not done:
                continue
            clock = clocks.get(order_id)
            if clock is not None:
                stopped = max(submitted, clock["started_at"])
                clock_updates.append(({"id": clock["id"], "stopped_at": stopped}, len(events) - 1))
            day = order["scheduled_for"]
            fail_rate = _quality(seed, office, order["discipline"], day.replace(day=1))
            for item in items.get(order_id, []):
                row = {"id": item["id"], "name": item["name"]} | _scored(rng, fail_rate, submitted)
                score_updates.append(row)
                if row["score"] < PASS_MARK:
                    failures.append(
                        (row, order["discipline"], submitted - timedelta(minutes=10), rng)
                    )
        # written now: on SQLite the next office's nonconformity ids follow these
        opened = _open_nonconformities(session, shared, desk, failures, events, nc_clocks)
        insert_rows(session, _table(Nonconformity), opened)
        counts.add("failed_items", len(failures))
        counts.add("nonconformities", len(opened))
    id_of = _write_events(session, events)
    update_rows(session, _table(InspectionOrder), order_updates)
    update_rows(
        session,
        _table(InspectionScore),
        [{k: v for k, v in row.items() if k != "name"} for row in score_updates],
    )
    _write_clocks(session, nc_clocks, id_of)
    update_rows(
        session,
        _table(WorkflowClock),
        [clock | {"stopped_event_id": id_of[stop]} for clock, stop in clock_updates],
    )
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, InspectionOrder | InspectionScore | WorkflowClock):
            session.expire(loaded)
    counts.add("advanced", len(order_updates))
    counts.add("submitted", sum(1 for o in order_updates if o["state"] == "submitted"))
    counts.add("scores", len(score_updates))
    counts.add("events", len(events))
    return counts.counts


def _pending_orders(
    session: Session, office_ids: Sequence[int], now: datetime
) -> list[dict[str, Any]]:
    """The offices' history orders issued by ``now`` and not submitted, by id."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(office_ids), CHUNK):
        result = session.execute(
            select(
                InspectionOrder.id,
                InspectionOrder.document_no,
                InspectionOrder.office_id,
                InspectionOrder.state,
                InspectionOrder.version,
                InspectionOrder.discipline,
                InspectionOrder.scheduled_for,
                InspectionOrder.work_starts_at,
                InspectionOrder.created_at,
            )
            .join(InspectionPlan, InspectionPlan.id == InspectionOrder.plan_id)
            .where(
                InspectionOrder.office_id.in_(office_ids[start : start + CHUNK]),
                InspectionPlan.name.startswith(HISTORY_MARK),
                InspectionOrder.state.in_(("issued", "in_progress")),
                InspectionOrder.created_at <= now,
            )
            .order_by(InspectionOrder.id)
        )
        found.extend(dict(row) for row in result.mappings())
    return found


def _last_events(session: Session, order_ids: Sequence[int]) -> dict[int, datetime]:
    """When each order last moved (its issue or its start), for those with events."""
    last: dict[int, datetime] = {}
    for start in range(0, len(order_ids), CHUNK):
        result = session.execute(
            select(WorkflowEvent.document_id, func.max(WorkflowEvent.at))
            .where(
                WorkflowEvent.document_type == INSPECTION,
                WorkflowEvent.document_id.in_(order_ids[start : start + CHUNK]),
            )
            .group_by(WorkflowEvent.document_id)
        )
        for order_id, at in result:
            last[int(order_id)] = as_utc(at)
    return last


def _running_order_clocks(session: Session, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each order's running completion clock (id, started_at)."""
    clocks: dict[int, dict[str, Any]] = {}
    for start in range(0, len(order_ids), CHUNK):
        result = session.execute(
            select(WorkflowClock.id, WorkflowClock.document_id, WorkflowClock.started_at).where(
                WorkflowClock.document_type == INSPECTION,
                WorkflowClock.clock == COMPLETION,
                WorkflowClock.stopped_at.is_(None),
                WorkflowClock.document_id.in_(order_ids[start : start + CHUNK]),
            )
        )
        for row in result.mappings():
            clocks[int(row["document_id"])] = dict(row)
    return clocks


def _order_scores(session: Session, order_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each order's score rows (id, name) in the items' order."""
    scores: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(order_ids), CHUNK):
        result = session.execute(
            select(InspectionScore.id, InspectionScore.order_id, InspectionScore.name)
            .where(InspectionScore.order_id.in_(order_ids[start : start + CHUNK]))
            .order_by(InspectionScore.order_id, InspectionScore.position, InspectionScore.id)
        )
        for row in result.mappings():
            scores.setdefault(int(row["order_id"]), []).append(dict(row))
    return scores


@dataclass(frozen=True)
class _Shared:
    """What every office's orders are written with."""

    seed: int
    now: datetime
    contracts: dict[tuple[int, str], SupplierContract]
    points_of: dict[int, set[int]]
    nc_targets: dict[str, Any]
    deadlines: sla.Deadlines[int]
    written: _Written


def _shared(session: Session, offices: Sequence[Office], seed: int, now: datetime) -> _Shared:
    """The offices' supplier contracts, their breach points, the completion targets and the
    deadline rule; nothing written yet."""
    office_ids = {o.id for o in offices}
    contracts: dict[tuple[int, str], SupplierContract] = {
        (c.office_id, c.discipline): c
        for c in session.scalars(select(SupplierContract).order_by(SupplierContract.id))
        if c.office_id in office_ids
    }
    points_of: dict[int, set[int]] = {}
    for s in session.scalars(
        select(DeductionStandard).where(
            DeductionStandard.contract_id.in_([c.id for c in contracts.values()] or [0])
        )
    ):
        points_of.setdefault(s.contract_id, set()).add(s.points)
    nc_targets = {
        kind: engine.targets_for(session, office_ids, NC_TYPES.get(kind, kind), COMPLETION)
        for kind in (*NC_KINDS, INSPECTION)
    }
    return _Shared(
        seed=seed,
        now=now,
        contracts=contracts,
        points_of=points_of,
        nc_targets=nc_targets,
        deadlines=engine.office_deadlines({o.id: o for o in offices}),
        written=_Written(),
    )


@dataclass(frozen=True)
class _Desk:
    """An office's: where its days are, who inspects, and its draws."""

    office: Office
    zone: ZoneInfo
    inspector_id: int
    inspector: str
    rng: random.Random


def _write_plans(
    session: Session,
    desk: _Desk,
    window: tuple[date, date],
    knobs: tuple[int, int, bool],
    chosen: tuple[tuple[str, ...], bool],
) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """An office's new history plans (approved three days before the window's ``first`` day)
    with their checkpoints and items: the plans (id, kind, discipline, frequency), each plan's
    items for its orders, and the plans' events (not yet written)."""
    first, today = window
    per_discipline, n_items, ended = knobs
    disciplines, quality_plan = chosen
    office, rng, inspector_id = desk.office, desk.rng, desk.inspector_id
    approved = datetime.combine(first - timedelta(days=3), time(10), desk.zone).astimezone(UTC)
    specs = [("professional", d, "weekly") for d in disciplines for _ in range(per_discipline)]
    if quality_plan:
        specs.append(("quality", disciplines[rng.randrange(len(disciplines))], "monthly"))
    plan_ids = allocate_ids(session, _table(InspectionPlan), len(specs))
    plan_rows, checkpoint_rows, item_rows, events = [], [], [], []
    items_of: dict[int, list[dict[str, Any]]] = {}
    checkpoint_ids = iter(allocate_ids(session, _table(InspectionCheckpoint), len(specs) * 3))
    item_ids = iter(allocate_ids(session, _table(InspectionItem), len(specs) * n_items))
    for plan_id, (kind, discipline, frequency) in zip(plan_ids, specs, strict=True):
        number = f"{'IP' if kind == 'professional' else 'QP'}-{office.code}-{plan_id:06d}"
        plan_rows.append(
            {
                "id": plan_id,
                "document_no": number,
                "office_id": office.id,
                "state": "approved",
                "version": 3,
                "created_at": approved - timedelta(days=2),
                "kind": kind,
                "name": f"{HISTORY_MARK}{'品质检验' if kind == 'quality' else '专业检查'} {discipline}",
                "discipline": discipline,
                "inspector_id": inspector_id,
                "drafted_by_id": inspector_id,
                "frequency": frequency,
                "every": 1,
                "start_date": first,
                "end_date": today if ended else None,
                "approved_at": approved,
            }
        )
        doc_type = f"{kind}_inspection_plan"
        for name, source, target, at in (
            ("draft", None, "draft", approved - timedelta(days=2)),
            ("submit", "draft", "submitted", approved - timedelta(days=1)),
            ("approve", "submitted", "approved", approved),
        ):
            events.append(
                _event(
                    doc_type, plan_id, number, office.id, name, source, target, desk.inspector, at
                )
            )
        positions: list[tuple[int, str]] = []
        for position in range(1, CHECKPOINTS + 1):
            checkpoint_id = next(checkpoint_ids)
            code = f"{number}-C{position}"
            positions.append((checkpoint_id, code))
            checkpoint_rows.append(
                {
                    "id": checkpoint_id,
                    "plan_id": plan_id,
                    "position": position,
                    "code": code,
                    "object_id": None,
                    "area": CHECKPOINT_AREAS[position - 1],
                }
            )
        for position in range(1, n_items + 1):
            at_checkpoint = (position - 1) * CHECKPOINTS // n_items
            checkpoint_id, code = positions[at_checkpoint]
            row = {
                "id": next(item_ids),
                "plan_id": plan_id,
                "checkpoint_id": checkpoint_id,
                "position": position,
                "name": _item_name(discipline, position),
                "max_score": MAX_SCORE,
                "pass_mark": PASS_MARK,
            }
            item_rows.append(row)
            items_of.setdefault(plan_id, []).append(
                row | {"checkpoint_position": at_checkpoint + 1, "checkpoint_code": code}
            )
    insert_rows(session, _table(InspectionPlan), plan_rows)
    insert_rows(session, _table(InspectionCheckpoint), checkpoint_rows)
    insert_rows(session, _table(InspectionItem), item_rows)
    plans = [
        {"id": plan_id, "kind": kind, "discipline": discipline, "frequency": frequency}
        for plan_id, (kind, discipline, frequency) in zip(plan_ids, specs, strict=True)
    ]
    return plans, items_of, events


def _new_plans_orders(
    rng: random.Random, plans: Sequence[dict[str, Any]], first: date, today: date
) -> list[dict[str, Any]]:
    """New plans' orders from ``first`` to ``today``: a weekly plan's from a drawn day of the
    first week, a monthly plan's from ``first``."""
    orders: list[dict[str, Any]] = []
    for plan in plans:
        weekly = plan["frequency"] == "weekly"
        day = first + timedelta(days=rng.randrange(7)) if weekly else first
        while day <= today:
            orders.append(
                {
                    "plan_id": plan["id"],
                    "kind": plan["kind"],
                    "discipline": plan["discipline"],
                    "day": day,
                }
            )
            day = day + timedelta(days=7) if weekly else _next_month(day)
    return orders


def _running_plans(
    session: Session,
    offices: Sequence[Office],
    days: int,
    now: datetime,
    chosen: tuple[tuple[str, ...], bool],
) -> dict[int, list[dict[str, Any]]]:
    """The offices' approved history plans of ``chosen`` that may run within the last ``days``
    up to ``now`` (a day or so more, for the offices' time zones), by office."""
    disciplines, quality_plan = chosen
    kinds = ["professional", "quality"] if quality_plan else ["professional"]
    earliest = now.date() - timedelta(days=days)
    latest = now.date() + timedelta(days=1)
    by_office: dict[int, list[dict[str, Any]]] = {}
    office_ids = [o.id for o in offices]
    for start in range(0, len(office_ids), CHUNK):
        result = session.execute(
            select(
                InspectionPlan.id,
                InspectionPlan.office_id,
                InspectionPlan.kind,
                InspectionPlan.discipline,
                InspectionPlan.frequency,
                InspectionPlan.every,
                InspectionPlan.start_date,
                InspectionPlan.end_date,
            )
            .where(
                InspectionPlan.office_id.in_(office_ids[start : start + CHUNK]),
                InspectionPlan.name.startswith(HISTORY_MARK),
                InspectionPlan.state == "approved",
                InspectionPlan.kind.in_(kinds),
                InspectionPlan.discipline.in_(disciplines),
                InspectionPlan.start_date <= latest,
                or_(InspectionPlan.end_date.is_(None), InspectionPlan.end_date >= earliest),
            )
            .order_by(InspectionPlan.id)
        )
        for row in result.mappings():
            by_office.setdefault(row["office_id"], []).append(dict(row))
    return by_office


def _runs_on(plan: dict[str, Any], day: date) -> bool:
    """Whether a running plan has an order on ``day`` (the rule of
    :func:`write_inspection_history`)."""
    start: date = plan["start_date"]
    end: date | None = plan["end_date"]
    if day < start or (end is not None and day > end):
        return False
    every = max(1, int(plan["every"] or 1))
    if plan["frequency"] == "weekly":
        return (day - start).days % (7 * every) == int(plan["id"]) % (7 * every)
    months = (day.year - start.year) * 12 + day.month - start.month
    return months % every == 0 and day.day == min(start.day, 28)


def _scheduled_orders(
    session: Session, plans: Sequence[dict[str, Any]], first: date, today: date
) -> list[dict[str, Any]]:
    """The orders the running ``plans`` have from ``first`` to ``today``, but those days that
    already have the plan's order."""
    wanted = [
        {"plan_id": p["id"], "kind": p["kind"], "discipline": p["discipline"], "day": day}
        for p in plans
        for day in (first + timedelta(days=k) for k in range((today - first).days + 1))
        if _runs_on(p, day)
    ]
    plan_ids = sorted({o["plan_id"] for o in wanted})
    taken: set[tuple[int, date]] = set()
    for start in range(0, len(plan_ids), CHUNK):
        taken.update(
            (int(plan_id), day)
            for plan_id, day in session.execute(
                select(InspectionOrder.plan_id, InspectionOrder.scheduled_for).where(
                    InspectionOrder.plan_id.in_(plan_ids[start : start + CHUNK]),
                    InspectionOrder.scheduled_for.between(first, today),
                )
            )
        )
    return [o for o in wanted if (o["plan_id"], o["day"]) not in taken]


def _plan_items(session: Session, plan_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The plans' items in order, each with its checkpoint's position and code."""
    items_of: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(plan_ids), CHUNK):
        result = session.execute(
            select(
                InspectionItem.id,
                InspectionItem.plan_id,
                InspectionItem.position,
                InspectionItem.name,
                InspectionCheckpoint.position.label("checkpoint_position"),
                InspectionCheckpoint.code.label("checkpoint_code"),
            )
            .join(InspectionCheckpoint, InspectionCheckpoint.id == InspectionItem.checkpoint_id)
            .where(InspectionItem.plan_id.in_(plan_ids[start : start + CHUNK]))
            .order_by(InspectionItem.plan_id, InspectionItem.position)
        )
        for row in result.mappings():
            items_of.setdefault(row["plan_id"], []).append(dict(row))
    return items_of


def _write_orders(
    session: Session,
    shared: _Shared,
    desk: _Desk,
    orders: list[dict[str, Any]],
    items_of: dict[int, list[dict[str, Any]]],
    events: list[dict[str, Any]],
) -> None:
    """Write an office's ``orders`` (plan, kind, discipline, day) on plans whose items are
    ``items_of``: each issued the day before, walked within the day, every item scored, the
    failed ones opening nonconformities; with their events (after ``events``, the plans' own)
    and clocks."""
    office, zone, rng, now = desk.office, desk.zone, desk.rng, shared.now
    inspector_id, inspector = desk.inspector_id, desk.inspector
    orders.sort(key=lambda o: (o["day"], o["plan_id"]))
    order_ids = allocate_ids(session, _table(InspectionOrder), len(orders))
    order_rows: list[dict[str, Any]] = []
    score_rows: list[dict[str, Any]] = []
    clock_rows: list[dict[str, Any]] = []
    failures: list[_Failure] = []
    for order_id, o in zip(order_ids, orders, strict=True):
        starts = datetime.combine(o["day"], time(0), zone).astimezone(UTC)
        issued = starts - timedelta(days=1) + timedelta(minutes=30)
        started = starts + _start_delay(rng)
        submitted = started + _submit_delay(rng)
        number = f"IO-{office.code}-{order_id:06d}"
        moves: list[tuple[str, str | None, str, datetime, str]] = [
            ("issue", None, "issued", issued, "system")
        ]
        if started <= now:
            moves.append(("start", "issued", "in_progress", started, inspector))
        if submitted <= now:
            moves.append(("submit", "in_progress", "submitted", submitted, inspector))
        if issued > now:
            continue
        first_event = len(events)
        for name, source, target, at, actor in moves:
            events.append(
                _event(INSPECTION, order_id, number, office.id, name, source, target, actor, at)
            )
        done = submitted <= now
        order_rows.append(
            {
                "id": order_id,
                "document_no": number,
                "office_id": office.id,
                "state": moves[-1][2],
                "version": len(moves),
                "created_at": issued,
                "plan_id": o["plan_id"],
                "kind": o["kind"],
                "discipline": o["discipline"],
                "scheduled_for": o["day"],
                "work_starts_at": starts,
                "inspector_id": inspector_id,
                "submitted_at": submitted if done else None,
            }
        )
        clock_start = max(issued, starts)
        order_target = shared.nc_targets[INSPECTION](office.id, o["discipline"])
        clock_rows.append(
            {
                "document_type": INSPECTION,
                "document_id": order_id,
                "document_no": number,
                "office_id": office.id,
                "clock": COMPLETION,
                "target_amount": order_target.amount,
                "target_unit": order_target.unit.value,
                "calendar": order_target.calendar_kind,
                "started_at": clock_start,
                "due_at": shared.deadlines(office.id, order_target, clock_start),
                "stopped_at": max(submitted, clock_start) if done else None,
                "_start": first_event,
                "_stop": first_event + 2 if done else None,
            }
        )
        fail_rate = _quality(shared.seed, office, o["discipline"], o["day"].replace(day=1))
        for item in items_of[o["plan_id"]]:
            row = {
                "order_id": order_id,
                "item_id": item["id"],
                "checkpoint_position": item["checkpoint_position"],
                "checkpoint_code": item["checkpoint_code"],
                "position": item["position"],
                "name": item["name"],
                "max_score": MAX_SCORE,
                "pass_mark": PASS_MARK,
            }
            row |= _scored(rng, fail_rate, submitted) if done else _UNSCORED
            score_rows.append(row)
            if row["score"] is not None and row["score"] < PASS_MARK:
                failures.append((row, o["discipline"], submitted - timedelta(minutes=10), rng))

    nc_rows = _open_nonconformities(session, shared, desk, failures, events, clock_rows)
    id_of = _write_events(session, events)
    insert_rows(session, _table(Nonconformity), nc_rows)
    insert_rows(session, _table(InspectionOrder), order_rows)
    insert_rows(session, _table(InspectionScore), score_rows)
    _write_clocks(session, clock_rows, id_of)
    shared.written.add("orders", len(order_rows))
    shared.written.add("scores", len(score_rows))
    shared.written.add("failed_items", len(failures))
    shared.written.add("nonconformities", len(nc_rows))
    shared.written.add("events", len(events))


def _start_delay(rng: random.Random) -> timedelta:
    """How long after its day's work start an order is started: 8 to 10 hours."""
    return timedelta(minutes=rng.randint(8 * 60, 10 * 60))


def _submit_delay(rng: random.Random) -> timedelta:
    """How long after its start an order is submitted: 40 minutes to 4 hours, or for 6 % of
    the orders up to 48 hours."""
    return timedelta(minutes=rng.randint(40, 48 * 60 if rng.random() < 0.06 else 240))


_Failure = tuple[dict[str, Any], str, datetime, random.Random]
"""A failed item's score row, its order's discipline, when its nonconformity opened, and the
draws it is opened with."""

_UNSCORED: dict[str, Any] = {"score": None, "note": "", "scored_at": None, "nonconformity_id": None}
"""An unsubmitted order's item: not scored yet."""


def _scored(rng: random.Random, fail_rate: float, submitted: datetime) -> dict[str, Any]:
    """An item's score on an order submitted at ``submitted``: below the pass mark with
    probability ``fail_rate`` (its nonconformity is linked when opened)."""
    if rng.random() < fail_rate:
        score = rng.randint(1, PASS_MARK - 1)
    else:
        score = rng.choices((7, 8, 9, 10), (1, 3, 5, 6))[0]
    return {
        "score": score,
        "note": "" if score >= PASS_MARK else "现场不合格",
        "scored_at": submitted - timedelta(minutes=5),
        "nonconformity_id": None,
    }


def _open_nonconformities(
    session: Session,
    shared: _Shared,
    desk: _Desk,
    failures: list[_Failure],
    events: list[dict[str, Any]],
    clock_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The nonconformities of an office's failed items (linked from their score rows), each
    with its moves (appended to ``events``) and completion clock (to ``clock_rows``, naming its
    events by their index in ``events``); not yet written."""
    office, zone, now = desk.office, desk.zone, shared.now
    inspector_id, inspector = desk.inspector_id, desk.inspector
    nc_rows: list[dict[str, Any]] = []
    nc_ids = allocate_ids(session, _table(Nonconformity), len(failures))
    for nc_id, (row, discipline, opened, rng) in zip(nc_ids, failures, strict=True):
        kind = NC_KINDS[0] if rng.random() < 0.55 else NC_KINDS[1]
        row["nonconformity_id"] = nc_id
        number = f"{NC_PREFIX[kind]}-{office.code}-{nc_id:06d}"
        contract = shared.contracts.get((office.id, discipline))
        points = None
        if (
            contract is not None
            and kind == "handling"
            and contract.starts_on <= opened.astimezone(zone).date() <= contract.ends_on
        ):
            allowed = sorted(shared.points_of.get(contract.id, ()))
            points = rng.choice(allowed[:2]) if allowed else None
        hours = rng.lognormvariate(math.log(20 if kind == "notice" else 60), 0.7)
        closed = opened + timedelta(hours=min(hours, 24 * 30))
        steps: list[tuple[str, str | None, str, datetime]]
        if kind == "notice":
            steps = [
                ("issue", None, "issued", opened),
                ("acknowledge", "issued", "acknowledged", closed),
            ]
        else:
            handled = opened + (closed - opened) * 0.8
            steps = [
                ("assign", None, "assigned", opened),
                ("handle", "assigned", "handled", handled),
                ("verify", "handled", "verified", closed),
            ]
        nc_moves = [s for s in steps if s[3] <= now]
        first_event = len(events)
        for name, source, target, at in nc_moves:
            events.append(
                _event(
                    NC_TYPES[kind], nc_id, number, office.id, name, source, target, inspector, at
                )
            )
        is_closed = closed <= now
        nc_rows.append(
            {
                "id": nc_id,
                "nc_no": number,
                "office_id": office.id,
                "state": nc_moves[-1][2],
                "version": len(nc_moves),
                "created_at": opened,
                "kind": kind,
                "discipline": discipline,
                "opened_at": opened,
                "closed_at": closed if is_closed else None,
                "contract_id": contract.id if points is not None and contract is not None else None,
                "breach_points": points,
                "description": f"{row['name']} {row['score']}/{MAX_SCORE}",
                "assignee_id": inspector_id,
                "opened_by_id": inspector_id,
            }
        )
        target = shared.nc_targets[kind](office.id, discipline)
        clock_rows.append(
            {
                "document_type": NC_TYPES[kind],
                "document_id": nc_id,
                "document_no": number,
                "office_id": office.id,
                "clock": COMPLETION,
                "target_amount": target.amount,
                "target_unit": target.unit.value,
                "calendar": target.calendar_kind,
                "started_at": opened,
                "due_at": shared.deadlines(office.id, target, opened),
                "stopped_at": closed if is_closed else None,
                "_start": first_event,
                "_stop": first_event + len(nc_moves) - 1 if is_closed else None,
            }
        )
    return nc_rows


def _write_events(session: Session, events: list[dict[str, Any]]) -> dict[int, int]:
    """Insert ``events`` in time order, as the engine writes them; their ids by index."""
    order = sorted(range(len(events)), key=lambda i: events[i]["at"])
    event_ids = allocate_ids(session, _table(WorkflowEvent), len(events))
    id_of = {index: event_ids[k] for k, index in enumerate(order)}
    insert_rows(
        session,
        _table(WorkflowEvent),
        [events[index] | {"id": id_of[index]} for index in order],
    )
    return id_of


def _write_clocks(
    session: Session, clock_rows: list[dict[str, Any]], id_of: dict[int, int]
) -> None:
    """Insert ``clock_rows``, their ``_start`` and ``_stop`` event indexes made event ids."""
    for clock in clock_rows:
        start: int = clock.pop("_start")
        stop: int | None = clock.pop("_stop")
        clock["started_event_id"] = id_of[start]
        clock["stopped_event_id"] = None if stop is None else id_of[stop]
    insert_rows(session, _table(WorkflowClock), clock_rows)


def _item_name(discipline: str, position: int) -> str:
    names = ITEM_NAMES[discipline]
    base = names[(position - 1) % len(names)]
    return base if position <= len(names) else f"{base} {(position - 1) // len(names) + 1}"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1).replace(day=min(day.day, 28))


def _event(
    document_type: str,
    document_id: int,
    number: str,
    office_id: int,
    name: str,
    source: str | None,
    target: str,
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "document_type": document_type,
        "document_id": document_id,
        "document_no": number,
        "office_id": office_id,
        "transition": name,
        "from_state": source,
        "to_state": target,
        "actor": actor,
        "at": at,
        "payload": {},
    }
