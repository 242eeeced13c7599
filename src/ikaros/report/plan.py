"""Which figures the study report draws, with their titles and captions.

:func:`plan_figures` lists one :class:`FigureJob` per figure, in report order: the paper
comparison (demo), per marker x endpoint the primary cut and the quartiles, the forest plots,
per grouping variable x endpoint the Kaplan-Meier curves by level, per competing-risk analysis
the cumulative incidence, and the marker against ISS stage and response. A figure whose content
is absent from the results (no multivariable model, no ISS and no response) is not planned; the
report says why in its place (:mod:`ikaros.report.sections`). Captions state the cut values with
units and whether they were pre-specified or derived from the data.
"""

from __future__ import annotations

from ikaros.published import compare_with_paper
from ikaros.report import figures
from ikaros.report.document import FigureJob
from ikaros.report.figures.competing import competing_figure
from ikaros.report.figures.grouping import grouping_figure
from ikaros.report.naming import (
    adjuster_names,
    analysis_cut_statement,
    competing_names,
    cut_display_labels,
    cut_name,
    cut_statement,
    display_label,
    level_display,
    quartile_statement,
    value_axis_label,
)
from ikaros.report.predictive import predictive_figures
from ikaros.report.prognostic import performance_figures
from ikaros.report.tables import fmt_ci, fmt_landmark, p_is
from ikaros.report.tables_groups import fmt_incidence
from ikaros.results import Analysis, CompetingAnalysis, GroupingAnalysis, Results

__all__ = [
    "FigureJob",
    "is_demo",
    "km_stem",
    "marker_panels",
    "plan_figures",
]


def is_demo(results: Results) -> bool:
    return results.options.seed is not None and "IKZF1" in results.options.markers


def km_stem(a: Analysis, grouping: str) -> str:
    """``km_<marker>_<endpoint>_q1`` for the default cut (as before), else the cut's kind."""
    if grouping == "quartiles":
        return f"km_{a.marker}_{a.endpoint}_quartiles"
    kind = str(a.cut.get("kind", "quartile"))
    return f"km_{a.marker}_{a.endpoint}_{'q1' if kind == 'quartile' else kind}"


def _xlim_text(results: Results) -> str:
    xlim = results.options.xlim
    return f" The time axis ends at {xlim:g} months (--xlim)." if xlim is not None else ""


def _km_caption(results: Results, a: Analysis, grouping: str) -> str:
    lm = results.options.landmark
    lab = display_label(results, a.marker)
    if grouping == "q1":
        names = cut_display_labels(a.cut, lab)
        parts = [
            f"{names.get(label, label)} {fmt_landmark(g.landmark)}"
            + (
                f" ({fmt_ci(g.landmark.lower, g.landmark.upper, pct=True)})"
                if g.landmark.survival is not None
                else ""
            )
            for label, g in a.groups.items()
        ]
        test = f"log-rank {p_is(a.logrank.p)}"
        if a.trend is not None:
            test += f", trend {p_is(a.trend.p)}"
        what = cut_name(a.cut)
        cut = " Cut: " + analysis_cut_statement(results, a) + "."
    else:
        parts = [f"{label} {fmt_landmark(g.landmark)}" for label, g in a.quartile_groups.items()]
        lr4, trend4 = a.logrank_quartiles, a.trend_quartiles
        test = (
            f"log-rank {p_is(lr4.p if lr4 else None)}, trend {p_is(trend4.p if trend4 else None)}"
        )
        what = "quartiles"
        cut = (
            ""
            if a.cut.get("kind", "quartile") == "quartile"
            else f" {quartile_statement(a, lab)}; the secondary description of the marker."
        )
    return (
        f"Kaplan-Meier estimates of {a.endpoint.upper()} by {lab.text} {what}"
        + (f", with {results.options.ci_method} 95% confidence bands" if grouping == "q1" else "")
        + f" and censoring marks; numbers at risk below the axis. Survival at {lm:g} months: "
        f"{'; '.join(parts)}; {test}.{cut}{_xlim_text(results)}"
    )


def _grouping_caption(results: Results, g: GroupingAnalysis) -> str:
    lm = results.options.landmark
    label = display_label(results, g.variable).text
    parts = [
        f"{level_display(g.variable, k)} {fmt_landmark(s.landmark)}"
        + (
            f" ({fmt_ci(s.landmark.lower, s.landmark.upper, pct=True)})"
            if s.landmark.survival is not None
            else ""
        )
        for k, s in g.groups.items()
    ]
    tests = f"log-rank {p_is(g.logrank.p)}" if g.logrank else "groups not compared"
    if g.trend is not None:
        tests += f", trend {p_is(g.trend.p)} (ordered levels)"
    empty = [level_display(g.variable, lv.label) for lv in g.levels if lv.n == 0]
    return (
        f"Kaplan-Meier estimates of {g.endpoint.upper()} by {label}, with "
        f"{results.options.ci_method} 95% confidence bands and censoring marks; numbers at risk "
        f"below the axis. Survival at {lm:g} months: {'; '.join(parts)}; {tests}."
        + (f" No patients in {', '.join(empty)}." if empty else "")
        + _xlim_text(results)
    )


def _competing_caption(results: Results, c: CompetingAnalysis) -> str:
    lm = results.options.landmark
    lab = display_label(results, c.name)
    names = competing_names(c, lab)
    parts = []
    for key, g in c.groups.items():
        at = next((x for x in g.at if abs(x.time - lm) < 1e-9), None)
        if at is None or at.cif is None:
            parts.append(f"{names.get(key, key)} {at.note if at and at.note else 'n/a'}")
            continue
        parts.append(
            f"{names.get(key, key)} {fmt_incidence(at.cif, at.lower, at.upper)} "
            f"(naive {fmt_incidence(at.naive)})"
        )
    causes = ", ".join(c.competing_causes) or "no other cause"
    cut = f" Cut: {cut_statement(c.cut, lab)}." if c.cut is not None else ""
    gray = f"Gray's test {p_is(c.gray.p)}" if c.gray is not None else "Gray's test n/a"
    return (
        f"Cumulative incidence of {c.event} ({c.endpoint.upper()}) by {lab.text} "
        f"(Aalen-Johansen, with 95% pointwise confidence bands), {causes} competing; numbers "
        "at risk below the axis. Dashed: the naive 1 − Kaplan-Meier, which treats competing "
        "events as censoring and overstates the incidence, shown only as a contrast. At "
        f"{lm:g} months: {'; '.join(parts)}; {gray}.{cut}{_xlim_text(results)}"
    )


def marker_panels(results: Results, marker: str) -> tuple[str, ...]:
    """The panels of the marker figure that have data (``iss``, ``response``)."""
    assoc = next((m for m in results.marker_associations if m.marker == marker), None)
    if assoc is None:
        return ()
    out = []
    if any(assoc.values_by_iss.values()):
        out.append("iss")
    if any(assoc.values_by_response.values()):
        out.append("response")
    return tuple(out)


def _marker_caption(panels: tuple[str, ...]) -> str:
    parts = []
    if "iss" in panels:
        parts.append("Kruskal-Wallis and Jonckheere-Terpstra trend tests across ISS stages")
    if "response" in panels:
        parts.append("Mann-Whitney test CR/VGPR vs PR/SD")
    text = "Box plots with individual patients; " + ", ".join(parts) + "."
    if panels == ("iss",):
        text += " Best response is not in the data, so the response panel is omitted."
    elif panels == ("response",):
        text += " ISS stage is not in the data, so the ISS panel is omitted."
    return text


def _forest_caption(results: Results, endpoint: str) -> str:
    adjusters: list[str] = []
    for a in results.analyses:
        if a.endpoint == endpoint:
            for name in adjuster_names(results, a.cox_multivariable, a.marker):
                if name not in adjusters:
                    adjusters.append(name)
    return (
        "Hazard ratios with 95% confidence intervals of the marker adjusted for "
        + (", ".join(adjusters) or "no other variable")
        + "; continuous markers per standard deviation. † Firth penalised likelihood with "
        "profile-likelihood CI."
    )


def plan_figures(results: Results, *, counts: bool = False) -> list[FigureJob]:
    """Every figure of the report, in report order."""
    o = results.options
    lm, xlim = o.landmark, o.xlim
    jobs: list[FigureJob] = []
    if is_demo(results):
        rows = compare_with_paper(results)
        jobs.append(
            FigureJob(
                "paper_vs_cohort",
                "Kronke et al. 2017 vs this cohort",
                "Published figures of the DSMM XII study beside the same quantities in this "
                "cohort.",
                lambda rows=rows: figures.paper_figure(rows),  # type: ignore[misc]
            )
        )
    for a in results.analyses:
        label = display_label(results, a.marker)
        for grouping in ("q1", "quartiles"):
            if grouping == "quartiles" and not a.quartile_groups:
                continue  # not described (tied values); the analysis's note says why
            title = f"{a.endpoint.upper()} by {label.text} " + (
                "quartiles" if grouping == "quartiles" else _short_cut(a)
            )
            jobs.append(
                FigureJob(
                    km_stem(a, grouping),
                    title,
                    _km_caption(results, a, grouping),
                    lambda a=a, g=grouping, t=label.text: figures.km_figure(  # type: ignore[misc]
                        a, grouping=g, landmark=lm, counts=counts, ci=g == "q1", label=t, xlim=xlim
                    ),
                )
            )
    for endpoint in o.endpoints:
        if any(a.cox_multivariable for a in results.analyses if a.endpoint == endpoint):
            jobs.append(
                FigureJob(
                    f"forest_multivariable_{endpoint}",
                    f"Multivariable Cox models, {endpoint.upper()}",
                    _forest_caption(results, endpoint),
                    lambda e=endpoint: figures.forest_figure(  # type: ignore[misc]
                        results, e, kind="multivariable"
                    ),
                )
            )
        if any(a.subgroups for a in results.analyses if a.endpoint == endpoint):
            jobs.append(
                FigureJob(
                    f"forest_subgroups_{endpoint}",
                    f"Subgroups by cytogenetic risk, {endpoint.upper()}",
                    "Hazard ratio per standard deviation of each marker within standard- and "
                    "high-risk cytogenetics, with the marker-by-risk interaction p-value.",
                    lambda e=endpoint: figures.forest_figure(  # type: ignore[misc]
                        results, e, kind="subgroups"
                    ),
                )
            )
    for g in results.groupings:
        if not g.groups:
            continue
        label = display_label(results, g.variable)
        jobs.append(
            FigureJob(
                f"km_group_{g.variable}_{g.endpoint}",
                f"{g.endpoint.upper()} by {label.text}",
                _grouping_caption(results, g),
                lambda g=g, t=label.text: grouping_figure(  # type: ignore[misc]
                    g, landmark=lm, counts=counts, label=t, xlim=xlim
                ),
            )
        )
    for c in results.competing:
        if not c.groups:
            continue
        label = display_label(results, c.name)
        jobs.append(
            FigureJob(
                f"cif_{c.name}_{c.endpoint}",
                f"{c.endpoint.upper()}: cumulative incidence of {c.event} by {label.text}",
                _competing_caption(results, c),
                lambda c=c, lab=label: competing_figure(c, label=lab, xlim=xlim),  # type: ignore[misc]
            )
        )
    jobs += performance_figures(results)
    jobs += predictive_figures(results)
    for assoc in results.marker_associations:
        panels = marker_panels(results, assoc.marker)
        if not panels:
            continue
        label = display_label(results, assoc.marker)
        ylabel = value_axis_label(results, assoc.marker)
        jobs.append(
            FigureJob(
                f"marker_{assoc.marker}",
                f"{label.text} by "
                + " and ".join(
                    {"iss": "ISS stage", "response": "best response"}[p] for p in panels
                ),
                _marker_caption(panels),
                lambda m=assoc, p=panels, y=ylabel: figures.marker_figure(  # type: ignore[misc]
                    m, ylabel=y, panels=p
                ),
            )
        )
    return jobs


def _short_cut(a: Analysis) -> str:
    kind = a.cut.get("kind", "quartile")
    if kind == "quartile":
        return "Q1 vs Q2-4"
    return cut_name(a.cut)
