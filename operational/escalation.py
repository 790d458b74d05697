"""The complaint escalation ladder (投诉升级) — one rule, pure functions.

Given what happened to one complaint (its resolution deadline and target, its resolutions and its
follow-up visits) and an instant ``as_of``, :func:`ladder` says which levels had fired by then,
when and why. The live check (``operational.services.tickets.check_escalations``) fires what it
says and has not fired yet; the warehouse recomputes the same escalations from the events
(``marts.complaint_escalations``). Both are checked against
``tests/vectors/escalation_vectors.json``. The rule (``docs/tickets.md``):

- **Level 1** (the city company's internal-audit manager) fires at the earliest of: the instant
  the ``resolution`` clock breaches (its deadline, when the complaint was not resolved by then —
  a resolution exactly at the deadline is met), reason ``timeout``; the first unsatisfied
  follow-up, reason ``unsatisfied``. At level 1 a fresh clock ``escalated_resolution`` with the
  same target starts; the first resolution after the level-1 instant stops it.
- **Level 2** (the group's internal-audit manager) fires at the earliest of: the instant
  ``escalated_resolution`` breaches, reason ``timeout``; the first unsatisfied follow-up after
  the level-1 instant, reason ``unsatisfied``.
- Only what is known by ``as_of`` counts: a breach fires once ``as_of`` is past the deadline
  (strictly, as a clock evaluated exactly at its deadline is still pending), a resolution or a
  follow-up after ``as_of`` has not happened. On a tie the timeout wins. Each level fires once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

Reason = Literal["timeout", "unsatisfied"]

HOLDER_ROLES: Final = {1: "city_audit_manager", 2: "group_audit_manager"}
"""Who holds a complaint at each level (the office manager still works it)."""


@dataclass(frozen=True)
class FollowUp:
    at: datetime
    satisfied: bool


@dataclass(frozen=True)
class Escalation:
    level: int
    at: datetime
    reason: Reason

    @property
    def holder_role(self) -> str:
        return HOLDER_ROLES[self.level]


@dataclass(frozen=True)
class EscalatedClock:
    """The ``escalated_resolution`` clock a level-1 escalation starts."""

    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None


def _breach(due: datetime, stop: datetime | None, as_of: datetime) -> datetime | None:
    """The breach instant of a clock due at ``due`` that stops at ``stop`` (None: runs), as of
    ``as_of``: the deadline, if the clock has run or stopped strictly past it by then."""
    end = stop if stop is not None and stop <= as_of else as_of
    return due if end > due else None


def _first(candidates: Sequence[tuple[datetime, int, Reason]]) -> tuple[datetime, Reason] | None:
    if not candidates:
        return None
    at, _, reason = min(candidates)
    return at, reason


def ladder(
    resolution_due: datetime,
    target: timedelta,
    resolutions: Sequence[datetime],
    follow_ups: Sequence[FollowUp],
    as_of: datetime,
) -> tuple[list[Escalation], EscalatedClock | None]:
    """The levels fired by ``as_of`` and the ``escalated_resolution`` clock, if level 1 fired.

    ``resolution_due`` is the resolution clock's deadline (receipt + ``target``); ``target`` the
    complaint's resolution target (calendar time); ``resolutions`` the instants the complaint
    was resolved; ``follow_ups`` its follow-up visits.
    """
    resolved = sorted(r for r in resolutions if r <= as_of)
    visits = sorted((f for f in follow_ups if f.at <= as_of), key=lambda f: f.at)
    unsatisfied = [f.at for f in visits if not f.satisfied]
    fired: list[Escalation] = []
    # Level 1: the resolution clock stops at the first resolution.
    candidates: list[tuple[datetime, int, Reason]] = []
    breach = _breach(resolution_due, resolved[0] if resolved else None, as_of)
    if breach is not None:
        candidates.append((breach, 0, "timeout"))
    if unsatisfied:
        candidates.append((unsatisfied[0], 1, "unsatisfied"))
    first = _first(candidates)
    if first is None:
        return fired, None
    level1_at, reason = first
    fired.append(Escalation(1, level1_at, reason))
    later = [r for r in resolved if r > level1_at]
    clock = EscalatedClock(level1_at, level1_at + target, later[0] if later else None)
    # Level 2.
    candidates = []
    breach = _breach(clock.due_at, clock.stopped_at, as_of)
    if breach is not None:
        candidates.append((breach, 0, "timeout"))
    after = [at for at in unsatisfied if at > level1_at]
    if after:
        candidates.append((after[0], 1, "unsatisfied"))
    second = _first(candidates)
    if second is not None:
        fired.append(Escalation(2, second[0], second[1]))
    return fired, clock
