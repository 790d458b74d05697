"""Users, roles with scopes, permissions and password checking.

Role checks live here and only here: pages and services ask a :class:`Principal` which offices
it may see or act on for a :class:`Permission`, never which roles it holds.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session, aliased

from operational import audit
from operational.errors import DomainError
from operational.models import (
    CityCompany,
    LoginFailure,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    Supplier,
    User,
    utcnow,
)

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
FREE_FAILURES = 5
"""Failures of one name from one source before that source waits (:func:`lock_duration`)."""
MAX_LOCK = timedelta(minutes=15)
SOURCE_FREE_FAILURES = 20
"""Failures from one source, whatever the names, within :data:`SOURCE_WINDOW` before the
source waits for every name (someone trying many names)."""
SOURCE_WINDOW = timedelta(hours=1)
FAILURE_MEMORY = timedelta(days=1)
"""Failures older than this are forgotten (and deleted as new ones are written)."""
UNKNOWN_SOURCE = "-"
"""The source of an attempt whose client address is unknown (a test, a local script)."""


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
    VIEW_SUPPLIERS = "view_suppliers"  # supplier scores, rankings, deduction statements
    EVALUATE_SUPPLIERS = "evaluate_suppliers"  # an office's monthly supplier evaluation (供方评价)
    MANAGE_SUPPLIERS = "manage_suppliers"  # the group's suppliers, contracts and standards
    VIEW_PROPERTY = "view_property"  # an office's houses, customers, parking, fees (基础信息)
    MANAGE_PROPERTY = "manage_property"  # add, change and import them
    VIEW_CUSTOMER_PII = "view_customer_pii"  # customers' phone and ID numbers unmasked
    OPEN_IMPORTS = "open_imports"  # the imports page: whoever may run one of the imports
    VIEW_TICKETS = "view_tickets"  # customer-service tickets and their timelines (工单)
    RECORD_TICKETS = "record_tickets"  # intake, dispatch and follow-up visits (呼叫中心, 客服)
    HANDLE_TICKETS = "handle_tickets"  # pick up and work a ticket dispatched to oneself
    TAKE_COMPLAINTS = "take_complaints"  # be dispatched the office's complaints (管理处经理)
    VIEW_INSPECTIONS = "view_inspections"  # inspection plans and orders of the office (检查)
    DRAFT_INSPECTIONS = "draft_inspections"  # draft and submit professional inspection plans
    APPROVE_INSPECTIONS = "approve_inspections"  # approve or return professional plans
    DRAFT_QUALITY_INSPECTIONS = "draft_quality_inspections"  # draft quality inspection plans
    APPROVE_QUALITY_INSPECTIONS = "approve_quality_inspections"  # approve or return them
    INSPECT = "inspect"  # walk an inspection order issued to oneself: score, submit
    VIEW_NONCONFORMITIES = "view_nonconformities"  # an office's nonconformities (不合格单据)
    OPEN_NONCONFORMITIES = "open_nonconformities"  # open one (notice, handling, corrective)
    HANDLE_NONCONFORMITIES = "handle_nonconformities"  # act on one assigned to oneself
    VERIFY_NONCONFORMITIES = "verify_nonconformities"  # verify (or reassign) one opened oneself
    VIEW_ESCALATIONS = "view_escalations"  # the complaint escalation board (投诉升级看板)
    VIEW_SUPPLIER_WORK = "view_supplier_work"  # a supplier user's own to-do list (供方待办)
    VIEW_QUALITY_REVIEW = "view_quality_review"  # inspections and nonconformities (品质审核)


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
    # Supplier scores and rankings: whoever reads the analytics, at their scope; a supplier
    # user their own supplier's only (operational/scope.py, warehouse/scope.py).
    Permission.VIEW_SUPPLIERS: frozenset(_ANALYTICS_READERS | {Role.SUPPLIER_USER}),
    Permission.EVALUATE_SUPPLIERS: frozenset({Role.OFFICE_MANAGER, Role.GROUP_ADMIN}),
    Permission.MANAGE_SUPPLIERS: frozenset({Role.GROUP_ADMIN}),
    # Property base data: read by whoever answers owners or watches the office (personal
    # information masked, below); kept by the office's manager and customer service.
    Permission.VIEW_PROPERTY: frozenset(
        _ANALYTICS_READERS | {Role.CS_ASSISTANT, Role.CALL_CENTRE_AGENT, Role.RENOVATION_ADMIN}
    ),
    Permission.MANAGE_PROPERTY: frozenset(
        {Role.OFFICE_MANAGER, Role.CS_SUPERVISOR, Role.CS_ASSISTANT}
    ),
    # Phone and ID numbers whole: only those who work with the owner at that office
    # (docs/property.md); everyone else sees them masked (operational/pii.py).
    Permission.VIEW_CUSTOMER_PII: frozenset(
        {Role.OFFICE_MANAGER, Role.CS_SUPERVISOR, Role.CS_ASSISTANT, Role.CALL_CENTRE_AGENT}
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
    # A complaint received in office hours is dispatched to the office manager (docs/tickets.md):
    # the one the notice of its dispatch goes to, and who keeps working it after an escalation.
    Permission.TAKE_COMPLAINTS: frozenset({Role.OFFICE_MANAGER}),
    # The complaint escalation board: headquarters and internal audit watch complaints climb
    # to them (a city's audit manager his city's offices), the office manager his office's.
    Permission.VIEW_ESCALATIONS: frozenset(
        {
            Role.GROUP_ADMIN,
            Role.HQ_VIEWER,
            Role.GROUP_AUDIT_MANAGER,
            Role.CITY_AUDIT_MANAGER,
            Role.OFFICE_MANAGER,
        }
    ),
    Permission.VIEW_SUPPLIER_WORK: frozenset({Role.SUPPLIER_USER}),
    # Inspections (docs/inspections.md): each discipline supervisor (customer service too)
    # drafts the professional plans the office manager approves; the office manager drafts the
    # quality plans the city company's internal-audit manager approves. Orders are walked by
    # the plan's inspector; audit reads them at its scope.
    Permission.VIEW_INSPECTIONS: frozenset(_ANALYTICS_READERS),
    Permission.DRAFT_INSPECTIONS: frozenset({*_DISCIPLINE_SUPERVISORS, Role.CS_SUPERVISOR}),
    Permission.APPROVE_INSPECTIONS: frozenset({Role.OFFICE_MANAGER}),
    Permission.DRAFT_QUALITY_INSPECTIONS: frozenset({Role.OFFICE_MANAGER}),
    Permission.APPROVE_QUALITY_INSPECTIONS: frozenset({Role.CITY_AUDIT_MANAGER}),
    Permission.INSPECT: frozenset(
        {Role.OFFICE_MANAGER, *_DISCIPLINE_SUPERVISORS, Role.CS_SUPERVISOR}
    ),
}

# The discipline (专业) each supervisor answers for: a supervisor drafts, edits and submits
# professional inspection plans of that discipline only; a role not listed (the office manager)
# drafts any discipline it may draft (:meth:`Principal.disciplines_for`).
SUPERVISED_DISCIPLINES: dict[Role, str] = {
    Role.ENGINEERING_SUPERVISOR: "engineering",
    Role.LANDSCAPING_SUPERVISOR: "landscaping",
    Role.SECURITY_SUPERVISOR: "security",
    Role.CLEANING_SUPERVISOR: "cleaning",
    Role.CS_SUPERVISOR: "customer_service",
}

# Nonconformities (不合格): opened by whoever inspects — the discipline supervisors, the customer
# service supervisor and the office manager (quality inspections) — who then verifies the
# outcome; acted on by whoever it is assigned to: office staff or a supplier user (who sees its
# supplier's nonconformities, no others). docs/nonconformities.md.
_NC_OPENERS = frozenset({Role.OFFICE_MANAGER, *_DISCIPLINE_SUPERVISORS, Role.CS_SUPERVISOR})
# The quality review (品质审核): internal audit first — the group's sees every office, a city's
# its city — and whoever reads the analytics, at their scope (docs/quality-marts.md).
ROLE_PERMISSIONS[Permission.VIEW_QUALITY_REVIEW] = frozenset(_ANALYTICS_READERS)
# A supplier user reads its supplier's nonconformities: office_clause keeps a supplier-bound
# principal to its supplier's contracts and users (operational.scope.supplier_clause).
ROLE_PERMISSIONS[Permission.VIEW_NONCONFORMITIES] = frozenset(_ANALYTICS_READERS | _OFFICE_STAFF)
ROLE_PERMISSIONS[Permission.OPEN_NONCONFORMITIES] = _NC_OPENERS
ROLE_PERMISSIONS[Permission.HANDLE_NONCONFORMITIES] = frozenset(_OFFICE_STAFF)
ROLE_PERMISSIONS[Permission.VERIFY_NONCONFORMITIES] = _NC_OPENERS


IMPORT_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.ENTER_READINGS,
        Permission.MANAGE_METERS,
        Permission.MANAGE_OBJECTS,
        Permission.MANAGE_OBJECT_TYPES,
        Permission.MANAGE_CALENDARS,
        Permission.MANAGE_ORDERS,
        Permission.MANAGE_USERS,
        Permission.MANAGE_PROPERTY,
        Permission.MANAGE_SUPPLIERS,
        Permission.RECORD_TICKETS,
    }
)
"""The permissions the imports need (each import its own); holding one of them somewhere opens
the imports page, which then offers only the imports the user may run."""
ROLE_PERMISSIONS[Permission.OPEN_IMPORTS] = frozenset().union(
    *(ROLE_PERMISSIONS[permission] for permission in IMPORT_PERMISSIONS)
)


GROUP_WIDE: frozenset[Permission] = frozenset(
    {Permission.MANAGE_USERS, Permission.MANAGE_SUPPLIERS}
)
"""Permissions over records of no single office, so held only through a group-scope grant: the
users and their roles, the group's suppliers and their contracts span every office (an administrator granted at one office would
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
    supplier_id: int | None = None
    """The supplier this account belongs to (供方用户), or None. A supplier-bound principal
    holds only its supplier-user grants, and every read keeps to its supplier's work
    (``operational.scope.office_clause``, ``warehouse.scope.OfficeScope.supplier``)."""
    supplier_code: str | None = None

    def offices_for(self, permission: Permission) -> frozenset[str] | None:
        """Office codes this user may use ``permission`` on; None means every office.

        The supplier-user role counts only for an account tied to a supplier, and such an
        account holds nothing else (:func:`holds`)."""
        if self.is_system:
            return None
        allowed = ROLE_PERMISSIONS[permission]
        offices: set[str] = set()
        for grant in self.grants:
            if grant.role in allowed and holds(self.supplier_id, grant.role):
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

    def disciplines_for(self, permission: Permission, office_code: str) -> frozenset[str] | None:
        """The disciplines this user may act on with ``permission`` at ``office_code``: None
        for any (the system, or a role answering for no single discipline), else the
        disciplines of the supervisor roles that grant it there (:data:`SUPERVISED_DISCIPLINES`;
        empty if none does)."""
        if self.is_system:
            return None
        allowed = ROLE_PERMISSIONS[permission]
        disciplines: set[str] = set()
        for grant in self.grants:
            if not (grant.role in allowed and holds(self.supplier_id, grant.role)):
                continue
            if grant.offices is not None and office_code not in grant.offices:
                continue
            if grant.role not in SUPERVISED_DISCIPLINES:
                return None
            disciplines.add(SUPERVISED_DISCIPLINES[grant.role])
        return frozenset(disciplines)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)


def holds(supplier_id: int | None, role: Role) -> bool:
    """Whether an account tied to ``supplier_id`` (None: to no supplier) holds ``role``: the
    supplier-user role only with a supplier, and with a supplier nothing else."""
    return (role is Role.SUPPLIER_USER) == (supplier_id is not None)


def system_principal(name: str = "system") -> Principal:
    """The principal of work no logged-in user starts: the command line (``cli``), the
    pipeline's timed rules (``pipeline``), the demo loader (``demo``). It may do everything,
    and the audit log and workflow events record ``name`` as the actor. Explicit, so that no
    read or write ever runs unscoped by accident (a ``None`` actor)."""
    return Principal(0, name, name, "zh_CN", (), is_system=True)


def _principal_rows(session: Session, user_id: int) -> list[tuple[Any, ...]]:
    """One query for a user and every grant, with the office codes each grant covers."""
    covered = aliased(Office)
    query = (
        select(
            User.id,
            User.username,
            User.display_name,
            User.language,
            User.is_active,
            User.supplier_id,
            Supplier.supplier_code,
            RoleGrant.id,
            RoleGrant.role,
            RoleGrant.scope_level,
            CityCompany.code,
            covered.code,
        )
        .outerjoin(Supplier, Supplier.id == User.supplier_id)
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(CityCompany, CityCompany.id == RoleGrant.city_id)
        .outerjoin(
            covered,
            or_(
                covered.id == RoleGrant.office_id,
                and_(RoleGrant.city_id.is_not(None), covered.city_id == RoleGrant.city_id),
            ),
        )
        .where(User.id == user_id)
        .order_by(RoleGrant.id, covered.code)
    )
    return [tuple(row) for row in session.execute(query)]


def _principal_from(rows: Sequence[tuple[Any, ...]], *, active_only: bool) -> Principal | None:
    if not rows:
        return None
    user_id, username, display_name, language, active, supplier_id, supplier_code = rows[0][:7]
    if active_only and not active:
        return None
    grants: dict[int, tuple[Role, ScopeLevel, str | None, set[str]]] = {}
    for *_, grant_id, role, level, city_code, office_code in rows:
        if grant_id is None:
            continue
        entry = grants.setdefault(grant_id, (Role(role), ScopeLevel(level), city_code, set()))
        if office_code is not None:
            entry[3].add(office_code)
    result: list[Grant] = []
    for role, level, city_code, offices in grants.values():
        if level is ScopeLevel.GROUP:
            result.append(Grant(role, level, "", None))
        elif level is ScopeLevel.CITY:
            result.append(Grant(role, level, city_code or "", frozenset(offices)))
        else:
            result.append(Grant(role, level, min(offices, default=""), frozenset(offices)))
    return Principal(
        user_id,
        username,
        display_name,
        language,
        tuple(result),
        supplier_id=supplier_id,
        supplier_code=supplier_code,
    )


def active_principal(session: Session, user_id: int) -> Principal | None:
    """The user as of now — their roles and scopes read afresh, in one query — or None if the
    account is disabled or gone. The dashboards call it on every page run, so a withdrawn role
    stops working at the next click of a tab already open."""
    return _principal_from(_principal_rows(session, user_id), active_only=True)


def load_principal(session: Session, user_id: int) -> Principal:
    """The user ``user_id`` with their grants (disabled or not); raises if there is none."""
    found = _principal_from(_principal_rows(session, user_id), active_only=False)
    if found is None:
        raise NoResultFound(f"no user {user_id}")
    return found


def lock_duration(failures: int) -> timedelta:
    """How long a name from one source waits after ``failures`` failures in a row (0 if
    fewer than :data:`FREE_FAILURES`): 30 s, doubling, at most :data:`MAX_LOCK`."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 10)  # 30 s · 2^10 is past the cap already
    return min(timedelta(seconds=30 * 2**doublings), MAX_LOCK)


def source_lock_duration(failures: int) -> timedelta:
    """How long a source waits, whatever name it types, after ``failures`` failures within
    :data:`SOURCE_WINDOW` (fewer than :data:`SOURCE_FREE_FAILURES`: none)."""
    if failures < SOURCE_FREE_FAILURES:
        return timedelta(0)
    return lock_duration(FREE_FAILURES + failures - SOURCE_FREE_FAILURES)


def _name_key(username: str) -> str:
    return username.strip()[:64]


def _source_key(source: str) -> str:
    return (source.strip() or UNKNOWN_SOURCE)[:64]


def throttle_wait(session: Session, username: str, source: str, now: datetime) -> int:
    """Seconds ``source`` must wait before trying ``username`` again (0: it may try now).

    Counts only failures: those of this name from this source since it last logged in from
    there (within :data:`FAILURE_MEMORY`), and those of this source under any name within
    :data:`SOURCE_WINDOW`. Failures from other sources never lock this one, so a person who
    knows a colleague's name cannot lock the colleague out; whether the name exists plays no
    part, so the answer tells nobody which names do.
    """
    name, where = _name_key(username), _source_key(source)
    pair_count, pair_last = session.execute(
        select(func.count(), func.max(LoginFailure.failed_at)).where(
            LoginFailure.username == name,
            LoginFailure.source == where,
            LoginFailure.failed_at > now - FAILURE_MEMORY,
        )
    ).one()
    source_count, source_last = session.execute(
        select(func.count(), func.max(LoginFailure.failed_at)).where(
            LoginFailure.source == where, LoginFailure.failed_at > now - SOURCE_WINDOW
        )
    ).one()
    until = [
        last + pause
        for last, pause in (
            (pair_last, lock_duration(pair_count)),
            (source_last, source_lock_duration(source_count)),
        )
        if last is not None and pause
    ]
    latest = max(until, default=now)
    return int((latest - now).total_seconds()) + 1 if latest > now else 0


def _fail(session: Session, username: str, source: str, now: datetime) -> None:
    session.add(
        LoginFailure(username=_name_key(username), source=_source_key(source), failed_at=now)
    )
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - FAILURE_MEMORY))


def clear_failures(session: Session, username: str, source: str | None = None) -> int:
    """Forget the failed logins of ``username`` (from ``source`` only, if given): how many."""
    condition = LoginFailure.username == _name_key(username)
    if source is not None:
        condition = and_(condition, LoginFailure.source == _source_key(source))
    result = session.execute(delete(LoginFailure).where(condition))
    return int(getattr(result, "rowcount", 0) or 0)


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
    session: Session,
    username: str,
    password: str,
    now: datetime | None = None,
    *,
    source: str = UNKNOWN_SOURCE,
) -> Principal:
    """Check a login typed at ``source`` (the client's address), throttled per name and
    source and per source (:func:`throttle_wait`).

    An unknown name, a disabled account and a wrong password get the same answer in the same
    time, and count the same; a throttled attempt gets the same wait message whether the name
    exists or not, is not checked and is not counted. The caller commits the session whether
    this succeeds or raises, so failures are counted.
    """
    now = now or utcnow()
    name = username.strip()
    wait = throttle_wait(session, name, source, now)
    if wait:
        record_login(
            session, name, "login_refused", reason="throttled", source=source, seconds=wait
        )
        raise DomainError("auth.locked", seconds=wait)
    user = session.scalars(select(User).where(User.username == name)).one_or_none()
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time as a real check
        reason = "unknown_user" if user is None else "disabled"
    elif not _password_matches(user.password_hash, password):
        reason = "wrong_password"
    else:
        clear_failures(session, name, source)
        record_login(session, name, "login", reason="password", source=source)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return load_principal(session, user.id)
    _fail(session, name, source, now)
    record_login(session, name, "login_failed", reason=reason, source=source)
    raise DomainError("auth.invalid_login")
