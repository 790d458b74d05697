"""The quality benchmark at a tiny scale, so it cannot rot: every figure is there and positive.

No timing is asserted (docs/benchmarks.md): speed is reported by ``propcloud bench quality``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.quality import FLOOR_TABLES, TARGETS, query_calls
from propcloud.cli import main

pytestmark = pytest.mark.slow


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def test_bench_quality_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "quality.json"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "quality",
            *("--offices", "2", "--contracts", "6", "--days", "60", "--plans", "1"),
            *("--items", "4", "--query-runs", "2"),
            *("--workdir", str(tmp_path / "work"), "--out", str(out)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "build ÷ floor" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["targets"] == TARGETS
    b = report["backends"]["sqlite"]
    generation = b["generation"]
    assert generation["contracts"] == 6
    for figure in ("plans", "orders", "scores", "events", "seconds", "orders_per_s"):
        assert _positive(generation[figure]), figure
    assert generation["scores"] == 4 * generation["orders"]  # every item of every order
    # the floor copies every table of size the build extracts, each reported
    floors = {f["table"]: f for f in b["floor"]["tables"]}
    assert list(floors) == list(FLOOR_TABLES)
    assert floors["insp_score"]["rows"] == generation["scores"]
    assert floors["workflow_event"]["rows"] >= generation["events"]
    assert floors["supplier_nonconformity"]["rows"] == generation["nonconformities"]
    assert b["floor"]["rows"] == sum(f["rows"] for f in floors.values())
    assert all(_positive(f["seconds"]) for f in floors.values())
    for step in ("build", "first_refresh", "refresh"):
        for figure in ("seconds", "process_seconds", "peak_rss_mb", "quality_review_rows"):
            assert _positive(b[step][figure]), (step, figure)
    assert b["build"]["raw_scores_rows"] == generation["scores"]
    # the refresh extracted the new day's orders with their scores
    assert b["refresh"]["raw_scores_rows"] == generation["scores"] + b["new_day"]["scores"]
    assert _positive(b["new_day"]["orders"])
    # before them, the orders the history left pending moved on (how many: the hour's luck)
    pending = b["new_day"]["pending"]
    assert 0 <= pending["submitted"] <= pending["advanced"]
    assert pending["scores"] == 4 * pending["submitted"]
    # the refresh after the new day continues the full build's file, as a scheduled one does
    assert b["refresh"]["continued"] == "the full build's file (a spare)"
    assert _positive(b["build"]["over_floor"]) and _positive(b["refresh"]["over_build"])
    assert 0 < b["build"]["over_floor"] < b["build"]["over_score_floor"]
    assert _positive(b["quality_mart"]["rows"])
    assert set(b["queries"]) == set(query_calls())
    for name, q in b["queries"].items():
        assert "error" not in q, (name, q.get("error"))
        assert _positive(q["median_ms"]), name
        assert q["runs"] == 2, name
    assert set(report["verdict"]["sqlite"]) >= {"build_over_floor", "refresh_over_build"}
