"""Excel downloads: every table a page shows can be taken away as an .xlsx file.

Numbers stay numbers (numeric cells a spreadsheet can sum), shown with thousands separators;
units belong in the column headers; dates and instants stay dates. A value Excel cannot hold (an
infinite or undefined number) becomes an empty cell, never text or an error formula.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import polars as pl
import streamlit as st

from dashboards.session import tr

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {
    pl.Float64: "#,##0.0##",
    pl.Float32: "#,##0.0##",
    pl.Int64: "#,##0",
    pl.Int32: "#,##0",
    pl.Int16: "#,##0",
    pl.Int8: "#,##0",
    pl.UInt64: "#,##0",
    pl.UInt32: "#,##0",
}
"""Excel number formats by column type: thousands separators, up to three decimals."""


def excel_ready(table: pl.DataFrame) -> pl.DataFrame:
    """``table`` with every non-finite float (infinity, NaN) as a missing value."""
    floats = [name for name, dtype in table.schema.items() if dtype.is_float()]
    return table.with_columns(
        pl.when(pl.col(name).is_finite()).then(pl.col(name)).otherwise(None).alias(name)
        for name in floats
    )


def excel_bytes(table: pl.DataFrame, sheet: str) -> bytes:
    """``table`` as an .xlsx workbook of one sheet, columns sized to fit."""
    buffer = BytesIO()
    excel_ready(table).write_excel(
        buffer,
        worksheet=sheet[:31],
        autofit=True,
        dtype_formats=dict(NUMBER_FORMATS),
    )
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
