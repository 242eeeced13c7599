"""The "Prognostic performance" section: every number of its tables and figures read back and
compared with results.json (formatted here, independently of the report code); the methods
paragraph and the TRIPOD items; nothing of it without ``--performance``."""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from ikaros.report.document import FigureJob
from ikaros.report.prognostic import performance_figures, performance_tables
from ikaros.report.sections import study_sections
from ikaros.report.tables_groups import all_tables
from ikaros.results import Analysis, Results
from tests.report.conftest import B2M_LABEL
from tests.report.test_report import _Tables

#: display names of the model terms, as the report must show them
NAMES = {"b2m_mg_l": "beta-2 microglobulin", "ldh": "ldh", "iss": "ISS stage"}
NAMES["cyto_high_risk"] = "high-risk cytogenetics"


def _label(model: dict[str, Any]) -> str:
    return " + ".join(NAMES[t] for t in model["terms"])


def _f3(x: float) -> str:
    return f"{x:.3f}"


def _ci3(lo: float, hi: float) -> str:
    if lo < 0 or hi < 0:
        return f"{lo:.3f} to {hi:.3f}"
    return f"{lo:.3f}–{hi:.3f}"


def _at(points: list[dict[str, Any]], t: float) -> dict[str, Any]:
    return next(p for p in points if p["time"] == t)


@pytest.fixture(scope="module")
def parsed(gse_example: tuple[Results, Path]) -> _Tables:
    parser = _Tables()
    parser.feed((gse_example[1] / "report.html").read_text())
    return parser


def _perf(results: Results, marker: str) -> dict[str, Any]:
    perf = results.analysis(marker, "os").performance
    assert perf is not None
    return perf


def test_performance_table_shows_every_model_and_measure(
    gse_example: tuple[Results, Path], parsed: _Tables
) -> None:
    results, _ = gse_example
    for marker in ("b2m_mg_l", "ldh"):
        perf = _perf(results, marker)
        models = perf["models"]
        assert list(models) == ["marker", "marker + covariates", "base", "base + marker"]
        table = parsed.tables[f"performance_{marker}_os"]
        assert table[0] == ["Measure", *(_label(m) for m in models.values())]
        rows = {r[0]: r[1:] for r in table[1:]}
        lm = perf["landmark"]
        for i, m in enumerate(models.values()):
            h, u = m["harrell_c"], m["uno_c"]
            auc, brier = _at(m["auc"]["points"], lm), _at(m["brier"]["points"], lm)
            assert rows["Patients / events"][i] == f"{m['n']} / {m['events']}"
            assert (
                rows["Harrell's C (95% CI)"][i] == f"{_f3(h['c'])} ({_ci3(h['lower'], h['upper'])})"
            )
            assert rows["Uno's C, τ = 36 months (95% CI)"][i] == (
                f"{_f3(u['c'])} ({_ci3(u['lower'], u['upper'])})"
            )
            assert rows["AUC at 36 months (95% CI)"][i] == (
                f"{_f3(auc['auc'])} ({_ci3(auc['lower'], auc['upper'])})"
            )
            assert rows["Brier score at 36 months (95% CI)"][i] == (
                f"{_f3(brier['brier'])} ({_ci3(brier['lower'], brier['upper'])})"
            )
            ibs = _at(m["brier"]["ibs"], lm)["ibs"]
            assert rows["Integrated Brier score, 0–36 months"][i] == _f3(ibs)
            ici = m["calibration"][0]["smooth"]["ici"]
            assert rows["Calibration at 36 months: ICI"][i] == _f3(ici)
            assert m["calibration_slope"] is None and m["evaluation"] == "apparent"
            assert rows["Calibration slope"][i] == "1 by construction (apparent)"
            c, slope = m["optimism"]["indices"][0], m["optimism"]["indices"][2]
            assert (c["name"], slope["name"]) == ("C", "slope")
            assert rows["Harrell's C, apparent"][i] == _f3(c["apparent"]) == _f3(h["c"])
            assert rows["Optimism of C (bootstrap)"][i] == f"{c['optimism']:+.3f}"
            assert rows["Harrell's C, optimism-corrected"][i] == (
                f"{_f3(c['corrected'])} (MC SE {_f3(c['mc_se'])})"
            )
            assert rows["Calibration slope, optimism-corrected"][i] == (
                f"{slope['corrected']:.2f} (MC SE {slope['mc_se']:.2f})"
            )
    foot = (gse_example[1] / "report.html").read_text()
    assert "B = 50 resamples (50 used; seed 20240601)" in foot


def test_performance_csv_holds_the_numbers_of_results(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    perf = _perf(results, "b2m_mg_l")
    df = pd.read_csv(out / "tables" / "performance_b2m_mg_l_os.csv", float_precision="round_trip")
    assert list(df["model"]) == list(perf["models"])
    for (_, row), m in zip(df.iterrows(), perf["models"].values(), strict=True):
        lm = perf["landmark"]
        auc, brier = _at(m["auc"]["points"], lm), _at(m["brier"]["points"], lm)
        c, slope = m["optimism"]["indices"][0], m["optimism"]["indices"][2]
        want = {
            "n": m["n"],
            "events": m["events"],
            "harrell_c": m["harrell_c"]["c"],
            "harrell_c_se": m["harrell_c"]["se"],
            "harrell_c_lower": m["harrell_c"]["lower"],
            "harrell_c_upper": m["harrell_c"]["upper"],
            "uno_c": m["uno_c"]["c"],
            "uno_tau": m["uno_c"]["tau"],
            "auc": auc["auc"],
            "auc_lower": auc["lower"],
            "auc_upper": auc["upper"],
            "auc_cases": auc["cases"],
            "brier": brier["brier"],
            "brier_upper": brier["upper"],
            "ibs": _at(m["brier"]["ibs"], lm)["ibs"],
            "ici": m["calibration"][0]["smooth"]["ici"],
            "c_optimism": c["optimism"],
            "c_corrected": c["corrected"],
            "c_corrected_mc_se": c["mc_se"],
            "slope_corrected": slope["corrected"],
            "bootstrap_b": m["optimism"]["B"],
        }
        for col, value in want.items():
            assert row[col] == value, col
        assert math.isnan(row["calibration_slope"])  # apparent: not estimated, not "1"
        assert row["terms"] == "; ".join(m["terms"]) and row["model_label"] == _label(m)


def test_added_value_table_and_csv(gse_example: tuple[Results, Path], parsed: _Tables) -> None:
    results, out = gse_example
    table = parsed.tables["added_value"]
    df = pd.read_csv(out / "tables" / "added_value.csv", float_precision="round_trip")
    assert len(table) == 3 and len(df) == 2
    for row, (_, data) in zip(table[1:], df.iterrows(), strict=True):
        marker = data["marker"]
        av = _perf(results, marker)["added_value"]
        d = av["delta_c"]
        assert row[0] == {"b2m_mg_l": B2M_LABEL, "ldh": "ldh"}[marker]
        assert row[2] == "ISS stage" and av["base_terms"] == ["iss"]
        assert row[4] == f"{av['lr_statistic']:.2f} ({av['lr_df']})"
        assert row[5] == ("<0.001" if av["lr_p"] < 0.001 else f"{av['lr_p']:.3f}")
        assert row[6:8] == [_f3(d["c_reference"]), _f3(d["c_new"])]
        assert row[8] == f"{d['delta']:+.3f} ({_ci3(d['lower'], d['upper'])})"
        assert row[9] == (
            f"{_ci3(av['boot_lower'], av['boot_upper'])} (B = {av['B_used']}/{av['B']})"
        )
        for col, key in (("lr_statistic", "lr_statistic"), ("lr_p", "lr_p"), ("lr_df", "lr_df")):
            assert data[col] == av[key]
        assert data["delta_c"] == d["delta"] and data["delta_c_lower"] == d["lower"]
        assert data["delta_c_boot_upper"] == av["boot_upper"]
        assert 0 < data["lr_p"] < 1e-3  # a p-value of ~1e-6 is a number, not "<0.001"


def _jobs(results: Results) -> dict[str, FigureJob]:
    return {j.stem: j for j in performance_figures(results)}


def test_figures_draw_the_numbers_of_results(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    jobs = _jobs(results)
    assert sorted(jobs) == sorted(
        f"{k}_{m}_os" for k in ("calibration", "auc", "decision") for m in ("b2m_mg_l", "ldh")
    )
    for stem in jobs:
        assert (out / "figures" / f"{stem}.png").stat().st_size > 20_000
    perf = _perf(results, "b2m_mg_l")
    models = perf["models"]
    labels = [_label(m) for m in models.values()]

    fig = jobs["calibration_b2m_mg_l_os"].make()
    ax = next(a for a in fig.axes if a.get_label() == "performance")
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == len(models)
    for bar, m in zip(bars, models.values(), strict=True):
        groups = m["calibration"][0]["groups"]
        line = bar.lines[0]
        np.testing.assert_array_equal(line.get_xdata(), [g["predicted"] for g in groups])
        np.testing.assert_array_equal(line.get_ydata(), [g["observed"] for g in groups])
    legend = [t.get_text().replace("\n  ", " ") for t in fig.legends[0].get_texts()]
    for label, m in zip(labels, models.values(), strict=True):
        ici = m["calibration"][0]["smooth"]["ici"]
        assert f"{label}: smoothed (ICI {ici:.3f})" in legend

    fig = jobs["auc_b2m_mg_l_os"].make()
    ax = next(a for a in fig.axes if a.get_label() == "performance")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    for label, m in zip(labels, models.values(), strict=True):
        pts = [p for p in m["auc_curve"]["points"] if p["auc"] is not None]
        np.testing.assert_array_equal(lines[label].get_xdata(), [p["time"] for p in pts])
        np.testing.assert_array_equal(lines[label].get_ydata(), [p["auc"] for p in pts])
    assert len(ax.collections) == len(models)  # one CI band per model

    fig = jobs["decision_b2m_mg_l_os"].make()
    ax = next(a for a in fig.axes if a.get_label() == "performance")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    for label, m in zip(labels, models.values(), strict=True):
        nb = [
            np.nan if p["net_benefit"] is None else p["net_benefit"]
            for p in m["decision"][0]["points"]
        ]
        np.testing.assert_array_equal(lines[label].get_ydata(), nb)
    treat_all = [p["treat_all"] for p in next(iter(models.values()))["decision"][0]["points"]]
    np.testing.assert_array_equal(lines["treat all"].get_ydata(), treat_all)


def test_captions_carry_the_auc_and_calibration(gse_example: tuple[Results, Path]) -> None:
    results, _ = gse_example
    jobs = _jobs(results)
    perf = _perf(results, "ldh")
    auc_caption = jobs["auc_ldh_os"].caption
    cal_caption = jobs["calibration_ldh_os"].caption
    for m in perf["models"].values():
        a = _at(m["auc"]["points"], 36.0)
        assert f"{_label(m)} {_f3(a['auc'])} ({_ci3(a['lower'], a['upper'])})" in auc_caption
        n_groups = len(m["calibration"][0]["groups"])
        assert f"{_label(m)}: {n_groups} groups" in cal_caption
    assert "Apparent calibration" in cal_caption


def test_methods_paragraph_and_tripod_items(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    html = (out / "report.html").read_text()
    section = html[html.index('<section id="performance">') :]
    section = section[: section.index("</section>")]
    for words in (
        "1 by construction",
        "optimism",
        "50 bootstrap resamples (seed 20240601)",
        "0.5 is chance, 1 perfect",
        "lower is better",
        "likelihood-ratio test of the nested models",
    ):
        assert words in section, words
    remark = html[html.index('<section id="remark">') :]
    remark = remark[: remark.index("</section>")]
    for item in ("TRIPOD item 10b", "TRIPOD item 10d", "TRIPOD item 14a", "TRIPOD item 15a"):
        assert item in remark, item
    for item in ("REMARK item 7", "REMARK item 5", "REMARK item 11", "REMARK item 3"):
        assert item in remark, item
    perf = _perf(results, "b2m_mg_l")
    for m in perf["models"].values():
        for term, coef in m["coef"].items():
            assert f"{NAMES[term]} {float(coef):.4g}" in remark
    assert f"{perf['n']} patients, {perf['events']} events" in remark


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_has_the_section(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    m = _perf(results, "ldh")["models"]["base + marker"]
    assert "Prognostic performance" in text and "Predictive or prognostic?" in text
    assert (
        f"{_f3(m['harrell_c']['c'])} ({_ci3(m['harrell_c']['lower'], m['harrell_c']['upper'])})"
        in text
    )


def test_nothing_of_it_without_the_options(demo_cli: tuple[Results, Path]) -> None:
    results, out = demo_cli
    assert all(a.performance is None and a.treatment is None for a in results.analyses)
    html = (out / "report.html").read_text()
    for anchor in ('id="performance"', 'id="predictive"', "TRIPOD", "Gail-Simon", "STEPP"):
        assert anchor not in html, anchor
    names = [p.stem for p in (out / "figures").glob("*.png")]
    names += [p.stem for p in (out / "tables").glob("*.csv")]
    for prefix in ("calibration_", "auc_", "decision_", "stepp_", "treatment_", "performance_"):
        assert not any(n.startswith(prefix) for n in names), prefix
    assert "added_value" not in names and "interaction" not in " ".join(names)


def _with(a: Analysis, **changes: Any) -> Analysis:
    return dataclasses.replace(a, **changes)


def test_failed_models_are_said_not_hidden(gse_example: tuple[Results, Path]) -> None:
    results, _ = gse_example
    a = results.analysis("ldh", "os")
    perf = dict(a.performance or {})
    models = dict(perf["models"])
    del models["base + marker"]
    note = "base + marker: performance not computed: a Cox model did not converge"
    broken = {**perf, "models": models, "added_value": None, "notes": [note]}
    other = dataclasses.replace(results.analysis("b2m_mg_l", "os"), performance=None)
    r = dataclasses.replace(results, analyses=(other, _with(a, performance=broken)))
    tables = {t.name: t for t in all_tables(r)}
    assert "added_value" not in tables and "performance_b2m_mg_l_os" not in tables
    assert tables["performance_ldh_os"].header[1:] == tuple(_label(m) for m in models.values())
    assert len(performance_tables(r)) == 1
    sec = next(s for s in study_sections(r, {}, tables) if s.anchor == "performance")
    assert any(b.kind == "warning" and b.text == note for b in sec.blocks)
    assert len(performance_figures(r)) == 3


def test_same_results_give_the_same_files(
    gse_example: tuple[Results, Path], tmp_path: Path
) -> None:
    """The report rebuilt from results.json is byte-identical (HTML, CSV, figures)."""
    from ikaros.report.build import build_report

    results, out = gse_example
    build_report(results, tmp_path, pdf=False)
    assert (tmp_path / "report.html").read_bytes() == (out / "report.html").read_bytes()
    for path in sorted((out / "tables").glob("*.csv")):
        assert (tmp_path / "tables" / path.name).read_bytes() == path.read_bytes(), path.name
    for stem in ("calibration_ldh_os", "stepp_b2m_mg_l_os", "treatment_forest_ldh_os"):
        for ext in ("png", "svg"):
            name = f"{stem}.{ext}"
            assert (tmp_path / "figures" / name).read_bytes() == (
                out / "figures" / name
            ).read_bytes()
