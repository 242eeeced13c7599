"""Simulated two-arm and multi-cohort data, and a reduced version of benchmarks/validation_sim.py.

Reduced sizes keep CI fast; the acceptance bands are therefore wider than the full benchmark's
(which runs 1,000 replicates): they are set at about 3 binomial SDs around the target.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ikaros.stats.cox import fit_cox
from ikaros.validation.meta import meta_analysis
from ikaros.validation.predictive import treatment_by_marker
from ikaros.validation.simulate import (
    SCENARIOS,
    TwoArmDesign,
    simulate_multicohort,
    simulate_two_arm,
)


def test_two_arm_is_seeded_and_shaped() -> None:
    a = simulate_two_arm(1, scenario="both")
    assert a.equals(simulate_two_arm(1, scenario="both"))
    assert not a.equals(simulate_two_arm(2, scenario="both"))
    assert list(a.columns) == ["patient_id", "time", "event", "marker", "treatment"]
    assert set(a["treatment"]) == {"control", "active"} and set(a["event"]) <= {0, 1}
    assert (a["time"] > 0).all()
    with pytest.raises(ValueError, match="unknown scenario"):
        simulate_two_arm(1, scenario="nope")


def test_scenario_effects_are_recovered_in_a_large_cohort() -> None:
    """One cohort of 6,000: the Cox estimates lie within 4 SE of the generating values."""
    bm, g = SCENARIOS["both"]
    d = simulate_two_arm(3, TwoArmDesign(n=6000), scenario="both")
    active = (d["treatment"] == "active").astype(float).to_numpy()
    m = d["marker"].to_numpy()
    import pandas as pd

    X = pd.DataFrame({"m": m, "a": active, "ma": m * active})
    fit = fit_cox(d["time"], d["event"], X, ph_test=False)
    truth = {"m": bm, "a": TwoArmDesign().beta_treatment, "ma": g}
    for k, v in truth.items():
        assert abs(fit.terms[k].coef - v) < 4 * fit.terms[k].se, (k, fit.terms[k])


def test_multicohort_truth_and_treated_cohorts() -> None:
    df, truth = simulate_multicohort(
        4, n=(100, 120, 80), tau=0.3, treated=(True, False, True), gamma=-0.5
    )
    assert truth.cohorts == ("C1", "C2", "C3") and truth.treated == (True, False, True)
    assert df.groupby("cohort").size().tolist() == [100, 120, 80]
    assert df.loc[df["cohort"] == "C1", "treatment"].eq("treated").all()
    again, truth2 = simulate_multicohort(
        4, n=(100, 120, 80), tau=0.3, treated=(True, False, True), gamma=-0.5
    )
    assert again.equals(df) and truth2 == truth


def test_interaction_test_size_and_power_reduced() -> None:
    """120 replicates each: size for a prognostic marker within 1-10% (target 5%, SD 2.0
    points); power for gamma = -0.45 near its large-sample expectation (Var = 4 / events)."""
    prog = TwoArmDesign(n=240, beta_marker=float(np.log(1.5)))
    pred = TwoArmDesign(n=240, gamma=-0.45)
    size, power, events = [], [], []
    for rep in range(120):
        for design, out in ((prog, size), (pred, power)):
            d = simulate_two_arm(50_000 + rep, design)
            r = treatment_by_marker(
                d["time"], d["event"], d["marker"], d["treatment"], cut=0.0, reference="control"
            )
            assert r.continuous is not None and r.continuous.lr_p is not None
            out.append(r.continuous.lr_p <= 0.05)
            if design is pred:
                events.append(r.events)
    assert 0.01 <= np.mean(size) <= 0.10
    expected = stats.norm.cdf(0.45 * np.sqrt(np.mean(events)) / 2 - stats.norm.isf(0.025))
    assert abs(np.mean(power) - expected) < 0.12, (np.mean(power), expected)


def test_prediction_interval_covers_new_cohorts_reduced() -> None:
    """Known-truth check of the meta-analysis alone: 12 cohorts whose estimates are normal
    around true effects drawn from N(mu, tau^2), heterogeneity dominating (I^2 ~ 85%); the
    coverage of a new cohort's true effect (exact conditional probability, averaged over 1,000
    meta-analyses) by the bootstrap interval is near 95%. With little heterogeneity or few
    cohorts the plug-in interval (metafor's) covers less, the bootstrap one does not: see
    tests/validation/test_prediction.py and benchmarks/validation_sim.py."""
    rng = np.random.default_rng(2009)
    mu, tau, k = 0.3, 0.2, 12
    cover = []
    for _ in range(1000):
        se = rng.uniform(0.05, 0.10, k)
        y = rng.normal(mu + tau * rng.standard_normal(k), se)
        m = meta_analysis(y, se, leave_one_out=False, n_boot=4000, seed=len(cover))
        lo, hi = m.prediction.lower, m.prediction.upper
        cover.append(stats.norm.cdf((hi - mu) / tau) - stats.norm.cdf((lo - mu) / tau))
    assert 0.925 <= np.mean(cover) <= 0.965, np.mean(cover)
