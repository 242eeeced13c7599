"""Seeded simulated treatment-course cohorts with known truth (no patient data).

Two generators, documented parameter by parameter in ``docs/course_demo.md``:

* :func:`simulate_ball_cohort`: 32 patients who develop B-ALL after lenalidomide maintenance for
  myeloma, shaped like the case series of Geyer et al. (2023): time from first lenalidomide to
  B-ALL, cumulative exposure, regression after withdrawal in 5, 28 treated with 25 CR/CRi,
  allogeneic HCT, EFS, and a mutations table (TP53 9/19 evaluable, low hypodiploidy 8/26, one
  BCR::ABL1 fusion; the genes and karyotypes not evaluated are ``not_evaluated`` rows).
* :func:`simulate_maintenance_cohort`: a myeloma maintenance cohort (default 300 patients) in
  which SPM competes with death; the SPM hazard rises with cumulative lenalidomide exposure
  (known log hazard ratio), for time-varying Cox and competing-risk analyses.

Both return long event tables in the ``month`` convention of :mod:`ikaros.course.table`
(months since diagnosis, 2 decimals) that pass its validation. Same seed and parameters give
identical tables (``numpy.random.default_rng(seed)``, a fixed order of draws).

References
----------
Geyer MB, et al. Lenalidomide-associated B-cell ALL: clinical and pathologic correlates and
sensitivity to lenalidomide withdrawal. Blood Adv 2023;7:3087-3098.
McCarthy PL, et al. Lenalidomide maintenance after autologous stem-cell transplantation in newly
diagnosed multiple myeloma: a meta-analysis. J Clin Oncol 2017;35:3279-3289.
Palumbo A, et al. Second primary malignancies with lenalidomide therapy for newly diagnosed
myeloma: a meta-analysis of individual patient data. Lancet Oncol 2014;15:333-342.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ikaros.course._maintenance import (
    ARMS,
    MaintenanceParameters,
    draw_covariates,
    simulate_maintenance_events,
)

__all__ = [
    "ARMS",
    "BALL_SEED",
    "MAINTENANCE_DEMO_PARAMETERS",
    "MAINTENANCE_SEED",
    "BallParameters",
    "MaintenanceParameters",
    "SimulatedCourse",
    "simulate_ball_cohort",
    "simulate_maintenance_cohort",
]

#: Seed of the demo B-ALL cohort, selected from seeds 0..199 (see docs/course_demo.md).
BALL_SEED: int = 68
#: Seed of the demo maintenance cohort.
MAINTENANCE_SEED: int = 2033
#: Parameters of the demo maintenance cohort: age raises the death hazard (HR 2.5 per 10 years),
#: arm B raises the SPM hazard (HR 2); see docs/course_demo.md.
MAINTENANCE_DEMO_PARAMETERS = MaintenanceParameters(
    death_log_hr_per_10y_age=float(np.log(2.5)), spm_log_hr_arm_b=float(np.log(2.0))
)


@dataclass(frozen=True)
class SimulatedCourse:
    """A simulated cohort: the long event table, the mutations table and the parameters.

    ``covariates`` holds baseline covariates (``patient_id``, ``age``, ``arm``), if any.
    """

    events: pd.DataFrame
    mutations: pd.DataFrame | None
    seed: int
    description: str
    covariates: pd.DataFrame | None = None


@dataclass(frozen=True)
class BallParameters:
    """Parameters of the simulated lenalidomide-associated B-ALL case series (months).

    "Published" = Geyer et al. 2023; "assumption" = chosen by us, clinically plausible;
    "calibrated" = tuned by Monte Carlo so that the figures come near the published ones.

    Attributes
    ----------
    n : int
        Patients (published: 32).
    len_to_spm_knots : tuple of (float, float)
        Piecewise-linear quantile function (probability, months) of the time from first
        lenalidomide to B-ALL, sampled by stratified (Latin hypercube) draws. Median 54, range
        5-119 published; the quartiles are assumptions.
    gap_gamma : (float, float)
        Gamma(shape, scale) months of that time spent off lenalidomide (ASCT break, holds,
        stopping before B-ALL), leaving at least 2 months of exposure. Calibrated: mean 13
        months gives a median cumulative exposure near the published 42 months.
    p_induction : float
        Probability that lenalidomide was part of induction (else first exposure is
        maintenance after ASCT). Assumption.
    p_off_at_spm : float
        Probability that the remaining off-time is a stop before B-ALL rather than a hold.
    n_regression : int
        B-ALL-like populations regressing after lenalidomide withdrawal (published: 5); of
        these ``n_regression_progressing`` progress to overt B-ALL (assumption: 2, as patient #9).
    n_untreated, n_cr : int
        Patients not treated for B-ALL (32 - 28 published) and CR/CRi among the 28 treated
        (25 published). Regression patients who never progress count as untreated.
    p_allo : float
        Probability of allogeneic HCT in CR (assumption, calibrated with the relapse model).
    cure_no_allo, cure_allo : float
        Cured fractions after CR without and with allogeneic HCT (calibrated: median EFS of the
        treated near 35.4 months, not reached after HCT).
    relapse_median_no_allo, relapse_median_allo : float
        Median relapse time of the non-cured, from CR or from HCT.
    p_trm : float
        Non-relapse death after allogeneic HCT.
    followup : (float, float)
        Uniform follow-up from B-ALL to the data cut (assumption).
    tp53_evaluable, tp53_mutated, karyotype_evaluable, hypodiploid : int
        Published 19, 9, 26, 8. The panel genes (TP53 and ``other_genes``) of the other 13
        patients and the karyotype of the other 6 are written as ``not_evaluated`` rows.
    """

    n: int = 32
    len_to_spm_knots: tuple[tuple[float, float], ...] = (
        (0.0, 2.5), (0.1, 20.0), (0.25, 38.0), (0.5, 54.0), (0.75, 72.0), (0.9, 92.0),
        (1.0, 124.0),
    )  # fmt: skip
    gap_gamma: tuple[float, float] = (2.0, 6.5)
    p_induction: float = 0.6
    p_off_at_spm: float = 0.25
    n_regression: int = 5
    n_regression_progressing: int = 2
    n_untreated: int = 4
    n_cr: int = 25
    p_cri: float = 0.3
    p_allo: float = 0.55
    cure_no_allo: float = 0.4
    cure_allo: float = 0.75
    relapse_median_no_allo: float = 18.0
    relapse_median_allo: float = 8.0
    p_trm: float = 0.1
    p_death_after_relapse: float = 0.8
    death_after_relapse_median: float = 6.0
    followup: tuple[float, float] = (12.0, 84.0)
    tp53_evaluable: int = 19
    tp53_mutated: int = 9
    karyotype_evaluable: int = 26
    hypodiploid: int = 8
    other_genes: tuple[tuple[str, str, float], ...] = field(
        default=(
            ("IKZF1", "deletion", 0.15),
            ("CDKN2A", "deletion", 0.2),
            ("NRAS", "missense", 0.1),
        )
    )


def _quantile(knots: tuple[tuple[float, float], ...], u: np.ndarray) -> np.ndarray:
    p, x = zip(*knots, strict=True)
    return np.interp(u, np.asarray(p), np.asarray(x))


def _exposure_layout(
    rng: np.random.Generator, prm: BallParameters, first: float, total: float, exposed: float
) -> tuple[list[tuple[float, float]], float | None, bool]:
    """Exposure periods from ``first`` to the SPM at ``first + total`` with ``exposed`` months on.

    Returns the periods, the autologous HCT time (or None) and whether lenalidomide is ongoing
    at the SPM (then the last period stops at the SPM: withdrawn at diagnosis of B-ALL).
    """
    spm = first + total
    gap = total - exposed
    induction = rng.random() < prm.p_induction and total > 12 and exposed > 6
    periods: list[tuple[float, float]] = []
    hct = None
    start = first
    if induction:
        ind = min(rng.uniform(3.0, 5.0), exposed - 2.0)
        asct_gap = min(gap, rng.uniform(3.0, 6.0))
        periods.append((start, start + ind))
        hct = start + ind + asct_gap * rng.uniform(0.3, 0.6)
        start = start + ind + asct_gap
        gap -= asct_gap
        exposed -= ind
    elif total > 12:
        hct = first - rng.uniform(1.5, 3.0)
    off_at_spm = gap >= 0.5 and rng.random() < prm.p_off_at_spm
    if gap < 0.5:
        periods.append((start, spm))
        return periods, hct, True
    if off_at_spm:
        periods.append((start, spm - gap))
        return periods, hct, False
    hold_at = start + rng.uniform(0.2, 0.8) * exposed
    periods += [(start, hold_at), (hold_at + gap, spm)]
    return periods, hct, True


def _post_spm(
    rng: np.random.Generator, prm: BallParameters, role: str, spm: float
) -> list[tuple[str, float, str | None]]:
    """Events after the B-ALL diagnosis for one patient, up to the data cut."""
    cut = spm + rng.uniform(*prm.followup)
    ev: list[tuple[str, float, str | None]] = []
    start = spm
    if role.startswith("regression"):
        ev.append(("regression", spm + rng.uniform(1.5, 4.0), None))
        if role == "regression":
            return [*ev, ("last_followup", cut, None)]
        start = spm + rng.uniform(8.0, 11.0)
        cut = max(cut, start + 6.0)
        ev.append(("progression", start, None))
    if role == "untreated":
        return [*ev, ("death", spm + rng.uniform(0.5, 3.0), None)]
    resp = start + rng.uniform(1.0, 2.5)
    end: tuple[str, float] | None = None
    if role == "refractory":
        ev += [("response", resp, "NR"), ("progression", resp, None)]
        relapse = resp
    else:
        ev.append(("response", resp, "CRi" if rng.random() < prm.p_cri else "CR"))
        allo = resp + rng.uniform(2.0, 5.0) if rng.random() < prm.p_allo else None
        cured = rng.random() < prm.cure_no_allo
        relapse = (
            np.inf if cured else resp + rng.exponential(prm.relapse_median_no_allo / np.log(2))
        )
        if allo is not None and allo < min(relapse, cut):
            ev.append(("hct_allo", allo, None))
            cured = rng.random() < prm.cure_allo
            median = prm.relapse_median_allo
            relapse = np.inf if cured else allo + rng.exponential(median / np.log(2))
            if rng.random() < prm.p_trm:
                end = ("death", allo + rng.uniform(2.0, 10.0))
        if relapse < cut and (end is None or relapse < end[1]):
            ev.append(("progression", relapse, None))
    if np.isfinite(relapse) and end is None and rng.random() < prm.p_death_after_relapse:
        end = ("death", relapse + rng.exponential(prm.death_after_relapse_median / np.log(2)))
    if end is None or end[1] >= cut:
        end = ("last_followup", cut)
    return [e for e in ev if e[1] <= end[1]] + [(end[0], end[1], None)]


def _ball_mutations(rng: np.random.Generator, prm: BallParameters, ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    panel = rng.choice(n, prm.tp53_evaluable, replace=False)
    tp53_mut = set(rng.choice(panel, prm.tp53_mutated, replace=False).tolist())
    kary = rng.choice(n, prm.karyotype_evaluable, replace=False)
    linked = [i for i in kary if i in tp53_mut]
    hypo_n = min(len(linked), prm.hypodiploid - 2, 6)
    hypo = set(rng.choice(linked, hypo_n, replace=False).tolist()) if hypo_n else set()
    rest = [i for i in kary if i not in hypo]
    hypo |= set(rng.choice(rest, prm.hypodiploid - len(hypo), replace=False).tolist())
    fusion = int(rng.integers(n))
    kinds = np.array(["missense", "frameshift", "nonsense", "splice"])
    rows = []
    for i, pid in enumerate(ids):
        # random draws for the panel patients only, in the same order as before the
        # not_evaluated rows were written: every seed gives the same cohort as before
        if i in set(panel.tolist()):
            kind = kinds[rng.choice(4, p=[0.7, 0.1, 0.1, 0.1])] if i in tp53_mut else "unaltered"
            rows.append((pid, "TP53", str(kind)))
            for gene, alteration, p in prm.other_genes:
                rows.append((pid, gene, alteration if rng.random() < p else "unaltered"))
        else:
            rows += [(pid, g, "not_evaluated") for g in ("TP53", *(o[0] for o in prm.other_genes))]
        if i in set(kary.tolist()):
            rows.append((pid, "KARYOTYPE", "hypodiploidy" if i in hypo else "unaltered"))
        else:
            rows.append((pid, "KARYOTYPE", "not_evaluated"))
        rows.append((pid, "BCR::ABL1", "fusion" if i == fusion else "unaltered"))
    return pd.DataFrame(rows, columns=["patient_id", "gene", "alteration"])


def simulate_ball_cohort(
    seed: int = BALL_SEED, params: BallParameters | None = None
) -> SimulatedCourse:
    """Simulate a lenalidomide-associated B-ALL case series like Geyer et al. (2023).

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the default is the demo cohort.
    params
        Generative parameters (:class:`BallParameters`).

    Returns
    -------
    SimulatedCourse
        ``events``: ``patient_id`` (``BALL-01``...), ``event``, ``month``, ``detail``;
        ``mutations``: ``patient_id``, ``gene``, ``alteration``: a row for every patient, gene
        and the karyotype (``unaltered`` or ``not_evaluated`` where nothing was found or
        tested).

    References
    ----------
    Geyer MB, et al. Blood Adv 2023;7:3087-3098.
    """
    prm = params or BallParameters()
    rng = np.random.default_rng(seed)
    n = prm.n
    u = (rng.permutation(n) + rng.random(n)) / n
    total = _quantile(prm.len_to_spm_knots, u)
    gap = rng.gamma(*prm.gap_gamma, size=n)
    exposed = np.maximum(total - gap, np.minimum(total, 2.0))
    ids = [f"BALL-{i + 1:02d}" for i in range(n)]
    layouts = []
    for i in range(n):
        induction_first = rng.uniform(0.5, 1.5)
        maintenance_first = rng.uniform(6.0, 10.0)
        layout = _exposure_layout(rng, prm, 0.0, float(total[i]), float(exposed[i]))
        layouts.append((*layout, induction_first, maintenance_first))
    ongoing = [i for i in range(n) if layouts[i][2]]
    regress = rng.choice(ongoing, prm.n_regression, replace=False).tolist()
    roles = ["treated"] * n
    for k, i in enumerate(regress):
        roles[i] = "regression_progressing" if k < prm.n_regression_progressing else "regression"
    others = [i for i in range(n) if roles[i] == "treated"]
    extra_untreated = prm.n_untreated - (prm.n_regression - prm.n_regression_progressing)
    for i in rng.choice(others, extra_untreated, replace=False).tolist():
        roles[i] = "untreated"
    n_treated = sum(r in ("treated", "regression_progressing") for r in roles)
    plain = [i for i in range(n) if roles[i] == "treated"]
    for i in rng.choice(plain, n_treated - prm.n_cr, replace=False).tolist():
        roles[i] = "refractory"
    rows: list[tuple[str, str, float, str | None]] = []
    for i, pid in enumerate(ids):
        periods, hct, _, ind_first, maint_first = layouts[i]
        induction = hct is not None and hct > periods[0][0]
        shift = ind_first if (induction or hct is None) else maint_first
        spm = shift + float(total[i])
        events: list[tuple[str, float, str | None]] = [("diagnosis", 0.0, None)]
        for a, b in periods:
            events += [("len_start", shift + a, None), ("len_stop", shift + b, None)]
        if hct is not None:
            events.append(("hct_auto", shift + hct, None))
        events.append(("spm", spm, "B-ALL"))
        events += _post_spm(rng, prm, roles[i], spm)
        rows += [(pid, e, round(t, 2), d) for e, t, d in events]
    frame = pd.DataFrame(rows, columns=["patient_id", "event", "month", "detail"])
    return SimulatedCourse(
        events=frame,
        mutations=_ball_mutations(rng, prm, ids),
        seed=seed,
        description=f"simulated lenalidomide-associated B-ALL case series (seed {seed})",
    )


def simulate_maintenance_cohort(
    seed: int = MAINTENANCE_SEED, params: MaintenanceParameters | None = None
) -> SimulatedCourse:
    """Simulate a myeloma cohort on lenalidomide maintenance with SPM competing with death.

    See :class:`ikaros.course._maintenance.MaintenanceParameters` for the model; the SPM hazard
    is ``h0 * exp(beta * cumulative exposure in years)`` with known ``beta``. Baseline
    covariates ``age`` and ``arm`` (levels A, B) come from a second random stream
    (``default_rng([seed, 1])``), so they never change the event table when their effects are
    zero (the default); :data:`MAINTENANCE_DEMO_PARAMETERS` gives them effects.

    References
    ----------
    Palumbo A, et al. Lancet Oncol 2014;15:333-342.
    """
    prm = params or MaintenanceParameters()
    covariates = draw_covariates(np.random.default_rng([seed, 1]), prm)
    frame = simulate_maintenance_events(np.random.default_rng(seed), prm, covariates)
    return SimulatedCourse(
        events=frame,
        mutations=None,
        seed=seed,
        description=f"simulated myeloma maintenance cohort, n = {prm.n} (seed {seed})",
        covariates=covariates,
    )
