"""Fault library (故障库): search and browse the group's known faults; add entries.

Everyone who may read object cards (``VIEW_OBJECTS``) may search the library; group
administrators and engineering supervisors (``MANAGE_FAULTS``) also add entries. A branch of the
type tree shows the entries of that type and of every type below it. Reads and writes go through
``operational.services.faults``; adding runs in the form's callback, before the page is drawn.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.export import excel_download
from dashboards.session import error_text, flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.services.faults import add_fault, faults_under_type, search_faults
from operational.services.objects import type_choices

TYPE = "faults_type"
SEARCH = "faults_search"
NEW_TYPE = "fault_new_type"
NEW_FIELDS = ("fault_new_symptom", "fault_new_cause", "fault_new_remedy")
COLUMNS = ("type", "symptom", "cause", "remedy")


def _add(user: Principal) -> None:
    type_code = st.session_state.get(NEW_TYPE)
    symptom, cause, remedy = (str(st.session_state.get(k) or "") for k in NEW_FIELDS)
    if not type_code:
        flash(tr("objects.faults.type_required"), ok=False)
        return
    try:
        with unit_of_work(operational_engine()) as db:
            add_fault(
                db, user, type_code=str(type_code), symptom=symptom, cause=cause, remedy=remedy
            )
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    for key in NEW_FIELDS:
        st.session_state[key] = ""
    flash(tr("objects.faults.added", symptom=md(symptom.strip())))


def add_form(user: Principal, labels: dict[str, str]) -> None:
    with (
        st.expander(tr("objects.faults.add_title"), icon=":material/add:"),
        st.form("fault_new", width=560, border=False),
    ):
        st.selectbox(
            tr("objects.faults.type"),
            list(labels),
            format_func=labels.__getitem__,
            index=None,
            placeholder=tr("objects.faults.type_hint"),
            key=NEW_TYPE,
        )
        st.text_input(tr("objects.faults.symptom"), key=NEW_FIELDS[0], max_chars=200)
        st.text_area(tr("objects.faults.cause"), key=NEW_FIELDS[1], max_chars=1000)
        st.text_area(tr("objects.faults.remedy"), key=NEW_FIELDS[2], max_chars=2000)
        st.form_submit_button(
            tr("objects.faults.add"),
            type="primary",
            on_click=_add,
            args=(user,),
            key="fault_new_submit",
        )


def render() -> None:
    user = require(Permission.VIEW_OBJECTS)
    st.title(tr("objects.faults.title"))
    st.caption(tr("objects.faults.intro"))
    show_flash()
    with unit_of_work(operational_engine()) as db:
        labels = {c.code: c.label for c in type_choices(db)}
    left, right = st.columns([1, 2])
    type_code = left.selectbox(
        tr("objects.faults.type"),
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder=tr("objects.faults.all_types"),
        key=TYPE,
    )
    text = right.text_input(
        tr("objects.faults.search"), key=SEARCH, placeholder=tr("objects.faults.search_hint")
    )
    with unit_of_work(operational_engine()) as db:
        entries = (
            faults_under_type(db, str(type_code), text) if type_code else search_faults(db, text)
        )
    st.caption(tr("objects.faults.count", count=len(entries)))
    table = pl.DataFrame(
        [(labels.get(e.type_code, e.type_name), e.symptom, e.cause, e.remedy) for e in entries],
        schema={tr(f"objects.faults.col.{c}"): pl.String for c in COLUMNS},
        orient="row",
    )
    st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
    excel_download(table, tr("objects.faults.title"), key="faults_excel")
    if user.can(Permission.MANAGE_FAULTS):
        add_form(user, labels)


render()
