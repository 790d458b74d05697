"""The fault library (故障库): add entries, search them, read them for an object's type.

The library belongs to the group: every office reads the same entries, and only holders of
``MANAGE_FAULTS`` (group administrators, engineering supervisors) add to it. An entry filed under
a type applies to its sub-types too. Search is a case-insensitive substring match on symptom,
cause and remedy (``lower(column) LIKE %term%``, with ``%`` and ``_`` in the term taken
literally); Chinese text has no case and matches as typed on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from operational import audit
from operational.auth import Permission, Principal
from operational.errors import DomainError, PermissionDenied
from operational.models import Fault, ObjectType
from operational.services.objects import lineage, subtree_ids, type_by_code

SEARCH_LIMIT = 200


@dataclass(frozen=True)
class FaultEntry:
    id: int
    type_code: str
    type_name: str
    symptom: str
    cause: str
    remedy: str


def add_fault(
    session: Session,
    actor: Principal,
    *,
    type_code: str,
    symptom: str,
    cause: str = "",
    remedy: str = "",
) -> Fault:
    """Add an entry under ``type_code``; the same symptom twice under one type is refused."""
    if not actor.can(Permission.MANAGE_FAULTS):
        raise PermissionDenied("auth.not_allowed")
    object_type = type_by_code(session, type_code)
    symptom, cause, remedy = symptom.strip(), cause.strip(), remedy.strip()
    if not symptom:
        raise DomainError("objects.faults.symptom_required")
    if not cause and not remedy:
        raise DomainError("objects.faults.cause_or_remedy_required")
    for text, limit in ((symptom, 200), (cause, 1000), (remedy, 2000)):
        if len(text) > limit:
            raise DomainError("objects.faults.too_long", max=limit)
    duplicate = session.scalars(
        select(Fault.id).where(Fault.type_id == object_type.id, Fault.symptom == symptom)
    ).first()
    if duplicate is not None:
        raise DomainError("objects.faults.exists", symptom=symptom, type=object_type.name)
    fault = Fault(
        type_id=object_type.id,
        symptom=symptom,
        cause=cause,
        remedy=remedy,
        created_by=actor.username,
    )
    session.add(fault)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="maint_fault",
        entity_key=f"{type_code}:{fault.id}",
        after={"type": type_code, "symptom": symptom, "cause": cause, "remedy": remedy},
    )
    return fault


def search_faults(
    session: Session,
    text: str = "",
    *,
    type_ids: Collection[int] | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[FaultEntry]:
    """Entries whose symptom, cause or remedy contains every word of ``text`` (any case), of
    the types ``type_ids`` (None: all), ordered by type and symptom."""
    query = select(Fault, ObjectType).join(ObjectType, ObjectType.id == Fault.type_id)
    if type_ids is not None:
        query = query.where(Fault.type_id.in_(sorted(type_ids)))
    for word in text.split():
        needle = word.lower()
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (Fault.symptom, Fault.cause, Fault.remedy)
                )
            )
        )
    query = query.order_by(ObjectType.code, Fault.symptom, Fault.id).limit(limit)
    return [
        FaultEntry(f.id, t.code, t.name, f.symptom, f.cause, f.remedy)
        for f, t in session.execute(query)
    ]


def faults_for_type(session: Session, type_code: str, text: str = "") -> list[FaultEntry]:
    """The entries an object of ``type_code`` shows: its type's and its ancestors'."""
    object_type = type_by_code(session, type_code)
    return search_faults(session, text, type_ids={t.id for t in lineage(session, object_type)})


def faults_under_type(session: Session, type_code: str, text: str = "") -> list[FaultEntry]:
    """The entries of ``type_code`` and of every type below it (browsing a branch of the tree)."""
    return search_faults(
        session, text, type_ids=subtree_ids(session, type_by_code(session, type_code))
    )
