"""Net benefit at the landmark against a direct computation in R (survfit in treated groups)."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import net_benefit
from ikaros.performance._cox import fit_efron, predict_risk
from tests.performance._cohorts import MODELS, cohort, ref


@pytest.mark.parametrize(("name", "model"), [("gse24080", "full"), ("commpass", "full")])
def test_net_benefit_matches_r(name: str, model: str) -> None:
    c = cohort(name)
    X = c.X[MODELS[name][model]].to_numpy()
    lp = X @ fit_efron(c.time, c.event, X).coef
    want = ref(name)["models"][model]["decision"]
    t = float(want["time"])
    risk = predict_risk(c.time, c.event, lp, np.array([t]))[:, 0]
    got = net_benefit(c.time, c.event, risk, t, thresholds=want["thresholds"])
    expected = [np.nan if v is None else v for v in want["net_benefit"]]
    assert [p.net_benefit for p in got.points] == pytest.approx(expected, abs=1e-9, nan_ok=True)
    assert [p.treat_all for p in got.points] == pytest.approx(want["treat_all"], abs=1e-9)


def test_without_censoring_net_benefit_is_the_classification_formula() -> None:
    time = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    event = np.ones(8, dtype=int)
    risk = np.array([0.9, 0.2, 0.7, 0.1, 0.6, 0.3, 0.05, 0.8])
    p = 0.5
    got = net_benefit(time, event, risk, 4.0, thresholds=[p]).points[0]
    case = time <= 4
    tp = np.sum(case & (risk >= p)) / 8
    fp = np.sum(~case & (risk >= p)) / 8
    assert got.net_benefit == pytest.approx(tp - fp * p / (1 - p))
    assert got.treat_all == pytest.approx(0.5 - 0.5 * p / (1 - p))


def test_threshold_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(AnalysisError, match="threshold"):
        net_benefit([1, 2, 3], [1, 0, 1], [0.1, 0.2, 0.3], 2.0, thresholds=[0.0])
