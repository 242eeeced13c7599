"""Regression for competing risks: Fine-Gray subdistribution hazards and cause-specific Cox.

Fine-Gray (1999), as ``cmprsk::crr``. Patients who had a competing event stay in the risk set
after it, weighted by w_i(t) = G(t-) / G(X_i-), where G is the Kaplan-Meier estimate of the
censoring distribution (censoring as the event; events at a censoring time count as at risk).
Those at risk (X_i >= t) have weight 1, censored patients leave at censoring. The estimating
equation is the weighted partial-likelihood score with Breslow's handling of tied events:

    U(beta) = sum_j [ sum_{i in D_j} Z_i - d_j S1_j / S0_j ],
    S0_j = sum_i w_i(t_j) exp(beta' Z_i),  S1_j = sum_i w_i(t_j) exp(beta' Z_i) Z_i.

Variance: the sandwich I^-1 Sigma I^-1 of Fine and Gray (section 3), Sigma = sum_i (eta_i +
psi_i)^2, where eta_i is patient i's weighted score residual and psi_i the influence of
estimating G: for a censoring time u,

    q(u) = sum_{l competing, X_l < u} sum_{t_j >= u} (Z_l - Zbar_j) w_l(t_j) exp(beta' Z_l)
           dLambda_j,
    psi_i = sum_u q(u) / Y(u) dM^c_i(u),  dM^c_i(u) = dN^c_i(u) - 1(X_i >= u) dN^c(u) / Y(u),

with Y(u) the number at risk and dLambda_j = d_j / S0_j. Every sum is a running sum over the
sorted times, so the fit is O(n log n). With these conventions (found by comparing with
``crr`` on tied data) the coefficients and standard errors equal ``crr``'s to rounding error.

Monotone pseudo-likelihood: when, at every event time of the cause, the patients with the
event have the largest (or all the smallest) value of a covariate among those in the weighted
risk set (at risk, or earlier competing events), the pseudo-likelihood is monotone in that
coefficient and the subdistribution hazard ratio is infinite (or zero): the condition of Heinze
and Schemper (2001) applied to the Fine-Gray risk sets. ``crr`` then reports a huge "converged"
coefficient; here the covariate is named, the estimates are NaN and ``converged`` is False. The
same holds when Newton-Raphson does not converge, or stops with a blown-up variance, and the
pseudo-likelihood does not fall when the estimate moves far along its direction of travel (a
combination of covariates separating the events); a fit that does not converge for any other
reason is also NaN with the reason in ``note``.

Cause-specific Cox: the ordinary Cox model of :func:`ikaros.stats.cox.fit_cox` (Efron ties) with
events of the other causes treated as censored, as ``coxph(Surv(time, status == cause) ~ X)``.

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.
Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
Biometrics 2001;57:114-119.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.stats._dist import norm_ppf, two_sided_p
from ikaros.stats.competing._data import CauseLabels, CompetingData, prepare
from ikaros.stats.cox import CoxFit, fit_cox

__all__ = ["FineGrayFit", "FineGrayTerm", "cause_specific_cox", "fine_gray"]

_MAX_ITER = 100
_STEP_TOL = 1e-10
#: A variance (model-based, per coefficient) grown more than this many times from its value at
#: 0 marks a fit that may sit on the flat asymptote of a monotone pseudo-likelihood: probed.
_FLAT_VAR_RATIO = 1e6
#: Probe distance (in units of the coefficient vector) and relative slack: see ``_rises``.
_PROBE_FAR = 64.0
_PROBE_SPAN = 600.0
_PROBE_SLACK = 1e-10


@dataclass(frozen=True)
class FineGrayTerm:
    """One term: log subdistribution hazard ratio, robust SE, ratio with CI, Wald z and p."""

    coef: float
    se: float
    hr: float
    lower: float
    upper: float
    z: float
    p: float


@dataclass(frozen=True)
class FineGrayFit:
    """A fitted Fine-Gray model of the subdistribution hazard of ``cause``.

    ``events`` counts the events of ``cause``, ``competing`` those of the other causes.
    ``loglik`` is the log pseudo-likelihood at the estimate (``crr``'s ``loglik``).
    ``monotone`` is True when the pseudo-likelihood is monotone (an infinite or zero
    subdistribution hazard ratio); the estimates are then NaN, ``converged`` is False and
    ``note`` says which covariate separates the events. ``note`` also explains any other fit
    without estimates.
    """

    terms: dict[str, FineGrayTerm]
    n: int
    events: int
    competing: int
    cause: str
    converged: bool
    n_iter: int
    loglik: float = float("nan")
    conf_level: float = 0.95
    ci_method: str = "wald (robust sandwich variance)"
    monotone: bool = False
    note: str | None = None


def _check_covariates(x: pd.DataFrame, n: int) -> NDArray[np.float64]:
    if not isinstance(x, pd.DataFrame):
        raise AnalysisError("X must be a pandas DataFrame with one numeric column per term")
    if len(x) != n:
        raise AnalysisError(f"X has {len(x)} rows but there are {n} patients")
    if x.shape[1] == 0:
        raise AnalysisError("X has no columns; a regression needs at least one covariate")
    try:
        z = x.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            "X must be numeric; code categorical covariates as 0/1 indicator columns"
        ) from exc
    missing = [str(c) for c, bad in zip(x.columns, ~np.isfinite(z).all(axis=0), strict=True) if bad]
    if missing:
        raise AnalysisError(
            f"covariate(s) {missing} have missing or infinite values; use complete cases"
        )
    constant = [str(c) for c, col in zip(x.columns, z.T, strict=True) if np.ptp(col) == 0]
    if constant:
        raise AnalysisError(
            f"covariate(s) {constant} take a single value in these {n} patients; "
            "drop them from the model"
        )
    return z


@dataclass(frozen=True)
class _Design:
    time: NDArray[np.float64]
    z: NDArray[np.float64]
    is_event: NDArray[np.bool_]
    is_comp: NDArray[np.bool_]
    is_cens: NDArray[np.bool_]
    event_times: NDArray[np.float64]
    d: NDArray[np.float64]
    g_before_event: NDArray[np.float64]  # G(t_j-) at the event times
    g_before_subject: NDArray[np.float64]  # G(X_i-) per patient
    cens_times: NDArray[np.float64]  # distinct censoring times
    cens_count: NDArray[np.float64]
    cens_at_risk: NDArray[np.float64]
    order: NDArray[np.int64]  # patients by time
    comp_order: NDArray[np.int64]  # competing patients by time


def _design(data: CompetingData, z: NDArray[np.float64], code: int) -> _Design:
    t, s = data.time, data.status
    is_event = s == code
    is_cens = s == 0
    is_comp = ~is_event & ~is_cens
    times, idx = np.unique(t, return_inverse=True)
    at_risk = np.bincount(idx, minlength=times.size)[::-1].cumsum()[::-1].astype(float)
    n_cens = np.bincount(idx, weights=is_cens.astype(float), minlength=times.size).astype(float)
    g = np.cumprod(1.0 - n_cens / at_risk)

    def g_before(x: NDArray[np.float64]) -> NDArray[np.float64]:
        i = np.searchsorted(times, x, side="left") - 1
        return np.where(i >= 0, g[np.maximum(i, 0)], 1.0)

    event_times, d = np.unique(t[is_event], return_counts=True)
    keep = n_cens > 0
    order = np.argsort(t, kind="stable")
    comp_idx = np.flatnonzero(is_comp)
    comp_order = comp_idx[np.argsort(t[comp_idx], kind="stable")]
    return _Design(
        time=t,
        z=z,
        is_event=is_event,
        is_comp=is_comp,
        is_cens=is_cens,
        event_times=event_times,
        d=d.astype(float),
        g_before_event=g_before(event_times),
        g_before_subject=g_before(t),
        cens_times=times[keep],
        cens_count=n_cens[keep],
        cens_at_risk=at_risk[keep],
        order=order,
        comp_order=comp_order,
    )


def _prefix(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Running sums with a leading zero: out[k] = sum of the first k rows."""
    return np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])


def _suffix(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Running sums from the end with a trailing zero: out[k] = sum of rows k, k+1, ..."""
    return np.concatenate([np.cumsum(values[::-1], axis=0)[::-1], np.zeros((1, *values.shape[1:]))])


@dataclass(frozen=True)
class _Sums:
    s0: NDArray[np.float64]
    s1: NDArray[np.float64]
    s2: NDArray[np.float64]
    risk: NDArray[np.float64]  # exp(beta' z) per patient


def _risk_sums(des: _Design, beta: NDArray[np.float64]) -> _Sums:
    z = des.z
    eta = z @ beta
    risk = np.exp(eta - eta.max())  # a common factor cancels; see _loglik_score_info
    zz = z[:, :, None] * z[:, None, :]
    o = des.order
    start = np.searchsorted(des.time[o], des.event_times, side="left")
    r0 = _suffix(risk[o])[start]
    r1 = _suffix(risk[o, None] * z[o])[start]
    r2 = _suffix(risk[o, None, None] * zz[o])[start]
    c = des.comp_order
    wc = risk[c] / des.g_before_subject[c]
    m = np.searchsorted(des.time[c], des.event_times, side="left")
    gj = des.g_before_event
    s0 = r0 + gj * _prefix(wc)[m]
    s1 = r1 + gj[:, None] * _prefix(wc[:, None] * z[c])[m]
    s2 = r2 + gj[:, None, None] * _prefix(wc[:, None, None] * zz[c])[m]
    return _Sums(s0, s1, s2, risk)


def _loglik_score_info(
    des: _Design, beta: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64], NDArray[np.float64], _Sums]:
    sums = _risk_sums(des, beta)
    zbar = sums.s1 / sums.s0[:, None]
    shift = float((des.z @ beta).max())  # the risk weights were divided by exp(shift)
    loglik = float((des.z[des.is_event] @ beta).sum() - (des.d * (np.log(sums.s0) + shift)).sum())
    score = des.z[des.is_event].sum(axis=0) - (des.d[:, None] * zbar).sum(axis=0)
    info = np.einsum(
        "j,jab->ab", des.d, sums.s2 / sums.s0[:, None, None] - zbar[:, :, None] * zbar[:, None, :]
    )
    return loglik, score, info, sums


def _robust_variance(
    des: _Design, beta: NDArray[np.float64], info: NDArray[np.float64], sums: _Sums
) -> NDArray[np.float64]:
    z, risk, t = des.z, sums.risk, des.time
    zbar = sums.s1 / sums.s0[:, None]
    dlam = des.d / sums.s0
    # eta_i: weighted score residuals
    k_i = np.searchsorted(des.event_times, t, side="right")  # event times <= X_i
    lam_c = _prefix(dlam)[k_i]
    zlam_c = _prefix(zbar * dlam[:, None])[k_i]
    eta = -risk[:, None] * (z * lam_c[:, None] - zlam_c)
    j_own = np.searchsorted(des.event_times, t[des.is_event], side="left")
    eta[des.is_event] += z[des.is_event] - zbar[j_own]
    a_suf = _suffix(des.g_before_event * dlam)
    b_suf = _suffix(zbar * (des.g_before_event * dlam)[:, None])
    c = des.is_comp
    wc = risk[c] / des.g_before_subject[c]
    eta[c] -= wc[:, None] * (z[c] * a_suf[k_i[c]][:, None] - b_suf[k_i[c]])
    # psi_i: influence of the estimated censoring distribution
    psi = np.zeros_like(eta)
    if des.cens_times.size:
        co = des.comp_order
        wco = risk[co] / des.g_before_subject[co]
        m = np.searchsorted(t[co], des.cens_times, side="left")  # competing with X_l < u
        c0 = _prefix(wco)[m]
        c1 = _prefix(wco[:, None] * z[co])[m]
        ju = np.searchsorted(des.event_times, des.cens_times, side="left")  # t_j >= u
        q = c1 * a_suf[ju][:, None] - c0[:, None] * b_suf[ju]
        y_u = des.cens_at_risk
        comp_part = _prefix(q * (des.cens_count / y_u**2)[:, None])
        n_u = np.searchsorted(des.cens_times, t, side="right")  # censoring times <= X_i
        psi -= comp_part[n_u]
        cens = des.is_cens
        u_idx = np.searchsorted(des.cens_times, t[cens], side="left")
        psi[cens] += q[u_idx] / y_u[u_idx][:, None]
    infl = eta + psi
    inv = np.linalg.inv(info)
    return np.asarray(inv @ (infl.T @ infl) @ inv)


def _separation(des: _Design) -> NDArray[np.int8]:
    """Per covariate: +1 / -1 when every event of the cause has the largest / smallest value in
    its weighted risk set (at risk, or an earlier competing event), 0 otherwise.

    The pseudo-likelihood is then monotone in that coefficient whatever the others are
    (Heinze and Schemper's condition on the Fine-Gray risk sets; every weight is positive).
    """
    t, z = des.time, des.z
    o = des.order
    # at risk (X_i >= t_j): running extremes from the end of the time-sorted patients
    hi_risk = np.maximum.accumulate(z[o][::-1], axis=0)[::-1]
    lo_risk = np.minimum.accumulate(z[o][::-1], axis=0)[::-1]
    start = np.searchsorted(t[o], des.event_times, side="left")
    risk_max, risk_min = hi_risk[start], lo_risk[start]
    c = des.comp_order
    if c.size:  # earlier competing events (X_l < t_j) stay in the risk set
        hi_c = np.vstack([np.full((1, z.shape[1]), -np.inf), np.maximum.accumulate(z[c], axis=0)])
        lo_c = np.vstack([np.full((1, z.shape[1]), np.inf), np.minimum.accumulate(z[c], axis=0)])
        m = np.searchsorted(t[c], des.event_times, side="left")
        risk_max = np.maximum(risk_max, hi_c[m])
        risk_min = np.minimum(risk_min, lo_c[m])
    ev = np.flatnonzero(des.is_event)
    j = np.searchsorted(des.event_times, t[ev])
    varies = np.any(risk_max > risk_min, axis=0)
    up = varies & np.all(z[ev] == risk_max[j], axis=0)
    down = varies & np.all(z[ev] == risk_min[j], axis=0) & ~up
    return np.asarray(up.astype(np.int8) - down.astype(np.int8))


def _rises(
    des: _Design, beta: NDArray[np.float64], loglik: float, directions: list[NDArray[np.float64]]
) -> bool:
    """Whether the pseudo-likelihood still does not fall far beyond ``beta`` along a direction.

    The log pseudo-likelihood is concave (a weighted Cox partial likelihood with fixed
    weights): at a finite maximum it falls when the estimate moves far along any direction with
    information, while on a monotone pseudo-likelihood it keeps rising towards its supremum.
    Moves keep the linear predictor within a range of 600 so that no sum underflows.
    """
    slack = _PROBE_SLACK * max(1.0, abs(loglik))
    here = float(np.ptp(des.z @ beta))
    for d in directions:
        norm = float(np.sqrt(d @ d))
        if not np.isfinite(norm) or norm == 0.0:
            continue
        unit = d / norm
        span = float(np.ptp(des.z @ unit))
        far = _PROBE_FAR if span == 0 else min(_PROBE_FAR, max(_PROBE_SPAN - here, 0.0) / span)
        if far < 1.0:
            continue
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            near_ll = _loglik_score_info(des, beta + far / 8.0 * unit)[0]
            far_ll = _loglik_score_info(des, beta + far * unit)[0]
        if (
            np.isfinite(near_ll)
            and np.isfinite(far_ll)
            and near_ll >= loglik - slack
            and far_ll >= near_ll - slack
        ):
            return True
    return False


def _no_estimate(
    data: CompetingData, des: _Design, names: list[str], code: int, conf_level: float, **kw: Any
) -> FineGrayFit:
    nan = float("nan")
    return FineGrayFit(
        terms={n: FineGrayTerm(nan, nan, nan, nan, nan, nan, nan) for n in names},
        n=int(data.time.size),
        events=int(des.is_event.sum()),
        competing=int(des.is_comp.sum()),
        cause=data.labels[code],
        converged=False,
        conf_level=conf_level,
        **kw,
    )


def fine_gray(
    time: ArrayLike,
    status: ArrayLike,
    X: pd.DataFrame,
    cause: int | str,
    *,
    conf_level: float = 0.95,
    cause_labels: CauseLabels | None = None,
) -> FineGrayFit:
    """Fine-Gray proportional subdistribution hazards model, as ``cmprsk::crr``.

    Parameters
    ----------
    time, status
        Time to first event or censoring; 0 = censored, 1..k = cause (as ``cmprsk``).
    X
        Covariates, one numeric column per term (complete cases; code factors as indicators).
    cause
        Cause of interest (code or name); every other cause is competing.
    conf_level
        Confidence level of the subdistribution hazard ratio intervals.
    cause_labels
        Names of the causes, as :func:`aalen_johansen`.

    Returns
    -------
    FineGrayFit
        Coefficients and robust (sandwich) standard errors equal to ``crr(time, status, X,
        failcode = cause)``; Wald intervals and p-values.

    References
    ----------
    Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
    J Am Stat Assoc 1999;94:496-509.
    """
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1), got {conf_level}")
    data = prepare(time, status, cause_labels)
    code = data.cause_code(cause)
    data.require_events(code, "a Fine-Gray model")
    z = _check_covariates(X, data.time.size)
    des = _design(data, z, code)
    names = [str(c) for c in X.columns]
    label = data.labels[code]
    direction = _separation(des)
    if np.any(direction != 0):
        parts = [
            f"every event of cause {label!r} had the "
            f"{'largest' if direction[j] > 0 else 'smallest'} {names[j]} of those in its "
            f"risk set (the subdistribution hazard ratio of {names[j]} is "
            f"{'infinite' if direction[j] > 0 else 'zero'})"
            for j in np.flatnonzero(direction)
        ]
        return _no_estimate(
            data,
            des,
            names,
            code,
            conf_level,
            n_iter=0,
            monotone=True,
            note="monotone pseudo-likelihood, no finite estimate: " + "; ".join(parts),
        )
    beta = np.zeros(z.shape[1])
    loglik, score, info, sums = _loglik_score_info(des, beta)
    try:
        var_start = np.diag(np.linalg.inv(info))
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(
            "the Fine-Gray information matrix is singular: the covariates are collinear "
            "or a term does not vary among patients at risk"
        ) from exc
    converged = False
    n_iter = 0
    beta_prev = beta.copy()
    step: NDArray[np.float64] = np.zeros_like(beta)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for n_iter in range(1, _MAX_ITER + 1):  # noqa: B007 - n_iter is reported
            try:
                step = np.asarray(np.linalg.solve(info, score), dtype=np.float64)
            except np.linalg.LinAlgError:
                step = np.full_like(beta, np.nan)
            if not np.all(np.isfinite(step)):
                break  # the information vanished on the way: probed below
            for _ in range(30):  # step halving keeps the pseudo-likelihood increasing
                new = beta + step
                new_ll, new_score, new_info, new_sums = _loglik_score_info(des, new)
                if np.isfinite(new_ll) and new_ll >= loglik - 1e-12 * max(1.0, abs(loglik)):
                    break
                step = step / 2.0
            else:
                break  # no acceptable point along the step
            beta_prev = beta
            beta, loglik, score, info, sums = new, new_ll, new_score, new_info, new_sums
            if np.max(np.abs(step)) <= _STEP_TOL * max(1.0, float(np.max(np.abs(beta)))):
                converged = True
                break
        try:
            var_model = np.diag(np.linalg.inv(info))
        except np.linalg.LinAlgError:
            var_model = np.full_like(beta, np.inf)
    flat = bool(np.any(~(var_model <= _FLAT_VAR_RATIO * var_start)))
    if (not converged or flat) and _rises(des, beta, loglik, [beta, beta - beta_prev, step]):
        return _no_estimate(
            data,
            des,
            names,
            code,
            conf_level,
            n_iter=n_iter,
            loglik=float(loglik),
            monotone=True,
            note=(
                "monotone pseudo-likelihood, no finite estimate: it still rises as the "
                "estimate moves further out along the direction Newton-Raphson travelled "
                "(a combination of the covariates separates the events)"
            ),
        )
    if not converged or not np.all(np.isfinite(beta)):
        return _no_estimate(
            data,
            des,
            names,
            code,
            conf_level,
            n_iter=n_iter,
            note=(
                f"Newton-Raphson did not converge in {_MAX_ITER} iterations and the "
                "pseudo-likelihood is not monotone: no estimate"
            ),
        )
    var = _robust_variance(des, beta, info, sums)
    z_crit = float(-norm_ppf((1.0 - conf_level) / 2.0))
    terms = {}
    for name, b, v in zip(X.columns, beta, np.diag(var), strict=True):
        se = float(np.sqrt(v))
        zval = float(b / se)
        terms[str(name)] = FineGrayTerm(
            coef=float(b),
            se=se,
            hr=float(np.exp(b)),
            lower=float(np.exp(b - z_crit * se)),
            upper=float(np.exp(b + z_crit * se)),
            z=zval,
            p=float(two_sided_p(zval)),
        )
    return FineGrayFit(
        terms=terms,
        n=int(data.time.size),
        events=int(des.is_event.sum()),
        competing=int(des.is_comp.sum()),
        cause=data.labels[code],
        converged=converged,
        n_iter=n_iter,
        loglik=float(loglik),
        conf_level=conf_level,
    )


def cause_specific_cox(
    time: ArrayLike,
    status: ArrayLike,
    X: pd.DataFrame,
    cause: int | str,
    *,
    cause_labels: CauseLabels | None = None,
    **cox_options: Any,
) -> CoxFit:
    """Cox model of the cause-specific hazard of ``cause``; other causes count as censored.

    Parameters
    ----------
    time, status
        Time to first event or censoring; 0 = censored, 1..k = cause (as ``cmprsk``).
    X
        Covariates, one numeric column per term.
    cause
        Cause of interest (code or name).
    cause_labels
        Names of the causes, as :func:`aalen_johansen`.
    **cox_options
        Passed to :func:`ikaros.stats.cox.fit_cox` (``firth``, ``ph_test``, ``conf_level``).

    Returns
    -------
    CoxFit
        As ``coxph(Surv(time, status == cause) ~ X)`` with Efron ties.

    References
    ----------
    Prentice RL, Kalbfleisch JD, Peterson AV, Flournoy N, Farewell VT, Breslow NE. The analysis
    of failure times in the presence of competing risks. Biometrics 1978;34:541-554.
    Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics: competing risks and multi-state
    models. Stat Med 2007;26:2389-2430.
    """
    data = prepare(time, status, cause_labels)
    code = data.cause_code(cause)
    data.require_events(code, "a cause-specific Cox model")
    _check_covariates(X, data.time.size)
    event = (data.status == code).astype(np.int64)
    return fit_cox(data.time, event, X.reset_index(drop=True), **cox_options)
