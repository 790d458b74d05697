"""End to end: a refresh through ``run_pipeline`` continues the published SLA build and
publishes the same marts as a build from scratch, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.services import orders
from pipelines.run import run_pipeline
from tests.conftest import BACKENDS
from tests.warehouse.sla_support import AS_OF_1, scenario_database
from tests.warehouse.test_sla_incremental import MARTS, corrective, people, raise_order

pytestmark = (
    pytest.mark.slow
)  # several pipeline builds each: `make test` runs them, `make check` does not

CLI = system_principal("cli")

H = timedelta(hours=1)


@pytest.fixture(params=BACKENDS)
def scenario_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from scenario_database(request.param, tmp_path)


def published(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.sql(f"select * from {t} order by all").fetchall() for t in MARTS}


def wait_and_process(engine: Engine, document_no: str, at: datetime) -> None:
    """The moves between builds: ``document_no`` waits for its owner (clock paused) at ``at``,
    the scenario's third corrective order is processed an hour later (clock stopped)."""
    with unit_of_work(engine) as session:
        who = people(session)
        order = orders.get_order(session, CLI, document_no)
        orders.wait_corrective(session, who["tech"], order, order.version, "owner", at=at)
        c3 = corrective(session)[2]
        orders.process_corrective(session, who["tech"], c3, c3.version, "done", at=at + H)


def test_refresh_through_the_pipeline_equals_a_fresh_build(
    scenario_url: str, tmp_path: Path
) -> None:
    run_pipeline(scenario_url, tmp_path / "wh", AS_OF_1)
    engine = create_db_engine(scenario_url)
    with unit_of_work(engine) as session:
        new = raise_order(session, people(session), AS_OF_1 + H)
    wait_and_process(engine, new.document_no, AS_OF_1 + 2 * H)
    engine.dispose()
    as_of = AS_OF_1 + 6 * H
    refreshed = run_pipeline(scenario_url, tmp_path / "wh", as_of)
    fresh = run_pipeline(scenario_url, tmp_path / "fresh", as_of)
    with duckdb.connect(str(refreshed), read_only=True) as con:
        modes = con.sql("select mode, documents from sla.build_log order by built_at").fetchall()
        assert con.sql(
            "select paused, state from marts.sla_clocks where document_no = $n",
            params={"n": new.document_no},
        ).fetchall() == [(True, "pending")]
    assert modes == [("full", None), ("incremental", 2)]
    assert published(refreshed) == published(fresh)


def test_a_refresh_continues_a_spare_version_several_builds_behind(
    scenario_url: str, tmp_path: Path
) -> None:
    """The third build takes the first build's file (a superseded version nobody reads) instead
    of copying the current one, catches up two builds' worth of changes, and publishes the
    same marts as a build from scratch."""
    first = run_pipeline(scenario_url, tmp_path / "wh", AS_OF_1)
    engine = create_db_engine(scenario_url)
    with unit_of_work(engine) as session:
        who = people(session)
        new = raise_order(session, who, AS_OF_1 + H)
    second = run_pipeline(scenario_url, tmp_path / "wh", AS_OF_1 + 2 * H)
    wait_and_process(engine, new.document_no, AS_OF_1 + 3 * H)
    engine.dispose()
    as_of = AS_OF_1 + 6 * H
    third = run_pipeline(scenario_url, tmp_path / "wh", as_of)
    fresh = run_pipeline(scenario_url, tmp_path / "fresh", as_of)
    versions = sorted(p.name for p in (tmp_path / "wh" / "versions").glob("*.duckdb"))
    assert versions == sorted([second.name, third.name])  # the first became the third
    assert not first.exists()
    with duckdb.connect(str(third), read_only=True) as con:
        modes = con.sql("select mode from sla.build_log order by built_at").fetchall()
    assert modes == [("full",), ("incremental",)]  # the second build's log is not in its line
    assert published(third) == published(fresh)
