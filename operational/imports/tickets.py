"""The go-live history import of tickets: ``propcloud import tickets FILE``.

Columns (docs/import-formats.md, "Tickets"): ``ticket_no, office_code, type`` (``inquiry``,
``repair``, ``complaint``), ``received_at`` and optional ``severity`` (complaints),
``urgency`` (repairs; default ``normal``), ``appointment_at``, ``dispatched_at``,
``picked_up_at``, ``on_site_at``, ``resolved_at``, ``follow_up_at``, ``follow_up_result``
(``satisfied`` / ``unsatisfied``). An empty time means the step did not happen; times are the
office's local time unless they carry an offset.

Each row becomes a ticket with the events the engine would have written, at their instants,
so its clocks — and a complaint's escalations, fired by the ladder as of the import — come out
as if it had been worked live. History sends no notices. All rows or none; every bad row is
reported by its number.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import entry
from operational.auth import Permission, Principal, system_principal
from operational.errors import PermissionDenied
from operational.imports.energy import parse_time, time_refusal
from operational.imports.table import ImportRejected, ImportSummary, Row, RowError, read_table
from operational.models import (
    ComplaintTicket,
    FollowUpResult,
    Office,
    Severity,
    Ticket,
    TicketType,
    Urgency,
    utcnow,
)
from operational.services import tickets
from operational.workflow import engine

REQUIRED = ("ticket_no", "office_code", "type", "received_at")
TIMES = (
    "appointment_at",
    "received_at",
    "dispatched_at",
    "picked_up_at",
    "on_site_at",
    "resolved_at",
    "follow_up_at",
)
OPTIONAL = (
    "severity",
    "urgency",
    "appointment_at",
    "dispatched_at",
    "picked_up_at",
    "on_site_at",
    "resolved_at",
    "follow_up_at",
    "follow_up_result",
)
_STEPS = (
    "received_at",
    "dispatched_at",
    "picked_up_at",
    "on_site_at",
    "resolved_at",
    "follow_up_at",
)
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,39}$")
_K = "import.tickets."


@dataclass(frozen=True)
class HistoryTicket:
    number: int
    ticket_no: str
    office_code: str
    kind: TicketType
    severity: Severity | None
    urgency: Urgency | None
    times: dict[str, datetime]
    result: FollowUpResult | None


def _validate(
    session: Session, rows: list[Row], actor: Principal, now: datetime
) -> list[HistoryTicket]:
    offices = {o.code: o for o in session.scalars(select(Office))}
    numbers = [v["ticket_no"] for _, v in rows]
    stored = set(session.scalars(select(Ticket.document_no).where(Ticket.document_no.in_(numbers))))
    errors: list[RowError] = []
    first_rows: dict[str, int] = {}
    found: list[HistoryTicket] = []
    for number, values in rows:
        before = len(errors)

        def fail(key: str, number: int = number, **params: object) -> None:
            errors.append(RowError(number, key, dict(params)))

        no = values["ticket_no"]
        if not _NUMBER.match(no):
            fail(_K + "bad_number", value=no)
        elif no in stored:
            fail(_K + "stored", ticket_no=no)
        elif first_rows.setdefault(no, number) != number:
            fail(_K + "duplicate", ticket_no=no, first_row=first_rows[no])
        office = offices.get(values["office_code"])
        if office is None:
            fail(_K + "unknown_office", code=values["office_code"])
        elif not actor.can(Permission.RECORD_TICKETS, office.code):
            fail(_K + "not_allowed", code=office.code)
        kind = _choice(TicketType, values["type"].lower(), "type", fail)
        severity = _choice(Severity, values.get("severity", "").lower(), "severity", fail)
        urgency = _choice(Urgency, values.get("urgency", "").lower(), "urgency", fail)
        result = _choice(
            FollowUpResult, values.get("follow_up_result", "").lower(), "follow_up_result", fail
        )
        zone = ZoneInfo(office.timezone) if office is not None else ZoneInfo("Asia/Shanghai")
        times: dict[str, datetime] = {}
        for column in TIMES:
            text = values.get(column, "")
            if not text:
                continue
            at = parse_time(text, zone)
            if at is None:
                fail("import.bad_time", column=column, value=entry.short(text))
                continue
            refused = time_refusal(number, column, text, at, now)
            if refused is not None:
                errors.append(refused)
                continue
            times[column] = at
        if kind is not None:
            _check_steps(kind, severity, urgency, result, times, values, fail)
        if len(errors) == before and kind is not None:
            found.append(
                HistoryTicket(
                    number,
                    no,
                    values["office_code"],
                    kind,
                    severity,
                    (urgency or Urgency.NORMAL) if kind is TicketType.REPAIR else None,
                    times,
                    result,
                )
            )
    if errors:
        raise ImportRejected(errors)
    return found


E = TypeVar("E", TicketType, Severity, Urgency, FollowUpResult)
Fail = Callable[..., None]


def _choice(kind: type[E], text: str, column: str, fail: Fail) -> E | None:
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        fail(_K + "bad_choice", column=column, value=entry.short(text), known=", ".join(kind))
        return None


def _check_steps(
    kind: TicketType,
    severity: Severity | None,
    urgency: Urgency | None,
    result: FollowUpResult | None,
    times: dict[str, datetime],
    values: dict[str, str],
    fail: Fail,
) -> None:
    """The steps a row's type has, each after the one before, each needing the one before."""
    if kind is TicketType.COMPLAINT and severity is None:
        fail(_K + "severity_required")
    if kind is not TicketType.COMPLAINT and severity is not None:
        fail(_K + "only_complaints", column="severity")
    if kind is not TicketType.REPAIR and urgency is not None:
        fail(_K + "only_repairs", column="urgency")
    if kind is not TicketType.REPAIR and values.get("on_site_at"):
        fail(_K + "only_repairs", column="on_site_at")
    if (urgency is Urgency.APPOINTMENT) != bool(values.get("appointment_at")):
        fail(_K + "appointment")
    appointment, received = times.get("appointment_at"), times.get("received_at")
    if appointment is not None and received is not None and appointment <= received:
        fail(_K + "appointment_in_past")
    if bool(values.get("follow_up_at")) != (result is not None):
        fail(_K + "follow_up_pair")
    if kind is TicketType.INQUIRY:
        for column in ("dispatched_at", "follow_up_at"):
            if values.get(column):
                fail(_K + "not_for_inquiries", column=column)
    needs = {
        "picked_up_at": "received_at" if kind is TicketType.INQUIRY else "dispatched_at",
        "on_site_at": "picked_up_at",
        "resolved_at": "picked_up_at",
        "follow_up_at": "resolved_at",
    }
    for column, before in needs.items():
        if values.get(column) and not values.get(before):
            fail(_K + "step_missing", column=column, needs=before)
    present = [c for c in _STEPS if c in times]
    for earlier, later in itertools.pairwise(present):
        if times[later] < times[earlier]:
            fail(_K + "out_of_order", column=later, before=earlier)


def _write(session: Session, actor: Principal, row: HistoryTicket) -> None:
    t = row.times
    ticket = tickets.record_ticket(
        session,
        actor,
        tickets.Intake(
            row.office_code,
            row.kind,
            row.ticket_no,
            urgency=row.urgency,
            appointment_at=t.get("appointment_at"),
            severity=row.severity,
        ),
        received_at=t["received_at"],
        document_no=row.ticket_no,
    )

    # Who took each past step is not in the file: the steps are the system's (as for the
    # work-order history); the importing user is checked per row for RECORD_TICKETS.
    past = system_principal(engine.SYSTEM_ACTOR)

    def move(name: str, column: str, payload: dict[str, object] | None = None) -> None:
        engine.transition(session, past, ticket, name, payload or {}, ticket.version, at=t[column])

    inquiry = row.kind is TicketType.INQUIRY
    if "dispatched_at" in t:
        move("dispatch", "dispatched_at", {"handler": None})
    if "picked_up_at" in t:
        move("open" if inquiry else "pick_up", "picked_up_at")
    if "on_site_at" in t:
        move("arrive", "on_site_at")
    if "resolved_at" in t:
        move("reply" if inquiry else "resolve", "resolved_at")
        if inquiry:
            move("close", "resolved_at")
    if "follow_up_at" in t and row.result is not None:
        ticket.follow_up_result = row.result.value
        unsatisfied = row.result is FollowUpResult.UNSATISFIED
        complaint = isinstance(ticket, ComplaintTicket)
        name = "follow_up_unsatisfied" if unsatisfied and complaint else "follow_up"
        move(name, "follow_up_at", {"result": row.result.value})
    if isinstance(ticket, ComplaintTicket):
        tickets.check_complaint(session, ticket, notify=False)


def import_ticket_rows(session: Session, rows: list[Row], *, actor: Principal) -> ImportSummary:
    """Validate every row, then write every ticket with its history (the caller commits)."""
    if not actor.can(Permission.RECORD_TICKETS):
        raise PermissionDenied("auth.not_allowed")
    history = _validate(session, rows, actor, utcnow())
    for row in history:
        _write(session, actor, row)
    session.flush()
    return ImportSummary(created=len(history))


def import_tickets_file(
    session: Session, path: Path, *, actor: Principal, encoding: str | None = None
) -> ImportSummary:
    """Read ``path`` (CSV or XLSX) and import its tickets (all rows or none)."""
    read = read_table(
        path, REQUIRED, OPTIONAL, encoding=encoding, lengths={"ticket_no": Ticket.document_no}
    )
    return import_ticket_rows(session, read.rows, actor=actor).read_as(read.encoding)
