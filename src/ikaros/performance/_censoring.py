"""The Kaplan-Meier estimate of the censoring distribution and its influence function.

Used by Uno's C (weights ``1 / G(t-)^2``) and by the inverse-probability-of-censoring weighted
time-dependent AUC and Brier score. ``G`` is the "reverse" Kaplan-Meier curve; at a time where
deaths and censorings are tied, deaths leave the risk set first, as in R ``prodlim(...,
reverse = TRUE)`` and ``survival:::fastkm1``.

The influence function is that of the Nelson-Aalen cumulative censoring hazard, in the discrete
form riskRegression::Score uses for its standard errors (Gerds & Schumacher 2006; Blanche et
al. 2013): with ``Y(u)`` the number with time >= u (deaths included) and ``c(u)`` the number
censored at ``u``,

    IF_k(Lambda(s)) = (1 - delta_k) 1{T_k <= s} n / Y(T_k)
                      - sum_{u <= min(T_k, s)} c(u) n / Y(u)^2 .

An IPCW weight ``1 / G(s)`` then has influence ``IF_k(Lambda(s)) / G(s)``.

References
----------
Gerds TA, Schumacher M. Consistent estimation of the expected Brier score in general survival
models with right-censored event times. Biom J 2006;48:1029-1040.
Blanche P, Dartigues JF, Jacqmin-Gadda H. Estimating and comparing time-dependent areas under
receiver operating characteristic curves for censored event times with competing risks. Stat Med
2013;32:5381-5397.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ikaros.performance._checks import FloatArray

__all__ = ["CensoringKM"]


class CensoringKM:
    """Reverse Kaplan-Meier ``G`` of one sample and the influence of its cumulative hazard."""

    def __init__(self, time: FloatArray, event: NDArray[np.int64]) -> None:
        self.n = time.size
        self.time = time
        self.event = event
        utimes, inverse = np.unique(time, return_inverse=True)
        self.utimes = utimes
        n_at = np.bincount(inverse, minlength=utimes.size)
        deaths = np.bincount(inverse, weights=event, minlength=utimes.size)
        cens = n_at - deaths
        at_risk = np.cumsum(n_at[::-1])[::-1].astype(float)
        self.at_risk = at_risk
        # G: deaths leave before censorings at tied times
        after_deaths = at_risk - deaths
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(cens > 0, 1.0 - cens / after_deaths, 1.0)
        self.G_after = np.cumprod(factor)  # G(u) at each unique time (right-continuous)
        # Nelson-Aalen pieces of the influence function (censoring hazard over Y incl. deaths)
        self.mc = np.cumsum(cens * self.n / at_risk**2)
        self.jump = self.n / at_risk  # n / Y(u)
        self.own_index = inverse
        self.censored = 1 - event

    def G(self, s: FloatArray) -> FloatArray:
        """``G(s)`` (right-continuous)."""
        idx = np.searchsorted(self.utimes, s, side="right") - 1
        out: FloatArray = np.where(idx >= 0, self.G_after[np.maximum(idx, 0)], 1.0)
        return out

    def G_minus(self, s: FloatArray) -> FloatArray:
        """``G(s-)``, the left limit."""
        idx = np.searchsorted(self.utimes, s, side="left") - 1
        out: FloatArray = np.where(idx >= 0, self.G_after[np.maximum(idx, 0)], 1.0)
        return out

    def influence(self, s: FloatArray, left: bool) -> FloatArray:
        """``IF_k(Lambda(s_i))`` as an ``(n, len(s))`` matrix (rows k = patients).

        ``left=True`` evaluates at ``s_i-`` (the weight of a case observed at ``s_i``).
        """
        s = np.atleast_1d(s)
        side: Literal["left", "right"] = "left" if left else "right"
        # index of the last unique time counted in Lambda(s) (-1: none)
        s_idx = np.searchsorted(self.utimes, s, side=side) - 1
        k_idx = self.own_index
        upto = np.minimum(k_idx[:, None], s_idx[None, :])
        mc = np.where(upto >= 0, self.mc[np.maximum(upto, 0)], 0.0)
        counted = k_idx[:, None] <= s_idx[None, :]
        own = (self.censored * self.jump[k_idx])[:, None] * counted
        out: FloatArray = own - mc
        return out
