"""Which tables of a build changed: what lets a refresh keep a table instead of rebuilding it.

A refresh continues an earlier version of the warehouse, in which most small tables already hold
what this build would write again: the organisation, calendars, plans, objects, suppliers and
their staging and dimension models change on few days. So every table a build writes has a
*version* in ``build_state.versions`` — a token that changes whenever its rows may have changed
(who writes it says so):

* ``raw.<table>``: its extraction (``warehouse.extract.extract_source``) — rows appended or
  re-read, or a whole copy whose content differs from the last one (its *fingerprint*: row count,
  Arrow schema and the sum of the rows' hashes, kept as the table's signature);
* a SQL model: the build that (re)created it; its signature is a digest of its SQL and of the
  versions of the tables it read then (:meth:`Versions.model_signature`);
* anything else a build writes every time (``raw.run_params``, the Python marts): each build.

A SQL model whose signature is the one it was last built with reads exactly what it read then,
so its rows would be the same: the build keeps it (``pipelines.defs.assets``). A table without a
version — never written through these paths, or written by an extraction outside
``extract_source`` (:func:`forget`) — is never kept, nor is what reads it.

Each step reads the versions once and writes what changed in one statement at its end
(:meth:`Versions.save`): a refresh keeps dozens of tables, and a query per table would cost
about what rebuilding a small table does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import duckdb

SCHEMA = "build_state"
TABLE = f"{SCHEMA}.versions"


@dataclass(frozen=True)
class Version:
    """One table's version: its token, its signature (None: nothing to compare) and its row
    count when it was written (a kept table reports it without counting again)."""

    token: str
    signature: str | None
    rows: int | None


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE}"
        " (table_name VARCHAR, version VARCHAR, signature VARCHAR, row_count BIGINT)"
    )


def digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def forget(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """``table`` was rewritten by a path that does not track its version: it has none any
    more, so whatever reads it is rebuilt."""
    _ensure(con)
    con.execute(f"DELETE FROM {TABLE} WHERE table_name = $t", {"t": table})


class Versions:
    """The versions of a build file's tables, read once (:meth:`load`); the changes made through
    it are written by :meth:`save`."""

    def __init__(self, known: dict[str, Version]) -> None:
        self._known = known
        self._written: dict[str, Version] = {}

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Versions:
        _ensure(con)
        rows = con.execute(
            f"SELECT table_name, version, signature, row_count FROM {TABLE}"
        ).fetchall()
        return cls(
            {
                str(name): Version(str(token), signature, None if count is None else int(count))
                for name, token, signature, count in rows
            }
        )

    def get(self, table: str) -> Version | None:
        return self._known.get(table)

    def changed(self, table: str, signature: str | None = None, rows: int | None = None) -> None:
        """``table``'s rows may have changed: a new version (``signature``: what it was written
        from, to compare later; ``rows``: its row count)."""
        self._set(table, Version(uuid.uuid4().hex, signature, rows))

    def keep(self, table: str, version: Version) -> None:
        """``table`` is as it was when it got ``version`` (re-recorded: its writer may have
        forgotten it meanwhile)."""
        self._set(table, version)

    def _set(self, table: str, version: Version) -> None:
        self._known[table] = version
        self._written[table] = version

    def model_signature(self, code: str, reads: frozenset[str] | set[str]) -> str | None:
        """A digest of a model's ``code`` and of the versions of the tables it ``reads``; None
        if one of them has no version (the model must then be rebuilt)."""
        tables = sorted(reads)
        found = [self._known.get(table) for table in tables]
        if any(version is None for version in found):
            return None
        return digest(
            code,
            *(f"{t}={v.token}" for t, v in zip(tables, found, strict=True) if v is not None),
        )

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Write the versions set through this object (two statements, however many)."""
        if not self._written:
            return
        _ensure(con)
        names = sorted(self._written)
        con.execute(f"DELETE FROM {TABLE} WHERE list_contains($t, table_name)", {"t": names})
        con.execute(
            f"INSERT INTO {TABLE} SELECT unnest($t), unnest($v), unnest($s), unnest($r)",
            {
                "t": names,
                "v": [self._written[n].token for n in names],
                "s": [self._written[n].signature for n in names],
                "r": [self._written[n].rows for n in names],
            },
        )
        self._written.clear()
