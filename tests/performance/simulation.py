"""Simulation with known truth for the time-dependent AUC (shared by a test and a benchmark).

Model: ``x ~ N(0, 1)``, event time exponential with hazard ``0.02 exp(0.8 x)`` (per month),
independent censoring uniform on (0, 120). The score is the true linear predictor ``x``, so the
true cumulative/dynamic AUC(t) is

    AUC(t) = P(x_1 > x_2 | T_1 <= t < T_2)
           = int int 1{x1 > x2} F(t|x1) S(t|x2) phi(x1) phi(x2) / [P(T <= t) P(T > t)],

computed here by quadrature on a fine grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ikaros.performance import time_dependent_auc

RATE = 0.02
BETA = 0.8
CENSOR_MAX = 120.0
TIMES = (12.0, 36.0, 60.0)


def true_auc(t: float) -> float:
    """AUC(t) of the score x under the simulation model, by quadrature."""
    x = np.linspace(-8.0, 8.0, 8001)
    dx = x[1] - x[0]
    phi = np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi) * dx
    F = 1.0 - np.exp(-RATE * t * np.exp(BETA * x))
    S = 1.0 - F
    a = F * phi  # cases' density
    b = S * phi  # controls' density
    below = np.cumsum(b) - b  # controls with x2 < x1
    num = float(np.sum(a * (below + b / 2)))
    return num / (float(a.sum()) * float(b.sum()))


@dataclass(frozen=True)
class Coverage:
    reps: int
    n: int
    truth: dict[float, float]
    coverage: dict[float, float]
    bias: dict[float, float]
    mean_se: dict[float, float]
    sd_auc: dict[float, float]


def auc_coverage(reps: int, n: int, seed: int) -> Coverage:
    """Coverage of the 95% CI of AUC(t) at TIMES over ``reps`` simulated data sets."""
    rng = np.random.default_rng(seed)
    truth = {t: true_auc(t) for t in TIMES}
    est = np.empty((reps, len(TIMES)))
    se = np.empty_like(est)
    hit = np.empty_like(est, dtype=bool)
    for r in range(reps):
        x = rng.normal(size=n)
        t_event = rng.exponential(1.0 / (RATE * np.exp(BETA * x)))
        t_cens = rng.uniform(0.0, CENSOR_MAX, size=n)
        time = np.minimum(t_event, t_cens)
        event = (t_event <= t_cens).astype(int)
        res = time_dependent_auc(time, event, x, TIMES)
        for k, p in enumerate(res.points):
            est[r, k], se[r, k] = p.auc, p.se
            hit[r, k] = p.lower <= truth[TIMES[k]] <= p.upper
    return Coverage(
        reps=reps,
        n=n,
        truth=truth,
        coverage={t: float(hit[:, k].mean()) for k, t in enumerate(TIMES)},
        bias={t: float(est[:, k].mean() - truth[t]) for k, t in enumerate(TIMES)},
        mean_se={t: float(se[:, k].mean()) for k, t in enumerate(TIMES)},
        sd_auc={t: float(est[:, k].std(ddof=1)) for k, t in enumerate(TIMES)},
    )
