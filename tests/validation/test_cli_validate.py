"""``ikaros validate`` through the command line: real cohorts against R, the files it writes,
reconstructed cohorts from ``ikaros ipd``, and bad manifests and options (one message, exit 2,
nothing written)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from ikaros.cli import app
from ikaros.validation import dumps
from ikaros.validation.manifest import read_manifest, run_manifest
from ikaros.validation.meta import meta_analysis
from tests.conftest import ANSI, one_error_line
from tests.validation._helpers import REL, REL_P, close, gold

runner = CliRunner()
DAYS_PER_MONTH = 30.4375


def _invoke(*args: str | Path) -> Result:
    result = runner.invoke(app, ["validate", *(str(a) for a in args)])
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


def _gse_manifest(tmp_path: Path, gse: pd.DataFrame, treatment: bool = True) -> Path:
    """GSE24080 split by protocol into two small derived cohort tables."""
    cols = ["patid", "age", "b2m_mg_l", "iss", "efs_time", "efs_event", "os_time", "os_event"]
    for protocol in ("TT2", "TT3"):
        d = gse.loc[gse["protocol"] == protocol, cols].rename(columns={"patid": "patient_id"})
        d = d.assign(iss3=np.where(d["iss"].isna(), np.nan, (d["iss"] == 3).astype(float)))
        d.to_csv(tmp_path / f"gse_{protocol}.csv", index=False)
    path = tmp_path / "gse.toml"
    text = ""
    for protocol in ("TT2", "TT3"):
        text += f'[[cohort]]\nname = "GSE24080_{protocol}"\nfile = "gse_{protocol}.csv"\n'
        text += f'treatment_label = "{protocol}"\n\n' if treatment else "\n"
    path.write_text(text)
    return path


def _check_meta(got: dict, want: dict, rel: float = REL) -> None:
    """validation.json's meta-analysis against metafor (make_golden.R ``meta_block``)."""
    r, f = got["random"], got["fixed"]
    for key in ("estimate", "se", "lower", "upper", "statistic"):
        close(r[key], want["random"][key], rel)
        close(f[key], want["fixed"][key], rel)
    close(r["p"], want["random"]["p"], REL_P)
    close(f["p"], want["fixed"]["p"], REL_P)
    h = got["heterogeneity"]
    close(h["q"], want["q"], rel)
    close(h["q_p"], want["q_p"], REL_P)
    close(h["tau2"], want["tau2"], rel, abs_=1e-10)
    close(h["i2"], want["i2"], rel, abs_=1e-8)
    close(h["tau2_lower"], want["tau2_ci"][0], rel, abs_=1e-10)
    close(h["tau2_upper"], want["tau2_ci"][1], rel)
    close(got["prediction_hts"]["lower"], want["pi"][0], rel)
    close(got["prediction_hts"]["upper"], want["pi"][1], rel)
    weights = [s["weight_random"] for s in got["studies"]]
    for w, ref in zip(weights, want["weights"], strict=True):
        close(w, ref, rel)
    if "leave1out" in want:
        loo = got["leave_one_out"]
        for i, x in enumerate(loo):
            close(x["estimate"], want["leave1out"]["estimate"][i], rel)
            close(x["upper"], want["leave1out"]["upper"][i], rel)
            close(x["tau2"], want["leave1out"]["tau2"][i], rel, abs_=1e-10)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _num(text: str) -> float | None:
    return None if text == "" else float(text)


def test_gse24080_by_protocol_matches_r_and_the_package(
    tmp_path: Path, gse24080: pd.DataFrame
) -> None:
    manifest = _gse_manifest(tmp_path, gse24080)
    out = tmp_path / "out"
    result = _invoke(
        manifest, "-m", "b2m_mg_l", "-e", "efs", "--transform", "log2", "--out", out,
        "--treatment-reference", "TT2",
    )  # fmt: skip
    doc = json.loads((out / "validation.json").read_text())
    assert doc["schema_version"] == "2.0"
    v = doc["results"]
    # per cohort and pooled, against R coxph + metafor (tests/reference/validation)
    g = gold()["meta_analysis"]["gse_two_protocols_log2b2m_efs"]
    for est in v["estimates_continuous"]:
        want = g["cohorts"][est["cohort"]]
        assert (est["n"], est["events"]) == (want["n"], want["events"])
        close(est["coef"], want["coef"])
        close(est["se"], want["se"])
    _check_meta(v["meta_continuous"], g["meta"])
    one = gold()["one_stage"]["gse_log2b2m_efs"]
    o = v["one_stage_continuous"]
    assert (o["n"], o["events"], o["n_cohorts"]) == (one["n"], one["events"], 2)
    close(o["coef"], one["terms"]["log2(b2m_mg_l)"]["coef"])
    close(o["se"], one["terms"]["log2(b2m_mg_l)"]["se"])
    close(o["p"], one["terms"]["log2(b2m_mg_l)"]["p"], REL_P)
    # the same bytes as the package's own functions
    entries = read_manifest(manifest)
    direct = run_manifest(
        entries,
        marker="b2m_mg_l",
        endpoint="efs",
        transform="log2",
        landmark=36.0,
        treatment_reference="TT2",
    )
    assert json.loads(dumps(direct)) == v
    est = direct.estimates_cut
    pooled = meta_analysis([e.coef for e in est], [e.se for e in est], [e.cohort for e in est])
    assert json.loads(dumps(pooled)) == v["meta_cut"]
    # treatment given per cohort: the interaction of the one-stage model (TT3 vs TT2)
    assert v["one_stage_interaction"]["term"] == "marker:treatment[TT3 vs TT2]"
    # machine-readable tables: numbers in full, equal to the JSON
    for name in ("cohort_estimates", "pooled", "heterogeneity", "leave_one_out", "one_stage"):
        text = (out / "tables" / f"{name}.csv").read_text()
        assert "<0.001" not in text and "n/a" not in text
    rows = {(r["coding"], r["model"]): r for r in _rows(out / "tables" / "pooled.csv")}
    rnd = v["meta_continuous"]["random"]
    assert _num(rows["continuous", "random_hksj"]["hr_upper"]) == rnd["hr_upper"]
    assert _num(rows["continuous", "random_hksj"]["p"]) == rnd["p"]
    pi = v["meta_continuous"]["prediction"]
    assert _num(rows["continuous", "prediction_interval"]["hr_lower"]) == pi["hr_lower"]
    ests = _rows(out / "tables" / "cohort_estimates.csv")
    cut_tt2 = next(r for r in ests if r["coding"] == "cut" and r["cohort"] == "GSE24080_TT2")
    assert _num(cut_tt2["cut"]) == v["estimates_cut"][0]["cut"]  # log2 scale
    assert _num(cut_tt2["cut_marker_scale"]) == pytest.approx(2.0 ** v["estimates_cut"][0]["cut"])
    assert int(cut_tt2["n_low"]) + int(cut_tt2["n_high"]) == int(cut_tt2["n"])
    # figures and the report page
    for stem in ("forest_continuous", "forest_cut"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 20_000
        assert (out / "figures" / f"{stem}.svg").read_text().startswith("<?xml")
    html = (out / "validation_report.html").read_text()
    assert "prediction interval is where the true hazard ratio of a new cohort" in html
    assert "stratified by cohort" in html and "each cohort keeps its own baseline hazard" in html
    assert "A prognostic marker is associated with outcome whatever the treatment" in html
    assert "The treatment is a property of whole cohorts" in html
    assert "Two cohorts: the random-effects CI and the prediction interval rest on 1" in html
    assert html.count("<figure") == 2
    # same input, same bytes
    again = tmp_path / "again"
    _invoke(
        manifest, "-m", "b2m_mg_l", "-e", "efs", "--transform", "log2", "--out", again,
        "--treatment-reference", "TT2",
    )  # fmt: skip
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())

    # byte-identical apart from the recorded command line, which names the output directory
    def same(f: Path) -> bool:
        return (out / f).read_bytes().replace(str(out).encode(), b"OUT") == (
            again / f
        ).read_bytes().replace(str(again).encode(), b"OUT")

    assert [f for f in files if not same(f)] == []
    # console summary
    text = ANSI.sub("", result.stdout)
    assert "GSE24080_TT2" in text and "random effects" in text and "TT3 vs TT2" in text


def test_three_real_cohorts_with_manifest_options_match_r(
    tmp_path: Path, gse24080: pd.DataFrame
) -> None:
    """ISS III vs I-II for OS in GSE24080 TT2, TT3 and CoMMpass (OS derived from days by the
    manifest's time_from/event_from, own column names mapped), against metafor and coxph."""
    manifest = _gse_manifest(tmp_path, gse24080, treatment=False)
    raw = pd.read_csv(_commpass_raw())
    dead = raw["vital_status"] == "Dead"
    days = np.where(dead, raw["days_to_death"], raw["days_to_last_follow_up"])
    raw = raw[~np.isnan(days) & (days >= 0)]  # as make_golden.R
    stage = raw["iss_stage"].map({"I": 0.0, "II": 0.0, "III": 1.0})
    raw.assign(ISS_III=stage).drop(columns=["iss_stage"]).to_csv(
        tmp_path / "commpass.csv", index=False
    )
    manifest.write_text(
        manifest.read_text()
        + '\n[[cohort]]\nname = "CoMMpass"\nfile = "commpass.csv"\ntime_unit = "days"\n'
        'map = { patient_id = "bcr_patient_barcode", iss3 = "ISS_III" }\n'
        'time_from = ["os=days_to_death,days_to_last_follow_up"]\n'
        'event_from = ["os=vital_status:Dead"]\n'
    )
    out = tmp_path / "out"
    _invoke(manifest, "-m", "iss3", "-e", "os", "--cut", "0.5", "-q", "--out", out)
    v = json.loads((out / "validation.json").read_text())["results"]
    g = gold()["meta_analysis"]["real_iss3_os"]
    for est in v["estimates_continuous"]:
        want = g["cohorts"][est["cohort"]]
        assert (est["n"], est["events"]) == (want["n"], want["events"])
        close(est["coef"], want["coef"])
    _check_meta(v["meta_continuous"], g["meta"])
    # a 0/1 marker cut at 0.5 is the same model
    assert [e["coef"] for e in v["estimates_cut"]] == pytest.approx(
        [e["coef"] for e in v["estimates_continuous"]], rel=1e-12
    )
    one = gold()["one_stage"]["real_iss3_os"]
    o = v["one_stage_continuous"]
    assert (o["n"], o["events"], o["n_cohorts"]) == (one["n"], one["events"], 3)
    close(o["coef"], one["terms"]["iss3"]["coef"])
    close(o["se"], one["terms"]["iss3"]["se"])
    assert len(v["meta_continuous"]["leave_one_out"]) == 3


def _commpass_raw() -> Path:
    from tests.conftest import shared_data_dir

    return shared_data_dir() / "commpass" / "clinical.csv"


def _published_curves(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A cohort with marker values, and the digitised Q1 vs rest curves of another one."""
    from ikaros.groups import quartiles
    from ikaros.ipd.simulate import (
        at_risk_csv,
        axis_ticks,
        digitise,
        digitiser_csv,
        numbers_at_risk,
    )
    from ikaros.validation.simulate import simulate_multicohort

    df, _ = simulate_multicohort(31, n=(220, 240, 260), tau=0.1)
    for name in ("C1", "C2"):
        g = df[df["cohort"] == name].rename(columns={"time": "os_time", "event": "os_event"})
        g.drop(columns=["cohort", "treatment"]).to_csv(tmp_path / f"{name}.csv", index=False)
    pub = df[df["cohort"] == "C3"]
    x = pub["marker"].to_numpy()
    cut = quartiles(x)[0]
    time, event = pub["time"].to_numpy(), pub["event"].to_numpy()
    ticks = axis_ticks(float(time.max()))
    rng = np.random.default_rng(5)
    for label, mask in (("low", x <= cut), ("high", x > cut)):
        px, py = digitise(time[mask], event[mask], rng, n_points=150, axis_length=ticks[-1])
        (tmp_path / f"{label}_curve.csv").write_text(digitiser_csv(px, py))
        (tmp_path / f"{label}_risk.csv").write_text(
            at_risk_csv(*numbers_at_risk(time[mask], ticks))
        )
    return tmp_path, pub


def test_arms_reconstructed_by_ikaros_ipd_are_cohorts_of_the_cut_analysis(tmp_path: Path) -> None:
    from ikaros.validation.multicohort import CohortData, validate_cohorts

    d, pub = _published_curves(tmp_path)
    ipd_out = tmp_path / "ipd"
    r = runner.invoke(
        app,
        ["ipd", "--arm", f"low={d / 'low_curve.csv'}:{d / 'low_risk.csv'}",
         "--arm", f"high={d / 'high_curve.csv'}:{d / 'high_risk.csv'}",
         "--endpoint", "os", "--no-report", "-q", "--out", str(ipd_out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        '[[cohort]]\nname = "C1"\nfile = "C1.csv"\n\n[[cohort]]\nname = "C2"\nfile = "C2.csv"\n'
        '\n[[cohort]]\nname = "Published"\nlow = "ipd/ipd_low.csv"\nhigh = "ipd/ipd_high.csv"\n'
    )
    out = tmp_path / "out"
    result = _invoke(manifest, "-m", "marker", "-e", "os", "--out", out)
    doc = json.loads((out / "validation.json").read_text())
    src = {c["name"]: c for c in doc["cohorts"]}
    assert src["Published"]["reconstructed"] is True
    assert src["Published"]["marker"] == "published groups"
    assert src["Published"]["files"] == ["ipd/ipd_low.csv", "ipd/ipd_high.csv"]
    assert src["C1"]["reconstructed"] is False and src["C1"]["marker"] == "values"
    v = doc["results"]
    cont = {e["cohort"]: e for e in v["estimates_continuous"]}
    cut = {e["cohort"]: e for e in v["estimates_cut"]}
    assert cont["Published"]["coef"] is None and "published split" in cont["Published"]["note"]
    assert cut["Published"]["reconstructed"] is True and cut["Published"]["cut"] is None
    assert v["meta_continuous"]["k"] == 2 and v["meta_cut"]["k"] == 3
    assert v["one_stage_continuous"]["n_cohorts"] == 2 and v["one_stage_cut"]["n_cohorts"] == 3
    # the reconstruction recovers the published cohort: patients, and its HR within 0.1 log
    original = CohortData("orig", pub["time"].to_numpy(), pub["event"].to_numpy(), pub["marker"])
    want = validate_cohorts([original], marker="marker", endpoint="os").estimates_cut[0]
    assert cut["Published"]["n"] == want.n
    assert abs(cut["Published"]["events"] - want.events) <= 3
    assert abs(cut["Published"]["coef"] - want.coef) < 0.1
    # flagged in the figure, the page and the console
    html = (out / "validation_report.html").read_text()
    assert "Published (reconstructed)" in html and "Reconstructed from published" in html
    assert "Published (reconstructed)" in ANSI.sub("", result.stdout)
    svg = (out / "figures" / "forest_cut.svg").read_text()
    assert "Published (reconstructed)" in svg


def test_console_shows_user_text_verbatim(tmp_path: Path, gse24080: pd.DataFrame) -> None:
    manifest = _gse_manifest(tmp_path, gse24080)
    manifest.write_text(manifest.read_text().replace("GSE24080_TT2", "[bold]TT2[/] cohort"))
    result = _invoke(manifest, "-m", "b2m_mg_l", "-e", "os", "--out", tmp_path / "o")
    assert "[bold]TT2[/] cohort" in ANSI.sub("", result.stdout)


# ---------------------------------------------------------------------------------------------
# bad manifests and options


def _good_cohorts(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for name in ("a", "b"):
        n = 60
        pd.DataFrame(
            {
                "patient_id": [f"{name}{i}" for i in range(n)],
                "os_time": np.round(rng.exponential(30, n), 2) + 0.1,
                "os_event": rng.integers(0, 2, n),
                "IKZF1": np.round(rng.lognormal(0, 1, n), 3),
                "arm": rng.choice(["x", "y"], n),
                "age": np.round(rng.normal(60, 8, n), 1),
            }
        ).to_csv(tmp_path / f"{name}.csv", index=False)


GOOD = '[[cohort]]\nname = "A"\nfile = "a.csv"\n\n[[cohort]]\nname = "B"\nfile = "b.csv"\n'
#: (id, manifest text or None for GOOD, extra options, substrings of the message)
BAD: list[tuple[str, str | None, list[str], list[str]]] = [
    ("not_toml", "[[cohort]\n", [], ["not valid TOML"]),
    ("no_cohorts", 'title = "x"\n', [], ["lists no cohorts"]),
    ("unknown_key", GOOD + 'colour = "red"\n', [], ["unknown key", "colour"]),
    ("missing_file", GOOD.replace("b.csv", "nope.csv"), [], ["file not found", "nope.csv"]),
    ("duplicate_name", GOOD.replace('"B"', '"A"'), [], ["duplicate cohort name"]),
    ("one_cohort", '[[cohort]]\nname = "A"\nfile = "a.csv"\n', [], ["at least 2"]),
    ("file_and_low", GOOD + 'low = "a.csv"\nhigh = "b.csv"\n', [], ["not both"]),
    ("low_without_high", GOOD.replace('file = "b.csv"', 'low = "b.csv"'), [], ["no 'high'"]),
    (
        "groups_with_expression",
        GOOD.replace('file = "b.csv"', 'low = "a.csv"\nhigh = "b.csv"\nexpression = "a.csv"'),
        [],
        ["no marker values"],
    ),
    ("some_treated", GOOD + 'treatment_label = "len"\n', [], ["not for A"]),
    ("treatment_column_missing", GOOD + 'treatment = "protocol"\n', [], ["'protocol' not found"]),
    ("marker_missing", None, ["-m", "IKZF3"], ["IKZF3"]),
    ("endpoint_missing", None, ["-e", "pfs"], ["pfs"]),
    ("transform", None, ["--transform", "sqrt"], ["--transform 'sqrt'"]),
    ("cut_word", None, ["--cut", "third"], ["--cut 'third'"]),
    ("cut_log2_nonpositive", None, ["--cut", "0", "--transform", "log2"], ["must be positive"]),
    ("landmark", None, ["--landmark", "-3"], ["--landmark"]),
    ("covariate_is_marker", None, ["-c", "IKZF1"], ["the marker itself"]),
    ("reference_without_treatment", None, ["--treatment-reference", "x"], ["no cohort has"]),
    (
        "reference_not_a_level",
        GOOD.replace('"b.csv"\n', '"b.csv"\ntreatment = "arm"\n').replace(
            '"a.csv"\n', '"a.csv"\ntreatment = "arm"\n'
        ),
        ["--treatment-reference", "z"],
        ["'z' does not occur", "'x', 'y'"],
    ),
]


@pytest.mark.parametrize(("name", "text", "extra", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_manifests_and_options_give_one_message_and_no_output(
    tmp_path: Path, name: str, text: str | None, extra: list[str], words: list[str]
) -> None:
    _good_cohorts(tmp_path)
    manifest = tmp_path / "m.toml"
    manifest.write_text(GOOD if text is None else text)
    out = tmp_path / "out"
    args = ["validate", str(manifest), "-m", "IKZF1", "-e", "os", "--out", str(out)]
    # later options win: -m/-e given again replace the defaults above
    result = runner.invoke(app, [*args, *extra])
    line = one_error_line(result)
    for word in words:
        assert word in line, line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv", "m.toml"]


def test_missing_manifest_and_log2_of_zero_and_foreign_out(tmp_path: Path) -> None:
    _good_cohorts(tmp_path)
    out = tmp_path / "out"
    base = ["-m", "IKZF1", "-e", "os", "--out", str(out)]
    line = one_error_line(runner.invoke(app, ["validate", str(tmp_path / "no.toml"), *base]))
    assert "manifest not found" in line
    (tmp_path / "m.toml").write_text(GOOD)
    a = pd.read_csv(tmp_path / "a.csv")
    a.loc[3, "IKZF1"] = 0.0
    a.to_csv(tmp_path / "a.csv", index=False)
    line = one_error_line(
        runner.invoke(app, ["validate", str(tmp_path / "m.toml"), *base, "--transform", "log2"])
    )
    assert "positive marker values" in line and "a.csv" in line and "row 5" in line
    assert not out.exists()
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    line = one_error_line(runner.invoke(app, ["validate", str(tmp_path / "m.toml"), *base]))
    assert "not empty" in line
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    (tmp_path / "file_out").write_text("x")
    base[-1] = str(tmp_path / "file_out")
    line = one_error_line(runner.invoke(app, ["validate", str(tmp_path / "m.toml"), *base]))
    assert "not a directory" in line


def test_csv_cells_are_numbers_or_defused_text(tmp_path: Path) -> None:
    from ikaros.csvtext import csv_cell as _cell

    assert _cell(1e-300) == "1e-300" and float(_cell(0.1 + 0.2)) == 0.1 + 0.2
    assert _cell(float("nan")) == "" and _cell(None) == "" and _cell(True) == "true"
    assert _cell("=cmd()") == "'=cmd()" and _cell("-x") == "'-x" and _cell("LEN-1") == "LEN-1"
    assert not math.isnan(float(_cell(3)))


def test_a_table_with_a_reconstructed_column_is_flagged_and_covariates_adjust(
    tmp_path: Path,
) -> None:
    _good_cohorts(tmp_path)
    b = pd.read_csv(tmp_path / "b.csv").assign(reconstructed=1)
    b.to_csv(tmp_path / "b.csv", index=False)
    (tmp_path / "m.toml").write_text(GOOD.replace('.csv"\n', '.csv"\ntreatment = "arm"\n'))
    out = tmp_path / "out"
    _invoke(
        tmp_path / "m.toml", "-m", "IKZF1", "-e", "os", "-c", "age", "-q", "--out", out,
        "--treatment-reference", "y",
    )  # fmt: skip
    doc = json.loads((out / "validation.json").read_text())
    assert [(c["name"], c["reconstructed"], c["marker"]) for c in doc["cohorts"]] == [
        ("A", False, "values"),
        ("B", True, "values"),
    ]
    v = doc["results"]
    assert [e["reconstructed"] for e in v["estimates_continuous"]] == [False, True]
    assert v["covariates"] == ["age"] and doc["options"]["covariates"] == ["age"]
    assert v["one_stage_continuous"]["terms"] == ["marker", "age"]
    assert v["meta_continuous"]["k"] == 2  # a file with marker values: continuous too
    # a treatment per patient: its main effect is in the interaction model, beside the product
    inter = v["one_stage_interaction"]
    assert inter["terms"] == ["marker", "treatment", "age", "marker:treatment[x vs y]"]
    assert [c["treatment_levels"] for c in doc["cohorts"]] == [["x", "y"], ["x", "y"]]
    html = (out / "validation_report.html").read_text()
    assert "B (reconstructed)" in html and "Exploratory analysis." in html
    assert "The treatment is a property of whole cohorts" not in html
    est = {r["cohort"]: r for r in _rows(out / "tables" / "cohort_estimates.csv")}
    assert est["B"]["reconstructed"] == "true" and est["A"]["reconstructed"] == "false"
