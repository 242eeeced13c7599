"""Rank tests of a marker against clinical groups (ISS stage, best response).

Three tests, each returning a :class:`RankTest`:

* :func:`kruskal_wallis` — unordered k-sample test (tie-corrected
  H, chi-squared reference distribution with k - 1 degrees of freedom; equals R ``kruskal.test``).
* :func:`mann_whitney` — two-sample test (two-sided,
  normal approximation with tie-corrected variance and continuity correction; equals R
  ``wilcox.test(x, y, exact = FALSE, correct = TRUE)``; the statistic is R's ``W``, the
  Mann-Whitney U of ``x``).
* :func:`jonckheere_terpstra` — test against an ordered alternative (e.g. expression falls with
  ISS stage I < II < III).

All three are computed here from mid-ranks, with scipy.special for the reference distributions:
``scipy.stats`` (whose kruskal and mannwhitneyu give the same numbers; tests compare) takes about a
second to import, more than the whole analysis of a typical cohort, and would be imported by
every ``ikaros analyze`` of a cohort with ISS or response data.

Why the Jonckheere-Terpstra test is implemented here
----------------------------------------------------
SciPy has no Jonckheere-Terpstra test (``scipy.stats.page_trend_test`` is for related samples, not
independent groups). Only recent statsmodels releases include one
(``statsmodels.stats.nonparametric.jonckheere_terpstra``, present in 0.15.0); ikaros' requirement
``statsmodels>=0.14`` does not guarantee it, and it offers neither missing-data handling nor a
permutation p-value. The implementation below is therefore our own: J is computed from mid-ranks,
the variance is the tie-corrected null variance of Hollander, Wolfe & Chicken (2014, section 6.2),
and the results are checked against explicit R code (``tests/reference/rank``) and, when the
installed statsmodels has the function, against statsmodels.

Conventions
-----------
* Missing values (NaN in the values, or a missing group label) are dropped (complete cases); the
  number dropped is reported as :attr:`RankTest.n_missing`.
* A declared group (from ``order`` or from a pandas categorical) that has no complete observation
  is an error, as is having fewer than two groups.
* Two-sided p-values throughout.

References
----------
Hollander M, Wolfe DA, Chicken E (2014). *Nonparametric Statistical Methods*, 3rd ed. Wiley,
section 6.2 (Jonckheere-Terpstra test, large-sample approximation with ties).
Lehmann EL (1975). *Nonparametrics: Statistical Methods Based on Ranks*. Holden-Day, ch. 5.
Jonckheere AR (1954). A distribution-free k-sample test against ordered alternatives.
*Biometrika* 41:133-145.
Terpstra TJ (1952). The asymptotic normality and consistency of Kendall's test against trend,
when ties are present in one ranking. *Indagationes Mathematicae* 14:327-333.
Kruskal WH, Wallis WA (1952). Use of ranks in one-criterion variance analysis. *JASA*
47:583-621.
Mann HB, Whitney DR (1947). On a test of whether one of two random variables is stochastically
larger than the other. *Ann Math Stat* 18:50-60.
Phipson B, Smyth GK (2010). Permutation p-values should never be zero. *Stat Appl Genet Mol Biol*
9:39.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ikaros.errors import AnalysisError
from ikaros.stats._dist import chi2_sf, two_sided_p

__all__ = ["RankTest", "jonckheere_terpstra", "kruskal_wallis", "mann_whitney"]


@dataclass(frozen=True)
class RankTest:
    """Result of a rank test.

    Attributes
    ----------
    method
        Human-readable description of the test and how its p-value was obtained.
    statistic
        Kruskal-Wallis H, Wilcoxon/Mann-Whitney W (U of the first sample) or Jonckheere-Terpstra J.
    p
        Two-sided asymptotic p-value (chi-squared for Kruskal-Wallis, normal otherwise).
    n
        Number of complete observations used.
    df
        Degrees of freedom (Kruskal-Wallis only).
    z
        Standardised statistic (Mann-Whitney: with continuity correction, as R; JT: without).
    groups, group_n, group_median
        Group names in test order, their sizes and medians (complete observations).
    n_missing
        Observations dropped because the value or the group label was missing.
    p_permutation
        Monte-Carlo permutation p-value (JT with ``permutations``), else ``None``.
    permutations
        Number of random permutations behind ``p_permutation``.
    """

    method: str
    statistic: float
    p: float
    n: int
    df: int | None = None
    z: float | None = None
    groups: tuple[str, ...] = ()
    group_n: tuple[int, ...] = ()
    group_median: tuple[float, ...] = ()
    n_missing: int = 0
    p_permutation: float | None = None
    permutations: int | None = None


# --------------------------------------------------------------------------- input handling


def _numeric(values: Any, what: str) -> np.ndarray:
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if series.ndim != 1:
        raise AnalysisError(f"{what} must be one-dimensional")
    missing = series.isna().to_numpy()
    try:
        out = np.full(len(series), np.nan)
        out[~missing] = np.asarray(series[~missing].to_numpy(), dtype=float)
    except (TypeError, ValueError):
        bad = next(v for v in series[~missing] if not _is_number(v))
        raise AnalysisError(f"{what} must be numeric; found {bad!r}") from None
    if np.isinf(out).any():
        raise AnalysisError(f"{what} contain an infinite value")
    return out


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _label_key(value: Any) -> float | str:
    """Comparison key of a group label: numbers (also numeric text) by value, else text."""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | float | np.number):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return text


def _label_name(key: float | str) -> str:
    if isinstance(key, float):
        return str(int(key)) if key.is_integer() else repr(key)
    return key


def _split(
    values: Any, groups: Any, order: Sequence[Any] | None, *, require_order: bool
) -> tuple[tuple[str, ...], list[np.ndarray], int]:
    """Split complete observations into groups; return names, samples and the number dropped."""
    x = _numeric(values, "values")
    series = groups if isinstance(groups, pd.Series) else pd.Series(groups)
    if len(series) != len(x):
        raise AnalysisError(
            f"values and groups have different lengths ({len(x)} and {len(series)})"
        )
    # keys of the distinct labels only (a Python call per patient took a second at 1M)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    label_missing = codes < 0
    unique_keys = [_label_key(v) for v in uniques]  # in order of first appearance
    present = list(dict.fromkeys(unique_keys))
    dtype = series.dtype
    if order is not None:
        levels = [_label_key(v) for v in order]
        if len(set(levels)) != len(levels):
            raise AnalysisError(f"order lists a group twice: {list(order)!r}")
        unknown = [k for k in present if k not in set(levels)]
        if unknown:
            raise AnalysisError(
                f"group {_label_name(unknown[0])!r} is not in order {list(order)!r}; "
                "list every group in order or set the label to missing"
            )
    elif isinstance(dtype, pd.CategoricalDtype) and (dtype.ordered or not require_order):
        levels = [_label_key(v) for v in dtype.categories]
    elif all(isinstance(k, float) for k in present):
        levels = sorted(present)
    elif require_order:
        raise AnalysisError(
            "the groups of a trend test must be ordered: the labels "
            f"{[_label_name(k) for k in present]!r} are not numbers, so pass "
            "order=(lowest, ..., highest) or an ordered pandas Categorical"
        )
    else:
        levels = sorted(present, key=lambda k: (isinstance(k, str), str(k)))
    complete = ~np.isnan(x) & ~label_missing
    n_missing = int(len(x) - complete.sum())
    names = tuple(_label_name(k) for k in levels)
    if len(levels) < 2:
        raise AnalysisError(
            f"a rank test needs at least 2 groups; found {len(levels)} ({list(names)!r})"
        )
    position = {level: i for i, level in enumerate(levels)}
    level_of_code = np.array([position.get(k, -1) for k in unique_keys] + [-1], dtype=np.intp)
    level_of = level_of_code[codes]  # code -1 (missing) takes the trailing -1
    samples: list[np.ndarray] = []
    for i, name in enumerate(names):
        sample = x[complete & (level_of == i)]
        if sample.size == 0:
            raise AnalysisError(
                f"group {name!r} has no observations with both a value and a group "
                f"({n_missing} incomplete observations were dropped)"
            )
        samples.append(sample)
    return names, samples, n_missing


def _summary(samples: list[np.ndarray]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    return tuple(int(s.size) for s in samples), tuple(float(np.median(s)) for s in samples)


# --------------------------------------------------------------------------- tests


def midranks(values: np.ndarray) -> np.ndarray:
    """Average ("mid") ranks 1..n of a vector, or of every row of a matrix, ties sharing the mean
    of their positions (as ``scipy.stats.rankdata(method="average")``, without importing
    scipy.stats, which costs about a second of start-up)."""
    a = np.atleast_2d(np.asarray(values, dtype=float))
    order = np.argsort(a, axis=1, kind="mergesort")
    s = np.take_along_axis(a, order, axis=1)
    m, n = s.shape
    pos = np.broadcast_to(np.arange(n), (m, n))
    first = np.ones((m, n), dtype=bool)
    first[:, 1:] = s[:, 1:] != s[:, :-1]
    last = np.ones((m, n), dtype=bool)
    last[:, :-1] = first[:, 1:]
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=1)
    end = np.minimum.accumulate(np.where(last, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((m, n), dtype=float)
    np.put_along_axis(ranks, order, (start + end) / 2.0 + 1.0, axis=1)
    return ranks.reshape(np.shape(values)) if np.ndim(values) == 1 else ranks


def kruskal_wallis(values: Any, groups: Any, *, order: Sequence[Any] | None = None) -> RankTest:
    """Kruskal-Wallis rank sum test of ``values`` across ``groups``.

    Parameters
    ----------
    values
        Array-like of numbers (marker values); NaN/None are dropped.
    groups
        Array-like of group labels, one per value; missing labels are dropped.
    order
        Optional order of the groups for reporting; the test itself is order-free.

    Returns
    -------
    RankTest
        ``statistic`` = tie-corrected H, ``df`` = k - 1, ``p`` from the chi-squared distribution.

    Raises
    ------
    AnalysisError
        Fewer than two groups, an empty group, non-numeric values, or all values tied.
    """
    names, samples, n_missing = _split(values, groups, order, require_order=False)
    if np.unique(np.concatenate(samples)).size < 2:
        raise AnalysisError("all values are tied; the Kruskal-Wallis test is undefined")
    pooled = np.concatenate(samples)
    ranks = midranks(pooled)
    n = pooled.size
    sizes = np.array([s.size for s in samples], dtype=float)
    rank_sums = np.add.reduceat(ranks, np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(int))
    h = 12.0 / (n * (n + 1.0)) * float(np.sum(rank_sums**2 / sizes)) - 3.0 * (n + 1.0)
    _, ties = np.unique(pooled, return_counts=True)
    h /= 1.0 - float(np.sum(ties**3 - ties)) / (n**3 - n)
    p_value = float(chi2_sf(h, len(samples) - 1))
    group_n, group_median = _summary(samples)
    return RankTest(
        method="Kruskal-Wallis rank sum test (tie-corrected H, chi-squared approximation)",
        statistic=float(h),
        p=p_value,
        n=sum(group_n),
        df=len(samples) - 1,
        groups=names,
        group_n=group_n,
        group_median=group_median,
        n_missing=n_missing,
    )


def mann_whitney(x: Any, y: Any, *, names: tuple[str, str] = ("x", "y")) -> RankTest:
    """Wilcoxon rank sum / Mann-Whitney U test of ``x`` against ``y`` (two-sided).

    Normal approximation with tie-corrected variance and continuity correction, as R
    ``wilcox.test(x, y, exact = FALSE, correct = TRUE)``.

    Parameters
    ----------
    x, y
        Array-likes of numbers; NaN/None are dropped.
    names
        Names of the two samples, reported in :attr:`RankTest.groups`.

    Returns
    -------
    RankTest
        ``statistic`` = W = U of ``x`` (number of pairs with x > y, ties counting one half).

    Raises
    ------
    AnalysisError
        A sample with no observations, or all values tied.
    """
    xa, ya = _numeric(x, "x values"), _numeric(y, "y values")
    n_missing = int(np.isnan(xa).sum() + np.isnan(ya).sum())
    xa, ya = xa[~np.isnan(xa)], ya[~np.isnan(ya)]
    for name, sample in zip(names, (xa, ya), strict=True):
        if sample.size == 0:
            raise AnalysisError(f"sample {name!r} has no non-missing observations")
    pooled = np.concatenate([xa, ya])
    n1, n2, n = xa.size, ya.size, pooled.size
    _, ties = np.unique(pooled, return_counts=True)
    sigma2 = n1 * n2 / 12.0 * ((n + 1) - float(np.sum(ties**3 - ties)) / (n * (n - 1)))
    if ties.size < 2 or sigma2 <= 0:
        raise AnalysisError("all values are tied; the Mann-Whitney test is undefined")
    w = float(midranks(pooled)[:n1].sum() - n1 * (n1 + 1) / 2.0)
    centred = w - n1 * n2 / 2.0
    z = (centred - math.copysign(0.5, centred) * (centred != 0)) / math.sqrt(sigma2)
    p_value = min(1.0, float(two_sided_p(z)))
    group_n, group_median = _summary([xa, ya])
    return RankTest(
        method=(
            "Wilcoxon rank sum test (Mann-Whitney U), two-sided, normal approximation with "
            "continuity correction"
        ),
        statistic=w,
        p=p_value,
        n=n,
        z=z,
        groups=tuple(names),
        group_n=group_n,
        group_median=group_median,
        n_missing=n_missing,
    )


def _jt_from_matrix(pooled: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """JT statistic for each row of ``pooled`` (shape (m, N)); groups are consecutive blocks.

    For group j, the Mann-Whitney counts against all earlier groups together equal the sum of the
    mid-ranks of group j within (earlier groups + group j) minus n_j (n_j + 1) / 2.
    """
    bounds = np.cumsum(sizes)
    total = np.zeros(pooled.shape[0])
    for j in range(1, len(sizes)):
        start, stop = bounds[j - 1], bounds[j]
        ranks = midranks(pooled[:, :stop])
        n_j = stop - start
        total += ranks[:, start:stop].sum(axis=1) - n_j * (n_j + 1) / 2.0
    return total


def _jt_null_moments(sizes: Sequence[int], pooled: np.ndarray) -> tuple[float, float]:
    """Null mean and tie-corrected variance of J (Hollander, Wolfe & Chicken 2014, section 6.2)."""
    n = np.asarray(sizes, dtype=float)
    _, counts = np.unique(pooled, return_counts=True)
    t = counts.astype(float)
    big = float(n.sum())
    mean = (big**2 - float(np.sum(n**2))) / 4.0
    var = (
        big * (big - 1) * (2 * big + 5)
        - float(np.sum(n * (n - 1) * (2 * n + 5)))
        - float(np.sum(t * (t - 1) * (2 * t + 5)))
    ) / 72.0
    if big > 2:
        var += (
            float(np.sum(n * (n - 1) * (n - 2)))
            * float(np.sum(t * (t - 1) * (t - 2)))
            / (36.0 * big * (big - 1) * (big - 2))
        )
    var += float(np.sum(n * (n - 1))) * float(np.sum(t * (t - 1))) / (8.0 * big * (big - 1))
    return mean, var


def jonckheere_terpstra(
    values: Any,
    ordered_groups: Any,
    *,
    order: Sequence[Any] | None = None,
    permutations: int | None = None,
    seed: int | None = None,
) -> RankTest:
    """Jonckheere-Terpstra test for a monotone trend of ``values`` across ordered groups.

    J is the sum over group pairs i < j (in the group order) of the number of pairs
    (x from group i, y from group j) with x < y, ties counting one half. Under H0 (all groups
    exchangeable), E[J] = (N^2 - sum n_i^2) / 4; the variance is corrected for ties in the values
    (Hollander, Wolfe & Chicken 2014, section 6.2). z = (J - E[J]) / sd (no continuity correction),
    two-sided p = 2 (1 - Phi(|z|)). z > 0 means values increase along the order.

    Parameters
    ----------
    values
        Array-like of numbers; NaN/None are dropped.
    ordered_groups
        Array-like of group labels, one per value; missing labels are dropped.
    order
        Group labels from lowest to highest. If omitted, an ordered pandas Categorical supplies
        the order, or numeric labels (also numeric text such as ``"1"``) are sorted by value;
        other labels raise :class:`AnalysisError`.
    permutations
        If given, also compute a two-sided Monte-Carlo permutation p-value from this many random
        reallocations of the values to the groups: (1 + #{|J* - E| >= |J - E|}) / (B + 1)
        (Phipson & Smyth 2010). ``p`` stays the normal-approximation p-value.
    seed
        Seed of the permutation random number generator (:func:`numpy.random.default_rng`).

    Returns
    -------
    RankTest

    Raises
    ------
    AnalysisError
        Fewer than two groups, an empty group, unordered labels without ``order``, all values
        tied, or ``permutations`` < 1.
    """
    names, samples, n_missing = _split(values, ordered_groups, order, require_order=True)
    sizes = [s.size for s in samples]
    pooled = np.concatenate(samples)
    mean, var = _jt_null_moments(sizes, pooled)
    if var <= 0 or np.unique(pooled).size < 2:
        raise AnalysisError("all values are tied; the Jonckheere-Terpstra test is undefined")
    j_obs = float(_jt_from_matrix(pooled[None, :], sizes)[0])
    z = (j_obs - mean) / math.sqrt(var)
    p = float(two_sided_p(z))
    method = (
        "Jonckheere-Terpstra trend test, two-sided, normal approximation with tie-corrected "
        "variance"
    )
    p_perm: float | None = None
    if permutations is not None:
        if permutations < 1:
            raise AnalysisError(f"permutations must be at least 1, got {permutations}")
        rng = np.random.default_rng(seed)
        chunk = max(1, min(permutations, 4_000_000 // max(pooled.size, 1)))
        extreme, done = 0, 0
        threshold = abs(j_obs - mean) - 1e-9 * max(1.0, abs(mean))
        while done < permutations:
            m = min(chunk, permutations - done)
            shuffled = rng.permuted(np.broadcast_to(pooled, (m, pooled.size)), axis=1)
            j_perm = _jt_from_matrix(shuffled, sizes)
            extreme += int(np.sum(np.abs(j_perm - mean) >= threshold))
            done += m
        p_perm = (1 + extreme) / (permutations + 1)
        method += f"; Monte-Carlo permutation p from {permutations} permutations (seed {seed})"
    group_n, group_median = _summary(samples)
    return RankTest(
        method=method,
        statistic=j_obs,
        p=p,
        n=int(pooled.size),
        z=z,
        groups=names,
        group_n=group_n,
        group_median=group_median,
        n_missing=n_missing,
        p_permutation=p_perm,
        permutations=permutations,
    )
