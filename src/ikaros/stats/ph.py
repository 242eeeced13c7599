"""Proportional-hazards test from Schoenfeld residuals, matching R survival 3.x ``cox.zph``.

The test asks whether each Cox coefficient changes with (a transform of) time. For every
covariate ``x_j`` the model is augmented with the time-varying term ``x_j * g(t)`` and a score
test of ``gamma = 0`` is computed at ``(beta_hat, gamma = 0)``, where ``beta_hat`` comes from the
ordinary Cox fit. This is the exact score test that R's survival package computes from version
3.0 on (earlier versions, and the classic textbook formula, used an approximation of the
variance).

Only right-censored, unstratified, unweighted data are supported; each covariate column is its
own term (one degree of freedom), as ``cox.zph(fit, terms=TRUE)`` gives for numeric covariates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ikaros.errors import AnalysisError

__all__ = ["TIES", "TRANSFORMS", "PHTermTest", "PHTest", "schoenfeld_test"]

TRANSFORMS: Final = ("km", "rank", "identity", "log")
TIES: Final = ("efron", "breslow")

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PHTermTest:
    """Score test of proportional hazards for one term, or for all of them together.

    Attributes
    ----------
    chisq
        Score chi-square statistic.
    df
        Degrees of freedom.
    p
        Upper-tail chi-square p-value.
    """

    chisq: float
    df: int
    p: float


@dataclass(frozen=True)
class PHTest:
    """Result of :func:`schoenfeld_test`.

    Attributes
    ----------
    transform
        Time transform used: ``"km"``, ``"rank"``, ``"identity"`` or ``"log"``.
    terms
        One test per covariate name, in input order.
    global_test
        Joint test of all covariates (``GLOBAL`` row of R's table).
    """

    transform: str
    terms: dict[str, PHTermTest]
    global_test: PHTermTest


def _as_inputs(
    time: ArrayLike, event: ArrayLike, X: ArrayLike, beta: ArrayLike, names: list[str]
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray, FloatArray, list[str]]:
    """Convert and check the inputs; raise :class:`AnalysisError` on any problem."""
    t = np.asarray(time, dtype=np.float64)
    e_raw = np.asarray(event)
    x = np.asarray(X, dtype=np.float64)
    b = np.asarray(beta, dtype=np.float64)
    names = [str(name) for name in names]
    if t.ndim != 1:
        raise AnalysisError(f"PH test: time must be one-dimensional, got shape {t.shape}")
    n = t.shape[0]
    if e_raw.shape != (n,):
        raise AnalysisError(
            f"PH test: event has shape {e_raw.shape} but time has {n} values; they must match"
        )
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[0] != n:
        raise AnalysisError(
            f"PH test: X must be an (n, p) matrix with n = {n} rows, got shape {x.shape}"
        )
    p = x.shape[1]
    if p == 0:
        raise AnalysisError("PH test: X has no covariate columns")
    if b.shape != (p,):
        raise AnalysisError(f"PH test: beta has shape {b.shape} but X has {p} columns")
    if len(names) != p:
        raise AnalysisError(f"PH test: {len(names)} names given for {p} covariate columns")
    if len(set(names)) != p:
        raise AnalysisError(f"PH test: covariate names must be unique, got {names}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(x)) and np.all(np.isfinite(b))):
        raise AnalysisError("PH test: time, X and beta must be finite (drop missing values first)")
    try:
        e_num = e_raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError("PH test: event must hold 0/1 (or boolean) values") from exc
    if not np.all((e_num == 0) | (e_num == 1)):
        raise AnalysisError("PH test: event must hold 0/1 (or boolean) values only")
    e = e_num == 1
    if not e.any():
        raise AnalysisError(
            "PH test: there are no events, so proportional hazards cannot be tested"
        )
    return t, e, x, b, names


def _km_before(time: FloatArray, event: NDArray[np.bool_]) -> FloatArray:
    """Kaplan-Meier survival just before each time, ``S(t-)``, over the whole sample."""
    sorted_time = np.sort(time)
    death_times, deaths = np.unique(time[event], return_counts=True)
    at_risk = sorted_time.size - np.searchsorted(sorted_time, death_times, side="left")
    surv = np.concatenate(([1.0], np.cumprod(1.0 - deaths / at_risk)))
    return surv[np.searchsorted(death_times, time, side="left")]


def _transform_time(time: FloatArray, event: NDArray[np.bool_], transform: str) -> FloatArray:
    """Transformed time ``g(t)`` for every observation, as ``cox.zph`` defines it."""
    if transform == "km":
        return 1.0 - _km_before(time, event)
    if transform == "rank":
        return stats.rankdata(time, method="average").astype(np.float64)
    if transform == "identity":
        return time.copy()
    if transform == "log":
        if np.any(time <= 0):
            raise AnalysisError("PH test: transform='log' needs strictly positive times")
        return np.log(time)
    raise AnalysisError(f"PH test: unknown transform {transform!r}; use one of {TRANSFORMS}")


def _score_and_information(
    time: FloatArray,
    event: NDArray[np.bool_],
    x: FloatArray,
    beta: FloatArray,
    gtime: FloatArray,
    ties: str,
) -> tuple[FloatArray, FloatArray]:
    """Score for the ``x * g(t)`` block and the full ``2p x 2p`` information at ``gamma = 0``.

    At each distinct event time with ``d`` deaths, the Efron approximation splits the risk set
    into ``d`` steps; step ``j`` removes the fraction ``j / d`` of the dying subjects' weights
    (Breslow keeps the full risk set). Every step contributes its weighted covariance ``V`` to
    the information; since ``g(t)`` is shared by all subjects at risk at that time, the blocks
    are ``sum V``, ``sum g V`` and ``sum g^2 V``.
    """
    xc = x - x.mean(axis=0)  # centring changes neither the score nor the information
    eta = xc @ beta
    weight = np.exp(eta - eta.max())  # a common factor cancels; this one avoids overflow
    order = np.argsort(time, kind="stable")
    t_sorted, w_sorted, x_sorted = time[order], weight[order], xc[order]
    # Reverse cumulative sums: index i holds the sum over subjects with sorted index >= i.
    s0_all = np.cumsum(w_sorted[::-1])[::-1]
    s1_all = np.cumsum((w_sorted[:, None] * x_sorted)[::-1], axis=0)[::-1]
    outer = x_sorted[:, :, None] * x_sorted[:, None, :]
    s2_all = np.cumsum((w_sorted[:, None, None] * outer)[::-1], axis=0)[::-1]

    death_idx = np.flatnonzero(event)
    death_idx = death_idx[np.argsort(time[death_idx], kind="stable")]
    death_time = time[death_idx]
    uniq_time, first, n_dead = np.unique(death_time, return_index=True, return_counts=True)
    group = np.repeat(np.arange(uniq_time.size), n_dead)
    start = np.searchsorted(t_sorted, uniq_time, side="left")  # first subject at risk

    dw, xd = weight[death_idx], xc[death_idx]
    d0 = np.bincount(group, weights=dw)
    d1 = np.zeros((uniq_time.size, x.shape[1]))
    np.add.at(d1, group, dw[:, None] * xd)
    d2 = np.zeros((uniq_time.size, x.shape[1], x.shape[1]))
    np.add.at(d2, group, dw[:, None, None] * (xd[:, :, None] * xd[:, None, :]))

    if ties == "efron":
        frac = (np.arange(death_idx.size) - first[group]) / n_dead[group]
    elif ties == "breslow":
        frac = np.zeros(death_idx.size)
    else:
        raise AnalysisError(f"PH test: unknown ties method {ties!r}; use one of {TIES}")

    s0 = s0_all[start][group] - frac * d0[group]
    s1 = s1_all[start][group] - frac[:, None] * d1[group]
    s2 = s2_all[start][group] - frac[:, None, None] * d2[group]
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar = s1 / s0[:, None]
        var = s2 / s0[:, None, None] - xbar[:, :, None] * xbar[:, None, :]
    if not (np.all(np.isfinite(xbar)) and np.all(np.isfinite(var))):
        raise AnalysisError(
            "PH test: risk-set sums underflowed; the linear predictor X @ beta spans too wide a "
            "range (diverged coefficients?)"
        )

    g = gtime[death_idx]
    score = (g[:, None] * (xd - xbar)).sum(axis=0)
    a = var.sum(axis=0)
    b = np.einsum("k,kij->ij", g, var)
    c = np.einsum("k,kij->ij", g * g, var)
    info = np.block([[a, b], [b, c]])
    return score, info


def _quadratic_form(info: FloatArray, u: FloatArray, what: str) -> float:
    """``u' info^{-1} u`` with a clear error when the information matrix is singular."""
    message = (
        f"PH test: the information matrix for {what} is singular (a constant covariate, "
        "collinear covariates or a single distinct event time?)"
    )
    if not np.all(np.isfinite(info)) or np.linalg.cond(info) > 1.0 / np.finfo(np.float64).eps:
        raise AnalysisError(message)
    try:
        value = float(u @ np.linalg.solve(info, u))
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(message) from exc
    if not np.isfinite(value):
        raise AnalysisError(message)
    return value


def _term_test(chisq: float, df: int) -> PHTermTest:
    return PHTermTest(chisq=chisq, df=df, p=float(stats.chi2.sf(chisq, df)))


def schoenfeld_test(
    time: ArrayLike,
    event: ArrayLike,
    X: ArrayLike,
    beta: ArrayLike,
    names: list[str],
    *,
    transform: str = "km",
    ties: str = "efron",
) -> PHTest:
    """Test the proportional-hazards assumption of a fitted Cox model, as R's ``cox.zph``.

    For each covariate the Cox model is augmented with ``x_j * g(t)``, where ``g`` is the
    transformed time centred at its mean over the events, and a score test of the new
    coefficient being zero is computed at the fitted ``beta`` (the score of the original
    coefficients is taken as exactly zero, as R does). The global test adds all ``p`` terms at
    once. Results reproduce ``cox.zph(fit, transform=transform, terms=TRUE)`` from survival 3.x
    for an unstratified, unweighted fit with one column per term.

    Parameters
    ----------
    time
        Follow-up times, shape ``(n,)``.
    event
        Event indicator, shape ``(n,)``: 1 (or True) for an event, 0 for censoring.
    X
        Covariate matrix, shape ``(n, p)``; a one-dimensional array is one covariate.
    beta
        Fitted Cox coefficients, shape ``(p,)``, from a fit with the same ``ties`` method.
    names
        Covariate names, ``p`` unique strings; they key :attr:`PHTest.terms`.
    transform
        Time scale of the test: ``"km"`` (1 - Kaplan-Meier just before ``t``, the R default),
        ``"rank"`` (ranks of all times, ties averaged), ``"identity"`` or ``"log"``.
    ties
        Tie handling of the Cox fit, ``"efron"`` (R's default) or ``"breslow"``.

    Returns
    -------
    PHTest
        Per-covariate tests (1 df each) and the global test (``p`` df).

    Raises
    ------
    AnalysisError
        If the shapes disagree, values are missing or not finite, there are no events, the
        transform or ties method is unknown, or the information matrix is singular.

    Notes
    -----
    With ``U`` the score of the added terms and ``I`` the ``2p x 2p`` information of the
    augmented model, both at ``(beta_hat, 0)``, the statistic for a set of terms ``J`` is
    ``u' I_JJ^{-1} u`` with ``u = (0, U_J)`` and ``I_JJ`` the rows and columns of the original
    covariates plus those of ``J``. Under proportional hazards it is asymptotically chi-square
    with ``|J|`` degrees of freedom.

    References
    ----------
    .. [1] P. M. Grambsch and T. M. Therneau, "Proportional hazards tests and diagnostics based
       on weighted residuals", Biometrika 81(3):515-526, 1994.
    .. [2] T. M. Therneau and P. M. Grambsch, "Modeling Survival Data: Extending the Cox
       Model", Springer, New York, 2000, chapter 6.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(200, 1))
    >>> t = rng.exponential(np.exp(-0.5 * x[:, 0]))
    >>> res = schoenfeld_test(t, np.ones(200), x, [0.5], ["x"])
    >>> sorted(res.terms), res.global_test.df
    (['x'], 1)
    """
    if transform not in TRANSFORMS:
        raise AnalysisError(f"PH test: unknown transform {transform!r}; use one of {TRANSFORMS}")
    if ties not in TIES:
        raise AnalysisError(f"PH test: unknown ties method {ties!r}; use one of {TIES}")
    t, e, x, b, names = _as_inputs(time, event, X, beta, names)
    g = _transform_time(t, e, transform)
    gtime = g - g[e].mean()
    score, info = _score_and_information(t, e, x, b, gtime, ties)
    p = x.shape[1]
    terms: dict[str, PHTermTest] = {}
    for j, name in enumerate(names):
        keep = np.r_[np.arange(p), p + j]
        u = np.zeros(p + 1)
        u[-1] = score[j]
        chisq = _quadratic_form(info[np.ix_(keep, keep)], u, f"covariate {name!r}")
        terms[name] = _term_test(chisq, 1)
    u_all = np.concatenate((np.zeros(p), score))
    global_test = _term_test(_quadratic_form(info, u_all, "the global test"), p)
    return PHTest(transform=transform, terms=terms, global_test=global_test)
