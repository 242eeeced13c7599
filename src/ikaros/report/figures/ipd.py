"""Figures of reconstructed patient data: digitised vs reconstructed curves, and arm comparison.

:func:`ipd_overlay_figure` shows, for one arm, the digitised points and the Kaplan-Meier curve
(or the cumulative incidences) of the reconstructed patients, with the published and the
reconstructed numbers at risk under the axis: how well the reconstruction fits.
:func:`ipd_comparison_figure` draws the reconstructed arms together as a Kaplan-Meier figure
(the study report's curves and at-risk table) with the medians and the comparison statistics.

Both compute nothing: they draw the arrays and texts they are given. Built as
:class:`matplotlib.figure.Figure` objects (never pyplot) inside the journal style.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter

from ikaros.report.figures._common import (
    _DARK,
    CountRow,
    _draw_count_table,
    _measure,
    _new_figure,
    _points,
    _title,
    group_colors,
)
from ikaros.report.figures._km_legend import _Block, _free_corner
from ikaros.report.figures.km import draw_at_risk, draw_km
from ikaros.report.figures.km_data import time_ticks
from ikaros.report.style import GREY, PALETTE, SMALL_SIZE, journal_style
from ikaros.results import GroupSummary

__all__ = ["IPD_WIDTH", "OverlayCurve", "ipd_comparison_figure", "ipd_overlay_figure"]

#: Width of the IPD figures (inches).
IPD_WIDTH = 5.5
_MAIN_H = 2.6
_ROW = 0.16
_GAP = 0.42
_BOTTOM = 0.12
_RIGHT = 0.18
_TITLE = 0.34
_NOTE = 0.15
_WARN = "#B5560B"
#: characters per note line (7-pt text across the figure)
_WRAP = 105


@dataclass(frozen=True)
class OverlayCurve:
    """One curve of the overlay: digitised points and the reconstructed step function.

    ``reconstructed_time``/``reconstructed_value`` are the step function's change points
    (right-continuous, starting value implied by ``kind``); ``censor_*`` the censored patients'
    marks (optional).
    """

    label: str
    digitised_time: Sequence[float]
    digitised_value: Sequence[float]
    reconstructed_time: Sequence[float]
    reconstructed_value: Sequence[float]
    censor_time: Sequence[float] = ()
    censor_value: Sequence[float] = ()


def _place(
    fig: Figure,
    axes: Sequence[Axes],
    left: float,
    n_rows: int,
    n_notes: int,
    header: float = 0.0,
) -> float:
    """Size the figure and place the curve axes (and the table axes) in it; the height."""
    table_h = n_rows * _ROW
    height = _TITLE + n_notes * _NOTE + header + _MAIN_H + _GAP + table_h + _BOTTOM
    fig.set_size_inches(IPD_WIDTH, height)
    width = (IPD_WIDTH - left - _RIGHT) / IPD_WIDTH
    axes[0].set_position(
        (left / IPD_WIDTH, (_BOTTOM + table_h + _GAP) / height, width, _MAIN_H / height)
    )
    if len(axes) > 1:
        axes[1].set_position((left / IPD_WIDTH, _BOTTOM / height, width, table_h / height))
    return height


def _wrapped(notes: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(line, color) for text, color in notes for line in textwrap.wrap(text, _WRAP)]


def _notes(fig: Figure, notes: Sequence[tuple[str, str]], height: float) -> None:
    for i, (text, color) in enumerate(notes):
        fig.text(
            0.08 * 72,
            (height - _TITLE - i * _NOTE + 0.04) * 72,
            text,
            transform=_points(fig),
            ha="left",
            va="top",
            fontsize=SMALL_SIZE,
            color=color,
            parse_math=False,
            label="note",
        )


def ipd_overlay_figure(
    name: str,
    curves: Sequence[OverlayCurve],
    *,
    kind: str = "survival",
    risk_time: Sequence[float] | None = None,
    published: Sequence[int] | None = None,
    reconstructed: Sequence[int] | None = None,
    notes: Sequence[str] = (),
    warnings: Sequence[str] = (),
    time_unit: str = "months",
    x_max: float | None = None,
) -> Figure:
    """Digitised points vs the reconstructed curve(s) of one arm, with numbers at risk.

    Parameters
    ----------
    name
        Arm name (title).
    curves
        One curve (Kaplan-Meier) or two (event and competing event incidence).
    kind
        ``"survival"`` (curves fall from 1) or ``"incidence"`` (rise from 0).
    risk_time, published, reconstructed
        Times of the at-risk table with the published and reconstructed numbers at risk
        (``published`` ``None``: only the reconstructed row, at ``risk_time``).
    notes, warnings
        Lines under the title (warnings in orange).
    time_unit
        Unit of the time axis.
    x_max
        Right end of the time axis (default: the last tick after the curves).

    Returns
    -------
    Figure
        Axes labelled ``"curves"`` and ``"at_risk"``.
    """
    colors = [PALETTE[0], PALETTE[1]]
    start = 1.0 if kind == "survival" else 0.0
    t_end = max(
        [float(np.max(c.digitised_time)) for c in curves if len(c.digitised_time)]
        + [float(np.max(c.reconstructed_time)) for c in curves if len(c.reconstructed_time)]
        + [0.0]
    )
    ticks = list(risk_time) if risk_time is not None else list(time_ticks(t_end, time_unit))
    right = max(x_max if x_max is not None else 0.0, ticks[-1] if ticks else 0.0, t_end)
    rows: list[CountRow] = []
    if risk_time is not None and (published is not None or reconstructed is not None):
        rows.append(("heading", "Number at risk", None, ()))
        if published is not None:
            rows.append(("published", "Published", _DARK, list(published)))
        if reconstructed is not None:
            rows.append(("reconstructed", "Reconstructed", colors[0], list(reconstructed)))
    lines = _wrapped(
        [(n, GREY) for n in notes] + [(w[:1].upper() + w[1:], _WARN) for w in warnings]
    )
    with journal_style():
        fig = _new_figure(IPD_WIDTH, 4.0)
        label_w = max([_measure(fig, r[1], SMALL_SIZE) for r in rows[1:]] + [0.0])
        num_w = max([_measure(fig, str(v), SMALL_SIZE) for r in rows[1:] for v in r[3]] + [0.0])
        left = max(0.62, 0.10 + (label_w + num_w / 2 + 10.0) / 72)
        ax = fig.add_axes((0.1, 0.5, 0.8, 0.4), label="curves")
        tab = fig.add_axes((0.1, 0.05, 0.8, 0.3), sharex=ax, label="at_risk") if rows else None
        height = _place(fig, [ax] if tab is None else [ax, tab], left, len(rows), len(lines))
        for i, c in enumerate(curves):
            color = colors[i % len(colors)]
            ax.plot(
                c.digitised_time,
                c.digitised_value,
                linestyle="none",
                marker="o",
                markersize=2.2,
                markerfacecolor="none",
                markeredgewidth=0.5,
                color=GREY,
                label=f"Digitised{'' if len(curves) == 1 else ' ' + c.label}",
                zorder=2,
            )
            x = np.concatenate([[0.0], np.asarray(c.reconstructed_time, dtype=float)])
            y = np.concatenate([[start], np.asarray(c.reconstructed_value, dtype=float)])
            ax.plot(
                x,
                y,
                drawstyle="steps-post",
                color=color,
                linewidth=1.1,
                label=f"Reconstructed{'' if len(curves) == 1 else ' ' + c.label}",
                zorder=3,
            )
            if len(c.censor_time):
                ax.plot(
                    c.censor_time,
                    c.censor_value,
                    linestyle="none",
                    marker="|",
                    markersize=3.5,
                    markeredgewidth=0.6,
                    color=color,
                    label=f"_censor {c.label}",
                    zorder=4,
                )
        ax.set_xlim(0, right)
        ax.set_ylim(-0.02, 1.03)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_major_locator(FixedLocator([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%.1f"))
        ax.spines["left"].set_bounds(0, 1)
        ax.set_xlabel(f"Time ({time_unit})", labelpad=2)
        ax.set_ylabel("Survival probability" if kind == "survival" else "Cumulative incidence")
        ax.legend(
            loc="upper right" if kind == "survival" else "upper left",
            fontsize=SMALL_SIZE,
            frameon=False,
            handlelength=1.6,
        )
        if tab is not None:
            _draw_count_table(tab, rows, ticks)
        what = "curve" if kind == "survival" else "cumulative incidence"
        _title(fig, f"{name}: digitised vs reconstructed {what}", height)
        _notes(fig, lines, height)
    return fig


def ipd_comparison_figure(
    groups: Mapping[str, GroupSummary],
    *,
    title: str,
    tests: Sequence[str],
    medians: Mapping[str, str],
    warnings: Sequence[str] = (),
    time_unit: str = "months",
    endpoint: str = "PFS",
) -> Figure:
    """Kaplan-Meier curves of the reconstructed arms with numbers at risk and statistics.

    Parameters
    ----------
    groups
        Arm name -> summary with the reconstructed Kaplan-Meier step data.
    title
        Figure title.
    tests
        Lines of statistics under the legend (HR with CI and P, log-rank P, RMST difference).
    medians
        Arm name -> median text (with its interval).
    warnings
        Lines under the title (orange), e.g. that an arm is unreliable.
    time_unit, endpoint
        Axis labels.

    Returns
    -------
    Figure
        Axes labelled ``"km"`` and ``"at_risk"``.
    """
    colors = group_colors(list(groups))
    t_max = max(
        (g.curve.time[-1] for g in groups.values() if g.curve is not None and g.curve.time),
        default=1.0,
    )
    ticks = list(time_ticks(t_max, time_unit))
    n_rows = 1 + len(groups)
    lines = _wrapped([(w, _WARN) for w in warnings])
    with journal_style():
        fig = _new_figure(IPD_WIDTH, 4.0)
        num_w = _measure(fig, str(max((g.n for g in groups.values()), default=0)), SMALL_SIZE)
        label_w = max((_measure(fig, g, SMALL_SIZE) for g in groups), default=0.0)
        left = max(0.62, 0.10 + (label_w + num_w / 2 + 10.0) / 72)
        ax = fig.add_axes((0.1, 0.5, 0.8, 0.4), label="km")
        tab = fig.add_axes((0.1, 0.05, 0.8, 0.3), sharex=ax, label="at_risk")
        height = _place(fig, [ax, tab], left, n_rows, len(lines))
        draw_km(ax, groups, colors=colors, ci=True)
        ax.set_xlim(0, max(ticks[-1], t_max))
        ax.set_ylim(-0.02, 1.03)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_major_locator(FixedLocator([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%.1f"))
        ax.spines["left"].set_bounds(0, 1)
        ax.set_xlabel(f"Time ({time_unit})", labelpad=2)
        ax.set_ylabel(f"{endpoint} probability (reconstructed)", labelpad=4)
        draw_at_risk(tab, groups, ticks, colors=colors)
        block = _Block(
            rows=[(None, [("", _DARK), ("n", GREY), ("Events", GREY), ("Median (95% CI)", GREY)])],
            align=["left", "right", "right", "left"],
            footer=[(t, _DARK) for t in tests],
        )
        for name, g in groups.items():
            block.rows.append(
                (
                    colors[name],
                    [
                        (name, colors[name]),
                        (str(g.n), _DARK),
                        (str(g.events), _DARK),
                        (medians.get(name, ""), _DARK),
                    ],
                )
            )
        _, bw, bh = block.layout(fig)
        chosen, background = _free_corner(ax, groups, ci=True, width=bw, height=bh)
        if chosen is None:  # no free corner: the block goes in a header above the curves
            height = _place(fig, [ax, tab], left, n_rows, len(lines), header=(bh + 8.0) / 72)
            chosen, background = (0.0, 1.0, 4.0, 6.0), False
        fx, fy, ox, oy = chosen
        pos = ax.get_position()
        x0 = (pos.x0 + fx * pos.width) * IPD_WIDTH * 72 + ox
        y0 = (pos.y0 + fy * pos.height) * height * 72 + oy
        block.draw(fig, x0, y0, background=background)
        _title(fig, title, height)
        _notes(fig, lines, height)
    return fig
