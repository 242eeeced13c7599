"""Time-dependent AUC (cumulative cases / dynamic controls) with IPCW, as riskRegression::Score.

At a landmark ``t`` the cases are the patients with an event by ``t`` and the controls those
still event-free after ``t``; patients censored before ``t`` are represented by inverse
probability of censoring weights: a case observed at ``T_i`` weighs ``1 / G(T_i-)``, a control
``1 / G(t)``, with ``G`` the Kaplan-Meier estimate of the censoring distribution
(:mod:`ikaros.performance._censoring`). The AUC is the weighted proportion of case-control pairs
in which the case has the higher score (ties count one half):

    AUC(t) = sum_ij W_i W_j [1{r_i > r_j} + 1{r_i = r_j} / 2] / (sum_i W_i sum_j W_j).

Its standard error is the empirical standard deviation of the influence function divided by
``sqrt(n)``, as Score computes it with ``cens.model = "km"`` and ``conservative = FALSE``: the
influence of the two-sample U-statistic with the weights fixed, plus the term from estimating
``G`` (Blanche et al. 2013). The interval is ``AUC +/- z se`` clipped to [0, 1], as Score's.

Why own code: scikit-survival's ``cumulative_dynamic_auc`` has the same point estimate idea but
no standard error, and lifelines has no time-dependent AUC.

References
----------
Heagerty PJ, Lumley T, Pepe MS. Time-dependent ROC curves for censored survival data and a
diagnostic marker. Biometrics 2000;56:337-344.
Blanche P, Dartigues JF, Jacqmin-Gadda H. Estimating and comparing time-dependent areas under
receiver operating characteristic curves for censored event times with competing risks. Stat Med
2013;32:5381-5397.
Gerds TA, Kattan MW. Medical Risk Prediction Models: With Ties to Machine Learning. CRC 2021.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.performance._censoring import CensoringKM
from ikaros.performance._checks import FloatArray, as_score, as_survival, as_times, z_value

__all__ = ["TimeAUC", "TimeAUCPoint", "time_dependent_auc"]


@dataclass(frozen=True)
class TimeAUCPoint:
    """AUC at one landmark; NaN with ``reason`` when there are no cases or no controls."""

    time: float
    auc: float
    se: float
    lower: float
    upper: float
    cases: int
    controls: int
    censored_before: int
    reason: str | None = None


@dataclass(frozen=True)
class TimeAUC:
    """Cumulative/dynamic AUC(t) at each requested time."""

    points: tuple[TimeAUCPoint, ...]
    conf_level: float
    n: int
    weighting: str = "IPCW, Kaplan-Meier censoring"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "conf_level": self.conf_level,
            "n": self.n,
            "weighting": self.weighting,
            "points": [dict(p.__dict__) for p in self.points],
        }

    def to_frame(self) -> object:
        """The points as a pandas DataFrame (one row per time)."""
        import pandas as pd

        return pd.DataFrame([p.__dict__ for p in self.points])


def _auc_at(
    km: CensoringKM, time: FloatArray, event: FloatArray, score: FloatArray, tau: float, z: float
) -> TimeAUCPoint:
    n = time.size
    case = (time <= tau) & (event == 1)
    ctrl = time > tau
    cens_before = int(np.sum((time <= tau) & (event == 0)))
    nan = float("nan")
    if not case.any() or not ctrl.any():
        what = "no patient had an event by" if not case.any() else "no patient was followed past"
        return TimeAUCPoint(
            tau,
            nan,
            nan,
            nan,
            nan,
            int(case.sum()),
            int(ctrl.sum()),
            cens_before,
            f"{what} t = {tau:g}",
        )
    g_tau = float(km.G(np.array([tau]))[0])
    w_case = 1.0 / km.G_minus(time[case])
    w_ctrl = np.full(int(ctrl.sum()), 1.0 / g_tau)
    sc, sk = score[case], score[ctrl]
    theta = (sc[:, None] > sk[None, :]) + 0.5 * (sc[:, None] == sk[None, :])
    a_case = theta @ w_ctrl  # per case: weighted controls it outranks
    b_ctrl = w_case @ theta  # per control: weighted cases that outrank it
    mu_case, mu_ctrl = w_case.sum(), w_ctrl.sum()
    mu = mu_case * mu_ctrl / n**2
    nu = float(w_case @ a_case) / n**2
    auc = nu / mu
    # influence with the weights fixed
    num = np.zeros(n)
    den = np.zeros(n)
    num[case] = w_case * a_case / n
    den[case] = w_case * mu_ctrl / n
    num[ctrl] = w_ctrl * b_ctrl / n
    den[ctrl] = w_ctrl * mu_case / n
    # influence through the Kaplan-Meier estimate of G
    l_case = km.influence(time[case], left=True)
    l_tau = km.influence(np.array([tau]), left=False)[:, 0]
    num = num + (l_case @ (w_case * a_case) + l_tau * float(w_ctrl @ b_ctrl)) / n**2
    den = den + (l_case @ w_case * mu_ctrl + l_tau * mu_ctrl * mu_case) / n**2
    infl = (num * mu - den * nu) / mu**2
    se = float(np.std(infl, ddof=1) / np.sqrt(n))
    return TimeAUCPoint(
        time=tau,
        auc=float(auc),
        se=se,
        lower=float(max(0.0, auc - z * se)),
        upper=float(min(1.0, auc + z * se)),
        cases=int(case.sum()),
        controls=int(ctrl.sum()),
        censored_before=cens_before,
    )


def time_dependent_auc(
    time: ArrayLike,
    event: ArrayLike,
    score: ArrayLike,
    times: float | ArrayLike,
    *,
    conf_level: float = 0.95,
) -> TimeAUC:
    """Cumulative/dynamic AUC(t) with IPCW and its influence-function standard error.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    score
        Risk score (higher = worse). A Cox linear predictor gives the same AUC as the predicted
        risk at ``t``, which is a monotone function of it; a ``(n, len(times))`` array gives one
        score per time.
    times
        Landmark(s), increasing.
    conf_level
        Level of the Wald interval (clipped to [0, 1]).

    Returns
    -------
    TimeAUC
    """
    t, e = as_survival(time, event)
    grid = as_times(times)
    raw = np.asarray(score, dtype=float)
    if raw.ndim == 2:
        if raw.shape != (t.size, grid.size):
            raise AnalysisError(f"score must be ({t.size}, {grid.size}), got {raw.shape}")
        scores = [as_score(raw[:, k], t.size) for k in range(grid.size)]
    else:
        one = as_score(raw, t.size)
        scores = [one] * grid.size
    km = CensoringKM(t, e)
    z = z_value(conf_level)
    ef = e.astype(float)
    points = tuple(_auc_at(km, t, ef, s, float(u), z) for s, u in zip(scores, grid, strict=True))
    return TimeAUC(points=points, conf_level=conf_level, n=int(t.size))
