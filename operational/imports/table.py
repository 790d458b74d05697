"""Reading an import file into rows of text, and the row-numbered error report.

Every import follows one rule: validate every row first; if any row is bad, write nothing and
report every bad row by its number in the file (the header is row 1, the first data row is 2).

This module is the one reader of import files, and it says exactly what it read
(docs/import-formats.md, "How a file is read"):

* **Encodings** (CSV): UTF-8 with or without BOM, else GBK/GB18030 as Chinese Excel saves it —
  if the text then reads as plausible Chinese (:func:`decode`): a Big5 or Latin-1 file decodes
  as GB18030 without an error, into garbage, and is refused rather than imported as such. Any
  other encoding is named by the caller (``--encoding``). The encoding used is reported
  (:attr:`Table.encoding`, :attr:`ImportSummary.encoding`).
* **The header** must name every column once: a column named twice is refused.
* **Every cell belongs to a column**: a CSV row with more cells than the header (``1,234.5``
  split at its comma moves the cells after it to the right, perhaps into blank optional
  columns) and a value under a blank header cell are bad rows, naming the row and the column's
  letter. Excel's trailing commas are on every line, the header's too: such rows are as wide as
  the header, and blank cells under a blank header are accepted.
* **Every cell fits**: at most :data:`MAX_CELL` characters (Excel's own limit), no control
  characters, and not longer than the column it is stored in (the model's ``String(n)``, passed
  as ``lengths``). A quoted cell may hold line breaks; a Unicode line separator (U+2028) is text.
* **XLSX**: the first sheet; a merged cell holding a value, a formula without a computed value,
  a cell showing an error (``#DIV/0!``) and a date cell in a column that does not hold dates are
  bad rows.

Problems of how the file reads are reported first, every one by row and column, before the rows'
content is checked (:class:`ImportRejected`, nothing written). Values in messages are quoted to
:data:`operational.entry.SHORT` characters, by :class:`RowError` itself.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from operational.entry import SHORT, max_length, short
from operational.errors import DomainError, render
from operational.i18n import t

Row = tuple[int, dict[str, str]]
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")

MAX_CELL = 32_767
"""The most characters a cell may hold: Excel's own limit, so no spreadsheet writes more."""
PREVIEW_ROWS = 20
"""Rows a preview shows by default (:func:`preview`)."""

UTF8, UTF8_BOM, GB18030 = "utf-8", "utf-8-sig", "gb18030"
"""The codecs read without being named: UTF-8 (with BOM) and GBK's superset GB18030."""

# A cell can be far longer than the csv module's default limit (128 KiB); it is then a row
# error (MAX_CELL), never a crash. The limit is the module's, process-wide: raised once here.
csv.field_size_limit(2**31 - 1)

_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
"""Control characters a cell may not hold (tab and line breaks may: a checklist, one item a
line). The same pattern serves Python's ``re`` and polars (Rust's regex)."""
_CONTROL_RE = re.compile(_CONTROL)
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
"""What :meth:`str.strip` removes, for polars to strip the same (it knows Unicode's White_Space,
which differs at the edges: ``\\x1c``–``\\x1f``)."""
_DATE_COLUMN = re.compile(r"(_at|_on|^date|^start|^end|^attr:.*)$")


def holds_dates(column: str) -> bool:
    """Whether a spreadsheet's date or time cell belongs in ``column``: instants (``…_at``),
    days (``date``, ``…_on``), clock times (``start``, ``end``) and objects' attributes
    (``attr:…``, whose kind the objects import checks). Elsewhere a date cell is Excel's doing
    (``3-1`` typed as a code becomes 1 March) and is refused."""
    return _DATE_COLUMN.search(column) is not None


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row, as a catalogue key and its parameters.

    Every text parameter is cut to :data:`operational.entry.SHORT` characters here, the one
    place: a message never quotes a whole 100 000-character cell."""

    row: int
    key: str
    params: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if any(isinstance(v, str) and len(v) > SHORT for v in self.params.values()):
            cut = {k: short(v) if isinstance(v, str) else v for k, v in self.params.items()}
            object.__setattr__(self, "params", cut)

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
    """How many records an import created, changed and found already as they were, and the
    encoding its CSV file was read in (None: not a CSV file, or not said)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str | None = None

    def read_as(self, encoding: str | None) -> ImportSummary:
        """This summary, saying the file was read in ``encoding``."""
        self.encoding = encoding
        return self

    def message(self, language: str) -> str:
        done = t(
            "import.done",
            language,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )
        if self.encoding is None:
            return done
        return done + t("parsing.read_as", language, encoding=encoding_label(self.encoding))


# ---------------------------------------------------------------- encodings

_LABELS = {UTF8: "UTF-8", UTF8_BOM: "UTF-8 (BOM)", GB18030: "GBK/GB18030"}
_UNLIKELY = re.compile(
    "[\ue000-\uf8ff"  # private use: GB18030's user-defined areas, where Big5's lead bytes land
    "\u3040-\u30fa\u30fd-\u30ff"  # kana (not the middle dot and long sound mark)
    "\u3100-\u312f\u1100-\u11ff\uac00-\ud7af"  # bopomofo, hangul
    "\u0400-\u04ff\u2500-\u257f\ufe10-\ufe1f\ufe30-\ufe4f\ufffd]"  # Cyrillic, boxes, vertical forms
)
"""Characters GBK can encode but no Chinese office's spreadsheet holds, and which Big5's most
frequent characters turn into when decoded as GB18030."""
_USUAL = re.compile(
    "[\u00a0-\u00bf\u00d7\u00f7\u2010-\u205e\u2100-\u23ff\u2460-\u24ff\u25a0-\u27bf"
    "\u3000-\u303f\u30fb\u30fc\u3200-\u33ff\uff00-\uffef]"
)
"""Symbols and punctuation a Chinese spreadsheet may hold (·, ×, ℃, ①, ㎡, full-width forms)."""


def encoding_label(codec: str) -> str:
    """The encoding as a report names it: ``UTF-8``, ``UTF-8 (BOM)``, ``GBK/GB18030``, or the
    codec's name."""
    return _LABELS.get(codec, codec.upper())


def _odd_characters(text: str) -> str:
    """The characters that make ``text``, decoded as GB18030, implausible as Chinese Excel's
    text (empty if it is plausible): any private-use character, kana, bopomofo or hangul (what
    Big5's frequent characters become), or many characters outside GB2312 — a few are names'
    rare characters (喆, 堃); a third of the characters used, another encoding's bytes. Judged
    on the distinct characters (one pass over the text, for files of millions of rows)."""
    distinct = sorted(c for c in set(text) if c > "\x7f")
    unlikely = [c for c in distinct if _UNLIKELY.match(c)]
    rare: list[str] = []
    for c in distinct:
        if c in unlikely or _USUAL.match(c):
            continue
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            rare.append(c)
    if unlikely or (len(rare) >= 3 and len(rare) * 3 > len(distinct)):
        return "".join((unlikely + rare)[:8])
    return ""


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of a CSV file and the codec that read it.

    ``encoding`` None: UTF-8 (a BOM is dropped), else GB18030 — GBK's superset, what Excel in
    China calls ANSI — when the result reads as Chinese text (:func:`_odd_characters`);
    anything else is refused, saying how to name the encoding. ``encoding`` given (any name
    Python knows: ``big5``, ``utf-16``, ``cp1252``): that codec, strictly."""
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding.strip()).name
        except LookupError:
            raise DomainError("parsing.unknown_encoding", encoding=short(encoding)) from None
        if codec == UTF8 and raw.startswith(codecs.BOM_UTF8):
            codec = UTF8_BOM
        try:
            return raw.decode(codec).removeprefix("\ufeff"), codec
        except UnicodeDecodeError as exc:
            raise DomainError(
                "parsing.not_in_encoding",
                encoding=encoding_label(codec),
                line=_line_of(raw, exc.start),
            ) from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[3:].decode(UTF8), UTF8_BOM
        except UnicodeDecodeError as exc:  # a BOM says UTF-8: the rest is damaged
            raise DomainError(
                "parsing.not_in_encoding", encoding="UTF-8", line=_line_of(raw, exc.start)
            ) from None
    try:
        return raw.decode(UTF8), UTF8
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode(GB18030)
    except UnicodeDecodeError:
        raise DomainError("parsing.unknown_encoding_found") from None
    odd = _odd_characters(text)
    if odd:
        raise DomainError("parsing.encoding_doubt", characters=odd)
    return text, GB18030


# ---------------------------------------------------------------- the header and the cells


def column_letter(index: int) -> str:
    """The spreadsheet letter of a column (0 → ``A``, 26 → ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _names(columns: Iterable[str]) -> str:
    return ", ".join(short(c) for c in columns)


class _Layout:
    """The header of a file checked against the import's columns, and the checks of a row."""

    def __init__(
        self,
        header: Sequence[str],
        required: Sequence[str],
        optional: Sequence[str],
        lengths: Mapping[str, Any] | None,
    ) -> None:
        self.width = len(header)
        names = [h.strip().lower() for h in header]
        while names and not names[-1]:
            names.pop()
        positions: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            if name:
                positions.setdefault(name, []).append(i)
        twice = {n: p for n, p in positions.items() if len(p) > 1}
        if twice:
            raise DomainError(
                "parsing.duplicate_columns",
                columns="; ".join(
                    f"{short(n)} ({', '.join(column_letter(i) for i in p)})"
                    for n, p in twice.items()
                ),
            )
        missing = [c for c in required if c not in positions]
        if missing:
            raise DomainError("import.missing_columns", columns=_names(missing))
        known = set(required) | set(optional)
        unknown = [n for n in positions if n not in known]
        if unknown:
            raise DomainError(
                "import.unknown_columns", columns=_names(unknown), known=", ".join(sorted(known))
            )
        self.names = names
        self.wanted = (*required, *optional)
        self.index = {n: p[0] for n, p in positions.items()}
        self.limits = {
            c: limit
            for c, column in (lengths or {}).items()
            if c in self.index and (limit := max_length(column)) is not None
        }

    def name(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else ""

    def cell_error(self, number: int, index: int, text: str) -> RowError | None:
        """What is wrong with a non-blank cell, stripped (None: nothing)."""
        name = self.name(index)
        if not name:
            return RowError(
                number,
                "parsing.cell_without_header",
                {"letter": column_letter(index), "value": text},
            )
        if len(text) > MAX_CELL:
            return RowError(
                number,
                "parsing.cell_too_long",
                {"column": name, "length": len(text), "max": MAX_CELL},
            )
        control = _CONTROL_RE.search(text)
        if control is not None:
            return RowError(
                number,
                "parsing.control_character",
                {"column": name, "code": f"U+{ord(control.group()):04X}"},
            )
        limit = self.limits.get(name)
        if limit is not None and len(text) > limit:
            return RowError(
                number,
                "entry.text.too_long",
                {"column": name, "value": text, "max": limit, "length": len(text)},
            )
        return None

    def too_wide(self, number: int, cells: Sequence[str]) -> RowError:
        """A CSV row with more cells than the header, even blank ones: a comma inside a value
        split a cell and moved every cell after it one column to the right — into blank
        optional columns, where nothing else would show it. (Excel's trailing commas are on
        every line, the header's too: those rows are as wide as the header.)"""
        return RowError(
            number,
            "parsing.row_too_wide",
            {
                "cells": len(cells),
                "header": self.width,
                "letter": column_letter(self.width),
                "value": ",".join(cells[self.width :]),
            },
        )

    def values(self, cells: Sequence[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for column in self.wanted:
            index = self.index.get(column)
            values[column] = cells[index] if index is not None and index < len(cells) else ""
        return values


# ---------------------------------------------------------------- CSV


@dataclass(frozen=True)
class _Record:
    """One record of the file: its row number, its cells (stripped), and for a spreadsheet
    the cells that are not plain values (by column index: ``date``, ``error``, ``formula``,
    ``merged``) with their text for the message."""

    number: int
    cells: list[str]
    odd: dict[int, tuple[str, str]] = field(default_factory=dict)
    malformed: bool = False


def _csv_records(text: str) -> Generator[_Record, None, None]:
    # newline="": the csv module finds the row ends itself, so a quoted cell may hold line
    # breaks and U+2028 (which str.splitlines would break a row at) is text.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:  # quotes that do not pair up
            yield _Record(number, [], malformed=True)
            continue
        yield _Record(number, [c.strip() for c in cells])


# ---------------------------------------------------------------- XLSX

_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="(([A-Z]+)([0-9]+)(?::[A-Z]+[0-9]+)?)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for c in letters:
        index = index * 26 + c - 64
    return index - 1


def _scan_sheet(archive: zipfile.ZipFile, member: str) -> tuple[bool, dict[tuple[int, int], str]]:
    """Whether the sheet's XML holds formulas, and its merged ranges by top-left cell (row,
    column index) — what openpyxl's read-only mode does not tell."""
    formulas = False
    merges: dict[tuple[int, int], str] = {}
    tail = b""
    with archive.open(member) as source:
        while chunk := source.read(1 << 20):
            block = tail + chunk
            formulas = formulas or _FORMULA.search(block) is not None
            cut = block.rfind(b"<")  # a tag cut by the chunk's end is read with the next one
            if cut < 0:
                cut = len(block)
            for m in _MERGE.finditer(block, 0, cut):
                merges[(int(m.group(3)), _column_index(m.group(2)))] = m.group(1).decode()
            tail = block[cut:]
    return formulas, merges


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


def _xlsx_records(path: Path) -> Generator[_Record, None, None]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():  # openpyxl warns of what the checks below report
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            # openpyxl's read-only mode knows neither merged cells nor which empty cells are
            # formulas: the sheet's XML tells (its archive and path are openpyxl's own).
            formulas, merges = _scan_sheet(workbook._archive, sheet._worksheet_path)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DomainError("import.unreadable_file", path=path.name) from exc
    try:
        computed: set[tuple[int, int]] = set()
        if formulas:
            computed = _formula_cells(path)
        sheet.reset_dimensions()  # every cell, whatever the sheet declares its size to be
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, row in enumerate(sheet.iter_rows(), start=1):
                cells: list[str] = []
                odd: dict[int, tuple[str, str]] = {}
                for index, cell in enumerate(row):
                    value = cell.value
                    text = _cell_text(value)
                    if getattr(cell, "data_type", None) == "e":
                        odd[index] = ("error", text)
                    elif value is None and (number, index) in computed:
                        odd[index] = ("formula", "")
                    elif isinstance(value, date | time | timedelta):
                        odd[index] = ("date", text)
                    ref = merges.get((number, index))
                    if ref is not None and text:
                        odd[index] = ("merged", ref)
                    cells.append(text)
                yield _Record(number, cells, odd)
    finally:
        workbook.close()


def _formula_cells(path: Path) -> set[tuple[int, int]]:
    """(row, column index) of every formula cell of the first sheet."""
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        return {
            (cell.row, cell.column - 1)
            for row in sheet.iter_rows()
            for cell in row
            if getattr(cell, "data_type", None) == "f"
        }
    finally:
        workbook.close()


_ODD_KEYS = {
    "error": "parsing.error_cell",
    "formula": "parsing.formula_without_value",
    "date": "parsing.date_cell",
    "merged": "parsing.merged_cells",
}


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Table:
    """A file as read: its data rows ``(row number, {column: text})``, blank rows left out,
    the codec its CSV text was read in (None for XLSX), and — for a preview — whether rows
    follow the ones read."""

    rows: list[Row]
    encoding: str | None
    more: bool = False


def _records(path: Path, encoding: str | None) -> tuple[Generator[_Record, None, None], str | None]:
    if not path.is_file():
        raise DomainError("import.file_not_found", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text, codec = decode(path.read_bytes(), encoding)
        if not text.strip():
            raise DomainError("import.empty_file")
        return _csv_records(text), codec
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_records(path), None
    raise DomainError("import.unsupported_format", suffix=short(suffix) or "?")


def _header(records: Iterator[_Record]) -> _Record:
    first = next(records, None)
    if first is None:
        raise DomainError("import.empty_file")
    if first.malformed:
        raise DomainError("parsing.malformed_header")
    merged = [ref for kind, ref in first.odd.values() if kind == "merged"]
    if merged:
        raise DomainError("parsing.merged_header", cells=", ".join(merged))
    return first


def read_table(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    encoding: str | None = None,
    lengths: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> Table:
    """The data rows of a CSV or XLSX file, and the encoding that read it.

    Column names are matched without regard to case or surrounding blanks; a missing required
    column, an unknown one (usually a typo) or one named twice rejects the file. Blank rows are
    skipped; a cell a row lacks reads as blank. ``lengths`` maps a column to the model column
    its text is stored in (``{"office_name": Office.name}``): a longer value is a bad row.
    Every cell is checked as the module's docstring says; the bad rows are raised together
    (:class:`ImportRejected`). ``limit``: read that many data rows only (a preview).
    """
    found, codec = _records(path, encoding)
    with closing(found) as records:  # a preview stops early: the workbook is closed all the same
        return _read(records, codec, required, optional, lengths, limit)


def _read(
    records: Iterator[_Record],
    codec: str | None,
    required: Sequence[str],
    optional: Sequence[str],
    lengths: Mapping[str, Any] | None,
    limit: int | None,
) -> Table:
    first = _header(records)
    layout = _Layout(first.cells, required, optional, lengths)
    rows: list[Row] = []
    errors: list[RowError] = []
    more = False
    for record in records:
        if record.malformed:
            errors.append(RowError(record.number, "parsing.malformed_row"))
            continue
        if not any(record.cells) and not record.odd:
            continue
        if limit is not None and len(rows) >= limit:
            more = True
            break
        if codec is not None and len(record.cells) > layout.width:
            errors.append(layout.too_wide(record.number, record.cells))
            continue
        for index, text in enumerate(record.cells):
            if text:
                problem = layout.cell_error(record.number, index, text)
                if problem is not None:
                    errors.append(problem)
        for index, (kind, text) in sorted(record.odd.items()):
            name = layout.name(index)
            if not name or (kind == "date" and holds_dates(name)):
                continue
            params: dict[str, object] = {"column": name, "value": text}
            errors.append(RowError(record.number, _ODD_KEYS[kind], params))
        rows.append((record.number, layout.values(record.cells)))
    if errors:
        raise ImportRejected(errors)
    return Table(rows, codec, more)


def read_rows(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    encoding: str | None = None,
    lengths: Mapping[str, Any] | None = None,
) -> list[Row]:
    """The data rows of a CSV or XLSX file as ``(row number, {column: text})``: the rows of
    :func:`read_table`."""
    return read_table(path, required, optional, encoding=encoding, lengths=lengths).rows


def preview(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    limit: int = PREVIEW_ROWS,
    encoding: str | None = None,
    lengths: Mapping[str, Any] | None = None,
) -> Table:
    """The first ``limit`` data rows of a file, read and checked exactly as the import reads
    them (the encoding found, the header, every cell of those rows), without parsing the rest:
    what a page shows before the user confirms. :attr:`Table.more`: rows follow."""
    return read_table(path, required, optional, encoding=encoding, lengths=lengths, limit=limit)


# ---------------------------------------------------------------- large files, by column


@dataclass(frozen=True)
class Columns:
    """A file as read column by column: the row numbers of its data rows (blank rows left out),
    each wanted column's texts in that order, and the encoding of its CSV text (None: XLSX)."""

    numbers: list[int]
    columns: dict[str, list[str]]
    encoding: str | None


def read_column_table(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    encoding: str | None = None,
    lengths: Mapping[str, Any] | None = None,
) -> Columns:
    """A large CSV or XLSX file as columns — same rules and same errors as :func:`read_table`.

    A CSV file is parsed by polars (about ten times the csv module's speed, for millions of
    readings) and checked column-wise; a file polars reads otherwise than the csv module would
    (quotes that do not pair, a record ending in a lone carriage return) is read by
    :func:`read_table` instead, as is an XLSX file (openpyxl: the only reader here that tells
    formulas, error cells and dates apart)."""
    if not path.is_file():
        raise DomainError("import.file_not_found", path=str(path))
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        text, codec = decode(raw, encoding)
        utf8 = raw.removeprefix(codecs.BOM_UTF8) if codec in (UTF8, UTF8_BOM) else None
        fast = _polars_columns(utf8 or text.encode(UTF8), required, optional, lengths)
        if fast is not None:
            return Columns(fast[0], fast[1], codec)
    table = read_table(path, required, optional, encoding=encoding, lengths=lengths)
    return Columns(
        [number for number, _ in table.rows],
        {c: [values[c] for _, values in table.rows] for c in (*required, *optional)},
        table.encoding,
    )


def read_columns(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    encoding: str | None = None,
) -> tuple[list[int], dict[str, list[str]]]:
    """Row numbers and text columns of a large file (:func:`read_column_table`)."""
    found = read_column_table(path, required, optional, encoding=encoding)
    return found.numbers, found.columns


def _polars_columns(
    raw: bytes,
    required: Sequence[str],
    optional: Sequence[str],
    lengths: Mapping[str, Any] | None,
) -> tuple[list[int], dict[str, list[str]]] | None:
    """The columns of a CSV file's UTF-8 text read by polars, or None where the csv module must
    read it."""
    import polars as pl

    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # a lone carriage return ends a row for the csv module, not for polars
    if not raw.strip():
        raise DomainError("import.empty_file")
    try:
        frame = pl.read_csv(io.BytesIO(raw), has_header=False, infer_schema=False)
    except Exception:  # a row longer than the header, quotes that do not pair: read exactly
        return None
    if frame.height == 0:
        raise DomainError("import.empty_file")
    frame = frame.select(pl.all().str.strip_chars(_WHITESPACE).fill_null(""))
    layout = _Layout([str(h) for h in frame.row(0)], required, optional, lengths)
    names = frame.columns
    frame = frame.slice(1).with_row_index("_row", offset=2)
    frame = frame.filter(pl.any_horizontal([pl.col(c) != "" for c in names]))
    errors = _frame_errors(frame, names, layout)
    if errors:
        raise ImportRejected(errors)
    numbers: list[int] = frame["_row"].to_list()
    columns: dict[str, list[str]] = {}
    for column in layout.wanted:
        index = layout.index.get(column)
        columns[column] = (
            frame[names[index]].to_list() if index is not None else [""] * len(numbers)
        )
    return numbers, columns


def _frame_errors(frame: Any, names: Sequence[str], layout: _Layout) -> list[RowError]:
    """:meth:`_Layout.cell_error` of every cell, computed column-wise; only the cells found
    bad are checked one by one (to build the same errors)."""
    import polars as pl

    flags = []
    for i, name in enumerate(names):
        column = pl.col(name)
        if not layout.name(i):
            bad = column != ""
        else:
            limit = min(layout.limits.get(layout.name(i), MAX_CELL), MAX_CELL)
            bad = (column.str.len_chars() > limit) | column.str.contains(_CONTROL)
        flags.append(bad.alias(f"_bad{i}"))
    found = frame.select(pl.col("_row"), *names, *flags).filter(
        pl.any_horizontal([pl.col(f"_bad{i}") for i in range(len(names))])
    )
    errors: list[RowError] = []
    for row in found.iter_rows():
        number = row[0]
        for i in range(len(names)):
            if row[1 + len(names) + i]:
                problem = layout.cell_error(number, i, row[1 + i])
                if problem is not None:
                    errors.append(problem)
    return errors


# ---------------------------------------------------------------- who imports
