"""Prognostic performance of Cox models, as reviewers ask for it (TRIPOD / REMARK).

One module per method family, each checked against R (tests/reference/performance):

- :mod:`~ikaros.performance.concordance`: Harrell's and Uno's C with IJ standard errors
  (survival::concordance), change in C between models.
- :mod:`~ikaros.performance.timeauc`: cumulative/dynamic AUC(t) with IPCW and influence-function
  standard errors (riskRegression::Score).
- :mod:`~ikaros.performance.brier`: Brier score and integrated Brier score (Score).
- :mod:`~ikaros.performance.calibration`: risk groups, calibration slope, smoothed curve.
- :mod:`~ikaros.performance.decision`: net benefit (decision curves).
- :mod:`~ikaros.performance.added_value`: LR test of nested models, change in C.
- :mod:`~ikaros.performance.validation`: bootstrap optimism correction (rms::validate).
- :mod:`~ikaros.performance.assess`: all of the above for one model.
"""

from ikaros.performance._result import SCHEMA_VERSION
from ikaros.performance.added_value import AddedValue, added_value
from ikaros.performance.assess import LandmarkCalibration, ModelPerformance, assess_model
from ikaros.performance.brier import BrierScore, brier_score, integrated_brier
from ikaros.performance.calibration import (
    CalibrationSlope,
    RiskGroup,
    SmoothCalibration,
    calibration_slope,
    risk_groups,
    smooth_calibration,
)
from ikaros.performance.concordance import (
    Concordance,
    ConcordanceDifference,
    concordance_difference,
    harrell_c,
    uno_c,
)
from ikaros.performance.decision import DecisionCurve, net_benefit
from ikaros.performance.timeauc import TimeAUC, time_dependent_auc
from ikaros.performance.validation import OptimismResult, optimism_bootstrap

__all__ = [
    "SCHEMA_VERSION",
    "AddedValue",
    "BrierScore",
    "CalibrationSlope",
    "Concordance",
    "ConcordanceDifference",
    "DecisionCurve",
    "LandmarkCalibration",
    "ModelPerformance",
    "OptimismResult",
    "RiskGroup",
    "SmoothCalibration",
    "TimeAUC",
    "added_value",
    "assess_model",
    "brier_score",
    "calibration_slope",
    "concordance_difference",
    "harrell_c",
    "integrated_brier",
    "net_benefit",
    "optimism_bootstrap",
    "risk_groups",
    "smooth_calibration",
    "time_dependent_auc",
    "uno_c",
]
