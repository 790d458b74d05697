"""The refresh sensor: a new reading starts a refresh; nothing new, or a refresh already under
way, starts none (both backends)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, select

from operational.auth import record_login, system_principal
from operational.db import create_db_engine, unit_of_work
from operational.imports.org import import_org_rows
from operational.models import Group
from operational.services.energy import add_meter, add_point, record_reading
from pipelines.definitions import defs
from pipelines.defs.resources import WarehouseBuild
from pipelines.defs.sensors import refresh_on_new_data
from pipelines.run import STARTED_BY

CLI = system_principal("cli")
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def office_row(row: int, code: str, name: str) -> tuple[int, dict[str, str]]:
    return (
        row,
        {
            "city_code": "SZ",
            "city_name": "深圳公司",
            "office_code": code,
            "office_name": name,
            "timezone": "Asia/Shanghai",
        },
    )


@pytest.fixture
def engine(org_url: str) -> Iterator[Engine]:
    engine = create_db_engine(org_url)
    with unit_of_work(engine) as session:
        add_point(
            session,
            CLI,
            office_code="SZ001",
            code="SZ001-E-MAIN",
            name="总表",
            kind="electricity",
            building=None,
        )
        add_meter(
            session,
            CLI,
            point_code="SZ001-E-MAIN",
            installed_at=T0,
            initial_reading="1000",
            digits=6,
            multiplier="1",
            serial="S-1",
            now=NOW,
        )
    yield engine
    engine.dispose()


class Tick:
    """The sensor, evaluated tick after tick as the daemon does, keeping its cursor."""

    def __init__(self, url: str, tmp_path: Path, instance: dg.DagsterInstance) -> None:
        self.resource = WarehouseBuild.at(url, tmp_path / "warehouse")
        self.instance = instance
        self.cursor: str | None = None

    def __call__(self) -> list[dg.RunRequest]:
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"warehouse": self.resource}
        ) as context:
            result = refresh_on_new_data.evaluate_tick(context)
        self.cursor = result.cursor
        return list(result.run_requests or [])


@pytest.fixture
def tick(engine: Engine, org_url: str, tmp_path: Path) -> Iterator[Tick]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield Tick(org_url, tmp_path, instance)


def save_reading(engine: Engine, day: int) -> None:
    with unit_of_work(engine) as session:
        record_reading(
            session, CLI, "SZ001-E-MAIN", T0 + timedelta(days=day), 1000 + 10 * day, now=NOW
        )


def test_a_new_reading_starts_a_refresh_and_nothing_new_starts_none(
    tick: Tick, engine: Engine
) -> None:
    first = tick()  # the sensor has never seen this database: one refresh to start from
    assert len(first) == 1
    assert first[0].tags[STARTED_BY] == "sensor"
    assert tick() == []  # nothing changed since
    assert tick() == []

    save_reading(engine, 1)
    requested = tick()
    assert len(requested) == 1
    assert requested[0].run_key != first[0].run_key
    assert tick() == []  # the same reading does not start a second refresh

    save_reading(engine, 2)
    save_reading(engine, 3)
    assert len(tick()) == 1  # two readings since the last tick: one refresh


def test_an_edit_in_place_starts_a_refresh_a_login_does_not(tick: Tick, engine: Engine) -> None:
    tick()
    with unit_of_work(engine) as session:  # logins and logouts are nothing a build reads
        record_login(session, "admin", "login")
        record_login(session, "nobody", "login_failed", reason="unknown_user")
    assert tick() == []

    with unit_of_work(engine) as session:  # the office is renamed: no new row anywhere
        group = session.scalars(select(Group)).one()
        import_org_rows(
            session,
            [office_row(2, "SZ001", "华侨城一期管理处")],
            group=group,
            actor=system_principal("test"),
        )
    assert len(tick()) == 1
    assert tick() == []


def test_no_refresh_while_one_is_waiting_to_start_or_running(tick: Tick, engine: Engine) -> None:
    tick()
    save_reading(engine, 1)
    for status in (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED):
        run = tick.instance.add_run(
            dg.DagsterRun(job_name="refresh_warehouse", run_id=str(uuid.uuid4()), status=status)
        )
        assert tick() == []  # the reading waits for that run to end …
        tick.instance.handle_run_event(
            run.run_id,
            dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.RUN_SUCCESS.value,
                job_name="refresh_warehouse",
            ),
        )
    assert len(tick()) == 1  # … then one refresh picks it up
    assert tick() == []


def test_the_sensor_is_on_for_the_refresh_job() -> None:
    sensor = defs.resolve_sensor_def("refresh_on_new_data")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "refresh_warehouse"
    assert sensor.minimum_interval_seconds is not None
    assert sensor.minimum_interval_seconds <= 30  # a new reading is on the dashboards in a minute
