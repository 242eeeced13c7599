"""Gail-Simon test: Gail & Simon's (1985) Table 1 critical values and its size at the null."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.validation.gail_simon import gail_simon, gail_simon_critical_value, gail_simon_p

#: Gail & Simon (1985), Table 1, alpha = 0.05, I = 2..5 subsets
TABLE_05 = {2: 2.71, 3: 4.23, 4: 5.43, 5: 6.50}


@pytest.mark.parametrize(("k", "c"), sorted(TABLE_05.items()))
def test_critical_values_match_the_published_table(k: int, c: float) -> None:
    assert gail_simon_critical_value(k, 0.05) == pytest.approx(c, abs=0.006)
    assert gail_simon_p(gail_simon_critical_value(k, 0.05), k) == pytest.approx(0.05, abs=1e-10)


def test_two_groups_reduce_to_half_a_chi_square_tail() -> None:
    r = gail_simon([-0.5, 0.3], [0.2, 0.25])
    assert r.q_plus == pytest.approx(6.25) and r.q_minus == pytest.approx(1.44)
    from scipy import stats

    assert r.p == pytest.approx(0.5 * stats.chi2.sf(1.44, 1), rel=1e-12)


def test_same_sign_effects_give_p_one() -> None:
    r = gail_simon([-0.5, -0.1, -0.3], [0.2, 0.2, 0.2])
    assert r.statistic == 0.0 and r.p == 1.0


def test_size_at_the_least_favourable_null() -> None:
    """Three true effects 0 and one far on one side: rejection at 5% is 5% (6,000 draws, SD
    0.28 points); with all effects 0 the test is conservative."""
    rng = np.random.default_rng(1985)
    n = 6_000
    se = np.array([0.1, 0.2, 0.3, 0.15])
    worst = np.array([0.0, 0.0, 0.0, 20 * 0.15])
    rejected = sum(gail_simon(rng.normal(worst, se), se).p <= 0.05 for _ in range(n))
    assert abs(rejected / n - 0.05) < 0.009
    at_zero = sum(gail_simon(rng.normal(0.0, se), se).p <= 0.05 for _ in range(2_000))
    assert at_zero / 2_000 < 0.03


def test_bad_input() -> None:
    with pytest.raises(AnalysisError):
        gail_simon([0.1], [0.1])
    with pytest.raises(AnalysisError):
        gail_simon([0.1, 0.2], [0.1, 0.0])


@pytest.mark.parametrize("k", [2, 3, 5, 10, 25])
def test_p_equals_the_binomial_mixture_of_scipy_tails(k: int) -> None:
    """The null probability from the standard-library tails equals scipy's to 1e-12."""
    from scipy import special, stats

    h = np.arange(1, k)
    for statistic in (1e-6, 0.5, 2.7, 9.0, 40.0):
        want = float(np.sum(special.comb(k - 1, h) / 2.0 ** (k - 1) * stats.chi2.sf(statistic, h)))
        assert gail_simon_p(statistic, k) == pytest.approx(want, rel=1e-12)
