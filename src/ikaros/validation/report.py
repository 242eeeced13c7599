"""Outputs of ``ikaros validate``: validation.json, tables, forest figures and the report page.

:func:`write_validation_outputs` writes into a directory (normally the command line's staging
directory, so that a failed run leaves nothing): ``validation.json`` (:func:`run_to_json`),
``tables/*.csv`` (numbers in full, :mod:`ikaros.validation._csv`), ``figures/forest_continuous``
and ``figures/forest_cut`` (PNG and SVG; per-cohort hazard ratios, the pooled diamonds and the
prediction interval, :func:`ikaros.report.figures.validation.multicohort_forest`) and
``validation_report.html`` (the study report's page, :func:`ikaros.report.document.render_page`).
The page computes nothing: every number comes from the :class:`ValidationRun`. Cohorts
reconstructed from published curves carry ``(reconstructed)`` after their name in the figures
and tables. Plotting is imported only when figures are drawn.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from ikaros.report.document import Block, FigureRef, Section, render_page
from ikaros.report.style import fmt_ci, fmt_hr, fmt_p
from ikaros.validation._csv import csv_tables
from ikaros.validation._report_tables import (
    cohort_table,
    cut_text,
    estimate_table,
    flagged_validation,
    levels,
    loo_table,
    num,
    one_stage_table,
    pooled_table,
    unit,
)
from ikaros.validation.run import ValidationRun, run_to_json

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HTML_NAME", "JSON_NAME", "validation_sections", "write_validation_outputs"]

JSON_NAME = "validation.json"
HTML_NAME = "validation_report.html"
HEADING = "Multi-cohort validation"

PREDICTION_TEXT = (
    "The prediction interval is where the true hazard ratio of a new cohort, similar to these, "
    "is expected to lie (95%). The confidence interval of the pooled hazard ratio describes only "
    "the average effect over cohorts; the prediction interval adds the between-cohort "
    "heterogeneity (tau²) and is therefore wider. If it includes 1, a new cohort may show no "
    "effect, or the opposite one, even when the average effect is clear. It is the parametric "
    "bootstrap of Nagashima, Noma and Furukawa, which carries the uncertainty of tau² into the "
    "interval; the plug-in interval of R metafor's predict() is shown beside it in the pooled "
    "table and covers less than 95% when the cohorts are few or tau² is small."
)
ONE_STAGE_TEXT = (
    "The one-stage model is one Cox regression on all patients, stratified by cohort: each "
    "cohort keeps its own baseline hazard, so differences in prognosis between cohorts are not "
    "mistaken for a marker effect; the marker's hazard ratio is assumed common to all cohorts."
)
PROGNOSTIC_TEXT = (
    "A prognostic marker is associated with outcome whatever the treatment: its hazard ratio "
    "is similar with and without the treatment. A predictive marker changes the effect of the "
    "treatment: its hazard ratio differs between patients with and without the treatment, which "
    "the marker-by-treatment interaction tests."
)
_REFERENCES = (
    "Riley RD, Lambert PC, Abo-Zaid G. Meta-analysis of individual participant data: rationale, "
    "conduct, and reporting. BMJ 2010;340:c221.",
    "Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the "
    "random-effects model. J Educ Behav Stat 2005;30:261-293.",
    "Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical trials "
    "with binary outcome. Stat Med 2001;20:3875-3889. Sidik K, Jonkman JN. A simple confidence "
    "interval for meta-analysis. Stat Med 2002;21:3153-3159.",
    "Higgins JPT, Thompson SG, Spiegelhalter DJ. A re-evaluation of random-effects "
    "meta-analysis. J R Stat Soc A 2009;172:137-159 (prediction interval).",
    "Nagashima K, Noma H, Furukawa TA. Prediction intervals for random-effects meta-analysis: "
    "a confidence distribution approach. Stat Methods Med Res 2019;28:1689-1702.",
    "Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis. Stat "
    "Med 2007;26:37-52 (Q-profile).",
    "Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000 (stratified Cox model).",
    "Guyot P, Ades AE, Ouwens MJ, Welton NJ. Enhanced secondary analysis of survival data: "
    "reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol "
    "2012;12:9.",
)


# --------------------------------------------------------------------------------------------
# sections


def _counts(run: ValidationRun) -> tuple[int, int]:
    return sum(c.n for c in run.cohorts), sum(c.events for c in run.cohorts)


def _summary(run: ValidationRun) -> Section:
    o, v = run.options, run.results
    n, events = _counts(run)
    blocks: list[Block] = []
    recon = run.reconstructed
    if recon:
        blocks.append(
            Block(
                "warning",
                text=f"Reconstructed from published Kaplan-Meier curves: {', '.join(recon)}. "
                "These patients are approximations (Guyot et al. 2012), not the real ones.",
            )
        )
    groups_only = [c.name for c in run.cohorts if c.marker != "values"]
    if groups_only:
        blocks.append(
            Block(
                "warning",
                text=f"Only the published groups are known for {', '.join(groups_only)}: these "
                "cohorts enter the cut analyses, at the publication's own cut, and none of the "
                "continuous ones.",
            )
        )
    adjusted = f", adjusted for {', '.join(o.covariates)}" if o.covariates else ""
    text = (
        f"The same pre-specified analysis was run in each of {len(run.cohorts)} cohorts ({n} "
        f"patients, {events} events): Cox regression of {o.endpoint.upper()} on {o.marker} as a "
        f"continuous marker ({unit(run)}{', log2 scale' if o.transform == 'log2' else ''}) and "
        f"on {o.marker} above vs at or below the cut ({cut_text(run)}){adjusted}. The "
        "per-cohort log hazard ratios were pooled by random-effects meta-analysis, and all "
        "patients were analysed together in one Cox model stratified by cohort."
    )
    blocks.append(Block("text", text=text))
    for coding, meta, one in (
        ("continuous", v.meta_continuous, v.one_stage_continuous),
        ("cut", v.meta_cut, v.one_stage_cut),
    ):
        if meta is None:
            continue
        r, pi, h = meta.random, meta.prediction, meta.heterogeneity
        what = unit(run) if coding == "continuous" else "above vs at or below the cut"
        blocks.append(
            Block(
                "text",
                text=f"{o.marker} {what}: pooled HR {fmt_ci(r.hr, r.hr_lower, r.hr_upper)} "
                f"(random effects, {meta.k} cohorts, P {fmt_p(r.p)}); 95% prediction interval "
                f"{fmt_hr(pi.hr_lower)}–{fmt_hr(pi.hr_upper)}; I² = {h.i2:.0f}%, tau² = "
                f"{num(h.tau2)}."
                + (
                    ""
                    if one is None
                    else f" One-stage model stratified by cohort: HR "
                    f"{fmt_ci(one.hr, one.lower, one.upper)} ({one.n_cohorts} cohorts, P "
                    f"{fmt_p(one.p)})."
                ),
            )
        )
    blocks.append(Block("text", text=PREDICTION_TEXT))
    if any(m is not None and m.k == 2 for m in (v.meta_continuous, v.meta_cut)):
        blocks.append(
            Block(
                "warning",
                text="Two cohorts: the random-effects CI and the prediction interval rest on 1 "
                "degree of freedom and are very wide; the fixed-effect and one-stage estimates "
                "are narrower only because they assume one common hazard ratio.",
            )
        )
    for note in v.notes:
        blocks.append(Block("text", text=f"Note: {note}."))
    return Section("summary", "Summary", blocks)


def _coding_section(
    run: ValidationRun, coding: str, figures: dict[str, FigureRef]
) -> Section | None:
    v = run.results
    meta = v.meta_continuous if coding == "continuous" else v.meta_cut
    estimates = v.estimates_continuous if coding == "continuous" else v.estimates_cut
    if coding == "continuous" and all(e.note and e.coef is None for e in estimates):
        return None
    title = (
        f"{run.options.marker} as a continuous marker"
        if coding == "continuous"
        else f"{run.options.marker} above vs at or below the cut"
    )
    blocks: list[Block] = []
    stem = f"forest_{coding}"
    if stem in figures:
        blocks.append(Block("figure", figure=figures[stem]))
    blocks.append(Block("table", table=estimate_table(run, coding, estimates, meta)))
    if meta is None:
        blocks.append(
            Block("warning", text="No meta-analysis: fewer than 2 cohorts have an estimate.")
        )
    else:
        blocks.append(Block("table", table=pooled_table(coding, meta)))
        if meta.leave_one_out:
            blocks.append(Block("table", table=loo_table(coding, meta, set(run.reconstructed))))
    return Section(coding, title, blocks)


def _treatment_section(run: ValidationRun) -> Section | None:
    treatments = [c.treatment for c in run.cohorts]
    if not all(treatments):
        return None
    v = run.results
    blocks = [Block("text", text=PROGNOSTIC_TEXT)]
    inter = v.one_stage_interaction
    if inter is not None:
        blocks.append(
            Block(
                "text",
                text=f"In the one-stage model the hazard ratio of {run.options.marker} "
                f"({unit(run)}) is multiplied by {fmt_ci(inter.hr, inter.lower, inter.upper)} "
                f"under {levels(inter).split(' vs ')[0]} (likelihood-ratio P "
                f"{fmt_p(inter.lr_p)}). An interval that excludes 1 says that the marker's effect "
                "differs with the treatment (predictive); an interval around 1 is compatible "
                "with a purely prognostic marker, but does not prove it.",
            )
        )
    cohort_level = all(len(c.treatment_levels) == 1 for c in run.cohorts)
    if cohort_level:
        blocks.append(
            Block(
                "warning",
                text="Exploratory. The treatment is a property of whole cohorts (protocols), so "
                "the comparison is between cohorts and may be confounded by anything else that "
                "differs between them (era, population, other drugs).",
            )
        )
    else:
        blocks.append(Block("warning", text="Exploratory analysis."))
    return Section("treatment", "Prognostic or predictive?", blocks)


def _methods() -> Section:
    text = (
        "Per cohort: Cox regression with Efron ties (Firth's penalised likelihood when the "
        "likelihood is monotone; such estimates are shown but not pooled). Two-stage: "
        "random-effects meta-analysis of the log hazard ratios with the between-cohort variance "
        "tau² by restricted maximum likelihood (REML), the Hartung-Knapp-Sidik-Jonkman (HKSJ) "
        "confidence interval on k-1 degrees of freedom, the 95% prediction interval "
        "by the parametric bootstrap on the confidence distribution of tau² (Nagashima, Noma "
        "and Furukawa; 25,000 seeded draws) and, beside it, the plug-in interval "
        "(t distribution, k-1 df, variance SE² + tau²), Cochran's Q, I² and H² with Q-profile "
        "confidence intervals, the fixed-effect (inverse-variance) estimate beside it, and "
        "leave-one-out; these match R metafor (rma(method = 'REML', test = 'knha'), predict, "
        "confint, leave1out; tests/reference/validation; the bootstrap interval, which "
        "metafor does not compute, is checked by simulation with known truth). One-stage: Cox "
        "regression on all patients stratified by cohort, as R coxph(... + strata(cohort))."
    )
    blocks = [Block("text", text=text), Block("heading", text="References")]
    blocks += [Block("text", text=r) for r in _REFERENCES]
    return Section("methods", "Methods", blocks)


def validation_sections(run: ValidationRun, figures: dict[str, FigureRef]) -> list[Section]:
    """The sections of the page (figures missing from ``figures`` are left out)."""
    sections = [
        _summary(run),
        Section("cohorts", "Cohorts", [Block("table", table=cohort_table(run))]),
    ]
    for coding in ("continuous", "cut"):
        sec = _coding_section(run, coding, figures)
        if sec is not None:
            sections.append(sec)
    one = one_stage_table(run)
    if one is not None:
        sections.append(
            Section(
                "one_stage",
                "One-stage model",
                [Block("text", text=ONE_STAGE_TEXT), Block("table", table=one)],
            )
        )
    treatment = _treatment_section(run)
    if treatment is not None:
        sections.append(treatment)
    sections.append(_methods())
    return sections


# --------------------------------------------------------------------------------------------
# files


def _figures(run: ValidationRun) -> list[tuple[str, str, str, Figure]]:
    from ikaros.report.figures.validation import multicohort_forest

    v = flagged_validation(run)
    out = []
    caption = (
        "Hazard ratio per cohort (squares, Wald 95% CI; weight: share in the random-effects "
        "estimate), the fixed-effect and random-effects (REML, HKSJ) pooled estimates "
        "(diamonds) and the 95% prediction interval (bar; parametric bootstrap): where a new "
        "cohort's true hazard ratio is expected to lie."
    )
    if v.meta_continuous is not None:
        out.append(
            (
                "forest_continuous",
                f"{run.options.marker} {unit(run)}, by cohort",
                caption,
                multicohort_forest(v, coding="continuous"),
            )
        )
    if v.meta_cut is not None:
        out.append(
            (
                "forest_cut",
                f"{run.options.marker} above vs at or below the cut, by cohort",
                caption + f" Cut: {cut_text(run)}.",
                multicohort_forest(v, coding="cut"),
            )
        )
    return out


def write_validation_outputs(run: ValidationRun, directory: Path) -> list[Path]:
    """Write validation.json, tables/*.csv, figures/*.png|svg and validation_report.html.

    Returns the paths written. ``directory`` is normally a staging directory
    (:func:`ikaros.files.staged_output`), so that a failure leaves nothing behind.
    """
    from ikaros.report.figures import save_figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    path = directory / JSON_NAME
    path.write_text(run_to_json(run), encoding="utf-8", newline="\n")
    written.append(path)
    for name, text in csv_tables(run).items():
        path = directory / "tables" / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    refs: dict[str, FigureRef] = {}
    for stem, title, caption, fig in _figures(run):
        png, svg = save_figure(fig, directory / "figures", stem)
        refs[stem] = FigureRef(
            stem, title, caption, png, svg, base64.b64encode(png.read_bytes()).decode("ascii")
        )
        written += [png, svg]
    o = run.options
    n, events = _counts(run)
    inputs = [{"label": "Manifest", "source": run.manifest, "sha256": run.manifest_sha256}]
    for c in run.cohorts:
        for f, digest in zip(c.files, c.sha256, strict=True):
            inputs.append({"label": c.name, "source": f, "sha256": digest})
    html = render_page(
        title=f"{o.marker}, {o.endpoint.upper()}, {len(run.cohorts)} cohorts",
        subtitle=f"{n} patients, {events} events; cut: {cut_text(run)}; ikaros "
        f"{run.ikaros_version}" + (f"; command: {run.command}" if run.command else ""),
        sections=validation_sections(run, refs),
        repro={
            "inputs": inputs,
            "software": ", ".join(f"{k} {v}" for k, v in run.software.items()),
            "schema_name": "Validation schema",
            "schema": run.schema_version,
        },
        heading=HEADING,
    )
    path = directory / HTML_NAME
    path.write_text(html, encoding="utf-8", newline="\n")
    written.append(path)
    return written
