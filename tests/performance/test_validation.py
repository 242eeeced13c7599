"""Bootstrap optimism correction against rms::validate.

Exactly, on the same 20 resamples as rms (drawn in R and stored beside make_golden.R), and
within Monte Carlo error for B = 200 with independent random numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ikaros.performance import optimism_bootstrap
from ikaros.performance._cox import fit_efron
from ikaros.performance.validation import _replicates
from tests.performance._cohorts import MODELS, boot_indices, cohort, ref


@pytest.mark.parametrize("name", ["gse24080", "commpass"])
def test_same_resamples_as_rms_give_its_numbers(name: str) -> None:
    c = cohort(name)
    X = c.X[MODELS[name]["full"]].to_numpy()
    beta = fit_efron(c.time, c.event, X).coef
    want = ref(name)["validate_exact"]
    idx = boot_indices(name)
    c_app, ctr, cte, ste, failed = _replicates(c.time, c.event, X, beta, iter(idx))
    assert failed == 0 and ctr.size == want["replicates"]
    assert 2 * c_app - 1 == pytest.approx(want["dxy_apparent"], abs=1e-9)
    # rms refits with eps = 1e-4, which moves its indices by up to ~1e-4 ...
    assert np.mean(2 * ctr - 1) == pytest.approx(want["dxy_training"], abs=3e-4)
    assert np.mean(2 * cte - 1) == pytest.approx(want["dxy_test"], abs=3e-4)
    assert np.mean(ste) == pytest.approx(want["slope_test"], abs=3e-4)
    # ... and the same replicates with converged coxph fits in R agree to rounding error
    conv = want["converged"]
    assert np.mean(2 * ctr - 1) == pytest.approx(conv["dxy_training"], abs=1e-8)
    assert np.mean(2 * cte - 1) == pytest.approx(conv["dxy_test"], abs=1e-8)
    assert np.mean(ste) == pytest.approx(conv["slope_test"], abs=1e-8)


def test_b200_within_monte_carlo_error_of_rms() -> None:
    c = cohort("gse24080")
    want = ref("gse24080")["validate"]
    X = c.X[MODELS["gse24080"]["full"]].to_numpy()
    got = optimism_bootstrap(c.time, c.event, X, B=200, seed=2024)
    assert got.B_used == 200 and got.failed == 0
    runs = want["runs"]
    for ours, mean, sd in (
        (got.c, want["c_corrected_mean"], want["c_corrected_sd"]),
        (got.slope, want["slope_corrected_mean"], want["slope_corrected_sd"]),
    ):
        mc = math.hypot(ours.mc_se, sd / math.sqrt(runs))
        assert abs(ours.corrected - mean) < 4 * mc, (ours, mean, mc)
    assert got.c.corrected < got.c.apparent
    assert got.dxy.corrected == pytest.approx(2 * got.c.corrected - 1)


def test_seeded_and_reproducible() -> None:
    c = cohort("gse24080")
    X = c.X[MODELS["gse24080"]["markers"]].to_numpy()
    a = optimism_bootstrap(c.time, c.event, X, B=10, seed=1)
    b = optimism_bootstrap(c.time, c.event, X, B=10, seed=1)
    d = optimism_bootstrap(c.time, c.event, X, B=10, seed=2)
    assert a == b and a != d
