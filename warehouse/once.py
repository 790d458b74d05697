"""What a build connection needs done or read only once: bookkeeping tables, a step's lookups.

A refresh runs ≈ 850 DuckDB statements; about 280 of them were ``CREATE … IF NOT EXISTS`` of the
same few bookkeeping tables, issued by every function that reads or writes them (each may be
called first, in a build or a test). Here each such group of statements runs once per
connection object — a build step's cursor (``WarehouseBuild.connect``) — and what one step
looks up more than once is kept for that cursor (docs/warehouse.md, *Build steps are
transactions*).

The memory is keyed by the connection object and dies with it. It assumes what was created or
read stays as it was for the connection's life: a step whose transaction rolls back fails, and
its cursor goes with it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")

_DONE: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()


def remembered(con: duckdb.DuckDBPyConnection, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` the first time ``key`` is asked for on ``con``, the same value after; the
    key must name everything the value depends on (the rows it reads do not change under it)."""
    done = _DONE.setdefault(con, {})
    if key not in done:
        done[key] = compute()
    value: T = done[key]
    return value


def ensure(con: duckdb.DuckDBPyConnection, statements: str) -> None:
    """Run ``statements`` (idempotent DDL, ``;``-separated) on ``con`` unless already run on it."""

    def run() -> bool:
        con.execute(statements)
        return True

    remembered(con, ("ensure", statements), run)
