"""REMARK profile: patient flow, endpoints, marker measurement and cut, statistical methods.

Every sentence is generated from the results file, i.e. from what was actually run; nothing is
boilerplate that could disagree with the analysis.

References
----------
McShane LM, Altman DG, Sauerbrei W, et al. REporting recommendations for tumour MARKer
prognostic studies (REMARK). J Natl Cancer Inst 2005;97:1180-1184.
Altman DG, McShane LM, Sauerbrei W, Taube SE. Reporting recommendations for tumor marker
prognostic studies (REMARK): explanation and elaboration. PLoS Med 2012;9:e1001216.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikaros.report.tables import Table
from ikaros.results import Results

__all__ = ["ENDPOINT_DEFINITIONS", "RemarkProfile", "remark_profile"]

ENDPOINT_DEFINITIONS: dict[str, str] = {
    "pfs": "progression-free survival: time from the time origin to progression or death from "
    "any cause, censored at last follow-up",
    "os": "overall survival: time from the time origin to death from any cause, censored at "
    "last follow-up",
    "efs": "event-free survival: time from the time origin to the first event as defined by "
    "the study (progression, relapse or death), censored at last follow-up",
    "ttp": "time to progression: time to progression, deaths without progression censored",
}


@dataclass(frozen=True)
class RemarkProfile:
    flow: Table
    items: tuple[tuple[str, str], ...]


def _flow(results: Results) -> Table:
    c = results.cohort
    rows: list[tuple[str, ...]] = [
        ("Patients in the input", "", str(results.input.rows), ""),
    ]
    for name, ep in c.endpoints.items():
        rows.append(
            (f"{name.upper()}: not evaluable (no time/event)", "", str(ep.not_evaluable), "")
        )
    for a in results.analyses:
        rows.append(
            (
                f"{a.marker} x {a.endpoint.upper()}",
                f"excluded: {a.excluded.missing_marker} missing marker, "
                f"{a.excluded.missing_endpoint} not evaluable",
                str(a.n),
                str(a.events),
            )
        )
        for label, g in a.groups.items():
            rows.append((f"  {label}", "", str(g.n), str(g.events)))
        for s in a.subgroups:
            rows.append((f"  {s.name}", "", str(s.n), str(s.events)))
    return Table(
        "patient_flow",
        "Patient flow (REMARK item 12)",
        ("Step", "Exclusions", "Patients", "Events"),
        tuple(rows),
        "Each analysis uses the patients with both the marker and the endpoint (complete case).",
    )


def _firth_models(results: Results) -> list[str]:
    used = []
    for a in results.analyses:
        for label, model in (
            ("Q2-4 vs Q1", a.cox_group),
            ("multivariable", a.cox_multivariable),
            ("Q2-4 vs Q1 multivariable", a.cox_group_multivariable),
            ("univariate", a.cox_univariate),
        ):
            if model is not None and model.method == "firth":
                used.append(f"{a.marker} x {a.endpoint.upper()} ({label}: {model.firth_reason})")
    return used


def _methods(results: Results) -> str:
    o = results.options
    sw = results.software
    level = f"{100 * o.conf_level:g}%"
    adjusters = ["cytogenetic risk"] if results.cohort.cytogenetics else []
    adjusters += list(o.covariates)
    text = [
        f"Survival was estimated by the Kaplan-Meier method with {level} pointwise confidence "
        f"intervals from Greenwood's variance on the {o.ci_method} scale; survival at "
        f"{o.landmark:g} months and median survival (with the interval of Brookmeyer and "
        "Crowley) are reported per group, and median follow-up by the reverse Kaplan-Meier "
        "method.",
        "Groups were compared by the log-rank test (lowest quartile vs the rest and across the "
        "four quartiles), by the log-rank test for trend across quartiles"
        + (", and by the log-rank test stratified by cytogenetic risk" if adjusters else "")
        + ".",
        f"Hazard ratios come from Cox proportional-hazards models with Efron's method for ties, "
        f"with Wald {level} confidence intervals and p-values and likelihood-ratio tests of each "
        "model; the continuous marker was entered "
        + ("on the log2 scale" if o.transform == "log2" else "on its original scale")
        + " and its hazard ratio is also given per standard deviation.",
    ]
    if adjusters:
        text.append(
            "Multivariable models adjusted for " + ", ".join(adjusters) + ". Subgroups by "
            "cytogenetic risk were analysed separately and the marker-by-risk interaction was "
            "tested (Wald and likelihood-ratio tests)."
        )
    text.append(
        "Proportional hazards were checked for every ordinary model by the score test on "
        "Schoenfeld residuals against the Kaplan-Meier time scale (as R cox.zph)."
    )
    firth = _firth_models(results)
    if firth:
        text.append(
            "Where the partial likelihood was monotone, Firth's penalised likelihood "
            "(Heinze and Schemper 2001; Breslow ties) was used, with profile penalised-likelihood "
            "confidence intervals and penalised likelihood-ratio p-values: "
            + "; ".join(firth)
            + "."
        )
    else:
        text.append("No model needed Firth's penalised likelihood.")
    if any(m.iss_kruskal or m.response_mann_whitney for m in results.marker_associations):
        text.append(
            "Marker levels were compared across ISS stages by the Kruskal-Wallis test and the "
            "Jonckheere-Terpstra trend test, and between best responses CR/VGPR (sCR, CR, VGPR) "
            "and PR/SD (PR, MR, SD) by the Mann-Whitney test (normal approximation with "
            "continuity correction)."
        )
    text.append(
        "Missing values were handled by complete-case analysis per model; the numbers excluded "
        "are given in the patient flow. P-values are two-sided and not adjusted for multiplicity."
    )
    versions = ", ".join(f"{k} {v}" for k, v in sw.items())
    text.append(f"Software: {versions}.")
    return " ".join(text)


def remark_profile(results: Results) -> RemarkProfile:
    """The REMARK items the results file can document."""
    o = results.options
    endpoints = "; ".join(
        f"{e.upper()}: {ENDPOINT_DEFINITIONS.get(e.lower(), f'as supplied in {e}_time/{e}_event')}"
        for e in o.endpoints
    )
    unit = results.input.time_unit
    cut = results.analyses[0].cut if results.analyses else {}
    origin = str(cut.get("origin", "prespecified"))
    cut_text = (
        "Patients were split at the 25th percentile of each marker (lowest quartile Q1, values "
        "<= the 25th percentile by linear interpolation, vs Q2-4), the grouping of Kronke et al. "
        f"(2017). The cut is {origin}"
        + (
            ": it was fixed before looking at outcomes, not chosen to minimise a p-value."
            if origin == "prespecified"
            else ": it was chosen from the data and its p-values must be corrected for the search."
        )
        + " The continuous marker was also analysed without any cut."
    )
    measurement = o.measurement or "not stated in the analysis (add it with --measurement)"
    items = (
        (
            "Endpoints (REMARK item 8)",
            f"{endpoints}. Times were supplied in {unit} and are reported in months.",
        ),
        (
            "Marker measurement (REMARK items 5-6)",
            f"Markers {', '.join(o.markers)}: {measurement}.",
        ),
        ("Cutpoint (REMARK item 10)", cut_text),
        ("Statistical methods (REMARK item 10)", _methods(results)),
    )
    return RemarkProfile(_flow(results), items)
