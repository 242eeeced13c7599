"""Log-rank tests: k groups, stratified, and the test for trend across ordered groups.

Why not lifelines alone: ``lifelines.statistics.multivariate_logrank_test`` has neither strata nor
a trend test and does not return the variance matrix they need. All three tests here are built
on one computation of observed and expected events and their covariance (as R's ``survdiff``),
so they share one tested code path; the unstratified test is also cross-checked against lifelines
in the tests. The numbers at risk and deaths of every group come from one sorted layout of the
patients (:mod:`ikaros.scan._layout`, running counts per group), not from a sort per group and
stratum; with ``survival=`` (:mod:`ikaros.stats.survdata`) there is no sort at all. Group labels
are coded by hashing (:func:`_labels_and_codes`), not by sorting a million strings.

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
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.scan._layout import make_layout
from ikaros.stats._dist import chi2_sf
from ikaros.stats.survdata import SurvivalData, checked_order

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
    order: NDArray[np.intp] | None = None,
) -> _OEV:
    """Observed and expected events per group and their covariance, summed over strata.

    The patients are laid out by stratum and decreasing time once
    (:func:`ikaros.scan._layout.make_layout`; no sort when ``order`` is known): the numbers at
    risk of every group at every event time are running counts of the group's rows, read at
    the end of each risk set, and its deaths the difference to the row before the death group.
    """
    lay = make_layout(time, event == 1, "breslow", strata, order=order)
    assert lay.end_rows is not None and lay.before_rows is not None
    assert lay.has_before is not None
    n = time.size
    counts = np.zeros((k, n))
    counts[codes[lay.order], np.arange(n)] = 1.0
    lay.row_cumsum(counts)
    at_risk = counts[:, lay.end_rows].T  # (m, k)
    before = counts[:, lay.before_rows].T
    before[~lay.has_before] = 0.0
    deaths = at_risk - before
    n_tot = lay.at_risk
    d_tot = lay.deaths
    frac = at_risk / n_tot[:, None]
    obs = deaths.sum(axis=0)
    exp = d_tot @ frac
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n_tot > 1, d_tot * (n_tot - d_tot) / (n_tot - 1), 0.0)
    var = np.diag(factor @ frac) - (frac * factor[:, None]).T @ frac
    n_group = np.bincount(codes, minlength=k).astype(np.int64)
    return _OEV(obs, exp, var, n_group)


def _labels_and_codes(values: NDArray[Any]) -> tuple[list[str], NDArray[np.int64]]:
    """``numpy.unique(values.astype(str), return_inverse=True)``, by hashing where exact.

    Sorting a million labels as strings took a second; hashing (pandas ``factorize``) and
    sorting the few distinct labels gives the same labels and codes whenever equal values are
    equal strings: text labels, integers and booleans, floats other than NaN and -0.0.
    Anything else takes the string sort.
    """
    import pandas as pd

    kind = values.dtype.kind
    fast = kind in "iub"
    if kind == "f":
        fast = bool(np.all(np.isfinite(values)) and not np.any((values == 0) & np.signbit(values)))
    raw: NDArray[np.intp] | None = None
    uniq: Any = None
    if fast or kind == "O":
        raw, uniq = pd.factorize(values, use_na_sentinel=True)
        if kind == "O" and (np.any(raw < 0) or not all(type(u) is str for u in uniq)):
            raw = None
    if raw is None:
        labels, codes = np.unique(values.astype(str), return_inverse=True)
        return [str(x) for x in labels], codes.astype(np.int64)
    names = np.array([str(u) for u in uniq])
    labels, inverse = np.unique(names, return_inverse=True)
    return [str(x) for x in labels], inverse[raw].astype(np.int64)


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
    labels, codes = _labels_and_codes(g)
    s_codes = None
    if strata is not None:
        s = np.asarray(strata)
        if s.shape != t.shape:
            raise AnalysisError("strata must have one value per patient")
        _, s_codes = _labels_and_codes(s)
    return t, e, codes, labels, s_codes


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
    survival: SurvivalData | None = None,
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
    survival
        The same ``time`` and ``event`` already sorted (:class:`~ikaros.stats.survdata.
        SurvivalData`): no sort is done then; the result is the same.

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
    oev = _observed_expected(t, e, codes, k, s_codes, checked_order(survival, t, e == 1))
    diff = oev.observed - oev.expected
    # generalised inverse over the first k-1 groups, as survdiff
    v = oev.variance[:-1, :-1]
    u = diff[:-1]
    vinv = np.linalg.pinv(v, rcond=1e-10, hermitian=True)
    chisq = float(u @ vinv @ u)
    df = int(np.linalg.matrix_rank(v, tol=1e-10 * max(1.0, float(np.abs(v).max(initial=0)))))
    p = float(chi2_sf(max(chisq, 0.0), df)) if df > 0 else float("nan")
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
    survival: SurvivalData | None = None,
) -> TrendResult:
    """Log-rank test for trend across ordered groups.

    The statistic is ``(w'(O - E))**2 / (w' V w)`` on 1 df, with scores ``w`` (default 1..k).
    ``survival`` as in :func:`logrank`.
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
    oev = _observed_expected(t, e, codes, k, s_codes, checked_order(survival, t, e == 1))
    u = float(w @ (oev.observed - oev.expected))
    v = float(w @ oev.variance @ w)
    if v <= 0:
        raise AnalysisError("trend test variance is zero: no information across groups")
    chisq = u * u / v
    return TrendResult(
        statistic=chisq,
        p=float(chi2_sf(max(chisq, 0.0), 1)),
        scores=tuple(float(x) for x in w),
        groups=tuple(labels),
    )
