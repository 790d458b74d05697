"""Object types (对象类型): the group administrator maintains the object-type tree.

The tree per discipline, each type with its attributes and work standard (作业标准, the
checklist a periodic order answers); a form to add a type, one to change a type's name,
attributes and checklist, and the upload of a ``propcloud import object-types`` file. Forms and
upload go through ``operational.imports.object_types`` — the rules and messages of the import,
with the logged-in administrator as the actor (``MANAGE_OBJECT_TYPES``, audited). Orders already
issued keep the checklist they copied. Actions run in widget callbacks, before the page is drawn.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import streamlit as st
from sqlalchemy.orm import Session

from dashboards.export import XLSX_MIME, excel_bytes
from dashboards.session import (
    error_text,
    flash,
    language,
    operational_engine,
    require,
    show_flash,
    tr,
)
from dashboards.text import code_span, md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError, StaleVersion
from operational.imports.object_types import (
    COLUMNS,
    attributes_text,
    checklist_text,
    export_rows,
    import_object_type_rows,
    import_object_types_file,
)
from operational.imports.table import ImportRejected, ImportSummary
from operational.models import AttributeKind, Discipline
from operational.services.objects import AttributeView, TypeView, type_tree

NEW = ("ot_new_code", "ot_new_name", "ot_new_attributes", "ot_new_checklist")
NEW_PARENT, NEW_DISCIPLINE = "ot_new_parent", "ot_new_discipline"
EDIT_TYPE, EDIT_LOADED = "ot_edit_type", "ot_edit_loaded"
EDIT = ("ot_edit_name", "ot_edit_attributes", "ot_edit_checklist")
UPLOAD = "ot_upload"


def _problems(error: DomainError, *, rows: bool) -> str:
    """A refusal as markdown: every problem on its own line, by row number for a file."""
    if isinstance(error, ImportRejected):
        lines = [error.message(language())]
        lines += [
            f"- {e.message(language()) if rows else tr(e.key, **e.params)}" for e in error.errors
        ]
        return "\n".join(lines)
    return error_text(error)


def _run(action: Callable[[Session], ImportSummary], *, rows: bool) -> ImportSummary | None:
    try:
        with unit_of_work(operational_engine()) as db:
            return action(db)
    except DomainError as refused:
        flash(_problems(refused, rows=rows), ok=False)
        return None


# --- actions (widget callbacks) ---------------------------------------------------------------


def _add(user: Principal) -> None:
    state = st.session_state
    code, name, attributes, checklist = (str(state.get(k) or "") for k in NEW)
    parent = state.get(NEW_PARENT) or ""
    values = {
        "type_code": code,
        "name": name,
        "parent_type_code": str(parent),
        "discipline": "" if parent else str(state.get(NEW_DISCIPLINE) or ""),
        "attributes": attributes,
        "checklist": checklist,
    }
    added = _run(
        lambda db: import_object_type_rows(db, [(1, values)], actor=user, create_only=True),
        rows=False,
    )
    if added is None:
        return
    for key in NEW:
        state[key] = ""
    flash(tr("object_types.page.added", code=md(code.strip()), name=md(name.strip())))


def _save(user: Principal, drawn: TypeView) -> None:
    state = st.session_state
    name, attributes, checklist = (str(state.get(k) or "") for k in EDIT)
    values = {
        "type_code": drawn.code,
        "name": name,
        "parent_type_code": drawn.parent_code or "",
        "discipline": "",
        "attributes": attributes,
        "checklist": checklist,
    }
    try:
        with unit_of_work(operational_engine()) as db:
            summary = import_object_type_rows(
                db, [(1, values)], actor=user, expected=drawn, blank_clears=True
            )
    except StaleVersion as stale:
        state[EDIT_LOADED] = None  # show what is stored now; the user redoes the change
        flash(error_text(stale), ok=False)
        return
    except DomainError as refused:
        flash(_problems(refused, rows=False), ok=False)  # the form keeps what the user typed
        return
    state[EDIT_LOADED] = None  # draw the form again from what is stored now
    key = "object_types.page.saved" if summary.updated else "object_types.page.unchanged"
    flash(tr(key, code=md(drawn.code)))


def _upload(user: Principal) -> None:
    uploaded = st.session_state.get(UPLOAD)
    if uploaded is None:
        flash(tr("object_types.page.upload_missing"), ok=False)
        return
    suffix = Path(uploaded.name).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(uploaded.getvalue())
        summary = _run(lambda db: import_object_types_file(db, path, actor=user), rows=True)
    if summary is not None:
        flash(
            tr("object_types.page.imported", file=md(uploaded.name)) + summary.message(language())
        )
    st.session_state[EDIT_LOADED] = None


# --- the tree -------------------------------------------------------------------------------


def _kind(kind: str) -> str:
    return tr(f"object_types.kind.{kind}")


def attribute_line(a: AttributeView) -> str:
    """``额定载重 (rated_load) · 数值 · kg · 必填``."""
    parts = [f"{md(a.name)} ({code_span(a.code)})", _kind(a.kind)]
    if a.unit:
        parts.append(md(a.unit))
    if a.required:
        parts.append(tr("object_types.page.required"))
    return " · ".join(parts)


def type_block(view: TypeView) -> None:
    with st.container(border=True):
        st.markdown(
            f"**{' / '.join(map(md, view.path))}** · {code_span(view.code)} · "
            + tr("object_types.page.objects", count=view.objects)
        )
        if view.attributes:
            st.markdown(
                f"*{tr('object_types.page.attributes')}*\n\n"
                + "\n".join(f"- {attribute_line(a)}" for a in view.attributes)
            )
        if view.inherited:
            separator = tr("object_types.page.separator")
            names = separator.join(md(a.name) for a in view.inherited)
            st.caption(tr("object_types.page.inherited", names=names))
        if view.checklist:
            st.markdown(
                f"*{tr('object_types.page.checklist')}*\n\n"
                + "\n".join(f"{i}. {md(text)}" for i, text in enumerate(view.checklist, start=1))
            )
        elif view.depth > 0:
            st.caption(tr("object_types.page.no_checklist"))


def tree_tab(tree: list[TypeView]) -> None:
    if not tree:
        st.info(tr("object_types.page.empty"))
    for discipline in Discipline:
        views = [v for v in tree if v.discipline == discipline.value]
        if not views:
            continue
        label = tr(
            "object_types.page.discipline",
            discipline=tr(f"discipline.{discipline.value}"),
            count=len(views),
        )
        with st.expander(label, expanded=False):
            for view in views:
                type_block(view)
    if tree:
        st.download_button(
            tr("object_types.page.download"),
            data=excel_bytes(pl.DataFrame(export_rows(tree), schema=list(COLUMNS)), "types"),
            file_name="object-types.xlsx",
            mime=XLSX_MIME,
            key="ot_download",
            icon=":material/download:",
            on_click="ignore",
        )
        st.caption(tr("object_types.page.download_hint"))


# --- forms ----------------------------------------------------------------------------------


def syntax_help() -> str:
    kinds = ", ".join(f"`{k.value}` {_kind(k.value)}" for k in AttributeKind)
    return tr("object_types.page.attributes_help", kinds=kinds)


def add_tab(user: Principal, tree: list[TypeView]) -> None:
    labels = {v.code: f"{' / '.join(v.path)} ({v.code})" for v in tree}
    disciplines = {d.value: tr(f"discipline.{d.value}") for d in Discipline}
    st.selectbox(
        tr("object_types.page.parent"),
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder=tr("object_types.page.top_level"),
        key=NEW_PARENT,
    )
    if not st.session_state.get(NEW_PARENT):
        st.selectbox(
            tr("object_types.page.discipline_field"),
            list(disciplines),
            format_func=disciplines.__getitem__,
            index=None,
            placeholder=tr("object_types.page.choose"),
            key=NEW_DISCIPLINE,
        )
    with st.form("ot_new", width=560, border=False):
        st.text_input(
            tr("object_types.page.code"),
            key=NEW[0],
            max_chars=32,
            placeholder=tr("object_types.page.code_hint"),
        )
        st.text_input(tr("object_types.page.name"), key=NEW[1], max_chars=200)
        st.text_area(tr("object_types.page.attributes"), key=NEW[2], help=syntax_help())
        st.text_area(
            tr("object_types.page.checklist"),
            key=NEW[3],
            help=tr("object_types.page.checklist_help"),
        )
        st.form_submit_button(
            tr("object_types.page.add"),
            type="primary",
            width="stretch",
            on_click=_add,
            args=(user,),
            key="ot_new_submit",
        )


def _load(view: TypeView) -> None:
    """Fill the edit form from the stored type (before its widgets are drawn)."""
    st.session_state[EDIT[0]] = view.name
    st.session_state[EDIT[1]] = attributes_text(view.attributes, "\n")
    st.session_state[EDIT[2]] = checklist_text(view.checklist, "\n")
    st.session_state[EDIT_LOADED] = view


def edit_tab(user: Principal, tree: list[TypeView]) -> None:
    labels = {v.code: f"{' / '.join(v.path)} ({v.code})" for v in tree}
    code = st.selectbox(
        tr("object_types.page.pick"),
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder=tr("object_types.page.choose"),
        key=EDIT_TYPE,
    )
    view = next((v for v in tree if v.code == code), None)
    if view is None:
        return
    loaded = st.session_state.get(EDIT_LOADED)
    if not isinstance(loaded, TypeView) or loaded.code != view.code:
        _load(view)
        loaded = view
    st.caption(
        tr(
            "object_types.page.edit_place",
            path=" / ".join(map(md, view.path)),
            discipline=tr(f"discipline.{view.discipline}"),
            count=view.objects,
        )
    )
    with st.form("ot_edit", width=560, border=False):
        st.text_input(tr("object_types.page.name"), key=EDIT[0], max_chars=200)
        st.text_area(tr("object_types.page.attributes"), key=EDIT[1], help=syntax_help())
        st.caption(tr("object_types.page.attributes_keep"))
        st.text_area(
            tr("object_types.page.checklist"),
            key=EDIT[2],
            help=tr("object_types.page.checklist_help"),
            height=200,
        )
        st.caption(tr("object_types.page.checklist_keep"))
        st.form_submit_button(
            tr("object_types.page.save"),
            type="primary",
            width="stretch",
            on_click=_save,
            args=(user, loaded),
            key="ot_edit_submit",
        )


def import_tab(user: Principal) -> None:
    st.caption(tr("object_types.page.import_hint"))
    st.file_uploader(tr("object_types.page.file"), type=["csv", "xlsx"], key=UPLOAD)
    st.button(
        tr("object_types.page.import"),
        type="primary",
        on_click=_upload,
        args=(user,),
        key="ot_import_submit",
    )


def render() -> None:
    user = require(Permission.MANAGE_OBJECT_TYPES)
    st.title(tr("object_types.page.title"))
    st.caption(tr("object_types.page.intro"))
    show_flash()
    with unit_of_work(operational_engine()) as db:
        tree = type_tree(db)
    tabs = st.tabs(
        [
            tr("object_types.page.tab_tree"),
            tr("object_types.page.tab_add"),
            tr("object_types.page.tab_edit"),
            tr("object_types.page.tab_import"),
        ]
    )
    with tabs[0]:
        tree_tab(tree)
    with tabs[1]:
        add_tab(user, tree)
    with tabs[2]:
        edit_tab(user, tree)
    with tabs[3]:
        import_tab(user)


render()
