"""report.pdf: the same sections as the HTML page, laid out with reportlab.

Fonts are matplotlib's bundled DejaVu Sans (also used in the figures), embedded in the PDF.
Output is deterministic (reportlab's invariant mode: no creation date or random document ID).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from ikaros.report.document import Section, repro_record, study_subtitle
from ikaros.report.pdf_images import PngFigure
from ikaros.report.png import read_png
from ikaros.report.tables import Table
from ikaros.results import Results

__all__ = ["STUDY_PAGE_BREAKS", "render_document", "render_pdf"]

_FONT = "DejaVuSans"
_BOLD = "DejaVuSans-Bold"
_BLUE = colors.HexColor("#0072B2")


def _register_fonts() -> None:
    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(_FONT, normal=_FONT, bold=_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=_FONT, fontSize=8.5, leading=11.5, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=_BOLD, fontSize=15, leading=19),
        "subtitle": ParagraphStyle("subtitle", parent=base, textColor=colors.HexColor("#555555")),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=10,
            textColor=_BLUE,
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName=_BOLD, fontSize=9.5, spaceBefore=6, keepWithNext=1
        ),
        "body": base,
        "tabletitle": ParagraphStyle(
            "tabletitle", parent=base, fontName=_BOLD, fontSize=9.5, spaceBefore=6
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=6.8, leading=8.2, spaceAfter=0),
        "head": ParagraphStyle("head", parent=base, fontName=_BOLD, fontSize=6.8, leading=8.2),
        "note": ParagraphStyle(
            "note", parent=base, fontSize=7, leading=9, textColor=colors.HexColor("#555555")
        ),
        "warn": ParagraphStyle(
            "warn",
            parent=base,
            backColor=colors.HexColor("#fff6e0"),
            borderPadding=3,
            fontSize=7.5,
            leading=9.5,
        ),
    }


def _column_widths(t: Table, width: float, size: float = 6.8) -> list[float]:
    """Column widths from the measured text: natural widths when they fit; else every column
    keeps its longest word (no word is broken) and the room left goes to the columns with
    longer text, in proportion to what they lack."""
    pad = 13.0  # the table's cell padding (6 + 6) and a point to spare

    def words(text: str, font: str) -> float:
        return max((pdfmetrics.stringWidth(w, font, size) for w in text.split()), default=0.0)

    natural, minimum = [], []
    for i, head in enumerate(t.header):
        cells = [row[i] for row in t.rows]
        full = max([pdfmetrics.stringWidth(c, _FONT, size) for c in cells], default=0.0)
        word = max([words(head, _BOLD), *(words(c, _FONT) for c in cells)])
        natural.append(max(word, full) + pad)
        minimum.append(word + pad)
    if sum(natural) <= width:
        extra = (width - sum(natural)) / len(natural)
        return [w + extra for w in natural]
    if sum(minimum) >= width:
        return [w * width / sum(minimum) for w in minimum]
    lack = [n - m for n, m in zip(natural, minimum, strict=True)]
    room = width - sum(minimum)
    return [m + room * k / sum(lack) for m, k in zip(minimum, lack, strict=True)]


def _table(t: Table, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    data = [[Paragraph(escape(h), st["head"]) for h in t.header]]
    data += [[Paragraph(escape(c), st["cell"]) for c in row] for row in t.rows]
    widths = _column_widths(t, width)
    table = LongTable(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f5f8")),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#999999")),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    out: list[Flowable] = [Paragraph(escape(t.title), st["tabletitle"]), table]
    if t.footnote:
        out.append(Paragraph(escape(t.footnote), st["note"]))
    return out


def _figure(
    path: Path, title: str, caption: str, st: dict[str, ParagraphStyle], width: float
) -> Flowable:
    # natural size (figures are saved at 300 dpi), capped by the frame; Kaplan-Meier figures
    # two to a page
    max_height = (11.2 if path.stem.startswith(("km_", "cif_")) else 20.0) * cm
    natural = 72.0 / 300.0
    png = read_png(path)
    img: Flowable
    if png is not None:  # the PNG's data as they are (ikaros.report.pdf_images)
        scale = min(natural, width / png.width, max_height / png.height)
        img = PngFigure(png, png.width * scale, png.height * scale)
    else:
        img = Image(str(path))
        scale = min(natural, width / img.imageWidth, max_height / img.imageHeight)
        img.drawWidth = img.imageWidth * scale
        img.drawHeight = img.imageHeight * scale
    text = Paragraph(f"<b>{escape(title)}.</b> {escape(caption)}", st["note"])
    return KeepTogether([img, text, Spacer(1, 6)])


#: Sections of the study report that start on a new page.
STUDY_PAGE_BREAKS: tuple[str, ...] = (
    "survival-",
    "groups-",
    "competing-",
    "cox",
    "performance",
    "predictive",
    "markers",
)


def _repro_markup(repro: dict[str, Any]) -> str:
    """The reproducibility paragraph from the footer dictionary of the HTML page."""
    if "inputs" in repro:
        parts = [
            f"{escape(i['label'])}: {escape(i['source'])}, SHA-256 {escape(i['sha256'])}."
            for i in repro["inputs"]
        ]
        return (
            "<b>Reproducibility.</b> "
            + " ".join(parts)
            + f" Software: {escape(repro['software'])}. "
            + f"{escape(repro['schema_name'])} {escape(repro['schema'])}."
        )
    return (
        f"<b>Reproducibility.</b> Input: {escape(repro['source'])}, SHA-256 "
        f"{escape(repro['sha256'])}. Command: "
        f"{escape(repro['command'])}"
        + (f"; seed {repro['seed']}" if repro["seed"] is not None else "")
        + ". Software: "
        + escape(repro["software"])
        + f". Results schema {escape(repro['schema'])}."
    )


def render_document(
    path: Path,
    *,
    title: str,
    subtitle: str,
    sections: list[Section],
    repro: dict[str, Any],
    heading: str = "Study report",
    page_breaks: tuple[str, ...] = STUDY_PAGE_BREAKS,
) -> None:
    """Write ``sections`` to ``path`` as an A4 PDF (the same arguments as the HTML page).

    Sections whose anchor starts with one of ``page_breaks`` start on a new page.
    """
    _register_fonts()
    st = _styles()
    kind = f"ikaros {heading.lower()}"
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=1.6 * cm,
        rightMargin=1.6 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=f"{kind}: {title}",
        author="ikaros",
        invariant=1,
    )
    width = doc.width
    story: list[Flowable] = [
        Paragraph(escape(f"{heading}: {title}"), st["title"]),
        Paragraph(escape(subtitle), st["subtitle"]),
    ]
    for i, section in enumerate(sections):
        if i > 0 and section.anchor.startswith(page_breaks):
            story.append(PageBreak())
        # headings wait to be kept on the page of what follows them
        pending: list[Flowable] = [Paragraph(escape(section.title), st["h2"])]
        for block in section.blocks:
            items: list[Flowable]
            if block.kind == "table" and block.table is not None:
                items = _table(block.table, st, width)
            elif block.kind == "figure" and block.figure is not None:
                f = block.figure
                items = [_figure(f.png, f.title, f.caption, st, width)]
            elif block.kind == "heading":
                pending.append(Paragraph(escape(block.text), st["h3"]))
                continue
            elif block.kind == "warning":
                items = [Paragraph(escape(block.text), st["warn"])]
            else:
                items = [Paragraph(escape(block.text), st["body"])]
            if pending:
                items = [KeepTogether([*pending, items[0]]), *items[1:]]
                pending = []
            story += items
        story += pending
    story += [Spacer(1, 12), Paragraph(_repro_markup(repro), st["note"])]

    def footer(canvas, doc_):  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(_FONT, 7)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawRightString(A4[0] - 1.6 * cm, 0.8 * cm, f"page {doc_.page}")
        canvas.drawString(1.6 * cm, 0.8 * cm, kind)
        canvas.restoreState()

    # Streams are stored Flate-compressed and binary, without the ASCII85 layer: reportlab's
    # pure-Python ASCII85 encoder (its C accelerator is a separate package) took 2.3 of the
    # demo report's 6 s PDF time for the 25 embedded figures, and makes the file 25% larger.
    a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    finally:
        rl_config.useA85 = a85


def render_pdf(results: Results, sections: list[Section], path: Path) -> None:
    """Write the study report sections to ``path`` as an A4 PDF."""
    from ikaros.report.naming import report_title

    render_document(
        path,
        title=report_title(results),
        subtitle=study_subtitle(results),
        sections=sections,
        repro=repro_record(results),
    )
