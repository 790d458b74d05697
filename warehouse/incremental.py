"""Incremental SQL models: a mart kept up to date row group by row group instead of rebuilt whole.

A model is incremental when its SQL file's header names the mart's key columns::

    -- incremental: ticket_no
    -- whole when changed: staging.stg_offices

and ``sql/changes/<name>.sql`` holds the SELECT of the keys whose rows may differ from the
previous build's (one row per key, the key columns named as in the mart, and any column the model
itself wants, such as a document id). The model's own SELECT keeps only the rows of the keys in
``delta.<name>`` — the changes file's rows, written there before the model runs — so one SQL file
serves both ways:

* **whole**: the changes file runs with ``$full = true`` (it must then return every key) and the
  mart is created from the model's SELECT;
* **incremental**: the changes file runs with ``$full = false`` and the mart's rows of those keys
  are deleted and the model's SELECT inserted in their place.

The changes file's bound parameters: ``$full``, ``$as_of`` and ``$previous_as_of`` (naive UTC; on
a whole build both are the run's as_of), ``$previous_seq`` (the sequence number of this mart's
previous build, see below; -1 on a whole build). It may read ``delta.new_events``: the staged
workflow events (``staging.stg_workflow_events``' columns) extracted since this mart's previous
build (empty on a whole build).

The mart is rebuilt whole (``incremental.log`` says why) on its first build, when the SQL of the
model or of its changes file changed (a digest), when a table named on its ``whole when changed``
line changed (a digest of its rows), when the run's as_of is before the previous build's, when the
events were copied whole since (``warehouse.extract.changes_since``), when an incremental table it
reads was rebuilt whole after its own previous build, and when one was built more than once since
(a changes file may read ``delta.<name>``, the keys another incremental table rebuilt in its last
build).

Each build of an incremental table — a model here, or a Python mart that calls :func:`begin` and
:func:`finish` (``marts.sla_clocks``) — takes the next number of one sequence; its state
(``incremental.state``) keeps that number, the number of its last whole build, its as_of, digests
and the events load it has followed. A reader of an incremental table may so ask for the rows its
producer wrote after the reader's own previous build (``$previous_seq``).

Rule and proof: docs/warehouse.md (*Incremental marts*); each incremental mart has a test that
refreshes through a series of changes and compares it with a build from scratch.
"""

from __future__ import annotations

import re
import time as timer
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from warehouse import once
from warehouse.extract import EVENTS, Changes, changes_since, latest_load
from warehouse.versions import digest

SCHEMA = "incremental"
DELTA = "delta"
NEW_EVENTS = "delta.new_events"
_NEW_EVENTS_MADE = f"{SCHEMA}.new_events_made"
_EVENTS_VIEW = "staging.stg_workflow_events"
_LOG_KEPT = 10_000  # builds' lines kept in incremental.log (about a thousand runs)
_PARAMETER = re.compile(r"\$[a-z_]+")
_COMMENT = re.compile(r"--[^\n]*")


def _named(sql: str) -> set[str]:
    """The ``$name`` parameters ``sql`` uses (comments left out)."""
    return set(_PARAMETER.findall(_COMMENT.sub("", sql)))


@dataclass(frozen=True)
class Delta:
    """One build of one incremental table: whole or not, and what it continues."""

    table: str
    seq: int
    full: bool
    reason: str
    as_of: datetime
    previous_as_of: datetime
    previous_seq: int
    code_digest: str
    inputs_digest: str
    changes: Changes | None

    @property
    def mode(self) -> str:
        return "whole" if self.full else "incremental"

    def params(self, sql: str) -> dict[str, object]:
        """The bound parameters of a changes file that ``sql`` names (DuckDB refuses others)."""
        every: dict[str, object] = {
            "full": self.full,
            "as_of": self.as_of,
            "previous_as_of": self.previous_as_of,
            "previous_seq": self.previous_seq,
        }
        return {name: value for name, value in every.items() if f"${name}" in _named(sql)}


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    once.ensure(
        con,
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}; CREATE SCHEMA IF NOT EXISTS {DELTA};"
        f" CREATE TABLE IF NOT EXISTS {SCHEMA}.state (table_name VARCHAR, seq BIGINT,"
        " whole_seq BIGINT, as_of TIMESTAMP, code_digest VARCHAR, inputs_digest VARCHAR,"
        " event_load BIGINT, built_at TIMESTAMP);"
        f" CREATE TABLE IF NOT EXISTS {SCHEMA}.log (table_name VARCHAR, seq BIGINT, mode VARCHAR,"
        " reason VARCHAR, as_of TIMESTAMP, keys BIGINT, seconds DOUBLE, built_at TIMESTAMP);"
        f" CREATE TABLE IF NOT EXISTS {_NEW_EVENTS_MADE} (version VARCHAR, condition VARCHAR,"
        " load_no BIGINT, rows BIGINT)",
    )


def inputs_digest(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> str:
    """A digest of the rows of ``tables`` (small tables: offices, say), in any order."""
    parts = []
    for table in tables:
        row = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {table} AS t").fetchall()[0]
        parts.append(f"{table}:{row[0]}:{row[1]}")
    return digest(*parts)


def _as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    value = con.execute("SELECT as_of FROM raw.run_params").fetchall()[0][0]
    if not isinstance(value, datetime):
        raise TypeError("raw.run_params.as_of is not a timestamp")
    return value


def begin(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    code: str,
    inputs: str = "",
    reads: frozenset[str] = frozenset(),
    exists: bool,
    full: bool = False,
) -> Delta:
    """Start a build of ``table``: whole or incremental (and why), its sequence number, and what
    it continues. ``reads``: the tables it reads (those kept incrementally count); ``exists``:
    whether the build file holds the table already."""
    _ensure(con)
    as_of = _as_of(con)
    seq = int(con.execute(f"SELECT coalesce(max(seq), 0) + 1 FROM {SCHEMA}.state").fetchall()[0][0])
    rows = con.execute(
        f"SELECT seq, as_of, code_digest, inputs_digest, event_load FROM {SCHEMA}.state"
        " WHERE table_name = $t",
        {"t": table},
    ).fetchall()
    previous = rows[0] if rows else None
    changes = changes_since(con, EVENTS, previous[4]) if previous else None
    reason = ""
    if full:
        reason = "requested"
    elif previous is None or not exists:
        reason = "first build"
    elif previous[2] != code:
        reason = "code changed"
    elif previous[3] != inputs:
        reason = "inputs changed"
    elif as_of < previous[1]:
        reason = "as_of before the previous build's"
    elif changes is None:
        reason = "events copied whole"
    else:
        whole = con.execute(
            f"SELECT min(table_name) FROM {SCHEMA}.state"
            " WHERE list_contains($reads, table_name) AND whole_seq > $seq",
            {"reads": sorted(reads), "seq": previous[0]},
        ).fetchall()[0][0]
        if whole is not None:
            reason = f"{whole} rebuilt whole"
        else:
            # A changes file may read the keys another incremental table rebuilt
            # (delta.<name>): only the last build's are there.
            again = con.execute(
                f"SELECT min(table_name) FROM (SELECT table_name FROM {SCHEMA}.log"
                " WHERE list_contains($reads, table_name) AND seq > $seq"
                " GROUP BY table_name HAVING count(*) > 1)",
                {"reads": sorted(reads), "seq": previous[0]},
            ).fetchall()[0][0]
            if again is not None:
                reason = f"{again} built more than once since"
    if reason:
        return Delta(table, seq, True, reason, as_of, as_of, -1, code, inputs, None)
    assert previous is not None
    return Delta(table, seq, False, "", as_of, previous[1], int(previous[0]), code, inputs, changes)


def write_new_events(con: duckdb.DuckDBPyConnection, delta: Delta) -> int:
    """``delta.new_events``: the staged events extracted since the table's previous build (none on
    a whole build); returns how many.

    The incremental marts of one run have usually followed the events to the same load, so they
    ask for the same rows: ``incremental.new_events_made`` says which rows the table holds (the
    run's version, the condition and the events' load), and a mart asking for those again in the
    same run reads them as they are instead of writing them once more.
    """
    _ensure(con)
    condition = "false" if delta.changes is None else delta.changes.condition(column="event_id")
    load = None if delta.changes is None else delta.changes.load_no
    version = str(con.execute("SELECT version FROM raw.run_params").fetchall()[0][0])
    made = con.execute(
        f"SELECT rows FROM {_NEW_EVENTS_MADE} WHERE version = $v AND condition = $c"
        " AND load_no IS NOT DISTINCT FROM $n",
        {"v": version, "c": condition, "n": load},
    ).fetchall()
    if made:
        return int(made[0][0])
    con.execute(f"DELETE FROM {_NEW_EVENTS_MADE}")  # first: a failure below leaves no claim
    con.execute(
        f"CREATE OR REPLACE TABLE {NEW_EVENTS} AS SELECT * FROM {_EVENTS_VIEW} WHERE {condition}"
    )
    rows = int(con.execute(f"SELECT count(*) FROM {NEW_EVENTS}").fetchall()[0][0])
    con.execute(
        f"INSERT INTO {_NEW_EVENTS_MADE} VALUES ($v, $c, $n, $rows)",
        {"v": version, "c": condition, "n": load, "rows": rows},
    )
    return rows


def finish(con: duckdb.DuckDBPyConnection, delta: Delta, *, keys: int, began: float) -> None:
    """Record the build: its state (what the next one continues) and a line of the log."""
    now = datetime.now(UTC).replace(tzinfo=None)
    whole_seq = delta.seq
    if not delta.full:
        kept = con.execute(
            f"SELECT whole_seq FROM {SCHEMA}.state WHERE table_name = $t",
            {"t": delta.table},
        ).fetchall()
        whole_seq = int(kept[0][0]) if kept else delta.seq
    con.execute(f"DELETE FROM {SCHEMA}.state WHERE table_name = $t", {"t": delta.table})
    con.execute(
        f"INSERT INTO {SCHEMA}.state VALUES ($t, $seq, $whole, $as_of, $code, $inputs, $load,"
        " $now)",
        {
            "t": delta.table,
            "seq": delta.seq,
            "whole": whole_seq,
            "as_of": delta.as_of,
            "code": delta.code_digest,
            "inputs": delta.inputs_digest,
            "load": latest_load(con, EVENTS),
            "now": now,
        },
    )
    # The log is read back only over the builds since each table's previous one.
    con.execute(f"DELETE FROM {SCHEMA}.log WHERE seq < $seq - {_LOG_KEPT}", {"seq": delta.seq})
    con.execute(
        f"INSERT INTO {SCHEMA}.log VALUES ($t, $seq, $mode, $reason, $as_of, $keys, $s, $now)",
        {
            "t": delta.table,
            "seq": delta.seq,
            "mode": delta.mode,
            "reason": delta.reason,
            "as_of": delta.as_of,
            "keys": keys,
            "s": round(timer.perf_counter() - began, 3),
            "now": now,
        },
    )


def build(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str,
    select: str,
    macros: tuple[str, ...] = (),
    keys: tuple[str, ...],
    changes: str,
    whole_when_changed: tuple[str, ...],
    reads: frozenset[str],
    exists: bool,
    full: bool = False,
) -> Delta:
    """Build the incremental model ``table`` (its SELECT ``select``, the statements of the macros
    it uses, keyed by ``keys``, its changes file's SELECT ``changes``): whole or only its changed
    keys. Returns the build."""
    began = timer.perf_counter()
    delta = begin(
        con,
        table,
        code=digest(select, *macros, changes, ",".join(keys), ",".join(whole_when_changed)),
        inputs=inputs_digest(con, whole_when_changed),
        reads=reads,
        exists=exists,
        full=full,
    )
    # Only for a changes file that reads them, itself or through a macro of the mart.
    if NEW_EVENTS in _COMMENT.sub("", "\n".join((changes, *macros))):
        write_new_events(con, delta)
    keys_table = f"{DELTA}.{table.split('.', 1)[1]}"
    con.execute(f"CREATE OR REPLACE TABLE {keys_table} AS {changes}", delta.params(changes))
    changed = int(con.execute(f"SELECT count(*) FROM {keys_table}").fetchall()[0][0])
    if delta.full:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS\n{select}")
    else:
        match = " AND ".join(f"m.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
        con.execute(
            f"DELETE FROM {table} AS m WHERE EXISTS (SELECT 1 FROM {keys_table} AS d WHERE {match})"
        )
        con.execute(f"INSERT INTO {table} BY NAME\n{select}")
    finish(con, delta, keys=changed, began=began)
    return delta
