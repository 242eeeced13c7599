"""Harrell's bootstrap optimism correction of C (Somers' Dxy) and the calibration slope.

As ``rms::validate(fit, method = "boot", B)``: for each of ``B`` bootstrap samples the model is
refitted (Efron ties); its performance in the bootstrap sample ("training") minus its
performance in the original data ("test") is that replicate's optimism. The corrected index is
the apparent index minus the mean optimism. Indices: Harrell's C (survival::concordance; Dxy =
2C - 1 as rms reports it, which agrees with Hmisc's rcorr.cens to ~1e-5 on the reference
cohorts) and the calibration slope (apparent slope = 1). A replicate whose refit does not
converge (monotone likelihood in the resample) is dropped and counted, as rms drops failed fits.
The Monte Carlo standard error of the corrected index is ``sd(optimism) / sqrt(B_used)``.

Resampling uses ``numpy.random.default_rng(seed)``: the same data and seed give identical
results (but not R's replicates).

References
----------
Harrell FE Jr, Lee KL, Mark DB. Multivariable prognostic models: issues in developing models,
evaluating assumptions and adequacy, and measuring and reducing errors. Stat Med
1996;15:361-387.
Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993 (ch. 17).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.performance._checks import FloatArray, as_survival
from ikaros.performance._cox import fit_efron
from ikaros.performance.calibration import calibration_slope
from ikaros.performance.concordance import c_value, harrell_c

__all__ = ["OptimismIndex", "OptimismResult", "optimism_bootstrap"]

DEFAULT_B = 200


@dataclass(frozen=True)
class OptimismIndex:
    """Apparent, mean optimism, corrected, and the Monte Carlo SE of the corrected index."""

    name: str
    apparent: float
    training: float
    test: float
    optimism: float
    corrected: float
    mc_se: float


@dataclass(frozen=True)
class OptimismResult:
    """Bootstrap validation of one Cox model (C, Dxy and calibration slope)."""

    c: OptimismIndex
    dxy: OptimismIndex
    slope: OptimismIndex
    B: int
    B_used: int
    seed: int
    failed: int
    method: str = "Harrell bootstrap optimism correction (rms::validate, method = 'boot')"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "method": self.method,
            "B": self.B,
            "B_used": self.B_used,
            "failed": self.failed,
            "seed": self.seed,
            "indices": [dict(i.__dict__) for i in (self.c, self.dxy, self.slope)],
        }


def _index(name: str, apparent: float, train: FloatArray, test: FloatArray) -> OptimismIndex:
    opt = train - test
    mc = float(np.std(opt, ddof=1) / np.sqrt(opt.size)) if opt.size > 1 else float("nan")
    return OptimismIndex(
        name=name,
        apparent=apparent,
        training=float(train.mean()),
        test=float(test.mean()),
        optimism=float(opt.mean()),
        corrected=float(apparent - opt.mean()),
        mc_se=mc,
    )


def optimism_bootstrap(
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike,
    *,
    B: int = DEFAULT_B,
    seed: int = 20240601,
    coef: ArrayLike | None = None,
) -> OptimismResult:
    """Bootstrap optimism-corrected C, Dxy and calibration slope of a Cox model.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators (complete cases).
    covariates
        ``(n, p)`` covariate matrix of the model.
    B
        Number of bootstrap replicates (200 by default).
    seed
        Seed of ``numpy.random.default_rng``.
    coef
        Coefficients of the apparent model (default: fitted here with Efron ties).

    Returns
    -------
    OptimismResult
    """
    t, e = as_survival(time, event)
    X = np.asarray(covariates, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] != t.size:
        raise AnalysisError(f"covariates have {X.shape[0]} rows for {t.size} patients")
    if B < 2:
        raise AnalysisError("use at least 2 bootstrap replicates")
    if coef is None:
        fit = fit_efron(t, e, X)
        if not fit.converged:
            raise AnalysisError("the Cox model did not converge: no bootstrap validation")
        beta = fit.coef
    else:
        beta = np.asarray(coef, dtype=float).ravel()
    rng = np.random.default_rng(seed)
    n = t.size
    indices = (rng.integers(0, n, size=n) for _ in range(B))
    c_app, ctr, cte, ste, failed = _replicates(t, e, X, beta, indices)
    used = ctr.size
    if used < 2:
        raise AnalysisError(f"only {used} of {B} bootstrap refits converged")
    return OptimismResult(
        c=_index("C", c_app, ctr, cte),
        dxy=_index("Dxy", 2 * c_app - 1, 2 * ctr - 1, 2 * cte - 1),
        slope=_index("slope", 1.0, np.ones(used), ste),
        B=B,
        B_used=used,
        seed=seed,
        failed=failed,
    )


def _replicates(
    t: FloatArray,
    e: NDArray[np.int64],
    X: FloatArray,
    beta: FloatArray,
    indices: Iterable[NDArray[np.int64]],
) -> tuple[float, FloatArray, FloatArray, FloatArray, int]:
    """Apparent C and per-replicate training C, test C and test slope for given resamples."""
    lp = X @ beta
    c_app = harrell_c(t, e, lp).c
    c_train, c_test, s_test = [], [], []
    failed = 0
    for idx in indices:
        tb, eb, Xb = t[idx], e[idx], X[idx]
        if eb.sum() == 0 or np.any(np.ptp(Xb, axis=0) == 0):
            failed += 1
            continue
        fb = fit_efron(tb, eb, Xb)
        if not fb.converged:
            failed += 1
            continue
        lp_orig = X @ fb.coef
        slope = calibration_slope(t, e, lp_orig) if np.ptp(lp_orig) > 0 else None
        if slope is None or not slope.converged:
            failed += 1
            continue
        c_train.append(c_value(tb, eb, Xb @ fb.coef))
        c_test.append(c_value(t, e, lp_orig))
        s_test.append(slope.slope)
    return c_app, np.array(c_train), np.array(c_test), np.array(s_test), failed
