"""REMARK profile: patient flow, endpoints, marker measurement and cut, statistical methods.

With ``--treatment`` the treatments (REMARK item 3) and the exploratory treatment-by-marker
analysis are added; with ``--performance`` the TRIPOD items the performance results document
(10b model and internal validation, 10d performance measures, 14a patients and events, 15a
coefficients). Item numbers are those of the REMARK (2005) and TRIPOD (2015) checklists.

Every sentence is generated from the results file, i.e. from what was actually run; nothing is
boilerplate that could disagree with the analysis.

References
----------
McShane LM, Altman DG, Sauerbrei W, et al. REporting recommendations for tumour MARKer
prognostic studies (REMARK). J Natl Cancer Inst 2005;97:1180-1184.
Altman DG, McShane LM, Sauerbrei W, Taube SE. Reporting recommendations for tumor marker
prognostic studies (REMARK): explanation and elaboration. PLoS Med 2012;9:e1001216.
Collins GS, Reitsma JB, Altman DG, Moons KGM. Transparent reporting of a multivariable
prediction model for individual prognosis or diagnosis (TRIPOD): the TRIPOD statement. BMJ
2015;350:g7594.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ikaros.report.methods import methods_text
from ikaros.report.naming import (
    cut_display_labels,
    cut_values,
    display_label,
    level_display,
)
from ikaros.report.predictive import treatment_items
from ikaros.report.prognostic import tripod_items
from ikaros.report.tables import Cell, Table
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


#: at most this many rows excluded by --drop-invalid are listed one by one in the flow
MAX_LISTED_DROPS = 25


def _input_rows(results: Results) -> list[tuple[str, ...]]:
    dropped = results.input.dropped
    rows_in = results.input.rows
    if not dropped:
        return [("Patients in the input", "", str(rows_in), "")]
    out: list[tuple[str, ...]] = [
        ("Rows in the input", "", str(rows_in + len(dropped)), ""),
        ("Excluded as invalid (--drop-invalid)", "", str(len(dropped)), ""),
    ]
    for d in dropped[:MAX_LISTED_DROPS]:
        where = f"column {d.column!r}" if d.column else "row"
        value = f" = {d.value!r}" if d.value is not None else ""
        out.append((f"  row {d.row}", f"{where}{value}: {d.reason}", "", ""))
    if len(dropped) > MAX_LISTED_DROPS:
        out.append((f"  {len(dropped) - MAX_LISTED_DROPS} more rows", "see results.json", "", ""))
    out.append(("Patients included", "", str(rows_in), ""))
    return out


def _not_evaluable_reasons(results: Results, endpoint: str) -> str:
    notes = [
        w.removeprefix(f"{endpoint}: ")
        for w in results.warnings
        if w.startswith(f"{endpoint}:") and "not evaluable" in w
    ]
    return "; ".join(notes)


def _flow(results: Results) -> Table:
    c = results.cohort
    rows: list[tuple[str, ...]] = _input_rows(results)
    for name, ep in c.endpoints.items():
        rows.append(
            (
                f"{name.upper()}: not evaluable (no time/event)",
                _not_evaluable_reasons(results, name),
                str(ep.not_evaluable),
                "",
            )
        )
    for a in results.analyses:
        lab = display_label(results, a.marker)
        names = cut_display_labels(a.cut, lab)
        rows.append(
            (
                f"{lab.text} x {a.endpoint.upper()}",
                f"excluded: {a.excluded.missing_marker} missing marker, "
                f"{a.excluded.missing_endpoint} not evaluable",
                str(a.n),
                str(a.events),
            )
        )
        for label, g in a.groups.items():
            rows.append((f"  {names.get(label, label)}", "", str(g.n), str(g.events)))
        for s in a.subgroups:
            rows.append((f"  {s.name}", "", str(s.n), str(s.events)))
    for gr in results.groupings:
        label = display_label(results, gr.variable).text
        rows.append(
            (
                f"{label} x {gr.endpoint.upper()}",
                f"excluded: {gr.missing_variable} missing {label}, "
                f"{gr.missing_endpoint} not evaluable",
                str(gr.n),
                str(gr.events),
            )
        )
        for lv in gr.levels:
            rows.append(
                (
                    f"  {level_display(gr.variable, lv.label)}",
                    "no patients" if lv.n == 0 else "",
                    str(lv.n),
                    str(lv.events),
                )
            )
    competing_counts: dict[int, tuple[int, int]] = {}
    for cr in results.competing:
        label = display_label(results, cr.name).text
        causes = ", ".join(cr.competing_causes) or "none"
        competing_counts[len(rows)] = (cr.events, cr.competing)
        rows.append(
            (
                f"{label} x {cr.endpoint.upper()} ({cr.event}; {causes} competing)",
                f"excluded: {c.n - cr.n} missing {label} or not evaluable",
                str(cr.n),
                f"{cr.events} {cr.event}, {cr.competing} competing",
            )
        )
    foot = (
        "Each analysis uses the patients with both the marker (or grouping variable) and the "
        "endpoint (complete case)."
    )
    if results.input.dropped:
        foot += " Rows excluded by --drop-invalid are listed with the column, value and reason."
    data: list[tuple[Cell, ...]] = []
    for i, (step, detail, patients, events) in enumerate(rows):
        ev, comp = competing_counts.get(i, (_count(events), None))
        data.append(
            (
                step.strip(),
                (len(step) - len(step.lstrip())) // 2,
                detail or None,
                _count(patients),
                ev,
                comp,
            )
        )
    return Table(
        "patient_flow",
        "Patient flow (REMARK item 12)",
        ("Step", "Exclusions", "Patients", "Events"),
        tuple(rows),
        foot,
        ("step", "depth", "detail", "patients", "events", "competing"),
        tuple(data),
    )


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _endpoint_text(results: Results, e: str) -> str:
    o = results.options
    causes = o.competing.get(e)
    if causes:
        event = causes.get("1", "the event of interest")
        others = [f"{v} (code {k})" for k, v in sorted(causes.items()) if k != "1"]
        text = (
            f"{e.upper()}: competing-risk endpoint: time to {event} (code 1); "
            + (", ".join(others) or "no other cause")
            + (" ends" if len(others) == 1 else " end")
            + " follow-up for it as competing events, without being treated as censoring "
            "(code 0: censored at last follow-up)"
        )
    else:
        text = f"{e.upper()}: " + ENDPOINT_DEFINITIONS.get(
            e.lower(), f"as supplied in {e}_time/{e}_event"
        )
    source = results.input.endpoint_sources.get(e)
    if source:
        cmap = results.input.column_map
        if "first of" in source or " in '" in source:
            text += f"; derived from the input columns: {source}"
        else:
            cols = [cmap.get(f"{e}_time", f"{e}_time"), cmap.get(f"{e}_event", f"{e}_event")]
            text += f"; from the input columns {cols[0]} and {cols[1]}"
    return text


def _cut_text(results: Results) -> str | None:
    """The cut of the markers (REMARK item 10), with every value; None without markers."""
    records: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for a in results.analyses:
        if a.marker not in seen:
            seen.add(a.marker)
            records.append((a.marker, a.cut))
    for c in results.competing:
        if c.kind == "cut" and c.cut is not None and c.name not in seen:
            seen.add(c.name)
            records.append((c.name, c.cut))
    if not records:
        return None
    kind = str(records[0][1].get("kind", "quartile"))
    values = "; ".join(
        f"{lab.name} {cut_values(cut, lab)}"
        for lab, cut in ((display_label(results, m), cut) for m, cut in records)
    )
    if kind == "quartile":
        text = (
            "Patients were split at the 25th percentile of each marker (lowest quartile Q1, "
            "values <= the 25th percentile by linear interpolation, vs Q2-4), the grouping of "
            "Kronke et al. (2017). The cut is prespecified: it was fixed before looking at "
            "outcomes, not chosen to minimise a p-value; its value is the 25th percentile of "
            f"these data ({values})."
        )
    elif kind == "thresholds":
        text = (
            "Patients were grouped at pre-specified thresholds (k thresholds give k + 1 groups: "
            "low <= t1 < mid <= t2 < ... < high; a value equal to a threshold belongs to the "
            "lower group). The thresholds were fixed before the analysis, not derived from these "
            f"data ({values})."
        )
    else:
        rule = {
            "median": "the median (low <= median < high)",
            "tertile": "the 33.3rd and 66.7th percentiles (tertiles T1-T3)",
            "upper-quartile": "the 75th percentile (highest quartile Q4 vs Q1-3)",
        }.get(kind, kind)
        text = (
            f"Patients were split at {rule} of each marker. The rule was pre-specified; the "
            f"cut value is derived from these data ({values})."
        )
    optimal = [a for a in results.analyses if a.optimal_cut is not None]
    if optimal:
        text += (
            " In addition, an optimised cut (maximally selected log-rank statistic) was chosen "
            "on these data; it is labelled optimised and its p-values are corrected for the "
            "search."
        )
    text += (
        " The quartile groups Q1-Q4 are shown as a secondary description."
        if kind != "quartile"
        else ""
    )
    return text + " The continuous marker was also analysed without any cut."


def remark_profile(results: Results) -> RemarkProfile:
    """The REMARK items the results file can document."""
    o = results.options
    endpoints = "; ".join(_endpoint_text(results, e) for e in o.endpoints)
    unit = results.input.time_unit
    conversion = " (30.4375 days per month)" if unit == "days" else ""
    items: list[tuple[str, str]] = [
        (
            "Endpoints (REMARK item 7)",
            f"{endpoints}. Times were supplied in {unit} and are reported in months{conversion}.",
        )
    ]
    if o.markers:
        measurement = o.measurement or "not stated in the analysis (add it with --measurement)"
        names = ", ".join(display_label(results, m).text for m in o.markers)
        what = "Markers" if len(o.markers) > 1 else "Marker"
        items.append(("Marker measurement (REMARK item 5)", f"{what} {names}: {measurement}."))
    cut = _cut_text(results)
    if cut:
        items.append(("Cutpoint (REMARK item 11)", cut))
    items += treatment_items(results)
    items.append(("Statistical methods (REMARK item 10)", methods_text(results)))
    items += tripod_items(results)
    return RemarkProfile(_flow(results), tuple(items))
