"""Energy commands: metering points, meter installations and replacements, readings, corrections.

Every command validates against DOMAIN §1, writes in the caller's transaction, appends audit
entries and raises :class:`~operational.errors.DomainError` with a catalogue key (``energy.*``)
so the form and the command line show the message in the user's language. A roll-over or an
unusually high reading raises a :class:`ConfirmationNeeded` subclass naming the confirmation the
user must give; the same call with that confirmation then stores the reading, flagged.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from operational import audit
from operational.auth import Permission, Principal
from operational.energy import (
    History,
    Installation,
    Interval,
    IntervalStatus,
    classify,
    point_intervals,
    register_size,
)
from operational.errors import DomainError, NotFound, PermissionDenied
from operational.models import (
    Building,
    EnergyKind,
    Meter,
    MeterPoint,
    Office,
    Reading,
    ReadingFlag,
    ReadingSource,
    utcnow,
)

POINT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
CLOCK_SKEW = timedelta(minutes=5)
"""A reading up to this far ahead of the server's clock is not 'in the future' (phone clocks)."""
MAX_DIGITS = 12


class ConfirmationNeeded(DomainError):
    """The reading is possible but unusual: the user must confirm ``confirmation`` to store it."""

    confirmation: ClassVar[str]


class RolloverConfirmationNeeded(ConfirmationNeeded):
    """Lower than the previous reading: a register roll-over, if the user confirms it."""

    confirmation = "rollover"


class HighReadingConfirmationNeeded(ConfirmationNeeded):
    """Implausibly high against the point's typical daily use: store only if confirmed."""

    confirmation = "high"


@dataclass(frozen=True)
class MeterView:
    meter_id: int
    point_code: str
    serial: str | None
    multiplier: Decimal
    digits: int | None
    installed_at: datetime
    initial_reading: Decimal
    removed_at: datetime | None
    final_reading: Decimal | None


@dataclass(frozen=True)
class ReadingView:
    reading_id: int
    point_code: str
    meter_id: int
    read_at: datetime
    reading: Decimal
    source: str
    flag: str | None
    entered_by: str
    entered_at: datetime


@dataclass(frozen=True)
class RecordedReading:
    """A stored reading and the interval it closes (Δ in consumption units, after multiplier)."""

    reading: ReadingView
    delta: Decimal | None
    status: IntervalStatus


@dataclass(frozen=True)
class PointSummary:
    code: str
    name: str
    kind: str
    office_code: str
    building: str | None
    parent_code: str | None
    has_meter: bool


@dataclass(frozen=True)
class PointStatus:
    """What the reading form shows for a point before the reader enters a value."""

    code: str
    name: str
    kind: str
    office_code: str
    office_name: str
    timezone: str
    building: str | None
    parent_code: str | None
    meter: MeterView | None
    last_read_at: datetime | None
    last_reading: Decimal | None
    typical_daily_use: Decimal | None
    """Median daily consumption (after multiplier) of the recent ordinary intervals."""
    recent: tuple[ReadingView, ...]
    """The latest effective readings, newest first (at most 10): what a correction picks from."""


# ---------------------------------------------------------------- helpers shared with imports


def number_text(value: Decimal) -> str:
    """A quantity for a message: no exponent, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def local_text(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def as_instant(value: datetime, zone: str) -> datetime:
    """An aware instant in UTC; a naive time is the office's local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def effective_readings_query(point_ids: Collection[int]) -> Select[Reading]:
    """Rows of the effective readings of ``point_ids``: not void, not superseded."""
    later = aliased(Reading)
    return (
        select(Reading)
        .where(
            Reading.point_id.in_(list(point_ids)),
            Reading.void.is_(False),
            ~exists().where(later.supersedes_id == Reading.id),
        )
        .order_by(Reading.point_id, Reading.read_at)
    )


def installation_of(meter: Meter, readings: Sequence[tuple[datetime, Decimal]]) -> Installation:
    return Installation(
        multiplier=meter.multiplier,
        digits=meter.digits,
        installed_at=meter.installed_at,
        initial_reading=meter.initial_reading,
        readings=readings,
        removed_at=meter.removed_at,
        final_reading=meter.final_reading,
    )


def _actor_name(actor: Principal | None, permission: Permission, office_code: str) -> str:
    """The actor's name for the audit log; None is the command line (a trusted operator)."""
    if actor is None:
        return "cli"
    if not actor.can(permission, office_code):
        raise PermissionDenied("auth.not_allowed")
    return actor.username


def _point(session: Session, code: str) -> tuple[MeterPoint, Office]:
    row = session.execute(
        select(MeterPoint, Office)
        .join(Office, MeterPoint.office_id == Office.id)
        .where(MeterPoint.code == code.strip())
    ).one_or_none()
    if row is None:
        raise NotFound("energy.unknown_point", code=code)
    return row[0], row[1]


def _meters(session: Session, point_id: int) -> list[Meter]:
    return list(
        session.scalars(
            select(Meter).where(Meter.point_id == point_id).order_by(Meter.installed_at)
        )
    )


def _readings(session: Session, point_id: int) -> list[Reading]:
    return list(session.scalars(effective_readings_query([point_id])))


def _meter_view(meter: Meter, point_code: str) -> MeterView:
    return MeterView(
        meter.id,
        point_code,
        meter.serial,
        meter.multiplier,
        meter.digits,
        meter.installed_at,
        meter.initial_reading,
        meter.removed_at,
        meter.final_reading,
    )


def _reading_view(reading: Reading, point_code: str) -> ReadingView:
    return ReadingView(
        reading.id,
        point_code,
        reading.meter_id,
        reading.read_at,
        reading.reading,
        reading.source,
        reading.flag,
        reading.entered_by,
        reading.entered_at,
    )


def _decimal(value: Decimal | int | str | float, key: str) -> Decimal:
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise DomainError(key, value=value) from exc
    if not result.is_finite():
        raise DomainError(key, value=value)
    return result


def _history(meters: Sequence[Meter], readings: Sequence[Reading], before: datetime) -> History:
    """The point's history of intervals that end no later than ``before``."""
    by_meter: dict[int, list[tuple[datetime, Decimal]]] = {m.id: [] for m in meters}
    for r in readings:
        if r.read_at <= before:
            by_meter[r.meter_id].append((r.read_at, r.reading))
    history = History()
    installations = []
    for m in meters:
        if m.installed_at >= before:
            continue
        inst = installation_of(m, by_meter[m.id])
        if m.removed_at is not None and m.removed_at > before:
            inst = Installation(
                m.multiplier, m.digits, m.installed_at, m.initial_reading, by_meter[m.id]
            )
        installations.append(inst)
    point_intervals(installations, history)
    return history


def _check_meter_numbers(multiplier: Decimal, digits: int | None) -> None:
    if multiplier <= 0:
        raise DomainError("energy.meter.bad_multiplier", value=number_text(multiplier))
    if digits is not None and not 1 <= digits <= MAX_DIGITS:
        raise DomainError("energy.meter.bad_digits", value=digits, max=MAX_DIGITS)


def _check_register(value: Decimal, digits: int | None) -> None:
    if value < 0:
        raise DomainError("energy.reading.negative", value=number_text(value))
    size = register_size(digits)
    if size is not None and value >= size:
        raise DomainError(
            "energy.reading.exceeds_register", value=number_text(value), digits=digits
        )


# ---------------------------------------------------------------- readings


@dataclass(frozen=True)
class _Evaluation:
    meter: Meter
    interval: Interval
    flag: str | None


def _evaluate(
    session: Session,
    point: MeterPoint,
    office: Office,
    read_at: datetime,
    value: Decimal,
    *,
    now: datetime,
    confirm_rollover: bool,
    confirm_high: bool,
    exclude_id: int | None = None,
) -> _Evaluation:
    """Every entry check of DOMAIN §1 for one reading; raises the first that fails."""
    zone = office.timezone
    if read_at > now + CLOCK_SKEW:
        raise DomainError("energy.reading.future", time=local_text(read_at, zone))
    meters = _meters(session, point.id)
    if not meters:
        raise DomainError("energy.meter.none", code=point.code)
    if read_at < meters[0].installed_at:
        raise DomainError(
            "energy.reading.before_installation",
            time=local_text(read_at, zone),
            installed=local_text(meters[0].installed_at, zone),
        )
    for m in meters:
        if read_at in (m.installed_at, m.removed_at):
            edge = m.initial_reading if read_at == m.installed_at else m.final_reading
            raise DomainError(
                "energy.reading.duplicate_time",
                time=local_text(read_at, zone),
                value=number_text(edge or Decimal(0)),
            )
    meter = next(
        (
            m
            for m in meters
            if m.installed_at < read_at and (m.removed_at is None or read_at < m.removed_at)
        ),
        None,
    )
    if meter is None:
        raise DomainError("energy.reading.no_meter", time=local_text(read_at, zone))
    _check_register(value, meter.digits)
    readings = [r for r in _readings(session, point.id) if r.id != exclude_id]
    own = [r for r in readings if r.meter_id == meter.id]
    for r in own:
        if r.read_at == read_at:
            raise DomainError(
                "energy.reading.duplicate_time",
                time=local_text(read_at, zone),
                value=number_text(r.reading),
            )
    prev_t, prev_r = meter.installed_at, meter.initial_reading
    next_point: tuple[datetime, Decimal] | None = None
    for r in own:
        if r.read_at < read_at:
            prev_t, prev_r = r.read_at, r.reading
        elif next_point is None:
            next_point = (r.read_at, r.reading)
    if next_point is None and meter.removed_at is not None and meter.final_reading is not None:
        next_point = (meter.removed_at, meter.final_reading)
    if next_point is not None and next_point[1] < value:
        raise DomainError(
            "energy.reading.higher_than_next",
            value=number_text(value),
            next=number_text(next_point[1]),
            time=local_text(next_point[0], zone),
        )
    typical = _history(meters, readings, prev_t).typical()
    interval = classify(prev_t, read_at, prev_r, value, meter.multiplier, meter.digits, typical)
    params = {
        "value": number_text(value),
        "previous": number_text(prev_r),
        "time": local_text(prev_t, zone),
    }
    if interval.status is IntervalStatus.HELD:
        key = (
            "energy.reading.lower_than_previous"
            if meter.digits is None
            else "energy.reading.rollover_implausible"
        )
        raise DomainError(key, **params)
    flag: str | None = None
    if interval.status is IntervalStatus.ROLLOVER:
        assert interval.delta is not None
        if not confirm_rollover:
            raise RolloverConfirmationNeeded(
                "energy.reading.confirm_rollover", delta=number_text(interval.delta), **params
            )
        flag = ReadingFlag.ROLLOVER.value
    elif interval.status is IntervalStatus.HIGH:
        assert interval.delta is not None and typical is not None
        if not confirm_high:
            raise HighReadingConfirmationNeeded(
                "energy.reading.confirm_high",
                delta=number_text(interval.delta),
                typical=number_text(round(typical, 2)),
                days=number_text(round(interval.days, 2)),
                **params,
            )
        flag = ReadingFlag.HIGH.value
    return _Evaluation(meter, interval, flag)


def record_reading(
    session: Session,
    actor: Principal | None,
    point_code: str,
    read_at: datetime,
    reading: Decimal | int | str,
    source: str = ReadingSource.FORM.value,
    confirm_rollover: bool = False,
    confirm_high: bool = False,
    *,
    now: datetime | None = None,
) -> RecordedReading:
    """Store one reading of a point, attributed to the meter installed at ``read_at``.

    ``read_at`` without a zone is the office's local time. Raises :class:`DomainError` for a
    reading in the future, before the installation, at a time already read, lower than the
    previous one (no roll-over possible) or higher than the next; raises
    :class:`RolloverConfirmationNeeded` / :class:`HighReadingConfirmationNeeded` until the user
    confirms, then stores the reading flagged ``rollover`` / ``high``.
    """
    point, office = _point(session, point_code)
    actor_name = _actor_name(actor, Permission.ENTER_READINGS, office.code)
    if source not in {s.value for s in ReadingSource}:
        raise DomainError("energy.bad_source", value=source)
    value = _decimal(reading, "energy.reading.bad_number")
    instant = as_instant(read_at, office.timezone)
    evaluation = _evaluate(
        session,
        point,
        office,
        instant,
        value,
        now=now or utcnow(),
        confirm_rollover=confirm_rollover,
        confirm_high=confirm_high,
    )
    row = Reading(
        point_id=point.id,
        meter_id=evaluation.meter.id,
        read_at=instant,
        reading=value,
        source=source,
        flag=evaluation.flag,
        entered_by=actor_name,
        entered_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor_name,
        action="create",
        entity="energy_reading",
        entity_key=f"{point.code}@{instant.isoformat()}",
        after={"id": row.id, "reading": value, "flag": row.flag, "source": source},
    )
    return RecordedReading(
        _reading_view(row, point.code), evaluation.interval.delta, evaluation.interval.status
    )


def correct_reading(
    session: Session,
    actor: Principal | None,
    reading_id: int,
    new_reading: Decimal | int | str | None,
    confirm_rollover: bool = False,
    confirm_high: bool = False,
    *,
    source: str = ReadingSource.FORM.value,
    now: datetime | None = None,
) -> ReadingView:
    """Replace a reading by a new value (``new_reading``) or withdraw it (``None``).

    The old row stays; a new row supersedes it (a withdrawal is a ``void`` row). The audit log
    records the old and the new value. Only a current reading can be corrected.
    """
    old = session.get(Reading, reading_id)
    if old is None:
        raise NotFound("energy.reading.unknown", id=reading_id)
    point = session.get(MeterPoint, old.point_id)
    assert point is not None
    point, office = _point(session, point.code)
    actor_name = _actor_name(actor, Permission.ENTER_READINGS, office.code)
    superseded = session.scalar(select(Reading.id).where(Reading.supersedes_id == old.id))
    if old.void or superseded is not None:
        raise DomainError("energy.reading.not_current")
    key = f"{point.code}@{old.read_at.isoformat()}"
    before = {"id": old.id, "reading": old.reading, "flag": old.flag}
    if new_reading is None:
        row = Reading(
            point_id=point.id,
            meter_id=old.meter_id,
            read_at=old.read_at,
            reading=old.reading,
            source=source,
            supersedes_id=old.id,
            void=True,
            entered_by=actor_name,
            entered_at=utcnow(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=actor_name,
            action="void",
            entity="energy_reading",
            entity_key=key,
            before=before,
            after={"id": row.id, "void": True},
        )
        return _reading_view(row, point.code)
    value = _decimal(new_reading, "energy.reading.bad_number")
    if value == old.reading:
        raise DomainError("energy.reading.unchanged", value=number_text(value))
    evaluation = _evaluate(
        session,
        point,
        office,
        old.read_at,
        value,
        now=now or utcnow(),
        confirm_rollover=confirm_rollover,
        confirm_high=confirm_high,
        exclude_id=old.id,
    )
    row = Reading(
        point_id=point.id,
        meter_id=evaluation.meter.id,
        read_at=old.read_at,
        reading=value,
        source=source,
        flag=evaluation.flag,
        supersedes_id=old.id,
        entered_by=actor_name,
        entered_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor_name,
        action="correct",
        entity="energy_reading",
        entity_key=key,
        before=before,
        after={"id": row.id, "reading": value, "flag": row.flag},
    )
    return _reading_view(row, point.code)


# ---------------------------------------------------------------- points, buildings, meters


def _office(session: Session, code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == code.strip())).one_or_none()
    if office is None:
        raise NotFound("energy.unknown_office", code=code)
    return office


def ensure_building(
    session: Session, office: Office, name: str, area_m2: Decimal | None = None
) -> Building:
    """The office's building called ``name``, created on first use (area set when given)."""
    building = session.scalars(
        select(Building).where(Building.office_id == office.id, Building.name == name)
    ).one_or_none()
    if building is None:
        building = Building(office_id=office.id, name=name, area_m2=area_m2)
        session.add(building)
        session.flush()
    elif area_m2 is not None and building.area_m2 != area_m2:
        building.area_m2 = area_m2
    return building


def set_building(
    session: Session,
    actor: Principal | None,
    office_code: str,
    name: str,
    area_m2: Decimal | int | str | None = None,
) -> None:
    """Create a building of an office or set its floor area (m²)."""
    office = _office(session, office_code)
    actor_name = _actor_name(actor, Permission.MANAGE_METERS, office.code)
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("energy.building.bad_name")
    area = None if area_m2 is None else _decimal(area_m2, "energy.building.bad_area")
    if area is not None and area <= 0:
        raise DomainError("energy.building.bad_area", value=area_m2)
    ensure_building(session, office, name, area)
    audit.record(
        session,
        actor=actor_name,
        action="update",
        entity="energy_building",
        entity_key=f"{office.code}/{name}",
        after={"area_m2": area},
    )


def check_point_fields(code: str, name: str, kind: str) -> None:
    if not POINT_CODE_PATTERN.match(code):
        raise DomainError("energy.bad_point_code", code=code)
    if not name.strip() or len(name) > 200:
        raise DomainError("energy.name_required")
    if kind not in {k.value for k in EnergyKind}:
        raise DomainError("energy.bad_kind", value=kind)


def add_point(
    session: Session,
    actor: Principal | None,
    *,
    office_code: str,
    code: str,
    name: str,
    kind: str,
    parent_code: str | None = None,
    building: str | None = None,
) -> PointSummary:
    """Create a metering point; its parent must be a point of the same office and kind."""
    office = _office(session, office_code)
    actor_name = _actor_name(actor, Permission.MANAGE_METERS, office.code)
    code, name = code.strip(), name.strip()
    check_point_fields(code, name, kind)
    if session.scalar(select(MeterPoint.id).where(MeterPoint.code == code)) is not None:
        raise DomainError("energy.point_exists", code=code)
    parent_id = None
    if parent_code:
        parent = session.scalars(
            select(MeterPoint).where(MeterPoint.code == parent_code.strip())
        ).one_or_none()
        if parent is None:
            raise DomainError("energy.unknown_parent", code=parent_code)
        if parent.office_id != office.id:
            raise DomainError("energy.parent_other_office", code=parent_code)
        if parent.kind != kind:
            raise DomainError("energy.parent_other_kind", code=parent_code, kind=parent.kind)
        parent_id = parent.id
    building_id = ensure_building(session, office, building.strip()).id if building else None
    point = MeterPoint(
        office_id=office.id,
        code=code,
        name=name,
        kind=kind,
        parent_id=parent_id,
        building_id=building_id,
    )
    session.add(point)
    session.flush()
    audit.record(
        session,
        actor=actor_name,
        action="create",
        entity="energy_point",
        entity_key=code,
        after={
            "office_code": office.code,
            "name": name,
            "kind": kind,
            "parent_code": parent_code or None,
            "building": building or None,
        },
    )
    return PointSummary(code, name, kind, office.code, building or None, parent_code or None, False)


def add_meter(
    session: Session,
    actor: Principal | None,
    *,
    point_code: str,
    installed_at: datetime,
    initial_reading: Decimal | int | str,
    serial: str | None = None,
    multiplier: Decimal | int | str = 1,
    digits: int | None = None,
    now: datetime | None = None,
) -> MeterView:
    """Install a meter at a point that has none (the first one, or after a removal)."""
    point, office = _point(session, point_code)
    actor_name = _actor_name(actor, Permission.MANAGE_METERS, office.code)
    m = _decimal(multiplier, "energy.meter.bad_multiplier")
    initial = _decimal(initial_reading, "energy.reading.bad_number")
    _check_meter_numbers(m, digits)
    _check_register(initial, digits)
    instant = as_instant(installed_at, office.timezone)
    if instant > (now or utcnow()) + CLOCK_SKEW:
        raise DomainError("energy.reading.future", time=local_text(instant, office.timezone))
    meters = _meters(session, point.id)
    if any(x.removed_at is None for x in meters):
        raise DomainError("energy.meter.already_open", code=point.code)
    if meters and meters[-1].removed_at is not None and instant < meters[-1].removed_at:
        raise DomainError(
            "energy.meter.installed_before_removal",
            time=local_text(meters[-1].removed_at, office.timezone),
        )
    meter = Meter(
        point_id=point.id,
        serial=(serial or "").strip() or None,
        multiplier=m,
        digits=digits,
        installed_at=instant,
        initial_reading=initial,
    )
    session.add(meter)
    session.flush()
    view = _meter_view(meter, point.code)
    audit.record(
        session,
        actor=actor_name,
        action="install",
        entity="energy_meter",
        entity_key=point.code,
        after={
            "meter_id": meter.id,
            "serial": meter.serial,
            "multiplier": m,
            "digits": digits,
            "installed_at": instant,
            "initial_reading": initial,
        },
    )
    return view


def replace_meter(
    session: Session,
    actor: Principal | None,
    point_code: str,
    replaced_at: datetime,
    old_final_reading: Decimal | int | str,
    new_initial_reading: Decimal | int | str,
    new_serial: str | None = None,
    new_multiplier: Decimal | int | str | None = None,
    new_digits: int | None = None,
    *,
    now: datetime | None = None,
) -> MeterView:
    """End the installed meter (final reading) and start the next (initial reading), same instant.

    The new meter keeps the old one's multiplier and digits unless given. The final reading must
    not be lower than the last reading unless that is a plausible roll-over (DOMAIN §1).
    """
    point, office = _point(session, point_code)
    actor_name = _actor_name(actor, Permission.MANAGE_METERS, office.code)
    zone = office.timezone
    instant = as_instant(replaced_at, zone)
    final = _decimal(old_final_reading, "energy.reading.bad_number")
    initial = _decimal(new_initial_reading, "energy.reading.bad_number")
    if instant > (now or utcnow()) + CLOCK_SKEW:
        raise DomainError("energy.reading.future", time=local_text(instant, zone))
    meters = _meters(session, point.id)
    old = next((m for m in meters if m.removed_at is None), None)
    if old is None:
        raise DomainError("energy.meter.none", code=point.code)
    multiplier = (
        old.multiplier
        if new_multiplier is None or new_multiplier == ""
        else _decimal(new_multiplier, "energy.meter.bad_multiplier")
    )
    digits = old.digits if new_digits is None else new_digits
    _check_meter_numbers(multiplier, digits)
    _check_register(final, old.digits)
    _check_register(initial, digits)
    readings = _readings(session, point.id)
    own = [r for r in readings if r.meter_id == old.id]
    last_t, last_r = (
        (own[-1].read_at, own[-1].reading)
        if own
        else (
            old.installed_at,
            old.initial_reading,
        )
    )
    if instant <= last_t:
        raise DomainError("energy.replace.not_after_last", time=local_text(last_t, zone))
    typical = _history(meters, readings, last_t).typical()
    interval = classify(last_t, instant, last_r, final, old.multiplier, old.digits, typical)
    if interval.status is IntervalStatus.HELD:
        raise DomainError(
            "energy.replace.final_lower",
            final=number_text(final),
            last=number_text(last_r),
            time=local_text(last_t, zone),
        )
    before = {"meter_id": old.id, "serial": old.serial, "removed_at": None, "final_reading": None}
    old.removed_at, old.final_reading = instant, final
    session.flush()
    new = Meter(
        point_id=point.id,
        serial=(new_serial or "").strip() or None,
        multiplier=multiplier,
        digits=digits,
        installed_at=instant,
        initial_reading=initial,
    )
    session.add(new)
    session.flush()
    audit.record(
        session,
        actor=actor_name,
        action="replace",
        entity="energy_meter",
        entity_key=point.code,
        before=before,
        after={
            "removed_meter_id": old.id,
            "removed_at": instant,
            "final_reading": final,
            "meter_id": new.id,
            "serial": new.serial,
            "multiplier": multiplier,
            "digits": digits,
            "initial_reading": initial,
        },
    )
    return _meter_view(new, point.code)


# ---------------------------------------------------------------- queries for the pages


def list_points(session: Session, offices: Collection[str] | None) -> list[PointSummary]:
    """The points of ``offices`` (office codes; None: every office), by office and code."""
    parent = aliased(MeterPoint)
    query = (
        select(MeterPoint, Office.code, Building.name, parent.code)
        .join(Office, MeterPoint.office_id == Office.id)
        .outerjoin(Building, MeterPoint.building_id == Building.id)
        .outerjoin(parent, MeterPoint.parent_id == parent.id)
        .order_by(Office.code, MeterPoint.code)
    )
    if offices is not None:
        query = query.where(Office.code.in_(list(offices)))
    open_points = set(session.scalars(select(Meter.point_id).where(Meter.removed_at.is_(None))))
    return [
        PointSummary(p.code, p.name, p.kind, office, building, parent_code, p.id in open_points)
        for p, office, building, parent_code in session.execute(query)
    ]


def point_status(session: Session, point_code: str) -> PointStatus:
    """The point, its installed meter, last reading and typical daily use (for the form)."""
    point, office = _point(session, point_code)
    meters = _meters(session, point.id)
    readings = _readings(session, point.id)
    current = next((m for m in meters if m.removed_at is None), None)
    last: tuple[datetime, Decimal] | None = None
    if current is not None:
        own = [r for r in readings if r.meter_id == current.id]
        last = (
            (own[-1].read_at, own[-1].reading)
            if own
            else (current.installed_at, current.initial_reading)
        )
    history = History()
    point_intervals(
        [
            installation_of(m, [(r.read_at, r.reading) for r in readings if r.meter_id == m.id])
            for m in meters
        ],
        history,
    )
    building = session.get(Building, point.building_id) if point.building_id else None
    parent = session.get(MeterPoint, point.parent_id) if point.parent_id else None
    return PointStatus(
        code=point.code,
        name=point.name,
        kind=point.kind,
        office_code=office.code,
        office_name=office.name,
        timezone=office.timezone,
        building=building.name if building else None,
        parent_code=parent.code if parent else None,
        meter=_meter_view(current, point.code) if current else None,
        last_read_at=last[0] if last else None,
        last_reading=last[1] if last else None,
        typical_daily_use=history.typical(),
        recent=tuple(_reading_view(r, point.code) for r in reversed(readings[-10:])),
    )


def meter_labels_pdf(session: Session, office_code: str, base_url: str, language: str) -> bytes:
    """The office's A4 label sheet: one QR label per point, opening the reading form for it."""
    from urllib.parse import quote

    from operational.i18n import t
    from operational.labels import Label, label_sheet_pdf

    office = _office(session, office_code)
    points = list_points(session, [office.code])
    if not points:
        raise DomainError("energy.labels.no_points", office=office.code)
    base = base_url.rstrip("/")
    labels = [
        Label(
            code=p.code,
            title=p.name,
            subtitle=" / ".join(
                x for x in (t(f"energy.kind.{p.kind}", language), p.building or "") if x
            ),
            url=f"{base}/reading?point={quote(p.code, safe='')}",
        )
        for p in points
    ]
    return label_sheet_pdf(
        labels,
        heading=t("energy.labels.title", language, office=f"{office.code} {office.name}"),
        hint=t("energy.labels.scan_hint", language),
    )
