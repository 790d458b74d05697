"""Property base data (基础信息) and owners (业主信息): what the call centre answers from.

Per office (管理处): buildings (楼栋); a house (房产) sits in a building at a unit (单元), a floor
(楼层) and a room (房号) — the building → unit → floor → room structure (房屋本体) — with its area
(建筑面积, m²), sale status (销售状态) and rental status (租赁状态). Customers (客户: owners 业主,
tenants 租户, family members 家庭成员) carry a name, a phone number and an ID number (身份证号),
personal information shown whole only to those who work with the owner at the office
(docs/property.md). An occupancy (入住记录) says who lived in or owned a house, in which role and
from when to when: every past and present occupant. Parking spaces (车位), fee standards
(收费标准), vehicles (车辆), pets (宠物), furniture and appliances (家具家电) and decoration
records (装修记录) complete the record.

Enumerations are stored as their values, with check constraints (the warehouse reads them).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from operational.models.base import Base, UTCDateTime, utcnow

AREA = Numeric(10, 2, asdecimal=True)
"""An area in square metres, to the hundredth."""
PRICE = Numeric(12, 4, asdecimal=True)
"""A fee standard's unit price in yuan (four decimals: 2.3500 元/m²·月)."""


class SaleStatus(enum.StrEnum):
    """销售状态 of a house or a parking space."""

    UNSOLD = "unsold"  # 未售
    SOLD = "sold"  # 已售


class RentalStatus(enum.StrEnum):
    """租赁状态 of a house or a parking space."""

    VACANT = "vacant"  # 空置
    SELF_USE = "self_use"  # 自用
    RENTED = "rented"  # 出租


class OccupantRole(enum.StrEnum):
    """In which role a customer holds or lives in a house."""

    OWNER = "owner"  # 业主
    TENANT = "tenant"  # 租户
    FAMILY = "family"  # 家庭成员


class FeeBasis(enum.StrEnum):
    """What a fee standard's unit price is charged per (计费方式)."""

    PER_M2_MONTH = "per_m2_month"  # 元/平方米·月
    PER_HOUSE_MONTH = "per_house_month"  # 元/户·月
    PER_SPACE_MONTH = "per_space_month"  # 元/车位·月
    PER_M2_ONCE = "per_m2_once"  # 元/平方米 (一次性, 如维修基金)
    PER_USE = "per_use"  # 元/次


def _values(kind: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in kind)


class PropBuilding(Base):
    """A building (楼栋) of an office's property project, by its code (``3``, ``A座``)."""

    __tablename__ = "prop_building"
    __table_args__ = (
        UniqueConstraint("office_id", "code"),
        # A house typed as ``3-2-301`` by a user of many offices: the buildings named 3 of every
        # office at once, not office by office (migration 0024).
        Index("ix_prop_building_code", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100), default="")


class House(Base):
    """A house (房产): one room of a building's unit and floor, ``building-unit-room``."""

    __tablename__ = "prop_house"
    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room"),
        CheckConstraint(f"sale_status IN ({_values(SaleStatus)})", name="sale_status_known"),
        CheckConstraint(f"rental_status IN ({_values(RentalStatus)})", name="rental_status_known"),
        CheckConstraint("area > 0", name="area_positive"),
        Index("ix_prop_house_office_room", "office_id", "room"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("prop_building.id"), index=True)
    unit: Mapped[str] = mapped_column(String(16))
    """单元; ``""`` for a building without units."""
    floor: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(16))
    area: Mapped[Decimal] = mapped_column(AREA)
    sale_status: Mapped[str] = mapped_column(String(16))
    rental_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Customer(Base):
    """A customer (客户) of an office: an owner, a tenant or a family member, by their code.

    ``phone`` and ``id_number`` are personal information: read them only through
    :mod:`operational.pii`, which masks them for whoever does not work with the owner."""

    __tablename__ = "prop_customer"
    __table_args__ = (
        UniqueConstraint("office_id", "code"),
        Index("ix_prop_customer_phone", "phone"),
        Index("ix_prop_customer_office_name", "office_id", "name"),
        # The caller lookup's name prefix (LIKE 'x%'): on PostgreSQL only a pattern index
        # serves it under a non-C collation; on SQLite an ordinary one (migration 0024).
        Index("ix_prop_customer_name_prefix", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), default="")
    id_number: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Occupancy(Base):
    """One customer's holding of or living in a house (入住记录), in a role, from a day to a day
    (``moved_out_on`` None: still there). Every past and present occupant is kept."""

    __tablename__ = "prop_occupancy"
    __table_args__ = (
        UniqueConstraint("house_id", "customer_id", "role", "moved_in_on"),
        CheckConstraint(f"role IN ({_values(OccupantRole)})", name="role_known"),
        CheckConstraint("moved_out_on IS NULL OR moved_out_on >= moved_in_on", name="out_after_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("prop_house.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("prop_customer.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    moved_in_on: Mapped[date] = mapped_column(Date)
    moved_out_on: Mapped[date | None] = mapped_column(Date, default=None)


class ParkingSpace(Base):
    """A parking space (车位) of an office, by its number; stacked (立体/机械车位) or not."""

    __tablename__ = "prop_parking_space"
    __table_args__ = (
        UniqueConstraint("office_id", "space_no"),
        CheckConstraint(f"sale_status IN ({_values(SaleStatus)})", name="sale_status_known"),
        CheckConstraint(f"rental_status IN ({_values(RentalStatus)})", name="rental_status_known"),
        CheckConstraint("area > 0", name="area_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    space_no: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[Decimal] = mapped_column(AREA)
    sale_status: Mapped[str] = mapped_column(String(16))
    rental_status: Mapped[str] = mapped_column(String(16))
    stacked: Mapped[bool] = mapped_column(default=False, server_default=false())


class FeeStandard(Base):
    """A fee standard (收费标准) of an office: management fee (物业管理费), maintenance fund
    (维修基金), parking fee (停车费) … — a name, a unit price and what it is charged per."""

    __tablename__ = "prop_fee_standard"
    __table_args__ = (
        UniqueConstraint("office_id", "code"),
        CheckConstraint(f"basis IN ({_values(FeeBasis)})", name="basis_known"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("org_office.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    unit_price: Mapped[Decimal] = mapped_column(PRICE)
    basis: Mapped[str] = mapped_column(String(20))


class Vehicle(Base):
    """A customer's vehicle (车辆): plate number (车牌号) and driving licence number (行驶证号)."""

    __tablename__ = "prop_vehicle"
    __table_args__ = (UniqueConstraint("customer_id", "plate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("prop_customer.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    licence_no: Mapped[str] = mapped_column(String(32), default="")


class Pet(Base):
    """A customer's pet (宠物): its kind (犬, 猫 …), name and a note (犬证号, 疫苗)."""

    __tablename__ = "prop_pet"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("prop_customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class Furnishing(Base):
    """Furniture or an appliance (家具家电) a customer keeps on record: the item, its brand and a
    note (e.g. under the developer's warranty until …)."""

    __tablename__ = "prop_furnishing"
    __table_args__ = (UniqueConstraint("customer_id", "item", "brand"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("prop_customer.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    brand: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class Decoration(Base):
    """A home decoration (装修记录) of a house: from a day to a day (None: under way), by a
    contractor, what was done."""

    __tablename__ = "prop_decoration"
    __table_args__ = (
        UniqueConstraint("house_id", "started_on"),
        CheckConstraint(
            "finished_on IS NULL OR finished_on >= started_on", name="finished_after_start"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("prop_house.id"), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    finished_on: Mapped[date | None] = mapped_column(Date, default=None)
    contractor: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
