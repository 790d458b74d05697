"""Demo step: outsourced suppliers (供方) of the first offices, with their history.

Three suppliers per discipline serve the first :data:`MAX_OFFICES` offices, one contract per
office and discipline from the start of the demo's history; each contract has the usual
deduction standard (1 point ¥50, 2 points ¥100, 3 points ¥200 — doubled for engineering), and
every month so far brings a few nonconformities — some against the supplier with breach points —
and the office's manual points (staffing shortfall 缺编, training, tools and materials). Suppliers
differ in quality and each drifts month to month on a cycle of its own, so the ranking has
something to show and changes from month to month (the inspections step adds the nonconformities
of failed items, charged to the contracts too: ``operational.demo.inspection_history``). Everything goes through the supplier
imports (the same checks, audited as ``demo``); a second run finds every row unchanged.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.imports.suppliers import (
    import_contract_rows,
    import_nonconformity_rows,
    import_score_rows,
    import_standard_rows,
    import_supplier_rows,
)
from operational.imports.table import Row
from operational.models import Discipline, Office
from operational.progress import stage

if TYPE_CHECKING:
    from operational.demo import DemoOptions

DEMO = system_principal("demo")
MAX_OFFICES = 12
"""Suppliers serve the first offices only: the demo stays small however many offices it has."""

# discipline → three suppliers (code, name), the first the best
SUPPLIERS: dict[str, list[tuple[str, str]]] = {
    Discipline.CLEANING: [
        ("SUP-CL01", "洁美保洁服务有限公司"),
        ("SUP-CL02", "净源物业清洁有限公司"),
        ("SUP-CL03", "绿洲环境卫生服务有限公司"),
    ],
    Discipline.SECURITY: [
        ("SUP-SE01", "安盾保安服务有限公司"),
        ("SUP-SE02", "卫士安保集团有限公司"),
        ("SUP-SE03", "恒安秩序管理有限公司"),
    ],
    Discipline.LANDSCAPING: [
        ("SUP-LA01", "青禾园林绿化工程有限公司"),
        ("SUP-LA02", "四季景观养护有限公司"),
        ("SUP-LA03", "森源花木绿化有限公司"),
    ],
    Discipline.ENGINEERING: [
        ("SUP-EN01", "迅达机电设备维保有限公司"),
        ("SUP-EN02", "华通电梯工程有限公司"),
        ("SUP-EN03", "宏力暖通设备安装有限公司"),
    ],
}
# quality: expected nonconformities a month per supplier rank (best first), each supplier's
# drifting month to month (_drift), so the monthly ranking changes
RATES = (0.4, 0.9, 1.6)
ITEMS = (
    ("缺编 staffing shortfall", (Decimal(0), Decimal(0), Decimal(-1), Decimal(-2))),
    ("培训 training", (Decimal(0), Decimal(1))),
    ("工具物料 tools and materials", (Decimal(0), Decimal(0), Decimal("-0.5"))),
)


def _rows(values: list[dict[str, str]]) -> list[Row]:
    return [(n, v) for n, v in enumerate(values, start=2)]


def _months(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _drift(seed: int, supplier_code: str, month: date) -> float:
    """How a supplier's month compares with its usual quality: a cycle of its own (5–13
    months, its own phase), so that suppliers overtake each other from month to month."""
    own = random.Random(f"{seed}:drift:{supplier_code}")
    phase, period = own.uniform(0.0, 2 * math.pi), own.uniform(5.0, 13.0)
    months = month.year * 12 + month.month
    return 1.0 + 0.9 * math.sin(2 * math.pi * months / period + phase)


def _poisson(rng: random.Random, rate: float) -> int:
    """How many events of a month at ``rate`` (small rates: a few trials suffice)."""
    return sum(rng.random() < rate / 4 for _ in range(4))


def suppliers_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    rng = random.Random(options.seed * 7919 + 16)  # its own draws: other steps stay as they were
    offices = list(session.scalars(select(Office).order_by(Office.code).limit(MAX_OFFICES)))
    if not offices:
        return
    with stage(options.progress, "ops.progress.demo.suppliers"):
        _load(session, options, rng, offices)


def _load(
    session: Session, options: DemoOptions, rng: random.Random, offices: list[Office]
) -> None:
    now = options.now
    import_supplier_rows(
        session,
        _rows(
            [
                {"supplier_code": code, "name": name, "discipline": str(discipline)}
                for discipline, suppliers in SUPPLIERS.items()
                for code, name in suppliers
            ]
        ),
        actor=DEMO,
    )
    contracts: list[dict[str, Any]] = []
    for i, office in enumerate(offices):
        zone = ZoneInfo(office.timezone)
        start = (now - timedelta(days=options.days)).astimezone(zone).date().replace(day=1)
        for d, (discipline, suppliers) in enumerate(SUPPLIERS.items()):
            rank = (i + d) % len(suppliers)
            contracts.append(
                {
                    "contract_no": f"HT-{office.code}-{str(discipline)[:2].upper()}",
                    "supplier_code": suppliers[rank][0],
                    "office": office,
                    "zone": zone,
                    "rank": rank,
                    "discipline": str(discipline),
                    "starts_on": start,
                    "ends_on": date(start.year + 3, start.month, 1) - timedelta(days=1),
                    "amount": Decimal(rng.randrange(20, 80) * 6000),
                    "factor": 2 if discipline == Discipline.ENGINEERING else 1,
                }
            )
    import_contract_rows(
        session,
        _rows(
            [
                {
                    "contract_no": c["contract_no"],
                    "supplier_code": c["supplier_code"],
                    "office_code": c["office"].code,
                    "discipline": c["discipline"],
                    "starts_on": c["starts_on"].isoformat(),
                    "ends_on": c["ends_on"].isoformat(),
                    "amount": str(c["amount"]),
                }
                for c in contracts
            ]
        ),
        actor=DEMO,
    )
    import_standard_rows(
        session,
        _rows(
            [
                {
                    "contract_no": c["contract_no"],
                    "points": str(points),
                    "amount": str(amount * c["factor"]),
                }
                for c in contracts
                for points, amount in ((1, 50), (2, 100), (3, 200))
            ]
        ),
        actor=DEMO,
    )
    nonconformities: list[dict[str, str]] = []
    scores: list[dict[str, str]] = []
    for c in contracts:
        local_now = now.astimezone(c["zone"])
        last = min(local_now.date(), c["ends_on"]).replace(day=1)
        for month in _months(c["starts_on"], last):
            rate = RATES[c["rank"]] * _drift(options.seed, c["supplier_code"], month)
            for k in range(_poisson(rng, rate)):
                day = month + timedelta(days=rng.randrange(28))
                opened = datetime(
                    day.year, day.month, day.day, rng.randrange(8, 18), 0, tzinfo=c["zone"]
                )
                if opened > local_now or day > c["ends_on"]:
                    continue
                kind = rng.choices(("notice", "handling", "corrective_preventive"), (3, 2, 2))[0]
                points = "" if kind == "notice" else str(rng.choices((1, 2, 3), (6, 3, 1))[0])
                closed = opened + timedelta(days=rng.randrange(1, 10), hours=rng.randrange(8))
                nonconformities.append(
                    {
                        "nc_no": f"NC-{c['contract_no'][3:]}-{month:%Y%m}-{k + 1}",
                        "office_code": c["office"].code,
                        "kind": kind,
                        "discipline": c["discipline"],
                        "opened_at": f"{opened:%Y-%m-%d %H:%M}",
                        "closed_at": f"{closed:%Y-%m-%d %H:%M}" if closed < local_now else "",
                        "contract_no": c["contract_no"],
                        "breach_points": points,
                    }
                )
            for item, choices in ITEMS:
                points_given = rng.choice(choices)
                if points_given:
                    scores.append(
                        {
                            "contract_no": c["contract_no"],
                            "month": f"{month:%Y-%m}",
                            "item": item,
                            "points": str(points_given),
                        }
                    )
    import_nonconformity_rows(session, _rows(nonconformities), actor=DEMO, now=now)
    import_score_rows(session, _rows(scores), actor=DEMO)
