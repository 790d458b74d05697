"""The typed read API of the quality review (品质审核): ``marts.quality_review`` in, polars out.

A :class:`QualityReader` is bound to the offices its user may see (``warehouse.scope``): the
group's internal audit reads every office, a city company's its city's. Every query is a file of
``warehouse/sql/queries/quality_*.sql``; sums are taken in the query and percentages, the
inspection score and the mean closure time recomputed from them (docs/quality-marts.md).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse.queries import ParamValue, WarehouseReader

KINDS = ("professional", "quality", "other")
GROUPINGS = ("office", "month", "discipline")
REVIEW_SCHEMA = pl.Schema(
    {
        "city_code": pl.String(),
        "city_name": pl.String(),
        "office_code": pl.String(),
        "office_name": pl.String(),
        "month": pl.Date(),
        "discipline": pl.String(),
        "kind": pl.String(),
        "plans_approved": pl.Int64(),
        "orders_due": pl.Int64(),
        "orders_executed": pl.Int64(),
        "execution_pct": pl.Float64(),
        "items_scored": pl.Int64(),
        "items_failed": pl.Int64(),
        "failed_pct": pl.Float64(),
        "inspection_score": pl.Float64(),
        "nonconformities_opened": pl.Int64(),
        "nonconformities_closed": pl.Int64(),
        "mean_closure_hours": pl.Float64(),
        "nc_clocks_met": pl.Int64(),
        "nc_clocks_breached": pl.Int64(),
        "closure_compliance_pct": pl.Float64(),
    }
)
FAILED_ITEMS_SCHEMA = pl.Schema(
    {
        "city_code": pl.String(),
        "city_name": pl.String(),
        "office_code": pl.String(),
        "office_name": pl.String(),
        "discipline": pl.String(),
        "item_name": pl.String(),
        "items_failed": pl.Int64(),
        "items_scored": pl.Int64(),
        "failed_pct": pl.Float64(),
    }
)
MONTHS_SCHEMA = pl.Schema({"month": pl.Date(), "discipline": pl.String(), "kind": pl.String()})
EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 1)


class QualityReader(WarehouseReader):
    """The quality review within the reader's scope."""

    def months(self) -> pl.DataFrame:
        """month (first day), discipline, kind: what the review holds in scope, newest first."""
        return self.frame("quality_months", schema=MONTHS_SCHEMA)

    def review(
        self,
        *,
        by: tuple[str, ...] = ("office",),
        city_code: str | None = None,
        office_code: str | None = None,
        discipline: str | None = None,
        inspection_kind: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """The review (:data:`REVIEW_SCHEMA`) of the offices in scope — of one city company,
        office, discipline or inspection kind (``professional``, ``quality``, ``other``) if
        given, months ``start`` … ``end`` (first days) — summed
        per office (``by`` holds ``"office"``: its city and name too), per month (``"month"``)
        and per discipline and kind (``"discipline"``); a key not grouped by is null. ``by``
        empty: one row, the total."""
        unknown = set(by) - set(GROUPINGS)
        if unknown:
            raise ValueError(f"by: unknown groupings {sorted(unknown)}; use {GROUPINGS}")
        params: dict[str, ParamValue] = {
            "by_office": "office" in by,
            "by_month": "month" in by,
            "by_discipline": "discipline" in by,
            **_filters(city_code, office_code, discipline, inspection_kind, start, end),
        }
        return self.frame("quality_review", params, REVIEW_SCHEMA)

    def failed_items(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        discipline: str | None = None,
        inspection_kind: str | None = None,
        start: date | None = None,
        end: date | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> pl.DataFrame:
        """The inspection items that fail most (:data:`FAILED_ITEMS_SCHEMA`,
        ``marts.inspection_item_failures``) in the offices in scope, with the filters of
        :meth:`review`: per office, discipline and item name, those failed at least once, most
        failures first (then the higher failure rate); one page of ``limit`` rows from row
        ``offset`` (:meth:`failed_items_count` counts them)."""
        params = {
            **_filters(city_code, office_code, discipline, inspection_kind, start, end),
            "limit": max(0, limit),
            "offset": max(0, offset),
        }
        return self.frame("quality_item_failures", params, FAILED_ITEMS_SCHEMA)

    def failed_items_count(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        discipline: str | None = None,
        inspection_kind: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> int:
        """How many rows :meth:`failed_items` pages through with these filters."""
        params = _filters(city_code, office_code, discipline, inspection_kind, start, end)
        frame = self.frame("quality_item_failures_count", params)
        return 0 if frame.is_empty() else int(frame["items"][0])


def _filters(
    city_code: str | None,
    office_code: str | None,
    discipline: str | None,
    inspection_kind: str | None,
    start: date | None,
    end: date | None,
) -> dict[str, ParamValue]:
    """The review's and the failing items' filters as bound parameters ('' or the widest
    months for none)."""
    return {
        "city_code": city_code or "",
        "office_code": office_code or "",
        "discipline": discipline or "",
        "kind": inspection_kind or "",
        "start": start or EARLIEST,
        "end": end or LATEST,
    }
