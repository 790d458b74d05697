"""Objects (对象管理): an office's objects, added and changed one at a time, imported, labelled.

For ``MANAGE_OBJECTS`` (office managers and discipline supervisors, at their offices). The offices
offered are those where the user holds it (``lookup.offices``; ``?office=`` preselects one of
them). Tabs:

- the office's objects, filtered by type and text, paged, with the Excel export of the filter;
- add an object: type first (its attributes and its ancestors' become fields), then code, name,
  location and the attribute values;
- change an object: name, location and attribute values (its code — printed on its label — and
  its type stay), from what is stored; a form drawn before someone else's change is refused;
- upload a ``propcloud import objects`` file (``dashboards.import_panel``);
- a label sheet (PDF, QR codes opening the object card) for the objects chosen.

Reads and writes go through ``operational.services.objects`` with the user as the actor, the
rules of the objects import, every problem at once, nothing written when refused, audited.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.export import excel_download
from dashboards.import_panel import upload_panel
from dashboards.imports_registry import spec
from dashboards.label_sheets import label_sheet
from dashboards.office_choice import office_choice
from dashboards.paging import pager
from dashboards.session import (
    error_text,
    flash,
    language,
    operational_engine,
    require,
    show_flash,
    tr,
)
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError, FormRejected, StaleVersion
from operational.services.objects import (
    AttributeView,
    ObjectEntry,
    ObjectRow,
    attribute_fields,
    list_objects,
    object_for_edit,
    object_labels_pdf,
    save_object,
    type_choices,
)

PAGE_SIZE = 50
OFFICE = "obj_office"
FILTER, FILTER_TYPE, PAGE = "obj_filter", "obj_filter_type", "obj_page"
NEW_TYPE = "obj_new_type"
NEW = ("obj_new_code", "obj_new_name", "obj_new_location")
EDIT_PICK, EDIT_LOADED = "obj_edit_pick", "obj_edit_loaded"
EDIT = ("obj_edit_name", "obj_edit_location")


def _attr_key(prefix: str, code: str) -> str:
    return f"{prefix}_attr_{code}"


def problems_text(error: DomainError) -> str:
    """A refusal as Markdown: the heading and every problem on its own line, as text."""
    if isinstance(error, FormRejected):
        lines = [tr("selfservice.form.refused", count=len(error.problems))]
        lines += [f"- {md(message)}" for message in error.messages(language())]
        return "\n".join(lines)
    return error_text(error)


def _attribute_values(prefix: str, fields: list[AttributeView]) -> dict[str, str]:
    return {a.code: str(st.session_state.get(_attr_key(prefix, a.code)) or "") for a in fields}


# --- actions (widget callbacks) ---------------------------------------------------------------


def _add(user: Principal, office_code: str, fields: list[AttributeView]) -> None:
    state = st.session_state
    code, name, location = (str(state.get(k) or "") for k in NEW)
    entry = ObjectEntry(
        office_code,
        code,
        name,
        str(state.get(NEW_TYPE) or ""),
        location,
        _attribute_values("obj_new", fields),
    )
    try:
        with unit_of_work(operational_engine()) as db:
            save_object(db, user, entry, create=True)
    except DomainError as refused:
        flash(problems_text(refused), ok=False)  # the form keeps what was typed
        return
    for key in NEW:
        state[key] = ""
    for a in fields:
        state[_attr_key("obj_new", a.code)] = ""
    flash(tr("selfservice.objects.added", code=md(code.strip()), name=md(name.strip())))


def _save(user: Principal, drawn: ObjectRow, fields: list[AttributeView]) -> None:
    state = st.session_state
    name, location = (str(state.get(k) or "") for k in EDIT)
    entry = ObjectEntry(
        drawn.office_code,
        drawn.code,
        name,
        drawn.type_code,
        location,
        _attribute_values("obj_edit", fields),
    )
    try:
        with unit_of_work(operational_engine()) as db:
            outcome = save_object(db, user, entry, create=False, drawn=drawn)
    except StaleVersion as stale:
        state[EDIT_LOADED] = None  # filled again from what is stored now
        flash(error_text(stale), ok=False)
        return
    except DomainError as refused:
        flash(problems_text(refused), ok=False)
        return
    state[EDIT_LOADED] = None
    flash(tr(f"selfservice.objects.{outcome}", code=md(drawn.code)))


# --- tabs -------------------------------------------------------------------------------------


def _table(rows: tuple[ObjectRow, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            tr("selfservice.objects.col_code"): [r.code for r in rows],
            tr("selfservice.objects.col_name"): [r.name for r in rows],
            tr("selfservice.objects.col_type"): [r.type_name for r in rows],
            tr("selfservice.objects.col_location"): [r.location for r in rows],
            tr("selfservice.objects.col_attributes"): [
                "; ".join(f"{k}={v}" for k, v in sorted(r.attributes.items()) if v) for r in rows
            ],
        },
        schema={
            tr(f"selfservice.objects.col_{c}"): pl.String
            for c in ("code", "name", "type", "location", "attributes")
        },
    )


def list_tab(user: Principal, office_code: str, types: dict[str, str]) -> None:
    left, right = st.columns(2)
    with left:
        text = st.text_input(tr("selfservice.objects.filter"), key=FILTER)
    with right:
        type_code = st.selectbox(
            tr("selfservice.objects.filter_type"),
            list(types),
            format_func=types.__getitem__,
            index=None,
            placeholder=tr("selfservice.objects.all_types"),
            key=FILTER_TYPE,
        )
    with unit_of_work(operational_engine()) as db:
        total = list_objects(db, user, office_code, type_code=type_code, text=text, limit=0).total
    if not total:
        st.info(tr("selfservice.objects.empty"))
        return
    page = pager(total, size=PAGE_SIZE, key=PAGE)
    with unit_of_work(operational_engine()) as db:
        shown = list_objects(
            db,
            user,
            office_code,
            type_code=type_code,
            text=text,
            limit=page.limit,
            offset=page.offset,
        ).rows
    st.dataframe(
        _table(shown), hide_index=True, width="stretch", placeholder=tr("finish.table.missing")
    )

    def everything() -> pl.DataFrame:
        with unit_of_work(operational_engine()) as db:
            page = list_objects(db, user, office_code, type_code=type_code, text=text)
        return _table(page.rows)

    excel_download(everything, f"objects-{office_code}", key="obj_export")


def _attribute_inputs(prefix: str, fields: list[AttributeView]) -> None:
    for a in fields:
        label = a.name + (f" ({a.unit})" if a.unit else "") + (" *" if a.required else "")
        st.text_input(
            md(label),
            key=_attr_key(prefix, a.code),
            help=tr(f"selfservice.objects.kind_help.{a.kind}", code=a.code),
        )


def add_tab(user: Principal, office_code: str, types: dict[str, str]) -> None:
    type_code = st.selectbox(
        tr("selfservice.objects.type"),
        list(types),
        format_func=types.__getitem__,
        index=None,
        placeholder=tr("selfservice.objects.choose_type"),
        key=NEW_TYPE,
    )
    if not type_code:
        st.caption(tr("selfservice.objects.type_first"))
        return
    with unit_of_work(operational_engine()) as db:
        fields = attribute_fields(db, str(type_code))
    with st.form("obj_new", width=560, border=False):
        st.text_input(
            tr("selfservice.objects.code"),
            key=NEW[0],
            max_chars=32,
            placeholder="EL-1",
            help=tr("selfservice.objects.code_help"),
        )
        st.text_input(tr("selfservice.objects.name"), key=NEW[1], max_chars=200)
        st.text_input(tr("selfservice.objects.location"), key=NEW[2], max_chars=200)
        _attribute_inputs("obj_new", fields)
        st.caption(tr("selfservice.objects.required_hint"))
        st.form_submit_button(
            tr("selfservice.objects.add"),
            type="primary",
            width="stretch",
            on_click=_add,
            args=(user, office_code, fields),
            key="obj_new_submit",
        )


def _load(row: ObjectRow, fields: list[AttributeView]) -> None:
    state = st.session_state
    state[EDIT[0]], state[EDIT[1]] = row.name, row.location
    for a in fields:
        state[_attr_key("obj_edit", a.code)] = row.attributes.get(a.code, "")
    state[EDIT_LOADED] = row


def edit_tab(user: Principal, office_code: str) -> None:
    with unit_of_work(operational_engine()) as db:
        every = list_objects(db, user, office_code).rows
    labels = {r.code: f"{r.code} · {r.name}" for r in every}
    code = st.selectbox(
        tr("selfservice.objects.pick"),
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder=tr("selfservice.objects.pick_hint"),
        key=EDIT_PICK,
    )
    if not code:
        return
    with unit_of_work(operational_engine()) as db:
        try:
            stored = object_for_edit(db, user, office_code, str(code))
        except DomainError as missing:
            st.warning(error_text(missing))
            return
        fields = attribute_fields(db, stored.type_code)
    loaded = st.session_state.get(EDIT_LOADED)
    if not isinstance(loaded, ObjectRow) or (loaded.office_code, loaded.code) != (
        stored.office_code,
        stored.code,
    ):
        _load(stored, fields)
        loaded = stored
    st.caption(
        tr("selfservice.objects.edit_fixed", code=md(stored.code), type=md(stored.type_name))
    )
    with st.form("obj_edit", width=560, border=False):
        st.text_input(tr("selfservice.objects.name"), key=EDIT[0], max_chars=200)
        st.text_input(tr("selfservice.objects.location"), key=EDIT[1], max_chars=200)
        _attribute_inputs("obj_edit", fields)
        st.caption(tr("selfservice.objects.blank_clears"))
        st.form_submit_button(
            tr("selfservice.objects.save"),
            type="primary",
            width="stretch",
            on_click=_save,
            args=(user, loaded, fields),
            key="obj_edit_submit",
        )


def labels_tab(user: Principal, office_code: str) -> None:
    with unit_of_work(operational_engine()) as db:
        every = list_objects(db, user, office_code).rows
    label_sheet(
        prefix="obj",
        user=user,
        office_code=office_code,
        offered={r.code: f"{r.code} · {r.name}" for r in every},
        choose_key="selfservice.labels.choose_objects",
        maker=object_labels_pdf,
        file_stem="object-labels",
    )


def render() -> None:
    user = require(Permission.MANAGE_OBJECTS)
    st.title(tr("selfservice.objects.title"))
    st.caption(tr("selfservice.objects.intro"))
    show_flash()
    office_code = office_choice(user, Permission.MANAGE_OBJECTS, OFFICE)
    if office_code is None:
        return
    with unit_of_work(operational_engine()) as db:
        types = {c.code: c.label for c in type_choices(db)}
    tabs = st.tabs(
        [
            tr("selfservice.objects.tab_list"),
            tr("selfservice.objects.tab_add"),
            tr("selfservice.objects.tab_edit"),
            tr("selfservice.objects.tab_import"),
            tr("selfservice.objects.tab_labels"),
        ]
    )
    with tabs[0]:
        list_tab(user, office_code, types)
    with tabs[1]:
        add_tab(user, office_code, types)
    with tabs[2]:
        edit_tab(user, office_code)
    with tabs[3]:
        upload_panel(spec("objects"), user, "obj_import", office_code)
    with tabs[4]:
        labels_tab(user, office_code)


render()
