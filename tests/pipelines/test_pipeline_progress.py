"""A build run by the pipeline reports each of its steps as it finishes it, while it runs, for
the pages' progress bar (``Warehouse.running_builds``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.definitions import defs
from pipelines.run import run_pipeline
from tests.pipelines.test_pipeline_run import AS_OF
from warehouse.publish import Warehouse


@pytest.mark.parametrize("org_url", ["sqlite"], indirect=True)
@pytest.mark.slow  # a whole pipeline build
def test_a_pipeline_run_reports_each_step_of_the_build(
    org_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[tuple[int, int | None]] = []

    def report(self: Warehouse, build_id: str, done: int, total: int | None) -> None:
        assert self.running_builds()[0].build_id == build_id  # said while it runs
        said.append((done, total))

    monkeypatch.setattr(Warehouse, "report_progress", report)
    run_pipeline(org_url, tmp_path, AS_OF)
    steps = len(defs.resolve_job_def("refresh_warehouse").nodes_in_topological_order)  # ops
    assert said == [(n, steps) for n in range(1, steps + 1)]
    assert Warehouse(tmp_path).running_builds() == []
    assert not list((tmp_path / "building").glob("*.progress"))
