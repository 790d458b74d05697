"""Scope inside every read (数据范围): the one mechanism that limits a query to what a user may see.

Who may see which offices is one rule, :meth:`operational.auth.Principal.offices_for`; this
module is the one way a query applies it, in SQL, as polar's ``readable_*(user)`` builders do
(docs/architecture.md, "Every read carries its scope"):

- :func:`office_clause` is the ``WHERE`` condition that keeps the rows of the offices the
  principal holds a permission at; every scoped read builds its query with it.
- :func:`readable_offices` is the query of those offices.
- A single-record read filters with the same clause inside its query, so a record of another
  office and a missing one look alike (:class:`operational.errors.NotFound`).
- :func:`scoped_read` registers a read function. ``tests/test_scope.py`` calls every registered
  read for every role at office, city and group scope against a two-city demo and fails if a
  record of an office outside the scope appears — a new read joins that test by being
  registered here.

A supplier user (供方用户, a principal tied to a supplier) is a scope within its offices:
:func:`office_clause` also keeps only that supplier's work — orders dispatched to one of its
users, nonconformities against its contracts, its contracts and their evaluations
(:func:`supplier_clause`) — and nothing of any other kind of record. A read that joins
``Office`` and filters with :func:`office_code_clause` filters offices, not records: a read of
records keeps to the scope with :func:`office_clause` on the record's own ``office_id``.

Command-line and pipeline work runs as an explicit system principal
(:func:`operational.auth.system_principal`), never as "no actor".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from operational.auth import Permission, Principal
from operational.errors import NotFound
from operational.models import (
    CorrectiveOrder,
    Nonconformity,
    Office,
    PeriodicOrder,
    SupplierContract,
    SupplierScoreEntry,
    User,
)

F = TypeVar("F", bound=Callable[..., Any])


def office_clause(
    principal: Principal, permission: Permission, office_id: InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """The condition on an ``office_id`` column that keeps the offices where ``principal``
    holds ``permission`` (every office for the group scope and the system, none without it);
    for a supplier user, of those only its supplier's records (:func:`supplier_clause` on the
    column's table)."""
    offices = principal.offices_for(permission)
    if offices is not None and not offices:
        return false()
    clause = (
        true()
        if offices is None
        else office_id.in_(select(Office.id).where(Office.code.in_(sorted(offices))))
    )
    if principal.supplier_id is None:
        return clause
    return and_(clause, supplier_clause(principal.supplier_id, office_id.class_))


def _supplier_users(supplier_id: int) -> Select[int]:
    return select(User.id).where(User.supplier_id == supplier_id)


def _supplier_contracts(supplier_id: int) -> Select[int]:
    return select(SupplierContract.id).where(SupplierContract.supplier_id == supplier_id)


def people_clause(principal: Principal) -> ColumnElement[bool]:
    """The users ``principal`` may see named in a form (``User`` rows): for a supplier user,
    the group's own staff and its own supplier's users, never another supplier's."""
    if principal.supplier_id is None:
        return true()
    return or_(User.supplier_id.is_(None), User.supplier_id == principal.supplier_id)


UNNAMED = "—"
"""What a history shows for someone ``principal`` may not see named (:func:`unnamed_people`)."""


def unnamed_people(
    session: Session, principal: Principal, usernames: Iterable[str]
) -> frozenset[str]:
    """Of ``usernames`` (who acted on a document, who it was handed to), those ``principal``
    may not see named (:func:`people_clause`): for a supplier user, another supplier's users —
    an order or a ticket handed over from one supplier to another keeps their steps in its
    history, and a read shows them as :data:`UNNAMED` to the other supplier."""
    wanted = sorted({name for name in usernames if name})
    if principal.supplier_id is None or not wanted:
        return frozenset()
    return frozenset(
        session.scalars(
            select(User.username).where(User.username.in_(wanted), ~people_clause(principal))
        )
    )


def supplier_clause(supplier_id: int, record: object) -> ColumnElement[bool]:
    """The records of kind ``record`` that are the work of supplier ``supplier_id`` (供方):
    an order whose handler is one of its users, a nonconformity against one of its contracts
    or assigned to one of its users, its contracts and their evaluation entries. Every other
    kind of record is no supplier's work: false (a supplier user sees nothing of the offices'
    energy, tickets, audit log …)."""
    kind = record if isinstance(record, type) else None
    if kind is not None and issubclass(kind, PeriodicOrder):
        return PeriodicOrder.handler_id.in_(_supplier_users(supplier_id))
    if kind is not None and issubclass(kind, CorrectiveOrder):
        return CorrectiveOrder.handler_id.in_(_supplier_users(supplier_id))
    if kind is not None and issubclass(kind, Nonconformity):
        return or_(
            Nonconformity.contract_id.in_(_supplier_contracts(supplier_id)),
            Nonconformity.assignee_id.in_(_supplier_users(supplier_id)),
        )
    if kind is SupplierContract:
        return SupplierContract.supplier_id == supplier_id
    if kind is SupplierScoreEntry:
        return SupplierScoreEntry.contract_id.in_(_supplier_contracts(supplier_id))
    return false()


def office_code_clause(
    principal: Principal, permission: Permission, office_code: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    """:func:`office_clause` for a query that already joins ``Office`` (its ``code`` column)."""
    offices = principal.offices_for(permission)
    if offices is None:
        return true()
    if not offices:
        return false()
    return office_code.in_(sorted(offices))


def readable_offices(principal: Principal, permission: Permission) -> Select[Office]:
    """The offices where ``principal`` holds ``permission``, by code."""
    return (
        select(Office)
        .where(office_code_clause(principal, permission, Office.code))
        .order_by(Office.code)
    )


def scoped_office(
    session: Session,
    principal: Principal,
    permission: Permission,
    office_code: str,
    *,
    unknown: str = "users.unknown_office",
) -> Office:
    """The office ``office_code`` if ``principal`` holds ``permission`` there; else
    :class:`NotFound` with the catalogue key ``unknown`` — another office and a missing one
    look alike."""
    office = session.scalars(
        select(Office).where(
            Office.code == office_code.strip(),
            office_code_clause(principal, permission, Office.code),
        )
    ).one_or_none()
    if office is None:
        raise NotFound(unknown, code=office_code)
    return office


@dataclass(frozen=True)
class ReadSpec:
    """A registered scoped read: the function and the permission whose scope it applies."""

    function: Callable[..., Any]
    permission: Permission | None
    """None: the read takes the permission as its ``permission`` argument."""


READS: list[ReadSpec] = []
"""Every scoped read of the operational layer, in registration order."""


def scoped_read(permission: Permission | None) -> Callable[[F], F]:
    """Register a read that takes ``(session, principal, …)`` and applies ``permission``'s
    scope inside its query (None: the caller names the permission in a ``permission``
    argument). Registration is what puts the read into the role × scope test."""

    def register(function: F) -> F:
        READS.append(ReadSpec(function, permission))
        return function

    return register
