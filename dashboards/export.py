"""Excel downloads: every table a page shows can be taken away as an .xlsx file."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import polars as pl
import streamlit as st

from dashboards.session import tr

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def excel_bytes(table: pl.DataFrame, sheet: str) -> bytes:
    """``table`` as an .xlsx workbook of one sheet, columns sized to fit."""
    buffer = BytesIO()
    table.write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()


def excel_download(
    table: pl.DataFrame | Callable[[], pl.DataFrame], file_stem: str, *, key: str
) -> None:
    """A download button for ``table`` (as shown, with its translated headers).

    The workbook is only built when the button is clicked, and clicking does not rerun the page.
    ``table`` may be a function reading the table then: a paged list exports every row of its
    filter, read only when someone asks for them.
    """
    st.download_button(
        tr("dashboards.export.excel"),
        data=lambda: excel_bytes(table() if callable(table) else table, file_stem),
        file_name=f"{file_stem}.xlsx",
        mime=XLSX_MIME,
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )
