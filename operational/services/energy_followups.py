"""Following up energy exceptions (能耗异常跟进): an office's note, and marking one done.

The exceptions themselves are computed by the warehouse (``marts.energy_exceptions``,
docs/energy-marts.md); each is named by a key that stays the same from one build to the next:
its metering point, its rule and its start instant. A follow-up is stored here (one row each,
the latest counts), audited in the same transaction, and extracted by the next build, which
shows it on the exception and leaves a done one out of the count "to follow up".

Who may follow up: whoever may enter readings at the point's office
(:data:`FOLLOW_UP_PERMISSION`) — the people who correct the readings an exception is about.
Whoever may see the office's energy figures sees the follow-ups. Both reads and writes filter
by the principal's offices inside the query: a point outside them is not found.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from operational import audit
from operational.auth import Permission, Principal
from operational.db import as_utc
from operational.errors import DomainError, NotFound
from operational.models import ExceptionFollowUp, MeterPoint, utcnow
from operational.scope import office_clause, scoped_read

FOLLOW_UP_PERMISSION = Permission.ENTER_READINGS
"""Who may record a follow-up: those who may enter and correct readings at the office."""
VIEW_PERMISSION = Permission.VIEW_ENERGY
EXCEPTION_RULES = (
    "held",
    "rollover",
    "high",
    "entry_flag_rollover",
    "entry_flag_high",
    "point_held",
)
"""The ``rule`` values of ``marts.energy_exceptions`` (docs/energy-marts.md)."""
MAX_NOTE = 2000


@dataclass(frozen=True)
class ExceptionKey:
    """Names one exception: point code, rule and start instant (aware UTC)."""

    point_code: str
    rule: str
    start_at: datetime


@dataclass(frozen=True)
class FollowUpView:
    point_code: str
    rule: str
    start_at: datetime
    note: str
    done: bool
    followed_up_by: str
    followed_up_at: datetime


def _points_in_scope(principal: Principal, permission: Permission) -> Select[int, str]:
    """The ids and codes of the points at the offices where ``principal`` holds ``permission``."""
    return select(MeterPoint.id, MeterPoint.code).where(
        office_clause(principal, permission, MeterPoint.office_id)
    )


def follow_up_exception(
    session: Session,
    principal: Principal,
    key: ExceptionKey,
    note: str,
    *,
    done: bool,
    now: datetime | None = None,
) -> FollowUpView:
    """Record a follow-up of the exception ``key``: a note (required) and whether it is done.

    Raises :class:`NotFound` when the point is unknown or at an office where the principal may
    not follow up, :class:`DomainError` for an unknown rule or an empty or too long note.
    """
    row = session.execute(
        _points_in_scope(principal, FOLLOW_UP_PERMISSION).where(
            MeterPoint.code == key.point_code.strip()
        )
    ).one_or_none()
    if row is None:
        raise NotFound("energy_followup.unknown_point", code=key.point_code)
    if key.rule not in EXCEPTION_RULES:
        raise DomainError("energy_followup.unknown_rule", rule=key.rule)
    text = note.strip()
    if not text:
        raise DomainError("energy_followup.note_required")
    if len(text) > MAX_NOTE:
        raise DomainError("energy_followup.note_too_long", max=MAX_NOTE)
    start_at = as_utc(key.start_at)
    entry = ExceptionFollowUp(
        point_id=row.id,
        rule=key.rule,
        start_at=start_at,
        note=text,
        done=done,
        followed_up_by=principal.username,
        followed_up_at=now or utcnow(),
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=principal.username,
        action="follow_up",
        entity="energy_exception",
        entity_key=f"{row.code}/{key.rule}@{start_at.isoformat()}",
        office_id=session.scalar(select(MeterPoint.office_id).where(MeterPoint.id == row.id)),
        after={"id": entry.id, "note": text, "done": done},
    )
    return FollowUpView(
        row.code, key.rule, start_at, text, done, entry.followed_up_by, as_utc(entry.followed_up_at)
    )


@scoped_read(VIEW_PERMISSION)
def latest_follow_ups(
    session: Session, principal: Principal, keys: Collection[ExceptionKey]
) -> dict[ExceptionKey, FollowUpView]:
    """The latest follow-up of each of ``keys`` the principal may see (points of the offices
    where it may view energy), by key; keys without one are absent."""
    if not keys:
        return {}
    points = _points_in_scope(principal, VIEW_PERMISSION).subquery()
    wanted = {(k.point_code, k.rule, as_utc(k.start_at)) for k in keys}
    query = (
        select(ExceptionFollowUp, points.c.code)
        .join(points, points.c.id == ExceptionFollowUp.point_id)
        .where(points.c.code.in_(sorted({k.point_code for k in keys})))
        .where(
            tuple_(ExceptionFollowUp.rule, ExceptionFollowUp.start_at).in_(
                sorted({(rule, start) for _, rule, start in wanted})
            )
        )
        .order_by(ExceptionFollowUp.followed_up_at, ExceptionFollowUp.id)
    )
    latest: dict[ExceptionKey, FollowUpView] = {}
    for entry, code in session.execute(query):
        start_at = as_utc(entry.start_at)
        if (code, entry.rule, start_at) not in wanted:
            continue
        key = ExceptionKey(code, entry.rule, start_at)
        latest[key] = FollowUpView(
            code,
            entry.rule,
            start_at,
            entry.note,
            entry.done,
            entry.followed_up_by,
            as_utc(entry.followed_up_at),
        )
    return latest
