"""Cox proportional-hazards regression (Efron ties), with Firth's penalty when it is needed.

Why own code
------------
The fit runs on the project's vectorised Efron engine (:mod:`ikaros.scan._layout` and
:mod:`ikaros.scan._efron`, the same code that fits every gene of a genome-wide scan), not on
lifelines' ``CoxPHFitter``: lifelines loops over event times in Python and spends ~25 ms per fit
in pandas bookkeeping, which dominated ``ikaros analyze`` from 10,000 patients on, and has no
strata. The engine sorts the patients once (by stratum, then time) and forms every risk-set sum
with a cumulative sum; Efron's terms of a tied time are summed in closed form (three scalars
per death, :mod:`ikaros.scan._evaluate`), so one likelihood evaluation is O(n p^2) after an
O(n log n) sort, with no Python loop over patients or event times. The sort is shared: pass
``survival=`` (:class:`~ikaros.stats.survdata.SurvivalData`, sorted once for all the fits of a
marker and an endpoint, and subset in O(n)) and no fit sorts again. Newton-Raphson with step
halving is iterated until every step is below
``1e-10 (1 + |beta|)`` on the standardised scale, as R ``coxph`` with a tight ``eps``; the
estimates agree with R to ~1e-9 (``tests/reference/cox_engine``). lifelines stays in the tests as
an independent cross-check.

Monotone likelihood
-------------------
When the partial likelihood is monotone the maximum-likelihood estimate is infinite. This is
decided by evidence, never by the size of an estimate (a large but finite estimate is an
ordinary fit that agrees with R): a binary covariate one of whose levels has no events; a
covariate that at every event time is largest (or smallest) in the dying patients among those
at risk (Heinze & Schemper 2001; exact, sufficient in any model containing it); or a fit that
did not converge, whose information vanished, or whose standard error blew up on the way, and
whose log-likelihood does not fall when the estimate moves far along its direction of travel
(concavity makes a finite maximum fall there; see :func:`ikaros.scan._efron.fit_block`). The
fit then switches to Firth's penalised likelihood with profile-likelihood intervals
(:mod:`ikaros.stats.firth`) and says why in ``firth_reason`` and ``note``. A Firth fit that
fails, or an ordinary fit that does not converge for another reason, gives NaN estimates with
``method = "none"`` and the reason: never the numbers of an unconverged iteration.

The proportional-hazards assumption is checked beside every ordinary unstratified fit by the
Schoenfeld residual score test of R ``cox.zph`` (:mod:`ikaros.stats.ph`), on the fit's own
sorted layout and standardised covariates (the test is invariant to their scaling).

References
----------
Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
1977;72:557-565.
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000,
sections 3.2-3.3 (Newton-Raphson, Efron's approximation, strata).
Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
Biometrics 2001;57:114-119.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.scan._efron import BlockFit, fit_block
from ikaros.scan._layout import Layout, make_layout, null_loglik, separation
from ikaros.stats._dist import chi2_isf1, chi2_sf, norm_ppf, two_sided_p
from ikaros.stats.ph import PHTest, schoenfeld_test_sorted
from ikaros.stats.survdata import SurvivalData, checked_order

__all__ = ["CoxFit", "CoxTerm", "FirthMode", "SurvivalData", "fit_cox", "zero_event_reasons"]

FirthMode = Literal["auto", "never", "always"]

#: Newton-Raphson likelihood evaluations allowed (R ``coxph`` allows 20 by default; a monotone
#: likelihood uses them up while the probe needs the iterate far out).
MAX_ITER: Final = 100
#: Convergence: every Newton step component ``<= TOL * (1 + |beta|)``, standardised scale.
TOL: Final = 1e-10


@dataclass(frozen=True)
class CoxTerm:
    """One model term: log hazard ratio, its SE, the hazard ratio with CI, and the p-value."""

    coef: float
    se: float
    hr: float
    lower: float
    upper: float
    p: float
    z: float | None = None


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model.

    ``method`` is ``"cox"`` (partial likelihood, Wald CI and p), ``"firth"`` (penalised
    likelihood, profile CI, penalised likelihood-ratio p) or ``"none"`` (no estimate: the
    Firth fit failed, the model is stratified and monotone, or Newton-Raphson did not
    converge; every estimate is NaN); ``firth_reason`` says why Firth was used (or tried) and
    ``note`` why a fit is not an ordinary one. ``lr_*`` is the likelihood-ratio test of the
    whole model against the null model (all coefficients 0), ``wald_*`` the Wald test of all
    coefficients; ``loglik_null`` is the log partial likelihood at 0, ``loglik`` at the estimate.
    """

    terms: dict[str, CoxTerm]
    n: int
    events: int
    method: Literal["cox", "firth", "none"]
    ties: str
    ci_method: str
    p_method: str
    loglik: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    converged: bool
    firth_reason: str | None = None
    ph: PHTest | None = None
    note: str | None = None
    iterations: int = 0
    strata: int = 1
    loglik_null: float = float("nan")
    wald_statistic: float = float("nan")
    wald_df: int = 0
    wald_p: float = float("nan")


# ---------------------------------------------------------------------------------------------
# reasons
# ---------------------------------------------------------------------------------------------
_VERSUS = re.compile(r"(?P<stem>.*\s)?(?P<hi>\S+) vs (?P<lo>.+)")


def _level_name(term: str, level: float, levels: NDArray[np.float64]) -> str:
    """A readable name of one level of a binary term, for "none of the n patients ...".

    A 0/1 term named ``"<stem> <A> vs <B>"`` (the study's ``"IKZF1 Q2-4 vs Q1"``) names its
    level 1 ``"in <stem> <A>"`` and level 0 ``"in <stem> <B>"``: ``"in IKZF1 Q1"``. Any other
    binary term: ``"with <term> = <level>"``.
    """
    match = _VERSUS.fullmatch(term)
    if match and set(levels.tolist()) == {0.0, 1.0}:
        stem = match.group("stem") or ""
        return f"in {stem}{match.group('hi' if level == 1.0 else 'lo')}"
    return f"with {term} = {level:g}"


def zero_event_reasons(event: NDArray[np.int64], X: pd.DataFrame) -> dict[str, list[str]]:
    """Per binary covariate, one sentence per level in which nobody had an event."""
    reasons: dict[str, list[str]] = {}
    for col in X.columns:
        values = X[col].to_numpy(dtype=float)
        lo, hi = float(np.min(values)), float(np.max(values))
        # two distinct values (a linear check, not a sort: this runs before every fit)
        if lo != hi and bool(np.all((values == lo) | (values == hi))):
            levels = np.array([lo, hi])
            for level in levels:
                if event[values == level].sum() == 0:
                    n = int(np.sum(values == level))
                    who = "patient" if n == 1 else "patients"
                    reasons.setdefault(str(col), []).append(
                        f"none of the {n} {who} {_level_name(str(col), level, levels)} had an event"
                    )
    return reasons


def _separation_reasons(
    x_sorted: NDArray[np.float64], lay: Layout, names: list[str], skip: set[str]
) -> list[str]:
    """The Heinze-Schemper condition, one sentence per separating covariate."""
    direction = separation(x_sorted, lay)
    where = " in their stratum" if lay.n_strata > 1 else ""
    reasons = []
    for j in np.flatnonzero(direction):
        name = names[j]
        if name in skip:
            continue
        top = direction[j] > 0
        reasons.append(
            f"at every event time the patients with the event had the "
            f"{'largest' if top else 'smallest'} {name} of those at risk{where} (the hazard "
            f"ratio of {name} is {'infinite' if top else 'zero'})"
        )
    return reasons


# ---------------------------------------------------------------------------------------------
# fits
# ---------------------------------------------------------------------------------------------
def _nan_fit(
    n: int, events: int, names: list[str], reason: str, *, firth_reason: str | None, strata: int
) -> CoxFit:
    nan = float("nan")
    return CoxFit(
        terms={name: CoxTerm(nan, nan, nan, nan, nan, nan, None) for name in names},
        n=n,
        events=events,
        method="none",
        ties="efron",
        ci_method="none",
        p_method="none",
        loglik=nan,
        lr_statistic=nan,
        lr_df=len(names),
        lr_p=nan,
        converged=False,
        firth_reason=firth_reason,
        note=reason,
        strata=strata,
    )


def _firth(
    time: NDArray[np.float64], event: NDArray[np.int64], X: pd.DataFrame, reason: str, strata: int
) -> CoxFit:
    names = [str(c) for c in X.columns]
    if strata > 1:
        return _nan_fit(
            int(time.size),
            int(event.sum()),
            names,
            f"{reason}; Firth's penalised likelihood is not available for a stratified model, "
            "so there is no estimate",
            firth_reason=reason,
            strata=strata,
        )
    try:
        from ikaros.stats.firth import fit_firth_cox  # scipy.linalg: only when needed

        fit = fit_firth_cox(time, event, X.to_numpy(dtype=float), names)
    except AnalysisError as exc:
        text = " ".join(exc.message.split())
        if len(text) > 240:
            text = text[:237].rstrip() + "..."
        return _nan_fit(
            int(time.size),
            int(event.sum()),
            names,
            f"{reason}; the Firth refit failed, so there is no estimate ({text})",
            firth_reason=reason,
            strata=strata,
        )
    terms = {
        name: CoxTerm(t.coef, t.se, t.hr, t.lower, t.upper, t.p, None)
        for name, t in fit.terms.items()
    }
    lr_stat = float("nan")
    lr_p = float("nan")
    if len(names) == 1:  # the penalised LR test of the only term is the model test
        lr_p = terms[names[0]].p
        lr_stat = float(chi2_isf1(lr_p)) if lr_p > 0 else float("inf")
    return CoxFit(
        terms=terms,
        n=fit.n,
        events=fit.events,
        method="firth",
        ties="breslow",
        ci_method=fit.ci_method,
        p_method="penalised likelihood ratio",
        loglik=fit.loglik,
        lr_statistic=lr_stat,
        lr_df=len(names),
        lr_p=lr_p,
        converged=fit.converged,
        firth_reason=reason,
        note=f"monotone likelihood: Firth's penalised likelihood because {reason}",
    )


def _strata_codes(strata: ArrayLike | None, n: int) -> NDArray[np.intp] | None:
    if strata is None:
        return None
    s = pd.Series(np.asarray(strata).ravel() if np.ndim(strata) else [strata] * n)
    if s.size != n:
        raise AnalysisError(f"strata has {s.size} values for {n} patients")
    if s.isna().any():
        raise AnalysisError("strata has missing values; use complete cases")
    codes, _ = pd.factorize(s, sort=True)
    return np.asarray(codes, dtype=np.intp)


def _validate(
    time: ArrayLike, event: ArrayLike, covariates: pd.DataFrame
) -> tuple[NDArray[np.float64], NDArray[np.int64], pd.DataFrame]:
    t = np.asarray(time, dtype=float)
    e_raw = np.asarray(event, dtype=float)
    X = covariates.astype(float).reset_index(drop=True)
    if not (t.ndim == e_raw.ndim == 1 and t.size == e_raw.size == len(X)):
        raise AnalysisError("time, event and covariates must have the same number of rows")
    if X.shape[1] == 0:
        raise AnalysisError("a Cox model needs at least one covariate")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e_raw))):
        raise AnalysisError("time and event must be finite (use complete cases)")
    if np.any(t < 0):
        raise AnalysisError("follow-up times must be non-negative")
    if not np.all((e_raw == 0) | (e_raw == 1)):
        raise AnalysisError("events must be coded 0 (censored) or 1 (event)")
    bad = [str(c) for c in X.columns if not np.all(np.isfinite(X[c].to_numpy()))]
    if bad:
        raise AnalysisError(f"covariate(s) {bad} have missing or infinite values")
    e = e_raw.astype(np.int64)
    if e.sum() == 0:
        raise AnalysisError("a Cox model needs at least one event; this set of patients has none")
    x = X.to_numpy()
    same = x.min(axis=0) == x.max(axis=0)
    constant = [str(c) for c, flat in zip(X.columns, same, strict=True) if flat]
    if constant:
        raise AnalysisError(
            f"covariate(s) {constant} take a single value in these {len(X)} patients; "
            "drop them from the model"
        )
    return t, e, X


def _ordinary(
    fit: BlockFit,
    sd: NDArray[np.float64],
    names: list[str],
    lay: Layout,
    conf_level: float,
    ties: str,
    strata: int,
) -> CoxFit:
    beta = fit.beta[0]
    info = fit.info[0]
    coef = beta / sd
    se = np.sqrt(fit.var[0]) / sd
    z_crit = float(norm_ppf(1.0 - (1.0 - conf_level) / 2.0))
    terms = {}
    for j, name in enumerate(names):
        zval = float(coef[j] / se[j])
        terms[name] = CoxTerm(
            coef=float(coef[j]),
            se=float(se[j]),
            hr=math.exp(coef[j]),
            lower=math.exp(coef[j] - z_crit * se[j]),
            upper=math.exp(coef[j] + z_crit * se[j]),
            p=float(two_sided_p(zval)),
            z=zval,
        )
    ll0 = null_loglik(lay)
    loglik = float(fit.loglik[0])
    lr = max(0.0, 2.0 * (loglik - ll0))  # rounding can leave -1e-13 for a null effect
    wald = float(beta @ info @ beta)  # invariant to the scaling of the covariates
    p = len(names)
    return CoxFit(
        terms=terms,
        n=lay.n,
        events=lay.events,
        method="cox",
        ties=ties,
        ci_method="wald",
        p_method="wald",
        loglik=loglik,
        lr_statistic=lr,
        lr_df=p,
        lr_p=float(chi2_sf(lr, p)),
        converged=True,
        iterations=int(fit.n_iter[0]),
        strata=strata,
        loglik_null=ll0,
        wald_statistic=wald,
        wald_df=p,
        wald_p=float(chi2_sf(wald, p)),
    )


def fit_cox(
    time: ArrayLike,
    event: ArrayLike,
    covariates: pd.DataFrame,
    *,
    firth: FirthMode = "auto",
    ph_test: bool = True,
    conf_level: float = 0.95,
    strata: ArrayLike | None = None,
    ties: Literal["efron", "breslow"] = "efron",
    survival: SurvivalData | None = None,
) -> CoxFit:
    """Fit a Cox model with Efron ties; fall back to Firth's penalty on monotone likelihood.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators (complete cases only).
    covariates
        One numeric column per term; the column names name the terms.
    firth
        ``"auto"`` uses Firth's penalised likelihood only when the ordinary estimate does not
        exist (see the module docstring); ``"always"`` and ``"never"`` force the choice
        (``"never"`` raises on a monotone likelihood), or ``time`` and ``event`` differ from
        the ones ``survival`` was prepared from.
    ph_test
        Run the Schoenfeld-residual test of proportional hazards (ordinary unstratified fits).
    conf_level
        Confidence level of the hazard-ratio intervals of ordinary fits.
    strata
        Optional stratum per patient: separate baseline hazards, risk sets within strata
        (R ``coxph(... + strata(s))``).
    ties
        ``"efron"`` (R's default) or ``"breslow"``.
    survival
        The same ``time`` and ``event`` prepared once (:class:`~ikaros.stats.survdata.
        SurvivalData`, e.g. a ``subset`` of the patients of several fits): the fit then does
        not sort the patients again. Results do not depend on it.

    Returns
    -------
    CoxFit

    Raises
    ------
    AnalysisError
        Invalid or incomplete input, no events, a constant covariate, collinear covariates, a
        covariate that carries no information, or (``firth="never"``) a monotone likelihood.

    Notes
    -----
    Covariates are centred and scaled by their SD before fitting (estimates are reported per
    unit of each covariate); Newton-Raphson starts at 0 and stops when every step component is
    at most ``1e-10 (1 + |beta|)`` (standardised scale). SEs are ``sqrt(diag(I^-1))``; the
    intervals and p-values are Wald's, the LR test compares with all coefficients 0.

    References
    ----------
    Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
    1977;72:557-565.
    Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox regression.
    Biometrics 2001;57:114-119.
    """
    if ties not in ("efron", "breslow"):
        raise AnalysisError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1), got {conf_level}")
    t, e, X = _validate(time, event, covariates)
    codes = _strata_codes(strata, t.size)
    names = [str(c) for c in X.columns]
    n_strata = 1 if codes is None else int(codes.max()) + 1
    if firth == "always":
        return _firth(t, e, X, "requested", n_strata)
    x = X.to_numpy(dtype=float)
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    xs = (x - mean) / sd
    if np.linalg.matrix_rank(xs) < xs.shape[1]:
        raise AnalysisError(
            f"the covariates {names} are collinear (one is a combination of the others); "
            "drop one of them"
        )
    order = checked_order(survival, t, e == 1)
    lay = make_layout(t, e == 1, ties, codes, order=order)
    xs_sorted = np.ascontiguousarray(xs[lay.order])
    zero = zero_event_reasons(e, X)
    reasons = [r for col in names for r in zero.get(col, [])]
    reasons += _separation_reasons(xs_sorted, lay, names, skip=set(zero))
    fit = None
    if not reasons:
        cov = [np.ascontiguousarray(xs_sorted[:, [j]]) for j in range(len(names))]
        fit = fit_block(None, cov, np.zeros((1, len(names))), lay, max_iter=MAX_ITER, tol=TOL)
        if fit.no_info[0]:
            raise AnalysisError(
                f"the covariates {names} carry no information in these patients (a covariate "
                "varies only among patients who are never at risk at an event time, or the "
                "covariates are collinear within the risk sets); drop it from the model"
            )
        if fit.monotone[0]:
            reasons.append(
                "the partial likelihood is monotone: the log-likelihood still rises as the "
                "estimate moves further out along the direction Newton-Raphson travelled "
                "(a combination of the covariates separates the patients with events)"
            )
    if reasons:
        reason = "; ".join(reasons)
        if firth == "never":
            raise AnalysisError(
                "the Cox estimate does not exist: " + reason + " (use Firth's method)"
            )
        return _firth(t, e, X, reason, n_strata)
    assert fit is not None
    if not fit.converged[0]:
        return _nan_fit(
            int(t.size),
            int(e.sum()),
            names,
            f"Newton-Raphson did not converge in {MAX_ITER} iterations and the partial "
            "likelihood is not monotone, so there is no estimate",
            firth_reason=None,
            strata=n_strata,
        )
    result = _ordinary(fit, sd, names, lay, conf_level, ties, n_strata)
    if ph_test and codes is None:
        # on the fit's layout and standardised covariates (the test is scale invariant)
        ph = schoenfeld_test_sorted(t, lay, np.ascontiguousarray(xs_sorted.T), fit.beta[0], names)
        result = replace(result, ph=ph)
    return result
