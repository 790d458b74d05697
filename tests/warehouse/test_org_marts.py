"""The org staging models and marts, exact output on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from operational.db import create_db_engine, unit_of_work
from operational.models import CityCompany, Group, Office
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_table
from warehouse.models import load_models, run_models, write_run_params

AS_OF = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
ORG_MODELS = {
    "staging.stg_groups",
    "staging.stg_city_companies",
    "staging.stg_offices",
    "marts.dim_office",
    "marts.build_info",
}


@pytest.fixture(params=BACKENDS)
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Two city companies, three offices, extracted and modelled into an in-memory DuckDB."""
    for url in fresh_database_url(request.param, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            group = Group(code="YY", name="一应物业集团")
            session.add(group)
            session.flush()
            gz = CityCompany(group_id=group.id, code="GZ", name="广州公司")
            sz = CityCompany(group_id=group.id, code="SZ", name="深圳公司")
            session.add_all([sz, gz])
            session.flush()
            session.add_all(
                [
                    Office(city_id=sz.id, code="SZ002", name="蛇口管理处"),
                    Office(city_id=gz.id, code="GZ001", name="天河管理处", timezone="Asia/Urumqi"),
                    Office(city_id=sz.id, code="SZ001", name="华侨城管理处"),
                ]
            )
        engine.dispose()
        con = duckdb.connect()
        with OperationalSource(url) as database:  # one connection, as a pipeline run
            for source in SOURCES:
                extract_table(database, con, source.table)
        write_run_params(con, version="v1", as_of=AS_OF, database_backend=database_backend(url))
        run_models(con, [m for m in load_models() if m.table in ORG_MODELS])
        yield con


def test_dim_office_is_the_org_tree(built: duckdb.DuckDBPyConnection) -> None:
    rows = built.sql("select * from marts.dim_office order by city_code, office_code").fetchall()
    assert rows == [
        ("YY", "一应物业集团", "GZ", "广州公司", "GZ001", "天河管理处", "Asia/Urumqi"),
        ("YY", "一应物业集团", "SZ", "深圳公司", "SZ001", "华侨城管理处", "Asia/Shanghai"),
        ("YY", "一应物业集团", "SZ", "深圳公司", "SZ002", "蛇口管理处", "Asia/Shanghai"),
    ]
    types = built.sql("describe marts.dim_office").fetchall()
    assert {name: kind for name, kind, *_ in types} == dict.fromkeys(
        [
            "group_code",
            "group_name",
            "city_code",
            "city_name",
            "office_code",
            "office_name",
            "timezone",
        ],
        "VARCHAR",
    )


def test_build_info_records_the_run(built: duckdb.DuckDBPyConnection) -> None:
    ((version, built_at, as_of, backend),) = built.sql("select * from marts.build_info").fetchall()
    assert version == "v1"
    assert as_of == datetime(2026, 3, 1, 8, 30)  # UTC, stored without zone
    assert isinstance(built_at, datetime)
    assert backend in {"sqlite", "postgresql"}
    types = {name: kind for name, kind, *_ in built.sql("describe marts.build_info").fetchall()}
    assert types == {
        "version": "VARCHAR",
        "built_at": "TIMESTAMP",
        "as_of": "TIMESTAMP",
        "database_backend": "VARCHAR",
    }


def test_models_know_their_dependencies() -> None:
    models = {m.table: m for m in load_models()}
    assert models["marts.dim_office"].depends_on == {
        "staging.stg_offices",
        "staging.stg_city_companies",
        "staging.stg_groups",
    }
    assert models["staging.stg_offices"].depends_on == {"raw.org_office"}
    assert models["marts.build_info"].depends_on == {"raw.run_params"}
    order = [m.table for m in load_models()]
    assert order.index("staging.stg_offices") < order.index("marts.dim_office")


def test_as_of_must_carry_a_zone() -> None:
    with pytest.raises(ValueError, match="zone"):
        write_run_params(
            duckdb.connect(), version="v", as_of=datetime(2026, 1, 1), database_backend="sqlite"
        )
