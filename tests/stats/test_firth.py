"""Tests of ikaros.stats.firth against an independent R implementation (golden values)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import ikaros.stats.firth as firth_module
from ikaros.errors import AnalysisError
from ikaros.stats.firth import FirthFit, fit_firth_cox, monotone_likelihood
from tests.conftest import assert_json_close

REPO_ROOT = Path(__file__).resolve().parents[2]
REF_DIR = REPO_ROOT / "tests" / "reference" / "firth"
GOLDEN: dict[str, Any] = json.loads((REF_DIR / "golden.json").read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = GOLDEN["cases"]

COEF_ATOL = 1e-5  # absolute, log hazard ratio
SE_RTOL = 1e-5  # relative
CI_RTOL = 1e-4  # relative, hazard-ratio scale
P_RTOL = 1e-3  # relative
LOGLIK_ATOL = 1e-6
DIVERGED = 10.0  # |ordinary Cox coefficient| beyond which R's coxph estimate has run off


@cache
def load(case: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / CASES[case]["csv"])


def inputs(case: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    spec = CASES[case]
    data = load(case)
    names = list(spec["covariates"])
    return (
        data[spec["time"]].to_numpy(dtype=float),
        data[spec["event"]].to_numpy(dtype=float),
        data[names].to_numpy(dtype=float),
        names,
    )


@cache
def fitted(case: str) -> FirthFit:
    return fit_firth_cox(*inputs(case))


def rel(a: float, b: float) -> float:
    return abs(a / b - 1.0)


# ---------------------------------------------------------------------------------------------
# Agreement with the R reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_counts_and_loglik_match_r(case: str) -> None:
    fit, spec = fitted(case), CASES[case]
    assert fit.n == spec["n"]
    assert fit.events == spec["events"]
    assert fit.converged
    assert fit.ci_method == "profile penalised likelihood"
    assert list(fit.terms) == list(spec["covariates"])
    assert fit.loglik == pytest.approx(spec["loglik"], abs=LOGLIK_ATOL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_terms_match_r(case: str) -> None:
    fit = fitted(case)
    for name, ref in CASES[case]["terms"].items():
        term = fit.terms[name]
        assert abs(term.coef - ref["coef"]) <= COEF_ATOL, (name, term.coef, ref["coef"])
        assert rel(term.se, ref["se"]) <= SE_RTOL, (name, term.se, ref["se"])
        assert rel(term.hr, ref["hr"]) <= 1e-5, (name, term.hr, ref["hr"])
        assert rel(term.lower, ref["lower"]) <= CI_RTOL, (name, term.lower, ref["lower"])
        assert rel(term.upper, ref["upper"]) <= CI_RTOL, (name, term.upper, ref["upper"])
        assert rel(term.p, ref["p"]) <= P_RTOL, (name, term.p, ref["p"])


def test_golden_comparison_detects_a_changed_data_set() -> None:
    """Negative control: one event fewer moves the estimates beyond the tolerances."""
    time, event, X, names = inputs("no_separation")
    event = event.copy()
    event[np.flatnonzero(event)[0]] = 0.0
    fit = fit_firth_cox(time, event, X, names)
    worst = max(abs(fit.terms[n].coef - CASES["no_separation"]["terms"][n]["coef"]) for n in names)
    assert worst > 100 * COEF_ATOL


# ---------------------------------------------------------------------------------------------
# Monotone likelihood: ordinary Cox diverges, Firth stays finite
# ---------------------------------------------------------------------------------------------

DIVERGING = [
    (case, name)
    for case, spec in sorted(CASES.items())
    for name, coef in spec["ordinary_cox"]["coef"].items()
    if abs(coef) > DIVERGED
]


def test_reference_has_diverging_cases() -> None:
    assert ("quartile_zero_events", "q1") in DIVERGING
    assert ("single_binary_zero_events", "x") in DIVERGING
    assert all(CASES[case]["ordinary_cox"]["infinite_warning"] for case, _ in DIVERGING)
    assert not CASES["no_separation"]["ordinary_cox"]["infinite_warning"]


@pytest.mark.parametrize(("case", "name"), DIVERGING)
def test_finite_where_ordinary_cox_diverges(case: str, name: str) -> None:
    time, event, _, _ = inputs(case)
    assert monotone_likelihood(time, event, load(case)[name].to_numpy(dtype=float))
    term = fitted(case).terms[name]
    values = [term.coef, term.se, term.hr, term.lower, term.upper, term.p]
    assert all(math.isfinite(v) for v in values)
    assert abs(term.coef) < DIVERGED
    assert 0.0 < term.lower < term.hr < term.upper < math.inf
    # the interval points the way the ordinary estimate ran off
    ordinary = CASES[case]["ordinary_cox"]["coef"][name]
    if ordinary > 0:
        assert term.lower > 1.0
    else:
        assert term.upper < 1.0


@pytest.mark.parametrize("case", sorted(CASES))
def test_monotone_likelihood_flags_only_the_separated_terms(case: str) -> None:
    time, event, _, names = inputs(case)
    for name in names:
        expected = (case, name) in DIVERGING
        x = load(case)[name].to_numpy(dtype=float)
        assert monotone_likelihood(time, event, x) is expected, name


def test_firth_shrinks_but_differs_without_separation() -> None:
    spec = CASES["no_separation"]
    fit = fitted("no_separation")
    gaps = []
    for name, ordinary in spec["ordinary_cox"]["coef"].items():
        coef = fit.terms[name].coef
        assert abs(coef) < abs(ordinary)  # bias reduction pulls towards 0
        gaps.append(abs(coef - ordinary))
    assert min(gaps) > COEF_ATOL  # not the ordinary estimate, beyond the test tolerance
    assert max(gaps) > 100 * COEF_ATOL
    assert max(gaps) < 0.05  # but close to it


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


def test_row_order_does_not_matter() -> None:
    time, event, X, names = inputs("quartile_zero_events")
    order = np.random.default_rng(1).permutation(len(time))
    shuffled = fit_firth_cox(time[order], event[order], X[order], names)
    for name in names:
        a, b = shuffled.terms[name], fitted("quartile_zero_events").terms[name]
        assert a.coef == pytest.approx(b.coef, abs=1e-8)
        assert a.upper == pytest.approx(b.upper, rel=1e-8)
        assert a.p == pytest.approx(b.p, rel=1e-8)


def test_rescaling_a_covariate_rescales_its_coefficient() -> None:
    """Firth's penalty (Jeffreys prior) is invariant under reparametrisation."""
    time, event, X, names = inputs("no_separation")
    scaled = X.copy()
    scaled[:, 1] *= 2.0
    fit = fit_firth_cox(time, event, scaled, names)
    base = fitted("no_separation").terms["z1"]
    assert fit.terms["z1"].coef == pytest.approx(base.coef / 2, abs=1e-7)
    assert fit.terms["z1"].lower == pytest.approx(math.sqrt(base.lower), rel=1e-6)
    assert fit.terms["z1"].p == pytest.approx(base.p, rel=1e-6)
    assert fit.terms["trt"].coef == pytest.approx(fitted("no_separation").terms["trt"].coef)


def test_alpha_sets_the_interval_width() -> None:
    time, event, X, names = inputs("single_binary_zero_events")
    wide = fitted("single_binary_zero_events").terms["x"]
    narrow = fit_firth_cox(time, event, X, names, alpha=0.2).terms["x"]
    assert wide.lower < narrow.lower < narrow.hr < narrow.upper < wide.upper
    assert narrow.coef == wide.coef
    assert narrow.p == wide.p


def test_accepts_lists_and_integer_events() -> None:
    fit = fit_firth_cox(
        [1, 2, 3, 4, 5, 6], [1, 0, 1, 1, 0, 1], [[0], [1], [0], [1], [1], [0]], ["g"]
    )
    assert fit.events == 4
    assert fit.n == 6
    assert math.isfinite(fit.terms["g"].coef)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

T = np.array([5.0, 3.0, 8.0, 2.0, 9.0, 4.0])
E = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
X1 = np.array([[0.0], [1.0], [0.0], [1.0], [1.0], [0.0]])


def test_no_events_raises() -> None:
    with pytest.raises(AnalysisError, match="no events"):
        fit_firth_cox(T, np.zeros(6), X1, ["g"])


@pytest.mark.parametrize(
    ("time", "event", "X", "names", "match"),
    [
        (T[:5], E, X1, ["g"], "same number of subjects"),
        (T, E[:5], X1, ["g"], "same number of subjects"),
        (T, E, X1[:5], ["g"], "same number of subjects"),
        (T, E, X1.ravel(), ["g"], "2-D"),
        (T, E, X1, ["g", "h"], "2 names given for 1 covariate"),
        (T, E, np.hstack([X1, X1 + 1]), ["g", "g"], "not unique"),
        (T, E, np.empty((6, 0)), [], "at least one covariate"),
        (T.reshape(2, 3), E, X1, ["g"], "one-dimensional"),
    ],
)
def test_shape_mismatch_raises(
    time: np.ndarray, event: np.ndarray, X: np.ndarray, names: list[str], match: str
) -> None:
    with pytest.raises(AnalysisError, match=match):
        fit_firth_cox(time, event, X, names)


def test_invalid_values_raise() -> None:
    with pytest.raises(AnalysisError, match="finite"):
        fit_firth_cox(T, E, np.where(np.arange(6)[:, None] == 2, np.nan, X1), ["g"])
    with pytest.raises(AnalysisError, match="non-negative"):
        fit_firth_cox(-T, E, X1, ["g"])
    with pytest.raises(AnalysisError, match="0 \\(censored\\) or 1"):
        fit_firth_cox(T, E * 2, X1, ["g"])
    with pytest.raises(AnalysisError, match="alpha"):
        fit_firth_cox(T, E, X1, ["g"], alpha=1.5)


def test_constant_covariate_raises() -> None:
    with pytest.raises(AnalysisError, match="singular"):
        fit_firth_cox(T, E, np.ones((6, 1)), ["const"])


def test_non_convergence_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(firth_module, "MAX_ITER", 1)
    with pytest.raises(AnalysisError, match="did not converge"):
        fit_firth_cox(*inputs("quartile_zero_events"))


# ---------------------------------------------------------------------------------------------
# monotone_likelihood on small hand-made data
# ---------------------------------------------------------------------------------------------


def test_monotone_likelihood_small_cases() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    event = np.array([1, 1, 0, 1, 0, 0])
    # every event has the largest x of its risk set (censored x = 0 at time 2 ties with it)
    assert monotone_likelihood(time, event, [1, 1, 0, 1, 0, 0])
    # every event has the smallest x
    assert monotone_likelihood(time, event, [0, 0, 1, 0, 1, 1])
    # one event below the risk-set maximum: finite estimate
    assert not monotone_likelihood(time, event, [1, 0, 0, 1, 0, 1])
    # no variation at all: flat, not monotone
    assert not monotone_likelihood(time, event, np.ones(6))
    # tied events must all sit at the extreme
    assert not monotone_likelihood([1, 1, 2], [1, 1, 0], [1, 0, 0])
    with pytest.raises(AnalysisError, match="no events"):
        monotone_likelihood(time, np.zeros(6), np.ones(6))
    with pytest.raises(AnalysisError, match="differ in length"):
        monotone_likelihood(time, event, np.ones(5))


# ---------------------------------------------------------------------------------------------
# The R reference itself is reproducible
# ---------------------------------------------------------------------------------------------


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_golden_json(tmp_path: Path) -> None:
    outdir = tmp_path / "tests" / "reference" / "firth"
    outdir.mkdir(parents=True)
    result = subprocess.run(
        ["Rscript", str(REF_DIR / "make_golden.R")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "max |coef diff|" in result.stdout
    regenerated = json.loads((outdir / "golden.json").read_text(encoding="utf-8"))
    regenerated.pop("r_version")
    regenerated.pop("survival_version")
    stored = {k: v for k, v in GOLDEN.items() if k not in ("r_version", "survival_version")}
    assert_json_close(regenerated, stored, rel=1e-9)
    for spec in CASES.values():
        assert (outdir / spec["csv"]).read_text() == (REF_DIR / spec["csv"]).read_text()
