"""``propcloud import meters | readings | replacements``: the energy data contracts.

* meters: ``office_code, point_code, name, kind, installed_at, initial_reading`` and optional
  ``parent_point_code, building, serial, multiplier`` (default 1), ``digits``. A parent may
  appear later in the same file.
* readings: ``point_code, read_at, reading`` and optional ``source`` (default ``import``).
* replacements: ``point_code, replaced_at, old_final_reading, new_initial_reading`` and optional
  ``new_serial, new_multiplier, new_digits`` (default: the old meter's).

Times without an offset are the office's local time; an explicit offset is honoured. Every
import is all or nothing with row-numbered errors, and importing the same file again changes
nothing. The readings import validates in bulk, point by point over sorted readings, against
each point's *context* (:func:`~operational.services.energy.load_contexts`: the readings around
the file's, loaded in a few set-based queries, never the whole history — the reading form uses
the same), and inserts in batches (COPY on PostgreSQL): it is built for millions of rows, and a
daily file costs in proportion to the file.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, insert, select, true
from sqlalchemy.orm import Session, aliased

from operational import audit, entry
from operational.auth import system_principal
from operational.db import serialise
from operational.energy import History, IntervalStatus, classify
from operational.errors import DomainError
from operational.imports.table import (
    ImportRejected,
    ImportSummary,
    RowError,
    read_column_table,
    read_table,
)
from operational.imports.table import read_columns as read_columns  # the readings' reader
from operational.models import Building, Meter, MeterPoint, Office, Reading, ReadingSource, utcnow
from operational.models.energy import READING_TYPE
from operational.progress import NO_PROGRESS, Advance, Progress, counted, stage
from operational.services.energy import (
    CLOCK_SKEW,
    MAX_DIGITS,
    POINTS,
    MeterSnapshot,
    PointContext,
    add_meter,
    add_point,
    load_contexts,
    load_meters,
    number_text,
    replace_meter,
)

METER_REQUIRED = ("office_code", "point_code", "name", "kind", "installed_at", "initial_reading")
METER_OPTIONAL = ("parent_point_code", "building", "serial", "multiplier", "digits")
READING_REQUIRED = ("point_code", "read_at", "reading")
READING_OPTIONAL = ("source",)
REPLACEMENT_REQUIRED = ("point_code", "replaced_at", "old_final_reading", "new_initial_reading")
REPLACEMENT_OPTIONAL = ("new_serial", "new_multiplier", "new_digits")
METER_LENGTHS = {
    "point_code": MeterPoint.code,
    "parent_point_code": MeterPoint.code,
    "name": MeterPoint.name,
    "building": Building.name,
    "serial": Meter.serial,
}
REPLACEMENT_LENGTHS = {"new_serial": Meter.serial}
"""The columns whose text is stored, and where: a longer value is a bad row (the reader)."""
BATCH = 20_000
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


# ---------------------------------------------------------------- parsing cells


def parse_time(text: str, zone: ZoneInfo) -> datetime | None:
    """An instant in UTC from ISO text (or ``2026/3/1 8:30``); no offset means ``zone``'s time.

    A time at the ends of the calendar comes back as the smallest or largest instant
    (:func:`operational.entry.to_utc`), for :func:`time_refusal` to refuse."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:  # inline for speed, once per row of a file of millions
        return value.astimezone(UTC)
    except OverflowError:
        return entry.to_utc(value, zone)


def parse_number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_digits(text: str) -> int | None:
    """A register's digits: a whole number (anything else, ``inf`` included, is None)."""
    value = parse_number(text)
    if value is None or value != value.to_integral_value() or abs(value) > 10**6:
        return None
    return int(value)


def time_refusal(
    row: int, column: str, text: str, at: datetime, now: datetime | None
) -> RowError | None:
    """The row error of an instant out of the bounds of :mod:`operational.entry`, or None.
    ``now`` None: the floor only, where the domain refuses the future more strictly itself (a
    reading, an installation, a replacement: not after now)."""
    refusal = entry.instant_refusal(at, now)
    if refusal is None:
        return None
    key, params = refusal
    return RowError(row, key, {"column": column, "value": entry.short(text), **params})


def number_refusal(
    row: int, column: str, text: str, value: Decimal, column_type: Any
) -> RowError | None:
    """The row error of a number that does not fit its column (:mod:`operational.entry`)."""
    refusal = entry.column_refusal(value, column_type)
    if refusal is None:
        return None
    key, params = refusal
    return RowError(row, key, {"column": column, "value": entry.short(text), **params})


# ---------------------------------------------------------------- bulk insert of readings


def insert_readings(
    session: Session, rows: Sequence[Mapping[str, Any]], advance: Advance = NO_PROGRESS.advance
) -> None:
    """Insert reading rows fast: COPY on PostgreSQL, batched executemany elsewhere.

    Each row has ``point_id, meter_id, read_at`` (aware), ``reading, source, flag,
    entered_by, entered_at`` and may have ``supersedes_id`` (a reading entered again where one
    was withdrawn); ids are assigned in the order given. ``advance`` hears of each batch
    written.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        columns = (
            "point_id",
            "meter_id",
            "read_at",
            "reading",
            "source",
            "flag",
            "supersedes_id",
            "void",
            "entered_by",
            "entered_at",
        )
        driver = connection.connection.driver_connection
        assert driver is not None
        statement = f"COPY energy_reading ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for r in counted(rows, advance, BATCH):
                copy.write_row(
                    (
                        r["point_id"],
                        r["meter_id"],
                        r["read_at"].astimezone(UTC).replace(tzinfo=None),
                        r["reading"],
                        r["source"],
                        r["flag"],
                        r.get("supersedes_id"),
                        False,
                        r["entered_by"],
                        r["entered_at"].astimezone(UTC).replace(tzinfo=None),
                    )
                )
        return
    if connection.dialect.name == "sqlite":
        # The DB-API directly, values converted as SQLAlchemy's types store them (UTC text, REAL).
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql = (
            "INSERT INTO energy_reading (point_id, meter_id, read_at, reading, source, flag,"
            " supersedes_id, void, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
        )
        entered: dict[datetime, str] = {}
        for start in range(0, len(rows), BATCH):
            cursor.executemany(
                sql,
                [
                    (
                        r["point_id"],
                        r["meter_id"],
                        _sqlite_time(r["read_at"]),
                        float(r["reading"]),
                        r["source"],
                        r["flag"],
                        r.get("supersedes_id"),
                        r["entered_by"],
                        entered.get(r["entered_at"])
                        or entered.setdefault(r["entered_at"], _sqlite_time(r["entered_at"])),
                    )
                    for r in rows[start : start + BATCH]
                ],
            )
            advance(len(rows[start : start + BATCH]))
        cursor.close()
        return
    for start in range(0, len(rows), BATCH):
        connection.execute(
            insert(Reading),
            [{"supersedes_id": None, **r} for r in rows[start : start + BATCH]],
        )
        advance(len(rows[start : start + BATCH]))


def _sqlite_time(instant: datetime) -> str:
    """An instant as SQLAlchemy's SQLite DateTime stores it: naive UTC text with microseconds."""
    if instant.utcoffset():
        instant = instant.astimezone(UTC)
    return instant.isoformat(sep=" ", timespec="microseconds")[:26]


# ---------------------------------------------------------------- readings


@dataclass
class _Point:
    id: int
    code: str
    zone: ZoneInfo
    meters: list[MeterSnapshot]


@dataclass(slots=True)
class _New:
    row: int
    read_at: datetime
    reading: Decimal
    source: str
    meter: MeterSnapshot | None = None
    flag: str | None = None


def _load_points(
    session: Session, codes: Iterable[str], *, meters: bool = True
) -> dict[str, _Point]:
    wanted = sorted(set(codes) - {""})
    zones: dict[str, ZoneInfo] = {}
    points: dict[str, _Point] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        for pid, code, zone in session.execute(
            select(MeterPoint.id, MeterPoint.code, Office.timezone)
            .join(Office, MeterPoint.office_id == Office.id)
            .where(MeterPoint.code.in_(chunk))
        ):
            points[code] = _Point(pid, code, zones.setdefault(zone, ZoneInfo(zone)), [])
    if meters:
        installed = load_meters(session, [p.id for p in points.values()])
        for point in points.values():
            point.meters = installed[point.id]
    return points


def _parse_reading_rows(
    numbers: Sequence[int],
    columns: Mapping[str, Sequence[str]],
    points: Mapping[str, _Point],
    now: datetime,
    errors: list[RowError],
    advance: Advance = NO_PROGRESS.advance,
) -> dict[int, list[_New]]:
    by_point: dict[int, list[_New]] = {}
    sources = {s.value for s in ReadingSource}
    codes, times, values, given_sources = (
        columns["point_code"],
        columns["read_at"],
        columns["reading"],
        columns["source"],
    )
    latest = now + CLOCK_SKEW
    precision, scale = READING_TYPE.precision, READING_TYPE.scale
    earliest = entry.EARLIEST
    for i, row in enumerate(counted(numbers, advance)):
        code, time_text, value_text = codes[i], times[i], values[i]
        source = given_sources[i] or ReadingSource.IMPORT.value
        bad = False
        for column, text in (("point_code", code), ("read_at", time_text), ("reading", value_text)):
            if not text:
                errors.append(RowError(row, "import.missing_value", {"column": column}))
                bad = True
        if bad:
            continue
        point = points.get(code)
        if point is None:
            errors.append(RowError(row, "energy.unknown_point", {"code": code}))
            continue
        read_at = parse_time(time_text, point.zone)
        if read_at is None:
            errors.append(
                RowError(
                    row, "import.bad_time", {"column": "read_at", "value": entry.short(time_text)}
                )
            )
            continue
        if read_at < earliest:
            out_of_bounds = time_refusal(row, "read_at", time_text, read_at, None)
            assert out_of_bounds is not None
            errors.append(out_of_bounds)
            continue
        value = parse_number(value_text)
        if value is None:
            errors.append(
                RowError(
                    row,
                    "import.bad_number",
                    {"column": "reading", "value": entry.short(value_text)},
                )
            )
            continue
        unfit = entry.number_refusal(value, precision, scale)
        if unfit is not None:
            key, params = unfit
            errors.append(
                RowError(
                    row, key, {"column": "reading", "value": entry.short(value_text), **params}
                )
            )
            continue
        if value < 0:
            errors.append(RowError(row, "energy.reading.negative", {"value": value_text}))
            continue
        if source not in sources:
            errors.append(RowError(row, "energy.bad_source", {"value": source}))
            continue
        if read_at > latest:
            errors.append(
                RowError(
                    row,
                    "import.future_time",
                    {"column": "read_at", "value": entry.short(time_text)},
                )
            )
            continue
        by_point.setdefault(point.id, []).append(_New(row, read_at, value, source))
    return by_point


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _validate_point(
    point: _Point,
    new: list[_New],
    context: PointContext,
    errors: list[RowError],
) -> tuple[list[_New], int]:
    """The rows to insert for one point (flagged) and how many were already there.

    The point's intervals are walked from the context's anchor — its last reading before the
    earliest new one — with the history before it, to the first stored reading after the last
    new one: the same outcome as walking its whole history, at the cost of the new rows.
    """
    zone = point.zone
    meters = context.meters
    if not meters:
        errors.extend(RowError(n.row, "energy.meter.none", {"code": point.code}) for n in new)
        return [], 0
    starts = [m.installed_at for m in meters]
    anchor = context.anchor()
    history = context.history(anchor) if anchor is not None else History()
    assert history is not None  # load_contexts loads enough for the anchor's history
    low, high = anchor, context.known_until

    def inside(t: datetime) -> bool:
        return (low is None or t >= low) and (high is None or t <= high)

    # Each installation's sequence in the window: time → (value, new row or None); its initial
    # and final readings too.
    sequences: dict[int, dict[datetime, tuple[Decimal, _New | None]]] = {}
    for m in meters:
        sequences[m.id] = {t: (v, None) for t, v in m.edges() if inside(t)}
    for stored in context.readings:
        if inside(stored.read_at):
            sequences[stored.meter_id][stored.read_at] = (stored.reading, None)
    unchanged = 0
    seen: dict[datetime, _New] = {}
    for n in sorted(new, key=lambda x: (x.read_at, x.row)):
        index = bisect_right(starts, n.read_at) - 1
        if index < 0:
            errors.append(
                RowError(
                    n.row,
                    "energy.reading.before_installation",
                    {"time": _local(n.read_at, zone), "installed": _local(starts[0], zone)},
                )
            )
            continue
        meter = meters[index]
        if meter.removed_at is not None and n.read_at > meter.removed_at:
            errors.append(
                RowError(n.row, "energy.reading.no_meter", {"time": _local(n.read_at, zone)})
            )
            continue
        if n.read_at == meter.installed_at and index > 0:
            prior = meters[index - 1]
            if prior.removed_at == n.read_at:  # the swap instant: both readings exist
                meter = prior if n.reading == prior.final_reading else meter
        earlier = seen.get(n.read_at)
        if earlier is not None:
            if earlier.reading == n.reading:
                unchanged += 1
            else:
                errors.append(
                    RowError(
                        n.row,
                        "import.energy.conflicting_row",
                        {"time": _local(n.read_at, zone), "first_row": earlier.row},
                    )
                )
            continue
        seen[n.read_at] = n
        current = sequences[meter.id].get(n.read_at)
        if current is not None:
            if current[0] == n.reading:
                unchanged += 1
            else:
                errors.append(
                    RowError(
                        n.row,
                        "import.energy.other_value_stored",
                        {"time": _local(n.read_at, zone), "value": number_text(current[0])},
                    )
                )
            continue
        size = Decimal(10) ** meter.digits if meter.digits is not None else None
        if size is not None and n.reading >= size:
            errors.append(
                RowError(
                    n.row,
                    "import.exceeds_register",
                    {"column": "reading", "value": number_text(n.reading), "digits": meter.digits},
                )
            )
            continue
        n.meter = meter
        sequences[meter.id][n.read_at] = (n.reading, n)
    # Walk the point's intervals in time order, with the history of docs/energy-marts.md.
    accepted: list[_New] = []
    for meter in meters:
        walk = sorted(sequences[meter.id].items(), key=lambda item: item[0])
        if not walk:
            continue  # wholly before the anchor or after the window
        prev_t, (prev_r, prev_new) = walk[0]
        for t, (r, new_row) in walk[1:]:
            interval = classify(
                prev_t, t, prev_r, r, meter.multiplier, meter.digits, history.typical()
            )
            if new_row is not None:
                if interval.status is IntervalStatus.HELD:
                    key = (
                        "energy.reading.lower_than_previous"
                        if meter.digits is None
                        else "energy.reading.rollover_implausible"
                    )
                    errors.append(
                        RowError(
                            new_row.row,
                            key,
                            {
                                "value": number_text(r),
                                "previous": number_text(prev_r),
                                "time": _local(prev_t, zone),
                            },
                        )
                    )
                    continue  # compare the next reading with the last good one
                if interval.status is not IntervalStatus.OK:
                    new_row.flag = interval.status.value
                accepted.append(new_row)
            elif prev_new is not None and r < prev_r:
                errors.append(
                    RowError(
                        prev_new.row,
                        "energy.reading.higher_than_next",
                        {
                            "value": number_text(prev_r),
                            "next": number_text(r),
                            "time": _local(t, zone),
                        },
                    )
                )
            history.add(interval)
            prev_t, prev_r, prev_new = t, r, new_row
    return accepted, unchanged


def import_reading_columns(
    session: Session,
    numbers: Sequence[int],
    columns: Mapping[str, Sequence[str]],
    *,
    actor: str,
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> ImportSummary:
    """Validate every reading row, then insert them all; nothing if any row is bad.

    The import is the only writer of readings and meters meanwhile (:data:`POINTS`, taken
    before anything is read): a second import or a form waits, then validates against what
    this one stored — refused or unchanged, never merged. ``progress`` hears of four stages:
    the rows checked one by one, the points' earlier readings loaded, the rows checked against
    them point by point, the rows written."""
    now = now or utcnow()
    errors: list[RowError] = []
    serialise(session, POINTS)
    points = _load_points(session, columns["point_code"], meters=False)
    with stage(progress, "ops.progress.import.rows", len(numbers)) as advance:
        by_point = _parse_reading_rows(numbers, columns, points, now, errors, advance)
    with stage(progress, "ops.progress.import.history"):
        contexts = load_contexts(
            session,
            {
                pid: (min(n.read_at for n in rows), max(n.read_at for n in rows))
                for pid, rows in by_point.items()
            },
        )
    by_id = {p.id: p for p in points.values()}
    accepted: list[tuple[_Point, _New]] = []
    unchanged = 0
    total = sum(len(rows) for rows in by_point.values())
    with stage(progress, "ops.progress.import.points", total) as advance:
        for pid in sorted(by_point):
            point = by_id[pid]
            rows, same = _validate_point(point, by_point[pid], contexts[pid], errors)
            accepted.extend((point, n) for n in rows)
            unchanged += same
            advance(len(by_point[pid]), point.code)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    entered_at = utcnow()
    withdrawn = _withdrawals(session, {n.meter.id for _, n in accepted if n.meter})
    with stage(progress, "ops.progress.import.write", len(accepted)) as advance:
        insert_readings(
            session,
            [
                {
                    "point_id": p.id,
                    "meter_id": n.meter.id if n.meter else 0,
                    "read_at": n.read_at,
                    "reading": n.reading,
                    "source": n.source,
                    "flag": n.flag,
                    "supersedes_id": withdrawn.get((n.meter.id, n.read_at)) if n.meter else None,
                    "entered_by": actor,
                    "entered_at": entered_at,
                }
                for p, n in accepted
            ],
            advance,
        )
    if accepted:
        audit.record(
            session,
            actor=actor,
            action="import",
            entity="energy_reading",
            entity_key=f"{len(accepted)} readings",
            after={
                "created": len(accepted),
                "unchanged": unchanged,
                "flagged": sum(1 for _, n in accepted if n.flag),
            },
        )
    return ImportSummary(created=len(accepted), unchanged=unchanged)


def _withdrawals(session: Session, meter_ids: Iterable[int]) -> dict[tuple[int, datetime], int]:
    """The withdrawals (``void`` rows not superseded) of ``meter_ids`` by (meter, instant): a
    reading imported there continues that chain. Read on the small index of void rows."""
    later = aliased(Reading)
    found: dict[tuple[int, datetime], int] = {}
    ids = sorted(meter_ids)
    for start in range(0, len(ids), 900):
        for rid, meter_id, read_at in session.execute(
            select(Reading.id, Reading.meter_id, Reading.read_at).where(
                Reading.meter_id.in_(ids[start : start + 900]),
                Reading.void == true(),
                ~exists().where(later.supersedes_id == Reading.id),
            )
        ):
            found[(meter_id, read_at)] = rid
    return found


def import_readings_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
    encoding: str | None = None,
) -> ImportSummary:
    with stage(progress, "ops.progress.import.read", None, file=path.name):
        read = read_column_table(path, READING_REQUIRED, READING_OPTIONAL, encoding=encoding)
    return import_reading_columns(
        session, read.numbers, read.columns, actor=actor, now=now, progress=progress
    ).read_as(read.encoding)


# ---------------------------------------------------------------- meters


def _number_problems(
    number: int,
    values: Mapping[str, str],
    columns: Mapping[str, Any],
    texts: Mapping[str, str] | None = None,
) -> list[RowError]:
    """The bad numbers of one row: ``columns`` maps a file column to its stored ``Numeric`` type
    (a blank cell is left to the required-column check); ``texts`` overrides a cell's text."""
    problems: list[RowError] = []
    for column, column_type in columns.items():
        text = (texts or {}).get(column, values[column])
        if not text:
            continue
        value = parse_number(text)
        if value is None:
            problems.append(
                RowError(
                    number, "import.bad_number", {"column": column, "value": entry.short(text)}
                )
            )
            continue
        unfit = number_refusal(number, column, text, value, column_type)
        if unfit is not None:
            problems.append(unfit)
    return problems


def import_meters_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: datetime | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    read = read_table(
        path, METER_REQUIRED, METER_OPTIONAL, encoding=encoding, lengths=METER_LENGTHS
    )
    return import_meter_rows(session, read.rows, actor=actor, now=now).read_as(read.encoding)


def import_meter_rows(
    session: Session,
    rows: list[tuple[int, dict[str, str]]],
    *,
    actor: str,
    now: datetime | None = None,
) -> ImportSummary:
    """Create points and their first meters; parents first, whatever the order of the file."""
    now = now or utcnow()
    errors: list[RowError] = []
    serialise(session, POINTS)
    by_code: dict[str, tuple[int, dict[str, str]]] = {}
    for number, values in rows:
        missing = [c for c in METER_REQUIRED if not values[c]]
        if missing:
            errors.extend(RowError(number, "import.missing_value", {"column": c}) for c in missing)
            continue
        first = by_code.get(values["point_code"])
        if first is not None:
            errors.append(
                RowError(
                    number,
                    "import.energy.duplicate_point",
                    {"code": values["point_code"], "first_row": first[0]},
                )
            )
            continue
        by_code[values["point_code"]] = (number, values)
    # Parents before children; a cycle in the file is a bad row.
    ordered: list[tuple[int, dict[str, str]]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(code: str) -> None:
        if state.get(code) == 2:
            return
        number, values = by_code[code]
        if state.get(code) == 1:
            errors.append(RowError(number, "import.energy.parent_cycle", {"code": code}))
            state[code] = 2
            return
        state[code] = 1
        parent = values["parent_point_code"]
        if parent and parent in by_code:
            visit(parent)
        state[code] = 2
        ordered.append((number, values))

    for code in by_code:
        visit(code)
    existing = {
        code: (pid, office, kind, name)
        for pid, code, office, kind, name in session.execute(
            select(MeterPoint.id, MeterPoint.code, Office.code, MeterPoint.kind, MeterPoint.name)
            .join(Office, MeterPoint.office_id == Office.id)
            .where(MeterPoint.code.in_(list(by_code)))
        )
    }
    summary = ImportSummary()
    nested = session.begin_nested()
    for number, values in ordered:
        code = values["point_code"]
        multiplier = values["multiplier"] or "1"
        problems = _number_problems(
            number,
            values,
            {"multiplier": Meter.multiplier.type, "initial_reading": Meter.initial_reading.type},
            {"multiplier": multiplier},
        )
        digits = None
        if values["digits"]:
            digits = parse_digits(values["digits"])
            if digits is None:
                problems.append(
                    RowError(
                        number,
                        "energy.meter.bad_digits",
                        {"value": entry.short(values["digits"]), "max": MAX_DIGITS},
                    )
                )
        if problems:
            errors.extend(problems)
            continue
        initial = parse_number(values["initial_reading"])
        assert initial is not None
        known = existing.get(code)
        if known is not None:
            if known[1:] == (values["office_code"], values["kind"], values["name"]):
                summary.unchanged += 1
            else:
                errors.append(RowError(number, "energy.point_exists", {"code": code}))
            continue
        office = session.scalars(
            select(Office).where(Office.code == values["office_code"])
        ).one_or_none()
        if office is None:
            errors.append(
                RowError(number, "energy.unknown_office", {"code": values["office_code"]})
            )
            continue
        installed_at = parse_time(values["installed_at"], ZoneInfo(office.timezone))
        if installed_at is None:
            errors.append(
                RowError(
                    number,
                    "import.bad_time",
                    {"column": "installed_at", "value": entry.short(values["installed_at"])},
                )
            )
            continue
        out_of_bounds = time_refusal(
            number, "installed_at", values["installed_at"], installed_at, None
        )
        if out_of_bounds is None and installed_at > now + CLOCK_SKEW:
            out_of_bounds = RowError(
                number,
                "import.future_time",
                {"column": "installed_at", "value": entry.short(values["installed_at"])},
            )
        if out_of_bounds is None and digits is not None and initial >= Decimal(10) ** digits:
            out_of_bounds = RowError(
                number,
                "import.exceeds_register",
                {"column": "initial_reading", "value": number_text(initial), "digits": digits},
            )
        if out_of_bounds is not None:
            errors.append(out_of_bounds)
            continue
        try:
            add_point(
                session,
                system_principal(actor),
                office_code=office.code,
                code=code,
                name=values["name"],
                kind=values["kind"],
                parent_code=values["parent_point_code"] or None,
                building=values["building"] or None,
            )
            add_meter(
                session,
                system_principal(actor),
                point_code=code,
                installed_at=installed_at,
                initial_reading=initial,
                serial=values["serial"] or None,
                multiplier=multiplier,
                digits=digits,
                now=now,
            )
        except DomainError as error:
            errors.append(RowError(number, error.key, dict(error.params)))
            continue
        summary.created += 1
    if errors:
        nested.rollback()
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    nested.commit()
    return summary


# ---------------------------------------------------------------- replacements


def import_replacements_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: datetime | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    read = read_table(
        path,
        REPLACEMENT_REQUIRED,
        REPLACEMENT_OPTIONAL,
        encoding=encoding,
        lengths=REPLACEMENT_LENGTHS,
    )
    return import_replacement_rows(session, read.rows, actor=actor, now=now).read_as(read.encoding)


def import_replacement_rows(
    session: Session,
    rows: list[tuple[int, dict[str, str]]],
    *,
    actor: str,
    now: datetime | None = None,
) -> ImportSummary:
    """Record meter replacements in time order; one already recorded the same way is unchanged."""
    now = now or utcnow()
    errors: list[RowError] = []
    parsed: list[tuple[datetime, int, dict[str, str], _Point]] = []
    serialise(session, POINTS)
    points = _load_points(session, (v["point_code"] for _, v in rows))
    for number, values in rows:
        missing = [c for c in REPLACEMENT_REQUIRED if not values[c]]
        if missing:
            errors.extend(RowError(number, "import.missing_value", {"column": c}) for c in missing)
            continue
        point = points.get(values["point_code"])
        if point is None:
            errors.append(RowError(number, "energy.unknown_point", {"code": values["point_code"]}))
            continue
        at = parse_time(values["replaced_at"], point.zone)
        if at is None:
            errors.append(
                RowError(
                    number,
                    "import.bad_time",
                    {"column": "replaced_at", "value": entry.short(values["replaced_at"])},
                )
            )
            continue
        problems = _number_problems(
            number,
            values,
            {
                "old_final_reading": Meter.final_reading.type,
                "new_initial_reading": Meter.initial_reading.type,
                "new_multiplier": Meter.multiplier.type,
            },
        )
        out_of_bounds = time_refusal(number, "replaced_at", values["replaced_at"], at, None)
        if out_of_bounds is None and at > now + CLOCK_SKEW:
            out_of_bounds = RowError(
                number,
                "import.future_time",
                {"column": "replaced_at", "value": entry.short(values["replaced_at"])},
            )
        if out_of_bounds is not None:
            problems.append(out_of_bounds)
        if values["new_digits"] and parse_digits(values["new_digits"]) is None:
            problems.append(
                RowError(
                    number,
                    "energy.meter.bad_digits",
                    {"value": entry.short(values["new_digits"]), "max": MAX_DIGITS},
                )
            )
        errors.extend(problems)
        if not problems:
            parsed.append((at, number, values, point))
    summary = ImportSummary()
    nested = session.begin_nested()
    for at, number, values, point in sorted(parsed, key=lambda p: (p[3].code, p[0])):
        final = parse_number(values["old_final_reading"])
        initial = parse_number(values["new_initial_reading"])
        assert final is not None and initial is not None
        done = next((m for m in point.meters if m.removed_at == at), None)
        if done is not None:
            if done.final_reading == final and any(
                m.installed_at == at and m.initial_reading == initial for m in point.meters
            ):
                summary.unchanged += 1
            else:
                errors.append(
                    RowError(
                        number, "import.energy.other_replacement", {"time": values["replaced_at"]}
                    )
                )
            continue
        try:
            replace_meter(
                session,
                system_principal(actor),
                point.code,
                at,
                final,
                initial,
                new_serial=values["new_serial"] or None,
                new_multiplier=values["new_multiplier"] or None,
                new_digits=parse_digits(values["new_digits"]) if values["new_digits"] else None,
                now=now,
            )
        except DomainError as error:
            errors.append(RowError(number, error.key, dict(error.params)))
            continue
        summary.created += 1
    if errors:
        nested.rollback()
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    nested.commit()
    return summary
