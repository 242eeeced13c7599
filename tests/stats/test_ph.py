"""Tests of ikaros.stats.ph against R survival's cox.zph (golden values) and known truth."""

from __future__ import annotations

import json
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from ikaros.errors import AnalysisError, IkarosError
from ikaros.stats.ph import PHTest, schoenfeld_test

REPO_ROOT = Path(__file__).resolve().parents[2]
REF_DIR = REPO_ROOT / "tests" / "reference" / "ph"
GOLDEN = json.loads((REF_DIR / "golden.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = GOLDEN["cases"]

RTOL = 1e-6  # relative tolerance on chisq and p
P_ATOL = 1e-12  # absolute tolerance for tiny p-values


def shared_data_dir() -> Path:
    env = os.environ.get("IKAROS_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@cache
def load_dataset(name: str) -> pd.DataFrame:
    if name == "lung":
        return pd.read_csv(REF_DIR / "lung.csv")
    if name == "gse24080":
        return pd.read_csv(shared_data_dir() / "gse24080" / "clinical.tsv", sep="\t")
    raise KeyError(name)


def case_inputs(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """time, event and X for one golden case, built the way make_golden.R builds them."""
    if case["dataset"] == "gse24080" and not shared_data_dir().is_dir():
        pytest.skip(f"shared data directory {shared_data_dir()} is absent (set IKAROS_SHARED_DATA)")
    cov = list(case["covariates"])
    data = load_dataset(case["dataset"])[[case["time"], case["event"], *cov]].dropna()
    time = data[case["time"]].to_numpy(dtype=float)
    if "time_divisor" in case:
        time = np.ceil(time / case["time_divisor"])
    event = (data[case["event"]] == case["event_value"]).to_numpy(dtype=int)
    assert len(time) == case["n"], "complete-case row count differs from R"
    assert event.sum() == case["nevent"], "event count differs from R"
    return time, event, data[cov].to_numpy(dtype=float)


def run_case(case: dict[str, Any], ties: str | None = None) -> PHTest:
    time, event, x = case_inputs(case)
    return schoenfeld_test(
        time,
        event,
        x,
        np.asarray(case["coef"], dtype=float),
        list(case["covariates"]),
        transform=case["transform"],
        ties=ties or case["ties"],
    )


def assert_close(name: str, got: Any, want: dict[str, Any]) -> None:
    assert got.df == want["df"], f"{name}: df {got.df} != R {want['df']}"
    assert math.isclose(got.chisq, want["chisq"], rel_tol=RTOL, abs_tol=0.0), (
        f"{name}: chisq {got.chisq!r} != R {want['chisq']!r}"
    )
    assert math.isclose(got.p, want["p"], rel_tol=RTOL, abs_tol=P_ATOL), (
        f"{name}: p {got.p!r} != R {want['p']!r}"
    )


def test_golden_file_covers_the_brief() -> None:
    assert GOLDEN["survival_version"].startswith("3.")
    kinds = {(c["dataset"], c["ties"], c["transform"]) for c in CASES}
    for dataset in ("gse24080", "lung"):
        for ties in ("efron", "breslow"):
            for transform in ("km", "rank", "identity"):
                assert (dataset, ties, transform) in kinds
    assert any(c["max_tied_events"] > 2 for c in CASES)  # tied event times are exercised
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_r_cox_zph(case: dict[str, Any]) -> None:
    result = run_case(case)
    assert result.transform == case["transform"]
    assert list(result.terms) == list(case["covariates"])  # input order kept
    for name, want in case["terms"].items():
        assert_close(name, result.terms[name], want)
    assert_close("GLOBAL", result.global_test, case["global"])


def test_golden_tolerance_separates_efron_from_breslow() -> None:
    """The comparison is sharp enough to catch the wrong tie handling on tied data."""
    case = next(c for c in CASES if c["id"] == "lung30-efron-km")
    wrong = run_case(case, ties="breslow")
    assert not math.isclose(wrong.global_test.chisq, case["global"]["chisq"], rel_tol=RTOL)


# --- known truth from simulation -------------------------------------------------------------


def fit_beta(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> np.ndarray:
    cols = [f"x{j}" for j in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=cols).assign(T=time, E=event)
    return CoxPHFitter().fit(frame, "T", "E").params_[cols].to_numpy()


def simulate_ph(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Exponential times, hazard 0.1 * exp(0.7 x1 - 0.8 x2): proportional hazards hold."""
    x = np.column_stack([rng.normal(size=n), rng.binomial(1, 0.5, size=n)])
    t = rng.exponential(1.0 / (0.1 * np.exp(x @ np.array([0.7, -0.8]))))
    c = rng.uniform(0.0, 30.0, size=n)
    return np.minimum(t, c), (t <= c).astype(int), x


def simulate_crossing(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Group 0 hazard 1, group 1 hazard 3 t^2 (Weibull shape 3): hazards cross at t = 0.58."""
    g = rng.binomial(1, 0.5, size=n)
    e = rng.exponential(size=n)
    t = np.where(g == 1, e ** (1.0 / 3.0), e)
    c = rng.uniform(0.0, 3.0, size=n)
    return np.minimum(t, c), (t <= c).astype(int), g.reshape(-1, 1).astype(float)


@pytest.mark.parametrize("transform", ["km", "rank", "identity", "log"])
def test_no_evidence_against_ph_when_ph_holds(transform: str) -> None:
    time, event, x = simulate_ph(np.random.default_rng(20240611), 1500)
    res = schoenfeld_test(
        time, event, x, fit_beta(time, event, x), ["x1", "x2"], transform=transform
    )
    assert res.global_test.df == 2
    for test in (*res.terms.values(), res.global_test):
        assert test.p > 0.05
        assert test.chisq < 6.0


@pytest.mark.parametrize("transform", ["km", "rank", "identity", "log"])
def test_detects_crossing_hazards(transform: str) -> None:
    time, event, x = simulate_crossing(np.random.default_rng(7), 800)
    res = schoenfeld_test(time, event, x, fit_beta(time, event, x), ["group"], transform=transform)
    assert res.terms["group"].p < 1e-6
    assert res.global_test.chisq == pytest.approx(res.terms["group"].chisq, rel=1e-12)


@pytest.mark.slow
def test_size_and_power_over_replicates() -> None:
    """Rejection rate at 5%: close to 5% under PH, near 100% when hazards cross."""
    rng = np.random.default_rng(99)
    reps = 200
    null_p = []
    for _ in range(reps):
        time, event, x = simulate_ph(rng, 150)
        res = schoenfeld_test(time, event, x, fit_beta(time, event, x), ["x1", "x2"])
        null_p.append(res.global_test.p)
    size = np.mean(np.asarray(null_p) < 0.05)
    assert 0.015 <= size <= 0.095, f"empirical size {size}"
    alt_p = []
    for _ in range(50):
        time, event, x = simulate_crossing(rng, 300)
        res = schoenfeld_test(time, event, x, fit_beta(time, event, x), ["group"])
        alt_p.append(res.global_test.p)
    assert np.mean(np.asarray(alt_p) < 0.05) >= 0.9


# --- invariances -----------------------------------------------------------------------------


def lung_case() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    case = next(c for c in CASES if c["id"] == "lung-efron-km")
    time, event, x = case_inputs(case)
    return time, event, x, np.asarray(case["coef"], dtype=float)


@pytest.mark.parametrize("transform", ["km", "rank"])
def test_km_and_rank_depend_on_time_order_only(transform: str) -> None:
    time, event, x, beta = lung_case()
    names = ["age", "sex", "ph.ecog"]
    a = schoenfeld_test(time, event, x, beta, names, transform=transform)
    b = schoenfeld_test(np.sqrt(time) + 5.0, event, x, beta, names, transform=transform)
    assert b.global_test.chisq == pytest.approx(a.global_test.chisq, rel=1e-10)


def test_shifting_covariates_changes_nothing() -> None:
    time, event, x, beta = lung_case()
    names = ["age", "sex", "ph.ecog"]
    a = schoenfeld_test(time, event, x, beta, names, transform="identity")
    b = schoenfeld_test(
        time, event, x + np.array([-60.0, 3.0, 100.0]), beta, names, transform="identity"
    )
    for name in names:
        assert b.terms[name].chisq == pytest.approx(a.terms[name].chisq, rel=1e-9)


# --- errors ----------------------------------------------------------------------------------

T = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
E = np.array([1, 0, 1, 1, 0])
X = np.array([[0.1], [0.5], [-0.3], [1.2], [0.0]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"event": np.zeros(5)}, "no events"),
        ({"event": E[:4]}, "event has shape"),
        ({"time": T.reshape(5, 1)}, "one-dimensional"),
        ({"X": X[:4]}, r"\(n, p\) matrix"),
        ({"beta": [0.1, 0.2]}, "beta has shape"),
        ({"names": ["a", "b"]}, "2 names given for 1"),
        ({"event": np.array([1, 0, 2, 1, 0])}, "0/1"),
        ({"X": np.array([[0.1], [np.nan], [0.0], [1.0], [2.0]])}, "finite"),
        ({"transform": "loglog"}, "unknown transform"),
        ({"ties": "exact"}, "unknown ties"),
        ({"time": T - 3.0, "transform": "log"}, "strictly positive"),
        ({"X": np.ones((5, 1))}, "singular"),
        ({"X": np.array([[1.2], [0.5], [-0.3], [0.1], [0.0]]) * 1e4}, "too wide a range"),
    ],
)
def test_errors(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"time": T, "event": E, "X": X, "beta": [0.2], "names": ["a"]}
    args.update(kwargs)
    with pytest.raises(AnalysisError, match=match) as info:
        schoenfeld_test(
            args.pop("time"),
            args.pop("event"),
            args.pop("X"),
            args.pop("beta"),
            args.pop("names"),
            **args,
        )
    assert isinstance(info.value, IkarosError)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_fit_cox_runs_the_same_test_on_its_own_layout(ties: str) -> None:
    """fit_cox tests PH on its sorted, standardised data; the public function on raw data."""
    from ikaros.stats.cox import fit_cox

    rng = np.random.default_rng(12)
    n = 500
    X = pd.DataFrame(
        {"a": rng.normal(5, 2, n), "b": (rng.uniform(size=n) < 0.3) * 1.0, "c": rng.gamma(2, 1, n)}
    )
    time = np.ceil(rng.exponential(10 * np.exp(-0.2 * X["a"] + 0.5 * X["b"]))).astype(float)
    event = (rng.uniform(size=n) < 0.7).astype(int)
    fit = fit_cox(time, event, X, ties=ties)  # type: ignore[arg-type]
    assert fit.ph is not None
    coef = [fit.terms[c].coef for c in X.columns]
    public = schoenfeld_test(time, event, X.to_numpy(), coef, list(X.columns), ties=ties)
    for name in X.columns:
        assert fit.ph.terms[name].chisq == pytest.approx(public.terms[name].chisq, rel=1e-8)
    assert fit.ph.global_test.chisq == pytest.approx(public.global_test.chisq, rel=1e-8)
