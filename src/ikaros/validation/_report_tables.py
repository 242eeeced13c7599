"""The formatted tables of the validation report page (the CSV files hold the full numbers).

Helpers shared with :mod:`ikaros.validation.report`: units, cut wording, the
``(reconstructed)`` flag after a cohort's name.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ikaros.report.style import fmt_ci, fmt_p
from ikaros.report.tables import Table
from ikaros.validation.meta import MetaAnalysis
from ikaros.validation.multicohort import CohortEstimate, OneStage, Validation
from ikaros.validation.run import ValidationRun

FLAG = " (reconstructed)"


def num(x: float | None, digits: int = 3) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.{digits}g}"


def unit(run: ValidationRun) -> str:
    return "per doubling" if run.options.transform == "log2" else "per unit"


def cut_text(run: ValidationRun) -> str:
    o = run.options
    if o.cut == "q1":
        return "each cohort's lowest quartile (Q1) vs the rest"
    if o.cut == "median":
        return "each cohort's median"
    return f"{o.marker} {o.cut} in every cohort"


def _label(name: str, flagged: set[str]) -> str:
    return name + FLAG if name in flagged else name


def _flag_meta(meta: MetaAnalysis | None, flagged: set[str]) -> MetaAnalysis | None:
    if meta is None:
        return None
    studies = tuple(replace(s, name=_label(s.name, flagged)) for s in meta.studies)
    return replace(meta, studies=studies)


def flagged_validation(run: ValidationRun) -> Validation:
    """The results with ``(reconstructed)`` after the reconstructed cohorts' names (figures)."""
    flagged = set(run.reconstructed)
    v = run.results
    if not flagged:
        return v

    def ests(es: tuple[CohortEstimate, ...]) -> tuple[CohortEstimate, ...]:
        return tuple(replace(e, cohort=_label(e.cohort, flagged)) for e in es)

    return replace(
        v,
        estimates_continuous=ests(v.estimates_continuous),
        estimates_cut=ests(v.estimates_cut),
        meta_continuous=_flag_meta(v.meta_continuous, flagged),
        meta_cut=_flag_meta(v.meta_cut, flagged),
    )


# --------------------------------------------------------------------------------------------
# tables of the page (formatted text; the CSV files hold the numbers)


def cohort_table(run: ValidationRun) -> Table:
    rows = []
    for c in run.cohorts:
        rows.append(
            (
                c.name,
                ", ".join(c.files),
                "/".join(c.treatment_levels) or "-",
                "marker values" if c.marker == "values" else "published groups only",
                "yes" if c.reconstructed else "no",
                str(c.n),
                str(c.events),
                str(c.n_excluded),
            )
        )
    return Table(
        "cohorts",
        "Cohorts of the manifest",
        (
            "Cohort",
            "File(s)",
            "Treatment",
            "Marker",
            "Reconstructed",
            "Patients",
            "Events",
            "Excluded",
        ),
        tuple(rows),
        f"Patients: complete cases for {run.options.endpoint.upper()}, the marker"
        + (", the covariates" if run.options.covariates else "")
        + " and the treatment; excluded: rows of the file(s) missing one of them. "
        "Reconstructed: patients reconstructed from published Kaplan-Meier curves (Guyot et al. "
        "2012), approximations of the real ones.",
    )


def estimate_table(
    run: ValidationRun,
    coding: str,
    estimates: tuple[CohortEstimate, ...],
    meta: MetaAnalysis | None,
) -> Table:
    flagged = set(run.reconstructed)
    weights = {s.name: s.weight_random for s in meta.studies} if meta is not None else {}
    header: tuple[str, ...] = ("Cohort", "Treatment", "n (events)", "HR (95% CI)", "P", "Weight")
    lm = run.options.landmark
    if coding == "cut":
        header = (*header[:3], "Cut", f"{lm:g}-month low", f"{lm:g}-month high", *header[3:])
    rows = []
    for e in estimates:
        hr = fmt_ci(e.hr, e.lower, e.upper) if e.hr is not None else (e.note or "not estimable")
        if e.method == "firth":
            hr += " (Firth)"
        w = weights.get(e.cohort)
        row: tuple[str, ...] = (
            _label(e.cohort, flagged),
            e.treatment or "-",
            f"{e.n} ({e.events})",
        )
        if coding == "cut":
            groups = {g.label: g for g in e.groups}
            surv = tuple(
                "n/a"
                if groups.get(k) is None or groups[k].survival is None
                else f"{100 * groups[k].survival:.0f}%"  # type: ignore[operator]
                for k in ("low", "high")
            )
            cut = "published" if e.cut is None else _cut_value_text(run, e.cut)
            row += (cut, *surv)
        row += (hr, fmt_p(e.p), "-" if w is None else f"{w:.1f}%")
        rows.append(row)
    what = (
        f"{run.options.marker} {unit(run)}"
        if coding == "continuous"
        else f"{run.options.marker} above vs at or below the cut"
    )
    foot = (
        "Cox regression (Efron ties) in each cohort"
        + (f", adjusted for {', '.join(run.options.covariates)}" if run.options.covariates else "")
        + "; Wald 95% CI. Weight: share in the random-effects estimate; '-' marks a cohort left "
        "out of the meta-analysis."
    )
    if coding == "cut":
        foot += (
            f" Cut on the marker's own scale; 'published': the cohort's groups as published. "
            f"Kaplan-Meier {run.options.endpoint.upper()} at {lm:g} months by group."
        )
    return Table(
        f"estimates_{coding}", f"Hazard ratio by cohort: {what}", header, tuple(rows), foot
    )


def _cut_value_text(run: ValidationRun, cut: float) -> str:
    value = 2.0**cut if run.options.transform == "log2" else cut
    return f"{value:.4g}"


def pooled_table(coding: str, meta: MetaAnalysis) -> Table:
    f, r, pi, h = meta.fixed, meta.random, meta.prediction, meta.heterogeneity
    hts = meta.prediction_hts
    rows = (
        (
            "Random effects (REML tau², Hartung-Knapp-Sidik-Jonkman CI)",
            fmt_ci(r.hr, r.hr_lower, r.hr_upper),
            fmt_p(r.p),
            f"t, {r.df} df",
        ),
        (
            "Fixed effect (inverse variance)",
            fmt_ci(f.hr, f.hr_lower, f.hr_upper),
            fmt_p(f.p),
            "normal",
        ),
        (
            "95% prediction interval (a new cohort; bootstrap, Nagashima et al.)",
            fmt_ci(r.hr, pi.hr_lower, pi.hr_upper),
            "",
            f"{pi.n_boot:,} draws, tau² from its confidence distribution",
        ),
        (
            "95% prediction interval, plug-in (R metafor predict)",
            fmt_ci(r.hr, hts.hr_lower, hts.hr_upper),
            "",
            f"t, {hts.df} df",
        ),
    )
    foot = (
        f"{meta.k} cohorts. Heterogeneity: Q = {h.q:.2f} on {h.q_df} df (P {fmt_p(h.q_p)}); "
        f"tau² = {num(h.tau2)} (95% CI {num(h.tau2_lower)}-{num(h.tau2_upper)}); "
        f"I² = {h.i2:.0f}% ({h.i2_lower:.0f}-{h.i2_upper:.0f}%); H² = {num(h.h2)}; "
        "Q-profile intervals."
    )
    if meta.k == 2:
        foot += " With 2 cohorts the random-effects CI and the prediction interval have 1 df and "
        foot += "are very wide: that is the honest uncertainty of two cohorts."
    for note in meta.notes:
        foot += f" {note[0].upper()}{note[1:]}."
    return Table(
        f"pooled_{coding}",
        "Pooled hazard ratio",
        ("Model", "HR (95% CI)", "P", "Reference distribution"),
        rows,
        foot,
    )


def loo_table(coding: str, meta: MetaAnalysis, flagged: set[str]) -> Table:
    rows = tuple(
        (
            _label(x.omitted, flagged),
            fmt_ci(x.hr, _exp(x.lower), _exp(x.upper)),
            fmt_p(x.p),
            num(x.tau2),
            f"{x.i2:.0f}%" if x.i2 == x.i2 else "n/a",
        )
        for x in meta.leave_one_out
    )
    return Table(
        f"leave_one_out_{coding}",
        "Leave one cohort out",
        ("Cohort left out", "Pooled HR (95% CI)", "P", "tau²", "I²"),
        rows,
        "The random-effects analysis (REML, HKSJ) repeated without each cohort in turn.",
    )


def _exp(x: float) -> float:
    return math.exp(x) if x == x else float("nan")


def levels(o: OneStage) -> str:
    """``lenalidomide vs no lenalidomide`` from ``marker:treatment[lenalidomide vs ...]``."""
    return o.term.split("[", 1)[1].rstrip("]") if "[" in o.term else o.term


def one_stage_table(run: ValidationRun) -> Table | None:
    v = run.results
    models: tuple[tuple[str, OneStage | None], ...] = (
        (f"{run.options.marker} {unit(run)}", v.one_stage_continuous),
        (f"{run.options.marker} above vs at or below the cut", v.one_stage_cut),
        ("interaction", v.one_stage_interaction),
    )
    rows = []
    for label, o in models:
        if o is None:
            continue
        if o is v.one_stage_interaction:
            label = f"{run.options.marker} x treatment ({levels(o)}), ratio of HRs"
        rows.append(
            (
                label,
                f"{o.n} ({o.events})",
                str(o.n_cohorts),
                fmt_ci(o.hr, o.lower, o.upper),
                fmt_p(o.p),
                f"{o.lr_statistic:.2f}",
                fmt_p(o.lr_p),
            )
        )
    if not rows:
        return None
    return Table(
        "one_stage",
        "One-stage Cox model stratified by cohort",
        ("Model", "n (events)", "Cohorts", "HR (95% CI)", "P (Wald)", "LR chi²", "LR P"),
        tuple(rows),
        "Cox regression (Efron ties) on the pooled patients with a separate baseline hazard per "
        "cohort (R: coxph(Surv(time, event) ~ marker + strata(cohort)))"
        + (f", adjusted for {', '.join(run.options.covariates)}" if run.options.covariates else "")
        + ". LR: likelihood-ratio test of the model (of the product term alone for the "
        "interaction). In the interaction model a treatment given to whole cohorts has no main "
        "effect of its own: the strata absorb it.",
    )
