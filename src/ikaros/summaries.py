"""Conversion of the statistics modules' result objects into the results-file schema.

Kept apart from :mod:`ikaros.study` so that the scan and the web layer can summarise fits the
same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ikaros.groups import Grouping
from ikaros.results import (
    CoxModel,
    CoxTermResult,
    Curve,
    GroupSummary,
    Interaction,
    LandmarkResult,
    MedianResult,
    PHResult,
    RankTestResult,
    TestResult,
)
from ikaros.stats._dist import chi2_sf
from ikaros.stats.cox import CoxFit
from ikaros.stats.km import CI_METHOD, KMCurve, Quantile
from ikaros.stats.logrank import LogrankResult, TrendResult
from ikaros.stats.ph import PHTest
from ikaros.stats.rank_tests import RankTest

__all__ = [
    "cox_model",
    "cox_term",
    "curve",
    "group_summaries",
    "interaction_result",
    "landmark_result",
    "median_result",
    "ph_result",
    "rank_result",
    "test_result",
]


def _opt(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def median_result(q: Quantile) -> MedianResult:
    return MedianResult(q.estimate, q.lower, q.upper)


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(np.asarray(values, dtype=float).tolist())


def _ints(values: np.ndarray) -> tuple[int, ...]:
    return tuple(np.asarray(values, dtype=np.int64).tolist())


def _optional(values: np.ndarray) -> tuple[float | None, ...]:
    arr = np.asarray(values, dtype=float)
    return tuple(np.where(np.isfinite(arr), arr, np.nan).astype(object).tolist())


def curve(km: KMCurve) -> Curve:
    """The step data of a Kaplan-Meier curve (NaN bounds become None), built column-wise."""
    lower, upper = _optional(km.lower), _optional(km.upper)
    return Curve(
        time=_floats(km.time),
        n_risk=_ints(km.n_risk),
        n_event=_ints(km.n_event),
        n_censor=_ints(km.n_censor),
        surv=_floats(km.surv),
        lower=tuple(None if v != v else v for v in lower),
        upper=tuple(None if v != v else v for v in upper),
    )


def group_summaries(
    curves: Sequence[KMCurve], grouping: Grouping, landmark: float
) -> dict[str, GroupSummary]:
    """Per-group n, events, landmark survival, median and step data."""
    out = {}
    cuts = (
        (None, *grouping.cutpoints, None)
        if grouping.cutpoints
        else (None,) * (len(grouping.labels) + 1)
    )
    for km in curves:
        i = grouping.labels.index(km.label)
        out[km.label] = GroupSummary(
            n=km.n,
            events=km.events,
            landmark=landmark_result(km, landmark),
            median=median_result(km.median),
            cutoff_low=cuts[i],
            cutoff_high=cuts[i + 1],
            curve=curve(km),
        )
    return out


def landmark_result(km: KMCurve, landmark: float) -> LandmarkResult:
    """Survival at ``landmark``; null with a note beyond the last observed time (as R)."""
    last = float(km.time[-1]) if len(km.time) else 0.0
    if landmark > last:
        return LandmarkResult(
            float(landmark),
            None,
            None,
            None,
            0,
            CI_METHOD,
            note=f"not estimable (follow-up ends at {last:.4g} months)",
        )
    lm = km.at(landmark)
    return LandmarkResult(lm.time, lm.survival, lm.lower, lm.upper, lm.n_risk, lm.ci_method)


def test_result(r: LogrankResult | TrendResult, method: str) -> TestResult:
    return TestResult(float(r.statistic), int(r.df), float(r.p), method)


def ph_result(ph: PHTest) -> PHResult:
    def one(t: object) -> TestResult:
        return TestResult(t.chisq, t.df, t.p, "Schoenfeld residual score test")  # type: ignore[attr-defined]

    return PHResult(ph.transform, {k: one(v) for k, v in ph.terms.items()}, one(ph.global_test))


def cox_term(fit: CoxFit, name: str, sd: float | None = None) -> CoxTermResult:
    """A term of a fit; with ``sd``, also the hazard ratio per standard deviation."""
    t = fit.terms[name]
    per_sd: dict[str, float | None] = {
        "hr_per_sd": None,
        "lower_per_sd": None,
        "upper_per_sd": None,
        "sd": None,
    }
    if sd is not None and np.isfinite(sd):
        per_sd = {
            "hr_per_sd": float(np.exp(t.coef * sd)),
            "lower_per_sd": float(t.lower**sd),
            "upper_per_sd": float(t.upper**sd),
            "sd": float(sd),
        }
    return CoxTermResult(t.hr, t.lower, t.upper, t.p, t.coef, t.se, **per_sd)


def cox_model(fit: CoxFit, *, sd: Mapping[str, float] | None = None, excluded: int = 0) -> CoxModel:
    sd = sd or {}
    return CoxModel(
        n=fit.n,
        events=fit.events,
        method=fit.method,
        ties=fit.ties,
        ci_method=fit.ci_method,
        p_method=fit.p_method,
        terms={name: cox_term(fit, name, sd.get(name)) for name in fit.terms},
        lr_statistic=_opt(fit.lr_statistic),
        lr_df=fit.lr_df,
        lr_p=_opt(fit.lr_p),
        firth_reason=fit.firth_reason,
        ph=ph_result(fit.ph) if fit.ph is not None else None,
        excluded=excluded,
        note=fit.note,
    )


def interaction_result(full: CoxFit, base: CoxFit, term: str) -> Interaction:
    """Wald test of the interaction term and the likelihood-ratio test full vs base model.

    The likelihood-ratio test is reported only when both models are ordinary (unpenalised) fits.
    """
    t = full.terms[term]
    lr_stat = lr_p = None
    if full.method == base.method == "cox":
        lr_stat = max(0.0, 2.0 * (full.loglik - base.loglik))
        lr_p = float(chi2_sf(lr_stat, 1))
    return Interaction(term, t.hr, t.lower, t.upper, t.p, lr_stat, lr_p, full.method)


def rank_result(r: RankTest) -> RankTestResult:
    return RankTestResult(
        method=r.method,
        statistic=float(r.statistic),
        p=float(r.p),
        n=int(r.n),
        groups=tuple(r.groups),
        group_n=tuple(int(x) for x in r.group_n),
        group_median=tuple(float(x) for x in r.group_median),
        df=r.df,
        z=r.z,
        n_missing=int(r.n_missing),
    )
