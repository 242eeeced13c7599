"""Files of ``ikaros ipd``: the reconstructed cohorts, ``ipd_results.json``, figures and report.

:func:`write_ipd_outputs` writes everything into a directory (the command line's staging
directory, so that a failed run leaves nothing): ``ipd_NAME.csv`` per Kaplan-Meier arm (an
ikaros cohort flagged ``reconstructed``), ``ipd_cif_NAME.csv`` per competing-risks arm,
``ipd_results.json``, ``figures/*.png|svg`` and ``ipd_report.html``. The report renders the
results with the study report's page (:func:`ikaros.report.document.render_page`); it computes
nothing. Plotting is imported inside the functions that draw.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ikaros.ipd.results import ArmResult, CompetingArmResult, IPDResults, ipd_to_json
from ikaros.ipd.run import (
    CAUSES,
    IPDRun,
    ReconstructedArm,
    ReconstructedCompeting,
    competing_csv,
    ipd_csv,
)

__all__ = ["HTML_NAME", "JSON_NAME", "ipd_sections", "write_ipd_outputs"]

JSON_NAME = "ipd_results.json"
HTML_NAME = "ipd_report.html"
_METHODS = {
    "at_risk": "at-risk table",
    "total_events": "patients and total events",
    "none": "patients only (less reliable)",
}
_LIMITS = (
    "Reconstructed data are an approximation of the trial's patients: the Kaplan-Meier curve is "
    "reproduced to the precision of the digitised points, but censoring is placed evenly within "
    "each at-risk interval and covariates are unknown. Hazard ratios, log-rank tests and "
    "confidence intervals are reliable only when the arms were reconstructed with their "
    "numbers-at-risk tables or total events; with the number of patients alone no patient is "
    "taken as censored before the end of the curve. Comparisons of arms from different trials "
    "are not randomised comparisons (Guyot et al., BMC Med Res Methodol 2012;12:9)."
)


def _num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or x != x else f"{x:.{digits}f}"


def _median(m: Any) -> str:
    if m.estimate is None:
        return "not reached"
    low = "NR" if m.lower is None else _num(m.lower)
    high = "NR" if m.upper is None else _num(m.upper)
    return f"{_num(m.estimate)} ({low}–{high})"


def _pct_ci(est: float, lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return f"{100 * est:.1f}%"
    return f"{100 * est:.1f}% ({100 * lo:.1f}–{100 * hi:.1f})"


def _events(a: ArmResult) -> str:
    if a.total_events_published is None:
        return str(a.events)
    return f"{a.events} (published {a.total_events_published})"


def _cleaning(a: ArmResult) -> str:
    c = a.cleaning
    parts = [f"{c.points_read} read, {c.points_used} used ({c.scale})"]
    for label, count in (
        ("reordered", c.reordered),
        ("clipped", c.clipped),
        ("made monotone", c.monotone_adjusted),
        ("duplicates dropped", c.duplicates_dropped),
        ("same time merged", c.same_time_merged),
    ):
        if count:
            parts.append(f"{count} {label}")
    if c.start_added:
        parts.append("start (0, 1) added")
    if c.start_set_to_one:
        parts.append("start set to 1")
    return "; ".join(parts)


_Job = tuple[str, str, str, Callable[[], Any]]


def _overlay_job(arm: ReconstructedArm, out: ArmResult) -> _Job:
    from ikaros.report.figures.ipd import OverlayCurve, ipd_overlay_figure

    km = arm.statistics.curve
    censored = km.n_censor > 0
    overlay = OverlayCurve(
        arm.name,
        tuple(arm.curve.time),
        tuple(arm.curve.surv),
        tuple(km.time),
        tuple(km.surv),
        tuple(km.time[censored]),
        tuple(km.surv[censored]),
    )
    table = arm.at_risk
    notes = [
        f"Reconstructed from the {_METHODS[out.method]}: {out.n} patients, {_events(out)} "
        f"events, {out.censored} censored.",
        f"Largest difference from the digitised points {out.fit.max_abs_difference:.3f} "
        f"(at {out.fit.at_time:.3g} months); mean {out.fit.mean_abs_difference:.4f}.",
    ]
    make = partial(
        ipd_overlay_figure,
        arm.name,
        [overlay],
        risk_time=None if table is None else tuple(table.time),
        published=None if table is None else tuple(int(x) for x in table.n),
        reconstructed=None
        if table is None
        else tuple(int(x) for x in km.number_at_risk(table.time)),
        notes=notes,
        warnings=list(out.warnings),
    )
    return (
        f"ipd_overlay_{arm.name}",
        f"{arm.name}: fit of the reconstruction",
        "Digitised points (circles) and the Kaplan-Meier curve of the reconstructed patients "
        "(line, censoring marks); published and reconstructed numbers at risk under the axis.",
        make,
    )


def _comparison_job(run: IPDRun) -> _Job:
    from ikaros.report.figures.ipd import ipd_comparison_figure
    from ikaros.report.style import fmt_ci, fmt_p
    from ikaros.results import GroupSummary
    from ikaros.summaries import curve as curve_summary
    from ikaros.summaries import landmark_result, median_result

    res = run.results
    groups = {}
    medians = {}
    for arm in run.arms:
        km = arm.statistics.curve
        groups[arm.name] = GroupSummary(
            n=km.n,
            events=km.events,
            landmark=landmark_result(km, float(km.time[-1])),
            median=median_result(km.median),
            curve=curve_summary(km),
        )
        medians[arm.name] = _median(arm.statistics.median)
    tests = []
    for c in res.comparisons:
        tests.append(
            f"HR {c.arm} vs {c.reference} {fmt_ci(c.hr, c.lower, c.upper)}, P {fmt_p(c.p)}; "
            f"log-rank P {fmt_p(c.logrank_p)}"
        )
        d = c.rmst_difference
        if d is not None:
            tests.append(
                f"RMST difference to {d.tau:.3g} months {d.estimate:.2f} "
                f"({d.lower:.2f} to {d.upper:.2f})"
            )
    warnings = []
    if not all(c.reliable for c in res.comparisons):
        warnings.append(
            "Arm(s) reconstructed without at-risk table or event total: comparison unreliable."
        )
    endpoint = res.options.endpoint.upper()
    make = partial(
        ipd_comparison_figure,
        groups,
        title=f"{endpoint}: reconstructed arms",
        tests=tests,
        medians=medians,
        warnings=warnings,
        endpoint=endpoint,
    )
    return (
        "ipd_comparison",
        "Reconstructed arms",
        "Kaplan-Meier curves of the reconstructed patients with 95% confidence bands, censoring "
        "marks and numbers at risk; medians with Brookmeyer-Crowley intervals; Cox hazard ratio "
        "(Efron ties) against the first arm.",
        make,
    )


def _competing_job(cr: ReconstructedCompeting, out: CompetingArmResult) -> _Job:
    from ikaros.report.figures.ipd import OverlayCurve, ipd_overlay_figure

    curves = []
    for curve, cause in ((cr.event_curve, CAUSES[1]), (cr.competing_curve, CAUSES[2])):
        cif = cr.incidence[cause]
        curves.append(
            OverlayCurve(
                cause,
                tuple(curve.time),
                tuple(1 - curve.surv),
                tuple(cif.time),
                tuple(cif.estimate),
            )
        )
    rebuilt = tuple(int(np.sum(cr.reconstruction.time >= t)) for t in cr.at_risk.time)
    note = (
        f"Reconstructed: n = {out.n}, events = {out.events}, competing events = "
        f"{out.competing_events}, censored = {out.censored}; Aalen-Johansen estimates."
    )
    make = partial(
        ipd_overlay_figure,
        cr.name,
        curves,
        kind="incidence",
        risk_time=tuple(cr.at_risk.time),
        published=tuple(int(x) for x in cr.at_risk.n),
        reconstructed=rebuilt,
        notes=[note],
        warnings=list(out.warnings),
    )
    return (
        f"ipd_overlay_cif_{cr.name}",
        f"{cr.name}: fit of the cumulative-incidence reconstruction",
        "Digitised cumulative incidences (circles) and the Aalen-Johansen estimates of the "
        "reconstructed patients (lines); published and reconstructed numbers at risk under the "
        "axis.",
        make,
    )


def _figure_plan(run: IPDRun) -> list[_Job]:
    res = run.results
    plan = [_overlay_job(arm, out) for arm, out in zip(run.arms, res.arms, strict=True)]
    if run.arms:
        plan.append(_comparison_job(run))
    plan += [
        _competing_job(cr, out) for cr, out in zip(run.competing, res.competing_arms, strict=True)
    ]
    return plan


def ipd_sections(results: IPDResults, figures: dict[str, Any]) -> list[Any]:
    """The report's sections (figures: stem -> FigureRef of the rendered figures)."""
    from ikaros.report.document import Block, Section
    from ikaros.report.style import fmt_ci, fmt_p
    from ikaros.report.tables import Table

    out = []
    rows = []
    for a in results.arms:
        rows.append(
            (
                a.name,
                _METHODS[a.method],
                str(a.n),
                _events(a),
                str(a.censored),
                _median(a.median),
                "n/a"
                if a.rmst is None
                else f"{a.rmst.estimate:.2f} ({a.rmst.lower:.2f}–{a.rmst.upper:.2f})",
                f"{a.fit.max_abs_difference:.3f}",
            )
        )
    summary = Section("summary", "Reconstructed arms")
    if rows:
        tau = results.options.tau
        summary.blocks.append(
            Block(
                "table",
                table=Table(
                    "ipd_arms",
                    "Reconstructed Kaplan-Meier arms",
                    (
                        "Arm",
                        "Reconstructed from",
                        "Patients",
                        "Events",
                        "Censored",
                        "Median, months (95% CI)",
                        f"RMST to {_num(tau)} months (95% CI)",
                        "Max |diff| vs digitised",
                    ),
                    tuple(rows),
                    "Medians with Brookmeyer-Crowley (log-log) intervals; RMST as R "
                    "print(survfit, rmean = tau); the last column is the largest difference "
                    "between the reconstructed Kaplan-Meier curve and the digitised points.",
                ),
            )
        )
    for a in results.arms:
        for w in a.warnings:
            summary.blocks.append(Block("warning", f"{a.name}: {w}"))
    for w in results.warnings:
        summary.blocks.append(Block("warning", w))
    summary.blocks.append(Block("text", _LIMITS))
    out.append(summary)
    if results.comparisons:
        crow = []
        for c in results.comparisons:
            d = c.rmst_difference
            crow.append(
                (
                    f"{c.arm} vs {c.reference}",
                    fmt_ci(c.hr, c.lower, c.upper)
                    + (" (Firth)" if c.cox_method == "firth" else ""),
                    fmt_p(c.p),
                    fmt_p(c.logrank_p),
                    "n/a" if c.ph_p is None else fmt_p(c.ph_p),
                    "n/a" if d is None else f"{d.estimate:.2f} ({d.lower:.2f} to {d.upper:.2f})",
                    "n/a" if d is None else fmt_p(d.p),
                    "yes" if c.reliable else "no",
                )
            )
        sec = Section("comparison", "Comparison of the reconstructed arms")
        sec.blocks.append(
            Block(
                "table",
                table=Table(
                    "ipd_comparisons",
                    "Hazard ratios, log-rank tests and RMST differences",
                    (
                        "Comparison",
                        "HR (95% CI)",
                        "Cox P",
                        "Log-rank P",
                        "PH test P",
                        "RMST difference, months (95% CI)",
                        "RMST P",
                        "Reliable",
                    ),
                    tuple(crow),
                    "Cox regression with Efron ties (Wald interval and P); proportional-hazards "
                    "test of Schoenfeld residuals (R cox.zph); RMST difference with the "
                    "variance of independent arms.",
                ),
            )
        )
        if results.overall_logrank is not None:
            g = results.overall_logrank
            sec.blocks.append(
                Block(
                    "text",
                    f"Log-rank test across all {len(g.groups)} arms: chi-square "
                    f"{g.statistic:.2f} on {g.df} df, P {fmt_p(g.p)}.",
                )
            )
        out.append(sec)
    if results.options.landmarks and results.arms:
        lrows = []
        for a in results.arms:
            for lm in a.landmarks:
                lrows.append(
                    (
                        a.name,
                        f"{lm.time:g}",
                        _pct_ci(lm.survival, lm.lower, lm.upper),
                        str(lm.n_risk),
                    )
                )
        out.append(
            Section(
                "landmarks",
                "Landmark survival",
                [
                    Block(
                        "table",
                        table=Table(
                            "ipd_landmarks",
                            "Survival at the landmarks (reconstructed data)",
                            ("Arm", "Months", "Survival (95% CI)", "At risk"),
                            tuple(lrows),
                            "Kaplan-Meier with Greenwood log-log intervals.",
                        ),
                    )
                ],
            )
        )
    detail = Section("reconstruction", "Reconstruction details")
    for a in results.arms:
        irows = tuple(
            (
                f"{iv.start:g}–{'end' if iv.end is None else f'{iv.end:g}'}",
                str(iv.n_start),
                "–" if iv.n_end_published is None else str(iv.n_end_published),
                str(iv.n_end_reconstructed),
                str(iv.events),
                str(iv.censored),
            )
            for iv in a.intervals
        )
        detail.blocks.append(
            Block(
                "table",
                table=Table(
                    f"ipd_intervals_{a.name}",
                    f"{a.name}: at-risk intervals",
                    (
                        "Interval",
                        "At risk at start",
                        "Published at end",
                        "Reconstructed at end",
                        "Events",
                        "Censored",
                    ),
                    irows,
                    f"Digitised points: {_cleaning(a)}.",
                ),
            )
        )
    if detail.blocks:
        out.append(detail)
    if results.competing_arms:
        sec = Section("competing", "Competing risks (reconstructed cumulative incidence)")
        crows = []
        for ca in results.competing_arms:
            at = "; ".join(
                f"{e.time:g}: {_pct_ci(e.incidence, e.lower, e.upper)}" for e in ca.event_at
            )
            crows.append(
                (
                    ca.name,
                    str(ca.n),
                    str(ca.events),
                    str(ca.competing_events),
                    str(ca.censored),
                    f"{ca.event_fit.max_abs_difference:.3f} / "
                    f"{ca.competing_fit.max_abs_difference:.3f}",
                    at or "–",
                )
            )
        sec.blocks.append(
            Block(
                "table",
                table=Table(
                    "ipd_competing",
                    "Competing-risks arms",
                    (
                        "Arm",
                        "Patients",
                        "Events",
                        "Competing events",
                        "Censored",
                        "Max |diff| event / competing",
                        "Incidence of the event at the landmarks",
                    ),
                    tuple(crows),
                    "Aalen-Johansen cumulative incidence with cmprsk's variance and log(-log) "
                    "intervals.",
                ),
            )
        )
        if results.gray_test is not None:
            g = results.gray_test
            sec.blocks.append(
                Block(
                    "text",
                    f"Gray's test of equal incidence of the event across {', '.join(g.groups)}: "
                    f"chi-square {g.statistic:.2f} on {g.df} df, P {fmt_p(g.p)}.",
                )
            )
        for ca in results.competing_arms:
            for w in ca.warnings:
                sec.blocks.append(Block("warning", f"{ca.name}: {w}"))
        out.append(sec)
    if figures:
        out.append(
            Section("figures", "Figures", [Block("figure", figure=f) for f in figures.values()])
        )
    return out


def write_ipd_outputs(run: IPDRun, directory: Path, *, report: bool = True) -> list[Path]:
    """Write the IPD files, ``ipd_results.json`` and (with ``report``) figures and the report."""
    res = run.results
    written = []
    directory.mkdir(parents=True, exist_ok=True)
    for arm in run.arms:
        path = directory / f"ipd_{arm.name}.csv"
        path.write_text(ipd_csv(arm, res.options.endpoint), encoding="utf-8", newline="\n")
        written.append(path)
    for cr in run.competing:
        path = directory / f"ipd_cif_{cr.name}.csv"
        path.write_text(competing_csv(cr), encoding="utf-8", newline="\n")
        written.append(path)
    path = directory / JSON_NAME
    path.write_text(ipd_to_json(res), encoding="utf-8", newline="\n")
    written.append(path)
    if not report:
        return written
    from ikaros.report.document import FigureRef, render_page
    from ikaros.report.figures import save_figure

    figdir = directory / "figures"
    refs = {}
    for stem, title, caption, make in _figure_plan(run):
        png, svg = save_figure(make(), figdir, stem)
        refs[stem] = FigureRef(
            stem, title, caption, png, svg, base64.b64encode(png.read_bytes()).decode("ascii")
        )
        written += [png, svg]
    inputs = []
    for a in res.arms:
        inputs.append(
            {
                "label": f"{a.name} curve",
                "source": a.curve.source,
                "sha256": a.curve.sha256 or "n/a",
            }
        )
        if a.at_risk is not None:
            inputs.append(
                {
                    "label": f"{a.name} at risk",
                    "source": a.at_risk.source,
                    "sha256": a.at_risk.sha256 or "n/a",
                }
            )
    for c in res.competing_arms:
        for label, f in (
            ("event curve", c.event_curve),
            ("competing curve", c.competing_curve),
            ("at risk", c.at_risk),
        ):
            inputs.append(
                {"label": f"{c.name} {label}", "source": f.source, "sha256": f.sha256 or "n/a"}
            )
    repro = {
        "inputs": inputs,
        "software": ", ".join(f"{k} {v}" for k, v in res.software.items()),
        "schema_name": "IPD results schema",
        "schema": res.ipd_schema_version,
    }
    names = [a.name for a in res.arms] + [c.name for c in res.competing_arms]
    html = render_page(
        title=", ".join(names),
        subtitle=(
            f"Individual patient data reconstructed from published curves (Guyot et al. 2012); "
            f"{res.options.endpoint.upper()}; ikaros {res.ikaros_version}"
        ),
        sections=ipd_sections(res, refs),
        repro=repro,
        heading="Reconstructed-IPD report",
    )
    path = directory / HTML_NAME
    path.write_text(html, encoding="utf-8", newline="\n")
    written.append(path)
    return written
