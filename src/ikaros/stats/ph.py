"""Proportional-hazards test from Schoenfeld residuals, matching R survival 3.x ``cox.zph``.

The test asks whether each Cox coefficient changes with (a transform of) time. For every
covariate ``x_j`` the model is augmented with the time-varying term ``x_j * g(t)`` and a score
test of ``gamma = 0`` is computed at ``(beta_hat, gamma = 0)``, where ``beta_hat`` comes from the
ordinary Cox fit. This is the exact score test that R's survival package computes from version
3.0 on (earlier versions, and the classic textbook formula, used an approximation of the
variance).

Only right-censored, unstratified, unweighted data are supported; each covariate column is its
own term (one degree of freedom), as ``cox.zph(fit, terms=TRUE)`` gives for numeric covariates.

The risk-set sums come from the Cox engine's layout (:mod:`ikaros.scan._layout`: one sort,
cumulative sums) and its per-time Efron terms (:func:`ikaros.scan._evaluate.group_moments`:
the ``d`` steps of a tied time summed in closed form, no per-death expansion); since ``g(t)`` is
constant within a time, the test needs nothing else. :func:`ikaros.stats.cox.fit_cox` passes
its own layout (:func:`schoenfeld_test_sorted`), so the test adds one likelihood evaluation to a
fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.scan._evaluate import group_moments
from ikaros.scan._layout import Layout, make_layout
from ikaros.stats._dist import chi2_sf

__all__ = [
    "TIES",
    "TRANSFORMS",
    "PHTermTest",
    "PHTest",
    "schoenfeld_test",
    "schoenfeld_test_sorted",
]

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


def _event_time_transform(time: FloatArray, lay: Layout, transform: str) -> FloatArray:
    """Transformed time ``g(t_j)`` at every distinct event time, in the layout's order.

    ``"km"``: 1 - Kaplan-Meier just before ``t_j`` over the whole sample; ``"rank"``: the
    average rank of ``t_j`` among all times (ties averaged, as ``rank``); ``"identity"``,
    ``"log"``: ``t_j`` and ``log t_j``. The layout lists the event times latest first.
    """
    assert lay.end_rows is not None
    t_sorted = time[lay.order]  # decreasing
    t_event = t_sorted[lay.end_rows]
    if transform == "km":
        # survival after each event time, earliest first; S(t_j-) is the product before j
        after = np.cumprod(1.0 - lay.deaths[::-1] / lay.at_risk[::-1])
        before = np.concatenate(([1.0], after[:-1]))[::-1]
        return np.asarray(1.0 - before)
    if transform == "rank":
        first_equal = np.searchsorted(-t_sorted, -t_event, side="left")
        ties = lay.end_rows + 1 - first_equal
        below = lay.n - lay.at_risk
        return np.asarray(below + (ties + 1) / 2.0, dtype=np.float64)
    if transform == "identity":
        return t_event.copy()
    if transform == "log":
        if np.any(time <= 0):
            raise AnalysisError("PH test: transform='log' needs strictly positive times")
        return np.asarray(np.log(t_event))
    raise AnalysisError(f"PH test: unknown transform {transform!r}; use one of {TRANSFORMS}")


def _score_and_information(
    lay: Layout, xt: FloatArray, beta: FloatArray, gtime: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Score for the ``x * g(t)`` block and the full ``2p x 2p`` information at ``gamma = 0``.

    At each distinct event time with ``d`` deaths, the Efron approximation splits the risk set
    into ``d`` steps; step ``l`` removes the fraction ``l / d`` of the dying subjects' weights
    (Breslow keeps the full risk set). Every step contributes its weighted covariance ``V`` to
    the information; since ``g(t)`` is shared by all subjects at risk at that time, the blocks
    are ``sum V``, ``sum g V`` and ``sum g^2 V``. The sums over the steps of a time come from
    the Cox engine in closed form (:func:`ikaros.scan._efron.group_moments`): no per-death
    expansion. ``xt`` is ``(p, n)`` in ``lay.order``; ``gtime`` is per event time.
    """
    p = xt.shape[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gm = group_moments(xt, beta, lay)
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    var = gm.ratios[:, p:] - gm.cross  # (m, pairs): covariance summed over the steps
    if not (np.all(np.isfinite(gm.ratios)) and np.all(np.isfinite(var))):
        raise AnalysisError(
            "PH test: risk-set sums underflowed; the linear predictor X @ beta spans too wide a "
            "range (diverged coefficients?)"
        )
    counts = lay.deaths.astype(np.intp)
    starts = np.cumsum(counts) - counts
    death_x = np.add.reduceat(xt[:, lay.death_rows], starts, axis=1).T  # (m, p)
    score = gtime @ (death_x - gm.ratios[:, :p])
    blocks = [gtime**k @ var for k in range(3)]  # sum V, sum g V, sum g^2 V, as pairs

    def square(v: FloatArray) -> FloatArray:
        out = np.empty((p, p))
        for k, (a, b) in enumerate(pairs):
            out[a, b] = out[b, a] = v[k]
        return out

    a_, b_, c_ = (square(v) for v in blocks)
    info = np.block([[a_, b_], [b_, c_]])
    return np.asarray(score), info


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
    return PHTermTest(chisq=chisq, df=df, p=float(chi2_sf(max(chisq, 0.0), df)))


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
    lay = make_layout(t, e, ties)
    xt = np.ascontiguousarray((x - x.mean(axis=0))[lay.order].T)
    return schoenfeld_test_sorted(t, lay, xt, b, names, transform=transform)


def schoenfeld_test_sorted(
    time: FloatArray,
    lay: Layout,
    xt: FloatArray,
    beta: FloatArray,
    names: list[str],
    *,
    transform: str = "km",
) -> PHTest:
    """:func:`schoenfeld_test` on data already laid out by the Cox fit (no sort, no checks).

    ``time`` is in the original row order, ``lay`` an unstratified layout of it (its ``ties``
    are the fit's), ``xt`` the ``(p, n)`` covariates in ``lay.order`` on any centring and
    scaling with ``beta`` on the same scale (the statistics are invariant to both).
    :func:`ikaros.stats.cox.fit_cox` calls it with its standardised covariates.
    """
    if transform not in TRANSFORMS:
        raise AnalysisError(f"PH test: unknown transform {transform!r}; use one of {TRANSFORMS}")
    if len(set(names)) != len(names):
        raise AnalysisError(f"PH test: covariate names must be unique, got {names}")
    if lay.n_strata > 1:
        raise AnalysisError("PH test: stratified models are not supported")
    g = _event_time_transform(time, lay, transform)
    gtime = g - float(lay.deaths @ g) / lay.events
    score, info = _score_and_information(lay, xt, np.asarray(beta, dtype=np.float64), gtime)
    p = xt.shape[0]
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
