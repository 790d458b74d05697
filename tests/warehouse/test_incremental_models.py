"""Incremental SQL models (warehouse.incremental): a refresh rebuilds only the changed keys' rows,
gives what a build from scratch gives, and rebuilds whole exactly when it must — each time saying
why in ``incremental.log``.

Two toy marts over a toy event log: ``marts.doc_states`` (each document's latest state by as_of,
kept by document) and ``marts.doc_flags`` (read from it, rebuilding the documents it rebuilt:
``delta.doc_states``). The extraction's bookkeeping (``extract_log.loads``) is written as the
extraction writes it: a whole copy, then appends past a key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from warehouse.models import Model, load_models, run_model, write_run_params

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
H = timedelta(hours=1)

STAGING = """-- materialized: view
-- The events.
select id as event_id, document_type, document_id, to_state, event_at from raw.workflow_event
"""
OFFICES = """-- The offices.
select office_id, office_code from raw.offices
"""
STATES = """-- Each document's latest state by as_of.
-- incremental: doc_id
-- whole when changed: staging.stg_offices
select e.document_id as doc_id, arg_max(e.to_state, e.event_id) as state, max(o.office_code) as office
from staging.stg_workflow_events as e
cross join raw.run_params as p
cross join staging.stg_offices as o
where e.event_at <= p.as_of and e.document_id in (select doc_id from delta.doc_states)
group by e.document_id
"""
STATES_CHANGES = """-- Documents with new events or events after the previous as_of.
select distinct document_id as doc_id from staging.stg_workflow_events
where $full or event_at > $previous_as_of
    or event_id in (select event_id from delta.new_events)
"""
FLAGS = """-- Whether a document is done.
-- incremental: doc_id
select doc_id, state = 'done' as done from marts.doc_states
where doc_id in (select doc_id from delta.doc_flags)
"""
FLAGS_CHANGES = """-- The documents doc_states rebuilt.
select doc_id from marts.doc_states where $full
union select doc_id from delta.doc_states
"""


def sql_dir(root: Path, states: str = STATES) -> Path:
    for layer, name, text in (
        ("staging", "stg_workflow_events", STAGING),
        ("staging", "stg_offices", OFFICES),
        ("marts", "doc_states", states),
        ("marts", "doc_flags", FLAGS),
        ("changes", "doc_states", STATES_CHANGES),
        ("changes", "doc_flags", FLAGS_CHANGES),
    ):
        (root / layer).mkdir(parents=True, exist_ok=True)
        (root / layer / f"{name}.sql").write_text(text, encoding="utf-8")
    return root


class Source:
    """The operational side: events and offices, and how the extraction records its loads."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str, int, str, datetime]] = []
        self.offices = [(1, "OF1")]

    def add(self, document_id: int, state: str, at: datetime) -> None:
        self.events.append((len(self.events) + 1, "case", document_id, state, _naive(at)))

    def extract(self, con: duckdb.DuckDBPyConnection, *, whole: bool = False) -> None:
        """Copy into raw as the extraction does: the first time (or ``whole``) a whole copy,
        then the events past the largest key, recorded as loads of ``workflow_event``."""
        for schema in ("raw", "extract_log"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(
            "create table if not exists extract_log.loads (table_name varchar, load_no bigint,"
            " mode varchar, key_column varchar, key_after bigint, key_to bigint,"
            " late_keys bigint[], rows bigint, loaded_at timestamp)"
        )
        con.execute("create or replace table raw.offices (office_id bigint, office_code varchar)")
        con.executemany("insert into raw.offices values (?, ?)", self.offices)
        first = not con.sql(
            "select 1 from information_schema.tables where table_name = 'workflow_event'"
        ).fetchall()
        load_no = con.sql("select coalesce(max(load_no), 0) + 1 from extract_log.loads").fetchall()
        after = 0
        if first or whole:
            con.execute(
                "create or replace table raw.workflow_event (id bigint, document_type varchar,"
                " document_id bigint, to_state varchar, event_at timestamp)"
            )
            mode, new = "full", self.events
        else:
            after = con.sql("select coalesce(max(id), 0) from raw.workflow_event").fetchall()[0][0]
            mode, new = "append", [e for e in self.events if e[0] > after]
        if new:
            con.executemany("insert into raw.workflow_event values (?, ?, ?, ?, ?)", new)
        key_to = con.sql("select coalesce(max(id), 0) from raw.workflow_event").fetchall()[0][0]
        con.execute(
            "insert into extract_log.loads values ('workflow_event', $n, $mode, 'id', $after,"
            " $to, [], $rows, now())",
            {"n": load_no[0][0], "mode": mode, "after": after, "to": key_to, "rows": len(new)},
        )


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def build(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    models: list[Model],
    as_of: datetime,
    *,
    only: set[str] | None = None,
    whole_copy: bool = False,
) -> None:
    source.extract(con, whole=whole_copy)
    write_run_params(con, version="t", as_of=as_of, database_backend="sqlite")
    for model in models:
        if only is None or model.name in only or model.schema == "staging":
            run_model(con, model)


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.sql(f"select * from {table} order by all").fetchall()


def assert_as_scratch(
    con: duckdb.DuckDBPyConnection, source: Source, models: list[Model], as_of: datetime
) -> None:
    scratch = duckdb.connect()
    build(scratch, source, models, as_of)
    for table in ("marts.doc_states", "marts.doc_flags"):
        assert rows(con, table) == rows(scratch, table), table
    scratch.close()


def last_builds(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, int]]:
    """Each table's latest build: mode, reason, keys rebuilt."""
    found = con.sql(
        "select table_name, arg_max(mode, seq), arg_max(reason, seq), arg_max(keys, seq)"
        " from incremental.log group by table_name"
    ).fetchall()
    return {t: (m, r, k) for t, m, r, k in found}


@pytest.fixture
def models(tmp_path: Path) -> list[Model]:
    return load_models(sql_dir(tmp_path / "sql"))


def test_the_changes_file_counts_as_lineage(models: list[Model]) -> None:
    by_table = {m.table: m for m in models}
    assert by_table["marts.doc_states"].keys == ("doc_id",)
    assert by_table["marts.doc_states"].whole_when_changed == ("staging.stg_offices",)
    assert "staging.stg_workflow_events" in by_table["marts.doc_states"].depends_on
    assert "marts.doc_states" in by_table["marts.doc_flags"].depends_on
    assert "marts.doc_flags" not in by_table["marts.doc_flags"].depends_on
    assert "Each document's latest state" in by_table["marts.doc_states"].description
    assert "incremental" not in by_table["marts.doc_states"].description


def test_a_refresh_rebuilds_the_changed_keys_only_and_equals_a_scratch_build(
    models: list[Model],
) -> None:
    source = Source()
    for doc in range(1, 6):
        source.add(doc, "open", T0)
    source.add(1, "done", T0 + H)
    source.add(2, "done", T0 + 5 * H)  # after the first as_of: as_of moving brings it in
    con = duckdb.connect()
    build(con, source, models, T0 + 2 * H)
    assert last_builds(con)["marts.doc_states"][:2] == ("whole", "first build")
    assert rows(con, "marts.doc_flags")[:2] == [(1, True), (2, False)]

    source.add(3, "done", T0 + 3 * H)  # a new event
    build(con, source, models, T0 + 6 * H)
    states = last_builds(con)
    # documents 2 (an event after the previous as_of) and 3 (a new event), nothing else
    assert states["marts.doc_states"] == ("incremental", "", 2)
    assert states["marts.doc_flags"] == ("incremental", "", 2)
    assert_as_scratch(con, source, models, T0 + 6 * H)
    assert rows(con, "marts.doc_flags") == [(1, True), (2, True), (3, True), (4, False), (5, False)]

    build(con, source, models, T0 + 7 * H)  # nothing new
    assert last_builds(con)["marts.doc_states"] == ("incremental", "", 0)
    assert_as_scratch(con, source, models, T0 + 7 * H)


FOLLOWS = "marts.doc_states rebuilt whole"


@pytest.mark.parametrize(
    ("change", "reason", "reader_reason"),
    [
        ("as_of back", "as_of before the previous build's", "as_of before the previous build's"),
        ("office renamed", "inputs changed", FOLLOWS),
        ("events copied whole", "events copied whole", "events copied whole"),
        ("sql changed", "code changed", FOLLOWS),
    ],
)
def test_a_refresh_rebuilds_whole_when_it_must(
    tmp_path: Path, models: list[Model], change: str, reason: str, reader_reason: str
) -> None:
    source = Source()
    source.add(1, "open", T0)
    source.add(2, "done", T0 + H)
    con = duckdb.connect()
    build(con, source, models, T0 + 4 * H)
    source.add(1, "done", T0 + 2 * H)
    as_of, whole_copy = T0 + 5 * H, False
    if change == "as_of back":
        as_of = T0 + 90 * timedelta(minutes=1)
    elif change == "office renamed":
        source.offices = [(1, "OF9")]
    elif change == "events copied whole":
        whole_copy = True
    elif change == "sql changed":
        models = load_models(
            sql_dir(tmp_path / "sql2", STATES.replace("max(o.office_code)", "min(o.office_code)"))
        )
    build(con, source, models, as_of, whole_copy=whole_copy)
    states = last_builds(con)
    assert states["marts.doc_states"][:2] == ("whole", reason)
    # its reader is whole too: for the same reason, or because what it reads was rebuilt whole
    assert states["marts.doc_flags"][:2] == ("whole", reader_reason)
    assert_as_scratch(con, source, models, as_of)


def test_a_reader_that_missed_a_build_of_what_it_reads_rebuilds_whole(
    models: list[Model],
) -> None:
    source = Source()
    source.add(1, "open", T0)
    con = duckdb.connect()
    build(con, source, models, T0 + H)
    source.add(1, "done", T0 + 2 * H)
    build(con, source, models, T0 + 3 * H, only={"doc_states"})  # the reader not selected
    source.add(2, "open", T0 + 3 * H)
    build(con, source, models, T0 + 4 * H)
    states = last_builds(con)
    assert states["marts.doc_states"] == ("incremental", "", 1)
    # delta.doc_states holds document 2 only: document 1's change would be lost
    assert states["marts.doc_flags"][:2] == (
        "whole",
        "marts.doc_states built more than once since",
    )
    assert_as_scratch(con, source, models, T0 + 4 * H)


def test_an_incremental_model_without_its_changes_file_is_refused(tmp_path: Path) -> None:
    root = sql_dir(tmp_path / "sql")
    (root / "changes" / "doc_flags.sql").unlink()
    with pytest.raises(FileNotFoundError, match="doc_flags"):
        load_models(root)


def test_the_marts_of_one_run_share_the_new_events_and_a_new_load_or_run_writes_them_again(
    models: list[Model],
) -> None:
    from warehouse.extract import Changes
    from warehouse.incremental import Delta, write_new_events

    source = Source()
    for doc in range(1, 4):
        source.add(doc, "open", T0)
    con = duckdb.connect()
    build(con, source, models, T0 + H)
    source.add(1, "done", T0 + H)
    source.add(2, "done", T0 + H)
    source.extract(con)  # load 2: events 4 and 5

    def asked(load_no: int, after: int) -> Delta:
        changes = Changes("id", load_no, after)
        return Delta("marts.x", 9, False, "", T0, T0, 8, "c", "i", changes)

    def held() -> list[int]:
        return [
            r[0] for r in con.sql("select event_id from delta.new_events order by 1").fetchall()
        ]

    assert write_new_events(con, asked(2, 3)) == 2
    assert held() == [4, 5]
    # A second mart of the same run asking for the same rows reads them as they are: a row
    # slipped in here survives, so the table was not written again.
    con.execute("insert into delta.new_events by name select 99 as event_id")
    assert write_new_events(con, asked(2, 3)) == 2
    assert held() == [4, 5, 99]
    # Other rows asked for (a mart that followed the events less far) are written afresh.
    assert write_new_events(con, asked(2, 4)) == 1
    assert held() == [5]
    # So is the same condition in another run (the version) or after another load.
    con.execute("insert into delta.new_events by name select 99 as event_id")
    write_run_params(con, version="another run", as_of=T0 + 2 * H, database_backend="sqlite")
    assert write_new_events(con, asked(2, 4)) == 1
    assert held() == [5]
    con.execute("insert into delta.new_events by name select 99 as event_id")
    source.add(3, "done", T0 + 2 * H)
    source.extract(con)  # load 3: event 6
    assert write_new_events(con, asked(3, 4)) == 2
    assert held() == [5, 6]
