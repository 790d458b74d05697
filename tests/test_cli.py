"""The ``propcloud`` command as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from propcloud.cli import main
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated


@pytest.fixture(params=BACKENDS)
def cli_env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    for url in fresh_database_url(request.param, tmp_path):
        monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
        monkeypatch.setenv("PROPCLOUD_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
        monkeypatch.setenv("PROPCLOUD_LANG", "en")
        yield tmp_path


def upgraded() -> None:
    """The database at head, as ``propcloud db upgrade`` leaves it (the first test runs the
    command itself; the others start from the cheap copy, docs/operations.md)."""
    migrated(os.environ["PROPCLOUD_DATABASE_URL"])


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_upgrade_import_org_twice_and_add_a_user(cli_env: Path) -> None:
    assert invoke("db", "upgrade")[0] == 0
    org = cli_env / "org.csv"
    org.write_text(
        "city_code,city_name,office_code,office_name\n"
        "SH,上海城市公司,SH001,上海翠湖花园管理处\n"
        "BJ,北京城市公司,BJ001,北京望京管理处\n",
        encoding="utf-8",
    )
    code, out = invoke("import", "org", str(org))
    assert code == 0
    assert out.startswith("Imported: 2 created, 0 updated, 0 unchanged. File read as UTF-8.\n")
    assert invoke("import", "org", str(org))[1].startswith("Imported: 0 created, 0 updated, 2")
    code, out = invoke(
        "user",
        "add",
        "wang.fang",
        "--name",
        "王芳",
        "--role",
        "office_manager@office:SH001",
        input="secret-123\nsecret-123\n",
    )
    assert code == 0, out
    assert "office_manager@office:SH001" in out


def test_user_unlock_lets_a_held_back_name_in_from_anywhere(cli_env: Path) -> None:
    from datetime import UTC, datetime

    from operational.auth import FREE_FAILURES, authenticate
    from operational.db import create_db_engine, unit_of_work
    from operational.errors import DomainError

    upgraded()
    invoke("import", "org", str(_org(cli_env)))
    invoke(
        "user",
        "add",
        "wang.fang",
        "--name",
        "王芳",
        "--role",
        "hq_viewer@group",
        "--password",
        "secret-123",
    )
    engine = create_db_engine(os.environ["PROPCLOUD_DATABASE_URL"])
    now = datetime.now(UTC)
    for _ in range(FREE_FAILURES):
        with unit_of_work(engine) as db, pytest.raises(DomainError):
            authenticate(db, "wang.fang", "wrong-password", now, source="198.51.100.7")
    with unit_of_work(engine) as db, pytest.raises(DomainError) as held:
        authenticate(db, "wang.fang", "secret-123", now, source="198.51.100.7")
    assert held.value.key == "auth.locked"
    code, out = invoke("user", "unlock", "wang.fang")
    assert (code, out) == (0, f"Failed logins of wang.fang forgotten: {FREE_FAILURES}.\n")
    with unit_of_work(engine) as db:
        assert authenticate(db, "wang.fang", "secret-123", now, source="198.51.100.7")
    engine.dispose()


def _org(folder: Path) -> Path:
    org = folder / "org.csv"
    org.write_text("city_code,city_name,office_code,office_name\nSH,上海,SH001,上海管理处\n")
    return org


def test_a_bad_org_file_exits_non_zero_listing_every_bad_row(cli_env: Path) -> None:
    upgraded()
    org = cli_env / "org.csv"
    org.write_text(
        "city_code,city_name,office_code,office_name,timezone\n"
        "SH,上海城市公司,SH001,a,Nowhere/City\n"
        "SH,上海城市公司,,b,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["import", "org", str(org)])
    assert result.exit_code == 1
    assert "Row 2: Unknown time zone 'Nowhere/City'" in result.output
    assert "Row 3: office_code is empty." in result.output


def test_bad_role_grant_and_unknown_office_are_explained(cli_env: Path) -> None:
    upgraded()
    for role, expected in [
        ("boss@group", "is not a role grant"),
        ("office_manager@office:NOPE", "No office with code NOPE"),
    ]:
        result = CliRunner().invoke(
            main,
            ["user", "add", "li.lei", "--name", "李雷", "--role", role, "--password", "long-pass1"],
        )
        assert result.exit_code == 1
        assert expected in result.output


def test_warehouse_path_before_any_build_says_what_to_do(cli_env: Path) -> None:
    result = CliRunner().invoke(main, ["warehouse", "path"])
    assert result.exit_code == 1
    assert "propcloud pipeline run" in result.output


def test_every_command_explains_itself() -> None:
    for args in (["--help"], ["import", "org", "--help"], ["user", "add", "--help"]):
        code, out = invoke(*args)
        assert code == 0 and "Usage" in out


def test_user_add_ties_a_supplier_user_to_its_supplier(cli_env: Path) -> None:
    upgraded()
    invoke("import", "org", str(_org(cli_env)))
    suppliers = cli_env / "suppliers.csv"
    suppliers.write_text("supplier_code,name,discipline\nSUP-CL01,洁美保洁,cleaning\n", "utf-8")
    assert invoke("import", "suppliers", str(suppliers))[0] == 0
    args = ("--name", "周师傅", "--role", "supplier_user@office:SH001", "--password", "secret-123")
    code, out = invoke("user", "add", "zhou", *args, "--supplier", "SUP-CL01")
    assert code == 0, out
    assert "supplier_user@office:SH001" in out and "SUP-CL01" in out
    code, out = invoke("user", "add", "zhou2", *args)  # the role needs a supplier
    assert code == 1 and "supplier" in out.lower()
    code, out = invoke("user", "add", "zhou3", *args, "--supplier", "SUP-XX")
    assert code == 1 and "SUP-XX" in out
