"""Order search (工单查询): head office, internal audit and office staff list and search orders.

Filters: office (among those where the user sees orders), discipline, state, the month the order
was raised (on its office's clock) and whether it is late (its completion clock breached,
docs/sla-clocks.md). The address ``/order_list?office=SH001&discipline=engineering&state=closed
&month=2026-11&late=yes`` pre-fills them (a link from another page or a bookmark). The list is
paged and says how many orders match; each number opens the order (``/orders?order=…``); the
Excel export holds every matching order. The page reads only ``lookup.order_list``, which
applies the user's scope and every filter inside its query.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st
from streamlit import config

from dashboards.export import excel_download
from dashboards.paging import ORDER_LIST, pager
from dashboards.session import operational_engine, require, tr
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.models import Discipline
from operational.services import lookup

FILTERS = {  # URL parameter → widget key
    "office": "ol_office",
    "discipline": "ol_discipline",
    "state": "ol_state",
    "month": "ol_month",
    "late": "ol_late",
}
LINKED = "ol_linked"
UNFINISHED = "unfinished"  # not a workflow state: every order not closed yet
MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
LATE_WORDS = {"yes": "yes", "true": "yes", "1": "yes", "no": "no", "false": "no", "0": "no"}


def order_link(document_no: str) -> str:
    """The address of the order's page (``/orders?order=…``, under the server's base path)."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}/" if base else "/"
    return f"{prefix}orders?order={quote(document_no, safe='')}"


def parse_month(typed: str) -> date | None:
    """``2026-11`` as the first day of that month; None if it is not a year and month."""
    found = MONTH.match(typed)
    if found is None:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 2000 <= year <= 9999 or not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def _apply_link(offices: dict[str, str]) -> str | None:
    """Copy the address's filters into the widgets, once per address; returns an office code
    the user may not see (to say so), else None."""
    given = {name: str(st.query_params.get(name) or "").strip() for name in FILTERS}
    if not any(given.values()) or st.session_state.get(LINKED) == given:
        return None
    st.session_state[LINKED] = given
    refused = None
    office = given["office"]
    if office:
        if office in offices:
            st.session_state[FILTERS["office"]] = office
        else:
            refused = office
            st.session_state[FILTERS["office"]] = ""
    if given["discipline"] in {d.value for d in Discipline}:
        st.session_state[FILTERS["discipline"]] = given["discipline"]
    if given["state"] in lookup.ORDER_STATES or given["state"] == UNFINISHED:
        st.session_state[FILTERS["state"]] = given["state"]
    if given["month"]:
        st.session_state[FILTERS["month"]] = given["month"]
    if given["late"].lower() in LATE_WORDS:
        st.session_state[FILTERS["late"]] = LATE_WORDS[given["late"].lower()]
    return refused


def _local(moment: datetime | None, zone: str) -> datetime | None:
    """An instant as the office's wall-clock time (a naive datetime: Excel keeps it a date)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _shown(moment: datetime | None, zone: str) -> str:
    """An instant as the office's wall-clock time on screen; none is a dash, never "None"."""
    local = _local(moment, zone)
    return "—" if local is None else local.strftime("%Y-%m-%d %H:%M")


def order_table(rows: tuple[lookup.OrderRow, ...], *, links: bool) -> pl.DataFrame:
    """The list as shown (``links``: the number column holds the order's address, times are
    text with a dash for none) or exported (numbers, and times as Excel dates)."""
    col = {
        name: tr(f"orders_ui2.list.col.{name}")
        for name in (
            "document_no",
            "document_type",
            "office",
            "discipline",
            "title",
            "state",
            "created_at",
            "due_at",
            "stopped_at",
            "late",
        )
    }
    yes, no = tr("orders_ui2.list.late_yes"), tr("orders_ui2.list.late_no")
    times: dict[str, list[object]] = {
        col[name]: [
            _shown(getattr(r, name), r.timezone) if links else _local(getattr(r, name), r.timezone)
            for r in rows
        ]
        for name in ("created_at", "due_at", "stopped_at")
    }
    time_type = pl.String if links else pl.Datetime("us")
    return pl.DataFrame(
        {
            col["document_no"]: [
                order_link(r.document_no) if links else r.document_no for r in rows
            ],
            col["document_type"]: [tr(f"workflow.document.{r.document_type}") for r in rows],
            col["office"]: [f"{r.office_code} {r.office_name}" for r in rows],
            col["discipline"]: [tr(f"discipline.{r.discipline}") for r in rows],
            col["title"]: [r.title for r in rows],
            col["state"]: [tr(f"workflow.state.{r.state}") for r in rows],
            **times,
            col["late"]: [yes if r.late else no for r in rows],
        },
        schema={
            col["document_no"]: pl.String,
            col["document_type"]: pl.String,
            col["office"]: pl.String,
            col["discipline"]: pl.String,
            col["title"]: pl.String,
            col["state"]: pl.String,
            col["created_at"]: time_type,
            col["due_at"]: time_type,
            col["stopped_at"]: time_type,
            col["late"]: pl.String,
        },
    )


def filters_form(offices: dict[str, str]) -> tuple[lookup.OrderFilter, bool]:
    """The filter widgets; the filter they give and whether it is valid (a bad month is not)."""
    everything = tr("orders_ui2.all")
    office_labels = {"": everything} | offices
    disciplines = {"": everything} | {d.value: tr(f"discipline.{d.value}") for d in Discipline}
    states = {"": everything, UNFINISHED: tr("orders_ui2.list.unfinished")} | {
        s: tr(f"workflow.state.{s}") for s in lookup.ORDER_STATES
    }
    late = {
        "": everything,
        "yes": tr("orders_ui2.list.late_yes"),
        "no": tr("orders_ui2.list.late_no"),
    }
    first, second, third = st.columns(3)
    office = first.selectbox(
        tr("orders_ui2.list.office"),
        list(office_labels),
        format_func=office_labels.__getitem__,
        key=FILTERS["office"],
    )
    discipline = second.selectbox(
        tr("orders_ui2.list.discipline"),
        list(disciplines),
        format_func=disciplines.__getitem__,
        key=FILTERS["discipline"],
    )
    state = third.selectbox(
        tr("orders_ui2.list.state"),
        list(states),
        format_func=states.__getitem__,
        key=FILTERS["state"],
    )
    fourth, fifth, _ = st.columns(3)
    typed = fourth.text_input(
        tr("orders_ui2.list.month"),
        placeholder=tr("orders_ui2.list.month_hint"),
        key=FILTERS["month"],
    )
    lateness = fifth.selectbox(
        tr("orders_ui2.list.late"),
        list(late),
        format_func=late.__getitem__,
        key=FILTERS["late"],
    )
    month = None
    valid = True
    if typed and typed.strip():
        month = parse_month(typed)
        if month is None:
            valid = False
            st.error(
                tr(
                    "orders_ui2.list.bad_month",
                    field=tr("orders_ui2.list.month"),
                    value=md(typed),
                )
            )
    chosen = lookup.OrderFilter(
        office_code=office or None,
        discipline=discipline or None,
        state=None if state in ("", UNFINISHED) else state,
        month=month,
        late=None if not lateness else lateness == "yes",
        unfinished=state == UNFINISHED,
    )
    return chosen, valid


def show_list(user: Principal, chosen: lookup.OrderFilter) -> None:
    engine = operational_engine()
    with unit_of_work(engine) as db:
        total = lookup.order_list(db, user, chosen, limit=0).total
    st.markdown(tr("orders_ui2.list.total", total=total))
    if total == 0:
        st.info(tr("orders_ui2.list.none"))
        return
    page = pager(total, size=ORDER_LIST, key="ol_page")
    with unit_of_work(engine) as db:
        rows = lookup.order_list(
            db, user, chosen, limit=page.limit, offset=page.offset, counted=False
        ).rows
    table = order_table(rows, links=True)
    number = tr("orders_ui2.list.col.document_no")
    st.dataframe(
        table,
        hide_index=True,
        column_config={number: st.column_config.LinkColumn(display_text=r"order=(.*)$")},
        placeholder=tr("finish.table.missing"),
    )
    st.caption(tr("orders_ui2.list.times_local"))

    def everything() -> pl.DataFrame:
        with unit_of_work(engine) as db:
            found = lookup.order_list(db, user, chosen, limit=None, counted=False).rows
        return order_table(found, links=False)

    excel_download(everything, tr("orders_ui2.list.file"), key="ol_excel")


def render() -> None:
    user = require(Permission.VIEW_ORDERS)
    st.title(tr("orders_ui2.list.title"))
    with unit_of_work(operational_engine()) as db:
        offices = {
            o.code: f"{o.code} {o.name}" for o in lookup.offices(db, user, Permission.VIEW_ORDERS)
        }
    refused = _apply_link(offices)
    if refused:
        st.info(tr("orders_ui2.list.unknown_office", office=md(refused)))
    if st.session_state.get(FILTERS["office"]) not in (None, "", *offices):
        st.session_state[FILTERS["office"]] = ""  # an office no longer in scope
    chosen, valid = filters_form(offices)
    if valid:
        show_list(user, chosen)


render()
