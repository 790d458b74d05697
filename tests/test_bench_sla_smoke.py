"""The SLA benchmark at a tiny scale, so it cannot rot: every figure is there and positive.

No timing is asserted (docs/benchmarks.md): speed is reported by ``propcloud bench sla``, not tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.common import tower_query_calls
from benchmarks.sla import TARGETS, query_calls
from propcloud.cli import main

pytestmark = pytest.mark.slow


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def test_bench_sla_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "sla.json"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "sla",
            *("--offices", "2", "--orders", "300", "--backend", "sqlite"),
            *("--transitions", "3", "--query-runs", "2"),
            *("--workdir", str(tmp_path / "work"), "--out", str(out)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "build ÷ floor" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))

    assert _positive(report["machine"]["cpu_count"])
    assert report["targets"] == TARGETS
    assert _positive(report["scale"]["days"])
    b = report["backends"]["sqlite"]
    generation = b["generation"]
    for figure in (
        "orders",
        "periodic",
        "corrective",
        "events",
        "seconds",
        "orders_per_s",
        "write_seconds",
        "write_orders_per_s",
    ):
        assert _positive(generation[figure]), figure
    assert generation["write_seconds"] <= generation["seconds"]
    assert generation["orders"] == generation["periodic"] + generation["corrective"]
    assert generation["orders"] >= 300  # an office's plans may issue more than its share
    for figure in ("rows", "fetch_seconds", "duckdb_seconds", "seconds", "rows_per_s"):
        assert _positive(b["floor"][figure]), figure
    assert b["floor"]["rows"] >= generation["events"]  # and the plans' own events
    for step in ("build", "refresh"):
        for figure in ("seconds", "process_seconds", "peak_rss_mb", "sla_clocks_rows"):
            assert _positive(b[step][figure]), (step, figure)
    assert b["build"]["sla_clocks_rows"] >= generation["orders"]  # a completion clock each
    assert _positive(b["build"]["over_floor"])
    assert _positive(b["refresh"]["over_build"])
    new_day = b["new_day"]
    for figure in ("orders", "events", "seconds", "old_orders_moved", "old_clocks_stopped"):
        assert _positive(new_day[figure]), figure
    # Each older order moved to its end: its clock stopped, an event per move.
    assert new_day["old_clocks_stopped"] == new_day["old_orders_moved"] <= new_day["orders"]
    assert new_day["old_order_events"] >= new_day["old_orders_moved"]
    assert b["build"]["raw_events_rows"] == b["floor"]["rows"]
    assert b["refresh"]["raw_events_rows"] == b["floor"]["rows"] + new_day["events"]
    # The build is full; the refresh continues it, re-reading the new and the moved documents.
    assert (b["build"]["sla_mode"], b["build"]["sla_documents"]) == ("full", None)
    assert b["refresh"]["sla_mode"] == "incremental", b["refresh"]["sla_reason"]
    assert b["refresh"]["sla_documents"] == new_day["orders"] + new_day["old_orders_moved"]
    assert b["refresh"]["sla_clocks_recomputed"] >= b["refresh"]["sla_documents"]
    assert b["refresh"]["sla_clocks_recomputed"] < b["refresh"]["sla_clocks_rows"]
    # The first refresh (nothing new) copied the file; the new day's continues the full build's.
    assert _positive(b["first_refresh"]["seconds"])
    assert b["first_refresh"]["sla_documents"] == 0
    assert b["refresh"]["continued"] == "the full build's file (a spare)"
    for step in ("build", "refresh"):
        assert _positive(b[step]["published_mb"]), step
        assert _positive(b[step]["sla_seconds"]), step

    assert set(b["queries"]) == set(query_calls("O0001")) | set(tower_query_calls("C001", "O0001"))
    assert _positive(b["tower_mart"]["rows"]) and _positive(b["tower_mart"]["best_seconds"])
    for name, q in b["queries"].items():
        assert "error" not in q, (name, q.get("error"))
        assert _positive(q["median_ms"]), name
        assert q["p95_ms"] >= q["median_ms"], name
        assert q["runs"] == 2, name
    for figure in ("plans", "orders", "seconds", "orders_per_s", "again_seconds"):
        assert _positive(b["generate_month"][figure]), figure
    assert b["generate_month"]["again_orders"] == 0  # the next tick issues nothing twice
    transitions = b["transitions"]
    assert transitions["transitions"] == 3 * 3
    for figure in (
        "seconds",
        "transitions_per_s",
        "raise_seconds",
        "raises_per_s",
        "statements_per_transition",
        "client_cpu_ms_per_transition",
    ):
        assert _positive(transitions[figure]), figure
    assert set(report["verdict"]["sqlite"]) >= {
        "build_over_floor",
        "refresh_over_build",
        "slowest_query_median_ms",
    }
