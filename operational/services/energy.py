"""Energy commands: metering points, meter installations and replacements, readings, corrections.

Every command validates against docs/energy-marts.md, writes in the caller's transaction, appends audit
entries and raises :class:`~operational.errors.DomainError` with a catalogue key (``energy.*``)
so the form and the command line show the message in the user's language. A roll-over or an
unusually high reading raises a :class:`ConfirmationNeeded` subclass naming the confirmation the
user must give; the same call with that confirmation then stores the reading, flagged.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    exists,
    func,
    literal,
    select,
    true,
    values,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from operational import audit, entry
from operational.auth import Permission, Principal
from operational.db import WriteLock, serialise
from operational.energy import (
    HISTORY,
    History,
    Installation,
    Interval,
    IntervalStatus,
    classify,
    history_until,
    register_size,
)
from operational.errors import (
    DomainError,
    FormRejected,
    NotFound,
    PermissionDenied,
    StaleVersion,
    Term,
)
from operational.models import (
    Building,
    EnergyKind,
    Meter,
    MeterPoint,
    Office,
    Reading,
    ReadingFlag,
    ReadingSource,
    UTCDateTime,
    utcnow,
)
from operational.scope import office_clause, scoped_office, scoped_read

POINT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
CLOCK_SKEW = timedelta(minutes=5)
"""A reading up to this far ahead of the server's clock is not 'in the future' (phone clocks)."""
MAX_DIGITS = 12

POINTS = WriteLock("energy points", 1)
"""The writers of a metering point's meters and readings (:func:`operational.db.serialise`):
the forms lock the point they write, the energy imports every point."""


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
    return entry.to_utc(value, ZoneInfo(zone))


def is_effective(reading: type[Reading]) -> ColumnElement[bool]:
    """``reading`` (the model or an alias of it) is effective: not void, not superseded.

    The superseded check is an anti-join on the partial index of ``supersedes_id``
    (``WHERE supersedes_id IS NOT NULL``), which stays small and is chosen with or without
    statistics (migration 0005).
    """
    later = aliased(Reading)
    return and_(reading.void.is_(False), ~exists().where(later.supersedes_id == reading.id))


def _withdrawn_at(session: Session, meter_id: int, instant: datetime) -> int | None:
    """The withdrawal (a ``void`` row not superseded) of ``meter_id`` at ``instant``, if any: a
    reading entered there again continues that chain (supersedes it), since an installation has
    one chain of rows per instant (:class:`~operational.models.Reading`)."""
    later = aliased(Reading)
    return session.scalar(
        select(Reading.id).where(
            Reading.meter_id == meter_id,
            Reading.read_at == instant,
            Reading.void == true(),
            ~exists().where(later.supersedes_id == Reading.id),
        )
    )


def effective_readings_query(point_ids: Collection[int]) -> Select[Reading]:
    """Rows of the effective readings of ``point_ids``: not void, not superseded."""
    return (
        select(Reading)
        .where(Reading.point_id.in_(list(point_ids)), is_effective(Reading))
        .order_by(Reading.point_id, Reading.read_at)
    )


# ---------------------------------------------------------------- the context of a point


CONTEXT_BEFORE = HISTORY + 1
"""Effective readings loaded before a window: HISTORY intervals when they are all ordinary."""
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)
"""A window starting here asks for the point's latest state (its last readings, its history)."""
_BEGINNING = datetime(1900, 1, 1, tzinfo=UTC)
_WINDOWS_PER_QUERY = 2000  # 3 parameters each: well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class MeterSnapshot:
    """One installation of a meter, as plain attributes (much faster than mapped ones)."""

    id: int
    serial: str | None
    installed_at: datetime
    initial_reading: Decimal
    removed_at: datetime | None
    final_reading: Decimal | None
    multiplier: Decimal
    digits: int | None

    def edges(self) -> list[tuple[datetime, Decimal]]:
        """The installation's own readings: initial, and final once removed."""
        edges = [(self.installed_at, self.initial_reading)]
        if self.removed_at is not None and self.final_reading is not None:
            edges.append((self.removed_at, self.final_reading))
        return edges


@dataclass(frozen=True, slots=True)
class ContextReading:
    """An effective reading of a point's context."""

    id: int
    meter_id: int
    read_at: datetime
    reading: Decimal
    source: str
    flag: str | None
    entered_by: str
    entered_at: datetime


@dataclass(frozen=True)
class PointContext:
    """What checking readings of one point between ``start`` and ``end`` needs, and no more.

    ``meters`` are all the point's installations, by time. ``readings`` are its effective
    readings, in time order, from ``known_since`` to ``known_until`` — the ``CONTEXT_BEFORE``
    (or more) most recent before ``start``, all from ``start`` to ``end``, and the first after
    ``end`` — so the reading before each new one, the one after it, and the typical daily use
    before it (the last :data:`~operational.energy.HISTORY` ordinary intervals) are known.
    ``known_since`` / ``known_until`` are None when no reading was left out on that side.
    """

    point_id: int
    start: datetime
    end: datetime
    meters: tuple[MeterSnapshot, ...]
    readings: tuple[ContextReading, ...]
    known_since: datetime | None
    known_until: datetime | None
    _histories: dict[datetime, History | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def installations(self) -> list[Installation]:
        by_meter: dict[int, list[tuple[datetime, Decimal]]] = {m.id: [] for m in self.meters}
        for r in self.readings:
            by_meter[r.meter_id].append((r.read_at, r.reading))
        return [
            Installation(
                m.multiplier,
                m.digits,
                m.installed_at,
                m.initial_reading,
                by_meter[m.id],
                m.removed_at,
                m.final_reading,
            )
            for m in self.meters
        ]

    def anchor(self) -> datetime | None:
        """The time of the point's last reading (meter edges included) before ``start``."""
        times = [r.read_at for r in self.readings if r.read_at < self.start]
        times.extend(t for m in self.meters for t, _ in m.edges() if t < self.start)
        return max(times, default=None)

    def history(self, until: datetime) -> History | None:
        """The history of the intervals ending no later than ``until`` (None: not loaded)."""
        if until not in self._histories:
            self._histories[until] = history_until(self.installations(), until, self.known_since)
        history = self._histories[until]
        return history.copy() if history is not None else None

    def history_known(self) -> bool:
        anchor = self.anchor()
        return anchor is None or self.history(anchor) is not None


def load_meters(session: Session, point_ids: Collection[int]) -> dict[int, list[MeterSnapshot]]:
    """Every installation of ``point_ids``, by point, in time order."""
    result: dict[int, list[MeterSnapshot]] = {pid: [] for pid in point_ids}
    ids = sorted(result)
    for start in range(0, len(ids), 900):
        query = (
            select(
                Meter.point_id,
                Meter.id,
                Meter.serial,
                Meter.installed_at,
                Meter.initial_reading,
                Meter.removed_at,
                Meter.final_reading,
                Meter.multiplier,
                Meter.digits,
            )
            .where(Meter.point_id.in_(ids[start : start + 900]))
            .order_by(Meter.point_id, Meter.installed_at)
        )
        for row in session.execute(query):
            result[row.point_id].append(
                MeterSnapshot(
                    row.id,
                    row.serial,
                    row.installed_at,
                    row.initial_reading,
                    row.removed_at,
                    row.final_reading,
                    row.multiplier,
                    row.digits,
                )
            )
    return result


def load_contexts(
    session: Session, windows: Mapping[int, tuple[datetime, datetime]]
) -> dict[int, PointContext]:
    """The context of each point ``point_id → (start, end)``: the one way of loading the past.

    Set-based: one query for the meters and one for the readings per 2,000 points, whatever
    their history. A point whose last ``CONTEXT_BEFORE`` readings hold too few ordinary
    intervals (roll-overs, held intervals, replacements) is loaded again with more.
    """
    meters = load_meters(session, windows)
    contexts: dict[int, PointContext] = {}
    pending = dict(windows)
    before: int | None = CONTEXT_BEFORE
    while pending:
        readings = _window_readings(session, pending, before)
        for pid, (start, end) in pending.items():
            rows = readings[pid]
            earlier = [r.read_at for r in rows if r.read_at < start]
            later = [r.read_at for r in rows if r.read_at > end]
            contexts[pid] = PointContext(
                pid,
                start,
                end,
                tuple(meters[pid]),
                tuple(rows),
                min(earlier) if before is not None and len(earlier) >= before else None,
                max(later) if later else None,
            )
        pending = {pid: w for pid, w in pending.items() if not contexts[pid].history_known()}
        before = before * 8 if before is not None and before < 1000 else None
    return contexts


def _window_readings(
    session: Session, windows: Mapping[int, tuple[datetime, datetime]], before: int | None
) -> dict[int, list[ContextReading]]:
    result: dict[int, list[ContextReading]] = {pid: [] for pid in windows}
    items = sorted(windows.items())
    for first in range(0, len(items), _WINDOWS_PER_QUERY):
        query = context_readings_query(dict(items[first : first + _WINDOWS_PER_QUERY]), before)
        for row in session.execute(query):
            result[row.point_id].append(
                ContextReading(
                    row.id,
                    row.meter_id,
                    row.read_at,
                    row.reading,
                    row.source,
                    row.flag,
                    row.entered_by,
                    row.entered_at,
                )
            )
    return result


def context_readings_query(
    windows: Mapping[int, tuple[datetime, datetime]], before: int | None = CONTEXT_BEFORE
) -> Select[int, int, int, datetime, Decimal, str, str | None, str, datetime]:
    """Effective readings of each point ``point_id → (start, end)`` from its ``before``-th last
    before ``start`` (None: from its first) to its first after ``end``, by point and time.

    The windows are a VALUES list; per point, two index probes on ``(point_id, read_at)`` find
    the bounds (a lateral lookup written as correlated subqueries, which SQLite also runs), then
    one range scan of that index reads the rows between them.
    """
    x = aliased(Reading, name="x")
    w = (
        values(
            column("point_id", Integer),
            column("t_from", UTCDateTime()),
            column("t_until", UTCDateTime()),
            name="w",
        )
        .data([(pid, start, end) for pid, (start, end) in windows.items()])
        .cte("w")
    )
    low: ColumnElement[datetime] = literal(_BEGINNING, UTCDateTime())
    if before is not None:
        kth = (
            select(x.read_at)
            .where(x.point_id == w.c.point_id, x.read_at < w.c.t_from, is_effective(x))
            .order_by(x.read_at.desc())
            .limit(1)
            .offset(before - 1)
            .scalar_subquery()
        )
        low = func.coalesce(kth, low)
    following = (
        select(x.read_at)
        .where(x.point_id == w.c.point_id, x.read_at > w.c.t_until, is_effective(x))
        .order_by(x.read_at)
        .limit(1)
        .scalar_subquery()
    )
    bounds = (
        select(
            w.c.point_id,
            low.label("low"),
            func.coalesce(following, w.c.t_until).label("high"),
        )
        .cte("bounds")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(
            Reading.point_id,
            Reading.id,
            Reading.meter_id,
            Reading.read_at,
            Reading.reading,
            Reading.source,
            Reading.flag,
            Reading.entered_by,
            Reading.entered_at,
        )
        .select_from(bounds)
        .join(
            Reading,
            and_(
                Reading.point_id == bounds.c.point_id,
                Reading.read_at >= bounds.c.low,
                Reading.read_at <= bounds.c.high,
            ),
        )
        .where(is_effective(Reading))
        .order_by(Reading.point_id, Reading.read_at)
    )


def _actor_name(actor: Principal, permission: Permission, office_code: str) -> str:
    """The actor's name for the audit log, if ``actor`` holds ``permission`` at the office."""
    if not actor.can(permission, office_code):
        raise PermissionDenied("auth.not_allowed")
    return actor.username


def _point(
    session: Session,
    code: str,
    principal: Principal | None = None,
    permission: Permission = Permission.ENTER_READINGS,
) -> tuple[MeterPoint, Office]:
    """The point ``code`` and its office; with ``principal``, only at an office where it holds
    ``permission`` (a write checks its own permission after loading, with its message)."""
    query = (
        select(MeterPoint, Office)
        .join(Office, MeterPoint.office_id == Office.id)
        .where(MeterPoint.code == code.strip())
    )
    if principal is not None:
        query = query.where(office_clause(principal, permission, MeterPoint.office_id))
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("energy.unknown_point", code=code)
    return row[0], row[1]


def _meters(session: Session, point_id: int) -> list[Meter]:
    return list(
        session.scalars(
            select(Meter).where(Meter.point_id == point_id).order_by(Meter.installed_at)
        )
    )


def _meter_view(meter: Meter | MeterSnapshot, point_code: str) -> MeterView:
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


def _reading_view(reading: Reading | ContextReading, point_code: str) -> ReadingView:
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
        raise DomainError(key, value=entry.short(value)) from exc
    if not result.is_finite():
        raise DomainError(key, value=entry.short(value))
    return result


def _quantity(
    value: Decimal | int | str | float, key: str, column: InstrumentedAttribute[Any], field: str
) -> Decimal:
    """``value`` as a Decimal that fits ``column`` (a mapped ``Numeric`` column): the entry
    checks of :mod:`operational.entry`, naming ``field`` (``entry.field.<field>``)."""
    result = _decimal(value, key)
    entry.check_number(result, column.type, field, value)
    return result


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
    meter: MeterSnapshot
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
    """Every entry check of docs/energy-marts.md for one reading; raises the first that fails."""
    zone = office.timezone
    if read_at > now + CLOCK_SKEW:
        raise DomainError("energy.reading.future", time=local_text(read_at, zone))
    context = load_contexts(session, {point.id: (read_at, read_at)})[point.id]
    meters = context.meters
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
    own = [r for r in context.readings if r.meter_id == meter.id and r.id != exclude_id]
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
    history = context.history(prev_t)  # prev_t is the context's anchor: its history is loaded
    assert history is not None
    typical = history.typical()
    interval = classify(prev_t, read_at, prev_r, value, meter.multiplier, meter.digits, typical)
    params = {
        "value": number_text(value),
        "previous": number_text(prev_r),
        "time": local_text(prev_t, zone),
    }
    use_unit = {"unit": "kWh" if point.kind == EnergyKind.ELECTRICITY.value else "m³"}
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
                "energy.reading.confirm_rollover",
                delta=number_text(interval.delta),
                **params,
                **use_unit,
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
                **use_unit,
            )
        flag = ReadingFlag.HIGH.value
    return _Evaluation(meter, interval, flag)


def record_reading(
    session: Session,
    actor: Principal,
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
    value = _quantity(reading, "energy.reading.bad_number", Reading.reading, "reading")
    instant = as_instant(read_at, office.timezone)
    now = now or utcnow()
    entry.check_instant(instant, now, "read_at")
    serialise(session, POINTS, [point.id])  # before the checks read the point's readings
    evaluation = _evaluate(
        session,
        point,
        office,
        instant,
        value,
        now=now,
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
        supersedes_id=_withdrawn_at(session, evaluation.meter.id, instant),
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
        office_id=office.id,
        after={"id": row.id, "reading": value, "flag": row.flag, "source": source},
    )
    return RecordedReading(
        _reading_view(row, point.code), evaluation.interval.delta, evaluation.interval.status
    )


def correct_reading(
    session: Session,
    actor: Principal,
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
    value = (
        None
        if new_reading is None
        else _quantity(new_reading, "energy.reading.bad_number", Reading.reading, "reading")
    )
    serialise(session, POINTS, [point.id])  # before reading whether it is still current
    superseded = session.scalar(select(Reading.id).where(Reading.supersedes_id == old.id))
    if old.void or superseded is not None:
        raise DomainError("energy.reading.not_current")
    key = f"{point.code}@{old.read_at.isoformat()}"
    before = {"id": old.id, "reading": old.reading, "flag": old.flag}
    if value is None:
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
            office_id=office.id,
            before=before,
            after={"id": row.id, "void": True},
        )
        return _reading_view(row, point.code)
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
        office_id=office.id,
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
    actor: Principal,
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
    area = (
        None
        if area_m2 is None
        else _quantity(area_m2, "energy.building.bad_area", Building.area_m2, "area_m2")
    )
    if area is not None and area <= 0:
        raise DomainError("energy.building.bad_area", value=area_m2)
    ensure_building(session, office, name, area)
    audit.record(
        session,
        actor=actor_name,
        action="update",
        entity="energy_building",
        entity_key=f"{office.code}/{name}",
        office_id=office.id,
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
    actor: Principal,
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
        office_id=office.id,
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
    actor: Principal,
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
    m = _quantity(multiplier, "energy.meter.bad_multiplier", Meter.multiplier, "multiplier")
    initial = _quantity(
        initial_reading, "energy.reading.bad_number", Meter.initial_reading, "initial_reading"
    )
    _check_meter_numbers(m, digits)
    _check_register(initial, digits)
    instant = as_instant(installed_at, office.timezone)
    now = now or utcnow()
    entry.check_instant(instant, now, "installed_at")
    if instant > now + CLOCK_SKEW:
        raise DomainError("energy.reading.future", time=local_text(instant, office.timezone))
    serialise(session, POINTS, [point.id])
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
        office_id=office.id,
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
    actor: Principal,
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
    not be lower than the last reading unless that is a plausible roll-over (docs/energy-marts.md).
    """
    point, office = _point(session, point_code)
    actor_name = _actor_name(actor, Permission.MANAGE_METERS, office.code)
    zone = office.timezone
    instant = as_instant(replaced_at, zone)
    final = _quantity(
        old_final_reading, "energy.reading.bad_number", Meter.final_reading, "old_final_reading"
    )
    initial = _quantity(
        new_initial_reading,
        "energy.reading.bad_number",
        Meter.initial_reading,
        "new_initial_reading",
    )
    now = now or utcnow()
    entry.check_instant(instant, now, "replaced_at")
    if instant > now + CLOCK_SKEW:
        raise DomainError("energy.reading.future", time=local_text(instant, zone))
    serialise(session, POINTS, [point.id])  # before the checks read its meters and readings
    meters = _meters(session, point.id)
    old = next((m for m in meters if m.removed_at is None), None)
    if old is None:
        raise DomainError("energy.meter.none", code=point.code)
    multiplier = (
        old.multiplier
        if new_multiplier is None or new_multiplier == ""
        else _quantity(
            new_multiplier, "energy.meter.bad_multiplier", Meter.multiplier, "new_multiplier"
        )
    )
    digits = old.digits if new_digits is None else new_digits
    _check_meter_numbers(multiplier, digits)
    _check_register(final, old.digits)
    _check_register(initial, digits)
    context = load_contexts(session, {point.id: (END_OF_TIME, END_OF_TIME)})[point.id]
    own = [r for r in context.readings if r.meter_id == old.id]
    last_t, last_r = (
        (own[-1].read_at, own[-1].reading) if own else (old.installed_at, old.initial_reading)
    )
    if instant <= last_t:
        raise DomainError("energy.replace.not_after_last", time=local_text(last_t, zone))
    history = context.history(last_t)  # the open meter's last reading is the anchor
    assert history is not None
    typical = history.typical()
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
        office_id=office.id,
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


@scoped_read(None)
def list_points(
    session: Session,
    principal: Principal,
    permission: Permission,
    office_codes: Collection[str] | None = None,
) -> list[PointSummary]:
    """The points of the offices where ``principal`` holds ``permission`` (of ``office_codes``
    among them if given), by office and code."""
    parent = aliased(MeterPoint)
    query = (
        select(MeterPoint, Office.code, Building.name, parent.code)
        .join(Office, MeterPoint.office_id == Office.id)
        .outerjoin(Building, MeterPoint.building_id == Building.id)
        .outerjoin(parent, MeterPoint.parent_id == parent.id)
        .where(office_clause(principal, permission, MeterPoint.office_id))
        .order_by(Office.code, MeterPoint.code)
    )
    if office_codes is not None:
        query = query.where(Office.code.in_(sorted(office_codes)))
    open_points = set(session.scalars(select(Meter.point_id).where(Meter.removed_at.is_(None))))
    return [
        PointSummary(p.code, p.name, p.kind, office, building, parent_code, p.id in open_points)
        for p, office, building, parent_code in session.execute(query)
    ]


@scoped_read(None)
def point_status(
    session: Session,
    principal: Principal,
    point_code: str,
    permission: Permission = Permission.ENTER_READINGS,
) -> PointStatus:
    """The point, its installed meter, last reading and typical daily use (for the form), if
    ``principal`` holds ``permission`` at its office; another office's point is NotFound."""
    point, office = _point(session, point_code, principal, permission)
    context = load_contexts(session, {point.id: (END_OF_TIME, END_OF_TIME)})[point.id]
    readings = context.readings
    current = next((m for m in context.meters if m.removed_at is None), None)
    last: tuple[datetime, Decimal] | None = None
    if current is not None:
        own = [r for r in readings if r.meter_id == current.id]
        last = (
            (own[-1].read_at, own[-1].reading)
            if own
            else (current.installed_at, current.initial_reading)
        )
    anchor = context.anchor()
    history = context.history(anchor) if anchor is not None else History()
    assert history is not None
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


def meter_labels_pdf(
    session: Session,
    principal: Principal,
    office_code: str,
    base_url: str,
    language: str,
    *,
    codes: Collection[str] | None = None,
) -> bytes:
    """The office's A4 label sheet: one QR label per point (of ``codes`` only, if given — the
    points chosen on the meters page), opening the reading form for it; for a principal who
    manages the office's meters (another office is NotFound)."""
    from urllib.parse import quote

    from operational.i18n import t
    from operational.labels import Label, label_sheet_pdf

    office = _office(session, office_code)
    if not principal.can(Permission.MANAGE_METERS, office.code):
        raise NotFound("energy.unknown_office", code=office_code)
    points = list_points(session, principal, Permission.MANAGE_METERS, [office.code])
    if codes is not None:
        chosen = {c.strip() for c in codes}
        points = [p for p in points if p.code in chosen]
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


# ---------------------------------------------------------------- the meters page's forms
# Metering points, their meters and buildings one at a time (docs/dashboards.md, "Meters
# page"): the rules of ``propcloud import meters``, for the offices where the user holds
# ``MANAGE_METERS``, every problem of a form at once (:class:`FormRejected`), nothing half-written.


@dataclass(frozen=True)
class PointEntry:
    """What the point form holds (texts as typed)."""

    office_code: str
    code: str
    name: str
    kind: str
    parent_code: str = ""
    building: str = ""


@dataclass(frozen=True)
class MeterEntry:
    """What the meter form holds: the installation instant (None: not given) and texts."""

    installed_at: datetime | None
    initial_reading: str
    serial: str = ""
    multiplier: str = "1"
    digits: str = ""


@dataclass(frozen=True)
class BuildingView:
    office_code: str
    name: str
    area_m2: Decimal | None
    points: int


def _term(name: str) -> Term:
    return Term(f"selfservice.field.{name}")


def _text_problem(value: str, column: InstrumentedAttribute[Any], field: str) -> DomainError | None:
    refusal = entry.text_refusal(value, column)
    if refusal is None:
        return None
    return DomainError(refusal[0], column=_term(field), value=entry.short(value), **refusal[1])


def _parent_problem(
    session: Session, office: Office, kind: str, parent_code: str, point: MeterPoint | None
) -> tuple[DomainError | None, int | None]:
    """What is wrong with ``parent_code`` as the parent of a point of ``office`` and ``kind``
    (``point``: the stored point being changed), and the parent's id."""
    if not parent_code:
        return None, None
    parent = session.scalars(select(MeterPoint).where(MeterPoint.code == parent_code)).one_or_none()
    if parent is None or parent.office_id != office.id:
        # another office's point reads as unknown: the form names only the user's points
        return DomainError("energy.unknown_parent", code=parent_code), None
    if kind and parent.kind != kind:
        kind_name = Term(f"energy.kind.{parent.kind}")
        return DomainError("energy.parent_other_kind", code=parent_code, kind=kind_name), None
    if point is not None:
        ancestor: MeterPoint | None = parent
        while ancestor is not None:
            if ancestor.id == point.id:
                return DomainError("selfservice.meters.parent_cycle", code=parent_code), None
            ancestor = session.get(MeterPoint, ancestor.parent_id) if ancestor.parent_id else None
    return None, parent.id


def _meter_problems(meter: MeterEntry, zone: str, now: datetime) -> list[DomainError]:
    """Every problem of a meter form (``add_meter``'s checks, each on its own)."""
    problems: list[DomainError] = []
    multiplier: Decimal | None = None
    digits: int | None = None
    text = meter.multiplier.strip() or "1"
    try:
        multiplier = _quantity(text, "energy.meter.bad_multiplier", Meter.multiplier, "multiplier")
        if multiplier <= 0:
            raise DomainError("energy.meter.bad_multiplier", value=entry.short(text))
    except DomainError as problem:
        problems.append(problem)
    if meter.digits.strip():
        try:
            digits = int(meter.digits.strip())
        except ValueError:
            digits = None
        if digits is None or not 1 <= digits <= MAX_DIGITS:
            problems.append(
                DomainError(
                    "energy.meter.bad_digits", value=entry.short(meter.digits), max=MAX_DIGITS
                )
            )
            digits = None
    if not meter.initial_reading.strip():
        problems.append(DomainError("selfservice.form.required", field=_term("initial_reading")))
    else:
        try:
            initial = _quantity(
                meter.initial_reading,
                "energy.reading.bad_number",
                Meter.initial_reading,
                "initial_reading",
            )
            _check_register(initial, digits)
        except DomainError as problem:
            problems.append(problem)
    if meter.installed_at is None:
        problems.append(DomainError("selfservice.form.required", field=_term("installed_at")))
    else:
        instant = as_instant(meter.installed_at, zone)
        try:
            entry.check_instant(instant, now, "installed_at")
            if instant > now + CLOCK_SKEW:
                raise DomainError("energy.reading.future", time=local_text(instant, zone))
        except DomainError as problem:
            problems.append(problem)
    if meter.serial.strip():
        too_long = _text_problem(meter.serial.strip(), Meter.serial, "serial")
        if too_long is not None:
            problems.append(too_long)
    return problems


def _point_problems(
    session: Session, office: Office, point: PointEntry, current: MeterPoint | None
) -> tuple[list[DomainError], int | None]:
    problems: list[DomainError] = []
    code, name, kind = point.code.strip(), point.name.strip(), point.kind.strip()
    for field_name, value in (("point_code", code), ("name", name), ("kind", kind)):
        if not value:
            problems.append(DomainError("selfservice.form.required", field=_term(field_name)))
    if code and not POINT_CODE_PATTERN.match(code):
        problems.append(DomainError("energy.bad_point_code", code=entry.short(code)))
    if kind and kind not in {k.value for k in EnergyKind}:
        problems.append(DomainError("energy.bad_kind", value=entry.short(kind)))
    for value, stored_in, field_name in (
        (name, MeterPoint.name, "name"),
        (point.building.strip(), Building.name, "building"),
    ):
        too_long = _text_problem(value, stored_in, field_name)
        if too_long is not None:
            problems.append(too_long)
    if (
        current is None
        and code
        and session.scalar(select(MeterPoint.id).where(MeterPoint.code == code)) is not None
    ):
        problems.append(DomainError("selfservice.meters.point_exists", code=code))
    parent_problem, parent_id = _parent_problem(
        session, office, kind, point.parent_code.strip(), current
    )
    if parent_problem is not None:
        problems.append(parent_problem)
    return problems, parent_id


def create_point(
    session: Session,
    actor: Principal,
    point: PointEntry,
    meter: MeterEntry,
    *,
    now: datetime | None = None,
) -> PointSummary:
    """A new metering point with its first meter, as a row of ``propcloud import meters``:
    for an ``actor`` who manages the office's meters (another office is NotFound), every
    problem of both at once (:class:`FormRejected`), both written or neither."""
    office = scoped_office(
        session, actor, Permission.MANAGE_METERS, point.office_code, unknown="energy.unknown_office"
    )
    serialise(session, POINTS)  # before looking for the code
    now = now or utcnow()
    problems, _ = _point_problems(session, office, point, None)
    problems += _meter_problems(meter, office.timezone, now)
    if problems:
        raise FormRejected(problems)
    assert meter.installed_at is not None
    summary = add_point(
        session,
        actor,
        office_code=office.code,
        code=point.code.strip(),
        name=point.name.strip(),
        kind=point.kind.strip(),
        parent_code=point.parent_code.strip() or None,
        building=point.building.strip() or None,
    )
    add_meter(
        session,
        actor,
        point_code=summary.code,
        installed_at=meter.installed_at,
        initial_reading=meter.initial_reading.strip(),
        serial=meter.serial.strip() or None,
        multiplier=meter.multiplier.strip() or "1",
        digits=int(meter.digits) if meter.digits.strip() else None,
        now=now,
    )
    return summary


def update_point(
    session: Session,
    actor: Principal,
    code: str,
    *,
    name: str,
    parent_code: str = "",
    building: str = "",
    drawn: PointStatus | None = None,
) -> str:
    """Change a point's name, parent and building (its code, office and kind stay: readings,
    labels and the warehouse name it by them); ``"updated"`` or ``"unchanged"``. ``drawn``:
    the point as the form showed it — changed since, :class:`StaleVersion`."""
    point, office = _point(session, code, actor, Permission.MANAGE_METERS)
    serialise(session, POINTS, [point.id])
    parent = session.get(MeterPoint, point.parent_id) if point.parent_id else None
    stored_building = session.get(Building, point.building_id) if point.building_id else None
    before = {
        "name": point.name,
        "parent_code": parent.code if parent else None,
        "building": stored_building.name if stored_building else None,
    }
    if drawn is not None and (drawn.name, drawn.parent_code, drawn.building) != tuple(
        before.values()
    ):
        raise StaleVersion("selfservice.meters.stale", code=point.code)
    wanted = PointEntry(office.code, point.code, name, point.kind, parent_code, building)
    problems, parent_id = _point_problems(session, office, wanted, point)
    if problems:
        raise FormRejected(problems)
    after = {
        "name": name.strip(),
        "parent_code": parent_code.strip() or None,
        "building": building.strip() or None,
    }
    if after == before:
        return "unchanged"
    point.name = after["name"] or point.name
    point.parent_id = parent_id
    point.building_id = (
        ensure_building(session, office, building.strip()).id if building.strip() else None
    )
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="energy_point",
        entity_key=point.code,
        before=before,
        after=after,
    )
    return "updated"


def install_meter(
    session: Session,
    actor: Principal,
    point_code: str,
    meter: MeterEntry,
    *,
    now: datetime | None = None,
) -> MeterView:
    """Install a meter at a point that has none (``add_meter``), every problem at once."""
    point, office = _point(session, point_code, actor, Permission.MANAGE_METERS)
    now = now or utcnow()
    problems = _meter_problems(meter, office.timezone, now)
    if problems:
        raise FormRejected(problems)
    assert meter.installed_at is not None
    return add_meter(
        session,
        actor,
        point_code=point.code,
        installed_at=meter.installed_at,
        initial_reading=meter.initial_reading.strip(),
        serial=meter.serial.strip() or None,
        multiplier=meter.multiplier.strip() or "1",
        digits=int(meter.digits) if meter.digits.strip() else None,
        now=now,
    )


def save_building(
    session: Session, actor: Principal, office_code: str, name: str, area_m2: str
) -> None:
    """Add a building of the office or set its floor area (``set_building``), every problem of
    the form at once; an empty area keeps the stored one."""
    office = scoped_office(
        session, actor, Permission.MANAGE_METERS, office_code, unknown="energy.unknown_office"
    )
    problems: list[DomainError] = []
    if not name.strip():
        problems.append(DomainError("selfservice.form.required", field=_term("building")))
    else:
        too_long = _text_problem(name.strip(), Building.name, "building")
        if too_long is not None:
            problems.append(too_long)
    area: Decimal | None = None
    if area_m2.strip():
        try:
            area = _quantity(area_m2, "energy.building.bad_area", Building.area_m2, "area_m2")
            if area <= 0:
                raise DomainError("energy.building.bad_area", value=entry.short(area_m2))
        except DomainError as problem:
            problems.append(problem)
    if problems:
        raise FormRejected(problems)
    set_building(session, actor, office.code, name.strip(), area)


@scoped_read(Permission.MANAGE_METERS)
def point_meters(session: Session, principal: Principal, point_code: str) -> list[MeterView]:
    """Every meter installed at a point (first first), for a principal who manages the
    point's meters; another office's point is NotFound."""
    point, _ = _point(session, point_code, principal, Permission.MANAGE_METERS)
    return [_meter_view(m, point.code) for m in _meters(session, point.id)]


@scoped_read(Permission.MANAGE_METERS)
def list_buildings(session: Session, principal: Principal, office_code: str) -> list[BuildingView]:
    """The office's buildings with their floor area and number of points, by name, for a
    principal who manages its meters; another office is NotFound."""
    office = scoped_office(
        session, principal, Permission.MANAGE_METERS, office_code, unknown="energy.unknown_office"
    )
    counts = dict(
        session.execute(
            select(MeterPoint.building_id, func.count())
            .where(MeterPoint.office_id == office.id, MeterPoint.building_id.is_not(None))
            .group_by(MeterPoint.building_id)
        ).all()
    )
    return [
        BuildingView(office.code, b.name, b.area_m2, counts.get(b.id, 0))
        for b in session.scalars(
            select(Building).where(Building.office_id == office.id).order_by(Building.name)
        )
    ]


@scoped_read(Permission.MANAGE_METERS)
def office_zone(session: Session, principal: Principal, office_code: str) -> str:
    """The time zone of an office whose meters ``principal`` manages (its forms' clock)."""
    return scoped_office(
        session, principal, Permission.MANAGE_METERS, office_code, unknown="energy.unknown_office"
    ).timezone
