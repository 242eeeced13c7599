"""The optimised-cutpoint figure of ``ikaros cutpoint``: the search and its result.

Left: the standardized log-rank statistic |S| at every candidate cut (the search that
``maxstat`` performs), the selected cut, and the pre-specified lowest-quartile cut for
comparison. Right: Kaplan-Meier curves of the two groups at the selected cut. The corrected p
(Lausen-Schumacher 1994, or permutation) is the one printed; the uncorrected p of the best cut
is not shown in the figure, because it is misleading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ikaros.report.figures._common import _new_figure, group_colors
from ikaros.report.figures.km import draw_km
from ikaros.report.style import journal_style
from ikaros.results import GroupSummary

__all__ = ["cutpoint_figure"]


def _p(p: float | None) -> str:
    if p is None or p != p:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def cutpoint_figure(
    statistics: Mapping[str, Any],
    cut: Any,
    groups: Mapping[str, GroupSummary],
    *,
    marker: str,
    endpoint: str,
    q1: float | None = None,
    xlim: float | None = None,
) -> Figure:
    """Two panels: the search over cuts, and survival at the selected cut.

    Parameters
    ----------
    statistics
        ``cut`` and ``statistic`` arrays of :func:`ikaros.cutpoints.standardized_statistics`.
    cut
        The :class:`ikaros.cutpoints.Cutpoint`.
    groups
        Kaplan-Meier summaries of the low and high group (labels as keys).
    marker, endpoint
        Display names.
    q1
        The lowest-quartile cut, drawn for comparison (pre-specified).
    xlim
        End of the time axis of the survival panel (months).
    """
    with journal_style():
        fig = _new_figure(7.2, 3.1)
        left = fig.add_axes((0.08, 0.16, 0.38, 0.72))
        right = fig.add_axes((0.57, 0.16, 0.40, 0.72))
        cuts = np.asarray(statistics["cut"], dtype=float)
        stat = np.asarray(statistics["statistic"], dtype=float)
        left.plot(cuts, stat, color="#404040", linewidth=1.0, marker=".", markersize=2.5)
        left.axvline(cut.cutpoint, color="#D55E00", linewidth=1.0, label="optimised cut")
        if q1 is not None:
            left.axvline(q1, color="#0072B2", linewidth=1.0, linestyle="--", label="Q1 (pre-spec.)")
        left.set_xlabel(marker)
        left.set_ylabel("standardized log-rank |S|")
        corrected = cut.p_permutation if cut.p_permutation is not None else cut.p_lau94
        method = "permutation" if cut.p_permutation is not None else "Lausen-Schumacher"
        left.set_title(
            f"Search over {cuts.size} cuts: max |S| = {cut.statistic:.2f}\n"
            f"corrected for the search ({method}): {_p(corrected)}",
            fontsize=8,
        )
        left.legend(frameon=False, fontsize=7, loc="lower right")
        colors = group_colors(list(groups))
        draw_km(right, groups, colors=colors, ci=True, xlim=xlim)
        right.set_ylim(0, 1.02)
        if xlim is not None:
            right.set_xlim(0, xlim)
        else:
            right.set_xlim(left=0)
        right.set_xlabel("months")
        right.set_ylabel(f"{endpoint.upper()} probability")
        labels = [f"{name} (n = {g.n}, {g.events} events)" for name, g in groups.items()]
        handles = [right.plot([], [], color=colors[name])[0] for name in groups]
        right.legend(handles, labels, frameon=False, fontsize=7, loc="lower left")
        right.set_title(f"At the optimised cut {cut.cutpoint:.4g} (not pre-specified)", fontsize=8)
        return fig
