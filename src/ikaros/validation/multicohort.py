"""The same pre-specified marker analysis in several cohorts, pooled two ways.

For each cohort the marker hazard ratio is estimated by Cox regression (:func:`fit_cox`, Efron
ties, optional adjustment covariates), with the marker continuous on the analysis scale and
dichotomised at the pre-specified cut (``"q1"``: above the cohort's own 25th percentile, type 7,
as :func:`ikaros.groups.quartile_groups`; ``"median"``; or a fixed value on the analysis scale),
with Kaplan-Meier landmark survival of the two groups. Then:

* **two-stage**: random-effects meta-analysis of the per-cohort log hazard ratios
  (:func:`ikaros.validation.meta.meta_analysis`: REML, HKSJ, prediction interval, Q, I^2 with
  Q-profile CI, fixed effect, leave-one-out);
* **one-stage**: one Cox model on all patients, stratified by cohort (each cohort its own
  baseline hazard), as R ``coxph(Surv(time, event) ~ marker + strata(cohort))``; and, when the
  cohorts carry a two-level treatment (per patient or per cohort), the marker-by-treatment
  interaction in the stratified model (the treatment main effect is included when the treatment
  varies within some cohort; a cohort-level treatment is absorbed by the strata).

A cohort whose estimate does not exist (too few events, monotone likelihood) is reported with a
note and left out of the pooling; Firth estimates are kept out of the meta-analysis too (their
profile intervals are not symmetric on the log scale).

References
----------
Riley RD, Lambert PC, Abo-Zaid G. Meta-analysis of individual participant data: rationale,
conduct, and reporting. BMJ 2010;340:c221.
Debray TPA, Moons KGM, Abo-Zaid GMA, Koffijberg H, Riley RD. Individual participant data
meta-analysis for a binary outcome: one-stage or two-stage? PLoS One 2013;8:e60650.
Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000, sec. 3.4 (stratified Cox).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ikaros.errors import AnalysisError
from ikaros.groups import quartiles
from ikaros.stats.km import kaplan_meier
from ikaros.validation._cox import ENGINE, fit_cox_strata
from ikaros.validation._serial import VALIDATION_SCHEMA_VERSION, plain
from ikaros.validation.meta import MetaAnalysis, meta_analysis

__all__ = [
    "CohortData",
    "CohortEstimate",
    "OneStage",
    "Validation",
    "validate_cohorts",
]


@dataclass(frozen=True)
class CohortData:
    """One cohort's complete-case arrays for one endpoint and marker (marker on its scale).

    ``published_groups``: ``marker`` holds the two groups of a published split (0 low, 1 high)
    instead of marker values, e.g. two arms reconstructed from published Kaplan-Meier curves;
    the cohort enters the cut analyses (at the publication's cut) and none of the continuous
    ones. ``reconstructed``: the patients were reconstructed from published curves (flagged in
    the estimates).
    """

    name: str
    time: np.ndarray
    event: np.ndarray
    marker: np.ndarray
    covariates: pd.DataFrame | None = None
    treatment: np.ndarray | None = None
    n_excluded: int = 0
    reconstructed: bool = False
    published_groups: bool = False


@dataclass(frozen=True)
class GroupLandmark:
    label: str
    n: int
    events: int
    survival: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class CohortEstimate:
    """The marker hazard ratio of one cohort (one coding)."""

    cohort: str
    coding: str
    cut: float | None
    n: int
    events: int
    n_excluded: int
    coef: float | None
    se: float | None
    hr: float | None
    lower: float | None
    upper: float | None
    p: float | None
    method: str | None
    groups: tuple[GroupLandmark, ...] = ()
    treatment: str | None = None
    note: str | None = None
    reconstructed: bool = False


@dataclass(frozen=True)
class OneStage:
    """Cox model on the pooled patients stratified by cohort."""

    coding: str
    term: str
    n: int
    events: int
    n_cohorts: int
    coef: float
    se: float
    hr: float
    lower: float
    upper: float
    p: float
    lr_statistic: float
    lr_p: float
    engine: str
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validation:
    """Per-cohort estimates, meta-analyses and one-stage models for one marker and endpoint."""

    schema_version: str
    marker: str
    endpoint: str
    scale: str
    cut_rule: str
    landmark: float | None
    covariates: tuple[str, ...]
    estimates_continuous: tuple[CohortEstimate, ...]
    estimates_cut: tuple[CohortEstimate, ...]
    meta_continuous: MetaAnalysis | None
    meta_cut: MetaAnalysis | None
    one_stage_continuous: OneStage | None
    one_stage_cut: OneStage | None
    one_stage_interaction: OneStage | None
    conf_level: float
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as ``None``)."""
        out: dict[str, Any] = plain(self)
        return out


def _cut_value(x: np.ndarray, rule: str | float) -> float:
    if isinstance(rule, str):
        if rule == "q1":
            return quartiles(x)[0]
        if rule == "median":
            return quartiles(x)[1]
        raise AnalysisError(f"unknown cut rule {rule!r}; use 'q1', 'median' or a number")
    return float(rule)


def _design(c: CohortData, x: np.ndarray) -> pd.DataFrame:
    X = pd.DataFrame({"marker": x})
    if c.covariates is not None:
        X = pd.concat([X, c.covariates.reset_index(drop=True)], axis=1)
    return X


def _treatment_label(c: CohortData) -> str | None:
    if c.treatment is None:
        return None
    levels = sorted({str(v) for v in c.treatment})
    return levels[0] if len(levels) == 1 else "/".join(levels)


def _estimate(
    c: CohortData, coding: str, cut: float | None, landmark: float | None, conf_level: float
) -> CohortEstimate:
    x = c.marker if coding == "continuous" else (c.marker > float(cut or 0.0)).astype(float)
    groups: tuple[GroupLandmark, ...] = ()
    if coding == "cut" and landmark is not None:
        rows = []
        for label, mask in (("low", x == 0), ("high", x == 1)):
            if mask.sum() == 0:
                continue
            km = kaplan_meier(c.time[mask], c.event[mask], label=label)
            lm = km.at(landmark)
            rows.append(GroupLandmark(label, km.n, km.events, lm.survival, lm.lower, lm.upper))
        groups = tuple(rows)
    template = CohortEstimate(
        cohort=c.name,
        coding=coding,
        cut=cut,
        n=int(c.time.size),
        events=int(c.event.sum()),
        n_excluded=c.n_excluded,
        coef=None,
        se=None,
        hr=None,
        lower=None,
        upper=None,
        p=None,
        method=None,
        groups=groups,
        treatment=_treatment_label(c),
        reconstructed=c.reconstructed,
    )
    if coding == "continuous" and c.published_groups:
        return replace(template, note="no marker values: only the groups of a published split")
    try:
        fit = fit_cox_strata(c.time, c.event, _design(c, x), conf_level=conf_level)
    except AnalysisError as exc:
        return replace(template, note=f"not estimable: {exc}")
    t = fit.terms["marker"]
    note = f"Firth's penalised likelihood: {fit.firth_reason}" if fit.method == "firth" else None
    return replace(
        template,
        coef=t.coef,
        se=t.se,
        hr=t.hr,
        lower=t.lower,
        upper=t.upper,
        p=t.p,
        method=fit.method,
        note=note,
    )


def _meta(
    estimates: Sequence[CohortEstimate], conf_level: float, notes: list[str], coding: str
) -> MetaAnalysis | None:
    usable = [e for e in estimates if e.method == "cox" and e.coef is not None]
    left = [e.cohort for e in estimates if e not in usable]
    if left:
        notes.append(f"{coding}: cohorts left out of the meta-analysis: {', '.join(left)}")
    if len(usable) < 2:
        notes.append(f"{coding}: meta-analysis needs at least 2 cohorts with an ordinary estimate")
        return None
    return meta_analysis(
        [float(e.coef) for e in usable],  # type: ignore[arg-type]
        [float(e.se) for e in usable],  # type: ignore[arg-type]
        [e.cohort for e in usable],
        conf_level=conf_level,
    )


def _one_stage(
    cohorts: Sequence[CohortData],
    xs: Sequence[np.ndarray],
    coding: str,
    conf_level: float,
    interaction: bool = False,
    reference: str | None = None,
) -> OneStage:
    time = np.concatenate([c.time for c in cohorts])
    event = np.concatenate([c.event for c in cohorts])
    strata = np.concatenate([np.full(c.time.size, c.name, dtype=object) for c in cohorts])
    X = pd.concat([_design(c, x) for c, x in zip(cohorts, xs, strict=True)], ignore_index=True)
    term = "marker"
    if interaction:
        trt_labels = np.concatenate([np.asarray(c.treatment).astype(str) for c in cohorts])
        levels = sorted(set(trt_labels))
        if reference is not None:
            if reference not in levels:
                raise AnalysisError(
                    f"treatment reference level {reference!r} does not occur; the levels are "
                    f"{levels}"
                )
            levels = [reference, *(v for v in levels if v != reference)]
        active = (trt_labels == levels[1]).astype(float)
        within = any(len({str(v) for v in np.asarray(c.treatment)}) > 1 for c in cohorts)
        if within:
            X.insert(1, "treatment", active)
        term = f"marker:treatment[{levels[1]} vs {levels[0]}]"
        X[term] = X["marker"].to_numpy() * active
    fit = fit_cox_strata(time, event, X, strata, conf_level=conf_level)
    t = fit.terms[term]
    lr, lr_p = fit.lr_statistic, fit.lr_p
    if interaction:  # LR test of the product term alone
        base = fit_cox_strata(time, event, X.drop(columns=[term]), strata, conf_level=conf_level)
        lr = max(0.0, 2.0 * (fit.loglik - base.loglik))
        lr_p = float(stats.chi2.sf(lr, 1))
    return OneStage(
        coding,
        term,
        fit.n,
        fit.events,
        len(cohorts),
        t.coef,
        t.se,
        t.hr,
        t.lower,
        t.upper,
        t.p,
        lr,
        lr_p,
        ENGINE,
        tuple(str(c) for c in X.columns),
    )


def validate_cohorts(
    cohorts: Sequence[CohortData],
    *,
    marker: str,
    endpoint: str,
    scale: str = "none",
    cut: str | float = "q1",
    landmark: float | None = None,
    treatment_reference: str | None = None,
    conf_level: float = 0.95,
) -> Validation:
    """Run the pre-specified marker analysis in every cohort and pool it (two- and one-stage).

    Parameters
    ----------
    cohorts
        Complete-case data per cohort (unique names), marker already on ``scale``; the same
        covariate columns in every cohort.
    marker, endpoint, scale
        Names for the result.
    cut
        ``"q1"`` (each cohort's lowest quartile vs the rest), ``"median"``, or a fixed cut on
        the analysis scale (``marker <= cut`` is low).
    landmark
        Time of the Kaplan-Meier survival reported per cut group (``None``: none).
    treatment_reference
        Reference level of the cohorts' treatment for the one-stage marker-by-treatment model
        (default: the first in sorted order).
    conf_level
        Level of every interval.

    Returns
    -------
    Validation

    References
    ----------
    Riley, Lambert & Abo-Zaid, BMJ 2010; Debray et al., PLoS One 2013.
    """
    if len(cohorts) < 1:
        raise AnalysisError("validation needs at least one cohort")
    names = [c.name for c in cohorts]
    if len(set(names)) != len(names):
        raise AnalysisError(f"cohort names must be unique, got {names}")
    cov_names = [tuple(c.covariates.columns) if c.covariates is not None else () for c in cohorts]
    if len(set(cov_names)) != 1:
        raise AnalysisError("every cohort must have the same adjustment covariates")
    notes: list[str] = []
    cuts = [None if c.published_groups else _cut_value(c.marker, cut) for c in cohorts]
    est_cont = tuple(_estimate(c, "continuous", None, None, conf_level) for c in cohorts)
    est_cut = tuple(
        _estimate(c, "cut", k, landmark, conf_level) for c, k in zip(cohorts, cuts, strict=True)
    )
    meta_cont = _meta(est_cont, conf_level, notes, "continuous")
    meta_cut = _meta(est_cut, conf_level, notes, "cut")
    one_cont = one_cut = one_int = None
    xs_cut = [
        (c.marker > (0.0 if k is None else k)).astype(float)
        for c, k in zip(cohorts, cuts, strict=True)
    ]
    valued = [c for c in cohorts if not c.published_groups]  # cohorts with marker values
    if len(valued) < len(cohorts):
        notes.append(
            "continuous one-stage models: cohorts with only published groups left out: "
            + ", ".join(c.name for c in cohorts if c.published_groups)
        )
    try:
        if valued:
            one_cont = _one_stage(valued, [c.marker for c in valued], "continuous", conf_level)
        one_cut = _one_stage(cohorts, xs_cut, "cut", conf_level)
    except AnalysisError as exc:
        notes.append(f"one-stage model not estimable: {exc}")
    if valued and all(c.treatment is not None for c in valued):
        levels = sorted({str(v) for c in valued for v in np.asarray(c.treatment)})
        if len(levels) == 2:
            try:
                one_int = _one_stage(
                    valued,
                    [c.marker for c in valued],
                    "continuous",
                    conf_level,
                    True,
                    treatment_reference,
                )
            except AnalysisError as exc:
                notes.append(f"one-stage interaction model not estimable: {exc}")
        else:
            notes.append(f"marker-by-treatment model needs 2 treatment levels, found {levels}")
    return Validation(
        schema_version=VALIDATION_SCHEMA_VERSION,
        marker=marker,
        endpoint=endpoint,
        scale=scale,
        cut_rule=str(cut),
        landmark=landmark,
        covariates=cov_names[0],
        estimates_continuous=est_cont,
        estimates_cut=est_cut,
        meta_continuous=meta_cont,
        meta_cut=meta_cut,
        one_stage_continuous=one_cont,
        one_stage_cut=one_cut,
        one_stage_interaction=one_int,
        conf_level=conf_level,
        notes=tuple(notes),
    )
