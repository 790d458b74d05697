"""``propcloud bench memory``: the same full build under several memory limits.

For each value of ``--limits`` (``none`` or DuckDB syntax: ``2GB``, ``512MB``) a full build of
an existing operational database (``run_pipeline`` in a child process, as the scale benchmarks
run it, into an empty warehouse directory) with ``PROPCLOUD_WAREHOUSE_MEMORY_LIMIT`` set to it:
its time, the peak RSS of the process, the largest size DuckDB's spill folder reached (sampled
every 0.2 s under ``building/``) and whether anything of the build was left behind after the
publish. Reported, never asserted (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import run_build_child

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def run_benchmark(
    database_url: str, workdir: Path, limits: list[str], log: Log = _quiet
) -> dict[str, Any]:
    workdir = workdir.resolve()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": list(os.getloadavg()),
        },
        "database_url": database_url,
        "builds": [],
    }
    saved = os.environ.get("PROPCLOUD_WAREHOUSE_MEMORY_LIMIT")
    try:
        for limit in limits:
            log(f"  full build, memory limit {limit} …")
            directory = workdir / f"warehouse-{limit}"
            shutil.rmtree(directory, ignore_errors=True)
            if limit == "none":
                os.environ.pop("PROPCLOUD_WAREHOUSE_MEMORY_LIMIT", None)
            else:
                os.environ["PROPCLOUD_WAREHOUSE_MEMORY_LIMIT"] = limit
            with _SpillWatch(directory / "building") as spill:
                child, wall = run_build_child(database_url, directory)
            left = sorted(p.name for p in (directory / "building").iterdir())
            report["builds"].append(
                {
                    "limit": limit,
                    "seconds": round(child["seconds"], 2),
                    "process_seconds": round(wall, 2),
                    "peak_rss_mb": round(child["peak_rss_kb"] / 1024, 1),
                    "peak_spill_mb": round(spill.peak / 2**20, 1),
                    "left_in_building": left,
                    "published_mb": round(Path(child["published"]).stat().st_size / 2**20, 1),
                }
            )
            shutil.rmtree(directory, ignore_errors=True)
    finally:
        if saved is None:
            os.environ.pop("PROPCLOUD_WAREHOUSE_MEMORY_LIMIT", None)
        else:
            os.environ["PROPCLOUD_WAREHOUSE_MEMORY_LIMIT"] = saved
    return report


def format_report(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"memory benchmark {report['date']} — {machine['cpu_count']} cores, load average at "
        f"start {', '.join(f'{x:.1f}' for x in machine['load_average'])}",
        f"database: {report['database_url']}",
        "",
        "limit     build s  peak RSS MB  peak spill MB  left in building/",
    ]
    for b in report["builds"]:
        lines.append(
            f"{b['limit']:<8}  {b['seconds']:>7.1f}  {b['peak_rss_mb']:>11,.0f}  "
            f"{b['peak_spill_mb']:>13,.0f}  {', '.join(b['left_in_building']) or 'nothing'}"
        )
    return "\n".join(lines)


class _SpillWatch:
    """The largest total size of DuckDB's spill folders (``*.tmp``) under ``building``."""

    def __init__(self, building: Path) -> None:
        self.building = building
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for folder in self.building.glob("*.tmp"):
                for path in folder.rglob("*"):
                    with contextlib.suppress(OSError):
                        total += path.stat().st_size
            self.peak = max(self.peak, total)
