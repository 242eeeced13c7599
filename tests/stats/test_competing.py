"""ikaros.stats.competing against R (cmprsk 2.2-11, survival 3.5-3) and on its own terms.

Golden values: tests/reference/competing (make_golden.R; README.md there). Tolerances, as the
issue asks:

- Aalen-Johansen estimate vs ``cuminc`` and the multi-state ``survfit`` ``pstate``: 1e-6
  absolute; its variance vs ``cuminc``'s ``var``: 1e-6 absolute; the log(-log) interval built
  from it: 1e-6 absolute; numbers at risk and events: exact.
- Gray's test vs ``cuminc``'s ``Tests``: statistic 1e-4 relative, p 1e-3 relative, df exact.
- Fine-Gray vs ``crr``: coefficients and standard errors 1e-6 relative; Wald p 1e-3 relative.
- Cause-specific Cox vs ``coxph(Surv(time, status == cause) ~ X)`` (Efron): coefficients and
  SEs 1e-6 relative, p 1e-3 relative.
- 1 - Kaplan-Meier vs ``1 - survfit(...)$surv`` and its log-log limits: 1e-6 absolute.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import AnalysisError, IkarosError
from ikaros.stats.competing import (
    CIF_CI_METHOD,
    CIFCurve,
    FineGrayFit,
    GrayTest,
    aalen_johansen,
    cause_specific_cox,
    fine_gray,
    gray_test,
    one_minus_km,
)
from ikaros.stats.cox import CoxFit
from tests.conftest import assert_json_close

REF = Path(__file__).resolve().parents[1] / "reference" / "competing"
GOLDEN: dict[str, Any] = json.loads((REF / "golden.json").read_text(encoding="utf-8"))

CIF_ABS = 1e-6
VAR_ABS = 1e-6
CI_ABS = 1e-6
STAT_REL = 1e-4
P_REL = 1e-3
REG_REL = 1e-6
KM_ABS = 1e-6


@cache
def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "inputs" / f"{name}.csv")


def nan(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| where both are defined; NaN positions must coincide."""
    assert np.array_equal(np.isnan(a), np.isnan(b)), "undefined (NaN) positions differ"
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok]), initial=0.0))


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b != 0 else abs(a)


# --------------------------------------------------------------------------- Aalen-Johansen


@pytest.mark.parametrize("case", GOLDEN["cif"], ids=ids(GOLDEN["cif"]))
def test_aalen_johansen_matches_cuminc_and_survfit(case: dict[str, Any]) -> None:
    d = dataset(case["dataset"])
    groups = None if case["group"] is None else d[case["group"]]
    result = aalen_johansen(
        d["time"], d[case["status"]], groups=groups, cause_labels=case["cause_labels"]
    )
    assert len(result) * len(case["cause_labels"]) == len(case["curves"])
    for want in case["curves"]:
        got = result[want["group"]][want["cause"]]
        where = f"{case['id']} {want['group']}/{want['cause']}"
        np.testing.assert_array_equal(got.time, want["time"], err_msg=where)
        np.testing.assert_array_equal(got.n_risk, want["n_risk"], err_msg=where)
        np.testing.assert_array_equal(got.n_event, want["n_event"], err_msg=where)
        est = np.asarray(want["cuminc_est"], dtype=float)
        assert max_abs(got.estimate, est) <= CIF_ABS, where
        assert max_abs(got.estimate, np.asarray(want["survfit_pstate"])) <= CIF_ABS, where
        assert max_abs(got.variance, np.asarray(want["cuminc_var"], dtype=float)) <= VAR_ABS, where
        assert max_abs(got.lower, nan(want["lower"])) <= CI_ABS, where
        assert max_abs(got.upper, nan(want["upper"])) <= CI_ABS, where
        assert got.ci_method == CIF_CI_METHOD


def test_cif_deviation_summary() -> None:
    """The largest deviations from R over all golden curves (printed with ``-s``)."""
    dev = {"estimate_vs_cuminc": 0.0, "estimate_vs_survfit": 0.0, "variance": 0.0, "ci": 0.0}
    for case in GOLDEN["cif"]:
        d = dataset(case["dataset"])
        groups = None if case["group"] is None else d[case["group"]]
        res = aalen_johansen(
            d["time"], d[case["status"]], groups=groups, cause_labels=case["cause_labels"]
        )
        for w in case["curves"]:
            g = res[w["group"]][w["cause"]]
            dev["estimate_vs_cuminc"] = max(
                dev["estimate_vs_cuminc"], max_abs(g.estimate, np.asarray(w["cuminc_est"], float))
            )
            dev["estimate_vs_survfit"] = max(
                dev["estimate_vs_survfit"], max_abs(g.estimate, np.asarray(w["survfit_pstate"]))
            )
            dev["variance"] = max(
                dev["variance"], max_abs(g.variance, np.asarray(w["cuminc_var"], float))
            )
            dev["ci"] = max(
                dev["ci"], max_abs(g.lower, nan(w["lower"])), max_abs(g.upper, nan(w["upper"]))
            )
    print("max |deviation| from R (CIF):", dev)
    assert max(dev.values()) <= CIF_ABS


def test_cif_curves_sum_with_survival_to_one() -> None:
    d = dataset("sim_three")
    res = aalen_johansen(d["time"], d["status"], groups=d["group"])
    for curves in res.values():
        total = sum(c.estimate for c in curves.values())
        assert np.all(total <= 1.0 + 1e-12)
        first = next(iter(curves.values()))
        # 1 - sum of incidences is the all-cause Kaplan-Meier (no event of any cause)
        n, d_all = first.n_risk, sum(c.n_event for c in curves.values())
        km = np.cumprod(1.0 - d_all / n)
        np.testing.assert_allclose(1.0 - total, km, atol=1e-12)


def test_cif_at_is_right_continuous() -> None:
    tt = np.array([1, 2, 2, 3, 5.0])
    ss = np.array([1, 2, 0, 1, 0])
    cif = aalen_johansen(tt, ss, cause_labels={1: "SPM", 2: "death"})["all"]["SPM"]
    assert cif.at(0.5) == (0.0, None, None)
    assert cif.at(1.0)[0] == pytest.approx(0.2)
    assert cif.at(2.9)[0] == pytest.approx(0.2)
    # after the death at 2: S(3-) = 0.8 * 3/4 = 0.6, at risk 2 -> + 0.3
    assert cif.at(3.0)[0] == pytest.approx(0.5)
    assert cif.at(100.0)[0] == pytest.approx(0.5)
    assert cif.events == 2


# --------------------------------------------------------------------------- Gray's test


@pytest.mark.parametrize("case", GOLDEN["gray"], ids=ids(GOLDEN["gray"]))
def test_gray_test_matches_cuminc(case: dict[str, Any]) -> None:
    d = dataset(case["dataset"])
    got = gray_test(
        d["time"],
        d[case["status"]],
        d[case["group"]],
        case["cause"],
        rho=case["rho"],
        cause_labels=case["cause_labels"],
    )
    assert isinstance(got, GrayTest)
    assert got.cause == case["cause"]
    assert got.df == case["df"]
    assert rel(got.statistic, case["statistic"]) <= STAT_REL, (got.statistic, case["statistic"])
    assert rel(got.p, case["p"]) <= P_REL, (got.p, case["p"])
    # cuminc reports 1 - pchisq(): the same number unless p is below ~1e-15
    assert rel(got.p, case["p_cuminc"]) <= P_REL


def test_gray_deviation_summary() -> None:
    worst_stat = worst_p = 0.0
    for case in GOLDEN["gray"]:
        d = dataset(case["dataset"])
        got = gray_test(
            d["time"], d[case["status"]], d[case["group"]], case["code"], rho=case["rho"]
        )
        worst_stat = max(worst_stat, rel(got.statistic, case["statistic"]))
        worst_p = max(worst_p, rel(got.p, case["p"]))
    print(f"Gray's test: max relative deviation statistic {worst_stat:.2e}, p {worst_p:.2e}")
    assert worst_stat <= STAT_REL and worst_p <= P_REL


def test_gray_test_is_invariant_to_group_order_and_labels() -> None:
    d = dataset("sim_ties")
    a = gray_test(d["time"], d["status"], d["arm"], 1)
    coded = d["arm"].map({"len": "z", "len_plus": "a", "obs": "m"})
    b = gray_test(d["time"], d["status"], coded, 1)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-10)
    assert a.groups == ("len", "len_plus", "obs")


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("case", GOLDEN["regression"], ids=ids(GOLDEN["regression"]))
def test_fine_gray_matches_crr(case: dict[str, Any]) -> None:
    d = dataset(case["dataset"])
    cols = ["time", case["status"], *case["covariates"]]
    d = d[cols].dropna().reset_index(drop=True)
    fit = fine_gray(
        d["time"],
        d[case["status"]],
        d[case["covariates"]],
        case["code"],
        cause_labels=case["cause_labels"],
    )
    assert isinstance(fit, FineGrayFit)
    assert fit.converged and fit.cause == case["cause"]
    assert (fit.n, fit.events, fit.competing) == (case["n"], case["events"], case["competing"])
    want = case["crr"]
    for i, name in enumerate(case["covariates"]):
        term = fit.terms[name]
        assert rel(term.coef, want["coef"][i]) <= REG_REL, (name, term.coef, want["coef"][i])
        assert rel(term.se, want["se"][i]) <= REG_REL, (name, term.se, want["se"][i])
        assert rel(term.p, want["p"][i]) <= P_REL, (name, term.p, want["p"][i])
        assert term.hr == pytest.approx(math.exp(term.coef), rel=1e-12)
        assert term.lower < term.hr < term.upper
    assert fit.loglik == pytest.approx(want["loglik"], rel=1e-9)


@pytest.mark.parametrize("case", GOLDEN["regression"], ids=ids(GOLDEN["regression"]))
def test_cause_specific_cox_matches_coxph(case: dict[str, Any]) -> None:
    d = dataset(case["dataset"])
    d = d[["time", case["status"], *case["covariates"]]].dropna().reset_index(drop=True)
    fit = cause_specific_cox(
        d["time"],
        d[case["status"]],
        d[case["covariates"]],
        case["cause"],
        cause_labels=case["cause_labels"],
        ph_test=False,
    )
    assert isinstance(fit, CoxFit)
    assert fit.method == "cox" and fit.ties == "efron"
    want = case["coxph"]
    assert fit.events == want["nevent"]
    for i, name in enumerate(case["covariates"]):
        term = fit.terms[name]
        assert rel(term.coef, want["coef"][i]) <= REG_REL, (name, term.coef, want["coef"][i])
        assert rel(term.se, want["se"][i]) <= REG_REL, (name, term.se, want["se"][i])
        assert rel(term.p, want["p"][i]) <= P_REL, (name, term.p, want["p"][i])


def test_regression_deviation_summary() -> None:
    worst = {"crr_coef": 0.0, "crr_se": 0.0, "cox_coef": 0.0, "cox_se": 0.0}
    for case in GOLDEN["regression"]:
        d = dataset(case["dataset"])
        d = d[["time", case["status"], *case["covariates"]]].dropna().reset_index(drop=True)
        x = d[case["covariates"]]
        fg = fine_gray(d["time"], d[case["status"]], x, case["code"])
        cx = cause_specific_cox(d["time"], d[case["status"]], x, case["code"], ph_test=False)
        for i, name in enumerate(case["covariates"]):
            worst["crr_coef"] = max(
                worst["crr_coef"], rel(fg.terms[name].coef, case["crr"]["coef"][i])
            )
            worst["crr_se"] = max(worst["crr_se"], rel(fg.terms[name].se, case["crr"]["se"][i]))
            worst["cox_coef"] = max(
                worst["cox_coef"], rel(cx.terms[name].coef, case["coxph"]["coef"][i])
            )
            worst["cox_se"] = max(worst["cox_se"], rel(cx.terms[name].se, case["coxph"]["se"][i]))
    print("max relative deviation from R (regression):", worst)
    assert max(worst.values()) <= REG_REL


def test_fine_gray_without_competing_events_is_breslow_cox() -> None:
    """With no competing events the weights vanish: crr reduces to Cox with Breslow ties."""
    from lifelines import CoxPHFitter

    d = dataset("sim_small")
    status = d["status"].where(d["status"] != 2, 0)
    fit = fine_gray(d["time"], status, d[["x"]], 1)
    frame = pd.DataFrame({"t": d["time"], "e": (status == 1).astype(int), "x": d["x"]})
    cph = CoxPHFitter().fit(frame, "t", "e", formula="x", fit_options={"precision": 1e-12})
    # lifelines uses Efron ties, so compare with a Breslow fit computed from scratch instead
    t, e, x = frame["t"].to_numpy(float), frame["e"].to_numpy(), frame["x"].to_numpy(float)

    def breslow_score(b: float) -> float:
        return sum(
            x[i] - (np.exp(b * x) * x)[t >= t[i]].sum() / np.exp(b * x)[t >= t[i]].sum()
            for i in np.flatnonzero(e)
        )

    from scipy.optimize import brentq

    b = brentq(breslow_score, -10, 10, xtol=1e-14)
    assert fit.terms["x"].coef == pytest.approx(b, rel=1e-8)
    assert cph.params_["x"] != pytest.approx(b, rel=1e-8)  # Efron differs: the tie rule matters


# --------------------------------------------------------------------------- 1 - Kaplan-Meier


@pytest.mark.parametrize("case", GOLDEN["km"], ids=ids(GOLDEN["km"]))
def test_one_minus_km_matches_survfit(case: dict[str, Any]) -> None:
    d = dataset(case["dataset"])
    groups = None if case["group"] is None else d[case["group"]]
    res = one_minus_km(
        d["time"],
        d[case["status"]],
        case["cause"],
        groups=groups,
        cause_labels=case["cause_labels"],
    )
    for want in case["curves"]:
        got = res[want["group"]]
        assert isinstance(got, CIFCurve)
        np.testing.assert_array_equal(got.time, want["time"])
        assert max_abs(got.estimate, np.asarray(want["one_minus_surv"], float)) <= KM_ABS
        assert max_abs(got.lower, nan(want["lower"])) <= KM_ABS
        assert max_abs(got.upper, nan(want["upper"])) <= KM_ABS


def _late_comparison(name: str, status: str, cause: int, labels: list[str]) -> pd.DataFrame:
    d = dataset(name)
    aj = aalen_johansen(d["time"], d[status], cause_labels=labels)["all"][labels[cause - 1]]
    km = one_minus_km(d["time"], d[status], cause, cause_labels=labels)["all"]
    np.testing.assert_array_equal(aj.time, km.time)
    late = aj.time >= np.quantile(d["time"], 0.75)
    return pd.DataFrame(
        {
            "time": aj.time[late],
            "one_minus_km": km.estimate[late],
            "aalen_johansen": aj.estimate[late],
        }
    )


@pytest.mark.parametrize(
    ("name", "status", "cause", "labels"),
    [
        ("mgus1_first", "status", 1, ["pcm", "death"]),
        ("sim_ties", "status", 1, ["SPM", "death"]),
    ],
)
def test_one_minus_km_overstates_incidence_when_deaths_compete(
    name: str, status: str, cause: int, labels: list[str]
) -> None:
    """1 - KM > Aalen-Johansen at every time past the 3rd quartile of follow-up."""
    late = _late_comparison(name, status, cause, labels)
    last = late.iloc[-1]
    print(
        f"{name}: {labels[cause - 1]} at t = {last.time:g}: 1 - KM = {last.one_minus_km:.4f}, "
        f"Aalen-Johansen = {last.aalen_johansen:.4f} "
        f"(ratio {last.one_minus_km / last.aalen_johansen:.2f})"
    )
    assert len(late) > 0
    assert np.all(late["one_minus_km"] > late["aalen_johansen"])


def test_mgus1_pcm_incidence_numbers() -> None:
    """The issue's example in numbers: PCM after MGUS at 20 years (7305 days)."""
    d = dataset("mgus1_first")
    aj = aalen_johansen(d["time"], d["status"], cause_labels=["pcm", "death"])["all"]
    km = one_minus_km(d["time"], d["status"], "pcm", cause_labels=["pcm", "death"])["all"]
    f_aj, lo, hi = aj["pcm"].at(7305.0)
    f_km = km.at(7305.0)[0]
    assert f_km > f_aj + 0.05  # deaths compete heavily in this elderly cohort
    assert lo is not None and hi is not None and lo < f_aj < hi
    # the complete picture adds up: PCM + death + still free of both = 1
    assert f_aj + aj["death"].at(7305.0)[0] <= 1.0


# --------------------------------------------------------------------------- validation


TT = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
SS = np.array([1, 2, 0, 1, 2, 0])
GG = np.array(["a", "a", "a", "b", "b", "b"])
XX = pd.DataFrame({"x": [0.1, 0.5, 0.2, 0.9, 0.3, 0.7]})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gray_test(TT, SS, GG, 3), "unknown cause 3: the causes are 1..2"),
        (
            lambda: fine_gray(TT, SS, XX, "relapse", cause_labels=["SPM", "death"]),
            "unknown cause 'relapse'",
        ),
        (
            lambda: aalen_johansen(TT, np.array([1, 2, 0, 3, 2, 0]), cause_labels=["SPM", "death"]),
            "status must be 0 (censored) or a cause code 1..2; found 3 (1 patient)",
        ),
        (lambda: aalen_johansen(TT, np.array([1, -1, 0, 1, 2, 0])), "found -1 (1 patient)"),
        (lambda: aalen_johansen(TT, np.array([1, 1.5, 0, 1, 2, 0])), "found 1.5"),
        (lambda: aalen_johansen(-TT, SS), "times must be non-negative"),
        (lambda: aalen_johansen(np.array([1, np.nan, 3, 4, 5, 6]), SS), "times must be finite"),
        (lambda: gray_test(TT, np.array([2, 2, 0, 3, 2, 0]), GG, 1), "no events of cause 1"),
        (
            lambda: fine_gray(
                TT, np.array([2, 2, 0, 2, 2, 0]), XX, 1, cause_labels=["SPM", "death"]
            ),
            "no events of cause 1 ('SPM')",
        ),
        (
            lambda: cause_specific_cox(TT, np.array([2, 2, 0, 2, 2, 0]), XX, 1),
            "no events of cause 1",
        ),
        (lambda: one_minus_km(TT, np.array([2, 2, 0, 2, 2, 0]), 1), "no events of cause 1"),
        (
            lambda: aalen_johansen(TT, SS, groups=pd.Categorical(GG, categories=["a", "b", "c"])),
            "group(s) ['c'] have no patients",
        ),
        (
            lambda: gray_test(TT, SS, pd.Categorical(GG, categories=["a", "b", "empty"]), 1),
            "group(s) ['empty'] have no patients",
        ),
        (lambda: gray_test(TT, SS, np.array(["a"] * 6), 1), "at least two groups"),
        (
            lambda: aalen_johansen(TT, SS, groups=np.array(["a", None, "a", "b", "b", "b"])),
            "missing values",
        ),
        (lambda: aalen_johansen(TT, np.zeros(6)), "all 6 patients are censored"),
        (lambda: fine_gray(TT, SS, XX.assign(c=1.0), 1), "take a single value"),
        (lambda: fine_gray(TT, SS, XX.assign(y=[1, np.nan, 0, 1, 0, 1]), 1), "missing"),
        (
            lambda: aalen_johansen(TT, SS, cause_labels={1: "SPM", 3: "death"}),
            "cause_labels must name the codes 1..k",
        ),
        (lambda: aalen_johansen(TT, SS, conf_level=1.5), "conf_level"),
    ],
)
def test_bad_input_raises_analysis_error(call: Any, message: str) -> None:
    with pytest.raises(AnalysisError) as err:
        call()
    assert message in str(err.value)
    assert isinstance(err.value, IkarosError)


def test_causes_can_be_named_and_addressed_by_name() -> None:
    res = aalen_johansen(TT, SS, groups=GG, cause_labels={1: "SPM", 2: "death"})
    assert list(res) == ["a", "b"] and list(res["a"]) == ["SPM", "death"]
    by_code = gray_test(TT, SS, GG, 1, cause_labels=["SPM", "death"])
    by_name = gray_test(TT, SS, GG, "SPM", cause_labels=["SPM", "death"])
    assert by_code == by_name and by_name.cause == "SPM"


def test_declared_cause_without_events_gives_zero_curve() -> None:
    res = aalen_johansen(TT, SS, cause_labels=["SPM", "death", "progression"])["all"]
    assert np.all(res["progression"].estimate == 0.0)
    assert np.all(np.isnan(res["progression"].lower))


# --------------------------------------------------------------------------- R script


def _r_has(package: str) -> bool:
    run = subprocess.run(
        ["Rscript", "-e", f"quit(status = !requireNamespace('{package}', quietly = TRUE))"],
        capture_output=True,
        check=False,
    )
    return run.returncode == 0


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_committed_values(tmp_path: Path) -> None:
    for pkg in ("survival", "cmprsk", "jsonlite"):
        if not _r_has(pkg):
            pytest.skip(f"R package {pkg} is not installed")
    target = tmp_path / "tests" / "reference" / "competing"
    target.mkdir(parents=True)
    shutil.copy(REF / "make_golden.R", target / "make_golden.R")
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    for csv in sorted((REF / "inputs").glob("*.csv")):
        assert (target / "inputs" / csv.name).read_bytes() == csv.read_bytes(), csv.name
    fresh = json.loads((target / "golden.json").read_text(encoding="utf-8"))
    assert_json_close(fresh, GOLDEN, "competing")
