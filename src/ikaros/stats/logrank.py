"""Log-rank tests: k groups, stratified, and the test for trend across ordered groups.

Why not lifelines alone: ``lifelines.statistics.multivariate_logrank_test`` has neither strata nor
a trend test and does not return the variance matrix they need. All three tests here are built
on one computation of observed and expected events and their covariance (as R's ``survdiff``),
so they share one tested code path; the unstratified test is also cross-checked against lifelines
in the tests.

References
----------
Mantel N. Evaluation of survival data and two new rank order statistics arising in its
consideration. Cancer Chemother Rep 1966;50:163-170.
Peto R, Peto J. Asymptotically efficient rank invariant test procedures. J R Stat Soc A
1972;135:185-207.
Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC 2015, sections 2.6-2.7
(stratified log-rank and the test for trend).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ikaros.errors import AnalysisError

__all__ = ["LogrankResult", "TrendResult", "logrank", "logrank_trend"]


@dataclass(frozen=True)
class LogrankResult:
    """Log-rank test of equal hazards across groups (optionally within strata)."""

    statistic: float
    df: int
    p: float
    groups: tuple[str, ...]
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    stratified_by: str | None = None


@dataclass(frozen=True)
class TrendResult:
    """Log-rank test for a monotone trend of hazards across ordered groups (1 df)."""

    statistic: float
    p: float
    scores: tuple[float, ...]
    groups: tuple[str, ...]
    df: int = 1


@dataclass(frozen=True)
class _OEV:
    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    variance: NDArray[np.float64]
    n: NDArray[np.int64]


def _observed_expected(
    time: NDArray[np.float64],
    event: NDArray[np.int64],
    codes: NDArray[np.int64],
    k: int,
    strata: NDArray[np.int64] | None,
) -> _OEV:
    obs = np.zeros(k)
    exp = np.zeros(k)
    var = np.zeros((k, k))
    strata_codes = np.zeros(time.size, dtype=np.int64) if strata is None else strata
    for s in np.unique(strata_codes):
        m = strata_codes == s
        t, e, g = time[m], event[m], codes[m]
        event_times = np.unique(t[e == 1])
        if event_times.size == 0:
            continue
        at_risk = np.empty((event_times.size, k))
        deaths = np.empty((event_times.size, k))
        for j in range(k):
            tj = np.sort(t[g == j])
            dj = np.sort(t[(g == j) & (e == 1)])
            at_risk[:, j] = tj.size - np.searchsorted(tj, event_times, side="left")
            deaths[:, j] = np.searchsorted(dj, event_times, side="right") - np.searchsorted(
                dj, event_times, side="left"
            )
        n_tot = at_risk.sum(axis=1)
        d_tot = deaths.sum(axis=1)
        frac = at_risk / n_tot[:, None]
        obs += deaths.sum(axis=0)
        exp += (d_tot[:, None] * frac).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.where(n_tot > 1, d_tot * (n_tot - d_tot) / (n_tot - 1), 0.0)
        var += np.einsum("t,tj,jk->jk", factor, frac, np.eye(k)) - np.einsum(
            "t,tj,tk->jk", factor, frac, frac
        )
    n = np.bincount(codes, minlength=k).astype(np.int64)
    return _OEV(obs, exp, var, n)


def _prepare(
    time: ArrayLike, event: ArrayLike, groups: ArrayLike, strata: ArrayLike | None
) -> tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], list[str], NDArray[np.int64] | None
]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(np.int64)
    g = np.asarray(groups)
    if not (t.shape == e.shape == g.shape) or t.ndim != 1:
        raise AnalysisError("time, event and groups must be one-dimensional and of equal length")
    labels, codes = np.unique(g.astype(str), return_inverse=True)
    s_codes = None
    if strata is not None:
        s = np.asarray(strata)
        if s.shape != t.shape:
            raise AnalysisError("strata must have one value per patient")
        _, s_codes = np.unique(s.astype(str), return_inverse=True)
    return t, e, codes.astype(np.int64), [str(x) for x in labels], s_codes


def _order_labels(
    labels: list[str], codes: NDArray[np.int64], order: Sequence[str] | None
) -> tuple[list[str], NDArray[np.int64]]:
    if order is None:
        return labels, codes
    missing = [lab for lab in labels if lab not in order]
    if missing:
        raise AnalysisError(f"group(s) {missing} not in the given order {list(order)}")
    present = [lab for lab in order if lab in labels]
    remap = np.array([present.index(lab) for lab in labels])
    return present, remap[codes]


def logrank(
    time: ArrayLike,
    event: ArrayLike,
    groups: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    order: Sequence[str] | None = None,
    strata_name: str | None = None,
) -> LogrankResult:
    """Log-rank test (Mantel-Haenszel form, as R ``survdiff`` with ``rho = 0``).

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    groups
        Group label per patient; at least two distinct labels.
    strata
        Optional stratum per patient: observed and expected events and the variance are summed
        over strata (R ``survdiff(... + strata(s))``).
    order
        Order of the group labels in the result (default: sorted).
    strata_name
        Name of the stratifying variable, recorded in the result.

    Returns
    -------
    LogrankResult
        Chi-square statistic on k - 1 degrees of freedom (the rank of the variance matrix).
    """
    t, e, codes, labels, s_codes = _prepare(time, event, groups, strata)
    labels, codes = _order_labels(labels, codes, order)
    k = len(labels)
    if k < 2:
        raise AnalysisError(f"log-rank test needs at least two groups, got {labels}")
    if e.sum() == 0:
        raise AnalysisError("log-rank test needs at least one event")
    oev = _observed_expected(t, e, codes, k, s_codes)
    diff = oev.observed - oev.expected
    # generalised inverse over the first k-1 groups, as survdiff
    v = oev.variance[:-1, :-1]
    u = diff[:-1]
    vinv = np.linalg.pinv(v, rcond=1e-10, hermitian=True)
    chisq = float(u @ vinv @ u)
    df = int(np.linalg.matrix_rank(v, tol=1e-10 * max(1.0, float(np.abs(v).max(initial=0)))))
    p = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    return LogrankResult(
        statistic=chisq,
        df=df,
        p=p,
        groups=tuple(labels),
        n=tuple(int(x) for x in oev.n),
        observed=tuple(float(x) for x in oev.observed),
        expected=tuple(float(x) for x in oev.expected),
        stratified_by=strata_name if strata is not None else None,
    )


def logrank_trend(
    time: ArrayLike,
    event: ArrayLike,
    groups: ArrayLike,
    *,
    order: Sequence[str],
    scores: Sequence[float] | None = None,
    strata: ArrayLike | None = None,
) -> TrendResult:
    """Log-rank test for trend across ordered groups.

    The statistic is ``(w'(O - E))**2 / (w' V w)`` on 1 df, with scores ``w`` (default 1..k).
    """
    t, e, codes, labels, s_codes = _prepare(time, event, groups, strata)
    labels, codes = _order_labels(labels, codes, order)
    k = len(labels)
    if k < 3:
        raise AnalysisError("a trend test needs at least three ordered groups")
    w = np.arange(1.0, k + 1.0) if scores is None else np.asarray(scores, dtype=float)
    if w.size != k:
        raise AnalysisError(f"{w.size} scores given for {k} groups")
    if e.sum() == 0:
        raise AnalysisError("trend test needs at least one event")
    oev = _observed_expected(t, e, codes, k, s_codes)
    u = float(w @ (oev.observed - oev.expected))
    v = float(w @ oev.variance @ w)
    if v <= 0:
        raise AnalysisError("trend test variance is zero: no information across groups")
    chisq = u * u / v
    return TrendResult(
        statistic=chisq,
        p=float(stats.chi2.sf(chisq, 1)),
        scores=tuple(float(x) for x in w),
        groups=tuple(labels),
    )
