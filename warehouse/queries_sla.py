"""The typed read API of the SLA and workload pages: published SLA marts in, polars out.

The reader is bound to the offices its user may see (``warehouse.scope``), so a page can never
show an office outside the user's scope. Months are office-local first days of month
(``date``). Contract of the marts: ``docs/sla-marts.md``; the queries:
``warehouse/sql/queries/sla_*.sql``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse.queries import ParamValue, WarehouseReader

HEATMAP_SCHEMA = pl.Schema(
    {
        "office_code": pl.String,
        "office_name": pl.String,
        "discipline": pl.String,
        "month": pl.Date,
        "total": pl.Int64,
        "met": pl.Int64,
        "breached": pl.Int64,
        "pending": pl.Int64,
        "compliance_pct": pl.Float64,
    }
)
_COUNTS: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "total": pl.Int64(),
    "met": pl.Int64(),
    "breached": pl.Int64(),
    "pending": pl.Int64(),
    "compliance_pct": pl.Float64(),
}
CITY_HEATMAP_SCHEMA = pl.Schema(
    {"city_code": pl.String(), "city_name": pl.String(), "offices": pl.Int64(), **_COUNTS}
)
OFFICE_HEATMAP_SCHEMA = pl.Schema(
    {"office_code": pl.String(), "office_name": pl.String(), "city_code": pl.String(), **_COUNTS}
)
MONTHS_SCHEMA = pl.Schema({"month": pl.Date()})
_LATE_COLUMNS: dict[str, pl.DataType] = {
    "document_no": pl.String(),
    "office_code": pl.String(),
    "discipline": pl.String(),
    "document_type": pl.String(),
    "clock": pl.String(),
    "started_at": pl.Datetime("us"),
    "due_at": pl.Datetime("us"),
    "stopped_at": pl.Datetime("us"),
    "state": pl.String(),
    "late_minutes": pl.Float64(),
    "month": pl.Date(),
}
LATE_ORDERS_SCHEMA = pl.Schema(_LATE_COLUMNS)
WORKLOAD_SCHEMA = pl.Schema(
    {
        "office_code": pl.String,
        "office_name": pl.String,
        "open_orders": pl.Int64,
        "overdue_orders": pl.Int64,
        "closed_last_30d": pl.Int64,
        "objects": pl.Int64,
        "objects_without_plan": pl.Int64,
        "plan_coverage_pct": pl.Float64,
    }
)
THROUGHPUT_SCHEMA = pl.Schema(
    {
        "office_code": pl.String,
        "month": pl.Date,
        "created": pl.Int64,
        "closed": pl.Int64,
    }
)

FIRST_MONTH = date(1, 1, 1)
LAST_MONTH = date(9999, 12, 1)


def _months(first_month: date | None, last_month: date | None) -> dict[str, ParamValue]:
    return {"first_month": first_month or FIRST_MONTH, "last_month": last_month or LAST_MONTH}


class SlaReader(WarehouseReader):
    """SLA compliance, late orders and office workload of the offices in the reader's scope."""

    def months(self) -> list[date]:
        """The office-local months that have SLA clocks in scope, oldest first."""
        return self.frame("sla_months", schema=MONTHS_SCHEMA)["month"].to_list()

    def compliance_heatmap(
        self,
        *,
        first_month: date | None = None,
        last_month: date | None = None,
        document_type: str | None = None,
        office_code: str | None = None,
    ) -> pl.DataFrame:
        """Office × discipline × month (the heat-map): clocks met, breached, pending and
        compliance_pct (met ÷ (met + breached) × 100, null when both are 0), over every clock
        of the document type (None: all types); of one office if given."""
        params = {
            **_months(first_month, last_month),
            "document_type": document_type or "",
            "office_code": office_code or "",
        }
        return self.frame("sla_heatmap", params, HEATMAP_SCHEMA)

    def compliance_by_city(
        self,
        *,
        first_month: date | None = None,
        last_month: date | None = None,
        document_type: str | None = None,
    ) -> pl.DataFrame:
        """City company × month over every discipline: the same counts summed over each city
        company's offices in scope (``offices`` of them), so a city-company user's rows are
        the city's totals."""
        params = {**_months(first_month, last_month), "document_type": document_type or ""}
        return self.frame("sla_heatmap_city", params, CITY_HEATMAP_SCHEMA)

    def compliance_by_office(
        self,
        *,
        city_code: str | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
        document_type: str | None = None,
    ) -> pl.DataFrame:
        """Office × month over every discipline, of the offices in scope (of one city company
        if given)."""
        params = {
            **_months(first_month, last_month),
            "document_type": document_type or "",
            "city_code": city_code or "",
        }
        return self.frame("sla_heatmap_office", params, OFFICE_HEATMAP_SCHEMA)

    def late_orders(
        self,
        *,
        office_code: str | None = None,
        discipline: str | None = None,
        month: date | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
        document_type: str | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> pl.DataFrame:
        """The breached clocks behind a heat-map cell (drill-down), latest-running first: one
        page of ``limit`` rows from row ``offset`` (see :meth:`late_orders_count`). ``month``
        is one office-local month; else ``first_month``..``last_month`` (None: unbounded)."""
        params = {
            **self._late_filters(office_code, discipline, month, first_month, last_month),
            "document_type": document_type or "",
            "limit": max(0, limit),
            "offset": max(0, offset),
        }
        return self.frame("sla_late_clocks", params, LATE_ORDERS_SCHEMA)

    def late_orders_count(
        self,
        *,
        office_code: str | None = None,
        discipline: str | None = None,
        month: date | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
        document_type: str | None = None,
    ) -> int:
        """How many breached clocks :meth:`late_orders` pages through with these filters."""
        params = {
            **self._late_filters(office_code, discipline, month, first_month, last_month),
            "document_type": document_type or "",
        }
        frame = self.frame("sla_late_clocks_count", params)
        return 0 if frame.is_empty() else int(frame["late_clocks"][0])

    @staticmethod
    def _late_filters(
        office_code: str | None,
        discipline: str | None,
        month: date | None,
        first_month: date | None,
        last_month: date | None,
    ) -> dict[str, ParamValue]:
        months = _months(month, month) if month else _months(first_month, last_month)
        return {**months, "office_code": office_code or "", "discipline": discipline or ""}

    def office_workload(self) -> pl.DataFrame:
        """Per office as of the build: open and overdue orders, orders closed in the last 30
        days, objects, objects without a plan and plan coverage (%); most overdue first."""
        return self.frame("sla_workload", schema=WORKLOAD_SCHEMA)

    def order_throughput(
        self, *, first_month: date | None = None, last_month: date | None = None
    ) -> pl.DataFrame:
        """Orders created and closed per office and office-local month."""
        return self.frame("sla_throughput", _months(first_month, last_month), THROUGHPUT_SCHEMA)
