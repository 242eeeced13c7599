"""Excel workbooks (.xlsx): which sheet, bounded reading, and rows that are not data.

- The sheet read is the one named by ``sheet``, else the workbook's active sheet (the one Excel
  shows when the file is opened). A hidden sheet is never read unless named. When the workbook
  has several non-empty sheets, the sheet read is reported (message and results record).
- The unpacked size, row and column counts are checked from the archive directory and the
  sheet's dimension before any cell is parsed, and again while reading, so a "zip bomb" is
  refused in well under a second with bounded memory.
- Cells holding formulas are read through their values as Excel last computed them. A row whose
  formulas aggregate a range (SUM, AVERAGE, COUNT, SUBTOTAL, ...) is a totals row, not a patient,
  and is refused; a formula without a computed value is refused (the workbook was never
  recalculated).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ikaros.errors import InputError

__all__ = ["ReadLimits", "SheetInfo", "read_xlsx"]

_AGGREGATE = re.compile(
    r"\b(SUM|SUMIF|SUMIFS|SUMPRODUCT|AVERAGE|AVERAGEA|AVERAGEIF|COUNT|COUNTA|COUNTIF|COUNTIFS|"
    r"MEDIAN|SUBTOTAL|AGGREGATE|MIN|MAX|STDEV|STDEV\.S|STDEV\.P|VAR)\s*\(\s*"
    r"(?:'?[^'!]+'?!)?\$?[A-Z]{1,3}\$?\d+\s*:\s*\$?[A-Z]{1,3}\$?\d+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on what a table may hold; checked while reading.

    The defaults suit the command line (Excel's own sheet limits are 1,048,576 rows and 16,384
    columns); the web workbench passes tighter ones.
    """

    max_unpacked_bytes: int = 2_000_000_000
    max_rows: int = 10_000_000
    max_columns: int = 100_000


@dataclass(frozen=True)
class SheetInfo:
    """Which sheet of a workbook was read, and which others it has."""

    name: str
    sheets: tuple[str, ...]
    hidden: tuple[str, ...]
    non_empty: tuple[str, ...]

    def note(self) -> str | None:
        """A sentence for the user when the choice of sheet was not obvious."""
        others = [s for s in self.non_empty if s != self.name]
        if not others:
            return None
        shown = ", ".join(f"'{s}'" + (" (hidden)" if s in self.hidden else "") for s in others)
        return (
            f"read sheet '{self.name}' of the workbook; it also has the non-empty sheet(s) "
            f"{shown} (choose another with --sheet)"
        )


def _check_archive(path: Path, name: str, what: str, limits: ReadLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InputError(
            f"{what} file is not a valid .xlsx workbook (not a zip archive)",
            file=name,
            remedy="re-export the file from Excel as .xlsx, or as CSV",
        ) from None
    if unpacked > limits.max_unpacked_bytes:
        raise InputError(
            f"{what} workbook unpacks to {unpacked / 1e6:,.0f} MB, more than the limit of "
            f"{limits.max_unpacked_bytes / 1e6:,.0f} MB",
            file=name,
            remedy="export the sheet as CSV, or remove unused sheets and formatting",
        )


def _bounds_error(name: str, what: str, sheet: str, kind: str, count: int, limit: int) -> None:
    """``limit`` counts sheet rows (header included) or columns; rows are reported as data rows."""
    if count > limit:
        shown = f"{limit - 1:,} data rows" if kind == "rows" else f"{limit:,} {kind}"
        raise InputError(
            f"{what} sheet '{sheet}' has more than {shown} (the limit)",
            file=name,
            remedy="split the table, or export only the needed part",
        )


def _choose(book: Any, sheet: str | None, name: str, what: str) -> SheetInfo:
    names = tuple(str(ws.title) for ws in book.worksheets)
    hidden = tuple(str(ws.title) for ws in book.worksheets if ws.sheet_state != "visible")
    non_empty = tuple(
        str(ws.title) for ws in book.worksheets if (ws.max_row or 0) > 1 or (ws.max_column or 0) > 1
    )
    if sheet is not None:
        if sheet not in names:
            raise InputError(
                f"the workbook has no sheet {sheet!r}",
                file=name,
                remedy=f"use one of its sheets: {', '.join(repr(s) for s in names)}",
            )
        chosen = sheet
    else:
        active = book.active
        chosen = str(active.title) if active is not None else names[0]
        if chosen in hidden:
            visible = [s for s in names if s not in hidden]
            raise InputError(
                f"the active sheet '{chosen}' of the {what} workbook is hidden",
                file=name,
                remedy="name the sheet to read with --sheet"
                + (f" (visible sheets: {', '.join(repr(s) for s in visible)})" if visible else ""),
            )
    return SheetInfo(chosen, names, hidden, non_empty)


def _count_rows(path: Path, member: str, stop: int) -> int:
    """Row elements of one worksheet, counted by a streaming byte scan (no XML parsing), up to
    ``stop``: a sheet that does not declare its size is still measured in a fraction of a second."""
    count = 0
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(member) as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            block = tail + chunk
            # "<row " / "<row>" (and "<x:row " with a namespace prefix); the 5-byte tail carried
            # over is too short to hold a whole tag, so no row is counted twice
            count += sum(block.count(tag) for tag in (b"<row ", b"<row>", b":row ", b":row>"))
            tail = chunk[-5:]
            if count > stop:
                break
    return count


def _precheck_rows(path: Path, sheet: str | None, limits: ReadLimits, name: str, what: str) -> None:
    """Count the rows of the sheet to be read before openpyxl loads the workbook (loading parses
    every shared string, seconds for a large file): the sheet is found from the small
    workbook.xml and its relationships."""
    import posixpath
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        with zipfile.ZipFile(path) as archive:
            book = ET.fromstring(archive.read("xl/workbook.xml"))
            rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile):
        return  # unusual layout: openpyxl reads it (and reports problems) as before
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    sheets = [
        (el.get("name"), targets.get(el.get(f"{rel_ns}id"), "")) for el in book.iter(f"{main}sheet")
    ]
    view = book.find(f"{main}bookViews/{main}workbookView")
    active = int(view.get("activeTab", "0")) if view is not None else 0
    chosen = next((t for n, t in sheets if n == sheet), None) if sheet else None
    if chosen is None and not sheet and 0 <= active < len(sheets):
        chosen = sheets[active][1]
    if not chosen:
        return
    member = chosen.lstrip("/") if chosen.startswith("/") else posixpath.join("xl", chosen)
    try:
        counted = _count_rows(path, posixpath.normpath(member), limits.max_rows + 1)
    except KeyError:
        return
    label = sheet or (sheets[active][0] if 0 <= active < len(sheets) else "?")
    _bounds_error(name, what, str(label), "rows", counted, limits.max_rows + 1)


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula cell (streamed; no sheet is held in memory)."""
    pattern = re.compile(rb"<(?:\w+:)?f[ >/]")
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            tail = b""
            with archive.open(info) as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):  # type: ignore[misc]
                    if pattern.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def _check_formulas(path: Path, info: SheetInfo, name: str, cells: list[list[Any]]) -> None:
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for r, row in enumerate(book[info.name].iter_rows(values_only=True)):
            for c, value in enumerate(row):
                if not (isinstance(value, str) and value.startswith("=")):
                    continue
                ref = f"{get_column_letter(c + 1)}{r + 1}"
                if _AGGREGATE.search(value):
                    raise InputError(
                        f"row {r + 1} of sheet '{info.name}' looks like a totals row: cell {ref} "
                        f"holds the formula {value[:60]}",
                        file=name,
                        row=r + 1,
                        remedy="delete the totals row (it is not a patient), or export only the "
                        "patient rows",
                    )
                cached = cells[r][c] if r < len(cells) and c < len(cells[r]) else None
                if cached is None:
                    raise InputError(
                        f"cell {ref} of sheet '{info.name}' holds a formula that was never "
                        f"computed ({value[:60]})",
                        file=name,
                        row=r + 1,
                        remedy="open and save the workbook in Excel or LibreOffice so the values "
                        "are computed, or export it as CSV",
                    )
    finally:
        book.close()


def read_xlsx(
    path: Path, *, what: str, name: str, sheet: str | None, limits: ReadLimits
) -> tuple[pd.DataFrame, SheetInfo]:
    """Read one sheet as a frame of raw cells; row 0 of the frame is the sheet's header row.

    The frame's index is the 0-based sheet row (so ``index + 1`` is the row Excel shows).
    """
    import openpyxl

    _check_archive(path, name, what, limits)
    _precheck_rows(path, sheet, limits, name, what)
    # openpyxl directly: pandas would rename duplicate header cells ("a", "a.1") and turn error
    # cells (#DIV/0!, #VALUE!) into missing values
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        info = _choose(book, sheet, name, what)
        ws = book[info.name]
        _bounds_error(name, what, info.name, "rows", ws.max_row or 0, limits.max_rows + 1)
        member = getattr(ws, "_worksheet_path", None)
        if member:
            counted = _count_rows(path, str(member), limits.max_rows + 1)
            _bounds_error(name, what, info.name, "rows", counted, limits.max_rows + 1)
        _bounds_error(name, what, info.name, "columns", ws.max_column or 0, limits.max_columns)
        cells: list[list[Any]] = []
        for row in ws.iter_rows(values_only=True):
            cells.append(list(row))
            if len(cells) > limits.max_rows + 1:
                _bounds_error(name, what, info.name, "rows", len(cells), limits.max_rows + 1)
            if len(row) > limits.max_columns:
                _bounds_error(name, what, info.name, "columns", len(row), limits.max_columns)
    finally:
        book.close()
    if _has_formulas(path):
        _check_formulas(path, info, name, cells)
    return pd.DataFrame(cells, dtype=object), info
