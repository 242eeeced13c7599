"""The legend and statistics block of the Kaplan-Meier figure, and where to put it.

The block (group, n, events, landmark survival, test P) is a small table drawn in points from
the figure's corner; it goes in the first corner of the curve axes where it covers no curve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ikaros.report.figures._common import _figure_of, _finite, _measure, _p_equals, _points
from ikaros.report.figures.km_data import _steps
from ikaros.report.style import SMALL_SIZE
from ikaros.results import GroupSummary, TestResult


@dataclass
class _Block:
    """A small table of text drawn at a position given in points (legend + statistics)."""

    rows: list[tuple[str | None, list[tuple[str, str]]]]  # (line colour, [(text, colour)])
    align: list[str]  # per column: "left" / "right"
    footer: list[tuple[str, str]]  # full-width lines (text, colour)
    size: float = SMALL_SIZE
    handle: float = 12.0  # legend line length (points)
    gap: float = 6.0

    def layout(self, fig: Figure) -> tuple[list[float], float, float]:
        ncol = len(self.align)
        widths = [0.0] * ncol
        for _, cells in self.rows:
            for j, (text, _) in enumerate(cells):
                widths[j] = max(widths[j], _measure(fig, text, self.size))
        x = [self.handle + 4.0]
        for w in widths[:-1]:
            x.append(x[-1] + w + self.gap)
        width = x[-1] + widths[-1]
        for text, _ in self.footer:
            width = max(width, _measure(fig, text, self.size))
        height = self.line * (len(self.rows) + len(self.footer))
        return [*x, width], width, height

    @property
    def line(self) -> float:
        return self.size * 1.32

    def draw(self, fig: Figure, x0: float, y0: float, *, background: bool) -> None:
        """Draw with the lower-left corner at (x0, y0) points from the figure's corner."""
        cols, width, height = self.layout(fig)
        widths = [
            cols[j + 1] - cols[j] - (self.gap if j + 1 < len(self.align) else 0)
            for j in range(len(self.align))
        ]
        trans = _points(fig)
        if background:
            fig.add_artist(
                Rectangle(
                    (x0 - 3, y0 - 2),
                    width + 6,
                    height + 4,
                    transform=trans,
                    facecolor="white",
                    edgecolor="none",
                    alpha=0.85,
                    zorder=2,
                )
            )
        lines = [*[(c, cells) for c, cells in self.rows]]
        for i, (line_color, cells) in enumerate(lines):
            yc = y0 + height - (i + 0.5) * self.line
            if line_color is not None:
                fig.add_artist(
                    Line2D(
                        [x0, x0 + self.handle],
                        [yc, yc],
                        transform=trans,
                        color=line_color,
                        linewidth=1.4,
                        zorder=3,
                    )
                )
            for j, (text, color) in enumerate(cells):
                if not text:
                    continue
                right = self.align[j] == "right"
                x = x0 + cols[j] + (widths[j] if right else 0.0)
                fig.text(
                    x,
                    yc,
                    text,
                    transform=trans,
                    ha="right" if right else "left",
                    va="center_baseline",
                    fontsize=self.size,
                    color=color,
                    zorder=4,
                    parse_math=False,
                    label="legend",
                )
        for k, (text, color) in enumerate(self.footer):
            yc = y0 + height - (len(lines) + k + 0.5) * self.line
            fig.text(
                x0,
                yc,
                text,
                transform=trans,
                ha="left",
                va="center_baseline",
                fontsize=self.size,
                color=color,
                zorder=4,
                parse_math=False,
                label="legend",
            )


def _landmark_name(landmark: float, time_unit: str) -> str:
    if time_unit == "months" and landmark > 0 and abs(landmark / 12 - round(landmark / 12)) < 1e-9:
        return f"{round(landmark / 12)}-year"
    unit = time_unit[:-1] if time_unit.endswith("s") else time_unit
    return f"{landmark:g}-{unit}"


def _test_text(name: str, test: TestResult | None, df: bool = False) -> str:
    if test is None or not _finite(test.p):
        return f"{name} P: n/a"
    extra = f" ({test.df} df)" if df else ""
    return f"{name} {_p_equals(test.p)}{extra}"


def _obstacles(
    ax: Axes, groups: Mapping[str, GroupSummary], ci: bool
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    for g in groups.values():
        if g.curve is None:
            continue
        st = _steps(g.curve)
        lo = np.where(np.isfinite(st.lower), st.lower, st.surv) if ci else st.surv
        hi = np.where(np.isfinite(st.upper), st.upper, st.surv) if ci else st.surv
        out.append((st.time, np.minimum(lo, st.surv), np.maximum(hi, st.surv)))
    return out


def _collides(
    obstacles: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    x0: float,
    x1: float,
    y0: float,
    y1: float,
) -> bool:
    """Whether any step function (with its band) enters the data box [x0, x1] x [y0, y1]."""
    for time, lo, hi in obstacles:
        if x1 < time[0] or x0 > time[-1]:
            continue
        i0 = max(int(np.searchsorted(time, x0, side="right")) - 1, 0)
        i1 = int(np.searchsorted(time, x1, side="right"))
        seg_lo = float(np.nanmin(lo[i0:i1]))
        seg_hi = float(np.nanmax(hi[i0:i1]))
        if seg_hi >= y0 and seg_lo <= y1:
            return True
    return False


def _free_corner(
    ax: Axes,
    groups: Mapping[str, GroupSummary],
    *,
    ci: bool,
    width: float,
    height: float,
) -> tuple[tuple[float, float, float, float] | None, bool]:
    """Where in ``ax`` a block of ``width`` x ``height`` points covers no curve.

    The corners are tried in order, first clear of the curves and their confidence bands, then
    clear of the curves only (the block then needs a white background).

    Returns
    -------
    tuple
        The position (axes fraction x, y; offset of the block's lower-left corner in points) and
        whether the block needs a background; ``(None, False)`` when no corner is free.
    """
    fig = _figure_of(ax)
    bw, bh = width, height
    pad = 6.0
    candidates = [  # (axes fraction x, y; offset of the block's lower-left corner in points)
        (0.0, 0.0, pad + 4.0, pad),
        (1.0, 0.0, -pad - bw, pad),
        (1.0, 1.0, -pad - bw, -pad - bh - 4.0),
        (1.0, 0.5, -pad - bw, -bh / 2),
        (0.5, 0.0, -bw / 2, pad),
    ]

    def box_in_data(cand: tuple[float, float, float, float]) -> tuple[float, ...]:
        fx, fy, ox, oy = cand
        scale = fig.dpi / 72.0
        x_disp, y_disp = ax.transAxes.transform((fx, fy))
        corners = np.array(
            [
                [x_disp + (ox - 3) * scale, y_disp + (oy - 4) * scale],
                [x_disp + (ox + bw + 3) * scale, y_disp + (oy + bh + 4) * scale],
            ]
        )
        (dx0, dy0), (dx1, dy1) = ax.transData.inverted().transform(corners)
        return dx0, dx1, dy0, dy1

    for ci_counts in (True, False):
        obstacles = _obstacles(ax, groups, ci_counts and ci)
        for cand in candidates:
            if not _collides(obstacles, *box_in_data(cand)):
                return cand, not ci_counts
    return None, False
