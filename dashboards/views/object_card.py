"""Object card (对象卡片): what a technician sees after scanning an object's QR label.

The label opens ``/object?code=<object code>&office=<office code>`` (object codes are unique
within an office, so the label names both; a link with the code alone works when the code is
unique among the offices the user may see, and otherwise offers the offices to choose from).
A logged-out user logs in first and lands back here: the login page keeps the address's query
(``login_query``, the mechanism of the meter-reading form). The code can also be typed in.

The card shows name, location, type, attributes, pending orders, order history, the type's work
standard (作业指导) and the fault library (故障库) entries for the type, with a search box. Only
objects of offices where the user holds ``VIEW_OBJECTS`` are shown. All reads go through
``operational.services.objects`` and ``operational.services.faults``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards.export import excel_download
from dashboards.session import operational_engine, require, tr
from dashboards.text import code_span, md
from operational.auth import Permission
from operational.db import unit_of_work
from operational.services.faults import FaultEntry, faults_for_type
from operational.services.objects import ObjectCard, OrderLine, find_objects, object_card

CODE = "object_card_code"
OFFICE = "object_card_office"
# LINKED: the (code, office) the address asked for, once applied (a typed code then stands).
# ASKED_OFFICE: the office the address named for that code, cleared when another code is typed.
LINKED = "object_card_linked"
ASKED_OFFICE = "object_card_asked_office"
FAULT_SEARCH = "object_card_fault_search"


def _text(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def requested() -> tuple[str | None, str | None]:
    """The code and office a label asked for: in the address, or kept over the login."""
    code, office = _text(st.query_params.get("code")), _text(st.query_params.get("office"))
    kept = st.session_state.pop("login_query", None)
    if not code and isinstance(kept, dict):
        code, office = _text(kept.get("code")), _text(kept.get("office"))
    return code, office


def _code_typed() -> None:
    st.session_state[ASKED_OFFICE] = None


def local(moment: datetime | None, zone: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def orders_table(lines: tuple[OrderLine, ...], zone: str) -> pl.DataFrame:
    columns = ("document_no", "document_type", "title", "state", "created_at", "due_at")
    rows = [
        (
            o.document_no,
            tr(f"workflow.document.{o.document_type}"),
            o.title,
            tr(f"workflow.state.{o.state}"),
            local(o.created_at, zone),
            local(o.due_at, zone),
        )
        for o in lines
    ]
    return pl.DataFrame(
        rows,
        schema={tr(f"objects.card.col.{c}"): pl.String for c in columns},
        orient="row",
    )


def show_faults(entries: list[FaultEntry]) -> None:
    if not entries:
        st.caption(tr("objects.faults.none"))
        return
    for entry in entries:
        with st.expander(f"{md(entry.symptom)} · {md(entry.type_name)}"):
            if entry.cause:
                st.markdown(f"**{tr('objects.faults.cause')}**：{md(entry.cause)}")
            if entry.remedy:
                st.markdown(f"**{tr('objects.faults.remedy')}**：{md(entry.remedy)}")


def show_card(card: ObjectCard) -> None:
    with st.container(border=True):
        st.subheader(md(card.name))
        st.caption(f"{code_span(card.code)} · {md(card.office_code)} {md(card.office_name)}")
        st.markdown(f"**{tr('objects.card.location')}**：{md(card.location) or '—'}")
        st.markdown(
            f"**{tr('objects.card.type')}**：{' / '.join(map(md, card.type_path))}"
            f"（{tr(f'discipline.{card.discipline}')}）"
        )
        for a in card.attributes:
            unit = f" {a.unit}" if a.unit else ""
            st.markdown(f"**{md(a.name)}**：{md(a.value)}{md(unit)}")
    pending, history, guidance, faults = st.tabs(
        [
            tr("objects.card.pending", count=len(card.pending)),
            tr("objects.card.history"),
            tr("objects.card.guidance"),
            tr("objects.card.faults"),
        ]
    )
    with pending:
        if card.pending:
            table = orders_table(card.pending, card.timezone)
            st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
            excel_download(table, f"{card.code}-{tr('objects.card.excel_pending')}", key="oc_p")
        else:
            st.caption(tr("objects.card.no_pending"))
    with history:
        if card.history:
            st.caption(
                tr("objects.card.history_shown", shown=len(card.history), total=card.history_total)
            )
            table = orders_table(card.history, card.timezone)
            st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
            excel_download(table, f"{card.code}-{tr('objects.card.excel_history')}", key="oc_h")
        else:
            st.caption(tr("objects.card.no_history"))
    with guidance:
        if not card.guidance:
            st.caption(tr("objects.card.no_guidance"))
        for number, line in enumerate(card.guidance, start=1):
            st.markdown(f"{number}. {md(line.text)}")
            if line.guidance:
                st.caption(md(line.guidance))
    with faults:
        text = st.text_input(
            tr("objects.faults.search"),
            key=FAULT_SEARCH,
            placeholder=tr("objects.faults.search_hint"),
        )
        with unit_of_work(operational_engine()) as db:
            entries = faults_for_type(db, card.type_code, text)
        show_faults(entries)


def render() -> None:
    user = require(Permission.VIEW_OBJECTS)
    st.title(tr("objects.card.title"))
    code, office = requested()
    if code and (code, office) != st.session_state.get(LINKED):
        st.session_state[LINKED] = (code, office)
        st.session_state[CODE] = code
        st.session_state[ASKED_OFFICE] = office
    st.text_input(
        tr("objects.card.code"),
        key=CODE,
        placeholder=tr("objects.card.code_hint"),
        on_change=_code_typed,
    )
    typed = str(st.session_state.get(CODE) or "").strip()
    if not typed:
        st.info(tr("objects.card.enter_code"))
        return
    asked_office = st.session_state.get(ASKED_OFFICE)
    with unit_of_work(operational_engine()) as db:
        matches = find_objects(db, user, typed, asked_office)
    if not matches:
        st.warning(tr("objects.card.not_found", code=md(typed)))
        return
    chosen = matches[0]
    if len(matches) > 1:
        by_office = {m.office_code: m for m in matches}
        if st.session_state.get(OFFICE) not in by_office:
            st.session_state[OFFICE] = None
        picked = st.selectbox(
            tr("objects.card.choose_office", code=md(typed)),
            list(by_office),
            format_func=lambda c: f"{c} {by_office[c].office_name} · {by_office[c].name}",
            placeholder=tr("objects.card.choose_office_hint"),
            key=OFFICE,
        )
        if picked is None:
            return
        chosen = by_office[str(picked)]
    if st.query_params.get("code") != chosen.code:
        st.query_params["code"] = chosen.code
    if st.query_params.get("office") != chosen.office_code:
        st.query_params["office"] = chosen.office_code
    with unit_of_work(operational_engine()) as db:
        card = object_card(db, user, chosen.office_code, chosen.code)
    show_card(card)


render()
