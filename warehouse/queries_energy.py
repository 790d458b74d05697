"""The typed read API of the energy dashboards: published energy marts → polars DataFrames.

An :class:`EnergyReader` is bound to the offices its user may see (``warehouse.scope``): a point,
building or office node is shown when its office is in scope, a city company's or the group's
totals only when every one of their offices is (so a city-company user sees the city's total).
Every query is a file of ``warehouse/sql/queries/energy_*.sql`` with bound parameters; results
are cached per published version (a published file never changes) and empty when nothing is
published.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import polars as pl

from warehouse.queries import ParamValue, WarehouseReader

Level = Literal["point", "building", "office", "city", "group"]
Kind = Literal["electricity", "water"]
LEVELS: tuple[Level, ...] = ("group", "city", "office", "building", "point")

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 1)


class EnergyReader(WarehouseReader):
    """Energy queries on the warehouse published in a directory, within the reader's scope."""

    def monthly(
        self,
        level: Level,
        node_code: str,
        kind: Kind,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """month, consumption, complete, estimated (+ children_consumption, loss, loss_pct)."""
        params: dict[str, ParamValue] = {
            "level": level,
            "node": node_code,
            "kind": kind,
            "start": start or FIRST_DAY,
            "end": end or LAST_DAY,
        }
        return self.frame("energy_monthly", params)

    def yearly(self, level: Level, node_code: str, kind: Kind) -> pl.DataFrame:
        """year, consumption, complete (every month of the year with data complete)."""
        monthly = self.monthly(level, node_code, kind)
        if monthly.is_empty():
            return pl.DataFrame(schema={"year": pl.Int32, "consumption": pl.Float64})
        return (
            monthly.group_by(pl.col("month").dt.year().alias("year"))
            .agg(pl.col("consumption").sum(), pl.col("complete").all())
            .sort("year")
        )

    def this_year_vs_last(
        self, level: Level, node_code: str, kind: Kind, year: int
    ) -> pl.DataFrame:
        """month_number (1–12), this_year, last_year: consumption of ``year`` and ``year - 1``."""
        monthly = self.monthly(level, node_code, kind, date(year - 1, 1, 1), date(year, 12, 1))
        months = pl.DataFrame(
            {"month_number": list(range(1, 13))}, schema={"month_number": pl.Int8}
        )
        if monthly.is_empty():
            return months.with_columns(
                pl.lit(None, pl.Float64).alias("this_year"),
                pl.lit(None, pl.Float64).alias("last_year"),
            )
        by = monthly.select(
            pl.col("month").dt.year().alias("year"),
            pl.col("month").dt.month().cast(pl.Int8).alias("month_number"),
            "consumption",
        )
        this = by.filter(pl.col("year") == year).select("month_number", this_year="consumption")
        last = by.filter(pl.col("year") == year - 1).select("month_number", last_year="consumption")
        return months.join(this, on="month_number", how="left").join(
            last, on="month_number", how="left"
        )

    def daily(self, point_code: str, start: date, end: date) -> pl.DataFrame:
        """day, consumption, estimated of one point between ``start`` and ``end`` inclusive."""
        params: dict[str, ParamValue] = {"node": point_code, "kind": "", "start": start, "end": end}
        return self.frame("energy_daily_point", params)

    def daily_node(
        self, level: Level, node_code: str, kind: Kind, start: date, end: date
    ) -> pl.DataFrame:
        """day, consumption, estimated of any node (roll-up rule as in the monthly mart)."""
        params: dict[str, ParamValue] = {
            "level": level,
            "node": node_code,
            "kind": kind,
            "start": start,
            "end": end,
        }
        name = "energy_daily_point" if level == "point" else "energy_daily_node"
        return self.frame(name, params)

    def children(
        self, level: Level, node_code: str | None, kind: Kind, start: date, end: date
    ) -> pl.DataFrame:
        """The drill-down one level below a node (group → city → office → building → point):
        level, node_code, name, consumption and complete over months ``start``..``end``.

        For a group, its city companies wholly in scope; for a city company, its offices in
        scope; for an office, its buildings and its root points outside any building; for a
        building, its points whose parent is not in the same building; for a point, its direct
        sub-meters.
        """
        params: dict[str, ParamValue] = {
            "node": node_code or "",
            "kind": kind,
            "start": start.replace(day=1),
            "end": end,
        }
        return self.frame(f"energy_children_{level}", params)

    def per_m2(self, kind: Kind, start: date, end: date) -> pl.DataFrame:
        """office_code, building, area_m2, consumption, consumption_per_m2 for buildings with area."""
        params: dict[str, ParamValue] = {"kind": kind, "start": start.replace(day=1), "end": end}
        return self.frame("energy_per_m2", params)

    def loss(self, point_code: str) -> pl.DataFrame:
        """month, consumption, children_consumption, loss, loss_pct, complete of a parent point
        (loss null where the parent or a direct child lacks complete data for the month)."""
        return self.frame("energy_loss", {"node": point_code})

    def points(self, kind: Kind) -> pl.DataFrame:
        """The metering points of ``kind`` in scope with their place in the tree: point_code,
        name, kind, office_code, city_code, group_code, timezone, parent_point_code, building,
        building_area_m2, is_root, has_children; ordered by office and point."""
        return self.frame("energy_points", {"kind": kind})

    def exceptions(self, kind: Kind | None = None, limit: int = 500) -> pl.DataFrame:
        """The exceptions to follow up, newest first: point_code, office_code, kind, rule,
        start_at, end_at, start_reading, end_reading, delta, typical_daily, details."""
        return self.frame("energy_exceptions", {"kind": kind or "", "limit": max(0, limit)})

    # ---- the month in progress and the follow-up of exceptions (docs/energy-marts.md)

    def monthly_progress(
        self,
        level: Level,
        node_code: str,
        kind: Kind,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """month, consumption, complete, estimated, in_progress (the month of as_of on the
        office's clock, or a later one: not ended) of a node, by month."""
        params: dict[str, ParamValue] = {
            "level": level,
            "node": node_code,
            "kind": kind,
            "start": start or FIRST_DAY,
            "end": end or LAST_DAY,
        }
        return self.frame("energy_monthly_progress", params)

    def node_exceptions(
        self, level: Level, node_code: str, kind: Kind, limit: int = 500
    ) -> pl.DataFrame:
        """The exceptions of the points in scope under a node (the group: every point in
        scope), those to follow up first, then the newest: point_code, name, office_code,
        timezone, rule, start_at, end_at, start_reading, end_reading, delta, typical_daily,
        held_reason, followed_up_at, followed_up_by, follow_up_note, done; at most ``limit``
        rows, each carrying ``total`` and ``open_total`` (not done) of all of them, however
        many are shown. An exception's key is (point_code, rule, start_at)."""
        params: dict[str, ParamValue] = {
            "level": level,
            "node": node_code,
            "kind": kind,
            "limit": max(0, limit),
        }
        return self.frame("energy_node_exceptions", params)
