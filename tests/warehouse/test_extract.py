"""Operational tables → DuckDB ``raw`` through Arrow, whole or incrementally, on both backends."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import adbc_driver_manager
import duckdb
import pytest
from sqlalchemy import text

from operational.db import create_db_engine, unit_of_work
from operational.models import CityCompany, Group, Office
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from warehouse import extract, versions
from warehouse.extract import (
    OperationalSource,
    changes_since,
    database_backend,
    extract_incremental,
    extract_table,
    latest_load,
)


@pytest.fixture(params=BACKENDS)
def org_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database with a group, one city company and two offices, committed."""
    for url in fresh_database_url(request.param, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            group = Group(code="YY", name="一应物业集团")
            session.add(group)
            session.flush()
            city = CityCompany(group_id=group.id, code="SZ", name="深圳公司")
            session.add(city)
            session.flush()
            session.add_all(
                [
                    Office(city_id=city.id, code="SZ001", name="华侨城管理处"),
                    Office(
                        city_id=city.id, code="SZ002", name="蛇口管理处", timezone="Asia/Urumqi"
                    ),
                ]
            )
        engine.dispose()
        yield url


def add_office(url: str, code: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as con:
        con.execute(
            text(
                "insert into org_office (city_id, code, name, timezone)"
                " select id, :code, :code, 'Asia/Shanghai' from org_city_company"
            ),
            {"code": code},
        )
    engine.dispose()


def test_extract_copies_every_row(org_url: str) -> None:
    con = duckdb.connect()
    assert extract_table(org_url, con, "org_office") == 2
    rows = con.sql("select code, name, timezone from raw.org_office order by code").fetchall()
    assert rows == [
        ("SZ001", "华侨城管理处", "Asia/Shanghai"),
        ("SZ002", "蛇口管理处", "Asia/Urumqi"),
    ]


def test_extract_replaces_the_previous_copy(org_url: str) -> None:
    con = duckdb.connect()
    extract_table(org_url, con, "org_office")
    add_office(org_url, "SZ003")
    assert extract_table(org_url, con, "org_office") == 3


def test_a_whole_copy_that_has_not_changed_keeps_raw_and_its_version(org_url: str) -> None:
    """A small table copied whole on every refresh is compared with the last copy first: the
    same rows keep raw's table (and its version, so its readers can be kept); a row changed in
    place — same count, same largest id — is copied again."""
    con = duckdb.connect()
    source = next(s for s in extract.SOURCES if s.table == "org_office")
    assert extract.extract_source(org_url, con, source) == {
        "dagster/row_count": 2,
        "copied": True,
    }
    first = versions.Versions.load(con).get("raw.org_office")
    assert extract.extract_source(org_url, con, source)["copied"] is False
    assert versions.Versions.load(con).get("raw.org_office") == first
    engine = create_db_engine(org_url)
    with engine.begin() as db:
        db.execute(text("update org_office set name = '华侨城一期' where code = 'SZ001'"))
    engine.dispose()
    assert extract.extract_source(org_url, con, source)["copied"] is True
    assert versions.Versions.load(con).get("raw.org_office") != first
    assert con.sql("select name from raw.org_office where code = 'SZ001'").fetchall() == [
        ("华侨城一期",)
    ]


def test_one_open_source_serves_many_extractions_each_seeing_later_commits(org_url: str) -> None:
    con = duckdb.connect()
    with OperationalSource(org_url) as database:
        assert extract_table(database, con, "org_group") == 1
        assert extract_table(database, con, "org_office") == 2
        add_office(org_url, "SZ003")  # committed while the source stays open
        assert extract_table(database, con, "org_office") == 3
        assert extract_incremental(database, con, "org_city_company", "id") == 1
        with pytest.raises(
            (ValueError, adbc_driver_manager.Error)
        ):  # a failed read does not spoil the next one
            extract_table(database, con, "no_such_table")
        assert extract_table(database, con, "org_office") == 3


def test_what_no_model_reads_of_the_events_stays_in_the_operational_database(
    org_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No model reads what each form said (the payload), the transition's name, the actor or
    the event's document number: the copy of the events leaves them out, whole or appended, on
    both backends and through the SQLite reader of large tables."""
    engine = create_db_engine(org_url)
    insert = text(
        "insert into workflow_event (id, document_type, document_id, document_no, office_id,"
        " transition, from_state, to_state, actor, at, payload) select :id, 'corrective_order',"
        " 7, 'CO-7', id, 'raise', null, 'open', 'li', '2026-03-01 08:00:00', :payload"
        " from org_office where code = 'SZ001'"
    )
    with engine.begin() as db:
        for i in range(1, 6):
            db.execute(insert, {"id": i, "payload": '{"title": "电梯异响"}'})
    con = duckdb.connect()
    source = next(s for s in extract.SOURCES if s.table == "workflow_event")
    monkeypatch.setattr(extract, "_SQLITE_CHUNK_ROWS", 2)  # SQLite: two readers
    assert extract.extract_source(org_url, con, source)["dagster/row_count"] == 5
    with engine.begin() as db:
        db.execute(insert, {"id": 6, "payload": "{}"})
    engine.dispose()
    assert extract.extract_source(org_url, con, source)["appended_rows"] == 1
    columns = [
        c for (c,) in con.sql("select column_name from (describe raw.workflow_event)").fetchall()
    ]
    assert not {"payload", "transition", "actor", "document_no"} & set(columns)
    assert {"id", "document_id", "office_id", "from_state", "to_state", "at"} <= set(columns)
    assert con.sql(
        "select count(*), max(id), any_value(document_id), any_value(to_state)"
        " from raw.workflow_event"
    ).fetchall() == [(6, 6, 7, "open")]


def test_incremental_extraction_appends_only_new_rows(org_url: str) -> None:
    con = duckdb.connect()
    assert extract_incremental(org_url, con, "org_office", "id") == 2  # first time: whole
    assert extract_incremental(org_url, con, "org_office", "id") == 0
    add_office(org_url, "SZ003")
    add_office(org_url, "SZ004")
    assert extract_incremental(org_url, con, "org_office", "id") == 2
    codes = con.sql("select code from raw.org_office order by id").fetchall()
    assert codes == [("SZ001",), ("SZ002",), ("SZ003",), ("SZ004",)]


def test_a_table_empty_until_now_is_appended_to_not_copied_whole(tmp_path: Path) -> None:
    """Readers of a table's changes (the SLA build follows the events) start over after a whole
    copy: a table that stayed empty, or got its first rows, must not look copied whole."""
    path = tmp_path / "events.db"
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as db:
        db.execute("create table events (id integer primary key, note text)")
    con = duckdb.connect()
    assert extract_incremental(url, con, "events", "id") == 0  # first time: whole (empty)
    first = latest_load(con, "events")
    assert extract_incremental(url, con, "events", "id") == 0
    nothing = changes_since(con, "events", first)
    assert nothing is not None and nothing.empty
    with sqlite3.connect(path) as db:
        db.executemany("insert into events (id, note) values (?, ?)", [(7, "a"), (9, "b")])
    assert extract_incremental(url, con, "events", "id") == 2
    changes = changes_since(con, "events", first)
    assert changes is not None and not changes.empty
    new = con.sql(f"select note from raw.events where {changes.condition()} order by id")
    assert new.fetchall() == [("a",), ("b",)]


def test_large_sqlite_tables_are_read_by_two_connections_in_rowid_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract, "_SQLITE_CHUNK_ROWS", 1000)
    path = tmp_path / "big.db"
    with sqlite3.connect(path) as db:
        db.execute("create table big (id integer primary key, note text, seen_at datetime)")
        db.executemany(
            "insert into big (id, note, seen_at) values (?, ?, ?)",
            [
                (i, None if i < 4000 else f"n{i}", f"2026-01-01 00:00:{i % 60:02d}")
                for i in range(1, 10_501)
                if not 2000 < i <= 3500  # whole ranges without a row
            ],
        )
    url = f"sqlite:///{path}"
    con = duckdb.connect()
    assert extract_table(url, con, "big") == 9000
    ids = [i for (i,) in con.sql("select id from raw.big").fetchall()]
    assert ids == [i for i in range(1, 10_501) if not 2000 < i <= 3500]  # stored in order
    assert con.sql("select count(note), typeof(any_value(seen_at)) from raw.big").fetchall() == [
        (6501, "TIMESTAMP")
    ]
    with sqlite3.connect(path) as db:
        db.executemany(
            "insert into big (id, note) values (?, ?)", [(i, "x") for i in range(10_501, 13_001)]
        )
    assert extract_incremental(url, con, "big", "id") == 2500
    assert con.sql("select count(*), count(distinct id), max(id) from raw.big").fetchall() == [
        (11_500, 11_500, 13_000)
    ]


def test_a_large_sqlite_table_is_split_without_scanning_it(tmp_path: Path) -> None:
    """Every refresh splits the large tables it reads: finding where their rowids begin and
    end must not read every row (SQLite scans the table for ``min(rowid), max(rowid)``)."""
    path = tmp_path / "big.db"
    with sqlite3.connect(path) as db:
        db.execute("create table big (id integer primary key, point_id integer, note text)")
        db.execute("create index ix_big_point on big (point_id)")  # a covering index to scan
        db.executemany(
            "insert into big (id, point_id) values (?, ?)", [(i, i % 7) for i in range(1, 5001)]
        )
        plan = db.execute(
            "explain query plan " + extract._ROWID_BOUNDS.format(table="big")
        ).fetchall()
        assert db.execute(extract._ROWID_BOUNDS.format(table="big")).fetchone() == (1, 5000)
    details = [row[-1] for row in plan]
    assert not [d for d in details if d.startswith("SCAN big")], details
    assert sum(d.startswith("SEARCH big") for d in details) == 2, details


def test_sqlite_columns_null_in_the_first_rows_keep_their_later_type(tmp_path: Path) -> None:
    path = tmp_path / "sparse.db"
    with sqlite3.connect(path) as db:
        db.execute("create table sparse (id integer primary key, note text)")
        db.executemany(
            "insert into sparse (note) values (?)",
            [(None if i < 5000 else f"n{i}",) for i in range(6000)],
        )
    con = duckdb.connect()
    assert extract_table(f"sqlite:///{path}", con, "sparse") == 6000
    assert con.sql("select count(note) from raw.sparse").fetchall() == [(1000,)]


def test_sqlite_instants_arrive_as_utc_timestamps(tmp_path: Path) -> None:
    """SQLite keeps instants as text; raw gets timestamps as from PostgreSQL — naive UTC, the
    application's own format or one written with an offset by another tool alike."""
    path = tmp_path / "instants.db"
    with sqlite3.connect(path) as db:
        db.execute("create table seen (id integer primary key, seen_at datetime, note text)")
        db.executemany(
            "insert into seen (seen_at, note) values (?, ?)",
            [
                ("2026-03-01 08:30:00.000000", "app"),
                ("2026-03-01T08:30:00.250000", "iso"),
                ("2026-03-01 10:30:00+02:00", "offset"),
                (None, "none"),
            ],
        )
    con = duckdb.connect()
    assert extract_table(f"sqlite:///{path}", con, "seen") == 4
    assert con.sql("select typeof(seen_at) from raw.seen limit 1").fetchall() == [("TIMESTAMP",)]
    rows = con.sql("select note, cast(seen_at as varchar) from raw.seen order by id").fetchall()
    assert rows == [
        ("app", "2026-03-01 08:30:00"),
        ("iso", "2026-03-01 08:30:00.25"),
        ("offset", "2026-03-01 08:30:00"),
        ("none", None),
    ]
    with sqlite3.connect(path) as db:
        db.execute("insert into seen (seen_at, note) values ('yesterday', 'bad')")
    with pytest.raises(duckdb.Error, match="column seen_at: not an instant: 'yesterday'"):
        extract_table(f"sqlite:///{path}", con, "seen")


def test_sqlite_dates_arrive_as_dates(tmp_path: Path) -> None:
    """SQLite keeps dates as text; raw gets DATE columns as from PostgreSQL (a model's filter on
    a date then reaches the scan) — a date written with a time after it by another tool and a
    column with no date at all alike."""
    path = tmp_path / "dates.db"
    with sqlite3.connect(path) as db:
        db.execute("create table plan (id integer primary key, starts date, ends date)")
        db.executemany(
            "insert into plan (starts, ends) values (?, ?)",
            [("2026-03-01", None), ("2026-03-02 00:00:00", None), (None, None)],
        )
    con = duckdb.connect()
    assert extract_table(f"sqlite:///{path}", con, "plan") == 3
    assert con.sql("select typeof(starts), typeof(ends) from raw.plan limit 1").fetchall() == [
        ("DATE", "DATE")
    ]
    assert con.sql(
        "select id from raw.plan where starts >= date '2026-03-02' order by id"
    ).fetchall() == [(2,)]
    assert con.sql("select count(ends) from raw.plan").fetchall() == [(0,)]
    with sqlite3.connect(path) as db:
        db.execute("insert into plan (starts) values ('soon')")
    with pytest.raises(duckdb.Error, match="column starts: not a date: 'soon'"):
        extract_table(f"sqlite:///{path}", con, "plan")


def test_names_and_urls_are_checked() -> None:
    con = duckdb.connect()
    with pytest.raises(ValueError, match="identifier"):
        extract_table("sqlite:///x.db", con, "org_office; drop table x")
    with pytest.raises(ValueError, match="unsupported"):
        database_backend("mysql://x")
    assert database_backend("postgresql+psycopg://u@h/db") == "postgresql"
    assert database_backend(f"sqlite:///{os.sep}tmp/x.db") == "sqlite"
