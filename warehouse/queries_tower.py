"""The typed read API of the control tower (运营驾驶舱): ``marts.control_tower`` in, polars out.

The mart holds one row per indicator of every office, city company and group (and per metering
point whose loss is past its threshold), already judged against its thresholds; contract in
``docs/control-tower.md``. A :class:`TowerReader` is bound to the offices its user may see
(``warehouse.scope``): office and point rows of the offices in scope, a city company's totals
when all its offices are in scope, the group's when every office is. Every query is a file of
``warehouse/sql/queries/tower_*.sql``.

Every method returns rows of :data:`TOWER_SCHEMA` (the mart's columns plus the names of the
node, its city company and its office), so a page can pivot them by ``indicator`` whatever
indicators the mart holds: a new indicator is new rows, not a new query.
"""

from __future__ import annotations

import polars as pl

from warehouse.queries import ParamValue, WarehouseReader

TOWER_SCHEMA = pl.Schema(
    {
        "level": pl.String,
        "node_code": pl.String,
        "name": pl.String,
        "group_code": pl.String,
        "city_code": pl.String,
        "city_name": pl.String,
        "office_code": pl.String,
        "office_name": pl.String,
        "indicator": pl.String,
        "detail": pl.String,
        "period_kind": pl.String,
        "period": pl.Date,
        "period_end": pl.Date,
        "in_progress": pl.Boolean,
        "value": pl.Float64,
        "previous_period": pl.Date,
        "previous_value": pl.Float64,
        "unit": pl.String,
        "basis": pl.Int64,
        "direction": pl.String,
        "threshold": pl.Float64,
        "alert_threshold": pl.Float64,
        "status": pl.String,
        "severity": pl.Int32,
        "score": pl.Float64,
    }
)


class TowerReader(WarehouseReader):
    """The control tower's indicators within the reader's scope."""

    def totals(self) -> pl.DataFrame:
        """The group's and the city companies' rows the reader may see (a total only when all
        its offices are in scope): group first, then cities by code."""
        return self.frame("tower_totals", schema=TOWER_SCHEMA)

    def offices(
        self,
        *,
        city_code: str | None = None,
        office_code: str | None = None,
        points: bool = False,
    ) -> pl.DataFrame:
        """The rows of the offices in scope — of one city company or one office if given —
        and with ``points`` their metering points' rows too (losses past the threshold)."""
        params: dict[str, ParamValue] = {
            "city_code": city_code or "",
            "office_code": office_code or "",
            "points": points,
        }
        return self.frame("tower_offices", params, TOWER_SCHEMA)

    def attention(
        self, *, city_code: str | None = None, limit: int = 25, offset: int = 0
    ) -> pl.DataFrame:
        """What needs attention: the office and point rows in scope whose status is ``alert``
        or ``watch``, alerts first, then by how far past their threshold (``score``); one page
        of ``limit`` rows from row ``offset`` (see :meth:`attention_count`)."""
        params: dict[str, ParamValue] = {
            "city_code": city_code or "",
            "limit": max(0, limit),
            "offset": max(0, offset),
        }
        return self.frame("tower_attention", params, TOWER_SCHEMA)

    def attention_count(self, *, city_code: str | None = None) -> int:
        """How many lines :meth:`attention` pages through."""
        frame = self.frame("tower_attention_count", {"city_code": city_code or ""})
        return 0 if frame.is_empty() else int(frame["lines"][0])
