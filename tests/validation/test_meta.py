"""Random-effects meta-analysis against R metafor 3.8 (tests/reference/validation/make_golden.R).

Two levels: (1) the meta-analysis alone on R's own per-cohort estimates (every number to 1e-6
relative); (2) end to end: ikaros computes the per-cohort Cox estimates of real (GSE24080 TT2 and
TT3, CoMMpass) and simulated cohorts and pools them, compared with coxph + rma(method = "REML",
test = "knha") + predict() + confint() at the project's 1e-4 (p-values 1e-3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import AnalysisError
from ikaros.validation.meta import MetaAnalysis, meta_analysis, reml_tau2
from ikaros.validation.multicohort import validate_cohorts
from tests.validation._helpers import (
    REL_P,
    close,
    cohort,
    gold,
    real_cohorts,
    sim_multicohort,
)

SETS = [
    "real_iss3_os",
    "real_age10_os",
    "sim_marker",
    "sim_marker_q1",
    "gse_two_protocols_log2b2m_efs",
    "dat_bcg",
    "fisher_oscillates",
]


def assert_meta_matches(m: MetaAnalysis, want: dict, rel: float) -> None:
    r, f, h = m.random, m.fixed, m.heterogeneity
    for got, key in (
        (r.estimate, "estimate"),
        (r.se, "se"),
        (r.lower, "lower"),
        (r.upper, "upper"),
        (r.statistic, "statistic"),
    ):
        close(got, want["random"][key], rel)
    close(r.p, want["random"]["p"], max(rel, REL_P))
    for got, key in (
        (f.estimate, "estimate"),
        (f.se, "se"),
        (f.lower, "lower"),
        (f.upper, "upper"),
        (f.statistic, "statistic"),
    ):
        close(got, want["fixed"][key], rel)
    close(f.p, want["fixed"]["p"], max(rel, REL_P))
    close(h.q, want["q"], rel)
    close(h.q_p, want["q_p"], max(rel, REL_P))
    # tau^2 at the boundary: metafor's Fisher scoring halves its way towards 0
    close(h.tau2, want["tau2"], rel, abs_=1e-9)
    close(h.i2, want["i2"], rel, abs_=1e-7)
    close(h.h2, want["h2"], rel, abs_=1e-9)
    close(h.tau2_lower, want["tau2_ci"][0], rel, abs_=1e-9)
    close(h.tau2_upper, want["tau2_ci"][1], rel, abs_=1e-9)
    close(h.i2_lower, want["i2_ci"][0], rel, abs_=1e-7)
    close(h.i2_upper, want["i2_ci"][1], rel, abs_=1e-7)
    close(h.h2_lower, want["h2_ci"][0], rel, abs_=1e-9)
    close(h.h2_upper, want["h2_ci"][1], rel, abs_=1e-9)
    close(m.prediction_hts.lower, want["pi"][0], rel)
    close(m.prediction_hts.upper, want["pi"][1], rel)
    for s, w in zip(m.studies, want["weights"], strict=True):
        close(s.weight_random, w, rel)
    if "leave1out" in want:
        loo = want["leave1out"]
        assert len(m.leave_one_out) == len(loo["estimate"])
        for i, row in enumerate(m.leave_one_out):
            close(row.estimate, loo["estimate"][i], rel)
            close(row.se, loo["se"][i], rel)
            close(row.lower, loo["lower"][i], rel)
            close(row.upper, loo["upper"][i], rel)
            close(row.p, loo["p"][i], max(rel, REL_P))
            close(row.tau2, loo["tau2"][i], rel, abs_=1e-9)
            close(row.i2, loo["i2"][i], rel, abs_=1e-7)
            close(row.q, loo["q"][i], rel)
    else:
        assert m.leave_one_out == ()


@pytest.mark.parametrize("name", SETS)
def test_meta_on_r_estimates_matches_metafor(name: str) -> None:
    want = gold()["meta_analysis"][name]["meta"]
    m = meta_analysis(want["yi"], np.sqrt(want["vi"]), want["names"])
    assert_meta_matches(m, want, rel=1e-6)
    assert (m.heterogeneity.iterations == 0) == (name == "fisher_oscillates")


def _check_cohorts(estimates: tuple, want: dict) -> None:
    for est in estimates:
        w = want["cohorts"][est.cohort]
        assert (est.n, est.events) == (w["n"], w["events"])
        close(est.coef, w["coef"], 1e-6)
        close(est.se, w["se"], 1e-6)


def test_end_to_end_real_cohorts_iss(gse24080: pd.DataFrame, commpass_full: pd.DataFrame) -> None:
    frames = real_cohorts(gse24080, commpass_full)
    cohorts = []
    for name, d in frames.items():
        d = d[d["iss"].notna()]
        cohorts.append(cohort(name, d, "os_time", "os_event", (d["iss"] == 3).astype(float)))
    v = validate_cohorts(cohorts, marker="ISS III", endpoint="os")
    want = gold()["meta_analysis"]["real_iss3_os"]
    _check_cohorts(v.estimates_continuous, want)
    assert v.meta_continuous is not None
    assert v.meta_continuous.heterogeneity.tau2 == 0.0  # REML maximal at the boundary
    assert_meta_matches(v.meta_continuous, want["meta"], rel=1e-4)


def test_end_to_end_real_cohorts_age(gse24080: pd.DataFrame, commpass_full: pd.DataFrame) -> None:
    frames = real_cohorts(gse24080, commpass_full)
    cohorts = [
        cohort(n, d[d["age"].notna()], "os_time", "os_event", d.loc[d["age"].notna(), "age"] / 10)
        for n, d in frames.items()
    ]
    v = validate_cohorts(cohorts, marker="age/10", endpoint="os")
    want = gold()["meta_analysis"]["real_age10_os"]
    _check_cohorts(v.estimates_continuous, want)
    assert v.meta_continuous is not None
    assert_meta_matches(v.meta_continuous, want["meta"], rel=1e-4)


def test_end_to_end_simulated_cohorts_continuous_and_q1() -> None:
    sim = sim_multicohort()
    cohorts = [cohort(c, g, "time", "event", g["marker"]) for c, g in sim.groupby("cohort")]
    v = validate_cohorts(cohorts, marker="marker", endpoint="os", cut="q1", landmark=36.0)
    g = gold()["meta_analysis"]
    _check_cohorts(v.estimates_continuous, g["sim_marker"])
    _check_cohorts(v.estimates_cut, g["sim_marker_q1"])
    assert v.meta_continuous is not None and v.meta_cut is not None
    assert_meta_matches(v.meta_continuous, g["sim_marker"]["meta"], rel=1e-4)
    assert_meta_matches(v.meta_cut, g["sim_marker_q1"]["meta"], rel=1e-4)


def test_two_cohorts_have_one_df_and_no_leave_one_out(gse24080: pd.DataFrame) -> None:
    d = gse24080[gse24080["b2m_mg_l"].notna()]
    cohorts = [
        cohort(p, g, "efs_time", "efs_event", np.log2(g["b2m_mg_l"]))
        for p, g in d.groupby("protocol")
    ]
    v = validate_cohorts(cohorts, marker="B2M", endpoint="efs", scale="log2")
    want = gold()["meta_analysis"]["gse_two_protocols_log2b2m_efs"]
    assert v.meta_continuous is not None
    assert v.meta_continuous.random.df == 1 and v.meta_continuous.prediction.df == 1
    assert "leave-one-out needs at least 3 cohorts" in v.meta_continuous.notes
    assert_meta_matches(v.meta_continuous, want["meta"], rel=1e-4)


def test_reml_is_the_maximum_of_the_restricted_likelihood() -> None:
    want = gold()["meta_analysis"]["dat_bcg"]["meta"]
    y, v = np.asarray(want["yi"]), np.asarray(want["vi"])
    tau2, _, converged = reml_tau2(y, v)
    assert converged

    def restricted_loglik(t: float) -> float:
        w = 1 / (v + t)
        mu = np.sum(w * y) / np.sum(w)
        return -0.5 * (np.sum(np.log(v + t)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    grid = np.linspace(max(0.0, tau2 - 0.05), tau2 + 0.05, 201)
    assert all(restricted_loglik(tau2) >= restricted_loglik(t) - 1e-12 for t in grid)


def test_homogeneous_cohorts_give_zero_tau2_and_equal_fixed_and_random_estimates() -> None:
    m = meta_analysis([0.2, 0.2, 0.2], [0.1, 0.2, 0.15])
    assert m.heterogeneity.tau2 == 0.0
    assert m.heterogeneity.i2 == 0.0 and m.heterogeneity.tau2_upper == 0.0
    assert m.random.estimate == pytest.approx(m.fixed.estimate, rel=1e-12)
    # HKSJ scale is 0 with identical estimates: a zero-width interval is the method's answer
    assert m.random.se == 0.0


@pytest.mark.parametrize(
    ("est", "se", "match"),
    [
        ([0.1], [0.2], "at least 2 cohorts"),
        ([0.1, 0.2], [0.2, 0.0], "must be positive"),
        ([0.1, np.nan], [0.2, 0.1], "no finite log hazard ratio"),
        ([0.1, 0.2], [0.2], "differ in length"),
    ],
)
def test_bad_input_is_refused(est: list, se: list, match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        meta_analysis(est, se)


def test_same_input_same_json() -> None:
    want = gold()["meta_analysis"]["sim_marker"]["meta"]
    a = meta_analysis(want["yi"], np.sqrt(want["vi"]), want["names"]).to_dict()
    b = meta_analysis(want["yi"], np.sqrt(want["vi"]), want["names"]).to_dict()
    assert a == b
    assert a["heterogeneity"]["ci_method"] == "Q-profile"
