"""Long commands show progress: a bar on a terminal, plain lines in CI or a pipe, in PROPCLOUD_LANG."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from operational.i18n import LANGUAGES, catalogue
from propcloud.cli import main
from propcloud.progress import TerminalProgress
from tests.db_support import migrated


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_say_each_tenth_once_and_the_time_taken() -> None:
    out, clock = io.StringIO(), Clock()
    progress = TerminalProgress("en", out, clock=clock)
    progress.begin("ops.progress.import.rows", 2_000_000)
    for _ in range(200):  # a chunk of 10 000 at a time
        progress.advance(10_000)
    clock.now = 8.04
    progress.end()
    assert out.getvalue().splitlines() == [
        "Checking the rows …",
        *(f"Checking the rows: {p}% ({p * 20_000:,} / 2,000,000)" for p in range(10, 100, 10)),
        "Checking the rows: 2,000,000 done in 8.0 s",
    ]


def test_a_stage_of_unknown_size_and_a_failed_one() -> None:
    out, clock = io.StringIO(), Clock()
    progress = TerminalProgress("zh_CN", out, clock=clock)
    progress.begin("ops.progress.import.read", None, file="读数.csv")
    clock.now = 1.25
    progress.end()
    progress.begin("ops.progress.import.write", 10)
    progress.advance(3)
    progress.end(failed=True)
    progress.end()  # nothing open: nothing said
    assert out.getvalue().splitlines() == [
        "读取 读数.csv …",
        "读取 读数.csv：完成，用时 1.2 秒",
        "写入读数 …",
        "写入读数：30%（3 / 10）",
        "写入读数：已中止",
    ]


def test_a_terminal_gets_a_bar_with_the_position_and_the_item() -> None:
    out = Terminal()
    progress = TerminalProgress("en", out, clock=Clock())
    assert progress.bar
    progress.begin("ops.progress.build.tables", 4)
    for table in ("raw/org_office", "staging/stg_offices", "marts/dim_office", "published"):
        progress.advance(1, table)
    progress.end()
    screen = out.getvalue()
    assert "Building the warehouse, table by table" in screen
    assert "4/4" in screen and "100%" in screen and "marts/dim_office" in screen
    assert "\r" in screen  # redrawn in place, not a line per table
    assert screen.endswith("Building the warehouse, table by table: 4 done in 0.0 s\n")


@pytest.mark.parametrize(
    ("language", "label", "summary"),
    [
        ("en", "Checking the readings point by point", "Imported: 2 created"),
        ("zh_CN", "按计量点核对读数", "导入完成：新增 2 条"),
    ],
)
def test_the_readings_import_shows_progress_on_stderr_in_the_users_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str, label: str, summary: str
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", language)
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
    assert runner.invoke(main, ["import", "meters", str(meters)]).exit_code == 0
    readings = tmp_path / "readings.csv"
    readings.write_text(
        "point_code,read_at,reading\nCL01-W,2026-01-02,5\nCL01-W,2026-01-03,7\n", encoding="utf-8"
    )
    result = runner.invoke(main, ["import", "readings", str(readings)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(summary)  # standard output: the summary alone
    lines = result.stderr.splitlines()
    assert f"{label} …" in lines
    assert any(line.startswith(f"{label}") and "2" in line for line in lines[1:])


def test_every_progress_label_is_in_both_languages() -> None:
    root = Path(__file__).resolve().parents[1]
    used = {
        key
        for package in ("operational", "pipelines", "propcloud")
        for path in (root / package).rglob("*.py")
        for key in re.findall(r"""["'](ops\.[a-z_]+\.[a-z_.]+)["']""", path.read_text("utf-8"))
    }
    assert "ops.progress.import.rows" in used
    for language in LANGUAGES:
        assert sorted(used - catalogue(language).keys()) == []
