"""Two-group log-rank test per column, vectorised (R ``survdiff``, ``rho = 0``).

Part of :mod:`ikaros.scan.engine` (re-exported there). The per-time at-risk counts of the "high"
group of every column come from one sparse product and a running sum over the time-sorted rows
(:mod:`ikaros.scan._layout`); nothing loops over genes or patients.

References
----------
Mantel N. Evaluation of survival data and two new rank order statistics arising in its
consideration. Cancer Chemother Rep 1966;50:163-170.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from ikaros.errors import AnalysisError
from ikaros.scan._layout import colsum, make_layout, running_sum
from ikaros.scan._validate import WORK_BYTES, survival_data
from ikaros.stats._dist import chi2_sf

__all__ = ["LogrankScan", "logrank_scan"]


@dataclass(frozen=True)
class LogrankScan:
    """Two-group log-rank test per column (R ``survdiff``, ``rho = 0``).

    Attributes
    ----------
    statistic, p
        Chi-square on 1 df and its p-value; NaN where a group is empty.
    n_low, n_high, events_low, events_high
        Patients and deaths in the ``high == False`` and ``high == True`` groups.
    expected_high
        Expected deaths in the high group under equal hazards (``exp`` of survdiff).
    """

    statistic: NDArray[np.float64]
    p: NDArray[np.float64]
    n_low: NDArray[np.int64]
    n_high: NDArray[np.int64]
    events_low: NDArray[np.int64]
    events_high: NDArray[np.int64]
    expected_high: NDArray[np.float64]


def logrank_scan(time: ArrayLike, event: ArrayLike, high: ArrayLike) -> LogrankScan:
    """Two-group log-rank test for every column of a group-indicator matrix.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators, one per patient.
    high
        ``(n_patients, n_genes)`` boolean (or 0/1) matrix: the group of each patient per gene,
        e.g. ``X > np.quantile(X, 0.25, axis=0)`` for Q2-4 vs Q1.

    Returns
    -------
    LogrankScan
        Per column the survdiff chi-square ``(O - E)^2 / V`` of the high group (1 df) and its
        p-value. With one group empty the statistic and p are NaN (survdiff refuses one group).

    Notes
    -----
    At each distinct event time ``t_j`` with ``n_j`` at risk, ``d_j`` deaths and ``n1_j`` at risk
    in the high group: ``E = sum d_j n1_j / n_j`` and
    ``V = sum d_j (n_j - d_j) / (n_j - 1) * (n1_j / n_j) * (1 - n1_j / n_j)``, as survdiff. ``n1_j``
    comes from one sparse product and a running sum over the time-sorted rows, in column blocks
    (no loop over genes or patients).
    """
    t, e = survival_data(time, event)
    n = t.size
    try:
        H = np.asarray(high)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"logrank_scan: high must be a boolean matrix ({exc})") from exc
    if H.ndim != 2 or H.shape[0] != n:
        raise AnalysisError(f"logrank_scan: high must be ({n}, n_genes), got shape {H.shape}")
    if H.dtype != np.bool_:
        if not np.all((H == 0) | (H == 1)):
            raise AnalysisError("logrank_scan: high must be boolean or 0/1")
        H = H.astype(bool)
    G = H.shape[1]
    lay = make_layout(t, e, "breslow")  # no Efron terms: ``lay.sums`` has the m entry rows
    m = lay.m
    n_risk = lay.at_risk
    d = lay.deaths
    with np.errstate(invalid="ignore", divide="ignore"):
        vfac = np.where(n_risk > 1, d * (n_risk - d) / (n_risk - 1.0), 0.0)
    # weighted sums over event times and the death count, as sparse rows (row-by-row sums)
    w_exp = sparse.csr_array(d[None, :])
    w_var = sparse.csr_array(vfac[None, :])
    dead = np.zeros((1, n))
    dead[0, lay.death_rows] = 1.0
    w_dead = sparse.csr_array(dead)
    stat = np.empty(G)
    exp_high = np.empty(G)
    obs_high = np.empty(G, dtype=np.int64)
    n_high = np.empty(G, dtype=np.int64)
    # working arrays: the block as float64 (n) plus ~4 (m)-row arrays, within the budget and
    # within the size of the indicator matrix itself
    per_gene = 8 * (n + 4 * m) + n
    budget = min(WORK_BYTES, max(H.nbytes, 2**20))
    bs = int(max(16, min(G, budget // per_gene)))
    for s in range(0, G, bs):
        stop = min(s + bs, G)
        hb = np.take(H[:, s:stop], lay.order, axis=0).astype(np.float64)
        n1 = np.asarray(lay.sums @ hb)  # high-group patients entering each risk set
        running_sum(n1)
        n1 /= n_risk[:, None]  # now the high-group fraction of each risk set
        ex = np.asarray(w_exp @ n1)[0]
        n1 *= 1.0 - n1
        v = np.asarray(w_var @ n1)[0]
        d1 = np.asarray(w_dead @ hb)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            stat[s:stop] = np.where(v > 0, (d1 - ex) ** 2 / v, np.nan)
        exp_high[s:stop] = ex
        obs_high[s:stop] = np.rint(d1).astype(np.int64)
        n_high[s:stop] = np.rint(colsum(hb)).astype(np.int64)
    empty = (n_high == 0) | (n_high == n)
    stat[empty] = np.nan
    pval = chi2_sf(stat, 1)
    return LogrankScan(
        statistic=stat,
        p=pval,
        n_low=n - n_high,
        n_high=n_high,
        events_low=lay.events - obs_high,
        events_high=obs_high,
        expected_high=exp_high,
    )
