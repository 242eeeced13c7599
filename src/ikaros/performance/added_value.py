"""Added value of a model over a nested base model (e.g. marker + ISS over ISS alone).

- Likelihood-ratio test of the nested Cox models on the same patients (``anova(base, full)`` in
  R): ``2 (loglik_full - loglik_base)`` on the difference in the number of terms.
- Change in Harrell's C with two intervals: the infinitesimal-jackknife one of R
  ``concordance(base, full)`` (:func:`ikaros.performance.concordance.concordance_difference`)
  and a percentile bootstrap interval in which both models are refitted in every resample
  (seeded; replicates where a refit does not converge are dropped and counted).

References
----------
Harrell FE Jr. Regression Modeling Strategies, 2nd ed. Springer 2015 (sec. 9.8, 20.10).
Pencina MJ, D'Agostino RB Sr, Song L. Quantifying discrimination of a model as a function of
time. Stat Med 2012;31:1543-1553.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.performance._checks import as_survival
from ikaros.performance._cox import fit_efron
from ikaros.performance.concordance import (
    ConcordanceDifference,
    c_value,
    concordance_difference,
    harrell_c,
)
from ikaros.stats._dist import chi2_sf

__all__ = ["AddedValue", "added_value"]


@dataclass(frozen=True)
class AddedValue:
    """Full vs base model: LR test and change in C with IJ and bootstrap intervals."""

    base_terms: tuple[str, ...]
    full_terms: tuple[str, ...]
    n: int
    events: int
    loglik_base: float
    loglik_full: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    delta_c: ConcordanceDifference
    boot_lower: float
    boot_upper: float
    B: int
    B_used: int
    seed: int
    conf_level: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        out = {k: v for k, v in self.__dict__.items() if k != "delta_c"}
        out["base_terms"] = list(self.base_terms)
        out["full_terms"] = list(self.full_terms)
        out["delta_c"] = self.delta_c.to_dict()
        return out


def added_value(
    time: ArrayLike,
    event: ArrayLike,
    covariates: pd.DataFrame,
    base_terms: Sequence[str],
    *,
    B: int = 200,
    seed: int = 20240601,
    conf_level: float = 0.95,
) -> AddedValue:
    """Compare the model with all ``covariates`` against the nested model with ``base_terms``.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators (complete cases over all covariates).
    covariates
        Columns of the full model.
    base_terms
        Columns of the base model (a proper subset of ``covariates``).
    B, seed
        Bootstrap replicates and seed of the percentile interval of the change in C.
    conf_level
        Level of both intervals.

    Returns
    -------
    AddedValue
    """
    t, e = as_survival(time, event)
    full = [str(c) for c in covariates.columns]
    base = [str(c) for c in base_terms]
    if not base or not set(base) < set(full):
        raise AnalysisError(
            f"the base model {base} must be a proper subset of the full model {full}"
        )
    Xf = covariates[full].to_numpy(dtype=float)
    Xb = covariates[base].to_numpy(dtype=float)
    if Xf.shape[0] != t.size or not np.all(np.isfinite(Xf)):
        raise AnalysisError("covariates must be finite, one row per patient (complete cases)")
    fb, ff = fit_efron(t, e, Xb), fit_efron(t, e, Xf)
    if not (fb.converged and ff.converged):
        raise AnalysisError("a Cox model did not converge: the likelihood-ratio test is undefined")
    lr = 2.0 * (ff.loglik - fb.loglik)
    df = len(full) - len(base)
    cb, cf = harrell_c(t, e, Xb @ fb.coef), harrell_c(t, e, Xf @ ff.coef)
    diff = concordance_difference(cb, cf, conf_level=conf_level)
    rng = np.random.default_rng(seed)
    deltas = []
    n = t.size
    for _ in range(B):
        idx = rng.integers(0, n, size=n)
        tb, eb = t[idx], e[idx]
        if eb.sum() == 0 or np.any(np.ptp(Xf[idx], axis=0) == 0):
            continue
        gb, gf = fit_efron(tb, eb, Xb[idx]), fit_efron(tb, eb, Xf[idx])
        if not (gb.converged and gf.converged):
            continue
        deltas.append(c_value(tb, eb, Xf[idx] @ gf.coef) - c_value(tb, eb, Xb[idx] @ gb.coef))
    alpha = 1.0 - conf_level
    if len(deltas) >= 2:
        lo, hi = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    else:
        lo = hi = float("nan")
    return AddedValue(
        base_terms=tuple(base),
        full_terms=tuple(full),
        n=int(n),
        events=int(e.sum()),
        loglik_base=fb.loglik,
        loglik_full=ff.loglik,
        lr_statistic=float(lr),
        lr_df=df,
        lr_p=float(chi2_sf(lr, df)),
        delta_c=diff,
        boot_lower=float(lo),
        boot_upper=float(hi),
        B=B,
        B_used=len(deltas),
        seed=seed,
        conf_level=conf_level,
    )
