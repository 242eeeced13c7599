"""Brier score at landmarks and the integrated Brier score, with IPCW, as riskRegression::Score.

For predicted risks ``F(t | x_i)`` of an event by ``t``,

    BS(t) = (1/n) sum_i [ 1{T_i <= t, d_i = 1} (1 - F_i)^2 / G(T_i-) + 1{T_i > t} F_i^2 / G(t) ]

(patients censored before ``t`` contribute through the weights of the others; ``G`` is the
Kaplan-Meier estimate of the censoring distribution, :mod:`ikaros.performance._censoring`). The
standard error is the standard deviation of the influence function over ``sqrt(n)``, including
the term from estimating ``G`` (Score with ``cens.model = "km"``, ``conservative = FALSE``); the
interval is ``BS +/- z se`` clipped to [0, 1].

The integrated Brier score up to ``t_k`` on a grid ``0 < t_1 < ... < t_K`` is Score's
step-function rule, ``IBS(t_k) = (1 / t_k) sum_{j < k} BS(t_j) (t_{j+1} - t_j)`` with
``BS(0) = 0`` (``summary = "ibs"``); a fine grid (e.g. monthly) approximates the integral.

Why own code: scikit-survival's ``brier_score`` has no standard error and lifelines has none.

References
----------
Graf E, Schmoor C, Sauerbrei W, Schumacher M. Assessment and comparison of prognostic
classification schemes for survival data. Stat Med 1999;18:2529-2545.
Gerds TA, Schumacher M. Consistent estimation of the expected Brier score in general survival
models with right-censored event times. Biom J 2006;48:1029-1040.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.performance._censoring import CensoringKM
from ikaros.performance._checks import FloatArray, as_survival, as_times, z_value

__all__ = ["BrierPoint", "BrierScore", "brier_score", "integrated_brier"]


@dataclass(frozen=True)
class BrierPoint:
    """Brier score at one landmark (NaN with ``reason`` when nobody is followed past it)."""

    time: float
    brier: float
    se: float
    lower: float
    upper: float
    reason: str | None = None


@dataclass(frozen=True)
class BrierScore:
    """Brier scores at landmarks and the integrated Brier score over a grid."""

    points: tuple[BrierPoint, ...]
    conf_level: float
    n: int
    ibs_grid: tuple[float, ...] = ()
    ibs: tuple[float, ...] = ()
    weighting: str = "IPCW, Kaplan-Meier censoring"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the IBS as (time, value) pairs at the grid times)."""
        return {
            "conf_level": self.conf_level,
            "n": self.n,
            "weighting": self.weighting,
            "points": [dict(p.__dict__) for p in self.points],
            "ibs": [{"time": u, "ibs": v} for u, v in zip(self.ibs_grid, self.ibs, strict=True)],
        }


def _check_risk(risk: ArrayLike, n: int, k: int) -> FloatArray:
    r = np.asarray(risk, dtype=float)
    if r.ndim == 1 and k == 1:
        r = r[:, None]
    if r.shape != (n, k):
        raise AnalysisError(f"predicted risks must be an ({n}, {k}) array, got {r.shape}")
    if not np.all((r >= 0) & (r <= 1)):
        raise AnalysisError("predicted risks must lie in [0, 1]")
    return r


def _brier_at(
    km: CensoringKM, time: FloatArray, event: FloatArray, risk: FloatArray, tau: float, z: float
) -> BrierPoint:
    n = time.size
    case = (time <= tau) & (event == 1)
    ctrl = time > tau
    nan = float("nan")
    if not ctrl.any():
        return BrierPoint(tau, nan, nan, nan, nan, f"no patient was followed past t = {tau:g}")
    res = np.zeros(n)
    res[case] = (1.0 - risk[case]) ** 2 / km.G_minus(time[case])
    res[ctrl] = risk[ctrl] ** 2 / float(km.G(np.array([tau]))[0])
    bs = float(res.mean())
    infl = res - bs
    l_case = km.influence(time[case], left=True)
    l_tau = km.influence(np.array([tau]), left=False)[:, 0]
    infl = infl + (l_case @ res[case] + l_tau * res[ctrl].sum()) / n
    se = float(np.std(infl, ddof=1) / np.sqrt(n))
    return BrierPoint(tau, bs, se, max(0.0, bs - z * se), min(1.0, bs + z * se))


def brier_score(
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    times: float | ArrayLike,
    *,
    conf_level: float = 0.95,
) -> BrierScore:
    """IPCW Brier score with influence-function standard errors at each landmark.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    risk
        Predicted risks of an event by each time: ``(n, len(times))`` (``(n,)`` for one time).
    times
        Landmark(s), increasing.
    conf_level
        Level of the Wald interval (clipped to [0, 1]).

    Returns
    -------
    BrierScore
    """
    t, e = as_survival(time, event)
    grid = as_times(times)
    r = _check_risk(risk, t.size, grid.size)
    km = CensoringKM(t, e)
    z = z_value(conf_level)
    ef = e.astype(float)
    points = tuple(_brier_at(km, t, ef, r[:, k], float(u), z) for k, u in enumerate(grid))
    return BrierScore(points=points, conf_level=conf_level, n=int(t.size))


def integrated_brier(
    time: ArrayLike, event: ArrayLike, risk: ArrayLike, grid: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Brier scores on ``grid`` and the integrated Brier score up to each grid time.

    Returns
    -------
    (brier, ibs)
        Arrays over the grid; ``ibs[k]`` integrates ``BS`` from 0 to ``grid[k]`` with Score's
        step-function rule (see the module docstring).
    """
    t, e = as_survival(time, event)
    g = as_times(grid, "grid")
    r = _check_risk(risk, t.size, g.size)
    km = CensoringKM(t, e)
    ef = e.astype(float)
    bs = np.array([_brier_at(km, t, ef, r[:, k], float(u), 1.96).brier for k, u in enumerate(g)])
    x = np.concatenate([[0.0], g])
    y = np.concatenate([[0.0], bs])
    ibs = np.empty(g.size)
    for k, stop in enumerate(g):
        keep = x < stop
        xs, ys = x[keep], y[keep]
        ibs[k] = float(np.sum(ys * np.diff(np.concatenate([xs, [stop]]))) / stop)
    return bs, ibs
