"""A document's SLA clock as a form shows it (orders, tickets): evaluated now, or at its stop,
by :func:`operational.sla.evaluate` in the calendar it runs in (docs/sla-clocks.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from operational import sla
from operational.models import Office, WorkflowClock, utcnow
from operational.workflow import engine


@dataclass(frozen=True)
class ClockSummary:
    """The order's completion clock as of now (or its stop): :func:`operational.sla.evaluate`.

    ``due_at`` is the deadline moved by pauses (None while a pause that began before it is
    open); ``late_minutes`` the running time past the target, in minutes of the clock's
    calendar (business minutes on an office calendar), 0 unless breached."""

    target: sla.ClockTarget
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    state: sla.ClockState
    late_minutes: float
    paused: bool


def clock_summary(session: Session, office: Office, clock: WorkflowClock) -> ClockSummary:
    """One clock of a document (of ``office``) evaluated now — or at its stop — with
    :func:`operational.sla.evaluate` in the calendar it runs in (orders, tickets)."""
    pauses = engine.clock_pauses(session, clock)
    paused = bool(pauses) and pauses[-1].resumed_at is None
    target = engine.clock_target(clock)
    as_of = clock.stopped_at or utcnow()
    if as_of < clock.started_at:  # issued ahead: its clock starts on the scheduled day
        return ClockSummary(
            target, clock.started_at, clock.due_at, None, sla.ClockState.PENDING, 0.0, False
        )
    evaluation = sla.evaluate(
        clock.started_at,
        target,
        engine.office_calendar(office, target),
        as_of,
        [(p.paused_at, p.resumed_at) for p in pauses],
        clock.stopped_at,
    )
    late = 0.0
    if evaluation.state is sla.ClockState.BREACHED:
        late = max(0.0, evaluation.elapsed_minutes - target.minutes)
    return ClockSummary(
        target,
        clock.started_at,
        evaluation.due_at,
        clock.stopped_at,
        evaluation.state,
        late,
        paused,
    )
