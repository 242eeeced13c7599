"""Figures of the degradation-threshold model (``ikaros model``), drawn from its result only.

* :func:`trajectories_figure` -- the Oncotarget letter's Figure 1 made quantitative: plasma
  lenalidomide over the simulated cycles and the protein of a low, a median and a high expresser
  against the critical level theta.
* :func:`model_km_figure` -- Kaplan-Meier curves of the predicted sensitive and resistant groups,
  with numbers at risk (reusing :func:`~ikaros.report.figures.km.draw_km` and
  :func:`~ikaros.report.figures.km.draw_at_risk`).
* :func:`dose_response_figure` -- critical relative mRNA and sensitive fraction by daily dose,
  one line per schedule.
* :func:`tornado_figure` -- the one-at-a-time sensitivity analysis of the critical mRNA.
* :func:`theta_profile_figure` -- the profile likelihood of theta when it was fitted.

Every number comes from :class:`ikaros.model.result.ModelResult`; nothing is recomputed here.
Figures are :class:`matplotlib.figure.Figure` objects (no pyplot) built inside the journal style.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter, NullLocator

from ikaros.model.result import ClassSummary, ModelResult, TrajectorySample
from ikaros.report.figures._common import _new_figure
from ikaros.report.figures.km import draw_at_risk, draw_km
from ikaros.report.figures.km_data import time_ticks
from ikaros.report.style import GREY, PALETTE, SMALL_SIZE, endpoint_label, fmt_p, journal_style
from ikaros.results import GroupSummary, LandmarkResult, MedianResult

__all__ = [
    "dose_response_figure",
    "model_km_figure",
    "theta_profile_figure",
    "tornado_figure",
    "trajectories_figure",
]

_DARK = "#222222"
#: low, median and high expresser; sensitive and resistant
_LEVEL_COLORS = (PALETTE[0], GREY, PALETTE[1])
_CLASS_COLORS = {"sensitive": PALETTE[0], "resistant": PALETTE[1]}
_SCHEDULE_COLORS = (PALETTE[2], PALETTE[4], PALETTE[3], PALETTE[5])


def _schedule_text(schedule: str) -> str:
    if schedule == "continuous":
        return "every day"
    on, length = schedule.split("/")
    return f"days 1-{on} of {length}"


def _regimen(result: ModelResult) -> str:
    o = result.options
    return f"{o.dose_mg:g} mg daily, {_schedule_text(o.schedule)}"


def _fmt_m(x: float) -> str:
    return f"{x:.2f}" if 0.1 <= x < 10 else f"{x:.3g}"


#: Height (inches) of the title block: a bold title and up to two lines of subtitle.
_HEADER = 0.62


def _title(fig: Figure, text: str, sub: str = "") -> None:
    """Bold title and a grey subtitle wrapped to the figure width, at the top-left corner."""
    height = fig.get_figheight()
    fig.text(
        0.08 / fig.get_figwidth(),
        1 - 0.08 / height,
        text,
        ha="left",
        va="top",
        fontweight="bold",
        parse_math=False,
        label="title",
    )
    if sub:
        width = int(fig.get_figwidth() * 72 / (SMALL_SIZE * 0.6))
        fig.text(
            0.08 / fig.get_figwidth(),
            1 - 0.27 / height,
            textwrap.fill(sub, width),
            ha="left",
            va="top",
            fontsize=SMALL_SIZE,
            color=GREY,
            parse_math=False,
            label="subtitle",
            linespacing=1.25,
        )


def trajectories_figure(result: ModelResult) -> Figure:
    """Drug concentration (top) and protein of three expressers against theta (bottom).

    The protein panel shows ``P(t) = m P1(t)`` for the cohort's lowest-quartile midpoint, median
    and highest-quartile midpoint of the relative mRNA ``m`` on a log scale, where the three are
    the same curve shifted by ``log m``; the dashed line is theta. The legend gives each level's
    nadir and hours below theta in the classified cycle.
    """
    o = result.options
    days = np.asarray(result.trajectory_days)
    theta = result.parameter("theta").value
    cycle_days = days[-1] / o.n_cycles
    width, height = 7.0, 5.6
    legend_h = 0.62
    with journal_style():
        fig = _new_figure(width, height)
        bottom = legend_h + 0.42
        prot_h = 2.55
        conc_h = height - _HEADER - 0.12 - bottom - prot_h - 0.12
        ax = fig.add_axes((0.1, bottom / height, 0.87, prot_h / height), label="protein")
        top = fig.add_axes(
            (0.1, (bottom + prot_h + 0.12) / height, 0.87, conc_h / height),
            sharex=ax,
            label="concentration",
        )
        top.plot(days, result.concentration, color=_DARK, lw=0.6)
        top.set_ylabel("Lenalidomide\n(ng/mL)")
        top.set_ylim(0, max(result.concentration) * 1.12)
        top.tick_params(labelbottom=False)
        for c in range(o.n_cycles):
            start = c * cycle_days
            off = start + _days_on(o.schedule, cycle_days)
            if off < start + cycle_days - 1e-9:
                for a in (top, ax):
                    a.axvspan(off, start + cycle_days, color="#EFEFEF", lw=0, zorder=0)
        handles = []
        for sample, color in zip(result.trajectories, _LEVEL_COLORS, strict=True):
            (line,) = ax.plot(days, sample.protein, color=color, lw=0.8)
            handles.append(line)
        ax.axhline(theta, color=_DARK, lw=0.9, ls=(0, (4, 3)), zorder=4)
        ax.text(
            days[-1],
            theta * 0.93,
            f"theta = {theta:g} ",
            va="top",
            ha="right",
            fontsize=SMALL_SIZE,
            color=_DARK,
            parse_math=False,
        )
        lows = [min(s.protein) for s in result.trajectories] + [theta]
        highs = [max(s.protein) for s in result.trajectories]
        ax.set_yscale("log")
        y0, y1 = min(lows) / 1.5, max(highs) * 1.5
        ax.set_ylim(y0, y1)
        ticks = [t for t in _LOG_TICKS if y0 <= t <= y1]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(0, days[-1])
        step = 7.0 if days[-1] <= 112 else 14.0
        ax.xaxis.set_major_locator(FixedLocator(list(np.arange(0, days[-1] + 1e-9, step))))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.set_xlabel("Days from the first dose")
        ax.set_ylabel(f"{o.marker} protein (relative to the\nuntreated median patient; log)")
        fig.legend(
            handles,
            [_sample_label(s) for s in result.trajectories],
            loc="lower left",
            bbox_to_anchor=(0.1, 0.02),
            frameon=False,
            fontsize=SMALL_SIZE,
            handlelength=1.8,
        )
        _title(
            fig,
            f"{o.marker} protein under lenalidomide {_regimen(result)}",
            "m = relative mRNA (expression / cohort median). Grey: days without drug. A patient "
            f"is predicted sensitive when the protein stays below theta for at least "
            f"{result.parameter('min_hours_below').value:g} h in cycle "
            f"{o.classified_on_cycle}, i.e. when m < m* = {_fmt_m(result.critical_m)}.",
        )
    return fig


_LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)


def _days_on(schedule: str, cycle_days: float) -> float:
    if schedule == "continuous":
        return cycle_days
    on, _ = schedule.split("/")
    return float(on)


def _sample_label(s: TrajectorySample) -> str:
    verdict = "predicted sensitive" if s.sensitive else "predicted resistant"
    return (
        f"{s.label}, m = {_fmt_m(s.m)}: nadir {s.nadir:.3f}, {s.hours_below:.0f} h below theta "
        f"per cycle ({verdict})"
    )


def _group(c: ClassSummary, landmark: float) -> GroupSummary:
    return GroupSummary(
        n=c.n,
        events=c.events,
        landmark=LandmarkResult(
            time=landmark,
            survival=c.landmark if c.landmark is not None else math.nan,
            lower=c.landmark_lower,
            upper=c.landmark_upper,
            n_risk=0,
            ci_method="log-log",
        ),
        median=MedianResult(c.median, None, None),
        curve=c.curve,
    )


def model_km_figure(result: ModelResult) -> Figure:
    """Kaplan-Meier curves of the predicted classes with numbers at risk and the log-rank P."""
    o = result.options
    groups = {c.label: _group(c, o.landmark_months) for c in result.classes if c.n > 0}
    colors = {k: _CLASS_COLORS[k] for k in groups}
    t_max = max(
        (c.curve.time[-1] for c in result.classes if c.curve and c.curve.time),
        default=o.landmark_months,
    )
    ticks = time_ticks(t_max)
    ep = endpoint_label(o.endpoint)
    rows = 1 + len(groups)
    width, height = 5.5, 4.9
    table_h = 0.16 * rows
    main_h = height - _HEADER - 0.1 - table_h - 0.55 - 0.1
    with journal_style():
        fig = _new_figure(width, height)
        ax = fig.add_axes(
            (0.15, (0.1 + table_h + 0.55) / height, 0.80, main_h / height), label="km"
        )
        tab = fig.add_axes((0.15, 0.1 / height, 0.80, table_h / height), sharex=ax, label="at_risk")
        draw_km(ax, groups, colors=colors, ci=True)
        ax.set_xlim(0, max(ticks[-1], t_max))
        ax.set_ylim(-0.02, 1.03)
        ax.xaxis.set_major_locator(FixedLocator(list(ticks)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_major_locator(FixedLocator([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
        ax.set_xlabel("Time (months)", labelpad=2)
        ax.set_ylabel(f"{ep} probability")
        draw_at_risk(tab, groups, ticks, colors=colors)
        handles = [h for h in ax.get_lines() if not str(h.get_label()).startswith("_")]
        labels = []
        for h in handles:
            c = next(x for x in result.classes if x.label == h.get_label())
            lm = "n/a" if c.landmark is None else f"{100 * c.landmark:.0f}%"
            labels.append(
                f"predicted {c.label}: n = {c.n}, {c.events} events, "
                f"{o.landmark_months:g}-month {ep} {lm}"
            )
        p = (
            f"log-rank P = {fmt_p(result.logrank_p)}"
            if result.logrank_p is not None
            else f"log-rank test {result.logrank_note}"
        )
        ax.legend(
            handles,
            labels,
            loc="lower left",
            frameon=False,
            fontsize=SMALL_SIZE,
            title=p,
            title_fontsize=SMALL_SIZE,
            alignment="left",
        )
        _title(
            fig,
            f"{ep} by predicted lenalidomide sensitivity ({o.marker} model)",
            f"{_regimen(result)}; theta = {result.parameter('theta').value:g}, critical "
            f"relative mRNA m* = {_fmt_m(result.critical_m)}. The classes come from the model, "
            "not from the outcome.",
        )
    return fig


def dose_response_figure(result: ModelResult) -> Figure:
    """Critical relative mRNA (left) and predicted sensitive fraction (right) by daily dose."""
    o = result.options
    with journal_style():
        height = 3.5
        fig = _new_figure(7.0, height)
        box_h = (height - _HEADER - 0.3 - 0.45) / height
        left = fig.add_axes((0.08, 0.45 / height, 0.38, box_h), label="critical_m")
        right = fig.add_axes((0.58, 0.45 / height, 0.38, box_h), label="fraction")
        for sched, color in zip(o.schedules, _SCHEDULE_COLORS, strict=False):
            rows = [r for r in result.dose_response if r.schedule == sched]
            dose = [r.dose_mg for r in rows]
            name = _schedule_text(sched)
            left.plot(
                dose,
                [r.critical_m for r in rows],
                marker="o",
                ms=3.5,
                color=color,
                lw=1.1,
                label=name,
            )
            right.plot(
                dose,
                [100 * r.sensitive_fraction for r in rows],
                marker="o",
                ms=3.5,
                color=color,
                lw=1.1,
                drawstyle="default",
                label=name,
            )
        chosen = [
            r for r in result.dose_response if r.schedule == o.schedule and r.dose_mg == o.dose_mg
        ]
        for r in chosen:
            left.plot(
                [r.dose_mg],
                [r.critical_m],
                marker="o",
                ms=7,
                mfc="none",
                color=_DARK,
                lw=0,
                label="analysed regimen",
            )
            right.plot(
                [r.dose_mg],
                [100 * r.sensitive_fraction],
                marker="o",
                ms=7,
                mfc="none",
                color=_DARK,
                lw=0,
            )
        doses = sorted({r.dose_mg for r in result.dose_response})
        for a in (left, right):
            a.xaxis.set_major_locator(FixedLocator(doses))
            a.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            a.set_xlabel("Daily lenalidomide dose (mg)")
            a.set_xlim(0, max(doses) * 1.06)
        left.set_ylim(0, max(r.critical_m for r in result.dose_response) * 1.15)
        left.set_ylabel("Critical relative mRNA m*")
        left.set_title("Highest mRNA still degraded below theta", loc="left", fontsize=SMALL_SIZE)
        right.set_ylim(0, 100)
        right.set_ylabel(f"Predicted sensitive (% of {len(result.patients)})")
        right.set_title("Cohort predicted sensitive", loc="left", fontsize=SMALL_SIZE)
        left.legend(loc="upper left", frameon=False, fontsize=SMALL_SIZE)
        _title(
            fig,
            f"{o.marker}: dose and schedule (theta = {result.parameter('theta').value:g})",
            f"patients with m < m* are predicted sensitive; "
            f"{result.parameter('min_hours_below').value:g} h below theta per cycle required",
        )
    return fig


def tornado_figure(result: ModelResult) -> Figure:
    """Critical relative mRNA with each uncertain parameter at the ends of its range."""
    o = result.options
    rows = result.tornado
    n = len(rows)
    height = _HEADER + 0.75 + 0.3 * n
    base = result.critical_m
    with journal_style():
        fig = _new_figure(7.0, height)
        ax = fig.add_axes(
            (0.30, 0.5 / height, 0.58, (height - 0.5 - _HEADER - 0.15) / height), label="tornado"
        )
        values = [base]
        for i, r in enumerate(rows):
            y = n - 1 - i
            for value, end, frac, color in (
                (r.critical_m_low, r.low, r.fraction_low, PALETTE[0]),
                (r.critical_m_high, r.high, r.fraction_high, PALETTE[1]),
            ):
                lo, hi = sorted((base, value))
                ax.barh(y, hi - lo, left=lo, height=0.62, color=color, alpha=0.85, lw=0)
                side = "left" if value >= base else "right"
                ax.text(
                    value,
                    y,
                    f" {end:g} ({100 * frac:.0f}%) ",
                    ha=side,
                    va="center",
                    fontsize=SMALL_SIZE - 0.5,
                    color=_DARK,
                    parse_math=False,
                )
                values.append(value)
        ax.axvline(base, color=_DARK, lw=0.8)
        ax.set_xscale("log")
        lo, hi = min(values), max(values)
        ax.set_xlim(lo / 1.6, hi * 1.6)
        ticks = [t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10) if lo / 1.6 <= t <= hi * 1.6]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(range(n))
        ax.set_yticklabels([_range_label(result, r.parameter) for r in reversed(rows)])
        ax.set_ylim(-0.6, n - 0.4)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"Critical relative mRNA m* (base {_fmt_m(base)}; log scale)")
        _title(
            fig,
            f"{o.marker}: sensitivity of the prediction to the uncertain parameters",
            f"{_regimen(result)}. Each parameter at the low (blue) and high (vermillion) end of "
            "its plausible range, the others at their values; bar labels: the value used and "
            "the % of the cohort then predicted sensitive.",
        )
    return fig


def _range_label(result: ModelResult, name: str) -> str:
    p = result.parameter(name)
    unit = "" if p.unit == "1" else f" {p.unit}"
    return f"{p.symbol or p.name} {p.low:g}-{p.high:g}{unit} (base {p.value:g})"


def theta_profile_figure(result: ModelResult) -> Figure:
    """Profile likelihood-ratio statistic of the cut on the score (theta), if it was fitted."""
    fit = result.theta_fit
    if fit is None or fit.theta is None or not fit.profile:
        raise ValueError("the result has no fitted theta")
    o = result.options
    cut = np.array([p.cut for p in fit.profile])
    lr = np.array([p.lr_statistic for p in fit.profile])
    with journal_style():
        height = 3.6
        fig = _new_figure(5.5, height)
        ax = fig.add_axes(
            (0.12, 0.5 / height, 0.84, (height - 0.5 - _HEADER - 0.1) / height), label="profile"
        )
        ax.plot(cut, lr, color=PALETTE[0], lw=0.8, marker="o", ms=2.5)
        ax.axvline(
            fit.theta,
            color=PALETTE[1],
            lw=0.9,
            label=f"estimate theta = {fit.theta:.3g} (m* = {_fmt_m(fit.critical_m or math.nan)})",
        )
        ax.axvline(
            result.parameter("theta").value,
            color=GREY,
            lw=0.9,
            ls="--",
            label=f"assumed theta = {result.parameter('theta').value:g}",
        )
        if fit.support_lower is not None and fit.support_upper is not None:
            ax.axvspan(
                fit.support_lower,
                fit.support_upper,
                color=PALETTE[1],
                alpha=0.10,
                lw=0,
                label="likelihood support set",
            )
        ax.set_xlabel("Cut on the score m q (protein level, relative to the untreated median)")
        ax.set_ylabel("Likelihood-ratio statistic")
        ax.set_ylim(0, max(lr.max() * 1.15, 1.0))
        ax.legend(loc="upper right", frameon=False, fontsize=SMALL_SIZE)
        _title(
            fig,
            f"{o.marker}: theta fitted to {endpoint_label(o.endpoint)} by profile likelihood",
            f"search-corrected P = {fmt_p(fit.p_lau94)} (Lau94)"
            + (
                f", {fmt_p(fit.p_permutation)} (permutation, B = {fit.n_permutations})"
                if fit.p_permutation is not None
                else ""
            ),
        )
    return fig
