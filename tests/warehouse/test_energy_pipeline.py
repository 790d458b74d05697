"""End to end: operational SQLite → run_pipeline → published energy marts, then a refresh."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.run import run_pipeline
from tests.db_support import migrated
from warehouse.queries_energy import EnergyReader
from warehouse.scope import OfficeScope


def _readings(con: sa.Connection, first_id: int, days: range) -> None:
    for d in days:
        con.exec_driver_sql(
            "insert into energy_reading (id, point_id, meter_id, read_at, reading, source,"
            " void, entered_by, entered_at) values (?, 1, 1, ?, ?, 'import', 0, 't', ?)",
            (first_id + d, f"2026-01-{d:02d} 16:00:00", 10.0 * d, "2026-01-01 00:00:00"),
        )


@pytest.mark.slow
def test_pipeline_builds_and_refreshes_energy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'op.db'}"
    migrated(url)
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql("insert into org_group (id, code, name) values (1, 'G', 'G')")
        con.exec_driver_sql(
            "insert into org_city_company (id, group_id, code, name) values (1, 1, 'C', 'C')"
        )
        con.exec_driver_sql(
            "insert into org_office (id, city_id, code, name, timezone)"
            " values (1, 1, 'O1', 'O1', 'Asia/Shanghai')"
        )
        con.exec_driver_sql(
            "insert into energy_point (id, office_id, code, name, kind, created_at)"
            " values (1, 1, 'P1', 'P1', 'electricity', '2025-12-31 00:00:00')"
        )
        con.exec_driver_sql(
            "insert into energy_meter (id, point_id, multiplier, digits, installed_at,"
            " initial_reading) values (1, 1, 1, 6, '2025-12-31 16:00:00', 0)"
        )
        _readings(con, 0, range(1, 11))
    run_pipeline(url, tmp_path / "wh", as_of=datetime(2026, 2, 1, tzinfo=UTC))
    energy = EnergyReader(tmp_path / "wh", OfficeScope.everything())
    daily = energy.daily("P1", datetime(2026, 1, 1).date(), datetime(2026, 1, 31).date())
    assert daily.height == 10 and daily["consumption"].sum() == pytest.approx(100)
    with engine.begin() as con:
        _readings(con, 0, range(11, 12))
    run_pipeline(url, tmp_path / "wh", as_of=datetime(2026, 2, 1, tzinfo=UTC))
    energy = EnergyReader(tmp_path / "wh", OfficeScope.everything())
    daily = energy.daily("P1", datetime(2026, 1, 1).date(), datetime(2026, 1, 31).date())
    assert daily.height == 11
    monthly = energy.monthly("office", "O1", "electricity")
    assert monthly["consumption"][0] == pytest.approx(110)
