"""The energy commands as an operator runs them: bad rows printed, exit status 1, label PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from propcloud.cli import main
from tests.db_support import migrated


def test_import_and_labels_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    monkeypatch.setenv("PROPCLOUD_BASE_URL", "https://pc.example")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    org = tmp_path / "org.csv"
    org.write_text("city_code,city_name,office_code,office_name\nCL,城,CL01,处\n", encoding="utf-8")
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "office_code,point_code,name,kind,installed_at,initial_reading\n"
        "CL01,CL01-W,总水表,water,2026-01-01,0\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["import", "meters", str(meters)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    readings = tmp_path / "readings.csv"
    readings.write_text(
        "point_code,read_at,reading\nCL01-W,2026-01-02,5\nCL01-W,2026-01-03,4\n", encoding="utf-8"
    )
    result = runner.invoke(main, ["import", "readings", str(readings)])
    assert result.exit_code == 1
    assert "Row 3: The reading 4 is lower than the previous reading 5" in result.output
    readings.write_text("point_code,read_at,reading\nCL01-W,2026-01-02,5\n", encoding="utf-8")
    result = runner.invoke(main, ["import", "readings", str(readings)])
    assert result.exit_code == 0 and "1 created" in result.output
    out = tmp_path / "labels.pdf"
    result = runner.invoke(main, ["labels", "meters", "--office", "CL01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and b"https://pc.example/reading?point=CL01-W" in (
        out.read_bytes()
    )
