"""The "Prognostic performance" section of the study report (``--performance``; TRIPOD, REMARK).

Per marker x endpoint: one table with a column per Cox model (the marker alone; with the
covariates; the base model of ``--base-model``; the base model plus the marker) and a row per
measure (Harrell's C, Uno's C, AUC and Brier score at the landmark, integrated Brier score,
calibration, apparent / optimism / optimism-corrected C and calibration slope); the calibration
plot, the AUC(t) curve and the decision curve of all models; and one table of the marker's
added value over the base model (likelihood-ratio test, change in C with its intervals). A short
methods paragraph says in plain words what each measure means, and the TRIPOD items the results
can document are added to the REMARK profile. The tables are built in
:mod:`ikaros.report.prognostic_tables`.

Every number is read from ``Analysis.performance`` in the results file (the JSON form of
:class:`ikaros.performance.ModelPerformance` and :class:`ikaros.performance.AddedValue`); the
figures are drawn from the objects rebuilt by :mod:`ikaros.report.rebuild`. The CSV files get one
row per model with every number in its own column.

References
----------
Collins GS, Reitsma JB, Altman DG, Moons KGM. Transparent reporting of a multivariable
prediction model for individual prognosis or diagnosis (TRIPOD): the TRIPOD statement. BMJ
2015;350:g7594.
Harrell FE Jr, Lee KL, Mark DB. Multivariable prognostic models: issues in developing models,
evaluating assumptions and adequacy, and measuring and reducing errors. Stat Med
1996;15:361-387.
Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction models.
Med Decis Making 2006;26:565-574.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from ikaros.report import rebuild
from ikaros.report.document import Block, FigureJob, FigureRef, Section
from ikaros.report.naming import display_label, table_name
from ikaros.report.prognostic_tables import (
    _at,
    _calibration,
    _est_ci,
    _f,
    _landmark,
    _pct,
    _terms_label,
    model_label,
    performance_analyses,
    performance_tables,
)
from ikaros.report.tables import Table
from ikaros.results import Analysis, Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "performance_analyses",
    "performance_figures",
    "performance_methods",
    "performance_paragraphs",
    "performance_sections",
    "performance_tables",
    "tripod_items",
]


# --------------------------------------------------------------------------- figures


def _stem(kind: str, a: Analysis) -> str:
    return f"{kind}_{a.marker}_{a.endpoint}"


def _models(results: Results, a: Analysis) -> dict[str, dict[str, Any]]:
    models: dict[str, dict[str, Any]] = (a.performance or {}).get("models", {})
    return {model_label(results, m): m for m in models.values()}


def _legend_below(draw: Callable[[Axes], Figure]) -> Figure:
    """A single-column figure: ``draw`` fills the axes, its legend goes under them.

    The figure functions put the legend inside the axes, where long model names cover the
    curves; here it is moved below the axes, one entry per line, long entries wrapped.
    """
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ikaros.report.style import SINGLE_COLUMN, SMALL_SIZE, journal_style

    with journal_style():
        fig = Figure(figsize=(SINGLE_COLUMN, 4.0), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.17, 0.3, 0.78, 0.6), label="performance")
    draw(ax)
    handles, labels = ax.get_legend_handles_labels()
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    labels = [textwrap.fill(label, 60, subsequent_indent="  ") for label in labels]
    lines = sum(label.count("\n") + 1 for label in labels)
    axes_h, top, below = 2.7, 0.32, 0.42
    legend_h = 0.125 * lines + 0.04 * len(labels) + 0.1
    height = axes_h + top + below + legend_h
    fig.set_size_inches(SINGLE_COLUMN, height)
    ax.set_position((0.17, (below + legend_h) / height, 0.78, axes_h / height))
    with journal_style():
        fig.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.03, 0.01),
            frameon=False,
            fontsize=SMALL_SIZE - 0.5,
            handlelength=1.8,
        )
    return fig


def _calibration_figure(results: Results, a: Analysis) -> Figure:
    from ikaros.report.figures.performance import calibration_figure

    lm = _landmark(a.performance or {})
    items = {
        label: rebuild.landmark_calibration(cal)
        for label, m in _models(results, a).items()
        if (cal := _calibration(m, lm)) is not None
    }
    return _legend_below(lambda ax: calibration_figure(items, ax=ax))


def _auc_figure(results: Results, a: Analysis) -> Figure:
    from ikaros.report.figures.performance import auc_figure

    items = {label: rebuild.time_auc(m["auc_curve"]) for label, m in _models(results, a).items()}
    return _legend_below(lambda ax: auc_figure(items, ax=ax))


def _decision_figure(results: Results, a: Analysis) -> Figure:
    from ikaros.report.figures.performance import decision_figure

    lm = _landmark(a.performance or {})
    items = {}
    for label, m in _models(results, a).items():
        d = _at(list(m.get("decision", [])), lm)
        if d is not None:
            items[label] = rebuild.decision_curve(d)
    return _legend_below(lambda ax: decision_figure(items, ax=ax))


def _captions(results: Results, a: Analysis) -> dict[str, str]:
    perf = a.performance or {}
    lm = _landmark(perf)
    models = _models(results, a)
    cal_parts, auc_parts = [], []
    for label, m in models.items():
        cal = _calibration(m, lm) or {}
        groups = cal.get("groups", [])
        ici = (cal.get("smooth") or {}).get("ici")
        cal_parts.append(f"{label}: {len(groups)} groups, ICI {_f(ici)}")
        auc_parts.append(f"{label} {_est_ci(_at(m['auc']['points'], lm), 'auc')}")
    pct = _pct(next((m["harrell_c"]["conf_level"] for m in models.values()), 0.95))
    curve = next(iter(models.values()))["auc_curve"]["points"] if models else []
    start = f"{curve[0]['time']:.1f}" if curve else "n/a"
    endpoint = a.endpoint.upper()
    return {
        "calibration": (
            f"Observed risk of an {endpoint} event by {lm:g} months (Kaplan-Meier, {pct} CI) "
            "against the mean predicted risk in groups cut at the quintiles of the predicted risk "
            "(tied predictions share a group), with the smoothed calibration curve (Cox model on "
            "a restricted cubic spline of the predicted risk) and the ideal diagonal; "
            + "; ".join(cal_parts)
            + ". Apparent calibration: each model is fitted and evaluated on the same patients, "
            "which flatters it; the optimism-corrected calibration slope is in the table."
        ),
        "auc": (
            f"Cumulative/dynamic AUC(t) from {start} to {lm:g} months with pointwise {pct} "
            "confidence bands (inverse probability of censoring weights, influence-function "
            f"standard errors); dashed: 0.5 (chance). AUC at {lm:g} months: "
            + "; ".join(auc_parts)
            + "."
        ),
        "decision": (
            f"Net benefit at {lm:g} months of treating the patients whose predicted risk of an "
            f"{endpoint} event exceeds the threshold probability, for each model, against "
            "treating all and treating none (Kaplan-Meier risks among the treated; Vickers et "
            "al. 2008). A model is useful at thresholds where its curve lies above both."
        ),
    }


def performance_figures(results: Results) -> list[FigureJob]:
    """Calibration, AUC(t) and decision curve per marker x endpoint with performance results."""
    jobs: list[FigureJob] = []
    for a in performance_analyses(results):
        if not (a.performance or {}).get("models"):
            continue
        lab = display_label(results, a.marker).text
        caps = _captions(results, a)
        what = f"{lab}, {a.endpoint.upper()}"
        jobs += [
            FigureJob(
                _stem("calibration", a),
                f"Calibration at {_landmark(a.performance or {}):g} months, {what}",
                caps["calibration"],
                lambda a=a: _calibration_figure(results, a),  # type: ignore[misc]
            ),
            FigureJob(
                _stem("auc", a),
                f"Time-dependent AUC, {what}",
                caps["auc"],
                lambda a=a: _auc_figure(results, a),  # type: ignore[misc]
            ),
            FigureJob(
                _stem("decision", a),
                f"Decision curve, {what}",
                caps["decision"],
                lambda a=a: _decision_figure(results, a),  # type: ignore[misc]
            ),
        ]
    return jobs


# --------------------------------------------------------------------------- text


def _bootstrap(results: Results) -> tuple[int, int] | None:
    for a in performance_analyses(results):
        perf = a.performance or {}
        return int(perf.get("bootstrap", 0)), int(perf.get("seed", 0))
    return None


def performance_methods(results: Results) -> str:
    """What each measure means, in plain words, and how the models were validated."""
    return " ".join(performance_paragraphs(results))


def performance_paragraphs(results: Results) -> list[str]:
    """:func:`performance_methods` as paragraphs: models and discrimination; accuracy and
    calibration; internal validation; added value and decision curves."""
    analyses = performance_analyses(results)
    if not analyses:
        return []
    lm = _landmark(analyses[0].performance or {})
    o = results.options
    scale = "on the log2 scale" if o.transform == "log2" else "on its original scale"
    names: list[str] = []
    for a in analyses:
        for m in (a.performance or {}).get("models", {}).values():
            label = _terms_label(
                results, [t if t != a.marker else "the marker" for t in m["terms"]]
            )
            if label not in names:
                names.append(label)
    boot = _bootstrap(results)
    text = [
        "For each marker and endpoint, Cox models (Efron ties; the marker "
        f"{scale}) were fitted on the same patients, those with every variable of every model: "
        + "; ".join(names)
        + ". No variable was selected on these data.",
        "Discrimination says how well a model ranks patients: those who have the event earlier "
        "should have the higher predicted risk. Harrell's C is the proportion of comparable "
        "pairs of patients that the model orders correctly (0.5 is chance, 1 perfect), with "
        "its interval from the infinitesimal-jackknife variance (as R survival::concordance); "
        "Uno's C weights the pairs by the inverse probability of remaining uncensored and "
        f"counts pairs up to {lm:g} months, so it depends less on the censoring; the "
        f"time-dependent AUC at {lm:g} months compares the patients with an event by then with "
        "those still event-free (inverse probability of censoring weights, as "
        "riskRegression::Score).",
        "\n"
        f"The Brier score at {lm:g} months is the mean squared difference between the predicted "
        "risk and what happened (0 is perfect; lower is better); the integrated Brier score "
        f"averages it over 0-{lm:g} months.",
        "Calibration says whether predicted risks agree with observed risks: the observed "
        f"Kaplan-Meier risk by {lm:g} months is set against the mean predicted risk in fifths "
        "of the predicted risk, and a smoothed calibration curve is summarised by the ICI, the "
        "mean absolute difference between predicted and observed risk. The calibration slope "
        "(the coefficient of the linear predictor refitted in the evaluation data) is 1 by "
        "construction when a model is evaluated on the patients it was fitted on, as here; it "
        "is informative only in new data or after the optimism correction.",
    ]
    if boot is not None and boot[0] > 0:
        text.append(
            "\nApparent performance, measured on the patients the model was fitted on, overstates "
            "how the model would do in new patients. Harrell's bootstrap optimism correction "
            f"(as rms::validate) refitted each model in {boot[0]} bootstrap resamples (seed "
            f"{boot[1]}), measured how much better it did in the resample than in the original "
            "data (the optimism), and subtracted the mean optimism from the apparent C and "
            "calibration slope; the corrected slope estimates how much the predictions should "
            "be shrunk. The Monte Carlo standard error says how much the corrected value would "
            "change with other resamples."
        )
    else:
        text.append(
            "\nPerformance is apparent (measured on the patients the models were fitted on) and "
            "overstates how the models would do in new patients; no bootstrap optimism "
            "correction was requested (--performance-bootstrap 0)."
        )
    if o.base_model:
        text.append(
            "\nThe added value of the marker over the base model ("
            + _terms_label(results, o.base_model)
            + ") is tested by the likelihood-ratio test of the nested models and measured as the "
            "change in Harrell's C, with the infinitesimal-jackknife interval and a percentile "
            "bootstrap interval in which both models are refitted in every resample."
        )
    text.append(
        ("" if o.base_model else "\n")
        + f"Decision curves give the net benefit at {lm:g} months of treating the patients whose "
        "predicted risk exceeds a threshold probability, against treating everybody or nobody "
        "(Vickers and Elkin 2006)."
    )
    return [p.strip() for p in " ".join(text).split("\n")]


def tripod_items(results: Results) -> list[tuple[str, str]]:
    """The TRIPOD items (2015 checklist numbers) the performance results document."""
    analyses = performance_analyses(results)
    if not analyses:
        return []
    boot = _bootstrap(results)
    validation = (
        f"internal validation by Harrell's bootstrap optimism correction ({boot[0]} resamples, "
        f"seed {boot[1]})"
        if boot is not None and boot[0] > 0
        else "no internal validation (apparent performance only)"
    )
    fitted: list[str] = []
    counts: list[str] = []
    for a in analyses:
        perf = a.performance or {}
        lab = display_label(results, a.marker).name
        counts.append(
            f"{lab} x {a.endpoint.upper()}: {perf.get('n')} patients, {perf.get('events')} "
            f"events ({perf.get('excluded_missing_terms', 0)} excluded for a missing variable)"
        )
        for m in perf.get("models", {}).values():
            coefs = ", ".join(
                f"{display_label(results, t).name} {float(c):.4g}" for t, c in m["coef"].items()
            )
            fitted.append(f"{lab} x {a.endpoint.upper()}, {model_label(results, m)}: {coefs}")
        for note in perf.get("notes", []):
            counts.append(f"{lab} x {a.endpoint.upper()}: {note}")
    lm = _landmark(analyses[0].performance or {})
    return [
        (
            "Prediction models and internal validation (TRIPOD item 10b)",
            "Cox proportional-hazards models with pre-specified terms (no selection of "
            f"variables on these data), Efron's method for ties; {validation}.",
        ),
        (
            "Performance measures (TRIPOD item 10d)",
            "Harrell's and Uno's C with confidence intervals, cumulative/dynamic AUC and Brier "
            f"score at {lm:g} months with confidence intervals, integrated Brier score, "
            "calibration (risk groups, smoothed curve, ICI; calibration slope through the "
            "optimism correction), decision curves; for nested models the likelihood-ratio test "
            "and the change in C. Results in the section Prognostic performance (TRIPOD item 16).",
        ),
        ("Participants and events per analysis (TRIPOD item 14a)", "; ".join(counts) + "."),
        (
            "Model coefficients (TRIPOD item 15a)",
            "Log hazard ratios"
            + (
                " (the marker per unit on the log2 scale, i.e. per doubling)"
                if results.options.transform == "log2"
                else ""
            )
            + ": "
            + "; ".join(fitted)
            + ". The baseline survival is not reported; predicted risks use the Efron "
            "cumulative baseline hazard estimated in these data (as R survfit.coxph).",
        ),
    ]


# --------------------------------------------------------------------------- section


def performance_sections(
    results: Results, figs: Mapping[str, FigureRef], tables: Mapping[str, Table]
) -> list[Section]:
    """The "Prognostic performance" section, or nothing without performance results."""
    analyses = performance_analyses(results)
    if not analyses:
        return []
    sec = Section("performance", "Prognostic performance")
    sec.blocks += [Block("text", p) for p in performance_paragraphs(results)]
    if "added_value" in tables:
        sec.blocks.append(Block("table", table=tables["added_value"]))
    for a in analyses:
        perf = a.performance or {}
        sec.blocks.append(
            Block("heading", f"{display_label(results, a.marker).text}, {a.endpoint.upper()}")
        )
        name = table_name("performance", a.marker, a.endpoint)
        if perf.get("models") and name in tables:
            sec.blocks.append(Block("table", table=tables[name]))
        for note in perf.get("notes", []):
            sec.blocks.append(Block("warning", note))
        for kind in ("calibration", "auc", "decision"):
            stem = _stem(kind, a)
            if stem in figs:
                sec.blocks.append(Block("figure", figure=figs[stem]))
    return [sec]
