"""Generator of the simulated myeloma maintenance cohort (SPM competing with death).

Discrete-time simulation on a fine grid (``dt`` months): in every step each patient still under
observation can have at most one of progression, a toxicity stop of maintenance, an SPM or
death, drawn from the step's total hazard and split in proportion to the cause-specific
hazards (the usual construction of competing events; exact as ``dt`` -> 0). The SPM hazard
depends on the cumulative lenalidomide exposure at the start of the step,

    h_SPM(t) = h0 * exp(beta * E(t) / 12),   E(t) = months of lenalidomide before t,

so ``beta`` is the true log hazard ratio per year of cumulative exposure. Baseline covariates
(:func:`draw_covariates`, from their own random stream) can act on the hazards: ``age`` at
diagnosis multiplies every death hazard by ``exp(gamma * (age - age_mean) / 10)`` and ``arm`` B
multiplies the SPM hazard by ``exp(delta)``. With ``gamma = delta = 0`` (the defaults) the event
table is the same as without covariates. Parameters and their sources are in
``docs/course_demo.md``.

References
----------
Beyersmann J, Latouche A, Buchholz A, Schumacher M. Simulating competing risks data in survival
analysis. Stat Med 2009;28:956-971.
Palumbo A, et al. Lancet Oncol 2014;15:333-342.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ARMS", "MaintenanceParameters", "draw_covariates", "simulate_maintenance_events"]

#: Levels of the simulated ``arm`` covariate (reference first).
ARMS: tuple[str, str] = ("A", "B")


@dataclass(frozen=True)
class MaintenanceParameters:
    """Parameters of the simulated maintenance cohort (months, hazards per month).

    Attributes
    ----------
    n : int
        Patients (assumption: 300).
    p_len_induction : float
        Lenalidomide-containing induction (e.g. VRd), 3-4.5 months from week 1 (assumption).
    p_asct : float
        Autologous HCT after induction (assumption).
    p_maintenance : float
        Lenalidomide maintenance 2-4 months after ASCT or induction (assumption).
    h_prog_before, h_prog_on, h_prog_off : float
        Progression hazard before maintenance (or, without maintenance, until 3 months after
        ASCT or induction), on maintenance (median PFS about 50 months, McCarthy 2017) and off
        it. Progression stops lenalidomide for good.
    h_tox : float
        Hazard of stopping maintenance for toxicity.
    h_death, h_death_progressed, h_death_spm : float
        Death hazard, and its increments after progression and after an SPM.
    h_spm0 : float
        SPM hazard without exposure. Calibrated: cumulative incidence about 6 % at 5 years with
        death competing (Palumbo 2014 report about 7 % at 5 years with lenalidomide plus oral
        melphalan, 3 % with lenalidomide plus cyclophosphamide or dexamethasone).
    spm_log_hr_per_year : float
        True log hazard ratio of the SPM per year of cumulative exposure (assumption:
        log 1.25).
    spm_types : tuple of (str, float)
        SPM type and probability (assumption; B-ALL is rare).
    followup : (float, float)
        Uniform administrative follow-up from diagnosis.
    dt : float
        Grid step of the simulation.
    age_mean, age_sd, age_range : float, float, (float, float)
        Age at diagnosis (years): normal, truncated to the range by redrawing (assumption: 65,
        8, 40-85).
    p_arm_b : float
        Probability of arm B (assumption: 0.5, a 1:1 randomisation).
    death_log_hr_per_10y_age : float
        True log hazard ratio of death (every death hazard) per 10 years of age (default 0: no
        effect; the demo uses log 2.5).
    spm_log_hr_arm_b : float
        True log hazard ratio of the SPM in arm B against arm A (default 0; the demo uses
        log 2).
    """

    n: int = 300
    p_len_induction: float = 0.7
    p_asct: float = 0.8
    p_maintenance: float = 0.9
    h_prog_before: float = 0.004
    h_prog_on: float = 0.0139
    h_prog_off: float = 0.025
    h_tox: float = 0.006
    h_death: float = 0.0015
    h_death_progressed: float = 0.02
    h_death_spm: float = 0.015
    h_spm0: float = 0.00085
    spm_log_hr_per_year: float = float(np.log(1.25))
    spm_types: tuple[tuple[str, float], ...] = (
        ("solid tumour", 0.45),
        ("non-melanoma skin cancer", 0.2),
        ("MDS/AML", 0.25),
        ("B-ALL", 0.1),
    )
    followup: tuple[float, float] = (36.0, 120.0)
    dt: float = 0.1
    age_mean: float = 65.0
    age_sd: float = 8.0
    age_range: tuple[float, float] = (40.0, 85.0)
    p_arm_b: float = 0.5
    death_log_hr_per_10y_age: float = 0.0
    spm_log_hr_arm_b: float = 0.0


_BEST_RESPONSE = (("sCR", 0.1), ("CR", 0.25), ("VGPR", 0.35), ("PR", 0.25), ("SD", 0.05))


def patient_ids(n: int) -> list[str]:
    """Identifiers of the simulated patients, ``MM-001`` and so on."""
    return [f"MM-{i + 1:03d}" for i in range(n)]


def draw_covariates(rng: np.random.Generator, prm: MaintenanceParameters) -> pd.DataFrame:
    """Baseline covariates: ``patient_id``, ``age`` (years, 1 decimal), ``arm`` (A or B)."""
    lo, hi = prm.age_range
    age = rng.normal(prm.age_mean, prm.age_sd, prm.n)
    while ((age < lo) | (age > hi)).any():
        bad = (age < lo) | (age > hi)
        age[bad] = rng.normal(prm.age_mean, prm.age_sd, int(bad.sum()))
    arm = np.where(rng.random(prm.n) < prm.p_arm_b, ARMS[1], ARMS[0])
    return pd.DataFrame({"patient_id": patient_ids(prm.n), "age": np.round(age, 1), "arm": arm})


def _multipliers(
    prm: MaintenanceParameters, covariates: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient multipliers of the death and the SPM hazards."""
    if covariates is None:
        return np.ones(prm.n), np.ones(prm.n)
    age = covariates["age"].to_numpy(dtype=float)
    death = np.exp(prm.death_log_hr_per_10y_age * (age - prm.age_mean) / 10.0)
    spm = np.exp(prm.spm_log_hr_arm_b * (covariates["arm"].to_numpy() == ARMS[1]))
    return death, spm


def simulate_maintenance_events(
    rng: np.random.Generator,
    prm: MaintenanceParameters,
    covariates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Long event table (``patient_id``, ``event``, ``month``, ``detail``) of the cohort.

    ``covariates`` (from :func:`draw_covariates`, in patient order) scale the death and SPM
    hazards as described in the module documentation.
    """
    n = prm.n
    m_death, m_spm = _multipliers(prm, covariates)
    nan = np.full(n, np.nan)
    len_ind = rng.random(n) < prm.p_len_induction
    ind_start = rng.uniform(0.2, 1.0, n)
    ind_stop = ind_start + rng.uniform(3.0, 4.5, n)
    asct = np.where(rng.random(n) < prm.p_asct, ind_stop + rng.uniform(1.0, 2.5, n), nan)
    maint = np.where(
        rng.random(n) < prm.p_maintenance,
        np.where(np.isnan(asct), ind_stop, asct) + rng.uniform(2.0, 4.0, n),
        nan,
    )
    # start of the post-transplant phase: maintenance, or 3 months after ASCT/induction without
    phase2 = np.where(np.isnan(maint), np.where(np.isnan(asct), ind_stop, asct) + 3.0, maint)
    ind_a = np.where(len_ind, ind_start, np.nan)
    ind_b = np.where(len_ind, ind_stop, np.nan)
    cut = rng.uniform(*prm.followup, n)
    trunc = np.full(n, np.inf)  # lenalidomide stopped for good
    prog, spm, death = nan.copy(), nan.copy(), nan.copy()
    spm_kind = np.full(n, "", dtype=object)
    beta = prm.spm_log_hr_per_year / 12.0
    steps = int(np.ceil(cut.max() / prm.dt))
    for k in range(steps):
        t = k * prm.dt
        active = np.isnan(death) & (t < cut)
        if not active.any():
            break
        exposure = np.nan_to_num(np.clip(np.minimum(np.minimum(t, ind_b), trunc) - ind_a, 0, None))
        exposure += np.nan_to_num(np.clip(np.minimum(t, trunc) - maint, 0, None))
        on_maint = (maint <= t) & (t < trunc)
        progressed = ~np.isnan(prog)
        h_prog = np.where(
            progressed,
            0.0,
            np.where(
                on_maint, prm.h_prog_on, np.where(phase2 <= t, prm.h_prog_off, prm.h_prog_before)
            ),
        )
        h_tox = np.where(on_maint, prm.h_tox, 0.0)
        h_spm = np.where(np.isnan(spm), prm.h_spm0 * np.exp(beta * exposure), 0.0) * m_spm
        h_death = (
            prm.h_death + prm.h_death_progressed * progressed + prm.h_death_spm * ~np.isnan(spm)
        ) * m_death
        hazards = np.stack([h_prog, h_tox, h_spm, h_death])
        total = hazards.sum(axis=0)
        hit = active & (rng.random(n) < -np.expm1(-total * prm.dt))
        u = rng.random(n)
        when = t + prm.dt * rng.random(n)
        if not hit.any():
            continue
        cause = (np.cumsum(hazards / total, axis=0) < u).sum(axis=0)
        for j in np.flatnonzero(hit):
            tj = float(min(when[j], cut[j]))
            if cause[j] == 0:
                prog[j] = tj
                trunc[j] = min(trunc[j], tj)
            elif cause[j] == 1:
                trunc[j] = min(trunc[j], tj)
            elif cause[j] == 2:
                spm[j] = tj
                trunc[j] = min(trunc[j], tj)
                spm_kind[j] = _draw(rng, prm.spm_types)
            else:
                death[j] = tj
    rows: list[tuple[str, str, float, str | None]] = []
    for i, pid in enumerate(patient_ids(n)):
        end = death[i] if not np.isnan(death[i]) else cut[i]
        events: list[tuple[str, float, str | None]] = [("diagnosis", 0.0, None)]
        for a, b in ((ind_a[i], ind_b[i]), (maint[i], np.inf)):
            if np.isnan(a) or a >= min(trunc[i], end):
                continue
            stop = min(b, trunc[i])
            if round(stop, 2) <= round(a, 2):
                continue
            events.append(("len_start", a, None))
            if stop < end:
                events.append(("len_stop", stop, None))
        if not np.isnan(asct[i]) and asct[i] < end:
            events.append(("hct_auto", asct[i], None))
        resp_t = ind_stop[i] + 0.5
        if resp_t < end:
            code = _draw(rng, _BEST_RESPONSE)
            if not spm[i] <= resp_t:  # the myeloma response precedes any SPM
                events.append(("response", resp_t, code))
        if not np.isnan(prog[i]):
            events.append(("progression", prog[i], None))
        if not np.isnan(spm[i]):
            events.append(("spm", spm[i], str(spm_kind[i])))
        events.append(
            ("death", end, None) if not np.isnan(death[i]) else ("last_followup", end, None)
        )
        rows += [(pid, e, round(float(t), 2), d) for e, t, d in events]
    return pd.DataFrame(rows, columns=["patient_id", "event", "month", "detail"])


def _draw(rng: np.random.Generator, table: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in table]
    p = np.asarray([w for _, w in table], dtype=float)
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])
