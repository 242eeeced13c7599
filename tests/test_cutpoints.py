"""Tests of ikaros.cutpoints (maximally selected log-rank statistics) against R maxstat and by
simulation (the honesty check: the search over cuts must be paid for in the p-value)."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ikaros.cutpoints import (
    Cutpoint,
    logrank_scores,
    maxstat_cutpoint,
    maxstat_scan,
    optimal_grouping,
    p_lausen94,
    standardized_statistics,
)
from ikaros.cutpoints._engine import candidate_bounds, logrank_scores_rows, scan_rows
from ikaros.errors import AnalysisError
from tests.conftest import (
    REFERENCE,
    _commpass,
    _gse24080,
    require_shared,
    run_reference_script,
    shared_data_dir,
)

REF = REFERENCE / "maxstat"
INPUTS = REF / "inputs"
GOLDEN = json.loads((REF / "golden.json").read_text(encoding="utf-8"))
CASES = GOLDEN["cases"]
RULE_CASES = GOLDEN["rule_cases"]
B = 10_000  # Monte-Carlo replicates on both sides
SEED = 20240611


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def _case_data(case_id: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(time, event, x) of a golden case, prepared as make_golden.R does."""
    dataset, endpoint, marker = [*case_id.split("/"), ""][:3]
    if dataset == "gse24080":
        require_shared()
        f = _gse24080()
        return f[f"{endpoint}_time"], f[f"{endpoint}_event"], f[marker]
    if dataset == "commpass":
        require_shared()
        f = _commpass()
        return f["os_time"], f["os_event"], f[marker]
    if dataset == "DLBCL":
        f = pd.read_csv(INPUTS / "DLBCL.csv")
        return f["time"], f["cens"], f[marker]
    assert dataset == "sim", case_id
    f = pd.read_csv(INPUTS / f"{endpoint}.csv")
    return f["time"], f["event"], f["x"]


# --------------------------------------------------------------------------------------------
# against R maxstat
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_lau94_matches_r(case: dict[str, Any]) -> None:
    t, e, x = _case_data(case["id"])
    cut = maxstat_cutpoint(t, e, x, minprop=case["minprop"], maxprop=case["maxprop"])
    # R prints 15 significant digits: the same observed value, and the same patients below it
    assert cut.cutpoint == pytest.approx(case["estimate"], rel=1e-13, abs=0)
    assert cut.n_low == case["n_low"]
    assert cut.n_low + cut.n_high == case["n"]
    assert cut.events_low == case["events_low"]
    assert cut.events_low + cut.events_high == case["n_events"]
    assert _rel(cut.statistic, case["statistic"]) < 1e-6
    # R does not truncate the Lau94 bound at 1; ikaros does
    assert _rel(cut.p_lau94, min(1.0, case["p_lau94"])) < 1e-4
    assert cut.p_unadjusted < cut.p_lau94
    assert cut.origin == "optimised"
    assert cut.p_permutation is None and cut.n_permutations == 0


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_standardized_process_matches_r(case: dict[str, Any]) -> None:
    t, e, x = _case_data(case["id"])
    proc = standardized_statistics(t, e, x, minprop=case["minprop"], maxprop=case["maxprop"])
    assert proc["n_low"].tolist() == case["m_cuts"]
    np.testing.assert_allclose(proc["cut"], case["cuts"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(proc["statistic"], case["stats"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_condmc_matches_r_within_monte_carlo_error(case: dict[str, Any]) -> None:
    t, e, x = _case_data(case["id"])
    mc = case["condmc"]
    assert mc["B"] == B
    cut = maxstat_cutpoint(
        t,
        e,
        x,
        minprop=case["minprop"],
        maxprop=case["maxprop"],
        pmethod="both",
        n_permutations=B,
        seed=SEED,
    )
    assert cut.n_permutations == B
    assert cut.p_permutation is not None
    assert cut.p_permutation >= 1.0 / (B + 1)  # (1 + hits) / (B + 1): never 0
    # R reports hits / B; put it on our scale, then allow 4 binomial SEs (at least that of 1 hit)
    p_r = (1.0 + B * mc["p"]) / (B + 1.0)
    p_se = max(p_r, 1.0 / B)
    se = np.sqrt(p_se * (1.0 - p_se) / B)
    assert abs(cut.p_permutation - p_r) <= 4.0 * se, (cut.p_permutation, mc["p"], se)


@pytest.mark.parametrize("case", RULE_CASES, ids=[c["id"] for c in RULE_CASES])
def test_candidate_cut_rule_matches_r_on_tied_data(case: dict[str, Any]) -> None:
    """60 small random datasets with tied markers and times, minprop/maxprop varied."""
    data = pd.read_csv(INPUTS / "rule_cases.csv")
    d = data[data["case"] == int(case["id"].split("/")[1])]
    kw = {"minprop": case["minprop"], "maxprop": case["maxprop"]}
    if "error" in case:  # R: "no data between minprop, maxprop"
        with pytest.raises(AnalysisError, match="no cutpoint puts between"):
            maxstat_cutpoint(d["time"], d["event"], d["x"], **kw)
        return
    cut = maxstat_cutpoint(d["time"], d["event"], d["x"], **kw)
    assert cut.cutpoint == pytest.approx(case["estimate"], rel=1e-13, abs=0)
    assert cut.n_low == case["n_low"]
    assert _rel(cut.statistic, case["statistic"]) < 1e-6
    assert _rel(cut.p_lau94, min(1.0, case["p_lau94"])) < 1e-4
    proc = standardized_statistics(d["time"], d["event"], d["x"], **kw)
    assert proc["n_low"].tolist() == case["m_cuts"]
    np.testing.assert_allclose(proc["statistic"], case["stats"], rtol=1e-6)


@pytest.mark.parametrize("ref", GOLDEN["plausen94"], ids=lambda r: f"b={r['b']},N={r['N']}")
def test_p_lausen94_matches_r(ref: dict[str, Any]) -> None:
    n = ref["N"]
    # R's m = NULL: a continuous marker, low-group sizes floor(N minprop)..floor(N maxprop)
    m = ref["m"] or list(range(int(n * ref["minprop"]), int(n * ref["maxprop"]) + 1))
    assert _rel(p_lausen94(ref["b"], n, m), min(1.0, ref["p"])) < 1e-10


def test_lausen_1994_worked_example() -> None:
    """Lausen, Sauerbrei & Schumacher (1994, p. 489): b = 2.5, N = 20, 25%-75% gives 0.073."""
    assert round(p_lausen94(2.5, 20, range(5, 16)), 3) == 0.073


# --------------------------------------------------------------------------------------------
# internal consistency
# --------------------------------------------------------------------------------------------


def _literal_scores(t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Hothorn & Lausen (2003) log-rank scores written out as the formula reads (O(n^2))."""
    n = t.size
    gamma = np.array([np.sum(t <= ti) for ti in t])
    return np.array([e[i] - np.sum(e[t <= t[i]] / (n - gamma[t <= t[i]] + 1)) for i in range(n)])


def test_logrank_scores_equal_the_formula_with_ties() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(0, 12, 80).astype(float)
    e = rng.integers(0, 2, 80).astype(float)
    np.testing.assert_allclose(logrank_scores(t, e), _literal_scores(t, e), rtol=1e-13, atol=1e-14)
    # without ties: the event indicator minus the Nelson-Aalen cumulative hazard
    t2 = rng.permutation(80).astype(float)
    order = np.argsort(t2)
    na = np.cumsum(e[order] / (80 - np.arange(80)))
    expected = np.empty(80)
    expected[order] = e[order] - na
    np.testing.assert_allclose(logrank_scores(t2, e), expected, rtol=1e-13, atol=1e-14)


def test_scan_equals_cutpoint_column_by_column_on_commpass() -> None:
    require_shared()
    cp = _commpass()
    genes = [c for c in cp.columns if c.startswith("ENSG")]
    assert len(genes) == 100
    t, e = cp["os_time"].to_numpy(), cp["os_event"].to_numpy()
    X = cp[genes].to_numpy()
    scan = maxstat_scan(t, e, X)
    for j, g in enumerate(genes):
        try:
            one = maxstat_cutpoint(t, e, X[:, j])
        except AnalysisError:
            assert np.isnan(scan["statistic"][j]) and scan["n_cuts"][j] == 0, g
            continue
        assert scan["cutpoint"][j] == one.cutpoint, g
        assert scan["n_low"][j] == one.n_low, g
        assert _rel(scan["statistic"][j], one.statistic) < 1e-12, g
        assert _rel(scan["p_lau94"][j], one.p_lau94) < 1e-12, g
        assert _rel(scan["p_unadjusted"][j], one.p_unadjusted) < 1e-12, g


def test_scan_handles_ties_missing_values_and_constant_columns() -> None:
    rng = np.random.default_rng(8)
    n = 150
    t = np.ceil(rng.exponential(20, n))
    e = rng.binomial(1, 0.6, n)
    X = np.column_stack(
        [
            rng.normal(size=n),
            rng.integers(0, 5, n).astype(float),  # heavily tied
            np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),  # missing values
            np.ones(n),  # constant: no cut, NaN, the scan goes on
            np.r_[np.zeros(140), np.arange(1.0, 11.0)],  # 93% tied at 0: no admissible cut
        ]
    )
    scan = maxstat_scan(t, e, X)
    for j in range(3):
        one = maxstat_cutpoint(t, e, X[:, j])
        assert scan["cutpoint"][j] == one.cutpoint
        assert _rel(scan["statistic"][j], one.statistic) < 1e-12
        assert _rel(scan["p_lau94"][j], one.p_lau94) < 1e-12
    for j in (3, 4):
        assert np.isnan(scan["cutpoint"][j]) and np.isnan(scan["p_lau94"][j])
        assert scan["n_cuts"][j] == 0


def test_invariant_to_patient_order_and_monotone_transform() -> None:
    t, e, x = _case_data("sim/sim_step")
    base = maxstat_cutpoint(t, e, x)
    perm = np.random.default_rng(1).permutation(len(x))
    shuffled = maxstat_cutpoint(t.to_numpy()[perm], e.to_numpy()[perm], x.to_numpy()[perm])
    assert shuffled.cutpoint == base.cutpoint and shuffled.n_low == base.n_low
    assert shuffled.statistic == pytest.approx(base.statistic, rel=1e-12)
    expx = maxstat_cutpoint(t, e, np.exp(x))
    assert expx.cutpoint == pytest.approx(np.exp(base.cutpoint), rel=1e-15)
    assert expx.statistic == pytest.approx(base.statistic, rel=1e-12)


def test_seeded_resampling_is_reproducible() -> None:
    t, e, x = _case_data("sim/sim_null_ties")
    kw: dict[str, Any] = {"pmethod": "condMC", "n_permutations": 500, "n_bootstrap": 50}
    a = maxstat_cutpoint(t, e, x, seed=5, **kw)
    b = maxstat_cutpoint(t, e, x, seed=5, **kw)
    c = maxstat_cutpoint(t, e, x, seed=6, **kw)
    assert a == b
    assert (a.p_permutation, a.ci_lower, a.ci_upper) != (c.p_permutation, c.ci_lower, c.ci_upper)
    assert a.n_bootstrap == 50


def test_optimal_grouping() -> None:
    t, e, x = _case_data("DLBCL/os/MGE")
    cut = maxstat_cutpoint(t, e, x)
    g = optimal_grouping(x, cut)
    assert g.kind == "optimal" and g.labels == ("low", "high") and g.origin == "optimised"
    assert g.cutpoints == (cut.cutpoint,)
    # DLBCL has 2 missing MGE values (code -1); the others split as the Cutpoint says
    complete = x.notna() & t.notna() & e.notna()
    assert np.sum(g.codes == -1) == int(x.isna().sum())
    assert np.sum(g.codes[complete.to_numpy()] == 0) == cut.n_low
    assert np.sum(g.codes[complete.to_numpy()] == 1) == cut.n_high
    with pytest.raises(AnalysisError, match="high group is empty"):
        optimal_grouping(np.asarray(x)[np.asarray(x) <= cut.cutpoint], cut)


# --------------------------------------------------------------------------------------------
# the honesty check and the bootstrap interval (simulation with known truth)
# --------------------------------------------------------------------------------------------


def _null_dataset(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = rng.exponential(24.0, n)
    c = rng.uniform(12.0, 72.0, n)
    return np.minimum(t, c), (t <= c).astype(int), rng.normal(size=n)


def test_honesty_minimum_p_is_a_false_positive_machine_and_corrected_p_is_not() -> None:
    """Null data (marker unrelated to survival), 100 patients, search over 10%-90%.

    The naive p of the optimised cut rejects in ~40% of datasets; the Lau94-corrected p in ~3%
    (the improved Bonferroni bound is conservative: R maxstat gives the same rate, about 2.8% in
    3000 null datasets) and the conditional Monte-Carlo p in ~5%.
    """
    rng = np.random.default_rng(20240611)
    n_data = 2000
    p_naive = np.empty(n_data)
    p_lau = np.empty(n_data)
    for i in range(n_data):
        cut = maxstat_cutpoint(*_null_dataset(rng, 100))
        p_naive[i], p_lau[i] = cut.p_unadjusted, cut.p_lau94
    naive_rate = float(np.mean(p_naive < 0.05))
    lau_rate = float(np.mean(p_lau < 0.05))
    n_mc = 1000
    p_mc = np.empty(n_mc)
    for i in range(n_mc):
        cut = maxstat_cutpoint(
            *_null_dataset(rng, 100), pmethod="condMC", n_permutations=99, seed=i
        )
        assert cut.p_permutation is not None
        p_mc[i] = cut.p_permutation
    mc_rate = float(np.mean(p_mc <= 0.05))
    print(
        f"\nnull rejection at 0.05: unadjusted {naive_rate:.3f} ({n_data} datasets), "
        f"Lau94 {lau_rate:.3f} ({n_data}), condMC {mc_rate:.3f} ({n_mc}, B=99)"
    )
    assert 0.30 <= naive_rate <= 0.50
    assert 0.01 <= lau_rate <= 0.07
    assert 0.03 <= mc_rate <= 0.07


def test_bootstrap_interval_covers_the_true_threshold() -> None:
    """Step effect: hazard x3 above x = 0 (the true threshold), 200 patients, 100 datasets.

    A cut "x <= c" puts the same patients low for every threshold in [c, next observed value),
    so the interval covers the truth when ci_lower <= 0 < (first observed x above ci_upper).
    The percentile bootstrap of a change point is known to undercover (the bootstrap is not
    consistent for argmax estimators); about 80% is what it achieves here.
    """
    rng = np.random.default_rng(11)
    n_data, n = 100, 200
    covered = covered_literal = wrong = 0
    for i in range(n_data):
        x = rng.normal(size=n)
        hazard = np.where(x > 0, 3.0, 1.0) / 24.0
        t = rng.exponential(1.0 / hazard)
        c = rng.uniform(12.0, 72.0, n)
        cut = maxstat_cutpoint(np.minimum(t, c), (t <= c).astype(int), x, n_bootstrap=200, seed=i)
        assert cut.ci_lower is not None and cut.ci_upper is not None
        assert cut.ci_lower <= cut.ci_upper and cut.n_bootstrap == 200
        above = x[x > cut.ci_upper]
        upper_end = above.min() if above.size else np.inf
        covered += cut.ci_lower <= 0.0 < upper_end
        covered_literal += cut.ci_lower <= 0.0 <= cut.ci_upper
        wrong += cut.ci_lower <= 1.0 < upper_end  # the 84th percentile is not the threshold
    print(
        f"\nbootstrap 95% CI coverage of the threshold: {covered / n_data:.2f} "
        f"(literal [lower, upper]: {covered_literal / n_data:.2f}); "
        f"covers x = 1: {wrong / n_data:.2f}"
    )
    assert covered / n_data >= 0.70
    assert wrong / n_data <= 0.10


def test_scan_smoke() -> None:
    """A vectorised scan of 2,000 genes x 1,000 patients gives a cut and a finite corrected p for
    every gene (its speed is measured in benchmarks/bench_scan.py, not here)."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1000, 2000)).round(3)
    out = maxstat_scan(rng.exponential(30, 1000), rng.binomial(1, 0.6, 1000), X)
    assert len(out["p_lau94"]) == 2000
    assert np.all(np.isfinite(out["p_lau94"])) and np.all(np.isfinite(out["cutpoint"]))


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


def _ok_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.exponential(10, 50), rng.binomial(1, 0.5, 50), rng.normal(size=50)


@pytest.mark.parametrize(
    ("minprop", "maxprop"),
    [(0.0, 0.9), (-0.1, 0.9), (0.1, 1.0), (0.6, 0.4), (0.5, 0.5), (float("nan"), 0.9)],
)
def test_minprop_maxprop_out_of_range(minprop: float, maxprop: float) -> None:
    t, e, x = _ok_data()
    pattern = r"0 < minprop < maxprop < 1.*got minprop=.*maxprop="
    with pytest.raises(AnalysisError, match=pattern) as info:
        maxstat_cutpoint(t, e, x, minprop=minprop, maxprop=maxprop)
    assert repr(minprop) in str(info.value) and repr(maxprop) in str(info.value)
    with pytest.raises(AnalysisError, match=pattern):
        maxstat_scan(t, e, x[:, None], minprop=minprop, maxprop=maxprop)


def test_error_messages() -> None:
    t, e, x = _ok_data()
    with pytest.raises(AnalysisError, match=r"too few distinct marker values: 1 among 50"):
        maxstat_cutpoint(t, e, np.full(50, 2.0))
    with pytest.raises(AnalysisError, match=r"no events among the 50 patients"):
        maxstat_cutpoint(t, np.zeros(50), x)
    with pytest.raises(AnalysisError, match=r"no events"):
        maxstat_scan(t, np.zeros(50), x[:, None])
    heavily_tied = np.r_[np.zeros(47), 1.0, 2.0, 3.0]
    with pytest.raises(AnalysisError, match=r"no cutpoint puts between 5 and 45 of the 50"):
        maxstat_cutpoint(t, e, heavily_tied)
    with pytest.raises(AnalysisError, match=r"pmethod must be one of Lau94, condMC, both"):
        maxstat_cutpoint(t, e, x, pmethod="HL")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match=r"event must be 0 or 1; found 2"):
        maxstat_cutpoint(t, np.r_[e[:-1], 2], x)
    with pytest.raises(AnalysisError, match=r"time must be finite and >= 0; found -1"):
        maxstat_cutpoint(np.r_[t[:-1], -1.0], e, x)
    with pytest.raises(AnalysisError, match=r"one value per patient \(50\)"):
        maxstat_cutpoint(t, e, x[:-1])
    with pytest.raises(AnalysisError, match=r"n_permutations must be a positive integer"):
        maxstat_cutpoint(t, e, x, pmethod="condMC", n_permutations=0)
    with pytest.raises(AnalysisError, match=r"n_bootstrap must be a non-negative integer"):
        maxstat_cutpoint(t, e, x, n_bootstrap=-1)
    with pytest.raises(AnalysisError, match=r"alpha must be in \(0, 1\)"):
        maxstat_cutpoint(t, e, x, alpha=1.5)
    with pytest.raises(AnalysisError, match=r"X must be a \(patients x markers\) matrix with 50"):
        maxstat_scan(t, e, np.ones((49, 3)))


def test_missing_values_are_complete_cases() -> None:
    t, e, x = _ok_data()
    full = maxstat_cutpoint(t[5:], e[5:], x[5:])
    xm, tm = x.copy(), t.copy()
    xm[:3] = np.nan
    tm[3:5] = np.nan
    assert maxstat_cutpoint(tm, e, xm) == full
    assert isinstance(full, Cutpoint)


# --------------------------------------------------------------------------------------------
# the R script regenerates the committed reference values
# --------------------------------------------------------------------------------------------


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_reference_script_reproduces_golden(tmp_path: Path) -> None:
    if not shared_data_dir().is_dir():
        pytest.skip("shared data absent")
    ok = subprocess.run(
        ["Rscript", "-e", "library(maxstat)"], capture_output=True, check=False, timeout=60
    )
    if ok.returncode != 0:
        pytest.skip("R package maxstat is not installed")
    target = run_reference_script("maxstat", tmp_path)
    assert json.loads((target / "golden.json").read_text()) == GOLDEN
    for csv in INPUTS.glob("*.csv"):
        assert (target / "inputs" / csv.name).read_bytes() == csv.read_bytes(), csv.name


def _scan_row_by_definition(xs: np.ndarray, a: np.ndarray, lo: int, hi: int) -> tuple:
    """One sorted row by the textbook formulas, a Python loop over the sizes of the low group:
    (index, |Z| max, number of cuts, sum t, sum t^3)."""
    n = xs.size
    c = a - a.mean()
    ss = float(c @ c)
    cuts = [m for m in range(max(lo, 1), min(hi, n - 1) + 1) if xs[m - 1] < xs[m] and ss > 0]
    best, index = -np.inf, -1
    for m in cuts:
        z = abs(c[:m].sum()) / np.sqrt(m * (n - m) / (n * (n - 1.0)) * ss)
        if z > best:
            best, index = z, m - 1
    t = [
        np.sqrt(max(0.0, 1 - m1 * (n - m2) / ((n - m1) * m2)))
        for m1, m2 in itertools.pairwise(cuts)
    ]
    return index, best, len(cuts), float(np.sum(t)), float(np.sum(np.power(t, 3)))


@pytest.mark.parametrize("n", [7, 40, 301])
def test_scan_rows_equals_the_definition(n: int) -> None:
    """The vectorised scan (only the admissible sizes touched, Lau94 sums shared by rows
    without ties) against a loop over cuts: rows with and without ties, a constant row, scores
    without information, and narrow and wide admissible ranges."""
    rng = np.random.default_rng(n)
    g = 60
    x = rng.normal(size=(g, n))
    x[::3] = np.round(x[::3], 1)  # ties inside the range
    x[5] = 1.0  # constant: no cut
    x[6, : n // 2] = 0.0  # one long tie
    t = rng.exponential(10, n)
    e = rng.binomial(1, 0.6, n).astype(float)
    scores = np.tile(logrank_scores_rows(t[None, :], e[None, :])[0], (g, 1))
    scores[7] = 0.5  # no information: every score equal
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    a = np.take_along_axis(scores, order, axis=1)
    for minprop, maxprop in ((0.1, 0.9), (0.3, 0.4), (0.01, 0.99)):
        lo, hi = candidate_bounds(n, minprop, maxprop)
        res = scan_rows(xs, a, lo, hi)
        for r in range(g):
            index, best, n_cuts, sum_t, sum_t3 = _scan_row_by_definition(xs[r], a[r], lo, hi)
            assert res.n_cuts[r] == n_cuts
            if n_cuts == 0:
                assert res.index[r] == -1 and np.isnan(res.statistic[r])
                continue
            assert res.index[r] == index
            assert res.statistic[r] == pytest.approx(best, rel=1e-12)
            assert res.cutpoint[r] == xs[r, index]
            # Lausen, Sauerbrei & Schumacher (1994): 2 (1 - Phi(b)) + phi-terms of the t_i
            b = best
            p94 = math.erfc(b / math.sqrt(2.0)) + math.exp(-0.5 * b * b) / math.pi * (
                sum_t - (0.25 * b * b - 1.0) * sum_t3 / 6.0
            )
            assert res.p_lau94_raw[r] == pytest.approx(p94, rel=1e-10)


def test_scan_quantiles_from_the_same_sort_equal_numpy() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(97, 40))
    X[:, :10] = np.round(X[:, :10], 1)
    X[5, 3] = np.nan  # a column with a missing value: its quantiles are NaN
    t, e = rng.exponential(10, 97), rng.binomial(1, 0.6, 97)
    out = maxstat_scan(t, e, X, quantiles=(0.25, 0.5, 0.9))
    ok = ~np.isnan(X).any(axis=0)
    np.testing.assert_array_equal(
        out["quantile"][:, ok], np.quantile(X[:, ok], (0.25, 0.5, 0.9), axis=0)
    )
    assert np.isnan(out["quantile"][:, ~ok]).all()
    assert "quantile" not in maxstat_scan(t, e, X)
