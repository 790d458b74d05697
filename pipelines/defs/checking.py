"""Checks run by the step that builds their table, not as steps of their own.

A Dagster step costs a run a few dozen milliseconds and half a dozen stored events whatever it
does; a check is a query of a few milliseconds. So each check is an :class:`dg.AssetCheckSpec`
of the multi-asset that materialises its table (``check_specs=``), evaluated at the end of that
step on the run's build. A failing check fails the step — Dagster raises once the step has
yielded its results — so nothing downstream runs, ``published_warehouse`` included: the check
blocks exactly as a separate ``@asset_check(blocking=True)`` did. A non-blocking check (a
warning, severity WARN: e.g. next year's holidays not loaded) fails without failing the step. In
the UI each check still appears under its asset, and a multi-asset that can be subset runs a
check alone (on the published version, see ``WarehouseBuild.read``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb

from pipelines.defs.resources import WarehouseBuild

CheckOutcome = tuple[bool, Mapping[str, Any]]
"""What a check's query found: passed, and the metadata shown with the evaluation."""


@dataclass(frozen=True)
class WarehouseCheck:
    """One check of one asset: a read-only query of the build. A blocking check that fails
    (severity ERROR) fails its step, so nothing is published; a non-blocking one (``blocking``
    False) only warns (severity WARN) and the build is published all the same."""

    name: str
    asset: dg.AssetKey
    description: str
    query: Callable[[duckdb.DuckDBPyConnection], CheckOutcome]
    additional_deps: tuple[dg.AssetKey, ...] = ()
    blocking: bool = True

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.asset, self.name)

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            description=self.description,
            additional_deps=self.additional_deps or None,
            blocking=self.blocking,
        )

    def __call__(self, warehouse: WarehouseBuild, run_id: str) -> dg.AssetCheckResult:
        """Evaluate on the run's build, or on the published version if the run has none."""
        with warehouse.read(run_id) as con:
            passed, metadata = self.query(con)
        return dg.AssetCheckResult(
            asset_key=self.asset,
            check_name=self.name,
            passed=passed,
            metadata=dict(metadata),
            severity=dg.AssetCheckSeverity.ERROR if self.blocking else dg.AssetCheckSeverity.WARN,
        )


def warehouse_check(
    asset: dg.AssetKey, *, additional_deps: Iterable[dg.AssetKey] = (), blocking: bool = True
) -> Callable[[Callable[[duckdb.DuckDBPyConnection], CheckOutcome]], WarehouseCheck]:
    """Declare a check of ``asset``: the function's name and docstring name and describe it;
    ``blocking`` False: a warning that does not stop the build."""

    def define(query: Callable[[duckdb.DuckDBPyConnection], CheckOutcome]) -> WarehouseCheck:
        return WarehouseCheck(
            name=query.__name__,
            asset=asset,
            description=inspect.getdoc(query) or query.__name__,
            query=query,
            additional_deps=tuple(additional_deps),
            blocking=blocking,
        )

    return define


def checks_of(
    checks: Sequence[WarehouseCheck], keys: Iterable[dg.AssetKey]
) -> list[WarehouseCheck]:
    """The checks of the assets ``keys`` (those a step producing them runs)."""
    wanted = set(keys)
    return [check for check in checks if check.asset in wanted]


def run_selected_checks(
    context: dg.AssetExecutionContext, warehouse: WarehouseBuild, checks: Sequence[WarehouseCheck]
) -> Iterator[dg.AssetCheckResult]:
    """Evaluate the step's checks that this run selected (all of them, unless subset).

    Call after the step's writes are done (its build connection closed): the checks read.
    """
    selected = context.selected_asset_check_keys
    run_id = context.op_execution_context.run_id
    for check in checks:
        if check.key in selected:
            yield check(warehouse, run_id)
