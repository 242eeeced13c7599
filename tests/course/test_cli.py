"""The `course` command and the course demo: outputs, determinism and the results schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ikaros.cli._course_io import run_course_demo
from ikaros.course.analysis import COURSE_SCHEMA_VERSION
from ikaros.course.derived import endpoint_data, patient_courses
from ikaros.course.stats import clopper_pearson
from ikaros.course.table import load_course
from ikaros.stats.km import kaplan_meier
from tests.course.helpers import ANSI, VALID, VALID_MUTATIONS, course_app, listing

runner = CliRunner()
APP = course_app()
TOP_KEYS = [
    "course_schema_version", "software", "input", "options", "cohort", "derived", "responses",
    "mutations", "survival", "landmark", "time_varying_cox", "competing_risks", "notes",
]  # fmt: skip


def _run(tmp_path: Path, name: str, *extra: str) -> tuple[dict[str, Any], str, str]:
    out = tmp_path / name
    args = ["course", str(VALID), "--mutations", str(VALID_MUTATIONS), "--out", str(out), *extra]
    result = runner.invoke(APP, args)
    assert result.exit_code == 0, result.stderr + result.stdout
    assert listing(out) == [
        "course_report.html", "course_report.pdf", "course_results.json", "figures",
    ]  # fmt: skip
    text = (out / "course_results.json").read_text(encoding="utf-8")
    return json.loads(text), text, ANSI.sub("", result.stdout)


def test_course_command_writes_versioned_deterministic_results(tmp_path: Path) -> None:
    res, text, stdout = _run(tmp_path, "a", "-q")
    _, again, _ = _run(tmp_path, "b", "-q")
    assert text == again  # same input and options: identical bytes
    assert stdout == ""
    assert list(res) == TOP_KEYS
    assert res["course_schema_version"] == COURSE_SCHEMA_VERSION == "1.1"
    assert res["competing_risks"]["events"] == {"spm": 5, "death_without_spm": 1, "censored": 0}
    assert res["input"]["course"]["convention"] == "month"
    assert res["options"] == {
        "origin": "spm", "landmark_hct": False, "spm_type": None, "conf_level": 0.95,
        "group_by": None, "competing_covariates": None,
    }  # fmt: skip
    assert res["cohort"] == {
        "patients": 6, "with_spm": 5, "spm_types": {"B-ALL": 5}, "treated_for_spm": 4,
        "with_hct_allo": 3, "deaths": 3,
    }  # fmt: skip
    summary = res["derived"]["summary"]
    # hand values (test_derived.py): 49, 38, 24, 64.5, 19 and 46, 28, 24, 56, 19
    assert summary["months_len_to_spm"]["median"] == 38
    assert (summary["months_len_to_spm"]["min"], summary["months_len_to_spm"]["max"]) == (19, 64.5)
    assert summary["exposure_at_spm"]["median"] == 28
    assert summary["exposure_ongoing_at_spm"] == {"count": 4, "n": 5}
    assert summary["months_len_to_spm"]["published"] == {"median": 54.0, "min": 5.0, "max": 119.0}
    assert len(res["derived"]["patients"]) == 6


def test_response_rates_and_mutations_use_clopper_pearson(tmp_path: Path) -> None:
    res, _, _ = _run(tmp_path, "out", "-q")
    after = res["responses"]["after_spm"]
    assert after["treated"] == 4
    assert after["best"] == {"CR": 2, "CRi": 1, "NR": 1}
    cp = clopper_pearson(3, 4)
    assert after["cr_cri"]["count"] == 3 and after["cr_cri"]["lower"] == cp.lower
    assert after["cr_cri"]["upper"] == cp.upper
    assert res["responses"]["before_spm"]["best"] == {"VGPR": 1}
    muts = res["mutations"]
    assert (muts["TP53"]["count"], muts["TP53"]["n"]) == (2, 4)  # P01, P03 of P01-P04
    assert (muts["hypodiploidy"]["count"], muts["hypodiploidy"]["n"]) == (3, 4)  # P02 not
    assert (muts["genes"]["IKZF1"]["count"], muts["genes"]["IKZF1"]["n"]) == (1, 2)
    # the 5 patients of valid_mutations.csv (P05 has no row): the rest are not evaluated
    assert muts["patients"] == 5
    assert [muts[k]["not_evaluated"] for k in ("TP53", "hypodiploidy")] == [1, 1]  # P06, P04
    assert muts["genes"]["IKZF1"]["not_evaluated"] == 3


def test_survival_uses_ikaros_km_and_landmark_hct(tmp_path: Path) -> None:
    plain, _, _ = _run(tmp_path, "plain", "-q")
    lm, _, stdout = _run(tmp_path, "lm", "--landmark-hct")
    courses = patient_courses(load_course(VALID))
    ep = endpoint_data(courses, "efs", "spm")
    km = kaplan_meier(ep.time, ep.event)
    efs = plain["survival"]["efs"]["all"]
    assert (efs["n"], efs["events"], efs["n_without_origin"]) == (5, 3, 1)
    assert efs["curve"]["surv"] == [float(x) for x in km.surv]
    assert efs["median"]["estimate"] == km.median.estimate == 20
    assert plain["survival"]["efs"]["treated"]["n"] == 4
    # without the landmark, every transplanted patient counts from HCT (P01, P04, P06);
    # with it, P06 (relapse at 30, HCT at 34) is excluded
    assert plain["survival"]["from_hct_allo"]["efs"]["n"] == 3
    assert lm["survival"]["from_hct_allo"]["efs"]["n"] == 2
    assert lm["landmark"]["applied"] and not plain["landmark"]["applied"]
    assert lm["landmark"]["efs"] == {
        "with_origin": 5, "no_hct_allo_after_origin": 2, "excluded_event_before_hct": 1,
        "included": 2,
    }  # fmt: skip
    assert "median EFS from allogeneic HCT" in stdout
    assert "course_results.json" in stdout


def test_time_varying_cox_models_are_reported(tmp_path: Path) -> None:
    res, _, _ = _run(tmp_path, "out", "-q", "--origin", "diagnosis")
    assert res["survival"]["origin"] == "diagnosis"
    assert res["survival"]["efs"]["treated"] is None
    spm, efs = res["time_varying_cox"]
    assert (spm["endpoint"], spm["origin"], efs["endpoint"], efs["origin"]) == (
        "spm", "diagnosis", "efs", "diagnosis",
    )  # fmt: skip
    for model in (spm, efs):
        assert model["status"] == "fitted", model
        assert model["value_at"] == "stop" and model["split_at_events"] is True
        term = model["terms"]["cum_exposure"]
        assert model["cum_exposure_per_year"]["hr"] == pytest.approx(term["hr"] ** 12, rel=1e-12)
    assert spm["events"] == 5 and efs["events"] == 4  # P01, P03, P05, P06 progress


def test_unestimable_model_is_recorded_not_fatal(tmp_path: Path) -> None:
    lines = VALID.read_text().splitlines()
    only_p01 = [x for x in lines if not x.startswith(("P04,hct_allo", "P06,hct_allo"))]
    path = tmp_path / "one_hct.csv"
    path.write_text("\n".join(only_p01) + "\n")
    out = tmp_path / "out"
    result = runner.invoke(APP, ["course", str(path), "--origin", "hct_allo", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    res = json.loads((out / "course_results.json").read_text())
    spm, efs = res["time_varying_cox"]
    assert spm["status"] == "fitted"
    # one transplanted patient: cumulative exposure takes a single value after HCT
    assert efs["status"] == "not estimable" and "single value" in efs["reason"]
    assert res["survival"]["efs"]["all"]["n"] == 1


def test_course_demo_writes_both_cohorts(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run_course_demo(out, quiet=True)
    assert listing(out) == [
        "course_events.csv", "course_mutations.csv", "course_report.html", "course_report.pdf",
        "course_results.json", "figures", "maintenance",
    ]  # fmt: skip
    assert listing(out / "maintenance") == [
        "course_covariates.csv", "course_events.csv", "course_report.html", "course_report.pdf",
        "course_results.json", "figures",
    ]  # fmt: skip
    assert listing(out / "figures") == ["oncoprint.png", "oncoprint.svg", "swimmer.png",
                                        "swimmer.svg"]  # fmt: skip
    res = json.loads((out / "course_results.json").read_text())
    assert res["options"]["landmark_hct"] is True
    assert res["cohort"]["patients"] == 32
    assert "case series" in res["time_varying_cox"][0]["note"]  # every patient has an SPM
    maint = json.loads((out / "maintenance" / "course_results.json").read_text())
    assert maint["cohort"]["patients"] == 300 and maint["survival"]["origin"] == "diagnosis"
    assert "note" not in maint["time_varying_cox"][0]
    assert maint["responses"]["after_spm"]["treated"] == 0
    assert maint["options"]["group_by"] == "arm"
    assert maint["competing_risks"]["gray_test"]["status"] == "tested"
    age = maint["competing_risks"]["regression"]["terms"]["age"]
    assert age["fine_gray"]["hr"] < age["cause_specific"]["hr"]
    out2 = tmp_path / "demo2"
    run_course_demo(out2, quiet=True)
    for name in ("course_results.json", "maintenance/course_results.json"):
        assert (out / name).read_bytes() == (out2 / name).read_bytes()
    # the written tables are valid course input for the command
    result = runner.invoke(
        APP,
        [
            "course", str(out / "course_events.csv"), "--mutations",
            str(out / "course_mutations.csv"), "--out", str(tmp_path / "again"), "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
