"""The energy exceptions of a node on the energy page: the list, the count still to follow up,
and the follow-up form (a note, and done) per exception.

The exceptions come from the published warehouse (``EnergyReader.node_exceptions``); their
follow-ups are operational records, so the latest of each is read from the operational store
(``operational.services.energy_followups.latest_follow_ups``, within the user's offices) and a
follow-up shows at once, before the next build carries it into the mart. A done exception leaves
the count "to follow up". Recording one is for those who may enter readings at the point's
office (the service checks it again inside its query). Notes are user text: they are shown in
the table and the form's text area, never as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards.energy_data import Node, local_text
from dashboards.export import excel_download
from dashboards.session import error_text, operational_engine, tr
from operational.auth import Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.services.energy_followups import (
    FOLLOW_UP_PERMISSION,
    ExceptionKey,
    follow_up_exception,
    latest_follow_ups,
)
from warehouse.queries_energy import EnergyReader, Kind

RULES = ("held", "rollover", "high", "entry_flag_rollover", "entry_flag_high", "point_held")
FLASH = "energy_follow_flash"
LIMIT = 500


@dataclass(frozen=True)
class Exceptions:
    """The exceptions of a node as the page shows them (at most :data:`LIMIT`)."""

    rows: list[dict[str, Any]]
    total: int
    """How many there are, however many are shown."""
    to_follow_up: int
    """How many are not done."""


def key_of(row: dict[str, Any]) -> ExceptionKey:
    start: datetime = row["start_at"]
    return ExceptionKey(row["point_code"], row["rule"], start.replace(tzinfo=UTC))


def load(reader: EnergyReader, node: Node, kind: Kind, user: Principal) -> Exceptions:
    """The node's exceptions, each with its latest follow-up (the operational one if newer)."""
    frame = reader.node_exceptions(node.level, node.code, kind, LIMIT)
    rows = [] if frame.is_empty() else list(frame.iter_rows(named=True))
    if not rows:
        return Exceptions([], 0, 0)
    total, open_total = int(rows[0]["total"]), int(rows[0]["open_total"])
    with unit_of_work(operational_engine()) as session:
        latest = latest_follow_ups(session, user, [key_of(r) for r in rows])
    for row in rows:
        follow = latest.get(key_of(row))
        if follow is None:
            continue
        if follow.done != row["done"]:  # recorded since the build
            open_total += 1 if row["done"] else -1
        row.update(
            done=follow.done,
            follow_up_note=follow.note,
            followed_up_by=follow.followed_up_by,
            followed_up_at=follow.followed_up_at.replace(tzinfo=None),
        )
    return Exceptions(rows, total, open_total)


def _local(instant: datetime | None, zone: str) -> datetime | None:
    """A naive UTC instant as a naive time on the office's clock (an instant the zone cannot
    show, such as a stored year 1, stays UTC)."""
    if instant is None:
        return None
    try:
        return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return instant


def table(exceptions: Exceptions, unit: str) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The exceptions as a table of numbers, local times, texts and done flags (what is shown
    and exported), and the column formats the page shows it with."""
    rules = {
        r: tr(f"energy_pages.rule.{r}" if r == "point_held" else f"energy_ui.rule.{r}")
        for r in RULES
    }
    rows = exceptions.rows
    c = {
        "office": tr("energy_ui.col.office"),
        "point": tr("energy_ui.col.point"),
        "rule": tr("energy_ui.col.rule"),
        "why": tr("energy_pages.col.why"),
        "from": tr("energy_ui.col.from"),
        "to": tr("energy_ui.col.to"),
        "start": tr("energy_ui.col.start_reading"),
        "end": tr("energy_ui.col.end_reading"),
        "delta": tr("energy_ui.col.delta", unit=unit),
        "typical": tr("energy_pages.col.typical", unit=unit),
        "done": tr("energy_pages.col.done"),
        "note": tr("energy_pages.col.note"),
        "at": tr("energy_pages.col.followed_up"),
        "by": tr("energy_pages.col.by"),
    }
    frame = pl.DataFrame(
        {
            c["office"]: [r["office_code"] for r in rows],
            c["point"]: [f"{r['name']} ({r['point_code']})" for r in rows],
            c["rule"]: [rules.get(r["rule"], r["rule"]) for r in rows],
            c["why"]: [
                tr(f"energy_pages.held_reason.{r['held_reason']}") if r["held_reason"] else None
                for r in rows
            ],
            c["from"]: [_local(r["start_at"], r["timezone"]) for r in rows],
            c["to"]: [_local(r["end_at"], r["timezone"]) for r in rows],
            c["start"]: [r["start_reading"] for r in rows],
            c["end"]: [r["end_reading"] for r in rows],
            c["delta"]: [r["delta"] for r in rows],
            c["typical"]: [r["typical_daily"] for r in rows],
            c["done"]: [bool(r["done"]) for r in rows],
            c["note"]: [r["follow_up_note"] for r in rows],
            c["at"]: [_local(r["followed_up_at"], r["timezone"]) for r in rows],
            c["by"]: [r["followed_up_by"] for r in rows],
        },
        schema={
            c["office"]: pl.String,
            c["point"]: pl.String,
            c["rule"]: pl.String,
            c["why"]: pl.String,
            c["from"]: pl.Datetime("us"),
            c["to"]: pl.Datetime("us"),
            c["start"]: pl.Float64,
            c["end"]: pl.Float64,
            c["delta"]: pl.Float64,
            c["typical"]: pl.Float64,
            c["done"]: pl.Boolean,
            c["note"]: pl.String,
            c["at"]: pl.Datetime("us"),
            c["by"]: pl.String,
        },
    )
    when = "YYYY-MM-DD HH:mm"
    config = {
        c["from"]: st.column_config.DatetimeColumn(format=when),
        c["to"]: st.column_config.DatetimeColumn(format=when),
        c["at"]: st.column_config.DatetimeColumn(format=when),
        c["start"]: st.column_config.NumberColumn(format="localized"),
        c["end"]: st.column_config.NumberColumn(format="localized"),
        c["delta"]: st.column_config.NumberColumn(format=f"%,.1f {unit}"),
        c["typical"]: st.column_config.NumberColumn(format=f"%,.1f {unit}"),
        c["done"]: st.column_config.CheckboxColumn(),
        c["note"]: st.column_config.TextColumn(),
    }
    return frame, config


def section(exceptions: Exceptions, unit: str, user: Principal) -> None:
    """The exceptions tab: the outcome of the last follow-up, the list, its export, the form."""
    kept = st.session_state.pop(FLASH, None)
    if kept:
        st.success(tr(f"energy_pages.follow.{kept}"))
    if not exceptions.rows:
        st.success(tr("energy_ui.exceptions.none"))
        return
    st.caption(tr("energy_ui.exceptions.explain"))
    if any(r["rule"] == "point_held" for r in exceptions.rows):
        st.caption(tr("energy_pages.follow.held_explain"))
    st.caption(
        tr(
            "energy_pages.follow.shown",
            shown=f"{len(exceptions.rows):,}",
            total=f"{exceptions.total:,}",
            open=f"{exceptions.to_follow_up:,}",
        )
    )
    frame, config = table(exceptions, unit)
    st.dataframe(
        frame, hide_index=True, placeholder=tr("finish.table.missing"), column_config=config
    )
    excel_download(frame, tr("energy_ui.tab.exceptions"), key="energy_excel_exceptions")
    follow_up_form(exceptions, user)


def _choice(row: dict[str, Any]) -> str:
    key = key_of(row)
    return f"{key.point_code}|{key.rule}|{key.start_at.isoformat()}"


def follow_up_form(exceptions: Exceptions, user: Principal) -> None:
    """Pick an exception the user may follow up, write a note, say whether it is done."""
    allowed = [r for r in exceptions.rows if user.can(FOLLOW_UP_PERMISSION, r["office_code"])]
    st.subheader(tr("energy_pages.follow.title"))
    if not allowed:
        st.caption(tr("energy_pages.follow.read_only"))
        return
    rules = {
        r: tr(f"energy_pages.rule.{r}" if r == "point_held" else f"energy_ui.rule.{r}")
        for r in RULES
    }
    by_choice = {_choice(r): r for r in allowed}
    labels = {
        choice: " · ".join(
            (
                f"{r['name']} ({r['point_code']})",
                rules.get(r["rule"], r["rule"]),
                local_text(r["start_at"], r["timezone"]),
                f"✓ {tr('energy_pages.col.done')}" if r["done"] else "",
            )
        ).rstrip(" ·")
        for choice, r in by_choice.items()
    }
    if st.session_state.get("energy_follow_pick") not in by_choice:
        st.session_state["energy_follow_pick"] = next(iter(by_choice))
    choice = str(
        st.selectbox(
            tr("energy_pages.follow.pick"),
            list(by_choice),
            format_func=labels.__getitem__,
            key="energy_follow_pick",
        )
    )
    row = by_choice[choice]
    with st.form("energy_follow_form"):
        note = st.text_area(
            tr("energy_pages.follow.note"),
            value=row["follow_up_note"] or "",
            max_chars=2000,
            help=tr("energy_pages.follow.note_help"),
            key=f"energy_follow_note_{choice}",
        )
        done = st.checkbox(
            tr("energy_pages.follow.done"),
            value=bool(row["done"]),
            key=f"energy_follow_done_{choice}",
        )
        submitted = st.form_submit_button(tr("energy_pages.follow.submit"), type="primary")
    if not submitted:
        return
    try:
        with unit_of_work(operational_engine()) as session:
            follow_up_exception(session, user, key_of(row), note, done=done)
    except DomainError as error:
        st.error(error_text(error))
        return
    st.session_state[FLASH] = "saved_done" if done else "saved_open"
    st.rerun()
