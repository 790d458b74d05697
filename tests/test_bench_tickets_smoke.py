"""The tickets benchmark at a tiny scale, so it cannot rot: every figure is there, positive and
consistent with what was asked (complaints fired, tickets worked, lookups found).

No timing is asserted (docs/benchmarks.md): speed is reported by ``propcloud bench tickets``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks import ticket_pages
from benchmarks.tickets import TARGETS, TICKET_MARTS
from propcloud.cli import main

pytestmark = pytest.mark.slow


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def test_bench_tickets_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "tickets.json"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "tickets",
            *("--offices", "1", "--days", "10", "--backend", "sqlite"),
            *("--open-complaints", "120", "--breached", "15"),
            *("--intake", "3", "--lookups", "5", "--query-runs", "2"),
            *("--workdir", str(tmp_path / "work"), "--out", str(out)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "build ÷ floor" in result.output and "escalation tick" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert _positive(report["machine"]["cpu_count"])
    assert report["targets"] == TARGETS
    b = report["backends"]["sqlite"]

    assert _positive(b["generation"]["tickets"]) and _positive(b["generation"]["tickets_per_s"])
    escalation = b["escalation"]
    assert escalation["open_complaints"] >= 120
    # the breached ones fire at the later tick (the history's open complaints may add a few)
    assert escalation["fired"] >= 15 and _positive(escalation["firing_tick_seconds"])
    assert _positive(escalation["idle_tick_seconds"])
    services = b["services"]
    assert services["intake"] == 3 and services["transitions"] == 15
    assert _positive(services["intake_per_s"]) and _positive(services["transitions_per_s"])
    assert b["lookup"]["found"] == b["lookup"]["lookups"] == 5
    assert _positive(b["lookup"]["median_ms"])
    for figure in ("floor", "build", "first_refresh", "refresh"):
        assert _positive(b[figure]["seconds"]), figure
    # the measured refresh continues the full build's file, as a scheduled pipeline does
    assert b["refresh"]["continued"] == "the full build's file (a spare)"
    assert _positive(b["build"]["over_floor"]) and _positive(b["refresh"]["over_build"])
    assert set(b["ticket_marts"]) == set(TICKET_MARTS)
    # timed on the full build's file: every ticket but the new day's intake
    assert b["ticket_marts"]["marts.tickets"]["rows"] == b["rows"]["tickets"] - 3
    assert set(report["verdict"]["sqlite"]) == {
        "escalation_tick",
        "lookup_median",
        "build_over_floor",
        "refresh_over_build",
        "page_queries",
    }
    # every page read of the board, the SLA page's ticket clocks and the tower answered, timed
    queries = b["page_queries"]
    assert set(queries) == set(ticket_pages.query_calls())
    for name, timed in queries.items():
        assert "error" not in timed, (name, timed)
        assert _positive(timed["median_ms"]) and timed["runs"] == 2, name
    assert queries["board_count_group"]["rows"] >= 120  # the open complaints on the board


def test_bench_tickets_bulk_history_reports_every_figure(tmp_path: Path) -> None:
    """The bulk path (``--history bulk``): houses, occupants and tickets written in bulk, the
    same figures, plus each table's copy floor and the lookups by house and name."""
    out = tmp_path / "tickets.json"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "tickets",
            *("--offices", "3", "--days", "20", "--backend", "sqlite"),
            *("--history", "bulk", "--tickets", "600", "--houses", "300", "--occupants", "540"),
            *("--batch-offices", "2", "--open-complaints", "50", "--breached", "5"),
            *("--intake", "2", "--lookups", "5"),
            *("--workdir", str(tmp_path / "work"), "--out", str(out)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scale"]["history"] == "bulk"
    b = report["backends"]["sqlite"]
    g = b["generation"]
    assert g["houses"] == b["rows"]["houses"] == 300
    assert g["occupants"] >= 540 and b["rows"]["customers"] >= 540
    # about the tickets asked for (a Poisson draw a day and office), every one with its record
    assert 450 <= g["tickets"] <= 750 and g["events"] > 3 * g["tickets"]
    assert b["escalation"]["fired"] >= 5
    floors = b["floor"]["tables"]
    assert set(floors) == {"workflow_event", "cs_ticket", "workflow_clock"}
    assert b["floor"]["seconds"] >= max(f["seconds"] for f in floors.values())
    assert floors["cs_ticket"]["rows"] == b["rows"]["tickets"] - 2  # before the new day's intake
    for by in ("house", "name"):
        assert b["lookup"][by]["found"] == b["lookup"][by]["lookups"] == 5, by
    assert b["lookup"]["found"] == 5
    assert b["build"]["slowest_assets"] and b["refresh"]["slowest_assets"]
    assert b["ticket_marts"]["marts.tickets"]["rows"] == b["rows"]["tickets"] - 2
