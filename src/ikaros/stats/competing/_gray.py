"""Gray's K-sample test of equal cumulative incidence of one cause (rho-family weights).

Notation (groups r = 1..K, distinct times t_j, cause of interest "1", all other causes pooled
as "2"): Y_rj at risk, d1_rj and d2_rj events, S_r the group's Kaplan-Meier estimate of being
free of any event and F_1r its Aalen-Johansen cumulative incidence of cause 1.

Score (Gray 1988, section 2). The subdistribution hazard of cause 1 in group r is estimated by
dN_1r / R_r with the subdistribution risk set R_rj = Y_rj (1 - F_1r(t_j-)) / S_r(t_j-), and

    z_k = sum_j L_j (d1_kj - d1_j R_kj / R_j),        L_j = (1 - F0(t_j-))^rho,

the weighted difference between observed and expected cause-1 events (R_j, d1_j: sums over
groups).

Variance, under H0 (one subdistribution F0 for all groups). With U_j = sum_r Y_rj / S_r(t_j-),
the common incidence is estimated by dF0_j = d1_j / U_j (each group's S_r(t_j-) d1_rj / Y_rj
pooled), p_rj = Y_rj / (S_r(t_j-) U_j) and dG_j = dF0_j / (1 - F0(t_j-)). Linearising z in the
cause-specific martingales M_1r, M_2r of each group (R_r depends on the estimates of F_1r and
S_r) gives coefficients

    c_kr(j) = sum_{i > j} L_i (delta_kr - p_ki) p_ri U_i dG_i
    a_kr(j) = L_j (delta_kr - p_kj) - c_kr(j) F2_rj / (Y_rj - d_rj)
    b_kr(j) = - c_kr(j) (1 - F0(t_j)) / (Y_rj - d_rj)

with F2_rj = 1 - F0(t_j) - S_r(t_j) (the competing incidence under H0) and d_rj = d1_rj +
d2_rj, and

    sigma_kk' = sum_r sum_j a_kr a_k'r w1_rj + b_kr b_k'r w2_rj,
    w1_rj = p_rj d1_j (1 - (d1_j - 1) / (U_j S_r(t_j-) - 1)),
    w2_rj = d2_rj (Y_rj - d2_rj) / (Y_rj - 1),

the expected cause-1 and observed cause-2 counts with hypergeometric corrections for tied
events. (When nobody has an event before t_j, U_j S_r(t_j-) is the number at risk and w1 is the
log-rank variance term.) The statistic z' sigma^- z on the first K - 1 groups is chi-square with
K - 1 degrees of freedom. This reproduces ``cmprsk::cuminc``'s ``Tests`` to rounding error,
including tied times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.stats._dist import chi2_sf
from ikaros.stats.competing._data import CauseLabels, prepare, prepare_groups

__all__ = ["GrayTest", "gray_test"]


@dataclass(frozen=True)
class GrayTest:
    """Gray's test of equal cumulative incidence of ``cause`` across ``groups``."""

    statistic: float
    df: int
    p: float
    cause: str
    groups: tuple[str, ...] = ()
    rho: float = 0.0
    score: tuple[float, ...] = ()


def _safe_div(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    ok = den != 0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _score_and_variance(
    time: NDArray[np.float64],
    status: NDArray[np.int64],
    codes: NDArray[np.int64],
    k: int,
    cause: int,
    rho: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    times, ti = np.unique(time, return_inverse=True)
    n_t = times.size
    at = np.zeros((k, n_t))
    d1 = np.zeros((k, n_t))
    d2 = np.zeros((k, n_t))
    np.add.at(at, (codes, ti), 1.0)
    np.add.at(d1, (codes, ti), (status == cause).astype(float))
    np.add.at(d2, (codes, ti), ((status != cause) & (status != 0)).astype(float))
    y = at[:, ::-1].cumsum(axis=1)[:, ::-1]
    d = d1 + d2
    surv = np.cumprod(1.0 - _safe_div(d, y), axis=1)
    surv_before = np.hstack([np.ones((k, 1)), surv[:, :-1]])
    f1 = np.cumsum(surv_before * _safe_div(d1, y), axis=1)
    f1_before = f1 - surv_before * _safe_div(d1, y)
    # score: group-specific subdistribution risk sets
    risk = _safe_div(y * (1.0 - f1_before), surv_before)
    d1_tot = d1.sum(axis=0)
    # pooled incidence under H0 and the weights
    q = _safe_div(y, surv_before)
    u = q.sum(axis=0)
    df0 = _safe_div(d1_tot, u)
    f0 = np.cumsum(df0)
    f0_before = f0 - df0
    base = 1.0 - f0_before
    weight = np.where(base > 0, np.power(np.where(base > 0, base, 1.0), rho), 0.0)
    z = (weight * (d1 - _safe_div(risk, risk.sum(axis=0)) * d1_tot)).sum(axis=1)
    p = _safe_div(q, u)
    dg = _safe_div(df0, 1.0 - f0_before)
    sigma = np.zeros((k, k))
    for r in range(k):
        rem = y[r] - d[r]
        inv_rem = _safe_div(np.ones(n_t), np.where(rem > 0, rem, y[r]))
        f2 = 1.0 - f0 - surv[r]
        den = u * surv_before[r] - 1.0
        w1 = p[r] * d1_tot * np.where(den > 0, 1.0 - _safe_div(d1_tot - 1.0, den), 1.0)
        w2 = d2[r] * np.where(y[r] > 1, _safe_div(y[r] - d2[r], y[r] - 1.0), 1.0)
        delta = (np.arange(k) == r).astype(float)[:, None]
        lead = weight * (delta - p)  # k x times
        term = lead * (p[r] * u * dg)
        # c_kr(j): sum over later times i > j
        c = np.zeros((k, n_t))
        c[:, :-1] = term[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
        a = lead - c * f2 * inv_rem
        b = -c * (1.0 - f0) * inv_rem
        sigma += (a * w1) @ a.T + (b * w2) @ b.T
    return z, sigma


def gray_test(
    time: ArrayLike,
    status: ArrayLike,
    groups: ArrayLike,
    cause: int | str,
    *,
    rho: float = 0.0,
    cause_labels: CauseLabels | None = None,
) -> GrayTest:
    """Gray's test that the cumulative incidence of ``cause`` is the same in all groups.

    Parameters
    ----------
    time, status
        Time to first event or censoring; 0 = censored, 1..k = cause (as ``cmprsk``).
    groups
        Group per patient; at least two groups.
    cause
        Cause of interest (code or name); all other causes are pooled as competing.
    rho
        Power of the weight (1 - F0(t-))^rho; 0 (default, as ``cuminc``) weights all times
        equally, like the log-rank test.
    cause_labels
        Names of the causes, as :func:`aalen_johansen`.

    Returns
    -------
    GrayTest
        Chi-square statistic on K - 1 degrees of freedom (the rank of the variance matrix),
        equal to ``cmprsk::cuminc(time, status, groups, rho = rho)$Tests``.

    References
    ----------
    Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
    risk. Ann Stat 1988;16:1141-1154.
    """
    data = prepare(time, status, cause_labels)
    code = data.cause_code(cause)
    data.require_events(code, "Gray's test")
    if groups is None:
        raise AnalysisError("Gray's test needs groups to compare")
    grp = prepare_groups(groups, data.time.size)
    k = len(grp.labels)
    if k < 2:
        raise AnalysisError(f"Gray's test needs at least two groups, got {list(grp.labels)}")
    if not np.isfinite(rho):
        raise AnalysisError(f"rho must be a finite number, got {rho}")
    z, sigma = _score_and_variance(data.time, data.status, grp.codes, k, code, float(rho))
    v = sigma[:-1, :-1]
    scale = max(1.0, float(np.abs(v).max(initial=0.0)))
    df = int(np.linalg.matrix_rank(v, tol=1e-10 * scale))
    if df == 0:
        raise AnalysisError(
            f"Gray's test is undefined: no group is at risk when cause {data.labels[code]!r} "
            "events occur"
        )
    stat = float(z[:-1] @ np.linalg.pinv(v, rcond=1e-10, hermitian=True) @ z[:-1])
    return GrayTest(
        statistic=stat,
        df=df,
        p=float(chi2_sf(stat, df)),
        cause=data.labels[code],
        groups=grp.labels,
        rho=float(rho),
        score=tuple(float(x) for x in z),
    )
