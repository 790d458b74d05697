"""Demo step: inspections — every office's engineering supervisor walks a weekly professional
inspection plan (two objects and the lobby area), its customer-service supervisor (客服主管,
``<office>.cssup``, added if the office has none) a weekly customer-service plan (the service
centre and the lobby); an office's manager (the demo has one) walks a monthly quality inspection
plan. Up to eight weeks of orders up to ``options.now``, each walked
through the services (started, scored, a nonconformity opened for every failed item, submitted
— some late), the newest professional one left issued. Deterministic for the seed; skipped when
the group has inspection plans already (docs/inspections.md).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import hash_password, system_principal
from operational.demo.staff import office_staff
from operational.models import (
    InspectionOrder,
    InspectionPlan,
    InspectionScore,
    MaintObject,
    Office,
    Role,
    RoleGrant,
    User,
)
from operational.services import inspections as insp
from operational.services.inspections import Checkpoint, Item

if TYPE_CHECKING:
    from operational.demo import DemoOptions

DEMO = system_principal("demo")

PROFESSIONAL_ITEMS = (
    ("CP-1", "设备运行无异响", 10, 6),
    ("CP-1", "机房清洁、无杂物", 5, 3),
    ("CP-2", "设备铭牌、标识完整", 5, 3),
    ("CP-2", "应急照明正常", 10, 8),
    ("CP-3", "大堂地面干净无水渍", 10, 7),
)
CUSTOMER_SERVICE_ITEMS = (
    ("CS-1", "前台接待礼仪规范", 10, 7),
    ("CS-1", "报修登记及时完整", 10, 6),
    ("CS-2", "公告栏信息更新", 5, 3),
    ("CS-2", "大堂服务台整洁", 5, 3),
)
QUALITY_ITEMS = (
    ("Q-1", "前台服务礼仪", 10, 7),
    ("Q-1", "客户档案完整", 10, 6),
    ("Q-2", "公共区域保洁质量", 10, 7),
)


def _person(session: Session, office: Office, role: Role) -> str | None:
    return session.scalar(
        select(User.username)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == role.value, RoleGrant.office_id == office.id)
        .order_by(User.username)
        .limit(1)
    )


def inspections_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    """A professional plan per office and a quality plan at the first, with walked orders
    (drawn from a generator of its own: the steps' shared one draws what it always drew)."""
    if session.scalar(select(func.count()).select_from(InspectionPlan)):
        return
    rng = random.Random(options.seed * 31 + 16)
    now = options.now.astimezone(UTC)
    weeks = max(1, min(8, options.days // 7))
    for office in session.scalars(select(Office).order_by(Office.code)).all():
        zone = ZoneInfo(office.timezone)
        today = now.astimezone(zone).date()
        start = today - timedelta(weeks=weeks)
        approved = datetime.combine(start, time(8), tzinfo=zone).astimezone(UTC)
        engineer = _person(session, office, Role.ENGINEERING_SUPERVISOR)
        objects = list(
            session.scalars(
                select(MaintObject.code)
                .where(MaintObject.office_id == office.id)
                .order_by(MaintObject.code)
                .limit(2)
            )
        )
        if engineer is not None and len(objects) == 2:
            route = (
                Checkpoint("CP-1", object_code=objects[0]),
                Checkpoint("CP-2", object_code=objects[1]),
                Checkpoint("CP-3", area="大堂"),
            )
            plan = _plan(
                session,
                office,
                "professional",
                "工程专业周检",
                "engineering",
                engineer,
                "weekly",
                start,
                route,
                PROFESSIONAL_ITEMS,
                approved,
            )
            _walk(session, plan, today, now, rng)
        manager = _person(session, office, Role.OFFICE_MANAGER)
        if manager is not None:
            quality: tuple[Checkpoint, ...] = (
                Checkpoint("Q-1", area="客服中心"),
                Checkpoint("Q-2", area="公共区域"),
            )
            plan = _plan(
                session,
                office,
                "quality",
                "品质月度检验",
                "cleaning",
                manager,
                "monthly",
                start,
                quality,
                QUALITY_ITEMS,
                approved,
            )
            _walk(session, plan, today, now, rng, newest_open=False)
    _customer_service(session, options, weeks)


def _customer_service(session: Session, options: DemoOptions, weeks: int) -> None:
    """Every office's weekly customer-service plan (客服专业检查), walked by its customer-service
    supervisor to the newest order (the engineering supervisor's is the order left waiting),
    after the other plans (with draws of its own, so the plans and orders before it stay what
    they were)."""
    from operational.demo import DEMO_PASSWORD

    rng = random.Random(options.seed * 31 + 17)
    now = options.now.astimezone(UTC)
    password_hash = hash_password(DEMO_PASSWORD)
    route = (Checkpoint("CS-1", area="客服中心"), Checkpoint("CS-2", area="大堂"))
    for office in session.scalars(select(Office).order_by(Office.code)).all():
        zone = ZoneInfo(office.timezone)
        today = now.astimezone(zone).date()
        start = today - timedelta(weeks=weeks)
        approved = datetime.combine(start, time(8), tzinfo=zone).astimezone(UTC)
        supervisor = _person(session, office, Role.CS_SUPERVISOR)
        if supervisor is None:
            staff = office_staff(session, office, {"cssup": Role.CS_SUPERVISOR}, rng, password_hash)
            supervisor = staff["cssup"][1]
        plan = _plan(
            session,
            office,
            "professional",
            "客服专业周检",
            "customer_service",
            supervisor,
            "weekly",
            start,
            route,
            CUSTOMER_SERVICE_ITEMS,
            approved,
        )
        _walk(session, plan, today, now, rng, newest_open=False)


def _plan(
    session: Session,
    office: Office,
    kind: str,
    name: str,
    discipline: str,
    inspector: str,
    frequency: str,
    start: object,
    route: tuple[Checkpoint, ...],
    items: tuple[tuple[str, str, int, int], ...],
    at: datetime,
) -> InspectionPlan:
    plan = insp.draft_inspection_plan(
        session,
        DEMO,
        kind=kind,
        office_code=office.code,
        name=name,
        discipline=discipline,
        inspector=inspector,
        frequency=frequency,
        start_date=start,  # type: ignore[arg-type]
        route=route,
        items=[Item(*i) for i in items],
        at=at,
    )
    insp.submit_inspection_plan(session, DEMO, plan, plan.version, at=at)
    insp.approve_inspection_plan(session, DEMO, plan, plan.version, at=at)
    return plan


def _walk(
    session: Session,
    plan: InspectionPlan,
    today: object,
    now: datetime,
    rng: random.Random,
    *,
    newest_open: bool = True,
) -> None:
    """Issue the plan's orders up to today and walk them, all but the newest if
    ``newest_open`` (the quality plan's manager and the customer-service supervisor are left
    nothing waiting)."""
    assert plan.approved_at is not None
    issued = insp.generate_inspection_orders(
        session,
        plan,
        today,  # type: ignore[arg-type]
        at=plan.approved_at,
    )
    for order in issued[:-1] if newest_open else issued:
        began = max(order.work_starts_at, plan.approved_at) + timedelta(hours=rng.randint(1, 6))
        done = began + timedelta(hours=rng.choice((1, 2, 3, 30, 90)))
        if not newest_open:
            began, done = min(began, now), min(done, now)
        if done > now or began < plan.approved_at:
            continue
        _score(session, order, began, done, rng)


def _score(
    session: Session, order: InspectionOrder, began: datetime, done: datetime, rng: random.Random
) -> None:
    insp.start_inspection(session, DEMO, order, order.version, at=began)
    rows = session.scalars(
        select(InspectionScore)
        .where(InspectionScore.order_id == order.id)
        .order_by(InspectionScore.checkpoint_position, InspectionScore.position)
    ).all()
    for row in rows:
        if row.pass_mark > 0 and rng.random() < 0.12:
            score = rng.randint(0, row.pass_mark - 1)  # failed
        else:
            score = rng.randint(row.pass_mark, row.max_score)
        insp.score_item(session, DEMO, order, row.id, score=score, at=began)
        if insp.failed(row):
            insp.open_item_nonconformity(
                session,
                DEMO,
                order,
                row.id,
                kind=rng.choice(("notice", "handling")),
                description=f"{row.name}未达标",
                at=began,
            )
    insp.submit_inspection(session, DEMO, order, order.version, at=done)
