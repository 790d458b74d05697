"""The upload of one import file in a page: template, preview, commit with progress, row report.

Used by the imports page for every import of ``dashboards.imports_registry`` and by the objects
and meters pages for theirs. The flow (docs/dashboards.md, "Imports page"):

1. the columns (required ones marked) and an Excel template (header + one example row);
2. a CSV or XLSX upload, and the encoding to read a CSV in (found by itself unless named);
3. a preview of its first rows exactly as the import reads them (``table.preview``) and the
   encoding used — or the problems of those rows, before anything is written;
4. *Import*: the whole file, as the logged-in user (all or nothing, scoped to the user's
   offices by the import itself), with a progress bar; then the summary, or every refused row
   with its number, column and reason in the user's language.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy.orm import Session

from dashboards.export import XLSX_MIME
from dashboards.imports_registry import ImportSpec, template_bytes
from dashboards.session import error_text, language, operational_engine, tr
from dashboards.text import md
from operational.auth import Principal
from operational.db import unit_of_work
from operational.errors import DomainError, render
from operational.imports.table import ImportRejected, Table, encoding_label, preview

ENCODINGS = ("", "utf-8", "gb18030", "big5", "utf-16", "cp1252")
"""The encodings offered for a CSV file ("": found by the reader, docs/import-formats.md)."""


@dataclass
class Outcome:
    """What the last import of a panel did, kept for the page runs that follow."""

    ok: bool
    message: str
    problems: list[tuple[int | None, str, str]] = field(default_factory=list)
    source: str = ""
    """The upload it is about: a refusal is shown while that file stays in the box."""


class PageProgress:
    """:class:`operational.progress.Progress` drawn with ``st.progress`` (one bar, each stage
    replacing the last)."""

    def __init__(self) -> None:
        self.slot = st.empty()
        self.label = ""
        self.total: int | None = None
        self.done = 0

    def begin(self, key: str, total: int | None, /, **params: object) -> None:
        self.label, self.total, self.done = tr(key, **params), total, 0
        self.slot.progress(0.0, text=md(self.label))

    def advance(self, amount: int, /, item: str | None = None) -> None:
        self.done += amount
        if self.total:
            share = min(self.done / self.total, 1.0)
            text = tr(
                "selfservice.imports.progress",
                label=self.label,
                done=self.done,
                total=self.total,
            )
            self.slot.progress(share, text=md(text))

    def end(self, failed: bool = False) -> None:
        self.slot.progress(1.0, text=md(self.label))


def _keys(key: str) -> dict[str, str]:
    count = int(st.session_state.get(f"{key}_n", 0))
    return {
        "file": f"{key}_file_{count}",
        "encoding": f"{key}_encoding",
        "outcome": f"{key}_outcome",
        "commit": f"{key}_commit",
        "template": f"{key}_template",
        "count": f"{key}_n",
    }


@contextmanager
def _saved(uploaded: Any) -> Iterator[Path]:
    """The upload as a file (the readers take a path), removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{Path(uploaded.name).suffix.lower()}"
        path.write_bytes(uploaded.getvalue())
        yield path


def problem_rows(error: ImportRejected) -> list[tuple[int | None, str, str]]:
    """Every refused row: its number, the column named (if any) and the reason, translated."""
    lang = language()
    return [
        (e.row, str(e.params.get("column", "")), render(e.key, lang, e.params))
        for e in error.errors
    ]


def _problems_table(rows: list[tuple[int | None, str, str]]) -> None:
    st.dataframe(
        pl.DataFrame(
            rows,
            schema={
                tr("selfservice.imports.col_row"): pl.Int64,
                tr("selfservice.imports.col_column"): pl.String,
                tr("selfservice.imports.col_problem"): pl.String,
            },
            orient="row",
        ),
        hide_index=True,
        width="stretch",
        placeholder=tr("finish.table.missing"),
    )


def _preview(spec: ImportSpec, db: Session, path: Path, encoding: str | None) -> Table:
    return preview(path, spec.required, spec.optional(db), encoding=encoding, lengths=spec.lengths)


def _show_preview(table: Table, columns: list[str]) -> None:
    if table.encoding is None:
        st.caption(tr("selfservice.imports.read_xlsx"))
    else:
        st.caption(tr("selfservice.imports.read_as", encoding=encoding_label(table.encoding)))
    shown = [c for c in columns if any(values.get(c) for _, values in table.rows)]
    data = {tr("selfservice.imports.col_row"): [n for n, _ in table.rows]}
    for column in shown:
        data[column] = [values.get(column, "") for _, values in table.rows]  # type: ignore[misc]
    st.dataframe(
        pl.DataFrame(data), hide_index=True, width="stretch", placeholder=tr("finish.table.missing")
    )
    key = "selfservice.imports.preview_more" if table.more else "selfservice.imports.preview_all"
    st.caption(tr(key, count=len(table.rows)))


def _source(uploaded: Any) -> str:
    return str(getattr(uploaded, "file_id", "") or uploaded.name)


def _commit(spec: ImportSpec, user: Principal, key: str, uploaded: Any, encoding: str) -> None:
    keys = _keys(key)
    progress = PageProgress()
    source = _source(uploaded)
    try:
        with _saved(uploaded) as path, unit_of_work(operational_engine()) as db:
            summary = spec.run(db, path, user, encoding or None, progress)
    except ImportRejected as refused:
        st.session_state[keys["outcome"]] = Outcome(
            False, refused.message(language()), problem_rows(refused), source
        )
        return
    except DomainError as refused:
        st.session_state[keys["outcome"]] = Outcome(False, error_text(refused), source=source)
        return
    done = tr("selfservice.imports.done", file=md(uploaded.name)) + summary.message(language())
    st.session_state[keys["outcome"]] = Outcome(True, done)
    st.session_state[keys["count"]] = int(st.session_state.get(keys["count"], 0)) + 1
    st.rerun()  # the page's lists show what was imported; the upload box is emptied


def upload_panel(spec: ImportSpec, user: Principal, key: str, office_code: str | None) -> None:
    """Everything to run one import in a page (see the module's docstring); ``key`` prefixes
    its widgets, ``office_code`` fills the template's example row."""
    keys = _keys(key)
    with unit_of_work(operational_engine()) as db:
        columns = spec.all_columns(db)
    marked = [f"**{md(c)}**" if c in spec.required else md(c) for c in columns]
    st.caption(tr("selfservice.imports.columns", columns=", ".join(marked)))
    st.download_button(
        tr("selfservice.imports.template"),
        data=template_bytes(columns, spec.example_row(office_code), spec.name),
        file_name=f"{spec.name}-template.xlsx",
        mime=XLSX_MIME,
        key=keys["template"],
        icon=":material/download:",
        on_click="ignore",
    )
    outcome = st.session_state.get(keys["outcome"])
    uploaded = st.file_uploader(
        tr("selfservice.imports.file"), type=["csv", "xlsx"], key=keys["file"]
    )
    encoding = st.selectbox(
        tr("selfservice.imports.encoding"),
        ENCODINGS,
        format_func={
            e: e.upper() if e else tr("selfservice.imports.encoding_auto") for e in ENCODINGS
        }.__getitem__,  # labels made in this run, in the user's language
        key=keys["encoding"],
        help=tr("selfservice.imports.encoding_help"),
    )
    if (
        isinstance(outcome, Outcome)
        and not outcome.ok
        and (uploaded is None or _source(uploaded) != outcome.source)
    ):
        outcome = None  # another file (or none) since that refusal
    if uploaded is not None:
        try:
            with _saved(uploaded) as path, unit_of_work(operational_engine()) as db:
                table = _preview(spec, db, path, encoding or None)
        except ImportRejected as refused:
            st.error(tr("selfservice.imports.preview_refused", file=md(uploaded.name)))
            _problems_table(problem_rows(refused))
        except DomainError as refused:
            st.error(error_text(refused))  # it may quote the file's header
        else:
            st.markdown(tr("selfservice.imports.preview", file=md(uploaded.name)))
            _show_preview(table, columns)
            if st.button(
                tr("selfservice.imports.commit"),
                type="primary",
                key=keys["commit"],
                icon=":material/upload:",
            ):
                outcome = None
                _commit(spec, user, key, uploaded, str(encoding or ""))
                outcome = st.session_state.get(keys["outcome"])
    if isinstance(outcome, Outcome):
        if outcome.ok:
            st.success(outcome.message)
        else:
            st.error(outcome.message)
            if outcome.problems:
                _problems_table(outcome.problems)
