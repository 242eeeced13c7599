"""Seeded two-arm and multi-cohort survival data with known prognostic and predictive effects.

Times follow a Cox model with a Weibull baseline hazard, drawn by inversion (Bender, Augustin &
Blettner 2005), with uniform accrual, an administrative data cut and exponential loss to
follow-up. The marker is standard normal (on the analysis scale) and independent of the arm::

    log h(t | m, a) = log h0(t) + beta_m * m + beta_a * a + gamma * m * a

``beta_m`` is the *prognostic* effect (log HR per SD in the reference arm), ``gamma`` the
*predictive* effect (how much the log HR per SD changes in the active arm), ``beta_a`` the
treatment effect at ``m = 0``. Named scenarios: ``"prognostic"`` (``gamma = 0``),
``"predictive"`` (``beta_m = 0``), ``"both"``, ``"null"``.

Multi-cohort data draw a true marker log HR per cohort, ``theta_c ~ N(mu, tau^2)`` (between-cohort
heterogeneity ``tau``), and optionally a cohort-level treatment (e.g. lenalidomide or not) that
adds ``gamma`` to the marker effect of the treated cohorts; the truth is returned beside the data.

References
----------
Bender R, Augustin T, Blettner M. Generating survival times to simulate Cox proportional hazards
models. Stat Med 2005;24:1713-1723.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "SCENARIOS",
    "MultiCohortTruth",
    "TwoArmDesign",
    "simulate_multicohort",
    "simulate_two_arm",
]


@dataclass(frozen=True)
class TwoArmDesign:
    """Parameters of a simulated two-arm cohort (times in months).

    The baseline survival at 36 months is ``baseline_s36`` (Weibull shape ``shape``); accrual is
    uniform over ``accrual`` months, the data cut is at ``data_cut`` months after the first
    patient, and loss to follow-up is exponential with rate ``loss_rate`` per month.
    """

    n: int = 300
    p_active: float = 0.5
    beta_marker: float = 0.0
    beta_treatment: float = float(np.log(0.7))
    gamma: float = 0.0
    baseline_s36: float = 0.55
    shape: float = 1.2
    accrual: float = 36.0
    data_cut: float = 96.0
    loss_rate: float = 0.005


#: Named scenarios: (beta_marker, gamma), log HR per marker SD.
SCENARIOS: dict[str, tuple[float, float]] = {
    "null": (0.0, 0.0),
    "prognostic": (float(np.log(1.5)), 0.0),
    "predictive": (0.0, float(np.log(0.6))),
    "both": (float(np.log(1.5)), float(np.log(0.6))),
}


def _times(
    rng: np.random.Generator, lp: np.ndarray, design: TwoArmDesign
) -> tuple[np.ndarray, np.ndarray]:
    n = lp.size
    lam = -np.log(design.baseline_s36) / 36.0**design.shape
    u = rng.random(n)
    t_event = (-np.log(u) / (lam * np.exp(lp))) ** (1.0 / design.shape)
    entry = rng.uniform(0.0, design.accrual, n)
    loss = rng.exponential(1.0 / design.loss_rate, n) if design.loss_rate > 0 else np.inf
    censor = np.minimum(design.data_cut - entry, loss)
    time = np.maximum(np.round(np.minimum(t_event, censor), 2), 0.01)
    return time, (t_event <= censor).astype(int)


def simulate_two_arm(
    seed: int,
    design: TwoArmDesign | None = None,
    *,
    scenario: str | None = None,
    arms: tuple[str, str] = ("control", "active"),
) -> pd.DataFrame:
    """One two-arm cohort: ``patient_id, time, event, marker, treatment``.

    Parameters
    ----------
    seed
        Seed of :func:`numpy.random.default_rng`; same seed and design, same data.
    design
        Parameters (default :class:`TwoArmDesign`).
    scenario
        If given, a name in :data:`SCENARIOS` that sets ``beta_marker`` and ``gamma``.
    arms
        Labels of the reference and active arms.

    Returns
    -------
    pandas.DataFrame
    """
    d = design or TwoArmDesign()
    if scenario is not None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose from {sorted(SCENARIOS)}")
        bm, g = SCENARIOS[scenario]
        d = TwoArmDesign(**{**d.__dict__, "beta_marker": bm, "gamma": g})
    rng = np.random.default_rng(seed)
    marker = rng.standard_normal(d.n)
    active = (rng.random(d.n) < d.p_active).astype(int)
    lp = d.beta_marker * marker + d.beta_treatment * active + d.gamma * marker * active
    time, event = _times(rng, lp, d)
    return pd.DataFrame(
        {
            "patient_id": [f"SIM-{i:04d}" for i in range(1, d.n + 1)],
            "time": time,
            "event": event,
            "marker": np.round(marker, 6),
            "treatment": np.where(active == 1, arms[1], arms[0]).astype(object),
        }
    )


@dataclass(frozen=True)
class MultiCohortTruth:
    """The true per-cohort marker log HRs and the parameters they were drawn from."""

    cohorts: tuple[str, ...]
    theta: tuple[float, ...]
    treated: tuple[bool, ...]
    mu: float
    tau: float
    gamma: float


def simulate_multicohort(
    seed: int,
    *,
    n: Sequence[int] = (250, 200, 300, 150),
    mu: float = float(np.log(1.4)),
    tau: float = 0.15,
    treated: Sequence[bool] | None = None,
    gamma: float = 0.0,
    beta_treatment: float = float(np.log(0.7)),
    design: TwoArmDesign | None = None,
) -> tuple[pd.DataFrame, MultiCohortTruth]:
    """Several cohorts with a heterogeneous marker effect: ``cohort, patient_id, time, ...``.

    Parameters
    ----------
    seed
        Seed; same arguments, same data and truth.
    n
        Patients per cohort (the number of cohorts is ``len(n)``).
    mu, tau
        Mean and between-cohort SD of the marker log HR per SD (in untreated cohorts).
    treated
        Per cohort, whether its protocol contains the treatment (default: none).
    gamma
        Added to the marker log HR in treated cohorts (a predictive effect).
    beta_treatment
        Log HR of the treated cohorts' protocol at marker 0.
    design
        Baseline hazard, accrual and censoring (``n`` and effects are overridden).

    Returns
    -------
    (pandas.DataFrame, MultiCohortTruth)
        One row per patient with ``cohort, patient_id, time, event, marker, treatment``.
    """
    d = design or TwoArmDesign()
    k = len(n)
    trt = tuple(bool(v) for v in (treated if treated is not None else [False] * k))
    if len(trt) != k:
        raise ValueError("treated needs one value per cohort")
    rng = np.random.default_rng(seed)
    theta = mu + tau * rng.standard_normal(k)
    names = tuple(f"C{i + 1}" for i in range(k))
    frames = []
    for i in range(k):
        m = rng.standard_normal(n[i])
        effect = theta[i] + (gamma if trt[i] else 0.0)
        lp = effect * m + (beta_treatment if trt[i] else 0.0)
        time, event = _times(rng, lp, d)
        frames.append(
            pd.DataFrame(
                {
                    "cohort": names[i],
                    "patient_id": [f"{names[i]}-{j:04d}" for j in range(1, n[i] + 1)],
                    "time": time,
                    "event": event,
                    "marker": np.round(m, 6),
                    "treatment": "treated" if trt[i] else "untreated",
                }
            )
        )
    truth = MultiCohortTruth(
        names, tuple(float(v) for v in theta), trt, float(mu), float(tau), float(gamma)
    )
    return pd.concat(frames, ignore_index=True), truth
