"""Printable A4 label sheets of QR codes (reportlab + segno), for meters and any other object.

Each label shows a title, a subtitle and the code, with a QR code of its URL; scanning it with a
phone's camera opens that URL. The QR is drawn as vector squares (sharp at any printer
resolution) and is also a clickable link in the PDF. Chinese text uses reportlab's built-in
``STSong-Light`` CID font, so no font file is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
COLUMNS = 3
ROWS = 8
MARGIN_X = 7 * mm
MARGIN_Y = 13 * mm
LABEL_W = (A4[0] - 2 * MARGIN_X) / COLUMNS
LABEL_H = (A4[1] - 2 * MARGIN_Y) / ROWS
PER_PAGE = COLUMNS * ROWS


@dataclass(frozen=True)
class Label:
    code: str
    title: str
    subtitle: str
    url: str


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    matrix = segno.make(url, error="m", micro=False).matrix
    modules = len(matrix)
    cell = size / modules
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < modules:
            if row[c]:
                start = c
                while c < modules and row[c]:
                    c += 1
                canvas.rect(
                    x + start * cell,
                    y + size - (r + 1) * cell,
                    (c - start) * cell,
                    cell,
                    stroke=0,
                    fill=1,
                )
            else:
                c += 1
    canvas.linkURL(url, (x, y, x + size, y + size), relative=0)


def label_sheet_pdf(labels: Sequence[Label], *, heading: str = "", hint: str = "") -> bytes:
    """An A4 PDF of ``labels``, 3 × 8 per page, with ``heading`` at the top of each page."""
    font = _font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(heading or "labels")
    pages = max(1, -(-len(labels) // PER_PAGE))
    for page in range(pages):
        if heading:
            canvas.setFont(font, 9)
            canvas.drawString(
                MARGIN_X, A4[1] - MARGIN_Y + 4 * mm, f"{heading}  ({page + 1}/{pages})"
            )
        for slot, label in enumerate(labels[page * PER_PAGE : (page + 1) * PER_PAGE]):
            col, row = slot % COLUMNS, slot // COLUMNS
            x = MARGIN_X + col * LABEL_W
            y = A4[1] - MARGIN_Y - (row + 1) * LABEL_H
            canvas.setStrokeColorRGB(0.75, 0.75, 0.75)
            canvas.setDash(2, 2)
            canvas.rect(x, y, LABEL_W, LABEL_H, stroke=1, fill=0)
            canvas.setDash()
            pad = 3.5 * mm
            qr = LABEL_H - 2 * pad
            _draw_qr(canvas, label.url, x + pad, y + pad, qr)
            text_x = x + 2 * pad + qr
            width = LABEL_W - qr - 3 * pad
            canvas.setFillColorRGB(0, 0, 0)
            canvas.setFont(font, 10)
            canvas.drawString(text_x, y + LABEL_H - pad - 10, _fit(label.title, font, 10, width))
            canvas.setFont(font, 7.5)
            canvas.drawString(
                text_x, y + LABEL_H - pad - 21, _fit(label.subtitle, font, 7.5, width)
            )
            canvas.setFont("Helvetica-Bold", 8)
            canvas.drawString(text_x, y + pad + 9, _fit(label.code, "Helvetica-Bold", 8, width))
            if hint:
                canvas.setFont(font, 6.5)
                canvas.drawString(text_x, y + pad, _fit(hint, font, 6.5, width))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
