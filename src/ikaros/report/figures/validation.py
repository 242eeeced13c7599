"""Figures of the treatment-by-marker and multi-cohort validation analyses.

* :func:`treatment_by_marker_forest`: treatment HR within marker groups and marker HR within
  arms, with patients (events) per compared level, and the interaction and Gail-Simon P;
* :func:`stepp_figure`: STEPP, the survival difference at the landmark and the hazard ratio
  along the marker, with pointwise and simultaneous bands and the permutation P;
* :func:`meta_forest` / :func:`multicohort_forest`: the per-cohort hazard ratios with weights,
  the fixed- and random-effects diamonds and the prediction interval, with the heterogeneity.

All return :class:`matplotlib.figure.Figure` objects (no pyplot state).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from ikaros.report.figures._common import _LOG_GRIDS, _new_figure
from ikaros.report.style import (
    DOUBLE_COLUMN,
    GREY,
    PALETTE,
    SMALL_SIZE,
    fmt_ci,
    fmt_p,
    journal_style,
)
from ikaros.validation.meta import MetaAnalysis
from ikaros.validation.multicohort import Validation
from ikaros.validation.predictive import TreatmentByMarker
from ikaros.validation.stepp import SteppResult

__all__ = ["meta_forest", "multicohort_forest", "stepp_figure", "treatment_by_marker_forest"]

_DARK = "#222222"


@dataclass
class _Row:
    label: str
    kind: str  # "head", "est", "diamond", "pi", "text"
    counts: str = ""
    hr: float | None = None
    lower: float | None = None
    upper: float | None = None
    right: str = ""
    p: str = ""
    color: str = _DARK
    extra: str = ""


def _ok(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0


def _limits(rows: Sequence[_Row]) -> tuple[float, float]:
    vals = [1.0]
    for r in rows:
        vals += [float(v) for v in (r.hr, r.lower, r.upper) if v is not None and _ok(v)]
    lo, hi = min(vals), max(vals)
    centre = [float(r.hr) for r in rows if r.hr is not None and _ok(r.hr)] or [1.0]
    lo = max(lo, min(centre) / 20)
    hi = min(hi, max(centre) * 20)
    grid = _LOG_GRIDS[1]
    lo = max([v for v in grid if v <= lo * (1 + 1e-9)], default=grid[0])
    hi = min([v for v in grid if v >= hi * (1 - 1e-9)], default=grid[-1])
    return lo, hi


def _ticks(lo: float, hi: float) -> list[float]:
    for grid in _LOG_GRIDS:
        ticks = [v for v in grid if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]
        if 3 <= len(ticks) <= 7:
            return ticks
    return [v for v in _LOG_GRIDS[0] if lo <= v <= hi] or [lo, 1.0, hi]


def _forest(
    rows: Sequence[_Row],
    *,
    title: str,
    count_head: str,
    right_head: str,
    foot: Sequence[str],
    extra_head: str = "",
) -> Figure:
    """Generic forest: label | counts | log-HR axis | HR (CI) text | [extra] | P."""
    row_h, top = 0.18, 0.55
    n = len(rows)
    foot_h = 0.14 * len(foot)
    bottom = 0.45 + foot_h
    height = top + n * row_h + bottom
    width = DOUBLE_COLUMN
    with journal_style():
        fig = _new_figure(width, height)
        if extra_head:  # leave room for the extra column between the HR text and P
            x_label, x_counts, x_plot, plot_w = 0.1, 2.25, 3.3, 1.45
        else:
            x_label, x_counts, x_plot, plot_w = 0.1, 2.35, 3.6, 1.75
        x_right, x_p = x_plot + plot_w + 0.12, width - 0.12
        x_extra = x_right + 1.35
        ax = fig.add_axes(
            (x_plot / width, bottom / height, plot_w / width, n * row_h / height), label="forest"
        )
        lo, hi = _limits(rows)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(n - 0.5, -0.5)
        ax.yaxis.set_major_locator(NullLocator())
        ax.spines["left"].set_visible(False)
        ax.xaxis.set_major_locator(FixedLocator(_ticks(lo, hi)))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.set_xlabel("Hazard ratio (log scale)", labelpad=2)
        ax.axvline(1.0, color=GREY, linewidth=0.6, linestyle=(0, (3, 2)), zorder=1)
        col = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
        head_y = -1.3
        for x, text, ha in (
            (x_counts, count_head, "left"),
            (x_right, right_head, "left"),
            (x_extra, extra_head, "right"),
            (x_p, "P", "right"),
        ):
            if not text:
                continue
            ax.text(
                x,
                head_y,
                text,
                transform=col,
                ha=ha,
                va="center",
                fontsize=SMALL_SIZE,
                fontweight="bold",
                clip_on=False,
            )
        for i, r in enumerate(rows):
            bold = r.kind in ("head", "diamond")
            ax.text(
                x_label + (0.0 if r.kind == "head" else 0.12),
                i,
                r.label,
                transform=col,
                ha="left",
                va="center",
                fontsize=SMALL_SIZE,
                fontweight="bold" if bold else "normal",
                color=r.color,
                clip_on=False,
                parse_math=False,
            )
            for x, text, ha in (
                (x_counts, r.counts, "left"),
                (x_right, r.right, "left"),
                (x_extra, r.extra, "right"),
                (x_p, r.p, "right"),
            ):
                if text:
                    ax.text(
                        x,
                        i,
                        text,
                        transform=col,
                        ha=ha,
                        va="center",
                        fontsize=SMALL_SIZE,
                        color=_DARK,
                        clip_on=False,
                        parse_math=False,
                    )
            if not _ok(r.hr):
                continue
            hr = float(r.hr)  # type: ignore[arg-type]
            lo_ci = max(float(r.lower), lo) if _ok(r.lower) else None  # type: ignore[arg-type]
            hi_ci = min(float(r.upper), hi) if _ok(r.upper) else None  # type: ignore[arg-type]
            if r.kind == "diamond" and lo_ci is not None and hi_ci is not None:
                ax.add_patch(
                    Polygon(
                        [(lo_ci, i), (hr, i - 0.32), (hi_ci, i), (hr, i + 0.32)],
                        closed=True,
                        facecolor=r.color,
                        edgecolor=r.color,
                        zorder=3,
                    )
                )
            elif r.kind == "pi" and lo_ci is not None and hi_ci is not None:
                ax.plot(
                    [lo_ci, hi_ci],
                    [i, i],
                    color=r.color,
                    linewidth=2.2,
                    zorder=3,
                    solid_capstyle="butt",
                )
                ax.plot([hr], [i], marker="|", color="white", markersize=6, zorder=4)
            else:
                if lo_ci is not None and hi_ci is not None:
                    ax.plot([lo_ci, hi_ci], [i, i], color=r.color, linewidth=1.0, zorder=2)
                ax.plot([hr], [i], marker="s", color=r.color, markersize=4.5, zorder=3)
            if r.kind != "diamond":  # an interval beyond the axis: an arrowhead at its edge
                for end, edge, mark in ((r.lower, lo, "<"), (r.upper, hi, ">")):
                    beyond = end < edge if mark == "<" else end > edge  # type: ignore[operator]
                    if _ok(end) and beyond:
                        ax.plot(
                            [edge], [i], marker=mark, color=r.color, markersize=4.5,
                            zorder=4, clip_on=False,
                        )  # fmt: skip
        fig.text(
            0.1 / width,
            1 - 0.2 / height,
            title,
            ha="left",
            va="center",
            fontsize=SMALL_SIZE + 1.5,
            fontweight="bold",
        )
        for j, line in enumerate(foot):
            fig.text(
                0.1 / width,
                (0.12 + 0.14 * (len(foot) - 1 - j)) / height,
                line,
                ha="left",
                va="center",
                fontsize=SMALL_SIZE - 0.5,
                color=GREY,
                parse_math=False,
            )
    return fig


def _p_is(p: float | None) -> str:
    text = fmt_p(p)
    return text if text[:1] in "<>" else f"= {text}"


def _levels(n_by: Mapping[str, int], ev_by: Mapping[str, int]) -> str:
    return " · ".join(f"{k}: {n_by[k]} ({ev_by[k]})" for k in n_by)


def treatment_by_marker_forest(
    result: TreatmentByMarker, *, endpoint: str = "", cut_text: str | None = None
) -> Figure:
    """Forest of the treatment-by-marker analysis (rows: subgroup effects, n (events) per level).

    Parameters
    ----------
    result
        From :func:`ikaros.validation.predictive.treatment_by_marker`.
    endpoint
        Endpoint label for the title.
    cut_text
        How the cut is named in the interaction footnote (default ``cut at <cut>``, the cut on
        the analysis scale).

    Returns
    -------
    Figure
    """
    r = result
    rows: list[_Row] = [_Row(f"Treatment effect, {r.active} vs {r.reference}", "head")]
    for eff in r.treatment_within_marker:
        rows.append(
            _Row(
                f"{r.marker} {eff.within}",
                "est",
                _levels(eff.n_by_level, eff.events_by_level),
                eff.hr,
                eff.lower,
                eff.upper,
                fmt_ci(eff.hr, eff.lower, eff.upper) if eff.hr is not None else "not estimable",
                fmt_p(eff.p),
                PALETTE[0],
            )
        )
    hi_lab, lo_lab = r.group_labels[1], r.group_labels[0]
    rows.append(_Row(f"Marker effect, {r.marker} {hi_lab} vs {lo_lab}", "head"))
    for eff in r.marker_within_treatment:
        if eff.effect != "marker (cut)":
            continue
        rows.append(
            _Row(
                f"{r.treatment} {eff.within}",
                "est",
                _levels(eff.n_by_level, eff.events_by_level),
                eff.hr,
                eff.lower,
                eff.upper,
                fmt_ci(eff.hr, eff.lower, eff.upper) if eff.hr is not None else "not estimable",
                fmt_p(eff.p),
                PALETTE[1],
            )
        )
    unit = "per doubling" if r.scale == "log2" else "per unit"
    rows.append(_Row(f"Marker effect, {r.marker} {unit}", "head"))
    for eff in r.marker_within_treatment:
        if eff.effect != "marker (continuous)":
            continue
        rows.append(
            _Row(
                f"{r.treatment} {eff.within}",
                "est",
                f"{eff.n} ({eff.events})",
                eff.hr,
                eff.lower,
                eff.upper,
                fmt_ci(eff.hr, eff.lower, eff.upper) if eff.hr is not None else "not estimable",
                fmt_p(eff.p),
                PALETTE[2],
            )
        )
    foot = []
    cut_what = cut_text if cut_text is not None else f"cut at {r.cut:.4g}"
    for model, what in ((r.continuous, unit), (r.cut_model, cut_what)):
        if model is None:
            continue
        p = model.lr_p if model.lr_p is not None else model.interaction.p
        how = "LR" if model.lr_p is not None else "Wald"
        foot.append(
            f"Interaction {r.marker} ({what}) × {r.treatment}: HR "
            f"{fmt_ci(model.interaction.hr, model.interaction.lower, model.interaction.upper)}"
            f", P {_p_is(p)} ({how})."
        )
    if r.gail_simon is not None:
        foot.append(
            f"Gail-Simon test of a qualitative (sign-changing) interaction: "
            f"P {_p_is(r.gail_simon.p)}. Exploratory analysis."
        )
    pct = f"{100 * r.conf_level:g}%"
    title = f"{endpoint + ': ' if endpoint else ''}{r.treatment} by {r.marker}"
    return _forest(
        rows, title=title, count_head="n (events)", right_head=f"HR ({pct} CI)", foot=foot
    )


def stepp_figure(
    result: SteppResult,
    *,
    endpoint: str = "",
    time_unit: str = "months",
    xlabel: str | None = None,
) -> Figure:
    """STEPP: survival difference at the landmark and HR by window (median marker value).

    Parameters
    ----------
    result
        From :func:`ikaros.validation.stepp.stepp`.
    endpoint, time_unit
        Labels.
    xlabel
        Label of the marker axes (default ``<marker> (median of subpopulation)``).

    Returns
    -------
    Figure
        Two panels sharing the marker axis; shaded pointwise and dashed simultaneous bands,
        the overall estimate as a dotted line, subpopulation sizes along the top.
    """
    r = result
    x = np.array([w.marker_median for w in r.windows])
    pct = f"{100 * r.conf_level:g}%"
    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, 3.6)
        axes = (fig.add_axes((0.09, 0.24, 0.38, 0.6)), fig.add_axes((0.59, 0.24, 0.38, 0.6)))
        panels = (
            (
                "diff",
                f"{r.landmark:g}-{time_unit[:-1] if time_unit.endswith('s') else time_unit}"
                f" survival, {r.active} − {r.reference}",
                r.test_diff,
                0.0,
                False,
            ),
            ("hr", f"Hazard ratio, {r.active} vs {r.reference}", r.test_hr, 1.0, True),
        )
        for ax, (kind, ylabel, test, null, _log) in zip(axes, panels, strict=True):
            if kind == "diff":
                est = np.array([w.diff for w in r.windows])
                lo = np.array([w.diff_lower for w in r.windows])
                hi = np.array([w.diff_upper for w in r.windows])
                slo = np.array([w.diff_lower_simultaneous for w in r.windows])
                shi = np.array([w.diff_upper_simultaneous for w in r.windows])
                overall = r.overall.diff
            else:
                est = np.array([w.hr for w in r.windows])
                lo = np.array([w.hr_lower for w in r.windows])
                hi = np.array([w.hr_upper for w in r.windows])
                slo = np.array([w.hr_lower_simultaneous for w in r.windows])
                shi = np.array([w.hr_upper_simultaneous for w in r.windows])
                overall = r.overall.hr
                ax.set_yscale("log")
                finite = [v for v in (*slo, *shi, 1.0) if math.isfinite(v) and v > 0]
                ylo, yhi = min(finite) / 1.1, max(finite) * 1.1
                ax.set_ylim(ylo, yhi)
                ax.yaxis.set_major_locator(FixedLocator(_ticks(ylo, yhi)))
                ax.yaxis.set_minor_locator(NullLocator())
                ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            color = PALETTE[0]
            ax.fill_between(
                x, lo, hi, color=color, alpha=0.18, linewidth=0, label=f"pointwise {pct} CI"
            )
            ax.plot(
                x,
                slo,
                color=color,
                linewidth=0.8,
                linestyle=(0, (4, 2)),
                label=f"simultaneous {pct} band",
            )
            ax.plot(x, shi, color=color, linewidth=0.8, linestyle=(0, (4, 2)))
            ax.plot(
                x, est, color=color, marker="o", markersize=3, linewidth=1.2, label="STEPP estimate"
            )
            if math.isfinite(overall):
                ax.axhline(
                    overall,
                    color=GREY,
                    linewidth=0.8,
                    linestyle=(0, (1, 1.5)),
                    label="all patients",
                )
            ax.axhline(null, color=_DARK, linewidth=0.5)
            ax.set_xlabel(xlabel or f"{r.marker} (median of subpopulation)")
            ax.set_ylabel(ylabel)
            p_text = (
                f"supremum test P {_p_is(test.p)} ({test.n_permutations} permutations)"
                if test is not None
                else "permutation test not available"
            )
            ax.set_title(p_text, fontsize=SMALL_SIZE, loc="left", color=GREY)
            top = ax.secondary_xaxis("top")
            top.set_xticks(x, [str(w.n) for w in r.windows], fontsize=SMALL_SIZE - 1.5)
            top.tick_params(length=2, pad=1)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.055),
            ncol=4,
            fontsize=SMALL_SIZE,
            frameon=False,
        )
        title = (
            f"STEPP{', ' + endpoint if endpoint else ''}: {len(r.windows)} subpopulations "
            f"(r1 = {r.r1}, r2 = {r.r2}; patients per subpopulation along the top)"
        )
        fig.text(
            0.01, 0.965, title, ha="left", va="center", fontsize=SMALL_SIZE + 1.5, fontweight="bold"
        )
        fig.text(
            0.01,
            0.025,
            "Exploratory. Simultaneous band: Bonferroni over the "
            "subpopulations. HR by the log-rank (O − E)/V estimator.",
            ha="left",
            va="center",
            fontsize=SMALL_SIZE - 0.5,
            color=GREY,
        )
    return fig


def meta_forest(
    meta: MetaAnalysis,
    *,
    counts: Mapping[str, tuple[int, int]] | None = None,
    title: str = "Hazard ratio by cohort",
) -> Figure:
    """Forest of a meta-analysis: cohorts, fixed and random diamonds, prediction interval.

    Parameters
    ----------
    meta
        From :func:`ikaros.validation.meta.meta_analysis`.
    counts
        Optional ``{cohort: (patients, events)}``.
    title
        Figure title.

    Returns
    -------
    Figure
    """
    rows: list[_Row] = []
    for s in meta.studies:
        n_ev = counts.get(s.name) if counts else None
        rows.append(
            _Row(
                s.name,
                "est",
                f"{n_ev[0]} ({n_ev[1]})" if n_ev else "",
                s.hr,
                s.lower,
                s.upper,
                fmt_ci(s.hr, s.lower, s.upper),
                fmt_p(s.p),
                PALETTE[0],
                f"{s.weight_random:.1f}%",
            )
        )
    f, rnd, pi, h = meta.fixed, meta.random, meta.prediction, meta.heterogeneity
    total = ""
    if counts:
        total = f"{sum(v[0] for v in counts.values())} ({sum(v[1] for v in counts.values())})"
    rows.append(
        _Row(
            "Fixed effect (inverse variance)",
            "diamond",
            total,
            f.hr,
            f.hr_lower,
            f.hr_upper,
            fmt_ci(f.hr, f.hr_lower, f.hr_upper),
            fmt_p(f.p),
            GREY,
        )
    )
    rows.append(
        _Row(
            "Random effects (REML, HKSJ)",
            "diamond",
            "",
            rnd.hr,
            rnd.hr_lower,
            rnd.hr_upper,
            fmt_ci(rnd.hr, rnd.hr_lower, rnd.hr_upper),
            fmt_p(rnd.p),
            PALETTE[1],
        )
    )
    rows.append(
        _Row(
            f"{100 * meta.conf_level:g}% prediction interval",
            "pi",
            "",
            rnd.hr,
            pi.hr_lower,
            pi.hr_upper,
            fmt_ci(rnd.hr, pi.hr_lower, pi.hr_upper),
            "",
            PALETTE[1],
        )
    )
    foot = [
        f"Heterogeneity: Q = {h.q:.2f} on {h.q_df} df (P {_p_is(h.q_p)}); tau² = {h.tau2:.3g} "
        f"({h.tau2_lower:.3g}–{h.tau2_upper:.3g}); I² = {h.i2:.0f}% ({h.i2_lower:.0f}–"
        f"{h.i2_upper:.0f}%), Q-profile CIs.",
        "Weights: random effects. Prediction interval: where a new cohort's true HR is expected "
        + (
            "(bootstrap, tau² from its confidence distribution)."
            if pi.n_boot
            else f"(t with {pi.df} df)."
        ),
    ]
    pct = f"{100 * meta.conf_level:g}%"
    return _forest(
        rows,
        title=title,
        count_head="n (events)",
        right_head=f"HR ({pct} CI)",
        extra_head="Weight",
        foot=foot,
    )


def multicohort_forest(validation: Validation, *, coding: str = "continuous") -> Figure:
    """Forest of a multi-cohort validation (``coding``: ``"continuous"`` or ``"cut"``).

    Raises
    ------
    ValueError
        No meta-analysis for that coding (fewer than 2 estimable cohorts).
    """
    if coding not in ("continuous", "cut"):
        raise ValueError(f"coding must be 'continuous' or 'cut', not {coding!r}")
    meta = validation.meta_continuous if coding == "continuous" else validation.meta_cut
    estimates = (
        validation.estimates_continuous if coding == "continuous" else validation.estimates_cut
    )
    if meta is None:
        raise ValueError(f"no {coding} meta-analysis in these results")
    counts = {e.cohort: (e.n, e.events) for e in estimates}
    what = (
        f"{validation.marker} ({'per doubling' if validation.scale == 'log2' else 'per unit'})"
        if coding == "continuous"
        else f"{validation.marker} above vs below the cut ({validation.cut_rule})"
    )
    title = f"{validation.endpoint.upper()}: {what}, by cohort"
    return meta_forest(meta, counts=counts, title=title)
