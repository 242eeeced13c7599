"""Cox partial likelihood, score and information for many models at once (Efron or Breslow).

The evaluator behind :func:`ikaros.scan._efron.fit_block` (Newton-Raphson), shared by
:func:`ikaros.scan.engine.cox_scan`, :func:`ikaros.stats.cox.fit_cox` and the
proportional-hazards test (:func:`group_moments`). Every function works on a *block* of genes: a
``(n_patients, n_genes)`` array whose rows are sorted as :func:`ikaros.scan._layout.make_layout`
orders them. Each column is one model ``gene + covariates``; the covariates are shared by all
columns.

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
deaths, ``w = exp(eta)``. Breslow's approximation is ``f = 0``: every death at ``t_j`` has the
same term, counted ``d_j`` times.

The terms of a tied time differ only in the scalar ``denom_jl``. With ``a = A / A0`` (the
deaths' weighted mean) and ``b = S - S0 a``, ``(S - f A) / denom_jl = a + b / denom_jl``, so
with ``H1_j = sum_l 1 / denom_jl`` and ``H2_j = sum_l 1 / denom_jl^2``::

    sum_l (S - f A) / denom_jl = d_j a + b H1_j
    sum_l m_jl m_jl'           = d_j a a' + (a b' + b a') H1_j + b b' H2_j

The per-death work is therefore three scalars (``log``, ``1 / denom``, its square) per term,
whatever the number of covariates; everything else is per event time. (Closed forms of
``H1`` and ``H2`` by digamma and trigamma differences exist, but lose digits to cancellation
when ``S0_j / A0_j`` is large; the direct sums keep the rounding of the textbook formula.) Both
``a`` and ``b`` are differences of well-scaled quantities: ``b = S0 (mean at risk - mean of the
deaths)``, which is small exactly when the two means agree, as is the variance it enters.

``eta`` is shifted by its per-gene maximum before ``exp`` (the partial likelihood does not
change when every ``eta`` moves by the same constant), so ``w <= 1`` never overflows.

References
----------
Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
1977;72:557-565.
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000,
sections 3.2-3.3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ikaros.scan._layout import Layout

__all__ = ["GroupMoments", "group_moments", "work_doubles"]


@dataclass
class _Eval:
    loglik: NDArray[np.float64]  # (G,)
    score: NDArray[np.float64]  # (G, p)
    info: NDArray[np.float64]  # (G, p, p)
    spread: NDArray[np.float64]  # (G,): range of the linear predictor over patients


def _n_products(p: int) -> tuple[int, int]:
    """Risk-set sums per gene: ``w``, ``w x_a`` and ``w x_a x_b`` (a <= b); and the pairs."""
    pairs = p * (p + 1) // 2
    return 1 + p + pairs, pairs


def _pairs(p: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(p) for b in range(a, p)]


def work_doubles(lay: Layout, p: int) -> int:
    """Doubles of working memory per gene of a block (see :class:`_Work` and :func:`_terms`)."""
    q, pairs = _n_products(p)
    mt = 0 if lay.tie_times is None else int(lay.tie_times.size)
    dt = 0 if lay.tie_group is None else int(lay.tie_group.size)
    return q * lay.n + (2 * q + pairs + 1) * lay.m + (3 * q + 3) * mt + 5 * dt


class _Work:
    """Preallocated working arrays for one block, reused by every Newton iteration.

    Reusing them matters: a fresh multi-megabyte array per operation costs page faults that
    took as long as the arithmetic. ``view(pool, k, width)`` returns the ``k``-th contiguous
    ``(rows, width)`` array of a pool, so the active block can shrink without reallocating.
    """

    def __init__(self, lay: Layout, G: int, p: int) -> None:
        q, pairs = _n_products(p)
        self.products = np.empty(q * lay.n * G)  # (n, q, G): w, w x_a, w x_a x_b
        self.ratios = np.empty((q - 1) * lay.m * G)  # (m, q - 1, G)
        self.cross = np.empty(pairs * lay.m * G)  # (m, pairs, G): m_a m_b
        self.log = np.empty(lay.m * G)  # (m, G): log denominator

    @staticmethod
    def view(pool: NDArray[np.float64], rows: int, width: int) -> NDArray[np.float64]:
        return pool[: rows * width].reshape(rows, width)


def _terms(
    S: NDArray[np.float64],
    A: NDArray[np.float64] | None,
    lay: Layout,
    p: int,
    work: _Work | None = None,
    *,
    one_model: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per event time: the log-denominator, ratio and cross-product terms.

    ``S`` is ``(m, q, G)``: the risk-set sums of the ``q`` products at every event time; ``A``
    ``(mt, q, G)``: the death sums at the tied times (``None`` without Efron ties). Returns
    ``(m, G)`` logs, ``(m, q - 1, G)`` ratios ``S_k / S0`` and ``(m, pairs, G)`` products of the
    means ``m_a m_b``; at tied times each holds the sum over the time's Efron terms (see the
    module docstring). Summed over event times with ``lay.weight`` they give the
    log-likelihood's denominators, the score's means and the information.

    Blocks of genes add each tied time's terms with a sparse product (the same order of
    additions whatever the width of the block); ``one_model`` (``G = 1``, never part of a
    block) uses :func:`numpy.add.reduceat`, which needs no sparse matrix.
    """
    m, q, G = S.shape
    pairs = _pairs(p)
    view = _Work.view
    if work is None:
        logs = np.empty((m, G))
        R = np.empty((m, q - 1, G))
        MM = np.empty((m, len(pairs), G))
    else:
        logs = view(work.log, m, G)
        R = view(work.ratios, m, (q - 1) * G).reshape(m, q - 1, G)
        MM = view(work.cross, m, len(pairs) * G).reshape(m, len(pairs), G)
    S0 = S[:, 0, :]
    np.log(S0, out=logs)
    np.divide(S[:, 1:, :], S0[:, None, :], out=R)
    for k, (a, b) in enumerate(pairs):
        np.multiply(R[:, a, :], R[:, b, :], out=MM[:, k, :])
    if not lay.tied:
        return logs, R, MM
    assert A is not None and lay.tie_times is not None and lay.tie_group is not None
    assert lay.tie_frac is not None and lay.tie_deaths is not None
    tt = lay.tie_times
    mt, dt = tt.size, lay.tie_group.size
    St = S[tt]  # (mt, q, G)
    A0 = A[:, 0, :]
    # the Efron denominators of every term of a tied time, then three sums per time
    stack = np.empty((dt, 3, G))
    den = stack[:, 2, :]
    np.take(St[:, 0, :], lay.tie_group, axis=0, out=den)
    frac_a0 = np.take(A0, lay.tie_group, axis=0)
    frac_a0 *= lay.tie_frac[:, None]
    den -= frac_a0
    np.log(den, out=stack[:, 0, :])
    np.divide(1.0, den, out=stack[:, 1, :])
    np.multiply(stack[:, 1, :], stack[:, 1, :], out=stack[:, 2, :])
    if one_model:
        assert lay.tie_starts is not None
        sums = np.add.reduceat(stack, lay.tie_starts, axis=0)
    else:
        sums = np.asarray(lay.tie_sums @ stack.reshape(dt, 3 * G)).reshape(mt, 3, G)
    H1 = sums[:, 1, :]
    H2 = sums[:, 2, :]
    dmean = A[:, 1:, :] / A0[:, None, :]  # the deaths' weighted means a, (mt, q - 1, G)
    dev = St[:, 1:, :] - St[:, :1, :] * dmean  # b = S - S0 a
    d = lay.tie_deaths[:, None]
    logs[tt] = sums[:, 0, :]
    R[tt] = d[:, :, None] * dmean + dev * H1[:, None, :]
    for k, (i, j) in enumerate(pairs):
        ai, aj, bi, bj = dmean[:, i, :], dmean[:, j, :], dev[:, i, :], dev[:, j, :]
        MM[tt, k, :] = d * ai * aj + (ai * bj + bi * aj) * H1 + bi * bj * H2
    return logs, R, MM


def _wsum(a: NDArray[np.float64], lay: Layout) -> NDArray[np.float64]:
    """Sums over event times weighted by ``lay.weight``, in row order (as :func:`colsum`)."""
    return np.asarray(lay.weight_row @ a)[0]


def _information(
    ratio_sums: NDArray[np.float64], cross_sums: NDArray[np.float64], p: int
) -> NDArray[np.float64]:
    """``(G, p, p)`` information from the summed ratios ``(q - 1, G)`` and cross products."""
    G = ratio_sums.shape[1]
    info = np.empty((G, p, p))
    for k, (a, b) in enumerate(_pairs(p)):
        val = ratio_sums[p + k] - cross_sums[k]
        info[:, a, b] = val
        info[:, b, a] = val
    return info


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
    q, _ = _n_products(p)
    pairs = _pairs(p)
    n, D = lay.n, lay.events
    feats: list[NDArray[np.float64]] = ([] if z is None else [z]) + list(cov)
    P = _Work.view(work.products, n, q * G).reshape(n, q, G)
    w = P[:, 0, :]

    if p == 1 and z is not None and not beta.any() and lay.row_stratum is None:
        # beta = 0, where every fit starts: w = exp(0 - 0) = 1 and the products are z and z z,
        # the same doubles as the general path gives, without its exp and two products
        w.fill(1.0)
        np.copyto(P[:, 1, :], z)
        np.multiply(z, z, out=P[:, 2, :])
        return _sums(P, beta, death_sums, np.zeros(G), np.zeros(G), lay, work)

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
        top = np.where(b0 >= 0, b0 * z_max, b0 * z_min)
        spread = np.abs(b0) * (z_max - z_min)
    else:
        top = w.max(axis=0)
        spread = top - w.min(axis=0)
    if lay.row_stratum is not None:  # per-stratum shift: no stratum underflows
        assert lay.strata_rows is not None and lay.strata_events is not None
        shifts = np.maximum.reduceat(w, lay.strata_rows[:-1], axis=0)  # (S, G)
        w -= shifts[lay.row_stratum]
        shift_total = np.asarray(lay.strata_events @ shifts)
    else:
        w -= top
        shift_total = D * top
    np.exp(w, out=w)
    for a in range(p):
        np.multiply(w, feats[a], out=P[:, 1 + a, :])
    for k, (a, b) in enumerate(pairs):
        np.multiply(P[:, 1 + a, :], feats[b], out=P[:, 1 + p + k, :])
    return _sums(P, beta, death_sums, shift_total, spread, lay, work)


def _sums(
    P: NDArray[np.float64],
    beta: NDArray[np.float64],
    death_sums: NDArray[np.float64],
    shift_total: NDArray[np.float64],
    spread: NDArray[np.float64],
    lay: Layout,
    work: _Work,
) -> _Eval:
    """:func:`_evaluate` from the weighted products ``P`` ``(n, q, G)`` on."""
    n, q, G = P.shape
    p = beta.shape[1]
    m = lay.m
    pairs = _pairs(p)
    # risk-set sums S_j (running sum over event times) and death sums A_j of every product
    seg = np.asarray(lay.sums @ P.reshape(n, q * G))  # (m + mt, qG)
    S = seg[:m]
    lay.running_sum(S)
    A = seg[m:].reshape(-1, q, G) if lay.tied else None
    logs, R, MM = _terms(S.reshape(m, q, G), A, lay, p, work)
    loglik = np.sum(beta * death_sums, axis=1) - shift_total - _wsum(logs, lay)
    ratio_sums = _wsum(R.reshape(m, (q - 1) * G), lay).reshape(q - 1, G)
    cross_sums = _wsum(MM.reshape(m, len(pairs) * G), lay).reshape(len(pairs), G)
    score = death_sums - ratio_sums[:p].T
    return _Eval(
        loglik=loglik, score=score, info=_information(ratio_sums, cross_sums, p), spread=spread
    )


@dataclass(frozen=True)
class GroupMoments:
    """One model's Efron terms summed per event time (for the proportional-hazards test).

    ``ratios`` ``(m, q - 1)``: per event time, the sum over its Efron terms of the weighted
    means of ``x_a`` (the first ``p`` columns) and of ``x_a x_b``; ``cross`` ``(m, pairs)``: the
    sums of ``m_a m_b``. Breslow's repeated terms are already counted ``d_j`` times. The
    covariance of the risk set summed over the terms is ``ratios[:, p + k] - cross[:, k]``.
    ``log_denominator`` is ``sum_jl log(denom_jl)`` (with ``eta`` unshifted): the
    log-likelihood is ``beta' sum_deaths x - log_denominator``. ``spread`` is the range of the
    linear predictor over the patients.
    """

    log_denominator: float
    ratios: NDArray[np.float64]
    cross: NDArray[np.float64]
    spread: float


def group_moments(xt: NDArray[np.float64], beta: NDArray[np.float64], lay: Layout) -> GroupMoments:
    """Per-event-time terms of one model: ``xt`` ``(p, n)`` in ``lay.order``, ``beta`` ``(p,)``.

    The products are summed over row segments (the rows entering each risk set, and the deaths
    of each tied time; :attr:`~ikaros.scan._layout.Layout.segments`) in one pass, then the
    entering sums are added up over the event times of each stratum: one read of the
    ``(q, n)`` products, several times faster for one model than the block layout's strided
    columns and sparse product, and no difference of running sums.
    """
    p, n = xt.shape
    q, _ = _n_products(p)
    assert lay.end_rows is not None and lay.before_rows is not None
    assert lay.has_before is not None and lay.weight is not None
    eta = beta @ xt
    top = float(eta.max())
    spread = top - float(eta.min())
    if lay.row_stratum is not None:
        assert lay.strata_rows is not None and lay.strata_events is not None
        shifts = np.maximum.reduceat(eta, lay.strata_rows[:-1])
        eta -= shifts[lay.row_stratum]
        shift_total = float(lay.strata_events @ shifts)
    else:
        eta -= top
        shift_total = lay.events * top
    P = np.empty((q, n))
    np.exp(eta, out=P[0])
    np.multiply(P[0], xt, out=P[1 : 1 + p])
    for k, (a, b) in enumerate(_pairs(p)):
        np.multiply(P[1 + a], xt[b], out=P[1 + p + k])
    starts, entry, death = lay.segments
    seg = np.add.reduceat(P, starts, axis=1).T  # (segments, q)
    S = np.zeros((lay.m, q))
    some = entry >= 0
    S[some] = seg[entry[some]]
    A = None
    if lay.tied:
        assert lay.tie_times is not None
        deaths = seg[death]  # (mt, q)
        S[lay.tie_times] += deaths
        A = deaths[:, :, None]
    for times in lay.stratum_slices():  # risk sets grow over the event times of a stratum
        np.cumsum(S[times], axis=0, out=S[times])
    logs, R, MM = _terms(S[:, :, None], A, lay, p, one_model=True)
    w = lay.weight
    ratios = R[:, :, 0] * w[:, None]
    cross = MM[:, :, 0] * w[:, None]
    log_den = shift_total + float(w @ logs[:, 0])
    return GroupMoments(log_denominator=log_den, ratios=ratios, cross=cross, spread=spread)


def _evaluate_one(
    xt: NDArray[np.float64],
    death_sums: NDArray[np.float64],
    beta: NDArray[np.float64],
    lay: Layout,
) -> _Eval:
    """:func:`_evaluate` for one model (``G = 1``), with the products laid out row-contiguous.

    ``xt`` is the ``(p, n)`` standardised, sorted covariate matrix, ``beta`` ``(1, p)``; the
    terms are those of :func:`group_moments`, summed over event times.
    """
    p = xt.shape[0]
    gm = group_moments(xt, beta[0], lay)
    ratio_sums = gm.ratios.sum(axis=0)[:, None]
    cross_sums = gm.cross.sum(axis=0)[:, None]
    score = death_sums[0] - ratio_sums[:p, 0]
    loglik = float(beta[0] @ death_sums[0]) - gm.log_denominator
    return _Eval(
        loglik=np.array([loglik]),
        score=score[None, :],
        info=_information(ratio_sums, cross_sums, p),
        spread=np.array([gm.spread]),
    )
