"""Statistics of the course analyses: time-varying Cox regression and exact proportions.

The time-varying Cox model is fitted by lifelines' ``CoxTimeVaryingFitter`` on (start, stop]
data (Efron ties, as R ``coxph(Surv(start, stop, event) ~ ...)``), with Newton-Raphson
convergence tightened as :mod:`ikaros.stats.cox` does for ``CoxPHFitter`` so that coefficients
agree with R to ~1e-9 rather than ~1e-5. Proportions (response rates, mutation frequencies) get
exact Clopper-Pearson intervals (statsmodels ``proportion_confint(method="beta")``, the interval
of R ``binom.test``).

References
----------
Andersen PK, Gill RD. Cox's regression model for counting processes: a large sample study.
Ann Stat 1982;10:1100-1120.
Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
1977;72:557-565.
Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the
binomial. Biometrika 1934;26:404-413.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxTimeVaryingFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from ikaros.errors import AnalysisError
from ikaros.stats.cox import CoxTerm

#: lifelines Newton-Raphson settings: stop only when the step is ~1e-12 (its defaults stop at a
#: relative log-likelihood change of 1e-9, leaving hazard ratios ~1e-5 from R's).
_FIT_OPTIONS = {"step_size": 0.95, "precision": 1e-12, "r_precision": 1e-15, "max_steps": 500}

__all__ = [
    "Proportion",
    "TimeVaryingCoxFit",
    "clopper_pearson",
    "fit_time_varying_cox",
]


@dataclass(frozen=True)
class Proportion:
    """``count`` of ``n`` with an exact (Clopper-Pearson) confidence interval."""

    count: int
    n: int
    estimate: float
    lower: float
    upper: float
    conf_level: float = 0.95
    method: str = "Clopper-Pearson exact"


def clopper_pearson(count: int, n: int, *, conf_level: float = 0.95) -> Proportion:
    """Proportion ``count / n`` with the exact Clopper-Pearson interval (R ``binom.test``).

    The limits are the ``(1 - conf_level) / 2`` quantile of Beta(count, n - count + 1) and the
    ``(1 + conf_level) / 2`` quantile of Beta(count + 1, n - count); 0 and 1 at the edges.

    References
    ----------
    Clopper CJ, Pearson ES. Biometrika 1934;26:404-413.
    """
    if n <= 0 or not 0 <= count <= n:
        raise AnalysisError(f"a proportion needs 0 <= count <= n and n > 0 (got {count}/{n})")
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1), got {conf_level}")
    lower, upper = proportion_confint(count, n, alpha=1.0 - conf_level, method="beta")
    return Proportion(
        int(count), int(n), count / n, float(lower), float(upper), conf_level=conf_level
    )


@dataclass(frozen=True)
class TimeVaryingCoxFit:
    """A Cox model on (start, stop] data: terms, sizes and the likelihood-ratio test."""

    terms: dict[str, CoxTerm]
    n_patients: int
    n_intervals: int
    events: int
    loglik: float
    loglik_null: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    ties: str = "efron"
    ci_method: str = "wald"


def fit_time_varying_cox(
    table: pd.DataFrame,
    covariates: Sequence[str] = ("cum_exposure",),
    *,
    start: str = "start",
    stop: str = "stop",
    event: str = "event",
    id_col: str | None = "patient_id",
    conf_level: float = 0.95,
) -> TimeVaryingCoxFit:
    """Fit a Cox model with time-varying covariates (Efron ties) on (start, stop] intervals.

    Parameters
    ----------
    table
        One row per interval, e.g. :attr:`ikaros.course.derived.CountingProcess.table`.
    covariates
        Numeric columns of ``table``; they name the terms.
    start, stop, event
        Interval and 0/1 event columns; each row is at risk on (start, stop].
    id_col
        Patient column, only used to count patients (``None``: count rows).
    conf_level
        Confidence level of the Wald intervals.

    Returns
    -------
    TimeVaryingCoxFit

    Raises
    ------
    AnalysisError
        No events, a constant covariate, intervals of zero length, or no convergence.

    References
    ----------
    Andersen PK, Gill RD. Ann Stat 1982;10:1100-1120.
    """
    cols = list(covariates)
    if not cols:
        raise AnalysisError("a Cox model needs at least one covariate")
    missing = [c for c in [start, stop, event, *cols] if c not in table.columns]
    if missing:
        raise AnalysisError(f"columns {missing} are not in the interval table")
    frame = table[[start, stop, event, *cols]].astype(float).reset_index(drop=True)
    frame.columns = ["__start", "__stop", "__event", *cols]
    if len(frame) == 0 or frame["__event"].sum() == 0:
        raise AnalysisError("a Cox model needs at least one event; these intervals have none")
    if not frame["__event"].isin([0.0, 1.0]).all():
        raise AnalysisError("events must be coded 0/1")
    if (frame["__stop"] <= frame["__start"]).any():
        raise AnalysisError("every interval needs stop > start")
    constant = [c for c in cols if frame[c].nunique() < 2]
    if constant:
        raise AnalysisError(f"covariate(s) {constant} take a single value; drop them")
    ctv = CoxTimeVaryingFitter(alpha=1.0 - conf_level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ctv.fit(
                frame,
                event_col="__event",
                start_col="__start",
                stop_col="__stop",
                fit_options=dict(_FIT_OPTIONS),
            )
        except (ConvergenceError, np.linalg.LinAlgError) as exc:
            raise AnalysisError(
                f"the time-varying Cox model did not converge ({str(exc).splitlines()[0]})"
            ) from None
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        raise AnalysisError(
            "the time-varying Cox model did not converge (monotone likelihood or collinearity)"
        )
    z_crit = float(stats.norm.isf((1.0 - conf_level) / 2.0))
    terms = {}
    for name in cols:
        coef = float(ctv.params_[name])
        se = float(ctv.standard_errors_[name])
        z = coef / se
        terms[name] = CoxTerm(
            coef=coef,
            se=se,
            hr=float(np.exp(coef)),
            lower=float(np.exp(coef - z_crit * se)),
            upper=float(np.exp(coef + z_crit * se)),
            p=float(2.0 * stats.norm.sf(abs(z))),
            z=z,
        )
    loglik = float(ctv.log_likelihood_)
    loglik_null = float(ctv._log_likelihood_null)
    lr = max(0.0, 2.0 * (loglik - loglik_null))
    n_patients = table[id_col].nunique() if id_col and id_col in table else len(table)
    return TimeVaryingCoxFit(
        terms=terms,
        n_patients=int(n_patients),
        n_intervals=len(frame),
        events=int(frame["__event"].sum()),
        loglik=loglik,
        loglik_null=loglik_null,
        lr_statistic=lr,
        lr_df=len(cols),
        lr_p=float(stats.chi2.sf(lr, len(cols))),
    )
