"""Office-calendar clocks: marts.sla_clocks (SQL) agrees with operational.sla (Python) and with
the deadlines the engine stored, for offices with their own hours, overrides and China's days.

The clocks are written as vectors (the style of tests/vectors/sla_clock_vectors.json): office,
discipline, raised and verified instants (office-local wall time), and the hand-derived
deadline where it is worth spelling out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from operational.calendars import years_without_holidays
from operational.db import create_db_engine, unit_of_work
from operational.imports.calendars import import_calendar_days_rows
from operational.imports.org import ensure_group
from operational.models import CorrectiveOrder, Discipline, Office, WorkflowClock
from operational.services import calendars, orders
from operational.services.calendars import office_calendar
from operational.services.orders import CorrectiveSpec
from operational.sla import ClockTarget, ClockUnit, evaluate
from operational.workflow import engine as workflow_engine
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_workflow_support import build_world
from tests.warehouse.sla_support import build
from warehouse import sla as warehouse_sla

SH = timedelta(hours=8)


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - SH


# OF1: its own hours (Mon–Fri 08:00–12:00 and 14:00–17:00, Saturday 09:00–12:00), Tuesday
# 2026-04-07 closed, Sunday 2026-04-05 (Qingming) worked like a Saturday. Engineering: 480
# business minutes; cleaning: 30. OF2: the group default calendar, engineering 480.
VECTORS: list[dict[str, Any]] = [
    # Friday 17:30 before Qingming at OF2 (default hours): 30 min Friday, 450 Tuesday → 18:00.
    {
        "id": "of2_qingming",
        "office": "OF2",
        "discipline": "engineering",
        "raised": "2026-04-03T17:30",
        "verified": "2026-04-07T18:00",
        "due": "2026-04-07T18:00",
    },
    {
        "id": "of2_late",
        "office": "OF2",
        "discipline": "engineering",
        "raised": "2026-04-03T17:30",
        "verified": "2026-04-07T18:00:01",
        "due": "2026-04-07T18:00",
    },
    # Saturday make-up day (调休) 2026-02-28 is worked like a Monday at OF2.
    {
        "id": "of2_makeup",
        "office": "OF2",
        "discipline": "engineering",
        "raised": "2026-02-27T17:00",
        "verified": None,
        "due": "2026-02-28T17:30",
    },
    # Night before the National Day week at OF2: Thursday 10-08 450 min, Friday 30 more.
    {
        "id": "of2_national_day",
        "office": "OF2",
        "discipline": "engineering",
        "raised": "2026-09-30T22:00",
        "verified": None,
        "due": "2026-10-09T09:30",
    },
    # OF1, Friday 16:30: 30 min Friday; Saturday 04-04 is China's Qingming holiday; Sunday 04-05
    # worked like a Saturday 180; Monday 04-06 holiday; Tuesday closed; Wednesday 08:00–12:00 240
    # and 14:00 + 30 → 14:30.
    {
        "id": "of1_qingming",
        "office": "OF1",
        "discipline": "engineering",
        "raised": "2026-04-03T16:30",
        "verified": "2026-04-08T09:00",
        "due": "2026-04-08T14:30",
    },
    {
        "id": "of1_cleaning_lunch",
        "office": "OF1",
        "discipline": "cleaning",
        "raised": "2026-03-02T11:50",
        "verified": "2026-03-02T14:20",
        "due": "2026-03-02T14:20",
    },
    {
        "id": "of1_cleaning_breached",
        "office": "OF1",
        "discipline": "cleaning",
        "raised": "2026-03-02T11:50",
        "verified": "2026-03-02T14:21",
        "due": "2026-03-02T14:20",
    },
    {
        "id": "of1_open_breached",
        "office": "OF1",
        "discipline": "cleaning",
        "raised": "2026-03-07T11:45",
        "verified": None,
        "due": "2026-03-09T08:15",
    },
    # Monday 10:00 at OF1: 120 + 180 on Monday, Tuesday 08:00 + 180 → 11:00.
    {
        "id": "of1_open",
        "office": "OF1",
        "discipline": "engineering",
        "raised": "2026-04-20T10:00",
        "verified": None,
        "due": "2026-04-21T11:00",
    },
]
# 2027 (a year the chinese_calendar package does not know), loaded group-wide as test data:
# Friday 2027-01-01 a holiday, Saturday 01-02 worked 10:00-12:00; OF1's own Monday 01-04 worked
# 08:00-09:00 only.
VECTORS += [
    # OF2, Thursday 17:30: 30; Friday holiday; Saturday 120; Monday 09:00-12:00 180, 13:30 + 150.
    {
        "id": "of2_loaded_year",
        "office": "OF2",
        "discipline": "engineering",
        "raised": "2026-12-31T17:30",
        "verified": None,
        "due": "2027-01-04T16:00",
    },
    # OF1 cleaning on the loaded holiday: Saturday's own hours (the group's) from 10:00.
    {
        "id": "of1_loaded_holiday",
        "office": "OF1",
        "discipline": "cleaning",
        "raised": "2027-01-01T10:00",
        "verified": "2027-01-02T10:30",
        "due": "2027-01-02T10:30",
    },
    # OF1, Saturday 11:00: 60; its own Monday 08:00-09:00 60; Tuesday 08:00-12:00 240, 14:00 + 120.
    {
        "id": "of1_own_day_hours",
        "office": "OF1",
        "discipline": "engineering",
        "raised": "2027-01-02T11:00",
        "verified": None,
        "due": "2027-01-05T16:00",
    },
]
AS_OF = _local("2027-01-04T12:00")  # of2_loaded_year and of1_own_day_hours are still pending
RESPONSIBLE = {
    ("OF1", "engineering"): "eng",
    ("OF1", "cleaning"): "clean",
    ("OF2", "engineering"): "mgr2",
}
HANDLER = {"OF1": "tech", "OF2": "tech_of2"}
RAISER = {"OF1": "guard", "OF2": "tech_of2"}


def _load(session: Any) -> dict[str, str]:
    """The vectors' world; returns vector id → document number."""
    w = build_world(session)
    mgr = w["mgr"]
    hours = {d: [(time(8), time(12)), (time(14), time(17))] for d in range(5)}
    calendars.set_working_hours(session, mgr, "OF1", {**hours, 5: [(time(9), time(12))]})
    calendars.add_day_override(session, mgr, "OF1", date(2026, 4, 7), "holiday")
    calendars.add_day_override(session, mgr, "OF1", date(2026, 4, 5), "workday", as_weekday=5)
    import_calendar_days_rows(
        session,
        [
            (
                2,
                {
                    "office_code": "",
                    "date": "2027-01-01",
                    "kind": "holiday",
                    "start": "",
                    "end": "",
                },
            ),
            (
                3,
                {
                    "office_code": "",
                    "date": "2027-01-02",
                    "kind": "workday",
                    "start": "10:00",
                    "end": "12:00",
                },
            ),
            (
                4,
                {
                    "office_code": "OF1",
                    "date": "2027-01-04",
                    "kind": "workday",
                    "start": "08:00",
                    "end": "09:00",
                },
            ),
        ],
        actor=w["admin"],
    )
    office_target = ClockUnit.BUSINESS_MINUTES
    for office, actor in (("OF1", "mgr"), ("OF2", "mgr2")):
        orders.set_target(
            session,
            w[actor],
            office,
            Discipline.ENGINEERING,
            ClockTarget(480, office_target, "office"),
        )
    orders.set_target(
        session, mgr, "OF1", Discipline.CLEANING, ClockTarget(30, office_target, "office")
    )
    numbers: dict[str, str] = {}
    for v in VECTORS:
        raised = _local(v["raised"])
        order: CorrectiveOrder = orders.raise_corrective(
            session,
            w[RAISER[v["office"]]],
            office_code=v["office"],
            spec=CorrectiveSpec(
                RESPONSIBLE[(v["office"], v["discipline"])],
                v["id"],
                discipline=Discipline(v["discipline"]),
            ),
            at=raised,
        )
        numbers[v["id"]] = order.document_no
        if v["verified"] is None:
            continue
        responsible = w[RESPONSIBLE[(v["office"], v["discipline"])]]
        handler = HANDLER[v["office"]]
        orders.assign(session, responsible, order, handler, order.version, at=raised)
        orders.process_corrective(session, w[handler], order, order.version, "done", at=raised)
        orders.verify_corrective(
            session, responsible, order, order.version, accepted=True, at=_local(v["verified"])
        )
    return numbers


# One worker runs this module, so its module-scoped world is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("sla-office-calendar")


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("cal")):
        migrated(url)
        engine = create_db_engine(url)
        # The vectors run into 2027 (next year's loaded holidays): the world is entered as of
        # mid-2027, so that the moves' instants are not "in the future" (operational.entry).
        with unit_of_work(engine) as session, pytest.MonkeyPatch.context() as patch:
            patch.setattr(workflow_engine, "utcnow", lambda: datetime(2027, 6, 1, tzinfo=UTC))
            ensure_group(session, "YY", "一应物业集团")
            numbers = _load(session)
        engine.dispose()
        yield url, numbers


def _naive(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(UTC).replace(tzinfo=None)


def test_the_warehouse_builds_the_same_default_calendar() -> None:
    assert dict(calendars.DEFAULT_WEEKLY) == warehouse_sla.GROUP_DEFAULT_WEEKLY
    assert warehouse_sla.china_days() == calendars.china_days()
    assert warehouse_sla.CHINA_MAKEUP_WEEKDAY == calendars.CHINA_MAKEUP_WEEKDAY


def test_the_warehouse_uses_the_groups_loaded_days(world: tuple[str, dict[str, str]]) -> None:
    """The group's days of the SLA build (the package's, replaced by the loaded ones) are those
    the operational clocks use; the next year without holidays is the same on both sides."""
    url, _ = world
    con = build(url, AS_OF)
    rows = con.sql("select day, kind, as_weekday from sla.group_days").fetchall()
    own_hours = con.sql(
        "select day, start_local, end_local from sla.stored_day_intervals"
        " where calendar_id is null order by day, start_local"
    ).fetchall()
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        days = calendars.group_days(session)
        missing = calendars.years_without_holidays(session, date(2026, 12, 6))
    engine.dispose()
    assert {d for d, kind, _ in rows if kind == "holiday"} == days.holidays
    warehouse_hours: dict[date, tuple[tuple[time, time], ...]] = {}
    for day, start, end in own_hours:
        warehouse_hours[day] = (*warehouse_hours.get(day, ()), (start, end))
    assert warehouse_hours == dict(days.day_hours) == {date(2027, 1, 2): ((time(10), time(12)),)}
    assert {d: w for d, kind, w in rows if kind == "workday" and d not in warehouse_hours} == dict(
        days.makeup_days
    )
    assert date(2027, 1, 1) in days.holidays and missing == []
    assert years_without_holidays(
        [d for d, kind, _ in rows if kind == "holiday"], date(2027, 6, 1)
    ) == [2028]


@pytest.mark.slow
def test_python_and_sql_agree_on_office_calendar_clocks(
    world: tuple[str, dict[str, str]],
) -> None:
    url, numbers = world
    con = build(url, AS_OF)
    mart = {
        r[0]: r[1:]
        for r in con.sql(
            "select document_no, due_at, stored_due_at, state, elapsed_minutes, calendar_kind"
            " from marts.sla_clocks"
        ).fetchall()
    }
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        offices = {o.id: o.code for o in session.scalars(select(Office))}
        cals = {code: office_calendar(session, code) for code in offices.values()}
        clocks = {c.document_no: c for c in session.scalars(select(WorkflowClock))}
    engine.dispose()
    assert len(mart) == len(VECTORS)
    states = set()
    for v in VECTORS:
        clock = clocks[numbers[v["id"]]]
        target = ClockTarget(clock.target_amount, ClockUnit(clock.target_unit), "office")
        python = evaluate(
            clock.started_at,
            target,
            cals[offices[clock.office_id]],
            AS_OF,
            stopped_at=clock.stopped_at,
        )
        due, stored_due, state, elapsed, kind = mart[clock.document_no]
        assert kind == "office"
        assert python.due_at == clock.due_at, v["id"]  # no pauses: the stored deadline holds
        assert (due, stored_due) == (_naive(python.due_at), _naive(python.due_at)), v["id"]
        assert (state, elapsed) == (python.state.value, python.elapsed_minutes), v["id"]
        if v["due"] is not None:
            assert python.due_at == _local(v["due"]), v["id"]
        states.add(state)
    assert states == {"met", "breached", "pending"}
