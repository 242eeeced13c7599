"""Kaplan-Meier figure of survival by the levels of a clinical variable (``--group``).

The curves, at-risk table and legend are those of :func:`ikaros.report.figures.km_groups_figure`;
this module only names the levels (``ISS I`` ...), lists the tests of the grouping analysis
(k-group log-rank, trend over ordered levels) and says which levels had no patients.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from ikaros.report.figures._km_legend import _test_text
from ikaros.report.figures.km import km_groups_figure
from ikaros.report.naming import level_display
from ikaros.report.style import endpoint_label
from ikaros.results import GroupingAnalysis

__all__ = ["grouping_figure", "grouping_names"]


def grouping_names(g: GroupingAnalysis) -> dict[str, str]:
    """Level -> display name (ISS stages as ``ISS I`` ...; other levels unchanged)."""
    return {lv.label: level_display(g.variable, lv.label) for lv in g.levels}


def grouping_figure(
    g: GroupingAnalysis,
    *,
    landmark: float = 36.0,
    counts: bool = False,
    time_unit: str = "months",
    conf_level: float = 0.95,
    ci: bool = True,
    xlim: float | None = None,
    label: str | None = None,
) -> Figure:
    """Kaplan-Meier curves per level of ``g.variable`` with a numbers-at-risk table.

    Parameters
    ----------
    g
        The grouping analysis; ``g.groups`` holds the step data of every level with patients.
    landmark, counts, time_unit, conf_level, ci, xlim
        As for :func:`ikaros.report.figures.km_figure`.
    label
        Display label of the variable; default ``g.label``.

    Returns
    -------
    Figure
        Curves with confidence bands, legend with n, events and landmark survival per level,
        the log-rank P (k - 1 df) and, for ordered levels, the trend P. Levels without patients
        are named in a note under the title.
    """
    names = grouping_names(g)
    groups = {names[k]: s for k, s in g.groups.items()}
    tests: list[str] = []
    if g.logrank is not None:
        text = _test_text("Log-rank", g.logrank, df=len(groups) > 2)
        if g.trend is not None:
            text += "; " + _test_text("trend", g.trend)
        tests.append(text)
    else:
        tests.append("Groups not compared (see the report)")
    notes = []
    ref = names.get(g.reference, g.reference)
    if g.cox is not None and len(groups) > 1:
        notes.append(f"Reference level for hazard ratios: {ref}")
    empty = [names[lv.label] for lv in g.levels if lv.n == 0]
    note = f"no patients in {', '.join(empty)}" if empty else None
    return km_groups_figure(
        groups,
        title=f"{endpoint_label(g.endpoint)} by {label or g.label}",
        tests=tests,
        notes=notes,
        endpoint=g.endpoint,
        landmark=landmark,
        counts=counts,
        time_unit=time_unit,
        conf_level=conf_level,
        ci=ci,
        note=note,
        xlim=xlim,
    )
