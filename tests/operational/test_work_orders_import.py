"""``propcloud import work-orders``: the go-live history becomes orders, events and clocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.i18n import t
from operational.imports.table import ImportRejected
from operational.imports.work_orders import import_work_orders_file
from operational.models import (
    CityCompany,
    ClockPolicy,
    CorrectiveOrder,
    Discipline,
    Group,
    Office,
    PeriodicOrder,
    WorkflowClock,
    WorkflowEvent,
)
from operational.services import objects
from operational.services.objects import AttributeSpec
from operational.sla import ClockTarget, ClockUnit, due_at
from operational.workflow import engine
from tests.db_support import migrated

CLI = system_principal("cli")

NOW = datetime(2026, 3, 1, tzinfo=UTC)
HEADER = "order_no,office_code,discipline,kind,created_at,assigned_at,completed_at,verified_at,object_code"
GOOD = [
    # periodic, completed within 72 h (local times, Shanghai = UTC+8)
    "OLD-1,OF1,engineering,periodic,2026-01-05 09:00,2026-01-05 10:00,2026-01-06 17:00,,EL-1",
    # periodic, same day: a second history plan; completed late
    "OLD-2,OF1,engineering,periodic,2026-01-05 11:00,2026-01-05 12:00,2026-01-09 12:00,,",
    # corrective, verified, offset given
    "OLD-3,OF1,cleaning,corrective,2026-01-07T08:00:00+00:00,2026-01-07T09:00:00+00:00,"
    "2026-01-07T10:00:00+00:00,2026-01-07T11:00:00+00:00,",
    # corrective still open (processed, not verified)
    "OLD-4,OF1,security,corrective,2026-02-27 08:00,2026-02-27 09:00,2026-02-27 10:00,,",
    # periodic only issued
    "OLD-5,OF1,landscaping,periodic,2026-02-28 08:00,,,,",
]


def _office(session: Session) -> Office:
    group = session.scalars(select(Group)).one()
    city = CityCompany(group_id=group.id, code="WC", name="工单城")
    session.add(city)
    session.flush()
    office = Office(city_id=city.id, code="OF1", name="工单管理处", timezone="Asia/Shanghai")
    session.add(office)
    session.flush()
    objects.add_object_type(
        session,
        CLI,
        code="WO-ELEV",
        name="电梯",
        discipline=Discipline.ENGINEERING,
        attributes=[AttributeSpec("brand", "品牌")],
        checklist=["运行平稳"],
    )
    objects.add_object(
        session, CLI, office_code="OF1", type_code="WO-ELEV", code="EL-1", name="1号电梯"
    )
    return office


def _write(tmp_path: Path, lines: list[str], name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_history_becomes_orders_events_and_clocks(session: Session, tmp_path: Path) -> None:
    _office(session)
    summary = import_work_orders_file(
        session, _write(tmp_path, GOOD), actor=system_principal("cli"), now=NOW
    )
    assert (summary.created, summary.unchanged) == (5, 0)
    p1 = session.scalars(select(PeriodicOrder).where(PeriodicOrder.document_no == "OLD-1")).one()
    p2 = session.scalars(select(PeriodicOrder).where(PeriodicOrder.document_no == "OLD-2")).one()
    assert (p1.state, p1.version, p2.state) == ("closed", 3, "closed")
    assert p1.plan_id != p2.plan_id  # two orders on one day: two history plans
    c3 = session.scalars(
        select(CorrectiveOrder).where(CorrectiveOrder.document_no == "OLD-3")
    ).one()
    assert (c3.state, c3.version) == ("closed", 4)
    events = session.execute(
        select(
            WorkflowEvent.transition,
            WorkflowEvent.from_state,
            WorkflowEvent.to_state,
            WorkflowEvent.at,
        )
        .where(WorkflowEvent.document_no == "OLD-3")
        .order_by(WorkflowEvent.id)
    ).all()
    assert [(e[0], e[1], e[2]) for e in events] == [
        ("raise", None, "open"),
        ("assign", "open", "assigned"),
        ("process", "assigned", "processed"),
        ("verify", "processed", "closed"),
    ]
    assert events[0][3] == datetime(2026, 1, 7, 8, tzinfo=UTC)
    clocks = {
        c.document_no: c
        for c in session.scalars(
            select(WorkflowClock).where(WorkflowClock.document_no.like("OLD-%"))
        )
    }
    assert len(clocks) == 5
    one = clocks["OLD-1"]
    assert one.started_at == datetime(2026, 1, 5, 1, tzinfo=UTC)  # 09:00 Shanghai
    assert one.due_at == one.started_at + timedelta(hours=72)
    assert one.stopped_at == datetime(2026, 1, 6, 9, tzinfo=UTC)
    assert clocks["OLD-4"].stopped_at is None
    assert clocks["OLD-5"].stopped_at is None
    assert clocks["OLD-3"].stopped_at == datetime(2026, 1, 7, 11, tzinfo=UTC)


SLA_VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "sla_clock_vectors.json").read_text(encoding="utf-8")
)
# The group default calendar of an office without hours of its own is the vectors'
# shanghai_office in 2026 (Mon–Fri 09:00–12:00 and 13:30–18:00, China's holidays and make-up
# days); a 24×7 target needs only the office's time zone. Clocks without pauses.
FITTING = [
    v
    for v in SLA_VECTORS["clocks"]
    if not v["pauses"]
    and (v["calendar"] == "shanghai_office" or v["target"]["calendar_kind"] == "24x7")
]


def _vector_target(vector: dict[str, Any]) -> ClockTarget:
    t = vector["target"]
    return ClockTarget(t["amount"], ClockUnit(t["unit"]), t["calendar_kind"])


def test_imported_deadlines_are_the_shared_rules(session: Session, tmp_path: Path) -> None:
    """Each vector's clock imported as a periodic and a corrective order of an office whose
    policy is the vector's target: the stored deadline is the vector's and ``sla.due_at``'s,
    office calendar (business minutes) or 24×7 alike."""
    group = session.scalars(select(Group)).one()
    city = CityCompany(group_id=group.id, code="VC", name="时效城")
    session.add(city)
    session.flush()
    offices: dict[tuple[str, ClockTarget], Office] = {}
    lines: list[str] = []
    expected: dict[str, tuple[Office, ClockTarget, datetime]] = {}
    for n, v in enumerate(FITTING):
        target = _vector_target(v)
        zone = SLA_VECTORS["calendars"][v["calendar"]]["timezone"]
        office = offices.get((zone, target))
        if office is None:
            code = f"VO{len(offices) + 1}"
            office = Office(city_id=city.id, code=code, name=f"时效{code}", timezone=zone)
            session.add(office)
            session.flush()
            for document_type in ("periodic_order", "corrective_order"):
                session.add(
                    ClockPolicy(
                        office_id=office.id,
                        document_type=document_type,
                        clock="completion",
                        discipline="engineering",
                        amount=target.amount,
                        unit=target.unit.value,
                        calendar_kind=target.calendar_kind,
                    )
                )
            offices[(zone, target)] = office
        due = datetime.fromisoformat(v["expected"]["due_at"])
        for kind in ("periodic", "corrective"):
            number = f"V{n}-{kind[0].upper()}"
            lines.append(f"{number},{office.code},engineering,{kind},{v['started_at']},,,,")
            expected[number] = (office, target, due)
    assert {t.calendar_kind for _, t in offices} == {"office", "24x7"}
    later = datetime(2027, 1, 1, tzinfo=UTC)
    summary = import_work_orders_file(
        session, _write(tmp_path, lines), actor=system_principal("cli"), now=later
    )
    assert summary.created == len(lines)
    clocks = session.scalars(
        select(WorkflowClock).where(WorkflowClock.document_no.like("V%"))
    ).all()
    assert len(clocks) == len(lines)
    for clock in clocks:
        office, target, due = expected[clock.document_no]
        assert (clock.calendar, clock.target_amount) == (target.calendar_kind, target.amount)
        assert clock.due_at == due, clock.document_no
        calendar = engine.office_calendar(office, target)
        assert clock.due_at == due_at(clock.started_at, target, calendar), clock.document_no


def test_reimporting_the_same_file_changes_nothing(session: Session, tmp_path: Path) -> None:
    _office(session)
    path = _write(tmp_path, GOOD)
    import_work_orders_file(session, path, actor=system_principal("cli"), now=NOW)
    before = session.scalar(select(func.count()).select_from(WorkflowEvent))
    summary = import_work_orders_file(session, path, actor=system_principal("cli"), now=NOW)
    assert (summary.created, summary.unchanged) == (0, 5)
    assert session.scalar(select(func.count()).select_from(WorkflowEvent)) == before
    # A further file adds orders on a day already used: the free history plan is reused.
    more = _write(tmp_path, ["OLD-6,OF1,engineering,periodic,2026-01-06 09:00,,,,"], "more.csv")
    assert (
        import_work_orders_file(session, more, actor=system_principal("cli"), now=NOW).created == 1
    )


def test_bad_rows_are_all_reported_and_nothing_is_written(session: Session, tmp_path: Path) -> None:
    _office(session)
    import_work_orders_file(
        session, _write(tmp_path, GOOD[:1]), actor=system_principal("cli"), now=NOW
    )
    events = session.scalar(select(func.count()).select_from(WorkflowEvent))
    bad = [
        "NEW-1,XX9,engineering,periodic,2026-01-05 09:00,,,,",  # 2 unknown office
        "NEW-2,OF1,plumbing,periodic,2026-01-05 09:00,,,,",  # 3 bad discipline
        "NEW-3,OF1,cleaning,urgent,2026-01-05 09:00,,,,",  # 4 bad kind
        "NEW-4,OF1,cleaning,corrective,2026-01-05 09:00,2026-01-04 09:00,,,",  # 5 out of order
        "NEW-5,OF1,cleaning,corrective,2026-01-05 09:00,,,,",  # 6 fine
        "NEW-5,OF1,cleaning,corrective,2026-01-05 09:00,,,,",  # 7 duplicate in file
        "OLD-1,OF1,engineering,periodic,2026-01-05 09:30,,,,",  # 8 exists with other details
        "NEW-6,OF1,cleaning,corrective,2026-01-05 09:00,2026-01-05 09:10,,2026-01-05 10:00,",  # 9
        # (verified without completed: a missing step)
        "NEW-7,OF1,cleaning,periodic,2026-01-05 09:00,2026-01-05 09:10,2026-01-05 09:20,"
        "2026-01-05 09:30,",  # 10 periodic verified
        "NEW-8,OF1,cleaning,corrective,yesterday,,,,",  # 11 bad time
        "NEW-9,OF1,cleaning,corrective,2027-01-05 09:00,,,,",  # 12 future
        "NEW-10,OF1,cleaning,corrective,2026-01-05 09:00,,,,NOPE",  # 13 unknown object
    ]
    with pytest.raises(ImportRejected) as rejected:
        import_work_orders_file(
            session, _write(tmp_path, bad), actor=system_principal("cli"), now=NOW
        )
    by_row = {e.row: e.key for e in rejected.value.errors}
    assert by_row == {
        2: "import.work_orders.unknown_office",
        3: "import.work_orders.bad_discipline",
        4: "import.work_orders.bad_kind",
        5: "import.work_orders.time_order",
        7: "import.work_orders.duplicate_in_file",
        8: "import.work_orders.order_exists",
        9: "import.work_orders.missing_step",
        10: "import.work_orders.periodic_not_verified",
        11: "import.bad_time",
        12: "import.work_orders.future_time",
        13: "orders.unknown_object",
    }
    assert session.scalar(select(func.count()).select_from(WorkflowEvent)) == events
    report = rejected.value.report("en")
    assert report[0] == t("import.rejected", "en", count=11)
    assert report[1].startswith("Row 2: ")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_command_imports_reports_and_generates(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from propcloud.cli import main

    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    org = tmp_path / "org.csv"
    org.write_text("city_code,city_name,office_code,office_name\nWC,工单城,OF1,工单管理处\n")
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    good = _write(tmp_path, [line.replace(",EL-1", ",") for line in GOOD])
    result = runner.invoke(main, ["import", "work-orders", str(good)])
    assert (result.exit_code, result.stdout) == (
        0,
        "Imported: 5 created, 0 updated, 0 unchanged. File read as UTF-8.\n",
    )
    assert "Checking the orders: 5 done" in result.stderr  # progress goes to standard error
    bad = _write(tmp_path, ["X-1,NOPE,engineering,periodic,2026-01-05 09:00,,,,"], "bad.csv")
    result = runner.invoke(main, ["import", "work-orders", str(bad)])
    assert result.exit_code == 1
    assert "Row 2: No office with code NOPE." in result.output
    result = runner.invoke(main, ["orders", "generate", "--horizon-days", "3"])
    assert result.exit_code == 0
    assert result.output.startswith("0 periodic order(s) issued up to ")


def test_a_completed_order_without_its_assignment_time_is_imported_without_inventing_one(
    session: Session, tmp_path: Path
) -> None:
    """The old system kept when an order was done but not when it was assigned: the order is
    imported with no ``assign`` event, and its completion clock runs from creation to
    completion as any other's (no clock starts or stops at assignment)."""
    _office(session)
    lines = [
        "NA-1,OF1,engineering,periodic,2026-01-05 09:00,,2026-01-06 17:00,,",
        "NA-2,OF1,cleaning,corrective,2026-01-07 09:00,,2026-01-07 15:00,2026-01-07 16:00,",
        "NA-3,OF1,security,corrective,2026-01-08 09:00,,2026-01-08 10:00,,",
    ]
    summary = import_work_orders_file(
        session, _write(tmp_path, lines), actor=system_principal("cli"), now=NOW
    )
    assert summary.created == 3
    moves = {
        no: [
            (e.transition, e.from_state, e.to_state)
            for e in session.scalars(
                select(WorkflowEvent)
                .where(WorkflowEvent.document_no == no)
                .order_by(WorkflowEvent.id)
            )
        ]
        for no in ("NA-1", "NA-2", "NA-3")
    }
    assert moves == {
        "NA-1": [("issue", None, "issued"), ("complete", "issued", "closed")],
        "NA-2": [
            ("raise", None, "open"),
            ("process", "open", "processed"),
            ("verify", "processed", "closed"),
        ],
        "NA-3": [("raise", None, "open"), ("process", "open", "processed")],
    }
    clocks = {
        c.document_no: c
        for c in session.scalars(
            select(WorkflowClock).where(WorkflowClock.document_no.like("NA-%"))
        )
    }
    assert clocks["NA-1"].started_at == datetime(2026, 1, 5, 1, tzinfo=UTC)
    assert clocks["NA-1"].stopped_at == datetime(2026, 1, 6, 9, tzinfo=UTC)
    assert clocks["NA-2"].stopped_at == datetime(2026, 1, 7, 8, tzinfo=UTC)  # verified
    assert clocks["NA-3"].stopped_at is None  # processed, not yet verified
    orders = {
        o.document_no: o
        for o in session.scalars(
            select(CorrectiveOrder).where(CorrectiveOrder.document_no.like("NA-%"))
        )
    }
    assert (orders["NA-2"].state, orders["NA-2"].version, orders["NA-2"].handler_id) == (
        "closed",
        3,
        None,
    )
    again = import_work_orders_file(
        session, _write(tmp_path, lines), actor=system_principal("cli"), now=NOW
    )
    assert (again.created, again.unchanged) == (0, 3)
