"""How far the operational database has got: a watermark cheap enough to read every few seconds.

A build extracts the tables of :data:`warehouse.extract.SOURCES`. Whether anything a build
would read has changed since the last one is told, without reading the tables, by

* the largest :attr:`~warehouse.extract.Source.row_key` of each of them (an integer key every
  new row takes larger than those before; the row count of a table without one): rows added —
  a reading, a workflow event (every change to an order, clock or pause comes with one), an
  office, a meter. Both backends read it off the end of the key's index;
* the newest entry of the audit log (``audit_log``) that is not about logins or user
  accounts: every service and import records its change there in the same transaction, so an
  edit in place (an office renamed, a meter's multiplier corrected, a calendar day removed)
  moves it too. Logins and account changes do not: no build reads them, and a refresh for
  each login would rebuild more often than the data changes.

:func:`operational_watermark` returns these numbers by name; two equal watermarks mean that a
build would find nothing new. What it cannot see: a change written around the services without
a new key (SQL by hand), and — on PostgreSQL, where a key is taken when a row is inserted, not
when it commits — a row committed after a row with a larger key was already seen. Both reach
the warehouse with the next change or the periodic refresh (docs/operations.md).
"""

from __future__ import annotations

from warehouse.extract import SOURCES, Database, OperationalSource, _name

AUDIT_TABLE = "audit_log"
AUDIT_KEY = "audit_log"
"""The watermark's entry for the audit log."""
NOT_WAREHOUSE_ENTITIES = ("login", "auth_user")
"""Audit entities no build reads: logins (and logouts) and user accounts (roles, passwords)."""


def watermark_sql() -> tuple[list[str], str]:
    """The names of the watermark's entries and the one query that reads them all."""
    names: list[str] = []
    parts: list[str] = []
    for source in SOURCES:
        table = _name(source.table)
        names.append(table)
        if source.row_key is None:
            parts.append(f"(SELECT count(*) FROM {table})")
        else:
            parts.append(f"(SELECT max({_name(source.row_key)}) FROM {table})")
    ignored = ", ".join(f"'{_name(entity)}'" for entity in NOT_WAREHOUSE_ENTITIES)
    names.append(AUDIT_KEY)
    parts.append(
        f"(SELECT id FROM {AUDIT_TABLE} WHERE entity NOT IN ({ignored}) ORDER BY id DESC LIMIT 1)"
    )
    return names, "SELECT " + ", ".join(parts)


def operational_watermark(database: Database) -> dict[str, int]:
    """The watermark of the operational database ``database`` (a URL or an open source): each
    table's largest key (or row count) and the newest relevant audit entry; 0 where empty."""
    names, sql = watermark_sql()
    if isinstance(database, OperationalSource):
        values = database.row(sql)
    else:
        with OperationalSource(database) as source:
            values = source.row(sql)
    return {name: int(value or 0) for name, value in zip(names, values, strict=True)}
