"""Aalen-Johansen cumulative incidence with cmprsk's variance, and the naive 1 - Kaplan-Meier.

At each distinct observed time t_j of a group let n_j be the number at risk, d_cj the events of
cause c and d_j the events of all causes. With S the Kaplan-Meier estimate of being free of any
event, the Aalen-Johansen estimate of the cumulative incidence of cause c is

    F_c(t) = sum_{t_j <= t} S(t_j-) d_cj / n_j.

Patients censored at t_j are at risk at t_j, and events of different causes at the same time all
use S(t_j-), exactly as ``cmprsk::cuminc`` and the multi-state ``survival::survfit`` do.

Variance: the delta method applied to F_c(t) as a function of the cause-specific hazard
increments, with the binomial variance of each increment, h (1 - h) / (n_j - 1), and with the
events of all other causes pooled into one competing cause (Aalen 1978). This is the estimator
``cmprsk::cuminc`` reports:

    Var F_c(t) = sum_{t_j <= t} [ (S(t_j-) - D_j)^2 d_cj (n_j - d_cj)
                                  + D_j^2 d_oj (n_j - d_oj) ] / (n_j^2 (n_j - 1)),
    D_j = (F_c(t) - F_c(t_j)) n_j / (n_j - d_j),

where d_oj = d_j - d_cj. With one patient at risk (n_j = 1) the factor d (n - d) / (n - 1) is
taken as d, as ``cuminc`` does (it writes the factor as d (1 - (d - 1) / (n - 1))).

Confidence interval: log(-log) transform of F, theta = log(-log F) with standard error
sqrt(Var F) / |F log F|, back-transformed; undefined (NaN) while F = 0 and once F = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.stats._dist import norm_ppf
from ikaros.stats.competing._data import CauseLabels, prepare, prepare_groups
from ikaros.stats.km import kaplan_meier

__all__ = ["CIF_CI_METHOD", "CIFCurve", "aalen_johansen", "one_minus_km"]

CIF_CI_METHOD = "log(-log) transform of the cumulative incidence, cmprsk::cuminc variance"
KM_CI_METHOD = "1 - Kaplan-Meier, log-log interval of S with Greenwood variance (R survfit)"


@dataclass(frozen=True)
class CIFCurve:
    """A cumulative incidence curve: one row per distinct observed time of the group.

    ``n_risk`` is the number at risk just before each time, ``n_event`` the events of this
    cause at that time. ``lower``/``upper`` are NaN where the interval is undefined (incidence
    0, or 1).
    """

    group: str
    cause: str
    time: NDArray[np.float64]
    estimate: NDArray[np.float64]
    variance: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    ci_method: str
    conf_level: float = 0.95

    def at(self, t: float) -> tuple[float, float | None, float | None]:
        """Incidence and its interval at time ``t`` (right-continuous step function)."""
        i = int(np.searchsorted(self.time, t, side="right")) - 1
        if i < 0:
            return 0.0, None, None
        return float(self.estimate[i]), _none_if_nan(self.lower[i]), _none_if_nan(self.upper[i])

    @property
    def events(self) -> int:
        return int(self.n_event.sum())


def _none_if_nan(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _loglog_interval(
    f: NDArray[np.float64], var: NDArray[np.float64], conf_level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    z = float(-norm_ppf((1.0 - conf_level) / 2.0))
    ok = (f > 0.0) & (f < 1.0)
    fs = np.where(ok, f, 0.5)
    se = np.sqrt(np.maximum(var, 0.0)) / np.abs(fs * np.log(fs))
    theta = np.log(-np.log(fs))
    lower = np.exp(-np.exp(theta + z * se))
    upper = np.exp(-np.exp(theta - z * se))
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


@dataclass(frozen=True)
class _Table:
    time: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    events: NDArray[np.int64]  # times x causes


def _table(t: NDArray[np.float64], s: NDArray[np.int64], k: int) -> _Table:
    times, idx = np.unique(t, return_inverse=True)
    counts = np.zeros((times.size, k + 1), dtype=np.int64)
    np.add.at(counts, (idx, s), 1)
    n_risk = counts.sum(axis=1)[::-1].cumsum()[::-1]
    return _Table(times, n_risk.astype(np.int64), counts[:, 1:])


def _cif_and_variance(tab: _Table, c: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Aalen-Johansen estimate of cause index ``c`` and cmprsk's variance at every time."""
    n = tab.n_risk.astype(float)
    d_all = tab.events.sum(axis=1).astype(float)
    d_c = tab.events[:, c].astype(float)
    d_o = d_all - d_c
    surv = np.cumprod(1.0 - d_all / n)
    surv_before = np.concatenate([[1.0], surv[:-1]])
    f = np.cumsum(surv_before * d_c / n)
    # h (1 - h) / (n - 1) written as (d / n^2)(1 - (d - 1) / (n - 1)); with one patient at
    # risk the tie correction is taken as 0, as cuminc does, leaving d / n^2
    tie = np.where(n > 1, (n - 1.0), 1.0)
    v1 = d_c / n**2 * (1.0 - np.where(n > 1, (d_c - 1.0) / tie, 0.0))
    v2 = d_o / n**2 * (1.0 - np.where(n > 1, (d_o - 1.0) / tie, 0.0))
    rem = n - d_all
    r = np.where(rem > 0, n / np.where(rem > 0, rem, 1.0), 0.0)
    # Var(m) = sum_{j<=m} (S_j- - r_j (F_m - F_j))^2 v1_j + r_j^2 (F_m - F_j)^2 v2_j, expanded in
    # powers of F_m so that every term is a running sum.
    vv = v1 + v2
    a = np.cumsum(surv_before**2 * v1 + 2.0 * surv_before * r * f * v1 + r**2 * f**2 * vv)
    b = np.cumsum(surv_before * r * v1 + r**2 * f * vv)
    c2 = np.cumsum(r**2 * vv)
    var = a - 2.0 * f * b + f**2 * c2
    return f, np.maximum(var, 0.0)


def _check_conf(conf_level: float) -> None:
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1), got {conf_level}")


def aalen_johansen(
    time: ArrayLike,
    status: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    cause_labels: CauseLabels | None = None,
    conf_level: float = 0.95,
) -> dict[str, dict[str, CIFCurve]]:
    """Aalen-Johansen cumulative incidence of every cause, by group.

    Parameters
    ----------
    time
        Time to the first event or censoring (non-negative).
    status
        0 = censored, 1..k = cause of the first event (as ``cmprsk``).
    groups
        Group per patient (optional). A pandas categorical fixes the order of the groups and
        every category must have patients.
    cause_labels
        Names of the causes: ``{1: "SPM", 2: "death"}`` or ``["SPM", "death"]``. Without
        names the causes are called "1", "2", ...; with names, codes above k are errors.
    conf_level
        Level of the pointwise log(-log) intervals.

    Returns
    -------
    dict[str, dict[str, CIFCurve]]
        ``result[group][cause]``, one row per distinct observed time of the group. Estimates
        equal ``cmprsk::cuminc`` and the ``pstate`` of
        ``survival::survfit(Surv(time, factor(status)) ~ group)``; ``variance`` equals
        ``cuminc``'s ``var``.

    References
    ----------
    Aalen O. Nonparametric estimation of partial transition probabilities in multiple decrement
    models. Ann Stat 1978;6:534-545.
    Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains
    based on censored observations. Scand J Stat 1978;5:141-150.
    Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
    risk. Ann Stat 1988;16:1141-1154.
    Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics: competing risks and multi-state
    models. Stat Med 2007;26:2389-2430.
    """
    _check_conf(conf_level)
    data = prepare(time, status, cause_labels)
    grp = prepare_groups(groups, data.time.size)
    k = len(data.labels)
    out: dict[str, dict[str, CIFCurve]] = {}
    for gi, glabel in enumerate(grp.labels):
        m = grp.codes == gi
        tab = _table(data.time[m], data.status[m], k)
        curves = {}
        for c, clabel in data.labels.items():
            est, var = _cif_and_variance(tab, c - 1)
            lower, upper = _loglog_interval(est, var, conf_level)
            curves[clabel] = CIFCurve(
                group=glabel,
                cause=clabel,
                time=tab.time,
                estimate=est,
                variance=var,
                lower=lower,
                upper=upper,
                n_risk=tab.n_risk,
                n_event=tab.events[:, c - 1].astype(np.int64),
                ci_method=CIF_CI_METHOD,
                conf_level=conf_level,
            )
        out[glabel] = curves
    return out


def one_minus_km(
    time: ArrayLike,
    status: ArrayLike,
    cause: int | str,
    *,
    groups: ArrayLike | None = None,
    cause_labels: CauseLabels | None = None,
    conf_level: float = 0.95,
) -> dict[str, CIFCurve]:
    """Naive incidence 1 - Kaplan-Meier, events of other causes treated as censored.

    Shown for comparison only: when competing events (such as death before a second primary
    malignancy) are frequent, 1 - KM estimates the incidence in a world without the competing
    cause and overstates the real incidence; :func:`aalen_johansen` does not.

    Parameters
    ----------
    time, status
        As :func:`aalen_johansen`.
    cause
        Cause of interest, as its code or name.
    groups, cause_labels, conf_level
        As :func:`aalen_johansen`.

    Returns
    -------
    dict[str, CIFCurve]
        Per group, ``estimate = 1 - S(t)``; ``variance`` is Greenwood's variance of S (NaN
        once S = 0), ``lower``/``upper`` are 1 minus R ``survfit``'s log-log limits of S.

    References
    ----------
    Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
    1958;53:457-481.
    Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics: competing risks and multi-state
    models. Stat Med 2007;26:2389-2430 (section 3: why 1 - KM is biased upwards).
    """
    _check_conf(conf_level)
    data = prepare(time, status, cause_labels)
    code = data.cause_code(cause)
    data.require_events(code, "1 - Kaplan-Meier")
    grp = prepare_groups(groups, data.time.size)
    out: dict[str, CIFCurve] = {}
    for gi, glabel in enumerate(grp.labels):
        m = grp.codes == gi
        event = (data.status[m] == code).astype(np.int64)
        km = kaplan_meier(data.time[m], event, label=glabel, conf_level=conf_level)
        n = km.n_risk.astype(float)
        d = km.n_event.astype(float)
        rem = n - d
        terms = np.where(rem > 0, d / (n * np.where(rem > 0, rem, 1.0)), np.inf)
        with np.errstate(invalid="ignore"):
            greenwood = km.surv**2 * np.cumsum(terms)
        greenwood = np.where(np.isfinite(greenwood), greenwood, np.nan)
        out[glabel] = CIFCurve(
            group=glabel,
            cause=data.labels[code],
            time=km.time,
            estimate=1.0 - km.surv,
            variance=greenwood,
            lower=1.0 - km.upper,
            upper=1.0 - km.lower,
            n_risk=km.n_risk,
            n_event=km.n_event,
            ci_method=KM_CI_METHOD,
            conf_level=conf_level,
        )
    return out
