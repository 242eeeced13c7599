"""Cumulative incidence figure: step curves rising from 0, confidence bands, numbers at risk.

:func:`cif_figure` draws cumulative incidence functions (Aalen-Johansen estimates, one per group
and cause) read from any object with the attributes of :class:`CIFLike`, optionally with the
naive ``1 - Kaplan-Meier`` estimates dashed (competing events treated as censored, which
overestimates the incidence), and a numbers-at-risk table aligned to the time ticks. Nothing is
estimated here: the numbers at risk are looked up in the curves' ``n_risk``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter

from ikaros.report.figures._common import (
    _DARK,
    CountRow,
    _draw_count_table,
    _draw_legend,
    _Entry,
    _figure_of,
    _legend_layout,
    _line_height,
    _measure,
    _new_figure,
    _points,
    _step_curve,
    _title,
)
from ikaros.report.figures._km_legend import _collides
from ikaros.report.figures.km import KM_WIDTH
from ikaros.report.figures.km_data import time_ticks
from ikaros.report.style import GREY, PALETTE, SMALL_SIZE, journal_style

__all__ = ["CIFLike", "cif_at_risk", "cif_figure", "draw_cif"]


@runtime_checkable
class CIFLike(Protocol):
    """A cumulative incidence curve as step data (e.g. ``ikaros.stats.competing.CIFCurve``).

    ``time`` is increasing; ``estimate``, ``lower`` and ``upper`` are the incidence and its
    pointwise confidence limits from each time on (``lower``/``upper`` may hold NaN);
    ``n_risk`` the number at risk just before each time.
    """

    @property
    def group(self) -> str: ...

    @property
    def cause(self) -> str: ...

    @property
    def time(self) -> Any: ...

    @property
    def estimate(self) -> Any: ...

    @property
    def lower(self) -> Any: ...

    @property
    def upper(self) -> Any: ...

    @property
    def n_risk(self) -> Any: ...


@dataclass(frozen=True)
class _CIFSteps:
    """A curve as drawn: the step function from (0, 0), its band, the at-risk lookup."""

    time: np.ndarray
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def _array(curve: CIFLike, name: str, dtype: type = float) -> np.ndarray:
    values = getattr(curve, name)
    arr = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return arr.astype(int) if dtype is int else arr


def _cif_steps(curve: CIFLike) -> _CIFSteps:
    """The step data as drawn: (0, 0) first unless the curve starts at time 0.

    A missing confidence limit is 0 where the estimate is 0 (before the first event), else NaN
    (a gap in the band).
    """
    time = _array(curve, "time")
    est = _array(curve, "estimate")
    lower = _array(curve, "lower")
    upper = _array(curve, "upper")
    if not (len(time) == len(est) == len(lower) == len(upper)):
        raise ValueError(
            f"curve {curve.group!r}/{curve.cause!r}: time, estimate, lower and upper differ in"
            " length"
        )
    if np.any(np.diff(time) < 0):
        raise ValueError(f"curve {curve.group!r}/{curve.cause!r}: times are not increasing")
    zero = est <= 1e-12
    lower = np.where(np.isfinite(lower) | ~zero, lower, 0.0)
    upper = np.where(np.isfinite(upper) | ~zero, upper, 0.0)
    if len(time) == 0 or time[0] > 0:
        time = np.concatenate(([0.0], time))
        est = np.concatenate(([0.0], est))
        lower = np.concatenate(([0.0], lower))
        upper = np.concatenate(([0.0], upper))
    return _CIFSteps(time, est, lower, upper)


def cif_at_risk(curve: CIFLike, ticks: Sequence[float]) -> tuple[int, ...]:
    """Number at risk at each tick: ``n_risk`` at the first curve time >= tick, 0 past the end."""
    time = _array(curve, "time")
    n_risk = _array(curve, "n_risk", int)
    if len(n_risk) != len(time):
        raise ValueError(f"curve {curve.group!r}/{curve.cause!r}: time and n_risk differ in length")
    out = []
    for t in ticks:
        i = int(np.searchsorted(time, t, side="left"))
        out.append(int(n_risk[i]) if i < len(time) else 0)
    return tuple(out)


def _colors(
    curves: Mapping[str, CIFLike], naive: Mapping[str, CIFLike]
) -> tuple[dict[str, str], dict[str, str]]:
    """Curve colours in :data:`PALETTE` order; a naive curve takes the colour of the curve with
    the same key, else of the curve of the same group and cause, else the next free colour."""
    main = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(curves)}
    by_cause = {(c.group, c.cause): main[k] for k, c in curves.items()}
    spare = [c for c in PALETTE if c not in main.values()]
    dashed: dict[str, str] = {}
    for k, c in naive.items():
        if k in main:
            dashed[k] = main[k]
        elif (c.group, c.cause) in by_cause:
            dashed[k] = by_cause[(c.group, c.cause)]
        else:
            dashed[k] = spare.pop(0) if spare else PALETTE[len(dashed) % len(PALETTE)]
    return main, dashed


def draw_cif(
    ax: Axes,
    curves: Mapping[str, CIFLike],
    *,
    colors: Mapping[str, str],
    naive: Mapping[str, CIFLike] | None = None,
    naive_colors: Mapping[str, str] | None = None,
    ci: bool = True,
) -> None:
    """Draw cumulative incidence step curves (with bands) and dashed naive curves on ``ax``.

    Artists are labelled for inspection: the curve with its key, the band ``"_ci <key>"``, a
    naive curve ``"_naive <key>"``.
    """
    alpha = 0.14 if len(curves) <= 2 else 0.09
    for key, curve in curves.items():
        st = _cif_steps(curve)
        color = colors[key]
        band = bool(ci and np.any(np.nan_to_num(st.upper - st.lower) > 0))
        _step_curve(
            ax,
            st.time,
            st.estimate,
            st.lower,
            st.upper,
            color=color,
            label=key,
            band=band,
            alpha=alpha,
        )
    for key, curve in (naive or {}).items():
        st = _cif_steps(curve)
        ax.plot(
            st.time,
            st.estimate,
            drawstyle="steps-post",
            color=(naive_colors or {}).get(key, GREY),
            linewidth=1.0,
            linestyle=(0, (3.5, 2.0)),
            label=f"_naive {key}",
            zorder=2,
        )


def _at_risk_rows(
    curves: Mapping[str, CIFLike], colors: Mapping[str, str]
) -> list[tuple[str, str, CIFLike]]:
    """One row per group (its first curve's ``n_risk``); coloured like the curve when the group
    has a single curve, else dark."""
    rows: dict[str, tuple[str, CIFLike]] = {}
    count: dict[str, int] = {}
    for key, curve in curves.items():
        count[curve.group] = count.get(curve.group, 0) + 1
        rows.setdefault(curve.group, (colors[key], curve))
    return [(g, c if count[g] == 1 else _DARK, curve) for g, (c, curve) in rows.items()]


def _draw_at_risk(
    ax: Axes, rows: Sequence[tuple[str, str, CIFLike]], ticks: Sequence[float]
) -> None:
    """The numbers-at-risk table: heading on row 0, then one row per group, numbers centred on
    the ticks. Texts are labelled ``"heading"``, ``"row"`` (group labels) and ``"n_risk"``."""
    table: list[CountRow] = [("heading", "Number at risk", None, ())]
    table += [("n_risk", name, color, cif_at_risk(curve, ticks)) for name, color, curve in rows]
    _draw_count_table(ax, table, ticks)


_Y_TOPS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def _y_axis(top: float) -> tuple[float, list[float], str]:
    """Upper limit, ticks and tick format of the incidence axis."""
    y_max = next((v for v in _Y_TOPS if top <= v + 1e-9), 1.0)
    step = 0.02 if y_max <= 0.1 else 0.05 if y_max <= 0.2 else 0.1 if y_max <= 0.6 else 0.2
    n = round(y_max / step)
    fmt = "%.2f" if step < 0.1 else "%.1f"
    return y_max, [round(k * step, 6) for k in range(n + 1)], fmt


_MAIN_H = 2.9
_GAP = 0.42
_ROW = 0.155
_BOTTOM = 0.08
_RIGHT = 0.22
_TOP = 0.14
_TITLE = 0.30


def cif_figure(
    curves: Mapping[str, CIFLike],
    *,
    title: str = "",
    time_unit: str = "months",
    at_risk: bool = True,
    naive: Mapping[str, CIFLike] | None = None,
    naive_label: str | None = None,
    footer: Sequence[str] = (),
    xlim: float | None = None,
    ylabel: str = "Cumulative incidence",
) -> Figure:
    """Cumulative incidence curves with confidence bands and a numbers-at-risk table.

    Parameters
    ----------
    curves
        Legend label -> curve (step data, see :class:`CIFLike`), drawn solid in
        :data:`PALETTE` order with its pointwise confidence band.
    title
        Bold title above the plot; none when empty.
    time_unit
        Unit of the time axis (the ticks follow :func:`time_ticks`).
    at_risk
        Add the numbers at risk under the time axis: one row per group (``curve.group``), the
        curve's ``n_risk`` at the first time >= each tick.
    naive
        Legend label -> ``1 - Kaplan-Meier`` curve of the same cause (competing events censored),
        drawn dashed in the colour of the matching curve to show the overestimate.
    naive_label
        With ``naive``: one grey dashed legend entry with this text for all naive curves
        (instead of one entry per naive curve and the "Dashed: ..." note).
    footer
        Lines under the legend entries (e.g. Gray's test P).
    xlim
        End of the time axis; default the end of follow-up. The numbers at risk are given at
        the ticks up to it.
    ylabel
        Label of the incidence axis.

    Returns
    -------
    Figure
        ``KM_WIDTH`` inches wide; axes labelled ``"cif"`` (curves) and ``"at_risk"`` (table).

    Raises
    ------
    ValueError
        No curves, or a curve whose arrays differ in length or whose times decrease.
    """
    if not curves:
        raise ValueError("no curves to draw")
    naive = dict(naive or {})
    colors, naive_colors = _colors(curves, naive)
    steps = {("c", k): _cif_steps(c) for k, c in curves.items()}
    steps.update({("n", k): _cif_steps(c) for k, c in naive.items()})
    t_max = max(float(st.time[-1]) for st in steps.values())
    if xlim is not None:
        ticks = tuple(t for t in time_ticks(xlim, time_unit) if t <= xlim + 1e-9)
        x_max = float(xlim)
    else:
        ticks = time_ticks(t_max if t_max > 0 else 1.0, time_unit)
        x_max = max(ticks[-1], t_max)
    top = max(  # the bands of the solid curves, the dashed curves themselves
        float(np.nanmax(np.concatenate((st.estimate, st.upper[np.isfinite(st.upper)]))))
        if kind == "c"
        else float(np.nanmax(st.estimate))
        for (kind, _), st in steps.items()
    )
    y_max, y_ticks, y_fmt = _y_axis(top)
    rows = _at_risk_rows(curves, colors) if at_risk else []
    table_h = (1 + len(rows)) * _ROW if at_risk else 0.0
    gap = _GAP if at_risk else 0.40
    title_h = _TITLE if title else _TOP

    with journal_style():
        fig = _new_figure(KM_WIDTH, 5.0)
        num_w = max(
            (_measure(fig, str(v), SMALL_SIZE) for _, _, c in rows for v in cif_at_risk(c, ticks)),
            default=0.0,
        )
        label_w = max((_measure(fig, g, SMALL_SIZE) for g, _, _ in rows), default=0.0)
        left = max(0.62, 0.10 + (label_w + num_w / 2 + 10.0) / 72)
        width = KM_WIDTH - left - _RIGHT

        ax = fig.add_axes((0.1, 0.5, 0.8, 0.4), label="cif")
        tab = fig.add_axes((0.1, 0.05, 0.8, 0.3), sharex=ax, label="at_risk") if at_risk else None

        def place(header: float) -> float:
            height = title_h + header + _MAIN_H + gap + table_h + _BOTTOM
            fig.set_size_inches(KM_WIDTH, height)
            ax.set_position(
                (
                    left / KM_WIDTH,
                    (_BOTTOM + table_h + gap) / height,
                    width / KM_WIDTH,
                    _MAIN_H / height,
                )
            )
            if tab is not None:
                tab.set_position(
                    (left / KM_WIDTH, _BOTTOM / height, width / KM_WIDTH, table_h / height)
                )
            return height

        height = place(0.0)
        draw_cif(ax, curves, colors=colors, naive=naive, naive_colors=naive_colors)
        ax.set_xlim(0, x_max)
        ax.set_ylim(-0.02 * y_max, 1.03 * y_max)
        ax.xaxis.set_major_locator(FixedLocator(list(ticks)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_major_locator(FixedLocator(y_ticks))
        ax.yaxis.set_major_formatter(FormatStrFormatter(y_fmt))
        ax.spines["left"].set_bounds(0, y_max)
        ax.set_xlabel(f"Time ({time_unit})", labelpad=2)
        ax.set_ylabel(ylabel, labelpad=4)
        if tab is not None:
            _draw_at_risk(tab, rows, ticks)

        # legend: curves solid, naive dashed, a footnote on the dashed curves
        entries = [_Entry(k, colors[k]) for k in curves]
        lines = list(footer)
        if naive and naive_label:
            entries.append(_Entry(naive_label, GREY, linestyle=(0, (3.5, 2.0))))
        elif naive:
            entries += [_Entry(k, naive_colors[k], linestyle=(0, (3.5, 2.0))) for k in naive]
            lines.insert(0, "Dashed: 1 − Kaplan-Meier (competing events censored)")
        layout = _legend_layout(fig, entries, width * 72, columns=1)
        bw = max([layout.width, *(_measure(fig, t, SMALL_SIZE) for t in lines)])
        bh = layout.height + _line_height() * len(lines)
        bands = [
            (
                st.time,
                np.fmin(st.estimate, np.where(np.isfinite(st.lower), st.lower, st.estimate)),
                np.fmax(st.estimate, np.where(np.isfinite(st.upper), st.upper, st.estimate)),
            )
            if kind == "c"
            else (st.time, st.estimate, st.estimate)
            for (kind, _), st in steps.items()
        ]
        curve_lines = [(st.time, st.estimate, st.estimate) for st in steps.values()]
        chosen = _free_place(ax, bands, curve_lines, bw, bh)
        if chosen is None:  # no free corner: a header above the curves
            height = place((bh + 10.0) / 72)
            pos = ax.get_position()
            x0, y_top = pos.x0 * KM_WIDTH * 72 + 4.0, (pos.y1 * height) * 72 + bh + 6.0
            background = False
        else:
            (fx, fy, ox, oy), background = chosen
            pos = ax.get_position()
            x0 = (pos.x0 + fx * pos.width) * KM_WIDTH * 72 + ox
            y_top = (pos.y0 + fy * pos.height) * height * 72 + oy + bh
        _draw_legend(fig, entries, layout, x0, y_top, background=background)
        for k, line in enumerate(lines):
            fig.text(
                x0,
                y_top - layout.height - (k + 0.5) * _line_height(),
                line,
                transform=_points(fig),
                ha="left",
                va="center_baseline",
                fontsize=SMALL_SIZE,
                color=GREY,
                zorder=4,
                parse_math=False,
                label="legend",
            )
        if title:
            _title(fig, title, height)
    return fig


def _free_place(
    ax: Axes,
    bands: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    lines: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    width: float,
    height: float,
) -> tuple[tuple[float, float, float, float], bool] | None:
    """The first corner of ``ax`` where a ``width`` x ``height``-point block covers no curve:
    top left (where incidence curves start low), top right, bottom right; first clear of the
    bands, then of the curves only (the block then gets a white background)."""
    fig = _figure_of(ax)
    pad = 6.0
    candidates = [
        (0.0, 1.0, pad + 4.0, -pad - height),
        (1.0, 1.0, -pad - width, -pad - height),
        (1.0, 0.0, -pad - width, pad + 2.0),
        (1.0, 0.5, -pad - width, -height / 2),
    ]
    scale = fig.dpi / 72.0
    for obs, background in ((bands, False), (lines, True)):
        for fx, fy, ox, oy in candidates:
            xd, yd = ax.transAxes.transform((fx, fy))
            corners = np.array(
                [
                    [xd + (ox - 3) * scale, yd + (oy - 4) * scale],
                    [xd + (ox + width + 3) * scale, yd + (oy + height + 4) * scale],
                ]
            )
            (x0, y0), (x1, y1) = ax.transData.inverted().transform(corners)
            if not _collides(obs, x0, x1, y0, y1):
                return (fx, fy, ox, oy), background
    return None
