"""Managing users and their role grants (group admin's work), every change audited.

A supplier user (供方用户) is an account tied to exactly one supplier when it is created: it
holds the supplier-user role and no other, and every read keeps it to its supplier's work
(``operational.scope``); an account tied to no supplier cannot hold that role
(:func:`operational.auth.holds`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from operational import audit, login_sessions
from operational.auth import Permission, Principal, clear_failures, hash_password, holds
from operational.errors import DomainError, NotFound, PermissionDenied
from operational.models import (
    CityCompany,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    Supplier,
    User,
)

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")


@dataclass(frozen=True)
class GrantSpec:
    """A role at a scope, as the admin page and the CLI name it (scope code empty for group)."""

    role: Role
    scope_level: ScopeLevel
    scope_code: str = ""

    def label(self) -> str:
        return f"{self.role.value}@{self.scope_level.value}" + (
            f":{self.scope_code}" if self.scope_code else ""
        )


@dataclass(frozen=True)
class UserView:
    user_id: int
    username: str
    display_name: str
    is_active: bool
    language: str
    grants: tuple[GrantSpec, ...]
    supplier_code: str = ""
    """The supplier a supplier user belongs to (empty: none)."""


def _require_admin(actor: Principal) -> str:
    """The actor's name for the audit log, if ``actor`` may manage users."""
    if not actor.can(Permission.MANAGE_USERS):
        raise PermissionDenied("auth.not_allowed")
    return actor.username


def _grant_row(session: Session, spec: GrantSpec) -> RoleGrant:
    if spec.scope_level is ScopeLevel.GROUP:
        return RoleGrant(role=spec.role.value, scope_level=spec.scope_level.value)
    if spec.scope_level is ScopeLevel.CITY:
        city = session.scalars(
            select(CityCompany).where(CityCompany.code == spec.scope_code)
        ).one_or_none()
        if city is None:
            raise NotFound("users.unknown_city", code=spec.scope_code)
        return RoleGrant(role=spec.role.value, scope_level=spec.scope_level.value, city_id=city.id)
    office = session.scalars(select(Office).where(Office.code == spec.scope_code)).one_or_none()
    if office is None:
        raise NotFound("users.unknown_office", code=spec.scope_code)
    return RoleGrant(role=spec.role.value, scope_level=spec.scope_level.value, office_id=office.id)


def _specs(session: Session, user: User) -> tuple[GrantSpec, ...]:
    cities = {c.id: c.code for c in session.scalars(select(CityCompany))}
    offices = {o.id: o.code for o in session.scalars(select(Office))}
    specs = []
    for g in user.grants:
        level = ScopeLevel(g.scope_level)
        code = (
            cities[g.city_id]
            if g.city_id is not None
            else offices[g.office_id]
            if g.office_id is not None
            else ""
        )
        specs.append(GrantSpec(Role(g.role), level, code))
    return tuple(sorted(specs, key=lambda s: s.label()))


def _supplier(session: Session, code: str) -> Supplier:
    supplier = session.scalars(
        select(Supplier).where(Supplier.supplier_code == code.strip())
    ).one_or_none()
    if supplier is None:
        raise NotFound("supplierusers.unknown_supplier", code=code)
    return supplier


def _check_roles(supplier_id: int | None, grants: list[GrantSpec]) -> None:
    """A supplier's account holds the supplier-user role only; no other account holds it."""
    for grant in grants:
        if not holds(supplier_id, grant.role):
            key = (
                "supplierusers.supplier_role_only"
                if supplier_id is not None
                else "supplierusers.supplier_required"
            )
            raise DomainError(key, role=grant.role.value)


def _supplier_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Supplier.id, Supplier.supplier_code)).all())


def _load(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(User.username == username).options(selectinload(User.grants))
    ).one_or_none()
    if user is None:
        raise NotFound("users.unknown_user", username=username)
    return user


def add_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    display_name: str,
    password: str,
    grants: list[GrantSpec],
    language: str = "zh_CN",
    supplier_code: str = "",
) -> UserView:
    """Create a user with at least one role; with ``supplier_code``, a supplier user of that
    supplier (its roles: the supplier-user role only)."""
    actor_name = _require_admin(actor)
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise DomainError("users.bad_username", username=username)
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise DomainError("users.username_taken", username=username)
    if not display_name.strip():
        raise DomainError("users.display_name_required")
    if not grants:
        raise DomainError("users.role_required")
    supplier = _supplier(session, supplier_code) if supplier_code.strip() else None
    _check_roles(supplier.id if supplier else None, grants)
    user = User(
        username=username,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        language=language,
        grants=[_grant_row(session, g) for g in grants],
        supplier_id=supplier.id if supplier else None,
    )
    session.add(user)
    session.flush()
    view = UserView(
        user.id,
        username,
        user.display_name,
        True,
        language,
        _specs(session, user),
        supplier.supplier_code if supplier else "",
    )
    audit.record(
        session,
        actor=actor_name,
        action="create",
        entity="auth_user",
        entity_key=username,
        after={
            "display_name": view.display_name,
            "roles": [g.label() for g in view.grants],
            **({"supplier": view.supplier_code} if view.supplier_code else {}),
        },
    )
    return view


def list_users(session: Session, actor: Principal) -> list[UserView]:
    _require_admin(actor)
    users = session.scalars(
        select(User).options(selectinload(User.grants)).order_by(User.username)
    ).all()
    suppliers = _supplier_codes(session)
    return [
        UserView(
            u.id,
            u.username,
            u.display_name,
            u.is_active,
            u.language,
            _specs(session, u),
            suppliers.get(u.supplier_id, "") if u.supplier_id is not None else "",
        )
        for u in users
    ]


def set_grants(
    session: Session, actor: Principal, username: str, grants: list[GrantSpec]
) -> UserView:
    """Replace a user's roles; a user keeps at least one."""
    actor_name = _require_admin(actor)
    if not grants:
        raise DomainError("users.role_required")
    user = _load(session, username)
    _check_roles(user.supplier_id, grants)
    before = [g.label() for g in _specs(session, user)]
    user.grants = [_grant_row(session, g) for g in grants]
    session.flush()
    specs = _specs(session, user)
    audit.record(
        session,
        actor=actor_name,
        action="update",
        entity="auth_user",
        entity_key=username,
        before={"roles": before},
        after={"roles": [g.label() for g in specs]},
    )
    supplier = _supplier_codes(session).get(user.supplier_id, "") if user.supplier_id else ""
    return UserView(
        user.id, username, user.display_name, user.is_active, user.language, specs, supplier
    )


def set_active(session: Session, actor: Principal, username: str, active: bool) -> None:
    actor_name = _require_admin(actor)
    if actor.username == username and not active:
        raise DomainError("users.cannot_disable_self")
    user = _load(session, username)
    if user.is_active != active:
        audit.record(
            session,
            actor=actor_name,
            action="update",
            entity="auth_user",
            entity_key=username,
            before={"is_active": user.is_active},
            after={"is_active": active},
        )
        user.is_active = active
    if not active:
        login_sessions.end_all(session, user.id)  # logged out on every device


def set_password(session: Session, actor: Principal, username: str, password: str) -> None:
    """Set a new password, clear the name's failed logins (:func:`unlock`) and end the user's
    login sessions; the audit log records that, never the password."""
    actor_name = _require_admin(actor)
    user = _load(session, username)
    user.password_hash = hash_password(password)
    clear_failures(session, username)
    login_sessions.end_all(session, user.id)  # whoever knew the old password is logged out
    audit.record(
        session,
        actor=actor_name,
        action="password_reset",
        entity="auth_user",
        entity_key=username,
    )


def unlock(session: Session, actor: Principal, username: str) -> int:
    """Forget every failed login of ``username`` from every source, so that no throttle holds
    it back (``propcloud users unlock``); how many were forgotten. Audited. Works for any name
    typed, existing or not, since the throttle counts both alike."""
    actor_name = _require_admin(actor)
    forgotten = clear_failures(session, username)
    audit.record(
        session,
        actor=actor_name,
        action="unlock",
        entity="auth_user",
        entity_key=username.strip()[:128] or "-",
        after={"failures_cleared": forgotten},
    )
    return forgotten


def set_language(session: Session, user_id: int, language: str) -> None:
    """Remember the user's chosen UI language."""
    user = session.get(User, user_id)
    if user is not None and user.language != language:
        user.language = language
