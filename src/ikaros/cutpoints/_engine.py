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
    sd: NDArray[np.float64]  # permutation SD of S_m per position (row-wise)


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
        Also return the per-position ``|Z|`` and SDs (otherwise empty arrays).
    """
    g, n = xs.shape
    m = np.arange(1, n, dtype=np.float64)
    centred = a - a.mean(axis=1, keepdims=True)
    ss = np.einsum("ij,ij->i", centred, centred)[:, None]
    s = np.cumsum(centred, axis=1)[:, :-1]  # S_m - E(S_m), m = 1..n-1
    valid = (xs[:, :-1] < xs[:, 1:]) & (m >= lo) & (m <= hi) & (ss > 0.0)
    var = (m * (n - m) / (n * (n - 1.0))) * ss
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        absz = np.where(valid, np.abs(s) / np.where(valid, sd, 1.0), -np.inf)
    k = np.argmax(absz, axis=1)
    rows = np.arange(g)
    stat = absz[rows, k]
    has = np.isfinite(stat)
    # Lau94: t_i for consecutive candidate cuts m_i < m_{i+1}
    mm = np.where(valid, m, float(n))
    nxt = np.empty_like(mm)
    nxt[:, :-1] = np.minimum.accumulate(mm[:, :0:-1], axis=1)[:, ::-1]
    nxt[:, -1] = float(n)
    pair = valid & (nxt < n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho2 = m * (n - nxt) / ((n - m) * nxt)
        t = np.where(pair, np.sqrt(np.clip(1.0 - rho2, 0.0, None)), 0.0)
    sum_t = t.sum(axis=1)
    sum_t3 = (t * t * t).sum(axis=1)
    stat = np.where(has, stat, np.nan)
    p_raw = np.where(has, lausen94_tail(np.where(has, stat, 0.0), sum_t, sum_t3), np.nan)
    cut = np.where(has, xs[rows, k], np.nan)
    empty = np.empty((0, 0))
    return RowScan(
        index=np.where(has, k, -1).astype(np.int64),
        statistic=stat,
        cutpoint=cut,
        n_cuts=valid.sum(axis=1).astype(np.int64),
        p_lau94_raw=p_raw,
        abs_z=absz if keep else empty,
        sd=sd if keep else empty,
    )
