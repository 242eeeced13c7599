"""Vectorised Newton-Raphson for many Cox models at once (Efron or Breslow ties).

This module holds the numerical core of :func:`ikaros.scan.engine.cox_scan`. Every function
works on a *block* of genes: a ``(n_patients, n_genes)`` array whose rows are sorted by
follow-up time (deaths before censorings at the same time). Each column is one model
``gene + covariates``; the covariates are shared by all columns.

Risk-set sums
-------------
Rows are sorted by *decreasing* follow-up time, censorings before deaths at the same time. The
patients at risk at the ``j``-th distinct event time ``t_j`` (latest first) are then the first
``r_j`` rows (``time >= t_j``), and the deaths at ``t_j`` are the last ``d_j`` of them. One
product with a sparse 0/1 matrix sums, for every ``j``, the rows that enter the risk set at
``t_j`` (rows ``r_{j-1} .. r_j - 1``) and, when there are ties, the deaths at ``t_j``; a running
sum over the event times then gives every risk-set sum ``S_j``, and the death rows give ``A_j``.
(The sparse product is ~10x faster than :func:`numpy.add.reduceat` on the same segments.) No
loop runs over patients, and every sum adds the small late-time terms first.

Efron's approximation
---------------------
For ``l = 0 .. d_j - 1`` and ``f = l / d_j`` (Efron 1977; Therneau & Grambsch 2000, sec. 3.3)::

    denom_jl = S0_j - f A0_j
    loglik   = sum_deaths eta_i - sum_jl log(denom_jl)
    U        = sum_deaths x_i   - sum_jl (S1_j - f A1_j) / denom_jl
    I        = sum_jl [(S2_j - f A2_j) / denom_jl - m_jl m_jl'],  m_jl = (S1_j - f A1_j) / denom_jl

with ``S0, S1, S2`` the risk-set sums of ``w, w x, w x x'`` and ``A`` the same sums over the
deaths, ``w = exp(eta)``. Breslow's approximation is ``f = 0``. The ``(j, l)`` pairs are laid out
once as index vectors, so ties cost one gather per block, not a loop.

``eta`` is shifted by its per-gene maximum before ``exp`` (the partial likelihood does not
change when every ``eta`` moves by the same constant), so ``w <= 1`` never overflows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = [
    "DIVERGED",
    "colsum",
    "BlockFit",
    "Layout",
    "fit_block",
    "make_layout",
    "separated",
]

#: |coefficient x SD| (a standardised coefficient) beyond which the estimate is taken to diverge:
#: a hazard ratio per SD above e^15 = 3.3e6 (the same rule as :mod:`ikaros.stats.cox`).
DIVERGED: Final = 15.0
#: Relative slack when deciding that a Newton step lowered the log-likelihood: rounding error
#: alone can lower it by ~1e-15 relative at the optimum; that must not trigger step halving.
_LL_SLACK: Final = 1e-13
#: A standardised feature whose information at the start is below this (per death) carries no
#: information (constant within every risk set, or collinear with the covariates).
_NO_INFO: Final = 1e-10
#: Block width from which a Python loop over event times beats ``np.cumsum(axis=0)``.
_WIDE: Final = 256


@cache
def _ones_row(length: int) -> sparse.csr_array:
    return sparse.csr_array(np.ones((1, length)))


def colsum(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Column sums of a 2-D array, adding the rows in order whatever the number of columns.

    ``a.sum(axis=0)`` switches to pairwise summation when the array has one column, so a gene's
    results would change in the last bits with the block it sits in. A product with a sparse
    row of ones accumulates every column row by row, in the same order for any width.
    """
    return np.asarray(_ones_row(a.shape[0]) @ a)[0]


@dataclass(frozen=True)
class Layout:
    """Where the risk sets and death groups are in the time-sorted rows.

    Attributes
    ----------
    order
        Permutation sorting patients by decreasing time, deaths last within a time.
    n, events
        Number of patients and of deaths.
    m
        Number of distinct event times.
    sums
        Sparse ``(m, n)`` (or ``(2m, n)`` with ties) 0/1 matrix: row ``j`` marks the rows that
        enter the risk set at ``t_j``; row ``m + j`` the deaths at ``t_j``.
    bounds
        Segment starts for :func:`numpy.maximum.reduceat` (used by :func:`separated`).
    pos
        For each distinct event time, the index of its death segment in ``bounds``.
    at_risk, deaths
        Patients at risk and deaths at each distinct event time.
    expand
        For each Efron term ``(j, l)``, the event-time index ``j`` (length ``events``).
    frac
        For each Efron term, ``l / d_j`` (all zero for Breslow ties or untied times).
    tied
        Whether any ``frac`` is non-zero (death sums are then needed).
    death_rows
        Sorted-row indices of the deaths.
    """

    order: NDArray[np.intp]
    n: int
    events: int
    m: int
    sums: sparse.csr_array
    bounds: NDArray[np.intp]
    pos: NDArray[np.intp]
    at_risk: NDArray[np.float64]
    deaths: NDArray[np.float64]
    expand: NDArray[np.intp]
    frac: NDArray[np.float64]
    tied: bool
    death_rows: NDArray[np.intp]


def make_layout(time: NDArray[np.float64], event: NDArray[np.bool_], ties: str) -> Layout:
    """Sort the patients once and lay out risk sets and Efron terms (see module docstring)."""
    n = time.size
    order = np.lexsort((event, -time))  # by decreasing time, then deaths (True) last
    t = time[order]
    e = event[order]
    death_rows = np.flatnonzero(e)
    # distinct event times, latest first, as they appear in the rows
    event_times, counts = np.unique(t[death_rows], return_counts=True)
    event_times, counts = event_times[::-1], counts[::-1]
    at_risk = np.searchsorted(-t, -event_times, side="right")  # rows with time >= t_j
    dstart = at_risk - counts
    bounds = np.unique(np.concatenate([[0], dstart, at_risk[at_risk < n]]))
    pos = np.searchsorted(bounds, dstart)
    expand = np.repeat(np.arange(event_times.size), counts)
    if ties == "efron":
        first = np.repeat(np.cumsum(counts) - counts, counts)
        frac = (np.arange(expand.size) - first) / np.repeat(counts, counts).astype(np.float64)
    else:
        frac = np.zeros(expand.size)
    tied = bool(np.any(frac > 0))
    m = event_times.size
    entry = np.concatenate([[0], at_risk])
    rows = np.repeat(np.arange(m), np.diff(entry))
    cols = np.arange(entry[-1])
    if tied:
        rows = np.concatenate([rows, m + np.repeat(np.arange(m), counts)])
        cols = np.concatenate(
            [cols, np.concatenate([np.arange(a, b) for a, b in zip(dstart, at_risk, strict=True)])]
        )
    sums = sparse.csr_array((np.ones(rows.size), (rows, cols)), shape=(2 * m if tied else m, n))
    sums.sort_indices()
    return Layout(
        order=order,
        n=n,
        events=int(death_rows.size),
        m=m,
        sums=sums,
        bounds=bounds.astype(np.intp),
        pos=pos.astype(np.intp),
        at_risk=at_risk.astype(np.float64),
        deaths=counts.astype(np.float64),
        expand=expand.astype(np.intp),
        frac=frac,
        tied=tied,
        death_rows=death_rows.astype(np.intp),
    )


def null_loglik(lay: Layout) -> float:
    """Log partial likelihood with every coefficient 0: ``-sum_jl log(r_j - f d_j)``."""
    denom = lay.at_risk[lay.expand] - lay.frac * lay.deaths[lay.expand]
    return float(-np.sum(np.log(denom)))


def separated(xs: NDArray[np.float64], lay: Layout) -> NDArray[np.bool_]:
    """Which columns have a monotone one-covariate partial likelihood (infinite estimate).

    True when, at every event time, every death has the largest value of the column in the
    risk set (or every death the smallest) and the column varies within some risk set
    (Heinze & Schemper 2001). ``xs`` must be sorted as ``lay.order``. This is sufficient for
    the coefficient to diverge in any model containing the column.
    """
    seg_max = np.maximum.reduceat(xs, lay.bounds, axis=0)
    seg_min = np.minimum.reduceat(xs, lay.bounds, axis=0)
    risk_max = np.maximum.accumulate(seg_max, axis=0)[lay.pos]
    risk_min = np.minimum.accumulate(seg_min, axis=0)[lay.pos]
    death_max = seg_max[lay.pos]
    death_min = seg_min[lay.pos]
    varies = np.any(risk_max > risk_min, axis=0)
    up = np.all(death_min == risk_max, axis=0)
    down = np.all(death_max == risk_min, axis=0)
    return np.asarray(varies & (up | down))


@dataclass
class _Eval:
    loglik: NDArray[np.float64]  # (G,)
    score: NDArray[np.float64]  # (G, p)
    info: NDArray[np.float64]  # (G, p, p)


def work_doubles(lay: Layout, p: int) -> int:
    """Doubles of working memory per gene of a block (see :class:`_Work`)."""
    return (2 + p) * lay.n + (4 + p) * lay.events + 3 * lay.m


class _Work:
    """Preallocated working arrays for one block, reused by every Newton iteration.

    Reusing them matters: a fresh multi-megabyte array per operation costs page faults that
    took as long as the arithmetic. ``view(pool, k, shape)`` returns the ``k``-th contiguous
    array of ``shape`` in a pool, so the active block can shrink without reallocating.
    """

    def __init__(self, lay: Layout, G: int, p: int) -> None:
        self.big = np.empty((2 + p) * lay.n * G)  # w, tmp, w * feature (p)
        self.mid = np.empty((4 + p) * lay.events * G)  # denom, inv, S, A, means (p)

    @staticmethod
    def view(pool: NDArray[np.float64], k: int, shape: tuple[int, int]) -> NDArray[np.float64]:
        size = shape[0] * shape[1]
        return pool[k * size : (k + 1) * size].reshape(shape)


def _evaluate(
    z: NDArray[np.float64] | None,
    cov: Sequence[NDArray[np.float64]],
    z_max: NDArray[np.float64] | None,
    z_min: NDArray[np.float64] | None,
    death_sums: NDArray[np.float64],
    beta: NDArray[np.float64],
    lay: Layout,
    work: _Work,
) -> _Eval:
    """Log partial likelihood, score and information at ``beta`` for every column.

    ``z`` is the ``(n, G)`` standardised, time-sorted gene block (``None`` for the
    covariates-only model, ``G = 1``); ``cov`` the ``k`` standardised, sorted covariates as
    ``(n, 1)`` columns; ``beta`` is ``(G, p)`` with the gene first; ``death_sums`` ``(G, p)``.
    """
    G, p = beta.shape
    n, D, m = lay.n, lay.events, lay.m
    feats: list[NDArray[np.float64]] = ([] if z is None else [z]) + list(cov)
    view = _Work.view
    w = view(work.big, 0, (n, G))
    tmp = view(work.big, 1, (n, G))
    wf = [view(work.big, 2 + a, (n, G)) for a in range(p)]
    denom = view(work.mid, 0, (D, G))
    inv = view(work.mid, 1, (D, G))
    s_buf = view(work.mid, 2, (D, G))
    a_buf = view(work.mid, 3, (D, G))
    means = [view(work.mid, 4 + a, (D, G)) for a in range(p)]
    frac = lay.frac[:, None]
    direct = not lay.tied and D == m  # one Efron term per event time: no gather needed

    # eta, shifted by its per-gene maximum, then w = exp(eta) <= 1
    np.multiply(feats[0], beta[:, 0], out=w)
    for a in range(1, p):
        np.multiply(feats[a], beta[:, a], out=tmp)
        w += tmp
    if p == 1 and z is not None:
        assert z_max is not None and z_min is not None
        b = beta[:, 0]
        shift = np.where(b >= 0, b * z_max, b * z_min)
    else:
        shift = w.max(axis=0)
    w -= shift
    np.exp(w, out=w)

    def efron_sums(v: NDArray[np.float64], out: NDArray[np.float64]) -> NDArray[np.float64]:
        """``S_j - f A_j`` of ``v`` for every Efron term, written to ``out``."""
        seg = np.asarray(lay.sums @ v)  # (m or 2m, G)
        cum = seg[:m]
        # running sum over event times, in place; the same additions in the same order either
        # way (a row loop is faster for wide blocks, numpy's strided cumsum for narrow ones)
        if G >= _WIDE:
            for j in range(1, m):
                np.add(cum[j - 1], cum[j], out=cum[j])
        else:
            np.cumsum(cum, axis=0, out=cum)
        if direct:
            out[...] = cum
            return out
        np.take(cum, lay.expand, axis=0, out=out)
        if lay.tied:
            np.take(seg[m:], lay.expand, axis=0, out=a_buf)
            np.multiply(a_buf, frac, out=a_buf)
            np.subtract(out, a_buf, out=out)
        return out

    efron_sums(w, denom)
    np.divide(1.0, denom, out=inv)
    np.log(denom, out=s_buf)
    loglik = np.sum(beta * death_sums, axis=1) - D * shift - colsum(s_buf)

    score = np.empty((G, p))
    for a in range(p):
        np.multiply(w, feats[a], out=wf[a])
        np.multiply(efron_sums(wf[a], s_buf), inv, out=means[a])
        score[:, a] = death_sums[:, a] - colsum(means[a])
    info = np.empty((G, p, p))
    for a in range(p):
        for b in range(a, p):
            np.multiply(wf[a], feats[b], out=tmp)
            s2 = efron_sums(tmp, s_buf)
            s2 *= inv
            val = colsum(s2)
            np.multiply(means[a], means[b], out=s2)
            val -= colsum(s2)
            info[:, a, b] = val
            info[:, b, a] = val
    return _Eval(loglik=loglik, score=score, info=info)


def _solve(info: NDArray[np.float64], score: NDArray[np.float64]) -> NDArray[np.float64]:
    """Newton steps ``I^-1 U`` for a stack; NaN for a singular matrix."""
    if info.shape[1] == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(score / info[:, :, 0])
    try:
        return np.linalg.solve(info, score[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        out = np.full_like(score, np.nan)
        for g in range(info.shape[0]):
            try:
                out[g] = np.linalg.solve(info[g], score[g])
            except np.linalg.LinAlgError:
                pass
        return out


def _inverse_diag(info: NDArray[np.float64]) -> NDArray[np.float64]:
    """``diag(I^-1)`` for a stack of information matrices; NaN where singular."""
    if info.shape[1] == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(1.0 / info[:, :, 0])
    out = np.full(info.shape[:2], np.nan)
    for g in range(info.shape[0]):
        try:
            out[g] = np.diag(np.linalg.inv(info[g]))
        except np.linalg.LinAlgError:
            pass
    return out


@dataclass
class BlockFit:
    """Newton-Raphson results for one block, on the standardised scale."""

    beta: NDArray[np.float64]  # (G, p)
    var: NDArray[np.float64]  # (G, p): diag of the inverse information
    loglik: NDArray[np.float64]  # (G,)
    loglik_start: NDArray[np.float64]  # (G,)
    n_iter: NDArray[np.int64]
    converged: NDArray[np.bool_]
    diverged: NDArray[np.bool_]
    no_info: NDArray[np.bool_]
    increasing: NDArray[np.bool_]  # last accepted step raised the log-likelihood


def fit_block(
    z: NDArray[np.float64] | None,
    cov: Sequence[NDArray[np.float64]],
    beta0: NDArray[np.float64],
    lay: Layout,
    *,
    max_iter: int,
    tol: float,
) -> BlockFit:
    """Newton-Raphson with step halving, iterated to convergence for every column at once.

    Parameters
    ----------
    z
        ``(n, G)`` standardised gene block in ``lay.order`` (``None``: covariates-only model).
    cov
        Standardised covariates in ``lay.order``, each ``(n, 1)``.
    beta0
        ``(G, p)`` starting values (gene first).
    lay
        Risk-set layout.
    max_iter
        Likelihood evaluations allowed per column after the start.
    tol
        A column has converged when every component of the Newton step is at most
        ``tol * (1 + |beta|)`` (standardised scale).

    Notes
    -----
    Each iteration evaluates the log-likelihood, score and information at the trial point of
    every active column. A column whose log-likelihood fell (or is not finite) halves its step
    towards the last accepted point (R ``coxph`` does the same); otherwise the point is accepted
    and the next Newton step is taken. Columns leave the active set when converged, when a
    standardised coefficient exceeds :data:`DIVERGED`, or when they carry no information; the
    active block is then compacted so that finished columns cost nothing.
    """
    G, p = beta0.shape
    work = _Work(lay, G, p)
    z_max = z.max(axis=0) if z is not None else None
    z_min = z.min(axis=0) if z is not None else None
    dsum_cov = [float(c[lay.death_rows].sum()) for c in cov]
    if z is not None:
        dz = colsum(z[lay.death_rows])
        death_sums = np.column_stack([dz, *[np.full(G, s) for s in dsum_cov]])
    else:
        death_sums = np.array([dsum_cov], dtype=np.float64).reshape(1, p)

    beta_acc = beta0.astype(np.float64, copy=True)
    ll_acc = np.empty(G)
    info_acc = np.empty((G, p, p))
    n_iter = np.zeros(G, dtype=np.int64)
    converged = np.zeros(G, dtype=bool)
    diverged = np.zeros(G, dtype=bool)
    no_info = np.zeros(G, dtype=bool)
    increasing = np.zeros(G, dtype=bool)
    done = np.zeros(G, dtype=bool)

    def ev(
        idx: NDArray[np.intp] | None, zw: NDArray[np.float64] | None, b: NDArray[np.float64]
    ) -> _Eval:
        return _evaluate(
            zw,
            cov,
            None if z_max is None or idx is None else z_max[idx],
            None if z_min is None or idx is None else z_min[idx],
            death_sums if idx is None else death_sums[idx],
            b,
            lay,
            work,
        )

    all_idx = np.arange(G)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        first = ev(all_idx, z, beta_acc)
        ll_acc[:] = first.loglik
        ll_start = first.loglik.copy()
        info_acc[:] = first.info
        # no information: the gene's (or, adjusted, its part not explained by the covariates)
        # information is ~0 (constant in every risk set, or collinear with the covariates)
        diag = np.diagonal(first.info, axis1=1, axis2=2)
        schur = diag[:, 0].copy()
        if p > 1 and z is not None:
            rest = first.info[:, 1:, 1:]
            cross = first.info[:, 1:, 0]
            try:
                sol = np.linalg.solve(rest, cross[:, :, None])[:, :, 0]
                schur = schur - np.sum(cross * sol, axis=1)
            except np.linalg.LinAlgError:
                schur = np.zeros(G)
        no_info[:] = ~(schur > _NO_INFO * max(lay.events, 1))
        done |= no_info
        step = _solve(first.info, first.score)
        small = np.all(np.abs(step) <= tol * (1.0 + np.abs(beta_acc)), axis=1)
        bad = ~np.all(np.isfinite(step), axis=1)
        no_info |= bad & ~done
        done |= bad
        converged |= small & ~done
        done |= small
        beta_try = beta_acc + np.where(done[:, None], 0.0, step)

        active = np.flatnonzero(~done)
        zw = None if z is None else z[:, active]
        for _ in range(max_iter):
            if active.size == 0:
                break
            cur = ev(active, zw, beta_try[active])
            n_iter[active] += 1
            old = ll_acc[active]
            ok = np.isfinite(cur.loglik) & (cur.loglik >= old - _LL_SLACK * np.abs(old))
            # accepted points: take the next Newton step from them
            acc = active[ok]
            if acc.size:
                increasing[acc] = cur.loglik[ok] > old[ok]
                beta_acc[acc] = beta_try[acc]
                ll_acc[acc] = cur.loglik[ok]
                info_acc[acc] = cur.info[ok]
                step = _solve(cur.info[ok], cur.score[ok])
                div = np.any(np.abs(beta_acc[acc]) > DIVERGED, axis=1)
                bad = ~np.all(np.isfinite(step), axis=1) & ~div
                small = np.all(np.abs(step) <= tol * (1.0 + np.abs(beta_acc[acc])), axis=1)
                small &= ~div & ~bad
                diverged[acc[div]] = True
                no_info[acc[bad]] = True
                converged[acc[small]] = True
                done[acc[div | bad | small]] = True
                beta_try[acc] = beta_acc[acc] + np.where((div | bad | small)[:, None], 0.0, step)
            # rejected points: halve the step
            rej = active[~ok]
            if rej.size:
                beta_try[rej] = 0.5 * (beta_acc[rej] + beta_try[rej])
                tiny = np.all(
                    np.abs(beta_try[rej] - beta_acc[rej]) <= tol * (1.0 + np.abs(beta_acc[rej])),
                    axis=1,
                )
                converged[rej[tiny]] = True  # the optimum is as close as rounding allows
                done[rej[tiny]] = True
            keep = ~done[active]
            if not np.all(keep):
                active = active[keep]
                if zw is not None:
                    zw = zw[:, keep]
        var = _inverse_diag(info_acc)
    return BlockFit(
        beta=beta_acc,
        var=var,
        loglik=ll_acc,
        loglik_start=ll_start,
        n_iter=n_iter,
        converged=converged,
        diverged=diverged,
        no_info=no_info,
        increasing=increasing,
    )
