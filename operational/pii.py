"""Personal information (个人信息): customers' phone numbers and ID numbers.

Shown whole only to whoever holds ``VIEW_CUSTOMER_PII`` at the customer's office (customer
service, the call centre, the office manager — those who work with the owner there); everyone
else sees them masked, on every page and in every export: ``138****5678``,
``1101**********1234`` (docs/property.md). Every read of a customer passes its numbers through
:func:`shown` — the one place the rule is applied.
"""

from __future__ import annotations

from operational.auth import Permission, Principal

MASK = "*"


def mask_phone(phone: str) -> str:
    """The first three and last four digits of a phone number (``138****5678``); a number too
    short to keep both shows only its last two characters."""
    value = phone.strip()
    if not value:
        return ""
    if len(value) >= 8:
        return value[:3] + MASK * (len(value) - 7) + value[-4:]
    return MASK * max(len(value) - 2, 1) + value[-2:]


def mask_id_number(id_number: str) -> str:
    """The first four and last four characters of an ID number (``1101**********1234``)."""
    value = id_number.strip()
    if not value:
        return ""
    if len(value) >= 10:
        return value[:4] + MASK * (len(value) - 8) + value[-4:]
    return MASK * max(len(value) - 2, 1) + value[-2:]


def may_see(principal: Principal, office_code: str) -> bool:
    """Whether ``principal`` sees personal information of ``office_code``'s customers whole."""
    return principal.can(Permission.VIEW_CUSTOMER_PII, office_code)


def shown(principal: Principal, office_code: str, phone: str, id_number: str) -> tuple[str, str]:
    """The phone and ID number as ``principal`` may see them at ``office_code``."""
    if may_see(principal, office_code):
        return phone, id_number
    return mask_phone(phone), mask_id_number(id_number)
