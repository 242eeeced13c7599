"""Restricted mean survival time (RMST) and its variance, as R ``print(survfit, rmean = tau)``.

The RMST up to ``tau`` is the area under the Kaplan-Meier curve from 0 to ``tau``. Its variance
is the delta-method (Greenwood-type) estimate of R survival's ``survmean``::

    var = sum over curve times t_i <= tau of  A_i^2 d_i / (n_i (n_i - d_i))

where ``A_i`` is the area under the curve from ``t_i`` to ``tau`` and the term is 0 when
``n_i = d_i``. The difference of two arms' RMST has the sum of their variances (independent
arms) and a Wald interval and test.

Why own code: lifelines' ``restricted_mean_survival_time`` returns a variance that is not the
Greenwood-type variance above (it does not agree with R), and scikit-survival has no RMST
variance; the computation is a few lines on the Kaplan-Meier table of :mod:`ikaros.stats.km`.

References
----------
Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard ratio for
the design and analysis of randomized trials with a time-to-event outcome. BMC Med Res Methodol
2013;13:152.
Klein JP, Moeschberger ML. Survival Analysis, 2nd ed. Springer 2003, section 4.5 (variance of
the restricted mean).
Therneau TM. A Package for Survival Analysis in R, ``survival:::survmean`` (version 3.5-3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ikaros.errors import AnalysisError
from ikaros.stats.km import KMCurve

__all__ = ["RMST", "RMSTDifference", "rmst", "rmst_difference"]


@dataclass(frozen=True)
class RMST:
    """Restricted mean survival time up to ``tau`` with its standard error and Wald interval."""

    tau: float
    estimate: float
    se: float
    lower: float
    upper: float
    conf_level: float = 0.95


@dataclass(frozen=True)
class RMSTDifference:
    """RMST of one arm minus that of the reference arm, with Wald interval and two-sided p."""

    tau: float
    estimate: float
    se: float
    lower: float
    upper: float
    p: float
    conf_level: float = 0.95


def _z(conf_level: float) -> float:
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1), got {conf_level}")
    return float(stats.norm.isf((1.0 - conf_level) / 2.0))


def rmst(curve: KMCurve, tau: float, *, conf_level: float = 0.95) -> RMST:
    """RMST of a Kaplan-Meier curve up to ``tau`` and its variance (R ``survmean``).

    Parameters
    ----------
    curve
        Kaplan-Meier table (one row per distinct time, as R ``survfit``).
    tau
        Restriction time, > 0. Beyond the last time the curve is carried forward flat, as R
        does; callers keep ``tau`` within follow-up.
    conf_level
        Level of the Wald interval.

    Returns
    -------
    RMST
    """
    if not (np.isfinite(tau) and tau > 0):
        raise AnalysisError(f"tau must be a positive number, got {tau}")
    z = _z(conf_level)
    keep = curve.time <= tau
    t = np.append(curve.time[keep], tau)
    s = curve.surv[keep]
    n = curve.n_risk[keep].astype(float)
    d = curve.n_event[keep].astype(float)
    left = np.concatenate([[0.0], t[:-1]])
    height = np.concatenate([[1.0], s])
    rectangles = (t - left) * height
    area = float(rectangles.sum())
    # area from each curve time to tau: the rectangles after it
    after = np.cumsum(rectangles[::-1])[::-1][1:]
    free = n - d
    hazard_var = np.divide(d, n * free, out=np.zeros_like(d), where=free > 0)
    variance = float(np.sum(after**2 * hazard_var))
    se = float(np.sqrt(variance))
    return RMST(tau, area, se, area - z * se, area + z * se, conf_level)


def rmst_difference(arm: RMST, reference: RMST) -> RMSTDifference:
    """``arm - reference`` with the variance of independent arms and a Wald test."""
    if arm.tau != reference.tau or arm.conf_level != reference.conf_level:
        raise AnalysisError("RMSTs to compare need the same tau and confidence level")
    z = _z(arm.conf_level)
    est = arm.estimate - reference.estimate
    se = float(np.hypot(arm.se, reference.se))
    p = float(2.0 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return RMSTDifference(arm.tau, est, se, est - z * se, est + z * se, p, arm.conf_level)
