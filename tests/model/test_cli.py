"""``ikaros model``: demo and file runs, outputs, determinism, and bad input (one error, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.simulate import DEMO_SEED, simulate_cohort
from tests.conftest import one_error_line

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    frame = simulate_cohort(DEMO_SEED)
    frame["crcl"] = [95.0 if i % 3 else 40.0 for i in range(len(frame))]
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = runner.invoke(
        app, ["model", "--demo", "--marker", "IKZF1", "--out", str(out), "--fit-theta"]
    )
    assert result.exit_code == 0, result.output
    assert "0.445" in result.stdout and "17 (28%)" in result.stdout
    return out


def test_demo_writes_everything(demo_out: Path) -> None:
    for rel in (
        "model.json",
        "model_report.html",
        "tables/parameters.csv",
        "tables/patients.csv",
        "tables/dose_response.csv",
        "tables/tornado.csv",
        "tables/theta_fit.csv",
    ):
        assert (demo_out / rel).is_file(), rel
    for stem in ("trajectories", "km_by_class", "dose_response", "tornado", "theta_profile"):
        assert (demo_out / "figures" / f"{stem}.png").is_file()
        assert (demo_out / "figures" / f"{stem}.svg").is_file()
    html = (demo_out / "model_report.html").read_text()
    assert "Hypothesis-generating model" in html
    for anchor in (
        "summary",
        "model",
        "pk",
        "trajectories",
        "classes",
        "dose",
        "sensitivity",
        "fit",
        "patients",
    ):
        assert f'<section id="{anchor}">' in html
    data = json.loads((demo_out / "model.json").read_text())
    assert data["command"].startswith("ikaros model --demo")  # the command line as invoked
    assert data["input"]["source"].startswith("simulated DSMM-XII-like demo cohort")


def test_cohort_file_with_crcl(cohort_csv: Path, tmp_path: Path) -> None:
    """A cohort file with creatinine clearance (byte-identical reruns: tests/model/
    test_result.py and test_figures.py, to keep this suite fast)."""
    out = tmp_path / "o"
    args = [
        "model",
        str(cohort_csv),
        "-m",
        "IKZF3",
        "--dose",
        "15",
        "--schedule",
        "continuous",
        "--crcl",
        "crcl",
        "--no-report",
        "--out",
        str(out),
        "-q",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (out / "model_report.html").is_file() and not (out / "figures").exists()
    data = json.loads((out / "model.json").read_text())
    assert data["input"]["crcl_column"] == "crcl"
    low = [p for p in data["patients"] if p["crcl"] == 40.0]
    normal = [p for p in data["patients"] if p["crcl"] == 95.0]
    assert low and normal
    # poorer renal function -> more drug -> a higher critical mRNA
    assert low[0]["critical_m"] > normal[0]["critical_m"]


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


BAD_OPTIONS = [
    (["--schedule", "weekly"], "unknown schedule 'weekly'"),
    (["--schedule", "30/28"], "schedule '30/28'"),
    (["--dose", "0"], "dose must be a positive number"),
    (["--dose", "-5"], "dose must be a positive number"),
    (["--dose", "1000"], "beyond the studied linear range"),
    (["--marker", "CRBN"], "CRBN is the ligase"),
    (["--marker", "MYC"], "no parameters for marker 'MYC'"),
    (["--cycles", "0"], "number of simulated cycles"),
    (["--theta", "-1"], "model parameter theta"),
    (["--param", "ec50"], "NAME=NUMBER"),
    (["--param", "foo=1"], "unknown model parameter 'foo'"),
    (["--param", "min_hours_below=700"], "minimum time below theta"),
    (["--schedule", "7/7", "--param", "min_hours_below=200"], "shorter than a cycle"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_OPTIONS)
def test_bad_options(extra: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["model", "--demo", "--out", str(out), *extra])
    line = one_error_line(result)
    assert message in line, line
    assert not out.exists()


def test_cohort_and_demo(cohort_csv: Path, tmp_path: Path) -> None:
    line = one_error_line(
        runner.invoke(app, ["model", str(cohort_csv), "--demo", "--out", str(tmp_path / "o")])
    )
    assert "either a cohort file or --demo" in line
    line = one_error_line(runner.invoke(app, ["model", "--out", str(tmp_path / "o")]))
    assert "no cohort given" in line


def test_marker_missing(tmp_path: Path) -> None:
    frame = simulate_cohort(DEMO_SEED).drop(columns=["IKZF1"])
    line = one_error_line(
        runner.invoke(
            app,
            ["model", str(_write(tmp_path, frame)), "-m", "IKZF1", "--out", str(tmp_path / "o")],
        )
    )
    assert "marker column 'IKZF1' not found" in line


@pytest.mark.parametrize("value", [0.0, -0.25])
def test_non_positive_expression(value: float, tmp_path: Path) -> None:
    frame = simulate_cohort(DEMO_SEED)
    frame.loc[4, "IKZF1"] = value
    out = tmp_path / "o"
    line = one_error_line(
        runner.invoke(
            app, ["model", str(_write(tmp_path, frame)), "-m", "IKZF1", "--out", str(out)]
        )
    )
    assert "row 6, column 'IKZF1'" in line and "positive number on a linear scale" in line
    assert not out.exists()


def test_non_positive_crcl(tmp_path: Path) -> None:
    frame = simulate_cohort(DEMO_SEED)
    frame["crcl"] = 80.0
    frame.loc[2, "crcl"] = 0.0
    line = one_error_line(
        runner.invoke(
            app,
            [
                "model",
                str(_write(tmp_path, frame)),
                "-m",
                "IKZF1",
                "--crcl",
                "crcl",
                "--out",
                str(tmp_path / "o"),
            ],
        )
    )
    assert "row 4, column 'crcl'" in line and "creatinine clearance" in line


def test_endpoint_missing(tmp_path: Path) -> None:
    frame = simulate_cohort(DEMO_SEED).drop(columns=["pfs_time", "pfs_event"])
    line = one_error_line(
        runner.invoke(
            app,
            ["model", str(_write(tmp_path, frame)), "-m", "IKZF1", "--out", str(tmp_path / "o")],
        )
    )
    assert "endpoint 'pfs' not found" in line


def test_help_lists_the_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "model" in result.stdout
