"""The energy interval rule (docs/energy-marts.md) as pure functions, shared with the warehouse by test vectors.

Between two consecutive readings ``r0`` at ``t0`` and ``r1`` at ``t1`` of one installation
(the initial and final readings included), with multiplier ``m`` and ``d`` register digits:

* ``r1 ≥ r0``: ``Δ = (r1 − r0) × m``, status ``ok``; or ``high`` when the point has history and
  ``Δ > k × typical × days``.
* ``r1 < r0`` and the register has digits: the roll-over ``Δ = (10^d − r0 + r1) × m`` is taken
  (status ``rollover``) only if plausible: ``Δ < k × typical × days`` with history, or
  ``10^d − r0 + r1 < 10^d / 2`` (register units) without. Otherwise the interval is ``held``.
* ``r1 < r0`` without digits: ``held``. A held interval has no Δ and counts nowhere.

``days`` is the elapsed time in seconds ÷ 86400 and ``k`` = 3. The *typical daily use* of a
point before an interval is the median of ``Δ ÷ days`` over the up-to-10 most recent earlier
intervals of that point with ``r1 ≥ r0`` (of any installation); without such intervals the point
has no history. Intervals never cross installations. The same rule is written in DuckDB SQL in
the warehouse; ``tests/vectors/energy_interval_vectors.json`` keeps the two in step.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from statistics import median

K = Decimal(3)
HISTORY = 10
SECONDS_PER_DAY = Decimal(86400)


class IntervalStatus(enum.StrEnum):
    OK = "ok"
    ROLLOVER = "rollover"
    HELD = "held"
    HIGH = "high"


@dataclass(frozen=True)
class Installation:
    """A meter at a point, with its readings (in any order) and its end if it was removed."""

    multiplier: Decimal
    digits: int | None
    installed_at: datetime
    initial_reading: Decimal
    readings: Sequence[tuple[datetime, Decimal]]
    removed_at: datetime | None = None
    final_reading: Decimal | None = None


@dataclass(frozen=True)
class Interval:
    """One interval between consecutive readings of one installation, classified."""

    start: datetime
    end: datetime
    r0: Decimal
    r1: Decimal
    delta: Decimal | None
    status: IntervalStatus

    @property
    def days(self) -> Decimal:
        return elapsed_days(self.start, self.end)


def elapsed_days(start: datetime, end: datetime) -> Decimal:
    delta = end - start
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    return seconds / SECONDS_PER_DAY


class History:
    """The daily rates of a point's recent ordinary intervals (``r1 ≥ r0``), newest last."""

    def __init__(self, rates: Iterable[Decimal] = ()) -> None:
        self._rates: deque[Decimal] = deque(rates, maxlen=HISTORY)

    def typical(self) -> Decimal | None:
        """Typical daily use: the median of the recent rates; None when there is no history."""
        if not self._rates:
            return None
        return Decimal(median(self._rates))

    def __len__(self) -> int:
        return len(self._rates)

    def copy(self) -> History:
        return History(self._rates)

    def add(self, interval: Interval) -> bool:
        """Count ``interval`` if it is ordinary (``r1 ≥ r0``, some time elapsed); True if so."""
        if interval.r1 >= interval.r0 and interval.delta is not None:
            days = interval.days
            if days > 0:
                self._rates.append(interval.delta / days)
                return True
        return False


def classify(
    start: datetime,
    end: datetime,
    r0: Decimal,
    r1: Decimal,
    multiplier: Decimal,
    digits: int | None,
    typical: Decimal | None,
) -> Interval:
    """Δ and status of one interval, given the point's typical daily use before it."""
    days = elapsed_days(start, end)
    if r1 >= r0:
        delta = (r1 - r0) * multiplier
        if typical is not None and delta > K * typical * days:
            return Interval(start, end, r0, r1, delta, IntervalStatus.HIGH)
        return Interval(start, end, r0, r1, delta, IntervalStatus.OK)
    if digits is None:
        return Interval(start, end, r0, r1, None, IntervalStatus.HELD)
    register = Decimal(10) ** digits
    units = register - r0 + r1
    delta = units * multiplier
    plausible = delta < K * typical * days if typical is not None else units < register / 2
    if plausible:
        return Interval(start, end, r0, r1, delta, IntervalStatus.ROLLOVER)
    return Interval(start, end, r0, r1, None, IntervalStatus.HELD)


def installation_points(installation: Installation) -> list[tuple[datetime, Decimal]]:
    """The installation's readings in time order, its initial and final readings included."""
    points = [(installation.installed_at, installation.initial_reading)]
    points.extend(sorted(installation.readings, key=lambda p: p[0]))
    if installation.removed_at is not None and installation.final_reading is not None:
        points.append((installation.removed_at, installation.final_reading))
    return points


def point_intervals(
    installations: Iterable[Installation], history: History | None = None
) -> list[Interval]:
    """Every interval of one point, in time order, each classified against the history before it."""
    history = history if history is not None else History()
    result: list[Interval] = []
    for installation in sorted(installations, key=lambda i: i.installed_at):
        points = installation_points(installation)
        for (t0, r0), (t1, r1) in pairwise(points):
            interval = classify(
                t0, t1, r0, r1, installation.multiplier, installation.digits, history.typical()
            )
            result.append(interval)
            history.add(interval)
    return result


def history_until(
    installations: Iterable[Installation], until: datetime, known_since: datetime | None = None
) -> History | None:
    """The point's history of the intervals that end no later than ``until``.

    ``installations`` are all of the point's, with their readings known only from ``known_since``
    on (None: every reading is given). Only intervals that start at or after ``known_since`` are
    then certain, and they are the most recent ones; if fewer than :data:`HISTORY` of them are
    ordinary, the history cannot be told from what is known and the result is None (load more).
    """
    history = History()
    counted = 0
    for installation in sorted(installations, key=lambda i: i.installed_at):
        for (t0, r0), (t1, r1) in pairwise(installation_points(installation)):
            if t1 > until:
                break
            if known_since is not None and t0 < known_since:
                continue
            interval = classify(t0, t1, r0, r1, installation.multiplier, installation.digits, None)
            counted += history.add(interval)
    if known_since is not None and counted < HISTORY:
        return None
    return history


def register_size(digits: int | None) -> Decimal | None:
    """10^digits: the first value the register cannot show (None without digits)."""
    return Decimal(10) ** digits if digits is not None else None
