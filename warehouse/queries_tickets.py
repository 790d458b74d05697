"""The typed read API of the complaint escalation board (投诉升级看板) and of ticket SLA
compliance: published ticket marts in, polars out.

The reader is bound to the offices its user may see (``warehouse.scope``). Months are
office-local first days of month (``date``); instants are UTC (naive, as the marts hold them).
Contract of the marts: ``docs/tickets.md``; the queries: ``warehouse/sql/queries/escalation_*.sql``
and ``ticket_*.sql``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse.queries import ParamValue, WarehouseReader

OPEN_COMPLAINTS_SCHEMA = pl.Schema(
    {
        "ticket_no": pl.String(),
        "office_code": pl.String(),
        "office_name": pl.String(),
        "city_code": pl.String(),
        "city_name": pl.String(),
        "severity": pl.String(),
        "state": pl.String(),
        "night_service": pl.Boolean(),
        "received_at": pl.Datetime("us"),
        "received_month": pl.Date(),
        "escalation_level": pl.Int32(),
        "holder_role": pl.String(),
        "escalated_at": pl.Datetime("us"),
        "age_hours": pl.Float64(),
        "age_bucket": pl.String(),
        "age_order": pl.Int32(),
        "timezone": pl.String(),
    }
)
SUMMARY_SCHEMA = pl.Schema(
    {
        "escalation_level": pl.Int32(),
        "holder_role": pl.String(),
        "age_bucket": pl.String(),
        "age_order": pl.Int32(),
        "complaints": pl.Int64(),
    }
)
TREND_SCHEMA = pl.Schema(
    {
        "month": pl.Date(),
        "city_code": pl.String(),
        "city_name": pl.String(),
        "office_code": pl.String(),
        "office_name": pl.String(),
        "level": pl.Int32(),
        "escalations": pl.Int64(),
    }
)
TICKET_COMPLIANCE_SCHEMA = pl.Schema(
    {
        "office_code": pl.String(),
        "office_name": pl.String(),
        "city_code": pl.String(),
        "type": pl.String(),
        "clock": pl.String(),
        "month": pl.Date(),
        "night_service": pl.Boolean(),
        "total": pl.Int64(),
        "met": pl.Int64(),
        "breached": pl.Int64(),
        "pending": pl.Int64(),
        "compliance_pct": pl.Float64(),
    }
)
CELLS_SCHEMA = pl.Schema(
    {
        "clock": pl.String(),
        "month": pl.Date(),
        "night_service": pl.Boolean(),
        "total": pl.Int64(),
        "met": pl.Int64(),
        "breached": pl.Int64(),
        "pending": pl.Int64(),
        "compliance_pct": pl.Float64(),
    }
)
MONTHS_SCHEMA = pl.Schema({"month": pl.Date()})

AGE_BUCKETS = ("under_1d", "d1_2", "d2_3", "d3_5", "d5_10", "over_10d")
"""The board's age buckets (marts.open_complaints.age_bucket), youngest first."""
LEVELS = (0, 1, 2)
HOLDERS = {0: "office_manager", 1: "city_audit_manager", 2: "group_audit_manager"}
"""Who holds an open complaint at each level of the ladder (docs/tickets.md)."""

FIRST_MONTH = date(1, 1, 1)
LAST_MONTH = date(9999, 12, 1)


def _filters(
    city_code: str | None,
    office_code: str | None,
    level: int | None,
    first_month: date | None,
    last_month: date | None,
) -> dict[str, ParamValue]:
    return {
        "city_code": city_code or "",
        "office_code": office_code or "",
        "level": -1 if level is None else level,
        "first_month": first_month or FIRST_MONTH,
        "last_month": last_month or LAST_MONTH,
    }


class TicketReader(WarehouseReader):
    """Open complaints, escalations and ticket clock compliance of the offices in scope."""

    def escalation_months(self) -> list[date]:
        """The office-local months in which an open complaint was received or a complaint
        escalated, in scope, oldest first (the board's month choices)."""
        return self.frame("escalation_months", schema=MONTHS_SCHEMA)["month"].to_list()

    def open_complaints(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        escalation_level: int | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> pl.DataFrame:
        """The complaints still open at the build (not closed), of one city company, office or
        escalation level (None: all) and received in ``first_month``..``last_month`` (None: unbounded), the
        longest-open first: one page of ``limit`` rows from row ``offset``."""
        params = {
            **_filters(city_code, office_code, escalation_level, first_month, last_month),
            "limit": max(0, limit),
            "offset": max(0, offset),
        }
        return self.frame("escalation_open", params, OPEN_COMPLAINTS_SCHEMA)

    def open_complaints_count(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        escalation_level: int | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
    ) -> int:
        """How many complaints :meth:`open_complaints` pages through with these filters."""
        params = _filters(city_code, office_code, escalation_level, first_month, last_month)
        frame = self.frame("escalation_open_count", params)
        return 0 if frame.is_empty() else int(frame["complaints"][0])

    def open_complaints_summary(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        escalation_level: int | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
    ) -> pl.DataFrame:
        """Open complaints per level, holder (role) and age bucket, with the same filters."""
        params = _filters(city_code, office_code, escalation_level, first_month, last_month)
        return self.frame("escalation_summary", params, SUMMARY_SCHEMA)

    def escalation_trend(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        escalation_level: int | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
    ) -> pl.DataFrame:
        """Escalations fired per office-local month, level and office (with its city company),
        of one city company, office or level if given."""
        params = _filters(city_code, office_code, escalation_level, first_month, last_month)
        return self.frame("escalation_trend", params, TREND_SCHEMA)

    def ticket_months(self) -> list[date]:
        """The office-local months with ticket clocks in scope, oldest first."""
        return self.frame("ticket_months", schema=MONTHS_SCHEMA)["month"].to_list()

    def ticket_compliance(
        self,
        *,
        office_code: str | None = None,
        ticket_type: str | None = None,
        clock: str | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
    ) -> pl.DataFrame:
        """Ticket clocks met, breached and pending per office, type, clock, month and day or
        night service (``night_service``), of one office, type and clock if given."""
        params: dict[str, ParamValue] = {
            "office_code": office_code or "",
            "type": ticket_type or "",
            "clock": clock or "",
            "first_month": first_month or FIRST_MONTH,
            "last_month": last_month or LAST_MONTH,
        }
        return self.frame("ticket_compliance", params, TICKET_COMPLIANCE_SCHEMA)

    def ticket_compliance_cells(
        self,
        *,
        office_code: str | None = None,
        ticket_type: str | None = None,
        clock: str | None = None,
        first_month: date | None = None,
        last_month: date | None = None,
    ) -> pl.DataFrame:
        """The same clocks summed over the offices in scope (of one office if given) per clock,
        month and day or night service: a few rows whatever the number of offices."""
        params: dict[str, ParamValue] = {
            "office_code": office_code or "",
            "type": ticket_type or "",
            "clock": clock or "",
            "first_month": first_month or FIRST_MONTH,
            "last_month": last_month or LAST_MONTH,
        }
        return self.frame("ticket_compliance_cells", params, CELLS_SCHEMA)
