"""The demo group: a realistic, deterministic property-management group for a first run.

``load_demo`` is deterministic for a given seed and scales to hundreds of offices. Each area of
the product (energy, maintenance, …) adds its own step to :data:`STEPS`; a step that takes more
than a moment reports its stage to ``options.progress`` (office by office, say), so that the
command line shows how far it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.demo.energy import energy_step
from operational.demo.faults import faults_step
from operational.demo.inspections import inspections_step
from operational.demo.orders import orders_step
from operational.demo.property import property_step
from operational.demo.supplier_users import supplier_users_step
from operational.demo.suppliers import suppliers_step
from operational.demo.tickets import tickets_step
from operational.imports.org import ensure_group, import_org_rows
from operational.imports.table import Row
from operational.models import Office, Role, ScopeLevel, User
from operational.progress import NO_PROGRESS, Progress, stage
from operational.services.users import GrantSpec, add_user

DEMO_PASSWORD = "propcloud"

# (code, name, time zone): the group's city companies (城市公司) in the order they are opened.
CITIES = [
    ("SH", "上海", "Asia/Shanghai"),
    ("BJ", "北京", "Asia/Shanghai"),
    ("SZ", "深圳", "Asia/Shanghai"),
    ("GZ", "广州", "Asia/Shanghai"),
    ("HZ", "杭州", "Asia/Shanghai"),
    ("CD", "成都", "Asia/Shanghai"),
    ("WH", "武汉", "Asia/Shanghai"),
    ("NJ", "南京", "Asia/Shanghai"),
    ("SU", "苏州", "Asia/Shanghai"),
    ("CQ", "重庆", "Asia/Shanghai"),
    ("XA", "西安", "Asia/Shanghai"),
    ("TJ", "天津", "Asia/Shanghai"),
    ("CS", "长沙", "Asia/Shanghai"),
    ("QD", "青岛", "Asia/Shanghai"),
    ("XM", "厦门", "Asia/Shanghai"),
    ("KM", "昆明", "Asia/Shanghai"),
    ("UR", "乌鲁木齐", "Asia/Urumqi"),
]
ESTATE_PREFIXES = [
    "翠湖",
    "锦绣",
    "滨江",
    "阳光",
    "碧水",
    "御景",
    "紫荆",
    "香樟",
    "金色",
    "海棠",
    "丽都",
    "玉兰",
    "星河",
    "云栖",
    "枫林",
    "春华",
    "东方",
    "世纪",
    "新城",
    "名仕",
    "静安",
    "望江",
    "月湾",
    "梧桐",
    "橡树",
    "君悦",
    "华庭",
    "银杏",
    "绿洲",
    "天誉",
]
ESTATE_SUFFIXES = [
    "花园",
    "家园",
    "公馆",
    "名邸",
    "雅苑",
    "华府",
    "新村",
    "山庄",
    "广场",
    "国际",
    "湾",
    "府",
    "城",
    "苑",
    "里",
]
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "罗",
    "高",
    "梁",
    "郑",
    "谢",
    "宋",
    "唐",
]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "军",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "丽娟",
    "海燕",
    "国强",
    "晓东",
    "文博",
]


@dataclass(frozen=True)
class DemoOptions:
    offices: int
    days: int
    seed: int
    now: datetime
    progress: Progress = NO_PROGRESS
    """Where the steps report how far they are (``operational.progress``)."""


DemoStep = Callable[[Session, DemoOptions, random.Random], None]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def org_rows(offices: int, seed: int) -> list[Row]:
    """The demo organisation as import rows: ``offices`` offices spread over city companies."""
    rng = random.Random(seed)
    n_cities = min(len(CITIES), max(2, -(-offices // 6)))
    rows: list[Row] = []
    used: set[tuple[str, str]] = set()
    for i in range(offices):
        code, city, zone = CITIES[i % n_cities]
        number = i // n_cities + 1
        while True:
            estate = rng.choice(ESTATE_PREFIXES) + rng.choice(ESTATE_SUFFIXES)
            if (city, estate) not in used or len(used) > 10 * offices:
                used.add((city, estate))
                break
        rows.append(
            (
                i + 2,
                {
                    "city_code": code,
                    "city_name": f"{city}城市公司",
                    "office_code": f"{code}{number:03d}",
                    "office_name": f"{city}{estate}管理处",
                    "timezone": zone,
                },
            )
        )
    return rows


def demo_users(first_office: str, first_city: str) -> list[tuple[str, Role, ScopeLevel, str]]:
    """The demo logins: (username, role, scope level, scope code)."""
    return [
        ("admin", Role.GROUP_ADMIN, ScopeLevel.GROUP, ""),
        ("hq", Role.HQ_VIEWER, ScopeLevel.GROUP, ""),
        ("audit", Role.GROUP_AUDIT_MANAGER, ScopeLevel.GROUP, ""),
        ("city.audit", Role.CITY_AUDIT_MANAGER, ScopeLevel.CITY, first_city),
        ("manager", Role.OFFICE_MANAGER, ScopeLevel.OFFICE, first_office),
        ("engineer", Role.ENGINEERING_SUPERVISOR, ScopeLevel.OFFICE, first_office),
    ]


def _org_and_users(session: Session, options: DemoOptions, rng: random.Random) -> None:
    with stage(options.progress, "ops.progress.demo.org"):
        _add_org_and_users(session, options, rng)


def _add_org_and_users(session: Session, options: DemoOptions, rng: random.Random) -> None:
    group = ensure_group(session, "YY", "一应物业集团")
    rows = org_rows(options.offices, options.seed)
    import_org_rows(session, rows, group=group, actor=system_principal("demo"))
    first = rows[0][1]
    existing = set(session.scalars(select(User.username)))
    for username, role, level, code in demo_users(first["office_code"], first["city_code"]):
        if username not in existing:
            add_user(
                session,
                system_principal("demo"),
                username=username,
                display_name=person_name(rng),
                password=DEMO_PASSWORD,
                grants=[GrantSpec(role, level, code)],
            )


STEPS: list[DemoStep] = [
    _org_and_users,
    energy_step,
    orders_step,
    faults_step,
    suppliers_step,
    property_step,  # appended last: the steps before it draw what they always drew
    inspections_step,  # draws from its own generator
    tickets_step,  # after the houses: callers are their occupants (draws of its own)
    supplier_users_step,  # its own draws: after the others
]


def load_demo(session: Session, options: DemoOptions) -> None:
    """Load (or complete) the demo group; running it again adds nothing twice."""
    rng = random.Random(options.seed)
    for step in STEPS:
        step(session, options, rng)
        session.flush()


def demo_office_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Office.code).order_by(Office.code)))
