"""Cumulative incidence of a competing-risk endpoint by group, with the naive contrast.

:func:`competing_figure` draws the Aalen-Johansen cumulative incidence of the event of interest
per group of a :class:`~ikaros.results.CompetingAnalysis` (a marker's cut or a variable's
levels) with :func:`ikaros.report.figures.cif_figure`: confidence bands, numbers at risk, Gray's
test, and 1 - Kaplan-Meier dashed as the labelled naive contrast (competing events treated as
censoring, which overstates the incidence).

The naive curve is not stored as a curve in the results: it is read off the stored step counts
of the incidence curve, 1 - prod(1 - d_j / n_j) over the times j with d_j events of interest
among n_j at risk (the risk set is the same for both estimators: patients free of every event
and still under follow-up). This is the product-limit formula on stored counts, not an
estimate of anything new; at the landmark it equals the stored ``IncidenceAt.naive`` (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ikaros.report.figures._common import _p_equals
from ikaros.report.figures.cif import cif_figure
from ikaros.report.naming import Label, competing_names, cut_statement
from ikaros.report.style import endpoint_label
from ikaros.results import CompetingAnalysis, IncidenceCurve

__all__ = ["NAIVE_LABEL", "competing_figure", "competing_names", "naive_incidence"]

#: Legend text of the dashed naive curves.
NAIVE_LABEL = "1 − Kaplan-Meier, naive (competing events censored)"


@dataclass(frozen=True)
class _Curve:
    """A stored incidence curve in the form :func:`cif_figure` reads (``CIFLike``)."""

    group: str
    cause: str
    time: tuple[float, ...]
    estimate: tuple[float, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    n_risk: tuple[int, ...]


def naive_incidence(curve: IncidenceCurve) -> tuple[float, ...]:
    """1 - Kaplan-Meier at each time of ``curve``, from its stored counts (see the module)."""
    n = np.asarray(curve.n_risk, dtype=float)
    d = np.asarray(curve.n_event, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1.0 - d / n, 1.0)
    return tuple(float(v) for v in 1.0 - np.cumprod(factor))


def competing_figure(
    c: CompetingAnalysis,
    *,
    label: Label | None = None,
    time_unit: str = "months",
    xlim: float | None = None,
    naive: bool = True,
    notes: Sequence[str] = (),
) -> Figure:
    """Cumulative incidence of ``c.event`` per group, with at-risk table and Gray's test.

    Parameters
    ----------
    c
        The competing-risk analysis; each group's ``curve`` holds the step data.
    label
        Display label of the marker or variable (name and unit); default ``c.label``.
    time_unit
        Unit of the time axis.
    xlim
        End of the time axis (months); default the end of follow-up.
    naive
        Draw 1 - Kaplan-Meier dashed in each group's colour, as the labelled naive contrast.
    notes
        Extra lines under the legend (e.g. the cut with its values).

    Returns
    -------
    Figure
        Axes labelled ``"cif"`` and ``"at_risk"``; the at-risk rows are the display names.
    """
    lab = label or Label(c.label, c.label, "")
    names = competing_names(c, lab)
    curves: dict[str, _Curve] = {}
    dashed: dict[str, _Curve] = {}
    for key, g in c.groups.items():
        if g.curve is None:
            continue
        shown = names.get(key, key)
        cv = g.curve
        curves[shown] = _Curve(shown, c.event, cv.time, cv.cif, cv.lower, cv.upper, cv.n_risk)
        if naive:
            est = naive_incidence(cv)
            dashed[shown] = _Curve(shown, c.event, cv.time, est, est, est, cv.n_risk)
    footer = list(notes)
    if c.cut is not None and c.cut.get("values"):
        statement = cut_statement(c.cut, lab, short=True)
        footer.insert(0, statement[:1].upper() + statement[1:])
    footer.append(
        f"Gray's test {_p_equals(c.gray.p)}" if c.gray is not None else "Gray's test: n/a"
    )
    competing = ", ".join(c.competing_causes) or "none"
    title = f"{endpoint_label(c.endpoint)}: cumulative incidence of {c.event} by {lab.name}"
    return cif_figure(
        curves,
        title=title,
        time_unit=time_unit,
        naive=dashed or None,
        naive_label=NAIVE_LABEL if dashed else None,
        footer=[*footer, f"Competing: {competing}"],
        xlim=xlim,
        ylabel=f"Cumulative incidence of {c.event}",
    )
