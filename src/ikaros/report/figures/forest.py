"""Forest plots: hazard ratios of the multivariable Cox models, or per SD by cytogenetic risk."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from ikaros.report.figures._common import (
    _DARK,
    _LOG_GRIDS,
    _NICE_HR,
    _SHADE,
    _finite,
    _measure,
    _new_figure,
    _points,
    _title,
)
from ikaros.report.naming import (
    adjuster_names,
    analysis_term_display,
    display_label,
    group_model_name,
    term_display,
)
from ikaros.report.style import (
    DOUBLE_COLUMN,
    GREY,
    PALETTE,
    SMALL_SIZE,
    endpoint_label,
    fmt_ci,
    fmt_p,
    journal_style,
)
from ikaros.results import Analysis, CoxModel, CoxTermResult, Results

__all__ = ["forest_figure"]

_DAGGER = "†"
_FIRTH_NOTE = "† Firth penalised likelihood, profile likelihood CI"


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


def _term_row(
    results: Results, analysis: Analysis, name: str, term: CoxTermResult, firth: bool
) -> _ForestRow:
    marker = analysis.marker
    hr, lo, hi = term.hr, term.lower, term.upper
    if name == marker:
        shown = display_label(results, marker).name
        if term.hr_per_sd is not None and _finite(term.hr_per_sd):
            label = f"{shown}, per SD"
            hr, lo, hi = term.hr_per_sd, term.lower_per_sd, term.upper_per_sd  # type: ignore[assignment]
        else:
            unit = "per doubling" if analysis.transform == "log2" else "per unit"
            label = f"{shown}, {unit}"
        color = PALETTE[0]
    elif name.startswith(marker + " "):
        label, color = analysis_term_display(results, analysis, name), PALETTE[0]
    else:
        shown = (
            results.options.labels.get(name)
            or _TERM_NAMES.get(name)
            or term_display(results, name, marker)
        )
        label, color = shown[:1].upper() + shown[1:], "#444444"
    if firth:
        label += f" {_DAGGER}"
    return _ForestRow(label, 2, hr, lo, hi, term.p, color=color, firth=firth)


def _model_rows(
    results: Results, analysis: Analysis, title: str, model: CoxModel | None
) -> list[_ForestRow]:
    if model is None:
        return [_ForestRow(f"{title}: not fitted (no adjusting covariates)", 1)]
    firth = model.method == "firth"
    head = f"{title} (n = {model.n}, {model.events} events)" + (f" {_DAGGER}" if firth else "")
    rows = [_ForestRow(head, 1, firth=firth)]
    rows += [_term_row(results, analysis, name, t, firth) for name, t in model.terms.items()]
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
            rows.append(_ForestRow(display_label(results, a.marker).text, 0))
            rows += _model_rows(results, a, "Continuous marker", a.cox_multivariable)
            rows += _model_rows(results, a, group_model_name(results, a), a.cox_group_multivariable)
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
                    display_label(results, a.marker).text,
                    0,
                    hr_text=f"interaction ({how})" if how else "interaction: n/a",
                    p_text=fmt_p(p) if inter is not None else "",
                )
            )
            overall = _term_row(
                results, a, a.marker, a.cox_continuous, a.cox_univariate.method == "firth"
            )
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
                row = _term_row(results, a, a.marker, term, model.method == "firth")
                rows.append(_with_label(row, text))
    return rows


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
        on_endpoint = [m for m in results.analyses if m.endpoint == endpoint]
        adjusters: list[str] = []
        for m in on_endpoint:
            for name in adjuster_names(results, m.cox_multivariable, m.marker):
                if name not in adjusters:
                    adjusters.append(name)
        groups = group_model_name(results, on_endpoint[0]) if on_endpoint else "groups"
        indicator = "quartile indicator" if groups == "Q2-4 vs Q1" else "group indicators"
        foot = [
            "Continuous marker: marker (HR per SD) + "
            + (" + ".join(adjusters) or "no other variable")
            + f"; {groups}: {indicator} + the same covariates."
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
        _title(fig, title, height, left=0.12)
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
