"""Digitised curves and published numbers-at-risk tables: reading, checking and cleaning.

A digitised curve is what WebPlotDigitizer (or any digitiser) exports: two columns, time and
survival (or cumulative incidence), with or without a header row, survival as a proportion
(0-1) or a percentage (0-100; detected: any value above 1.5 means percent). A numbers-at-risk
table has two columns, time and the number at risk, and starts at time 0.

Cleaning makes the points a usable Kaplan-Meier curve, counting every adjustment:

1. values a digitiser's click can put just outside the axes are nudged in (``clipped``): survival
   up to :data:`CLIP_TOLERANCE` above 1 or below 0, times up to :data:`TIME_TOLERANCE` of the
   time range below 0; anything further out is refused;
2. points are sorted by time, the higher value first at equal times (``reordered``: the fewest
   points to move to put the file in order);
3. survival is made non-increasing by isotonic (least-squares, pool-adjacent-violators)
   regression (``monotone_adjusted``): the points of a vertical drop, which trade places under a
   digitiser's time noise, are pooled within the drop. A rise of more than
   :data:`RISE_TOLERANCE` above the lowest value at least :data:`RISE_WINDOW` of the time range
   earlier is refused as not digitiser noise (points of another curve, a mis-set axis);
4. exact duplicate points are dropped (``duplicates_dropped``) and points sharing a time are
   merged into the lowest (``same_time_merged``);
5. the curve starts at (0, 1): the point is added when the first time is after 0
   (``start_added``); a value at time 0 within :data:`START_TOLERANCE` of 1 is set to 1
   (``start_set_to_one``), a lower one is refused.

Cumulative-incidence curves (``kind="incidence"``) are read the same way as ``1 - incidence``.

Every problem raises :class:`ikaros.errors.InputError` naming the file, row, column, value and
remedy. Rows are numbered as a spreadsheet shows them: the first line of the file is row 1
(the header, when there is one).
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import isotonic_regression

from ikaros._input_text import decode_text
from ikaros.errors import InputError
from ikaros.files import check_input_file, sha256_file

__all__ = [
    "CLIP_TOLERANCE",
    "RISE_TOLERANCE",
    "RISE_WINDOW",
    "START_TOLERANCE",
    "TIME_TOLERANCE",
    "AtRiskTable",
    "Cleaning",
    "CurveKind",
    "DigitisedCurve",
    "clean_points",
    "read_at_risk",
    "read_curve",
]

CurveKind = Literal["survival", "incidence"]

#: Largest rise of survival (proportion) above the lowest earlier value taken as digitiser noise.
RISE_TOLERANCE = 0.03
#: Fraction of the time range within which points may trade places (a vertical drop digitised
#: with time noise): a rise is measured only against points earlier by more than this.
RISE_WINDOW = 0.02
#: How far above 1 or below 0 (proportion) a digitised value may lie and be clipped.
CLIP_TOLERANCE = 0.02
#: How far below 1 (proportion) the value at time 0 may lie and be set to 1.
START_TOLERANCE = 0.03
#: Fraction of the curve's time range by which a time may fall below 0 (clipped) or an at-risk
#: time may lie beyond the last digitised point.
TIME_TOLERANCE = 0.01

_EXTENSIONS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}


@dataclass(frozen=True)
class Cleaning:
    """What cleaning did to the digitised points (counts of points)."""

    points_read: int
    points_used: int
    scale: str
    reordered: int
    clipped: int
    monotone_adjusted: int
    max_rise: float
    duplicates_dropped: int
    same_time_merged: int
    start_added: bool
    start_set_to_one: bool

    @property
    def adjustments(self) -> int:
        """Number of individual adjustments (points moved, dropped, merged or added)."""
        return (
            self.reordered
            + self.clipped
            + self.monotone_adjusted
            + self.duplicates_dropped
            + self.same_time_merged
            + int(self.start_added)
            + int(self.start_set_to_one)
        )


@dataclass(frozen=True)
class DigitisedCurve:
    """A cleaned digitised curve: strictly increasing times from 0, non-increasing survival.

    For ``kind="incidence"`` ``surv`` holds ``1 - incidence``.
    """

    source: str
    sha256: str | None
    kind: CurveKind
    time: NDArray[np.float64]
    surv: NDArray[np.float64]
    cleaning: Cleaning

    @property
    def last_time(self) -> float:
        return float(self.time[-1])

    def at(self, t: float) -> float:
        """Value of the step curve at ``t`` (the last point at or before ``t``)."""
        i = int(np.searchsorted(self.time, t, side="right")) - 1
        return float(self.surv[max(i, 0)])


@dataclass(frozen=True)
class AtRiskTable:
    """A published numbers-at-risk table: times from 0, non-increasing counts."""

    source: str
    sha256: str | None
    time: NDArray[np.float64]
    n: NDArray[np.int64]
    rows: tuple[int, ...]

    @property
    def n_start(self) -> int:
        return int(self.n[0])


@dataclass(frozen=True)
class _Raw:
    """Numbers of a two-column file with the spreadsheet row of each and the column names."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    rows: tuple[int, ...]
    texts: tuple[tuple[str, str], ...]
    columns: tuple[str, str]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _delimiter(path: Path, first_line: str) -> str:
    sep = _EXTENSIONS[path.suffix.lower()]
    if sep == "," and "," not in first_line and ";" in first_line:
        return ";"  # spreadsheets in locales with decimal commas export ';'-separated "CSV"
    if sep == "," and "," not in first_line and "\t" in first_line:
        return "\t"
    return sep


def _read_text(path: Path, what: str) -> str:
    name = str(path)
    check_input_file(path, what)
    if path.suffix.lower() not in _EXTENSIONS:
        raise InputError(
            f"unsupported {what} file format {path.suffix or '(no extension)'!r}",
            file=name,
            remedy="export the points as .csv (comma-separated) or .tsv (tab-separated) text",
        )
    text, _ = decode_text(path.read_bytes(), what=what, name=name)
    return text


def _read_two_columns(path: Path, what: str, names: tuple[str, str]) -> _Raw:
    """Parse a two-column numeric file with an optional header row."""
    name = str(path)
    text = _read_text(path, what)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise InputError(
            f"{what} file is empty",
            file=name,
            remedy=f"export the {names[0]} and {names[1]} of every point",
        )
    sep = _delimiter(path, lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: tuple[str, str] | None = None
    xs: list[float] = []
    ys: list[float] = []
    rows: list[int] = []
    texts: list[tuple[str, str]] = []
    columns = names
    for record in reader:
        row = reader.line_num
        cells = [c.strip() for c in record]
        while cells and cells[-1] == "":
            cells.pop()  # trailing separators
        if not cells:
            continue
        if len(cells) != 2:
            decimal_comma = sep == ";" and any("," in c for c in cells)
            raise InputError(
                f"expected 2 columns ({names[0]}, {names[1]}), found {len(cells)}",
                file=name,
                row=row,
                value=sep.join(cells),
                remedy="keep one time and one value per line"
                + ("; use a decimal point, not a decimal comma" if decimal_comma else "")
                + (f"; export one {what} per file" if len(cells) > 2 else ""),
            )
        x, y = _number(cells[0]), _number(cells[1])
        if header is None and not xs and x is None and y is None:
            header = (cells[0] or names[0], cells[1] or names[1])
            columns = header
            continue
        for k, (value, text_value) in enumerate(((x, cells[0]), (y, cells[1]))):
            if value is None:
                comma = "," in text_value and _number(text_value.replace(",", ".")) is not None
                raise InputError(
                    f"{names[k]} is not a finite number",
                    file=name,
                    row=row,
                    column=columns[k],
                    value=text_value,
                    remedy="use a decimal point, not a decimal comma"
                    if comma
                    else "enter a plain number (no units, no % sign)",
                )
        assert x is not None and y is not None
        xs.append(x)
        ys.append(y)
        rows.append(row)
        texts.append((cells[0], cells[1]))
    if not xs:
        raise InputError(
            f"{what} file has a header but no data rows",
            file=name,
            remedy=f"add the digitised points ({names[0]}, {names[1]})",
        )
    return _Raw(
        np.asarray(xs, dtype=float),
        np.asarray(ys, dtype=float),
        tuple(rows),
        tuple(texts),
        columns,
    )


def _out_of_order(values: NDArray[np.float64]) -> int:
    """Fewest points to move to put ``values`` in order (length minus the longest
    non-decreasing run, found by patience sorting)."""
    tails: list[float] = []
    for v in values.tolist():
        k = bisect.bisect_right(tails, v)
        if k == len(tails):
            tails.append(v)
        else:
            tails[k] = v
    return len(values) - len(tails)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def clean_points(
    time: NDArray[np.float64],
    value: NDArray[np.float64],
    *,
    kind: CurveKind = "survival",
    source: str = "<points>",
    rows: tuple[int, ...] | None = None,
    texts: tuple[tuple[str, str], ...] | None = None,
    columns: tuple[str, str] = ("time", "survival"),
    sha256: str | None = None,
) -> DigitisedCurve:
    """Check and clean digitised points into a step curve (see the module docstring).

    Parameters
    ----------
    time, value
        The digitised points in file order; ``value`` is survival (or incidence for
        ``kind="incidence"``) as a proportion or a percentage.
    kind
        ``"survival"`` (Kaplan-Meier, falling from 1) or ``"incidence"`` (rising from 0).
    source, rows, texts, columns, sha256
        Where the points came from, for messages and provenance: file, spreadsheet row and text
        of each point, the column names.

    Returns
    -------
    DigitisedCurve

    Raises
    ------
    InputError
        No points; a value out of range beyond the tolerances; a rise beyond
        :data:`RISE_TOLERANCE`; a curve not starting near 1 (0 for incidence) at time 0.
    """
    t = np.asarray(time, dtype=float)
    y = np.asarray(value, dtype=float)
    n_read = int(t.size)
    rows = rows if rows is not None else tuple(range(1, n_read + 1))
    texts = (
        texts if texts is not None else tuple((repr(a), repr(b)) for a, b in zip(t, y, strict=True))
    )
    what = "survival" if kind == "survival" else "cumulative incidence"
    if n_read == 0:
        raise InputError(
            f"the digitised {what} curve has no points",
            file=source,
            remedy="digitise the curve (at least its start, every step and its end)",
        )
    percent = bool(np.max(y) > 1.5)
    scale = "percent" if percent else "proportion"
    unit = 100.0 if percent else 1.0
    p = y / unit
    label = columns[1]
    top = 1.0 + CLIP_TOLERANCE
    for i in range(n_read):
        if p[i] > top or p[i] < -CLIP_TOLERANCE:
            high = p[i] > top
            raise InputError(
                f"{what} is {'above' if high else 'below'} "
                f"{'100%' if percent and high else '1' if high else '0'} beyond the "
                f"digitiser tolerance of {CLIP_TOLERANCE:g}",
                file=source,
                row=rows[i],
                column=label,
                value=texts[i][1],
                remedy="check the y-axis calibration of the digitiser (0 to 1, or 0 to 100%)",
            )
    if kind == "incidence":
        p = 1.0 - p
    span = float(np.max(t)) if np.max(t) > 0 else 1.0
    for i in range(n_read):
        if t[i] < -TIME_TOLERANCE * span:
            raise InputError(
                "time is negative beyond the digitiser tolerance "
                f"({TIME_TOLERANCE:.0%} of the time range)",
                file=source,
                row=rows[i],
                column=columns[0],
                value=texts[i][0],
                remedy="check the x-axis calibration of the digitiser; the curve starts at 0",
            )
    clipped = int(np.sum((t < 0) | (p > 1.0) | (p < 0.0)))
    t = np.maximum(t, 0.0)
    p = np.clip(p, 0.0, 1.0)
    reordered = _out_of_order(t)
    order = np.lexsort((-p, t))  # by time; at equal times the higher value first
    t, p = t[order], p[order]
    rows_sorted = [rows[i] for i in order]
    texts_sorted = [texts[i] for i in order]
    # a rise counts only against points clearly earlier in time: the points of a vertical drop
    # trade places under a digitiser's time noise
    running_min = np.minimum.accumulate(p)
    earlier = np.searchsorted(t, t - RISE_WINDOW * span, side="left") - 1
    reference = np.where(earlier >= 0, running_min[np.maximum(earlier, 0)], np.inf)
    rise = p - reference
    max_rise = float(max(rise.max(initial=0.0), 0.0))
    if max_rise > RISE_TOLERANCE:
        j = int(np.argmax(rise))
        low = int(np.flatnonzero(p[: earlier[j] + 1] == reference[j])[0])
        verb = "rises" if kind == "survival" else "falls"
        raise InputError(
            f"the {what} {verb} by {_fmt(100 * max_rise)} percentage points after row "
            f"{rows_sorted[low]} (time {_fmt(t[low])}), more than the "
            f"{100 * RISE_TOLERANCE:g}-point digitiser tolerance; a Kaplan-Meier "
            f"{'curve never rises' if kind == 'survival' else 'incidence never falls'}",
            file=source,
            row=rows_sorted[j],
            column=label,
            value=texts_sorted[j][1],
            remedy="remove points of other curves or legends and check the axis calibration",
        )
    keep = np.ones(t.size, dtype=bool)
    keep[1:] = (t[1:] != t[:-1]) | (p[1:] != p[:-1])
    duplicates = int(np.sum(~keep))
    t, p = t[keep], p[keep]
    # least-squares non-increasing fit (pool adjacent violators); the pooled points of a block
    # share one value exactly, so that merging them below is exact
    fitted = np.asarray(isotonic_regression(p, increasing=False).x, dtype=float)
    fitted = np.minimum.accumulate(np.round(fitted, 12))
    monotone_adjusted = int(np.sum(np.abs(fitted - p) > 1e-12))
    p = fitted
    # points sharing a time: keep the lowest (the value after the drop)
    last_of_time = np.ones(t.size, dtype=bool)
    last_of_time[:-1] = t[1:] != t[:-1]
    merged = int(np.sum(~last_of_time))
    t, p = t[last_of_time], p[last_of_time]
    start_added = False
    start_set = False
    if t[0] > 0.0:
        t = np.concatenate([[0.0], t])
        p = np.concatenate([[1.0], p])
        start_added = True
    elif p[0] < 1.0:
        if p[0] < 1.0 - START_TOLERANCE:
            start_value = p[0] if kind == "survival" else 1.0 - p[0]
            raise InputError(
                f"the curve is at {_fmt(start_value)} at time 0; a {what} curve starts at "
                f"{'1 (100%)' if kind == 'survival' else '0'}",
                file=source,
                row=rows_sorted[0],
                column=label,
                value=texts_sorted[0][1],
                remedy="check the y-axis calibration of the digitiser, or digitise the start",
            )
        p[0] = 1.0
        start_set = True
    if t.size < 2:
        raise InputError(
            f"the digitised {what} curve has a single point",
            file=source,
            remedy="digitise the whole curve: its start, every step and its end",
        )
    cleaning = Cleaning(
        points_read=n_read,
        points_used=int(t.size),
        scale=scale,
        reordered=reordered,
        clipped=clipped,
        monotone_adjusted=monotone_adjusted,
        max_rise=max_rise,
        duplicates_dropped=duplicates,
        same_time_merged=merged,
        start_added=start_added,
        start_set_to_one=start_set,
    )
    return DigitisedCurve(source, sha256, kind, t, p, cleaning)


def read_curve(path: str | Path, *, kind: CurveKind = "survival") -> DigitisedCurve:
    """Read a digitised curve file (two columns, optional header) and clean it.

    Parameters
    ----------
    path
        ``.csv`` (comma; a ``;``-separated export is recognised) or ``.tsv``/``.txt`` (tab).
    kind
        ``"survival"`` or ``"incidence"``.

    Returns
    -------
    DigitisedCurve
    """
    p = Path(path)
    names = ("time", "survival" if kind == "survival" else "incidence")
    raw = _read_two_columns(p, f"digitised {names[1]} curve", names)
    return clean_points(
        raw.x,
        raw.y,
        kind=kind,
        source=str(path),
        rows=raw.rows,
        texts=raw.texts,
        columns=raw.columns,
        sha256=sha256_file(p),
    )


def read_at_risk(path: str | Path, *, curve: DigitisedCurve | None = None) -> AtRiskTable:
    """Read a numbers-at-risk table (time, n) and check it, against ``curve`` when given.

    The table must start at time 0, with strictly increasing times and non-increasing whole
    numbers. Rows after the end of the digitised curve are refused unless nobody is at risk
    there (then they are dropped: the curve ends when the last patient leaves).

    Raises
    ------
    InputError
        On the first problem, naming the row.
    """
    p = Path(path)
    name = str(path)
    raw = _read_two_columns(p, "numbers-at-risk table", ("time", "n at risk"))
    col_t, col_n = raw.columns
    t, n = raw.x, raw.y
    for i in range(t.size):
        if n[i] < 0 or n[i] != round(n[i]):
            raise InputError(
                "number at risk must be a whole number >= 0",
                file=name,
                row=raw.rows[i],
                column=col_n,
                value=raw.texts[i][1],
                remedy="copy the numbers at risk printed under the published figure",
            )
        if t[i] < 0:
            raise InputError(
                "time is negative",
                file=name,
                row=raw.rows[i],
                column=col_t,
                value=raw.texts[i][0],
                remedy="the at-risk table starts at time 0",
            )
        if i > 0 and t[i] <= t[i - 1]:
            raise InputError(
                f"times must increase; this time is not after the previous one ({_fmt(t[i - 1])})",
                file=name,
                row=raw.rows[i],
                column=col_t,
                value=raw.texts[i][0],
                remedy="list each tick of the at-risk table once, in increasing order",
            )
        if i > 0 and n[i] > n[i - 1]:
            raise InputError(
                f"the number at risk increases (from {int(n[i - 1])}); it can only stay or fall",
                file=name,
                row=raw.rows[i],
                column=col_n,
                value=raw.texts[i][1],
                remedy="check the row was copied from this arm's line of the at-risk table",
            )
    if t[0] != 0.0:
        raise InputError(
            "the at-risk table must start at time 0 (the number randomised)",
            file=name,
            row=raw.rows[0],
            column=col_t,
            value=raw.texts[0][0],
            remedy="add the row '0,N' with the number of patients in the arm",
        )
    if n[0] < 1:
        raise InputError(
            "nobody is at risk at time 0",
            file=name,
            row=raw.rows[0],
            column=col_n,
            value=raw.texts[0][1],
            remedy="the first row gives the number of patients in the arm",
        )
    keep = np.ones(t.size, dtype=bool)
    if curve is not None:
        limit = curve.last_time * (1.0 + TIME_TOLERANCE)
        for i in range(t.size):
            if t[i] > limit:
                if n[i] > 0:
                    raise InputError(
                        f"this at-risk time is beyond the end of the digitised curve "
                        f"({_fmt(curve.last_time)}) while {int(n[i])} patients are still at risk",
                        file=name,
                        row=raw.rows[i],
                        column=col_t,
                        value=raw.texts[i][0],
                        remedy="digitise the curve to its end, or check the time axis of the "
                        "two files",
                    )
                keep[i] = False
    return AtRiskTable(
        source=name,
        sha256=sha256_file(p),
        time=t[keep],
        n=n[keep].astype(np.int64),
        rows=tuple(r for r, k in zip(raw.rows, keep, strict=True) if k),
    )
