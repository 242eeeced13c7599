"""Vectorised Newton-Raphson for many Cox models at once (Efron or Breslow ties).

This module holds the iteration behind :func:`ikaros.scan.engine.cox_scan` and
:func:`ikaros.stats.cox.fit_cox`: every column of a block of genes (a ``(n_patients, n_genes)``
array whose rows are sorted as :func:`ikaros.scan._layout.make_layout` orders them) is one model
``gene + covariates``, the covariates shared by all columns. The log partial likelihood, score
and information come from :mod:`ikaros.scan._evaluate` (Efron's terms summed per tied time in
closed form); here are step halving, convergence, and the evidence of a monotone likelihood.

References
----------
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000,
sections 3.2-3.3 (Newton-Raphson with step halving).
Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
Biometrics 2001;57:114-119.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from ikaros.scan._evaluate import (
    GroupMoments,
    _Eval,
    _evaluate,
    _evaluate_one,
    _Work,
    group_moments,
    work_doubles,
)
from ikaros.scan._layout import Layout, colsum

#: Working arrays of a block, to pass to :func:`fit_block` for reuse.
Work = _Work

__all__ = [
    "FLAT_SE_RATIO",
    "PROBE_FAR",
    "BlockFit",
    "GroupMoments",
    "Work",
    "fit_block",
    "group_moments",
    "work_doubles",
]

#: A fit whose standard error (standardised scale) grew more than this many times from its
#: value at the start may sit on the flat asymptote of a monotone likelihood, where rounding can
#: stop Newton-Raphson as if converged: such fits are probed (:func:`_probe`). Finite estimates
#: change the SE by a factor of order 1; a probed finite estimate stays an ordinary fit.
FLAT_SE_RATIO: Final = 1e3
#: How far (standardised units, i.e. a factor e^64 in the hazard ratio per SD) the probe moves
#: the estimate along its direction of travel.
PROBE_FAR: Final = 64.0
#: Largest range of the linear predictor over patients that Newton-Raphson may step to: weights
#: down to exp(-600) ~ 1e-261 of the largest keep every risk-set sum and its derivatives
#: representable (exp(-745) underflows to 0). A finite estimate beyond it would put hazard
#: ratios above e^600 between patients, beyond double precision for R as well. A trial point
#: beyond it is treated like one that lowered the log-likelihood (the step is halved).
MAX_SPAN: Final = 600.0
#: Largest range of the linear predictor at a probe point (exp(-700) ~ 1e-304 is still a
#: normal double).
_PROBE_SPAN: Final = 700.0
#: Relative slack when deciding that the log-likelihood did not fall at a probe point.
_PROBE_SLACK: Final = 1e-10
#: Relative slack when deciding that a Newton step lowered the log-likelihood: rounding error
#: alone can lower it by ~1e-15 relative at the optimum; that must not trigger step halving.
_LL_SLACK: Final = 1e-13
#: A standardised feature whose information at the start is below this (per death) carries no
#: information (constant within every risk set, or collinear with the covariates).
_NO_INFO: Final = 1e-10


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
    """Newton-Raphson results for one block, on the standardised scale.

    ``monotone`` is the evidence of an infinite estimate found by :func:`fit_block` itself:
    the log-likelihood does not fall when the estimate is moved much further along the
    direction it travelled (see :func:`_probe`). Callers add the exact one-covariate check
    (:func:`ikaros.scan._layout.separated`).
    """

    beta: NDArray[np.float64]  # (G, p)
    var: NDArray[np.float64]  # (G, p): diag of the inverse information
    var_start: NDArray[np.float64]  # (G, p): the same at the starting values
    info: NDArray[np.float64]  # (G, p, p): information at beta
    loglik: NDArray[np.float64]  # (G,)
    loglik_start: NDArray[np.float64]  # (G,)
    n_iter: NDArray[np.int64]
    converged: NDArray[np.bool_]
    no_info: NDArray[np.bool_]
    singular: NDArray[np.bool_]  # the information became singular on the way
    flat: NDArray[np.bool_]  # some SE grew more than FLAT_SE_RATIO-fold from the start
    probed: NDArray[np.bool_]  # suspect fits whose likelihood was probed (see _probe)
    monotone: NDArray[np.bool_]  # probed: the log-likelihood still rises far out


def _directions(
    *candidates: NDArray[np.float64],
) -> list[tuple[NDArray[np.float64], NDArray[np.bool_]]]:
    """Unit vectors of each ``(k, p)`` candidate direction, with the rows where it exists."""
    out = []
    for d in candidates:
        norm = np.sqrt(np.sum(d * d, axis=1))
        ok = np.isfinite(norm) & (norm > 0)
        out.append((np.where(ok[:, None], d / np.where(ok, norm, 1.0)[:, None], 0.0), ok))
    return out


def fit_block(
    z: NDArray[np.float64] | None,
    cov: Sequence[NDArray[np.float64]],
    beta0: NDArray[np.float64],
    lay: Layout,
    *,
    max_iter: int,
    tol: float,
    work: _Work | None = None,
) -> BlockFit:
    """Newton-Raphson with step halving, iterated to convergence for every column at once.

    Parameters
    ----------
    z
        ``(n, G)`` standardised gene block in ``lay.order`` (``None``: covariates-only model,
        ``G = 1``).
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
    work
        Working arrays for at least ``G`` columns (:class:`~ikaros.scan._evaluate._Work`),
        reused from block to block by the caller; new ones by default.

    Notes
    -----
    Each iteration evaluates the log-likelihood, score and information at the trial point of
    every active column. A column whose log-likelihood fell (or is not finite) halves its step
    towards the last accepted point (R ``coxph`` does the same); otherwise the point is accepted
    and the next Newton step is taken. Columns leave the active set when converged, when they
    carry no information at the start (``no_info``), or when the information matrix became
    singular on the way (as it does along a monotone likelihood); the active block is then
    compacted so that finished columns cost nothing. No bound on the size of a coefficient
    stops a fit: a large finite estimate is iterated to convergence like any other.

    Columns that did not converge, whose information became singular, or whose standard error
    grew more than :data:`FLAT_SE_RATIO`-fold from the start (Newton-Raphson can stop on the
    flat asymptote of a monotone likelihood, where the score is rounding noise) are probed
    (:func:`_probe`): ``monotone`` is set where the log-likelihood does not fall when the
    estimate moves far along its direction of travel.
    """
    G, p = beta0.shape
    if work is None:
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
    beta_prev = beta_acc.copy()  # the accepted point before the last one
    step_acc = np.full((G, p), np.nan)  # the Newton step computed at the accepted point
    ll_acc = np.empty(G)
    info_acc = np.empty((G, p, p))
    n_iter = np.zeros(G, dtype=np.int64)
    converged = np.zeros(G, dtype=bool)
    singular = np.zeros(G, dtype=bool)
    at_limit = np.zeros(G, dtype=bool)
    no_info = np.zeros(G, dtype=bool)
    done = np.zeros(G, dtype=bool)

    xt = np.ascontiguousarray(np.column_stack([c[:, 0] for c in cov]).T) if z is None else None

    def ev(idx: NDArray[np.intp], zw: NDArray[np.float64] | None, b: NDArray[np.float64]) -> _Eval:
        if xt is not None:  # one model (G = 1): the row-contiguous evaluator
            return _evaluate_one(xt, death_sums, b, lay)
        return _evaluate(
            zw,
            cov,
            None if z_max is None else z_max[idx],
            None if z_min is None else z_min[idx],
            death_sums[idx],
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
        if z is None:  # the covariates-only model: every covariate must carry information
            no_info[:] |= ~np.all(diag > _NO_INFO * max(lay.events, 1), axis=1)
        done |= no_info
        step = _solve(first.info, first.score)
        step_acc[:] = step
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
            within = cur.spread <= MAX_SPAN
            ok = np.isfinite(cur.loglik) & (cur.loglik >= old - _LL_SLACK * np.abs(old)) & within
            at_limit[active] = ~within
            # accepted points: take the next Newton step from them
            acc = active[ok]
            if acc.size:
                beta_prev[acc] = beta_acc[acc]
                beta_acc[acc] = beta_try[acc]
                ll_acc[acc] = cur.loglik[ok]
                info_acc[acc] = cur.info[ok]
                step = _solve(cur.info[ok], cur.score[ok])
                step_acc[acc] = step
                # the information vanished on the way (a monotone likelihood's asymptote)
                div = ~np.all(np.isfinite(step), axis=1)
                small = np.all(np.abs(step) <= tol * (1.0 + np.abs(beta_acc[acc])), axis=1)
                small &= ~div
                singular[acc[div]] = True
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
                # the optimum is as close as rounding allows (unless the halving only kept the
                # step within MAX_SPAN: then the fit stops there, not converged)
                converged[rej[tiny & ~at_limit[rej]]] = True
                done[rej[tiny]] = True
            keep = ~done[active]
            if not np.all(keep):
                active = active[keep]
                if zw is not None:
                    zw = zw[:, keep]
        var = _inverse_diag(info_acc)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = var / var_start
        flat = np.any(~(ratio <= FLAT_SE_RATIO**2), axis=1) & ~no_info
        probed = ~no_info & (~converged | flat | singular)
        monotone = np.zeros(G, dtype=bool)
        idx = np.flatnonzero(probed)
        if idx.size:
            monotone[idx] = _probe(
                lambda sub, b: ev(idx[sub], None if z is None else z[:, idx[sub]], b).loglik,
                (z, cov),
                beta_acc[idx],
                ll_acc[idx],
                [beta_acc[idx] - beta0[idx], beta_acc[idx] - beta_prev[idx], step_acc[idx]],
                idx,
            )
    return BlockFit(
        beta=beta_acc,
        var=var,
        var_start=var_start,
        info=info_acc,
        loglik=ll_acc,
        loglik_start=ll_start,
        n_iter=n_iter,
        converged=converged,
        no_info=no_info,
        singular=singular,
        flat=flat,
        probed=probed,
        monotone=monotone,
    )


def _spread(
    data: tuple[NDArray[np.float64] | None, Sequence[NDArray[np.float64]]],
    cols: NDArray[np.intp],
    d: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Range over patients of the linear predictor ``x' d`` for each probed column."""
    z, cov = data
    parts: list[NDArray[np.float64]] = []
    if z is not None:
        parts.append(z[:, cols] * d[:, 0])
    a = 0 if z is None else 1
    parts.extend(c * d[:, a + j] for j, c in enumerate(cov))
    eta = parts[0].copy()
    for extra in parts[1:]:
        eta += extra
    return np.asarray(eta.max(axis=0) - eta.min(axis=0))


def _probe(
    loglik_at: Callable[[NDArray[np.intp], NDArray[np.float64]], NDArray[np.float64]],
    data: tuple[NDArray[np.float64] | None, Sequence[NDArray[np.float64]]],
    beta: NDArray[np.float64],
    loglik: NDArray[np.float64],
    candidates: list[NDArray[np.float64]],
    cols: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """Whether the log-likelihood still rises far beyond ``beta`` (evidence of monotonicity).

    For each candidate direction (the whole way travelled from the start, the last accepted
    step, the pending Newton step), the log-likelihood is evaluated at ``beta + s d`` for a
    unit vector ``d`` and ``s`` = ``PROBE_FAR / 8`` and ``PROBE_FAR`` standardised units (fewer
    where the linear predictor would then span more than ``_PROBE_SPAN``, so that no risk-set
    sum underflows). The partial likelihood is concave: at a finite maximum with information
    along ``d`` it falls by about ``s^2 I_dd / 2``, while on a monotone likelihood it keeps
    rising towards its supremum (or stays flat to rounding). A column is monotone when, along
    some candidate, neither move lowers the log-likelihood by more than rounding.
    """
    k, _ = beta.shape
    slack = _PROBE_SLACK * np.maximum(1.0, np.abs(loglik))
    found = np.zeros(k, dtype=bool)
    for d, ok in _directions(*candidates):
        rows = np.flatnonzero(ok & ~found)
        if rows.size == 0:
            continue
        here = _spread(data, cols[rows], beta[rows])
        span = _spread(data, cols[rows], d[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(span > 0, np.maximum(_PROBE_SPAN - here, 0.0) / span, PROBE_FAR)
        far = np.minimum(PROBE_FAR, room)
        usable = far >= 1.0
        rows, far = rows[usable], far[usable]
        if rows.size == 0:
            continue
        near_ll = loglik_at(rows, beta[rows] + (far / 8.0)[:, None] * d[rows])
        far_ll = loglik_at(rows, beta[rows] + far[:, None] * d[rows])
        rise = np.isfinite(near_ll) & np.isfinite(far_ll)
        rise &= near_ll >= loglik[rows] - slack[rows]
        rise &= far_ll >= near_ll - slack[rows]
        found[rows[rise]] = True
    return found
