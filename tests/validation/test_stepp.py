"""STEPP: windows as R stepp, window estimates vs R survival, permutation test under the null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ikaros.errors import AnalysisError
from ikaros.stats.km import kaplan_meier
from ikaros.validation.simulate import TwoArmDesign, simulate_two_arm
from ikaros.validation.stepp import SteppResult, sliding_windows, stepp
from tests.validation._helpers import REL, close, gold, sim_two_arm


def _cases(gse: pd.DataFrame) -> dict[str, tuple]:
    d = gse[gse["b2m_mg_l"].notna()]
    trt = (d["protocol"] == "TT3").astype(int)
    two = sim_two_arm()
    return {
        "gse_efs_log2b2m": (d["efs_time"], d["efs_event"], np.log2(d["b2m_mg_l"]), trt),
        "gse_os_b2m": (d["os_time"], d["os_event"], d["b2m_mg_l"], trt),
        "sim_two_arm": (
            two["time"],
            two["event"],
            two["marker"],
            (two["treatment"] == "active").astype(int),
        ),
    }


@pytest.mark.parametrize("name", ["gse_efs_log2b2m", "gse_os_b2m", "sim_two_arm"])
def test_windows_and_estimates_match_r(gse24080: pd.DataFrame, name: str) -> None:
    want = gold()["stepp"][name]
    time, event, x, trt = _cases(gse24080)[name]
    r = stepp(
        time, event, x, trt, landmark=want["landmark"], r1=want["r1"], r2=want["r2"], n_perm=0
    )
    lows = [w.marker_min for w in r.windows]
    highs = [w.marker_max for w in r.windows]
    assert lows == pytest.approx(want["low"], rel=1e-12)
    assert highs == pytest.approx(want["high"], rel=1e-12)
    for got, w in zip((*r.windows, r.overall), (*want["windows"], want["overall"]), strict=True):
        assert (got.n, got.events) == (w["n"], w["events"])
        close(got.marker_median, w["median"], 1e-12)
        close(got.surv_active, w["surv_active"], 1e-9)
        close(got.surv_reference, w["surv_reference"], 1e-9)
        close(got.se_active, w["se_active"], 1e-9)
        close(got.se_reference, w["se_reference"], 1e-9)
        close(got.log_hr, w["log_hr"], 1e-9)
        close(got.log_hr_se, w["log_hr_se"], 1e-9)
        close(got.hr, float(np.exp(w["log_hr"])), REL)
    assert r.test_diff is None and r.test_hr is None


def test_window_rule_by_hand_with_ties() -> None:
    # 12 patients, values 1..8 with ties at 2 (x3) and 5 (x2); r2 = 5 patients, r1 = 2 shared
    x = [1, 2, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8]
    # first window: smallest upper with >= 5 patients -> values 1..3 (5 patients)
    # next lower: move up from 2 until <= 2 shared with [1, 3]: [3, 3] (1 patient); upper grows
    # to reach 5 patients: 3,4,5,5,6 -> [3, 6]; next lower: shared with [3, 6] <= 2 -> [5, 6]
    # (3 shared) is too many -> [6, 6] (1); upper: 6,7,8,8 -> ends at the last value (4 patients)
    assert sliding_windows(x, 2, 5) == [(1.0, 3.0), (3.0, 6.0), (6.0, 8.0)]
    with pytest.raises(AnalysisError, match="smaller than the number of patients"):
        sliding_windows(x, 2, 12)
    with pytest.raises(AnalysisError, match="r1 < r2"):
        sliding_windows(x, 5, 5)


def test_fast_kaplan_meier_equals_ikaros_km() -> None:
    d = sim_two_arm()
    r = stepp(
        d["time"],
        d["event"],
        d["marker"],
        (d["treatment"] == "active").astype(int),
        landmark=30.0,
        r1=40,
        r2=80,
        n_perm=0,
    )
    for w in r.windows:
        m = (d["marker"] >= w.marker_min) & (d["marker"] <= w.marker_max)
        for arm, surv in (("active", w.surv_active), ("control", w.surv_reference)):
            sel = m & (d["treatment"] == arm)
            km = kaplan_meier(d.loc[sel, "time"], d.loc[sel, "event"])
            assert surv == pytest.approx(km.at(30.0).survival, abs=1e-12)


def test_bands_are_pointwise_and_bonferroni() -> None:
    d = sim_two_arm()
    r = stepp(
        d["time"],
        d["event"],
        d["marker"],
        (d["treatment"] == "active").astype(int),
        landmark=30.0,
        r1=40,
        r2=80,
        n_perm=0,
        conf_level=0.9,
    )
    k = len(r.windows)
    z, zs = stats.norm.isf(0.05), stats.norm.isf(0.1 / (2 * k))
    for w in r.windows:
        assert w.diff_upper - w.diff == pytest.approx(z * w.diff_se, rel=1e-12)
        assert w.diff_upper_simultaneous - w.diff == pytest.approx(zs * w.diff_se, rel=1e-12)
        assert np.log(w.hr_upper_simultaneous / w.hr) == pytest.approx(zs * w.log_hr_se, rel=1e-9)


def test_same_seed_same_permutation_p() -> None:
    d = sim_two_arm()
    args = (d["time"], d["event"], d["marker"], (d["treatment"] == "active").astype(int))

    def run(seed: int) -> SteppResult:
        return stepp(*args, landmark=36.0, r1=40, r2=80, n_perm=200, seed=seed, chunk=64)

    a, b, c = run(1), run(1), run(2)
    assert a.to_dict() == b.to_dict()
    assert a.test_hr is not None and c.test_hr is not None and a.test_hr.p != c.test_hr.p


def test_strong_predictive_marker_is_detected() -> None:
    d = simulate_two_arm(7, TwoArmDesign(n=400, gamma=float(np.log(0.3))))
    r = stepp(
        d["time"],
        d["event"],
        d["marker"],
        (d["treatment"] == "active").astype(int),
        landmark=36.0,
        r1=80,
        r2=120,
        n_perm=300,
        seed=4,
    )
    assert r.test_hr is not None and r.test_hr.p < 0.01
    hrs = [w.hr for w in r.windows]
    assert hrs[0] > hrs[-1]  # the active arm gains with the marker


def test_permutation_p_is_uniform_under_the_null() -> None:
    """Reduced version of benchmarks/validation_sim.py: 120 null data sets (marker unrelated to
    outcome, so that permuting it within arms is exact), 99 permutations each."""
    ps_hr, ps_diff = [], []
    design = TwoArmDesign(n=160, beta_marker=0.0, gamma=0.0)
    for rep in range(120):
        d = simulate_two_arm(10_000 + rep, design)
        r = stepp(
            d["time"],
            d["event"],
            d["marker"],
            (d["treatment"] == "active").astype(int),
            landmark=24.0,
            r1=40,
            r2=70,
            n_perm=99,
            seed=rep,
        )
        assert r.test_hr is not None and r.test_diff is not None
        ps_hr.append(r.test_hr.p)
        ps_diff.append(r.test_diff.p)
    for ps in (np.asarray(ps_hr), np.asarray(ps_diff)):
        assert stats.kstest(ps, "uniform").pvalue > 0.001
        assert 0.01 <= np.mean(ps <= 0.1) <= 0.2  # binomial SD at 120 reps: 2.7 points
