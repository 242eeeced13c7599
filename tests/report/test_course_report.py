"""The treatment-course report: tables agree with course_results.json, self-contained, PDF."""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ikaros.cli._course_io import run_course_demo
from ikaros.errors import SchemaVersionError
from ikaros.report.course_report import HTML_NAME, PDF_NAME, build_course_report, course_sections
from tests.report.test_report import _Tables

Built = dict[str, tuple[dict[str, Any], Path, _Tables]]


def _parse(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _rows(parser: _Tables, name: str) -> dict[str, list[str]]:
    """Body rows of table ``name`` keyed by their first cell."""
    return {row[0]: row[1:] for row in parser.tables[name][1:]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("course") / "demo"
    run_course_demo(out, quiet=True)
    result: Built = {}
    for key, directory in (("ball", out), ("maintenance", out / "maintenance")):
        results = json.loads((directory / "course_results.json").read_text())
        written = build_course_report(results, directory)
        assert written == [directory / HTML_NAME, directory / PDF_NAME]
        result[key] = (results, directory, _parse(directory / HTML_NAME))
    return result


def test_html_is_self_contained(built: Built) -> None:
    for _, directory, parser in built.values():
        assert parser.sources
        for src in parser.sources:
            assert src.startswith(("data:image/png;base64,", "#")), src
        html = (directory / HTML_NAME).read_text()
        assert 'http-equiv="Content-Security-Policy"' in html
        assert "http://" not in html and "https://" not in html


def test_figures_present_when_written(built: Built) -> None:
    order = ("swimmer", "oncoprint", "cumulative_incidence", "cumulative_incidence_by_group")
    for _, directory, parser in built.values():
        assert parser.figures == [
            stem for stem in order if (directory / "figures" / f"{stem}.png").is_file()
        ]
    assert built["ball"][2].figures[:2] == ["swimmer", "oncoprint"]
    assert "cumulative_incidence" in built["maintenance"][2].figures


def test_cohort_and_derived_match_results(built: Built) -> None:
    for results, _, parser in built.values():
        cohort = _rows(parser, "course_cohort")
        c = results["cohort"]
        assert cohort["Patients"] == [str(c["patients"])]
        assert cohort["With an SPM"] == [str(c["with_spm"])]
        assert cohort["Deaths"] == [str(c["deaths"])]
        for name, count in c["spm_types"].items():
            assert cohort[f"SPM type: {name}"] == [str(count)]
        derived = _rows(parser, "course_derived")
        b = results["derived"]["summary"]["months_len_to_spm"]
        assert derived["Months from first lenalidomide to SPM"] == [
            str(b["n"]),
            f"{b['median']:.1f}",
            f"{b['q1']:.1f}-{b['q3']:.1f}",
            f"{b['min']:.1f}-{b['max']:.1f}",
        ]


def test_published_table_only_for_the_geyer_series(built: Built) -> None:
    results, _, parser = built["ball"]
    published = _rows(parser, "course_published")
    assert published["cases with an SPM"] == ["32", str(results["cohort"]["with_spm"])]
    cr = results["responses"]["after_spm"]["cr_cri"]
    assert published["CR/CRi / treated"][1].startswith(f"{cr['count']}/{cr['n']} (")
    assert "course_published" not in built["maintenance"][2].tables


def test_responses_with_clopper_pearson(built: Built) -> None:
    results, _, parser = built["ball"]
    cr = results["responses"]["after_spm"]["cr_cri"]
    assert _rows(parser, "course_response_rates")["CR/CRi after the SPM"] == [
        f"{cr['count']}/{cr['n']}",
        f"{100 * cr['estimate']:.1f}%",
        f"{100 * cr['lower']:.1f}-{100 * cr['upper']:.1f}%",
    ]
    best = _rows(parser, "course_response_after_spm")
    for resp, count in results["responses"]["after_spm"]["best"].items():
        assert best[resp][0] == str(count)
    results, _, parser = built["maintenance"]
    vg = results["responses"]["before_spm"]["vgpr_or_better"]
    row = _rows(parser, "course_response_rates")["VGPR or better before the SPM"]
    assert row[0] == f"{vg['count']}/{vg['n']}"


def test_survival_and_landmark(built: Built) -> None:
    results, _, parser = built["ball"]
    surv = _rows(parser, "course_survival")
    treated = results["survival"]["efs"]["treated"]
    row = surv["EFS, treated, from SPM"]
    assert row[:2] == [str(treated["n"]), str(treated["events"])]
    assert row[2].startswith(f"{treated['median']['estimate']:.1f} (")
    efs_all = results["survival"]["efs"]["all"]
    assert surv["EFS, all patients, from SPM"][2].startswith("not reached (")
    assert efs_all["median"]["estimate"] is None
    at = _rows(parser, "course_survival_at")["EFS, all patients, from SPM"]
    first = efs_all["at"][0]
    assert at[0] == (
        f"{100 * first['survival']:.0f}% ({100 * first['lower']:.0f}-{100 * first['upper']:.0f}%)"
    )
    lm = _rows(parser, "course_landmark")
    e = results["landmark"]["efs"]
    assert lm["EFS"] == [
        str(e["with_origin"]),
        str(e["no_hct_allo_after_origin"]),
        str(e["excluded_event_before_hct"]),
        str(e["included"]),
    ]
    assert "course_landmark" not in built["maintenance"][2].tables


def test_time_varying_cox_per_month_and_year(built: Built) -> None:
    for results, directory, parser in built.values():
        rows = _rows(parser, "course_time_varying_cox")
        for model in results["time_varying_cox"]:
            name = {"spm": "SPM", "efs": "EFS"}[model["endpoint"]]
            origin = {"spm": "SPM", "diagnosis": "diagnosis"}[model["origin"]]
            row = rows[f"{name} from {origin}: cum_exposure"]
            t, y = model["terms"]["cum_exposure"], model["cum_exposure_per_year"]
            assert row[:3] == [
                str(model["n_patients"]),
                str(model["n_intervals"]),
                str(model["events"]),
            ]
            assert row[3] == f"{t['hr']:.3f} ({t['lower']:.3f}-{t['upper']:.3f})"
            assert row[4] == f"{y['hr']:.2f} ({y['lower']:.2f}-{y['upper']:.2f})"
        html = (directory / HTML_NAME).read_text()
        for model in results["time_varying_cox"]:
            if "note" in model:
                assert model["note"] in html


def test_competing_risks_table(built: Built) -> None:
    results, directory, parser = built["maintenance"]
    cr = results["competing_risks"]
    rows = _rows(parser, "course_competing_risks")
    for p in cr["at"]:
        row = rows[f"{p['time']:g}"]
        assert row[0].startswith(f"{100 * p['cif_spm']:.1f}% (")
        assert row[1].startswith(f"{100 * p['one_minus_km_spm']:.1f}% (")
        assert row[2] == f"{100 * p['overstatement']:+.1f}"
        assert row[3] == f"{100 * p['cif_death']:.1f}%"
    assert cr["explanation"] in (directory / HTML_NAME).read_text()
    assert "No competing-risks analysis" in (built["ball"][1] / HTML_NAME).read_text()


def test_mutations_table(built: Built) -> None:
    results, _, parser = built["ball"]
    rows = _rows(parser, "course_mutations")
    for gene, b in results["mutations"]["genes"].items():
        assert rows[gene][:3] == [
            f"{b['count']}/{b['n']}",
            str(b["not_evaluated"]),
            f"{100 * b['estimate']:.1f}%",
        ]
    assert "course_mutations" not in built["maintenance"][2].tables


def _mutation_rows(results: dict[str, Any], directory: Path) -> dict[str, tuple[str, ...]]:
    sections = course_sections(results, directory)
    blocks = [b for s in sections for b in s.blocks if b.table is not None]
    table = next(b.table for b in blocks if b.table and b.table.name == "course_mutations")
    return {row[0]: row[1:] for row in table.rows}


def test_mutations_table_edge_cases(built: Built, tmp_path: Path) -> None:
    """A gene evaluated in nobody (schema 1.1) and results of schema 1.0 (no not_evaluated)."""
    results = copy.deepcopy(built["ball"][0])
    results["mutations"]["genes"]["MYC"] = {
        "count": 0, "n": 0, "estimate": None, "lower": None, "upper": None,
        "conf_level": 0.95, "method": "Clopper-Pearson exact",
        "reason": "no patient was evaluated", "not_evaluated": 32,
    }  # fmt: skip
    assert _mutation_rows(results, tmp_path)["MYC"] == ("0/0", "32", "n/a", "n/a")
    old = copy.deepcopy(built["ball"][0])
    old["course_schema_version"] = "1.0"
    m = old["mutations"]
    for block in [*m["genes"].values(), m["TP53"], m["hypodiploidy"]]:
        del block["not_evaluated"]
    del m["patients"]
    rows = _mutation_rows(old, tmp_path)
    assert rows["TP53"] == ("9/19", "n/a", "47.4%", "24.4-71.1%")


def _counts_from_input(path: Path) -> dict[str, tuple[int, int, int]]:
    """(gene or "hypodiploidy") -> (altered, evaluated, not evaluated), read with csv."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    everyone = {r["patient_id"] for r in rows}
    out = {}
    for gene in {r["gene"] for r in rows}:
        mine = [r for r in rows if r["gene"] == gene]
        tested = {r["patient_id"] for r in mine if r["alteration"] != "not_evaluated"}
        found = {
            r["patient_id"] for r in mine if r["alteration"] not in ("not_evaluated", "unaltered")
        }
        out[gene] = (len(found), len(tested), len(everyone - tested))
        if gene == "KARYOTYPE":
            hypo = {r["patient_id"] for r in mine if r["alteration"] == "hypodiploidy"}
            out["hypodiploidy"] = (len(hypo), len(tested), len(everyone - tested))
    return out


def _svg_counts(path: Path, genes: set[str]) -> dict[str, str]:
    """Gene label -> the n/N text on its row of the oncoprint SVG (text kept as text; rows are
    14.4 points apart, a label and its count within 2 points)."""
    found = re.findall(r'<text [^>]*?y="([0-9.]+)"[^>]*>([^<]+)</text>', path.read_text())
    texts = [(float(y), t) for y, t in found]
    counts = [(y, t) for y, t in texts if re.fullmatch(r"\d+/\d+", t)]
    out = {}
    for y, t in texts:
        if t in genes:
            near = [n for yc, n in counts if abs(yc - y) < 2.0]
            assert len(near) == 1, (t, near)
            out[t] = near[0]
    return out


def test_mutation_counts_are_among_evaluable_patients_of_the_input_table(built: Built) -> None:
    """course_results.json, the report and the oncoprint give altered/evaluated as counted from
    the written course_mutations.csv, as Geyer et al. 2023 do (TP53 9/19, hypodiploidy 8/26)."""
    results, directory, parser = built["ball"]
    want = _counts_from_input(directory / "course_mutations.csv")
    assert want["TP53"] == (9, 19, 13) and want["hypodiploidy"] == (8, 26, 6)
    m = results["mutations"]
    assert m["patients"] == 32
    got = {g: (b["count"], b["n"], b["not_evaluated"]) for g, b in m["genes"].items()}
    got["hypodiploidy"] = tuple(m["hypodiploidy"][k] for k in ("count", "n", "not_evaluated"))
    assert got["TP53"] == tuple(m["TP53"][k] for k in ("count", "n", "not_evaluated"))
    assert got == {g: v for g, v in want.items() if g != "KARYOTYPE"}
    for g, (altered, evaluated, _) in got.items():
        block = m["hypodiploidy"] if g == "hypodiploidy" else m["genes"][g]
        assert block["estimate"] == pytest.approx(altered / evaluated, rel=1e-12)
    rows = _rows(parser, "course_mutations")
    rows["hypodiploidy"] = rows.pop("Low hypodiploidy")
    assert rows.pop("TP53 altered (any)") == rows["TP53"]
    assert {g: (r[0], r[1]) for g, r in rows.items()} == {
        g: (f"{a}/{n}", str(ne)) for g, (a, n, ne) in want.items() if g != "KARYOTYPE"
    }
    html = (directory / HTML_NAME).read_text()
    assert "TP53 altered in 9 of 19 evaluable patients (47%); 13 not evaluated" in html
    assert "low hypodiploidy in 8 of 26 evaluable patients (31%); 6 not evaluated" in html
    drawn = _svg_counts(directory / "figures" / "oncoprint.svg", set(want))
    assert drawn == {g: f"{a}/{n}" for g, (a, n, _) in want.items() if g != "hypodiploidy"}
    assert "dark grey: not evaluated" in html


def test_reproducibility_footer(built: Built) -> None:
    results, directory, _ = built["ball"]
    html = (directory / HTML_NAME).read_text()
    footer = html[html.index('<footer id="reproducibility">') :]
    assert results["input"]["course"]["source"] in footer
    assert f"Course results schema {results['course_schema_version']}" in footer
    assert f"lifelines {results['software']['lifelines']}" in footer


def test_deterministic_bytes(built: Built, tmp_path: Path) -> None:
    results, directory, _ = built["maintenance"]
    copy_dir = tmp_path / "again"
    shutil.copytree(directory / "figures", copy_dir / "figures")
    build_course_report(copy.deepcopy(results), copy_dir)
    for name in (HTML_NAME, PDF_NAME):
        assert (copy_dir / name).read_bytes() == (directory / name).read_bytes()


def test_pdf(built: Built) -> None:
    for results, directory, _ in built.values():
        data = (directory / PDF_NAME).read_bytes()
        assert data.startswith(b"%PDF")
        if shutil.which("pdftotext") is None:
            continue
        text = subprocess.run(
            ["pdftotext", "-layout", str(directory / PDF_NAME), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Treatment-course report" in text
        y = results["time_varying_cox"][0]["cum_exposure_per_year"]
        assert f"{y['hr']:.2f} ({y['lower']:.2f}-{y['upper']:.2f})" in text
        assert f"Course results schema {results['course_schema_version']}" in " ".join(text.split())
    text = (
        subprocess.run(
            ["pdftotext", str(built["maintenance"][1] / PDF_NAME), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if shutil.which("pdftotext")
        else ""
    )
    if text:
        p = built["maintenance"][0]["competing_risks"]["at"][0]
        assert f"{100 * p['cif_spm']:.1f}%" in text


def test_other_schema_version_is_refused(built: Built, tmp_path: Path) -> None:
    results = copy.deepcopy(built["ball"][0])
    results["course_schema_version"] = "2.0"
    with pytest.raises(SchemaVersionError, match=r"'2\.0'.*Remedy: re-run `ikaros course`"):
        build_course_report(results, tmp_path)
    assert not (tmp_path / HTML_NAME).exists()
    del results["course_schema_version"]
    with pytest.raises(SchemaVersionError, match=r"\(none\)"):
        build_course_report(results, tmp_path)


def test_missing_figures_are_skipped(built: Built, tmp_path: Path) -> None:
    results = built["ball"][0]
    assert build_course_report(results, tmp_path, pdf=False) == [tmp_path / HTML_NAME]
    parser = _parse(tmp_path / HTML_NAME)
    assert parser.figures == []
    assert "figures" not in {s for s in parser.sources}


def test_optional_competing_blocks_are_rendered(built: Built, tmp_path: Path) -> None:
    results = copy.deepcopy(built["maintenance"][0])
    cr = results["competing_risks"]
    point = {"time": 36.0, "cif_spm": 0.05, "lower": 0.02, "upper": 0.09}
    cr["by_group"] = {
        "column": "arm",
        "groups": {
            "A": {"n": 150, "spm": 9, "death_without_spm": 60, "at": [point]},
            "B": {"n": 150, "spm": 19, "death_without_spm": 63, "at": []},
        },
    }
    cr["gray_test"] = {
        "column": "arm",
        "cause": "SPM",
        "rho": 0.0,
        "status": "tested",
        "groups": ["A", "B"],
        "statistic": 4.21,
        "df": 1,
        "p": 0.0402,
    }
    fg = {"hr": 1.31, "lower": 1.02, "upper": 1.68, "p": 0.034}
    cs = {"hr": 1.45, "lower": 1.1, "upper": 1.9, "p": 0.008}
    cr["regression"] = {
        "cause": "SPM",
        "covariates": ["arm"],
        "coding": {"arm": "1 = B, 0 = A (reference)"},
        "n": 300,
        "events": 28,
        "competing": 123,
        "fine_gray": {"status": "fitted", "method": "Fine-Gray", "terms": {"arm": fg}},
        "cause_specific_cox": {"status": "not estimable", "reason": "collinear"},
        "terms": {"arm": {"fine_gray": fg, "cause_specific": cs}},
        "explanation": "SHR and CSHR differ when the covariate affects death.",
    }
    build_course_report(results, tmp_path, pdf=True)
    parser = _parse(tmp_path / HTML_NAME)
    html = (tmp_path / HTML_NAME).read_text()
    assert parser.tables["course_cr_by_group"][1] == ["A", "150", "9", "60", "5.0% (2.0-9.0%)"]
    assert parser.tables["course_cr_by_group"][2] == ["B", "150", "19", "63", "n/a"]
    assert parser.tables["course_cr_gray"][1] == ["SPM", "A, B", "4.21", "1", "0.040"]
    assert parser.tables["course_cr_regression"][1] == [
        "arm (1 = B, 0 = A (reference))",
        "1.31 (1.02-1.68)",
        "0.034",
        "1.45 (1.10-1.90)",
        "0.008",
    ]
    assert "Cause-specific Cox not estimable: collinear." in html
    assert cr["regression"]["explanation"] in html
    # an unknown layout still renders, as key/value rows
    cr["regression"] = {"something": [{"x": 1.5}]}
    cr["gray_test"] = {"status": "not estimable", "reason": "one group"}
    build_course_report(results, tmp_path, pdf=False)
    parser = _parse(tmp_path / HTML_NAME)
    assert parser.tables["course_cr_regression"][1] == ["something[0].x", "1.50"]
    assert "Gray&#39;s test not estimable: one group." in (tmp_path / HTML_NAME).read_text()
