"""Users and their role grants, each role held at a scope (group, city company or office)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operational.models.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """The roles staff hold; `operational/auth.py` maps each to its permissions; one person may hold several, each with its own scope."""

    GROUP_ADMIN = "group_admin"
    HQ_VIEWER = "hq_viewer"
    GROUP_AUDIT_MANAGER = "group_audit_manager"  # 集团内审经理
    CITY_AUDIT_MANAGER = "city_audit_manager"  # 城市公司内审经理 (一级内审经理)
    OFFICE_MANAGER = "office_manager"  # 管理处经理
    ENGINEERING_SUPERVISOR = "engineering_supervisor"  # 工程主管
    LANDSCAPING_SUPERVISOR = "landscaping_supervisor"  # 园艺主管
    SECURITY_SUPERVISOR = "security_supervisor"  # 秩序主管
    CLEANING_SUPERVISOR = "cleaning_supervisor"  # 保洁主管
    CS_SUPERVISOR = "cs_supervisor"  # 客服主管
    CS_ASSISTANT = "cs_assistant"  # 客服助理
    TECHNICIAN = "technician"  # 技工
    RENOVATION_ADMIN = "renovation_admin"  # 装修管理员
    SECURITY_GUARD = "security_guard"  # 秩序员
    CALL_CENTRE_AGENT = "call_centre_agent"  # 呼叫中心坐席
    FINANCE = "finance"  # 财务
    SUPPLIER_USER = "supplier_user"  # 供方用户


class ScopeLevel(enum.StrEnum):
    GROUP = "group"
    CITY = "city"
    OFFICE = "office"


class User(Base):
    """A person who logs in. Passwords are stored only as argon2 hashes."""

    __tablename__ = "auth_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="zh_CN")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier.id"), default=None, index=True
    )
    """The supplier whose staff this account belongs to (供方用户): it then holds only the
    supplier-user role and sees only that supplier's work (``operational.scope``)."""

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan"
    )


class RoleGrant(Base):
    """One role held by one user at one scope: the group, a city company or an office."""

    __tablename__ = "auth_role_grant"
    __table_args__ = (
        CheckConstraint(
            "(scope_level = 'group' AND city_id IS NULL AND office_id IS NULL)"
            " OR (scope_level = 'city' AND city_id IS NOT NULL AND office_id IS NULL)"
            " OR (scope_level = 'office' AND office_id IS NOT NULL AND city_id IS NULL)",
            name="scope_matches_level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    scope_level: Mapped[str] = mapped_column(String(10))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("org_city_company.id"), default=None)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("org_office.id"), default=None)

    user: Mapped[User] = relationship(back_populates="grants", lazy="raise")


class LoginSession(Base):
    """One browser's login (登录会话), restored from its signed cookie until it ends.

    The cookie carries the row's id and a random secret; only a SHA-256 of that secret is kept
    here. A session ends when it is logged out or revoked (password reset, account disabled),
    when it has been idle too long or when it is too old (``operational.login_sessions``).
    """

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    handover_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 of the one-time nonce the page hands the cookie route after a login; the route
    exchanges it (once, before ``handover_until``) for the cookie's token."""
    handover_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LoginFailure(Base):
    """One failed login (失败登录): the user name as typed, where it came from, when.

    The throttle (``operational.auth``) counts these per name *and source* and per source, so
    that whoever knows a name cannot lock its owner out from elsewhere. Names that do not exist
    are counted exactly like real ones. A name's rows from one source are deleted when that
    source logs in with it; an administrator clears a name's rows (``users unlock``).
    """

    __tablename__ = "auth_login_failure"
    __table_args__ = (
        Index("ix_auth_login_failure_name_source", "username", "source", "failed_at"),
        Index("ix_auth_login_failure_source", "source", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
