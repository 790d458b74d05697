"""An order's history and lateness, the work note that marks it done, the order list and the
audit log reads — on SQLite and PostgreSQL (the ``session`` fixture runs on both)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from test_work_orders_import import GOOD, NOW, _office, _write
from test_workflow_support import T0, World, build_world

from operational import audit, sla
from operational.auth import Grant, Principal, system_principal
from operational.db import alembic_config, create_db_engine, upgrade
from operational.errors import DomainError, FormRejected, Term
from operational.imports.work_orders import import_work_orders_file
from operational.models import (
    AuditEntry,
    CorrectiveOrder,
    Discipline,
    Office,
    Role,
    ScopeLevel,
    WorkflowEvent,
)
from operational.services import calendars, lookup, orders
from operational.services.orders import Answer, CorrectiveSpec
from operational.sla import ClockTarget, ClockUnit
from tests.conftest import BACKENDS, fresh_database_url

H = timedelta(hours=1)


def _raise(w: World, title: str = "Litter in the lobby", at: datetime = T0) -> CorrectiveOrder:
    return orders.raise_corrective(
        w.session,
        w["guard"],
        office_code="OF1",
        spec=CorrectiveSpec("clean", title, discipline=Discipline.CLEANING, object_code="LB-1"),
        at=at,
    )


def _assigned(w: World, at: datetime = T0) -> CorrectiveOrder:
    order = _raise(w, at=at)
    orders.assign(w.session, w["clean"], order, "tech", order.version, at=at + H)
    return order


def who(role: Role, level: ScopeLevel, offices: frozenset[str] | None) -> Principal:
    return Principal(901, f"{role.value}-t", "测试", "zh_CN", (Grant(role, level, "x", offices),))


# ---------------------------------------------------------------- the work note


@pytest.mark.parametrize("note", ["", "   \n "])
def test_processing_without_a_work_note_is_refused_naming_the_field(
    session: Session, note: str
) -> None:
    w = build_world(session)
    order = _assigned(w)
    with pytest.raises(DomainError) as refused:
        orders.process_corrective(w.session, w["tech"], order, order.version, note, at=T0 + 2 * H)
    assert refused.value.key == "orders_ui2.work_note_required"
    assert refused.value.params == {"column": Term("orders_ui2.field.work_note")}
    assert "处理情况" in refused.value.message("zh_CN")
    assert "What was done" in refused.value.message("en")
    assert order.state == "assigned"
    assert [e.transition for e in _events(w, order)] == ["raise", "assign"]


def test_a_work_note_is_stored_with_the_step_that_marks_the_order_done(session: Session) -> None:
    w = build_world(session)
    order = _assigned(w)
    orders.process_corrective(w.session, w["tech"], order, order.version, "  swept  ")
    assert order.state == "processed"
    assert _events(w, order)[-1].payload == {"note": "swept"}


def test_a_user_who_may_not_process_hears_so_before_the_missing_note(session: Session) -> None:
    w = build_world(session)
    order = _assigned(w)
    with pytest.raises(DomainError) as refused:
        orders.process_corrective(w.session, w["tech2"], order, order.version, "")
    assert refused.value.key == "workflow.not_allowed"


def test_completing_a_periodic_order_lists_every_problem_and_needs_a_note(
    session: Session,
) -> None:
    w = build_world(session)
    order = w.periodic_order()
    orders.assign(w.session, w["eng"], order, "tech", order.version)
    items = orders.checklist(w.session, order)
    partial = {items[0].id: Answer(ok=False)}  # a ✗ without its corrective, the rest missing
    with pytest.raises(FormRejected) as refused:
        orders.complete_periodic(w.session, w["tech"], order, partial, order.version, note=" ")
    assert [p.key for p in refused.value.problems] == [
        "orders.checklist_incomplete",
        "orders.failed_item_needs_corrective",
        "orders_ui2.work_note_required",
    ]
    message = refused.value.message("zh_CN")
    assert "处理情况" in message and "Brake test" in message
    answers = {i.id: Answer(ok=True) for i in items}
    with pytest.raises(DomainError) as note_only:
        orders.complete_periodic(w.session, w["tech"], order, answers, order.version)
    assert note_only.value.key == "orders_ui2.work_note_required"
    assert order.state == "assigned"
    orders.complete_periodic(
        w.session, w["tech"], order, answers, order.version, note="all six items checked"
    )
    assert order.state == "closed"
    assert _events(w, order)[-1].payload["note"] == "all six items checked"


def _events(w: World, order: CorrectiveOrder | object) -> list[WorkflowEvent]:
    return list(
        w.session.scalars(
            select(WorkflowEvent)
            .where(WorkflowEvent.document_no == order.document_no)  # type: ignore[attr-defined]
            .order_by(WorkflowEvent.id)
        )
    )


# ---------------------------------------------------------------- an order's history


def test_the_order_view_tells_the_whole_history_with_notes(session: Session) -> None:
    w = build_world(session)
    s = w.session
    order = _assigned(w)
    orders.wait_corrective(s, w["tech"], order, order.version, "parts", "gasket", at=T0 + 2 * H)
    orders.resume_corrective(s, w["tech"], order, order.version, "gasket came", at=T0 + 5 * H)
    orders.process_corrective(s, w["tech"], order, order.version, "swept", at=T0 + 6 * H)
    orders.verify_corrective(
        s, w["clean"], order, order.version, accepted=False, note="still dirty", at=T0 + 7 * H
    )
    orders.process_corrective(s, w["tech"], order, order.version, "mopped", at=T0 + 8 * H)
    orders.verify_corrective(s, w["clean"], order, order.version, accepted=True, at=T0 + 9 * H)

    view = lookup.order_view(s, w["mgr"], order.document_no)
    steps = [
        (line.transition, line.actor.username, line.to_state, line.note, line.at - T0)
        for line in view.history
    ]
    assert steps == [
        ("raise", "guard", "open", "", timedelta(0)),
        ("assign", "clean", "assigned", "", H),
        ("wait", "tech", "waiting", "gasket", 2 * H),
        ("resume", "tech", "assigned", "gasket came", 5 * H),
        ("process", "tech", "processed", "swept", 6 * H),
        ("send_back", "clean", "assigned", "still dirty", 7 * H),
        ("process", "tech", "processed", "mopped", 8 * H),
        ("verify", "clean", "closed", "", 9 * H),
    ]
    assert (view.history[0].responsible, view.history[1].handler) == ("clean", "tech")
    assert view.history[2].reason == "parts"
    assert view.timezone == "Asia/Shanghai"
    assert view.clock is not None
    assert (view.clock.state, view.clock.stopped_at) == (sla.ClockState.MET, T0 + 9 * H)


def test_a_closed_late_order_says_how_late_in_business_time(session: Session) -> None:
    """Office calendar, 480 business minutes (Mon–Fri 09:00–12:00, 13:30–18:00): raised Monday
    09:00, due Tuesday 09:30; verified Wednesday 10:00 is 8 working hours past the target
    (Tuesday 09:30–12:00 and 13:30–18:00, Wednesday 09:00–10:00) — as
    :func:`operational.sla.evaluate` says, not the 24.5 wall-clock hours."""
    w = build_world(session)
    s = w.session
    orders.set_target(
        s,
        w["mgr"],
        "OF1",
        Discipline.CLEANING,
        ClockTarget(480, ClockUnit.BUSINESS_MINUTES, "office"),
    )
    order = _assigned(w)
    orders.process_corrective(s, w["tech"], order, order.version, "swept", at=T0 + 48 * H)
    orders.verify_corrective(s, w["clean"], order, order.version, accepted=True, at=T0 + 49 * H)

    clock = lookup.order_view(s, w["mgr"], order.document_no).clock
    assert clock is not None
    assert clock.state is sla.ClockState.BREACHED
    assert clock.due_at == T0 + 24 * H + timedelta(minutes=30)
    assert clock.late_minutes == pytest.approx(8 * 60)
    assert clock.target.calendar_kind == "office"


def test_an_open_order_past_its_deadline_is_late_and_a_paused_one_has_none(
    session: Session,
) -> None:
    w = build_world(session)
    s = w.session
    late = _assigned(w, at=T0)
    paused = _assigned(w, at=T0)
    orders.wait_corrective(s, w["tech"], paused, paused.version, "owner", at=T0 + 2 * H)
    late_view = lookup.order_view(s, w["mgr"], late.document_no)
    paused_view = lookup.order_view(s, w["mgr"], paused.document_no)
    assert late_view.clock is not None and paused_view.clock is not None
    assert late_view.clock.state is sla.ClockState.BREACHED
    assert late_view.clock.late_minutes > 0
    assert (paused_view.clock.due_at, paused_view.clock.paused) == (None, True)
    assert paused_view.clock.state is sla.ClockState.PENDING


# ---------------------------------------------------------------- the order list


def test_the_order_list_filters_pages_and_counts_in_the_query(session: Session) -> None:
    w = build_world(session)
    s = w.session
    on_time = _assigned(w, at=T0)
    orders.process_corrective(s, w["tech"], on_time, on_time.version, "done", at=T0 + 2 * H)
    orders.verify_corrective(s, w["clean"], on_time, on_time.version, accepted=True, at=T0 + 3 * H)
    late_closed = _assigned(w, at=T0)
    orders.process_corrective(
        s, w["tech"], late_closed, late_closed.version, "done", at=T0 + 80 * H
    )
    orders.verify_corrective(
        s, w["clean"], late_closed, late_closed.version, accepted=True, at=T0 + 81 * H
    )
    open_late = _raise(w, "Lift stuck", at=T0)
    other_office = orders.raise_corrective(
        s,
        w["mgr2"],
        office_code="OF2",
        spec=CorrectiveSpec("mgr2", "Gate broken", discipline=Discipline.SECURITY),
        at=T0,
    )
    periodic = w.periodic_order()
    numbers = {o.document_no for o in (on_time, late_closed, open_late, other_office, periodic)}
    admin = w["admin"]

    everything = lookup.order_list(s, admin, limit=None)
    assert {r.document_no for r in everything.rows} == numbers
    assert everything.total == 5

    def found(principal: Principal = admin, **filters: object) -> set[str]:
        result = lookup.order_list(s, principal, lookup.OrderFilter(**filters), limit=None)  # type: ignore[arg-type]
        assert result.total == len(result.rows)
        return {r.document_no for r in result.rows}

    assert found(office_code="OF2") == {other_office.document_no}
    assert found(discipline="engineering") == {periodic.document_no}
    assert found(state="closed") == {on_time.document_no, late_closed.document_no}
    # everything still open in March is past its deadline by now
    assert found(late=False) == {on_time.document_no}
    assert found(late=True) == numbers - {on_time.document_no}
    assert found(office_code="OF1", state="closed", late=True) == {late_closed.document_no}
    # the control tower's open and overdue orders: not closed, and not closed and late
    unfinished = numbers - {on_time.document_no, late_closed.document_no}
    assert found(unfinished=True) == unfinished
    assert found(unfinished=True, late=True) == unfinished
    assert found(unfinished=True, late=False) == set()
    # scope inside the query: an office-scoped technician of OF1 sees only OF1's orders, and
    # naming OF2 finds nothing rather than OF2's orders
    assert found(w["tech"]) == numbers - {other_office.document_no}
    assert found(w["tech"], office_code="OF2") == set()

    # pages: newest first, a stable order, the total every time
    first = lookup.order_list(s, admin, limit=2, offset=0)
    second = lookup.order_list(s, admin, limit=2, offset=2)
    rest = lookup.order_list(s, admin, limit=2, offset=4)
    assert (first.total, second.total, rest.total) == (5, 5, 5)
    paged = [r.document_no for r in (*first.rows, *second.rows, *rest.rows)]
    assert paged == [r.document_no for r in everything.rows]
    assert lookup.order_list(s, admin, limit=0).rows == ()
    row = next(r for r in everything.rows if r.document_no == late_closed.document_no)
    assert (row.office_code, row.state, row.late, row.title) == (
        "OF1",
        "closed",
        True,
        "Litter in the lobby",
    )
    assert row.stopped_at == T0 + 81 * H


def test_the_month_is_the_offices_local_month(session: Session) -> None:
    """Raised at 23:30 UTC on 31 March is 1 April 07:30 in Shanghai: an April order there."""
    w = build_world(session)
    s = w.session
    office = s.scalars(select(Office).where(Office.code == "OF1")).one()
    order = _raise(w)
    order.created_at = T0.replace(month=3, day=31, hour=23, minute=30)
    s.flush()
    april = lookup.OrderFilter(month=date(2026, 4, 1))
    march = lookup.OrderFilter(month=date(2026, 3, 15))
    assert [r.document_no for r in lookup.order_list(s, w["admin"], april).rows] == [
        order.document_no
    ]
    assert lookup.order_list(s, w["admin"], march).total == 0
    office.timezone = "UTC"  # the same instant is March on an office clock in UTC
    s.flush()
    assert lookup.order_list(s, w["admin"], march).total == 1


# ---------------------------------------------------------------- the audit log


def test_audit_entries_name_their_office_and_keep_to_the_audit_scope(session: Session) -> None:
    w = build_world(session)
    s = w.session
    of1, of2 = (s.scalars(select(Office.id).where(Office.code == c)).one() for c in ("OF1", "OF2"))
    orders.set_deadline(s, w["mgr"], "OF1", Discipline.CLEANING, 24)
    orders.set_deadline(s, w["mgr2"], "OF2", Discipline.SECURITY, 12)
    audit.record(s, actor="admin", action="create", entity="auth_user", entity_key="newbie")
    s.flush()
    policy = s.scalars(select(AuditEntry).where(AuditEntry.entity == "workflow_clock_policy")).all()
    assert sorted((e.entity_key.split(":")[0], e.office_id) for e in policy) == [
        ("OF1", of1),
        ("OF2", of2),
    ]

    group = who(Role.GROUP_AUDIT_MANAGER, ScopeLevel.GROUP, None)
    city = who(Role.CITY_AUDIT_MANAGER, ScopeLevel.CITY, frozenset({"OF1"}))
    hq = who(Role.HQ_VIEWER, ScopeLevel.GROUP, None)

    def keys(principal: Principal, **filters: object) -> list[str]:
        page = lookup.audit_entries(s, principal, lookup.AuditFilter(**filters), limit=None)  # type: ignore[arg-type]
        assert page.total == len(page.rows)
        mine = ("workflow_clock_policy", "auth_user")  # not the world's objects and types
        return [r.entity_key for r in page.rows if r.entity in mine]

    assert keys(city) == ["OF1:corrective_order:completion:cleaning"]
    assert "newbie" in keys(group) and len(keys(group)) == 3
    assert keys(hq) == []  # HQ viewers do not read the audit log
    assert keys(group, office_code="OF2") == ["OF2:corrective_order:completion:security"]
    assert keys(city, office_code="OF2") == []
    assert keys(group, actor="MGR") == [
        "OF2:corrective_order:completion:security",
        "OF1:corrective_order:completion:cleaning",
    ]
    assert keys(group, entity="auth_user") == ["newbie"]
    assert keys(group, action="update") == []
    kinds = lookup.audit_kinds(s, city)
    assert "auth_user" not in kinds.entities and "workflow_clock_policy" in kinds.entities


def test_the_audit_date_range_is_of_local_days(session: Session) -> None:
    w = build_world(session)
    s = w.session
    orders.set_deadline(s, w["mgr"], "OF1", Discipline.CLEANING, 24)
    s.flush()
    policy = "workflow_clock_policy"
    entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == policy)).one()
    local_day = entry.at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    group = who(Role.GROUP_ADMIN, ScopeLevel.GROUP, None)

    def count(start: date | None, end: date | None) -> int:
        chosen = lookup.AuditFilter(entity=policy, start=start, end=end)
        return lookup.audit_entries(s, group, chosen, limit=0).total

    day = timedelta(days=1)
    assert count(local_day, local_day) == 1
    assert count(local_day + day, None) == 0
    assert count(None, local_day - day) == 0
    assert count(local_day - day, local_day + day) == 1


def test_imported_history_completes_orders_without_notes_and_reads_back(
    session: Session, tmp_path: Path
) -> None:
    """The go-live import writes its process/complete events without a work note (only the
    live form and service require one); the order page reads them like any other."""
    _office(session)
    summary = import_work_orders_file(
        session, _write(tmp_path, GOOD), actor=system_principal("cli"), now=NOW
    )
    assert summary.created == 5
    system = system_principal("cli")
    closed = lookup.order_view(session, system, "OLD-3")
    assert [line.transition for line in closed.history] == ["raise", "assign", "process", "verify"]
    assert all(line.note == "" for line in closed.history)
    assert closed.history[0].actor.username == "system"  # the import records the product
    late = lookup.order_view(session, system, "OLD-2")  # completed after 72 h
    assert late.clock is not None and late.clock.state is sla.ClockState.BREACHED
    assert late.clock.late_minutes > 0
    listed = lookup.order_list(session, system, lookup.OrderFilter(late=True), limit=None)
    assert "OLD-2" in {r.document_no for r in listed.rows}


def test_entries_about_an_office_name_it_and_group_entries_do_not(session: Session) -> None:
    w = build_world(session)
    s = w.session
    of1 = s.scalars(select(Office.id).where(Office.code == "OF1")).one()
    nine_to_five = {0: [(time(9), time(17))]}
    calendars.set_working_hours(s, w["admin"], "OF1", nine_to_five)
    calendars.set_working_hours(s, w["admin"], None, nine_to_five)  # the group's week
    s.flush()
    weeks = s.execute(
        select(AuditEntry.entity_key, AuditEntry.office_id).where(
            AuditEntry.entity == "org_calendar_interval"
        )
    ).all()
    assert sorted(weeks, key=lambda e: e[0]) == [("*", None), ("OF1", of1)]
    objects = s.execute(
        select(AuditEntry.entity, AuditEntry.office_id).where(
            AuditEntry.entity.in_(["maint_object", "maint_object_type"])
        )
    ).all()
    assert {office for entity, office in objects if entity == "maint_object"} == {of1}
    assert {office for entity, office in objects if entity == "maint_object_type"} == {None}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow  # every migration down to 0011 and back up
def test_migration_0012_adds_the_office_and_keeps_the_audit_log_append_only(
    backend: str, tmp_path: Path
) -> None:
    for url in fresh_database_url(backend, tmp_path):
        before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0012_audit_office")
        assert before is not None and isinstance(before.down_revision, str)
        upgrade(url, before.down_revision)
        db = create_db_engine(url)
        try:
            with db.begin() as c:
                c.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, action, entity, entity_key) "
                        "VALUES ('2026-01-01 00:00:00', 'cli', 'create', 'auth_user', 'old')"
                    )
                )
            upgrade(url)
            columns = {c["name"] for c in inspect(db).get_columns("audit_log")}
            assert "office_id" in columns
            with db.connect() as c:
                assert c.execute(text("SELECT office_id FROM audit_log")).all() == [(None,)]
            for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
                with pytest.raises(DBAPIError), db.begin() as c:
                    c.execute(text(statement))
            command.downgrade(alembic_config(url), before.down_revision)
            assert "office_id" not in {c["name"] for c in inspect(db).get_columns("audit_log")}
            with pytest.raises(DBAPIError), db.begin() as c:  # the triggers survive it too
                c.execute(text("DELETE FROM audit_log"))
        finally:
            db.dispose()
