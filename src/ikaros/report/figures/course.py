"""Figures of the treatment-course report: what is shared, and the three figures by name.

The figures themselves live in :mod:`~ikaros.report.figures.cif` (cumulative incidence with
numbers at risk), :mod:`~ikaros.report.figures.swimmer` (one lane per patient: lenalidomide
exposure, second primary malignancy, withdrawal, regression, progression, transplants, death)
and :mod:`~ikaros.report.figures.oncoprint` (genes x patients). They are importable from here as
well (``from ikaros.report.figures.course import swimmer_figure``); the import is deferred, so
that those modules can use the legend helpers below without an import cycle.

The legend helpers draw a small legend in points from the figure's lower-left corner: entries of
equal width laid out in as many columns as fit, each a handle (line, marker or box) and a label.
Labels are figure texts labelled ``"legend"``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ikaros.report.figures._common import _DARK, _measure, _points
from ikaros.report.style import SMALL_SIZE

if TYPE_CHECKING:
    from ikaros.report.figures.cif import CIFLike, cif_figure
    from ikaros.report.figures.oncoprint import oncoprint_figure
    from ikaros.report.figures.swimmer import swimmer_figure

__all__ = ["CIFLike", "cif_figure", "oncoprint_figure", "swimmer_figure"]

_PUBLIC = {
    "cif_figure": "ikaros.report.figures.cif",
    "CIFLike": "ikaros.report.figures.cif",
    "swimmer_figure": "ikaros.report.figures.swimmer",
    "oncoprint_figure": "ikaros.report.figures.oncoprint",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- legend


@dataclass(frozen=True)
class _Entry:
    """One legend entry: a handle and its label.

    ``kind`` is ``"line"`` (a line of ``linestyle``), ``"marker"`` (``marker`` drawn like the
    data markers) or ``"box"`` (a filled rectangle ``box_height`` points high).
    """

    label: str
    color: str
    kind: Literal["line", "marker", "box"] = "line"
    linestyle: Any = "-"  # a matplotlib line style
    linewidth: float = 1.4
    marker: Any = None
    markersize: float = 5.0
    facecolor: str | None = None
    edgewidth: float = 0.8
    box_height: float = 5.0


@dataclass(frozen=True)
class _LegendLayout:
    columns: int
    column_x: tuple[float, ...]  # left edge of each column, from the legend's left edge
    width: float
    height: float


_HANDLE = 14.0  # handle width (points)
_HANDLE_GAP = 4.0  # handle to label
_COLUMN_GAP = 12.0  # between columns


def _line_height(size: float = SMALL_SIZE) -> float:
    return size * 1.45


def _legend_layout(
    fig: Figure,
    entries: Sequence[_Entry],
    max_width: float,
    *,
    size: float = SMALL_SIZE,
    columns: int | None = None,
) -> _LegendLayout:
    """Entries filled row by row into columns as wide as their widest entry: ``columns``, or as
    many as fit in ``max_width`` points (fewest rows; then fewest columns for those rows)."""
    widths = [_HANDLE + _HANDLE_GAP + _measure(fig, e.label, size) for e in entries]

    def fit(ncol: int) -> tuple[tuple[float, ...], float]:
        cols = [max(widths[j::ncol]) for j in range(ncol)]
        xs = [0.0]
        for w in cols[:-1]:
            xs.append(xs[-1] + w + _COLUMN_GAP)
        return tuple(xs), xs[-1] + cols[-1]

    n = len(entries)
    if n == 0:
        return _LegendLayout(1, (0.0,), 0.0, 0.0)
    if columns is None:
        columns = 1
        for ncol in range(1, n + 1):
            if fit(ncol)[1] <= max_width:
                columns = ncol
        rows = math.ceil(n / columns)
        columns = math.ceil(n / rows)  # as many rows, columns balanced
    columns = max(1, min(columns, n))
    xs, width = fit(columns)
    return _LegendLayout(columns, xs, width, math.ceil(n / columns) * _line_height(size))


def _draw_handle(fig: Figure, entry: _Entry, x: float, y: float) -> None:
    """Draw the handle of ``entry`` in the box [x, x + _HANDLE] centred on height y (points)."""
    trans = _points(fig)
    if entry.kind == "line":
        fig.add_artist(
            Line2D(
                [x, x + _HANDLE],
                [y, y],
                transform=trans,
                color=entry.color,
                linestyle=entry.linestyle,
                linewidth=entry.linewidth,
                label="_legend handle",
            )
        )
    elif entry.kind == "box":
        h = entry.box_height
        fig.add_artist(
            Rectangle(
                (x, y - h / 2),
                _HANDLE,
                h,
                transform=trans,
                facecolor=entry.color,
                edgecolor=entry.facecolor or "none",
                linewidth=0.4,
                label="_legend handle",
            )
        )
    else:
        fig.add_artist(
            Line2D(
                [x + _HANDLE / 2],
                [y],
                transform=trans,
                linestyle="none",
                marker=entry.marker,
                markersize=entry.markersize,
                markerfacecolor=entry.facecolor or entry.color,
                markeredgecolor=entry.color,
                markeredgewidth=entry.edgewidth,
                color=entry.color,
                label="_legend handle",
            )
        )


def _draw_legend(
    fig: Figure,
    entries: Sequence[_Entry],
    layout: _LegendLayout,
    x0: float,
    top: float,
    *,
    size: float = SMALL_SIZE,
    background: bool = False,
) -> None:
    """Draw ``entries`` row by row, the first row's top at ``top``, left edge at ``x0``."""
    line = _line_height(size)
    if background:
        fig.add_artist(
            Rectangle(
                (x0 - 3, top - layout.height - 2),
                layout.width + 6,
                layout.height + 4,
                transform=_points(fig),
                facecolor="white",
                edgecolor="none",
                alpha=0.85,
                zorder=2,
                label="_legend background",
            )
        )
    for k, entry in enumerate(entries):
        row, col = divmod(k, layout.columns)
        x = x0 + layout.column_x[col]
        y = top - (row + 0.5) * line
        _draw_handle(fig, entry, x, y)
        fig.text(
            x + _HANDLE + _HANDLE_GAP,
            y,
            entry.label,
            transform=_points(fig),
            ha="left",
            va="center_baseline",
            fontsize=size,
            color=_DARK,
            zorder=4,
            parse_math=False,
            label="legend",
        )
