"""warehouse.once: bookkeeping DDL and a step's lookups, once per connection — not once per process."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse import once
from warehouse.extract import latest_load


def test_each_connection_gets_its_own_bookkeeping(tmp_path: Path) -> None:
    # Two build files, one after the other in one process: the second needs the tables too.
    for name in ("first", "second"):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            assert latest_load(con, "workflow_event") is None
            assert latest_load(con, "workflow_event") is None  # asked again: still there
            tables = con.sql(
                "select table_name from information_schema.tables"
                " where table_schema = 'extract_log' order by 1"
            ).fetchall()
            assert tables == [("consumers",), ("loads",)]


def test_a_lookup_is_read_once_per_connection() -> None:
    calls: list[str] = []

    def read(name: str) -> str:
        calls.append(name)
        return name.upper()

    first, second = duckdb.connect(), duckdb.connect()
    assert once.remembered(first, "k", lambda: read("a")) == "A"
    assert once.remembered(first, "k", lambda: read("b")) == "A"
    assert once.remembered(second, "k", lambda: read("c")) == "C"
    assert once.remembered(first, "other", lambda: read("d")) == "D"
    assert calls == ["a", "c", "d"]
