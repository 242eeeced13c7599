"""Volcano plot of a genome-wide scan: log2 hazard ratio against -log10 p, FDR-significant genes
highlighted and the strongest labelled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ikaros.report.figures._common import _figure_of, _measure, _new_figure
from ikaros.report.style import PALETTE, journal_style

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["volcano_figure"]


def volcano_figure(
    table: pd.DataFrame | Mapping[str, Any],
    *,
    hr: str = "cox_hr",
    p: str = "cox_p",
    q: str = "cox_q",
    fdr: float = 0.05,
    label_top: int = 10,
    title: str = "",
) -> Figure:
    """Volcano plot of per-gene hazard ratios.

    Parameters
    ----------
    table
        One row per gene with columns ``gene``, ``hr``, ``p`` and ``q`` (names configurable):
        a DataFrame, or a mapping of column names to arrays (what the drawing process of
        ``ikaros scan`` receives; no pandas needed).
    fdr
        Genes with q below this are highlighted (blue: HR < 1, vermillion: HR > 1).
    label_top
        Label this many genes with the smallest p among the highlighted ones.
    """
    with journal_style():
        fig = _new_figure(4.8, 4.0)
        ax = fig.add_axes((0.14, 0.13, 0.82, 0.76 if title else 0.82))
        hrs = np.asarray(table[hr], dtype=float)
        ps = np.asarray(table[p], dtype=float)
        ok = ~np.isnan(hrs) & ~np.isnan(ps) & (hrs > 0)
        n_shown = int(ok.sum())
        x = np.log2(hrs[ok])
        y = -np.log10(np.clip(ps[ok], 1e-300, 1.0))
        sig = np.asarray(table[q], dtype=float)[ok] < fdr
        ax.scatter(
            x[~sig],
            y[~sig],
            s=6,
            color="#9A9A9A",
            alpha=0.6,
            linewidths=0,
            rasterized=n_shown > 5000,
        )
        up = sig & (x > 0)
        down = sig & (x <= 0)
        ax.scatter(
            x[up],
            y[up],
            s=9,
            color=PALETTE[1],
            linewidths=0,
            label=f"HR > 1, q < {fdr:g} ({int(up.sum())})",
        )
        ax.scatter(
            x[down],
            y[down],
            s=9,
            color=PALETTE[0],
            linewidths=0,
            label=f"HR < 1, q < {fdr:g} ({int(down.sum())})",
        )
        ax.axvline(0, color="#555555", lw=0.6)
        if sig.any():
            ax.axhline(float(y[sig].min()), color="#555555", lw=0.6, ls="--")
        order = np.argsort(-y[sig], kind="stable")[:label_top]
        genes = np.asarray(table["gene"], dtype=object)[ok][sig]
        _label(ax, [(str(genes[i]), float(x[sig][i]), float(y[sig][i])) for i in order])
        ax.set_xlabel("log2 hazard ratio (per unit of expression)")
        ax.set_ylabel("-log10 p (Wald)")
        ax.legend(
            loc="upper left", frameon=False, fontsize=7, title=f"{n_shown} genes", title_fontsize=7
        )
        if title:
            fig.suptitle(title, x=0.14, ha="left", fontsize=9, fontweight="bold")
    return fig


#: Font size and line height (points) of the gene labels.
_LABEL_SIZE = 6.0
_LABEL_HEIGHT = 7.2


def _label(ax: Axes, labels: list[tuple[str, float, float]]) -> None:
    """Write gene labels beside their points without overlapping one another.

    Labels are placed in order (strongest first) at the first free position of a fixed list:
    right of the point, then shifted down and up by whole lines (up to 30), then left of the
    point; a label moved off its point's line gets a thin leader line. Positions are decided
    in points from the axes' final limits, so the figure stays deterministic.
    """
    if not labels:
        return
    fig = _figure_of(ax)
    ax.set_xlim(ax.get_xlim())  # freeze the limits the positions are computed from
    ax.set_ylim(ax.get_ylim())
    to_points = 72.0 / fig.dpi
    x0, y0, x1, y1 = (v * to_points for v in ax.bbox.extents)
    placed: list[tuple[float, float, float, float]] = []
    h = _LABEL_HEIGHT
    shifts = [0.0, *[s * k * h for k in range(1, 31) for s in (-1.0, 1.0)]]
    for text, xd, yd in labels:
        px, py = (v * to_points for v in ax.transData.transform((xd, yd)))
        w = _measure(fig, text, _LABEL_SIZE)
        choice = None
        for side in (1.0, -1.0):
            for dy in shifts:
                left = px + 3.0 if side > 0 else px - 3.0 - w
                bottom = py + 2.0 + dy
                box = (left, bottom, left + w, bottom + h)
                inside = box[0] >= x0 and box[2] <= x1 and box[1] >= y0 and box[3] <= y1
                if inside and not any(_overlap(box, other) for other in placed):
                    choice = (box, left - px, dy)
                    break
            if choice is not None:
                break
        if choice is None:  # no free place: at the default one
            choice = ((px + 3.0, py + 2.0, px + 3.0 + w, py + 2.0 + h), 3.0, 0.0)
        box, dx, dy = choice
        placed.append(box)
        ax.annotate(
            text,
            (xd, yd),
            xytext=(dx, 2.0 + dy),
            textcoords="offset points",
            fontsize=_LABEL_SIZE,
            arrowprops=(
                {"arrowstyle": "-", "lw": 0.4, "color": "#777777", "shrinkA": 0, "shrinkB": 1}
                if abs(dy) > 0
                else None
            ),
        )


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
