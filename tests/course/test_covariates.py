"""Baseline covariates of `ikaros course`: validation, Gray's test, Fine-Gray vs cause-specific.

The Fine-Gray and cause-specific Cox numbers of the competing-risk section are checked against
the estimators called directly and against R (``tests/reference/course_competing``): the input
``maintenance_competing.csv`` is derived by ikaros from the demo's maintenance cohort (and must
be reproduced exactly), ``make_golden.R`` fits ``cmprsk::crr``, ``coxph`` (Efron) and
``cmprsk::cuminc`` to it. Tolerance 1e-6 relative.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from ikaros.course.competing import EXPLANATION_FG_CS, competing_risks_section
from ikaros.course.covariates import CourseCovariates, covariates_from_frame
from ikaros.course.derived import PatientCourse, competing_risks_table, patient_courses
from ikaros.course.simulate import (
    MAINTENANCE_DEMO_PARAMETERS,
    MAINTENANCE_SEED,
    simulate_maintenance_cohort,
)
from ikaros.course.table import course_from_frame
from ikaros.errors import InputError
from ikaros.stats.competing import cause_specific_cox, fine_gray, gray_test
from tests.conftest import ROOT, one_error_line
from tests.course.helpers import ANSI, DATA, VALID, cells, course_app

runner = CliRunner()
APP = course_app()
BAD = ROOT / "tests" / "data" / "bad_course_covariates"
REF = ROOT / "tests" / "reference" / "course_competing"
INPUT = "maintenance_competing.csv"
VALID_COVARIATES = DATA / "valid_covariates.csv"
REL = 1e-6

#: file -> (row, column, value, words of the problem)
BAD_CASES: dict[str, tuple[int, str, str, str]] = {
    "duplicate_patient.csv": (5, "patient_id", "'P02'", "duplicate patient_id"),
    "unknown_patient.csv": (6, "patient_id", "'P5'", "not in the course table"),
    "non_numeric_age.csv": (4, "age", "'55 years'", "not a finite number"),
    "infinite_age.tsv": (3, "age", "'inf'", "not a finite number"),
    "three_level_arm.csv": (5, "arm", "'C'", "more than two levels"),
    "missing_value.csv": (3, "age", "''", "value is missing"),
    "blank_patient_id.csv": (4, "patient_id", "''", "patient_id is missing"),
}


@cache
def demo() -> tuple[list[PatientCourse], CourseCovariates]:
    sim = simulate_maintenance_cohort(MAINTENANCE_SEED, MAINTENANCE_DEMO_PARAMETERS)
    data = course_from_frame(cells(sim.events), source="maintenance")
    assert sim.covariates is not None
    cov = covariates_from_frame(
        cells(sim.covariates), data.patients, group_by="arm", model=("age", "arm")
    )
    return list(patient_courses(data)), cov


def reference_table() -> pd.DataFrame:
    """The R input: time, status and covariates of the demo's maintenance cohort."""
    courses, cov = demo()
    tab = competing_risks_table(courses, "diagnosis")
    ids = tab["patient_id"].tolist()
    x = cov.design(ids)
    return tab.assign(age=x["age"].to_numpy(), arm=x["arm"].astype(int).to_numpy()).assign(
        arm_label=cov.groups(ids)
    )


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


@cache
def section() -> dict[str, Any]:
    courses, cov = demo()
    sec = competing_risks_section(courses, "diagnosis", covariates=cov)
    assert sec is not None
    return sec


GOLDEN: dict[str, Any] = json.loads((REF / "golden.json").read_text(encoding="utf-8"))


# --- validation through the command line ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_malformed_covariates_are_rejected(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    path = BAD / name
    r = runner.invoke(APP, ["course", str(VALID), "--covariates", str(path), "--out", str(out)])
    line = one_error_line(r)
    row, column, value, problem = BAD_CASES[name]
    for part in (str(path), f"row {row}", f"column {column!r}", f"(value: {value})", problem):
        assert part in line, (part, line)
    assert "Remedy:" in line
    assert not out.exists()


def test_every_bad_file_has_a_case() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(BAD_CASES)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--group-by", "arm"], "need a covariates table"),
        (["--covariates", str(VALID_COVARIATES), "--group-by", "sex"], "--group-by names"),
        (
            ["--covariates", str(VALID_COVARIATES), "--competing-covariate", "bmi"],
            "--competing-covariate names",
        ),
        (
            [
                "--covariates",
                str(BAD / "three_level_arm.csv"),
                "--group-by",
                "arm",
                "--competing-covariate",
                "arm",
            ],
            "more than two levels",
        ),
    ],
)
def test_bad_covariate_options(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "out"
    r = runner.invoke(APP, ["course", str(VALID), "--out", str(out), *args])
    assert r.exit_code == 2, r.output
    assert words in r.stderr and "Remedy:" in r.stderr
    assert not out.exists()


def test_course_without_a_covariates_row_for_a_patient() -> None:
    frame = pd.read_csv(VALID_COVARIATES, dtype=str).iloc[:-1]
    with pytest.raises(InputError, match="have no row, first 'P06'"):
        covariates_from_frame(frame, [f"P0{i}" for i in range(1, 7)], source="cov.csv")


def test_course_command_with_covariates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["course", str(VALID), "--out", str(out), "--covariates", str(VALID_COVARIATES)]
    r = runner.invoke(APP, [*args, "--group-by", "arm"])
    assert r.exit_code == 0, r.stderr
    res = json.loads((out / "course_results.json").read_text(encoding="utf-8"))
    cr = res["competing_risks"]
    assert cr["events"] == {"spm": 5, "death_without_spm": 1, "censored": 0}  # unchanged
    assert cr["gray_test"]["column"] == "arm" and cr["gray_test"]["groups"] == ["A", "B"]
    assert set(cr["by_group"]["groups"]) == {"A", "B"}
    assert cr["regression"]["covariates"] == ["age", "arm"]  # default: every usable column
    assert cr["regression"]["coding"]["arm"] == "1 = B, 0 = A (reference)"
    assert res["options"]["group_by"] == "arm"
    assert res["input"]["covariates"]["columns"] == ["age", "arm"]
    stdout = ANSI.sub("", r.stdout)
    assert "Gray's test" in stdout and "Fine-Gray SHR" in stdout and "cause-specific HR" in stdout
    assert (out / "figures" / "cumulative_incidence_by_group.png").is_file()


def test_without_covariates_the_new_keys_are_null() -> None:
    courses, _ = demo()
    sec = competing_risks_section(courses, "diagnosis")
    assert sec is not None
    assert (sec["by_group"], sec["gray_test"], sec["regression"]) == (None, None, None)


# --- numbers: the estimators and R ----------------------------------------------------------


def test_reference_input_is_reproduced_by_ikaros() -> None:
    assert csv_text(reference_table()) == (REF / INPUT).read_text(encoding="utf-8")


def test_section_equals_the_estimators_called_directly() -> None:
    tab = reference_table()
    t, s = tab["time"].to_numpy(float), tab["status"].to_numpy(int)
    x = tab[["age", "arm"]].astype(float)
    fg = fine_gray(t, s, x, 1)
    cs = cause_specific_cox(t, s, x, 1, ph_test=False)
    reg = section()["regression"]
    assert (reg["n"], reg["events"], reg["competing"]) == (len(t), fg.events, fg.competing)
    assert reg["cause_specific_cox"]["events"] == cs.events
    for name in ("age", "arm"):
        both = reg["terms"][name]
        for mine, ref in (
            (both["fine_gray"], fg.terms[name]),
            (both["cause_specific"], cs.terms[name]),
        ):
            assert (mine["hr"], mine["lower"], mine["upper"], mine["p"]) == (
                ref.hr, ref.lower, ref.upper, ref.p,
            )  # fmt: skip
    g = gray_test(t, s, tab["arm_label"].tolist(), 1)
    gt = section()["gray_test"]
    assert (gt["statistic"], gt["df"], gt["p"]) == (g.statistic, g.df, g.p)
    assert reg["explanation"] == EXPLANATION_FG_CS


@pytest.mark.parametrize("model", ["fine_gray", "cause_specific"])
@pytest.mark.parametrize("term", ["age", "arm"])
def test_regression_matches_r(model: str, term: str) -> None:
    reg = section()["regression"]
    assert (reg["n"], reg["events"], reg["competing"]) == (
        GOLDEN["n"], GOLDEN["events"], GOLDEN["competing"],
    )  # fmt: skip
    mine = reg["terms"][term][model]
    ref = GOLDEN[model]["terms"][term]
    assert mine["coef"] == pytest.approx(ref["coef"], rel=REL)
    assert mine["se"] == pytest.approx(ref["se"], rel=REL)
    assert mine["hr"] == pytest.approx(math.exp(ref["coef"]), rel=REL)
    assert mine["p"] == pytest.approx(ref["p"], rel=REL)


def test_gray_test_matches_cuminc() -> None:
    gt = section()["gray_test"]
    assert gt["statistic"] == pytest.approx(GOLDEN["gray"]["statistic"], rel=REL)
    assert gt["p"] == pytest.approx(GOLDEN["gray"]["p"], rel=REL)
    assert gt["df"] == GOLDEN["gray"]["df"]


def test_demo_shows_fine_gray_below_cause_specific_for_age() -> None:
    """Age raises only death in the simulation: its SHR for SPM lies below its CSHR."""
    age = section()["regression"]["terms"]["age"]
    assert age["fine_gray"]["hr"] < age["cause_specific"]["hr"]
    assert section()["gray_test"]["p"] < 0.05  # arm B doubles the SPM hazard
    groups = section()["by_group"]["groups"]
    assert groups["A"]["n"] + groups["B"]["n"] == 300


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_golden_json(tmp_path: Path) -> None:
    target = tmp_path / "course_competing"
    target.mkdir()
    (target / INPUT).write_text(csv_text(reference_table()), encoding="utf-8")
    shutil.copy(REF / "make_golden.R", target / "make_golden.R")
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert (target / "golden.json").read_text() == (REF / "golden.json").read_text()


if __name__ == "__main__":  # write the R input: python -m tests.course.test_covariates
    (REF / INPUT).write_text(csv_text(reference_table()), encoding="utf-8")
