"""An operational database with a small organisation, committed, on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from operational.db import create_db_engine, unit_of_work
from operational.models import CityCompany, Group, Office
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated


@pytest.fixture(params=BACKENDS)
def org_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for url in fresh_database_url(request.param, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            group = Group(code="YY", name="一应物业集团")
            session.add(group)
            session.flush()
            city = CityCompany(group_id=group.id, code="SZ", name="深圳公司")
            session.add(city)
            session.flush()
            session.add_all(
                [
                    Office(city_id=city.id, code="SZ001", name="华侨城管理处"),
                    Office(city_id=city.id, code="SZ002", name="蛇口管理处"),
                ]
            )
        engine.dispose()
        yield url
