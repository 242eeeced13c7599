"""Brier score, its SE/CI and the integrated Brier score against riskRegression::Score."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import brier_score, integrated_brier
from ikaros.performance._cox import fit_efron, predict_risk
from tests.performance._cohorts import MODELS, cohort, ref

CASES = [(c, m) for c, models in MODELS.items() for m in models]


@pytest.mark.parametrize(("name", "model"), CASES)
def test_brier_and_ibs_match_score(name: str, model: str) -> None:
    c = cohort(name)
    X = c.X[MODELS[name][model]].to_numpy()
    lp = X @ fit_efron(c.time, c.event, X).coef
    want = ref(name)["models"][model]["score"]
    risk = predict_risk(c.time, c.event, lp, np.array(c.landmarks))
    got = brier_score(c.time, c.event, risk, c.landmarks)
    for k, p in enumerate(got.points):
        assert p.brier == pytest.approx(want["brier"][k], abs=1e-4)
        assert p.se == pytest.approx(want["brier_se"][k], abs=1e-4)
        assert p.lower == pytest.approx(want["brier_lower"][k], abs=1e-4)
        assert p.upper == pytest.approx(want["brier_upper"][k], abs=1e-4)
        assert p.brier == pytest.approx(want["brier"][k], abs=1e-10)
        assert p.se == pytest.approx(want["brier_se"][k], abs=1e-10)
    grid = np.array(want["ibs_grid"], dtype=float)
    bs, ibs = integrated_brier(c.time, c.event, predict_risk(c.time, c.event, lp, grid), grid)
    assert bs == pytest.approx(want["ibs_brier"], abs=1e-10)
    assert ibs == pytest.approx(want["ibs"], abs=1e-10)


def test_perfect_and_useless_predictions_without_censoring() -> None:
    time = np.array([1.0, 2, 3, 4, 5, 6])
    event = np.ones(6, dtype=int)
    perfect = (time <= 3).astype(float)
    assert brier_score(time, event, perfect, 3.0).points[0].brier == 0.0
    half = np.full(6, 0.5)
    assert brier_score(time, event, half, 3.0).points[0].brier == pytest.approx(0.25)


def test_risks_outside_unit_interval_are_rejected() -> None:
    with pytest.raises(AnalysisError, match=r"\[0, 1\]"):
        brier_score([1, 2, 3], [1, 0, 1], [0.2, 1.2, 0.1], 2.0)
