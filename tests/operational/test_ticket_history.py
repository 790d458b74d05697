"""The bulk ticket-history writer leaves what the ticket services leave.

The same lives — a night repair, an urgent and an appointment repair, a complaint that climbs to
level 1 and 2 unresolved, one that is resolved late and visited unsatisfied, one visited
unsatisfied early, a repair reworked, an inquiry, a complaint still being worked — are written
once through the services at their past instants (as ``operational.demo.tickets`` works them:
the ladder checked before each resolution and follow-up, the schedule's check at now) and once
by :func:`operational.demo.ticket_history.write_lives` into another database. The tickets,
their events, clocks, escalations and notices are the same; so are the ticket marts a pipeline
run builds from each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine, select, update

from operational.auth import load_principal
from operational.db import create_db_engine, unit_of_work, upgrade
from operational.demo import org_rows
from operational.demo import ticket_history as history
from operational.demo.ticket_history import Caller, Life, Move
from operational.imports.org import ensure_group, import_org_rows
from operational.models import (
    ComplaintTicket,
    Notice,
    Office,
    Ticket,
    User,
    WorkflowClock,
    WorkflowEvent,
)
from operational.services import tickets
from operational.services.tickets import Intake
from tests.conftest import BACKENDS, fresh_database_url

H, M = timedelta(hours=1), timedelta(minutes=1)
NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
DAY0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CALLER = Caller("1-1-101", "王伟", "13800000001")


def _lives() -> list[Life]:
    d = DAY0
    night = d + 13 * H  # 23:00 in Shanghai: night service, picked up next morning
    return [
        Life(
            "repair",
            night,
            "卫生间漏水",
            (
                Move("dispatch", night + 10 * M, "agent", handler="cs"),
                Move("pick_up", night + 10 * H + 5 * M, "cs"),
                Move("resolve", night + 12 * H, "cs", "已修复"),
                Move("follow_up", night + 17 * H, "agent", result="satisfied"),
            ),
            urgency="normal",
            caller=CALLER,
        ),
        Life(
            "repair",
            d + 24 * H,
            "插座无电",
            (
                Move("dispatch", d + 24 * H + 5 * M, "agent", handler="tech1"),
                Move("pick_up", d + 24 * H + 8 * M, "tech1"),
                Move("arrive", d + 24 * H + 50 * M, "tech1"),  # late: 30 minutes
                Move("resolve", d + 27 * H, "tech1", "已修复"),
                Move("follow_up", d + 30 * H, "agent", result="satisfied"),
            ),
            urgency="urgent",
            caller=CALLER,
        ),
        Life(
            "repair",
            d + 25 * H,
            "空调冷凝水管滴漏",
            (
                Move("dispatch", d + 25 * H + 5 * M, "agent", handler="tech2"),
                Move("pick_up", d + 25 * H + 9 * M, "tech2"),
                Move("arrive", d + 77 * H - 10 * M, "tech2"),
                Move("resolve", d + 78 * H, "tech2", "已修复"),
                Move("follow_up", d + 80 * H, "agent", result="satisfied"),
            ),
            urgency="appointment",
            appointment_at=d + 77 * H,  # Thursday 15:00 in Shanghai
            caller=CALLER,
            in_home=True,
        ),
        # minor (48 h), never resolved: level 1 at the breach, level 2 48 h later (the check at now)
        Life(
            "complaint",
            d + 48 * H,
            "保洁不到位",
            (
                Move("dispatch", d + 48 * H + 3 * M, "agent", handler="mgr"),
                Move("pick_up", d + 48 * H + 7 * M, "mgr"),
            ),
            severity="minor",
            caller=CALLER,
        ),
        # minor, resolved late (level 1 timeout), visited unsatisfied (level 2), resolved again
        Life(
            "complaint",
            d + 96 * H,
            "宠物扰民",
            (
                Move("dispatch", d + 96 * H + 3 * M, "agent", handler="mgr"),
                Move("pick_up", d + 96 * H + 9 * M, "mgr"),
                Move("resolve", d + 146 * H, "mgr", "已处理"),
                Move("follow_up_unsatisfied", d + 148 * H, "agent", "不满意", result="unsatisfied"),
                Move("resolve", d + 156 * H, "mgr", "再处理"),
                Move("follow_up", d + 158 * H, "agent", result="satisfied"),
            ),
            severity="minor",
            caller=CALLER,
        ),
        # general, visited unsatisfied in time (level 1), resolved again (the escalated clock
        # stops), visited satisfied
        Life(
            "complaint",
            d + 168 * H,
            "停车位被占",
            (
                Move("dispatch", d + 168 * H + 2 * M, "agent", handler="mgr"),
                Move("pick_up", d + 168 * H + 6 * M, "mgr"),
                Move("resolve", d + 178 * H, "mgr", "已处理"),
                Move("follow_up_unsatisfied", d + 180 * H, "agent", "不满意", result="unsatisfied"),
                Move("resolve", d + 190 * H, "mgr", "再处理"),
                Move("follow_up", d + 192 * H, "agent", result="satisfied"),
            ),
            severity="general",
            caller=CALLER,
        ),
        # a repair visited unsatisfied: reworked (a new repair linked to it)
        Life(
            "repair",
            d + 192 * H,
            "入户门锁损坏",
            (
                Move("dispatch", d + 192 * H + 4 * M, "agent", handler="tech2"),
                Move("pick_up", d + 192 * H + 10 * M, "tech2"),
                Move("resolve", d + 195 * H, "tech2", "已修复"),
                Move(
                    "follow_up",
                    d + 198 * H,
                    "agent",
                    "业主不满意",
                    result="unsatisfied",
                    rework=(
                        Move("dispatch", d + 198 * H + 5 * M, "agent", handler="tech1"),
                        Move("pick_up", d + 198 * H + 9 * M, "tech1"),
                        Move("resolve", d + 200 * H, "tech1", "已修复"),
                        Move("follow_up", d + 216 * H, "agent", result="satisfied"),
                    ),
                ),
            ),
            urgency="normal",
            caller=CALLER,
            in_home=False,
        ),
        Life(
            "inquiry",
            d + 217 * H,
            "停车月卡办理",
            (
                Move("open", d + 217 * H + 3 * M, "cs"),
                Move("reply", d + 218 * H, "cs", "已答复业主"),
                Move("close", d + 219 * H, "cs"),
            ),
            caller=CALLER,
        ),
        # major, received before now, its resolution after now: in progress at level 0
        Life(
            "complaint",
            NOW - 5 * H,
            "夜间装修噪音",
            (
                Move("dispatch", NOW - 5 * H + 2 * M, "agent", handler="mgr"),
                Move("pick_up", NOW - 4 * H, "mgr"),
                Move("resolve", NOW + 2 * H, "mgr", "已处理"),
            ),
            severity="major",
            caller=CALLER,
        ),
    ]


def _database(path: Path) -> tuple[str, Engine, history.Staff]:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        group = ensure_group(session, "YY", "一应物业集团")
        from operational.auth import system_principal

        import_org_rows(session, org_rows(1, 7), group=group, actor=system_principal("demo"))
        office = session.scalars(select(Office)).one()
        staff = history.office_staff(session, office, "x", seed=7)
    return url, engine, staff


def _through_services(engine: Engine, lives: list[Life]) -> None:
    """The lives through the ticket services, as the demo works them."""
    with unit_of_work(engine) as session:
        office = session.scalars(select(Office)).one()
        users = {u.username.split(".", 1)[1]: u for u in session.scalars(select(User))}
        who = {duty: load_principal(session, u.id) for duty, u in users.items()}
        names = {duty: u.username for duty, u in users.items()}

        def work(ticket: Ticket, moves: tuple[Move, ...]) -> None:
            for move in moves:
                if move.at > NOW:
                    return
                actor = who[move.actor]
                # as the demo: every relevant event of a complaint checks the ladder
                relevant = move.transition in ("resolve", *history.FOLLOW_UPS)
                if isinstance(ticket, ComplaintTicket) and relevant and ticket.escalation_level < 2:
                    tickets.check_complaint(session, ticket, as_of=move.at)
                if move.transition == "dispatch":
                    assert move.handler is not None
                    tickets.dispatch(
                        session, actor, ticket, names[move.handler], ticket.version, at=move.at
                    )
                elif move.transition in ("pick_up", "open"):
                    tickets.pick_up(session, actor, ticket, ticket.version, at=move.at)
                elif move.transition == "arrive":
                    tickets.arrive(session, actor, ticket, ticket.version, at=move.at)  # type: ignore[arg-type]
                elif move.transition in ("resolve", "reply"):
                    tickets.resolve(session, actor, ticket, ticket.version, move.note, at=move.at)
                elif move.transition == "close":
                    tickets.close_inquiry(session, actor, ticket, ticket.version, at=move.at)  # type: ignore[arg-type]
                else:
                    assert move.result is not None
                    new = tickets.follow_up(
                        session,
                        actor,
                        ticket,
                        ticket.version,
                        move.result,
                        move.note,
                        rework=move.rework is not None,
                        at=move.at,
                    )
                    if new is not None and move.rework is not None:
                        work(new, move.rework)

        for life in lives:
            caller = life.caller
            ticket = tickets.record_ticket(
                session,
                who["agent"],
                Intake(
                    office_code=office.code,
                    ticket_type=life.kind,
                    subject=life.subject,
                    urgency=life.urgency,
                    appointment_at=life.appointment_at,
                    severity=life.severity,
                    house_ref=caller.house_ref if caller and life.in_home else None,
                    caller_name=caller.name if caller else None,
                    caller_phone=caller.phone if caller else None,
                ),
                received_at=life.received,
            )
            work(ticket, life.moves)
        session.flush()
        session.execute(update(Notice).where(Notice.sent_at.is_(None)).values(sent_at=NOW))
        tickets.check_escalations(session, as_of=NOW)


def _in_bulk(engine: Engine, staff: history.Staff, lives: list[Life]) -> dict[str, int]:
    with unit_of_work(engine) as session:
        office = session.scalars(select(Office)).one()
        staff = history.Staff(office, staff.calendar, staff.users)
        return history.write_lives(session, [(staff, lives)], NOW)


def _key(session: Any) -> dict[int, tuple[object, ...]]:
    """Each ticket by what identifies it apart from its id and number."""
    return {
        t.id: (t.ticket_type, t.received_at, t.subject) for t in session.scalars(select(Ticket))
    }


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with unit_of_work(engine) as session:
        key = _key(session)
        by_no = {t.document_no: key[t.id] for t in session.scalars(select(Ticket))}
        users = {u.id: u.username for u in session.scalars(select(User))}
        ticket_rows = sorted(
            (
                key[t.id],
                t.state,
                t.version,
                t.urgency,
                t.appointment_at,
                t.severity,
                t.night_service,
                users.get(t.handler_id or 0),
                key.get(t.reopened_from_id or 0),
                t.follow_up_result,
                t.escalation_level,
                t.house_ref,
                t.caller_name,
                t.caller_phone,
                t.description,
            )
            for t in session.scalars(select(Ticket))
        )
        events = {e.id: e for e in session.scalars(select(WorkflowEvent))}

        def payload(p: dict[str, Any]) -> tuple[tuple[str, str], ...]:
            p = dict(p)
            if p.get("reopened_from"):
                p["reopened_from"] = repr(by_no[p["reopened_from"]])
            p.pop("event_id", None)
            return tuple(sorted((k, repr(v)) for k, v in p.items()))

        event_rows = sorted(
            (
                key[e.document_id],
                e.document_type,
                e.transition,
                e.at,
                e.from_state,
                e.to_state,
                e.actor,
                payload(e.payload),
            )
            for e in events.values()
        )

        def event_of(event_id: int | None) -> tuple[object, ...] | None:
            if event_id is None:
                return None
            e = events[event_id]
            return (e.transition, e.at)

        clock_rows = sorted(
            (
                key[c.document_id],
                c.document_type,
                c.clock,
                c.target_amount,
                c.target_unit,
                c.calendar,
                c.started_at,
                c.due_at,
                c.stopped_at,
                event_of(c.started_event_id),
                event_of(c.stopped_event_id),
            )
            for c in session.scalars(select(WorkflowClock))
        )
        notice_rows = sorted(
            (
                by_no[n.document_no],
                n.kind,
                n.recipient_role,
                n.idempotency_key.split(":")[0],
                payload(n.payload),
                n.sent_at,
            )
            for n in session.scalars(select(Notice))
        )
    return {
        "tickets": ticket_rows,
        "events": event_rows,
        "clocks": clock_rows,
        "notices": notice_rows,
    }


@pytest.mark.slow  # two ticket histories of 60 days
def test_bulk_history_writes_what_the_services_write(tmp_path: Path) -> None:
    lives = _lives()
    _, live, _ = _database(tmp_path / "services.db")
    _, bulk, staff = _database(tmp_path / "bulk.db")
    try:
        _through_services(live, lives)
        counts = _in_bulk(bulk, staff, lives)
        expected = _rows(live)
        got = _rows(bulk)
    finally:
        live.dispose()
        bulk.dispose()
    assert counts["tickets"] == len(lives) + 1  # and the rework
    for table in ("tickets", "events", "clocks", "notices"):
        assert got[table] == expected[table], table
    # the lives cover what they say: night service, both levels, a rework, an open ticket
    tickets_ = expected["tickets"]
    assert any(row[6] for row in tickets_)  # night service
    assert {row[10] for row in tickets_} == {0, 1, 2}
    assert any(row[8] is not None for row in tickets_)  # a rework
    assert {row[1] for row in tickets_} >= {"closed", "in_progress"}
    transitions = {row[2] for row in expected["events"]}
    assert {"escalate_1", "escalate_2", "follow_up_unsatisfied", "arrive", "reply"} <= transitions
    escalated = [row for row in expected["clocks"] if row[2] == "escalated_resolution"]
    assert any(row[8] is not None for row in escalated) and any(row[8] is None for row in escalated)


def _marts(url: str, warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    from pipelines.run import run_pipeline

    published = run_pipeline(url, warehouse, NOW)
    out: dict[str, list[tuple[object, ...]]] = {}
    with duckdb.connect(str(published), read_only=True) as con:
        for table, where in (
            ("marts.tickets", ""),
            ("marts.complaint_escalations", ""),
            ("marts.sla_clocks", " where document_type in ('inquiry', 'repair', 'complaint')"),
        ):
            columns = [
                name
                for name, *_ in con.sql(f"describe {table}").fetchall()
                if not name.endswith(("_id", "_no")) and name not in ("document_id",)
            ]
            select_list = ", ".join(f'"{c}"' for c in columns)
            out[table] = sorted(
                con.sql(f"select {select_list} from {table}{where}").fetchall(), key=repr
            )
    return out


@pytest.mark.slow
def test_bulk_history_builds_the_same_ticket_marts(tmp_path: Path) -> None:
    lives = _lives()
    live_url, live, _ = _database(tmp_path / "services.db")
    bulk_url, bulk, staff = _database(tmp_path / "bulk.db")
    try:
        _through_services(live, lives)
        _in_bulk(bulk, staff, lives)
    finally:
        live.dispose()
        bulk.dispose()
    expected = _marts(live_url, tmp_path / "wh-services")
    got = _marts(bulk_url, tmp_path / "wh-bulk")
    for table, rows in expected.items():
        assert rows, table
        assert got[table] == rows, table


def test_the_escalation_check_reads_only_the_clocks_that_can_breach(tmp_path: Path) -> None:
    """Years of closed complaints do not slow the 5-minute check: each of its candidate queries
    (the ones ``check_escalations`` really sends) searches the index of clocks still running or
    stopped late by document type, clock and deadline, reading the index alone (SQLite's plans
    name it, covering)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    _, engine, _ = _database(tmp_path / "plan.db")
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "workflow_clock" in statement and "cs_ticket" in statement:
            sent.append((statement, parameters))

    try:
        event.listen(engine, "before_cursor_execute", capture)
        with Session(engine) as session:
            assert tickets.check_escalations(session, as_of=datetime(2026, 3, 20, tzinfo=UTC)) == 0
            session.rollback()
        event.remove(engine, "before_cursor_execute", capture)
        with engine.connect() as con:
            plans = [
                " ".join(str(row) for row in con.exec_driver_sql("EXPLAIN QUERY PLAN " + q, p))
                for q, p in sent
            ]
    finally:
        engine.dispose()
    assert len(plans) == 2, sent  # one query per level
    for plan in plans:
        assert (
            "COVERING INDEX ix_workflow_clock_breachable (document_type=? AND clock=? AND due_at<?)"
            in plan
        ), plan


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow  # migrations down and back up
def test_migration_0027_lets_the_escalation_check_read_the_index_alone(
    backend: str, tmp_path: Path
) -> None:
    """The breachable clocks' index gains the document id and the stop, so the check's candidate
    query needs no clock row (SQLite's plan says COVERING above); the way back restores
    ``0025_ticket_scale``'s three columns."""
    from alembic import command
    from sqlalchemy import inspect

    from operational.db import alembic_config

    for url in fresh_database_url(backend, tmp_path):
        upgrade(url, "0026_unmoved_nonconformities")
        engine = create_db_engine(url)
        try:

            def columns(engine: Engine = engine) -> list[str]:
                (index,) = [
                    i
                    for i in inspect(engine).get_indexes("workflow_clock")
                    if i["name"] == "ix_workflow_clock_breachable"
                ]
                return [str(c) for c in index["column_names"]]

            assert columns() == ["document_type", "clock", "due_at"]
            upgrade(url, "0027_breachable_covering")
            assert columns() == ["document_type", "clock", "due_at", "document_id", "stopped_at"]
            command.downgrade(alembic_config(url), "0026_unmoved_nonconformities")
            assert columns() == ["document_type", "clock", "due_at"]
            upgrade(url)
            assert columns()[-2:] == ["document_id", "stopped_at"]
        finally:
            engine.dispose()
