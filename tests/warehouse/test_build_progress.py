"""A running build says how far it has got, for the pages: read from another process, only while
the process building lives, gone once published."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.warehouse.test_housekeeping import _building_elsewhere
from tests.warehouse.test_publish import build
from warehouse.publish import Warehouse


def test_a_build_in_another_process_is_running_with_its_progress_until_it_dies(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    assert warehouse.running_builds() == []
    child = _building_elsewhere(tmp_path, "elsewhere")
    try:
        (running,) = warehouse.running_builds()
        assert (running.build_id, running.done, running.total) == ("elsewhere", 0, None)
        warehouse.report_progress("elsewhere", 3, 9)
        (running,) = warehouse.running_builds()
        assert (running.done, running.total) == (3, 9)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert warehouse.running_builds() == []  # killed: what it left is not a running build
    assert warehouse.clean_building() == ["elsewhere"]
    assert not (tmp_path / "building" / "elsewhere.progress").exists()


def test_a_published_build_leaves_no_progress_behind(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    path = build(warehouse, "b1", 1)
    warehouse.report_progress("b1", 9, 9)
    warehouse.publish(path)
    assert warehouse.running_builds() == []
    assert sorted(p.name for p in (tmp_path / "building").iterdir()) == []
