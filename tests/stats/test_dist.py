"""The standard-library tail probabilities equal scipy.special over the range the tests use."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from ikaros.stats._dist import chi2_isf1, chi2_sf, norm_ppf, norm_sf, two_sided_p

X = np.concatenate([[0.0, 1e-12, 1e-6, 0.01, 0.5], np.linspace(0.1, 60, 300), [100, 300, 700]])


@pytest.mark.parametrize("df", range(1, 16))
def test_chi2_sf(df: int) -> None:
    ours = chi2_sf(X, df)
    ref = special.chdtrc(df, X)
    ok = ref > 1e-300
    assert np.allclose(ours[ok], ref[ok], rtol=1e-12, atol=0)
    assert chi2_sf(3.84, df) == pytest.approx(float(special.chdtrc(df, 3.84)), rel=1e-13)


def test_normal() -> None:
    z = np.linspace(-38, 38, 1001)
    assert np.allclose(norm_sf(z), special.ndtr(-z), rtol=1e-12, atol=1e-300)
    assert np.allclose(two_sided_p(z), 2 * special.ndtr(-np.abs(z)), rtol=1e-12, atol=1e-300)
    for q in (1e-300, 1e-20, 0.025, 0.5, 0.975, 1 - 1e-12):
        assert norm_ppf(q) == pytest.approx(float(special.ndtri(q)), rel=1e-12)
    for p in (1e-300, 1e-80, 1e-8, 0.05, 0.5, 0.999):
        assert chi2_isf1(p) == pytest.approx(float(special.chdtri(1, p)), rel=1e-10)


def test_arrays_equal_the_scalar_functions_element_by_element() -> None:
    """The array paths (``map`` over Python floats) give the scalar paths' doubles exactly,
    keep the shape, and pass NaN through; the edges (0, negative, infinite) as the scalars."""
    rng = np.random.default_rng(7)
    x = rng.chisquare(1, 3000) * rng.choice([1e-6, 1.0, 50.0], 3000)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -1.0, 5e-324, 1e308, 3.84]
    for df in (1, 2, 3):
        arr = chi2_sf(x.reshape(50, 60), df)
        assert arr.shape == (50, 60)
        scalars = np.array([chi2_sf(float(v), df) for v in x])
        np.testing.assert_array_equal(arr.ravel(), scalars)
    z = rng.normal(0, 8, 3000)
    z[:4] = [np.nan, np.inf, -np.inf, 0.0]
    np.testing.assert_array_equal(norm_sf(z), np.array([norm_sf(float(v)) for v in z]))
    assert norm_sf(np.zeros((0, 2))).shape == (0, 2)
    assert chi2_sf(np.array([]), 1).shape == (0,)
