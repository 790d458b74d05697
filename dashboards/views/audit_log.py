"""Audit log (审计日志): internal audit reads who changed what, when, before and after.

For ``VIEW_AUDIT_LOG`` (group and city audit managers, the group administrator). Entries of the
offices where the user holds it; group-level entries (users, the object-type tree, the group's
calendar, imports spanning offices — no office) only for group-scope readers. Filters: who (any
part of the user name), action, kind of record, a date range (local days on each entry's office
clock) and office. Paged, with the total; the Excel export holds every matching entry. Details
(before / after) are shown as text. The page reads only ``lookup.audit_entries`` /
``lookup.audit_kinds``, which apply the scope inside their queries.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards.export import excel_download
from dashboards.paging import AUDIT_ENTRIES, pager
from dashboards.session import language, operational_engine, require, tr
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.i18n import catalogue
from operational.services import lookup


def word(group: str, value: str) -> str:
    """The translated name of an action or a kind of record, else the stored code itself."""
    key = f"orders_ui2.audit.{group}.{value}"
    return tr(key) if key in catalogue(language()) else value


def details_text(values: dict[str, Any] | None) -> str:
    """An entry's before / after as one line of text (JSON, Chinese kept readable)."""
    if not values:
        return ""
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def audit_table(rows: tuple[lookup.AuditRow, ...]) -> pl.DataFrame:
    col = {
        name: tr(f"orders_ui2.audit.col.{name}")
        for name in ("at", "actor", "action", "entity", "entity_key", "office", "before", "after")
    }
    group = tr("orders_ui2.group_level")
    return pl.DataFrame(
        {
            col["at"]: [_local(r.at, r.timezone) for r in rows],
            col["actor"]: [r.actor for r in rows],
            col["action"]: [word("actions", r.action) for r in rows],
            col["entity"]: [word("entities", r.entity) for r in rows],
            col["entity_key"]: [r.entity_key for r in rows],
            col["office"]: [
                f"{r.office_code} {r.office_name}" if r.office_code else group for r in rows
            ],
            col["before"]: [details_text(r.before) for r in rows],
            col["after"]: [details_text(r.after) for r in rows],
        },
        schema={
            col["at"]: pl.Datetime("us"),
            col["actor"]: pl.String,
            col["action"]: pl.String,
            col["entity"]: pl.String,
            col["entity_key"]: pl.String,
            col["office"]: pl.String,
            col["before"]: pl.String,
            col["after"]: pl.String,
        },
    )


def filters_form(user: Principal) -> lookup.AuditFilter | None:
    """The filter widgets; the filter they give, or None (with a message) when the dates are
    the wrong way round."""
    with unit_of_work(operational_engine()) as db:
        kinds = lookup.audit_kinds(db, user)
        offices = lookup.offices(db, user, Permission.VIEW_AUDIT_LOG)
    everything = tr("orders_ui2.all")
    actions = {"": everything} | {a: word("actions", a) for a in kinds.actions}
    entities = {"": everything} | {e: word("entities", e) for e in kinds.entities}
    office_labels = {"": everything} | {o.code: f"{o.code} {o.name}" for o in offices}
    first, second, third = st.columns(3)
    actor = first.text_input(tr("orders_ui2.audit.actor"), key="al_actor")
    action = second.selectbox(
        tr("orders_ui2.audit.action"),
        list(actions),
        format_func=actions.__getitem__,
        key="al_action",
    )
    entity = third.selectbox(
        tr("orders_ui2.audit.entity"),
        list(entities),
        format_func=entities.__getitem__,
        key="al_entity",
    )
    fourth, fifth, sixth = st.columns(3)
    start = fourth.date_input(tr("orders_ui2.audit.start"), value=None, key="al_start")
    end = fifth.date_input(tr("orders_ui2.audit.end"), value=None, key="al_end")
    if st.session_state.get("al_office") not in (None, *office_labels):
        st.session_state["al_office"] = ""
    office = sixth.selectbox(
        tr("orders_ui2.audit.office"),
        list(office_labels),
        format_func=office_labels.__getitem__,
        key="al_office",
    )
    if start is not None and end is not None and end < start:
        st.error(tr("orders_ui2.audit.bad_range"))
        return None
    return lookup.AuditFilter(
        actor=actor or None,
        action=action or None,
        entity=entity or None,
        start=start,
        end=end,
        office_code=office or None,
    )


def show_entries(user: Principal, chosen: lookup.AuditFilter) -> None:
    engine = operational_engine()
    with unit_of_work(engine) as db:
        total = lookup.audit_entries(db, user, chosen, limit=0).total
    st.markdown(tr("orders_ui2.audit.total", total=total))
    if total == 0:
        st.info(tr("orders_ui2.audit.none"))
        return
    page = pager(total, size=AUDIT_ENTRIES, key="al_page")
    with unit_of_work(engine) as db:
        rows = lookup.audit_entries(
            db, user, chosen, limit=page.limit, offset=page.offset, counted=False
        ).rows
    st.dataframe(audit_table(rows), hide_index=True, placeholder=tr("finish.table.missing"))
    st.caption(tr("orders_ui2.audit.times_local", zone=lookup.GROUP_ZONE))

    def everything() -> pl.DataFrame:
        with unit_of_work(engine) as db:
            found = lookup.audit_entries(db, user, chosen, limit=None, counted=False).rows
        return audit_table(found)

    excel_download(everything, tr("orders_ui2.audit.file"), key="al_excel")


def render() -> None:
    user = require(Permission.VIEW_AUDIT_LOG)
    st.title(tr("orders_ui2.audit.title"))
    chosen = filters_form(user)
    if chosen is not None:
        show_entries(user, chosen)


render()
