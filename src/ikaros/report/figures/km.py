"""Kaplan-Meier figures: curves with confidence bands and censor marks, numbers at risk.

:func:`km_figure` builds the whole figure; :func:`draw_km` and :func:`draw_at_risk` are its two
building blocks, for custom layouts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter

from ikaros.report.figures._common import (
    _DARK,
    Colors,
    CountRow,
    _color_map,
    _draw_count_table,
    _finite,
    _measure,
    _new_figure,
    _points,
    _step_curve,
    _title,
    group_colors,
)
from ikaros.report.figures._km_legend import _Block, _free_corner, _landmark_name, _test_text
from ikaros.report.figures.km_data import (
    _landmark,
    _steps,
    cumulative_counts,
    numbers_at_risk,
    time_ticks,
)
from ikaros.report.naming import (
    Label,
    cut_display_labels,
    cut_name,
    cut_statement,
    fmt_value,
    normalise_cut,
    parse_label,
)
from ikaros.report.style import (
    GREY,
    SMALL_SIZE,
    endpoint_label,
    fmt_pct,
    journal_style,
)
from ikaros.results import Analysis, GroupSummary

__all__ = ["KM_WIDTH", "draw_at_risk", "draw_km", "km_figure", "km_groups_figure"]

#: Width of the Kaplan-Meier figures (inches), at-risk table included.
KM_WIDTH = 5.5


def draw_km(
    ax: Axes,
    groups: Mapping[str, GroupSummary],
    *,
    colors: Colors,
    ci: bool = True,
    censor_marks: bool = True,
    ci_alpha: float | None = None,
    xlim: float | None = None,
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
    xlim
        End of the time axis: censor marks beyond it are left out (they are drawn unclipped).

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
        band = bool(ci and np.any(st.upper[1:] - st.lower[1:] > 0))
        _step_curve(
            ax,
            st.time,
            st.surv,
            st.lower,
            st.upper,
            color=color,
            label=name,
            band=band,
            alpha=alpha,
        )
        marks = st.censor_time <= xlim if xlim is not None else np.ones(st.censor_time.size, bool)
        if censor_marks and marks.any():
            ax.plot(
                st.censor_time[marks],
                st.censor_surv[marks],
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
    cmap = _color_map(list(groups), colors)
    table: list[CountRow] = []
    for heading, kind, fn in _at_risk_blocks(counts):
        table.append(("heading", heading, None, ()))
        for name, group in groups.items():
            table.append((kind, name, cmap[name], fn(group, ticks)))
    _draw_count_table(ax, table, ticks)


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
    label: str | None = None,
    xlim: float | None = None,
) -> Figure:
    """Kaplan-Meier figure of one marker x endpoint analysis, with a numbers-at-risk table.

    Parameters
    ----------
    analysis
        The analysis; its groups carry the step data (``GroupSummary.curve``).
    grouping
        ``"q1"``: the primary (pre-specified) cut, ``analysis.groups`` with its log-rank test
        (and trend test for more than two groups): the lowest quartile vs Q2-4 by default, or
        the median, tertiles, upper quartile or fixed thresholds of ``analysis.cut``;
        ``"quartiles"``: Q1..Q4 (4-group log-rank and trend test), the secondary description.
    landmark
        Time of the landmark survival printed in the legend (the stored estimate when it is at
        this time, else read off the step data).
    counts
        Add cumulative events and censored patients under the numbers at risk.
    time_unit
        Unit of the time axis (results are in months).
    subgroup
        Name of a cytogenetic subgroup of ``analysis.subgroups`` (``"standard risk"``,
        ``"high risk"``): draw its curves (primary cut) and log-rank P instead.
    conf_level
        Level of the stored confidence intervals, for the labels.
    ci
        Draw the pointwise confidence bands (lighter with more than two groups).
    label
        Display label of the marker (``--label``; a final parenthesis is its unit, e.g.
        ``"beta-2 microglobulin (mg/L)"``); default the marker's name.
    xlim
        End of the time axis (months); default the end of follow-up.

    Returns
    -------
    Figure
        ``KM_WIDTH`` inches wide; axes labelled ``"km"`` (curves) and ``"at_risk"`` (table).
        The legend states the cut with its values and whether it was pre-specified or derived
        from the data.

    Raises
    ------
    ValueError
        Unknown grouping, unknown subgroup, quartiles asked for a subgroup, or quartiles of an
        analysis that has none (too many tied values).
    """
    if grouping not in ("q1", "quartiles"):
        raise ValueError(f"grouping must be 'q1' or 'quartiles', not {grouping!r}")
    ep = endpoint_label(analysis.endpoint)
    lab = parse_label(label or analysis.marker)
    note: str | None = None
    tests: list[str]
    cut = normalise_cut(analysis.cut)
    names = cut_display_labels(cut, lab)
    statement = cut_statement(cut, lab, short=True)
    cut_lines = [statement[:1].upper() + statement[1:]] if cut.get("values") else []
    if subgroup is not None:
        match = [s for s in analysis.subgroups if s.name == subgroup]
        if not match:
            known = ", ".join(repr(s.name) for s in analysis.subgroups) or "none"
            raise ValueError(
                f"no subgroup {subgroup!r} in {analysis.marker} x {analysis.endpoint}"
                f" (subgroups: {known})"
            )
        if grouping != "q1":
            raise ValueError(
                "subgroups are split by the primary cut only (Q1 vs Q2-4 by default); use "
                "grouping='q1'"
            )
        sg = match[0]
        groups = dict(sg.groups)
        tests = [_test_text("Log-rank", sg.logrank, df=len(groups) > 2)]
        note = sg.note
        name = subgroup.replace(" risk", "-risk") if subgroup.endswith(" risk") else subgroup
        title = f"{lab.name}, {ep}: {_cut_title(cut, short=True)}, {name} cytogenetics"
    elif grouping == "q1":
        groups = dict(analysis.groups)
        if len(groups) > 2:
            tests = [
                _test_text("Log-rank", analysis.logrank, df=True)
                + "; "
                + _test_text("trend", analysis.trend)
            ]
        else:
            tests = [_test_text("Log-rank", analysis.logrank)]
        title = f"{lab.name}, {ep}: {_cut_title(cut)}"
    else:
        groups = dict(analysis.quartile_groups)
        if not groups:
            raise ValueError(
                f"{analysis.marker} x {analysis.endpoint} has no quartile groups (see its notes)"
            )
        names = {}
        tests = [
            _test_text("Log-rank", analysis.logrank_quartiles, df=True)
            + "; "
            + _test_text("trend", analysis.trend_quartiles)
        ]
        cut_lines = [_quartile_line(analysis, lab)] if cut.get("kind") != "quartile" else []
        title = f"{lab.name}, {ep}: quartiles Q1–Q4"
    return km_groups_figure(
        {names.get(k, k): g for k, g in groups.items()},
        title=title,
        tests=tests,
        notes=cut_lines,
        endpoint=analysis.endpoint,
        landmark=landmark,
        counts=counts,
        time_unit=time_unit,
        conf_level=conf_level,
        ci=ci,
        note=note,
        xlim=xlim,
    )


def _cut_title(cut: Mapping[str, object], *, short: bool = False) -> str:
    kind = cut.get("kind", "quartile")
    if short and kind == "quartile":
        return "Q1 vs Q2-4"
    if kind == "thresholds":
        return "pre-specified thresholds"
    return cut_name(cut)


def _quartile_line(analysis: Analysis, lab: Label) -> str:
    q = ", ".join(fmt_value(v) for v in analysis.quartiles)
    return f"Quartiles at {lab.with_unit(q)} (percentiles of these data)"


def _landmark_text(group: GroupSummary, landmark: float) -> str:
    s, lo, hi = _landmark(group, landmark)
    if s is None:
        lm = group.landmark
        same = lm is not None and abs(lm.time - landmark) < 1e-9
        return lm.note if same and lm.note else "not estimable"
    est = fmt_pct(s)
    if _finite(lo) and _finite(hi):
        est += f" ({fmt_pct(lo)[:-1]}–{fmt_pct(hi)})"
    return est


def km_groups_figure(
    groups: Mapping[str, GroupSummary],
    *,
    title: str,
    tests: Sequence[str],
    endpoint: str,
    notes: Sequence[str] = (),
    landmark: float = 36.0,
    counts: bool = False,
    time_unit: str = "months",
    conf_level: float = 0.95,
    ci: bool = True,
    note: str | None = None,
    xlim: float | None = None,
) -> Figure:
    """Kaplan-Meier curves of any groups with a numbers-at-risk table and a legend block.

    Parameters
    ----------
    groups
        Display name -> summary with ``curve`` step data, in legend order (groups without
        patients are left out by the caller and named in ``note``).
    title
        Bold title above the plot.
    tests
        Lines of test results under the legend rows (log-rank, trend).
    endpoint
        Endpoint name, for the axis label and the landmark column (``os`` -> ``OS``).
    notes
        Grey lines between the legend rows and the tests, e.g. the cut with its values.
    landmark, counts, time_unit, conf_level, ci
        As for :func:`km_figure`.
    note
        A remark printed under the title (e.g. an empty group).
    xlim
        End of the time axis (months); default the end of follow-up. Curves and censor marks
        beyond it are not drawn; the numbers at risk are given at the ticks up to it.

    Returns
    -------
    Figure
        ``KM_WIDTH`` inches wide; axes labelled ``"km"`` (curves) and ``"at_risk"`` (table).
    """
    ep = endpoint_label(endpoint)
    colors = group_colors(list(groups))
    curves = [g.curve for g in groups.values() if g.curve is not None and g.curve.time]
    t_max = max((c.time[-1] for c in curves), default=landmark)
    if xlim is not None:
        ticks = tuple(t for t in time_ticks(xlim, time_unit) if t <= xlim + 1e-9)
        x_max = float(xlim)
    else:
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

        draw_km(ax, groups, colors=colors, ci=ci, xlim=xlim)
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
            footer=[(t, GREY) for t in notes] + [(t, _DARK) for t in tests],
        )
        for name, g in groups.items():
            block.rows.append(
                (
                    colors[name],
                    [
                        (name, colors[name]),
                        (str(g.n), _DARK),
                        (str(g.events), _DARK),
                        (_landmark_text(g, landmark), _DARK),
                    ],
                )
            )
        _, bw, bh = block.layout(fig)
        chosen, background = _free_corner(ax, groups, ci=ci, width=bw, height=bh)
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

        _title(fig, title, height)
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
