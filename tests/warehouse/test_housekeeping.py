"""Housekeeping: what killed builds leave in ``building/`` goes at the next build, never a running
build's file; only a bounded number of published versions stays on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from operational.errors import DomainError
from operational.settings import load_settings
from pipelines.defs.resources import WarehouseBuild
from tests.warehouse.test_publish import build
from warehouse.publish import Warehouse

CHILD = """
import sys, time
from pathlib import Path
from warehouse.publish import Warehouse

path = Warehouse(Path(sys.argv[1])).begin_build(sys.argv[2])
path.with_name(path.name + ".wal").write_bytes(b"wal")        # as DuckDB leaves them when
(path.with_name(path.name + ".tmp") / "spill").mkdir(parents=True)  # killed mid-way
print("building", flush=True)
time.sleep(600)
"""


def _building_elsewhere(directory: Path, build_id: str) -> subprocess.Popen[str]:
    """Another process that has begun a build and is still at it."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory), build_id],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None and child.stdout.readline() == "building\n"
    return child


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / "building").iterdir())


def test_a_killed_build_is_cleaned_at_the_next_start_and_a_running_one_never(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    running = _building_elsewhere(tmp_path, "running")
    killed = _building_elsewhere(tmp_path, "killed")
    try:
        killed.send_signal(signal.SIGKILL)  # kill -9: no clean-up of its own
        killed.wait()
        assert _files(tmp_path) == [
            "killed.duckdb",
            "killed.duckdb.tmp",
            "killed.duckdb.wal",
            "killed.lock",
            "running.duckdb",
            "running.duckdb.tmp",
            "running.duckdb.wal",
            "running.lock",
        ]
        warehouse.publish(build(warehouse, "next", 1))  # begins a build: cleans first
        assert _files(tmp_path) == [
            "running.duckdb",
            "running.duckdb.tmp",
            "running.duckdb.wal",
            "running.lock",
        ]
    finally:
        running.kill()
        running.wait()
    assert warehouse.clean_building() == ["running"]  # its process is gone now
    assert _files(tmp_path) == []


def test_a_build_this_process_is_running_is_kept_and_leftovers_without_a_lock_go(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    mine = warehouse.begin_build("mine")
    (tmp_path / "building" / "old-release.duckdb").write_bytes(b"")  # from before locks
    assert warehouse.clean_building() == ["old-release"]
    other = warehouse.begin_build("other")
    assert mine.exists() and other.exists()
    warehouse.discard(mine)
    warehouse.publish(other)
    assert _files(tmp_path) == []  # nothing of a finished build stays, its lock included


@pytest.mark.parametrize("keep", [1, 2, 4])
def test_only_the_newest_versions_are_kept(tmp_path: Path, keep: int) -> None:
    warehouse = Warehouse(tmp_path, keep_versions=keep)
    for n in range(6):
        warehouse.publish(build(warehouse, f"v{n}", 1))
    kept = sorted(p.stem for p in (tmp_path / "versions").glob("*.duckdb"))
    assert kept == [f"v{n}" for n in range(6 - keep, 6)]
    assert warehouse.current_version() == "v5"


def test_the_number_of_versions_kept_is_a_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().warehouse_keep_versions == 3
    monkeypatch.setenv("PROPCLOUD_WAREHOUSE_KEEP_VERSIONS", "5")
    monkeypatch.setenv("PROPCLOUD_WAREHOUSE_DIR", str(tmp_path))
    assert WarehouseBuild.from_settings().warehouse.keep_versions == 5
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("PROPCLOUD_WAREHOUSE_KEEP_VERSIONS", bad)
        with pytest.raises(DomainError) as refused:
            load_settings()
        assert "PROPCLOUD_WAREHOUSE_KEEP_VERSIONS" in refused.value.message("en")


def test_a_lock_file_left_half_made_is_removed(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    (tmp_path / "building").mkdir()
    draft = tmp_path / "building" / ".gone.lock.0123abcd"
    draft.write_text(f"{os.getpid()}\n")
    warehouse.clean_building()
    assert _files(tmp_path) == []
