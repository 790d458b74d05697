"""The deduction statement (供方扣款单) of one supplier contract and month, for finance.

Built from :class:`operational.services.suppliers.ContractMonthView` — the live rule's figures,
the same as the evaluation form shows — as an Excel workbook (numbers stay numbers: points and
yuan are numeric cells a spreadsheet can sum) and as an A4 PDF (Chinese in reportlab's built-in
``STSong-Light`` CID font, as the QR label sheets). Pure functions of the view and a language,
tested without Streamlit.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from operational.i18n import t
from operational.services.suppliers import ContractMonthView

FONT = "STSong-Light"
MONEY_FORMAT = "#,##0.00"
POINTS_FORMAT = "0.##"


def file_stem(view: ContractMonthView) -> str:
    return f"{view.contract.contract_no}_{view.month:%Y-%m}"


def local_text(at: datetime | None, zone: str) -> str:
    """An instant on the office's clock (``2026-02-01 00:30``); empty for none."""
    if at is None:
        return ""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _head(view: ContractMonthView, lang: str) -> list[tuple[str, str]]:
    c = view.contract
    return [
        (t("suppliers_ui.statement.contract", lang), c.contract_no),
        (t("suppliers_ui.statement.supplier", lang), f"{c.supplier_code} {c.supplier_name}"),
        (t("suppliers_ui.statement.office", lang), f"{c.office_code} {c.office_name}"),
        (t("suppliers_ui.statement.discipline", lang), t(f"discipline.{c.discipline}", lang)),
        (t("suppliers_ui.statement.month", lang), f"{view.month:%Y-%m}"),
        (
            t("suppliers_ui.statement.as_of", lang),
            f"{local_text(view.as_of, c.timezone)} ({c.timezone})",
        ),
    ]


def _nc_header(lang: str) -> list[str]:
    return [
        t("suppliers_ui.col.nc_no", lang),
        t("suppliers_ui.col.kind", lang),
        t("suppliers_ui.col.opened", lang),
        t("suppliers_ui.col.closed", lang),
        t("suppliers_ui.col.breach_points", lang),
        t("suppliers_ui.col.amount", lang),
    ]


def _totals(view: ContractMonthView, lang: str) -> list[tuple[str, Decimal | int]]:
    f = view.figures
    points = sum(n.breach_points or 0 for n in view.nonconformities)
    money = sum((n.amount for n in view.nonconformities), Decimal(0))
    manual = sum(view.entries.values(), Decimal(0))
    rows: list[tuple[str, Decimal | int]] = [
        (t("suppliers_ui.col.nonconformities", lang), len(view.nonconformities)),
        (t("suppliers_ui.col.breach_points", lang), points),
        (t("suppliers_ui.col.deduction", lang), money),
        (t("suppliers_ui.col.manual_points", lang), manual),
    ]
    if f is not None:
        rows.append((t("suppliers_ui.col.score", lang), f.score))
    return rows


def excel(view: ContractMonthView, lang: str) -> bytes:
    """The statement as an .xlsx workbook of one sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{view.month:%Y-%m}"
    bold = Font(bold=True)
    sheet.append([t("suppliers_ui.statement.title", lang)])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in _head(view, lang):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(_nc_header(lang))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for n in view.nonconformities:
        sheet.append(
            [
                n.nc_no,
                t(f"suppliers_ui.kind.{n.kind}", lang),
                local_text(n.opened_at, view.contract.timezone),
                local_text(n.closed_at, view.contract.timezone),
                n.breach_points,
                float(n.amount),
            ]
        )
        sheet.cell(sheet.max_row, 6).number_format = MONEY_FORMAT
    sheet.append([])
    sheet.append([t("suppliers_ui.statement.items", lang)])
    sheet.cell(sheet.max_row, 1).font = bold
    for item, points in sorted(view.entries.items()):
        sheet.append([item, float(points)])
        sheet.cell(sheet.max_row, 2).number_format = POINTS_FORMAT
    sheet.append([])
    sheet.append([t("suppliers_ui.statement.totals", lang)])
    sheet.cell(sheet.max_row, 1).font = bold
    for label, value in _totals(view, lang):
        sheet.append([label, value if isinstance(value, int) else float(value)])
        sheet.cell(sheet.max_row, 2).number_format = "0" if isinstance(value, int) else MONEY_FORMAT
    for column, width in zip("ABCDEF", (26, 30, 18, 18, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def pdf(view: ContractMonthView, lang: str) -> bytes:
    """The statement as an A4 PDF."""
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    header_style = TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    right = TableStyle([("ALIGN", (4, 1), (-1, -1), "RIGHT")])
    story: list[object] = [
        Paragraph(t("suppliers_ui.statement.title", lang), title),
        Spacer(1, 4 * mm),
    ]
    head = Table(
        [[label, value] for label, value in _head(view, lang)], colWidths=[40 * mm, 130 * mm]
    )
    head.setStyle(style)
    story += [head, Spacer(1, 5 * mm)]
    lines = [
        [
            n.nc_no,
            t(f"suppliers_ui.kind.{n.kind}", lang),
            local_text(n.opened_at, view.contract.timezone),
            local_text(n.closed_at, view.contract.timezone),
            "" if n.breach_points is None else str(n.breach_points),
            _money(n.amount),
        ]
        for n in view.nonconformities
    ]
    if lines:
        table = Table([_nc_header(lang), *lines], repeatRows=1)
        table.setStyle(style)
        table.setStyle(header_style)
        table.setStyle(right)
        story.append(table)
    else:
        story.append(Paragraph(t("suppliers_ui.statement.no_nonconformities", lang), body))
    story.append(Spacer(1, 5 * mm))
    if view.entries:
        story.append(Paragraph(t("suppliers_ui.statement.items", lang), body))
        items = Table([[item, f"{points:+}"] for item, points in sorted(view.entries.items())])
        items.setStyle(style)
        story += [items, Spacer(1, 5 * mm)]
    totals = Table(
        [
            [label, _money(value) if isinstance(value, Decimal) else str(value)]
            for label, value in _totals(view, lang)
        ],
        colWidths=[60 * mm, 40 * mm],
    )
    totals.setStyle(style)
    totals.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    story += [Paragraph(t("suppliers_ui.statement.totals", lang), body), totals]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=t("suppliers_ui.statement.title", lang),
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    ).build(story)  # type: ignore[arg-type]
    return buffer.getvalue()
