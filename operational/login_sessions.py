"""Login sessions: what lets a browser stay logged in across reloads and scanned links.

After a successful login the dashboards :func:`start` a session. The page is given only a
one-time **nonce** (``<id>.<random>``, good once for :data:`HANDOVER_LIFE`); the cookie
route exchanges it (:func:`exchange`) for the token, ``<id>.<secret>.<signature>``, which
goes straight into the browser's HttpOnly cookie, so no page script ever sees it. The signature is an HMAC-SHA256 of
``<id>.<secret>`` with the installation's key (``settings.signing_key``); the database keeps
only SHA-256 hashes of the secret and the nonce. :func:`resume` turns a token back into the
user's :class:`~operational.auth.Principal`, read afresh from the database, or None when the
session has ended:

- logged out (:func:`end`), or revoked (:func:`end_all`: password reset, account disabled);
- the account is disabled;
- idle for longer than ``idle`` (measured to within :data:`TOUCH_EVERY`), or started longer
  than ``max_age`` ago, whatever the use;
- a token that is malformed, signed with another key or naming another secret.

No function here commits: the caller's unit of work does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from operational.auth import Principal, active_principal, load_principal, record_login
from operational.models import User, utcnow
from operational.models.people import LoginSession

HANDOVER_LIFE = timedelta(minutes=2)
"""How long a login's nonce may be exchanged for the cookie (the page sends it at once)."""

TOUCH_EVERY = timedelta(minutes=5)
"""``last_seen_at`` is written at most this often per session, not on every page run."""


@dataclass(frozen=True)
class Lifetime:
    """How long a session lasts: ``idle`` without use, ``max_age`` in all."""

    idle: timedelta
    max_age: timedelta


@dataclass(frozen=True)
class Started:
    """A new session: its id and the one-time nonce that the cookie route exchanges for the
    token (:func:`exchange`)."""

    session_id: int
    nonce: str


@dataclass(frozen=True)
class Resumed:
    """A live session: its id (for :func:`end`) and its user as of now."""

    session_id: int
    principal: Principal


def _signature(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(key: bytes, session_id: int, secret: str) -> str:
    """The token for session ``session_id`` with ``secret``."""
    message = f"{session_id}.{secret}"
    return f"{message}.{_signature(key, message)}"


def verify(key: bytes, token: str) -> tuple[int, str] | None:
    """(session id, secret) of a well-formed token signed with ``key``; None otherwise.

    Checks only the signature: whether the session is still alive is :func:`resume`'s work.
    """
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1] or len(token) > 200:
        return None
    message = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_signature(key, message), parts[2]):
        return None
    return int(parts[0]), parts[1]


def _expired(row: LoginSession, lifetime: Lifetime, now: datetime) -> bool:
    return now - row.last_seen_at > lifetime.idle or now - row.created_at > lifetime.max_age


def start(
    session: Session, key: bytes, user_id: int, lifetime: Lifetime, now: datetime | None = None
) -> Started:
    """Start a session for ``user_id`` (just authenticated): its id and one-time nonce.

    The secret made here is never shown to anyone: :func:`exchange` replaces it when the
    browser's cookie is set. The user's ended and expired sessions are deleted on the way: the
    table holds live ones.
    """
    now = now or utcnow()
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user_id,
            or_(
                LoginSession.ended_at.is_not(None),
                LoginSession.last_seen_at < now - lifetime.idle,
                LoginSession.created_at < now - lifetime.max_age,
            ),
        )
    )
    nonce = secrets.token_urlsafe(32)
    row = LoginSession(
        user_id=user_id,
        secret_hash=_hash(secrets.token_urlsafe(32)),
        created_at=now,
        last_seen_at=now,
        handover_hash=_hash(nonce),
        handover_until=now + HANDOVER_LIFE,
    )
    session.add(row)
    session.flush()
    return Started(row.id, f"{row.id}.{nonce}")


def exchange(
    session: Session, key: bytes, nonce: str, lifetime: Lifetime, now: datetime | None = None
) -> str | None:
    """The cookie's token for a login's one-time ``nonce``; None if the nonce is not one that
    is still good (unknown, used already, older than :data:`HANDOVER_LIFE`, or its session
    ended). A new secret is made here, so the token exists only in the route's answer."""
    now = now or utcnow()
    parts = nonce.split(".")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1] or len(nonce) > 200:
        return None
    row = _live(session, int(parts[0]), lifetime, now)
    if (
        row is None
        or row.handover_hash is None
        or row.handover_until is None
        or row.handover_until < now
        or not hmac.compare_digest(row.handover_hash, _hash(parts[1]))
    ):
        return None
    secret = secrets.token_urlsafe(32)
    row.secret_hash = _hash(secret)
    row.handover_hash = None
    row.handover_until = None
    return sign(key, row.id, secret)


def _live(
    session: Session, session_id: int, lifetime: Lifetime, now: datetime
) -> LoginSession | None:
    found = session.execute(
        select(LoginSession, User.is_active)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.id == session_id)
    ).one_or_none()
    if found is None:
        return None
    row, active = found
    if row.ended_at is not None or not active or _expired(row, lifetime, now):
        return None
    return row


def _touch(row: LoginSession, now: datetime) -> None:
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now


def resume(
    session: Session, key: bytes, token: str, lifetime: Lifetime, now: datetime | None = None
) -> Resumed | None:
    """The live session a browser's token names, with its user loaded afresh; None if the
    token is not genuine or the session has ended (see the module's docstring)."""
    now = now or utcnow()
    parsed = verify(key, token)
    if parsed is None:
        return None
    session_id, secret = parsed
    row = _live(session, session_id, lifetime, now)
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    _touch(row, now)
    return Resumed(row.id, load_principal(session, row.user_id))


def still_live(
    session: Session, session_id: int, lifetime: Lifetime, now: datetime | None = None
) -> bool:
    """Whether an already resumed session is still alive (one query; run on every page run,
    so that a logout elsewhere, a disabled account or an expiry takes effect at once)."""
    now = now or utcnow()
    row = _live(session, session_id, lifetime, now)
    if row is None:
        return False
    _touch(row, now)
    return True


def current(
    session: Session,
    user_id: int,
    session_id: int | None,
    lifetime: Lifetime,
    now: datetime | None = None,
    *,
    touch: bool = True,
) -> Principal | None:
    """The user of a browser tab as of now — roles and scopes read afresh — or None if their
    login session (when ``session_id`` is given) has ended or the account is disabled. Run on
    every page run, so that a withdrawn role stops working at the next click; ``touch=False``
    writes nothing (a check made in the middle of another transaction)."""
    now = now or utcnow()
    if session_id is not None:
        row = _live(session, session_id, lifetime, now)
        if row is None or row.user_id != user_id:
            return None
        if touch:
            _touch(row, now)
    return active_principal(session, user_id)


def end(session: Session, session_id: int, now: datetime | None = None) -> None:
    """Log this session out (its cookie no longer works anywhere); audited as a ``logout``."""
    ended = session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .returning(LoginSession.user_id)
    ).scalar_one_or_none()
    if ended is not None:
        username = session.scalars(select(User.username).where(User.id == ended)).one()
        record_login(session, username, "logout", login_session=session_id)


def end_all(session: Session, user_id: int, now: datetime | None = None) -> None:
    """End every session of ``user_id``: a password reset or a disabled account logs the user
    out on every device."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )
