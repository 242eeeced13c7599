"""One-stage Cox stratified by cohort against R coxph(... + strata(cohort)); per-cohort results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import AnalysisError
from ikaros.validation.multicohort import CohortData, OneStage, validate_cohorts
from tests.validation._helpers import REL, REL_P, close, cohort, gold, real_cohorts, sim_multicohort


def _check(one: OneStage | None, want: dict, key: str) -> None:
    assert one is not None
    assert (one.n, one.events) == (want["n"], want["events"])
    w = want["terms"][key]
    close(one.coef, w["coef"], REL)
    close(one.hr, float(np.exp(w["coef"])), REL)
    close(one.se, w["se"], REL)
    close(one.p, w["p"], REL_P)


def _sim_cohorts() -> list[CohortData]:
    sim = sim_multicohort()
    return [
        cohort(c, g, "time", "event", g["marker"], "treatment") for c, g in sim.groupby("cohort")
    ]


def test_one_stage_matches_stratified_coxph() -> None:
    v = validate_cohorts(
        _sim_cohorts(), marker="marker", endpoint="os", cut="q1", treatment_reference="untreated"
    )
    g = gold()["one_stage"]
    _check(v.one_stage_continuous, g["sim_marker"], "marker")
    _check(v.one_stage_cut, g["sim_marker_q1"], "q1")
    inter = v.one_stage_interaction
    _check(inter, g["sim_marker_by_treatment"], "marker:trt")
    assert inter is not None and inter.term == "marker:treatment[treated vs untreated]"
    # the protocol is constant within each cohort: its main effect is absorbed by the strata
    assert inter.terms == ("marker", "marker:treatment[treated vs untreated]")
    close(inter.lr_statistic, g["sim_marker_by_treatment"]["lr"], REL)
    close(inter.lr_p, g["sim_marker_by_treatment"]["lr_p"], REL_P)


def test_one_stage_on_real_cohorts(gse24080: pd.DataFrame, commpass_full: pd.DataFrame) -> None:
    frames = real_cohorts(gse24080, commpass_full)
    cohorts = [
        cohort(
            n,
            d[d["iss"].notna()],
            "os_time",
            "os_event",
            (d.loc[d["iss"].notna(), "iss"] == 3).astype(float),
        )
        for n, d in frames.items()
    ]
    v = validate_cohorts(cohorts, marker="ISS III", endpoint="os")
    _check(v.one_stage_continuous, gold()["one_stage"]["real_iss3_os"], "iss3")


def test_one_stage_gse_by_protocol(gse24080: pd.DataFrame) -> None:
    d = gse24080[gse24080["b2m_mg_l"].notna()]
    cohorts = [
        cohort(p, g, "efs_time", "efs_event", np.log2(g["b2m_mg_l"]))
        for p, g in d.groupby("protocol")
    ]
    v = validate_cohorts(cohorts, marker="B2M", endpoint="efs", scale="log2")
    _check(v.one_stage_continuous, gold()["one_stage"]["gse_log2b2m_efs"], "log2(b2m_mg_l)")


def test_cut_groups_carry_landmark_survival_and_json_is_stable() -> None:
    cohorts = _sim_cohorts()
    v = validate_cohorts(cohorts, marker="marker", endpoint="os", cut="q1", landmark=36.0)
    for est, c in zip(v.estimates_cut, cohorts, strict=True):
        assert [grp.label for grp in est.groups] == ["low", "high"]
        assert sum(grp.n for grp in est.groups) == est.n == c.time.size
        assert est.cut == pytest.approx(np.quantile(c.marker, 0.25))
    assert (
        v.to_dict()
        == validate_cohorts(
            cohorts, marker="marker", endpoint="os", cut="q1", landmark=36.0
        ).to_dict()
    )
    assert v.to_dict()["schema_version"] == "2.0"


def test_cohort_without_events_is_left_out_with_a_note() -> None:
    cohorts = _sim_cohorts()
    c0 = cohorts[0]
    cohorts[0] = CohortData(c0.name, c0.time, np.zeros_like(c0.event), c0.marker)
    v = validate_cohorts(cohorts, marker="marker", endpoint="os")
    assert v.estimates_continuous[0].coef is None
    assert "not estimable" in (v.estimates_continuous[0].note or "")
    assert v.meta_continuous is not None and v.meta_continuous.k == len(cohorts) - 1
    assert any("left out of the meta-analysis: C1" in n for n in v.notes)


def test_duplicate_names_and_mismatched_covariates_are_refused() -> None:
    c = _sim_cohorts()[0]
    with pytest.raises(AnalysisError, match="unique"):
        validate_cohorts([c, c], marker="m", endpoint="os")
    other = CohortData(
        "other", c.time, c.event, c.marker, covariates=pd.DataFrame({"age": c.marker})
    )
    with pytest.raises(AnalysisError, match="same adjustment covariates"):
        validate_cohorts([c, other], marker="m", endpoint="os")
