"""RMST and its variance (R ``survmean``): a hand-computed case; R itself in test_against_r."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.ipd.rmst import rmst, rmst_difference
from ikaros.stats.km import kaplan_meier


def test_hand_computed_rmst_and_variance() -> None:
    km = kaplan_meier([1.0, 2.0, 3.0], [1, 1, 1])
    got = rmst(km, 2.5)
    # area: 1 x 1 + 1 x 2/3 + 0.5 x 1/3; variance: A(1)^2 / (3 x 2) + A(2)^2 / (2 x 1)
    area_after_1 = 2 / 3 + 0.5 / 3
    area_after_2 = 0.5 / 3
    assert got.estimate == pytest.approx(1 + 2 / 3 + 0.5 / 3, abs=1e-15)
    assert got.se**2 == pytest.approx(area_after_1**2 / 6 + area_after_2**2 / 2, abs=1e-15)
    assert got.lower == pytest.approx(got.estimate - 1.959963984540054 * got.se)


def test_tau_before_the_first_event_is_tau_with_no_variance() -> None:
    got = rmst(kaplan_meier([5.0, 6.0], [1, 0]), 2.0)
    assert (got.estimate, got.se) == (2.0, 0.0)


def test_last_patient_having_the_event_adds_no_variance() -> None:
    # n = d at the last time: R's term is 0 there (not a division by zero)
    km = kaplan_meier([1.0, 2.0], [1, 1])
    got = rmst(km, 3.0)
    assert got.estimate == pytest.approx(1.0 + 0.5)
    assert np.isfinite(got.se)


def test_difference_of_independent_arms() -> None:
    a = rmst(kaplan_meier([1.0, 2.0, 4.0, 6.0], [1, 0, 1, 0]), 5.0)
    b = rmst(kaplan_meier([1.0, 1.5, 2.0, 3.0], [1, 1, 1, 0]), 5.0)
    d = rmst_difference(a, b)
    assert d.estimate == pytest.approx(a.estimate - b.estimate)
    assert d.se == pytest.approx(np.hypot(a.se, b.se))
    assert 0 < d.p < 1
    with pytest.raises(AnalysisError, match="same tau"):
        rmst_difference(a, rmst(kaplan_meier([1.0], [1]), 4.0))
    with pytest.raises(AnalysisError, match="positive"):
        rmst(kaplan_meier([1.0], [1]), 0.0)
