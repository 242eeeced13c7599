"""Harrell's and Uno's C against survival::concordance; a brute-force check on small data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import concordance_difference, harrell_c, uno_c
from ikaros.performance._cox import fit_efron
from ikaros.performance.concordance import c_value
from tests.performance._cohorts import MODELS, cohort, ref

CASES = [(c, m) for c, models in MODELS.items() for m in models]


def _lp(name: str, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = cohort(name)
    X = c.X[MODELS[name][model]].to_numpy()
    return c.time, c.event, X @ fit_efron(c.time, c.event, X).coef


@pytest.mark.parametrize(("name", "model"), CASES)
def test_harrell_c_and_se_match_r(name: str, model: str) -> None:
    time, event, lp = _lp(name, model)
    want = ref(name)["models"][model]["concordance"]
    got = harrell_c(time, event, lp)
    assert got.c == pytest.approx(want["c"], abs=1e-6)
    assert got.se == pytest.approx(want["se"], abs=1e-6)
    assert got.counts == pytest.approx(want["count"], abs=1e-9)
    assert got.lower < got.c < got.upper


@pytest.mark.parametrize(("name", "model"), CASES)
def test_uno_c_and_se_match_r(name: str, model: str) -> None:
    time, event, lp = _lp(name, model)
    want = ref(name)["models"][model]["concordance"]["uno"]
    got = uno_c(time, event, lp, want["tau"])
    assert got.c == pytest.approx(want["c"], abs=1e-4)
    assert got.se == pytest.approx(want["se"], abs=1e-4)
    # in fact equal to rounding error
    assert got.c == pytest.approx(want["c"], abs=1e-10)


@pytest.mark.parametrize("name", ["gse24080", "commpass"])
def test_change_in_c_and_its_ij_se_match_r(name: str) -> None:
    want = ref(name)["added_value"]
    t, e, lp_b = _lp(name, "base")
    _, _, lp_f = _lp(name, "full")
    diff = concordance_difference(harrell_c(t, e, lp_b), harrell_c(t, e, lp_f))
    assert diff.delta == pytest.approx(want["delta_c"], abs=1e-9)
    assert diff.se == pytest.approx(want["delta_c_se"], abs=1e-9)


def _brute_force(time: np.ndarray, event: np.ndarray, score: np.ndarray) -> float:
    conc = disc = tied = 0.0
    for i, j in itertools.permutations(range(time.size), 2):
        later = time[j] > time[i] or (time[j] == time[i] and event[j] == 0)
        if event[i] == 1 and later:
            conc += score[i] > score[j]
            disc += score[i] < score[j]
            tied += score[i] == score[j]
    return (conc + tied / 2) / (conc + disc + tied)


def test_small_data_with_ties_match_pair_counting() -> None:
    rng = np.random.default_rng(7)
    time = rng.integers(1, 8, size=40).astype(float)  # heavy ties in time
    event = rng.integers(0, 2, size=40)
    score = rng.integers(0, 4, size=40).astype(float)  # heavy ties in score
    assert harrell_c(time, event, score).c == pytest.approx(_brute_force(time, event, score))
    assert c_value(time, event, score) == pytest.approx(harrell_c(time, event, score).c)


def test_ij_variance_is_the_jackknife_derivative() -> None:
    """The dfbeta of C is its derivative with respect to a case weight (checked numerically)."""
    rng = np.random.default_rng(3)
    time = rng.exponential(size=30)
    event = (rng.uniform(size=30) < 0.7).astype(int)
    score = rng.normal(size=30)
    base = harrell_c(time, event, score)
    # duplicating patient k is a weight change of 1: C changes by ~dfbeta_k
    k = int(np.argmax(np.abs(base.dfbeta)))
    dup = harrell_c(
        np.append(time, time[k]), np.append(event, event[k]), np.append(score, score[k])
    )
    assert dup.c - base.c == pytest.approx(base.dfbeta[k], rel=0.35)


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(AnalysisError, match="no events"):
        harrell_c([1, 2, 3], [0, 0, 0], [1, 2, 3])
    with pytest.raises(AnalysisError, match="3 values for 2"):
        harrell_c([1, 2], [1, 0], [1, 2, 3])
    with pytest.raises(AnalysisError, match="tau"):
        uno_c([1, 2], [1, 0], [1, 2], tau=0)
