"""Calibration of a Cox model at a landmark: risk groups, calibration slope, smoothed curve.

- **Risk groups**: patients are split at the quantiles (R type 7) of the predicted risk at the
  landmark ``t`` (group k: ``q_{k-1} < risk <= q_k``; tied cut points leave a group empty and it
  is dropped). Per group the mean predicted risk is set against the observed risk
  ``1 - KM(t)`` with its Greenwood standard error and a log-log interval.
- **Calibration slope** (van Houwelingen 2000; the "Slope" of rms::validate): the coefficient of
  the linear predictor in a Cox model ``coxph(Surv(time, event) ~ lp)`` (Efron ties) fitted in
  the evaluation data, with its Wald interval. It is exactly 1 in the data the model was fitted
  on; below 1 means predictions too extreme (over-fitting). Use it on validation data or
  through the bootstrap optimism correction (:mod:`ikaros.performance.validation`).
- **Smoothed calibration curve** (Austin, Harrell & van Klaveren 2020): a Cox model of the
  outcome on a restricted cubic spline with 3 knots (10th, 50th, 90th percentiles, Harrell's
  parametrisation as ``rms::rcspline.eval``) of ``log(-log(1 - predicted risk))``; its predicted
  risk at ``t`` is the "observed" risk of a patient. Summaries: ICI (mean absolute difference),
  E50, E90 (median and 90th percentile) and Emax. With fewer than three distinct knots the model
  is linear in ``log(-log(1 - risk))``.

References
----------
van Houwelingen HC. Validation, calibration, revision and combination of prognostic survival
models. Stat Med 2000;19:3401-3415.
Austin PC, Harrell FE Jr, van Klaveren D. Graphical calibration curves and the integrated
calibration index (ICI) for survival models. Stat Med 2020;39:2714-2742.
Harrell FE Jr. Regression Modeling Strategies, 2nd ed. Springer 2015 (sec. 2.4.5, 20.8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.performance._checks import FloatArray, as_score, as_survival, z_value
from ikaros.performance._cox import fit_efron, predict_risk

__all__ = [
    "CalibrationSlope",
    "RiskGroup",
    "SmoothCalibration",
    "calibration_slope",
    "km_risk_at",
    "risk_groups",
    "smooth_calibration",
]


@dataclass(frozen=True)
class RiskGroup:
    """Observed (1 - KM) vs mean predicted risk at the landmark in one risk group."""

    group: int
    n: int
    events: int
    lower_cut: float | None
    upper_cut: float | None
    predicted: float
    observed: float
    se: float
    lower: float
    upper: float


@dataclass(frozen=True)
class CalibrationSlope:
    """Coefficient of the linear predictor in a Cox model fitted in the evaluation data."""

    slope: float
    se: float
    lower: float
    upper: float
    conf_level: float
    converged: bool
    method: str = "coxph(Surv(time, event) ~ lp), Efron ties"


@dataclass(frozen=True)
class SmoothCalibration:
    """Smoothed calibration curve at the landmark and its error summaries."""

    time: float
    knots: tuple[float, ...]
    grid: tuple[float, ...]
    curve: tuple[float, ...]
    ici: float
    e50: float
    e90: float
    emax: float
    method: str = "Cox model on a 3-knot restricted cubic spline of log(-log(1 - risk))"


def km_risk_at(
    time: FloatArray, event: FloatArray, t: float, z: float = 1.959963984540054
) -> tuple[float, float, float, float]:
    """``1 - KM(t)``, the Greenwood SE of ``KM(t)`` and a log-log interval for the risk.

    All NaN when follow-up ends before ``t`` (the Kaplan-Meier curve is not estimable there).
    """
    if time.size == 0 or float(time.max()) < t:
        nan = float("nan")
        return nan, nan, nan, nan
    order = np.argsort(time, kind="stable")
    tt, ee = time[order], event[order]
    utimes = np.unique(tt[(ee == 1) & (tt <= t)])
    surv, gw = 1.0, 0.0
    for u in utimes:
        n_risk = float(np.sum(tt >= u))
        d = float(np.sum((tt == u) & (ee == 1)))
        surv *= 1.0 - d / n_risk
        if n_risk > d:
            gw += d / (n_risk * (n_risk - d))
    se = surv * np.sqrt(gw)
    if 0.0 < surv < 1.0:
        half = z * np.sqrt(gw) / abs(np.log(surv))
        s_lo, s_hi = surv ** np.exp(half), surv ** np.exp(-half)
    else:
        s_lo = s_hi = surv
    return 1.0 - surv, float(se), 1.0 - s_hi, 1.0 - s_lo


def risk_groups(
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    t: float,
    *,
    groups: int = 5,
    conf_level: float = 0.95,
) -> tuple[RiskGroup, ...]:
    """Observed vs predicted risk at ``t`` in quantile groups of the predicted risk.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    risk
        Predicted risk of an event by ``t`` per patient.
    t
        Landmark.
    groups
        Number of quantile groups (5 by default).
    conf_level
        Level of the log-log interval of the observed risk.

    Returns
    -------
    tuple of RiskGroup
    """
    tt, e = as_survival(time, event)
    r = as_score(risk, tt.size, "risk")
    if groups < 2:
        raise AnalysisError("use at least two risk groups")
    if float(tt.max()) < t:
        raise AnalysisError(f"follow-up ends at {tt.max():g}, before the landmark {t:g}")
    cuts = np.quantile(r, np.arange(1, groups) / groups, method="linear")
    grp = np.searchsorted(cuts, r, side="left")  # q_{k-1} < r <= q_k -> k
    z = z_value(conf_level)
    out = []
    for k in np.unique(grp):
        m = grp == k
        obs, se, lo, hi = km_risk_at(tt[m], e[m].astype(float), t, z)
        out.append(
            RiskGroup(
                group=int(k) + 1,
                n=int(m.sum()),
                events=int(e[m].sum()),
                lower_cut=float(cuts[k - 1]) if k > 0 else None,
                upper_cut=float(cuts[k]) if k < cuts.size else None,
                predicted=float(r[m].mean()),
                observed=obs,
                se=se,
                lower=lo,
                upper=hi,
            )
        )
    return tuple(out)


def calibration_slope(
    time: ArrayLike, event: ArrayLike, lp: ArrayLike, *, conf_level: float = 0.95
) -> CalibrationSlope:
    """Calibration slope: Cox regression of the outcome on the linear predictor.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators of the evaluation data.
    lp
        Linear predictor of the model under evaluation for these patients.
    conf_level
        Level of the Wald interval.

    Returns
    -------
    CalibrationSlope
        ``converged`` False (and NaN slope) when the likelihood is monotone.
    """
    tt, e = as_survival(time, event)
    x = as_score(lp, tt.size, "lp")
    if np.ptp(x) == 0:
        raise AnalysisError("the linear predictor is constant: no calibration slope")
    fit = fit_efron(tt, e, x[:, None])
    z = z_value(conf_level)
    if not fit.converged:
        nan = float("nan")
        return CalibrationSlope(nan, nan, nan, nan, conf_level, False)
    b = float(fit.coef[0])
    se = float(1.0 / np.sqrt(fit.information[0, 0]))
    return CalibrationSlope(b, se, b - z * se, b + z * se, conf_level, True)


def _rcs_basis(x: FloatArray, knots: FloatArray) -> FloatArray:
    """Restricted cubic spline basis (x and one non-linear term for 3 knots), as rcspline.eval."""
    k1, k2, k3 = knots
    scale = (k3 - k1) ** 2
    cube = np.maximum(x - k1, 0) ** 3 - np.maximum(x - k2, 0) ** 3 * (k3 - k1) / (k3 - k2)
    cube = cube + np.maximum(x - k3, 0) ** 3 * (k2 - k1) / (k3 - k2)
    out: FloatArray = np.column_stack([x, cube / scale])
    return out


def smooth_calibration(
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    t: float,
    *,
    grid_points: int = 50,
) -> SmoothCalibration:
    """Smoothed calibration curve at ``t`` (hazard regression on a spline of cloglog risk).

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    risk
        Predicted risk of an event by ``t`` per patient (strictly between 0 and 1).
    t
        Landmark.
    grid_points
        Points of the curve, evenly spaced between the 1st and 99th percentile of the risk.

    Returns
    -------
    SmoothCalibration
    """
    tt, e = as_survival(time, event)
    r = as_score(risk, tt.size, "risk")
    if np.any((r <= 0) | (r >= 1)):
        raise AnalysisError("predicted risks must lie strictly between 0 and 1")
    cll = np.log(-np.log1p(-r))
    knots = np.quantile(cll, [0.1, 0.5, 0.9], method="linear")
    spline = np.unique(knots).size == 3
    basis = _rcs_basis(cll, knots) if spline else cll[:, None]
    fit = fit_efron(tt, e, basis)
    if not fit.converged:
        raise AnalysisError("the calibration model did not converge (too few events?)")
    lp = basis @ fit.coef
    observed = predict_risk(tt, e, lp, np.array([float(t)]))[:, 0]
    err = np.abs(observed - r)
    lo, hi = np.quantile(r, [0.01, 0.99])
    grid = np.linspace(lo, hi, grid_points)
    gcll = np.log(-np.log1p(-grid))
    gbasis = _rcs_basis(gcll, knots) if spline else gcll[:, None]
    curve = predict_risk(tt, e, lp, np.array([float(t)]), lp_new=gbasis @ fit.coef)[:, 0]
    return SmoothCalibration(
        time=float(t),
        knots=tuple(float(k) for k in knots),
        grid=tuple(float(g) for g in grid),
        curve=tuple(float(c) for c in curve),
        ici=float(err.mean()),
        e50=float(np.median(err)),
        e90=float(np.quantile(err, 0.9)),
        emax=float(err.max()),
    )
