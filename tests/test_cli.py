"""The command line: happy paths, outputs, determinism, progress/quiet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.results import load_results
from ikaros.simulate import demo_cohort
from tests.conftest import ROOT

runner = CliRunner()
QPCR = ROOT / "tests" / "data" / "qpcr"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_demo_writes_results_for_four_markers_and_two_endpoints(demo_dir: Path) -> None:
    res = load_results(demo_dir)
    assert {(a.marker, a.endpoint) for a in res.analyses} == {
        (m, e) for m in ("IKZF1", "IKZF3", "CRBN", "BSG") for e in ("pfs", "os")
    }
    assert res.cohort.n == 60
    assert (demo_dir / "demo_cohort.csv").is_file()
    data = json.loads((demo_dir / "results.json").read_text())
    a = data["analyses"][0]
    for key in (
        "marker",
        "endpoint",
        "transform",
        "n",
        "events",
        "quartiles",
        "groups",
        "logrank",
        "cox_continuous",
        "cox_multivariable",
    ):
        assert key in a
    for g in ("Q1", "Q2-4"):
        assert set(a["groups"][g]["landmark"]) >= {
            "time",
            "survival",
            "lower",
            "upper",
            "ci_method",
        }
    assert set(a["logrank"]) >= {"statistic", "df", "p"}
    assert set(a["cox_continuous"]) >= {"hr", "lower", "upper", "p"}
    assert a["marker"] in a["cox_multivariable"]["terms"]


def test_demo_prints_paper_vs_cohort(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0
    assert "Kronke et al." in result.output and "86% vs 51%" in result.output


def test_analyze_is_deterministic_byte_for_byte(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    demo_cohort().to_csv(cohort, index=False)
    texts = []
    for run in ("a", "b"):
        out = tmp_path / run
        r = runner.invoke(
            app, ["analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "-q", "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
        # the recorded command line names the output directory; everything else is identical
        texts.append((out / "results.json").read_bytes().replace(str(out).encode(), b"OUT"))
    assert texts[0] == texts[1]


def test_analyze_with_mapping_days_and_covariate(tmp_path: Path) -> None:
    frame = demo_cohort().rename(columns={"patient_id": "ID", "IKZF1": "ikaros_expr"})
    frame["pfs_time"] = frame["pfs_time"] * 30.4375
    frame["os_time"] = frame["os_time"] * 30.4375
    path = tmp_path / "c.xlsx"
    frame.to_excel(path, index=False)
    out = tmp_path / "o"
    r = runner.invoke(
        app,
        [
            "analyze",
            str(path),
            "--map",
            "patient_id=ID",
            "--map",
            "IKZF1=ikaros_expr",
            "-m",
            "IKZF1",
            "-e",
            "pfs",
            "--time-unit",
            "days",
            "-c",
            "age",
            "--transform",
            "log2",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    res = load_results(out)
    a = res.analysis("IKZF1", "pfs")
    assert a.transform == "log2"
    assert a.cox_multivariable is not None
    assert set(a.cox_multivariable.terms) == {"IKZF1", "cyto_high_risk", "age"}
    # times converted back to months: the landmark estimate equals the months-based run
    ref = tmp_path / "ref.csv"
    demo_cohort().to_csv(ref, index=False)
    r2 = runner.invoke(
        app, ["analyze", str(ref), "-m", "IKZF1", "-e", "pfs", "-q", "--out", str(tmp_path / "o2")]
    )
    assert r2.exit_code == 0
    b = load_results(tmp_path / "o2").analysis("IKZF1", "pfs")
    assert a.groups["Q1"].landmark.survival == pytest.approx(b.groups["Q1"].landmark.survival)


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    demo_cohort().to_csv(cohort, index=False)
    r = runner.invoke(
        app, ["analyze", str(cohort), "-m", "BSG", "-e", "os", "-q", "--out", str(tmp_path / "o")]
    )
    assert r.exit_code == 0 and r.output == ""


def test_qpcr_command_writes_expression_ready_to_merge(tmp_path: Path) -> None:
    out = tmp_path / "q"
    r = runner.invoke(
        app, ["qpcr", str(QPCR / "ct_basic.csv"), "-r", "GAPDH", "-r", "ACTB", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    expr = pd.read_csv(out / "expression.csv")
    assert expr.columns[0] == "patient_id"
    assert (out / "qc.csv").is_file()


def test_qpcr_bad_table_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "q"
    r = runner.invoke(
        app, ["qpcr", str(QPCR / "bad_ct_range.csv"), "-r", "GAPDH", "--out", str(out)]
    )
    assert r.exit_code == 2
    assert "row 4" in r.output and "'ct'" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_ct_values_to_kaplan_meier_through_expression_table(tmp_path: Path) -> None:
    """Ct table -> ikaros qpcr -> ikaros analyze --expression: markers joined by patient_id."""
    frame = demo_cohort()
    rng = np.random.default_rng(3)
    rows = []
    for pid, value in zip(frame["patient_id"], frame["IKZF1"], strict=True):
        ref_ct = 20.0 + rng.normal(0, 0.3)
        for rep in (1, 2):
            rows.append((pid, "GAPDH", rep, round(ref_ct + rng.normal(0, 0.05), 3)))
            rows.append((pid, "IKZF1", rep, round(ref_ct - np.log2(value), 3)))
    rows.append(("NOT-A-PATIENT", "GAPDH", 1, 20.0))
    rows.append(("NOT-A-PATIENT", "IKZF1", 1, 25.0))
    ct = tmp_path / "ct.csv"
    pd.DataFrame(rows, columns=["sample", "gene", "replicate", "ct"]).to_csv(ct, index=False)
    r = runner.invoke(app, ["qpcr", str(ct), "-r", "GAPDH", "--out", str(tmp_path / "q")])
    assert r.exit_code == 0, r.output
    clinical = tmp_path / "clinical.csv"
    frame.drop(columns=["IKZF1"]).iloc[:-2].to_csv(clinical, index=False)
    out = tmp_path / "o"
    r = runner.invoke(
        app,
        [
            "analyze",
            str(clinical),
            "-x",
            str(tmp_path / "q" / "expression.csv"),
            "-m",
            "IKZF1",
            "-e",
            "pfs",
            "-q",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    res = load_results(out)
    assert res.input.expression_source is not None and res.input.expression_sha256
    assert res.analysis("IKZF1", "pfs").n == 58
    assert any("match no cohort patient" in w and "NOT-A-PATIENT" in w for w in res.warnings)
    # relative expression recovers the simulated values up to the reference noise
    expr = pd.read_csv(tmp_path / "q" / "expression.csv").set_index("patient_id")
    truth = frame.set_index("patient_id")["IKZF1"]
    ratio = np.log2(expr.loc[truth.index, "IKZF1"] / truth)
    assert ratio.abs().max() < 0.3


def test_expression_table_overlapping_column_is_rejected(tmp_path: Path) -> None:
    frame = demo_cohort()
    clinical = tmp_path / "clinical.csv"
    frame.to_csv(clinical, index=False)
    expr = tmp_path / "expr.csv"
    frame[["patient_id", "IKZF1"]].to_csv(expr, index=False)
    r = runner.invoke(
        app,
        [
            "analyze",
            str(clinical),
            "-x",
            str(expr),
            "-m",
            "IKZF1",
            "-e",
            "pfs",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 2
    assert "'IKZF1'" in r.output and "both" in r.output
    assert not (tmp_path / "o").exists()
