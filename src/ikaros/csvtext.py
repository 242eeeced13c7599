"""CSV text that a spreadsheet reads as data: the one writer of every table ikaros exports.

Numbers are written in full (Python's shortest round-trip form), missing values and NaN as empty
cells, booleans as ``true``/``false``. A text cell starting with ``= + @``, a tab or a carriage
return, or a ``-`` that does not start a number, is prefixed with ``'`` so that a spreadsheet
does not run it as a formula (CSV injection). The same rows give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = ["Cell", "csv_cell", "csv_text"]

Cell = str | float | int | bool | None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_cell(value: Cell) -> str:
    """One cell, quoted where CSV needs it and defused against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    text = str(value)
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _is_number(text)):
        text = "'" + text
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> str:
    """A whole CSV file: the header line, one line per row, ``\\n`` line ends."""
    lines = [",".join(csv_cell(h) for h in header)]
    lines += [",".join(csv_cell(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"
