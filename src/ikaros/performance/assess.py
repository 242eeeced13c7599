"""All performance measures of one Cox model, in one frozen result object.

:func:`assess_model` is the entry point for a study: give the patients (complete cases over the
model's covariates), the covariates, the landmark(s) and, for external validation, the
development cohort. It returns :class:`ModelPerformance`, whose :meth:`~ModelPerformance.to_dict`
is the JSON form (schema :data:`SCHEMA_VERSION`) and whose ``*_frame`` methods give DataFrames.
Added value over a base model is :func:`ikaros.performance.added_value.added_value`.

Linear predictors are computed here from the coefficients (``X @ beta``; predicted risks do not
depend on centring). In apparent evaluation the coefficients come from
:func:`ikaros.stats.cox.fit_cox` unless given; a Firth fit is evaluated as it is, but its
bootstrap validation is skipped (the refits would be unpenalised) and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.performance._checks import as_survival, as_times
from ikaros.performance._cox import predict_risk
from ikaros.performance._result import SCHEMA_VERSION, jsonable
from ikaros.performance.brier import BrierScore, brier_score, integrated_brier
from ikaros.performance.calibration import (
    CalibrationSlope,
    RiskGroup,
    SmoothCalibration,
    calibration_slope,
    risk_groups,
    smooth_calibration,
)
from ikaros.performance.concordance import Concordance, harrell_c, uno_c
from ikaros.performance.decision import DEFAULT_THRESHOLDS, DecisionCurve, net_benefit
from ikaros.performance.timeauc import TimeAUC, time_dependent_auc
from ikaros.performance.validation import OptimismResult, optimism_bootstrap

__all__ = ["LandmarkCalibration", "ModelPerformance", "assess_model"]


@dataclass(frozen=True)
class LandmarkCalibration:
    """Calibration at one landmark: risk groups and the smoothed curve (None with a reason)."""

    time: float
    groups: tuple[RiskGroup, ...]
    smooth: SmoothCalibration | None
    smooth_reason: str | None = None


@dataclass(frozen=True)
class ModelPerformance:
    """Discrimination, calibration, clinical usefulness and internal validation of one model.

    ``evaluation`` is ``"apparent"`` (fitted and evaluated on the same patients) or
    ``"external"`` (fitted on a development cohort, evaluated here); the calibration slope is
    given only for external evaluation (it is 1 by construction otherwise; see ``optimism``).
    """

    name: str
    terms: tuple[str, ...]
    coef: tuple[float, ...]
    n: int
    events: int
    evaluation: str
    landmarks: tuple[float, ...]
    harrell: Concordance
    uno: Concordance | None
    auc: TimeAUC
    auc_curve: TimeAUC
    brier: BrierScore
    calibration: tuple[LandmarkCalibration, ...]
    calibration_slope: CalibrationSlope | None
    decision: tuple[DecisionCurve, ...]
    optimism: OptimismResult | None
    optimism_reason: str | None = None
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (NaN -> null); the AUC curve is kept for figures."""
        out: dict[str, object] = jsonable(
            {
                "schema_version": self.schema_version,
                "name": self.name,
                "terms": self.terms,
                "coef": dict(zip(self.terms, self.coef, strict=True)),
                "n": self.n,
                "events": self.events,
                "evaluation": self.evaluation,
                "landmarks": self.landmarks,
                "harrell_c": self.harrell,
                "uno_c": self.uno,
                "auc": self.auc,
                "auc_curve": self.auc_curve,
                "brier": self.brier,
                "calibration": self.calibration,
                "calibration_slope": self.calibration_slope,
                "decision": self.decision,
                "optimism": self.optimism,
                "optimism_reason": self.optimism_reason,
            }
        )
        return out

    def summary_frame(self) -> pd.DataFrame:
        """One row per landmark: AUC, Brier and IBS with intervals, C indices repeated."""
        rows = []
        ibs = dict(zip(self.brier.ibs_grid, self.brier.ibs, strict=True))
        for a, b in zip(self.auc.points, self.brier.points, strict=True):
            rows.append(
                {
                    "model": self.name,
                    "time": a.time,
                    "harrell_c": self.harrell.c,
                    "harrell_c_lower": self.harrell.lower,
                    "harrell_c_upper": self.harrell.upper,
                    "uno_c": self.uno.c if self.uno else np.nan,
                    "auc": a.auc,
                    "auc_lower": a.lower,
                    "auc_upper": a.upper,
                    "brier": b.brier,
                    "brier_lower": b.lower,
                    "brier_upper": b.upper,
                    "ibs": ibs.get(a.time, np.nan),
                }
            )
        return pd.DataFrame(rows)

    def calibration_frame(self) -> pd.DataFrame:
        """Risk groups at every landmark (observed vs predicted)."""
        rows = [
            {"model": self.name, "time": c.time, **g.__dict__}
            for c in self.calibration
            for g in c.groups
        ]
        return pd.DataFrame(rows)

    def decision_frame(self) -> pd.DataFrame:
        """Net benefit at every landmark and threshold."""
        rows = [
            {"model": self.name, "time": d.time, **p.__dict__}
            for d in self.decision
            for p in d.points
        ]
        return pd.DataFrame(rows)


def _matrix(covariates: pd.DataFrame, n: int) -> np.ndarray:
    X = covariates.to_numpy(dtype=float)
    if X.shape[0] != n or X.shape[1] == 0 or not np.all(np.isfinite(X)):
        raise AnalysisError(
            "covariates must be finite with one row per patient and at least one column "
            "(use complete cases)"
        )
    return X


def assess_model(
    time: ArrayLike,
    event: ArrayLike,
    covariates: pd.DataFrame,
    *,
    landmarks: float | Sequence[float],
    name: str = "model",
    tau: float | None = None,
    coef: Mapping[str, float] | None = None,
    development: tuple[ArrayLike, ArrayLike, pd.DataFrame] | None = None,
    curve_times: ArrayLike | None = None,
    ibs_step: float = 1.0,
    groups: int = 5,
    thresholds: ArrayLike = DEFAULT_THRESHOLDS,
    B: int = 200,
    seed: int = 20240601,
    conf_level: float = 0.95,
) -> ModelPerformance:
    """Evaluate one Cox model: C (Harrell, Uno), AUC(t), Brier/IBS, calibration, net benefit.

    Parameters
    ----------
    time, event, covariates
        Evaluation patients (complete cases); ``covariates`` holds the model's terms.
    landmarks
        Landmark time(s) for AUC, Brier, calibration and decision curves.
    name
        Label of the model.
    tau
        Truncation time of Uno's C (default: the last landmark).
    coef
        Coefficients by term (default: fitted with :func:`ikaros.stats.cox.fit_cox` on the
        development data, or on these patients when there is none).
    development
        ``(time, event, covariates)`` of a development cohort: the model (and its baseline
        hazard) is fitted there and evaluated here ("external" evaluation, with the
        calibration slope). No bootstrap validation then.
    curve_times
        Times of the AUC(t) curve (default: 40 points from the 5th percentile of event times to
        the last landmark). The Brier grid of the IBS is ``ibs_step, 2 ibs_step, ...``.
    groups, thresholds
        Number of risk groups; threshold probabilities of the decision curve.
    B, seed
        Bootstrap replicates and seed of the optimism correction (``B = 0`` skips it).
    conf_level
        Level of all intervals.

    Returns
    -------
    ModelPerformance
    """
    from ikaros.stats.cox import fit_cox

    t, e = as_survival(time, event)
    terms = tuple(str(c) for c in covariates.columns)
    X = _matrix(covariates, t.size)
    marks = as_times(landmarks, "landmarks")
    if marks[-1] >= float(t.max()):
        raise AnalysisError(
            f"the last landmark {marks[-1]:g} is not before the end of follow-up {t.max():g}"
        )
    if development is not None:
        dt, de = as_survival(development[0], development[1])
        dX = _matrix(development[2][list(terms)], dt.size)
    else:
        dt, de, dX = t, e, X
    optimism_reason = None
    if coef is None:
        fit = fit_cox(dt, de, pd.DataFrame(dX, columns=list(terms)), ph_test=False)
        beta = np.array([fit.terms[k].coef for k in terms])
        if fit.method == "firth":
            optimism_reason = "Firth's penalised fit: bootstrap refits would not be comparable"
    else:
        beta = np.array([float(coef[k]) for k in terms])
    lp = X @ beta
    lp_dev = dX @ beta
    z_tau = float(marks[-1]) if tau is None else float(tau)
    harrell = harrell_c(t, e, lp, conf_level=conf_level)
    uno = uno_c(t, e, lp, z_tau, conf_level=conf_level)
    auc = time_dependent_auc(t, e, lp, marks, conf_level=conf_level)
    if curve_times is None:
        start = float(np.quantile(t[e == 1], 0.05))
        curve = np.linspace(max(start, marks[-1] / 40), marks[-1], 40)
    else:
        curve = as_times(curve_times, "curve_times")
    auc_curve = time_dependent_auc(t, e, lp, curve, conf_level=conf_level)
    risk = predict_risk(dt, de, lp_dev, marks, lp_new=lp)
    brier = brier_score(t, e, risk, marks, conf_level=conf_level)
    grid = np.arange(ibs_step, marks[-1] + ibs_step / 2, ibs_step)
    grid = np.unique(np.concatenate([grid, marks]))
    _, ibs = integrated_brier(t, e, predict_risk(dt, de, lp_dev, grid, lp_new=lp), grid)
    keep = np.isin(grid, marks)
    brier = BrierScore(
        points=brier.points,
        conf_level=conf_level,
        n=brier.n,
        ibs_grid=tuple(float(g) for g in grid[keep]),
        ibs=tuple(float(v) for v in ibs[keep]),
    )
    cal = []
    dec = []
    for k, mark in enumerate(marks):
        r = risk[:, k]
        try:
            smooth, why = smooth_calibration(t, e, r, float(mark)), None
        except AnalysisError as exc:
            smooth, why = None, str(exc)
        cal.append(
            LandmarkCalibration(
                float(mark), risk_groups(t, e, r, float(mark), groups=groups), smooth, why
            )
        )
        dec.append(net_benefit(t, e, r, float(mark), thresholds=thresholds))
    slope = None
    optimism = None
    if development is not None:
        slope = calibration_slope(t, e, lp, conf_level=conf_level)
        optimism_reason = "external evaluation: no bootstrap optimism correction"
    elif B > 0 and optimism_reason is None:
        optimism = optimism_bootstrap(t, e, X, B=B, seed=seed, coef=beta)
    elif optimism_reason is None:
        optimism_reason = "not requested (B = 0)"
    return ModelPerformance(
        name=name,
        terms=terms,
        coef=tuple(float(b) for b in beta),
        n=int(t.size),
        events=int(e.sum()),
        evaluation="external" if development is not None else "apparent",
        landmarks=tuple(float(m) for m in marks),
        harrell=harrell,
        uno=uno,
        auc=auc,
        auc_curve=auc_curve,
        brier=brier,
        calibration=tuple(cal),
        calibration_slope=slope,
        decision=tuple(dec),
        optimism=optimism,
        optimism_reason=optimism_reason,
    )
