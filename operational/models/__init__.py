"""All mapped classes, imported here so ``Base.metadata`` knows every table."""

from operational.models.audit import AuditEntry
from operational.models.base import Base, UTCDateTime, utcnow
from operational.models.calendars import (
    OfficeCalendarDay,
    OfficeCalendarDayInterval,
    OfficeCalendarInterval,
)
from operational.models.energy import (
    Building,
    EnergyKind,
    ExceptionFollowUp,
    Meter,
    MeterPoint,
    Reading,
    ReadingFlag,
    ReadingSource,
)
from operational.models.faults import Fault
from operational.models.objects import (
    AttributeKind,
    ChecklistItem,
    Discipline,
    MaintObject,
    ObjectType,
    ObjectTypeAttribute,
)
from operational.models.orders import (
    ChecklistAnswer,
    ClockPolicy,
    CorrectiveOrder,
    Frequency,
    PeriodicOrder,
    PeriodicPlan,
    WorkflowClock,
    WorkflowClockPause,
    WorkflowDocument,
    WorkflowEvent,
    plan_object,
)
from operational.models.org import CityCompany, Group, Office
from operational.models.people import LoginFailure, Role, RoleGrant, ScopeLevel, User
from operational.models.suppliers import (
    DeductionStandard,
    Nonconformity,
    NonconformityKind,
    Supplier,
    SupplierContract,
    SupplierScoreEntry,
)

__all__ = [
    "AttributeKind",
    "AuditEntry",
    "Base",
    "Building",
    "ChecklistAnswer",
    "ChecklistItem",
    "CityCompany",
    "ClockPolicy",
    "CorrectiveOrder",
    "DeductionStandard",
    "Discipline",
    "EnergyKind",
    "ExceptionFollowUp",
    "Fault",
    "Frequency",
    "Group",
    "LoginFailure",
    "MaintObject",
    "Meter",
    "MeterPoint",
    "Nonconformity",
    "NonconformityKind",
    "ObjectType",
    "ObjectTypeAttribute",
    "Office",
    "OfficeCalendarDay",
    "OfficeCalendarDayInterval",
    "OfficeCalendarInterval",
    "PeriodicOrder",
    "PeriodicPlan",
    "Reading",
    "ReadingFlag",
    "ReadingSource",
    "Role",
    "RoleGrant",
    "ScopeLevel",
    "Supplier",
    "SupplierContract",
    "SupplierScoreEntry",
    "UTCDateTime",
    "User",
    "WorkflowClock",
    "WorkflowClockPause",
    "WorkflowDocument",
    "WorkflowEvent",
    "plan_object",
    "utcnow",
]
