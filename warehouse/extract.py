"""Operational tables → the DuckDB ``raw`` schema, through Arrow (ADBC), by table name.

The warehouse reads the operational store by *table name* and imports none of its code. A
table is copied whole (:func:`extract_table`); when it only ever grows, incrementally by a
monotonically increasing key (:func:`extract_incremental`, with a look-back for keys committed
late); when its rows belong to workflow documents, by the documents that have new events
(:func:`extract_documents`: every change to an order, clock or pause is written in the same
transaction as a ``workflow_event`` row). :func:`extract_source` picks the way a
:class:`Source` says. Columns arrive as the driver types them: SQLite hands over date-times as
text and booleans as integers, so staging models cast.

Bookkeeping (schema ``extract_log``, not part of the contract — not ``extract``, which a file
named ``extract.duckdb`` would make ambiguous): ``extract_log.loads`` lists every load of a table
(full copy, or the keys appended), ``extract_log.consumers`` how far each reader of the events
(the document tables; ``marts.sla_clocks`` keeps its own place) has followed them — see
:func:`changes_since`.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import adbc_driver_postgresql.dbapi
import adbc_driver_sqlite.dbapi
import duckdb
import pyarrow as pa

from warehouse import once, versions

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_POSTGRES_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://")
_SQLITE_URL = re.compile(r"sqlite(?:\+\w+)?:///")
_SQLITE_CHUNK_ROWS = 500_000
_ROWID = "_propcloud_rowid"
# Declared SQLite column type (first word, as SQLAlchemy writes it) → the Arrow type of its raw
# column: what the driver infers when it sees every value (booleans stay integers), except that
# instants — stored as text — are parsed into timestamps here, on the reading thread, as the
# PostgreSQL driver hands them over: every later scan of a raw instant (39 M workflow events are
# read several times by the SLA build) then costs no parsing, and DuckDB stores 8-byte integers
# instead of 26-character strings (extracting 22 M readings: ≈ 5 CPU-s less). NUMERIC values are
# stored as INTEGER or REAL by SQLite's affinity. Calendar dates likewise become DATE, as
# PostgreSQL's are: a model's filter on a date then reaches the raw scan (the staging casts are
# no-ops) instead of casting every row of the table first (2.1 M inspection orders: ≈ 0.1 s of
# each quality mart's refresh).
_SQLITE_TYPES: dict[str, pa.DataType] = {
    "DATETIME": pa.timestamp("us"),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
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


EVENTS = "workflow_event"
"""The append-only log of every document's moves: the change feed of the document tables."""
LOOKBACK_KEYS = 100_000
"""How far below the watermark a refresh looks for event ids committed late (see
:func:`extract_incremental`)."""
_IN_CHUNK = 10_000  # document ids per extraction query
_FULL_COPY_FRACTION = 0.2  # more touched documents than this share of the rows: copy whole
_MAX_GAP_RANGES = 200  # more gaps than this below the watermark: re-read the whole window
_KEEP_LOADS = 200  # loads remembered per table (a reader further behind starts over)


@dataclass(frozen=True)
class Documents:
    """How a table's rows belong to workflow documents (the ``document_type``/``document_id`` of
    their events), so that :func:`extract_documents` can re-extract the rows of some documents.

    * ``type_column`` set: each row names its document (``workflow_clock``);
    * ``document_type`` set instead: the table holds documents of that type (or of those types:
      ids are the table's own, unique across them), ``id_column`` being their id
      (``maint_corrective_order``: ``id``; ``supplier_nonconformity``: three types);
    * ``parent`` set: ``id_column`` refers to the ``id`` of rows of ``parent_table``, which
      belong to documents as ``parent`` says (``workflow_clock_pause.clock_id``).

    ``without_events``: a SQL condition (on the operational table, written here, never from
    input) selecting the rows that may change without an event of their document — re-read on
    every refresh besides the documents with new events (the nonconformities of the go-live
    history import: never moved by the engine, so no events, version 1).
    """

    id_column: str = "document_id"
    type_column: str | None = "document_type"
    document_type: str | tuple[str, ...] | None = None
    parent_table: str | None = None
    parent: Documents | None = None
    without_events: str | None = None

    @property
    def document_types(self) -> tuple[str, ...]:
        """The document types of the table's rows (empty: named by ``type_column``)."""
        if self.document_type is None:
            return ()
        if isinstance(self.document_type, str):
            return (self.document_type,)
        return self.document_type

    def condition(self, documents: dict[str, list[int]]) -> str | None:
        """A SQL condition selecting the rows of ``documents`` (type → ids) in the operational
        table, or None if none of them can be in this table."""
        column = _name(self.id_column)
        if self.parent is not None and self.parent_table is not None:
            inner = self.parent.condition(documents)
            if inner is None:
                return None
            return f"{column} IN (SELECT id FROM {_name(self.parent_table)} WHERE {inner})"
        if self.document_types:
            ids = sorted(i for kind in self.document_types for i in documents.get(kind, ()))
            return f"{column} IN ({_ints(ids)})" if ids else None
        assert self.type_column is not None
        parts = [
            f"({_name(self.type_column)} = '{_name(kind)}' AND {column} IN ({_ints(ids)}))"
            for kind, ids in sorted(documents.items())
            if ids
        ]
        return " OR ".join(parts) if parts else None

    def ids_in_raw(self, table: str, touched: str, select: str = "id") -> str:
        """A SELECT of the ids (or of the column ``select``: ``rowid``, say) of the rows of
        ``raw.<table>`` that belong to the documents of the relation ``touched``
        (``document_type``, ``document_id``): joins, not inlined lists, so a refresh's
        thousands of documents cost one scan of each table."""
        column = _name(self.id_column)
        selected = _name(select)
        if self.parent is not None and self.parent_table is not None:
            parents = self.parent.ids_in_raw(self.parent_table, touched)
            return f"SELECT {selected} FROM raw.{_name(table)} WHERE {column} IN ({parents})"
        if self.document_types:
            kinds = ", ".join(f"'{_name(kind)}'" for kind in self.document_types)
            return (
                f"SELECT {selected} FROM raw.{_name(table)} WHERE {column} IN (SELECT"
                f" document_id FROM {touched} WHERE document_type IN ({kinds}))"
            )
        assert self.type_column is not None
        return (
            f"SELECT r.{selected} FROM raw.{_name(table)} r SEMI JOIN {touched} d"
            f" ON r.{_name(self.type_column)} = d.document_type AND r.{column} = d.document_id"
        )

    def holds(self, document_type: str) -> bool:
        if self.parent is not None:
            return self.parent.holds(document_type)
        return not self.document_types or document_type in self.document_types


@dataclass(frozen=True)
class Source:
    """An operational table the warehouse copies into ``raw.<table>``.

    ``key_column`` set: the table only grows and is extracted incrementally by that key, looking
    ``lookback`` keys below the watermark for rows committed late. ``documents`` set: the rows
    belong to workflow documents and only those of documents with new events are re-extracted.
    Otherwise it is copied whole on every build. ``left_out`` columns are not read at all.
    """

    table: str
    key_column: str | None = None
    lookback: int = 0
    documents: Documents | None = None
    left_out: tuple[str, ...] = ()
    """Columns not copied: no model reads them (``docs/warehouse.md``)."""
    row_key: str | None = "id"
    """An integer key every new row of the table takes larger than the rows before it, whose
    largest value tells that rows were added (:mod:`warehouse.freshness`); None when the table
    has none (its row count is taken instead)."""

    @property
    def mode(self) -> str:
        if self.key_column:
            return f"incrementally by {self.key_column}"
        if self.documents:
            return f"by the documents with new {EVENTS} rows"
        return "whole"


_CLOCK_DOCUMENTS = Documents()


# What every build extracts. Never add tables holding secrets (auth_user keeps password hashes).
SOURCES: tuple[Source, ...] = (
    Source("org_group"),
    Source("org_city_company"),
    Source("org_office"),
    # Working calendars (docs/sla-clocks.md): hours per weekday and days, of offices and of the
    # group (office_id NULL), and a working day's own hours.
    Source("org_calendar_interval"),
    Source("org_calendar_day"),
    Source("org_calendar_day_interval"),
    # Maintenance and SLA (see docs/sla-marts.md): events only grow; orders, clocks and
    # pauses change only together with an event of their document (the engine's rule), so they
    # are re-extracted for the documents with new events; plans and objects are small: whole.
    *(Source(t) for t in ("maint_object_type", "maint_object", "maint_periodic_plan")),
    Source("maint_plan_object", row_key=None),  # (plan_id, object_id): no key of its own
    # What no model reads of the events stays in the operational log: the payload (what each
    # form said, free-form JSON: 27 % of the bytes of 39 M events), the transition's name, the
    # actor and the document number (the states and the document's id say it all; the clocks
    # carry the number). On PostgreSQL, 39 M events: 60.8 s read with them, 38.1 s without.
    Source(
        EVENTS,
        key_column="id",
        lookback=LOOKBACK_KEYS,
        left_out=("payload", "transition", "actor", "document_no"),
    ),
    Source("maint_periodic_order", documents=Documents("id", None, "periodic_order")),
    Source(
        "maint_corrective_order",
        documents=Documents("id", None, "corrective_order"),
        left_out=("title", "description"),  # free text no model reads (up to 2 000 characters)
    ),
    # Inspection orders (docs/inspections.md): documents of type ``inspection``, re-extracted
    # with their events, as the maintenance orders.
    Source("insp_order", documents=Documents("id", None, "inspection")),
    Source("workflow_clock", documents=_CLOCK_DOCUMENTS),
    Source(
        "workflow_clock_pause",
        documents=Documents(
            "clock_id", None, parent_table="workflow_clock", parent=_CLOCK_DOCUMENTS
        ),
    ),
    # Energy (see docs/energy-marts.md): readings only grow (corrections supersede).
    *(Source(t) for t in ("energy_building", "energy_point", "energy_meter")),
    Source("energy_reading", key_column="id"),
    # The offices' follow-ups of energy exceptions (a note and done; small): whole.
    Source("energy_exception_followup"),
    # Suppliers (see docs/supplier-marts.md): small tables the score reads whole.
    *(
        Source(t)
        for t in (
            "supplier",
            "supplier_contract",
            "supplier_deduction_standard",
            "supplier_score_entry",
        )
    ),
    # Nonconformities are workflow documents of three types (docs/nonconformities.md),
    # re-extracted with their events, without the texts of their steps (no model reads them).
    # The go-live history import writes and rewrites rows the engine never moved — no events,
    # version 1 (an engine document's version grows with each move): those are read again on
    # every refresh (a partial index of the operational table holds those rows:
    # ``ix_supplier_nonconformity_unmoved``).
    Source(
        "supplier_nonconformity",
        documents=Documents(
            "id",
            None,
            ("nonconformity_notice", "nonconformity_handling", "nonconformity_corrective"),
            without_events="version = 1",
        ),
        left_out=(
            "description",
            "cause",
            "correction",
            "prevention",
            "handling_note",
            "verification_note",
        ),
    ),
    # Inspections (see docs/quality-marts.md): plans are documents of two types (every change
    # to one is a move of the engine), re-extracted with their events, without their names;
    # the item scores follow their order (``insp_order`` above: an item is scored before the
    # order's ``submit`` event, which re-extracts the order's scores as submitted). Photos
    # (bytes) and notes stay behind.
    Source(
        "insp_plan",
        documents=Documents(
            "id", None, ("professional_inspection_plan", "quality_inspection_plan")
        ),
        left_out=("name",),
    ),
    Source(
        "insp_score",
        documents=Documents(
            "order_id", None, parent_table="insp_order", parent=Documents("id", None, "inspection")
        ),
        left_out=("note",),
    ),
    # Customer-service tickets (see docs/tickets.md): documents of three types in one table,
    # re-extracted with their events. No free text and no caller details (personal
    # information never reaches the warehouse); the notice outbox stays behind too.
    Source(
        "cs_ticket",
        documents=Documents("id", "ticket_type"),
        left_out=(
            "subject",
            "description",
            "house_ref",
            "caller_name",
            "caller_phone",
            # the desk's links (docs/tickets.md, "The desk"): no model reads them yet
            "house_id",
            "customer_id",
            "place",
            "category",
        ),
    ),
)


_LEFT_OUT: dict[str, tuple[str, ...]] = {s.table: s.left_out for s in SOURCES if s.left_out}


def _columns(names: list[str]) -> str:
    """A select list of ``names`` (checked identifiers, quoted)."""
    return ", ".join(f'"{_name(n)}"' for n in names)


def database_backend(url: str) -> str:
    """``sqlite`` or ``postgresql`` for a SQLAlchemy-style database URL."""
    if _SQLITE_URL.match(url):
        return "sqlite"
    if _POSTGRES_URL.match(url):
        return "postgresql"
    raise ValueError(f"unsupported database URL (expected sqlite:/// or postgresql://): {url}")


def extract_source(
    database: Database,
    con: duckdb.DuckDBPyConnection,
    source: Source,
    tracked: versions.Versions | None = None,
) -> dict[str, Any]:
    """Extract ``source`` the way it says; return what was done (for the asset's metadata).

    Records in ``tracked`` (``warehouse.versions``; default: the build file's, read and written
    here) whether ``raw.<table>`` changed: rows appended or re-read, or a whole copy whose
    content differs from the one raw holds — else raw is kept as it is, and so can be the models
    reading only unchanged tables. A step extracting many tables passes its own and saves it
    once."""
    own = tracked is None
    kept = versions.Versions.load(con) if tracked is None else tracked
    table = f"raw.{_name(source.table)}"
    before = kept.get(table)
    done: dict[str, Any]
    if not (source.key_column or source.documents):
        fingerprint = before.signature if before is not None else None
        rows, new_fingerprint = extract_whole(database, con, source.table, fingerprint)
        if new_fingerprint is None and before is not None:
            kept.keep(table, before)
        else:
            kept.changed(table, new_fingerprint, rows)
        done = {"dagster/row_count": rows, "copied": new_fingerprint is not None}
    else:
        if source.key_column:
            appended = extract_incremental(
                database, con, source.table, source.key_column, lookback=source.lookback
            )
            done = {"appended_rows": appended}
            changed = appended > 0
        else:
            done = extract_documents(database, con, source)
            changed = done["mode"] == "full" or bool(done["rows"]) or bool(done["documents"])
        if changed or before is None:
            kept.changed(table)
        else:
            kept.keep(table, before)
        done = done | {"dagster/row_count": _count(con, source.table)}
    if own:
        kept.save(con)
    return done


def extract_table(database: Database, con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Copy the whole of ``table`` into ``raw.<table>``, replacing it; return the row count."""
    with _fetch(database, table) as batches:
        _ensure_raw_schema(con)
        con.register("_extracted", batches)
        try:
            con.execute(f"CREATE OR REPLACE TABLE raw.{_name(table)} AS SELECT * FROM _extracted")
        finally:
            con.unregister("_extracted")
    rows = _count(con, table)
    _record_load(con, table, "full", rows=rows)
    return rows


def extract_whole(
    database: Database, con: duckdb.DuckDBPyConnection, table: str, fingerprint: str | None
) -> tuple[int, str | None]:
    """Copy the small ``table`` whole into ``raw.<table>`` unless its rows are those of the copy
    whose ``fingerprint`` is given; return its row count and the new copy's fingerprint (None:
    the rows were the same, raw's table is kept).

    The rows are read into memory (the tables copied whole are small) and fingerprinted — row
    count, Arrow schema, the sum of the rows' hashes (a sum: two equal rows do not cancel out) —
    before anything is written: a refresh finds most of them unchanged (offices, calendars,
    plans, suppliers), and then writes nothing.
    """
    name = _name(table)
    with _fetch(database, name) as batches:
        data = batches.read_all()
    con.register("_extracted", data)
    try:
        rows, hashed = con.execute("SELECT count(*), sum(hash(t)) FROM _extracted AS t").fetchall()[
            0
        ]
        found = versions.digest(data.schema, rows, hashed)
        if found == fingerprint:
            return int(rows), None
        _ensure_raw_schema(con)
        con.execute(f"CREATE OR REPLACE TABLE raw.{name} AS SELECT * FROM _extracted")
    finally:
        con.unregister("_extracted")
    _record_load(con, name, "full", rows=int(rows))
    return int(rows), found


def extract_incremental(
    database: Database,
    con: duckdb.DuckDBPyConnection,
    table: str,
    key_column: str,
    *,
    lookback: int = 0,
) -> int:
    """Append the rows of ``table`` whose ``key_column`` exceeds the largest already in raw.

    The first time (no ``raw.<table>`` yet, or an empty one) the table is copied whole. Returns
    the number of rows appended.

    A key drawn from a PostgreSQL sequence is taken when the row is inserted, not when it
    commits: a transaction may commit a row with a smaller key after a larger one was extracted.
    So with ``lookback`` the keys in ``(watermark − lookback, watermark]`` that raw lacks (gaps)
    are read again and the rows found there are appended too. A row committed later than
    ``lookback`` keys behind is still missed (see docs/warehouse.md). On SQLite writers are
    serialised, raw has no gaps, and the look-back reads nothing.
    """
    key = _name(key_column)
    watermark = None
    if _raw_table_exists(con, table):
        watermark = con.execute(f"SELECT max({key}) FROM raw.{_name(table)}").fetchall()[0][0]
    if watermark is None and not _raw_table_exists(con, table):
        return extract_table(database, con, table)
    if watermark is None:
        # Empty until now: whatever the table holds is appended, so that readers of its changes
        # see new rows, or none, instead of a whole copy to start over from.
        _insert_fetched(con, table, database, after=None)
        low, high, rows = con.execute(
            f"SELECT min({key}) - 1, max({key}), count(*) FROM raw.{_name(table)}"
        ).fetchall()[0]
        _record_load(
            con,
            table,
            "append",
            key_column=key,
            key_after=0 if low is None else int(low),
            key_to=0 if high is None else int(high),
            rows=int(rows),
        )
        return int(rows)
    before = _count(con, table)
    # As a keyset bound, not a WHERE: on SQLite a key that is the rowid then starts the scan
    # (given as a condition beside the keyset's own rowid bound, SQLite scanned the whole table:
    # 1.75 s for 30 000 new readings of 22 M).
    _insert_fetched(con, table, database, after=(key, int(watermark)))
    new_max = con.execute(f"SELECT max({key}) FROM raw.{_name(table)}").fetchall()[0][0]
    late: list[int] = []
    if lookback > 0:
        late = _extract_late(database, con, table, key, int(watermark), lookback)
    appended = _count(con, table) - before
    _record_load(
        con,
        table,
        "append",
        key_column=key,
        key_after=int(watermark),
        key_to=int(new_max),
        late_keys=late,
        rows=appended,
    )
    return appended


def _extract_late(
    database: Database,
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    watermark: int,
    lookback: int,
) -> list[int]:
    """Read the gaps of raw's keys in ``(watermark − lookback, watermark]`` again; append the
    rows committed there since (keys absent from raw); return their keys."""
    low = max(watermark - lookback, 0)
    present = con.execute(
        f"SELECT count(*) FROM raw.{_name(table)} WHERE {key} > $low AND {key} <= $high",
        {"low": low, "high": watermark},
    ).fetchall()[0][0]
    if present >= watermark - low:
        return []
    gaps = con.execute(
        f"""
        SELECT previous + 1, {key} - 1 FROM (
            SELECT {key}, coalesce(lag({key}) OVER (ORDER BY {key}), $low) AS previous
            FROM raw.{_name(table)} WHERE {key} > $low AND {key} <= $high
        ) WHERE {key} > previous + 1
        ORDER BY 1
        """,
        {"low": low, "high": watermark},
    ).fetchall()
    where = f"{key} > {low} AND {key} < {watermark}"  # bounds the scan on either backend
    if len(gaps) <= _MAX_GAP_RANGES:
        ranges = " OR ".join(f"({key} BETWEEN {int(a)} AND {int(b)})" for a, b in gaps)
        where += f" AND ({ranges})"
    with _fetch(database, table, where=where) as batches:
        con.register("_extracted", batches)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _late AS SELECT * FROM _extracted"
                f" WHERE {key} NOT IN (SELECT {key} FROM raw.{_name(table)} WHERE {key} > {low})"
            )
        finally:
            con.unregister("_extracted")
    try:
        con.execute(f"INSERT INTO raw.{_name(table)} BY NAME SELECT * FROM _late")
        keys = [int(k) for (k,) in con.execute(f"SELECT {key} FROM _late ORDER BY 1").fetchall()]
    finally:
        con.execute("DROP TABLE IF EXISTS _late")
    return keys


def extract_documents(
    database: Database, con: duckdb.DuckDBPyConnection, source: Source
) -> dict[str, Any]:
    """Re-extract the rows of ``source`` that belong to documents with events new since this
    table last followed the events: delete those documents' rows from raw, insert the fresh ones.

    The rows ``Documents.without_events`` selects are read again too (and replace their
    copies), whether or not their documents have new events.

    Runs after the events' extraction of the same build (the events first, then the rows: a row
    is then at least as new as the events read, and a change committed in between is picked up
    again with its event next time). Copies the table whole the first time, when the events
    were copied whole since, or when the documents are many (over a fifth of the rows).
    Returns ``{"mode": "full" | "incremental", "documents": n, "rows": n}``.
    """
    spec = source.documents
    if spec is None:
        raise ValueError(f"{source.table} does not belong to documents")
    table = _name(source.table)
    consumer = f"raw.{table}"
    since = consumer_load(con, consumer)
    changes = changes_since(con, EVENTS, since) if since is not None else None
    if changes is None or not _raw_table_exists(con, table):
        rows = extract_table(database, con, table)
        set_consumer_load(con, consumer, latest_load(con, EVENTS))
        return {"mode": "full", "documents": None, "rows": rows}
    touched: dict[str, list[int]] = {}
    if not changes.empty:
        for kind, ids in _documents_with_events(con, changes).items():
            if _IDENTIFIER.fullmatch(kind) and spec.holds(kind):
                touched[kind] = ids
    documents = sum(len(ids) for ids in touched.values())
    if not documents and spec.without_events is None:
        # No new event of its documents: nothing to read, nothing to delete (on most refreshes
        # most document tables; the steps below cost ≈ 10 DuckDB statements even when empty).
        set_consumer_load(con, consumer, changes.load_no)
        return {"mode": "incremental", "documents": 0, "rows": 0}
    if documents > _FULL_COPY_FRACTION * max(_count(con, table), 1):
        rows = extract_table(database, con, table)
        set_consumer_load(con, consumer, changes.load_no)
        return {"mode": "full", "documents": documents, "rows": rows}
    versions.forget(con, consumer)  # its rows change here: extract_source gives it its version
    chunks = list(_chunks(touched, _IN_CHUNK))
    fresh = f"_fresh_{table}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {fresh} AS SELECT * FROM raw.{table} LIMIT 0")
    try:
        for chunk in chunks:
            where = spec.condition(chunk)
            if where is None:
                continue
            with _fetch(database, table, where=where) as batches:
                con.register("_extracted", batches)
                try:
                    con.execute(f"INSERT INTO {fresh} BY NAME SELECT * FROM _extracted")
                finally:
                    con.unregister("_extracted")
        if spec.without_events is not None:
            # The rows that change without events, unless already read with their documents.
            with _fetch(database, table, where=spec.without_events) as batches:
                con.register("_extracted", batches)
                try:
                    con.execute(
                        f"INSERT INTO {fresh} BY NAME SELECT * FROM _extracted"
                        f" WHERE id NOT IN (SELECT id FROM {fresh})"
                    )
                finally:
                    con.unregister("_extracted")
        if not documents and _same_rows(con, table, fresh):
            # Only the rows that change without events were read, as raw holds them already
            # (most refreshes): raw is kept, and with it its version (``warehouse.versions``),
            # so the models reading it are not rebuilt.
            set_consumer_load(con, consumer, changes.load_no)
            return {"mode": "incremental", "documents": 0, "rows": 0}
        listed = pa.table(
            {
                "document_type": [kind for kind, ids in touched.items() for _ in ids],
                "document_id": [i for ids in touched.values() for i in ids],
            },
            schema=pa.schema([("document_type", pa.string()), ("document_id", pa.int64())]),
        )
        # Their rows as they were, and any row now among the fresh ones, go; the fresh come in.
        # Found by their row ids: deleting by id made DuckDB read the id column of every row
        # once more to find the rows the two look-ups had already found (at 21 M item scores,
        # 86 ms against 64 ms).
        con.register("_touched", listed)
        try:
            con.execute(
                f"DELETE FROM raw.{table} WHERE rowid IN (SELECT rowid FROM raw.{table}"
                f" WHERE id IN (SELECT id FROM {fresh})"
                f" UNION ALL {spec.ids_in_raw(table, '_touched', select='rowid')})"
            )
        finally:
            con.unregister("_touched")
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM {fresh}")
        rows = int(con.execute(f"SELECT count(*) FROM {fresh}").fetchall()[0][0])
    finally:
        con.execute(f"DROP TABLE IF EXISTS {fresh}")
    set_consumer_load(con, consumer, changes.load_no)
    return {"mode": "incremental", "documents": documents, "rows": rows}


def _documents_with_events(
    con: duckdb.DuckDBPyConnection, changes: Changes
) -> dict[str, list[int]]:
    """Document type → the ids of its documents with events in ``changes``. Asked by each
    document table of a step, which have usually followed the events to the same load: read
    once per connection for the same changes."""
    condition = changes.condition()

    def read() -> dict[str, list[int]]:
        rows = con.execute(
            f"SELECT document_type, list(DISTINCT document_id ORDER BY document_id)"
            f" FROM raw.{EVENTS} WHERE {condition} GROUP BY document_type"
        ).fetchall()
        return {str(kind): [int(i) for i in ids] for kind, ids in rows}

    return once.remembered(con, ("documents with events", changes.load_no, condition), read)


def _same_rows(con: duckdb.DuckDBPyConnection, table: str, fresh: str) -> bool:
    """Whether raw holds every row of the temporary table ``fresh`` exactly as it is there."""
    differing = con.execute(
        f"SELECT count(*) FROM (SELECT * FROM {fresh} EXCEPT"
        f" SELECT r.* FROM raw.{table} AS r SEMI JOIN {fresh} AS f ON f.id = r.id)"
    ).fetchall()[0][0]
    return int(differing) == 0


# --- loads and their readers ---------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """The rows a table gained after some load: keys above ``after_key`` and ``late_keys``."""

    key_column: str
    load_no: int
    """The table's latest load: where a reader that has taken these changes now stands."""
    after_key: int | None
    late_keys: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return self.after_key is None and not self.late_keys

    def condition(self, column: str | None = None) -> str:
        """A SQL condition selecting the rows gained (``false`` if none), on the key column or
        on ``column`` holding the same key (a staging view's renamed key)."""
        key = _name(column or self.key_column)
        parts = []
        if self.after_key is not None:
            parts.append(f"{key} > {int(self.after_key)}")
        if self.late_keys:
            parts.append(f"{key} IN ({_ints(self.late_keys)})")
        return " OR ".join(parts) if parts else "false"


def latest_load(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """The number of the latest load of ``raw.<table>`` (None if none is recorded)."""
    _ensure_bookkeeping(con)
    row = con.execute(
        "SELECT max(load_no) FROM extract_log.loads WHERE table_name = $t", {"t": table}
    ).fetchall()
    return None if not row or row[0][0] is None else int(row[0][0])


def changes_since(
    con: duckdb.DuckDBPyConnection, table: str, load_no: int | None
) -> Changes | None:
    """What ``raw.<table>`` gained after its load ``load_no``; None if a reader standing there
    must start over (no such load remembered, or the table was copied whole since)."""
    _ensure_bookkeeping(con)
    if load_no is None:
        return None
    rows = con.execute(
        "SELECT load_no, mode, key_column, key_after, key_to, late_keys FROM extract_log.loads"
        " WHERE table_name = $t AND load_no >= $n ORDER BY load_no",
        {"t": table, "n": load_no},
    ).fetchall()
    if not rows or rows[0][0] != load_no or rows[0][1] not in ("full", "append"):
        return None
    later = rows[1:]
    if not later:
        return Changes(str(rows[0][2] or "id"), load_no, None)
    if any(mode != "append" for _, mode, *_ in later):
        return None
    late = sorted({int(k) for *_, keys in later for k in (keys or [])})
    after = int(later[0][3])
    key_to = max(int(r[4]) for r in later)
    return Changes(
        str(later[0][2]), int(later[-1][0]), after if key_to > after else None, tuple(late)
    )


def consumer_load(con: duckdb.DuckDBPyConnection, consumer: str) -> int | None:
    """The load up to which ``consumer`` has followed the table it reads (None: never)."""
    _ensure_bookkeeping(con)
    row = con.execute(
        "SELECT load_no FROM extract_log.consumers WHERE consumer = $c", {"c": consumer}
    ).fetchall()
    return None if not row or row[0][0] is None else int(row[0][0])


def set_consumer_load(con: duckdb.DuckDBPyConnection, consumer: str, load_no: int | None) -> None:
    _ensure_bookkeeping(con)
    con.execute("DELETE FROM extract_log.consumers WHERE consumer = $c", {"c": consumer})
    con.execute("INSERT INTO extract_log.consumers VALUES ($c, $n)", {"c": consumer, "n": load_no})


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    once.ensure(
        con,
        "CREATE SCHEMA IF NOT EXISTS extract_log;"
        " CREATE TABLE IF NOT EXISTS extract_log.loads (table_name VARCHAR, load_no BIGINT,"
        " mode VARCHAR, key_column VARCHAR, key_after BIGINT, key_to BIGINT,"
        " late_keys BIGINT[], rows BIGINT, loaded_at TIMESTAMP);"
        " CREATE TABLE IF NOT EXISTS extract_log.consumers (consumer VARCHAR, load_no BIGINT)",
    )


def _record_load(
    con: duckdb.DuckDBPyConnection,
    table: str,
    mode: str,
    *,
    key_column: str | None = None,
    key_after: int | None = None,
    key_to: int | None = None,
    late_keys: list[int] | None = None,
    rows: int = 0,
) -> int:
    """Append a load of ``raw.<table>`` to ``extract_log.loads``; return its number (they grow
    across every table). Only the latest :data:`_KEEP_LOADS` of a table are kept."""
    _ensure_bookkeeping(con)
    versions.forget(con, f"raw.{_name(table)}")  # extract_source gives it its version
    load_no = int(
        con.execute("SELECT coalesce(max(load_no), 0) + 1 FROM extract_log.loads").fetchall()[0][0]
    )
    con.execute(
        "INSERT INTO extract_log.loads VALUES ($t, $n, $mode, $key, $after, $to, $late, $rows, $at)",
        {
            "t": table,
            "n": load_no,
            "mode": mode,
            "key": key_column,
            "after": key_after,
            "to": key_to,
            "late": late_keys or [],
            "rows": rows,
            "at": datetime.now(UTC).replace(tzinfo=None),
        },
    )
    con.execute(
        "DELETE FROM extract_log.loads WHERE table_name = $t AND load_no <= $n - $keep",
        {"t": table, "n": load_no, "keep": _KEEP_LOADS},
    )
    return load_no


def _insert_fetched(
    con: duckdb.DuckDBPyConnection,
    table: str,
    database: Database,
    after: tuple[str, int] | None,
) -> None:
    with _fetch(database, table, after=after) as batches:
        con.register("_extracted", batches)
        try:
            con.execute(f"INSERT INTO raw.{_name(table)} BY NAME SELECT * FROM _extracted")
        finally:
            con.unregister("_extracted")


def _chunks(documents: dict[str, list[int]], size: int) -> Iterator[dict[str, list[int]]]:
    """``documents`` (type → ids) in pieces of at most ``size`` ids."""
    chunk: dict[str, list[int]] = {}
    count = 0
    for kind, ids in sorted(documents.items()):
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            if count + len(part) > size and chunk:
                yield chunk
                chunk, count = {}, 0
            chunk.setdefault(kind, []).extend(part)
            count += len(part)
    if chunk:
        yield chunk


def _ints(values: Any) -> str:
    """Integers as a SQL list (each checked to be an int: they are inlined)."""
    return ", ".join(str(int(v)) for v in values)


class OperationalSource:
    """The operational database a build reads (业务库), through one ADBC connection for all the
    tables of an extraction instead of one per table (opening a PostgreSQL connection costs the
    driver ≈ 70 ms: two dozen tables made a refresh 1.5 s slower).

    Each fetch is a read transaction of its own, ended when it has been read, as with a
    connection per table: a table's rows are one snapshot, the next table a later one.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.backend = database_backend(url)
        self._connection: Any = None
        self._second: Any = None  # SQLite: a second reader for large tables

    def __enter__(self) -> OperationalSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        connections = (self._connection, self._second)
        self._connection = self._second = None
        for connection in connections:
            if connection is not None:
                connection.close()

    def _connect(self) -> Any:
        if self._connection is None:
            if self.backend == "postgresql":
                uri = _POSTGRES_URL.sub("postgresql://", self.url, count=1)
                self._connection = adbc_driver_postgresql.dbapi.connect(uri)
            else:
                self._connection = self._sqlite()
        return self._connection

    def _sqlite(self) -> Any:
        # Read-only: the driver bundles its own SQLite library, and a read-write connection of
        # it closing in a process that also has the operational database open through Python's
        # sqlite3 (SQLAlchemy) deletes the WAL under that connection's feet, hiding its later
        # commits.
        path = quote(_SQLITE_URL.sub("", self.url, count=1))
        return adbc_driver_sqlite.dbapi.connect(f"file:{path}?mode=ro")

    def _second_reader(self) -> Any:
        if self._second is None:
            self._second = self._sqlite()
        return self._second

    def row(self, sql: str) -> tuple[Any, ...]:
        """The one row of a small query built here from checked names (no input), read in a
        read transaction of its own."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                found = cur.fetchone()
        except BaseException:
            self.close()  # a connection in an unknown state is not reused
            raise
        conn.rollback()
        return tuple(found) if found is not None else ()

    @contextmanager
    def fetch(
        self, table: str, after: tuple[str, Any] | None = None, where: str | None = None
    ) -> Iterator[pa.RecordBatchReader]:
        """Stream ``SELECT * FROM table [WHERE key > value] [AND where]`` (without the table's
        :attr:`Source.left_out` columns) as an Arrow record batch reader. ``where`` is SQL built
        here from checked names and integers, never from input."""
        table = _name(table)  # refused before anything is opened
        conn = self._connect()
        try:
            if self.backend == "postgresql":
                sql = f"SELECT {_postgres_columns(conn, table)} FROM {_name(table)}"
                conditions = [] if after is None else [f"{_name(after[0])} > $1"]
                params: tuple[Any, ...] = () if after is None else (after[1],)
                if where is not None:
                    conditions.append(f"({where})")
                if conditions:
                    sql += " WHERE " + " AND ".join(conditions)
                with conn.cursor() as cur:
                    cur.execute(sql, parameters=params)
                    yield cur.fetch_record_batch()
            elif where is None and (ranges := _sqlite_ranges(conn, table, after)) is not None:
                second = self._second_reader()
                with second.cursor() as cur:  # its read transaction begins now, as the first's
                    cur.execute(f"SELECT max(rowid) FROM {table}")
                    cur.fetchall()
                with _read_in_turns(
                    [
                        _sqlite_range_chunks(reader, table, after, ranges[turn::2])
                        for turn, reader in enumerate((conn, second))
                    ],
                    _sqlite_schema(conn, table)[0],
                ) as batches:
                    yield batches
                second.rollback()
            else:
                reader = _sqlite_chunks(conn, table, after, where)
                with _read_ahead(reader) as ahead:
                    yield ahead
        except BaseException:
            self.close()  # a connection in an unknown state is not reused
            raise
        conn.rollback()  # ends the read transaction: the next fetch sees later commits


Database = str | OperationalSource
"""Where an extraction reads: a database URL (a connection of its own) or an open
:class:`OperationalSource`."""


@contextmanager
def _fetch(
    database: Database,
    table: str,
    after: tuple[str, Any] | None = None,
    where: str | None = None,
) -> Iterator[pa.RecordBatchReader]:
    if isinstance(database, OperationalSource):
        with database.fetch(table, after, where) as batches:
            yield batches
        return
    with OperationalSource(database) as opened, opened.fetch(table, after, where) as batches:
        yield batches


def _sqlite_schema(conn: Any, table: str) -> tuple[pa.Schema, str | None]:
    """The Arrow schema of ``table`` from its declared SQLite column types (see
    :data:`_SQLITE_TYPES`; every column nullable, as the driver reports them), and the column
    that is an alias of its rowid (a lone ``INTEGER PRIMARY KEY``), if any."""
    with conn.cursor() as cur:
        cur.execute(f"PRAGMA table_info({table})")
        columns = cur.fetchall()
    if not columns:
        raise ValueError(f"no such table in the operational database: {table}")
    keys = [(name, declared) for _, name, declared, _, _, pk, *_ in columns if pk]
    alias = keys[0][0] if len(keys) == 1 and keys[0][1].strip().upper() == "INTEGER" else None
    left_out = _LEFT_OUT.get(table, ())
    schema = pa.schema(
        [
            (name, _sqlite_type(declared))
            for _, name, declared, *_ in columns
            if name not in left_out
        ]
    )
    return schema, alias


def _select_list(table: str, schema: pa.Schema) -> str:
    """``*``, or the columns of ``schema`` when ``table`` has columns left out."""
    return _columns(schema.names) if table in _LEFT_OUT else "*"


def _postgres_columns(conn: Any, table: str) -> str:
    """``*``, or the columns of ``table`` but those left out (:attr:`Source.left_out`)."""
    left_out = _LEFT_OUT.get(table)
    if not left_out:
        return "*"
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            parameters=(table,),
        )
        names = [name for (name,) in cur.fetchall() if name not in left_out]
    if not names:
        raise ValueError(f"no such table in the operational database: {table}")
    return _columns(names)


def _sqlite_type(declared: str) -> pa.DataType:
    word = re.split(r"[\s(]", declared.strip().upper(), maxsplit=1)[0]
    return _SQLITE_TYPES.get(word, pa.string())


def _sqlite_chunks(
    conn: Any, table: str, after: tuple[str, Any] | None, where: str | None = None
) -> pa.RecordBatchReader:
    """``SELECT * FROM table [WHERE key > value]`` in rowid order, :data:`_SQLITE_CHUNK_ROWS`
    rows per query, each chunk cast to the table's declared types.

    The driver types each column from the values of the batch it reads — a column NULL in one
    batch and text in the next fails — so each chunk is a query of its own (keyset on rowid) read
    as one batch and cast to the declared schema: memory stays at one chunk however large the
    table. All chunks are read in one transaction of the read-only connection, so they see one
    snapshot of the database, as a single query would.
    """
    schema, rowid_alias = _sqlite_schema(conn, table)
    first_rowid = -(2**63)
    condition = ""
    extra: tuple[Any, ...] = ()
    if after is not None and after[0] == rowid_alias:
        # The key is the rowid: start the keyset past the watermark. (Given both ``rowid > ?``
        # and ``key > ?``, SQLite searches by one of them — often the first, a full scan.)
        first_rowid = int(after[1])
    elif after is not None:
        condition, extra = f" AND {_name(after[0])} > ?", (after[1],)
    if where is not None:
        condition += f" AND ({where})"
    sql = (
        f"SELECT rowid AS {_ROWID}, {_select_list(table, schema)} FROM {table}"
        f" WHERE rowid > ?{condition}"
        f" ORDER BY rowid LIMIT {_SQLITE_CHUNK_ROWS}"
    )

    def chunks() -> Iterator[pa.RecordBatch]:
        last_rowid = first_rowid
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
                yield from _cast(chunk, schema).to_batches()
                if chunk.num_rows < _SQLITE_CHUNK_ROWS:
                    return

    return pa.RecordBatchReader.from_batches(schema, chunks())


def _cast(chunk: pa.Table, schema: pa.Schema) -> pa.Table:
    """``chunk`` cast to ``schema``. Instants are stored naive (UTC) by the application; one
    written with an offset by another tool is converted to naive UTC, value by value."""
    try:
        return chunk.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # (a column of NULLs only comes typed as integers: no cast to a date)
        columns = []
        for field in schema:
            column = chunk.column(field.name)
            try:
                columns.append(column.cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                if column.null_count == len(column):
                    columns.append(pa.nulls(len(column), field.type))
                    continue
                if pa.types.is_date32(field.type):
                    days = [None if v is None else _day(v, field.name) for v in column.to_pylist()]
                    columns.append(pa.array(days, field.type))
                    continue
                if not pa.types.is_timestamp(field.type):
                    raise
                values = [
                    None if v is None else _naive_utc(v, field.name) for v in column.to_pylist()
                ]
                columns.append(pa.array(values, field.type))
        return pa.Table.from_arrays(columns, schema=schema)


def _day(text: str, column: str) -> date:
    """A calendar date written by another tool with a time after it (``2026-12-01 00:00:00``)."""
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError as error:
        raise ValueError(f"column {column}: not a date: {text!r}") from error


def _naive_utc(text: str, column: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"column {column}: not an instant: {text!r}") from error
    return instant if instant.tzinfo is None else instant.astimezone(UTC).replace(tzinfo=None)


_ROWID_BOUNDS = "SELECT (SELECT min(rowid) FROM {table}), (SELECT max(rowid) FROM {table})"
"""A table's first and last rowid, each read off one end of its b-tree. SQLite answers a lone
``min()`` or ``max()`` that way, but ``SELECT min(rowid), max(rowid)`` scans the whole table
(22 M readings: 4.1 s against 0.3 ms; it was paid by every refresh)."""


def _sqlite_ranges(
    conn: Any, table: str, after: tuple[str, Any] | None
) -> list[tuple[int, int]] | None:
    """The rowid ranges of :data:`_SQLITE_CHUNK_ROWS` that a large read is split into (None
    when it fits in one): ``(low, high]`` from the first rowid to read to the last one now."""
    _, rowid_alias = _sqlite_schema(conn, table)
    with conn.cursor() as cur:
        cur.execute(_ROWID_BOUNDS.format(table=table))
        first, last = cur.fetchone() or (None, None)
    if first is None or last is None:
        return None
    low = int(first) - 1
    if after is not None and after[0] == rowid_alias:
        low = max(low, int(after[1]))
    if last - low <= _SQLITE_CHUNK_ROWS:
        return None
    return [
        (start, min(start + _SQLITE_CHUNK_ROWS, last))
        for start in range(low, last, _SQLITE_CHUNK_ROWS)
    ]


def _sqlite_range_chunks(
    conn: Any, table: str, after: tuple[str, Any] | None, ranges: list[tuple[int, int]]
) -> Iterator[pa.Table]:
    """One table per rowid range of ``ranges`` (empty if the range has no row), read through
    ``conn`` and cast like :func:`_sqlite_chunks`."""
    schema, rowid_alias = _sqlite_schema(conn, table)
    condition = ""
    extra: tuple[Any, ...] = ()
    if after is not None and after[0] != rowid_alias:
        condition, extra = f" AND {_name(after[0])} > ?", (after[1],)
    sql = (
        f"SELECT {_select_list(table, schema)} FROM {table}"
        f" WHERE rowid > ? AND rowid <= ?{condition} ORDER BY rowid"
    )
    with conn.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_SQLITE_CHUNK_ROWS)})
        for low, high in ranges:
            cur.execute(sql, parameters=(low, high, *extra))
            yield _cast(cur.fetch_arrow_table(), schema)


@contextmanager
def _read_in_turns(
    readers: list[Iterator[pa.Table]], schema: pa.Schema
) -> Iterator[pa.RecordBatchReader]:
    """The chunks of ``readers`` taken in turns (the first's first, the second's first, the
    first's second…), each reader running ahead in a thread of its own.

    A large SQLite table is read by two connections at once, alternate rowid ranges each:
    reading rows into Arrow costs the driver three times what DuckDB spends storing them, so
    one reader left a core of two idle. Each connection reads its ranges in one read
    transaction, both begun before any range is read and bounded by the last rowid the first
    saw: rows only appended read the same on both; a row updated in between may be newer in
    one range than another — as between two tables, and caught up on the same way (the events
    are read first: its document's event comes with the next build).
    """
    with ExitStack() as stack:
        streams = [
            stack.enter_context(
                _read_ahead(pa.RecordBatchReader.from_batches(schema, _batches(reader)))
            )
            for reader in readers
        ]

        def turns() -> Iterator[pa.RecordBatch]:
            iterators = [iter(stream) for stream in streams]
            while iterators:
                for iterator in list(iterators):
                    batch = next(iterator, None)
                    if batch is None:
                        iterators.remove(iterator)
                    elif batch.num_rows:
                        yield batch

        yield pa.RecordBatchReader.from_batches(schema, turns())


def _batches(tables: Iterator[pa.Table]) -> Iterator[pa.RecordBatch]:
    """Each table as one batch (an empty one for an empty table: the turns stay aligned)."""
    for table in tables:
        yield (
            table.combine_chunks().to_batches()[0]
            if table.num_rows
            else pa.RecordBatch.from_pylist([], schema=table.schema)
        )


_READ_AHEAD = 2  # chunks read from SQLite while DuckDB stores the one before


@contextmanager
def _read_ahead(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatchReader]:
    """``reader``'s batches, read by a thread of their own up to :data:`_READ_AHEAD` ahead.

    DuckDB pulls a Python stream batch by batch, so reading SQLite and storing into DuckDB
    would take turns; both release the GIL, so on two cores they overlap instead. The thread
    is the only user of the SQLite connection while it runs, and it has stopped (whether the
    stream was read to the end or abandoned) when this context exits.
    """
    batches: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(_READ_AHEAD)
    stop = threading.Event()

    def put(item: pa.RecordBatch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in reader:
                if not put(batch):
                    return
            put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    def consume() -> Iterator[pa.RecordBatch]:
        while True:
            item = batches.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=produce, name="extract-read-ahead", daemon=True)
    thread.start()
    try:
        yield pa.RecordBatchReader.from_batches(reader.schema, consume())
    finally:
        stop.set()
        thread.join()


def _ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")


def _raw_table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = $t",
        {"t": table},
    ).fetchall()
    return bool(rows)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM raw.{_name(table)}").fetchall()[0][0])


def _name(identifier: str) -> str:
    """A table or column name, refused unless it is a plain lower-case identifier."""
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain identifier: {identifier!r}")
    return identifier
