"""The warning that a coming year has no public holidays: a WARN check of the SLA build that does
not stop the publication, and goes quiet once the year's list is loaded group-wide."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

import pipelines.defs.assets
from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.imports.calendars import import_calendar_days_rows
from pipelines.defs.calendar import holidays_loaded_for_next_year
from pipelines.defs.checks import all_checks
from pipelines.defs.resources import WarehouseBuild
from warehouse.publish import Warehouse

pytestmark = pytest.mark.slow  # pipeline builds: `make test` runs them, `make check` does not

LATE_2026 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 2027 is not in chinese_calendar 1.11


def _evaluation(org_url: str, warehouse_dir: Path, as_of: datetime) -> dg.AssetCheckEvaluation:
    resource = WarehouseBuild.at(org_url, warehouse_dir, as_of=as_of.isoformat())
    result = dg.materialize(pipelines.defs.assets.all_assets, resources={"warehouse": resource})
    assert result.success  # a warning never stops the build
    assert Warehouse(warehouse_dir).current_version() == result.run_id
    (found,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == holidays_loaded_for_next_year.name
    ]
    return found


def test_next_year_without_holidays_warns_until_its_list_is_loaded(
    org_url: str, tmp_path: Path
) -> None:
    assert holidays_loaded_for_next_year in all_checks
    warned = _evaluation(org_url, tmp_path / "wh", LATE_2026)
    assert not warned.passed
    assert warned.severity is dg.AssetCheckSeverity.WARN
    assert not warned.blocking
    assert warned.metadata["years_without_holidays"] == dg.JsonMetadataValue(["2027"])

    engine = create_db_engine(org_url)
    with unit_of_work(engine) as session:  # test data for 2027, loaded as the group would
        import_calendar_days_rows(
            session,
            [
                (
                    2,
                    {
                        "office_code": "",
                        "date": "2027-01-01",
                        "kind": "holiday",
                        "start": "",
                        "end": "",
                    },
                )
            ],
            actor=system_principal("test"),
        )
    engine.dispose()
    assert _evaluation(org_url, tmp_path / "wh", LATE_2026).passed
    # In 2027 the year to come is 2028.
    later = _evaluation(org_url, tmp_path / "wh", datetime(2027, 3, 1, tzinfo=UTC))
    assert not later.passed
    assert later.metadata["years_without_holidays"] == dg.JsonMetadataValue(["2028"])
