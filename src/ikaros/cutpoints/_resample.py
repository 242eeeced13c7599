"""Resampling: conditional Monte-Carlo p-value and bootstrap of the cutpoint."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ikaros.cutpoints._engine import BLOCK_ELEMENTS, logrank_scores_rows, scan_rows

__all__ = ["PERM_RTOL", "bootstrap_cuts", "permutation_p"]

# Relative tolerance when counting permuted maxima >= the observed one: permutations that only
# exchange tied scores give mathematically equal maxima that differ in the last bits.
PERM_RTOL = 1e-10


def permutation_p(
    a_sorted: NDArray[np.float64],
    index: NDArray[np.int64],
    observed: float,
    n_perm: int,
    rng: np.random.Generator,
) -> float:
    """Conditional Monte-Carlo p: permute the scores over the fixed sorted marker order."""
    n = a_sorted.size
    centred = a_sorted - a_sorted.mean()
    ss = float(centred @ centred)
    m = (index + 1).astype(float)
    sd = np.sqrt(m * (n - m) / (n * (n - 1.0)) * ss)
    block = max(1, min(n_perm, BLOCK_ELEMENTS // n))
    hits = 0
    done = 0
    threshold = observed * (1.0 - PERM_RTOL)
    while done < n_perm:
        b = min(block, n_perm - done)
        perm = rng.permuted(np.broadcast_to(centred, (b, n)), axis=1)
        s = np.cumsum(perm, axis=1)[:, index]
        mx = np.max(np.abs(s) / sd, axis=1)
        hits += int(np.count_nonzero(mx >= threshold))
        done += b
    return (1.0 + hits) / (n_perm + 1.0)


def bootstrap_cuts(
    t: NDArray[np.float64],
    e: NDArray[np.float64],
    x: NDArray[np.float64],
    lo: int,
    hi: int,
    n_boot: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    n = x.size
    block = max(1, min(n_boot, BLOCK_ELEMENTS // (4 * n)))
    out = []
    done = 0
    while done < n_boot:
        b = min(block, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        tb, eb, xb = t[idx], e[idx], x[idx]
        a = logrank_scores_rows(tb, eb)
        order = np.argsort(xb, axis=1, kind="stable")
        res = scan_rows(
            np.take_along_axis(xb, order, axis=1), np.take_along_axis(a, order, axis=1), lo, hi
        )
        out.append(res.cutpoint)
        done += b
    cuts = np.concatenate(out)
    return cuts[np.isfinite(cuts)]
