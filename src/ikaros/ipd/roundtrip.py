"""Round trip with known truth: simulate a trial, digitise its curves, reconstruct, compare.

For each simulated trial (:func:`ikaros.ipd.simulate.simulate_trial`) the digitised points are
cleaned (:func:`ikaros.ipd.digitised.clean_points`) and reconstructed three ways: with the
at-risk table (``"at_risk"``), with the number of patients and total events
(``"total_events"``) and with the number of patients only (``"none"``). Per arm and way the
reconstructed Kaplan-Meier curve is compared with the original patients':

- ``sup``: the largest absolute difference of the two step functions at any time up to the
  earlier of their ends;
- ``sup_n10``: the same over the times with at least 10 patients at risk in the original;
- ``digitised_sup``: the largest absolute difference between the cleaned digitised curve and the
  original (what the digitiser alone loses: the floor of ``sup``);
- ``median_error``: absolute difference of the medians (NaN when either is not reached);

and per trial and way the absolute difference of the Cox log hazard ratios (experimental vs
control) and of the RMST differences at the shorter follow-up.

Used by ``tests/ipd/test_roundtrip.py`` (a reduced run) and ``benchmarks/ipd_roundtrip.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ikaros.ipd.compare import Arm, default_tau, step_values
from ikaros.ipd.digitised import clean_points
from ikaros.ipd.guyot import reconstruct
from ikaros.ipd.rmst import rmst
from ikaros.ipd.simulate import Scenario, SimulatedArm, SimulatedTrial, simulate_trial
from ikaros.stats.cox import fit_cox
from ikaros.stats.km import KMCurve, kaplan_meier

__all__ = ["MODES", "Mode", "TrialResult", "km_distance", "run_roundtrip", "trial_roundtrip"]

Mode = Literal["at_risk", "total_events", "none"]
MODES: tuple[Mode, ...] = ("at_risk", "total_events", "none")
SCENARIOS: tuple[Scenario, ...] = ("ph", "delayed", "crossing")


@dataclass(frozen=True)
class TrialResult:
    """Metrics of one trial: rows per arm x mode and per mode (see the module docstring)."""

    arms: list[dict[str, object]]
    trial: list[dict[str, object]]


def km_distance(
    truth: KMCurve,
    time: NDArray[np.float64],
    surv: NDArray[np.float64],
    *,
    min_at_risk: int = 0,
) -> float:
    """Largest |S_truth(t) - S(t)| up to the earlier end of the two step functions.

    With ``min_at_risk``, only at times where at least that many are at risk in ``truth``.
    """
    end = min(float(truth.time[-1]), float(time[-1]))
    grid = np.union1d(np.concatenate([[0.0], truth.time]), time)
    grid = grid[grid <= end]
    if min_at_risk:
        grid = grid[truth.number_at_risk(grid) >= min_at_risk]
        if grid.size == 0:
            return float("nan")
    a = step_values(truth.time, truth.surv, grid, 1.0)
    return float(np.max(np.abs(a - step_values(time, surv, grid, 1.0))))


def _log_hr(arms: tuple[Arm, Arm]) -> float:
    time = np.concatenate([arms[0][0], arms[1][0]])
    event = np.concatenate([arms[0][1], arms[1][1]])
    group = np.repeat([0.0, 1.0], [arms[0][0].size, arms[1][0].size])
    fit = fit_cox(time, event, pd.DataFrame({"arm": group}), ph_test=False)
    return float(fit.terms["arm"].coef)


def _rmst_diff(arms: tuple[Arm, Arm], tau: float) -> float:
    values = [rmst(kaplan_meier(t, e), tau).estimate for t, e in arms]
    return values[1] - values[0]


def _reconstruct(arm: SimulatedArm, mode: Mode) -> Arm:
    curve = clean_points(arm.digitised_time, arm.digitised_surv)
    if mode == "at_risk":
        rec = reconstruct(curve.time, curve.surv, n_risk=arm.risk_n, risk_time=arm.risk_time)
    elif mode == "total_events":
        rec = reconstruct(curve.time, curve.surv, n_risk=[arm.n], total_events=arm.events)
    else:
        rec = reconstruct(curve.time, curve.surv, n_risk=[arm.n])
    return rec.time, rec.event


def _median(curve: KMCurve) -> float:
    m = curve.median.estimate
    return float("nan") if m is None else m


def trial_roundtrip(trial: SimulatedTrial, index: int = 0) -> TrialResult:
    """Reconstruct one simulated trial every way and measure against its true patients."""
    originals: tuple[Arm, Arm] = (
        (trial.arms[0].time, trial.arms[0].event),
        (trial.arms[1].time, trial.arms[1].event),
    )
    true_km = [kaplan_meier(t, e) for t, e in originals]
    digitised = []
    for arm in trial.arms:
        c = clean_points(arm.digitised_time, arm.digitised_surv)
        digitised.append((c.time, c.surv))
    log_hr = _log_hr(originals)
    arm_rows: list[dict[str, object]] = []
    trial_rows: list[dict[str, object]] = []
    for mode in MODES:
        rebuilt = (_reconstruct(trial.arms[0], mode), _reconstruct(trial.arms[1], mode))
        tau = min(
            default_tau({"a": rebuilt[0], "b": rebuilt[1]}),
            default_tau({"a": originals[0], "b": originals[1]}),
        )
        for k, arm in enumerate(trial.arms):
            km = kaplan_meier(*rebuilt[k])
            arm_rows.append(
                {
                    "trial": index,
                    "scenario": trial.scenario,
                    "mode": mode,
                    "arm": arm.name,
                    "n": arm.n,
                    "points": int(arm.digitised_time.size),
                    "sup": km_distance(true_km[k], km.time, km.surv),
                    "sup_n10": km_distance(true_km[k], km.time, km.surv, min_at_risk=10),
                    "digitised_sup": km_distance(true_km[k], *digitised[k]),
                    "median_error": abs(_median(km) - _median(true_km[k])),
                    "events_error": int(rebuilt[k][1].sum()) - arm.events,
                }
            )
        trial_rows.append(
            {
                "trial": index,
                "scenario": trial.scenario,
                "mode": mode,
                "log_hr": log_hr,
                "log_hr_error": abs(_log_hr(rebuilt) - log_hr),
                "rmst_diff_error": abs(_rmst_diff(rebuilt, tau) - _rmst_diff(originals, tau)),
            }
        )
    return TrialResult(arm_rows, trial_rows)


def run_roundtrip(
    n_trials: int, *, seed: int, noise: float = 0.002
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate ``n_trials`` two-arm trials and run the round trip on each.

    Trials cycle through the scenarios ``ph``, ``delayed`` and ``crossing``; each arm has
    100-400 patients and 100-300 digitised points; the hazard ratio is uniform on 0.5-1.0.

    Returns
    -------
    tuple of DataFrame
        One row per trial x mode x arm, and one row per trial x mode.
    """
    rng = np.random.default_rng(seed)
    arms: list[dict[str, object]] = []
    trials: list[dict[str, object]] = []
    for i in range(n_trials):
        sizes = rng.integers(100, 401, 2)
        points = rng.integers(100, 301, 2)
        trial = simulate_trial(
            rng,
            n_per_arm=(int(sizes[0]), int(sizes[1])),
            scenario=SCENARIOS[i % len(SCENARIOS)],
            hazard_ratio=float(rng.uniform(0.5, 1.0)),
            n_points=(int(points[0]), int(points[1])),
            noise=noise,
        )
        result = trial_roundtrip(trial, i)
        arms += result.arms
        trials += result.trial
    return pd.DataFrame(arms), pd.DataFrame(trials)
