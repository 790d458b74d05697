"""Entry checks every entry path shares: numbers that fit where they are stored, instants and
dates within the product's bounds (docs/import-formats.md, "What every import refuses").

One bad value must never stop the group: a reading of ``1e400`` stored as infinity fails every
warehouse build after it, an order dated 1900 makes the SLA pages span 1 500 months. So every
import and every service a form calls checks its values here before writing anything, and the
rules live once:

* a number must be finite and fit its column: at most ``scale`` decimals, at most
  ``precision - scale`` digits before the point, and at most :data:`MAX_EXACT_DIGITS`
  significant digits (what SQLite's REAL stores exactly, so both backends keep the same value);
* an instant must lie in ``[EARLIEST, now + FUTURE_LEEWAY]``; a date (a plan's start) must not be
  before :data:`EARLIEST_DAY`. Rules of a domain may be stricter (a meter reading may not be in
  the future at all) and are checked by that domain on top;
* text must fit its column: at most the ``n`` of the model's ``String(n)`` characters
  (:func:`text_refusal`; :func:`refuse_long_text` refuses it at every flush).

The functions return the catalogue key (and its parameters) of the refusal, or None; imports turn
it into a :class:`~operational.imports.table.RowError` naming row and column, services raise it as a
:class:`~operational.errors.DomainError` naming the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, inspect
from sqlalchemy.orm import Mapper, Session

from operational.errors import DomainError, Term

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No instant before this is accepted (2000-01-01 00:00 UTC): older data is a typing error."""
EARLIEST_DAY = EARLIEST.date()
"""No date (a plan's start or end) before this is accepted."""
FUTURE_LEEWAY = timedelta(days=1)
"""No instant later than this after now is accepted (clocks of phones and old systems drift)."""
MAX_EXACT_DIGITS = 15
"""Significant digits a number may have: SQLite stores ``Numeric`` as an 8-byte float, exact to 15
significant digits; PostgreSQL's NUMERIC would keep more, and the two backends must agree."""
INT32_MAX = 2**31 - 1
"""The largest value of an ``Integer`` column (PostgreSQL's ``integer``)."""

Refusal = tuple[str, dict[str, Any]]


# ---------------------------------------------------------------- numbers


def number_refusal(
    value: Decimal, precision: int | None = None, scale: int | None = None
) -> Refusal | None:
    """Why ``value`` cannot be stored in a ``Numeric(precision, scale)`` column (None: it can).

    Without a column (a number kept as text, e.g. an object's attribute) only the finiteness and
    the :data:`MAX_EXACT_DIGITS` rule apply: at most that many digits before the point and after.
    """
    if not value.is_finite():
        return "entry.number.not_finite", {}
    max_decimals = scale if scale is not None else MAX_EXACT_DIGITS
    max_integer = precision - (scale or 0) if precision is not None else MAX_EXACT_DIGITS
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    significant = len(digits)
    if (
        exponent >= -max_decimals
        and significant + exponent <= max_integer
        and significant <= MAX_EXACT_DIGITS
    ):
        return None  # the common case, decided without looking at trailing zeros
    if value.is_zero():
        return None
    while digits[significant - 1] == 0:  # trailing zeros are not digits of the value
        significant -= 1
        exponent += 1
    if significant + exponent > max_integer:
        return "entry.number.too_large", {"digits": max_integer}
    if -exponent > max_decimals:
        return "entry.number.too_many_decimals", {"decimals": max_decimals}
    if significant > MAX_EXACT_DIGITS:
        return "entry.number.too_precise", {"digits": MAX_EXACT_DIGITS}
    return None


def column_refusal(value: Decimal, column_type: Any) -> Refusal | None:
    """:func:`number_refusal` for a column's ``Numeric`` type (the mapped column's ``type``)."""
    assert isinstance(column_type, Numeric)
    return number_refusal(value, column_type.precision, column_type.scale)


def integer_refusal(value: int, low: int = 1, high: int = INT32_MAX) -> Refusal | None:
    """Why an integer entry cannot be stored in an ``Integer`` column (None: it can)."""
    if value < low or value > high:
        return "entry.number.integer_range", {"low": low, "high": high}
    return None


def check_number(value: Decimal, column_type: Any, field: str, text: object = None) -> None:
    """Raise the refusal of :func:`column_refusal` as a :class:`DomainError` naming ``field``
    (a catalogue key under ``entry.field``, translated when shown)."""
    refusal = column_refusal(value, column_type)
    if refusal is not None:
        key, params = refusal
        raise DomainError(
            key, column=Term(f"entry.field.{field}"), value=short(text or value), **params
        )


def check_integer(value: int, field: str, low: int = 1, high: int = INT32_MAX) -> None:
    refusal = integer_refusal(value, low, high)
    if refusal is not None:
        key, params = refusal
        raise DomainError(key, column=Term(f"entry.field.{field}"), value=value, **params)


# ---------------------------------------------------------------- instants and dates


def to_utc(value: datetime, zone: tzinfo) -> datetime:
    """An aware instant in UTC; a naive ``value`` is wall time in ``zone``.

    A wall time so near the ends of the calendar that UTC cannot hold it (year 1 east of
    Greenwich, year 9999 west of it) comes back as the smallest or largest instant, which the
    bounds then refuse: never an ``OverflowError``.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        extreme = datetime.min if value.year < 5000 else datetime.max
        return extreme.replace(tzinfo=UTC)


def instant_refusal(at: datetime, now: datetime | None) -> Refusal | None:
    """Why the instant ``at`` is out of bounds (None: it is within them). ``now`` None checks
    the floor only, for a domain that refuses the future more strictly itself."""
    if at < EARLIEST:
        return "entry.time.too_early", {"earliest": EARLIEST_DAY.isoformat()}
    if now is not None and at > now + FUTURE_LEEWAY:
        return "entry.time.too_late", {}
    return None


def day_refusal(day: date) -> Refusal | None:
    """Why the date ``day`` is out of bounds (None: it is not)."""
    if day < EARLIEST_DAY:
        return "entry.time.too_early", {"earliest": EARLIEST_DAY.isoformat()}
    return None


def check_instant(at: datetime, now: datetime, field: str) -> None:
    refusal = instant_refusal(at, now)
    if refusal is not None:
        key, params = refusal
        raise DomainError(
            key, column=Term(f"entry.field.{field}"), value=_instant_text(at), **params
        )


def check_day(day: date, field: str) -> None:
    refusal = day_refusal(day)
    if refusal is not None:
        key, params = refusal
        raise DomainError(key, column=Term(f"entry.field.{field}"), value=day.isoformat(), **params)


def _instant_text(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if datetime.min.year < at.year < 9999 else "…"


# ---------------------------------------------------------------- quoting values


SHORT = 40
"""Messages quote at most this many characters of a value the user gave."""


def short(value: object) -> str:
    """``value`` as text for a message, cut to :data:`SHORT` characters."""
    text = str(value)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


# ---------------------------------------------------------------- text that fits its column


def max_length(column: Any) -> int | None:
    """The most characters ``column`` holds: a mapped attribute (``Office.name``), a ``Column``
    or its ``String`` type; None if it holds any length (``Text``, ``JSON``, not a string)."""
    column_type = getattr(column, "type", column)
    length = getattr(column_type, "length", None)
    return length if isinstance(column_type, String) and isinstance(length, int) else None


def length_of(column: Any) -> int:
    """:func:`max_length` of a column that has one (a ``String(n)``)."""
    limit = max_length(column)
    assert limit is not None, column
    return limit


def text_refusal(text: str, column: Any) -> Refusal | None:
    """Why ``text`` cannot be stored in ``column`` (None: it can). PostgreSQL refuses a value
    longer than a ``VARCHAR(n)`` with an error, SQLite would store it whole: both refuse it here,
    by the length the model declares (the one place the limit is written)."""
    limit = max_length(column)
    if limit is not None and len(text) > limit:
        return "entry.text.too_long", {"max": limit, "length": len(text)}
    return None


_LIMITS: dict[type, tuple[tuple[str, int], ...]] = {}


def _string_columns(cls: type) -> tuple[tuple[str, int], ...]:
    """(attribute, length) of every ``String(n)`` column a mapped class has (computed once)."""
    known = _LIMITS.get(cls)
    if known is not None:
        return known
    limits: list[tuple[str, int]] = []
    mapper: Mapper[Any] = inspect(cls)
    for attribute in mapper.column_attrs:
        limit = max_length(attribute.columns[0])
        if limit is not None:
            limits.append((attribute.key, limit))
    _LIMITS[cls] = tuple(limits)
    return _LIMITS[cls]


def refuse_long_text(session: Session, _context: object = None, _instances: object = None) -> None:
    """Before a flush: refuse (:class:`DomainError` ``entry.text.too_long``) any new or changed
    record holding text longer than its column — every path that writes through the ORM, forms
    included, on both databases. Imports check the same limit per row first
    (:func:`text_refusal`), so a user sees the row and column; this is the net behind them."""
    for record in (*session.new, *session.dirty):
        values = record.__dict__
        for key, limit in _string_columns(type(record)):
            value = values.get(key)
            if isinstance(value, str) and len(value) > limit:
                raise DomainError(
                    "entry.text.too_long",
                    column=key,
                    value=short(value),
                    max=limit,
                    length=len(value),
                )
