"""The typed read API of the energy dashboards: published energy marts → polars DataFrames.

Every function is scoped by a set of office codes (``None``: all offices; an empty set: no
rows), runs parameterised SQL on the current published file and returns an empty frame when
nothing is published. Each published version is opened read-only once per process
(:func:`warehouse.publish.published_cursor`; every query runs on its own cursor) and results
are cached per version (a published file never changes).
City and group nodes are visible only to a reader scoped to all offices (``None``).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from warehouse.publish import published_cursor
from warehouse.queries import Params, WarehouseReader

Level = Literal["point", "building", "office", "city", "group"]
Kind = Literal["electricity", "water"]
LEVELS: tuple[Level, ...] = ("group", "city", "office", "building", "point")

_SCOPE = "($all_offices or list_contains($offices::varchar[], {col}))"


def _scope(offices: frozenset[str] | None) -> Params:
    return (("all_offices", offices is None), ("offices", tuple(sorted(offices or ()))))


class EnergyReader:
    """Energy queries on the warehouse published in a directory (wraps a WarehouseReader)."""

    def __init__(self, reader: WarehouseReader) -> None:
        self.reader = reader

    def _frame(self, sql: str, params: Params) -> pl.DataFrame:
        used = tuple((name, value) for name, value in params if f"${name}" in sql)
        while True:
            path = self.reader.warehouse.current_path()
            if path is None:
                return pl.DataFrame()
            try:
                return cached_query(path, sql, used)
            except duckdb.IOException:
                if path.exists():
                    raise
                # Pruned between reading CURRENT and opening it: read CURRENT again.

    def monthly(
        self,
        level: Level,
        node_code: str,
        kind: Kind,
        offices: frozenset[str] | None,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """month, consumption, complete, estimated (+ children_consumption, loss, loss_pct)."""
        sql = f"""
            select month, consumption, children_consumption, loss, loss_pct, complete, estimated
            from marts.energy_monthly
            where level = $level and node_code = $node and kind = $kind
              and month >= $start and month <= $end
              and (case when level in ('city', 'group') then $all_offices
                        else {_SCOPE.format(col="office_code")} end)
            order by month
        """
        return self._frame(
            sql,
            (
                ("level", level),
                ("node", node_code),
                ("kind", kind),
                ("start", (start or date(1900, 1, 1)).isoformat()),
                ("end", (end or date(9999, 12, 1)).isoformat()),
                *_scope(offices),
            ),
        )

    def yearly(
        self, level: Level, node_code: str, kind: Kind, offices: frozenset[str] | None
    ) -> pl.DataFrame:
        """year, consumption, complete (every month of the year with data complete)."""
        monthly = self.monthly(level, node_code, kind, offices)
        if monthly.is_empty():
            return pl.DataFrame(schema={"year": pl.Int32, "consumption": pl.Float64})
        return (
            monthly.group_by(pl.col("month").dt.year().alias("year"))
            .agg(pl.col("consumption").sum(), pl.col("complete").all())
            .sort("year")
        )

    def this_year_vs_last(
        self, level: Level, node_code: str, kind: Kind, year: int, offices: frozenset[str] | None
    ) -> pl.DataFrame:
        """month_number (1–12), this_year, last_year: consumption of ``year`` and ``year - 1``."""
        monthly = self.monthly(
            level, node_code, kind, offices, date(year - 1, 1, 1), date(year, 12, 1)
        )
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

    def daily(
        self,
        point_code: str,
        offices: frozenset[str] | None,
        start: date,
        end: date,
    ) -> pl.DataFrame:
        """day, consumption, estimated of one point between ``start`` and ``end`` inclusive."""
        sql = f"""
            select day, consumption, estimated from marts.energy_daily
            where point_code = $point and day between $start and $end
              and {_SCOPE.format(col="office_code")}
            order by day
        """
        return self._frame(
            sql,
            (
                ("point", point_code),
                ("start", start.isoformat()),
                ("end", end.isoformat()),
                *_scope(offices),
            ),
        )

    def daily_node(
        self,
        level: Level,
        node_code: str,
        kind: Kind,
        offices: frozenset[str] | None,
        start: date,
        end: date,
    ) -> pl.DataFrame:
        """day, consumption, estimated of any node (roll-up rule as in the monthly mart)."""
        if level == "point":
            sql = f"""
                select day, consumption, estimated from marts.energy_daily
                where point_code = $node and kind = $kind and day between $start and $end
                  and {_SCOPE.format(col="office_code")}
                order by day
            """
        else:  # pre-aggregated by the build (marts.energy_daily_node)
            scope = (
                "$all_offices" if level in ("city", "group") else _SCOPE.format(col="office_code")
            )
            sql = f"""
                select day, consumption, estimated from marts.energy_daily_node
                where level = $level and node_code = $node and kind = $kind
                  and day between $start and $end and {scope}
                order by day
            """
        return self._frame(
            sql,
            (
                ("level", level),
                ("node", node_code),
                ("kind", kind),
                ("start", start.isoformat()),
                ("end", end.isoformat()),
                *_scope(offices),
            ),
        )

    def children(
        self,
        level: Level,
        node_code: str | None,
        kind: Kind,
        offices: frozenset[str] | None,
        start: date,
        end: date,
    ) -> pl.DataFrame:
        """The drill-down one level below a node (group → city → office → building → point):
        level, node_code, name, consumption over months ``start``..``end``.

        For an office, the children are its buildings and its root points outside any building;
        for a building, its points whose parent is not in the same building; for a point, its
        direct sub-meters.
        """
        child_sql = {
            "group": """select distinct 'city' as level, city_code as node_code,
                            city_code as name from marts.dim_energy_point
                        where group_code = $node and $all_offices""",
            "city": """select distinct 'office', office_code, office_code
                       from marts.dim_energy_point
                       where city_code = $node and {scope}""",
            "office": """select distinct 'building', office_code || '/' || building, building
                         from marts.dim_energy_point
                         where office_code = $node and building is not null and {scope}
                         union all
                         select 'point', point_code, name from marts.dim_energy_point
                         where office_code = $node and is_root and building is null
                           and {scope}""",
            "building": """select 'point', point_code, name from marts.dim_energy_point
                           where office_code || '/' || building = $node
                             and (parent_building is null or parent_building <> building)
                             and {scope}""",
            "point": """select 'point', c.point_code, c.name from marts.dim_energy_point c
                        join marts.dim_energy_point p on c.parent_point_id = p.point_id
                        where p.point_code = $node and {scope_c}""",
        }[level].format(
            scope=_SCOPE.format(col="office_code"), scope_c=_SCOPE.format(col="c.office_code")
        )
        sql = f"""
            with kids(level, node_code, name) as ({child_sql})
            select k.level, k.node_code, any_value(k.name) as name,
                   sum(m.consumption) as consumption, bool_and(m.complete) as complete
            from kids k left join marts.energy_monthly m
              on m.level = k.level and m.node_code = k.node_code and m.kind = $kind
             and m.month between $start and $end
            group by k.level, k.node_code
            order by k.level, k.node_code
        """
        return self._frame(
            sql,
            (
                ("node", node_code or ""),
                ("kind", kind),
                ("start", start.replace(day=1).isoformat()),
                ("end", end.isoformat()),
                *_scope(offices),
            ),
        )

    def per_m2(
        self, kind: Kind, offices: frozenset[str] | None, start: date, end: date
    ) -> pl.DataFrame:
        """office_code, building, area_m2, consumption, consumption_per_m2 for buildings with area."""
        sql = f"""
            with b as (
                select distinct office_code, building, building_area_m2 as area_m2
                from marts.dim_energy_point
                where building is not null and building_area_m2 > 0
                  and {_SCOPE.format(col="office_code")}
            )
            select b.office_code, b.building, b.area_m2, sum(m.consumption) as consumption,
                   sum(m.consumption) / b.area_m2 as consumption_per_m2
            from b join marts.energy_monthly m
              on m.level = 'building' and m.node_code = b.office_code || '/' || b.building
             and m.kind = $kind and m.month between $start and $end
            group by b.office_code, b.building, b.area_m2 order by b.office_code, b.building
        """
        return self._frame(
            sql,
            (
                ("kind", kind),
                ("start", start.replace(day=1).isoformat()),
                ("end", end.isoformat()),
                *_scope(offices),
            ),
        )

    def loss(self, point_code: str, offices: frozenset[str] | None) -> pl.DataFrame:
        """month, consumption, children_consumption, loss, loss_pct, complete of a parent point
        (loss null where the parent or a direct child lacks complete data for the month)."""
        sql = f"""
            select month, consumption, children_consumption, loss, loss_pct, complete
            from marts.energy_monthly
            where level = 'point' and node_code = $point and children_consumption is not null
              and {_SCOPE.format(col="office_code")}
            order by month
        """
        return self._frame(sql, (("point", point_code), *_scope(offices)))

    def points(self, kind: Kind, offices: frozenset[str] | None) -> pl.DataFrame:
        """The metering points of ``kind`` in scope with their place in the tree: point_code,
        name, kind, office_code, city_code, group_code, timezone, parent_point_code, building,
        building_area_m2, is_root, has_children; ordered by office and point."""
        sql = f"""
            select point_code, name, kind, office_code, city_code, group_code, timezone,
                   parent_point_code, building, building_area_m2, is_root, has_children
            from marts.dim_energy_point
            where kind = $kind and {_SCOPE.format(col="office_code")}
            order by office_code, point_code
        """
        return self._frame(sql, (("kind", kind), *_scope(offices)))

    def exceptions(
        self, offices: frozenset[str] | None, kind: Kind | None = None, limit: int = 500
    ) -> pl.DataFrame:
        """The exceptions to follow up, newest first: point_code, office_code, kind, rule,
        start_at, end_at, start_reading, end_reading, delta, typical_daily, details."""
        sql = f"""
            select point_code, office_code, kind, rule, start_at, end_at, start_reading,
                   end_reading, delta, typical_daily, details
            from marts.energy_exceptions
            where ($all_kinds or kind = $kind) and {_SCOPE.format(col="office_code")}
            order by end_at desc, point_code
            limit {int(limit)}
        """
        return self._frame(
            sql, (("all_kinds", kind is None), ("kind", kind or ""), *_scope(offices))
        )

    # ---- added for the month in progress and the follow-up of exceptions (docs/energy-marts.md)

    def monthly_progress(
        self,
        level: Level,
        node_code: str,
        kind: Kind,
        offices: frozenset[str] | None,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """month, consumption, complete, estimated, in_progress (the month of as_of on the
        office's clock, or a later one: not ended) of a node, by month."""
        sql = f"""
            select month, consumption, complete, estimated, in_progress
            from marts.energy_monthly
            where level = $level and node_code = $node and kind = $kind
              and month >= $start and month <= $end
              and (case when level in ('city', 'group') then $all_offices
                        else {_SCOPE.format(col="office_code")} end)
            order by month
        """
        return self._frame(
            sql,
            (
                ("level", level),
                ("node", node_code),
                ("kind", kind),
                ("start", (start or date(1900, 1, 1)).isoformat()),
                ("end", (end or date(9999, 12, 1)).isoformat()),
                *_scope(offices),
            ),
        )

    def node_exceptions(
        self,
        level: Level,
        node_code: str,
        kind: Kind,
        offices: frozenset[str] | None,
        limit: int = 500,
    ) -> pl.DataFrame:
        """The exceptions of the points under a node (the group: every point in scope), those to
        follow up first, then the newest: point_code, name, office_code, timezone, rule,
        start_at, end_at, start_reading, end_reading, delta, typical_daily, held_reason,
        followed_up_at, followed_up_by, follow_up_note, done; at most ``limit`` rows, each
        carrying ``total`` and ``open_total`` (not done) of all of them, however many are shown.
        An exception's key is (point_code, rule, start_at)."""
        sql = f"""
            with under as (
                select point_id, name, timezone from marts.dim_energy_point
                where kind = $kind and {_SCOPE.format(col="office_code")}
                  and case $level
                      when 'group' then group_code = $node
                      when 'city' then city_code = $node
                      when 'office' then office_code = $node
                      when 'building' then office_code || '/' || building = $node
                      else point_code = $node end
            )
            select e.point_code, u.name, e.office_code, u.timezone, e.rule, e.start_at,
                   e.end_at, e.start_reading, e.end_reading, e.delta, e.typical_daily,
                   e.held_reason, e.followed_up_at, e.followed_up_by, e.follow_up_note, e.done,
                   count(*) over () as total,
                   count(*) filter (where not e.done) over () as open_total
            from marts.energy_exceptions e join under u using (point_id)
            order by e.done, coalesce(e.end_at, e.start_at) desc, e.point_code, e.rule
            limit $limit
        """
        return self._frame(
            sql,
            (
                ("level", level),
                ("node", node_code),
                ("kind", kind),
                ("limit", str(int(limit))),
                *_scope(offices),
            ),
        )


@lru_cache(maxsize=256)
def cached_query(path: Path, sql: str, params: Params) -> pl.DataFrame:
    """``sql`` on the published file ``path`` (a cursor of its per-process connection), cached."""
    values = {name: list(value) if isinstance(value, tuple) else value for name, value in params}
    with published_cursor(path) as cursor:
        frame: pl.DataFrame = cursor.sql(sql, params=values).pl()
    return frame
