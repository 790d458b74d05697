"""The pure parts: chart building and the Excel workbook."""

from __future__ import annotations

import polars as pl

from dashboards.export import excel_bytes

ORG = pl.DataFrame(
    {
        "city_code": ["SH", "SH", "SH", "BJ", "GZ", "GZ"],
        "city_name": ["上海城市公司"] * 3 + ["北京城市公司"] + ["广州城市公司"] * 2,
        "office_code": ["SH001", "SH002", "SH003", "BJ001", "GZ001", "GZ002"],
    }
)


def test_excel_bytes_round_trip_with_chinese_headers() -> None:
    table = ORG.rename({"city_name": "城市公司", "office_code": "管理处编码"})
    workbook = excel_bytes(table, "组织架构")
    assert workbook[:2] == b"PK"  # an .xlsx is a zip file
    assert pl.read_excel(workbook, sheet_name="组织架构").equals(table)


def test_excel_keeps_numbers_as_numbers_with_thousands_separators() -> None:
    from datetime import datetime
    from io import BytesIO

    import openpyxl

    table = pl.DataFrame(
        {
            "管理处": ["SH001", "SH002"],
            "用量（kWh）": [1234567.25, float("inf")],
            "抄表次数": [1200, 3],
            "起": [datetime(2026, 1, 2, 9, 30), datetime(2026, 1, 3, 9, 30)],
        }
    )
    sheet = openpyxl.load_workbook(BytesIO(excel_bytes(table, "用量"))).active
    assert sheet is not None
    header, first, second = list(sheet.iter_rows())
    assert [c.value for c in header] == ["管理处", "用量（kWh）", "抄表次数", "起"]
    assert (first[1].value, first[1].data_type) == (1234567.25, "n")
    assert first[1].number_format.startswith("#,##0")
    assert (first[2].value, first[2].data_type, first[2].number_format) == (1200, "n", "#,##0")
    assert first[3].is_date and first[3].value == datetime(2026, 1, 2, 9, 30)
    assert second[1].value is None  # infinity: an empty cell, not text or =1/0
