"""Tests of the DSMM-XII-like cohort generator (ikaros.simulate)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test

from ikaros.simulate import (
    COLUMNS,
    DEMO_SEED,
    IMWG_RESPONSES,
    MARKERS,
    DemoParameters,
    demo_cohort,
    simulate_cohort,
)

INT_COLUMNS = ("pfs_event", "os_event", "del17p", "t_4_14", "t_14_16", "iss", "age")
FLOAT_COLUMNS = ("pfs_time", "os_time", *MARKERS)


def _high_risk(df: pd.DataFrame) -> pd.Series:
    return ((df["del17p"] + df["t_4_14"] + df["t_14_16"]) > 0).astype(int)


def _q1(df: pd.DataFrame) -> pd.Series:
    return df["IKZF1"] <= np.quantile(df["IKZF1"], 0.25)


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return demo_cohort()


@pytest.fixture(scope="module")
def pooled() -> pd.DataFrame:
    """Three large cohorts (n = 3000 each, same 19/60 high-risk share), pooled."""
    params = DemoParameters(n=3000, n_high_risk=950)
    frames = []
    for seed in (11, 12, 13):
        df = simulate_cohort(seed, params)
        df["high_risk"] = _high_risk(df)
        df["high_ikzf1"] = (~_q1(df)).astype(int)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_same_seed_gives_identical_frame() -> None:
    pd.testing.assert_frame_equal(simulate_cohort(7), simulate_cohort(7))
    pd.testing.assert_frame_equal(demo_cohort(), simulate_cohort(DEMO_SEED))


def test_different_seeds_differ() -> None:
    a, b = simulate_cohort(1), simulate_cohort(2)
    assert not a["pfs_time"].equals(b["pfs_time"])
    assert not a["IKZF1"].equals(b["IKZF1"])


def test_columns_and_dtypes(demo: pd.DataFrame) -> None:
    assert tuple(demo.columns) == COLUMNS
    assert len(demo) == 60
    for col in INT_COLUMNS:
        assert pd.api.types.is_integer_dtype(demo[col]), col
    for col in FLOAT_COLUMNS:
        assert pd.api.types.is_float_dtype(demo[col]), col
    for col in ("patient_id", "best_response", "sex"):
        assert demo[col].map(type).eq(str).all(), col


def test_identifiers(demo: pd.DataFrame) -> None:
    assert demo["patient_id"].is_unique
    assert demo["patient_id"].str.fullmatch(r"DSMM-\d{3}").all()
    assert demo["patient_id"].iloc[0] == "DSMM-001"
    big = simulate_cohort(0, DemoParameters(n=1200, n_high_risk=380))
    assert big["patient_id"].iloc[-1] == "DSMM-1200"


@pytest.mark.parametrize("seed", [0, 1, DEMO_SEED])
def test_ranges_and_invariants(seed: int) -> None:
    df = simulate_cohort(seed)
    for col in ("pfs_event", "os_event", "del17p", "t_4_14", "t_14_16"):
        assert set(df[col].unique()) <= {0, 1}, col
    assert (df["pfs_time"] > 0).all()
    assert (df["os_time"] >= df["pfs_time"]).all()
    # A death is a PFS event, at or before the death.
    assert (df.loc[df["os_event"] == 1, "pfs_event"] == 1).all()
    # Censored PFS without progression means the same censoring time for OS.
    censored = df["pfs_event"] == 0
    assert (df.loc[censored, "os_time"] == df.loc[censored, "pfs_time"]).all()
    assert (df.loc[censored, "os_event"] == 0).all()
    assert df["pfs_time"].max() <= DemoParameters().data_cut_months
    assert np.array_equal(df["pfs_time"], df["pfs_time"].round(2))
    # Risk split 41/19, every high-risk patient with at least one abnormality.
    assert _high_risk(df).sum() == 19
    assert not ((df["t_4_14"] == 1) & (df["t_14_16"] == 1)).any()
    for col in MARKERS:
        values = df[col].to_numpy()
        assert (values > 0).all()
        assert np.array_equal(values, [float(f"{v:.4g}") for v in values])
    assert df["iss"].between(1, 3).all()
    assert set(df["best_response"]) <= set(IMWG_RESPONSES)
    refractory = df["best_response"] == "PD"
    assert (df.loc[refractory, "pfs_event"] == 1).all()
    assert df["age"].between(18, 65).all()
    assert set(df["sex"]) <= {"female", "male"}


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="n_high_risk"):
        DemoParameters(n=10, n_high_risk=11)
    with pytest.raises(ValueError, match="iss_probs"):
        DemoParameters(iss_probs=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="positive definite"):
        DemoParameters(marker_corr=((1, 1, 0, 0), (1, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        DemoParameters().n = 5  # type: ignore[misc]


def test_cox_recovers_generating_pfs_hazard_ratios(pooled: pd.DataFrame) -> None:
    """Known truth: log HR within 0.15 of log(5.06) and log(1.91) (about 3 standard errors)."""
    p = DemoParameters()
    data = pooled[["pfs_time", "pfs_event", "high_risk", "high_ikzf1"]]
    fit = CoxPHFitter().fit(data, "pfs_time", "pfs_event")
    assert fit.params_["high_risk"] == pytest.approx(np.log(p.hr_high_risk_pfs), abs=0.15)
    assert fit.params_["high_ikzf1"] == pytest.approx(np.log(p.hr_high_ikzf1_pfs), abs=0.15)


def test_cox_recovers_generating_os_hazard_ratios(pooled: pd.DataFrame) -> None:
    """OS is generated exactly as a Cox-Weibull model: log HR within 0.2 of the truth."""
    p = DemoParameters()
    data = pooled[["os_time", "os_event", "high_risk", "high_ikzf1"]]
    fit = CoxPHFitter().fit(data, "os_time", "os_event")
    assert fit.params_["high_risk"] == pytest.approx(np.log(p.hr_high_risk_os), abs=0.2)
    assert fit.params_["high_ikzf1"] == pytest.approx(np.log(p.hr_high_ikzf1_os), abs=0.2)


def test_published_associations_hold_in_large_cohorts(pooled: pd.DataFrame) -> None:
    log_ikzf1 = np.log2(pooled["IKZF1"])
    assert log_ikzf1[pooled["iss"] == 3].mean() > log_ikzf1[pooled["iss"] < 3].mean() + 0.2
    deep = pooled["best_response"].isin(["sCR", "CR", "VGPR"])
    partial = pooled["best_response"].isin(["PR", "MR", "SD"])
    assert log_ikzf1[deep].mean() < log_ikzf1[partial].mean() - 0.2
    corr = np.log2(pooled[list(MARKERS)]).corr()
    assert corr.loc["IKZF1", "IKZF3"] > 0.5
    shares = pooled.loc[pooled["high_risk"] == 1, ["t_4_14", "del17p", "t_14_16"]].mean()
    assert shares["t_4_14"] > shares["del17p"] > shares["t_14_16"] > 0


def test_demo_cohort_resembles_published_cohort(demo: pd.DataFrame) -> None:
    q1 = _q1(demo)
    assert q1.sum() == 15
    early_deaths = (demo["os_event"] == 1) & (demo["os_time"] <= 36.0)
    assert not (early_deaths & q1).any()

    def km36(mask: pd.Series, endpoint: str) -> float:
        fit = KaplanMeierFitter().fit(
            demo.loc[mask, f"{endpoint}_time"], demo.loc[mask, f"{endpoint}_event"]
        )
        return float(fit.survival_function_at_times(36.0).iloc[0])

    assert km36(q1, "pfs") == pytest.approx(0.86, abs=0.04)
    assert km36(~q1, "pfs") == pytest.approx(0.51, abs=0.04)
    assert km36(q1, "os") == 1.0
    assert km36(~q1, "os") == pytest.approx(0.74, abs=0.04)
    t, e = demo["pfs_time"], demo["pfs_event"]
    assert logrank_test(t[q1], t[~q1], e[q1], e[~q1]).p_value < 0.05
