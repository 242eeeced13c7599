"""Vectorised engine of the maximally selected log-rank statistic.

Everything here works on *rows*: a block of ``G`` problems of ``n`` patients each, stored as
``(G, n)`` arrays (one row per gene, per bootstrap replicate or per simulated dataset). Within a
row the patients are sorted by the marker, so that the linear rank statistic of every cut
"x <= x_(m)" is a cumulative sum of the scores.

Notation (Lausen & Schumacher 1992; Hothorn & Lausen 2003)
----------------------------------------------------------
Scores ``a_1..a_n`` with mean ``abar``; for a cut leaving ``m`` patients in the low group the
linear rank statistic is ``S_m = sum_{x_i <= cut} a_i``. Under the permutation null hypothesis
(scores exchangeable given x)::

    E(S_m) = m * abar
    V(S_m) = m (n - m) / (n (n - 1)) * sum_i (a_i - abar)**2
    cov(S_m, S_m') = m (n - m') / (n (n - 1)) * sum_i (a_i - abar)**2      (m <= m')

so the standardized statistics of two cuts ``m < m'`` have correlation
``sqrt(m (n - m') / ((n - m) m'))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ikaros.stats._dist import norm_sf

__all__ = [
    "RowScan",
    "candidate_bounds",
    "lausen94_tail",
    "logrank_scores_rows",
    "scan_rows",
    "sorted_quantiles",
]

# Elements (rows x patients) processed at once: each temporary array of a block is 2 MB, a block
# needs a few tens of MB (250 genes x 1,000 patients), whatever the number of genes.
BLOCK_ELEMENTS = 250_000


def candidate_bounds(n: int, minprop: float, maxprop: float) -> tuple[int, int]:
    """Smallest and largest admissible size of the low group.

    A cut at an observed value ``c`` is a candidate when the number ``m`` of patients with
    ``x <= c`` satisfies ``floor(n * minprop) <= m <= floor(n * maxprop)`` (and ``m < n``).
    This is the rule R maxstat 0.7-25 applies; it was established by comparing the candidate
    cuts R reports (``maxtest$cuts``) on tied and untied inputs (tests/reference/maxstat).
    The products are evaluated in IEEE double precision, as R does.
    """
    return math.floor(n * minprop), min(math.floor(n * maxprop), n - 1)


def logrank_scores_rows(
    time: NDArray[np.float64], event: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Log-rank scores of each row of ``(G, n)`` arrays of times and 0/1 events.

    ``a_i = event_i - sum_{j: t_j <= t_i} event_j / (n - gamma(t_j) + 1)`` with
    ``gamma(t) = #{k: t_k <= t}`` (Hothorn & Lausen 2003, section 2, log-rank scores for censored
    data). For tied times ``gamma`` counts the whole tie, so every member of a tie gets the same
    increment of the cumulative sum; with tied event times these scores differ slightly from the
    Nelson-Aalen based scores of the Mantel-Haenszel log-rank test.
    """
    g, n = time.shape
    order = np.argsort(time, axis=1, kind="stable")
    ts = np.take_along_axis(time, order, axis=1)
    es = np.take_along_axis(event, order, axis=1)
    # gamma at sorted position r: one past the last position of r's tie run
    pos = np.arange(1, n + 1, dtype=np.float64)
    run_end = np.empty((g, n), dtype=bool)
    run_end[:, :-1] = ts[:, :-1] != ts[:, 1:]
    run_end[:, -1] = True
    gamma = np.where(run_end, pos, np.inf)
    gamma = np.minimum.accumulate(gamma[:, ::-1], axis=1)[:, ::-1]
    increments = es / (n - gamma + 1.0)
    cum = np.cumsum(increments, axis=1)
    gi = gamma.astype(np.int64) - 1
    hazard = np.take_along_axis(cum, gi, axis=1)
    scores_sorted = es - hazard
    out = np.empty_like(scores_sorted)
    np.put_along_axis(out, order, scores_sorted, axis=1)
    return out


def lausen94_tail(
    b: NDArray[np.float64], sum_t: NDArray[np.float64], sum_t3: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Improved Bonferroni bound ``P(M >= b)`` from the sums of ``t_i`` and ``t_i**3``.

    Worsley (1982): ``P(union A_i) <= P(A_1) + sum_i P(A_{i+1} and not A_i)`` for the events
    ``A_i = {|Z_i| >= b}`` of consecutive candidate cuts. Lausen, Sauerbrei & Schumacher (1994)
    approximate each bivariate-normal term, for correlation ``rho_i`` and
    ``t_i = sqrt(1 - rho_i**2)``, by ``exp(-b**2 / 2) / pi * (t_i - (b**2 / 4 - 1) t_i**3 / 6)``;
    the first term is ``2 (1 - Phi(b))``. The bound is not truncated here (it can exceed 1).
    """
    first = 2.0 * norm_sf(np.asarray(b, dtype=float))
    dens = np.exp(-0.5 * b * b) / np.pi
    return first + dens * (sum_t - (0.25 * b * b - 1.0) * sum_t3 / 6.0)


@dataclass(frozen=True)
class RowScan:
    """Per-row result of :func:`scan_rows` (NaN / -1 where a row has no admissible cut)."""

    index: NDArray[np.int64]  # sorted position of the cut (n_low - 1); -1 if none
    statistic: NDArray[np.float64]
    cutpoint: NDArray[np.float64]
    n_cuts: NDArray[np.int64]
    p_lau94_raw: NDArray[np.float64]  # untruncated Lau94 bound
    abs_z: NDArray[np.float64]  # |standardized statistic| per position, -inf where not a cut


def sorted_quantiles(rows: NDArray[np.float64], probs: Sequence[float]) -> NDArray[np.float64]:
    """Type-7 quantiles (R ``quantile``'s default) of rows sorted ascending: ``(len(probs), G)``.

    The same numbers as ``numpy.quantile(rows, probs, axis=1)``: its linear interpolation is
    reproduced operation for operation (``b - (b - a)(1 - t)`` when ``t >= 0.5``).
    """
    n = rows.shape[1]
    out = np.empty((len(probs), rows.shape[0]))
    for i, prob in enumerate(probs):
        h = (n - 1) * float(prob)
        lo = min(int(np.floor(h)), n - 1)
        hi = min(lo + 1, n - 1)
        t = h - lo
        a, b = rows[:, lo], rows[:, hi]
        diff = b - a
        out[i] = b - diff * (1 - t) if t >= 0.5 else a + diff * t
    return out


def _lau94_sums(
    valid: NDArray[np.bool_], m: NDArray[np.float64], n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sums of ``t_i`` and ``t_i**3`` over consecutive candidate cuts ``m_i < m_{i+1}``.

    ``valid`` is ``(G, w)``: which of the sizes ``m`` (``(w,)``) are candidate cuts of each row.
    """
    mm = np.where(valid, m, float(n))
    nxt = np.empty_like(mm)
    nxt[:, :-1] = np.minimum.accumulate(mm[:, :0:-1], axis=1)[:, ::-1]
    nxt[:, -1] = float(n)
    pair = valid & (nxt < n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho2 = m * (n - nxt) / ((n - m) * nxt)
        t = np.where(pair, np.sqrt(np.clip(1.0 - rho2, 0.0, None)), 0.0)
    return t.sum(axis=1), (t * t * t).sum(axis=1)


def scan_rows(
    xs: NDArray[np.float64], a: NDArray[np.float64], lo: int, hi: int, *, keep: bool = False
) -> RowScan:
    """Maximally selected standardized statistic for each row.

    Parameters
    ----------
    xs
        ``(G, n)`` marker values, each row sorted ascending.
    a
        ``(G, n)`` scores in the same order as ``xs``.
    lo, hi
        Admissible sizes of the low group (see :func:`candidate_bounds`).
    keep
        Also return the per-position ``|Z|`` (otherwise an empty array).

    Notes
    -----
    ``|Z_m| = |S_m - E S_m| / sd_m`` with ``sd_m = sqrt(m (n - m) / (n (n - 1)) ss)``: the
    factor of ``m`` and the factor of the row are applied separately, so only the admissible
    sizes ``lo..hi`` are touched, the maximum is found before the row's factor is applied, and
    the Lau94 sums, which depend only on where the candidate cuts are, are computed once for
    all rows whose values are distinct in that range (tied rows get their own). Measured on
    1,000 patients x 1,000 genes: 0.09 -> 0.02 s.
    """
    g, n = xs.shape
    first, last = max(lo, 1), min(hi, n - 1)  # admissible sizes m of the low group
    rows = np.arange(g)
    centred = a - a.mean(axis=1, keepdims=True)
    ss = np.einsum("ij,ij->i", centred, centred)
    root = np.sqrt(ss)
    informative = ss > 0.0
    width = max(0, last - first + 1)
    m = np.arange(first, first + width, dtype=np.float64)
    s = np.cumsum(centred, axis=1)[:, first - 1 : first - 1 + width]  # S_m - E(S_m)
    tied = np.greater_equal(xs[:, first - 1 : last], xs[:, first : last + 1])
    absz = np.abs(s)
    absz *= 1.0 / np.sqrt(m * (n - m) / (n * (n - 1.0)))
    absz[tied] = -np.inf
    if width:
        k = np.argmax(absz, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = absz[rows, k] / root
    else:
        k = np.zeros(g, dtype=np.int64)
        stat = np.full(g, -np.inf)
    has = informative & np.isfinite(stat)
    n_tied = tied.sum(axis=1)
    n_cuts = np.where(informative, width - n_tied, 0)
    sum_t = np.zeros(g)
    sum_t3 = np.zeros(g)
    if width:
        some_tie = n_tied > 0
        plain = informative & ~some_tie
        if plain.any():
            sum_t[plain], sum_t3[plain] = _lau94_sums(np.ones((1, width), dtype=bool), m, n)
        odd = np.flatnonzero(informative & some_tie)
        if odd.size:
            sum_t[odd], sum_t3[odd] = _lau94_sums(~tied[odd], m, n)
    stat = np.where(has, stat, np.nan)
    p_raw = np.where(has, lausen94_tail(np.where(has, stat, 0.0), sum_t, sum_t3), np.nan)
    index = k + (first - 1)
    cut = np.where(has, xs[rows, np.where(has, index, 0)], np.nan)
    if keep:
        full = np.full((g, max(n - 1, 0)), -np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            full[:, first - 1 : first - 1 + width] = np.where(
                informative[:, None], absz / root[:, None], -np.inf
            )
    return RowScan(
        index=np.where(has, index, -1).astype(np.int64),
        statistic=stat,
        cutpoint=cut,
        n_cuts=n_cuts.astype(np.int64),
        p_lau94_raw=p_raw,
        abs_z=full if keep else np.empty((0, 0)),
    )
