"""Users, roles with scopes, permissions and password checking.

Role checks live here and only here: pages and services ask a :class:`Principal` which offices
it may see or act on for a :class:`Permission`, never which roles it holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from operational import audit
from operational.errors import DomainError
from operational.models import CityCompany, Office, Role, ScopeLevel, User, utcnow

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
FREE_FAILURES = 5
MAX_LOCK = timedelta(minutes=15)


class Permission(enum.StrEnum):
    VIEW_OVERVIEW = "view_overview"
    MANAGE_USERS = "manage_users"
    MANAGE_OBJECT_TYPES = "manage_object_types"  # the group's object-type tree and work standards
    MANAGE_OBJECTS = "manage_objects"  # an office's objects
    VIEW_ORDERS = "view_orders"  # the to-do list and an order's form (steps per the engine)
    RAISE_ORDERS = "raise_orders"  # file a corrective order (people working at the office)
    MANAGE_ORDERS = "manage_orders"  # be an order's responsible person: assign, verify
    HANDLE_ORDERS = "handle_orders"  # be an order's handler: process it
    DRAFT_PLANS = "draft_plans"
    APPROVE_PLANS = "approve_plans"
    MANAGE_DEADLINES = "manage_deadlines"  # an office's SLA targets per discipline
    VIEW_ENERGY = "view_energy"
    ENTER_READINGS = "enter_readings"
    MANAGE_METERS = "manage_meters"
    VIEW_OBJECTS = "view_objects"  # an office's object cards (scan a label)
    MANAGE_FAULTS = "manage_faults"  # the group's fault library (故障库)
    MANAGE_CALENDARS = "manage_calendars"  # an office's working hours and holidays (工作日历)
    VIEW_AUDIT_LOG = "view_audit_log"  # the audit log of the offices in scope (审计日志)
    VIEW_TICKETS = "view_tickets"  # customer-service tickets and their timelines (工单)
    RECORD_TICKETS = "record_tickets"  # intake, dispatch and follow-up visits (呼叫中心, 客服)
    HANDLE_TICKETS = "handle_tickets"  # pick up and work a ticket dispatched to oneself


_ANALYTICS_READERS = {
    Role.GROUP_ADMIN,
    Role.HQ_VIEWER,
    Role.GROUP_AUDIT_MANAGER,
    Role.CITY_AUDIT_MANAGER,
    Role.OFFICE_MANAGER,
    Role.ENGINEERING_SUPERVISOR,
    Role.LANDSCAPING_SUPERVISOR,
    Role.SECURITY_SUPERVISOR,
    Role.CLEANING_SUPERVISOR,
    Role.CS_SUPERVISOR,
}

_DISCIPLINE_SUPERVISORS = {
    Role.ENGINEERING_SUPERVISOR,
    Role.LANDSCAPING_SUPERVISOR,
    Role.SECURITY_SUPERVISOR,
    Role.CLEANING_SUPERVISOR,
}

# Who works at an office and so may file a corrective order there ("a guard sees
# litter ... and files an order"). Supplier users are outsourced staff on site, and a handler
# who answers a periodic checklist item ✗ must raise its corrective order. Not: the group
# admin, HQ viewers and internal audit (they watch from head office; an admin who also works
# at an office is given an office role there), call-centre agents (customer calls become
# repairs, C11) and finance.
_OFFICE_STAFF = {
    Role.OFFICE_MANAGER,
    *_DISCIPLINE_SUPERVISORS,
    Role.CS_SUPERVISOR,
    Role.CS_ASSISTANT,
    Role.TECHNICIAN,
    Role.RENOVATION_ADMIN,
    Role.SECURITY_GUARD,
    Role.SUPPLIER_USER,
}

ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_OVERVIEW: frozenset(_ANALYTICS_READERS),
    Permission.MANAGE_USERS: frozenset({Role.GROUP_ADMIN}),
    Permission.MANAGE_OBJECT_TYPES: frozenset({Role.GROUP_ADMIN}),
    Permission.MANAGE_OBJECTS: frozenset({Role.OFFICE_MANAGER, *_DISCIPLINE_SUPERVISORS}),
    Permission.VIEW_ORDERS: frozenset(Role),
    Permission.RAISE_ORDERS: frozenset(_OFFICE_STAFF),
    Permission.MANAGE_ORDERS: frozenset({Role.OFFICE_MANAGER, *_DISCIPLINE_SUPERVISORS}),
    Permission.HANDLE_ORDERS: frozenset(
        {
            Role.OFFICE_MANAGER,
            *_DISCIPLINE_SUPERVISORS,
            Role.TECHNICIAN,
            Role.SECURITY_GUARD,
            Role.SUPPLIER_USER,
        }
    ),
    Permission.DRAFT_PLANS: frozenset({Role.OFFICE_MANAGER, *_DISCIPLINE_SUPERVISORS}),
    Permission.APPROVE_PLANS: frozenset({Role.OFFICE_MANAGER}),
    Permission.MANAGE_DEADLINES: frozenset({Role.OFFICE_MANAGER, Role.GROUP_ADMIN}),
    Permission.VIEW_ENERGY: frozenset(_ANALYTICS_READERS | {Role.TECHNICIAN}),
    Permission.ENTER_READINGS: frozenset(
        {Role.GROUP_ADMIN, Role.OFFICE_MANAGER, Role.ENGINEERING_SUPERVISOR, Role.TECHNICIAN}
    ),
    Permission.MANAGE_METERS: frozenset(
        {Role.GROUP_ADMIN, Role.OFFICE_MANAGER, Role.ENGINEERING_SUPERVISOR}
    ),
    Permission.VIEW_OBJECTS: frozenset(Role) - {Role.SUPPLIER_USER},
    Permission.MANAGE_FAULTS: frozenset({Role.GROUP_ADMIN, Role.ENGINEERING_SUPERVISOR}),
    Permission.MANAGE_CALENDARS: frozenset({Role.OFFICE_MANAGER, Role.GROUP_ADMIN}),
    # Internal audit reads who changed what; a city's audit manager its city's offices only
    # (group-level entries, which name no office, only at group scope).
    Permission.VIEW_AUDIT_LOG: frozenset(
        {Role.GROUP_AUDIT_MANAGER, Role.CITY_AUDIT_MANAGER, Role.GROUP_ADMIN}
    ),
    # Tickets (工单): the call centre and the office's CS staff take calls, dispatch and visit
    # back; technicians work repairs, the office manager complaints; audit watches escalations.
    Permission.VIEW_TICKETS: frozenset(
        {
            Role.GROUP_ADMIN,
            Role.HQ_VIEWER,
            Role.GROUP_AUDIT_MANAGER,
            Role.CITY_AUDIT_MANAGER,
            Role.OFFICE_MANAGER,
            Role.CS_SUPERVISOR,
            Role.CS_ASSISTANT,
            Role.CALL_CENTRE_AGENT,
            Role.ENGINEERING_SUPERVISOR,
            Role.TECHNICIAN,
        }
    ),
    Permission.RECORD_TICKETS: frozenset(
        {Role.CALL_CENTRE_AGENT, Role.CS_SUPERVISOR, Role.CS_ASSISTANT, Role.OFFICE_MANAGER}
    ),
    Permission.HANDLE_TICKETS: frozenset(
        {
            Role.OFFICE_MANAGER,
            Role.CS_SUPERVISOR,
            Role.CS_ASSISTANT,
            Role.ENGINEERING_SUPERVISOR,
            Role.TECHNICIAN,
        }
    ),
}


GROUP_WIDE: frozenset[Permission] = frozenset({Permission.MANAGE_USERS})
"""Permissions over records of no single office, so held only through a group-scope grant: the
users and their roles span every office (an administrator granted at one office would
otherwise see and change the whole group's accounts)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("auth.password_too_short", min=MIN_PASSWORD_LENGTH)
    return _hasher.hash(password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Grant:
    """One role at one scope, with the office codes the scope covers (None: the whole group)."""

    role: Role
    scope_level: ScopeLevel
    scope_code: str
    offices: frozenset[str] | None


@dataclass(frozen=True)
class Principal:
    """The logged-in user as the rest of the product sees them."""

    user_id: int
    username: str
    display_name: str
    language: str
    grants: tuple[Grant, ...]
    is_system: bool = False
    """The command line, the pipeline or the demo loader acting as the operator
    (:func:`system_principal`): every permission at every office, recorded under its name."""

    def offices_for(self, permission: Permission) -> frozenset[str] | None:
        """Office codes this user may use ``permission`` on; None means every office."""
        if self.is_system:
            return None
        allowed = ROLE_PERMISSIONS[permission]
        offices: set[str] = set()
        for grant in self.grants:
            if grant.role in allowed:
                if grant.offices is None:
                    return None
                offices |= grant.offices
        return frozenset(offices)

    def can(self, permission: Permission, office_code: str | None = None) -> bool:
        """Whether the user holds ``permission`` at all, or for ``office_code`` if given. A
        permission over the whole group (:data:`GROUP_WIDE`) counts only at group scope."""
        offices = self.offices_for(permission)
        if offices is None:
            return True
        if permission in GROUP_WIDE:
            return False
        return office_code in offices if office_code is not None else bool(offices)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)


def system_principal(name: str = "system") -> Principal:
    """The principal of work no logged-in user starts: the command line (``cli``), the
    pipeline's timed rules (``pipeline``), the demo loader (``demo``). It may do everything,
    and the audit log and workflow events record ``name`` as the actor. Explicit, so that no
    read or write ever runs unscoped by accident (a ``None`` actor)."""
    return Principal(0, name, name, "zh_CN", (), is_system=True)


def load_principal(session: Session, user_id: int) -> Principal:
    user = session.scalars(
        select(User).where(User.id == user_id).options(selectinload(User.grants))
    ).one()
    cities = {c.id: c.code for c in session.scalars(select(CityCompany))}
    offices = {o.id: (o.code, o.city_id) for o in session.scalars(select(Office))}
    grants: list[Grant] = []
    for g in user.grants:
        level = ScopeLevel(g.scope_level)
        if level is ScopeLevel.GROUP:
            grants.append(Grant(Role(g.role), level, "", None))
        elif level is ScopeLevel.CITY:
            assert g.city_id is not None
            covered = frozenset(code for code, city in offices.values() if city == g.city_id)
            grants.append(Grant(Role(g.role), level, cities[g.city_id], covered))
        else:
            assert g.office_id is not None
            code = offices[g.office_id][0]
            grants.append(Grant(Role(g.role), level, code, frozenset({code})))
    return Principal(user.id, user.username, user.display_name, user.language, tuple(grants))


def lock_duration(failed_logins: int) -> timedelta:
    """How long an account waits after ``failed_logins`` consecutive failures (0 if none)."""
    if failed_logins < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failed_logins - FREE_FAILURES, 10)  # 30 s · 2^10 is past the cap already
    return min(timedelta(seconds=30 * 2**doublings), MAX_LOCK)


def record_login(session: Session, username: str, action: str, **details: Any) -> None:
    """One audit entry of a login attempt or a logout (entity ``login``, key the user name as
    typed, ``details`` as its ``after``): who got in, who was refused and why, who logged out —
    in the caller's transaction, which :func:`authenticate`'s caller commits either way."""
    key = username[:128] or "-"
    audit.record(
        session,
        actor=key[:64],
        action=action,
        entity="login",
        entity_key=key,
        after={k: v for k, v in details.items() if v is not None},
    )


def authenticate(
    session: Session, username: str, password: str, now: datetime | None = None
) -> Principal:
    """Check a login. Repeated failures lock the account for a growing while.

    The caller commits the session whether this succeeds or raises, so failures are counted.
    """
    now = now or utcnow()
    name = username.strip()
    user = session.scalars(select(User).where(User.username == name)).one_or_none()
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time as a real check
        record_login(
            session,
            name,
            "login_failed",
            reason="unknown_user" if user is None else "disabled",
        )
        raise DomainError("auth.invalid_login")
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        record_login(
            session, name, "login_refused", reason="locked", locked_until=user.locked_until
        )
        raise DomainError("auth.locked", seconds=wait)
    if not _password_matches(user.password_hash, password):
        user.failed_logins += 1
        pause = lock_duration(user.failed_logins)
        user.locked_until = now + pause if pause else None
        record_login(
            session,
            name,
            "login_failed",
            reason="wrong_password",
            failed_logins=user.failed_logins,
            locked_until=user.locked_until,
        )
        raise DomainError("auth.invalid_login")
    record_login(session, name, "login", reason="password")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return load_principal(session, user.id)
