"""Shared helpers of the report figures: figure creation, text measurement, colours, saving.

Figures are :class:`matplotlib.figure.Figure` objects with an Agg canvas (never pyplot); text is
measured with the Agg renderer so that layouts can be fixed in inches. Also here: the colours of
the groups, P-value wording, the tick grids of log axes and :func:`save_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import NullLocator
from matplotlib.transforms import Affine2D, Transform, blended_transform_factory, offset_copy

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
        fig.savefig(png, format="png", dpi=300, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png, svg


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
