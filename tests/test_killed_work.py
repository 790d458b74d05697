"""``kill -9`` in the middle of long work, as an operator's shell or the machine's OOM killer does
it, on SQLite and PostgreSQL: an import killed while it writes leaves none of its readings (the
file is one transaction) and the same file imports whole afterwards; a warehouse build killed
half-way leaves the published version serving, and the next build publishes and clears what the
killed one left in ``building/``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from warehouse.publish import Warehouse

ROOT = Path(__file__).resolve().parents[1]
POINTS = 40
DAYS = 3_000  # 120 000 readings: a few seconds of writing, time enough to be killed in it
AS_OF = "2026-11-20T01:30:00+00:00"


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    for url in fresh_database_url(request.param, tmp_path):
        env = {
            **os.environ,
            "PROPCLOUD_DATABASE_URL": url,
            "PROPCLOUD_VAR_DIR": str(tmp_path / "var"),
            "PROPCLOUD_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
            "PROPCLOUD_LANG": "en",
        }
        env.pop("DAGSTER_HOME", None)
        yield env


def _propcloud(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "propcloud.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _kill_when(env: dict[str, str], said: str, *args: str) -> str:
    """Start ``propcloud *args``, kill it with SIGKILL as soon as it prints a line containing
    ``said`` (its progress, on stderr), and return what it printed."""
    child = subprocess.Popen(
        [sys.executable, "-m", "propcloud.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    printed: list[str] = []
    try:
        for line in child.stderr:
            printed.append(line)
            if said in line:
                child.send_signal(signal.SIGKILL)
                break
        assert child.wait(120) == -signal.SIGKILL, "".join(printed)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return "".join(printed)


def _load_office(env: dict[str, str], tmp_path: Path) -> Path:
    org = tmp_path / "org.csv"
    org.write_text("city_code,city_name,office_code,office_name\nCL,城,CL01,处\n", encoding="utf-8")
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "office_code,point_code,name,kind,installed_at,initial_reading\n"
        + "".join(f"CL01,CL01-E{p:02},电表{p},electricity,2010-01-01,0\n" for p in range(POINTS)),
        encoding="utf-8",
    )
    migrated(env["PROPCLOUD_DATABASE_URL"])  # as `propcloud db upgrade` (tests/test_cli.py runs it)
    _propcloud(env, "import", "org", str(org))
    _propcloud(env, "import", "meters", str(meters))
    readings = tmp_path / "readings.csv"
    first = date(2010, 1, 2)
    with readings.open("w", encoding="utf-8") as out:
        out.write("point_code,read_at,reading\n")
        for p in range(POINTS):
            for d in range(DAYS):
                out.write(f"CL01-E{p:02},{first + timedelta(days=d)},{(d + 1) * 10}\n")
    return readings


def _readings(env: dict[str, str]) -> int:
    engine = sa.create_engine(env["PROPCLOUD_DATABASE_URL"])
    try:
        with engine.connect() as con:
            return int(con.execute(sa.text("select count(*) from energy_reading")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_an_import_killed_while_writing_leaves_nothing_and_imports_whole_afterwards(
    site: dict[str, str], tmp_path: Path
) -> None:
    readings = _load_office(site, tmp_path)
    printed = _kill_when(site, "Writing the readings: ", "import", "readings", str(readings))
    assert "Writing the readings: 10%" in printed  # killed with part of the file written
    assert _readings(site) == 0

    done = _propcloud(site, "import", "readings", str(readings))
    assert f"{POINTS * DAYS} created" in done.stdout
    assert _readings(site) == POINTS * DAYS


@pytest.mark.slow
def test_a_build_killed_half_way_leaves_the_published_version_and_the_next_build_publishes(
    site: dict[str, str], tmp_path: Path
) -> None:
    _load_office(site, tmp_path)
    first = Path(_propcloud(site, "pipeline", "run", "--as-of", AS_OF).stdout.split()[-1])
    directory = Path(site["PROPCLOUD_WAREHOUSE_DIR"])
    warehouse = Warehouse(directory)
    assert warehouse.current_version() == first.stem

    printed = _kill_when(site, "Building the warehouse, table by table: ", "pipeline", "run")
    assert "Building the warehouse" in printed
    assert any((directory / "building").iterdir())  # what the killed build left
    assert warehouse.current_version() == first.stem
    published = warehouse.current_path()
    assert published is not None
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.sql("select office_code from marts.dim_office").fetchall() == [("CL01",)]

    second = Path(_propcloud(site, "pipeline", "run", "--as-of", AS_OF).stdout.split()[-1])
    assert second != first and warehouse.current_version() == second.stem
    assert not [p for p in (directory / "building").iterdir() if p.suffix != ".lock"]
