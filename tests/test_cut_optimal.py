"""`analyze --cut optimal` and `ikaros cutpoint`: wiring checked against R maxstat golden values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.cohort import load_cohort
from ikaros.report.build import build_report
from ikaros.study import StudyOptions, run_study
from tests.conftest import golden, require_shared

runner = CliRunner()
MAXSTAT = {c["id"]: c for c in golden("maxstat")["cases"]}


def test_study_optimal_cut_matches_maxstat(tmp_path: Path) -> None:
    path = require_shared() / "gse24080" / "clinical.tsv"
    cohort = load_cohort(
        path, markers=("ldh", "b2m_mg_l"), endpoints=("os",), mapping={"patient_id": "patid"}
    )
    res = run_study(cohort, StudyOptions(("ldh", "b2m_mg_l"), ("os",), cut="optimal"))
    for marker in ("ldh", "b2m_mg_l"):
        a = res.analysis(marker, "os")
        want = MAXSTAT[f"gse24080/os/{marker}"]
        c = a.optimal_cut
        assert c is not None and c.origin == "optimised"
        assert c.cutpoint == want["estimate"]
        assert c.statistic == pytest.approx(want["statistic"], rel=1e-6)
        assert c.p_lau94 == pytest.approx(want["p_lau94"], rel=1e-4)
        assert c.groups["low"].n == want["n_low"] and c.groups["low"].events == want["events_low"]
        assert c.p_lau94 > c.p_unadjusted  # the correction for the search
        assert "NOT corrected" in c.logrank.method
        assert a.cut["origin"] == "prespecified"  # the primary analysis stays pre-specified
    build_report(res, tmp_path, pdf=False)
    html = (tmp_path / "report.html").read_text()
    assert "Optimised cutpoints" in html and "NOT corrected" in html


def test_cutpoint_command_writes_labelled_json(tmp_path: Path) -> None:
    path = require_shared() / "gse24080" / "clinical.tsv"
    out = tmp_path / "cp"
    r = runner.invoke(
        app,
        [
            "cutpoint",
            str(path),
            "--map",
            "patient_id=patid",
            "-m",
            "ldh",
            "-e",
            "efs",
            "--permutations",
            "2000",
            "--bootstrap",
            "50",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    rec = json.loads((out / "cutpoint.json").read_text())
    want = MAXSTAT["gse24080/efs/ldh"]
    assert rec["origin"] == "optimised" and rec["cutpoint"] == want["estimate"]
    assert rec["p_lau94"] == pytest.approx(want["p_lau94"], rel=1e-4)
    assert rec["n_permutations"] == 2000 and rec["ci_lower"] is not None
    assert "NOT corrected" in r.output


def test_cut_option_is_validated(tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        [
            "cutpoint",
            str(tmp_path / "x.csv"),
            "-m",
            "a",
            "-e",
            "os",
            "--pmethod",
            "best",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 2 and "pmethod" in r.output
