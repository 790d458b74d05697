"""Demo step: every office gets buildings and meter trees with daily readings that tell a story.

Electricity: estate master (CT meter) → one meter per building → common-area sub-meters (lifts,
corridor lighting) under each building, plus the estate's water pumps under the master.
Water: master → one meter per building. Use follows the seasons (summer air-conditioning peak,
winter lighting), masters read a few % more than their sub-meters (loss), and each office has a
meter replacement, a 5-digit register that rolls over, a stretch of missing readings and a
leak day that is flagged as unusually high. Deterministic for the seed; points that already
exist are skipped.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.energy import History, IntervalStatus, classify
from operational.imports.energy import insert_readings
from operational.models import Meter, MeterPoint, Office
from operational.progress import Advance, stage
from operational.services.energy import ensure_building

if TYPE_CHECKING:
    from operational.demo import DemoOptions

BUILDING_NAMES = ["1号楼", "2号楼", "3号楼", "4号楼", "5号楼"]


@dataclass
class _Spec:
    code: str
    name: str
    kind: str
    parent: str | None
    building: str | None
    multiplier: int
    digits: int | None
    rates: list[float]  # consumption per day, per calendar day of the history
    initial: float = 0.0
    skip: range = range(0)
    replace_day: int | None = None
    children: list[str] = field(default_factory=list)


def _season(day: date) -> tuple[float, float]:
    """(summer, winter) weights in 0..1 for a day of the year."""
    doy = day.timetuple().tm_yday
    summer = math.exp(-(((doy - 206) / 38) ** 2))
    winter = max(math.exp(-(((doy - 15) / 32) ** 2)), math.exp(-(((doy - 380) / 32) ** 2)))
    return summer, winter


def _series(
    rng: random.Random, dates: list[date], base: float, summer: float, winter: float, noise: float
) -> list[float]:
    out = []
    for d in dates:
        s, w = _season(d)
        weekend = 0.93 if d.weekday() >= 5 else 1.0
        out.append(
            base * (1 + summer * s + winter * w) * weekend * rng.uniform(1 - noise, 1 + noise)
        )
    return out


def _specs(
    rng: random.Random, office: str, dates: list[date]
) -> tuple[list[_Spec], dict[str, float]]:
    n = len(dates)
    buildings = rng.randint(3, 5)
    areas = {BUILDING_NAMES[i]: float(rng.randrange(8_000, 26_000, 100)) for i in range(buildings)}
    specs: list[_Spec] = []
    e_main, w_main = f"{office}-E-MAIN", f"{office}-W-MAIN"
    e_children: list[list[float]] = []
    w_children: list[list[float]] = []
    story = n >= 20
    for i, b in enumerate(areas):
        k = i + 1
        lift = _series(rng, dates, rng.uniform(60, 120), 0.1, 0.0, 0.08)
        light = _series(rng, dates, rng.uniform(25, 45), 0.0, 0.3, 0.06)
        other = _series(rng, dates, areas[b] * rng.uniform(0.025, 0.045), 0.9, 0.25, 0.08)
        building = [a + b_ + c for a, b_, c in zip(lift, light, other, strict=True)]
        e_children.append(building)
        code = f"{office}-E-B{k}"
        specs.append(
            _Spec(
                code,
                f"{b}总电表",
                "electricity",
                e_main,
                b,
                40,
                6,
                building,
                initial=rng.uniform(1_000, 60_000),
                replace_day=int(n * 0.6) if story and k == 2 else None,
            )
        )
        specs.append(
            _Spec(
                f"{code}-LIFT",
                f"{b}电梯",
                "electricity",
                code,
                b,
                1,
                6,
                lift,
                initial=rng.uniform(1_000, 300_000),
            )
        )
        light_initial = rng.uniform(1_000, 60_000)
        if k == 1:  # a 5-digit register that rolls over about 40 % into the history
            light_initial = max(0.0, 100_000 - sum(light[: max(2, int(n * 0.4))]) + light[0] / 2)
        specs.append(
            _Spec(
                f"{code}-LIGHT",
                f"{b}公共照明",
                "electricity",
                code,
                b,
                1,
                5 if k == 1 else 6,
                light,
                initial=light_initial,
            )
        )
        water = _series(rng, dates, areas[b] * rng.uniform(0.003, 0.005), 0.3, 0.0, 0.1)
        if story and k == 2:  # a burst pipe: one day of about six times the usual use
            water[int(n * 0.75)] *= 6
        w_children.append(water)
        specs.append(
            _Spec(
                f"{office}-W-B{k}",
                f"{b}总水表",
                "water",
                w_main,
                b,
                1,
                6,
                water,
                initial=rng.uniform(100, 20_000),
                skip=range(int(n * 0.3), int(n * 0.3) + 9) if story and k == 1 else range(0),
            )
        )
    pump = _series(rng, dates, rng.uniform(80, 150), 0.3, 0.0, 0.08)
    specs.append(
        _Spec(
            f"{office}-E-PUMP",
            "生活水泵房",
            "electricity",
            e_main,
            None,
            1,
            6,
            pump,
            initial=rng.uniform(1_000, 80_000),
        )
    )
    e_children.append(pump)
    e_loss, w_loss = rng.uniform(0.02, 0.05), rng.uniform(0.03, 0.06)
    e_total = [
        sum(col) * (1 + e_loss) * rng.uniform(0.995, 1.005) for col in zip(*e_children, strict=True)
    ]
    w_total = [
        sum(col) * (1 + w_loss) * rng.uniform(0.99, 1.01) for col in zip(*w_children, strict=True)
    ]
    specs.insert(
        0,
        _Spec(
            e_main,
            "小区总电表",
            "electricity",
            None,
            None,
            200,
            6,
            e_total,
            initial=rng.uniform(1_000, 200_000),
        ),
    )
    specs.insert(
        1,
        _Spec(
            w_main,
            "小区总水表",
            "water",
            None,
            None,
            1,
            7,
            w_total,
            initial=rng.uniform(1_000, 500_000),
        ),
    )
    return specs, areas


def _register(value: float, digits: int | None) -> Decimal:
    if digits is not None:
        value %= 10**digits
    return Decimal(f"{value:.1f}")


def energy_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    if options.days < 2:  # meter trees without a history would tell no story
        return
    existing = set(session.scalars(select(MeterPoint.code)))
    offices = list(session.scalars(select(Office).order_by(Office.code)))
    with stage(options.progress, "ops.progress.demo.energy", len(offices)) as advance:
        _energy(session, options, offices, existing, advance)


def _energy(
    session: Session,
    options: DemoOptions,
    offices: list[Office],
    existing: set[str],
    advance: Advance,
) -> None:
    now = options.now.astimezone(UTC)
    readings: list[dict[str, Any]] = []
    for office in offices:
        if f"{office.code}-E-MAIN" in existing:
            advance(1, office.code)
            continue
        zone = ZoneInfo(office.timezone)
        end = now.astimezone(zone).date()
        dates = [end - timedelta(days=options.days - 1 - i) for i in range(options.days)]
        rng = random.Random(f"{options.seed}:energy:{office.code}")
        specs, areas = _specs(rng, office.code, dates)
        building_ids = {
            name: ensure_building(session, office, name, Decimal(f"{area:.2f}")).id
            for name, area in areas.items()
        }
        start = datetime.combine(dates[0], time(0), zone).astimezone(UTC)
        ids: dict[str, int] = {}
        for spec in specs:
            point = MeterPoint(
                office_id=office.id,
                code=spec.code,
                name=spec.name,
                kind=spec.kind,
                parent_id=ids[spec.parent] if spec.parent else None,
                building_id=building_ids[spec.building] if spec.building else None,
                created_at=start,
            )
            session.add(point)
            session.flush()
            ids[spec.code] = point.id
            readings.extend(_point_readings(session, rng, spec, point.id, dates, zone, start, now))
        if len(readings) > 200_000:  # keep memory flat at hundreds of offices
            insert_readings(session, readings)
            readings = []
        advance(1, office.code)
    insert_readings(session, readings)


def _point_readings(
    session: Session,
    rng: random.Random,
    spec: _Spec,
    point_id: int,
    dates: list[date],
    zone: ZoneInfo,
    start: datetime,
    now: datetime,
) -> list[dict[str, Any]]:
    meter = Meter(
        point_id=point_id,
        serial=f"SN{rng.randrange(10**8):08d}",
        multiplier=Decimal(spec.multiplier),
        digits=spec.digits,
        installed_at=start,
        initial_reading=_register(spec.initial, spec.digits),
    )
    session.add(meter)
    session.flush()
    multiplier = Decimal(spec.multiplier)
    history = History()
    nine = [datetime.combine(d, time(9, 0), zone).astimezone(UTC) for d in dates]
    out: list[dict[str, Any]] = []
    units = spec.initial  # register units, before the register wraps
    prev_t, prev_r = start, meter.initial_reading
    for i, day in enumerate(dates):
        read_at = nine[i] + timedelta(seconds=int(rng.random() * 4800) - 2400)
        units += spec.rates[i] / spec.multiplier
        if read_at > now:
            break
        if i not in spec.skip:
            value = _register(units, spec.digits)
            interval = classify(
                prev_t, read_at, prev_r, value, multiplier, meter.digits, history.typical()
            )
            history.add(interval)
            flag = None if interval.status is IntervalStatus.OK else interval.status.value
            out.append(
                {
                    "point_id": point_id,
                    "meter_id": meter.id,
                    "read_at": read_at,
                    "reading": value,
                    "source": "demo",
                    "flag": flag,
                    "entered_by": "demo",
                    "entered_at": now,
                }
            )
            prev_t, prev_r = read_at, value
        swap = datetime.combine(day, time(14, 0), zone).astimezone(UTC)
        if i == spec.replace_day and i + 1 < len(dates) and swap < now:
            # The old meter comes off in the afternoon; the new one starts at 0.
            part = spec.rates[i + 1] * 5 / 24 / spec.multiplier
            final = _register(units + part, spec.digits)
            meter.removed_at, meter.final_reading = swap, final
            history.add(
                classify(prev_t, swap, prev_r, final, multiplier, meter.digits, history.typical())
            )
            meter = Meter(
                point_id=point_id,
                serial=f"SN{rng.randrange(10**8):08d}",
                multiplier=multiplier,
                digits=spec.digits,
                installed_at=swap,
                initial_reading=Decimal(0),
            )
            session.add(meter)
            session.flush()
            units = -part
            prev_t, prev_r = swap, meter.initial_reading
    return out
