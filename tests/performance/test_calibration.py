"""Calibration (risk groups, slope, smoothed curve) against R on external-validation splits."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import calibration_slope, risk_groups, smooth_calibration
from ikaros.performance._cox import fit_efron, predict_risk
from tests.performance._cohorts import MODELS, cohort, ref


def _split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    c = cohort(name)
    X = c.X[MODELS[name]["full"]].to_numpy()
    dev, val = c.dev, ~c.dev
    fit = fit_efron(c.time[dev], c.event[dev], X[dev])
    want = ref(name)["validation"]
    assert fit.coef == pytest.approx(want["coef_dev"], abs=1e-8)
    t = float(want["time"])
    risk = predict_risk(
        c.time[dev], c.event[dev], X[dev] @ fit.coef, np.array([t]), lp_new=X[val] @ fit.coef
    )[:, 0]
    return c.time[val], c.event[val], X[val] @ fit.coef, risk, t


@pytest.mark.parametrize("name", ["gse24080", "commpass"])
def test_external_calibration_matches_r(name: str) -> None:
    time, event, lp, risk, t = _split(name)
    want = ref(name)["validation"]
    assert risk[:10] == pytest.approx(want["predicted_risk_first"], abs=1e-9)
    slope = calibration_slope(time, event, lp)
    assert slope.slope == pytest.approx(want["slope"], abs=1e-4)
    assert slope.se == pytest.approx(want["slope_se"], abs=1e-4)
    assert slope.slope == pytest.approx(want["slope"], abs=1e-9)
    groups = risk_groups(time, event, risk, t)
    assert [g.n for g in groups] == [g["n"] for g in want["risk_groups"]["groups"]]
    for g, w in zip(groups, want["risk_groups"]["groups"], strict=True):
        assert g.predicted == pytest.approx(w["predicted"], abs=1e-9)
        assert w["observed"] is not None
        assert g.observed == pytest.approx(w["observed"], abs=1e-9)
        assert g.se == pytest.approx(w["se"], abs=1e-9)
        assert g.lower <= g.observed <= g.upper
    smooth = smooth_calibration(time, event, risk, t)
    w = want["smooth"]
    assert smooth.knots == pytest.approx(w["knots"], abs=1e-9)
    for key in ("ici", "e50", "e90", "emax"):
        assert getattr(smooth, key) == pytest.approx(w[key], abs=1e-8), key


@pytest.mark.parametrize(("name", "model"), [("gse24080", "base"), ("commpass", "full")])
def test_apparent_groups_and_smooth_curve_match_r(name: str, model: str) -> None:
    """Includes the ISS-only model: three distinct risks, so empty groups and no spline."""
    c = cohort(name)
    X = c.X[MODELS[name][model]].to_numpy()
    lp = X @ fit_efron(c.time, c.event, X).coef
    t = c.landmarks[0]
    risk = predict_risk(c.time, c.event, lp, np.array([t]))[:, 0]
    want = ref(name)["models"][model]
    groups = risk_groups(c.time, c.event, risk, t)
    assert [g.group for g in groups] == [g["group"] for g in want["risk_groups"]["groups"]]
    assert [g.observed for g in groups] == pytest.approx(
        [g["observed"] for g in want["risk_groups"]["groups"]], abs=1e-9
    )
    smooth = smooth_calibration(c.time, c.event, risk, t)
    assert smooth.ici == pytest.approx(want["smooth"]["ici"], abs=1e-8)
    assert smooth.e90 == pytest.approx(want["smooth"]["e90"], abs=1e-8)


def test_apparent_calibration_slope_is_one() -> None:
    c = cohort("gse24080")
    X = c.X[MODELS["gse24080"]["full"]].to_numpy()
    lp = X @ fit_efron(c.time, c.event, X).coef
    assert calibration_slope(c.time, c.event, lp).slope == pytest.approx(1.0, abs=1e-8)


def test_constant_predictor_has_no_slope() -> None:
    with pytest.raises(AnalysisError, match="constant"):
        calibration_slope([1, 2, 3], [1, 1, 0], [0.5, 0.5, 0.5])
