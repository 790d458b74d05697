"""Reading an import file into rows of text, and the row-numbered error report.

Every import follows one rule: validate every row first; if any row is bad, write nothing and
report every bad row by its number in the file (the header is row 1, the first data row is 2).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from operational.errors import DomainError, render
from operational.i18n import t

Row = tuple[int, dict[str, str]]
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row, as a catalogue key and its parameters."""

    row: int
    key: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, language: str) -> str:
        return t("import.row_prefix", language, row=self.row) + render(
            self.key, language, self.params
        )


class ImportRejected(DomainError):
    """The file had bad rows; nothing was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("import.rejected", count=len(errors))
        self.errors = list(errors)

    def report(self, language: str) -> list[str]:
        return [self.message(language), *(e.message(language) for e in self.errors)]


@dataclass
class ImportSummary:
    """How many records an import created, changed and found already as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def message(self, language: str) -> str:
        return t(
            "import.done",
            language,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError("import.unreadable_file", path=str(path))
    # Line ends kept: a quoted cell may hold line breaks (a checklist, one item a line).
    lines = text.splitlines(keepends=True)
    return [[cell.strip() for cell in row] for row in csv.reader(lines)]


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DomainError("import.unreadable_file", path=str(path)) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_rows(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> list[Row]:
    """The data rows of a CSV or XLSX file as ``(row number, {column: text})``.

    Column names are matched without regard to case or surrounding blanks; a missing required
    column or an unknown one (usually a typo) rejects the file. Blank rows are skipped.
    """
    if not path.is_file():
        raise DomainError("import.file_not_found", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path)
    else:
        raise DomainError("import.unsupported_format", suffix=suffix or "?")
    if not table:
        raise DomainError("import.empty_file")
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise DomainError("import.missing_columns", columns=", ".join(missing))
    known = set(required) | set(optional)
    unknown = [h for h in header if h and h not in known]
    if unknown:
        raise DomainError(
            "import.unknown_columns", columns=", ".join(unknown), known=", ".join(sorted(known))
        )
    rows: list[Row] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        rows.append((number, {c: values.get(c, "") for c in (*required, *optional)}))
    return rows
