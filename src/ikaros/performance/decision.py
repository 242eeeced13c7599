"""Decision curve analysis at a landmark: net benefit of treating by predicted risk.

For a threshold probability ``p`` the patients with predicted risk ``>= p`` are "treated". With
``P`` the proportion treated and ``R`` the Kaplan-Meier risk ``1 - KM(t)`` among them, the net
benefit of the model is (Vickers et al. 2008, survival extension)

    NB(p) = R P - (1 - R) P p / (1 - p)

(0 when nobody is treated); "treat all" uses the whole cohort's ``1 - KM(t)`` with ``P = 1``,
"treat none" is 0. Kaplan-Meier in the treated group accounts for censoring; when that group's
follow-up ends before ``t`` the net benefit is NaN with a reason.

References
----------
Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction models.
Med Decis Making 2006;26:565-574.
Vickers AJ, Cronin AM, Elkin EB, Gonen M. Extensions to decision curve analysis, a novel method
for evaluating diagnostic tests, prediction models and molecular markers. BMC Med Inform Decis
Mak 2008;8:53.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.performance._checks import as_score, as_survival
from ikaros.performance.calibration import km_risk_at

__all__ = ["DecisionCurve", "DecisionPoint", "net_benefit"]

#: Threshold probabilities 1%, 2%, ..., 60%.
DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.01 * k, 2) for k in range(1, 61))


@dataclass(frozen=True)
class DecisionPoint:
    """Net benefit of the model and of treating everyone at one threshold."""

    threshold: float
    treated: int
    net_benefit: float
    treat_all: float
    reason: str | None = None


@dataclass(frozen=True)
class DecisionCurve:
    """Net benefit over threshold probabilities at landmark ``time``."""

    time: float
    n: int
    points: tuple[DecisionPoint, ...]
    method: str = "Kaplan-Meier net benefit (Vickers et al. 2008)"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "time": self.time,
            "n": self.n,
            "method": self.method,
            "points": [dict(p.__dict__) for p in self.points],
        }


def net_benefit(
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    t: float,
    *,
    thresholds: ArrayLike = DEFAULT_THRESHOLDS,
) -> DecisionCurve:
    """Net benefit of treating patients whose predicted risk by ``t`` is at least a threshold.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    risk
        Predicted risk of an event by ``t``.
    t
        Landmark.
    thresholds
        Threshold probabilities in (0, 1).

    Returns
    -------
    DecisionCurve
    """
    tt, e = as_survival(time, event)
    r = as_score(risk, tt.size, "risk")
    ps = np.asarray(thresholds, dtype=float).ravel()
    if ps.size == 0 or np.any((ps <= 0) | (ps >= 1)):
        raise AnalysisError("threshold probabilities must lie strictly between 0 and 1")
    ef = e.astype(float)
    n = tt.size
    if float(tt.max()) < t:
        raise AnalysisError(f"follow-up ends at {tt.max():g}, before the landmark {t:g}")
    all_risk = km_risk_at(tt, ef, t)[0]
    points = []
    for p in ps:
        odds = p / (1.0 - p)
        treat_all = all_risk - (1.0 - all_risk) * odds
        pos = r >= p
        if not pos.any():
            points.append(DecisionPoint(float(p), 0, 0.0, float(treat_all)))
            continue
        share = pos.sum() / n
        rk = km_risk_at(tt[pos], ef[pos], t)[0]
        if not np.isfinite(rk):
            points.append(
                DecisionPoint(
                    float(p),
                    int(pos.sum()),
                    float("nan"),
                    float(treat_all),
                    "follow-up of the treated group ends before the landmark",
                )
            )
            continue
        nb = rk * share - (1.0 - rk) * share * odds
        points.append(DecisionPoint(float(p), int(pos.sum()), float(nb), float(treat_all)))
    return DecisionCurve(time=float(t), n=int(n), points=tuple(points))
