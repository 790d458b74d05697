"""SLA clocks (时效): targets as data, deadlines, pauses and breach.

A clock starts when a document enters a state, may be paused (挂起 — waiting for the owner, for
parts) and resumed, and stops when the document leaves the measured states. Its target is data
(:data:`DEFAULT_TARGETS`), never a code branch. The exact rules are in ``docs/sla-clocks.md``;
``warehouse/sql/macros/business_time.sql`` implements the same rules in SQL, and both are checked
against ``tests/vectors/sla_clock_vectors.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Final, Generic, Literal, TypeVar

from operational.calendars import (
    ONE_MINUTE,
    WorkCalendar,
    add_business_minutes,
    advance_through,
    time_within,
    working_intervals,
)

CalendarKind = Literal["office", "24x7"]
Pause = tuple[datetime, datetime | None]
"""``(paused_at, resumed_at)``; ``resumed_at`` is None while the clock is still paused."""


class ClockUnit(StrEnum):
    """The unit of a target. Never "days": a day is ambiguous between business and calendar."""

    BUSINESS_MINUTES = "business_minutes"
    CALENDAR_MINUTES = "calendar_minutes"
    CALENDAR_HOURS = "calendar_hours"


class ClockState(StrEnum):
    MET = "met"  # stopped at or before its deadline (达标)
    BREACHED = "breached"  # running after its deadline, or stopped after it (超时)
    PENDING = "pending"  # running (or paused) and not past its deadline (进行中)


@dataclass(frozen=True)
class ClockTarget:
    """How much time a clock allows, and the calendar it runs in.

    ``calendar_kind`` ``"office"`` runs in the office's working calendar, ``"24x7"`` round the
    clock. Calendar units (wall-clock time) need the 24×7 calendar.
    """

    amount: int
    unit: ClockUnit
    calendar_kind: CalendarKind

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("a target must be positive")
        if self.unit is not ClockUnit.BUSINESS_MINUTES and self.calendar_kind != "24x7":
            raise ValueError(f"{self.unit} is wall-clock time: it runs in the 24x7 calendar")

    @property
    def minutes(self) -> int:
        return self.amount * (60 if self.unit is ClockUnit.CALENDAR_HOURS else 1)


_H = ClockUnit.CALENDAR_HOURS
DEFAULT_TARGETS: Final[Mapping[tuple[str, str], ClockTarget]] = MappingProxyType(
    {
        # (document type, clock) -> target; offices override per discipline where docs/sla-clocks.md says so.
        ("cs_task", "pickup"): ClockTarget(5, ClockUnit.BUSINESS_MINUTES, "office"),  # 接单
        ("repair", "resolution"): ClockTarget(72, _H, "24x7"),  # 报修处理
        ("urgent_repair", "on_site"): ClockTarget(30, ClockUnit.CALENDAR_MINUTES, "24x7"),  # 到场
        ("complaint_minor", "resolution"): ClockTarget(48, _H, "24x7"),  # 投诉
        ("complaint_general", "resolution"): ClockTarget(72, _H, "24x7"),
        ("complaint_major", "resolution"): ClockTarget(120, _H, "24x7"),
        # A complaint escalated to level 1 gets a fresh clock with the same target (docs/tickets.md).
        ("complaint_minor", "escalated_resolution"): ClockTarget(48, _H, "24x7"),
        ("complaint_general", "escalated_resolution"): ClockTarget(72, _H, "24x7"),
        ("complaint_major", "escalated_resolution"): ClockTarget(120, _H, "24x7"),
        ("periodic_order", "completion"): ClockTarget(72, _H, "24x7"),  # 周期性工单
        ("corrective_order", "completion"): ClockTarget(72, _H, "24x7"),  # 整改单 (default)
        ("inspection", "completion"): ClockTarget(72, _H, "24x7"),  # 检查工单 (docs/inspections.md)
        # Nonconformities (docs/nonconformities.md): acknowledge a notice within a working day,
        # handle and verify a handling order in 72 h, close a corrective-and-preventive one in a week.
        ("nonconformity_notice", "completion"): ClockTarget(
            480, ClockUnit.BUSINESS_MINUTES, "office"
        ),
        ("nonconformity_handling", "completion"): ClockTarget(72, _H, "24x7"),
        ("nonconformity_corrective", "completion"): ClockTarget(168, _H, "24x7"),
    }
)


@dataclass(frozen=True)
class ClockEvaluation:
    """A clock as of an instant. ``due_at`` is the deadline moved by pauses (None while the clock
    is paused before reaching its target); ``elapsed_minutes`` is the running time, in minutes
    of the clock's calendar, up to the stop or ``as_of``."""

    due_at: datetime | None
    elapsed_minutes: float
    state: ClockState


def clock_calendar(target: ClockTarget, office: WorkCalendar) -> WorkCalendar:
    """The calendar a clock runs in: the office's, or 24×7 in the office's time zone."""
    return office if target.calendar_kind == "office" else _always(office.timezone)


@cache
def _always(timezone: str) -> WorkCalendar:
    """:meth:`WorkCalendar.always`, built and validated once per time zone (a calendar is
    immutable, so one object serves every clock)."""
    return WorkCalendar.always(timezone)


def due_at(start: datetime, target: ClockTarget, office: WorkCalendar) -> datetime:
    """The deadline fixed when the clock starts (stored with the document). A clock started
    outside working time (night service — 夜间服务) starts counting when the next working
    interval opens."""
    return add_business_minutes(clock_calendar(target, office), start, target.minutes)


OfficeKey = TypeVar("OfficeKey", bound=Hashable)


class Deadlines(Generic[OfficeKey]):
    """:func:`due_at` for many clocks at once, memoised, for the bulk writers (order generation,
    the history import): the same results, each computed once.

    ``calendar_of(office, target)`` gives the office calendar a clock of ``office`` (any key:
    an office id) runs in for ``target``; it is asked once per office and calendar kind. A
    deadline is computed once per clock calendar, target length and start — periodic orders
    start at midnight of their day, so one computation serves every order of that day in every
    office of the time zone (24×7 calendars are shared per time zone, :func:`clock_calendar`).
    """

    def __init__(self, calendar_of: Callable[[OfficeKey, ClockTarget], WorkCalendar]) -> None:
        self._calendar_of = calendar_of
        self._calendars: dict[tuple[OfficeKey, CalendarKind], WorkCalendar] = {}
        self._deadlines: dict[tuple[int, int, datetime], datetime] = {}
        self._held: dict[int, WorkCalendar] = {}  # keeps the calendars whose ids are keys alive

    def calendar(self, office: OfficeKey, target: ClockTarget) -> WorkCalendar:
        """The office calendar of ``office`` for ``target`` (``calendar_of``, asked once per
        office and calendar kind). A caller that must not read later calls it beforehand."""
        kind = (office, target.calendar_kind)
        calendar = self._calendars.get(kind)
        if calendar is None:
            calendar = self._calendars[kind] = self._calendar_of(office, target)
        return calendar

    def __call__(self, office: OfficeKey, target: ClockTarget, start: datetime) -> datetime:
        """:func:`due_at` of a clock of ``office`` with ``target`` started at ``start``."""
        calendar = self.calendar(office, target)
        running = clock_calendar(target, calendar)
        key = (id(running), target.minutes, start)
        due = self._deadlines.get(key)
        if due is None:
            self._held[id(running)] = running
            due = self._deadlines[key] = due_at(start, target, calendar)
        return due


def evaluate(
    start: datetime,
    target: ClockTarget,
    office: WorkCalendar,
    as_of: datetime,
    pauses: Sequence[Pause] = (),
    stopped_at: datetime | None = None,
) -> ClockEvaluation:
    """The clock's deadline, running time and state as of ``as_of``.

    Only what is known by ``as_of`` counts: a pause beginning after it is ignored, a resume or a
    stop after it has not happened yet. Running time is time of the clock's calendar since
    ``start`` outside pauses. The deadline is the earliest instant at which running time reaches
    the target; the clock is breached if it runs (``as_of``) or stops strictly after it.
    """
    _check(start, as_of, pauses, stopped_at)
    stop = stopped_at if stopped_at is not None and stopped_at <= as_of else None
    known = [(p, r if r is not None and r <= as_of else None) for p, r in pauses if p <= as_of]
    # Running segments: [start, 1st pause), [1st resume, 2nd pause), … and, unless the clock is
    # paused now, [last resume, ∞). zip() drops that last one when the last resume is missing.
    seg_starts = [start, *(r for _, r in known if r is not None)]
    seg_ends: list[datetime | None] = [*(p for p, _ in known), None]
    segments = list(zip(seg_starts, seg_ends, strict=False))
    calendar = clock_calendar(target, office)
    due = advance_through(_running(calendar, segments), timedelta(minutes=target.minutes))
    end = stop or as_of
    elapsed = time_within(_running(calendar, segments), end) / ONE_MINUTE
    if due is not None and end > due:
        return ClockEvaluation(due, elapsed, ClockState.BREACHED)
    return ClockEvaluation(due, elapsed, ClockState.MET if stop else ClockState.PENDING)


def _running(
    calendar: WorkCalendar, segments: list[tuple[datetime, datetime | None]]
) -> Iterator[tuple[datetime, datetime]]:
    """The working intervals inside the running segments, in order."""
    for seg_start, seg_end in segments:
        for begin, end in working_intervals(calendar, seg_start):
            if seg_end is None:
                yield begin, end
            elif begin >= seg_end:
                break
            else:
                yield begin, min(end, seg_end)


def _check(
    start: datetime, as_of: datetime, pauses: Sequence[Pause], stopped_at: datetime | None
) -> None:
    if as_of < start:
        raise ValueError("the clock starts after as_of")
    previous = start
    for i, (paused_at, resumed_at) in enumerate(pauses):
        if paused_at < previous or (resumed_at is not None and resumed_at < paused_at):
            raise ValueError("pauses must be ordered, disjoint and after the start")
        if resumed_at is None and i != len(pauses) - 1:
            raise ValueError("only the last pause may be open")
        previous = resumed_at or paused_at
    if stopped_at is not None and stopped_at < previous:
        raise ValueError("a clock stops after its start and its pauses")
