"""Publication figures of the study report, drawn from the typed result objects only.

Every figure reads what :mod:`ikaros.results` holds (Kaplan-Meier step data, Cox terms, test
results, marker values) and computes no statistics: numbers at risk and landmark survival are
looked up in the stored step data; the box plots show the stored marker values.

Figures are built as :class:`matplotlib.figure.Figure` objects with an Agg canvas, never through
pyplot, inside :func:`ikaros.report.style.journal_style`. Layouts are fixed in inches (no
``tight_layout``): text is measured once with the Agg renderer and margins are set from it, so
rendering is fast and the output deterministic. :func:`save_figure` writes a 300-dpi PNG and an
SVG with text as text; the same figure gives byte-identical files.

Functions
---------
km_figure
    Kaplan-Meier curves with confidence bands, censor marks, legend with n, events, landmark
    survival and log-rank P, and a numbers-at-risk table under the time axis.
draw_km, draw_at_risk
    The two building blocks of ``km_figure``, for custom layouts.
forest_figure
    Hazard ratios of the multivariable Cox models, or per-SD hazard ratios by cytogenetic risk
    with the interaction P.
marker_figure
    The marker by ISS stage and by best response (box plots with the points).
paper_figure
    The published figures of Kronke et al. 2017 next to this cohort's.
save_figure
    PNG (300 dpi) and SVG with deterministic bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator
from matplotlib.transforms import Affine2D, Transform, blended_transform_factory, offset_copy

from ikaros.published import Comparison
from ikaros.report.style import (
    DOUBLE_COLUMN,
    FONT_SIZE,
    GREY,
    PALETTE,
    SINGLE_COLUMN,
    SMALL_SIZE,
    endpoint_label,
    fmt_ci,
    fmt_p,
    fmt_pct,
    journal_style,
)
from ikaros.results import (
    Analysis,
    CoxModel,
    CoxTermResult,
    Curve,
    GroupSummary,
    MarkerAssociation,
    Results,
    TestResult,
)

__all__ = [
    "KM_WIDTH",
    "PALETTE",
    "cumulative_counts",
    "draw_at_risk",
    "draw_km",
    "forest_figure",
    "group_colors",
    "km_figure",
    "marker_figure",
    "numbers_at_risk",
    "paper_figure",
    "save_figure",
    "time_ticks",
]

#: Width of the Kaplan-Meier figures (inches), at-risk table included.
KM_WIDTH = 5.5

_DARK = "#222222"
_RULE = "#999999"
_SHADE = "#F2F2F2"
_DAGGER = "†"
_FIRTH_NOTE = "† Firth penalised likelihood, profile likelihood CI"
#: Seed of the horizontal jitter of the points in the marker figure.
JITTER_SEED = 20170

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


# --------------------------------------------------------------------------- curve data


@dataclass(frozen=True)
class _Steps:
    """A curve as drawn: the step function from (0, 1) and the censoring marks."""

    time: np.ndarray
    surv: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    censor_time: np.ndarray
    censor_surv: np.ndarray


def _ci_values(surv: Sequence[float], bound: Sequence[float | None]) -> np.ndarray:
    """CI ends; a missing end is the estimate itself where that is 0 or 1, else NaN."""
    out = np.empty(len(surv))
    for i, (s, b) in enumerate(zip(surv, bound, strict=True)):
        if b is not None and math.isfinite(b):
            out[i] = b
        elif s >= 1.0 - 1e-12 or s <= 1e-12:
            out[i] = s
        else:
            out[i] = np.nan
    return out


def _steps(curve: Curve) -> _Steps:
    time = np.asarray(curve.time, dtype=float)
    surv = np.asarray(curve.surv, dtype=float)
    lower = _ci_values(curve.surv, curve.lower)
    upper = _ci_values(curve.surv, curve.upper)
    n_censor = np.asarray(curve.n_censor, dtype=int)
    return _Steps(
        time=np.concatenate(([0.0], time)),
        surv=np.concatenate(([1.0], surv)),
        lower=np.concatenate(([1.0], lower)),
        upper=np.concatenate(([1.0], upper)),
        censor_time=np.repeat(time, n_censor),
        censor_surv=np.repeat(surv, n_censor),
    )


def numbers_at_risk(group: GroupSummary, ticks: Sequence[float]) -> tuple[int | None, ...]:
    """Number at risk (time >= t) at each tick, looked up in the group's step data.

    The group's ``n`` at t <= 0; ``n_risk`` at the first curve time >= t; 0 past the last time.
    ``None`` where the group has no curve data (except at t = 0).
    """
    curve = group.curve
    out: list[int | None] = []
    for t in ticks:
        if t <= 0:
            out.append(group.n)
        elif curve is None:
            out.append(None)
        else:
            i = int(np.searchsorted(np.asarray(curve.time, dtype=float), t, side="left"))
            out.append(int(curve.n_risk[i]) if i < len(curve.time) else 0)
    return tuple(out)


def cumulative_counts(
    group: GroupSummary, ticks: Sequence[float]
) -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
    """Cumulative events and censored patients up to and including each tick."""
    curve = group.curve
    if curve is None:
        blank = tuple(0 if t <= 0 else None for t in ticks)
        return blank, blank
    time = np.asarray(curve.time, dtype=float)
    events = np.concatenate(([0], np.cumsum(curve.n_event)))
    censored = np.concatenate(([0], np.cumsum(curve.n_censor)))
    idx = [int(np.searchsorted(time, t, side="right")) for t in ticks]
    return tuple(int(events[i]) for i in idx), tuple(int(censored[i]) for i in idx)


def _landmark(
    group: GroupSummary, landmark: float
) -> tuple[float | None, float | None, float | None]:
    """Survival (and CI) at the landmark: the stored estimate, else read off the step data."""
    lm = group.landmark
    if lm is not None and abs(lm.time - landmark) < 1e-9:
        return lm.survival, lm.lower, lm.upper
    curve = group.curve
    if curve is None or not curve.time:
        return None, None, None
    time = np.asarray(curve.time, dtype=float)
    i = int(np.searchsorted(time, landmark, side="right")) - 1
    if i < 0:
        return 1.0, None, None
    if landmark > time[-1] and curve.surv[-1] > 0:
        return None, None, None  # follow-up ends before the landmark
    return curve.surv[i], curve.lower[i], curve.upper[i]


_MONTH_STEPS = (1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0, 120.0, 240.0)
_NICE_STEPS = tuple(m * 10.0**e for e in range(-2, 5) for m in (1.0, 2.0, 5.0))


def time_ticks(t_max: float, time_unit: str = "months") -> tuple[float, ...]:
    """Ticks of the time axis: 0, step, 2 step, ... with at most 8 intervals.

    Months use multiples of 12 (or of 24, 36, ... beyond 8 years) for follow-up of 3 years or
    more, and 1, 2, 3 or 6 months for shorter follow-up; other units a 1-2-5 series. The last
    tick is the first multiple past ``t_max`` when that overshoots by no more than a quarter
    step, else the last multiple before it.
    """
    t_max = max(float(t_max), 1e-9)
    steps = _MONTH_STEPS if time_unit == "months" else _NICE_STEPS
    last = steps[-1]
    step = steps[-1]
    if time_unit == "months" and t_max >= 36:
        steps = tuple(s for s in steps if s >= 12)
    for step in steps:
        n = math.ceil(t_max / step - 1e-9)
        if n * step - t_max > 0.25 * step:
            n -= 1
        n = max(n, 1)
        last = n * step
        if n <= 8:
            break
    count = round(last / step)
    return tuple(float(step * k) for k in range(count + 1))


# --------------------------------------------------------------------------- Kaplan-Meier


def draw_km(
    ax: Axes,
    groups: Mapping[str, GroupSummary],
    *,
    colors: Colors,
    ci: bool = True,
    censor_marks: bool = True,
    ci_alpha: float | None = None,
) -> None:
    """Draw Kaplan-Meier step curves, CI bands and censor marks on ``ax``.

    Parameters
    ----------
    ax
        Target axes (time on x, survival probability on y).
    groups
        Group name -> summary with ``curve`` step data; groups without curve data are skipped.
    colors
        Group name -> colour, or a sequence of colours in group order.
    ci
        Draw the pointwise confidence interval as a translucent step band.
    censor_marks
        Draw a ``|`` mark at each censored patient's time, on the curve (one per patient).
    ci_alpha
        Opacity of the bands; default 0.14 for up to two groups, 0.09 for more.

    Notes
    -----
    Artists are labelled for inspection: the curve with the group name, the band
    ``"_ci <group>"``, the censor marks ``"_censor <group>"`` (underscore: not in legends).
    """
    cmap = _color_map(list(groups), colors)
    alpha = ci_alpha if ci_alpha is not None else (0.14 if len(groups) <= 2 else 0.09)
    for name, group in groups.items():
        if group.curve is None:
            continue
        st = _steps(group.curve)
        color = cmap[name]
        if ci and np.any(st.upper[1:] - st.lower[1:] > 0):
            ax.fill_between(
                st.time,
                st.lower,
                st.upper,
                step="post",
                color=color,
                alpha=alpha,
                linewidth=0,
                label=f"_ci {name}",
                zorder=1,
            )
        ax.plot(
            st.time,
            st.surv,
            drawstyle="steps-post",
            color=color,
            linewidth=1.2,
            label=name,
            zorder=3,
        )
        if censor_marks and st.censor_time.size:
            ax.plot(
                st.censor_time,
                st.censor_surv,
                linestyle="none",
                marker="|",
                markersize=4.0,
                markeredgewidth=0.7,
                color=color,
                label=f"_censor {name}",
                zorder=4,
                clip_on=False,
            )


def _at_risk_blocks(
    counts: bool,
) -> list[tuple[str, str, Callable[[GroupSummary, Sequence[float]], tuple[int | None, ...]]]]:
    blocks: list[
        tuple[str, str, Callable[[GroupSummary, Sequence[float]], tuple[int | None, ...]]]
    ] = [("Number at risk", "n_risk", numbers_at_risk)]
    if counts:
        blocks.append(("Cumulative events", "events", lambda g, t: cumulative_counts(g, t)[0]))
        blocks.append(("Cumulative censored", "censored", lambda g, t: cumulative_counts(g, t)[1]))
    return blocks


def _at_risk_rows(n_groups: int, counts: bool) -> int:
    return len(_at_risk_blocks(counts)) * (1 + n_groups)


def draw_at_risk(
    ax: Axes,
    groups: Mapping[str, GroupSummary],
    ticks: Sequence[float],
    *,
    colors: Colors,
    counts: bool = False,
) -> None:
    """Draw the numbers-at-risk table on ``ax`` (an axes sharing x with the curves).

    One row per group, labelled and coloured like its curve, each number centred on its tick
    (data x = tick). With ``counts``, two further blocks give the cumulative events and censored
    patients up to and including each tick. Row ``k`` is at data y = ``k`` (top row 0).

    Parameters
    ----------
    ax
        Table axes; its spines and ticks are hidden and its y limits set to fit the rows.
    groups
        Group name -> summary with ``curve`` step data.
    ticks
        The time ticks of the curve axes.
    colors
        Group name -> colour, or a sequence of colours in group order.
    counts
        Add the cumulative events and censored blocks.

    Notes
    -----
    Text artists carry labels: ``"n_risk"``, ``"events"``, ``"censored"`` for the numbers,
    ``"row"`` for the group labels, ``"heading"`` for the block headings.
    """
    fig = _figure_of(ax)
    cmap = _color_map(list(groups), colors)
    blocks = _at_risk_blocks(counts)
    table: list[tuple[str, str, str | None, tuple[int | None, ...]]] = []
    for heading, kind, fn in blocks:
        table.append(("heading", heading, None, ()))
        for name, group in groups.items():
            table.append((kind, name, cmap[name], fn(group, ticks)))
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


def _p_equals(p: float | None) -> str:
    """``P = 0.012``, ``P < 0.001``, ``P > 0.99``, ``P: n/a``."""
    text = fmt_p(p)
    if text == "n/a":
        return "P: n/a"
    if text.startswith(("<", ">")):
        return f"P {text[0]} {text[1:]}"
    return f"P = {text}"


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


_KM_MAIN_H = 2.9
_KM_GAP = 0.42
_KM_ROW = 0.155
_KM_BOTTOM = 0.08
_KM_RIGHT = 0.22
_KM_TITLE = 0.30


def km_figure(
    analysis: Analysis,
    *,
    grouping: Literal["q1", "quartiles"] = "q1",
    landmark: float = 36.0,
    counts: bool = False,
    time_unit: str = "months",
    subgroup: str | None = None,
    conf_level: float = 0.95,
    ci: bool = True,
) -> Figure:
    """Kaplan-Meier figure of one marker x endpoint analysis, with a numbers-at-risk table.

    Parameters
    ----------
    analysis
        The analysis; its groups carry the step data (``GroupSummary.curve``).
    grouping
        ``"q1"``: lowest quartile vs Q2-4 (``analysis.groups``, log-rank ``analysis.logrank``);
        ``"quartiles"``: Q1..Q4 (4-group log-rank and trend test).
    landmark
        Time of the landmark survival printed in the legend (the stored estimate when it is at
        this time, else read off the step data).
    counts
        Add cumulative events and censored patients under the numbers at risk.
    time_unit
        Unit of the time axis (results are in months).
    subgroup
        Name of a cytogenetic subgroup of ``analysis.subgroups`` (``"standard risk"``,
        ``"high risk"``): draw its Q1 vs Q2-4 curves and log-rank P instead.
    conf_level
        Level of the stored confidence intervals, for the labels.
    ci
        Draw the pointwise confidence bands (lighter with more than two groups).

    Returns
    -------
    Figure
        ``KM_WIDTH`` inches wide; axes labelled ``"km"`` (curves) and ``"at_risk"`` (table).

    Raises
    ------
    ValueError
        Unknown grouping, unknown subgroup, or quartiles asked for a subgroup.
    """
    if grouping not in ("q1", "quartiles"):
        raise ValueError(f"grouping must be 'q1' or 'quartiles', not {grouping!r}")
    ep = endpoint_label(analysis.endpoint)
    note: str | None = None
    tests: list[str]
    if subgroup is not None:
        match = [s for s in analysis.subgroups if s.name == subgroup]
        if not match:
            names = ", ".join(repr(s.name) for s in analysis.subgroups) or "none"
            raise ValueError(
                f"no subgroup {subgroup!r} in {analysis.marker} x {analysis.endpoint}"
                f" (subgroups: {names})"
            )
        if grouping != "q1":
            raise ValueError("subgroups are split Q1 vs Q2-4 only; use grouping='q1'")
        sg = match[0]
        groups = dict(sg.groups)
        tests = [_test_text("Log-rank", sg.logrank)]
        note = sg.note
        name = subgroup.replace(" risk", "-risk") if subgroup.endswith(" risk") else subgroup
        title = f"{analysis.marker}, {ep}: Q1 vs Q2-4, {name} cytogenetics"
    elif grouping == "q1":
        groups = dict(analysis.groups)
        tests = [_test_text("Log-rank", analysis.logrank)]
        title = f"{analysis.marker}, {ep}: lowest quartile (Q1) vs Q2-4"
    else:
        groups = dict(analysis.quartile_groups)
        tests = [
            _test_text("Log-rank", analysis.logrank_quartiles, df=True)
            + "; "
            + _test_text("trend", analysis.trend_quartiles)
        ]
        title = f"{analysis.marker}, {ep}: quartiles Q1–Q4"
    colors = group_colors(list(groups))
    curves = [g.curve for g in groups.values() if g.curve is not None and g.curve.time]
    t_max = max((c.time[-1] for c in curves), default=landmark)
    ticks = time_ticks(t_max, time_unit)
    x_max = max(ticks[-1], t_max)
    n_rows = _at_risk_rows(len(groups), counts)
    table_h = n_rows * _KM_ROW

    with journal_style():
        fig = _new_figure(KM_WIDTH, 5.0)
        # margins from measured text: group labels + half the widest number, y-axis labels
        num_w = _measure(fig, str(max((g.n for g in groups.values()), default=0)), SMALL_SIZE)
        label_w = max((_measure(fig, g, SMALL_SIZE) for g in groups), default=0.0)
        left = max(0.62, 0.10 + (label_w + num_w / 2 + 10.0) / 72)
        title_h = _KM_TITLE + (0.14 if note else 0.0)

        def place(header: float) -> float:
            height = title_h + header + _KM_MAIN_H + _KM_GAP + table_h + _KM_BOTTOM
            fig.set_size_inches(KM_WIDTH, height)
            w = KM_WIDTH - left - _KM_RIGHT
            ax.set_position(
                (
                    left / KM_WIDTH,
                    (_KM_BOTTOM + table_h + _KM_GAP) / height,
                    w / KM_WIDTH,
                    _KM_MAIN_H / height,
                )
            )
            tab.set_position((left / KM_WIDTH, _KM_BOTTOM / height, w / KM_WIDTH, table_h / height))
            return height

        ax = fig.add_axes((0.1, 0.5, 0.8, 0.4), label="km")
        tab = fig.add_axes((0.1, 0.05, 0.8, 0.3), sharex=ax, label="at_risk")
        height = place(0.0)

        draw_km(ax, groups, colors=colors, ci=ci)
        ax.set_xlim(0, x_max)
        ax.set_ylim(-0.02, 1.03)
        ax.xaxis.set_major_locator(FixedLocator(list(ticks)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_major_locator(FixedLocator([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%.1f"))
        ax.spines["left"].set_bounds(0, 1)
        ax.set_xlabel(f"Time ({time_unit})", labelpad=2)
        ax.set_ylabel(f"{ep} probability", labelpad=4)
        draw_at_risk(tab, groups, ticks, colors=colors, counts=counts)

        # legend + statistics block, placed where it covers no curve
        pct = f"{100 * conf_level:g}%"
        block = _Block(
            rows=[
                (
                    None,
                    [
                        ("", _DARK),
                        ("n", GREY),
                        ("Events", GREY),
                        (f"{_landmark_name(landmark, time_unit)} {ep} ({pct} CI)", GREY),
                    ],
                )
            ],
            align=["left", "right", "right", "left"],
            footer=[(t, _DARK) for t in tests],
        )
        for name, g in groups.items():
            s, lo, hi = _landmark(g, landmark)
            est = fmt_pct(s)
            if _finite(lo) and _finite(hi):
                est += f" ({fmt_pct(lo)[:-1]}–{fmt_pct(hi)})"
            block.rows.append(
                (
                    colors[name],
                    [(name, colors[name]), (str(g.n), _DARK), (str(g.events), _DARK), (est, _DARK)],
                )
            )
        _, bw, bh = block.layout(fig)
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

        chosen: tuple[float, float, float, float] | None = None
        background = False
        for ci_counts in (True, False):
            obstacles = _obstacles(ax, groups, ci_counts and ci)
            for cand in candidates:
                if not _collides(obstacles, *box_in_data(cand)):
                    chosen = cand
                    background = not ci_counts
                    break
            if chosen is not None:
                break
        header = 0.0
        if chosen is None:  # no free corner: put the block in a header above the curves
            header = (bh + 8.0) / 72
            height = place(header)
            chosen = (0.0, 1.0, 4.0, 6.0)
        fx, fy, ox, oy = chosen
        pos = ax.get_position()
        x0 = (pos.x0 + fx * pos.width) * KM_WIDTH * 72 + ox
        y0 = (pos.y0 + fy * pos.height) * height * 72 + oy
        block.draw(fig, x0, y0, background=background)

        fig.text(
            0.08 * 72,
            (height - 0.10) * 72,
            title,
            transform=_points(fig),
            ha="left",
            va="top",
            fontsize=FONT_SIZE,
            fontweight="bold",
            parse_math=False,
            label="title",
        )
        if note:
            fig.text(
                0.08 * 72,
                (height - 0.10 - 0.17) * 72,
                f"Note: {note}",
                transform=_points(fig),
                ha="left",
                va="top",
                fontsize=SMALL_SIZE - 0.5,
                color=GREY,
                parse_math=False,
                label="note",
            )
    return fig


# --------------------------------------------------------------------------- forest plots


@dataclass
class _ForestRow:
    label: str
    level: int  # 0 marker heading, 1 model heading, 2 estimate
    hr: float | None = None
    lower: float | None = None
    upper: float | None = None
    p: float | None = None
    hr_text: str | None = None
    p_text: str | None = None
    color: str = _DARK
    firth: bool = False
    indent: int | None = None  # indentation level, default: ``level``

    @property
    def depth(self) -> int:
        return self.level if self.indent is None else self.indent


_TERM_NAMES = {"cyto_high_risk": "High-risk cytogenetics", "iss": "ISS stage", "age": "Age"}


def _term_row(analysis: Analysis, name: str, term: CoxTermResult, firth: bool) -> _ForestRow:
    marker = analysis.marker
    hr, lo, hi = term.hr, term.lower, term.upper
    if name == marker:
        if term.hr_per_sd is not None and _finite(term.hr_per_sd):
            label = f"{marker}, per SD"
            hr, lo, hi = term.hr_per_sd, term.lower_per_sd, term.upper_per_sd  # type: ignore[assignment]
        else:
            unit = "per doubling" if analysis.transform == "log2" else "per unit"
            label = f"{marker}, {unit}"
        color = PALETTE[0]
    elif name.startswith(marker + " "):
        label, color = name, PALETTE[0]
    else:
        label, color = _TERM_NAMES.get(name, name), "#444444"
    if firth:
        label += f" {_DAGGER}"
    return _ForestRow(label, 2, hr, lo, hi, term.p, color=color, firth=firth)


def _model_rows(analysis: Analysis, title: str, model: CoxModel | None) -> list[_ForestRow]:
    if model is None:
        return [_ForestRow(f"{title}: not fitted (no adjusting covariates)", 1)]
    firth = model.method == "firth"
    head = f"{title} (n = {model.n}, {model.events} events)" + (f" {_DAGGER}" if firth else "")
    rows = [_ForestRow(head, 1, firth=firth)]
    rows += [_term_row(analysis, name, t, firth) for name, t in model.terms.items()]
    return rows


def _with_label(row: _ForestRow, label: str, color: str | None = None) -> _ForestRow:
    row.label = label + (f" {_DAGGER}" if row.firth else "")
    row.indent = 1
    if color is not None:
        row.color = color
    return row


def _forest_rows(results: Results, endpoint: str, kind: str) -> list[_ForestRow]:
    rows: list[_ForestRow] = []
    analyses = [a for a in results.analyses if a.endpoint == endpoint]
    if not analyses:
        raise ValueError(f"no analysis on endpoint {endpoint!r}")
    for a in analyses:
        if kind == "multivariable":
            rows.append(_ForestRow(a.marker, 0))
            rows += _model_rows(a, "Continuous marker", a.cox_multivariable)
            rows += _model_rows(a, "Q2-4 vs Q1", a.cox_group_multivariable)
        else:
            inter = a.interaction
            if inter is None:
                p, how = None, ""
            elif inter.lr_p is not None and _finite(inter.lr_p):
                p, how = inter.lr_p, "LR"
            else:
                p, how = inter.p_wald, "Wald"
            rows.append(
                _ForestRow(
                    a.marker,
                    0,
                    hr_text=f"interaction ({how})" if how else "interaction: n/a",
                    p_text=fmt_p(p) if inter is not None else "",
                )
            )
            overall = _term_row(a, a.marker, a.cox_continuous, a.cox_univariate.method == "firth")
            rows.append(
                _with_label(overall, f"All patients (n = {a.n}, {a.events} events)", "#444444")
            )
            for sg in a.subgroups:
                model = sg.cox_continuous
                text = f"{sg.name[:1].upper()}{sg.name[1:]} (n = {sg.n}, {sg.events} events)"
                if model is None or not model.terms:
                    rows.append(_ForestRow(text, 2, hr_text="not estimable", color=GREY, indent=1))
                    continue
                term = model.terms.get(a.marker) or next(iter(model.terms.values()))
                row = _term_row(a, a.marker, term, model.method == "firth")
                rows.append(_with_label(row, text))
    return rows


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


def _hr_limits(rows: Sequence[_ForestRow]) -> tuple[float, float]:
    """Axis limits: the estimates, 1 and the CIs, but no CI end beyond 10x the extreme HR."""
    hrs = [r.hr for r in rows if r.hr is not None and _finite(r.hr) and r.hr > 0]
    if not hrs:
        return 0.1, 10.0
    lo, hi = min([*hrs, 1.0]), max([*hrs, 1.0])
    lows = [r.lower for r in rows if r.lower is not None and _finite(r.lower) and r.lower > 0]
    highs = [r.upper for r in rows if r.upper is not None and _finite(r.upper)]
    xmin = max(min([*lows, lo]), lo / 10, 1e-3)
    xmax = min(max([*highs, hi]), hi * 10, 1e3)
    grid = _NICE_HR if xmax / xmin >= 10 else _LOG_GRIDS[0]
    xmin = max([v for v in grid if v <= xmin * (1 + 1e-9)], default=grid[0])
    xmax = min([v for v in grid if v >= xmax * (1 - 1e-9)], default=grid[-1])
    return xmin, xmax


def _mantissa(v: float) -> int:
    """Leading digit of a 1-2-5 value: 0.05 -> 5."""
    return round(v / 10 ** math.floor(math.log10(v) + 1e-9))


def _hr_ticks(xmin: float, xmax: float, width_in: float) -> list[float]:
    """The finest tick set whose labels are at least 0.3 in apart (at most 9 ticks)."""
    decades = math.log10(xmax / xmin)
    ticks: list[float] = []
    for grid in _LOG_GRIDS:
        ticks = [v for v in grid if xmin * (1 - 1e-9) <= v <= xmax * (1 + 1e-9)]
        if len(ticks) < 2:
            continue
        spacing = float(np.min(np.diff(np.log10(ticks)))) / decades * width_in
        if spacing >= 0.3 and len(ticks) <= 9:
            return ticks
    return ticks


def forest_figure(
    results: Results,
    endpoint: str,
    *,
    kind: Literal["multivariable", "subgroups"],
) -> Figure:
    """Forest plot of hazard ratios with 95% CIs on a log axis, for every marker on ``endpoint``.

    Parameters
    ----------
    results
        The study results.
    endpoint
        Endpoint name (``"pfs"``, ``"os"``, ...).
    kind
        ``"multivariable"``: the terms of ``cox_multivariable`` (marker per SD, cytogenetic
        risk, covariates) and ``cox_group_multivariable`` (Q2-4 vs Q1) of each marker, with n and
        events per model. ``"subgroups"``: per-SD HR in all patients and in standard- and
        high-risk cytogenetics (``Subgroup.cox_continuous``) with the interaction P.

    Returns
    -------
    Figure
        7 inches wide. Rows of Firth-fitted models end with a dagger, explained in a footnote;
        CIs beyond the axis end in an arrow at the axis limit.
    """
    if kind not in ("multivariable", "subgroups"):
        raise ValueError(f"kind must be 'multivariable' or 'subgroups', not {kind!r}")
    rows = _forest_rows(results, endpoint, kind)
    ep = endpoint_label(endpoint)
    pct = f"{100 * results.options.conf_level:g}%"
    if kind == "multivariable":
        title = f"Multivariable Cox models, {ep}"
        foot = [
            "Continuous marker: marker (HR per SD) + cytogenetic risk"
            + (" + " + ", ".join(results.options.covariates) if results.options.covariates else "")
            + "; Q2-4 vs Q1: quartile indicator + the same covariates."
        ]
    else:
        title = f"{ep}: hazard ratio per SD of the marker by cytogenetic risk"
        foot = [
            "Univariable Cox models, HR per SD of the marker. Interaction P: marker × cytogenetic "
            "risk (likelihood ratio; Wald if the LR test is not available)."
        ]
    if any(r.firth for r in rows):
        foot.append(_FIRTH_NOTE + ".")

    row_h = 0.165
    top = 0.50
    n = len(rows)
    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, 3.0)
        xl, xmax = _hr_limits(rows)
        hr_texts = []
        for r in rows:
            if r.hr_text is not None:
                hr_texts.append(r.hr_text)
            elif r.hr is not None:
                hr_texts.append(fmt_ci(r.hr, r.lower, r.upper))
            else:
                hr_texts.append("")
        p_texts = [
            r.p_text if r.p_text is not None else (fmt_p(r.p) if r.hr is not None else "")
            for r in rows
        ]
        indent = 9.0
        label_w = (
            max(
                _measure(fig, r.label, SMALL_SIZE, "bold" if r.level == 0 else "normal")
                + indent * r.depth
                for r in rows
            )
            / 72
        )
        hr_w = max(_measure(fig, t, SMALL_SIZE) for t in [*hr_texts, f"HR ({pct} CI)"]) / 72
        p_w = max(_measure(fig, t, SMALL_SIZE) for t in [*p_texts, "P"]) / 72
        x_label = 0.12
        x_plot = x_label + label_w + 0.18
        x_p_right = DOUBLE_COLUMN - 0.15
        x_hr = x_p_right - p_w - 0.22 - hr_w
        plot_w = x_hr - 0.2 - x_plot
        foot_h = 0.13 * len(foot)
        bottom = 0.42 + foot_h + 0.06
        height = top + n * row_h + bottom
        fig.set_size_inches(DOUBLE_COLUMN, height)
        ax = fig.add_axes(
            (x_plot / DOUBLE_COLUMN, bottom / height, plot_w / DOUBLE_COLUMN, n * row_h / height),
            label="forest",
        )
        ax.set_xscale("log")
        ax.set_xlim(xl, xmax)
        ax.set_ylim(n - 0.5, -0.5)
        ax.yaxis.set_major_locator(NullLocator())
        ax.spines["left"].set_visible(False)
        ticks = _hr_ticks(xl, xmax, plot_w)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.set_xlabel("Hazard ratio (log scale)", labelpad=2)
        ax.axvline(1.0, color=GREY, linewidth=0.6, linestyle=(0, (3, 2)), zorder=1)
        ax.patch.set_visible(False)
        col = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
        full = blended_transform_factory(fig.transFigure, ax.transData)

        # shade every other marker block
        block_start = [i for i, r in enumerate(rows) if r.level == 0] + [n]
        for k in range(0, len(block_start) - 1, 2):
            y0, y1 = block_start[k] - 0.5, block_start[k + 1] - 0.5
            ax.add_patch(
                Rectangle(
                    (0.05 / DOUBLE_COLUMN, y0),
                    1 - 0.1 / DOUBLE_COLUMN,
                    y1 - y0,
                    transform=full,
                    facecolor=_SHADE,
                    edgecolor="none",
                    zorder=0,
                    clip_on=False,
                )
            )
        head_y = -0.5 - 0.9
        for x, text, ha in (
            (x_hr, f"HR ({pct} CI)", "left"),
            (x_p_right, "P", "right"),
        ):
            ax.text(
                x,
                head_y,
                text,
                transform=col,
                ha=ha,
                va="center",
                fontsize=SMALL_SIZE,
                fontweight="bold",
                label="header",
            )
        arrows = False
        for i, (r, hr_t, p_t) in enumerate(zip(rows, hr_texts, p_texts, strict=True)):
            ax.text(
                x_label + indent * r.depth / 72,
                i,
                r.label,
                transform=col,
                ha="left",
                va="center",
                fontsize=SMALL_SIZE,
                fontweight="bold" if r.level == 0 else "normal",
                fontstyle="italic" if r.level == 1 else "normal",
                color=_DARK if r.level != 1 else GREY,
                label="row_label",
                parse_math=False,
            )
            if hr_t:
                ax.text(
                    x_hr,
                    i,
                    hr_t,
                    transform=col,
                    ha="left",
                    va="center",
                    fontsize=SMALL_SIZE,
                    color=_DARK if r.hr is not None else GREY,
                    label="hr_text",
                    fontstyle="italic" if r.level == 0 else "normal",
                    parse_math=False,
                )
            if p_t:
                ax.text(
                    x_p_right,
                    i,
                    p_t,
                    transform=col,
                    ha="right",
                    va="center",
                    fontsize=SMALL_SIZE,
                    color=_DARK,
                    label="p_text",
                    parse_math=False,
                )
            if r.hr is None or not _finite(r.hr):
                continue
            lo = r.lower if r.lower is not None and _finite(r.lower) and r.lower > 0 else 0.0
            hi = r.upper if r.upper is not None and _finite(r.upper) else math.inf
            a, b = max(lo, xl), min(hi, xmax)
            if a < b:
                ax.plot(
                    [a, b],
                    [i, i],
                    color=r.color,
                    linewidth=1.0,
                    solid_capstyle="butt",
                    zorder=2,
                    label="_ci",
                )
            if lo < xl:
                ax.plot(
                    [xl],
                    [i],
                    marker="<",
                    markersize=4,
                    color=r.color,
                    linestyle="none",
                    clip_on=False,
                    zorder=3,
                    label="_arrow",
                )
                arrows = True
            if hi > xmax:
                ax.plot(
                    [xmax],
                    [i],
                    marker=">",
                    markersize=4,
                    color=r.color,
                    linestyle="none",
                    clip_on=False,
                    zorder=3,
                    label="_arrow",
                )
                arrows = True
            if xl <= r.hr <= xmax:
                ax.plot(
                    [r.hr],
                    [i],
                    marker="s",
                    markersize=4.2,
                    color=r.color,
                    markeredgecolor="white" if not r.firth else r.color,
                    markerfacecolor=r.color if not r.firth else "white",
                    markeredgewidth=0.5 if not r.firth else 1.0,
                    linestyle="none",
                    zorder=4,
                    label="_hr",
                )
        if arrows:
            foot.append("Arrows: confidence interval extends beyond the axis.")
            # the height was computed for the earlier footnotes; make room for one more line
            extra = 0.13
            height += extra
            fig.set_size_inches(DOUBLE_COLUMN, height)
            bottom += extra
            ax.set_position(
                (
                    x_plot / DOUBLE_COLUMN,
                    bottom / height,
                    plot_w / DOUBLE_COLUMN,
                    n * row_h / height,
                )
            )
        fig.text(
            0.12 * 72,
            (height - 0.10) * 72,
            title,
            transform=_points(fig),
            ha="left",
            va="top",
            fontsize=FONT_SIZE,
            fontweight="bold",
            parse_math=False,
        )
        for k, line in enumerate(foot):
            fig.text(
                0.12 * 72,
                (0.08 + 0.13 * (len(foot) - 1 - k)) * 72,
                line,
                transform=_points(fig),
                ha="left",
                va="bottom",
                fontsize=SMALL_SIZE - 0.5,
                color=GREY,
                label="footnote",
                parse_math=False,
            )
    return fig


# --------------------------------------------------------------------------- marker figure


_ROMAN = {"1": "I", "2": "II", "3": "III", "I": "I", "II": "II", "III": "III"}


def _iss_order(key: str) -> tuple[int, str]:
    order = {"I": 1, "II": 2, "III": 3}
    roman = _ROMAN.get(key.strip().upper().removeprefix("ISS").strip(), "")
    return (order.get(roman, 9), key)


def _finite_values(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[np.isfinite(arr)]


def _box_panel(
    ax: Axes,
    groups: list[tuple[str, np.ndarray, str]],
    *,
    log: bool,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    positions = np.arange(1, len(groups) + 1, dtype=float)
    for pos, (_, values, color) in zip(positions, groups, strict=True):
        if values.size == 0:
            continue
        jitter = rng.uniform(-0.17, 0.17, size=values.size)
        ax.scatter(
            pos + jitter,
            values,
            s=5,
            color=color,
            alpha=0.55 if values.size < 150 else 0.35,
            linewidths=0,
            zorder=2,
            label="_points",
            rasterized=False,
        )
        ax.boxplot(
            [values],
            positions=[pos],
            widths=0.52,
            showfliers=False,
            whis=1.5,
            patch_artist=False,
            medianprops={"color": _DARK, "linewidth": 1.4},
            boxprops={"color": _DARK, "linewidth": 0.8},
            whiskerprops={"color": _DARK, "linewidth": 0.8},
            capprops={"color": _DARK, "linewidth": 0.8},
            manage_ticks=False,
            zorder=3,
        )
    ax.set_xlim(0.4, len(groups) + 0.6)
    ax.set_xticks(positions, [f"{name}\nn = {values.size}" for name, values, _ in groups])
    ax.tick_params(axis="x", length=0, pad=3)
    if log:
        ax.set_yscale("log")


def _not_available(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=SMALL_SIZE,
        color=GREY,
        label="not_available",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def marker_figure(assoc: MarkerAssociation, *, ylabel: str | None = None) -> Figure:
    """The marker by ISS stage (I/II/III) and by best response (CR/VGPR vs PR/SD).

    Box plots (median, quartiles, whiskers to 1.5 IQR) with every patient's value as a point
    (horizontal jitter from a fixed seed), n under each box, the Kruskal-Wallis and
    Jonckheere-Terpstra P on the ISS panel and the Mann-Whitney P on the response panel. A log
    axis is used when all values are positive and span more than a factor of 20. A panel without
    values says "not available".

    Parameters
    ----------
    assoc
        The marker association of a results file.
    ylabel
        Label of the value axis; default ``"<marker> expression"``.

    Returns
    -------
    Figure
        3.5 inches wide; axes labelled ``"iss"`` and ``"response"``.
    """
    iss_keys = sorted(assoc.values_by_iss, key=_iss_order)
    iss_colors = (PALETTE[0], PALETTE[3], PALETTE[1], PALETTE[4], PALETTE[5])
    iss = [
        (
            f"ISS {_ROMAN.get(k.strip().upper(), k)}" if k.strip().upper() in _ROMAN else k,
            _finite_values(assoc.values_by_iss[k]),
            iss_colors[i % len(iss_colors)],
        )
        for i, k in enumerate(iss_keys)
    ]
    resp_keys = [k for k in assoc.response_groups if k in assoc.values_by_response]
    resp_keys += [k for k in assoc.values_by_response if k not in resp_keys]
    resp_colors = (PALETTE[2], PALETTE[1], PALETTE[3], PALETTE[4])
    resp = [
        (k, _finite_values(assoc.values_by_response[k]), resp_colors[i % len(resp_colors)])
        for i, k in enumerate(resp_keys)
    ]
    all_values = np.concatenate([v for _, v, _ in iss + resp] or [np.empty(0)])
    have_iss = any(v.size for _, v, _ in iss)
    have_resp = any(v.size for _, v, _ in resp)
    log = bool(
        all_values.size and np.all(all_values > 0) and all_values.max() / all_values.min() > 20
    )

    width, height = SINGLE_COLUMN, 2.75
    left, right, gap = 0.55, 0.08, 0.22
    bottom, top = 0.42, 0.62
    avail = width - left - right - gap
    n_iss, n_resp = max(len(iss), 2), max(len(resp), 2)
    iss_lines = []
    if assoc.iss_kruskal is not None:
        iss_lines.append(_rank_text("Kruskal–Wallis", assoc.iss_kruskal.p))
    if assoc.iss_trend is not None:
        iss_lines.append(_rank_text("Jonckheere–Terpstra", assoc.iss_trend.p))
    resp_lines = []
    if assoc.response_mann_whitney is not None:
        resp_lines.append(_rank_text("Mann–Whitney", assoc.response_mann_whitney.p))
    with journal_style():
        fig = _new_figure(width, height)
        # panel widths in proportion to the boxes, but wide enough for the P-value lines
        w_iss = avail * n_iss / (n_iss + n_resp)
        need_resp = max((_measure(fig, t, SMALL_SIZE - 0.5) for t in resp_lines), default=0) / 72
        need_iss = max((_measure(fig, t, SMALL_SIZE - 0.5) for t in iss_lines), default=0) / 72
        if avail - w_iss < need_resp + 0.05:
            w_iss = max(avail - need_resp - 0.05, need_iss + 0.02 - gap, avail * 0.5)
        w_resp = avail - w_iss
        ax1 = fig.add_axes(
            (left / width, bottom / height, w_iss / width, (height - bottom - top) / height),
            label="iss",
        )
        ax2 = fig.add_axes(
            (
                (left + w_iss + gap) / width,
                bottom / height,
                w_resp / width,
                (height - bottom - top) / height,
            ),
            label="response",
        )
        if all_values.size:
            lo, hi = float(all_values.min()), float(all_values.max())
            if log:
                span = math.log10(hi / lo)
                ylim = (lo / 10 ** (0.06 * span), hi * 10 ** (0.06 * span))
            else:
                span = (hi - lo) or abs(hi) or 1.0
                ylim = (lo - 0.06 * span, hi + 0.06 * span)
        else:
            ylim = (0.0, 1.0)
        value_label = (ylabel or f"{assoc.marker} expression") + (" (log scale)" if log else "")
        n_lines = 2  # P-value lines under each panel title, so that the titles line up

        def header(ax: Axes, title: str, lines: list[str]) -> None:
            ax.text(
                0.0,
                1.0,
                title,
                transform=offset_copy(ax.transAxes, fig=fig, y=8.0 + 9.0 * n_lines, units="points"),
                ha="left",
                va="bottom",
                fontsize=FONT_SIZE,
                fontweight="bold",
                label="title",
            )
            for k, line in enumerate(lines):
                ax.text(
                    0.0,
                    1.0,
                    line,
                    transform=offset_copy(
                        ax.transAxes, fig=fig, y=6.0 + 9.0 * (n_lines - 1 - k), units="points"
                    ),
                    ha="left",
                    va="bottom",
                    fontsize=SMALL_SIZE - 0.5,
                    color=_DARK,
                    label="p_value",
                    parse_math=False,
                )

        if have_iss:
            _box_panel(ax1, iss, log=log, seed=JITTER_SEED)
            ax1.set_ylim(*ylim)
            ax1.set_ylabel(value_label)
            header(ax1, "ISS stage", iss_lines)
        else:
            _not_available(ax1, "ISS stage:\nnot available")
            header(ax1, "ISS stage", [])
        if have_resp:
            _box_panel(ax2, resp, log=log, seed=JITTER_SEED + 1)
            ax2.set_ylim(*ylim)
            if have_iss:
                ax2.tick_params(axis="y", labelleft=False)
            else:
                ax2.set_ylabel(value_label)
            header(ax2, "Best response", resp_lines)
        else:
            _not_available(ax2, "Best response:\nnot available")
            header(ax2, "Best response", [])
        if log:
            ticks = [v for v in _NICE_HR if ylim[0] <= v <= ylim[1]]
            if len(ticks) > 6:
                ticks = [v for v in ticks if _mantissa(v) in (1, 5)]
            for ax in (ax1, ax2):
                if ax.get_yscale() != "log":
                    continue
                ax.yaxis.set_major_locator(FixedLocator(ticks))
                ax.yaxis.set_minor_locator(NullLocator())
                ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    return fig


def _rank_text(name: str, p: float | None) -> str:
    return f"{name} {_p_equals(p)}"


# --------------------------------------------------------------------------- paper vs cohort


_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹"


def paper_figure(rows: Sequence[Comparison]) -> Figure:
    """Table figure "Kronke et al. 2017 vs this cohort": quantity, paper, this cohort.

    Notes of the rows become numbered footnotes; a missing reproduced value reads "n/a".

    Parameters
    ----------
    rows
        From :func:`ikaros.published.compare_with_paper`.

    Returns
    -------
    Figure
        7 inches wide, one line per row.
    """
    notes: list[str] = []
    quantities = []
    for r in rows:
        q = r.quantity
        if r.note:
            if r.note not in notes:
                notes.append(r.note)
            q += _SUPERSCRIPTS[notes.index(r.note) % len(_SUPERSCRIPTS)]
        quantities.append(q)
    header = ("Quantity", "Kronke et al. 2017", "This cohort")
    cells = [
        (q, r.published, r.reproduced if r.reproduced is not None else "n/a")
        for q, r in zip(quantities, rows, strict=True)
    ]
    row_h = 0.2
    top = 0.42
    foot = [f"{_SUPERSCRIPTS[i % len(_SUPERSCRIPTS)]} {n}" for i, n in enumerate(notes)]
    bottom = 0.1 + 0.14 * len(foot)
    height = top + row_h * (len(cells) + 1) + bottom + 0.05
    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, height)
        size = FONT_SIZE
        while True:
            widths = [
                max(
                    _measure(fig, header[j], size, "bold"),
                    *(_measure(fig, c[j], size) for c in cells),
                )
                / 72
                for j in range(3)
            ]
            if sum(widths) + 2 * 0.3 + 0.3 <= DOUBLE_COLUMN or size <= 6:
                break
            size -= 0.5
        gap = min(0.6, max(0.3, (DOUBLE_COLUMN - 0.3 - sum(widths)) / 3))
        x = [0.15, 0.15 + widths[0] + gap, 0.15 + widths[0] + widths[1] + 2 * gap]
        right = DOUBLE_COLUMN - 0.15
        pts = _points(fig)
        y_top = height - top

        def rule(y: float, lw: float) -> None:
            fig.add_artist(
                Line2D(
                    [x[0] * 72, right * 72],
                    [y * 72, y * 72],
                    transform=pts,
                    color=_DARK,
                    linewidth=lw,
                )
            )

        fig.text(
            x[0] * 72,
            (height - 0.12) * 72,
            "Kronke et al. 2017 vs this cohort",
            transform=pts,
            ha="left",
            va="top",
            fontsize=FONT_SIZE + 1,
            fontweight="bold",
        )
        rule(y_top, 0.8)
        for j, h in enumerate(header):
            fig.text(
                x[j] * 72,
                (y_top - row_h / 2) * 72,
                h,
                transform=pts,
                ha="left",
                va="center_baseline",
                fontsize=size,
                fontweight="bold",
                label="header",
            )
        rule(y_top - row_h, 0.5)
        for i, c in enumerate(cells):
            yc = y_top - row_h * (i + 1.5)
            if i % 2 == 1:
                fig.add_artist(
                    Rectangle(
                        (x[0] * 72, (yc - row_h / 2) * 72),
                        (right - x[0]) * 72,
                        row_h * 72,
                        transform=pts,
                        facecolor=_SHADE,
                        edgecolor="none",
                        zorder=0,
                    )
                )
            for j, text in enumerate(c):
                missing = j == 2 and rows[i].reproduced is None
                fig.text(
                    x[j] * 72,
                    yc * 72,
                    text,
                    transform=pts,
                    ha="left",
                    va="center_baseline",
                    fontsize=size,
                    color=GREY if missing else _DARK,
                    label=("quantity", "paper", "cohort")[j],
                    parse_math=False,
                )
        rule(y_top - row_h * (len(cells) + 1), 0.8)
        for k, line in enumerate(foot):
            fig.text(
                x[0] * 72,
                (bottom - 0.06 - 0.14 * (k + 1) + 0.06) * 72,
                line,
                transform=pts,
                ha="left",
                va="bottom",
                fontsize=SMALL_SIZE - 0.5,
                color=GREY,
                label="footnote",
                parse_math=False,
            )
    return fig


# --------------------------------------------------------------------------- saving


def save_figure(fig: Figure, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write ``stem.png`` (300 dpi) and ``stem.svg`` (text as text) into ``directory``.

    The bytes depend only on the figure: no date or software version is written, and SVG ids
    are salted with a constant.

    Parameters
    ----------
    fig
        A figure of this module.
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
