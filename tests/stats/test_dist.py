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
