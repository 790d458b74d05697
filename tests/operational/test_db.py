"""Units of work and the connection pool (operational/db.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from operational import db
from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import Group
from tests.conftest import fresh_database_url
from tests.db_support import migrated


def test_each_unit_of_work_writes_to_its_own_database_and_rolls_back_on_error(
    migrated_url: str, tmp_path: Path
) -> None:
    other_url = f"sqlite:///{tmp_path}/other.db"
    migrated(other_url)
    main, other = create_db_engine(migrated_url), create_db_engine(other_url)
    try:
        with unit_of_work(other) as session:
            ensure_group(session, "ZZ", "另一集团")
        with unit_of_work(main) as session:  # the shared factory binds each session apart
            codes = set(session.scalars(select(Group.code)))
        assert "ZZ" not in codes
        with pytest.raises(RuntimeError), unit_of_work(other) as session:
            session.add(Group(code="ZY", name="不写入"))
            session.flush()
            raise RuntimeError("the block fails")
        with unit_of_work(other) as session:
            assert set(session.scalars(select(Group.code))) == {"ZZ"}
            assert session.scalar(select(func.count()).select_from(Group)) == 1
    finally:
        main.dispose()
        other.dispose()


@pytest.mark.postgres
def test_a_connection_dropped_while_idle_is_replaced_unnoticed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends a pooled connection (restart, idle timeout): the next unit of work gets
    a fresh one instead of an error."""
    for url in fresh_database_url("postgres", tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with unit_of_work(engine) as session:
                ensure_group(session, "YY", "一应物业集团")
                first = session.scalar(text("select pg_backend_pid()"))
            with admin.connect() as con:
                assert con.scalar(text("select pg_terminate_backend(:pid)"), {"pid": first})
            monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # idle long enough
            with unit_of_work(engine) as session:
                second = session.scalar(text("select pg_backend_pid()"))
                assert session.scalar(select(Group.code)) == "YY"
            assert second != first
        finally:
            admin.dispose()
            engine.dispose()
