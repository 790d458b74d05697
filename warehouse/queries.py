"""The typed read API of the dashboards: published marts in, polars DataFrames out.

Every reader is bound to an :class:`~warehouse.scope.OfficeScope` when it is made, and every
query it runs is a file of ``warehouse/sql/queries/`` that keeps to that scope through the
macros ``in_scope``, ``city_in_scope`` and ``group_in_scope`` (``scope.sql``, set up on the
query's cursor with the scope as bound values). A query file that uses none of them must say
why in a ``-- scope: none`` header (build metadata); :func:`query_text` refuses any other, so
no query can forget its scope (docs/warehouse.md, "Scope").

Each query runs on a cursor of the process's read-only connection to the current published
file (:func:`warehouse.publish.published_cursor`: opened once per version, since opening a
file costs tens of milliseconds). Results are cached per published file, query, parameters
and scope (a published file never changes), so repeated reads of one version cost no I/O.
Publishing never waits for readers: it writes a new file and swaps ``CURRENT``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from warehouse.models import macro_statements, macros_named
from warehouse.publish import Warehouse, published_cursor
from warehouse.scope import OfficeScope

QUERIES_DIR = Path(__file__).parent / "sql" / "queries"
SCOPE_FILE = "scope"
UNSCOPED = "-- scope: none"
SCOPE_MACROS = ("in_scope(", "city_in_scope(", "group_in_scope(")
SUPPLIER_MACRO = "supplier_in_scope("

ParamValue = str | bool | int | float | date | tuple[str, ...]
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
NODES_SCHEMA = pl.Schema({"level": pl.String, "code": pl.String, "name": pl.String})


class UnscopedQuery(ValueError):
    """A query file that neither applies the scope nor says it needs none."""


def query_names() -> list[str]:
    """Every query file's name (without ``.sql``), the scope's own file left out."""
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql") if p.stem != SCOPE_FILE)


@cache
def query_text(name: str) -> str:
    """The SQL of ``warehouse/sql/queries/<name>.sql``; refused if it does not keep to the
    reader's scope and does not declare ``-- scope: none``."""
    text = (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
    if not any(macro in text for macro in SCOPE_MACROS) and UNSCOPED not in text:
        raise UnscopedQuery(f"{name}.sql applies no scope (in_scope, city_in_scope, …)")
    return text


@cache
def _scope_statements() -> tuple[str, ...]:
    text = re.sub(r"--[^\n]*", "", (QUERIES_DIR / f"{SCOPE_FILE}.sql").read_text("utf-8"))
    return tuple(s.strip() for s in text.split(";") if s.strip())


def _names(sql: str, values: Mapping[str, Any]) -> list[str]:
    """The names of ``values`` that ``sql`` uses as ``$name`` (DuckDB refuses a named value
    the statement does not use)."""
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
    return [name for name in values if name in used]


def _bound(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in _names(sql, values)}


@lru_cache(maxsize=512)
def _cached_query(
    path: Path, name: str, params: Params, scope: tuple[bool, tuple[str, ...], str | None]
) -> pl.DataFrame:
    sql = query_text(name)
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in params}
    every, offices, supplier = scope
    if supplier is not None and SUPPLIER_MACRO not in sql:
        every, offices = False, ()  # a supplier's reader sees no office in other queries
    scope_values = {
        "scope_all": every,
        "scope_offices": list(offices),
        "scope_supplier": supplier,
    }
    with published_cursor(path) as cursor:
        for statement in _scope_statements():
            cursor.execute(statement, _bound(statement, scope_values))
        for statement in macro_statements(macros_named(sql)):
            cursor.execute(statement)
        frame: pl.DataFrame = cursor.sql(sql, params=_bound(sql, values)).pl()
    return frame


class WarehouseReader:
    """Reads the warehouse published in ``directory`` within ``scope``; safe to share between
    threads. The subclasses add the queries of an area (``SlaReader``, ``EnergyReader``)."""

    def __init__(self, directory: Path, scope: OfficeScope) -> None:
        self.warehouse = Warehouse(directory)
        self.scope = scope

    def build_info(self) -> dict[str, Any] | None:
        """version, built_at, as_of (aware UTC datetimes), database_backend; None if unpublished."""
        frame = self.frame("build_info")
        if frame.is_empty():
            return None
        row = frame.row(0, named=True)
        for key in ("built_at", "as_of"):
            row[key] = _as_utc(row[key])
        return row

    def org_overview(self) -> pl.DataFrame:
        """One row per office in scope (the dim_office columns), by city and office code."""
        return self.frame("org_overview", schema=DIM_OFFICE_SCHEMA)

    def visible_totals(self) -> pl.DataFrame:
        """level ('group' or 'city'), code, name: the totals above an office the reader may see —
        a city company's when all its offices are in scope, the group's when every office is."""
        return self.frame("org_nodes", schema=NODES_SCHEMA)

    def frame(
        self,
        name: str,
        params: Mapping[str, ParamValue] | None = None,
        schema: pl.Schema | None = None,
    ) -> pl.DataFrame:
        """The query ``warehouse/sql/queries/<name>.sql`` with ``params`` bound, within the
        reader's scope, on the current published version; cast to ``schema`` if given. Empty
        (with ``schema``'s columns) when nothing is published yet."""
        sql = query_text(name)
        given = params or {}
        used: Params = tuple(sorted((k, given[k]) for k in _names(sql, given)))
        while True:
            path = self.warehouse.current_path()
            if path is None:
                return pl.DataFrame(schema=schema)
            try:
                frame = _cached_query(path, name, used, self.scope.key)
            except duckdb.IOException:
                if path.exists():
                    raise
                continue  # pruned between reading CURRENT and opening it: read CURRENT again
            return frame if schema is None or frame.schema == schema else frame.cast(schema)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)
