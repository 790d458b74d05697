"""Dagster's own instance: its dagster.yaml, and its storage in PostgreSQL when the operational
store is PostgreSQL (so the webserver and the daemon can run as separate services)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from operational.settings import Settings, load_settings
from propcloud.dagster_instance import STORAGE_ENV, prepare_instance, storage_url
from tests.conftest import PG_ADMIN_URL, fresh_database_url

SettingsFor = Callable[[str], Settings]


@pytest.fixture
def settings_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SettingsFor:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv(STORAGE_ENV, raising=False)
    monkeypatch.setenv("PROPCLOUD_VAR_DIR", str(tmp_path))

    def settings(url: str) -> Settings:
        monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
        return load_settings()

    return settings


def test_with_sqlite_dagster_keeps_its_history_in_its_folder(
    settings_for: SettingsFor, tmp_path: Path
) -> None:
    env = prepare_instance(settings_for(f"sqlite:///{tmp_path}/propcloud.db"))
    assert env == {"DAGSTER_HOME": str((tmp_path / "dagster").resolve())}
    written = yaml.safe_load((tmp_path / "dagster" / "dagster.yaml").read_text())
    assert "storage" not in written
    assert written["concurrency"]["pools"]["default_limit"] == 1


def test_with_postgresql_dagster_uses_a_database_next_to_the_operational_one(
    settings_for: SettingsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("postgresql+psycopg://propcloud:s3cret@db.internal:5433/propcloud")
    assert storage_url(settings) == (
        "postgresql+psycopg2://propcloud:s3cret@db.internal:5433/propcloud_dagster"
    )
    monkeypatch.setenv(STORAGE_ENV, "postgresql+psycopg://dagster@other:5432/runs")
    assert storage_url(settings) == "postgresql+psycopg2://dagster@other:5432/runs"


@pytest.mark.postgres
@pytest.mark.slow  # Dagster creates its tables in a new database
def test_runs_are_stored_in_postgresql_and_seen_by_another_process_s_instance(
    settings_for: SettingsFor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in fresh_database_url("postgres", tmp_path):
        settings = settings_for(url)
        dagster_db = f"{make_url(url).database}_dagster"
        try:
            env = prepare_instance(settings)
            assert make_url(env[STORAGE_ENV]).database == dagster_db
            written = yaml.safe_load((Path(env["DAGSTER_HOME"]) / "dagster.yaml").read_text())
            # the file names the variable, never the URL (no password in a file)
            assert written["storage"] == {"postgres": {"postgres_url": {"env": STORAGE_ENV}}}
            monkeypatch.setenv(STORAGE_ENV, env[STORAGE_ENV])  # as the processes propcloud starts

            @dg.op
            def hello() -> int:
                return 1

            @dg.job
            def probe() -> None:
                hello()

            with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
                assert type(instance.run_storage).__name__ == "PostgresRunStorage"
                run_id = probe.execute_in_process(instance=instance).run_id
            # the daemon or the webserver, in another process, opens the same instance
            with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as other:
                assert other.get_run_by_id(run_id) is not None
            engine = create_engine(make_url(url).set(database=dagster_db))
            with engine.connect() as con:
                stored = con.execute(
                    text("SELECT count(*) FROM runs WHERE run_id = :id"), {"id": run_id}
                ).scalar()
            engine.dispose()
            assert stored == 1
            assert prepare_instance(settings) == env  # the second time: nothing to create
        finally:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as con:
                con.execute(text(f'DROP DATABASE IF EXISTS "{dagster_db}" WITH (FORCE)'))
            admin.dispose()
