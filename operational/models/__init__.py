"""All mapped classes, imported here so ``Base.metadata`` knows every table."""

from operational.models.audit import AuditEntry
from operational.models.base import Base, UTCDateTime, utcnow
from operational.models.org import CityCompany, Group, Office
from operational.models.people import Role, RoleGrant, ScopeLevel, User

__all__ = [
    "AuditEntry",
    "Base",
    "CityCompany",
    "Group",
    "Office",
    "Role",
    "RoleGrant",
    "ScopeLevel",
    "UTCDateTime",
    "User",
    "utcnow",
]
