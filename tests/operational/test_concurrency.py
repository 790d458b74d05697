"""Concurrent writers on SQLite and PostgreSQL: two real connections in two threads, started
together (a barrier), each in its own unit of work — as two imports from two terminals, or two
phones submitting the same reading. Nothing is lost or doubled: the second writer waits and is
then refused with the usual row report or message, never merged, never a raw IntegrityError; a
writer that waits too long for a large import gets a clear message, not 'database is locked'.

Each race pauses both writers where, without serialisation, both would have validated and
neither written yet (a second barrier, given up after :data:`PAUSE` seconds when the other
writer is held back by the lock — which is what must happen).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational import db
from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.imports import energy as energy_imports
from operational.imports import objects as objects_import
from operational.imports import work_orders as work_orders_import
from operational.imports.energy import import_readings_file
from operational.imports.objects import import_objects_file
from operational.imports.org import ensure_group, import_org_rows
from operational.imports.table import ImportRejected, ImportSummary
from operational.imports.work_orders import import_work_orders_file
from operational.models import (
    CorrectiveOrder,
    Discipline,
    MaintObject,
    MeterPoint,
    Reading,
)
from operational.services import energy as energy_services
from operational.services import objects as objects_services
from operational.services.energy import (
    add_meter,
    add_point,
    correct_reading,
    effective_readings_query,
    record_reading,
)
from operational.services.objects import AttributeSpec
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated

pytestmark = (
    pytest.mark.slow
)  # two writers in threads, each paused for the other: `make test` runs them, `make check` does not

CLI = system_principal("cli")

PAUSE = 2.0
"""How long a writer waits at the second barrier for the other one (seconds)."""
NOW = datetime(2026, 7, 1, tzinfo=UTC)
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
OFFICE = "RC01"


@pytest.fixture(scope="module", params=BACKENDS)
def race_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database with committed base data that both threads see (the rolled-back ``session``
    fixture cannot be shared between connections)."""
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("race")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            group = ensure_group(session, "YY", "一应物业集团")
            import_org_rows(
                session,
                [
                    (
                        2,
                        {
                            "city_code": "RC",
                            "city_name": "并发城",
                            "office_code": OFFICE,
                            "office_name": "并发管理处",
                            "timezone": "Asia/Shanghai",
                        },
                    )
                ],
                group=group,
                actor=system_principal("test"),
            )
            for code in ("RC-ELEV", "RC-PUMP"):
                objects_services.add_object_type(
                    session,
                    CLI,
                    code=code,
                    name=code,
                    discipline=Discipline.ENGINEERING,
                    attributes=[AttributeSpec("brand", "品牌")],
                    checklist=["运行平稳"],
                )
        engine.dispose()
        yield url


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _points(url: str, count: int = 1) -> list[str]:
    """New metering points with a meter each (committed), for one test's own use."""
    codes = [_unique("RP") for _ in range(count)]
    engine = create_db_engine(url)
    try:
        with unit_of_work(engine) as session:
            for code in codes:
                add_point(session, CLI, office_code=OFFICE, code=code, name=code, kind="water")
                add_meter(
                    session, CLI, point_code=code, installed_at=T0, initial_reading=0, now=NOW
                )
    finally:
        engine.dispose()
    return codes


def _pause(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, *, after: bool = False) -> None:
    """Make ``target.name`` wait for the other writer before (or after) it runs."""
    original = getattr(target, name)
    meet = threading.Barrier(2)

    def wait() -> None:
        # Broken: the other writer is held back by the lock.
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=PAUSE)

    def paused(*args: Any, **kwargs: Any) -> Any:
        if not after:
            wait()
        result = original(*args, **kwargs)
        if after:
            wait()
        return result

    monkeypatch.setattr(target, name, paused)


def _race(url: str, *writers: Callable[[Session], Any]) -> list[Any]:
    """Run the writers at once, each in its own unit of work on its own connection; each one's
    result or the exception it raised."""
    start = threading.Barrier(len(writers))
    engines = [create_db_engine(url) for _ in writers]
    results: list[Any] = [None] * len(writers)

    def run(i: int, writer: Callable[[Session], Any]) -> None:
        try:
            start.wait(timeout=30)
            with unit_of_work(engines[i]) as session:
                results[i] = writer(session)
        except BaseException as error:  # collected, asserted by the test
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in engines:
        engine.dispose()
    assert not any(thread.is_alive() for thread in threads)
    return results


def _read(url: str, query: Callable[[Session], Any]) -> Any:
    engine = create_db_engine(url)
    try:
        with unit_of_work(engine) as session:
            return query(session)
    finally:
        engine.dispose()


def _effective(url: str, codes: list[str]) -> list[tuple[str, datetime, Decimal]]:
    def query(session: Session) -> list[tuple[str, datetime, Decimal]]:
        points = select(MeterPoint.id, MeterPoint.code).where(MeterPoint.code.in_(codes))
        ids: dict[int, str] = {row.id: row.code for row in session.execute(points)}
        rows = session.scalars(effective_readings_query(ids))
        return [(ids[r.point_id], r.read_at, r.reading) for r in rows]

    result: list[tuple[str, datetime, Decimal]] = _read(url, query)
    return result


def _readings_file(tmp_path: Path, name: str, codes: list[str], base: int) -> Path:
    lines = ["point_code,read_at,reading"]
    for code in codes:
        for n in range(1, 6):
            at = (T0 + timedelta(days=n)).isoformat()
            lines.append(f"{code},{at},{base + 10 * n}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _one_of_each(results: list[Any], kinds: tuple[type, type]) -> tuple[Any, Any]:
    """The results as (one of kinds[0], one of kinds[1]), whichever thread won."""
    first, second = results
    if isinstance(first, kinds[0]) and isinstance(second, kinds[1]):
        return first, second
    assert isinstance(second, kinds[0]) and isinstance(first, kinds[1]), results
    return second, first


# ---------------------------------------------------------------- readings


def test_the_same_readings_file_imported_twice_at_once_is_stored_once(
    race_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = _points(race_url, 3)
    path = _readings_file(tmp_path, "same.csv", codes, 100)
    _pause(monkeypatch, energy_imports, "insert_readings")
    results = _race(
        race_url,
        lambda s: import_readings_file(s, path, actor=system_principal("a"), now=NOW),
        lambda s: import_readings_file(s, path, actor=system_principal("b"), now=NOW),
    )
    assert all(isinstance(r, ImportSummary) for r in results), results
    assert sorted((r.created, r.unchanged) for r in results) == [(0, 15), (15, 0)]
    assert len(_effective(race_url, codes)) == 15
    assert (
        _read(
            race_url,
            lambda s: s.scalar(
                select(func.count())
                .select_from(Reading)
                .join(MeterPoint, MeterPoint.id == Reading.point_id)
                .where(MeterPoint.code.in_(codes))
            ),
        )
        == 15
    )


def test_two_conflicting_readings_files_at_once_one_lands_the_other_is_refused_by_row(
    race_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = _points(race_url, 2)
    low = _readings_file(tmp_path, "low.csv", codes, 100)
    high = _readings_file(tmp_path, "high.csv", codes, 5_000_000)
    _pause(monkeypatch, energy_imports, "insert_readings")
    results = _race(
        race_url,
        lambda s: import_readings_file(s, low, actor=system_principal("a"), now=NOW),
        lambda s: import_readings_file(s, high, actor=system_principal("b"), now=NOW),
    )
    summary, rejected = _one_of_each(results, (ImportSummary, ImportRejected))
    assert summary.created == 10
    assert {e.key for e in rejected.errors} == {"import.energy.other_value_stored"}
    assert sorted(e.row for e in rejected.errors) == list(range(2, 12))
    values = {value for _, _, value in _effective(race_url, codes)}
    assert len(_effective(race_url, codes)) == 10
    assert max(values) < 1000 or min(values) > 1000  # one file's values, never a mix


def test_two_phones_saving_a_reading_of_one_point_at_one_instant(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = _points(race_url)
    at = T0 + timedelta(days=1)
    _pause(monkeypatch, energy_services, "_withdrawn_at")
    results = _race(
        race_url,
        lambda s: record_reading(s, CLI, code, at, 100, now=NOW).reading.reading,
        lambda s: record_reading(s, CLI, code, at, 120, now=NOW).reading.reading,
    )
    stored, refused = _one_of_each(results, (Decimal, DomainError))
    assert refused.key == "energy.reading.duplicate_time"
    assert _effective(race_url, [code]) == [(code, at, stored)]


def test_two_corrections_of_one_reading_at_once(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = _points(race_url)
    at = T0 + timedelta(days=1)
    reading_id = _read(
        race_url, lambda s: record_reading(s, CLI, code, at, 100, now=NOW)
    ).reading.reading_id
    _pause(monkeypatch, energy_services, "_evaluate")
    results = _race(
        race_url,
        lambda s: correct_reading(s, CLI, reading_id, 101, now=NOW).reading,
        lambda s: correct_reading(s, CLI, reading_id, 102, now=NOW).reading,
    )
    corrected, refused = _one_of_each(results, (Decimal, DomainError))
    assert refused.key == "energy.reading.not_current"
    assert _effective(race_url, [code]) == [(code, at, corrected)]


def test_a_form_waiting_for_a_large_import_gets_a_clear_message(
    race_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an import holds the readings (SQLite: the database's write lock), a form gives up
    after the busy timeout with ``integrity.busy`` — in the user's language, no traceback."""
    codes = _points(race_url, 2)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.3)
    inside, release = threading.Event(), threading.Event()
    original = energy_imports.insert_readings

    def slow_insert(*args: Any, **kwargs: Any) -> None:
        inside.set()
        release.wait(timeout=60)
        original(*args, **kwargs)

    monkeypatch.setattr(energy_imports, "insert_readings", slow_insert)
    path = _readings_file(tmp_path, "large.csv", codes[:1], 100)
    outcome: list[Any] = []
    importer = threading.Thread(
        target=lambda: outcome.extend(
            _race(
                race_url,
                lambda s: import_readings_file(s, path, actor=system_principal("cli"), now=NOW),
            )
        )
    )
    importer.start()
    try:
        assert inside.wait(timeout=60)
        with pytest.raises(DomainError) as busy:
            _read(
                race_url,
                lambda s: record_reading(s, CLI, codes[1], T0 + timedelta(days=1), 5, now=NOW),
            )
        assert busy.value.key == "integrity.busy"
        assert "Try again in a moment" in busy.value.message("en")
        assert "稍后再试" in busy.value.message("zh_CN")
    finally:
        release.set()
        importer.join(timeout=60)
    assert isinstance(outcome[0], ImportSummary) and outcome[0].created == 5
    # Once the import is done, the same form goes through.
    _read(race_url, lambda s: record_reading(s, CLI, codes[1], T0 + timedelta(days=1), 5, now=NOW))


# ---------------------------------------------------------------- objects and work orders


def test_two_objects_imports_at_once_the_loser_gets_the_row_report(
    race_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _unique("OBJ")
    files = []
    for type_code in ("RC-ELEV", "RC-PUMP"):
        path = tmp_path / f"{type_code}.csv"
        path.write_text(
            f"office_code,object_code,name,type_code\n{OFFICE},{code},设备,{type_code}\n",
            encoding="utf-8",
        )
        files.append(path)
    _pause(monkeypatch, objects_import, "_validate", after=True)
    results = _race(
        race_url,
        lambda s: import_objects_file(s, files[0], actor=system_principal("a")),
        lambda s: import_objects_file(s, files[1], actor=system_principal("b")),
    )
    summary, rejected = _one_of_each(results, (ImportSummary, ImportRejected))
    assert summary.created == 1
    assert [(e.row, e.key) for e in rejected.errors] == [(2, "objects.import.type_changed")]
    count = _read(
        race_url,
        lambda s: s.scalar(
            select(func.count()).select_from(MaintObject).where(MaintObject.code == code)
        ),
    )
    assert count == 1


def test_two_objects_added_by_hand_at_once(race_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _unique("OBJ")
    _pause(monkeypatch, objects_services, "attribute_problems")

    def add(name: str) -> Callable[[Session], str]:
        return lambda s: (
            objects_services.add_object(
                s, CLI, office_code=OFFICE, type_code="RC-ELEV", code=code, name=name
            ).name
        )

    stored, refused = _one_of_each(_race(race_url, add("一号"), add("二号")), (str, DomainError))
    assert refused.key == "objects.object_exists"
    names = _read(
        race_url,
        lambda s: list(s.scalars(select(MaintObject.name).where(MaintObject.code == code))),
    )
    assert names == [stored]


def test_two_work_order_imports_at_once_the_loser_gets_the_row_report(
    race_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = _unique("WO")
    header = "order_no,office_code,discipline,kind,created_at,assigned_at,completed_at,verified_at,object_code"
    files = []
    for n, discipline in enumerate(("cleaning", "security")):
        path = tmp_path / f"orders{n}.csv"
        path.write_text(
            f"{header}\n{number},{OFFICE},{discipline},corrective,2026-01-05 09:00,,,,\n",
            encoding="utf-8",
        )
        files.append(path)
    _pause(monkeypatch, work_orders_import, "_existing", after=True)
    results = _race(
        race_url,
        lambda s: import_work_orders_file(s, files[0], actor=system_principal("a"), now=NOW),
        lambda s: import_work_orders_file(s, files[1], actor=system_principal("b"), now=NOW),
    )
    summary, rejected = _one_of_each(results, (ImportSummary, ImportRejected))
    assert summary.created == 1
    assert [(e.row, e.key) for e in rejected.errors] == [(2, "import.work_orders.order_exists")]
    count = _read(
        race_url,
        lambda s: s.scalar(
            select(func.count())
            .select_from(CorrectiveOrder)
            .where(CorrectiveOrder.document_no == number)
        ),
    )
    assert count == 1


def test_any_form_that_loses_a_race_for_a_unique_key_gets_a_message(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service without a lock of its own (adding a metering point): the unit of work turns
    the database's unique-key refusal into ``integrity.conflict``."""
    code = _unique("PT")
    _pause(monkeypatch, energy_services, "ensure_building")

    def add(name: str) -> Callable[[Session], str]:
        return lambda s: (
            add_point(
                s, CLI, office_code=OFFICE, code=code, name=name, kind="water", building="1号楼"
            ).name
        )

    stored, refused = _one_of_each(_race(race_url, add("甲"), add("乙")), (str, DomainError))
    assert refused.key in {"integrity.conflict", "energy.point_exists"}
    assert refused.message("zh_CN")
    names = _read(
        race_url, lambda s: list(s.scalars(select(MeterPoint.name).where(MeterPoint.code == code)))
    )
    assert names == [stored]
