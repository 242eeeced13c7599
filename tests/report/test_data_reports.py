"""Reports that describe the data (issue 11): groupings, cuts, competing risks, labels, omissions.

Real cohorts go through the real ``ikaros analyze`` (typer's CliRunner, in process) and the
report is built from the ``results.json`` it writes. Every number in the report's tables and
figures is read back (HTML cells, matplotlib artists) and compared with the results file,
formatted here independently of the report code; sentences that replace omitted tables and
panels are checked by their wording; the GSE24080 report must carry its title and labels and say
nothing about cytogenetics (the cohort has none).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.report.build import build_report
from ikaros.report.figures import forest_figure, km_figure, marker_figure
from ikaros.report.figures.competing import NAIVE_LABEL, competing_figure, naive_incidence
from ikaros.report.figures.grouping import grouping_figure
from ikaros.report.naming import (
    cut_display_labels,
    cut_statement,
    display_label,
    parse_label,
    report_title,
)
from ikaros.report.sections import NO_MULTIVARIABLE
from ikaros.results import GroupSummary, IncidenceCurve, Results, load_results
from ikaros.study.competing import EXPLANATION
from tests.conftest import REFERENCE, require_shared
from tests.report.csv_check import read_tables
from tests.report.test_figures import at_risk_mismatches, axes_by_label, legend_texts, p_text
from tests.report.test_report import _Tables

runner = CliRunner()
MGUS2 = REFERENCE / "real_cohorts" / "mgus2_ttp.csv"
GSE_TITLE = "GSE24080: UAMS Total Therapy 2 and 3"
B2M = "beta-2 microglobulin (mg/L)"
LDH = "serum LDH (U/L)"


# --------------------------------------------------------------------------- running


def _analyze(args: list[str], out: Path) -> Results:
    result = runner.invoke(app, ["analyze", *args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return load_results(out)


class Report:
    """A built report: results, directory, parsed HTML tables and figures, visible text."""

    def __init__(self, results: Results, out: Path) -> None:
        self.results = results
        self.out = out
        self.html = (out / "report.html").read_text()
        self.parser = _Tables()
        self.parser.feed(self.html)
        body = self.html[: self.html.index('<footer id="reproducibility">')]
        body = re.sub(r"<style>.*?</style>", " ", body, flags=re.S)
        self.text = html.unescape(re.sub(r"<[^>]+>", " ", body))

    def table(self, name: str) -> list[list[str]]:
        return self.parser.tables[name]

    def rows(self, name: str) -> dict[str, list[str]]:
        return {r[0]: r for r in self.parser.tables[name][1:]}


def _report(results: Results, out: Path, *, pdf: bool) -> Report:
    build_report(results, out, pdf=pdf)
    return Report(results, out)


def _commpass_args(*extra: str) -> list[str]:
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
        *extra,
    ]


def _gse_args(*extra: str) -> list[str]:
    path = require_shared() / "gse24080" / "clinical.tsv"
    return [str(path), "--map", "patient_id=patid", "-e", "os", "-e", "efs", *extra]


@pytest.fixture(scope="module")
def commpass(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("commpass")
    return _report(_analyze(_commpass_args(), out), out, pdf=True)


@pytest.fixture(scope="module")
def gse(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("gse_thresholds")
    args = _gse_args(
        "-m",
        "b2m_mg_l",
        "--cut",
        "3.5,5.5",
        "--group",
        "protocol",
        "--covariate",
        "age",
        "--label",
        f"b2m_mg_l={B2M}",
        "--title",
        GSE_TITLE,
    )
    return _report(_analyze(args, out), out, pdf=True)


@pytest.fixture(scope="module")
def gse_median(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("gse_median")
    args = _gse_args(
        "-m",
        "b2m_mg_l",
        "-m",
        "ldh",
        "--cut",
        "median",
        "--label",
        f"b2m_mg_l={B2M}",
        "--label",
        f"ldh={LDH}",
    )
    return _report(_analyze(args, out), out, pdf=False)


@pytest.fixture(scope="module")
def mgus(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("mgus")
    args = [
        str(MGUS2),
        "--endpoint",
        "ttp",
        "--competing",
        "ttp",
        "--causes",
        "ttp=1:progression,2:death",
        "--group",
        "sex",
        "-m",
        "hgb",
        "--cut",
        "tertile",
        "--covariate",
        "age",
        "--label",
        "hgb=haemoglobin (g/dL)",
        "--xlim",
        "240",
    ]
    return _report(_analyze(args, out), out, pdf=False)


# --------------------------------------------------------------------------- formatting here


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def fp(p: float) -> str:
    """The report's table p-value format."""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def hr_cell(hr: float, lo: float, hi: float) -> str:
    return f"{hr:.2f} ({lo:.2f}-{hi:.2f})"


def median_cell(s: GroupSummary) -> str:
    m = s.median
    if m.estimate is None:
        return "not reached"
    low = f"{m.lower:.1f}" if m.lower is not None else "NR"
    high = f"{m.upper:.1f}" if m.upper is not None else "NR"
    return f"{m.estimate:.1f} ({low}-{high})"


def incidence_cell(x: float | None, lo: float | None = None, hi: float | None = None) -> str:
    if x is None:
        return "n/a"
    text = f"{100 * x:.1f}%"
    return text + (
        f" ({100 * lo:.1f}-{100 * hi:.1f}%)" if lo is not None and hi is not None else ""
    )


def legend(fig: Figure) -> str:
    return " | ".join(t.get_text() for t in legend_texts(fig))


# --------------------------------------------------------------------------- CoMMpass by ISS


def test_commpass_title_is_the_file_name_and_iss_is_named(commpass: Report) -> None:
    assert "<h1>Study report: clinical.csv</h1>" in commpass.html
    assert "/work/" not in commpass.text and "shared/data" not in commpass.text
    assert "km_group_iss_os" in commpass.parser.figures
    assert "OS by ISS stage" in commpass.text


def test_commpass_levels_table_matches_results(commpass: Report) -> None:
    (g,) = commpass.results.groupings
    rows = commpass.rows("groups_iss_os")
    assert list(rows) == ["ISS I", "ISS II", "ISS III"]
    assert commpass.table("groups_iss_os")[0][:8] == [
        "Level",
        "n",
        "Events",
        "S(36)",
        "95% CI",
        "Median (95% CI), months",
        "HR (95% CI)",
        "p",
    ]
    assert g.cox is not None
    for level in g.levels:
        row = rows[f"ISS {level.label}"]
        s = g.groups[level.label]
        lm = s.landmark
        assert row[1:3] == [str(level.n), str(level.events)]
        assert row[3] == pct(lm.survival)
        assert row[4] == f"{100 * lm.lower:.0f}-{100 * lm.upper:.0f}%"  # type: ignore[operator]
        assert row[5] == median_cell(s)
        if level.reference:
            assert row[6:8] == ["1 (reference)", "-"]
        else:
            t = g.cox.terms[f"iss {level.label} vs I"]
            assert row[6:8] == [hr_cell(t.hr, t.lower, t.upper), fp(t.p)]
    assert g.logrank is not None and g.trend is not None
    foot = commpass.html[commpass.html.index('data-table="groups_iss_os"') :]
    assert f"chi-square {g.logrank.statistic:.2f} on 2 df" in foot
    assert f"chi-square {g.trend.statistic:.2f} on 1 df" in foot


def test_commpass_figure_at_risk_and_tests(commpass: Report) -> None:
    (g,) = commpass.results.groupings
    fig = grouping_figure(g, label="ISS stage")
    shown = {f"ISS {k}": s for k, s in g.groups.items()}
    assert at_risk_mismatches(fig, shown) == []
    text = legend(fig)
    assert g.logrank is not None and g.trend is not None
    assert f"Log-rank P {p_text(g.logrank.p)} (2 df); trend P {p_text(g.trend.p)}" in text
    for name, s in shown.items():
        assert name in text and str(s.n) in text
        lm = s.landmark
        assert f"{pct(lm.survival)} ({100 * lm.lower:.0f}–{pct(lm.upper)})" in text  # type: ignore[operator]
    title = next(t for t in fig.texts if t.get_label() == "title").get_text()
    assert title == "OS by ISS stage"


def test_commpass_flow_and_endpoint_derivation(commpass: Report) -> None:
    (g,) = commpass.results.groupings
    flow = commpass.rows("patient_flow")
    assert flow["Patients in the input"][2] == "995"
    not_evaluable = flow["OS: not evaluable (no time/event)"]
    assert not_evaluable[2] == "1" and "row 193" in not_evaluable[1]
    row = flow["ISS stage x OS"]
    assert row[1] == f"excluded: {g.missing_variable} missing ISS stage, 1 not evaluable"
    assert row[2:] == [str(g.n), str(g.events)] and g.missing_variable == 28
    assert (
        "derived from the input columns: time = first of days_to_death, "
        "days_to_last_follow_up; event = vital_status in 'Dead'"
    ) in commpass.text
    assert "30.4375 days per month" in commpass.text


def test_commpass_describes_only_what_was_run(commpass: Report) -> None:
    text = commpass.text
    for absent in ("cytogenetic", "Cox regression", "Landmark survival", "Marker vs ISS"):
        assert absent not in text, absent
    assert "Survival by ISS stage was compared across the levels" in text
    assert "trend over the ordered levels of ISS stage" in text
    assert "reference level (ISS stage: ISS I)" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_commpass_pdf_has_the_same_title_and_table(commpass: Report) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(commpass.out / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Study report: clinical.csv" in text
    (g,) = commpass.results.groupings
    t = g.cox.terms["iss III vs I"]  # type: ignore[union-attr]
    assert hr_cell(t.hr, t.lower, t.upper) in text


# --------------------------------------------------------------------------- GSE24080, thresholds


def test_gse_title_labels_and_no_raw_names(gse: Report) -> None:
    assert f"<h1>Study report: {GSE_TITLE}</h1>" in gse.html
    text = gse.text
    assert B2M in text
    for absent in ("b2m_mg_l", "cytogenetic", "expression"):
        assert absent not in text, absent
    for stem in gse.parser.figures:  # figure titles (img alt, captions) use the label
        assert (
            "b2m_mg_l"
            not in html.unescape(
                gse.html[gse.html.index(f'data-figure="{stem}"') :].split("</figure>")[0]
            )
            .split('alt="')[1]
            .split('"')[0]
        )


def test_gse_threshold_groups_in_tables(gse: Report) -> None:
    a = gse.results.analysis("b2m_mg_l", "os")
    assert a.cut["kind"] == "thresholds" and a.cut["values"] == [3.5, 5.5]
    want = {"<= 3.5": "≤ 3.5 mg/L", "3.5-5.5": "3.5–5.5 mg/L", "> 5.5": "> 5.5 mg/L"}
    assert cut_display_labels(a.cut, parse_label(B2M)) == want
    rows = [r for r in gse.table("landmark_survival")[1:] if r[1] == "OS" and r[2] != "quartiles"]
    assert [r[3] for r in rows] == list(want.values())
    for r, (key, g) in zip(rows, a.groups.items(), strict=True):
        assert r[0] == B2M and r[2] == "thresholds 3.5, 5.5"
        assert r[4:7] == [str(g.n), str(g.events), pct(g.landmark.survival)]
        assert r[8] == str(g.landmark.n_risk) and r[9] == median_cell(g)
        assert key in want
    summary = gse.table("summary")
    assert summary[0][3:6] == ["S(36) ≤ 3.5", "S(36) 3.5–5.5", "S(36) > 5.5"]
    assert summary[0][6:8] == ["Log-rank p", "Trend p"]
    os_row = next(r for r in summary[1:] if r[1] == "OS")
    assert a.trend is not None
    assert os_row[6:8] == [fp(a.logrank.p), fp(a.trend.p)]
    assert "pre-specified thresholds 3.5 and 5.5 mg/L" in gse.text
    assert "not derived from these data" in gse.text


def test_gse_three_group_figure(gse: Report) -> None:
    a = gse.results.analysis("b2m_mg_l", "os")
    fig = km_figure(a, label=B2M)
    names = cut_display_labels(a.cut, parse_label(B2M))
    assert at_risk_mismatches(fig, {names[k]: g for k, g in a.groups.items()}) == []
    text = legend(fig)
    assert "Pre-specified thresholds 3.5 and 5.5 mg/L" in text
    assert a.trend is not None
    assert f"Log-rank P {p_text(a.logrank.p)} (2 df); trend P {p_text(a.trend.p)}" in text
    km = axes_by_label(fig, "km")
    assert [line.get_label() for line in km.lines if not line.get_label().startswith("_")] == [
        "≤ 3.5 mg/L",
        "3.5–5.5 mg/L",
        "> 5.5 mg/L",
    ]
    title = next(t for t in fig.texts if t.get_label() == "title").get_text()
    assert title == "beta-2 microglobulin, OS: pre-specified thresholds"
    assert "km_b2m_mg_l_os_thresholds" in gse.parser.figures


def test_gse_models_use_only_the_adjusters_given(gse: Report) -> None:
    a = gse.results.analysis("b2m_mg_l", "os")
    assert a.cox_multivariable is not None and set(a.cox_multivariable.terms) == {
        "b2m_mg_l",
        "age",
    }
    multi = [r for r in gse.table("cox_multivariable")[1:] if r[1] == "OS"]
    assert {r[2] for r in multi} == {"continuous + age", "groups vs ≤ 3.5 mg/L + age"}
    term = a.cox_multivariable.terms["b2m_mg_l"]
    row = next(r for r in multi if r[3] == f"{B2M} (per SD)")
    assert row[4] == f"{term.hr_per_sd:.2f}" and row[6] == fp(term.p)
    fig = forest_figure(gse.results, "os", kind="multivariable")
    foot = " ".join(t.get_text() for t in fig.texts if t.get_label() == "footnote")
    assert "marker (HR per SD) + age;" in foot and "cytogenetic" not in foot
    rows = [t.get_text() for t in fig.axes[0].texts if t.get_label() == "row_label"]
    assert "beta-2 microglobulin > 5.5 mg/L vs ≤ 3.5 mg/L" in rows and "Age" in rows
    assert not any("b2m_mg_l" in r for r in rows)


def test_gse_protocol_adjusted_for_age(gse: Report) -> None:
    g = next(x for x in gse.results.groupings if x.endpoint == "efs")
    assert g.cox is not None and g.cox_adjusted is not None
    rows = gse.rows("groups_protocol_efs")
    assert gse.table("groups_protocol_efs")[0][-2:] == ["Adjusted HR (95% CI)", "Adjusted p"]
    t, u = g.cox.terms["protocol TT3 vs TT2"], g.cox_adjusted.terms["protocol TT3 vs TT2"]
    assert rows["TT3"][6:] == [
        hr_cell(t.hr, t.lower, t.upper),
        fp(t.p),
        hr_cell(u.hr, u.lower, u.upper),
        fp(u.p),
    ]
    assert rows["TT2"][6:] == ["1 (reference)", "-", "1 (reference)", "-"]
    assert "Adjusted: the same model with age" in gse.text


def test_gse_marker_figure_without_response_panel(gse: Report) -> None:
    assert "marker_b2m_mg_l" in gse.parser.figures
    assert "The marker-vs-response panel is omitted: the data have no best response." in gse.text
    (assoc,) = gse.results.marker_associations
    fig = marker_figure(assoc, ylabel=B2M, panels=("iss",))
    assert [ax.get_label() for ax in fig.axes] == ["iss"]
    assert fig.axes[0].get_ylabel().startswith(B2M)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_gse_pdf_has_title_and_no_cytogenetics(gse: Report) -> None:
    text = subprocess.run(
        ["pdftotext", "-raw", str(gse.out / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Study report: {GSE_TITLE}" in text
    body = text[: text.index("Reproducibility.")]
    assert "cytogenetic" not in body and "b2m_mg_l" not in body and "expression" not in body


# --------------------------------------------------------------------------- GSE24080, median


def test_median_cut_is_stated_with_unit_and_origin(gse_median: Report) -> None:
    r = gse_median.results
    for marker, label in (("b2m_mg_l", B2M), ("ldh", LDH)):
        a = r.analysis(marker, "os")
        assert a.cut["kind"] == "median" and a.cut["derived_from_data"]
        lab = parse_label(label)
        v = f"{a.cut['value']:.4g} {lab.unit}"
        assert cut_statement(a.cut, lab, short=True) == (
            f"low: ≤ {v}, high: > {v} (median, derived from these data)"
        )
        assert f"{label} low: ≤ {v}" in gse_median.text
        fig = km_figure(a, label=label)
        assert f"Low: ≤ {v}, high: > {v} (median, derived from these data)" in legend(fig)
    assert "ldh expression" not in gse_median.text and "expression" not in gse_median.text
    assert "serum LDH (U/L) by ISS stage" in gse_median.text


def test_multivariable_table_omitted_with_a_sentence(gse_median: Report) -> None:
    assert "cox_multivariable" not in gse_median.parser.tables
    assert NO_MULTIVARIABLE in gse_median.text
    assert not (gse_median.out / "tables" / "cox_multivariable.csv").exists()
    assert not any(f.startswith("forest_") for f in gse_median.parser.figures)
    assert "cytogenetic" not in gse_median.text


# --------------------------------------------------------------------------- mgus2, competing


def _cif_at_risk(curve: IncidenceCurve, t: float, n: int) -> str:
    if t == 0:
        return str(n)
    for time, n_risk in zip(curve.time, curve.n_risk, strict=True):
        if time >= t:
            return str(n_risk)
    return "0"


def test_competing_figure_reads_back(mgus: Report) -> None:
    c = next(x for x in mgus.results.competing if x.name == "sex")
    lab = display_label(mgus.results, "sex")
    fig = competing_figure(c, label=lab, xlim=240)
    ax = axes_by_label(fig, "cif")
    assert ax.get_xlim()[1] == 240
    ticks = [t for t in ax.get_xticks() if t <= 240 + 1e-9]
    assert ticks[0] == 0 and ticks[-1] <= 240
    tab = axes_by_label(fig, "at_risk")
    rows = {t.get_position()[1]: t.get_text() for t in tab.texts if t.get_label() == "row"}
    got = {
        (rows[t.get_position()[1]], float(t.get_position()[0])): t.get_text()
        for t in tab.texts
        if t.get_label() == "n_risk"
    }
    want = {}
    for key, g in c.groups.items():
        assert g.curve is not None
        for t in ticks:
            want[(key, float(t))] = _cif_at_risk(g.curve, t, g.n)
    assert got == want
    naive = [line for line in ax.lines if line.get_label().startswith("_naive")]
    assert len(naive) == len(c.groups)
    text = legend(fig)
    assert NAIVE_LABEL in text and "Competing: death" in text
    assert c.gray is not None and f"Gray's test P {p_text(c.gray.p)}" in text
    ylabel = ax.get_ylabel()
    assert ylabel == "Cumulative incidence of progression"


def test_naive_curve_equals_the_stored_naive_at_the_landmark(mgus: Report) -> None:
    """The dashed curve (from the stored counts) against the engine's 1 - KM at the landmark."""
    lm = mgus.results.options.landmark
    checked = 0
    for c in mgus.results.competing:
        for g in c.groups.values():
            assert g.curve is not None
            (at,) = g.at
            est = naive_incidence(g.curve)
            i = int(np.searchsorted(g.curve.time, lm, side="right")) - 1
            assert at.naive is not None
            assert est[i] == pytest.approx(at.naive, rel=1e-12, abs=1e-15)
            assert est[-1] >= g.curve.cif[-1] - 1e-12  # the naive estimate is never smaller
            checked += 1
    assert checked == 5


def test_incidence_and_models_tables(mgus: Report) -> None:
    lm = mgus.results.options.landmark
    for c in mgus.results.competing:
        rows = mgus.table(f"incidence_{c.name}_ttp")
        assert rows[0][4:] == [
            f"Cumulative incidence at {lm:g} months (95% CI)",
            f"Naive 1 − KM at {lm:g} months",
        ]
        for row, (key, g) in zip(rows[1:], c.groups.items(), strict=True):
            (at,) = g.at
            assert row[1:4] == [str(g.n), str(g.events), str(g.competing)]
            assert row[4] == incidence_cell(at.cif, at.lower, at.upper)
            assert row[5] == incidence_cell(at.naive)
            assert key in row[0] or row[0].startswith(key)
        models = mgus.table(f"competing_models_{c.name}_ttp")[1:]
        n_terms = sum(len(m.terms) for m in c.models)
        assert len(models) == n_terms
        for m in c.models:
            for t in m.terms.values():
                assert t.fine_gray is not None and t.cause_specific is not None
                fg, cs = t.fine_gray, t.cause_specific
                cell = hr_cell(fg.hr, fg.lower, fg.upper)
                row = next(r for r in models if r[5] == cell)
                assert row[2:5] == [str(m.n), str(m.events), str(m.competing)]
                assert row[6:9] == [fp(fg.p), hr_cell(cs.hr, cs.lower, cs.upper), fp(cs.p)]
    hgb = mgus.table("competing_models_hgb_ttp")[1:]
    assert [r[1] for r in hgb][:1] == ["haemoglobin (per 1 g/dL)"]
    assert mgus.text.count(EXPLANATION) == 1


def test_grouping_and_competing_csv_are_machine_readable(
    commpass: Report, gse: Report, mgus: Report
) -> None:
    """tables/*.csv of the grouping and competing-risk reports: numbers as numbers (issue 13)."""
    for report in (commpass, gse, mgus):
        tables = read_tables(report.out)
        for g in report.results.groupings:
            df = tables[f"groups_{g.variable}_{g.endpoint}"].set_index("level")
            assert list(df.index.astype(str)) == [lv.label for lv in g.levels]
            for lv in g.levels:
                assert df.loc[lv.label, "n"] == lv.n
                term = f"{g.variable} {lv.label} vs {g.reference}"
                t = g.cox.terms.get(term) if g.cox is not None else None
                if t is None:
                    assert np.isnan(df.loc[lv.label, "hr"])
                    continue
                for col in ("hr", "lower", "upper", "p"):
                    assert np.isclose(df.loc[lv.label, col], getattr(t, col), rtol=1e-12)
            summary = tables["grouping_summary"]
            row = summary[(summary.variable == g.variable) & (summary.endpoint == g.endpoint)]
            if g.logrank is not None:
                assert np.isclose(row["logrank_p"].iloc[0], g.logrank.p, rtol=1e-12)
    tables = read_tables(mgus.out)
    for c in mgus.results.competing:
        inc = tables[f"incidence_{c.name}_ttp"]
        for (_, row), g in zip(inc.iterrows(), c.groups.values(), strict=True):
            (at,) = g.at
            assert row["n"] == g.n and np.isclose(row["cif"], at.cif, rtol=1e-12)
            assert np.isclose(row["naive_1_minus_km"], at.naive, rtol=1e-12)
        models = tables[f"competing_models_{c.name}_ttp"]
        fg = [t.fine_gray for m in c.models for t in m.terms.values()]
        np.testing.assert_allclose(models["shr_p"], [t.p for t in fg if t], rtol=1e-12)
        assert models["cshr"].dtype == np.float64


def test_competing_report_wording(mgus: Report) -> None:
    text = mgus.text
    c = next(x for x in mgus.results.competing if x.name == "hgb")
    assert c.cut is not None and c.cut["kind"] == "tertile"
    t1, t2 = (f"{v:.4g}" for v in c.cut["values"])
    assert (
        f"T1: ≤ {t1}, T3: > {t2} g/dL, the 33.3rd and 66.7th percentiles of these data (the "
        "rule was pre-specified; the value is derived from the data)"
    ) in text
    assert f"haemoglobin T1: ≤ {t1}, T3: > {t2} g/dL" in text  # REMARK cut item
    assert "time to progression (code 1); death (code 2) ends follow-up" in text
    assert "deaths without progression censored" not in text
    assert "The time axis ends at 240 months (--xlim)." in text
    assert "Marker values against ISS stage and best response are not shown" in text
    flow = mgus.rows("patient_flow")
    c = next(x for x in mgus.results.competing if x.name == "sex")
    row = flow["sex x TTP (progression; death competing)"]
    assert row[2:] == [str(c.n), f"{c.events} progression, {c.competing} competing"]


# --------------------------------------------------------------------------- edge cases


def test_not_estimable_landmark_and_xlim(tmp_path: Path) -> None:
    r = _analyze(_commpass_args("--landmark", "60", "--xlim", "48"), tmp_path)
    (g,) = r.groupings
    late = [k for k, s in g.groups.items() if s.landmark.survival is None]
    assert late, "ISS III follow-up ends before 60 months"
    build_report(r, tmp_path, pdf=False)
    rep = Report(r, tmp_path)
    for k in late:
        note = g.groups[k].landmark.note
        assert note is not None and note.startswith("not estimable (follow-up ends at ")
        assert rep.rows("groups_iss_os")[f"ISS {k}"][3] == note
    fig = grouping_figure(g, landmark=60, xlim=48)
    assert axes_by_label(fig, "km").get_xlim()[1] == 48
    assert at_risk_mismatches(fig, {f"ISS {k}": s for k, s in g.groups.items()}) == []
    assert g.groups[late[0]].landmark.note in legend(fig)
    assert "The time axis ends at 48 months (--xlim)." in rep.text


def test_drop_invalid_rows_in_the_flow(tmp_path: Path) -> None:
    src = require_shared() / "gse24080" / "clinical.tsv"
    lines = src.read_text().splitlines()
    head = lines[0].split("\t")
    bad = {3: ("os_time", "-5"), 7: ("b2m_mg_l", "high")}
    for i, (col, value) in bad.items():
        cells = lines[i].split("\t")
        cells[head.index(col)] = value
        lines[i] = "\t".join(cells)
    path = tmp_path / "gse_bad.tsv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    r = _analyze(
        [str(path), "--map", "patient_id=patid", "-e", "os", "-m", "b2m_mg_l", "--drop-invalid"],
        out,
    )
    assert len(r.input.dropped) == 2
    build_report(r, out, pdf=False)
    rep = Report(r, out)
    flow = rep.rows("patient_flow")
    assert flow["Rows in the input"][2] == "565"
    assert flow["Excluded as invalid (--drop-invalid)"][2] == "2"
    assert flow["Patients included"][2] == "563"
    for d in r.input.dropped:
        row = flow[f"row {d.row}"]
        assert d.reason in row[1] and repr(d.value) in row[1] and d.column in row[1]  # type: ignore[operator]
    assert {d.row for d in r.input.dropped} == {i + 1 for i in bad}


def test_report_title_rules(gse: Report) -> None:
    import dataclasses

    r = gse.results
    assert report_title(r) == GSE_TITLE
    no_title = dataclasses.replace(r, options=dataclasses.replace(r.options, title=None))
    assert report_title(no_title) == "clinical.tsv"
    rel = dataclasses.replace(no_title, input=dataclasses.replace(r.input, source="../a/b.csv"))
    assert report_title(rel) == "b.csv"


def test_label_parsing() -> None:
    lab = parse_label("serum LDH (U/L)")
    assert (lab.name, lab.unit, lab.with_unit("250")) == ("serum LDH", "U/L", "250 U/L")
    plain = parse_label("hgb")
    assert (plain.name, plain.unit, plain.with_unit("12")) == ("hgb", "", "12")
    assert parse_label("(mg/L)").name == "(mg/L)"


def test_results_json_round_trip_gives_the_same_report(gse_median: Report, tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads((gse_median.out / "results.json").read_text())
    assert data["options"]["labels"] == {"b2m_mg_l": B2M, "ldh": LDH}
    build_report(load_results(gse_median.out), tmp_path, pdf=False)
    assert (tmp_path / "report.html").read_bytes() == (gse_median.out / "report.html").read_bytes()


def test_empty_level_is_listed_with_a_sentence(tmp_path: Path) -> None:
    """GSE24080 without its ISS III patients: the level stays, with n = 0 and one sentence."""
    src = require_shared() / "gse24080" / "clinical.tsv"
    lines = src.read_text().splitlines()
    col = lines[0].split("\t").index("iss")
    kept = [lines[0]] + [ln for ln in lines[1:] if ln.split("\t")[col] != "3.0"]
    assert len(kept) < len(lines)
    path = tmp_path / "no_stage_3.tsv"
    path.write_text("\n".join(kept) + "\n")
    out = tmp_path / "out"
    r = _analyze([str(path), "--map", "patient_id=patid", "-e", "os", "--group", "iss"], out)
    (g,) = r.groupings
    assert [(lv.label, lv.n) for lv in g.levels][-1] == ("III", 0)
    build_report(r, out, pdf=True)
    rep = Report(r, out)
    table = rep.table("groups_iss_os")
    assert all(len(row) == len(table[0]) for row in table)
    assert rep.rows("groups_iss_os")["ISS III"] == [
        "ISS III",
        "0",
        "0",
        "no patients",
        "-",
        "-",
        "-",
        "-",
    ]
    sentence = (
        "Level ISS III of ISS stage has no patient with OS in these data; it is listed with "
        "n = 0 and not compared."
    )
    assert sentence in rep.text
    fig = grouping_figure(g, label="ISS stage")
    assert [t.get_text() for t in fig.texts if t.get_label() == "note"] == [
        "Note: no patients in ISS III"
    ]
    assert at_risk_mismatches(fig, {f"ISS {k}": s for k, s in g.groups.items()}) == []
    assert rep.rows("patient_flow")["ISS III"][1:] == ["no patients", "0", "0"]


def test_report_from_the_cli_prints_no_worker_tracebacks(tmp_path: Path) -> None:
    """Figure workers are closed with SIGTERM; the CLI's SIGTERM handler must not reach them."""
    import sys

    from ikaros.simulate import demo_cohort

    cohort = tmp_path / "c.csv"
    demo_cohort().to_csv(cohort, index=False)
    exe = Path(sys.executable).with_name("ikaros")
    args = ["analyze", str(cohort), "-m", "IKZF1", "-m", "CRBN", "-e", "pfs", "--report", "-q"]
    proc = subprocess.run(
        [str(exe), *args, "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "r" / "figures").glob("*.png"))) >= 6  # the pool was used
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr


def test_analysis_without_quartile_groups(gse_median: Report, tmp_path: Path) -> None:
    """Quartile groups that could not be formed (tied values): no quartile figure or rows, the
    analysis's note in their place."""
    import dataclasses

    r = gse_median.results
    note = "the four quartile groups are not described: too many tied values"
    analyses = tuple(
        dataclasses.replace(
            a, quartile_groups={}, logrank_quartiles=None, trend_quartiles=None, notes=(note,)
        )
        if (a.marker, a.endpoint) == ("ldh", "os")
        else a
        for a in r.analyses
    )
    build_report(dataclasses.replace(r, analyses=analyses), tmp_path, pdf=False)
    rep = Report(r, tmp_path)
    assert "km_ldh_os_median" in rep.parser.figures
    assert "km_ldh_os_quartiles" not in rep.parser.figures
    assert "km_ldh_efs_quartiles" in rep.parser.figures
    assert note in rep.text
    rows = rep.table("landmark_survival")[1:]
    assert not [x for x in rows if x[0] == LDH and x[1] == "OS" and x[2] == "quartiles"]
    assert [x for x in rows if x[0] == LDH and x[1] == "EFS" and x[2] == "quartiles"]
    with pytest.raises(ValueError, match="no quartile groups"):
        km_figure(analyses[[a.marker for a in analyses].index("ldh")], grouping="quartiles")


def test_results_of_schema_1_0_state_their_cut(tmp_path: Path) -> None:
    """A 1.0 results file records the quartile cut as {kind, origin, value} only."""
    import dataclasses

    from tests.report.test_figures import demo_results

    r = demo_results()
    analyses = tuple(
        dataclasses.replace(
            a, cut={"kind": "quartile", "origin": "prespecified", "value": a.cut["value"]}
        )
        for a in r.analyses
    )
    old = dataclasses.replace(r, schema_version="1.0", analyses=analyses)
    build_report(old, tmp_path, pdf=False)
    rep = Report(old, tmp_path)
    for a in analyses:
        assert f"{a.marker} Q1: ≤ {a.cut['value']:.4g} (25th percentile" in rep.text
    assert "≤ n/a" not in rep.text
    fig = km_figure(analyses[0])
    assert f"Q1: ≤ {analyses[0].cut['value']:.4g} (25th percentile" in legend(fig)
