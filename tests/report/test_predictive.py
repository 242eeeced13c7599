"""The "Predictive or prognostic?" section (exploratory): interaction models, subgroup effects
with patients and events per cell, STEPP and Gail-Simon, read back from the HTML, the CSV files
and the figures' artists and compared with results.json; the objects rebuilt for the figures
are the ones the analysis wrote."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ikaros.performance._result import jsonable
from ikaros.report import rebuild
from ikaros.report.document import FigureJob
from ikaros.report.predictive import predictive_figures
from ikaros.report.sections import study_sections
from ikaros.report.tables_groups import all_tables
from ikaros.results import Results
from ikaros.validation._serial import plain
from ikaros.validation.predictive import TreatmentByMarker
from tests.report.conftest import B2M_LABEL
from tests.report.test_report import _Tables


def _t(results: Results, marker: str = "b2m_mg_l") -> dict[str, Any]:
    t = results.analysis(marker, "os").treatment
    assert t is not None and t["label"] == "exploratory"
    return t


def _p(p: float) -> str:
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def _p_is(p: float) -> str:
    text = _p(p)
    return f"p {text[0]} {text[1:]}" if text[0] == "<" else f"p = {text}"


@pytest.fixture(scope="module")
def parsed(gse_example: tuple[Results, Path]) -> _Tables:
    parser = _Tables()
    parser.feed((gse_example[1] / "report.html").read_text())
    return parser


def test_section_explains_prognostic_vs_predictive(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    html = (out / "report.html").read_text()
    section = html[html.index('<section id="predictive">') :]
    section = section[: section.index("</section>")]
    t = _t(results)
    assert "Predictive or prognostic? (exploratory)" in section
    assert t["explanation"].startswith("A prognostic marker is associated with outcome")
    assert t["explanation"] in section
    for name in ("interaction", "treatment_effects", "stepp"):
        assert f'data-table="{name}_b2m_mg_l_os"' in section
        assert "(exploratory)" in section
    for stem in ("treatment_forest_b2m_mg_l_os", "stepp_ldh_os"):
        assert f'data-figure="{stem}"' in section
    c, k = t["continuous"], t["cut_model"]
    assert f"Interaction continuous, per doubling: LR {_p_is(c['lr_p'])}" in section
    assert f"interaction at the cut: LR {_p_is(k['lr_p'])}" in section
    assert f"Gail-Simon test of a qualitative interaction {_p_is(t['gail_simon']['p'])}" in section


def test_interaction_table_and_csv(gse_example: tuple[Results, Path], parsed: _Tables) -> None:
    results, out = gse_example
    t = _t(results)
    rows = parsed.tables["interaction_b2m_mg_l_os"][1:]
    df = pd.read_csv(out / "tables" / "interaction_b2m_mg_l_os.csv", float_precision="round_trip")
    models = [t["continuous"], t["cut_model"]]
    terms = [term for m in models for term in m["terms"]]
    assert len(rows) == len(df) == len(terms) == 6
    for row, (_, data), term in zip(rows, df.iterrows(), terms, strict=True):
        assert data["term"] == term["term"]
        for col in ("coef", "se", "hr", "lower", "upper", "p"):
            assert data[col] == term[col], col
        assert row[2] == f"{term['hr']:.2f} ({term['lower']:.2f}-{term['upper']:.2f})"
        assert row[3] == _p(term["p"])
    inter = df[df.role == "interaction"]
    assert list(inter["coding"]) == ["continuous", "cut"]
    for (_, data), m in zip(inter.iterrows(), models, strict=True):
        assert data["lr_p"] == m["lr_p"] and data["lr_statistic"] == m["lr_statistic"]
        assert data["term"] == m["interaction"]["term"] and data["n"] == m["n"]
    assert df[df.role != "interaction"]["lr_p"].isna().all()
    shown = [r for r in rows if "×" in r[1]]
    assert shown[0][1] == "beta-2 microglobulin × protocol"
    assert shown[0][4] == (f"χ² {models[0]['lr_statistic']:.2f} (1 df), {_p_is(models[0]['lr_p'])}")
    cut = 2 ** t["cut"]
    assert rows[3][0] == f"at the cut (Q1: ≤ {cut:.4g} mg/L)"


def test_subgroup_effects_with_counts(gse_example: tuple[Results, Path], parsed: _Tables) -> None:
    results, out = gse_example
    t = _t(results)
    effects = [*t["treatment_within_marker"], *t["marker_within_treatment"]]
    rows = parsed.tables["treatment_effects_b2m_mg_l_os"][1:]
    df = pd.read_csv(out / "tables" / "treatment_effects_b2m_mg_l_os.csv")
    assert len(rows) == len(df) == len(effects) == 6
    cells = {(c["marker_group"], c["arm"]): (c["n"], c["events"]) for c in t["cells"]}
    for row, (_, data), e in zip(rows, df.iterrows(), effects, strict=True):
        assert data["n"] == e["n"] and data["events"] == e["events"]
        assert math.isclose(data["hr"], e["hr"], rel_tol=1e-12)
        if e["effect"] == "marker (continuous)":
            assert row[2] == f"{e['n']} ({e['events']})" and pd.isna(data["level_1"])
            continue
        levels = list(e["n_by_level"])
        assert [data["level_1"], data["level_2"]] == levels
        for k, level in enumerate(levels, start=1):
            key = (e["within"], level) if e["effect"] == "treatment" else (level, e["within"])
            assert (data[f"n_{k}"], data[f"events_{k}"]) == cells[key]
        shown = []
        for lv in levels:
            n, ev = cells[(e["within"], lv) if e["effect"] == "treatment" else (lv, e["within"])]
            shown.append(f"{lv}: {n} ({ev})")
        assert row[2] == " · ".join(shown)


def _jobs(results: Results) -> dict[str, FigureJob]:
    return {j.stem: j for j in predictive_figures(results)}


def _texts(fig: Any) -> str:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(loc="left"), ax.get_xlabel()]
    return "\n".join(out)


def test_forest_shows_cells_and_tests_with_labels(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    t = _t(results)
    fig = _jobs(results)["treatment_forest_b2m_mg_l_os"].make()
    text = _texts(fig)
    for e in t["treatment_within_marker"]:
        shown = " · ".join(
            f"{k}: {n} ({e['events_by_level'][k]})" for k, n in e["n_by_level"].items()
        )
        assert shown in text
        assert f"beta-2 microglobulin {e['within']}" in text
    assert "OS: protocol by beta-2 microglobulin" in text
    assert "b2m_mg_l" not in text  # the label, never the column name
    assert f"Q2-4 vs Q1; Q1: ≤ {2 ** t['cut']:.4g} mg/L" in text
    assert "Gail-Simon" in text and "Exploratory" in text
    assert (out / "figures" / "treatment_forest_b2m_mg_l_os.png").stat().st_size > 20_000


def test_stepp_figure_and_table(gse_example: tuple[Results, Path], parsed: _Tables) -> None:
    results, out = gse_example
    s = _t(results, "ldh")["stepp"]
    fig = _jobs(results)["stepp_ldh_os"].make()
    assert all(ax.get_xlabel() == "ldh (log2), median of subpopulation" for ax in fig.axes[:2])
    est = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}["STEPP estimate"]
    np.testing.assert_array_equal(est.get_xdata(), [w["marker_median"] for w in s["windows"]])
    np.testing.assert_array_equal(est.get_ydata(), [w["diff"] for w in s["windows"]])
    hr = {ln.get_label(): ln for ln in fig.axes[1].get_lines()}["STEPP estimate"]
    np.testing.assert_array_equal(hr.get_ydata(), [w["hr"] for w in s["windows"]])
    titles = [ax.get_title(loc="left") for ax in fig.axes[:2]]
    for title, test in zip(titles, (s["test_diff"], s["test_hr"]), strict=True):
        assert title.startswith("supremum test P") and f"({test['n_permutations']} perm" in title
    df = pd.read_csv(out / "tables" / "stepp_ldh_os.csv", float_precision="round_trip")
    windows = [*s["windows"], s["overall"]]
    assert list(df["subpopulation"]) == [*(w["index"] for w in s["windows"]), 0]
    for (_, row), w in zip(df.iterrows(), windows, strict=True):
        for col in ("marker_min", "marker_median", "n", "events", "diff", "diff_lower", "hr"):
            assert row[col] == w[col], col
        assert row["hr_upper_simultaneous"] == w["hr_upper_simultaneous"]
    rows = parsed.tables["stepp_ldh_os"][1:]
    w = s["windows"][0]
    assert rows[0][1] == f"{2 ** w['marker_min']:.4g}–{2 ** w['marker_max']:.4g}"
    assert rows[0][2] == f"{w['n']} ({w['events']})"
    assert rows[-1][0] == "all patients"
    foot = (out / "report.html").read_text()
    assert f"hazard ratio {_p_is(s['test_hr']['p'])} (1000 permutations)" in foot


def test_rebuilt_objects_are_what_the_analysis_wrote(gse_example: tuple[Results, Path]) -> None:
    results, _ = gse_example
    t = _t(results)
    r = rebuild.treatment_by_marker(t)
    assert isinstance(r, TreatmentByMarker) and r.stepp is not None
    assert plain(r) == t
    perf = results.analysis("b2m_mg_l", "os").performance
    assert perf is not None
    m = perf["models"]["base + marker"]
    assert jsonable(rebuild.time_auc(m["auc_curve"])) == m["auc_curve"]
    assert jsonable(rebuild.decision_curve(m["decision"][0])) == m["decision"][0]
    cal = rebuild.landmark_calibration(m["calibration"][0])
    assert jsonable(cal) == m["calibration"][0]
    nan_point = {**m["auc_curve"]["points"][0], "auc": None, "reason": "no controls"}
    auc = rebuild.time_auc({**m["auc_curve"], "points": [nan_point]})
    assert math.isnan(auc.points[0].auc) and auc.points[0].reason == "no controls"
    with pytest.raises(ValueError, match="'n' is missing"):
        rebuild.time_auc({"points": [], "conf_level": 0.95})


def test_not_computed_is_said(gse_example: tuple[Results, Path]) -> None:
    results, _ = gse_example
    note = "treatment-by-marker not computed: the interaction model did not converge"
    a = dataclasses.replace(
        results.analysis("ldh", "os"), treatment={"label": "exploratory", "note": note}
    )
    r = dataclasses.replace(results, analyses=(results.analysis("b2m_mg_l", "os"), a))
    tables = {t.name: t for t in all_tables(r)}
    assert "interaction_ldh_os" not in tables and "interaction_b2m_mg_l_os" in tables
    assert sorted(_jobs(r)) == ["stepp_b2m_mg_l_os", "treatment_forest_b2m_mg_l_os"]
    sec = next(s for s in study_sections(r, {}, tables) if s.anchor == "predictive")
    assert any(b.kind == "warning" and b.text == note for b in sec.blocks)
    assert any(b.kind == "heading" and b.text == f"{B2M_LABEL}, OS" for b in sec.blocks)
