"""assess_model end to end: external validation TT2 -> TT3 against R; JSON form; frames."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import SCHEMA_VERSION, assess_model
from tests.performance._cohorts import MODELS, cohort, ref


def test_external_evaluation_matches_r() -> None:
    c = cohort("gse24080")
    cols = MODELS["gse24080"]["full"]
    want = ref("gse24080")["validation"]
    dev, val = c.dev, ~c.dev
    res = assess_model(
        c.time[val],
        c.event[val],
        c.X.loc[val, cols],
        landmarks=[want["time"]],
        development=(c.time[dev], c.event[dev], c.X.loc[dev, cols]),
        name="ISS + B2M + LDH",
    )
    assert res.evaluation == "external" and res.optimism is None
    assert res.coef == pytest.approx(want["coef_dev"], abs=1e-7)  # lifelines via fit_cox
    assert res.harrell.c == pytest.approx(want["concordance"]["c"], abs=1e-6)
    assert res.harrell.se == pytest.approx(want["concordance"]["se"], abs=1e-6)
    assert res.calibration_slope is not None
    assert res.calibration_slope.slope == pytest.approx(want["slope"], abs=1e-4)
    cal = res.calibration[0]
    assert [g.observed for g in cal.groups] == pytest.approx(
        [g["observed"] for g in want["risk_groups"]["groups"]], abs=1e-9
    )
    assert cal.smooth is not None
    assert cal.smooth.ici == pytest.approx(want["smooth"]["ici"], abs=1e-6)
    nb = {p.threshold: p.net_benefit for p in res.decision[0].points}
    for p, v in zip(want["decision"]["thresholds"], want["decision"]["net_benefit"], strict=True):
        assert nb[round(p, 2)] == pytest.approx(np.nan if v is None else v, abs=1e-6, nan_ok=True)
    assert any(v is None for v in want["decision"]["net_benefit"])  # the NaN case is exercised


def test_apparent_evaluation_json_is_complete_and_deterministic() -> None:
    c = cohort("gse24080")
    cols = MODELS["gse24080"]["markers"]
    want = ref("gse24080")["models"]["markers"]
    kw = {"landmarks": [36, 60], "tau": 60.0, "B": 10, "seed": 3, "name": "markers"}
    a = assess_model(c.time, c.event, c.X[cols], **kw)
    b = assess_model(c.time, c.event, c.X[cols], **kw)
    text = json.dumps(a.to_dict(), allow_nan=False, sort_keys=True)
    assert text == json.dumps(b.to_dict(), allow_nan=False, sort_keys=True)
    d = json.loads(text)
    assert d["schema_version"] == SCHEMA_VERSION
    assert d["calibration_slope"] is None and d["optimism"]["B"] == 10
    assert d["harrell_c"]["c"] == pytest.approx(want["concordance"]["c"], abs=1e-6)
    assert d["uno_c"]["c"] == pytest.approx(want["concordance"]["uno"]["c"], abs=1e-6)
    assert [p["auc"] for p in d["auc"]["points"]] == pytest.approx(want["score"]["auc"], abs=1e-6)
    assert [p["brier"] for p in d["brier"]["points"]] == pytest.approx(
        want["score"]["brier"], abs=1e-6
    )
    assert [x["ibs"] for x in d["brier"]["ibs"]] == pytest.approx(
        [want["score"]["ibs"][35], want["score"]["ibs"][59]], abs=1e-6
    )
    frame = a.summary_frame()
    assert list(frame["time"]) == [36.0, 60.0]
    assert np.isfinite(frame[["auc", "brier", "ibs", "uno_c"]].to_numpy()).all()
    assert len(a.calibration_frame()) == 10 and len(a.decision_frame()) == 120


def test_landmark_beyond_follow_up_is_rejected() -> None:
    c = cohort("commpass")
    with pytest.raises(AnalysisError, match="end of follow-up"):
        assess_model(c.time, c.event, c.X[["iss2", "iss3"]], landmarks=[100.0], B=0)
