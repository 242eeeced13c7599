"""Issue 11 on real cohorts as they come, against R survival and cmprsk.

Each test runs the real ``ikaros analyze`` command (typer's CliRunner, in process) on a
published file, loads the ``results.json`` it writes and compares every estimate with
``tests/reference/real_cohorts/golden.json``, which ``make_golden.R`` computes from the same
derived data:

- CoMMpass ``clinical.csv`` as published: overall survival derived from ``vital_status``,
  ``days_to_death`` and ``days_to_last_follow_up``, by ISS stage (``--group iss``);
- GSE24080: OS by B2M at the pre-specified thresholds 3.5 and 5.5 mg/L and at its median, EFS by
  protocol (TT3 vs TT2) adjusted for age;
- survival::mgus2 as a competing-risk endpoint (progression, death without progression
  competing): cumulative incidence by sex and by the hgb median, Gray's test, Fine-Gray and
  cause-specific hazard ratios for sex, hgb and age.

Tolerances (issue 11): Kaplan-Meier, cumulative incidence and their CIs 1e-6 absolute; hazard
ratios, CIs, coefficients, standard errors and chi-squares 1e-4 relative; p-values 1e-3 relative.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from tests.conftest import REFERENCE, golden, require_shared

KM_ABS, REL, P_REL = 1e-6, 1e-4, 1e-3
HERE = REFERENCE / "real_cohorts"
G = golden("real_cohorts")
MGUS2 = HERE / "mgus2_ttp.csv"

runner = CliRunner()


def _analyze(args: list[str], out: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["analyze", *args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr + result.stdout + repr(result.exception)
    return json.loads((out / "results.json").read_text())


def _commpass_args() -> list[str]:
    path = require_shared() / "commpass" / "clinical.csv"
    return [
        str(path),
        "--map",
        "patient_id=bcr_patient_barcode",
        "--map",
        "iss=iss_stage",
        "--endpoint",
        "os",
        "--time-from",
        "os=days_to_death,days_to_last_follow_up",
        "--event-from",
        "os=vital_status:Dead",
        "--time-unit",
        "days",
        "--na-values",
        "Unknown",
        "--group",
        "iss",
    ]


def _gse(*args: str) -> list[str]:
    path = require_shared() / "gse24080" / "clinical.tsv"
    return [str(path), "--map", "patient_id=patid", *args]


@pytest.fixture(scope="module")
def commpass(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _analyze(_commpass_args(), tmp_path_factory.mktemp("commpass") / "out")


@pytest.fixture(scope="module")
def b2m_thresholds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = _gse("--endpoint", "os", "--marker", "b2m_mg_l", "--cut", "3.5,5.5")
    return _analyze(args, tmp_path_factory.mktemp("b2m_thr") / "out")


@pytest.fixture(scope="module")
def b2m_median(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = _gse("--endpoint", "os", "--marker", "b2m_mg_l", "--cut", "median")
    return _analyze(args, tmp_path_factory.mktemp("b2m_med") / "out")


@pytest.fixture(scope="module")
def protocol(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = _gse("--endpoint", "efs", "--group", "protocol", "--covariate", "age")
    return _analyze(args, tmp_path_factory.mktemp("protocol") / "out")


_MGUS_BASE = ["--endpoint", "ttp", "--competing", "ttp", "--causes", "ttp=1:progression,2:death"]


@pytest.fixture(scope="module")
def mgus_sex(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = [str(MGUS2), *_MGUS_BASE, "--group", "sex", "--covariate", "hgb"]
    args += ["--covariate", "age", "--landmark", "120"]
    return _analyze(args, tmp_path_factory.mktemp("mgus_sex") / "out")


@pytest.fixture(scope="module")
def mgus_hgb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = [str(MGUS2), *_MGUS_BASE, "--marker", "hgb", "--cut", "median", "--covariate", "age"]
    return _analyze(args, tmp_path_factory.mktemp("mgus_hgb") / "out")


# -- comparison helpers ------------------------------------------------------------------------


def _num(got: Any, want: Any, where: str, *, abs_tol: float = 0.0, rel: float = 0.0) -> None:
    if want is None:
        assert got is None, f"{where}: R gives no value (NA), ikaros {got!r}"
        return
    assert got is not None, f"{where}: ikaros gives no value, R {want!r}"
    assert got == pytest.approx(want, abs=abs_tol, rel=rel), where


def _km(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    assert set(got) == set(want), where
    for level, w in want.items():
        g = got[level]
        at = f"{where}[{level}]"
        assert (g["n"], g["events"]) == (w["n"], w["events"]), at
        lm_g, lm_w = g["landmark"], w["landmark"]
        assert lm_g["time"] == lm_w["time"] and lm_g["n_risk"] == lm_w["n_risk"], at
        assert lm_g["ci_method"] == "log-log", at
        for key in ("survival", "lower", "upper"):
            _num(lm_g[key], lm_w[key], f"{at}.landmark.{key}", abs_tol=KM_ABS)
        for key in ("estimate", "lower", "upper"):
            _num(g["median"][key], w["median"][key], f"{at}.median.{key}", abs_tol=KM_ABS)
        cg, cw = g["curve"], w["curve"]
        assert len(cg["time"]) == len(cw["time"]), f"{at}.curve: number of steps"
        assert cg["time"] == pytest.approx(cw["time"], rel=1e-12), f"{at}.curve.time"
        for key in ("n_risk", "n_event", "n_censor"):
            assert cg[key] == cw[key], f"{at}.curve.{key}"
        for key in ("surv", "lower", "upper"):
            for i, (x, y) in enumerate(zip(cg[key], cw[key], strict=True)):
                _num(x, y, f"{at}.curve.{key}[{i}]", abs_tol=KM_ABS)


def _test(got: dict[str, Any] | None, want: dict[str, Any], where: str) -> None:
    assert got is not None, f"{where}: not computed"
    assert got["df"] == want["df"], where
    _num(got["statistic"], want["statistic"], f"{where}.statistic", rel=REL)
    _num(got["p"], want["p"], f"{where}.p", rel=P_REL)


_TERM_KEYS = ("hr", "lower", "upper", "coef", "se")


def _term(got: dict[str, Any] | None, want: dict[str, Any], where: str) -> None:
    assert got is not None, f"{where}: not computed"
    for key in _TERM_KEYS:
        _num(got[key], want[key], f"{where}.{key}", rel=REL)
    _num(got["p"], want["p"], f"{where}.p", rel=P_REL)


def _cox(got: dict[str, Any] | None, want: dict[str, Any], where: str) -> None:
    assert got is not None, f"{where}: not computed"
    assert (got["n"], got["events"]) == (want["n"], want["events"]), where
    assert (got["method"], got["ties"]) == ("cox", "efron"), where
    assert list(got["terms"]) == list(want["terms"]), f"{where}: term names"
    for name, w in want["terms"].items():
        _term(got["terms"][name], w, f"{where}.{name}")
    _num(got["lr_statistic"], want["lr_statistic"], f"{where}.lr_statistic", rel=REL)
    assert got["lr_df"] == want["lr_df"], where
    _num(got["lr_p"], want["lr_p"], f"{where}.lr_p", rel=P_REL)
    ph = got["ph"]
    assert ph is not None and ph["transform"] == "km", where
    for name, w in want["ph"]["terms"].items():
        _test(ph["terms"][name], w, f"{where}.ph.{name}")
    _test(ph["global_test"], want["ph"]["global"], f"{where}.ph.global")


def _levels(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    shown = [{k: lv[k] for k in ("label", "n", "events")} for lv in got["levels"]]
    assert shown == want["levels"], where
    assert [lv["reference"] for lv in got["levels"]] == [
        i == 0 for i in range(len(want["levels"]))
    ], where


# -- CoMMpass: OS by ISS from the published columns ---------------------------------------------


def test_commpass_os_by_iss_patient_flow(commpass: dict[str, Any]) -> None:
    want = G["commpass_os_iss"]
    (g,) = commpass["groupings"]
    assert (g["variable"], g["endpoint"], g["ordered"], g["reference"]) == ("iss", "os", True, "I")
    assert (g["n"], g["events"]) == (want["n"], want["events"])
    assert g["missing_variable"] == want["missing_variable"] == 28  # ISS 'Unknown'
    assert g["missing_endpoint"] == 1  # MMRF_1994: -3 days of follow-up, censored
    assert want["excluded_negative_time"] == "MMRF_1994"
    assert commpass["input"]["rows"] == G["datasets"]["commpass"]["rows"] == 995
    negative = [w for w in commpass["warnings"] if "before the time origin" in w]
    assert len(negative) == 1 and "row 193" in negative[0], commpass["warnings"]
    _levels(g, want, "commpass.levels")


def test_commpass_os_by_iss_km(commpass: dict[str, Any]) -> None:
    (g,) = commpass["groupings"]
    _km(g["groups"], G["commpass_os_iss"]["groups"], "commpass.km")


def test_commpass_os_by_iss_logrank_and_trend(commpass: dict[str, Any]) -> None:
    (g,) = commpass["groupings"]
    want = G["commpass_os_iss"]
    _test(g["logrank"], want["logrank"], "commpass.logrank")
    _test(g["trend"], want["trend"], "commpass.trend")


def test_commpass_os_by_iss_cox(commpass: dict[str, Any]) -> None:
    (g,) = commpass["groupings"]
    _cox(g["cox"], G["commpass_os_iss"]["cox"], "commpass.cox")
    assert g["cox_adjusted"] is None  # no --covariate


# -- GSE24080 ----------------------------------------------------------------------------------


def test_gse24080_b2m_thresholds(b2m_thresholds: dict[str, Any]) -> None:
    want = G["gse24080_os_b2m_thresholds"]
    (a,) = b2m_thresholds["analyses"]
    assert (a["marker"], a["endpoint"], a["n"], a["events"]) == (
        "b2m_mg_l",
        "os",
        want["n"],
        want["events"],
    )
    assert a["excluded"]["missing_marker"] == 2
    cut = a["cut"]
    assert cut["kind"] == "thresholds" and cut["values"] == [3.5, 5.5]
    assert cut["derived_from_data"] is False and cut["origin"] == "prespecified"
    assert cut["labels"] == [lv["label"] for lv in want["levels"]]
    assert want["on_threshold"] > 0  # values equal to 3.5 or 5.5 exist: in the lower group
    assert {k: (v["n"], v["events"]) for k, v in a["groups"].items()} == {
        lv["label"]: (lv["n"], lv["events"]) for lv in want["levels"]
    }
    _km(a["groups"], want["groups"], "b2m_thresholds.km")
    _test(a["logrank"], want["logrank"], "b2m_thresholds.logrank")
    _test(a["trend"], want["trend"], "b2m_thresholds.trend")
    _cox(a["cox_group"], want["cox"], "b2m_thresholds.cox_group")


def test_gse24080_b2m_median(b2m_median: dict[str, Any]) -> None:
    want = G["gse24080_os_b2m_median"]
    (a,) = b2m_median["analyses"]
    assert (a["n"], a["events"]) == (want["n"], want["events"])
    cut = a["cut"]
    assert cut["kind"] == "median" and cut["labels"] == ["low", "high"]
    assert cut["derived_from_data"] is True
    assert cut["values"] == [pytest.approx(want["median"], rel=1e-12)]
    assert want["on_median"] > 0  # ties at the median go to "low"
    assert {k: v["n"] for k, v in a["groups"].items()} == {
        lv["label"]: lv["n"] for lv in want["levels"]
    }
    _km(a["groups"], want["groups"], "b2m_median.km")
    _test(a["logrank"], want["logrank"], "b2m_median.logrank")
    assert a["trend"] is None  # two groups: no trend test
    _cox(a["cox_group"], want["cox"], "b2m_median.cox_group")


def test_gse24080_efs_by_protocol_adjusted_for_age(protocol: dict[str, Any]) -> None:
    want = G["gse24080_efs_protocol_age"]
    (g,) = protocol["groupings"]
    assert (g["variable"], g["endpoint"], g["ordered"], g["reference"]) == (
        "protocol",
        "efs",
        False,
        "TT2",
    )
    assert (g["n"], g["events"]) == (want["n"], want["events"])
    _levels(g, want, "protocol.levels")
    _km(g["groups"], want["groups"], "protocol.km")
    _test(g["logrank"], want["logrank"], "protocol.logrank")
    assert g["trend"] is None
    _cox(g["cox"], want["cox"], "protocol.cox")
    _cox(g["cox_adjusted"], want["cox_adjusted"], "protocol.cox_adjusted")


# -- mgus2: progression with death competing ---------------------------------------------------


def _incidence(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    assert set(got) == set(want), where
    for level, w in want.items():
        g = got[level]
        at = f"{where}[{level}]"
        assert (g["n"], g["events"], g["competing"]) == (w["n"], w["events"], w["competing"]), at
        (a,) = g["at"]
        assert a["time"] == w["at"]["time"] and a["note"] is None, at
        for key in ("cif", "lower", "upper", "naive"):
            _num(a[key], w["at"][key], f"{at}.at.{key}", abs_tol=KM_ABS)
        cg, cw = g["curve"], w["curve"]
        assert cg["time"] == pytest.approx(cw["time"], rel=1e-12), f"{at}.curve.time"
        for key in ("n_risk", "n_event", "n_competing"):
            assert cg[key] == cw[key], f"{at}.curve.{key}"
        for key in ("cif", "lower", "upper"):
            for i, (x, y) in enumerate(zip(cg[key], cw[key], strict=True)):
                _num(x, y, f"{at}.curve.{key}[{i}]", abs_tol=KM_ABS)


def _models(got: list[dict[str, Any]], want: dict[str, Any], where: str) -> None:
    assert [m["name"] for m in got] == list(want), where
    for m in got:
        w = want[m["name"]]
        at = f"{where}[{m['name']}]"
        assert (m["n"], m["events"], m["competing"]) == (w["n"], w["events"], w["competing"]), at
        assert m["note"] is None, at
        assert list(m["terms"]) == list(w["terms"]), f"{at}: term names"
        for name, wt in w["terms"].items():
            t = m["terms"][name]
            _term(t["fine_gray"], wt["fine_gray"], f"{at}.{name}.fine_gray")
            _term(t["cause_specific"], wt["cause_specific"], f"{at}.{name}.cause_specific")


def test_inputs_are_those_of_the_golden_values() -> None:
    """The golden values apply to these exact files (MD5 recorded by make_golden.R)."""
    data = require_shared()
    for name, path in (
        ("commpass", data / "commpass" / "clinical.csv"),
        ("gse24080", data / "gse24080" / "clinical.tsv"),
        ("mgus2_ttp", MGUS2),
    ):
        assert hashlib.md5(path.read_bytes()).hexdigest() == G["datasets"][name]["md5"], name


def test_mgus2_input_file_is_the_r_export() -> None:
    assert G["datasets"]["mgus2_ttp"]["rows"] == 1384
    lines = MGUS2.read_text().splitlines()
    assert lines[0] == '"patient_id","age","sex","hgb","mspike","ttp_time","ttp_event"'
    assert len(lines) == 1385
    assert sum(1 for row in lines[1:] if row.split(",")[3] == "") == 13  # hgb missing


def test_mgus2_incidence_by_sex(mgus_sex: dict[str, Any]) -> None:
    want = G["mgus2_ttp_sex"]
    (c,) = mgus_sex["competing"]
    assert (c["endpoint"], c["event"], c["competing_causes"]) == ("ttp", "progression", ["death"])
    assert (c["kind"], c["name"]) == ("variable", "sex")
    assert (c["n"], c["events"], c["competing"]) == (want["n"], want["events"], want["competing"])
    assert mgus_sex["options"]["competing"] == {"ttp": {"1": "progression", "2": "death"}}
    _incidence(c["groups"], want["groups"], "mgus_sex")
    _test(c["gray"], want["gray"], "mgus_sex.gray")


def test_mgus2_fine_gray_and_cause_specific_sex_hgb_age(mgus_sex: dict[str, Any]) -> None:
    (c,) = mgus_sex["competing"]
    _models(c["models"], G["mgus2_ttp_sex"]["models"], "mgus_sex.models")


def test_mgus2_incidence_and_models_by_hgb_median(mgus_hgb: dict[str, Any]) -> None:
    want = G["mgus2_ttp_hgb_median"]
    (c,) = mgus_hgb["competing"]
    assert (c["kind"], c["name"]) == ("cut", "hgb")
    assert (c["n"], c["events"], c["competing"]) == (want["n"], want["events"], want["competing"])
    assert c["cut"]["kind"] == "median"
    assert c["cut"]["values"] == [pytest.approx(want["median"], rel=1e-12)]
    _incidence(c["groups"], want["groups"], "mgus_hgb")
    _test(c["gray"], want["gray"], "mgus_hgb.gray")
    _models(c["models"], want["models"], "mgus_hgb.models")


# -- sex as a covariate (a two-value text column) -------------------------------------------------

_SEX_BUG = (
    "--covariate sex stops with 'internal error: ValueError: could not convert string to float' "
    "(exit 70): the cohort keeps sex as text for the cohort summary, so the covariate is never "
    "coded as the indicator of its second value as other two-value text covariates are"
)


def test_gse24080_efs_by_protocol_adjusted_for_age_and_sex(tmp_path: Path) -> None:
    args = _gse("--endpoint", "efs", "--group", "protocol", "--covariate", "age")
    results = _analyze([*args, "--covariate", "sex"], tmp_path / "out")
    (g,) = results["groupings"]
    _cox(g["cox_adjusted"], G["gse24080_efs_protocol_age_sex_cox"], "protocol.cox_adjusted")


def test_mgus2_fine_gray_hgb_age_sex_as_marker_and_covariates(tmp_path: Path) -> None:
    args = [str(MGUS2), *_MGUS_BASE, "--marker", "hgb", "--cut", "median"]
    results = _analyze([*args, "--covariate", "age", "--covariate", "sex"], tmp_path / "out")
    (c,) = results["competing"]
    model = next(m for m in c["models"] if m["name"] == "hgb + covariates")
    _models([model], {"hgb + covariates": G["mgus2_ttp_hgb_age_sex_model"]}, "mgus_hgb_sex")


# -- CoMMpass expression matrix through --expression, --sample-pattern and --genes ---------------

SURVIVAL = golden("survival")
_BY_ID = {c["id"]: c for k in ("km", "logrank", "trend", "cox") for c in SURVIVAL[k]}


def test_commpass_expression_matrix_with_sample_pattern_and_gene_map(tmp_path: Path) -> None:
    """The genes x samples matrix as published, samples mapped to patients by a regex and the
    Ensembl id to its symbol: the same numbers as tests/reference/survival (which merges the
    first baseline CD138+ sample of each patient in sorted column order, as ikaros does)."""
    matrix = require_shared() / "commpass" / "expression_100genes_log2fpkm.csv"
    genes = tmp_path / "genes.csv"
    genes.write_text("gene_id,symbol\nENSG00000002586,CD99\n")
    args = [*_commpass_args()[:-2], "--expression", str(matrix), "--genes", str(genes)]
    args += ["--sample-pattern", "^(MMRF_[0-9]+)_1_BM", "--marker", "CD99"]
    results = _analyze(args, tmp_path / "out")
    assert any("marker CD99 is gene ENSG00000002586" in w for w in results["warnings"])
    (a,) = results["analyses"]
    base = "commpass/os/ENSG00000002586"
    km = _BY_ID[f"{base}/q1_vs_rest/km"]
    assert a["n"] == km["n"]
    for grp in km["groups"]:
        mine = a["groups"][grp["label"]]
        assert (mine["n"], mine["events"]) == (grp["n"], grp["n_event_total"])
        (j,) = [i for i, t in enumerate(grp["landmarks"]["time"]) if t == 36]
        for key, rkey in (("survival", "surv"), ("lower", "lower"), ("upper", "upper")):
            _num(mine["landmark"][key], grp["landmarks"][rkey][j], f"cd99.{key}", abs_tol=KM_ABS)
    for key, mine in (
        ("q1_vs_rest/logrank", a["logrank"]),
        ("quartiles/logrank", a["logrank_quartiles"]),
        ("quartiles/trend", a["trend_quartiles"]),
    ):
        want = _BY_ID[f"{base}/{key}"]
        _num(mine["statistic"], want["chisq"], f"cd99.{key}.statistic", rel=REL)
        _num(mine["p"], want["p"], f"cd99.{key}.p", rel=P_REL)
    (term,) = _BY_ID[f"{base}/cox/continuous"]["terms"]
    _term(a["cox_continuous"], term, "cd99.cox_continuous")
