"""How an import file is read (docs/import-formats.md, "How a file is read"): the encodings found
and named, what is accepted (Excel's trailing commas, line separators inside a cell, a lone
carriage return, a formula's computed value), the preview, the two readers agreeing, text that
does not fit its column refused on both databases. The refusals, file by file, are the bad-input
corpus (test_bad_input.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.errors import DomainError
from operational.imports.energy import import_readings_file
from operational.imports.org import ensure_group, import_org_file
from operational.imports.table import (
    Columns,
    ImportRejected,
    ImportSummary,
    RowError,
    Table,
    preview,
    read_column_table,
    read_table,
)
from operational.models import CityCompany, Office, Reading
from tests.db_support import migrated
from tests.operational.test_bad_input import ENERGY_NOW, _energy

HEADER = "city_code,city_name,office_code,office_name"


def _file(tmp_path: Path, content: bytes, name: str = "org.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _org(session: Session, path: Path, encoding: str | None = None) -> ImportSummary:
    group = ensure_group(session, "YY", "一应物业集团")
    return import_org_file(
        session, path, group=group, actor=system_principal("t"), encoding=encoding
    )


def _names(session: Session) -> set[str]:
    return set(session.scalars(select(Office.name)))


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("data", "codec", "said"),
    [
        (f"{HEADER}\nSH,上海城市公司,SH9,浦东·陆家嘴管理处\n".encode(), "utf-8", "UTF-8"),
        (
            f"\ufeff{HEADER}\nSH,上海城市公司,SH9,浦东·陆家嘴管理处\n".encode(),
            "utf-8-sig",
            "UTF-8 (BOM)",
        ),
        (
            f"{HEADER}\r\nSH,上海城市公司,SH9,浦东·陆家嘴管理处\r\n".encode("gbk"),
            "gb18030",
            "GBK/GB18030",
        ),
    ],
    ids=["utf-8", "utf-8 with BOM", "gbk as Chinese Excel saves it"],
)
def test_utf8_and_gbk_are_read_and_the_summary_says_which(
    session: Session, tmp_path: Path, data: bytes, codec: str, said: str
) -> None:
    summary = _org(session, _file(tmp_path, data))
    assert (summary.created, summary.encoding) == (1, codec)
    assert summary.message("en").endswith(f"File read as {said}.")
    assert summary.message("zh_CN").endswith(f"条。文件按 {said} 编码读取。")
    assert _names(session) == {"浦东·陆家嘴管理处"}


def test_gbk_with_a_few_rare_characters_of_names_is_still_gbk(
    session: Session, tmp_path: Path
) -> None:
    body = "".join(
        f"SH,上海城市公司,SH{i},{name}管理处\n"
        for i, name in enumerate(["徐喆", "孙堃", "朱镕基路", "星河湾", "翠湖花园", "万科城"])
    )
    summary = _org(session, _file(tmp_path, f"{HEADER}\n{body}".encode("gb18030")))
    assert (summary.created, summary.encoding) == (6, "gb18030")
    assert "孙堃管理处" in _names(session)


def test_big5_is_refused_unless_named_and_then_read_exactly(
    session: Session, tmp_path: Path
) -> None:
    path = _file(tmp_path, f"{HEADER}\nTW,臺北城市公司,TW1,信義區管理處\n".encode("big5"))
    with pytest.raises(DomainError) as refused:
        _org(session, path)
    assert refused.value.key == "parsing.encoding_doubt"
    assert "--encoding big5" in refused.value.message("en")
    assert session.scalar(select(func.count()).select_from(Office)) == 0
    summary = _org(session, path, encoding="big5")
    assert (summary.created, summary.encoding) == (1, "big5")
    assert summary.message("en").endswith("File read as BIG5.")
    assert _names(session) == {"信義區管理處"}
    assert set(session.scalars(select(CityCompany.name))) == {"臺北城市公司"}


def test_an_encoding_named_is_applied_strictly(session: Session, tmp_path: Path) -> None:
    utf8 = _file(tmp_path, f"{HEADER}\nSH,上海,SH1,a\nSH,上海,SH2,管理处\n".encode())
    with pytest.raises(DomainError) as refused:
        _org(session, utf8, encoding="ascii")
    assert (refused.value.key, refused.value.params["line"]) == ("parsing.not_in_encoding", 2)
    with pytest.raises(DomainError) as unknown:
        _org(session, utf8, encoding="klingon")
    assert unknown.value.key == "parsing.unknown_encoding"
    assert _org(session, utf8, encoding="UTF8").encoding == "utf-8"


# ---------------------------------------------------------------- what is accepted


def test_excels_trailing_commas_are_accepted(session: Session, tmp_path: Path) -> None:
    """Excel pads every line to the sheet's used width, the header's too."""
    path = _file(tmp_path, f"{HEADER},,\nSH,上海城市公司,SH1,一号管理处,,\n,,,,,\n".encode())
    assert _org(session, path).created == 1


def test_a_row_with_fewer_cells_has_them_blank(session: Session, tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEADER},timezone\nSH,上海城市公司,SH1,一号管理处\n".encode())
    assert _org(session, path).created == 1
    assert session.scalars(select(Office.timezone)).one() == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("浦东\u2028新区管理处", "浦东\u2028新区管理处"),
        ("浦东\u2029新区管理处", "浦东\u2029新区管理处"),
        ('"浦东\r\n新区管理处"', "浦东\r\n新区管理处"),
    ],
    ids=["U+2028", "U+2029", "a quoted line break"],
)
def test_a_line_separator_inside_a_cell_does_not_split_the_row(
    session: Session, tmp_path: Path, cell: str, name: str
) -> None:
    rows = f"{HEADER}\nSH,上海城市公司,SH1,{cell}\nSH,上海城市公司,SH2,二号\n"
    assert _org(session, _file(tmp_path, rows.encode())).created == 2
    assert _names(session) == {name, "二号"}


@pytest.mark.parametrize("separator", ["\x85", "\x0b", "\x0c", "\x1c", "\x1e"])
def test_a_control_character_splitlines_would_break_at_is_refused_not_split(
    session: Session, tmp_path: Path, separator: str
) -> None:
    rows = f"{HEADER}\nSH,上海城市公司,SH1,浦东{separator}新区\nSH,上海城市公司,SH2,二号\n"
    with pytest.raises(ImportRejected) as rejected:
        _org(session, _file(tmp_path, rows.encode()))
    assert [(e.row, e.key, e.params["column"]) for e in rejected.value.errors] == [
        (2, "parsing.control_character", "office_name")
    ]


def test_old_excel_for_mac_line_ends_are_read(session: Session, tmp_path: Path) -> None:
    path = _file(
        tmp_path, f"{HEADER}\rSH,上海城市公司,SH1,一号\rSH,上海城市公司,SH2,二号\r".encode()
    )
    assert _org(session, path).created == 2


def test_an_xlsx_formulas_computed_value_is_read(session: Session, tmp_path: Path) -> None:
    """What Excel shows is what is imported; only a formula saved without its value is refused
    (the corpus)."""
    path = tmp_path / "org.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER.split(","))
    sheet.write_row(1, 0, ["SH", "上海城市公司", "SH1"])
    sheet.write_formula(1, 3, '=C2&"管理处"', None, "SH1管理处")
    sheet.write_blank(1, 6, None, book.add_format({"bold": True}))  # formatted, empty: no value
    book.close()
    summary = _org(session, path)
    assert (summary.created, summary.encoding) == (1, None)
    assert summary.message("en").endswith("unchanged.")
    assert _names(session) == {"SH1管理处"}


def test_readings_read_column_wise_follow_the_same_rules(session: Session, tmp_path: Path) -> None:
    _energy(session, tmp_path)
    path = _file(
        tmp_path,
        b"\xef\xbb\xbfpoint_code,read_at,reading,\r\n"
        b"IM01-W-MAIN,2026-06-02 00:00,60,\r\n,,,\r\nIM01-W-MAIN,2026-06-02 06:00,61,\r\n",
        "readings.csv",
    )
    summary = import_readings_file(session, path, actor=system_principal("t"), now=ENERGY_NOW)
    assert (summary.created, summary.encoding) == (2, "utf-8-sig")
    assert session.scalar(select(func.count()).select_from(Reading).where(Reading.reading == 61))


# ---------------------------------------------------------------- the two readers, the preview

AGREE = {
    "trailing commas": b"a,b,\n1,2,\n,,\n3,4,\n",
    "short row": b"a,b,c\n1,2\n",
    "quoted line break": b'a,b\n"x\ny",2\n',
    "line separator": "a,b\nx\u2028y,2\n".encode(),
    "lone carriage return": b"a,b\r1,2\r",
    "wide row": b"a,b\n1,2,3\n4,5\n",
    "value under a blank header": b"a,,b\n1,x,2\n",
    "unpaired quote": b'a,b\n"1"x,2\n3,4\n',
    "control character": b"a,b\n1\x07,2\n",
    "duplicate column": b"a,b,A\n1,2,3\n",
    "missing column": b"a\n1\n",
    "gbk": "a,b\n电表,管理处\n".encode("gbk"),
    "big5": "a,b\n電錶,管理處\n".encode("big5"),
    "blank": b"\n\n",
}


def _outcome(read: Callable[[], Table | Columns]) -> object:
    """What a reader made of a file: its rows as ``(number, {column: text})`` and encoding, or
    its refusal."""
    try:
        found = read()
    except ImportRejected as rejected:
        return [(e.row, e.key, e.params) for e in rejected.errors]
    except DomainError as error:
        return (error.key, error.params)
    if isinstance(found, Table):
        return (found.encoding, found.rows)
    names = list(found.columns)
    rows = [
        (number, dict(zip(names, values, strict=True)))
        for number, values in zip(
            found.numbers, zip(*found.columns.values(), strict=True), strict=True
        )
    ]
    return (found.encoding, rows)


@pytest.mark.parametrize("content", AGREE.values(), ids=AGREE.keys())
def test_the_row_reader_and_the_column_reader_read_alike(tmp_path: Path, content: bytes) -> None:
    path = _file(tmp_path, content, "file.csv")
    by_row = _outcome(lambda: read_table(path, ("a", "b"), ("c",)))
    by_column = _outcome(lambda: read_column_table(path, ("a", "b"), ("c",)))
    assert by_row == by_column


def test_a_preview_reads_the_first_rows_only(tmp_path: Path) -> None:
    lines = "".join(f"SH,上海城市公司,SH{i},{i}号管理处\n" for i in range(30))
    path = _file(tmp_path, f'{HEADER}\n{lines}SH,上海,"坏"引号,x\n'.encode("gbk"))
    shown = preview(path, HEADER.split(","), limit=20)
    assert (len(shown.rows), shown.more, shown.encoding) == (20, True, "gb18030")
    assert shown.rows[0] == (
        2,
        {
            "city_code": "SH",
            "city_name": "上海城市公司",
            "office_code": "SH0",
            "office_name": "0号管理处",
        },
    )
    with pytest.raises(ImportRejected) as rejected:  # the import reads every row
        read_table(path, HEADER.split(","))
    assert [(e.row, e.key) for e in rejected.value.errors] == [(32, "parsing.malformed_row")]


def test_a_preview_of_a_short_file_has_no_more(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEADER}\nSH,上海城市公司,SH1,一号\n".encode())
    shown = preview(path, HEADER.split(","))
    assert (len(shown.rows), shown.more, shown.encoding) == (1, False, "utf-8")


# ---------------------------------------------------------------- lengths and quotes


def test_text_longer_than_its_column_is_refused_by_any_writer_on_both_databases(
    session: Session,
) -> None:
    """A form or service writing through the ORM meets the same limit: PostgreSQL would raise
    DataError, SQLite would store all of it."""
    city = CityCompany(
        group_id=ensure_group(session, "YY", "一应物业集团").id, code="LN", name="长"
    )
    session.add(city)
    session.flush()
    session.add(Office(city_id=city.id, code="LN1", name="处" * 201))
    with pytest.raises(DomainError) as refused:
        session.flush()
    assert refused.value.key == "entry.text.too_long"
    assert refused.value.params["max"] == 200
    assert "200" in refused.value.message("zh_CN")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Office).where(Office.code == "LN1")) == 0


def test_a_changed_record_meets_the_limit_too(session: Session) -> None:
    city = CityCompany(
        group_id=ensure_group(session, "YY", "一应物业集团").id, code="LM", name="长"
    )
    session.add(city)
    session.flush()
    city.name = "城" * 201
    with pytest.raises(DomainError) as refused:
        session.flush()
    assert (refused.value.key, refused.value.params["column"]) == ("entry.text.too_long", "name")
    session.rollback()


def test_every_row_error_quotes_at_most_a_short_prefix() -> None:
    error = RowError(7, "energy.unknown_point", {"code": "P" * 100_000, "row": 3})
    assert error.params["code"] == "P" * 39 + "…"
    assert error.params["row"] == 3
    for language in ("en", "zh_CN"):
        assert len(error.message(language)) < 100


# ---------------------------------------------------------------- the command line


def test_every_import_command_takes_an_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from propcloud.cli import main

    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    imports = main.commands["import"]
    assert imports.commands  # type: ignore[attr-defined]
    for name, command in imports.commands.items():  # type: ignore[attr-defined]
        assert "--encoding" in {o for p in command.params for o in p.opts}, name
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    big5 = _file(tmp_path, f"{HEADER}\nTW,臺北城市公司,TW1,信義區管理處\n".encode("big5"))
    refused = runner.invoke(main, ["import", "org", str(big5)])
    assert refused.exit_code == 1
    assert "Big5" in refused.stderr and "--encoding big5" in refused.stderr
    done = runner.invoke(main, ["import", "org", "--encoding", "big5", str(big5)])
    assert (done.exit_code, done.stdout) == (
        0,
        "Imported: 1 created, 0 updated, 0 unchanged. File read as BIG5.\n",
    )
