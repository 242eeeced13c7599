"""Statistics of reconstructed patient data against R (survival 3.5-3, cmprsk 2.2-11).

The inputs in ``tests/reference/ipd/inputs`` are published-style digitised curves and at-risk
tables (``make_inputs.py``) and the patients ikaros reconstructs from them; ``make_golden.R``
computes R's values on exactly those patients. The tests check that ikaros still reconstructs
the same patients (byte for byte) and that its statistics on them equal R's: RMST and its
standard error to 1e-6 (R ``print(survfit, rmean = tau)``), medians, landmarks and cumulative
incidences to 1e-6, Cox and log-rank statistics to 1e-4 relative.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ikaros.ipd.rmst import rmst
from ikaros.ipd.run import (
    ArmSpec,
    CompetingSpec,
    IPDRun,
    competing_csv,
    ipd_csv,
    run_ipd,
)
from tests.conftest import REFERENCE, assert_json_close, golden

HERE = REFERENCE / "ipd"
INPUTS = HERE / "inputs"
CASES = json.loads((INPUTS / "cases.json").read_text())
LANDMARKS = tuple(CASES["landmarks"])
ABS = 1e-6
REL = 1e-4


@cache
def _two_arm() -> IPDRun:
    specs = [
        ArmSpec(n, INPUTS / f"two_arm_{n}.csv", INPUTS / f"two_arm_{n}_atrisk.csv")
        for n in ("control", "experimental")
    ]
    return run_ipd(specs, landmarks=LANDMARKS)


@cache
def _three_arm() -> IPDRun:
    b, c = CASES["three_arm"]["b"], CASES["three_arm"]["c"]
    specs = [
        ArmSpec("a", INPUTS / "three_arm_a.csv", INPUTS / "three_arm_a_atrisk.csv"),
        ArmSpec("b", INPUTS / "three_arm_b.csv", None, b["events"], b["patients"]),
        ArmSpec("c", INPUTS / "three_arm_c.csv", None, None, c["patients"]),
    ]
    return run_ipd(specs, landmarks=LANDMARKS)


@cache
def _competing() -> IPDRun:
    specs = [
        CompetingSpec(
            n,
            INPUTS / f"cif_{n}_event.csv",
            INPUTS / f"cif_{n}_competing.csv",
            INPUTS / f"cif_{n}_atrisk.csv",
        )
        for n in ("low", "high")
    ]
    return run_ipd([], specs, landmarks=LANDMARKS)


RUNS = {"two_arm": _two_arm, "three_arm": _three_arm}


@pytest.mark.parametrize("case", ["two_arm", "three_arm"])
def test_reconstruction_reproduces_the_committed_patients(case: str) -> None:
    run = RUNS[case]()
    for arm in run.arms:
        stored = (INPUTS / f"ipd_{case}_{arm.name}.csv").read_text(encoding="utf-8")
        assert ipd_csv(arm, "pfs") == stored, arm.name


def test_competing_reconstruction_reproduces_the_committed_patients() -> None:
    for arm in _competing().competing:
        stored = (INPUTS / f"ipd_cif_{arm.name}.csv").read_text(encoding="utf-8")
        assert competing_csv(arm) == stored, arm.name


def _close(got: float | None, want: float | None, *, rel: float = 0.0, abs_: float = 0.0) -> bool:
    if want is None:
        return got is None
    return got is not None and got == pytest.approx(want, rel=rel, abs=abs_)


@pytest.mark.parametrize("case", ["two_arm", "three_arm"])
def test_arm_statistics_match_r(case: str) -> None:
    want = golden("ipd")[case]
    run = RUNS[case]()
    assert run.results.options.tau == pytest.approx(want["default_tau"], abs=1e-9)
    for arm, res in zip(run.arms, run.results.arms, strict=True):
        w = want["arms"][arm.name]
        assert (res.n, res.events) == (w["n"], w["events"])
        for key in ("estimate", "lower", "upper"):
            assert _close(getattr(res.median, key), w["median"][key], abs_=ABS), key
        lm = w["landmarks"]
        for i, mark in enumerate(res.landmarks):
            assert mark.time == lm["time"][i]
            assert mark.survival == pytest.approx(lm["surv"][i], abs=ABS)
            assert _close(mark.lower, lm["lower"][i], abs_=ABS)
            assert _close(mark.upper, lm["upper"][i], abs_=ABS)
            assert mark.n_risk == lm["n_risk"][i]
        km = arm.statistics.curve
        for r in w["rmst"]:
            got = rmst(km, r["tau"])
            assert got.estimate == pytest.approx(r["rmean"], abs=ABS), r["tau"]
            assert got.se == pytest.approx(r["se"], abs=ABS), r["tau"]
        assert res.rmst is not None
        default = w["rmst"][-1]
        assert res.rmst.estimate == pytest.approx(default["rmean"], abs=ABS)
        assert res.rmst.se == pytest.approx(default["se"], abs=ABS)


@pytest.mark.parametrize("case", ["two_arm", "three_arm"])
def test_comparisons_match_r(case: str) -> None:
    want = golden("ipd")[case]
    res = RUNS[case]().results
    assert len(res.comparisons) == len(want["comparisons"])
    for got, w in zip(res.comparisons, want["comparisons"], strict=True):
        assert (got.arm, got.reference) == (w["arm"], w["reference"])
        assert got.cox_method == "cox"
        for key in ("coef", "se", "hr", "lower", "upper", "p"):
            assert getattr(got, key) == pytest.approx(w[key], rel=REL), key
        assert got.logrank_statistic == pytest.approx(w["logrank_statistic"], rel=REL)
        assert got.logrank_p == pytest.approx(w["logrank_p"], rel=REL)
        d, wd = got.rmst_difference, w["rmst_difference"]
        assert d is not None
        for key in ("estimate", "se", "lower", "upper"):
            assert getattr(d, key) == pytest.approx(wd[key], abs=ABS), key
        assert d.p == pytest.approx(wd["p"], rel=REL)
    if want["overall"] is None:
        assert res.overall_logrank is None
    else:
        assert res.overall_logrank is not None
        assert res.overall_logrank.statistic == pytest.approx(want["overall"]["statistic"], rel=REL)
        assert res.overall_logrank.df == want["overall"]["df"]
        assert res.overall_logrank.p == pytest.approx(want["overall"]["p"], rel=REL)


def test_reliability_flags_follow_the_information_used() -> None:
    res = _three_arm().results
    assert [a.method for a in res.arms] == ["at_risk", "total_events", "none"]
    assert [a.reliable for a in res.arms] == [True, True, False]
    assert [c.reliable for c in res.comparisons] == [True, False]
    assert res.arms[1].total_events_matched is True
    assert any("unreliable" in w for w in res.arms[2].warnings)
    assert any("unreliable" in w for w in res.warnings)


def test_competing_risks_match_cmprsk() -> None:
    want = golden("ipd")["competing"]
    run = _competing()
    for arm, res in zip(run.competing, run.results.competing_arms, strict=True):
        w = want["arms"][arm.name]
        assert (res.n, res.events, res.competing_events) == (w["n"], w["events"], w["competing"])
        for key, cause in (("event", "event"), ("competing", "competing event")):
            cif = arm.incidence[cause]
            for i, t in enumerate(LANDMARKS):
                k = int(np.searchsorted(cif.time, t, side="right")) - 1
                assert cif.estimate[k] == pytest.approx(w[f"{key}_at"][i], abs=ABS)
                assert cif.variance[k] == pytest.approx(w[f"{key}_var"][i], abs=1e-9)
        assert [e.incidence for e in res.event_at] == pytest.approx(w["event_at"], abs=ABS)
    gray = run.results.gray_test
    assert gray is not None
    assert gray.statistic == pytest.approx(want["gray"]["statistic"], rel=REL)
    assert gray.df == want["gray"]["df"]
    assert gray.p == pytest.approx(want["gray"]["p"], rel=REL)


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_reference_script_reproduces_golden(tmp_path: Path) -> None:
    target = tmp_path / "tests" / "reference" / "ipd"
    shutil.copytree(HERE / "inputs", target / "inputs")
    shutil.copy(HERE / "make_golden.R", target / "make_golden.R")
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    fresh: Any = json.loads((target / "golden.json").read_text())
    stored: Any = json.loads((HERE / "golden.json").read_text())
    fresh.pop("r_version")
    stored.pop("r_version")
    assert_json_close(fresh, stored, "ipd")
