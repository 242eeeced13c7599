"""Shared helpers of the report figures: figure creation, text measurement, colours, saving.

Figures are :class:`matplotlib.figure.Figure` objects with an Agg canvas (never pyplot); text is
measured with the Agg renderer so that layouts can be fixed in inches. Also here: the colours of
the groups, P-value wording, the tick grids of log axes, :func:`save_figure`, and the small legend
of the treatment-course figures (cumulative incidence, swimmer, oncoprint).

The legend helpers draw a legend in points from the figure's lower-left corner: entries of equal
width laid out in as many columns as fit, each a handle (line, marker or box) and a label. Labels
are figure texts labelled ``"legend"``.

This module is a leaf: it imports no other figure module, so every figure module can use it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullLocator
from matplotlib.transforms import Affine2D, Transform, blended_transform_factory, offset_copy

from ikaros.report.png import write_png
from ikaros.report.style import FONT_SIZE, PALETTE, SMALL_SIZE, fmt_p, journal_style

__all__ = ["Colors", "group_colors", "save_figure"]

_DARK = "#222222"
_SHADE = "#F2F2F2"

#: Group name -> colour, or a sequence of colours in group order.
Colors = Mapping[str, str] | Sequence[str]


# --------------------------------------------------------------------------- helpers


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _figure_of(ax: Axes) -> Figure:
    fig = ax.get_figure(root=True)
    if not isinstance(fig, Figure):
        raise ValueError("the axes must belong to a figure")
    return fig


def _points(fig: Figure) -> Transform:
    """Transform from points measured from the figure's lower-left corner to display units."""
    return Affine2D().scale(1 / 72) + fig.dpi_scale_trans


def _measure(fig: Figure, text: str, size: float, weight: str = "normal") -> float:
    """Width of ``text`` in points, with the current rc fonts."""
    if not text:
        return 0.0
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    prop = FontProperties(size=size, weight=weight)
    width = 0.0
    for line in text.split("\n"):
        w, _, _ = renderer.get_text_width_height_descent(line, prop, ismath=False)
        width = max(width, w)
    return float(width) * 72.0 / fig.dpi


def _color_map(groups: Sequence[str], colors: Colors) -> dict[str, str]:
    if isinstance(colors, Mapping):
        return {g: colors[g] for g in groups}
    seq = list(colors)
    return {g: seq[i % len(seq)] for i, g in enumerate(groups)}


def group_colors(groups: Sequence[str]) -> dict[str, str]:
    """Colours of the groups: Q1 blue, Q2-4 (or Q4) vermillion, Q2 green, Q3 orange.

    Other names take :data:`PALETTE` in order. The same group has the same colour in every
    figure.
    """
    fixed = {
        "Q1": PALETTE[0],
        "Q2-4": PALETTE[1],
        "Q2": PALETTE[2],
        "Q3": PALETTE[3],
        "Q4": PALETTE[1],
    }
    out: dict[str, str] = {g: fixed[g] for g in groups if g in fixed}
    spare = [c for c in PALETTE if c not in out.values()]
    for g in groups:
        if g not in out:
            out[g] = spare.pop(0) if spare else PALETTE[len(out) % len(PALETTE)]
    return out


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _p_equals(p: float | None) -> str:
    """``P = 0.012``, ``P < 0.001``, ``P > 0.99``, ``P: n/a``."""
    text = fmt_p(p)
    if text == "n/a":
        return "P: n/a"
    if text.startswith(("<", ">")):
        return f"P {text[0]} {text[1:]}"
    return f"P = {text}"


# --------------------------------------------------------------------------- log-axis ticks


def _grid(mantissas: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(f"{m * 10.0**e:.6g}") for e in range(-4, 5) for m in mantissas)


#: Candidate tick values on a log axis, finest first.
_LOG_GRIDS = tuple(
    _grid(m)
    for m in (
        (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8),
        (1, 1.5, 2, 3, 5, 7),
        (1, 2, 5),
        (1, 5),
        (1,),
    )
)
_NICE_HR = _LOG_GRIDS[2]


def _mantissa(v: float) -> int:
    """Leading digit of a 1-2-5 value: 0.05 -> 5."""
    return round(v / 10 ** math.floor(math.log10(v) + 1e-9))


# --------------------------------------------------------------------------- saving


def save_figure(fig: Figure, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write ``stem.png`` (300 dpi) and ``stem.svg`` (text as text) into ``directory``.

    The bytes depend only on the figure: no date or software version is written, and SVG ids
    are salted with a constant.

    Parameters
    ----------
    fig
        A figure of this package.
    directory
        Output directory, created if missing.
    stem
        File name without extension.

    Returns
    -------
    tuple of Path
        The PNG and SVG paths.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    png = directory / f"{stem}.png"
    svg = directory / f"{stem}.svg"
    with journal_style():
        _save_png(fig, png)
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png, svg


def _save_png(fig: Figure, path: Path) -> None:
    """300-dpi PNG; RGB when every pixel is opaque (as the white figures are).

    An RGB PNG goes into report.pdf without being decoded (:mod:`ikaros.report.pdf_images`) and
    is smaller; a figure with transparent pixels keeps its alpha channel.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=300)
    raw = buffer.getvalue()
    # pixels as Agg counts them (FigureCanvasBase.get_width_height)
    width, height = (int(x * 300 + 1e-8) for x in fig.get_size_inches())
    if width * height * 4 != len(raw):  # not the size expected: let matplotlib write it
        fig.savefig(path, format="png", dpi=300, metadata={"Software": None})
        return
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 4)
    write_png(path, pixels[..., :3] if np.all(pixels[..., 3] == 255) else pixels, 300)


def _title(fig: Figure, text: str, height: float, *, left: float = 0.08) -> None:
    """The bold title at the top-left corner (``height``, ``left``: inches)."""
    fig.text(
        left * 72,
        (height - 0.10) * 72,
        text,
        transform=_points(fig),
        ha="left",
        va="top",
        fontsize=FONT_SIZE,
        fontweight="bold",
        parse_math=False,
        label="title",
    )


def _step_curve(
    ax: Axes,
    time: Any,
    estimate: Any,
    lower: Any,
    upper: Any,
    *,
    color: str,
    label: str,
    band: bool,
    alpha: float,
) -> None:
    """A right-continuous step curve over its pointwise confidence band (if ``band``)."""
    if band:
        ax.fill_between(
            time,
            lower,
            upper,
            step="post",
            color=color,
            alpha=alpha,
            linewidth=0,
            label=f"_ci {label}",
            zorder=1,
        )
    ax.plot(
        time,
        estimate,
        drawstyle="steps-post",
        color=color,
        linewidth=1.2,
        label=label,
        zorder=3,
    )


#: one row of a counts table under a curve plot: (kind, label, colour, numbers); kind "heading"
#: is a bold block heading (colour and numbers unused), any other kind labels the number texts
CountRow = tuple[str, str, str | None, Sequence[int | None]]


def _draw_count_table(ax: Axes, table: Sequence[CountRow], ticks: Sequence[float]) -> None:
    """Draw a numbers-at-risk style table on ``ax`` (an axes sharing x with the curves).

    Row ``k`` is at data y = ``k`` (top row 0); each number is centred on its tick (data x =
    tick), group labels end just left of the widest number at the first tick. Text artists carry
    labels: ``"heading"``, ``"row"`` (group labels) and the row's kind (the numbers).
    """
    fig = _figure_of(ax)
    cells = [("–" if v is None else str(v)) for _, _, _, vals in table for v in vals]
    half = max((_measure(fig, c, SMALL_SIZE) for c in cells), default=0.0) / 2
    label_trans = offset_copy(
        blended_transform_factory(ax.transAxes, ax.transData),
        fig=fig,
        x=-(half + 7.0),
        y=0.0,
        units="points",
    )
    heading_trans = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    for row, (kind, name, color, values) in enumerate(table):
        if kind == "heading":
            ax.text(
                0.08,
                row,
                name,
                transform=heading_trans,
                ha="left",
                va="center",
                fontsize=SMALL_SIZE,
                fontweight="bold",
                color=_DARK,
                label="heading",
                parse_math=False,
            )
            continue
        ax.text(
            0,
            row,
            name,
            transform=label_trans,
            ha="right",
            va="center",
            fontsize=SMALL_SIZE,
            color=color,
            label="row",
            parse_math=False,
        )
        for t, v in zip(ticks, values, strict=True):
            ax.text(
                t,
                row,
                "–" if v is None else str(v),
                ha="center",
                va="center",
                fontsize=SMALL_SIZE,
                color=color,
                label=kind,
                clip_on=False,
            )
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.yaxis.set_major_locator(NullLocator())
    ax.tick_params(axis="x", which="both", length=0, labelbottom=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.patch.set_visible(False)


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
