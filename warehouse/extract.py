"""Operational tables → the DuckDB ``raw`` schema, through Arrow (ADBC), by table name.

The warehouse reads the operational store by *table name* and imports none of its code. A
table is copied whole (:func:`extract_table`) or, when it only ever grows, incrementally by a
monotonically increasing key (:func:`extract_incremental`). Columns arrive as the driver types
them: SQLite hands over date-times as text and booleans as integers, so staging models cast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import adbc_driver_postgresql.dbapi
import adbc_driver_sqlite.dbapi
import duckdb
import pyarrow as pa

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_POSTGRES_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://")
_SQLITE_URL = re.compile(r"sqlite(?:\+\w+)?:///")
_SQLITE_CHUNK_ROWS = 500_000
_ROWID = "_propcloud_rowid"
# Declared SQLite column type (first word, as SQLAlchemy writes it) → the Arrow type of its raw
# column: what the driver infers when it sees every value (booleans stay integers, instants
# text: staging models cast). NUMERIC values are stored as INTEGER or REAL by SQLite's affinity.
_SQLITE_TYPES: dict[str, pa.DataType] = {
    "INTEGER": pa.int64(),
    "BIGINT": pa.int64(),
    "SMALLINT": pa.int64(),
    "BOOLEAN": pa.int64(),
    "NUMERIC": pa.float64(),
    "DECIMAL": pa.float64(),
    "FLOAT": pa.float64(),
    "REAL": pa.float64(),
    "DOUBLE": pa.float64(),
}


@dataclass(frozen=True)
class Source:
    """An operational table the warehouse copies into ``raw.<table>``.

    ``key_column`` set: the table only grows and is extracted incrementally by that key;
    otherwise it is copied whole on every build.
    """

    table: str
    key_column: str | None = None


# What every build extracts. Never add tables holding secrets (auth_user keeps password hashes).
SOURCES: tuple[Source, ...] = (
    Source("org_group"),
    Source("org_city_company"),
    Source("org_office"),
    # Office working calendars (docs/sla-clocks.md): hours per weekday and day overrides.
    Source("org_calendar_interval"),
    Source("org_calendar_day"),
    # Maintenance and SLA (issue 4, see docs/sla-marts.md): events only grow; the rest change.
    *(Source(t) for t in ("maint_object_type", "maint_object", "maint_periodic_plan")),
    *(Source(t) for t in ("maint_plan_object", "maint_periodic_order", "maint_corrective_order")),
    Source("workflow_event", key_column="id"),
    Source("workflow_clock"),
    Source("workflow_clock_pause"),  # a pause's resume is written later: copied whole
    # Energy (issue 3, see docs/energy-marts.md): readings only grow (corrections supersede).
    *(Source(t) for t in ("energy_building", "energy_point", "energy_meter")),
    Source("energy_reading", key_column="id"),
)


def database_backend(url: str) -> str:
    """``sqlite`` or ``postgresql`` for a SQLAlchemy-style database URL."""
    if _SQLITE_URL.match(url):
        return "sqlite"
    if _POSTGRES_URL.match(url):
        return "postgresql"
    raise ValueError(f"unsupported database URL (expected sqlite:/// or postgresql://): {url}")


def extract_table(url: str, con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Copy the whole of ``table`` into ``raw.<table>``, replacing it; return the row count."""
    with _fetch(url, table) as batches:
        _ensure_raw_schema(con)
        con.register("_extracted", batches)
        try:
            con.execute(f"CREATE OR REPLACE TABLE raw.{_name(table)} AS SELECT * FROM _extracted")
        finally:
            con.unregister("_extracted")
    return _count(con, table)


def extract_incremental(
    url: str, con: duckdb.DuckDBPyConnection, table: str, key_column: str
) -> int:
    """Append the rows of ``table`` whose ``key_column`` exceeds the largest already in raw.

    The first time (no ``raw.<table>`` yet, or an empty one) the table is copied whole. Returns
    the number of rows appended. The key must only ever grow: a row committed later with a
    smaller key is never picked up.
    """
    key = _name(key_column)
    watermark = None
    if _raw_table_exists(con, table):
        watermark = con.sql(f"SELECT max({key}) FROM raw.{_name(table)}").fetchall()[0][0]
    if watermark is None:
        return extract_table(url, con, table)
    before = _count(con, table)
    with _fetch(url, table, after=(key, watermark)) as batches:
        con.register("_extracted", batches)
        try:
            con.execute(f"INSERT INTO raw.{_name(table)} BY NAME SELECT * FROM _extracted")
        finally:
            con.unregister("_extracted")
    return _count(con, table) - before


@contextmanager
def _fetch(url: str, table: str, after: tuple[str, Any] | None = None) -> Iterator[object]:
    """Stream ``SELECT * FROM table [WHERE key > value]`` as an Arrow record batch reader."""
    sql = f"SELECT * FROM {_name(table)}"
    if database_backend(url) == "postgresql":
        where, params = ("", ()) if after is None else (f" WHERE {after[0]} > $1", (after[1],))
        uri = _POSTGRES_URL.sub("postgresql://", url, count=1)
        with adbc_driver_postgresql.dbapi.connect(uri) as conn, conn.cursor() as cur:
            cur.execute(sql + where, parameters=params)
            yield cur.fetch_record_batch()
        return
    # Read-only: the driver bundles its own SQLite library, and a read-write connection of it
    # closing in a process that also has the operational database open through Python's
    # sqlite3 (SQLAlchemy) deletes the WAL under that connection's feet, hiding its later commits.
    uri = f"file:{quote(_SQLITE_URL.sub('', url, count=1))}?mode=ro"
    with adbc_driver_sqlite.dbapi.connect(uri) as conn:
        yield _sqlite_chunks(conn, _name(table), after)


def _sqlite_schema(conn: Any, table: str) -> pa.Schema:
    """The Arrow schema of ``table`` from its declared SQLite column types (see
    :data:`_SQLITE_TYPES`); every column nullable, as the driver reports them."""
    with conn.cursor() as cur:
        cur.execute(f"PRAGMA table_info({table})")
        columns = cur.fetchall()
    if not columns:
        raise ValueError(f"no such table in the operational database: {table}")
    return pa.schema([(name, _sqlite_type(declared)) for _, name, declared, *_ in columns])


def _sqlite_type(declared: str) -> pa.DataType:
    word = re.split(r"[\s(]", declared.strip().upper(), maxsplit=1)[0]
    return _SQLITE_TYPES.get(word, pa.string())


def _sqlite_chunks(conn: Any, table: str, after: tuple[str, Any] | None) -> pa.RecordBatchReader:
    """``SELECT * FROM table [WHERE key > value]`` in rowid order, :data:`_SQLITE_CHUNK_ROWS`
    rows per query, each chunk cast to the table's declared types.

    The driver types each column from the values of the batch it reads — a column NULL in one
    batch and text in the next fails — so each chunk is a query of its own (keyset on rowid) read
    as one batch and cast to the declared schema: memory stays at one chunk however large the
    table. All chunks are read in one transaction of the read-only connection, so they see one
    snapshot of the database, as a single query would.
    """
    schema = _sqlite_schema(conn, table)
    condition = "" if after is None else f" AND {_name(after[0])} > ?"
    extra: tuple[Any, ...] = () if after is None else (after[1],)
    sql = (
        f"SELECT rowid AS {_ROWID}, * FROM {table} WHERE rowid > ?{condition}"
        f" ORDER BY rowid LIMIT {_SQLITE_CHUNK_ROWS}"
    )

    def chunks() -> Iterator[pa.RecordBatch]:
        last_rowid = -(2**63)
        with conn.cursor() as cur:
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(_SQLITE_CHUNK_ROWS)}
            )
            while True:
                cur.execute(sql, parameters=(last_rowid, *extra))
                chunk = cur.fetch_arrow_table()
                if chunk.num_rows == 0:
                    return
                last_rowid = chunk.column(_ROWID)[-1].as_py()
                chunk = chunk.drop_columns([_ROWID])
                yield from chunk.cast(schema).to_batches()
                if chunk.num_rows < _SQLITE_CHUNK_ROWS:
                    return

    return pa.RecordBatchReader.from_batches(schema, chunks())


def _ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")


def _raw_table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = con.sql(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = $t",
        params={"t": table},
    ).fetchall()
    return bool(rows)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM raw.{_name(table)}").fetchall()[0][0])


def _name(identifier: str) -> str:
    """A table or column name, refused unless it is a plain lower-case identifier."""
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain identifier: {identifier!r}")
    return identifier
