"""Vectorised Newton-Raphson for many Cox models at once (Efron or Breslow ties).

This module holds the numerical core of :func:`ikaros.scan.engine.cox_scan`. Every function
works on a *block* of genes: a ``(n_patients, n_genes)`` array whose rows are sorted as
:func:`ikaros.scan._layout.make_layout` orders them. Each column is one model
``gene + covariates``; the covariates are shared by all columns.

Risk-set sums
-------------
Rows are sorted once by decreasing time (:mod:`ikaros.scan._layout`): a sparse 0/1 product and a
running sum over event times give every risk-set sum ``S_j`` and death sum ``A_j`` of a whole
block at once, with no loop over patients.

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

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from ikaros.scan._layout import Layout, colsum, running_sum

__all__ = ["DIVERGED", "BlockFit", "fit_block", "work_doubles"]

#: |coefficient x SD| (a standardised coefficient) beyond which the estimate is taken to diverge:
#: a hazard ratio per SD above e^15 = 3.3e6 (the same rule as :mod:`ikaros.stats.cox`).
DIVERGED: Final = 15.0
#: Relative slack when deciding that a Newton step lowered the log-likelihood: rounding error
#: alone can lower it by ~1e-15 relative at the optimum; that must not trigger step halving.
_LL_SLACK: Final = 1e-13
#: A standardised feature whose information at the start is below this (per death) carries no
#: information (constant within every risk set, or collinear with the covariates).
_NO_INFO: Final = 1e-10


@dataclass
class _Eval:
    loglik: NDArray[np.float64]  # (G,)
    score: NDArray[np.float64]  # (G, p)
    info: NDArray[np.float64]  # (G, p, p)


def _n_products(p: int) -> tuple[int, int]:
    """Risk-set sums per gene: ``w``, ``w x_a`` and ``w x_a x_b`` (a <= b); and the pairs."""
    pairs = p * (p + 1) // 2
    return 1 + p + pairs, pairs


def work_doubles(lay: Layout, p: int) -> int:
    """Doubles of working memory per gene of a block (see :class:`_Work`)."""
    q, pairs = _n_products(p)
    return q * lay.n + (2 * q + pairs + 2) * lay.events + (2 * q + 1) * lay.m


class _Work:
    """Preallocated working arrays for one block, reused by every Newton iteration.

    Reusing them matters: a fresh multi-megabyte array per operation costs page faults that
    took as long as the arithmetic. ``view(pool, k, width)`` returns the ``k``-th contiguous
    ``(rows, width)`` array of a pool, so the active block can shrink without reallocating.
    """

    def __init__(self, lay: Layout, G: int, p: int) -> None:
        q, pairs = _n_products(p)
        self.products = np.empty(q * lay.n * G)  # (n, q, G): w, w x_a, w x_a x_b
        self.terms = np.empty(q * lay.events * G)  # (D, q, G): S - f A per Efron term
        self.deaths = np.empty(q * lay.events * G)  # (D, q, G): f A, then the ratios
        self.cross = np.empty(pairs * lay.events * G)  # (D, pairs, G): m_a m_b
        self.inv = np.empty(lay.events * G)  # (D, G): 1 / denominator
        self.log = np.empty(lay.events * G)  # (D, G): log denominator

    @staticmethod
    def view(pool: NDArray[np.float64], rows: int, width: int) -> NDArray[np.float64]:
        return pool[: rows * width].reshape(rows, width)


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

    All ``q`` weighted products sit side by side in one ``(n, q * G)`` array, so that one sparse
    product, one running sum and a handful of array operations serve every term of the score
    and the information, whatever ``p``.
    """
    G, p = beta.shape
    q, n_pairs = _n_products(p)
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    n, D, m = lay.n, lay.events, lay.m
    feats: list[NDArray[np.float64]] = ([] if z is None else [z]) + list(cov)
    view = _Work.view
    P = view(work.products, n, q * G).reshape(n, q, G)
    w = P[:, 0, :]

    # eta, shifted by its per-gene maximum, then w = exp(eta) <= 1
    np.multiply(feats[0], beta[:, 0], out=w)
    if p > 1:
        tmp = P[:, 1, :]
        for a in range(1, p):
            np.multiply(feats[a], beta[:, a], out=tmp)
            w += tmp
    if p == 1 and z is not None:
        assert z_max is not None and z_min is not None
        b0 = beta[:, 0]
        shift = np.where(b0 >= 0, b0 * z_max, b0 * z_min)
    else:
        shift = w.max(axis=0)
    w -= shift
    np.exp(w, out=w)
    for a in range(p):
        np.multiply(w, feats[a], out=P[:, 1 + a, :])
    for k, (a, b) in enumerate(pairs):
        np.multiply(P[:, 1 + a, :], feats[b], out=P[:, 1 + p + k, :])

    # risk-set sums S_j (running sum over event times) and death sums A_j of every product
    seg = np.asarray(lay.sums @ P.reshape(n, q * G))  # (m, qG), or (2m, qG) with ties
    cum = seg[:m]
    running_sum(cum)
    if not lay.tied and m == D:  # one Efron term per event time, f = 0
        T = cum
    else:
        T = view(work.terms, D, q * G)
        np.take(cum, lay.expand, axis=0, out=T)
        if lay.tied:
            fA = view(work.deaths, D, q * G)
            np.take(seg[m:], lay.expand, axis=0, out=fA)
            np.multiply(fA, lay.frac[:, None], out=fA)
            np.subtract(T, fA, out=T)
    T3 = T.reshape(D, q, G)
    denom = T3[:, 0, :]
    inv = view(work.inv, D, G)
    np.divide(1.0, denom, out=inv)
    logd = view(work.log, D, G)
    np.log(denom, out=logd)
    loglik = np.sum(beta * death_sums, axis=1) - D * shift - colsum(logd)

    # ratios (S1 - f A1) / denom (the means m_a) and (S2 - f A2) / denom, then m_a m_b
    R = view(work.deaths, D, (q - 1) * G).reshape(D, q - 1, G)
    np.multiply(T3[:, 1:, :], inv[:, None, :], out=R)
    ratio_sums = colsum(R.reshape(D, (q - 1) * G)).reshape(q - 1, G)
    MM = view(work.cross, D, n_pairs * G).reshape(D, n_pairs, G)
    for k, (a, b) in enumerate(pairs):
        np.multiply(R[:, a, :], R[:, b, :], out=MM[:, k, :])
    cross_sums = colsum(MM.reshape(D, n_pairs * G)).reshape(n_pairs, G)

    score = death_sums - ratio_sums[:p].T
    info = np.empty((G, p, p))
    for k, (a, b) in enumerate(pairs):
        val = ratio_sums[p + k] - cross_sums[k]
        info[:, a, b] = val
        info[:, b, a] = val
    return _Eval(loglik=loglik, score=score, info=info)


def _solve(info: NDArray[np.float64], score: NDArray[np.float64]) -> NDArray[np.float64]:
    """Newton steps ``I^-1 U`` for a stack; NaN for a singular matrix."""
    if info.shape[1] == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(score / info[:, :, 0])
    try:
        return np.asarray(np.linalg.solve(info, score[:, :, None])[:, :, 0], dtype=np.float64)
    except np.linalg.LinAlgError:
        out = np.full_like(score, np.nan)
        for g in range(info.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[g] = np.linalg.solve(info[g], score[g])
        return out


def _inverse_diag(info: NDArray[np.float64]) -> NDArray[np.float64]:
    """``diag(I^-1)`` for a stack of information matrices; NaN where singular."""
    if info.shape[1] == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(1.0 / info[:, :, 0])
    try:
        return np.asarray(np.diagonal(np.linalg.inv(info), axis1=1, axis2=2), dtype=np.float64)
    except np.linalg.LinAlgError:
        out = np.full(info.shape[:2], np.nan)
        for g in range(info.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[g] = np.diag(np.linalg.inv(info[g]))
        return out


@dataclass
class BlockFit:
    """Newton-Raphson results for one block, on the standardised scale."""

    beta: NDArray[np.float64]  # (G, p)
    var: NDArray[np.float64]  # (G, p): diag of the inverse information
    var_start: NDArray[np.float64]  # (G, p): the same at the starting values
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
    and the next Newton step is taken. Columns leave the active set when converged, when they
    carry no information at the start (``no_info``), or when they diverge (a standardised
    coefficient beyond :data:`DIVERGED`, or an information matrix that became singular); the
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
        var_start = _inverse_diag(first.info)
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
                # diverging: a coefficient ran off, or (having had information at the start)
                # the information vanished on the way, as it does along a monotone likelihood
                div = np.any(np.abs(beta_acc[acc]) > DIVERGED, axis=1)
                div |= ~np.all(np.isfinite(step), axis=1)
                small = np.all(np.abs(step) <= tol * (1.0 + np.abs(beta_acc[acc])), axis=1)
                small &= ~div
                diverged[acc[div]] = True
                converged[acc[small]] = True
                done[acc[div | small]] = True
                beta_try[acc] = beta_acc[acc] + np.where((div | small)[:, None], 0.0, step)
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
        var_start=var_start,
        loglik=ll_acc,
        loglik_start=ll_start,
        n_iter=n_iter,
        converged=converged,
        diverged=diverged,
        no_info=no_info,
        increasing=increasing,
    )
