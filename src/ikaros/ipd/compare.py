"""Statistics on reconstructed arms: fit to the digitised curve, medians, landmarks, RMST, Cox,
log-rank and RMST differences.

Everything is computed with the project's estimators, which are checked against R survival:
:func:`ikaros.stats.km.kaplan_meier` (Greenwood log-log intervals, R's median rule),
:func:`ikaros.stats.logrank.logrank`, :func:`ikaros.stats.cox.fit_cox` (Efron ties, Firth when
an arm has no events) and :func:`ikaros.ipd.rmst.rmst` (R ``survmean``). Each arm is compared
with the reference arm (the first): hazard ratio arm vs reference, so below 1 favours the arm.

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9 (the comparisons they validated: HR, medians, survival at landmarks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ikaros.errors import AnalysisError
from ikaros.ipd.results import (
    Comparison,
    CurveFit,
    GroupTest,
    LandmarkSummary,
    MedianSummary,
    RMSTDifferenceSummary,
    RMSTSummary,
)
from ikaros.ipd.rmst import RMST, rmst, rmst_difference
from ikaros.stats.cox import fit_cox
from ikaros.stats.km import KMCurve, kaplan_meier
from ikaros.stats.logrank import logrank

__all__ = [
    "Arm",
    "ArmStatistics",
    "arm_statistics",
    "compare_arms",
    "curve_fit",
    "default_tau",
    "step_values",
]

#: (time, event) of one reconstructed arm.
Arm = tuple[NDArray[np.float64], NDArray[np.int64]]


def step_values(
    time: NDArray[np.float64], value: NDArray[np.float64], at: NDArray[np.float64], start: float
) -> NDArray[np.float64]:
    """A right-continuous step function given at ``time`` evaluated at ``at`` (``start`` before)."""
    i = np.searchsorted(time, at, side="right") - 1
    return np.where(i >= 0, value[np.maximum(i, 0)], start)


def curve_fit(
    digitised_time: NDArray[np.float64],
    digitised_value: NDArray[np.float64],
    fitted_time: NDArray[np.float64],
    fitted_value: NDArray[np.float64],
    *,
    start: float = 1.0,
) -> CurveFit:
    """Largest and mean absolute difference between a reconstructed and the digitised curve.

    Both are step functions; they are compared at the digitised times (where the digitised
    curve is known), as IPDfromKM reports the fit.
    """
    rec = step_values(fitted_time, fitted_value, digitised_time, start)
    diff = np.abs(rec - digitised_value)
    k = int(np.argmax(diff))
    return CurveFit(float(diff[k]), float(digitised_time[k]), float(diff.mean()), int(diff.size))


@dataclass(frozen=True)
class ArmStatistics:
    """Kaplan-Meier curve of one reconstructed arm with its median, landmarks and RMST."""

    curve: KMCurve
    median: MedianSummary
    landmarks: tuple[LandmarkSummary, ...]
    rmst: RMST | None

    @property
    def rmst_summary(self) -> RMSTSummary | None:
        r = self.rmst
        return None if r is None else RMSTSummary(r.tau, r.estimate, r.se, r.lower, r.upper)


def arm_statistics(
    arm: Arm,
    *,
    name: str,
    landmarks: Sequence[float],
    tau: float | None,
    conf_level: float = 0.95,
) -> ArmStatistics:
    """Kaplan-Meier, median (Brookmeyer-Crowley log-log interval), landmarks and RMST at ``tau``."""
    curve = kaplan_meier(arm[0], arm[1], label=name, conf_level=conf_level)
    med = curve.median
    marks = []
    for t in landmarks:
        lm = curve.at(t)
        marks.append(LandmarkSummary(float(t), lm.survival, lm.lower, lm.upper, lm.n_risk))
    return ArmStatistics(
        curve,
        MedianSummary(med.estimate, med.lower, med.upper),
        tuple(marks),
        None if tau is None else rmst(curve, tau, conf_level=conf_level),
    )


def default_tau(arms: Mapping[str, Arm]) -> float:
    """The longest restriction time all arms cover: the shortest of their last follow-up times."""
    return float(min(np.max(t) for t, _ in arms.values()))


def _stack(arms: Mapping[str, Arm], names: Sequence[str]) -> tuple[NDArray[np.float64], ...]:
    time = np.concatenate([arms[n][0] for n in names])
    event = np.concatenate([arms[n][1] for n in names]).astype(float)
    group = np.concatenate([np.full(arms[n][0].size, i, dtype=float) for i, n in enumerate(names)])
    return time, event, group


def compare_arms(
    arms: Mapping[str, Arm],
    statistics: Mapping[str, ArmStatistics],
    *,
    reference: str,
    reliable: Mapping[str, bool],
    conf_level: float = 0.95,
) -> tuple[tuple[Comparison, ...], GroupTest | None]:
    """Compare every arm with ``reference``; with more than two arms also the k-arm log-rank.

    Parameters
    ----------
    arms
        Name -> (time, event) of each reconstructed arm (at least two).
    statistics
        Name -> :func:`arm_statistics` of each arm (for the RMST difference).
    reference
        Name of the reference arm.
    reliable
        Name -> whether the arm's censoring was informed by an at-risk table or event total.
    conf_level
        Level of the intervals.

    Returns
    -------
    tuple
        The comparisons (arm order) and the overall log-rank test (``None`` for two arms).
    """
    if reference not in arms or len(arms) < 2:
        raise AnalysisError("a comparison needs the reference arm and at least one other arm")
    out: list[Comparison] = []
    for name in arms:
        if name == reference:
            continue
        time, event, group = _stack(arms, [reference, name])
        label = f"{name} vs {reference}"
        fit = fit_cox(time, event, pd.DataFrame({label: group}), conf_level=conf_level)
        term = fit.terms[label]
        lr = logrank(time, event, np.where(group == 1, name, reference), order=[reference, name])
        diff = None
        a, r = statistics[name].rmst, statistics[reference].rmst
        if a is not None and r is not None:
            d = rmst_difference(a, r)
            diff = RMSTDifferenceSummary(d.tau, d.estimate, d.se, d.lower, d.upper, d.p)
        out.append(
            Comparison(
                arm=name,
                reference=reference,
                hr=term.hr,
                lower=term.lower,
                upper=term.upper,
                p=term.p,
                coef=term.coef,
                se=term.se,
                cox_method=fit.method,
                firth_reason=fit.firth_reason,
                ph_p=fit.ph.global_test.p if fit.ph is not None else None,
                logrank_statistic=lr.statistic,
                logrank_df=lr.df,
                logrank_p=lr.p,
                rmst_difference=diff,
                reliable=bool(reliable[name] and reliable[reference]),
            )
        )
    overall = None
    if len(arms) > 2:
        names = list(arms)
        time, event, group = _stack(arms, names)
        labels = np.asarray(names, dtype=object)[group.astype(int)]
        lr = logrank(time, event, labels, order=names)
        overall = GroupTest("log-rank", tuple(names), lr.statistic, lr.df, lr.p)
    return tuple(out), overall
