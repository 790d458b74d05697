"""The offices a warehouse reader may see (数据范围), bound once when the reader is made.

A dashboard never passes office codes to a query: it gets readers already bound to the user's
offices (``dashboards.session``), and every query of ``warehouse/sql/queries/`` keeps to that
scope through the macros of ``warehouse/sql/queries/scope.sql`` (docs/warehouse.md, "Scope"):

- ``in_scope(office_code)``: the office is in scope;
- ``city_in_scope(city_code)``: every office of the city company is in scope (a city-company
  user sees the city's totals; an office user does not see the city's);
- ``group_in_scope(group_code)``: every office of the group is in scope;
- ``supplier_in_scope(supplier_code)``: the supplier is the reader's own (a supplier user,
  供方用户) or the reader is bound to no supplier.

A reader bound to a supplier sees only that supplier's rows, and only through queries that
apply ``supplier_in_scope``: every other query runs with no office in scope
(``warehouse.queries``), so a supplier user reads nothing of the offices' energy, SLA or tower.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class OfficeScope:
    """A set of office codes, or every office (``offices`` None)."""

    offices: frozenset[str] | None
    supplier: str | None = None
    """The supplier code a supplier user's reader is bound to (None: no supplier)."""

    @classmethod
    def everything(cls) -> OfficeScope:
        """Every office: the command line, BI exports and headquarters' group-wide roles."""
        return cls(None)

    @classmethod
    def of(cls, offices: Iterable[str] | None, *, supplier: str | None = None) -> OfficeScope:
        """The scope of these office codes (None: every office), of one supplier's work if
        ``supplier`` is given."""
        return cls(None if offices is None else frozenset(offices), supplier)

    @property
    def is_everything(self) -> bool:
        return self.offices is None

    def covers(self, office_code: str) -> bool:
        return self.offices is None or office_code in self.offices

    @property
    def key(self) -> tuple[bool, tuple[str, ...], str | None]:
        """A hashable, ordered form (a cache key and the macros' bound values)."""
        return (self.offices is None, tuple(sorted(self.offices or ())), self.supplier)
