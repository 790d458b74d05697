"""A generated group at any scale: offices × metering points × days of daily readings.

Deterministic for a seed. Each office has an electricity and a water meter tree:

    E-MAIN (CT meter, ×200) → E-B<k> (one per building, ×40) → E-B<k>-S<j> (sub-meters, ×1)
    W-MAIN                  → W-B<k>                           → W-B<k>-S<j>

with ``points`` points in all (at least 4), buildings of a known floor area, and one reading per
point per day at about 09:00 office-local time (± 40 min). Parents read a few per cent more than
their children (loss), use follows the seasons. Registers have enough digits that nothing rolls
over; the data is clean (no held intervals), so a build does the full arithmetic on every row.

The operational structure (org, buildings, points, meters) is written with plain inserts; the
readings come out per office as polars frames, to be fed either to the real readings import
(:func:`readings_csv`) or to the fastest bulk path of the backend (:func:`bulk_load`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from sqlalchemy import Engine, insert

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work, upgrade
from operational.imports.org import ensure_group, import_org_rows
from operational.models import Building, Meter, MeterPoint, Office

GROUP_CODE = "BENCH"
GROUP_NAME = "基准测试物业集团"
OFFICES_PER_CITY = 10
ENTERED_BY = "bench"


@dataclass(frozen=True)
class Scale:
    offices: int
    points: int  # per office
    days: int  # days of history (one reading per point per day)
    seed: int = 11

    def __post_init__(self) -> None:
        if self.offices < 1 or self.days < 2 or self.points < 4:
            raise ValueError("need offices ≥ 1, points ≥ 4 per office and days ≥ 2")

    @property
    def readings(self) -> int:
        return self.offices * self.points * self.days

    @property
    def readings_per_office(self) -> int:
        return self.points * self.days


@dataclass(frozen=True)
class PointSpec:
    code: str
    kind: str
    parent: str | None
    building: int | None  # building number, 1-based
    multiplier: int
    digits: int


@dataclass
class OfficePlan:
    index: int
    code: str
    city: str
    timezone: str
    buildings: dict[int, float]  # number → area m²
    specs: list[PointSpec]
    point_ids: list[int] = field(default_factory=list)
    meter_ids: list[int] = field(default_factory=list)


@dataclass
class GroupPlan:
    """The generated group: history ``start``..``end`` (local days), then one ``refresh_day``."""

    scale: Scale
    start: date
    offices: list[OfficePlan]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.scale.days - 1)

    @property
    def refresh_day(self) -> date:
        return self.end + timedelta(days=1)


def office_tree(code: str, points: int) -> list[PointSpec]:
    """The points of one office, parents before children."""
    buildings = max(1, min(5, (points - 2) // 12 + 1))
    specs = [
        PointSpec(f"{code}-E-MAIN", "electricity", None, None, 200, 8),
        PointSpec(f"{code}-W-MAIN", "water", None, None, 1, 8),
    ]
    for k in range(1, buildings + 1):
        specs.append(PointSpec(f"{code}-E-B{k}", "electricity", f"{code}-E-MAIN", k, 40, 8))
        specs.append(PointSpec(f"{code}-W-B{k}", "water", f"{code}-W-MAIN", k, 1, 8))
    subs = points - len(specs)
    for j in range(subs):  # round-robin over buildings; three electricity sub-meters per water one
        k = j % buildings + 1
        n = j // buildings + 1
        kind, letter = ("water", "W") if n % 4 == 0 else ("electricity", "E")
        specs.append(
            PointSpec(f"{code}-{letter}-B{k}-S{n}", kind, f"{code}-{letter}-B{k}", k, 1, 7)
        )
    return specs[:points]


def plan_group(scale: Scale, today: date | None = None) -> GroupPlan:
    """History ending two days before ``today`` (local), so the refresh day is yesterday."""
    today = today or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    start = today - timedelta(days=scale.days + 1)
    rng = np.random.default_rng(scale.seed)
    offices = []
    for i in range(scale.offices):
        code = f"O{i + 1:04d}"
        city = f"C{i // OFFICES_PER_CITY + 1:03d}"
        zone = "Asia/Urumqi" if i % 17 == 16 else "Asia/Shanghai"
        specs = office_tree(code, scale.points)
        n_buildings = sum(
            1 for s in specs if s.code.startswith(f"{code}-E-B") and "-S" not in s.code
        )
        areas = {k: float(rng.integers(80, 260)) * 100 for k in range(1, n_buildings + 1)}
        offices.append(OfficePlan(i, code, city, zone, areas, specs))
    return GroupPlan(scale, start, offices)


# ---------------------------------------------------------------- the structure


def create_structure(url: str, plan: GroupPlan) -> None:
    """Migrate the database, then create the group, cities, offices, buildings, points, meters.

    Fills ``point_ids`` / ``meter_ids`` of every office plan (in the order of its specs).
    """
    upgrade(url)
    engine = create_db_engine(url)
    installed = {zone: _local_midnight(plan.start, zone) for zone in _zones(plan)}
    try:
        with unit_of_work(engine) as session:
            group = ensure_group(session, GROUP_CODE, GROUP_NAME)
            rows = [
                (
                    n + 2,
                    {
                        "city_code": o.city,
                        "city_name": f"城市{o.city}",
                        "office_code": o.code,
                        "office_name": f"项目{o.code}",
                        "timezone": o.timezone,
                    },
                )
                for n, o in enumerate(plan.offices)
            ]
            import_org_rows(session, rows, group=group, actor=system_principal(ENTERED_BY))
            session.flush()
            office_ids = dict(
                session.execute(
                    Office.__table__.select().with_only_columns(Office.code, Office.id)
                ).all()
            )
            building_ids: dict[tuple[str, int], int] = {}
            for o in plan.offices:
                for k, area in o.buildings.items():
                    bid = session.execute(
                        insert(Building).returning(Building.id),
                        [
                            {
                                "office_id": office_ids[o.code],
                                "name": f"{k}号楼",
                                "area_m2": Decimal(f"{area:.2f}"),
                            }
                        ],
                    ).scalar_one()
                    building_ids[(o.code, k)] = bid
            # points level by level (a parent's id is needed by its children)
            point_ids: dict[str, int] = {}
            by_code = {s.code: (o, s) for o in plan.offices for s in o.specs}
            levels: list[list[str]] = [[], [], []]
            for code, (_, s) in by_code.items():
                depth = 0 if s.parent is None else (1 if by_code[s.parent][1].parent is None else 2)
                levels[depth].append(code)
            for codes in levels:
                for chunk in _chunked(codes, 5_000):
                    values = []
                    for code in chunk:
                        o, s = by_code[code]
                        values.append(
                            {
                                "office_id": office_ids[o.code],
                                "code": s.code,
                                "name": s.code,
                                "kind": s.kind,
                                "parent_id": point_ids[s.parent] if s.parent else None,
                                "building_id": building_ids[(o.code, s.building)]
                                if s.building
                                else None,
                                "created_at": installed[o.timezone],
                            }
                        )
                    for pid, code in session.execute(
                        insert(MeterPoint).returning(MeterPoint.id, MeterPoint.code), values
                    ):
                        point_ids[code] = pid
            meter_ids: dict[int, int] = {}
            meter_rows = [
                {
                    "point_id": point_ids[s.code],
                    "serial": f"SN{point_ids[s.code]:08d}",
                    "multiplier": Decimal(s.multiplier),
                    "digits": s.digits,
                    "installed_at": installed[o.timezone],
                    "initial_reading": Decimal(f"{_initial(o, i):.1f}"),
                }
                for o in plan.offices
                for i, s in enumerate(o.specs)
            ]
            for chunk in _chunked(meter_rows, 5_000):
                for mid, pid in session.execute(
                    insert(Meter).returning(Meter.id, Meter.point_id), chunk
                ):
                    meter_ids[pid] = mid
            for o in plan.offices:
                o.point_ids = [point_ids[s.code] for s in o.specs]
                o.meter_ids = [meter_ids[p] for p in o.point_ids]
    finally:
        engine.dispose()


def _chunked(items: list, size: int) -> Iterator[list]:  # type: ignore[type-arg]
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _zones(plan: GroupPlan) -> set[str]:
    return {o.timezone for o in plan.offices}


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


def _initial(office: OfficePlan, i: int) -> float:
    return 1_000.0 + ((office.index * 7_919 + i * 104_729) % 49_000)


# ---------------------------------------------------------------- readings


def _season(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    summer = np.exp(-(((days - 206) / 38.0) ** 2))
    winter = np.maximum(np.exp(-(((days - 15) / 32.0) ** 2)), np.exp(-(((days - 380) / 32.0) ** 2)))
    return summer, winter


def office_readings(plan: GroupPlan, office: OfficePlan, first: int, last: int) -> pl.DataFrame:
    """Readings of days ``first``..``last`` (0-based, inclusive; the history is 0..days-1 and
    day ``days`` is the refresh day) of one office: point_id, meter_id, point_code, read_at
    (naive UTC), local (office-local text), reading (register value)."""
    scale = plan.scale
    n_days = scale.days + 1  # the history and the refresh day
    rng = np.random.default_rng([scale.seed, office.index])
    day0 = plan.start
    dates = [day0 + timedelta(days=d) for d in range(n_days)]
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    weekend = np.array([0.93 if d.weekday() >= 5 else 1.0 for d in dates])
    summer, winter = _season(doy)
    specs = office.specs
    index = {s.code: i for i, s in enumerate(specs)}
    rates = np.zeros((len(specs), n_days))
    children: dict[int, list[int]] = {}
    for i, s in enumerate(specs):
        if s.parent is not None:
            children.setdefault(index[s.parent], []).append(i)
    # leaves and each building's own (tenant) use, then parents bottom-up
    for i in reversed(range(len(specs))):
        s = specs[i]
        if s.kind == "electricity":
            base, su, wi = rng.uniform(30, 120), 0.6, 0.25
        else:
            base, su, wi = rng.uniform(3, 12), 0.3, 0.0
        noise = rng.uniform(0.92, 1.08, n_days)
        own = base * (1 + su * summer + wi * winter) * weekend * noise
        if i in children:
            loss = rng.uniform(0.02, 0.05)
            area = office.buildings.get(s.building or 0, 0.0)
            tenant = own * (area / 400.0 if s.building else 0.0)
            rates[i] = (rates[children[i]].sum(axis=0) + tenant) * (1 + loss)
        else:
            rates[i] = own
    multipliers = np.array([s.multiplier for s in specs], dtype=float)[:, None]
    initial = np.array([_initial(office, i) for i in range(len(specs))])[:, None]
    units = initial + np.cumsum(rates / multipliers, axis=1)
    values = np.round(units, 1)
    # read instants: local 09:00 ± 40 min, as naive UTC microseconds
    zone = ZoneInfo(office.timezone)
    nine = np.array(
        [
            int(datetime.combine(d, time(9), zone).astimezone(UTC).timestamp() * 1_000_000)
            for d in dates
        ],
        dtype=np.int64,
    )
    offset_us = np.array(
        [
            int(datetime.combine(d, time(9), zone).utcoffset().total_seconds()) * 1_000_000
            for d in dates
        ],  # type: ignore[union-attr]
        dtype=np.int64,
    )
    jitter = rng.integers(-2_400, 2_400, size=(len(specs), n_days)).astype(np.int64) * 1_000_000
    instants = nine[None, :] + jitter
    cols = slice(first, last + 1)
    width = last - first + 1
    read_at = instants[:, cols].ravel()
    local = (instants[:, cols] + offset_us[None, cols]).ravel()
    return pl.DataFrame(
        {
            "point_id": np.repeat(np.array(office.point_ids, dtype=np.int64), width),
            "meter_id": np.repeat(np.array(office.meter_ids, dtype=np.int64), width),
            "point_code": np.repeat(np.array([s.code for s in specs]), width),
            "read_at": pl.Series(read_at).cast(pl.Datetime("us")),
            "local": pl.Series(local).cast(pl.Datetime("us")).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "reading": values[:, cols].ravel(),
        }
    )


def readings_csv(frame: pl.DataFrame, path: Path) -> None:
    """The frame as a ``propcloud import readings`` file: point_code, read_at (local), reading."""
    frame.select(
        "point_code", pl.col("local").alias("read_at"), pl.col("reading").round(1)
    ).write_csv(path, float_precision=1)


# ---------------------------------------------------------------- bulk load (the fastest path)


def bulk_load(engine: Engine, frames: Iterator[pl.DataFrame]) -> int:
    """Insert readings without validation: COPY (CSV) on PostgreSQL, executemany on SQLite.

    Values are stored exactly as the application stores them (UTC, REAL/NUMERIC, source
    ``import``). One transaction. Returns the number of rows.
    """
    entered = datetime.now(UTC).replace(tzinfo=None)
    count = 0
    with engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        if engine.dialect.name == "postgresql":
            statement = (
                "COPY energy_reading (point_id, meter_id, read_at, reading, source, void,"
                " entered_by, entered_at) FROM STDIN WITH (FORMAT csv)"
            )
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for frame in frames:
                    buffer = io.BytesIO()
                    _bulk_columns(frame, entered).write_csv(
                        buffer, include_header=False, float_precision=1
                    )
                    copy.write(buffer.getvalue())
                    count += frame.height
            return count
        sql = (
            "INSERT INTO energy_reading (point_id, meter_id, read_at, reading, source,"
            " void, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        cursor = driver.cursor()
        for frame in frames:
            cursor.executemany(sql, _bulk_columns(frame, entered).iter_rows())
            count += frame.height
        cursor.close()
    return count


def _bulk_columns(frame: pl.DataFrame, entered: datetime) -> pl.DataFrame:
    stamp = "%Y-%m-%d %H:%M:%S%.6f"  # as SQLAlchemy's DateTime stores it on SQLite
    return frame.select(
        "point_id",
        "meter_id",
        pl.col("read_at").dt.strftime(stamp),
        pl.col("reading").round(1),
        pl.lit("import").alias("source"),
        pl.lit(False).alias("void"),
        pl.lit(ENTERED_BY).alias("entered_by"),
        pl.lit(entered.strftime("%Y-%m-%d %H:%M:%S.%f")).alias("entered_at"),
    )
