"""The energy benchmark at a tiny scale, so it cannot rot: every figure is there and positive.

No timing is asserted (docs/benchmarks.md): speed is reported by ``make bench``, not tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.common import tower_query_calls
from benchmarks.energy import TARGETS, query_calls
from benchmarks.scale import Scale, plan_group
from propcloud.cli import main

pytestmark = pytest.mark.slow


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def test_bench_energy_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "energy.json"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "energy",
            *("--offices", "2", "--points", "5", "--days", "20", "--backend", "sqlite"),
            *("--query-runs", "2", "--workdir", str(tmp_path / "work"), "--out", str(out)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "build ÷ floor" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))

    assert _positive(report["machine"]["cpu_count"])
    assert report["scale"]["readings"] == 2 * 5 * 20
    assert report["targets"] == TARGETS
    b = report["backends"]["sqlite"]
    assert b["import"]["rows"] + b["bulk_load"]["rows"] == 200
    for figure in ("rows", "seconds", "rows_per_s"):
        assert _positive(b["import"][figure]), figure
        assert _positive(b["extract"][figure]), figure
        assert _positive(b["refresh_import"][figure]), figure
    assert b["refresh_import"]["rows"] == 2 * 5  # one new day for every point
    for figure in ("rows", "fetch_seconds", "duckdb_seconds", "seconds", "rows_per_s"):
        assert _positive(b["floor"][figure]), figure
    for step in ("build", "first_refresh", "refresh"):
        for figure in ("seconds", "process_seconds", "energy_seconds", "peak_rss_mb"):
            assert _positive(b[step][figure]), (step, figure)
    assert _positive(b["build"]["over_floor"])
    assert _positive(b["refresh"]["over_build"])
    assert b["build"]["energy_mode"] == "full"
    assert b["refresh"]["energy_mode"] == "incremental"
    assert b["first_refresh"]["energy_mode"] == "unchanged"
    # the steady state: the new day continues the superseded full build's file, not a copy
    assert b["refresh"]["continued"] == "the full build's file (a spare)"
    assert _positive(b["query_open"]["median_ms"])

    plan = plan_group(Scale(2, 5, 20))
    expected = set(query_calls(plan)) | set(
        tower_query_calls(plan.offices[0].city, plan.offices[0].code)
    )
    assert _positive(b["tower_mart"]["rows"])
    assert set(b["queries"]) == expected
    for name, q in b["queries"].items():
        assert "error" not in q, (name, q.get("error"))
        assert _positive(q["median_ms"]), name
        assert q["p95_ms"] >= q["median_ms"], name
        assert q["runs"] == 2, name
    for name in ("all_offices", "one_office"):
        naive = b["naive"][name]
        for figure in ("naive_median_ms", "mart_median_ms", "naive_over_mart", "naive_rows"):
            assert _positive(naive[figure]), (name, figure)
    assert set(report["verdict"]["sqlite"]) >= {
        "build_over_floor",
        "refresh_over_build",
        "slowest_query_median_ms",
        "peak_rss_mb",
    }
