"""What `propcloud serve` starts: the Dagster UI on this machine only unless told otherwise, and
neither server sending usage statistics out of the office network."""

from __future__ import annotations

import pytest

from operational.settings import load_settings
from propcloud.cli import server_commands


def _after(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_dagster_ui_listens_on_this_machine_only_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROPCLOUD_DAGSTER_HOST", raising=False)
    host = load_settings().dagster_host
    assert host == "127.0.0.1"
    dashboards, dagster = server_commands(8501, 3000, host)
    assert dagster[1:4] == ["dev", "-m", "pipelines.definitions"]
    assert (_after(dagster, "-h"), _after(dagster, "-p")) == ("127.0.0.1", "3000")
    assert _after(dashboards, "--browser.gatherUsageStats") == "false"
    assert _after(dashboards, "--server.headless") == "true"  # no first-run e-mail prompt


def test_the_address_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPCLOUD_DAGSTER_HOST", "10.1.2.3")
    host = load_settings().dagster_host
    assert _after(server_commands(8501, 3000, host)[1], "-h") == "10.1.2.3"
