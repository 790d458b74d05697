"""The organisation: group (集团) → city company (城市公司) → management office (管理处)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operational.models.base import Base


class Group(Base):
    """The property-management group (集团) this installation belongs to."""

    __tablename__ = "org_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class CityCompany(Base):
    """A city company (城市公司): the group's branch that runs the offices of one city."""

    __tablename__ = "org_city_company"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("org_group.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    offices: Mapped[list[Office]] = relationship(back_populates="city", lazy="raise")


class Office(Base):
    """A management office (管理处), one per property project (项目), in its own time zone."""

    __tablename__ = "org_office"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("org_city_company.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")

    city: Mapped[CityCompany] = relationship(back_populates="offices", lazy="raise")
