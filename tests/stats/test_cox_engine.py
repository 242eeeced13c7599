"""The own Cox engine (:func:`ikaros.stats.cox.fit_cox`) against R coxph and lifelines.

Golden values: tests/reference/cox_engine/golden.json from make_golden.R there (R coxph, eps
1e-12), on inputs the script generates and writes beside itself: ties (Efron and Breslow), no
ties, several covariates, strata, and 100,000 patients in 2 strata. Tolerances: HR and CI
1e-6 relative, SE 1e-4, p-values 1e-3 relative, log-likelihoods 1e-8 absolute.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.stats.cox import CoxFit, fit_cox
from tests.conftest import REFERENCE, assert_json_close, golden

HERE = REFERENCE / "cox_engine"
G = golden("cox_engine")
CASES = {c["id"]: c for c in G["cases"]}
HR_REL = 1e-6
SE_REL = 1e-4
P_REL = 1e-3
LL_ABS = 1e-8


@cache
def _data(file: str) -> pd.DataFrame:
    return pd.read_csv(HERE / file)


def _fit(case: dict) -> CoxFit:
    d = _data(case["file"])
    return fit_cox(
        d["time"],
        d["event"],
        d[case["covariates"]],
        strata=d["stratum"] if case["n_strata"] > 1 else None,
        ties=case["ties"],
        ph_test=False,
    )


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_fit_cox_matches_coxph(case_id: str) -> None:
    case = CASES[case_id]
    fit = _fit(case)
    d = _data(case["file"])
    assert fit.method == "cox" and fit.converged and fit.note is None
    assert fit.n == case["n"] and fit.events == case["nevent"]
    assert fit.strata == case["n_strata"]
    assert int(d["event"].sum()) == case["nevent"]
    for j, name in enumerate(case["covariates"]):
        t = fit.terms[name]
        assert t.hr == pytest.approx(case["hr"][j], rel=HR_REL), name
        assert t.coef == pytest.approx(case["coef"][j], rel=HR_REL), name
        assert t.lower == pytest.approx(case["lower"][j], rel=HR_REL), name
        assert t.upper == pytest.approx(case["upper"][j], rel=HR_REL), name
        assert t.se == pytest.approx(case["se"][j], rel=SE_REL), name
        assert t.z == pytest.approx(case["z"][j], rel=SE_REL), name
        assert t.p == pytest.approx(case["p"][j], rel=P_REL, abs=1e-300), name
    assert fit.loglik == pytest.approx(case["loglik"], abs=LL_ABS)
    assert fit.loglik_null == pytest.approx(case["loglik_null"], abs=LL_ABS)
    assert fit.lr_statistic == pytest.approx(case["lr_chisq"], rel=SE_REL)
    assert fit.lr_df == case["lr_df"]
    assert fit.lr_p == pytest.approx(case["lr_p"], rel=P_REL, abs=1e-300)
    assert fit.wald_statistic == pytest.approx(case["wald_chisq"], rel=SE_REL)
    assert fit.wald_df == case["wald_df"]
    assert fit.wald_p == pytest.approx(case["wald_p"], rel=P_REL, abs=1e-300)


def test_agrees_with_lifelines() -> None:
    """Independent cross-check: lifelines' CoxPHFitter (Efron ties), tightened."""
    from lifelines import CoxPHFitter

    for case_id in ("small_ties", "continuous_no_ties"):
        case = CASES[case_id]
        d = _data(case["file"])
        frame = d[["time", "event", *case["covariates"]]]
        cph = CoxPHFitter().fit(
            frame,
            "time",
            "event",
            fit_options={"step_size": 0.95, "precision": 1e-12, "r_precision": 1e-15},
        )
        fit = _fit(case)
        for name in case["covariates"]:
            assert fit.terms[name].coef == pytest.approx(cph.params_[name], rel=1e-6)
            assert fit.terms[name].se == pytest.approx(cph.standard_errors_[name], rel=1e-5)
        assert fit.loglik == pytest.approx(cph.log_likelihood_, abs=1e-7)


def test_strata_equal_separate_risk_sets() -> None:
    """A stratified fit's log-likelihood is the sum over strata at the same coefficients."""
    case = CASES["strata_3"]
    d = _data(case["file"])
    fit = _fit(case)
    beta = np.array([fit.terms[c].coef for c in case["covariates"]])
    # shifting one stratum's times far away must not change a stratified fit
    moved = d.assign(time=np.where(d["stratum"] == 2, d["time"] + 1000.0, d["time"]))
    again = fit_cox(
        moved["time"],
        moved["event"],
        moved[case["covariates"]],
        strata=moved["stratum"],
        ph_test=False,
    )
    np.testing.assert_allclose([again.terms[c].coef for c in case["covariates"]], beta, rtol=1e-10)
    assert again.loglik == pytest.approx(fit.loglik, abs=1e-9)


def test_row_order_does_not_matter() -> None:
    case = CASES["strata_3"]
    d = _data(case["file"]).sample(frac=1.0, random_state=3)
    fit = fit_cox(d["time"], d["event"], d[case["covariates"]], strata=d["stratum"], ph_test=False)
    for j, name in enumerate(case["covariates"]):
        assert fit.terms[name].hr == pytest.approx(case["hr"][j], rel=HR_REL)


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_inputs_and_golden(tmp_path: Path) -> None:
    """The committed script regenerates every input byte for byte and golden.json (~20 s)."""
    target = tmp_path / "cox_engine"
    target.mkdir()
    shutil.copy(HERE / "make_golden.R", target / "make_golden.R")
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    for case in G["cases"]:
        assert (target / case["file"]).read_bytes() == (HERE / case["file"]).read_bytes()
    assert_json_close(json.loads((target / "golden.json").read_text()), G, "cox_engine")
