"""The "Predictive or prognostic?" section of the study report (``--treatment``; exploratory).

Per marker x endpoint with a treatment-by-marker analysis: the interaction models (the marker
continuous and at the pre-specified cut, each with the likelihood-ratio test of the product
term), the treatment hazard ratio within each marker group and the marker hazard ratio within
each arm with patients and events per compared level, the STEPP subpopulations, the Gail-Simon
test of a qualitative interaction, the treatment-by-marker forest plot and the STEPP figure. The
section opens with the two sentences of the analysis that explain prognostic vs predictive, and
every table, figure and caption says that the analysis is exploratory. The tables are built in
:mod:`ikaros.report.predictive_tables`.

Numbers are read from ``Analysis.treatment`` in the results file (the JSON form of
:class:`ikaros.validation.predictive.TreatmentByMarker`); the figures are drawn from the object
rebuilt by :mod:`ikaros.report.rebuild`, with the columns named by their labels and the cut stated
on the marker's own scale.

References
----------
Ballman KV. Biomarker: predictive or prognostic? J Clin Oncol 2015;33:3968-3971.
Gail M, Simon R. Testing for qualitative interactions between treatment effects and patient
subsets. Biometrics 1985;41:361-372.
Bonetti M, Gelber RD. Patterns of treatment effects in subsets of patients in clinical trials.
Biostatistics 2004;5:465-481.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure

from ikaros.report import rebuild
from ikaros.report.document import Block, FigureJob, FigureRef, Section
from ikaros.report.naming import display_label, table_name
from ikaros.report.predictive_tables import (
    _computed,
    _cut_text,
    _first_upper,
    _labels,
    _stepp_tests,
    _unit,
    predictive_tables,
    treatment_analyses,
)
from ikaros.report.tables import Table, p_is
from ikaros.results import Analysis, Results

__all__ = [
    "predictive_figures",
    "predictive_sections",
    "predictive_tables",
    "treatment_analyses",
    "treatment_items",
]


# --------------------------------------------------------------------------- figures


def _figure_result(results: Results, a: Analysis) -> Any:
    t = _computed(a)
    assert t is not None
    lab, tl = _labels(results, a, t)
    r = rebuild.treatment_by_marker(t)
    stepp = r.stepp
    if stepp is not None:
        stepp = dataclasses.replace(stepp, marker=lab.name)
    return dataclasses.replace(r, marker=lab.name, treatment=tl.name, stepp=stepp)


def _forest(results: Results, a: Analysis) -> Figure:
    from ikaros.report.figures.validation import treatment_by_marker_forest

    t = _computed(a)
    assert t is not None
    lab, _ = _labels(results, a, t)
    hi, lo = t["group_labels"][1], t["group_labels"][0]
    return treatment_by_marker_forest(
        _figure_result(results, a),
        endpoint=a.endpoint.upper(),
        cut_text=f"{hi} vs {lo}; {_cut_text(lab, t)}",
    )


def _stepp(results: Results, a: Analysis) -> Figure:
    from ikaros.report.figures.validation import stepp_figure

    t = _computed(a)
    assert t is not None
    lab, _ = _labels(results, a, t)
    r = _figure_result(results, a)
    scale = f"log2 {lab.unit}".strip() if t["scale"] == "log2" else lab.unit
    xlabel = f"{lab.name}{f' ({scale})' if scale else ''}, median of subpopulation"
    return stepp_figure(r.stepp, endpoint=a.endpoint.upper(), xlabel=xlabel)


def _tests_text(t: Mapping[str, Any]) -> str:
    parts = []
    for key, what in (("continuous", f"continuous, {_unit(t)}"), ("cut_model", "at the cut")):
        m = t.get(key)
        if m:
            p = m.get("lr_p")
            parts.append(
                f"interaction {what}: LR {p_is(p)}"
                if p is not None
                else f"interaction {what}: Wald {p_is(m['interaction']['p'])}"
            )
    gs = t.get("gail_simon")
    if gs:
        parts.append(f"Gail-Simon test of a qualitative interaction {p_is(gs['p'])}")
    return "; ".join(parts)


def predictive_figures(results: Results) -> list[FigureJob]:
    """The treatment-by-marker forest and the STEPP figure per analysis."""
    jobs: list[FigureJob] = []
    for a in treatment_analyses(results):
        t = _computed(a)
        if t is None:
            continue
        lab, tl = _labels(results, a, t)
        what = f"{tl.name} by {lab.name}, {a.endpoint.upper()}"
        jobs.append(
            FigureJob(
                f"treatment_forest_{a.marker}_{a.endpoint}",
                f"Treatment by marker, {what} (exploratory)",
                f"Hazard ratios ({100 * t['conf_level']:g}% CI) of {tl.name} {t['active']} vs "
                f"{t['reference']} within the marker groups ({_cut_text(lab, t)}), and of the "
                f"marker ({t['group_labels'][1]} vs {t['group_labels'][0]}, and {_unit(t)}) "
                "within each arm, with patients (events) per compared level; "
                f"{t['n']} patients, {t['events']} events. {_first_upper(_tests_text(t))}. "
                "Exploratory.",
                lambda a=a: _forest(results, a),  # type: ignore[misc]
            )
        )
        s = t.get("stepp")
        if s:
            jobs.append(
                FigureJob(
                    f"stepp_{a.marker}_{a.endpoint}",
                    f"STEPP, {what} (exploratory)",
                    f"Treatment effect ({s['active']} − {s['reference']}) in "
                    f"{len(s['windows'])} overlapping subpopulations along {lab.name}: "
                    f"difference in {float(s['landmark']):g}-month Kaplan-Meier survival (left) "
                    "and hazard ratio (right), with pointwise confidence intervals and "
                    "Bonferroni simultaneous bands; dotted: all patients. Supremum permutation "
                    f"test of heterogeneity: {_stepp_tests(s)}. Exploratory.",
                    lambda a=a: _stepp(results, a),  # type: ignore[misc]
                )
            )
    return jobs


# --------------------------------------------------------------------------- text


def _methods(results: Results) -> str:
    scale = "on the log2 scale" if results.options.transform == "log2" else "as measured"
    return (
        "For each marker and endpoint, Cox models with the marker, the treatment and their "
        f"product were fitted with the marker continuous ({scale}) and at the pre-specified "
        "cut; the likelihood-ratio test of the product term (1 df) tests whether the treatment "
        "effect depends on the marker. The treatment hazard ratio was estimated within each "
        "marker group and the marker hazard ratio within each arm. The Gail-Simon test asks "
        "whether the treatment effect changes direction between the marker groups (a "
        "qualitative interaction). STEPP (subpopulation treatment effect pattern plot) "
        "estimates the treatment effect in overlapping subpopulations along the marker, with a "
        "permutation test of whether it varies (seeded)."
    )


def treatment_items(results: Results) -> list[tuple[str, str]]:
    """REMARK profile items of the treatment-by-marker analysis."""
    analyses = treatment_analyses(results)
    if not analyses:
        return []
    counts: list[str] = []
    for a in analyses:
        t = _computed(a)
        if t is None:
            continue
        arms: dict[str, list[int]] = {}
        for c in t["cells"]:
            n_ev = arms.setdefault(c["arm"], [0, 0])
            n_ev[0] += c["n"]
            n_ev[1] += c["events"]
        counts.append(
            f"{display_label(results, a.marker).name} x {a.endpoint.upper()}: "
            + ", ".join(f"{arm} {n} patients ({ev} events)" for arm, (n, ev) in arms.items())
            + f"; {t['n_excluded']} without a treatment value excluded"
        )
    column = str(results.options.treatment)
    label = display_label(results, column).text
    return [
        (
            "Treatments (REMARK item 3)",
            f"Treatment from the column {column} ({label}), compared as two arms: "
            + ("; ".join(counts) or "not analysed")
            + ". How the treatments were chosen (randomised or not) is not recorded in the "
            "data; a non-randomised comparison of arms is confounded by whatever chose them.",
        ),
        ("Treatment-by-marker analysis (exploratory)", _methods(results)),
    ]


# --------------------------------------------------------------------------- section


def predictive_sections(
    results: Results, figs: Mapping[str, FigureRef], tables: Mapping[str, Table]
) -> list[Section]:
    """The "Predictive or prognostic?" section, or nothing without treatment results."""
    analyses = treatment_analyses(results)
    if not analyses:
        return []
    sec = Section("predictive", "Predictive or prognostic? (exploratory)")
    explanation = next(
        (t["explanation"] for a in analyses if (t := _computed(a)) and t.get("explanation")),
        "Exploratory analysis.",
    )
    sec.blocks += [Block("text", explanation), Block("text", _methods(results))]
    for a in analyses:
        lab = display_label(results, a.marker).text
        sec.blocks.append(Block("heading", f"{lab}, {a.endpoint.upper()}"))
        t = _computed(a)
        if t is None:
            sec.blocks.append(Block("warning", str((a.treatment or {}).get("note", ""))))
            continue
        sec.blocks.append(
            Block(
                "text",
                f"{t['n']} patients ({t['events']} events) with the marker, the treatment and "
                f"the endpoint; {t['n_excluded']} excluded without a treatment value. "
                f"{_first_upper(_tests_text(t))}.",
            )
        )
        for kind in ("interaction", "treatment_effects"):
            name = table_name(kind, a.marker, a.endpoint)
            if name in tables:
                sec.blocks.append(Block("table", table=tables[name]))
        stem = f"treatment_forest_{a.marker}_{a.endpoint}"
        if stem in figs:
            sec.blocks.append(Block("figure", figure=figs[stem]))
        stem = f"stepp_{a.marker}_{a.endpoint}"
        if stem in figs:
            sec.blocks.append(Block("figure", figure=figs[stem]))
        name = table_name("stepp", a.marker, a.endpoint)
        if name in tables:
            sec.blocks.append(Block("table", table=tables[name]))
        for note in [*t.get("notes", []), *(t.get("stepp") or {}).get("notes", [])]:
            sec.blocks.append(Block("warning", note))
    return [sec]
