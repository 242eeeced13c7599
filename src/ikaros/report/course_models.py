"""Sections of the treatment-course report on models: time-varying Cox, competing risks, mutations.

Split from :mod:`ikaros.report.course_report`; every number comes from the results dictionary,
these functions only format it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ikaros.report.course_format import (
    EVENT_LABELS,
    endpoint_label,
    fmt_hr_ci,
    fmt_num,
    fmt_pct,
    fmt_pct_ci,
    fmt_scalar,
    generic_table,
    origin_label,
)
from ikaros.report.document import Block, Section
from ikaros.report.tables import Table, fmt_p

__all__ = ["competing_section", "mutations_section", "time_varying_cox_section"]


def time_varying_cox_section(results: Mapping[str, Any]) -> Section:
    sec = Section("time-varying-cox", "Time-varying Cox")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for model in results.get("time_varying_cox") or []:
        name = f"{endpoint_label(model['endpoint'])} from {origin_label(model['origin'])}"
        if model.get("status") != "fitted":
            rows.append(
                (name, "", "", str(model.get("events", "")), model.get("status", ""), *[""] * 4)
            )
            continue
        for term, t in (model.get("terms") or {}).items():
            per_year = model.get(f"{term}_per_year")
            rows.append(
                (
                    f"{name}: {term}",
                    str(model["n_patients"]),
                    str(model["n_intervals"]),
                    str(model["events"]),
                    fmt_hr_ci(t, 3),
                    fmt_hr_ci(per_year) if per_year else "n/a",
                    fmt_p(t.get("p")),
                    fmt_p(model.get("lr_p")),
                )
            )
        if model.get("note"):
            notes.append(f"{name}: {model['note']}.")
    if not rows:
        sec.blocks.append(Block("text", "No time-varying Cox model in these results."))
        return sec
    models = results.get("time_varying_cox") or []
    ties = sorted({m.get("ties", "") for m in models} - {""})
    sec.blocks.append(
        Block(
            "table",
            table=Table(
                "course_time_varying_cox",
                "Cox models with cumulative lenalidomide exposure as a time-varying covariate",
                (
                    "Model: covariate",
                    "Patients",
                    "Intervals",
                    "Events",
                    "HR per month (95% CI)",
                    "HR per year (95% CI)",
                    "p (Wald)",
                    "p (LR)",
                ),
                tuple(rows),
                "Counting-process intervals split at every exposure change and event time"
                + (f"; {', '.join(ties)} ties" if ties else "")
                + ". HR per year of cumulative exposure = HR per month to the 12th power.",
            ),
        )
    )
    for note in notes:
        sec.blocks.append(Block("warning", note))
    return sec


def _regression_blocks(reg: Any) -> list[Block]:
    """Fine-Gray beside cause-specific Cox per covariate; unknown layouts as key/value rows."""
    if not (isinstance(reg, Mapping) and isinstance(reg.get("terms"), Mapping)):
        return [
            Block(
                "table",
                table=generic_table(
                    "course_cr_regression", "Competing-risks regression", reg, "As recorded."
                ),
            )
        ]
    coding = reg.get("coding") or {}
    rows = []
    for term, both in reg["terms"].items():
        f = (both or {}).get("fine_gray") or {}
        c = (both or {}).get("cause_specific") or {}
        label = f"{term} ({coding[term]})" if coding.get(term) else str(term)
        rows.append(
            (
                label,
                fmt_hr_ci(f) if f else "n/a",
                fmt_p(f.get("p")) if f else "n/a",
                fmt_hr_ci(c) if c else "n/a",
                fmt_p(c.get("p")) if c else "n/a",
            )
        )
    models = [
        (label, reg.get(key))
        for label, key in (("Fine-Gray", "fine_gray"), ("Cause-specific Cox", "cause_specific_cox"))
    ]
    methods = [
        f"{label}: {m['method']}"
        for label, m in models
        if isinstance(m, Mapping) and m.get("method")
    ]
    counts = ", ".join(
        f"{k.replace('_', ' ')} {reg[k]}" for k in ("n", "events", "competing") if k in reg
    )
    blocks = [
        Block(
            "table",
            table=Table(
                "course_cr_regression",
                f"Fine-Gray and cause-specific hazard ratios of {reg.get('cause', 'SPM')}",
                ("Covariate", "Fine-Gray SHR (95% CI)", "p", "Cause-specific HR (95% CI)", "p"),
                tuple(rows),
                "; ".join(([f"Patients: {counts}"] if counts else []) + methods)
                + ("." if counts or methods else ""),
            ),
        )
    ]
    for label, m in models:
        if isinstance(m, Mapping) and m.get("status") not in (None, "fitted"):
            reason = f": {m['reason']}" if m.get("reason") else ""
            blocks.append(Block("warning", f"{label} {m['status']}{reason}."))
    if reg.get("explanation"):
        blocks.append(Block("text", str(reg["explanation"])))
    return blocks


def _gray_blocks(gray: Any) -> list[Block]:
    if not isinstance(gray, Mapping):
        return [Block("table", table=generic_table("course_cr_gray", "Gray's test", gray))]
    by = f" by {gray['column']}" if gray.get("column") else ""
    if "p" not in gray:
        if gray.get("status"):
            reason = f": {gray['reason']}" if gray.get("reason") else ""
            return [Block("warning", f"Gray's test{by} {gray['status']}{reason}.")]
        return [Block("table", table=generic_table("course_cr_gray", "Gray's test", gray))]
    row = (
        str(gray.get("cause", "SPM")),
        fmt_scalar(gray.get("groups")) if gray.get("groups") is not None else "",
        fmt_num(gray.get("statistic"), 2),
        str(gray.get("df", "")),
        fmt_p(gray.get("p")),
    )
    return [
        Block(
            "table",
            table=Table(
                "course_cr_gray",
                f"Gray's test of equal cumulative incidence{by}",
                ("Cause", "Groups", "Statistic", "df", "p"),
                (row,),
            ),
        )
    ]


def _by_group_blocks(by_group: Any) -> list[Block]:
    groups = by_group.get("groups") if isinstance(by_group, Mapping) else None
    if not (
        isinstance(groups, Mapping)
        and all(isinstance(g, Mapping) and isinstance(g.get("at"), list) for g in groups.values())
    ):
        table = generic_table("course_cr_by_group", "Cumulative incidence by group", by_group)
        return [Block("table", table=table)]
    times: list[float] = []
    for g in groups.values():
        for p in g["at"]:
            if p["time"] not in times:
                times.append(p["time"])
    rows = []
    for name, g in groups.items():
        at = {p["time"]: p for p in g["at"]}
        rows.append(
            (
                str(name),
                str(g.get("n", "")),
                str(g.get("spm", "")),
                str(g.get("death_without_spm", "")),
                *(
                    fmt_pct_ci(at[t].get("cif_spm"), at[t].get("lower"), at[t].get("upper"), 1)
                    if t in at
                    else "n/a"
                    for t in times
                ),
            )
        )
    column = by_group.get("column")
    return [
        Block(
            "table",
            table=Table(
                "course_cr_by_group",
                "Cumulative incidence of SPM" + (f" by {column}" if column else " by group"),
                (
                    "Group",
                    "Patients",
                    "SPM",
                    "Death without SPM",
                    *(f"{t:g} months" for t in times),
                ),
                tuple(rows),
                "Aalen-Johansen estimates with 95% CI; n/a beyond the follow-up of a group.",
            ),
        )
    ]


def _incidence_rows(
    at: Iterable[Mapping[str, Any]], group: str | None = None
) -> list[tuple[str, ...]]:
    rows = []
    for p in at:
        over = p.get("overstatement")
        rows.append(
            (
                *((group,) if group is not None else ()),
                f"{p['time']:g}",
                fmt_pct_ci(p.get("cif_spm"), p.get("cif_spm_lower"), p.get("cif_spm_upper"), 1),
                fmt_pct_ci(
                    p.get("one_minus_km_spm"),
                    p.get("one_minus_km_lower"),
                    p.get("one_minus_km_upper"),
                    1,
                ),
                "n/a" if over is None else f"{100 * over:+.1f}",
                fmt_pct(p.get("cif_death"), 1),
            )
        )
    return rows


_INCIDENCE_HEADER = (
    "Months",
    "SPM, Aalen-Johansen (95% CI)",
    "SPM, naive 1 - KM (95% CI)",
    "Overstatement, percentage points",
    "Death without SPM",
)


def competing_section(results: Mapping[str, Any]) -> Section:
    sec = Section("competing-risks", "Competing risks")
    cr = results.get("competing_risks")
    if not cr:
        sec.blocks.append(
            Block(
                "text",
                "No competing-risks analysis in these results (no SPM, or no death without SPM).",
            )
        )
        return sec
    ev = cr.get("events") or {}
    if ev:
        sec.blocks.append(
            Block(
                "text",
                f"From {origin_label(cr['origin'])}: "
                + ", ".join(
                    f"{EVENT_LABELS.get(k, k.replace('_', ' '))} {v}" for k, v in ev.items()
                )
                + ".",
            )
        )
    sec.blocks.append(
        Block(
            "table",
            table=Table(
                "course_competing_risks",
                "Cumulative incidence of SPM and of death without SPM",
                _INCIDENCE_HEADER,
                tuple(_incidence_rows(cr.get("at") or [])),
                str(cr.get("method", "")),
            ),
        )
    )
    if cr.get("explanation"):
        sec.blocks.append(Block("text", str(cr["explanation"])))
    if cr.get("by_group") is not None:
        sec.blocks += _by_group_blocks(cr["by_group"])
    if cr.get("gray_test") is not None:
        sec.blocks += _gray_blocks(cr["gray_test"])
    if cr.get("regression") is not None:
        sec.blocks += _regression_blocks(cr["regression"])
    return sec


def _mutation_cells(block: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """n/N among the evaluated, the patients not evaluated, the frequency and its CI."""
    count, n = block.get("count"), block.get("n")
    lo, hi = block.get("lower"), block.get("upper")
    ci = "n/a" if lo is None or hi is None else f"{100 * lo:.1f}-{100 * hi:.1f}%"
    not_evaluated = block.get("not_evaluated")
    return (
        f"{count}/{n}",
        "n/a" if not_evaluated is None else str(not_evaluated),  # schema 1.0 has no count
        fmt_pct(block.get("estimate"), 1),
        ci,
    )


def _evaluable_sentence(label: str, block: Mapping[str, Any]) -> str:
    text = f"{label} in {block['count']} of {block['n']} evaluable patients"
    if block.get("estimate") is not None:
        text += f" ({fmt_pct(block['estimate'])})"
    if block.get("not_evaluated"):
        text += f"; {block['not_evaluated']} not evaluated"
    return text


def mutations_section(results: Mapping[str, Any]) -> Section:
    sec = Section("mutations", "Mutations")
    m = results.get("mutations")
    if not m:
        sec.blocks.append(Block("text", "No mutations table was analysed."))
        return sec
    rows = [(gene, *_mutation_cells(b)) for gene, b in (m.get("genes") or {}).items()]
    said = []
    for key, label, words in (
        ("TP53", "TP53 altered (any)", "TP53 altered"),
        ("hypodiploidy", "Low hypodiploidy", "low hypodiploidy"),
    ):
        if m.get(key):
            rows.append((label, *_mutation_cells(m[key])))
            said.append(_evaluable_sentence(words, m[key]))
    if said:
        patients = m.get("patients")
        head = f"Of the {patients} patients in the mutations table: " if patients else ""
        sec.blocks.append(Block("text", head + "; ".join(said) + "."))
    sec.blocks.append(
        Block(
            "table",
            table=Table(
                "course_mutations",
                "Alteration frequencies among evaluable patients",
                (
                    "Gene / alteration",
                    "Altered / evaluable",
                    "Not evaluated",
                    "Frequency",
                    "95% CI",
                ),
                tuple(rows),
                "Clopper-Pearson exact confidence intervals. The denominator is the patients "
                "evaluated for each gene; patients of the mutations table not evaluated for it "
                "(a not_evaluated row, or no row for the gene) are counted apart and left out, "
                "as Geyer et al. (2023) report them.",
            ),
        )
    )
    return sec
