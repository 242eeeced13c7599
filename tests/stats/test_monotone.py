"""Monotone likelihood decided by evidence (issue 10): Cox, scan and Fine-Gray against R.

Golden values: tests/reference/monotone/golden.json from make_golden.R there (R coxph with
``eps = 1e-12``, cmprsk::crr), on the inputs written by make_inputs.py. A finite estimate, however
large, is an ordinary fit that agrees with R (HR 1e-4 relative here; in practice ~1e-8); where R
finds the estimate infinite (coefficient NA or the "may be infinite" warning), ikaros flags the
fit and never reports the numbers of an unconverged iteration.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.scan.engine import NOTE_FIRTH, cox_scan
from ikaros.stats.competing import fine_gray
from ikaros.stats.cox import fit_cox, zero_event_reasons
from tests.conftest import REFERENCE, assert_json_close, golden

HERE = REFERENCE / "monotone"
G = golden("monotone")
COX = {c["id"]: c for c in G["cox"]}
FG = {c["id"]: c for c in G["fine_gray"]}
REL = 1e-4
P_REL = 1e-3


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / name)


def test_large_finite_estimate_is_an_ordinary_fit_equal_to_r() -> None:
    """Repro 1: |coef x SD| ~ 16 used to be called monotone and refitted with Firth."""
    d = _read("cox_finite.csv")
    want = COX["finite"]["tight"]
    assert not want["infinite"]
    fit = fit_cox(d["time"], d["event"], d[["x"]])
    t = fit.terms["x"]
    assert fit.method == "cox" and fit.converged and fit.note is None
    assert abs(t.coef * d["x"].std(ddof=0)) > 15  # the case the old size rule got wrong
    assert t.hr == pytest.approx(want["hr"][0], rel=REL)
    assert t.lower == pytest.approx(want["lower"][0], rel=REL)
    assert t.upper == pytest.approx(want["upper"][0], rel=REL)
    assert t.se == pytest.approx(want["se"][0], rel=REL)
    assert t.p == pytest.approx(want["p"][0], rel=P_REL)
    assert fit.loglik == pytest.approx(want["loglik"], abs=1e-8)
    assert fit.loglik_null == pytest.approx(want["loglik_null"], abs=1e-8)


def test_separated_covariate_with_failed_firth_is_nan_with_reason() -> None:
    """Repro 2: x = -rank(time); R gives NA, the Firth refit fails: NaN and the reason."""
    d = _read("cox_separated.csv")
    assert COX["separated"]["tight"]["infinite"] and COX["separated"]["tight"]["coef"] == [None]
    fit = fit_cox(d["time"], d["event"], d[["x"]])
    t = fit.terms["x"]
    assert fit.method == "none" and not fit.converged
    assert all(math.isnan(v) for v in (t.coef, t.se, t.hr, t.lower, t.upper, t.p))
    assert math.isnan(fit.loglik) and math.isnan(fit.lr_p)
    assert fit.note is not None and "largest x of those at risk" in fit.note
    assert "Firth refit failed" in fit.note
    assert fit.firth_reason is not None and "infinite" in fit.firth_reason


def test_separation_by_a_combination_is_caught_by_the_probe() -> None:
    """x + c separates the deaths (R: x NA, HR of c 2.8e91 with a warning); x alone is finite."""
    d = _read("cox_joint.csv")
    assert COX["joint"]["tight"]["infinite"] and not COX["joint_x_alone"]["tight"]["infinite"]
    with pytest.raises(Exception, match="does not exist"):
        fit_cox(d["time"], d["event"], d[["x", "c"]], firth="never")
    fit = fit_cox(d["time"], d["event"], d[["x", "c"]])
    assert fit.method in ("firth", "none") and fit.firth_reason is not None
    assert "monotone" in fit.firth_reason
    alone = fit_cox(d["time"], d["event"], d[["x"]])
    want = COX["joint_x_alone"]["tight"]
    assert alone.method == "cox"
    assert alone.terms["x"].hr == pytest.approx(want["hr"][0], rel=REL)
    assert alone.terms["x"].p == pytest.approx(want["p"][0], rel=P_REL)


def test_scan_agrees_with_r_on_every_finite_gene_and_flags_the_separated_one() -> None:
    m = _read("scan_matrix.csv")
    genes = [c for c in m.columns if c not in ("time", "event")]
    scan = cox_scan(m["time"], m["event"], m[genes])
    r = G["scan"]
    infinite = np.array(r["infinite"], dtype=bool)
    assert infinite.sum() == 1 and genes[int(np.flatnonzero(infinite)[0])] == "g301"
    fin = ~infinite
    big = np.abs(np.array(r["coef"], dtype=float) * m[genes].std(ddof=0).to_numpy()) > 15
    assert (big & fin).sum() > 100  # most genes have the large finite estimates of repro 1
    assert np.all(scan.method[fin] == "cox") and np.all(scan.converged[fin])
    assert not scan.monotone[fin].any() and np.all(scan.note[fin] == "")
    for key in ("hr", "lower", "upper", "se"):
        np.testing.assert_allclose(
            getattr(scan, key)[fin], np.array(r[key], dtype=float)[fin], rtol=REL, err_msg=key
        )
    np.testing.assert_allclose(scan.p[fin], np.array(r["p"], dtype=float)[fin], rtol=P_REL)
    np.testing.assert_allclose(
        scan.loglik[fin], np.array(r["loglik"], dtype=float)[fin], rtol=0, atol=1e-8
    )
    j = genes.index("g301")
    assert scan.monotone[j] and scan.method[j] == "firth" and scan.note[j] == NOTE_FIRTH


def test_failed_firth_refit_in_the_scan_is_nan_with_the_reason() -> None:
    """Repro 2 as a scan gene: method "none", NaN, the failure in ``note`` (not method=cox)."""
    d = _read("cox_separated.csv")
    scan = cox_scan(d["time"], d["event"], d[["x"]])
    row = scan.to_frame().iloc[0]
    assert row["monotone"] and row["method"] == "none" and not row["converged"]
    assert "Firth refit failed" in row["note"]
    for key in ("coef", "se", "hr", "lower", "upper", "z", "p", "loglik", "lr_statistic", "lr_p"):
        assert math.isnan(row[key]), key
    off = cox_scan(d["time"], d["event"], d[["x"]], firth_refit=False)
    assert off.monotone[0] and not off.converged[0] and off.note[0].startswith("monotone")


def test_fine_gray_separating_covariate_is_flagged_not_converged() -> None:
    """crr reports the separated fit "converged" with SHR ~6e13; ikaros names the covariate."""
    d = _read("fine_gray.csv")
    want = FG["separated"]
    assert want["converged"] and want["coef"][0] > 10  # R's diverged "estimate"
    fit = fine_gray(d["time"], d["status"], d[["x2"]], 1)
    t = fit.terms["x2"]
    assert fit.monotone and not fit.converged
    assert all(math.isnan(v) for v in (t.coef, t.se, t.hr, t.lower, t.upper, t.p))
    assert fit.note is not None and "largest x2" in fit.note and "infinite" in fit.note
    both = fine_gray(d["time"], d["status"], d[["x2", "x3"]], 1)
    assert both.monotone and not both.converged and "x2" in (both.note or "")


def test_fine_gray_finite_case_agrees_with_crr() -> None:
    d = _read("fine_gray.csv")
    want = FG["finite"]
    fit = fine_gray(d["time"], d["status"], d[["x3"]], 1)
    t = fit.terms["x3"]
    assert fit.converged and not fit.monotone and fit.note is None
    assert t.hr == pytest.approx(want["hr"][0], rel=REL)
    assert t.se == pytest.approx(want["se"][0], rel=REL)
    assert t.p == pytest.approx(want["p"][0], rel=P_REL)
    assert fit.loglik == pytest.approx(want["loglik"], abs=1e-8)


def test_zero_event_reason_reads_naturally() -> None:
    event = np.array([0, 0, 0, 1, 1, 0, 1])
    high = np.array([0, 0, 0, 1, 1, 1, 1], dtype=float)
    X = pd.DataFrame({"IKZF1 Q2-4 vs Q1": high, "del17p": high})
    got = zero_event_reasons(event, X)
    assert got["IKZF1 Q2-4 vs Q1"] == ["none of the 3 patients in IKZF1 Q1 had an event"]
    assert got["del17p"] == ["none of the 3 patients with del17p = 0 had an event"]
    fit = fit_cox(np.arange(1.0, 8.0), event, X[["IKZF1 Q2-4 vs Q1"]], ph_test=False)
    assert fit.method in ("firth", "none")  # Firth may fail on 7 patients; the reason stays
    assert fit.firth_reason == "none of the 3 patients in IKZF1 Q1 had an event"


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_golden(tmp_path: Path) -> None:
    """The committed script regenerates golden.json from the committed inputs (~10 s)."""
    target = tmp_path / "monotone"
    target.mkdir()
    for name in ["make_golden.R", *sorted(p.name for p in HERE.glob("*.csv"))]:
        shutil.copy(HERE / name, target / name)
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert_json_close(json.loads((target / "golden.json").read_text()), G, "monotone")
