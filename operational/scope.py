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

Command-line and pipeline work runs as an explicit system principal
(:func:`operational.auth.system_principal`), never as "no actor".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from operational.auth import Permission, Principal
from operational.errors import NotFound
from operational.models import Office

F = TypeVar("F", bound=Callable[..., Any])


def office_clause(
    principal: Principal, permission: Permission, office_id: InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """The condition on an ``office_id`` column that keeps the offices where ``principal``
    holds ``permission`` (every office for the group scope and the system, none without it)."""
    offices = principal.offices_for(permission)
    if offices is None:
        return true()
    if not offices:
        return false()
    return office_id.in_(select(Office.id).where(Office.code.in_(sorted(offices))))


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
