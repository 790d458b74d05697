"""The typed read API of the SLA and workload pages: published SLA marts in, polars out.

Every method takes ``offices``: the office codes the reader may see (an empty set: no rows;
None: every office), so a page can never show an office outside the user's scope. Months are
office-local first days of month (``date``). Contract of the marts: ``docs/sla-marts.md``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse.queries import Params, WarehouseReader

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

_SCOPE = "($all_offices or list_contains($offices::varchar[], {column}))"
_MONTHS = (
    "month between coalesce(try_cast($first_month as date), date '0001-01-01')"
    " and coalesce(try_cast($last_month as date), date '9999-12-01')"
)

_HEATMAP = f"""
select c.office_code, o.office_name, c.discipline, c.month,
    cast(sum(c.total) as bigint) as total, cast(sum(c.met) as bigint) as met,
    cast(sum(c.breached) as bigint) as breached, cast(sum(c.pending) as bigint) as pending,
    case when sum(c.met) + sum(c.breached) > 0
        then 100.0 * sum(c.met) / (sum(c.met) + sum(c.breached)) end as compliance_pct
from marts.sla_compliance as c
left join marts.dim_office as o on o.office_code = c.office_code
where {_SCOPE.format(column="c.office_code")} and {_MONTHS}
    and ($document_type = '' or c.document_type = $document_type)
group by c.office_code, o.office_name, c.discipline, c.month
order by c.office_code, c.discipline, c.month
"""

_LATE = f"""
select document_no, office_code, discipline, document_type, clock, started_at, due_at,
    stopped_at, state, late_minutes, month
from marts.sla_late_clocks
where {_SCOPE.format(column="office_code")}
    and ($office_code = '' or office_code = $office_code)
    and ($discipline = '' or discipline = $discipline)
    and ($document_type = '' or document_type = $document_type)
    and {_MONTHS}
order by late_minutes desc, document_no
limit $limit
"""

_WORKLOAD = f"""
select w.office_code, o.office_name, w.open_orders, w.overdue_orders, w.closed_last_30d,
    w.objects, w.objects_without_plan, w.plan_coverage_pct
from marts.office_workload as w
left join marts.dim_office as o on o.office_code = w.office_code
where {_SCOPE.format(column="w.office_code")}
order by w.overdue_orders desc, w.open_orders desc, w.office_code
"""

_THROUGHPUT = f"""
select office_code, month, cast(sum(created) as bigint) as created,
    cast(sum(closed) as bigint) as closed
from marts.order_throughput
where {_SCOPE.format(column="office_code")} and {_MONTHS}
group by office_code, month
order by office_code, month
"""


def _scope(offices: frozenset[str] | None) -> Params:
    return (("all_offices", offices is None), ("offices", tuple(sorted(offices or ()))))


def _months(first_month: date | None, last_month: date | None) -> Params:
    return (
        ("first_month", first_month.isoformat() if first_month else ""),
        ("last_month", last_month.isoformat() if last_month else ""),
    )


class SlaReader(WarehouseReader):
    """SLA compliance, late orders and office workload from the published warehouse."""

    def compliance_heatmap(
        self,
        offices: frozenset[str] | None = None,
        *,
        first_month: date | None = None,
        last_month: date | None = None,
        document_type: str | None = None,
    ) -> pl.DataFrame:
        """Office × discipline × month (the heat-map): clocks met, breached, pending and
        compliance_pct (met ÷ (met + breached) × 100, null when both are 0), over every clock
        of the document type (None: all types)."""
        params = (
            *_scope(offices),
            *_months(first_month, last_month),
            ("document_type", document_type or ""),
        )
        return self._frame(_HEATMAP, params, HEATMAP_SCHEMA)

    def late_orders(
        self,
        offices: frozenset[str] | None = None,
        *,
        office_code: str | None = None,
        discipline: str | None = None,
        month: date | None = None,
        document_type: str | None = None,
        limit: int = 500,
    ) -> pl.DataFrame:
        """The breached clocks behind a heat-map cell (drill-down), latest-running first."""
        params = (
            *_scope(offices),
            *_months(month, month),
            ("office_code", office_code or ""),
            ("discipline", discipline or ""),
            ("document_type", document_type or ""),
            ("limit", str(max(0, limit))),
        )
        return self._frame(
            _LATE.replace("$limit", "cast($limit as bigint)"), params, LATE_ORDERS_SCHEMA
        )

    def office_workload(self, offices: frozenset[str] | None = None) -> pl.DataFrame:
        """Per office as of the build: open and overdue orders, orders closed in the last 30
        days, objects, objects without a plan and plan coverage (%); most overdue first."""
        return self._frame(_WORKLOAD, _scope(offices), WORKLOAD_SCHEMA)

    def order_throughput(
        self,
        offices: frozenset[str] | None = None,
        *,
        first_month: date | None = None,
        last_month: date | None = None,
    ) -> pl.DataFrame:
        """Orders created and closed per office and office-local month."""
        params = (*_scope(offices), *_months(first_month, last_month))
        return self._frame(_THROUGHPUT, params, THROUGHPUT_SCHEMA)

    def _frame(self, sql: str, params: Params, schema: pl.Schema) -> pl.DataFrame:
        frame = self._query(sql, params)
        if frame is None:
            return pl.DataFrame(schema=schema)
        return frame.cast(schema)
