"""Bulk writes of many rows in the caller's transaction: ids drawn ahead, then COPY on
PostgreSQL (psycopg 3 ``cursor.copy``) or one ``executemany`` on SQLite.

Values are converted exactly as SQLAlchemy's column types store them (the types' bind
processors: an aware instant becomes naive UTC, JSON becomes text, …), and a column a row leaves
out gets the column's Python-side default, as an ORM or Core insert would. Used by the order
generation (:func:`operational.workflow.engine.create_many`) and the order history writer
(:func:`operational.imports.work_orders.write_orders`); :func:`update_rows` changes many rows by
id in one ``executemany``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Column, Connection, Table, bindparam, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

BATCH = 5_000
"""Rows per ``executemany`` call on SQLite (and per statement on other dialects)."""


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new primary keys for ``table``, ascending, to insert rows with explicit ids.

    PostgreSQL: drawn from the column's sequence (safe beside concurrent writers). SQLite: after
    the largest id (writers are serialised; a clash fails the insert rather than mixing rows).
    """
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The values drawn come back as runs of consecutive numbers (one run unless another
        # writer drew in between), not as ``count`` rows.
        result = connection.execute(
            text(
                "select min(v), max(v) from ("
                " select v, v - row_number() over (order by v) as run from ("
                "  select nextval(pg_get_serial_sequence(:table, 'id')) as v"
                "  from generate_series(1, :n)) drawn) numbered "
                "group by run order by 1"
            ),
            {"table": table.name, "n": count},
        )
        ids = [i for low, high in result for i in range(int(low), int(high) + 1)]
        assert len(ids) == count
        return ids
    last = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(last) + 1, int(last) + 1 + count))


def _columns(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Column[Any]]:
    """The columns the rows give, then those they leave out that have a Python-side default."""
    given = set(rows[0])
    unknown = given - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: no column(s) {sorted(unknown)}")
    return [c for c in table.c if c.name in given] + [
        c for c in table.c if c.name not in given and c.default is not None
    ]


def _converters(
    connection: Connection, columns: list[Column[Any]]
) -> list[Callable[[Any], Any] | None]:
    """Per column, the type's bind processor for this dialect (None: the value passes as is);
    JSON is serialised to text with the dialect's serializer, as SQLAlchemy does on SQLite."""
    dialect = connection.dialect
    serialize: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps
    out: list[Callable[[Any], Any] | None] = []
    for column in columns:
        if isinstance(column.type, JSON):
            # Text, which COPY and SQLite take as is; a dict shared by many rows once.
            texts: dict[int, tuple[Any, str]] = {}

            def dump(value: Any, texts: dict[int, tuple[Any, str]] = texts) -> str:
                held = texts.get(id(value))
                if held is None or held[0] is not value:
                    held = texts[id(value)] = (value, serialize(value))
                return held[1]

            out.append(dump)
        else:
            out.append(column.type.dialect_impl(dialect).bind_processor(dialect))
    return out


def _default(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    assert default is not None
    arg = getattr(default, "arg", None)
    if getattr(default, "is_callable", False):
        return lambda: arg(None)  # type: ignore[misc]  # SQLAlchemy wraps it to take a context
    return lambda: arg


def _tuples(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[Column[Any]], list[tuple[Any, ...]]]:
    """The rows as tuples of driver values, column by column (one pass per column)."""
    columns = _columns(table, rows)
    converters = _converters(connection, columns)
    given = len(rows[0])
    values: list[list[Any]] = []
    for i, column in enumerate(columns):
        if i < given:
            name = column.name
            cells = [row[name] for row in rows]
        else:
            make = _default(column)
            cells = [make() for _ in rows]
        convert = converters[i]
        if convert is not None:
            cells = [None if cell is None else convert(cell) for cell in cells]
        values.append(cells)
    return columns, list(zip(*values, strict=True))


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) fast: COPY on PostgreSQL, ``executemany`` on
    SQLite, a multi-row INSERT elsewhere. Ids are taken from the rows or, if they give none,
    assigned by the database in the order given. No RETURNING: give the ids you need."""
    if rows:
        _insert(session.connection(), table, rows)


def _insert(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    into: str | None = None,
) -> None:
    """:func:`insert_rows` on ``connection``; ``into``: another table of the same columns."""
    dialect = connection.dialect.name
    target = into or table.name
    if dialect not in ("postgresql", "sqlite"):
        for start in range(0, len(rows), BATCH):
            connection.execute(table.insert(), list(rows[start : start + BATCH]))
        return
    columns, values = _tuples(connection, table, rows)
    names = ", ".join(f'"{c.name}"' for c in columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    if dialect == "postgresql":
        statement = f'COPY "{target}" ({names}) FROM STDIN'
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = driver.cursor()
    try:
        statement = f'INSERT INTO "{target}" ({names}) VALUES ({marks})'
        for start in range(0, len(values), BATCH):
            cursor.executemany(statement, values[start : start + BATCH])
    finally:
        cursor.close()


def update_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set the columns that ``rows`` give (dicts with the same keys, one of them ``id``) on the
    rows of those ids: ``UPDATE … WHERE id = ?`` executed many times, ``BATCH`` rows a call.
    Values are bound with their columns' types, as an ORM update stores them. Objects of the
    table already loaded in ``session`` are not refreshed: expire them."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    unknown = set(names) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: no column(s) {sorted(unknown)}")
    statement = (
        table.update()
        .where(table.c.id == bindparam("b_id", type_=table.c.id.type))
        .values({name: bindparam(f"b_{name}", type_=table.c[name].type) for name in names})
    )
    params = [{f"b_{name}": value for name, value in row.items()} for row in rows]
    connection = session.connection()
    for start in range(0, len(params), BATCH):
        connection.execute(statement, params[start : start + BATCH])


class BackgroundWriter:
    """:func:`insert_rows` one table after another on a worker thread, while the caller builds
    the next table's rows: PostgreSQL checks the rows just sent (foreign keys, indexes) and
    SQLite steps its inserts while Python works. In the caller's transaction; the caller must
    not use the session between :meth:`insert` and :meth:`wait` (leaving the ``with`` block
    waits). An error in the worker is raised by the next :meth:`insert` or :meth:`wait`."""

    def __init__(self, session: Session) -> None:
        self._connection = session.connection()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        self.wait()
        if not rows:
            return

        def run() -> None:
            try:
                _insert(self._connection, table, rows)
            except BaseException as error:  # handed to the caller's thread
                self._error = error

        self._thread = threading.Thread(target=run, name=f"bulk-{table.name}", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self.wait()
        else:  # the caller's error is the one reported; the worker is still waited for
            with contextlib.suppress(BaseException):
                self.wait()


def insert_new(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> set[int]:
    """Insert ``rows`` (with their ``id``) except those whose ``key`` columns match a row that
    is already there — also one that a concurrent transaction wrote first, which PostgreSQL
    waits for — and return the ids actually inserted (``INSERT … ON CONFLICT DO NOTHING
    RETURNING id``; the key needs a unique constraint). On PostgreSQL the rows go by COPY into
    a temporary table first, then one ``INSERT … SELECT`` (rows in the order given)."""
    if not rows:
        return set()
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        scratch = f"bulk_new_{uuid.uuid4().hex[:12]}"
        connection.execute(
            text(f'CREATE TEMPORARY TABLE "{scratch}" (LIKE "{table.name}") ON COMMIT DROP')
        )
        _insert(connection, table, rows, into=scratch)
        names = ", ".join(f'"{c.name}"' for c in _columns(table, rows))
        conflict = ", ".join(f'"{c}"' for c in key)
        result = connection.execute(
            text(
                f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{scratch}" '
                f"ORDER BY id ON CONFLICT ({conflict}) DO NOTHING RETURNING id"
            )
        )
        taken = {int(i) for i in result.scalars()}
        connection.execute(text(f'DROP TABLE "{scratch}"'))
        return taken
    if dialect != "sqlite":
        raise NotImplementedError(f"insert_new on {dialect}")
    statement = (
        sqlite.insert(table).on_conflict_do_nothing(index_elements=list(key)).returning(table.c.id)
    )
    inserted: set[int] = set()
    for start in range(0, len(rows), BATCH):
        result = connection.execute(statement, list(rows[start : start + BATCH]))
        inserted.update(int(i) for i in result.scalars())
    return inserted
