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
