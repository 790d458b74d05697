"""The demo offices' staff: one user per office and duty (``<office>.<duty>``), or a demo login
that already does that duty there (``engineer``, ``manager`` at the first office)."""

from __future__ import annotations

import random
from collections.abc import Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from operational.models import Office, Role, RoleGrant, ScopeLevel, User


def office_staff(
    session: Session,
    office: Office,
    duties: Mapping[str, Role],
    rng: random.Random,
    password_hash: str,
    logins: Mapping[str, str] | None = None,
) -> dict[str, tuple[int, str]]:
    """duty → (user id, username) at ``office``: the demo login ``logins[duty]`` if it has a
    grant at the office, else the stored ``<office>.<duty>``, else one created with a name
    drawn from ``rng`` and the role ``duties[duty]`` at the office (in bulk, no audit: demo)."""
    staff: dict[str, tuple[int, str]] = {}
    for duty, login in (logins or {}).items():
        found = session.execute(
            select(User.id)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(User.username == login, RoleGrant.office_id == office.id)
        ).first()
        if found is not None:
            staff[duty] = (found[0], login)
    known = {
        u.username: u.id
        for u in session.scalars(select(User).where(User.username.like(f"{office.code.lower()}.%")))
    }
    for duty, role in duties.items():
        username = f"{office.code.lower()}.{duty}"
        if duty in staff:
            continue
        user_id = known.get(username)
        if user_id is None:
            user_id = session.execute(
                insert(User).returning(User.id),
                [
                    {
                        "username": username,
                        "display_name": _name(rng),
                        "password_hash": password_hash,
                        "is_active": True,
                        "language": "zh_CN",
                    }
                ],
            ).scalar_one()
            session.execute(
                insert(RoleGrant),
                [
                    {
                        "user_id": user_id,
                        "role": role.value,
                        "scope_level": ScopeLevel.OFFICE.value,
                        "office_id": office.id,
                    }
                ],
            )
        staff[duty] = (user_id, username)
    return staff


def _name(rng: random.Random) -> str:
    from operational.demo import person_name

    return person_name(rng)
