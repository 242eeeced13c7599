"""Time-dependent AUC against riskRegression::Score; CI coverage of a known model (simulation)."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import time_dependent_auc
from ikaros.performance._cox import fit_efron
from tests.performance._cohorts import MODELS, cohort, ref
from tests.performance.simulation import auc_coverage

CASES = [(c, m) for c, models in MODELS.items() for m in models]


@pytest.mark.parametrize(("name", "model"), CASES)
def test_auc_se_and_ci_match_score(name: str, model: str) -> None:
    c = cohort(name)
    X = c.X[MODELS[name][model]].to_numpy()
    lp = X @ fit_efron(c.time, c.event, X).coef
    want = ref(name)["models"][model]["score"]
    got = time_dependent_auc(c.time, c.event, lp, c.landmarks)
    assert [p.time for p in got.points] == want["times"]
    for k, p in enumerate(got.points):
        assert p.auc == pytest.approx(want["auc"][k], abs=1e-4)
        assert p.se == pytest.approx(want["auc_se"][k], abs=1e-4)
        assert p.lower == pytest.approx(want["auc_lower"][k], abs=1e-4)
        assert p.upper == pytest.approx(want["auc_upper"][k], abs=1e-4)
        # in fact equal to rounding error
        assert p.auc == pytest.approx(want["auc"][k], abs=1e-10)
        assert p.se == pytest.approx(want["auc_se"][k], abs=1e-10)


def test_no_controls_gives_nan_with_reason() -> None:
    res = time_dependent_auc([1, 2, 3, 4], [1, 1, 0, 1], [4, 3, 2, 1], [2, 5])
    assert np.isfinite(res.points[0].auc)
    assert np.isnan(res.points[1].auc) and "followed past" in (res.points[1].reason or "")


def test_bad_times_are_rejected() -> None:
    with pytest.raises(AnalysisError, match="increasing"):
        time_dependent_auc([1, 2, 3], [1, 0, 1], [1, 2, 3], [2, 1])


def test_ci_covers_the_true_auc() -> None:
    """Reduced version of benchmarks/perf_auc_coverage.py (300 data sets of 250 patients)."""
    cov = auc_coverage(reps=300, n=250, seed=11)
    for t, rate in cov.coverage.items():
        # 95% nominal; with 300 replicates the MC SE is 0.0126: accept 0.91-0.99
        assert 0.91 <= rate <= 0.99, (t, rate, cov)
    for t, bias in cov.bias.items():
        assert abs(bias) < 0.01, (t, bias)
