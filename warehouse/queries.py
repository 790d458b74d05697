"""The typed read API of the dashboards: published marts in, polars DataFrames out.

Each query runs on a cursor of the process's read-only connection to the current published
file (:func:`warehouse.publish.published_cursor`: opened once per version, since opening a
file costs tens of milliseconds). Results are cached per published file (a published file never
changes), so repeated reads of one version cost no I/O. Publishing never waits for readers: it
writes a new file and swaps ``CURRENT``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from warehouse.publish import Warehouse, published_cursor

ParamValue = str | bool | tuple[str, ...]
Params = tuple[tuple[str, ParamValue], ...]

DIM_OFFICE_SCHEMA = pl.Schema(
    {
        "group_code": pl.String,
        "group_name": pl.String,
        "city_code": pl.String,
        "city_name": pl.String,
        "office_code": pl.String,
        "office_name": pl.String,
        "timezone": pl.String,
    }
)

_ORG_OVERVIEW = """
select group_code, group_name, city_code, city_name, office_code, office_name, timezone
from marts.dim_office
where $all_offices or list_contains($offices::varchar[], office_code)
order by city_code, office_code
"""


class WarehouseReader:
    """Reads the warehouse published in ``directory``; safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.warehouse = Warehouse(directory)

    def build_info(self) -> dict[str, Any] | None:
        """version, built_at, as_of (aware UTC datetimes), database_backend; None if unpublished."""
        frame = self._query("select * from marts.build_info", ())
        if frame is None or frame.is_empty():
            return None
        row = frame.row(0, named=True)
        for key in ("built_at", "as_of"):
            row[key] = _as_utc(row[key])
        return row

    def org_overview(self, offices: frozenset[str] | None = None) -> pl.DataFrame:
        """One row per office (the dim_office columns) ordered by city and office code.

        ``offices`` limits the rows to those office codes (an empty set: no rows); None: all.
        """
        params: Params = (
            ("all_offices", offices is None),
            ("offices", tuple(sorted(offices or ()))),
        )
        frame = self._query(_ORG_OVERVIEW, params)
        return pl.DataFrame(schema=DIM_OFFICE_SCHEMA) if frame is None else frame

    def _query(self, sql: str, params: Params) -> pl.DataFrame | None:
        """Run ``sql`` on the current published version; None if nothing is published."""
        while True:
            path = self.warehouse.current_path()
            if path is None:
                return None
            try:
                return _cached_query(path, sql, params)
            except duckdb.IOException:
                if path.exists():
                    raise
                # Pruned between reading CURRENT and opening it: read CURRENT again.


@lru_cache(maxsize=256)
def _cached_query(path: Path, sql: str, params: Params) -> pl.DataFrame:
    values = {name: list(value) if isinstance(value, tuple) else value for name, value in params}
    with published_cursor(path) as cursor:
        frame: pl.DataFrame = cursor.sql(sql, params=values).pl()
    return frame


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)
