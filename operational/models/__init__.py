"""All mapped classes, imported here so ``Base.metadata`` knows every table."""

from operational.models.audit import AuditEntry
from operational.models.base import Base, UTCDateTime, utcnow
from operational.models.energy import (
    Building,
    EnergyKind,
    Meter,
    MeterPoint,
    Reading,
    ReadingFlag,
    ReadingSource,
)
from operational.models.org import CityCompany, Group, Office
from operational.models.people import Role, RoleGrant, ScopeLevel, User

__all__ = [
    "AuditEntry",
    "Base",
    "Building",
    "CityCompany",
    "EnergyKind",
    "Group",
    "Meter",
    "MeterPoint",
    "Office",
    "Reading",
    "ReadingFlag",
    "ReadingSource",
    "Role",
    "RoleGrant",
    "ScopeLevel",
    "UTCDateTime",
    "User",
    "utcnow",
]
