"""The statistical-methods paragraph of the report (REMARK item 10), from what was run.

Each sentence is there because the results file holds the analysis it describes: the cut of the
markers, the adjusters of the multivariable models actually fitted, the grouping variables, the
competing-risk endpoints, Firth's likelihood where it was used, the rank tests that were
computed. Nothing is described that the data did not allow.
"""

from __future__ import annotations

from ikaros.report.naming import adjuster_names, display_label, level_display, term_display
from ikaros.results import CoxModel, Results

__all__ = ["firth_models", "methods_text"]


def _and(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _unique(items: list[str]) -> list[str]:
    out: list[str] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def firth_models(results: Results) -> list[str]:
    """Every model fitted by Firth's penalised likelihood, with the reason."""
    used = []
    for a in results.analyses:
        for label, model in (
            ("groups", a.cox_group),
            ("multivariable", a.cox_multivariable),
            ("groups multivariable", a.cox_group_multivariable),
            ("univariate", a.cox_univariate),
        ):
            if model is not None and model.method == "firth":
                if label.startswith("groups") and a.cut.get("kind", "quartile") == "quartile":
                    label = label.replace("groups", "Q2-4 vs Q1")
                used.append(f"{a.marker} x {a.endpoint.upper()} ({label}: {model.firth_reason})")
    for g in results.groupings:
        for label, model in (("levels", g.cox), ("levels adjusted", g.cox_adjusted)):
            if model is not None and model.method == "firth":
                used.append(f"{g.variable} x {g.endpoint.upper()} ({label}: {model.firth_reason})")
    return used


def _cox_models(results: Results) -> list[CoxModel]:
    out: list[CoxModel | None] = []
    for a in results.analyses:
        out += [a.cox_univariate, a.cox_group, a.cox_multivariable, a.cox_group_multivariable]
    for g in results.groupings:
        out += [g.cox, g.cox_adjusted]
    return [m for m in out if m is not None]


def _marker_methods(results: Results, level: str) -> list[str]:
    o = results.options
    kinds = {str(a.cut.get("kind", "quartile")) for a in results.analyses}
    k = max(len(a.groups) for a in results.analyses)
    if kinds == {"quartile"}:
        primary = "lowest quartile vs the rest"
    elif kinds == {"thresholds"}:
        primary = "the groups at the pre-specified thresholds"
    else:
        primary = "the groups of the pre-specified cut"
    strat = any(a.logrank_stratified is not None for a in results.analyses)
    text = [
        f"Groups were compared by the log-rank test ({primary} and across the four quartiles), "
        "by the log-rank test for trend across quartiles"
        + (f" and across the {k} ordered groups" if k > 2 else "")
        + (", and by the log-rank test stratified by cytogenetic risk" if strat else "")
        + ".",
        f"Hazard ratios come from Cox proportional-hazards models with Efron's method for ties, "
        f"with Wald {level} confidence intervals and p-values and likelihood-ratio tests of each "
        "model; the continuous marker was entered "
        + ("on the log2 scale" if o.transform == "log2" else "on its original scale")
        + " and its hazard ratio is also given per standard deviation.",
    ]
    adjusters = _unique(
        [
            name
            for a in results.analyses
            for model in (a.cox_multivariable, a.cox_group_multivariable)
            for name in adjuster_names(results, model, a.marker)
        ]
    )
    if adjusters:
        text.append("Multivariable models adjusted for " + _and(adjusters) + ".")
    if any(a.subgroups for a in results.analyses):
        text.append(
            "Subgroups by cytogenetic risk were analysed separately and the marker-by-risk "
            "interaction was tested (Wald and likelihood-ratio tests)."
        )
    return text


def _grouping_methods(results: Results, level: str) -> list[str]:
    gs = results.groupings
    labels = _unique([display_label(results, g.variable).text for g in gs])
    ordered = _unique([display_label(results, g.variable).text for g in gs if g.trend])
    refs = _unique(
        [
            f"{display_label(results, g.variable).text}: {level_display(g.variable, g.reference)}"
            for g in gs
            if g.cox
        ]
    )
    text = (
        f"Survival by {_and(labels)} was compared across the levels by the k-group log-rank "
        "test"
        + (
            f", with the log-rank test for trend over the ordered levels of {_and(ordered)}"
            if ordered
            else ""
        )
        + "."
    )
    if refs:
        text += (
            " Hazard ratios come from Cox models (Efron ties, Wald "
            f"{level} intervals) with one indicator per level against the reference level ("
            + "; ".join(refs)
            + ")"
        )
        adj = _unique(
            [
                term_display(results, t)
                for g in gs
                if g.cox_adjusted is not None
                for t in g.cox_adjusted.terms
                if not t.startswith(g.variable + " ")
            ]
        )
        text += (", and adjusted for " + _and(adj) if adj else "") + "."
    return [text]


def _competing_methods(results: Results) -> list[str]:
    eps = []
    for endpoint, causes in results.options.competing.items():
        event = causes.get("1", "the event of interest")
        others = [v for k, v in sorted(causes.items()) if k != "1"]
        eps.append(
            f"{endpoint.upper()} ({event} as the event of interest; "
            f"{_and(others) or 'no other cause'} competing)"
        )
    fg = any(m.terms for c in results.competing for m in c.models)
    return [
        "For the competing-risk endpoint"
        + ("s " if len(eps) > 1 else " ")
        + _and(eps)
        + ", the cumulative incidence of the event of interest was estimated per group by the "
        "Aalen-Johansen method (variance and log(-log) interval as cmprsk::cuminc) and "
        "compared between groups by Gray's test; 1 − Kaplan-Meier, which treats competing "
        "events as censoring and overstates the incidence, is shown only as the naive contrast."
        + (
            " Effects are given as Fine-Gray subdistribution hazard ratios beside cause-specific "
            "hazard ratios (Cox models with competing events censored)."
            if fg
            else ""
        )
    ]


def methods_text(results: Results) -> str:
    """The statistical-methods paragraph."""
    o = results.options
    level = f"{100 * o.conf_level:g}%"
    text: list[str] = []
    if results.analyses or results.groupings:
        text.append(
            f"Survival was estimated by the Kaplan-Meier method with {level} pointwise "
            f"confidence intervals from Greenwood's variance on the {o.ci_method} scale; "
            f"survival at {o.landmark:g} months and median survival (with the interval of "
            "Brookmeyer and Crowley) are reported per group, and median follow-up by the reverse "
            "Kaplan-Meier method."
        )
    if results.analyses:
        text += _marker_methods(results, level)
    if results.groupings:
        text += _grouping_methods(results, level)
    if results.competing:
        text += _competing_methods(results)
    if any(a.performance for a in results.analyses):
        text.append(
            "Prognostic performance (discrimination, calibration, added value over the base "
            "model, decision curves and bootstrap internal validation) is described in the "
            "section Prognostic performance."
        )
    if any(a.treatment for a in results.analyses):
        text.append(
            "Whether a marker is predictive of the effect of "
            + display_label(results, str(o.treatment)).text
            + " was explored by treatment-by-marker interaction models, subgroup hazard ratios, "
            "the Gail-Simon test and STEPP (section Predictive or prognostic?)."
        )
    if any(m.ph is not None for m in _cox_models(results)):
        text.append(
            "Proportional hazards were checked for every ordinary model by the score test on "
            "Schoenfeld residuals against the Kaplan-Meier time scale (as R cox.zph)."
        )
    firth = firth_models(results)
    if firth:
        text.append(
            "Where the partial likelihood was monotone, Firth's penalised likelihood "
            "(Heinze and Schemper 2001; Breslow ties) was used, with profile penalised-likelihood "
            "confidence intervals and penalised likelihood-ratio p-values: "
            + "; ".join(firth)
            + "."
        )
    elif _cox_models(results):
        text.append("No model needed Firth's penalised likelihood.")
    iss = any(m.iss_kruskal for m in results.marker_associations)
    resp = any(m.response_mann_whitney for m in results.marker_associations)
    if iss:
        text.append(
            "Marker levels were compared across ISS stages by the Kruskal-Wallis test and the "
            "Jonckheere-Terpstra trend test"
            + (
                ", and between best responses CR/VGPR (sCR, CR, VGPR) and PR/SD (PR, MR, SD) by "
                "the Mann-Whitney test (normal approximation with continuity correction)."
                if resp
                else "."
            )
        )
    elif resp:
        text.append(
            "Marker levels were compared between best responses CR/VGPR (sCR, CR, VGPR) and "
            "PR/SD (PR, MR, SD) by the Mann-Whitney test (normal approximation with continuity "
            "correction)."
        )
    if o.xlim is not None:
        text.append(
            f"Time axes of the figures end at {o.xlim:g} months (--xlim); the estimates use all "
            "follow-up."
        )
    text.append(
        "Missing values were handled by complete-case analysis per model; the numbers excluded "
        "are given in the patient flow. P-values are two-sided and not adjusted for multiplicity."
    )
    versions = ", ".join(f"{k} {v}" for k, v in results.software.items())
    text.append(f"Software: {versions}.")
    return " ".join(text)
