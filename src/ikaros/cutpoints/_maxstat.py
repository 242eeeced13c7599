"""Public API: one marker (:func:`maxstat_cutpoint`), many markers (:func:`maxstat_scan`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.cutpoints._checks import (
    check_events,
    check_props,
    check_survival,
    degenerate_message,
)
from ikaros.cutpoints._engine import (
    BLOCK_ELEMENTS,
    RowScan,
    candidate_bounds,
    lausen94_tail,
    logrank_scores_rows,
    scan_rows,
    sorted_quantiles,
)
from ikaros.cutpoints._resample import bootstrap_cuts, permutation_p
from ikaros.errors import AnalysisError
from ikaros.groups import Grouping
from ikaros.stats._dist import norm_sf

__all__ = [
    "Cutpoint",
    "logrank_scores",
    "maxstat_cutpoint",
    "maxstat_scan",
    "optimal_grouping",
    "p_lausen94",
    "standardized_statistics",
]

PMethod = Literal["Lau94", "condMC", "both"]
_PMETHODS = ("Lau94", "condMC", "both")


@dataclass(frozen=True)
class Cutpoint:
    """A data-derived ("optimised") cutpoint and its search-corrected significance.

    Attributes
    ----------
    cutpoint
        Estimated cutpoint, an observed marker value: patients with ``x <= cutpoint`` form the
        low group (as R maxstat's ``estimate``).
    statistic
        Maximally selected standardized log-rank statistic ``M = max |S_m|`` over the candidate
        cuts (maxstat's ``M``).
    p_lau94
        P-value corrected for the search over cuts: the improved Bonferroni approximation of
        Lausen, Sauerbrei & Schumacher (1994) for the candidate cuts actually searched (maxstat
        ``pmethod = "Lau94"``), truncated at 1.
    p_permutation
        Conditional Monte-Carlo p-value (maxstat ``pmethod = "condMC"``), corrected for the
        search; ``(1 + #{M* >= M}) / (B + 1)``. ``None`` unless requested.
    n_permutations
        Number ``B`` of permutations behind :attr:`p_permutation` (0 if not computed).
    p_unadjusted
        Two-sided normal p-value of the selected cut alone, ``2 (1 - Phi(M))``. **Not corrected
        for the search**: it is what "best cutpoint" web tools report and is far too small;
        given for comparison only.
    minprop, maxprop
        Search range: the low group held between ``floor(n minprop)`` and ``floor(n maxprop)``
        patients.
    n_low, n_high, events_low, events_high
        Patients and events in the two groups (complete cases).
    ci_lower, ci_upper
        Bootstrap percentile confidence interval of the cutpoint, or ``None``. Its ends are
        percentiles of observed marker values; a cut at ``c`` puts the same patients low for any
        threshold up to the next observed value, so the threshold itself may lie up to one gap
        above ``ci_upper``. The percentile bootstrap undercovers for change points (in the
        tests' step-effect simulation: ~83% for a nominal 95%).
    n_bootstrap
        Bootstrap replicates behind the interval (0 if none). Replicates in which no cut can be
        searched (no event, or too few distinct values) are discarded and not counted.
    origin
        Always ``"optimised"``: the cut was tuned on these data.
    """

    cutpoint: float
    statistic: float
    p_lau94: float
    p_permutation: float | None
    n_permutations: int
    p_unadjusted: float
    minprop: float
    maxprop: float
    n_low: int
    n_high: int
    events_low: int
    events_high: int
    ci_lower: float | None
    ci_upper: float | None
    n_bootstrap: int
    origin: str = "optimised"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def logrank_scores(time: ArrayLike, event: ArrayLike) -> NDArray[np.float64]:
    """Log-rank scores for right-censored data, as used by the maximally selected statistic.

    ``a_i = event_i - sum_{j: t_j <= t_i} event_j / (n - gamma(t_j) + 1)``, with
    ``gamma(t) = #{k: t_k <= t}`` (so tied times share one increment).

    Parameters
    ----------
    time, event
        Follow-up times (>= 0) and 0/1 event indicators.

    Returns
    -------
    numpy.ndarray
        One score per patient, in input order.

    References
    ----------
    Hothorn T, Lausen B. On the exact distribution of maximally selected rank statistics.
    Comput Stat Data Anal 2003;43:121-137 (section 2).
    """
    t, e, ok = check_survival(time, event)
    if not np.all(ok):
        raise AnalysisError("time and event must not be missing (NaN) to compute scores")
    return logrank_scores_rows(t[None, :], e[None, :])[0]


def p_lausen94(statistic: float, n: int, m: ArrayLike) -> float:
    """Lau94 p-value of a maximally selected statistic over the cuts with low-group sizes ``m``.

    ``P(M >= b) ~ 2 (1 - Phi(b)) + sum_i exp(-b^2/2) / pi * (t_i - (b^2/4 - 1) t_i^3 / 6)``
    with ``t_i = sqrt(1 - m_i (n - m_{i+1}) / ((n - m_i) m_{i+1}))`` over consecutive candidate
    cuts. Truncated at 1.

    Parameters
    ----------
    statistic
        The maximally selected standardized statistic ``b``.
    n
        Number of patients.
    m
        Sizes of the low group at the candidate cuts (strictly increasing, within 1..n-1).

    References
    ----------
    Worsley KJ. An improved Bonferroni inequality and applications. Biometrika 1982;69:297-302.
    Lausen B, Sauerbrei W, Schumacher M. Classification and regression trees (CART) used for the
    exploration of prognostic factors measured on different scales. In: Dirschedl P, Ostermann R
    (eds). Computational Statistics. Heidelberg: Physica-Verlag; 1994. p. 483-496.
    """
    mm = np.asarray(m, dtype=float)
    if mm.ndim != 1 or mm.size == 0 or np.any(np.diff(mm) <= 0) or mm[0] < 1 or mm[-1] > n - 1:
        raise AnalysisError("m must be a strictly increasing sequence of group sizes in 1..n-1")
    m0, m1 = mm[:-1], mm[1:]
    t = np.sqrt(1.0 - m0 * (n - m1) / ((n - m0) * m1))
    b = np.array([float(statistic)])
    p = lausen94_tail(b, np.array([t.sum()]), np.array([(t**3).sum()]))[0]
    return float(min(1.0, p))


def _p_unadjusted(stat: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(2.0 * norm_sf(np.asarray(stat, dtype=float)), dtype=float)


@dataclass(frozen=True)
class _Prepared:
    """One marker's complete cases, sorted by the marker, and its scan."""

    time: NDArray[np.float64]
    event: NDArray[np.float64]
    x: NDArray[np.float64]
    scores: NDArray[np.float64]
    lo: int
    hi: int
    scan: RowScan


def _prepare_one(
    time: ArrayLike, event: ArrayLike, x: ArrayLike, minprop: float, maxprop: float
) -> _Prepared:
    """Validate one marker, drop incomplete rows, sort by x and scan (raises if no cut)."""
    check_props(minprop, maxprop)
    t, e, keep = check_survival(time, event)
    xv = np.asarray(x, dtype=float)
    if xv.shape != t.shape:
        raise AnalysisError(f"x must have one value per patient ({t.size}); got shape {xv.shape}")
    if np.any(np.isinf(xv)):
        raise AnalysisError("x contains infinite values")
    keep &= ~np.isnan(xv)
    t, e, xv = t[keep], e[keep], xv[keep]
    check_events(e)
    lo, hi = candidate_bounds(xv.size, minprop, maxprop)
    order = np.argsort(xv, kind="stable")
    xs = xv[order]
    a = logrank_scores_rows(t[None, :], e[None, :])[0][order]
    res = scan_rows(xs[None, :], a[None, :], lo, hi, keep=True)
    if res.index[0] < 0:
        raise AnalysisError(degenerate_message(xv, lo, hi, minprop, maxprop))
    return _Prepared(t[order], e[order], xs, a, lo, hi, res)


def standardized_statistics(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """The standardized log-rank statistic at every candidate cut (for plots and checks).

    Parameters
    ----------
    time, event, x, minprop, maxprop
        As for :func:`maxstat_cutpoint`.

    Returns
    -------
    dict
        ``cut`` (candidate cutpoints, ascending), ``n_low`` (patients with ``x <= cut``) and
        ``statistic`` (absolute standardized statistic ``|S|``; its maximum is ``M``). R
        maxstat returns the same as ``maxtest$cuts`` and ``maxtest$stats``.

    References
    ----------
    Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
    """
    prep = _prepare_one(time, event, x, minprop, maxprop)
    absz = prep.scan.abs_z[0]
    idx = np.flatnonzero(np.isfinite(absz))
    return {"cut": prep.x[idx], "n_low": (idx + 1).astype(np.int64), "statistic": absz[idx]}


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------


def maxstat_cutpoint(
    time: ArrayLike,
    event: ArrayLike,
    x: ArrayLike,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    pmethod: PMethod = "Lau94",
    n_permutations: int = 1000,
    n_bootstrap: int = 0,
    seed: int | np.random.SeedSequence | None = None,
    alpha: float = 0.05,
) -> Cutpoint:
    """Data-derived cutpoint by the maximally selected log-rank statistic, honestly tested.

    Every distinct marker value ``c`` whose cut ``x <= c`` leaves between ``floor(n minprop)``
    and ``floor(n maxprop)`` patients in the low group is a candidate. At each candidate the
    two-sample linear rank statistic of log-rank scores is standardized with its exact
    permutation mean and variance; the cutpoint maximises its absolute value ``M``. The p-value
    of ``M`` is corrected for the search (Lau94 approximation, and optionally conditional
    Monte-Carlo), which is what separates this from the "minimum p-value" cutpoint of web tools.
    Results match R ``maxstat.test(Surv(time, event) ~ x, smethod = "LogRank")``.

    Parameters
    ----------
    time, event
        Follow-up times (finite, >= 0) and 0/1 event indicators, one per patient.
    x
        Marker value per patient; patients with a missing (NaN) marker are excluded.
    minprop, maxprop
        Smallest and largest share of patients in the low group, ``0 < minprop < maxprop < 1``.
    pmethod
        ``"Lau94"`` (default), ``"condMC"`` (also the permutation p) or ``"both"`` (same as
        ``"condMC"``; :attr:`Cutpoint.p_lau94` is always computed).
    n_permutations
        Monte-Carlo replicates for ``"condMC"``.
    n_bootstrap
        Bootstrap replicates for a percentile CI of the cutpoint (0: none).
    seed
        Seed of the :class:`numpy.random.Generator` used for permutations and the bootstrap.
    alpha
        The CI has level ``1 - alpha``.

    Returns
    -------
    Cutpoint

    Raises
    ------
    AnalysisError
        Invalid arguments, no events, fewer than two distinct marker values, or no admissible
        cut.

    Notes
    -----
    The permutation p-value is ``(1 + #{M* >= M}) / (B + 1)`` (never 0; Phipson & Smyth 2010).
    R maxstat reports ``#{M* >= M} / B`` instead; the two differ by at most ``1 / B``.
    The bootstrap resamples patients with replacement and re-searches the cutpoint in each
    replicate; the distribution of an estimated change point is irregular, so the percentile
    interval is a rough guide to the cutpoint's instability rather than an exact CI.
    The Lau94 bound is conservative and more so with many distinct cuts: on null data with 100
    patients it rejects about 3% of the time at 0.05 (R maxstat alike), with 1,000 patients
    about 1.5%; the permutation p has the nominal size.

    References
    ----------
    Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
    Lausen B, Sauerbrei W, Schumacher M. Classification and regression trees (CART) used for the
    exploration of prognostic factors measured on different scales. In: Dirschedl P, Ostermann R
    (eds). Computational Statistics. Heidelberg: Physica-Verlag; 1994. p. 483-496.
    Hothorn T, Lausen B. On the exact distribution of maximally selected rank statistics.
    Comput Stat Data Anal 2003;43:121-137.
    Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal" cutpoints in the
    evaluation of prognostic factors. J Natl Cancer Inst 1994;86:829-835.
    Phipson B, Smyth GK. Permutation p-values should never be zero. Stat Appl Genet Mol Biol
    2010;9:39.
    """
    check_props(minprop, maxprop)
    if pmethod not in _PMETHODS:
        raise AnalysisError(f"pmethod must be one of {', '.join(_PMETHODS)}; got {pmethod!r}")
    if pmethod != "Lau94" and (int(n_permutations) != n_permutations or n_permutations < 1):
        raise AnalysisError(f"n_permutations must be a positive integer; got {n_permutations!r}")
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < 0:
        raise AnalysisError(f"n_bootstrap must be a non-negative integer; got {n_bootstrap!r}")
    if not 0.0 < alpha < 1.0:
        raise AnalysisError(f"alpha must be in (0, 1); got {alpha!r}")
    prep = _prepare_one(time, event, x, minprop, maxprop)
    t, e, xs, a, res = prep.time, prep.event, prep.x, prep.scores, prep.scan
    k = int(res.index[0])
    n = xs.size
    stat = float(res.statistic[0])
    rng = np.random.default_rng(seed)
    p_perm: float | None = None
    n_perm = 0
    if pmethod in ("condMC", "both"):
        cut_index = np.flatnonzero(np.isfinite(res.abs_z[0])).astype(np.int64)
        n_perm = int(n_permutations)
        p_perm = permutation_p(a, cut_index, stat, n_perm, rng)
    ci_lo: float | None = None
    ci_hi: float | None = None
    n_boot = 0
    if n_bootstrap > 0:
        boot = bootstrap_cuts(t, e, xs, prep.lo, prep.hi, int(n_bootstrap), rng)
        n_boot = int(boot.size)
        if n_boot > 0:
            q = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
            ci_lo, ci_hi = float(q[0]), float(q[1])
    n_low = k + 1
    ev_low = int(e[:n_low].sum())
    return Cutpoint(
        cutpoint=float(xs[k]),
        statistic=stat,
        p_lau94=float(min(1.0, res.p_lau94_raw[0])),
        p_permutation=p_perm,
        n_permutations=n_perm,
        p_unadjusted=float(_p_unadjusted(res.statistic)[0]),
        minprop=float(minprop),
        maxprop=float(maxprop),
        n_low=n_low,
        n_high=n - n_low,
        events_low=ev_low,
        events_high=int(e.sum()) - ev_low,
        ci_lower=ci_lo,
        ci_upper=ci_hi,
        n_bootstrap=n_boot,
    )


def maxstat_scan(
    time: ArrayLike,
    event: ArrayLike,
    X: ArrayLike,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    quantiles: Sequence[float] = (),
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """Maximally selected log-rank cutpoints of many markers (e.g. every gene), vectorised.

    Column ``j`` of ``X`` gives the same cutpoint, statistic and Lau94 p-value as
    ``maxstat_cutpoint(time, event, X[:, j], minprop=minprop, maxprop=maxprop)``. Columns are
    processed in blocks (each column sorted, scores accumulated) so that memory stays bounded.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 events, one per patient (row of ``X``).
    X
        ``(n_patients, n_markers)`` marker matrix. A column with missing values (NaN) is
        analysed on its complete cases.
    minprop, maxprop
        As for :func:`maxstat_cutpoint`.
    quantiles
        Probabilities of type-7 quantiles (R ``quantile``'s default, the same numbers as
        ``numpy.quantile(X, quantiles, axis=0)``) to take from the same sort of each marker,
        returned as ``quantile``, ``(len(quantiles), n_markers)``; a marker with missing values
        gets NaN there. A genome-wide scan needs both and sorts each gene once.

    Returns
    -------
    dict
        Arrays of length ``n_markers``: ``cutpoint``, ``statistic``, ``p_lau94`` (corrected for
        the search over cuts, truncated at 1), ``p_unadjusted`` (NOT corrected: the naive p of
        the chosen cut), ``n_low`` and ``n_cuts`` (number of candidate cuts). A marker without
        an admissible cut (too few distinct values) gets NaN and ``n_low = n_cuts = 0``; it does
        not stop the scan.

    Notes
    -----
    ``p_lau94`` corrects for the choice of the cut within each marker, not for the number of
    markers scanned: adjust across markers separately (e.g. Holm or Benjamini-Hochberg).

    References
    ----------
    Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
    Hothorn T, Lausen B. On the exact distribution of maximally selected rank statistics.
    Comput Stat Data Anal 2003;43:121-137.
    """
    check_props(minprop, maxprop)
    t, e, rows_ok = check_survival(time, event)
    xm = np.asarray(X, dtype=float)
    if xm.ndim == 1:
        xm = xm[:, None]
    if xm.ndim != 2 or xm.shape[0] != t.size:
        raise AnalysisError(
            f"X must be a (patients x markers) matrix with {t.size} rows; got shape {xm.shape}"
        )
    if np.any(np.isinf(xm)):
        raise AnalysisError("X contains infinite values")
    if not rows_ok.all():  # (no copy of X when nothing is missing)
        t, e, xm = t[rows_ok], e[rows_ok], xm[rows_ok]
    check_events(e)
    n, n_markers = xm.shape
    cut = np.full(n_markers, np.nan)
    stat = np.full(n_markers, np.nan)
    p94 = np.full(n_markers, np.nan)
    n_low = np.zeros(n_markers, dtype=np.int64)
    n_cuts = np.zeros(n_markers, dtype=np.int64)
    quant = np.full((len(quantiles), n_markers), np.nan)
    scores = logrank_scores_rows(t[None, :], e[None, :])[0]
    lo, hi = candidate_bounds(n, minprop, maxprop)
    complete = ~np.isnan(xm).any(axis=0)
    full_cols = np.flatnonzero(complete)
    block = max(1, BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, full_cols.size, block):
        cols = full_cols[start : start + block]
        xb = np.ascontiguousarray(xm[:, cols].T)
        order = np.argsort(xb, axis=1)
        xs = np.take_along_axis(xb, order, axis=1)
        if len(quantiles):
            quant[:, cols] = sorted_quantiles(xs, quantiles)
        res = scan_rows(xs, scores[order], lo, hi)
        cut[cols], stat[cols], n_cuts[cols] = res.cutpoint, res.statistic, res.n_cuts
        p94[cols] = np.minimum(1.0, res.p_lau94_raw)
        n_low[cols] = res.index + 1
    for j in np.flatnonzero(~complete):
        ok = ~np.isnan(xm[:, j])
        if ok.sum() < 2 or e[ok].sum() == 0:
            continue
        tj, ej, xj = t[ok], e[ok], xm[ok, j]
        loj, hij = candidate_bounds(xj.size, minprop, maxprop)
        order = np.argsort(xj)
        aj = logrank_scores_rows(tj[None, :], ej[None, :])[0][order]
        res = scan_rows(xj[order][None, :], aj[None, :], loj, hij)
        cut[j], stat[j], n_cuts[j] = res.cutpoint[0], res.statistic[0], res.n_cuts[0]
        p94[j] = min(1.0, res.p_lau94_raw[0])
        n_low[j] = res.index[0] + 1
    out: dict[str, NDArray[np.float64] | NDArray[np.int64]] = {
        "cutpoint": cut,
        "statistic": stat,
        "p_lau94": p94,
        "p_unadjusted": _p_unadjusted(stat),
        "n_low": n_low,
        "n_cuts": n_cuts,
    }
    if len(quantiles):
        out["quantile"] = quant
    return out


def optimal_grouping(x: ArrayLike, cut: Cutpoint) -> Grouping:
    """Low (``x <= cutpoint``) vs high grouping at an optimised cutpoint.

    The grouping is labelled ``origin="optimised"`` so that downstream reports never present the
    tuned cut as prespecified; its log-rank p-value is the unadjusted one and must be read with
    :attr:`Cutpoint.p_lau94` or :attr:`Cutpoint.p_permutation`.

    Parameters
    ----------
    x
        Marker value per patient (NaN: missing, code -1).
    cut
        Result of :func:`maxstat_cutpoint`.

    Returns
    -------
    ikaros.groups.Grouping
        ``kind="optimal"``, labels ``("low", "high")``.
    """
    xv = np.asarray(x, dtype=float)
    if xv.ndim != 1:
        raise AnalysisError(f"x must be one-dimensional; got shape {xv.shape}")
    c = float(cut.cutpoint)
    if not math.isfinite(c):
        raise AnalysisError(f"cutpoint must be a finite number, got {c}")
    ok = np.isfinite(xv)
    codes = np.full(xv.shape, -1, dtype=np.int64)
    codes[ok] = (xv[ok] > c).astype(np.int64)
    for label, code in (("low", 0), ("high", 1)):
        if not np.any(codes == code):
            raise AnalysisError(
                f"the {label} group is empty at cutpoint {c:.6g}: the cutpoint was not derived "
                "from these marker values"
            )
    return Grouping("optimal", (c,), ("low", "high"), codes, "optimised")
