"""Tests of the vectorised genome-wide engine (ikaros.scan.engine) against R and lifelines.

Reference values: ``tests/reference/scan/golden.json`` from ``make_golden.R`` (R coxph with
Efron ties iterated to the maximum, and survdiff) on all 100 CoMMpass genes and on the simulated
``sim_matrix.csv`` (tied times, null genes, a constant gene, a separated gene). The CoMMpass
parts skip when ``../shared/data`` is absent; the simulated parts always run.
"""

from __future__ import annotations

import json
import math
import shutil
import tracemalloc
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import AnalysisError
from ikaros.scan import CoxScan, cox_scan, logrank_scan
from ikaros.scan.engine import NOTE_CONSTANT, NOTE_FIRTH, NOTE_MONOTONE, NOTE_NO_INFO
from ikaros.stats.cox import fit_cox
from ikaros.stats.firth import fit_firth_cox
from tests.conftest import (
    _commpass,
    assert_json_close,
    require_shared,
    run_reference_script,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "scan"
GOLDEN: dict[str, Any] = json.loads((REF / "golden.json").read_text())
COX = {c["id"]: c for c in GOLDEN["cox"]}
LOGRANK = {c["id"]: c for c in GOLDEN["logrank"]}

HR_RTOL = 1e-6  # HR, CI limits, SE: relative, against R iterated to the maximum
P_RTOL = 1e-6  # Wald and LR p-values, relative
LR_ATOL = 1e-7  # LR chi-square: absolute (it is a difference of log-likelihoods) ...
LR_RTOL = 1e-6  # ... or relative
LOGLIK_ATOL = 1e-8
DEFAULT_RTOL = 1e-5  # HR against R's default stopping rule (eps = 1e-9), which stops early
LOGRANK_RTOL = 1e-8  # chi-square against survdiff


@cache
def sim() -> pd.DataFrame:
    return pd.read_csv(REF / "sim_matrix.csv")


def arr(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a / b - 1.0)


def data_for(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Time, event and the patient table the R case used."""
    if case["dataset"] == "sim":
        d = sim()
        return d["time"].to_numpy(float), d["event"].to_numpy(float), d
    require_shared()
    d = _commpass().copy()
    d["age_years"] = d["age_at_diagnosis"] / 365.25
    if case.get("covariates"):
        d = d.dropna(subset=list(case["covariates"])).reset_index(drop=True)
        assert (
            sorted(d["bcr_patient_barcode"]) == GOLDEN["datasets"]["commpass"]["patients_adjusted"]
        )
    assert len(d) == case["n"] and int(d["os_event"].sum()) == case["nevent"]
    return d["os_time"].to_numpy(float), d["os_event"].to_numpy(float), d


@cache
def scanned(case_id: str, firth_refit: bool = True) -> CoxScan:
    case = COX[case_id]
    t, e, d = data_for(case)
    cov = list(case["covariates"])
    return cox_scan(
        t,
        e,
        d[case["genes"]],
        covariates=d[cov] if cov else None,
        firth_refit=firth_refit,
    )


def ordinary(case: dict[str, Any], scan: CoxScan) -> np.ndarray:
    """Genes that R fitted and that converged in both (not monotone, not constant)."""
    fitted = ~np.isnan(arr(case["coef"]))
    r_ok = np.array(case["converged"]) & np.array([w == "" for w in case["warning"]])
    return fitted & r_ok & (scan.method == "cox") & ~scan.monotone


# ---------------------------------------------------------------------------------------------
# Cox against R
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", sorted(COX))
def test_cox_matches_r(case_id: str) -> None:
    case = COX[case_id]
    scan = scanned(case_id)
    assert scan.genes == tuple(case["genes"])
    assert scan.n == case["n"] and scan.events == case["nevent"]
    assert scan.covariates == tuple(case["covariates"])
    ok = ordinary(case, scan)
    expected_ok = 100 if case["dataset"] == "commpass" else 198  # sim: constant + separated
    assert ok.sum() == expected_ok
    assert np.all(scan.converged[ok])
    for ours, theirs in (
        (scan.hr, "hr"),
        (scan.lower, "lower"),
        (scan.upper, "upper"),
        (scan.se, "se"),
        (scan.p, "p"),
        (scan.lr_p, "lr_p"),
    ):
        tol = P_RTOL if theirs.endswith("p") else HR_RTOL
        worst = rel(ours[ok], arr(case[theirs])[ok]).max()
        assert worst < tol, f"{case_id} {theirs}: max relative deviation {worst:.2e}"
    np.testing.assert_allclose(scan.z[ok], arr(case["z"])[ok], rtol=HR_RTOL, atol=1e-9)
    np.testing.assert_allclose(
        scan.lr_statistic[ok], arr(case["lr_chisq"])[ok], rtol=LR_RTOL, atol=LR_ATOL
    )
    np.testing.assert_allclose(scan.loglik[ok], arr(case["loglik"])[ok], rtol=0, atol=LOGLIK_ATOL)
    # loglik_null: the null model, or the covariates-only model when adjusted
    base = case["loglik_base"] if case["covariates"] else arr(case["loglik_zero"])
    np.testing.assert_allclose(scan.loglik_null, base, rtol=0, atol=LOGLIK_ATOL)


@pytest.mark.parametrize("case_id", sorted(COX))
def test_cox_matches_r_default_control(case_id: str) -> None:
    """R's default stopping rule (eps = 1e-9) leaves up to ~1e-6 in the HR; we stay within it."""
    case = COX[case_id]
    scan = scanned(case_id)
    ok = ordinary(case, scan) & np.array(case["converged_default"])
    worst = rel(scan.hr[ok], arr(case["hr_default"])[ok]).max()
    assert worst < DEFAULT_RTOL


@pytest.mark.parametrize("case_id", ["sim/unadjusted", "sim/adjusted"])
def test_special_genes(case_id: str) -> None:
    case = COX[case_id]
    scan = scanned(case_id)
    frame = scan.to_frame()
    # constant gene: R gives NA; we flag it and carry on
    g = frame.loc["g197"]
    assert case["coef"][case["genes"].index("g197")] is None
    assert g["method"] == "none" and g["note"] == NOTE_CONSTANT
    assert math.isnan(g["hr"]) and math.isnan(g["p"]) and not g["converged"]
    # separated gene: R warns that the coefficient may be infinite; we flag it and refit
    i = case["genes"].index("g198")
    assert "infinite" in case["warning"][i]
    g = frame.loc["g198"]
    assert g["monotone"] and g["method"] == "firth" and g["note"] == NOTE_FIRTH
    assert 0 < g["lower"] < g["hr"] < g["upper"] < 1  # deaths only where g198 == 0
    # every other gene is an ordinary converged fit
    others = frame.drop(index=["g197", "g198"])
    assert (others["method"] == "cox").all() and others["converged"].all()
    assert not others["monotone"].any() and (others["note"] == "").all()


@pytest.mark.parametrize("adjusted", [False, True])
def test_firth_refit_equals_direct_firth_fit(adjusted: bool) -> None:
    d = sim()
    cov = ["age", "stage"] if adjusted else []
    scan = scanned("sim/adjusted" if adjusted else "sim/unadjusted")
    j = scan.genes.index("g198")
    design = d[["g198", *cov]].to_numpy(float)
    fit = fit_firth_cox(d["time"], d["event"], design, ["g198", *cov])
    term = fit.terms["g198"]
    assert scan.coef[j] == pytest.approx(term.coef, rel=1e-12)
    assert scan.lower[j] == pytest.approx(term.lower, rel=1e-12)
    assert scan.upper[j] == pytest.approx(term.upper, rel=1e-12)
    assert scan.p[j] == pytest.approx(term.p, rel=1e-12)
    assert scan.lr_p[j] == scan.p[j] and math.isnan(scan.z[j])
    assert scan.loglik[j] == pytest.approx(fit.loglik, rel=1e-12)


def test_monotone_without_firth_is_flagged_not_refitted() -> None:
    scan = scanned("sim/unadjusted", firth_refit=False)
    j = scan.genes.index("g198")
    assert scan.monotone[j] and not scan.converged[j]
    assert scan.method[j] == "cox" and scan.note[j] == NOTE_MONOTONE
    # the iterate ran off (where it stops on the flat asymptote is decided by rounding)
    assert abs(scan.coef[j] * np.std(sim()["g198"])) > 10
    assert scan.monotone.sum() == 1


def test_monotone_in_adjusted_model_only_by_divergence() -> None:
    """Deaths separated by gene + covariate jointly (not by either alone): caught by divergence."""
    rng = np.random.default_rng(5)
    n = 80
    x = rng.normal(size=n)
    c = rng.normal(size=n)
    time = np.argsort(np.argsort(-(x + c))) + 1.0  # each death has the largest x + c at risk
    event = np.ones(n)
    alone = cox_scan(time, event, x[:, None], firth_refit=False)
    assert alone.converged[0] and not alone.monotone[0]
    joint = cox_scan(time, event, x[:, None], covariates=c[:, None], firth_refit=False)
    assert joint.monotone[0] and not joint.converged[0]
    assert joint.note[0] == NOTE_MONOTONE


def test_sparse_gene_on_the_flat_asymptote_is_flagged() -> None:
    """A gene non-zero in three censored patients only: its likelihood is monotone, and near the
    asymptote the score is rounding noise, which can stop Newton-Raphson as if converged."""
    rng = np.random.default_rng(1)
    n = 200
    time = rng.exponential(1.0, n)
    event = (rng.uniform(size=n) < 0.5).astype(float)
    X = rng.normal(size=(n, 6))
    for j in range(3):
        X[:, j] = 0.0
        X[rng.choice(np.flatnonzero(event == 0), 3, replace=False), j] = rng.uniform(1, 5, 3)
    scan = cox_scan(time, event, X, firth_refit=False)
    np.testing.assert_array_equal(scan.monotone, [True] * 3 + [False] * 3)
    np.testing.assert_array_equal(scan.converged, [False] * 3 + [True] * 3)
    refit = cox_scan(time, event, X)
    assert list(refit.method) == ["firth"] * 3 + ["cox"] * 3
    assert np.all(refit.upper[:3] < 10) and np.all(refit.lower[:3] > 0)


# ---------------------------------------------------------------------------------------------
# log-rank against survdiff
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", sorted(LOGRANK))
def test_logrank_matches_survdiff(case_id: str) -> None:
    case = LOGRANK[case_id]
    t, e, d = data_for(case)
    X = d[case["genes"]].to_numpy(float)
    q = 0.25 if case["grouping"] == "q1_vs_rest" else 0.5
    cut = np.quantile(X, q, axis=0)  # numpy "linear" = R type 7
    np.testing.assert_allclose(cut, arr(case["cut"]), rtol=1e-13)
    lr = logrank_scan(t, e, cut < X)
    chisq = arr(case["chisq"])
    two = ~np.isnan(chisq)
    assert np.all(np.isnan(lr.statistic[~two]))  # one group empty: survdiff refuses, we NaN
    assert rel(lr.statistic[two], chisq[two]).max() < LOGRANK_RTOL
    assert rel(lr.p[two], arr(case["p"])[two]).max() < LOGRANK_RTOL
    np.testing.assert_array_equal(lr.n_high, case["n_high"])
    np.testing.assert_array_equal(lr.n_low, case["n_low"])
    np.testing.assert_array_equal(lr.events_high[two], arr(case["obs_high"])[two])
    np.testing.assert_array_equal(lr.events_low[two], arr(case["obs_low"])[two])
    np.testing.assert_allclose(lr.expected_high[two], arr(case["exp_high"])[two], rtol=1e-10)


def test_logrank_accepts_01_integers_and_rejects_other_values() -> None:
    d = sim()
    h = (d[["g001", "g002"]].to_numpy() > 8).astype(int)
    a = logrank_scan(d["time"], d["event"], h)
    b = logrank_scan(d["time"], d["event"], h.astype(bool))
    np.testing.assert_array_equal(a.statistic, b.statistic)
    with pytest.raises(AnalysisError, match="boolean or 0/1"):
        logrank_scan(d["time"], d["event"], h * 2)
    with pytest.raises(AnalysisError, match="high must be"):
        logrank_scan(d["time"], d["event"], h[:10])


# ---------------------------------------------------------------------------------------------
# agreement with lifelines (ikaros.stats.cox.fit_cox) and with the definitions
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("adjusted", [False, True])
def test_agrees_with_fit_cox(adjusted: bool) -> None:
    d = sim()
    genes = ["g001", "g004", "g050", "g101", "g199", "g200"]
    cov = ["age", "stage"] if adjusted else []
    scan = cox_scan(d["time"], d["event"], d[genes], covariates=d[cov] if cov else None)
    for j, g in enumerate(genes):
        fit = fit_cox(d["time"], d["event"], d[[g, *cov]], ph_test=False, firth="never")
        term = fit.terms[g]
        assert scan.hr[j] == pytest.approx(term.hr, rel=1e-6), g
        assert scan.se[j] == pytest.approx(term.se, rel=1e-6), g
        assert scan.p[j] == pytest.approx(term.p, rel=1e-5), g
        assert scan.loglik[j] == pytest.approx(fit.loglik, abs=1e-7), g
        if not adjusted:
            assert scan.lr_statistic[j] == pytest.approx(fit.lr_statistic, rel=1e-5, abs=1e-7)


def test_agrees_with_fit_cox_on_commpass(commpass: pd.DataFrame) -> None:
    genes = [c for c in commpass.columns if c.startswith("ENSG")][:4]
    scan = cox_scan(commpass["os_time"], commpass["os_event"], commpass[genes])
    for j, g in enumerate(genes):
        term = fit_cox(commpass["os_time"], commpass["os_event"], commpass[[g]], ph_test=False)
        assert scan.hr[j] == pytest.approx(term.terms[g].hr, rel=1e-6), g


def _naive_loglik(
    beta: float, time: np.ndarray, event: np.ndarray, x: np.ndarray, ties: str
) -> float:
    """Log partial likelihood straight from the definition, one event time at a time."""
    total = 0.0
    for s in np.unique(time[event == 1]):
        risk = time >= s
        dead = (time == s) & (event == 1)
        d = int(dead.sum())
        s0 = np.exp(beta * x[risk]).sum()
        a0 = np.exp(beta * x[dead]).sum()
        total += beta * x[dead].sum()
        for k in range(d):
            f = k / d if ties == "efron" else 0.0
            total -= math.log(s0 - f * a0)
    return total


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_ties_against_the_definition(ties: str) -> None:
    """Maximum, score 0 and SE from numerical derivatives of a naive partial likelihood."""
    rng = np.random.default_rng(11)
    n = 60
    x = rng.normal(size=n)
    time = np.ceil(rng.exponential(5.0 / np.exp(0.7 * x)))  # heavy ties
    event = (rng.uniform(size=n) < 0.8).astype(float)
    scan = cox_scan(time, event, x[:, None], ties=ties)
    b = float(scan.coef[0])
    ll = lambda v: _naive_loglik(v, time, event, x, ties)  # noqa: E731
    assert scan.loglik[0] == pytest.approx(ll(b), abs=1e-10)
    assert scan.loglik_null[0] == pytest.approx(ll(0.0), abs=1e-10)
    h = 1e-4
    score = (ll(b + h) - ll(b - h)) / (2 * h)
    second = (ll(b + h) - 2 * ll(b) + ll(b - h)) / h**2
    assert abs(score) < 1e-6
    assert scan.se[0] == pytest.approx(1 / math.sqrt(-second), rel=1e-5)


def test_efron_equals_breslow_without_ties() -> None:
    rng = np.random.default_rng(2)
    n = 80
    X = rng.normal(size=(n, 5))
    time = rng.exponential(1.0, n)
    event = (rng.uniform(size=n) < 0.7).astype(float)
    a = cox_scan(time, event, X, ties="efron")
    b = cox_scan(time, event, X, ties="breslow")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)


def test_scale_invariance() -> None:
    """Reported per unit of the gene: scaling a gene scales its coefficient inversely."""
    d = sim()
    X = d[["g001", "g002"]].to_numpy(float)
    a = cox_scan(d["time"], d["event"], X)
    b = cox_scan(d["time"], d["event"], X * np.array([10.0, 0.01]) + 3.0)
    np.testing.assert_allclose(b.coef * [10.0, 0.01], a.coef, rtol=1e-9)
    np.testing.assert_allclose(b.p, a.p, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# invariance, memory, interface
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("adjusted", [False, True])
def test_block_size_and_threads_do_not_change_results(adjusted: bool) -> None:
    d = sim()
    genes = [c for c in d.columns if c.startswith("g")]
    cov = d[["age", "stage"]] if adjusted else None
    ref = cox_scan(
        d["time"], d["event"], d[genes], covariates=cov, block_size=len(genes), threads=1
    )
    for block_size, threads in ((1, 1), (7, 2), (64, 2), (None, 2)):
        got = cox_scan(
            d["time"], d["event"], d[genes], covariates=cov, block_size=block_size, threads=threads
        )
        a, b = got.to_frame(), ref.to_frame()
        pd.testing.assert_frame_equal(a, b, check_exact=True)  # bitwise, NaN == NaN
    # blocks sized by a working-memory budget (as run_scan's threads size them), the working
    # arrays of a thread reused from block to block
    for work_bytes in (1, 200_000, 2**25):
        got = cox_scan(d["time"], d["event"], d[genes], covariates=cov, work_bytes=work_bytes)
        pd.testing.assert_frame_equal(got.to_frame(), ref.to_frame(), check_exact=True)


def test_peak_memory_under_three_times_the_matrix() -> None:
    rng = np.random.default_rng(7)
    n, g = 2000, 500
    X = rng.normal(size=(n, g))
    time = rng.exponential(1.0 / np.exp(0.5 * X[:, 0]))
    event = (rng.uniform(size=n) < 0.6).astype(float)
    high = np.quantile(X, 0.25, axis=0) < X
    cov = rng.normal(size=(n, 2))
    limit = 3 * X.nbytes + 2**20
    for run in (
        lambda: cox_scan(time, event, X),
        lambda: cox_scan(time, event, X, covariates=cov),
        lambda: logrank_scan(time, event, high),
    ):
        tracemalloc.start()
        try:
            run()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < limit, f"peak {peak / 2**20:.1f} MiB vs matrix {X.nbytes / 2**20:.1f} MiB"


def test_progress_is_reported_per_block() -> None:
    d = sim()
    genes = [c for c in d.columns if c.startswith("g")]
    calls: list[tuple[int, int]] = []
    cox_scan(
        d["time"], d["event"], d[genes], block_size=64, progress=lambda a, b: calls.append((a, b))
    )
    assert calls == [(64, 200), (128, 200), (192, 200), (200, 200)]


def test_to_frame_columns() -> None:
    frame = scanned("sim/unadjusted").to_frame()
    assert frame.index.name == "gene" and len(frame) == 200
    assert list(frame.columns) == [
        "coef", "se", "hr", "lower", "upper", "z", "p", "loglik", "loglik_null",
        "lr_statistic", "lr_p", "n_iter", "converged", "monotone", "method", "note",
    ]  # fmt: skip


def test_gene_without_information_is_flagged() -> None:
    """A gene varying only among patients censored before the first death carries no information."""
    d = sim()
    # five extra patients censored at 0.5 months, before the first death (month 1)
    t = np.concatenate([d["time"].to_numpy(float), np.full(5, 0.5)])
    e = np.concatenate([d["event"].to_numpy(float), np.zeros(5)])
    assert t[e == 1].min() > 0.5
    x = np.concatenate([np.zeros(len(d)), np.arange(1.0, 6.0)])
    other = np.concatenate([d["g001"].to_numpy(float), np.zeros(5)])
    scan = cox_scan(t, e, np.column_stack([x, other]))
    assert scan.method[0] == "none" and scan.note[0] == NOTE_NO_INFO and np.isnan(scan.hr[0])
    assert scan.method[1] == "cox"


def test_gene_collinear_with_covariate_is_flagged() -> None:
    d = sim()
    X = np.column_stack([2.0 * d["age"] + 1.0, d["g001"]])
    scan = cox_scan(d["time"], d["event"], X, covariates=d[["age", "stage"]])
    assert scan.method[0] == "none" and scan.note[0] == NOTE_NO_INFO
    assert scan.method[1] == "cox" and scan.converged[1]


def test_missing_expression_names_the_gene() -> None:
    d = sim()
    X = d[["g001", "g002", "g003"]].copy()
    X.loc[5, "g002"] = np.nan
    X.loc[7, "g003"] = np.inf
    with pytest.raises(AnalysisError, match=r"2 gene\(s\): g002, g003"):
        cox_scan(d["time"], d["event"], X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ties": "exact"}, "ties must be"),
        ({"max_iter": 0}, "max_iter"),
        ({"block_size": 0}, "block_size"),
        ({"threads": 0}, "threads"),
        ({"covariate_names": ["a"]}, "without covariates"),
        ({"genes": ["a"]}, "1 gene names given for 2 columns"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    d = sim()
    with pytest.raises(AnalysisError, match=message):
        cox_scan(d["time"], d["event"], d[["g001", "g002"]], **kwargs)


def test_invalid_survival_and_covariates() -> None:
    d = sim()
    X = d[["g001"]]
    with pytest.raises(AnalysisError, match="no events"):
        cox_scan(d["time"], np.zeros(len(d)), X)
    with pytest.raises(AnalysisError, match="non-negative"):
        cox_scan(-d["time"], d["event"], X)
    with pytest.raises(AnalysisError, match="rows"):
        cox_scan(d["time"], d["event"], X.iloc[:10])
    cov = d[["age"]].copy()
    cov.loc[3, "age"] = np.nan
    with pytest.raises(AnalysisError, match="complete cases"):
        cox_scan(d["time"], d["event"], X, covariates=cov)
    with pytest.raises(AnalysisError, match="constant"):
        cox_scan(d["time"], d["event"], X, covariates=np.ones(len(d)))
    separating = np.where(d["event"] == 1, 0.0, 1.0)  # the covariates-only model diverges
    with pytest.raises(AnalysisError, match="covariates-only"):
        cox_scan(d["time"], d["event"], X, covariates=separating)


# ---------------------------------------------------------------------------------------------
# the R script reproduces the stored reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_golden(tmp_path: Path) -> None:
    require_shared()
    target = run_reference_script("scan", tmp_path, timeout=300)
    assert (target / "sim_matrix.csv").read_bytes() == (REF / "sim_matrix.csv").read_bytes()
    assert_json_close(json.loads((target / "golden.json").read_text()), GOLDEN)
