"""Firth-penalised Cox regression with profile penalised-likelihood confidence intervals.

When one group has no events (in Krönke et al. 2017 the lowest quartile had no deaths) the Cox
partial likelihood is monotone and the maximum-likelihood hazard ratio is 0 or infinite.
Firth's penalty, ``0.5 * log det I(beta)`` added to the log partial likelihood (Heinze and
Schemper 2001), gives finite estimates, and profile penalised-likelihood limits give finite,
asymmetric confidence intervals. This is a thin wrapper over ``firthmodels.FirthCoxPH`` with
tightened tolerances, checked against an independent R implementation
(``tests/reference/firth/make_golden.R``).

Ties are handled with Breslow's approximation, the only one ``firthmodels`` implements (as in
R ``coxphf``); the ordinary Cox fit in :mod:`ikaros.stats.cox` uses Efron's.

References
----------
Firth D. Bias reduction of maximum likelihood estimates. Biometrika 1993;80:27-38.
Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
Biometrics 2001;57:114-119.
Venzon DJ, Moolgavkar SH. A method for computing profile-likelihood-based confidence
intervals. Appl Stat 1988;37:87-94.
Krönke J, Kuchenbauer F, Kull M, et al. IKZF1 expression is a prognostic marker in newly
diagnosed standard-risk multiple myeloma treated with lenalidomide and intensive chemotherapy:
a study of the German Myeloma Study Group (DSMM). Leukemia 2017;31:1363-1367.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.scan._layout import make_layout, separation

if TYPE_CHECKING:
    from firthmodels import FirthCoxPH

__all__ = ["FirthFit", "FirthTerm", "fit_firth_cox", "monotone_likelihood"]

#: Attempts of the main fit, in turn: (gradient and step tolerance, step halvings allowed).
#: Near the optimum a Newton step can lower the computed penalised log-likelihood by rounding
#: error alone (~1e-14); firthmodels' step halving then reports failure although the fit is
#: within ~1e-7 of the maximiser. The second attempt therefore takes full Newton steps (capped
#: at 5) and is accepted only if it converges to a log-likelihood at least as high as the
#: safeguarded attempt reached; looser tolerances follow as a last resort.
FIT_ATTEMPTS: Final[tuple[tuple[float, int], ...]] = (
    (1e-9, 5),
    (1e-9, 0),
    (1e-8, 5),
    (1e-7, 5),
    (1e-6, 5),
)
#: Tolerances of the constrained fits of the likelihood-ratio tests, tightest first. The test
#: statistic depends on the constrained log-likelihood only, whose error is quadratic in the
#: tolerance, so even the loosest leaves p-values accurate to ~1e-10.
LRT_TOLERANCES: Final[tuple[float, ...]] = (1e-9, 1e-8, 1e-7, 1e-6, 1e-5)
#: Tolerances of the Venzon-Moolgavkar profile-limit iterations, tightest first.
PL_TOLERANCES: Final[tuple[float, ...]] = (1e-9, 1e-8, 1e-7, 1e-6)
#: Newton-Raphson iterations allowed per fit (firthmodels' default is 50).
MAX_ITER: Final = 200
#: Venzon-Moolgavkar iterations allowed per profile-likelihood limit.
PL_MAX_ITER: Final = 200
#: Slack, in log-likelihood units, when comparing the full-step fit with the safeguarded one.
_LOGLIK_SLACK: Final = 1e-8


@dataclass(frozen=True)
class FirthTerm:
    """One model term of a Firth-penalised Cox fit.

    Attributes
    ----------
    coef
        Penalised maximum-likelihood log hazard ratio.
    se
        ``sqrt(diag(I^-1))`` with ``I`` the (unpenalised) Fisher information at the estimate.
    hr
        ``exp(coef)``.
    lower, upper
        Confidence limits of the hazard ratio: ``exp`` of the profile penalised-likelihood
        limits of ``coef``.
    p
        Penalised likelihood-ratio p-value: ``2 * (l*(beta_hat) - l*(beta_hat_0))`` against
        chi-squared(1), where ``beta_hat_0`` maximises ``l*`` with this coefficient fixed at 0.
    """

    coef: float
    se: float
    hr: float
    lower: float
    upper: float
    p: float


@dataclass(frozen=True)
class FirthFit:
    """A Firth-penalised Cox fit.

    Attributes
    ----------
    terms
        One :class:`FirthTerm` per covariate, keyed by name, in the column order of ``X``.
    n
        Number of subjects.
    events
        Number of events.
    loglik
        Penalised log partial likelihood at the estimate,
        ``log PL_Breslow(beta_hat) + 0.5 * log det I(beta_hat)``.
    converged
        Whether the Newton-Raphson iterations converged (always true: a fit that does not
        converge raises :class:`~ikaros.errors.AnalysisError`).
    ci_method
        How the confidence limits were computed.
    """

    terms: dict[str, FirthTerm]
    n: int
    events: int
    loglik: float
    converged: bool
    ci_method: str = "profile penalised likelihood"


def _as_vector(values: ArrayLike, what: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"Firth Cox regression: {what} must be numeric ({exc})") from exc
    if arr.ndim != 1:
        raise AnalysisError(
            f"Firth Cox regression: {what} must be one-dimensional, got shape {arr.shape}"
        )
    return arr


def _validate(
    time: ArrayLike, event: ArrayLike, X: ArrayLike, names: Sequence[str], alpha: float
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64], list[str]]:
    t = _as_vector(time, "time")
    e = _as_vector(event, "event")
    try:
        x = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"Firth Cox regression: X must be numeric ({exc})") from exc
    if x.ndim != 2:
        raise AnalysisError(
            f"Firth Cox regression: X must be a 2-D (subjects x covariates) array, "
            f"got shape {x.shape}"
        )
    n, p = x.shape
    if t.shape[0] != n or e.shape[0] != n:
        raise AnalysisError(
            f"Firth Cox regression: time ({t.shape[0]}), event ({e.shape[0]}) and X "
            f"({n} rows) must have the same number of subjects"
        )
    if n < 2:
        raise AnalysisError(f"Firth Cox regression needs at least 2 subjects, got {n}")
    if p == 0:
        raise AnalysisError("Firth Cox regression needs at least one covariate")
    names = [str(name) for name in names]
    if len(names) != p:
        raise AnalysisError(
            f"Firth Cox regression: {len(names)} names given for {p} covariate columns"
        )
    if len(set(names)) != p:
        raise AnalysisError(f"Firth Cox regression: covariate names are not unique: {names}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e)) and np.all(np.isfinite(x))):
        raise AnalysisError(
            "Firth Cox regression: time, event and X must be finite (drop missing values first)"
        )
    if np.any(t < 0):
        raise AnalysisError("Firth Cox regression: time must be non-negative")
    if not np.all((e == 0) | (e == 1)):
        raise AnalysisError("Firth Cox regression: event must be 0 (censored) or 1 (event)")
    if not e.any():
        raise AnalysisError(
            "Firth Cox regression: there are no events, so no hazard ratio can be estimated"
        )
    if not 0.0 < alpha < 1.0:
        raise AnalysisError(f"Firth Cox regression: alpha must be in (0, 1), got {alpha}")
    return t, e.astype(bool), x, names


def _messages(caught: list[warnings.WarningMessage]) -> str:
    return "; ".join(dict.fromkeys(str(w.message) for w in caught)) or "no message"


def _fit(time: NDArray[np.float64], event: NDArray[np.bool_], X: NDArray[np.float64]) -> FirthCoxPH:
    """Fit with the first of :data:`FIT_ATTEMPTS` that converges."""
    from firthmodels import FirthCoxPH  # ~1 s to import: only when a Firth fit is needed

    problems: list[str] = []
    best_loglik = -math.inf  # highest log-likelihood reached by a safeguarded attempt
    for tol, halfsteps in FIT_ATTEMPTS:
        model = FirthCoxPH(
            backend="numpy",
            max_iter=MAX_ITER,
            max_step=5.0,
            max_halfstep=halfsteps,
            gtol=tol,
            xtol=tol,
            penalty_weight=0.5,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.fit(X, (event, time))
            except (scipy.linalg.LinAlgError, np.linalg.LinAlgError) as exc:
                raise AnalysisError(
                    "Firth Cox regression: the information matrix is singular (is a covariate "
                    f"constant, or one covariate a combination of others?): {exc}"
                ) from exc
        finite = (
            bool(np.all(np.isfinite(model.coef_)))
            and bool(np.all(np.isfinite(model.bse_)))
            and math.isfinite(model.loglik_)
        )
        label = f"tolerance {tol:g}, {halfsteps} step halvings"
        if model.converged_ and finite:
            if halfsteps > 0 or model.loglik_ >= best_loglik - _LOGLIK_SLACK:
                return model
            problems.append(f"{label}: converged to a lower penalised log-likelihood")
            continue
        if halfsteps > 0 and finite:
            best_loglik = max(best_loglik, float(model.loglik_))
        problems.append(f"{label}: {_messages(caught)}")
    raise AnalysisError("Firth Cox regression did not converge (" + "; ".join(problems) + ")")


def _profile_limits(model: FirthCoxPH, alpha: float) -> NDArray[np.float64]:
    """Profile penalised-likelihood limits of every coefficient, tightest tolerance first."""
    p = len(model.coef_)
    ci = np.full((p, 2), np.nan)
    problems: list[str] = []
    for tol in PL_TOLERANCES:
        missing = [j for j in range(p) if not np.all(np.isfinite(ci[j]))]
        if not missing:
            break
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = model.conf_int(
                alpha=alpha, method="pl", features=missing, max_iter=PL_MAX_ITER, tol=tol
            )
        for j in missing:
            if np.all(np.isfinite(got[j])):
                ci[j] = got[j]
        if caught:
            problems.append(f"tolerance {tol:g}: {_messages(caught)}")
    if not np.all(np.isfinite(ci)):
        raise AnalysisError(
            "Firth Cox regression: a profile-likelihood confidence limit was not found ("
            + "; ".join(problems)
            + ")"
        )
    if np.any(ci[:, 0] >= model.coef_) or np.any(ci[:, 1] <= model.coef_):
        raise AnalysisError(
            "Firth Cox regression: a profile-likelihood confidence limit is on the wrong side "
            "of the estimate"
        )
    return ci


def _lrt_pvalues(model: FirthCoxPH) -> NDArray[np.float64]:
    """Penalised likelihood-ratio p-values, tightest constrained-fit tolerance first."""
    problems: list[str] = []
    model.set_params(max_halfstep=5)  # constrained fits are always safeguarded
    for tol in LRT_TOLERANCES:
        model.set_params(gtol=tol, xtol=tol)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.lrt()  # recomputes only the terms whose p-value is still NaN
        if caught:
            problems.append(f"tolerance {tol:g}: {_messages(caught)}")
        if np.all(np.isfinite(model.lrt_pvalues_)):
            return np.asarray(model.lrt_pvalues_, dtype=np.float64)
    raise AnalysisError(
        "Firth Cox regression: the constrained fit of a likelihood-ratio test did not "
        "converge (" + "; ".join(problems) + ")"
    )


def fit_firth_cox(
    time: ArrayLike,
    event: ArrayLike,
    X: ArrayLike,
    names: Sequence[str],
    *,
    alpha: float = 0.05,
) -> FirthFit:
    """Fit a Cox model by Firth's penalised partial likelihood (Breslow ties).

    Parameters
    ----------
    time
        Follow-up times, shape ``(n,)``, non-negative. Tied times must be exactly equal
        (round times computed in floating point before fitting).
    event
        Event indicators, shape ``(n,)``: 1 for an event, 0 for censored.
    X
        Covariates, shape ``(n, p)``.
    names
        The ``p`` covariate names, in column order.
    alpha
        One minus the confidence level of the intervals (0.05 gives 95% intervals).

    Returns
    -------
    FirthFit
        Estimates, standard errors, hazard ratios with profile penalised-likelihood limits
        and penalised likelihood-ratio p-values per term, and the penalised log-likelihood.

    Raises
    ------
    AnalysisError
        If there are no events, the shapes or names do not match, values are missing or
        invalid, the information matrix is singular, or the fit, a confidence limit or a
        likelihood-ratio test does not converge.

    Notes
    -----
    The penalised log partial likelihood is ``l*(beta) = log PL(beta) + 0.5 log det I(beta)``
    with Breslow's approximation for tied event times. It is maximised by ``firthmodels``
    Newton-Raphson (numpy backend, at most 200 iterations, steps capped at 5, up to 5 step
    halvings, gradient and step tolerances 1e-9). If rounding error stops that fit, full
    Newton steps are tried (accepted only if they reach at least the same penalised
    log-likelihood), then tolerances of 1e-8 to 1e-6 (see :data:`FIT_ATTEMPTS`).

    Confidence limits are the values of each coefficient where
    ``2 * (l*(beta_hat) - l*_profile) = chi2_{1, 1-alpha}``, the other coefficients
    re-maximised (Venzon-Moolgavkar iterations). p-values compare ``l*`` with the coefficient
    fixed at 0 and the others refitted (the penalty keeps the full model's information
    matrix), as R ``coxphf`` does. ``se`` is the Wald standard error from the unpenalised
    information at the estimate; it is reported but not used for the interval or the test.

    References
    ----------
    Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
    Biometrics 2001;57:114-119.
    Venzon DJ, Moolgavkar SH. A method for computing profile-likelihood-based confidence
    intervals. Appl Stat 1988;37:87-94.
    """
    t, e, x, labels = _validate(time, event, X, names, alpha)
    model = _fit(t, e, x)
    ci = _profile_limits(model, alpha)
    pvalues = _lrt_pvalues(model)
    terms = {
        name: FirthTerm(
            coef=float(model.coef_[j]),
            se=float(model.bse_[j]),
            hr=math.exp(model.coef_[j]),
            lower=math.exp(ci[j, 0]),
            upper=math.exp(ci[j, 1]),
            p=float(pvalues[j]),
        )
        for j, name in enumerate(labels)
    }
    return FirthFit(
        terms=terms,
        n=int(x.shape[0]),
        events=int(e.sum()),
        loglik=float(model.loglik_),
        converged=bool(model.converged_),
    )


def monotone_likelihood(time: ArrayLike, event: ArrayLike, x: ArrayLike) -> bool:
    """Whether the Cox partial likelihood of one covariate is monotone (estimate infinite).

    With one covariate the likelihood is monotone exactly when, at every event time, every
    subject with an event has the largest value of ``x`` in the risk set (the estimate goes to
    +inf), or every one has the smallest (-inf), and ``x`` varies in some risk set. A binary
    covariate one of whose groups has no events is the common case. This is sufficient for the
    estimate of ``x`` to diverge in any model containing it, but not necessary in a model with
    several covariates, where a combination of covariates can separate the events.

    Parameters
    ----------
    time
        Follow-up times, shape ``(n,)``.
    event
        Event indicators, shape ``(n,)``, 1 for an event.
    x
        One covariate, shape ``(n,)``.

    Returns
    -------
    bool
        True if the log partial likelihood is strictly monotone in the coefficient of ``x``.

    Raises
    ------
    AnalysisError
        If the shapes differ or there are no events.

    References
    ----------
    Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
    Biometrics 2001;57:114-119.
    """
    t = _as_vector(time, "time")
    e = _as_vector(event, "event")
    v = _as_vector(x, "x")
    if not t.shape == e.shape == v.shape:
        raise AnalysisError(
            f"monotone_likelihood: time, event and x differ in length "
            f"({t.shape[0]}, {e.shape[0]}, {v.shape[0]})"
        )
    if not np.any(e == 1):
        raise AnalysisError("monotone_likelihood: there are no events")
    lay = make_layout(t, e == 1, "breslow")
    return bool(separation(np.ascontiguousarray(v[lay.order][:, None]), lay)[0] != 0)
