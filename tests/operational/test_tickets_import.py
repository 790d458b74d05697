"""The go-live history import of tickets: rows become tickets with their events, clocks and
escalations as if worked live; a bad file writes nothing and names every bad row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.imports.table import ImportRejected
from operational.imports.tickets import import_tickets_file
from operational.models import Notice, Ticket
from operational.workflow import engine
from propcloud.cli import main
from tests.db_support import migrated
from tests.operational.test_tickets import _clocks, _world

HEADER = (
    "ticket_no,office_code,type,severity,urgency,appointment_at,received_at,dispatched_at,"
    "picked_up_at,on_site_at,resolved_at,follow_up_at,follow_up_result"
)
GOOD = [
    # A minor complaint resolved two hours late, then an unsatisfied follow-up: level 1 at
    # the breach, level 2 at the visit.
    "TS-H1,OF1,complaint,minor,,,2026-03-02 09:00,2026-03-02 09:01,2026-03-02 09:03,,"
    "2026-03-04 11:00,2026-03-04 15:00,unsatisfied",
    # An urgent repair received at night, on site late.
    "BX-H1,OF1,repair,,urgent,,2026-03-02 23:10,2026-03-02 23:12,2026-03-03 09:02,"
    "2026-03-03 09:30,2026-03-03 11:00,2026-03-03 15:00,satisfied",
    # An inquiry answered the same morning (offset given: UTC).
    "ZX-H1,OF1,inquiry,,,,2026-03-02T02:00:00+00:00,,2026-03-02T02:03:00+00:00,,"
    "2026-03-02T02:10:00+00:00,,",
]


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_history_becomes_tickets_with_clocks_and_escalations(
    session: Session, tmp_path: Path
) -> None:
    w = _world(session)
    summary = import_tickets_file(session, _write(tmp_path, GOOD), actor=system_principal("cli"))
    assert summary.created == 3
    by_no = {t.document_no: t for t in session.scalars(select(Ticket))}
    complaint, repair, inquiry = by_no["TS-H1"], by_no["BX-H1"], by_no["ZX-H1"]
    received = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    due = received + timedelta(hours=48)
    escalations = [
        (e.transition, e.at, e.payload["reason"])
        for e in engine.history(session, complaint)
        if e.transition.startswith("escalate_")
    ]
    assert escalations == [
        ("escalate_1", due, "timeout"),
        ("escalate_2", datetime(2026, 3, 4, 7, 0, tzinfo=UTC), "unsatisfied"),
    ]
    assert (complaint.state, complaint.escalation_level) == ("in_progress", 2)
    escalated = _clocks(session, complaint)["escalated_resolution"]
    assert (escalated.started_at, escalated.stopped_at) == (
        due,
        datetime(2026, 3, 4, 3, 0, tzinfo=UTC),
    )
    assert repair.night_service is True and repair.state == "closed"
    clocks = _clocks(session, repair)
    assert clocks["pickup"].due_at == datetime(2026, 3, 3, 1, 5, tzinfo=UTC)  # 09:05 next day
    assert clocks["on_site"].due_at == datetime(2026, 3, 2, 15, 42, tzinfo=UTC)
    assert inquiry.state == "closed" and inquiry.night_service is False
    assert session.scalar(select(func.count()).select_from(Notice)) == 0  # history sends none
    assert w is not None


def test_a_bad_file_writes_nothing_and_names_every_bad_row(
    session: Session, tmp_path: Path
) -> None:
    _world(session)
    lines = [
        GOOD[0],
        "TS-H1,OF1,complaint,minor,,,2026-03-02 09:00,,,,,,",  # the same number again
        "TS-H2,OF9,complaint,,,,2026-03-02 09:00,,,,,,",  # unknown office, no severity
        "BX-H2,OF1,repair,,soon,,2026-03-02 09:00,2026-03-02 08:00,,,,,",  # bad urgency, order
        "BX-H3,OF1,repair,,,,2026-03-02 09:00,,,,2026-03-02 10:00,,",  # resolved, not picked up
    ]
    with pytest.raises(ImportRejected) as rejected:
        import_tickets_file(session, _write(tmp_path, lines), actor=system_principal("cli"))
    report = rejected.value.report("en")
    assert [e.row for e in rejected.value.errors] == [3, 4, 4, 5, 5, 6]
    assert any("already in row 2" in line for line in report)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_an_xlsx_file_imports_the_same(session: Session, tmp_path: Path) -> None:
    _world(session)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(GOOD[2].split(","))
    path = tmp_path / "tickets.xlsx"
    book.save(path)
    assert import_tickets_file(session, path, actor=system_principal("cli")).created == 1


def test_the_command_imports_the_example_and_refuses_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    org = tmp_path / "org.csv"
    org.write_text(
        "city_code,city_name,office_code,office_name\nSZ,深圳,SZ001,一号\nSZ,深圳,SZ002,二号\n",
        encoding="utf-8",
    )
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    example = Path(__file__).parents[2] / "docs" / "examples" / "tickets.csv"
    result = runner.invoke(main, ["import", "tickets", str(example)])
    assert result.exit_code == 0, result.output
    assert "5 created" in result.output
    again = runner.invoke(main, ["import", "tickets", str(example), "--encoding", "utf-8"])
    assert again.exit_code == 1
    assert "Row 2: Ticket TS-H1 is already stored." in again.output
