"""Long work says how far it is: imports and the demo report their stages, chunk by chunk."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.demo import DemoOptions, org_rows
from operational.demo.energy import energy_step
from operational.demo.orders import orders_step
from operational.imports.energy import import_readings_file
from operational.imports.org import import_org_rows
from operational.imports.table import ImportRejected
from operational.models import Group, Office, Reading
from operational.progress import CHUNK, NO_PROGRESS, counted, stage
from tests.operational.test_energy_imports import NOW, setup, write
from tests.progress_support import Recorder

STEP = timedelta(minutes=5)
START = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def _readings_csv(tmp_path: Path, per_point: int) -> Path:
    lines = ["point_code,read_at,reading"]
    for code, first, step in (("IM01-E-MAIN", 100, "0.1"), ("IM01-W-MAIN", 50, "0.01")):
        lines += [
            f"{code},{(START + i * STEP).isoformat()},{first + i * float(step):.2f}"
            for i in range(per_point)
        ]
    return write(tmp_path, "readings.csv", "\n".join(lines) + "\n")


def test_a_large_readings_import_reports_each_stage_chunk_by_chunk(
    session: Session, tmp_path: Path
) -> None:
    setup(session, tmp_path)
    per_point = 8_000  # 16 000 rows: more than one chunk, far fewer reports than rows
    recorder = Recorder()
    summary = import_readings_file(
        session,
        _readings_csv(tmp_path, per_point),
        actor=system_principal("t"),
        now=NOW,
        progress=recorder,
    )
    rows = 2 * per_point
    assert summary.created == rows
    assert recorder.keys == [
        "ops.progress.import.read",
        "ops.progress.import.rows",
        "ops.progress.import.history",
        "ops.progress.import.points",
        "ops.progress.import.write",
    ]
    assert recorder.stages[0].params == {"file": "readings.csv"}
    assert all(stage.ended == "done" for stage in recorder.stages)
    checked = recorder.stage("ops.progress.import.rows")
    assert (checked.total, checked.done) == (rows, rows)
    assert [amount for amount, _ in checked.advances] == [CHUNK, rows - CHUNK]
    by_point = recorder.stage("ops.progress.import.points")
    assert (by_point.total, by_point.done) == (rows, rows)
    assert by_point.items == ["IM01-E-MAIN", "IM01-W-MAIN"]
    written = recorder.stage("ops.progress.import.write")
    assert (written.total, written.done) == (rows, rows)
    assert len(written.advances) <= 2  # per batch
    assert session.scalar(select(func.count()).select_from(Reading)) == rows


def test_a_rejected_import_reports_the_checks_and_writes_nothing(
    session: Session, tmp_path: Path
) -> None:
    setup(session, tmp_path)
    path = write(
        tmp_path,
        "bad.csv",
        "point_code,read_at,reading\nIM01-E-MAIN,2026-06-02,101\nIM01-E-MAIN,2026-06-03,99\n",
    )
    recorder = Recorder()
    with pytest.raises(ImportRejected):
        import_readings_file(session, path, actor=system_principal("t"), now=NOW, progress=recorder)
    assert "ops.progress.import.write" not in recorder.keys
    assert recorder.stage("ops.progress.import.points").done == 2


def test_the_demo_reports_its_steps_office_by_office(session: Session) -> None:
    recorder = Recorder()
    options = DemoOptions(offices=2, days=5, seed=3, now=datetime(2026, 3, 1, tzinfo=UTC))
    group = session.scalars(select(Group)).one()
    import_org_rows(session, org_rows(2, 3), group=group, actor=system_principal("test"))
    for step in (energy_step, orders_step):  # the org step hashes six demo passwords: slow
        step(session, replace(options, progress=recorder), random.Random(3))
    assert recorder.keys == [
        "ops.progress.demo.energy",
        "ops.progress.demo.orders",
        "ops.progress.demo.orders_write",
    ]
    codes = sorted(session.scalars(select(Office.code)))
    for key in ("ops.progress.demo.energy", "ops.progress.demo.orders"):
        offices = recorder.stage(key)
        assert (offices.total, offices.done, sorted(offices.items)) == (2, 2, codes)
    assert all(stage.ended == "done" for stage in recorder.stages)


def test_a_stage_ends_as_failed_when_its_work_fails() -> None:
    recorder = Recorder()
    with pytest.raises(RuntimeError), stage(recorder, "ops.progress.import.write", 3) as advance:
        advance(1)
        raise RuntimeError("disk full")
    assert [(s.key, s.done, s.ended) for s in recorder.stages] == [
        ("ops.progress.import.write", 1, "failed")
    ]


def test_counted_reports_per_chunk_and_the_rest_at_the_end() -> None:
    calls: list[int] = []
    assert list(counted(range(25), lambda amount, item=None: calls.append(amount), 10)) == list(
        range(25)
    )
    assert calls == [10, 10, 5]
    assert list(counted([], NO_PROGRESS.advance)) == []
