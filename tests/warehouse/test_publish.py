"""Build privately, publish atomically: readers never see a half-built or failed version."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
from pathlib import Path

import duckdb
import pytest

from warehouse.publish import KEEP_VERSIONS, Warehouse, code_format
from warehouse.queries import WarehouseReader, _cached_query
from warehouse.scope import OfficeScope


def build(warehouse: Warehouse, build_id: str, offices: int, *, incremental: bool = False) -> Path:
    """A build whose marts say which version they are: ``offices`` rows named after it."""
    path = warehouse.begin_build(build_id, incremental=incremental)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.dim_office as select 'YY' as group_code,"
            " 'group' as group_name, 'SZ' as city_code, 'city' as city_name,"
            " printf('O%05d', i) as office_code, $v as office_name, 'Asia/Shanghai' as timezone"
            " from range($n) t(i)",
            {"v": build_id, "n": offices},
        )
        con.execute(
            "create or replace table marts.build_info as select $v as version,"
            " now()::timestamp as built_at, now()::timestamp as as_of, 'sqlite' as database_backend",
            {"v": build_id},
        )
        con.execute("checkpoint")
    return path


def test_nothing_published_yet(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    assert warehouse.current_path() is None
    assert warehouse.current_version() is None
    reader = WarehouseReader(tmp_path, OfficeScope.everything())
    assert reader.build_info() is None
    overview = reader.org_overview()
    assert overview.is_empty()
    assert overview.columns == [
        "group_code",
        "group_name",
        "city_code",
        "city_name",
        "office_code",
        "office_name",
        "timezone",
    ]


def test_publish_makes_a_build_current(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    path = build(warehouse, "b1", 2)
    assert path == tmp_path / "building" / "b1.duckdb"
    published = warehouse.publish(path)
    assert published == tmp_path / "versions" / "b1.duckdb"
    assert not path.exists()
    assert warehouse.current_version() == "b1"
    assert warehouse.current_path() == published
    assert (tmp_path / "CURRENT").read_text() == "b1"
    assert WarehouseReader(tmp_path, OfficeScope.everything()).org_overview().height == 2


def test_a_build_begins_empty_or_from_the_current_version(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    with duckdb.connect(str(warehouse.begin_build("empty"))) as con:
        assert con.sql("select count(*) from information_schema.tables").fetchall() == [(0,)]
    warehouse.publish(build(warehouse, "b1", 3))
    with duckdb.connect(str(warehouse.begin_build("next", incremental=True))) as con:
        assert con.sql("select count(*) from marts.dim_office").fetchall() == [(3,)]
    with pytest.raises(FileExistsError):
        warehouse.begin_build("next")
    with pytest.raises(ValueError, match="build id"):
        warehouse.begin_build("../escape")


def test_only_the_last_versions_are_kept(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    for i in range(KEEP_VERSIONS + 2):
        warehouse.publish(build(warehouse, f"b{i}", 1))
    kept = sorted(p.stem for p in (tmp_path / "versions").glob("*.duckdb"))
    assert kept == ["b2", "b3", "b4"]
    assert warehouse.current_version() == "b4"


def test_discard_leaves_the_published_version_untouched(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.publish(build(warehouse, "good", 2))
    path = build(warehouse, "bad", 5)
    warehouse.discard(path)
    assert not path.exists()
    assert warehouse.current_version() == "good"
    assert WarehouseReader(tmp_path, OfficeScope.everything()).org_overview().height == 2


def test_a_build_that_raises_is_never_seen(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.publish(build(warehouse, "good", 2))
    path = warehouse.begin_build("broken", incremental=True)
    with pytest.raises(duckdb.Error), duckdb.connect(str(path)) as con:
        con.execute("create or replace table marts.dim_office as select 1 as office_code")
        con.execute("select * from no_such_table")
    warehouse.discard(path)
    assert warehouse.current_version() == "good"
    assert WarehouseReader(tmp_path, OfficeScope.everything()).org_overview()[
        "office_name"
    ].unique().to_list() == ["good"]


def test_an_unfinished_build_cannot_be_published(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    path = warehouse.begin_build("open")
    (path.parent / "open.duckdb.wal").write_bytes(b"")
    with pytest.raises(RuntimeError, match="checkpointed"):
        warehouse.publish(path)
    with pytest.raises(ValueError, match="not a build"):
        warehouse.publish(tmp_path / "elsewhere.duckdb")
    assert warehouse.current_version() is None


def test_the_reader_caches_per_version(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    reader = WarehouseReader(tmp_path, OfficeScope.everything())
    warehouse.publish(build(warehouse, "v1", 2))
    first = reader.org_overview()
    assert reader.org_overview() is first  # same version: cached
    warehouse.publish(build(warehouse, "v2", 3))
    assert reader.org_overview().height == 3
    info = reader.build_info()
    assert info is not None
    assert info["version"] == "v2"
    assert info["as_of"].tzinfo is not None


def _read_until_stopped(
    directory: str, stop: multiprocessing.synchronize.Event
) -> tuple[int, list[str]]:
    """Read in a loop; every read must see one complete version: N rows all named vN."""
    reader = WarehouseReader(Path(directory), OfficeScope.everything())
    reads, problems = 0, []
    while not stop.is_set() or reads == 0:
        _cached_query.cache_clear()  # open the published file on every read
        try:
            frame = reader.org_overview()
            names = frame["office_name"].unique().to_list()
            if len(names) != 1 or frame.height != int(names[0][1:]):
                problems.append(f"inconsistent read: {names} with {frame.height} rows")
            info = reader.build_info()
            if info is None or not info["version"].startswith("v"):
                problems.append(f"bad build_info {info}")
        except Exception as exc:  # any failure to read is a problem
            problems.append(repr(exc))
        reads += 1
    return reads, problems


def _reader_process(
    directory: str,
    stop: multiprocessing.synchronize.Event,
    out: multiprocessing.queues.Queue[tuple[int, list[str]]],
) -> None:
    out.put(_read_until_stopped(directory, stop))


def test_a_reader_keeps_working_during_builds_and_never_sees_a_half_built_version(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.publish(build(warehouse, "v1000", 1000))
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_reader_process, args=(str(tmp_path), stop, out))
    reader.start()
    try:
        for n in range(2000, 14000, 1000):
            path = build(warehouse, f"v{n}", n, incremental=True)
            if n % 3000 == 0:  # some builds fail half-way and are discarded
                with duckdb.connect(str(path)) as con:
                    con.execute("delete from marts.dim_office where office_code > 'O00010'")
                warehouse.discard(path)
                continue
            warehouse.publish(path)
    finally:
        stop.set()
        reads, problems = out.get(timeout=60)
        reader.join(timeout=60)
    assert problems == []
    assert reads > 0
    assert warehouse.current_version() == "v13000"


def test_an_incremental_build_continues_only_a_version_built_by_the_same_code(
    tmp_path: Path,
) -> None:
    """After an upgrade of the warehouse code the next build starts empty, not from tables whose
    shape the new code does not know."""
    old = Warehouse(tmp_path, build_format="old-code")
    path = old.begin_build("v1")
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as x")
    old.publish(path)

    same = Warehouse(tmp_path, build_format="old-code").begin_build("v2", incremental=True)
    upgraded = Warehouse(tmp_path, build_format="new-code").begin_build("v3", incremental=True)
    with duckdb.connect(str(same)) as con:
        assert con.sql("select x from t").fetchall() == [(1,)]
    with duckdb.connect(str(upgraded)) as con:
        assert con.sql("select count(*) from duckdb_tables()").fetchall() == [(0,)]


def test_the_build_format_follows_the_warehouse_code(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sql").mkdir(parents=True)
    (package / "sql" / "m.sql").write_text("select 1")
    before = code_format(package)
    (package / "sql" / "m.sql").write_text("select 2")
    code_format.cache_clear()
    assert code_format(package) != before


def test_a_build_takes_a_superseded_version_instead_of_copying(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.publish(build(warehouse, "b1", 1))
    warehouse.publish(build(warehouse, "b2", 2, incremental=True))  # a copy of b1: no spare yet
    path = warehouse.begin_build("b3", incremental=True)
    assert not (tmp_path / "versions" / "b1.duckdb").exists()  # taken, not copied
    assert not (tmp_path / "versions" / "b1.format").exists()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("select office_name from marts.dim_office").fetchall() == [("b1",)]
    assert warehouse.current_version() == "b2"
    assert WarehouseReader(tmp_path, OfficeScope.everything()).org_overview().height == 2


def _hold_open(
    path: str, opened: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
    with duckdb.connect(path, read_only=True) as con:
        con.sql("select 1").fetchall()
        opened.set()
        done.wait(60)


def test_a_version_another_process_reads_is_never_taken(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    for name in ("b1", "b2", "b3"):  # full builds: two superseded versions are left
        warehouse.publish(build(warehouse, name, int(name[1])))
    ctx = multiprocessing.get_context("spawn")
    opened, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(
        target=_hold_open, args=(str(tmp_path / "versions" / "b2.duckdb"), opened, done)
    )
    holder.start()
    try:
        assert opened.wait(60)
        path = warehouse.begin_build("b4", incremental=True)  # b2 is held: b1 is taken
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.sql("select count(*) from marts.dim_office").fetchall() == [(1,)]
        assert (tmp_path / "versions" / "b2.duckdb").exists()
        assert (tmp_path / "versions" / "b2.format").exists()
        warehouse.discard(path)
        path = warehouse.begin_build("b5", incremental=True)  # nothing else: a copy of b3
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.sql("select count(*) from marts.dim_office").fetchall() == [(3,)]
    finally:
        done.set()
        holder.join(60)


def test_a_reader_lets_superseded_versions_go(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    reader = WarehouseReader(tmp_path, OfficeScope.everything())
    warehouse.publish(build(warehouse, "b1", 1))
    assert reader.org_overview().height == 1  # this process now holds b1 open
    warehouse.publish(build(warehouse, "b2", 2, incremental=True))
    path = warehouse.begin_build("b3", incremental=True)  # b1 is open here: copied from b2
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("select count(*) from marts.dim_office").fetchall() == [(2,)]
    warehouse.discard(path)
    assert reader.org_overview().height == 2  # reading b2 closes b1
    path = warehouse.begin_build("b3", incremental=True)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("select count(*) from marts.dim_office").fetchall() == [(1,)]
    assert not (tmp_path / "versions" / "b1.duckdb").exists()
