"""The Dagster definitions load, with the assets, lineage, checks, schedule and pool we expect."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseBuild


def key(path: str) -> dg.AssetKey:
    return dg.AssetKey(path.split("/"))


def test_the_definitions_hold_the_foundation_assets() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw/org_group",
        "raw/org_city_company",
        "raw/org_office",
        "staging/stg_groups",
        "staging/stg_city_companies",
        "staging/stg_offices",
        "marts/dim_office",
        "marts/build_info",
        "published_warehouse",
    } <= keys


def test_lineage_follows_the_sql() -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get(key("marts/dim_office")).parent_keys == {
        key("staging/stg_offices"),
        key("staging/stg_city_companies"),
        key("staging/stg_groups"),
    }
    assert graph.get(key("staging/stg_offices")).parent_keys == {key("raw/org_office")}
    published = graph.get(key("published_warehouse"))
    assert {key("marts/control_tower"), key("marts/build_info")} <= published.parent_keys
    # everything is upstream of the publish
    upstream = graph.get_ancestor_asset_keys(key("published_warehouse"))
    assert upstream == graph.get_all_asset_keys() - {key("published_warehouse")}


def test_every_writer_is_in_the_warehouse_pool() -> None:
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if assets_def.keys:
            assert assets_def.op.pool == WAREHOUSE_POOL, assets_def.keys


def test_dim_office_has_blocking_checks() -> None:
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key, k.name) for k in graph.asset_check_keys}
    assert (key("marts/dim_office"), "dim_office_code_unique") in checks
    assert (key("marts/dim_office"), "dim_office_has_city") in checks
    # every check blocks the publication, except the warnings that next year has no holidays
    # and that a nonconformity's breach points are not priced by its contract's standard
    warnings = {k.name for k in graph.asset_check_keys if not graph.get_check_spec(k).blocking}
    assert warnings == {"holidays_loaded_for_next_year", "breach_points_priced_by_standard"}


def test_a_schedule_refreshes_everything() -> None:
    schedule = defs.resolve_schedule_def("refresh_warehouse_every_15_minutes")
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "refresh_warehouse"
    job = defs.resolve_job_def("refresh_warehouse")
    assert key("published_warehouse") in job.asset_layer.executable_asset_keys


def test_failed_builds_are_cleaned_up() -> None:
    sensor = defs.resolve_sensor_def("discard_failed_build")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_resource_defaults_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("PROPCLOUD_WAREHOUSE_DIR", str(tmp_path))
    resource = WarehouseBuild.from_settings()
    assert resource.database_url == "sqlite:///elsewhere.db"
    assert resource.warehouse_dir == str(tmp_path)


def test_a_run_has_a_step_per_layer_not_per_table() -> None:
    """Each table stays an asset of its own, but a refresh runs seven steps (a step costs a run
    tens of milliseconds and several stored events, whatever it does)."""
    job = defs.resolve_job_def("refresh_warehouse")
    assert set(job.graph.node_dict) == {
        "raw_tables",
        "staging_models",
        "marts_models",
        "sla_clocks",
        "energy_marts",
        "marts_models_after_python",
        "published_warehouse",
    }
    graph = defs.resolve_asset_graph()
    assert len(graph.get_all_asset_keys()) > 40
    # the SQL and raw steps can be subset from the UI; each check runs in its table's step
    for assets_def in graph.assets_defs:
        if assets_def.node_def.name in {"raw_tables", "staging_models", "marts_models"}:
            assert assets_def.can_subset
        for check_key in assets_def.check_keys:
            assert check_key.asset_key in assets_def.keys
    assert len(graph.asset_check_keys) == 13


def test_every_asset_is_described_in_words_not_sql() -> None:
    """The UI shows each table's description: what one row is, in words (the SQL file's header),
    never the query itself."""
    graph = defs.resolve_asset_graph()
    descriptions = {
        k.to_user_string(): graph.get(k).description or "" for k in graph.get_all_asset_keys()
    }
    assert [key for key, text in descriptions.items() if len(text.split()) < 3] == []
    assert [key for key, text in descriptions.items() if "select" in text.lower()] == []
    steps = [a.op.description or "" for a in graph.assets_defs if a.keys]
    assert [text for text in steps if "select" in text.lower()] == []
    marts = {key: text for key, text in descriptions.items() if key.startswith("marts/")}
    assert len(set(marts.values())) == len(marts)  # one of its own per mart
    assert descriptions["marts/dim_office"] == (
        "One row per management office with its city company and group: the organisation tree."
    )
