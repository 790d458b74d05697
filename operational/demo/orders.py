"""Demo step: maintenance control — the object-type tree, objects, approved plans and two years of
periodic and corrective orders whose lateness differs between offices and disciplines.

Every office gets its supervisors and technicians, elevators, water pumps, fire equipment, lawn
zones, a guard post and a lobby (one object in some offices is left without a plan, so plan
coverage differs), five approved plans and ``options.days`` of orders up to ``options.now``.
Each office has a lateness factor and each discipline its own pace (engineering slowest), and
the Spring Festival weeks run late everywhere; a few offices set tighter corrective deadlines in
calendar hours, a few others keep their own working hours and set corrective targets per
discipline in business minutes of them, so those clocks run on the office calendar. Every other
office has corrective orders waiting now (for parts, the owner, an insurer: paused clocks), taken
there through the engine.
Orders are written in bulk with exactly the events and clocks the engine writes
(:func:`operational.imports.work_orders.write_orders`); periodic orders fall on the dates
``plans.generate_orders`` would issue, so the daily schedule continues them without a gap.
Deterministic for the seed; an office that already has objects is skipped.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from operational.auth import Principal, hash_password, load_principal, system_principal
from operational.demo.staff import office_staff
from operational.imports.work_orders import HistoryOrder, insert_rows, write_orders
from operational.models import (
    AttributeKind,
    ChecklistAnswer,
    ChecklistItem,
    ClockPolicy,
    Discipline,
    Frequency,
    MaintObject,
    ObjectType,
    Office,
    PeriodicPlan,
    Role,
    plan_object,
)
from operational.progress import stage
from operational.services import calendars, orders, plans
from operational.services.objects import AttributeSpec, add_object_type
from operational.services.orders import WaitReason
from operational.services.plans import occurrences
from operational.sla import ClockTarget, ClockUnit
from operational.workflow import engine
from operational.workflow.definitions import COMPLETION, CORRECTIVE_ORDER

DEMO = system_principal("demo")
"""The demo loader acts as the system principal, recorded as ``demo``."""

if TYPE_CHECKING:
    from operational.demo import DemoOptions

E, L, S, C = (
    Discipline.ENGINEERING,
    Discipline.LANDSCAPING,
    Discipline.SECURITY,
    Discipline.CLEANING,
)

# (code, name, parent, discipline of a root, attributes, checklist)
TYPE_TREE: list[tuple[str, str, str | None, Discipline | None, list[AttributeSpec], list[str]]] = [
    ("engineering", "工程设备", None, E, [], []),
    (
        "elevator",
        "电梯",
        "engineering",
        None,
        [
            AttributeSpec("brand", "品牌"),
            AttributeSpec("rated_load", "额定载重", AttributeKind.NUMBER, unit="kg"),
        ],
        ["曳引机运行无异响", "轿厢平层准确", "紧急呼叫对讲可用"],
    ),
    (
        "water_pump",
        "水泵",
        "engineering",
        None,
        [AttributeSpec("power", "功率", AttributeKind.NUMBER, unit="kW")],
        ["压力表读数正常", "泵体及管路无渗漏"],
    ),
    ("fire_equipment", "消防设施", "engineering", None, [], ["灭火器压力正常", "消防栓水压正常"]),
    ("landscaping", "园艺", None, L, [], []),
    (
        "lawn_zone",
        "草坪区域",
        "landscaping",
        None,
        [AttributeSpec("area", "面积", AttributeKind.NUMBER, unit="m²")],
        ["修剪高度到位", "无病虫害及枯黄"],
    ),
    ("security", "秩序", None, S, [], []),
    ("guard_post", "岗亭", "security", None, [], ["交接班记录完整", "对讲机及照明正常"]),
    ("cleaning", "保洁", None, C, [], []),
    ("lobby", "大堂", "cleaning", None, [], ["地面洁净无水渍", "玻璃门无污迹"]),
]

# Plans: (name, discipline, object type codes, frequency, every, median completion hours)
PLANS: list[tuple[str, Discipline, tuple[str, ...], Frequency, int, float]] = [
    ("电梯半月保养", E, ("elevator",), Frequency.WEEKLY, 2, 30.0),
    ("水泵及消防设施月检", E, ("water_pump", "fire_equipment"), Frequency.MONTHLY, 1, 36.0),
    ("草坪养护", L, ("lawn_zone",), Frequency.WEEKLY, 1, 20.0),
    ("岗亭巡查", S, ("guard_post",), Frequency.DAILY, 1, 6.0),
    ("大堂保洁检查", C, ("lobby",), Frequency.DAILY, 1, 5.0),
]

# Per discipline: corrective orders a day, lateness factor, titles.
CORRECTIVE: dict[Discipline, tuple[float, float, list[str]]] = {
    E: (0.22, 1.35, ["电梯异响", "水泵漏水", "楼道灯不亮", "消防栓压力不足", "门禁电源故障"]),
    L: (0.06, 0.8, ["草坪枯黄", "树枝遮挡路灯", "灌溉喷头损坏"]),
    S: (0.08, 0.55, ["门禁卡失灵", "监控画面缺失", "道闸抬杆故障"]),
    C: (0.12, 0.65, ["大堂地面污渍", "垃圾桶满溢", "电梯轿厢异味"]),
}
DISCIPLINE_PACE = {E: 1.3, L: 0.85, S: 0.6, C: 0.7}
STAFF_ROLES = {
    "eng": Role.ENGINEERING_SUPERVISOR,
    "land": Role.LANDSCAPING_SUPERVISOR,
    "sec": Role.SECURITY_SUPERVISOR,
    "clean": Role.CLEANING_SUPERVISOR,
    "tech1": Role.TECHNICIAN,
    "tech2": Role.TECHNICIAN,
    "guard": Role.SECURITY_GUARD,
}
SUPERVISOR = {E: "eng", L: "land", S: "sec", C: "clean"}

# Offices on their own calendar: weekdays 08:30–12:00 and 13:30–17:30, Saturday 09:00–12:00
# (weekday 0 = Monday), and corrective-order targets in business minutes of it: two working days
# for engineering, three for landscaping, one for security and cleaning (a working day: 450 min).
_WEEKDAY = ((time(8, 30), time(12)), (time(13, 30), time(17, 30)))
OFFICE_HOURS = {**dict.fromkeys(range(5), _WEEKDAY), 5: ((time(9), time(12)),)}
BUSINESS_MINUTE_TARGETS = {E: 900, L: 1350, S: 450, C: 450}

# Orders waiting (挂起) now, in every other office: (discipline, object type, title, reason, note,
# hours before now it was raised, resumed). One waited a day for parts, was resumed and is being
# worked on, still in time thanks to the pause. Their clocks pause while they wait
# (docs/sla-clocks.md).
WAITING: list[tuple[Discipline, str | None, str, WaitReason, str, int, bool]] = [
    (
        E,
        "elevator",
        "电梯门机板故障",
        WaitReason.PARTS,
        "门机板已向厂家订货，预计三天到货",
        70,
        False,
    ),
    (E, None, "户内水管渗漏", WaitReason.OWNER, "业主出差，约定回来后上门维修", 40, False),
    (C, "lobby", "大堂石材地面开裂", WaitReason.OTHER, "等保险公司定损后再修补", 28, False),
    (E, "water_pump", "生活水泵控制柜报警", WaitReason.PARTS, "等接触器到货", 60, True),
]
HANDLERS = {E: ("tech1", "tech2"), L: ("tech2",), S: ("guard",), C: ("tech1", "guard")}


@dataclass
class _Office:
    office: Office
    zone: ZoneInfo
    staff: dict[str, tuple[int, str]]  # key -> (user id, username)
    objects: dict[str, list[MaintObject]]  # type code -> objects
    lateness: float


def orders_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    """Objects, approved plans and ``options.days`` of orders for every office without objects."""
    types = _ensure_type_tree(session)
    items: dict[int, list[ChecklistItem]] = {}
    for item in session.scalars(select(ChecklistItem).order_by(ChecklistItem.position)):
        items.setdefault(item.type_id, []).append(item)
    with_objects = set(session.scalars(select(MaintObject.office_id).distinct()))
    offices = [
        o for o in session.scalars(select(Office).order_by(Office.code)) if o.id not in with_objects
    ]
    if not offices:
        return
    now = options.now.astimezone(UTC)
    password_hash = hash_password(_demo_password())
    pending: list[tuple[HistoryOrder, list[dict[str, Any]]]] = []  # orders, checklist rows
    places: list[_Office] = []
    with stage(options.progress, "ops.progress.demo.orders", len(offices)) as advance:
        for number, office in enumerate(offices):
            rng = random.Random(f"{options.seed}:orders:{office.code}")
            place = _set_up_office(session, office, number, rng, types, password_hash)
            places.append(place)
            if number % 3 == 1:  # others count working time on their own calendar (工作日历)
                _office_calendar_targets(session, office)
            start_day = now.astimezone(place.zone).date() - timedelta(days=options.days - 1)
            for spec in PLANS:
                plan, plan_objects = _approved_plan(session, place, spec, start_day)
                pending.extend(_periodic_orders(rng, place, plan, plan_objects, spec, items, now))
            pending.extend((o, []) for o in _corrective_orders(rng, place, start_day, now))
            advance(1, office.code)
    with stage(options.progress, "ops.progress.demo.orders_write"):
        _write_history(session, options, pending, places, now)


def _write_history(
    session: Session,
    options: DemoOptions,
    pending: list[tuple[HistoryOrder, list[dict[str, Any]]]],
    places: list[_Office],
    now: datetime,
) -> None:
    # In time order, so event ids follow the clock as they do when the engine writes them.
    pending.sort(key=lambda pair: (pair[0].created_at, pair[0].office.code))
    ids = write_orders(session, [order for order, _ in pending])
    rows = [
        dict(row, order_id=order_id)
        for order_id, (_, group) in zip(ids, pending, strict=True)
        for row in group
    ]
    insert_rows(session, ChecklistAnswer.__table__, rows)  # type: ignore[arg-type]
    if options.days >= 5:  # enough history for the waits to have begun in it
        for number, place in enumerate(places):
            if number % 2 == 0:
                _waiting_orders(session, options, place, now)


def _demo_password() -> str:
    from operational.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def _ensure_type_tree(session: Session) -> dict[str, ObjectType]:
    existing = {t.code: t for t in session.scalars(select(ObjectType))}
    for code, name, parent, discipline, attributes, checklist in TYPE_TREE:
        if code not in existing:
            existing[code] = add_object_type(
                session,
                DEMO,
                code=code,
                name=name,
                parent_code=parent,
                discipline=discipline,
                attributes=attributes,
                checklist=checklist,
            )
    session.flush()
    return existing


def _set_up_office(
    session: Session,
    office: Office,
    number: int,
    rng: random.Random,
    types: dict[str, ObjectType],
    password_hash: str,
) -> _Office:
    zone = ZoneInfo(office.timezone)
    # The demo login "engineer" supervises engineering at the first office.
    staff = office_staff(session, office, STAFF_ROLES, rng, password_hash, {"eng": "engineer"})
    lateness = rng.choice([0.55, 0.7, 0.85, 1.0, 1.15, 1.35, 1.6, 1.9])
    counts = {
        "elevator": rng.randint(2, 4),
        "water_pump": rng.randint(1, 2),
        "fire_equipment": 2,
        "lawn_zone": rng.randint(1, 3),
        "guard_post": rng.randint(1, 2),
        "lobby": 1,
    }
    prefixes = {
        "elevator": ("EL", "号电梯"),
        "water_pump": ("WP", "号生活水泵"),
        "fire_equipment": ("FE", "号消防泵房"),
        "lawn_zone": ("LZ", "号草坪"),
        "guard_post": ("GP", "号岗亭"),
        "lobby": ("LB", "号楼大堂"),
    }
    objects: dict[str, list[MaintObject]] = {}
    for type_code, count in counts.items():
        prefix, suffix = prefixes[type_code]
        for i in range(1, count + 1):
            attributes: dict[str, str] = {}
            if type_code == "elevator":
                attributes = {
                    "brand": rng.choice(["奥的斯", "三菱", "日立", "通力"]),
                    "rated_load": str(rng.choice([800, 1000, 1350])),
                }
            obj = MaintObject(
                office_id=office.id,
                type_id=types[type_code].id,
                code=f"{prefix}-{i}",
                name=f"{i}{suffix}",
                location=f"{rng.randint(1, 5)}号楼",
                attributes=attributes,
            )
            session.add(obj)
            objects.setdefault(type_code, []).append(obj)
    session.flush()
    if number % 3 == 0:  # some offices hold their contractors to tighter corrective deadlines
        for discipline, hours in ((E, 48), (S, 24)):
            session.add(
                ClockPolicy(
                    office_id=office.id,
                    document_type=CORRECTIVE_ORDER.name,
                    clock=COMPLETION,
                    discipline=discipline.value,
                    amount=hours,
                    unit=ClockUnit.CALENDAR_HOURS.value,
                    calendar_kind="24x7",
                )
            )
        session.flush()
    return _Office(office, zone, staff, objects, lateness)


def _office_calendar_targets(session: Session, office: Office) -> None:
    """The office's own hours (a Saturday-morning duty, China's holidays and make-up days as
    everywhere) and corrective-order targets per discipline in business minutes of them."""
    calendars.set_working_hours(session, DEMO, office.code, OFFICE_HOURS)
    for discipline, minutes in BUSINESS_MINUTE_TARGETS.items():
        orders.set_target(
            session,
            DEMO,
            office.code,
            discipline,
            ClockTarget(minutes, ClockUnit.BUSINESS_MINUTES, "office"),
        )
    session.flush()


def _name(rng: random.Random) -> str:
    from operational.demo import person_name

    return person_name(rng)


def _approved_plan(
    session: Session,
    place: _Office,
    spec: tuple[str, Discipline, tuple[str, ...], Frequency, int, float],
    start_day: date,
) -> tuple[PeriodicPlan, list[MaintObject]]:
    name, discipline, type_codes, frequency, every, _hours = spec
    objects = [o for code in type_codes for o in place.objects.get(code, [])]
    if "fire_equipment" in type_codes and place.lateness >= 1.0:
        objects = objects[:-1]  # one fire pump room without a plan: coverage below 100 %
    responsible_id, responsible = place.staff[SUPERVISOR[discipline]]
    drafted = datetime.combine(start_day - timedelta(days=3), time(10), place.zone)
    plan = PeriodicPlan(
        office_id=place.office.id,
        name=name,
        discipline=discipline.value,
        responsible_id=responsible_id,
        drafted_by_id=responsible_id,
        frequency=frequency.value,
        every=every,
        start_date=start_day,
        end_date=None,
    )
    payload = {
        "name": name,
        "responsible": responsible,
        "frequency": frequency.value,
        "every": every,
        "start_date": start_day,
        "end_date": None,
        "objects": sorted(o.code for o in objects),
    }
    engine.create(session, DEMO, plan, "draft", payload, at=drafted.astimezone(UTC))
    session.execute(insert(plan_object), [{"plan_id": plan.id, "object_id": o.id} for o in objects])
    plans.submit_plan(session, DEMO, plan, plan.version, at=(drafted + timedelta(hours=1)))
    plans.approve_plan(session, DEMO, plan, plan.version, at=drafted + timedelta(days=1))
    return plan, objects


def _delay(rng: random.Random, median_hours: float, day: date) -> timedelta:
    """A completion delay: log-normal around the median, longer in the Spring Festival weeks."""
    festive = (
        1.6 if (day.month == 1 and day.day >= 20) or (day.month == 2 and day.day <= 20) else 1.0
    )
    hours = min(median_hours * festive * math.exp(rng.gauss(0.0, 0.75)), 14 * 24.0)
    return timedelta(minutes=max(20, round(hours * 60)))


def _periodic_orders(
    rng: random.Random,
    place: _Office,
    plan: PeriodicPlan,
    objects: list[MaintObject],
    spec: tuple[str, Discipline, tuple[str, ...], Frequency, int, float],
    items: dict[int, list[ChecklistItem]],
    now: datetime,
) -> list[tuple[HistoryOrder, list[dict[str, Any]]]]:
    _, discipline, _types, frequency, every, median = spec
    responsible_id, responsible = place.staff[SUPERVISOR[discipline]]
    today = now.astimezone(place.zone).date()
    pace = place.lateness * DISCIPLINE_PACE[discipline]
    out: list[tuple[HistoryOrder, list[dict[str, Any]]]] = []
    for day in occurrences(plan.start_date, frequency, every, plan.start_date, today):
        starts = datetime.combine(day, time(0), place.zone).astimezone(UTC)
        issued = starts - timedelta(days=1) + timedelta(minutes=30)
        assigned = starts + timedelta(minutes=rng.randint(7 * 60, 11 * 60))
        completed = assigned + _delay(rng, median * pace, day)
        handler_id, handler = place.staff[rng.choice(HANDLERS[discipline])]
        done = completed <= now
        answer_rows = [
            {
                "object_id": obj.id,
                "item_id": item.id,
                "position": item.position,
                "text": item.text,
                "ok": True if done else None,
                "note": "",
                "corrective_order_id": None,
            }
            for obj in objects
            for item in items.get(obj.type_id, [])
        ]
        order = HistoryOrder(
            kind="periodic",
            document_no="",
            office=place.office,
            discipline=discipline.value,
            responsible_id=responsible_id,
            created_at=issued,
            assigned_at=assigned if assigned <= now else None,
            completed_at=completed if done else None,
            handler_id=handler_id,
            plan_id=plan.id,
            plan_no=plan.document_no,
            scheduled_for=day,
            work_starts_at=starts,
            actors={"assign": responsible, "complete": handler},
            payloads={
                "assign": {"handler": handler},
                "complete": {"passed": len(answer_rows), "failed": 0, "corrective_orders": []},
            },
        )
        out.append((order, answer_rows))
    return out


def _corrective_orders(
    rng: random.Random, place: _Office, start_day: date, now: datetime
) -> list[HistoryOrder]:
    out: list[HistoryOrder] = []
    days = (now.astimezone(place.zone).date() - start_day).days + 1
    by_discipline = {
        E: [
            o for code in ("elevator", "water_pump", "fire_equipment") for o in place.objects[code]
        ],
        L: place.objects["lawn_zone"],
        S: place.objects["guard_post"],
        C: place.objects["lobby"],
    }
    for discipline, (rate, pace, titles) in CORRECTIVE.items():
        responsible_id, responsible = place.staff[SUPERVISOR[discipline]]
        for offset in range(days):
            day = start_day + timedelta(days=offset)
            if rng.random() >= rate:
                continue
            minute = rng.randint(7 * 60, 21 * 60)
            raised = datetime.combine(day, time(0), place.zone).astimezone(UTC) + timedelta(
                minutes=minute
            )
            if raised > now:
                continue
            assigned = raised + timedelta(minutes=rng.randint(10, 240))
            processed = assigned + _delay(rng, 20.0 * pace * place.lateness, day)
            verified = processed + timedelta(minutes=rng.randint(30, 12 * 60))
            handler_id, handler = place.staff[rng.choice(HANDLERS[discipline])]
            raiser_id, raiser = place.staff[rng.choice(("guard", "tech1", SUPERVISOR[discipline]))]
            title = rng.choice(titles)
            target = rng.choice(by_discipline[discipline])
            out.append(
                HistoryOrder(
                    kind="corrective",
                    document_no="",
                    office=place.office,
                    discipline=discipline.value,
                    responsible_id=responsible_id,
                    created_at=raised,
                    assigned_at=assigned if assigned <= now else None,
                    completed_at=processed if processed <= now else None,
                    verified_at=verified if verified <= now else None,
                    handler_id=handler_id,
                    object_id=target.id,
                    title=title,
                    raised_by_id=raiser_id,
                    actors={
                        "raise": raiser,
                        "assign": responsible,
                        "process": handler,
                        "verify": responsible,
                    },
                    payloads={
                        "raise": {"responsible": responsible, "title": title},
                        "assign": {"handler": handler},
                        "process": {"note": "已处理"},
                    },
                )
            )
    return out


def _waiting_orders(session: Session, options: DemoOptions, place: _Office, now: datetime) -> None:
    """Corrective orders waiting now (for parts, the owner, an insurer) and one resumed after a
    wait, taken through the engine by the office's people, so events, pauses and moved
    deadlines are exactly what the forms produce."""
    rng = random.Random(f"{options.seed}:waiting:{place.office.code}")
    people: dict[str, Principal] = {}

    def person(key: str) -> Principal:
        if key not in people:
            people[key] = load_principal(session, place.staff[key][0])
        return people[key]

    for discipline, type_code, title, reason, note, hours, resumed in WAITING:
        raised = now - timedelta(hours=hours, minutes=rng.randint(0, 50))
        supervisor = SUPERVISOR[discipline]
        handler = rng.choice(HANDLERS[discipline])
        target = place.objects.get(type_code, []) if type_code else []
        order = orders.raise_corrective(
            session,
            person(rng.choice(("guard", "tech1", supervisor))),
            office_code=place.office.code,
            spec=orders.CorrectiveSpec(
                responsible=place.staff[supervisor][1],
                title=title,
                discipline=discipline,
                object_code=rng.choice(target).code if target else None,
            ),
            at=raised,
        )
        assigned = raised + timedelta(minutes=rng.randint(10, 90))
        orders.assign(
            session, person(supervisor), order, place.staff[handler][1], order.version, at=assigned
        )
        paused = assigned + timedelta(minutes=rng.randint(60, 180))
        orders.wait_corrective(
            session, person(handler), order, order.version, reason, note, at=paused
        )
        if resumed:  # the parts came a day later: back to work, the deadline moved
            back = paused + timedelta(hours=24, minutes=rng.randint(0, 120))
            orders.resume_corrective(
                session, person(handler), order, order.version, "配件已到", at=back
            )
    session.flush()
