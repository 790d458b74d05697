"""While the warehouse is being rebuilt, every page's sidebar says how far the build has got;
with no build running there is no progress bar (and nothing refreshing)."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.dashboards.conftest import Dashboard, Site
from tests.warehouse.test_housekeeping import _building_elsewhere
from warehouse.publish import Warehouse


def _progress_texts(app: Any) -> list[str]:
    return [element.proto.text for element in app.sidebar.get("progress")]


def test_the_sidebar_shows_a_running_build_and_nothing_otherwise(
    dashboard: Callable[..., Dashboard], demo_site: Site, tmp_path: Path
) -> None:
    warehouse_dir = tmp_path / "warehouse"
    shutil.copytree(demo_site.warehouse_dir, warehouse_dir)
    dash = dashboard(warehouse_dir)
    dash.app.run()
    dash.log_in("hq")
    assert not dash.app.exception
    assert _progress_texts(dash.app) == []

    child = _building_elsewhere(warehouse_dir, "nightly")
    try:
        Warehouse(warehouse_dir).report_progress("nightly", 4, 9)
        dash.app.run()
        assert not dash.app.exception
        (text,) = _progress_texts(dash.app)
        assert text.startswith("数据仓库正在更新：第 4 / 9 步")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    dash.app.run()
    assert _progress_texts(dash.app) == []
