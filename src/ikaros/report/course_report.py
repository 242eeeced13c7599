"""The treatment-course report: course_report.html and course_report.pdf from course_results.json.

Same machinery and style as the study report (:mod:`ikaros.report.build`): a list of
:class:`~ikaros.report.build.Section` of :class:`~ikaros.report.build.Block`, tables as
:class:`~ikaros.report.tables.Table`, figures read from the PNGs that
:func:`ikaros.course.figures.course_figures` already wrote into ``directory/figures``. Every number
comes from the results dictionary; this module only formats.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ikaros.course.analysis import COURSE_SCHEMA_VERSION
from ikaros.errors import SchemaVersionError
from ikaros.report.document import Block, FigureRef, Section, render_page
from ikaros.report.tables import Table, fmt_p

__all__ = ["HTML_NAME", "PDF_NAME", "build_course_report", "course_sections"]

HTML_NAME = "course_report.html"
PDF_NAME = "course_report.pdf"
HEADING = "Treatment-course report"
#: Sections of the course report that start on a new PDF page.
PAGE_BREAKS: tuple[str, ...] = ("survival", "figures")

_ORIGINS = {
    "diagnosis": "diagnosis",
    "len_start": "first lenalidomide",
    "spm": "SPM",
    "hct_allo": "allogeneic HCT",
}
_ENDPOINTS = {"efs": "EFS", "os": "OS", "spm": "SPM"}
_EVENT_LABELS = {"spm": "SPM", "death_without_spm": "death without SPM", "censored": "censored"}


# --- formatting (no computation beyond it) -------------------------------------------------------


def _num(x: Any, digits: int = 1) -> str:
    if x is None or not isinstance(x, int | float) or x != x:
        return "n/a"
    if x == float("inf"):
        return "inf"
    return f"{x:.{digits}f}"


def _hr(x: Any, digits: int = 2) -> str:
    if x is None or not isinstance(x, int | float) or x != x:
        return "n/a"
    if x == float("inf"):
        return "inf"
    if abs(x) >= 1000 or 0 < abs(x) < 0.01:
        return f"{x:.2e}"
    return f"{x:.{digits}f}"


def _pct(x: Any, digits: int = 0) -> str:
    if x is None or not isinstance(x, int | float) or x != x:
        return "n/a"
    return f"{100 * x:.{digits}f}%"


def _pct_ci(est: Any, lo: Any, hi: Any, digits: int = 0) -> str:
    if est is None:
        return "n/a"
    if lo is None or hi is None:
        return _pct(est, digits)
    return f"{_pct(est, digits)} ({100 * lo:.{digits}f}-{100 * hi:.{digits}f}%)"


def _hr_ci(block: Mapping[str, Any] | None, digits: int = 2) -> str:
    if not block or block.get("hr") is None:
        return "n/a"
    lo, hi = _hr(block.get("lower"), digits), _hr(block.get("upper"), digits)
    return f"{_hr(block['hr'], digits)} ({lo}-{hi})"


def _origin(name: str) -> str:
    return _ORIGINS.get(name, name)


def _endpoint(name: str) -> str:
    return _ENDPOINTS.get(name, name)


def _median(km: Mapping[str, Any]) -> str:
    m = km.get("median") or {}
    est = m.get("estimate")
    low = "NR" if m.get("lower") is None else _num(m["lower"])
    high = "NR" if m.get("upper") is None else _num(m["upper"])
    return f"{'not reached' if est is None else _num(est)} ({low}-{high})"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _hr(value)
    if value is None:
        return "n/a"
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_scalar(v) for v in value)
    return str(value)


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Scalar leaves of a nested block as (path, value): a fallback for unknown layouts."""
    if isinstance(obj, Mapping):
        out: list[tuple[str, str]] = []
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, list) and any(isinstance(v, dict | list) for v in obj):
        out = []
        for i, v in enumerate(obj):
            out += _flatten(v, f"{prefix}[{i}]")
        return out
    return [(prefix, _scalar(obj))]


def _generic_table(name: str, title: str, obj: Any, footnote: str = "") -> Table:
    return Table(name, title, ("Quantity", "Value"), tuple(_flatten(obj)), footnote)


# --- schema ---------------------------------------------------------------------------------------


def _check_schema(results: Mapping[str, Any]) -> None:
    version = str(results.get("course_schema_version", "")) if isinstance(results, dict) else ""
    supported = COURSE_SCHEMA_VERSION.split(".")[0]
    if version.split(".")[0] != supported:
        raise SchemaVersionError(
            f"course results schema version {version or '(none)'!r} is not supported by this "
            f"ikaros (reads {supported}.x). Remedy: re-run `ikaros course` with this version of "
            "ikaros to write a fresh course_results.json, or use the ikaros version that wrote it"
        )


# --- sections ------------------------------------------------------------------------------------


def _is_geyer_cohort(results: Mapping[str, Any]) -> bool:
    """B-ALL after lenalidomide timed from the SPM: the series of Geyer et al. 2023."""
    types = results["cohort"].get("spm_types") or {}
    return bool(types) and set(types) == {"B-ALL"} and results["options"].get("origin") == "spm"


def _summary(results: Mapping[str, Any]) -> Section:
    c = results["cohort"]
    opts = results["options"]
    rows: list[tuple[str, str]] = [
        ("Patients", str(c["patients"])),
        ("With an SPM", str(c["with_spm"])),
    ]
    for name, count in (c.get("spm_types") or {}).items():
        rows.append((f"SPM type: {name}", str(count)))
    rows += [
        ("Treated for the SPM", str(c["treated_for_spm"])),
        ("Allogeneic HCT", str(c["with_hct_allo"])),
        ("Deaths", str(c["deaths"])),
    ]
    cohort = Table(
        "course_cohort",
        "Cohort",
        ("Quantity", "Patients"),
        tuple(rows),
        f"Time origin of EFS/OS: {_origin(opts['origin'])}; allogeneic HCT landmark: "
        f"{'yes' if opts.get('landmark_hct') else 'no'}"
        + (f"; SPMs counted: {opts['spm_type']} only" if opts.get("spm_type") else "")
        + f"; confidence level {100 * opts.get('conf_level', 0.95):.0f}%.",
    )
    d = results["derived"]["summary"]
    drows: list[tuple[str, ...]] = []
    for key, label in (
        ("months_len_to_spm", "Months from first lenalidomide to SPM"),
        ("exposure_at_spm", "Cumulative lenalidomide exposure at SPM, months"),
    ):
        b = d.get(key) or {}
        if not b.get("n"):
            drows.append((label, "0", "n/a", "n/a", "n/a"))
            continue
        drows.append(
            (
                label,
                str(b["n"]),
                _num(b["median"]),
                f"{_num(b.get('q1'))}-{_num(b.get('q3'))}",
                f"{_num(b['min'])}-{_num(b['max'])}",
            )
        )
    ongoing = d.get("exposure_ongoing_at_spm")
    if ongoing:
        drows.append(
            ("Lenalidomide ongoing at SPM", f"{ongoing['count']}/{ongoing['n']}", "", "", "")
        )
    regression = d.get("regression_after_withdrawal")
    if regression:
        drows.append(
            ("Regression after lenalidomide withdrawal", str(regression["patients"]), "", "", "")
        )
    derived = Table(
        "course_derived",
        "Derived quantities",
        ("Quantity", "n", "Median", "IQR", "Range"),
        tuple(drows),
        "From the patient courses; months.",
    )
    sec = Section(
        "summary", "Summary", [Block("table", table=cohort), Block("table", table=derived)]
    )
    if _is_geyer_cohort(results):
        from ikaros.course.published import GEYER_2023, compare_with_published

        rows3 = tuple(
            (r.quantity, r.published, r.this_cohort) for r in compare_with_published(dict(results))
        )
        sec.blocks.append(
            Block(
                "table",
                table=Table(
                    "course_published",
                    f"Published ({GEYER_2023['reference']}) vs this cohort",
                    ("Quantity", "Published", "This cohort"),
                    rows3,
                    "Medians with ranges in months; proportions with Clopper-Pearson CIs.",
                ),
            )
        )
    notes = results.get("notes") or []
    if notes:
        sec.blocks.append(Block("text", "Notes: " + "; ".join(notes) + "."))
    return sec


def _best_table(name: str, title: str, best: Mapping[str, int], n: int, footnote: str) -> Table:
    rows = tuple(
        (resp, str(count), _pct(count / n) if n else "n/a") for resp, count in best.items()
    )
    return Table(name, title, ("Best response", "Patients", "%"), rows, footnote)


def _responses(results: Mapping[str, Any]) -> Section:
    r = results["responses"]
    sec = Section("responses", "Responses")
    after = r.get("after_spm") or {}
    before = r.get("before_spm") or {}
    aggregates: list[tuple[str, ...]] = []
    if after.get("treated"):
        sec.blocks.append(
            Block(
                "table",
                table=_best_table(
                    "course_response_after_spm",
                    "Best response after the SPM",
                    after.get("best") or {},
                    after["treated"],
                    f"{after.get('definition', '')}; {after['treated']} treated patients.",
                ),
            )
        )
        cr = after.get("cr_cri")
        if cr:
            aggregates.append(("CR/CRi after the SPM", *_prop_cells(cr)))
    else:
        sec.blocks.append(Block("text", "No patient was treated for the SPM."))
    if before.get("n"):
        sec.blocks.append(
            Block(
                "table",
                table=_best_table(
                    "course_response_before_spm",
                    "Best response before the SPM",
                    before.get("best") or {},
                    before["n"],
                    f"{before.get('definition', '')}; {before['n']} patients.",
                ),
            )
        )
        vg = before.get("vgpr_or_better")
        if vg:
            aggregates.append(("VGPR or better before the SPM", *_prop_cells(vg)))
    if aggregates:
        blocks = [b for b in (after.get("cr_cri"), before.get("vgpr_or_better")) if b]
        level = blocks[0].get("conf_level", 0.95)
        sec.blocks.append(
            Block(
                "table",
                table=Table(
                    "course_response_rates",
                    "Response rates",
                    ("Response", "Patients", "Estimate", f"{100 * level:.0f}% CI"),
                    tuple(aggregates),
                    "Clopper-Pearson exact confidence intervals.",
                ),
            )
        )
    return sec


def _prop_cells(block: Mapping[str, Any]) -> tuple[str, str, str]:
    lo, hi = block.get("lower"), block.get("upper")
    ci = "n/a" if lo is None or hi is None else f"{100 * lo:.1f}-{100 * hi:.1f}%"
    return f"{block['count']}/{block['n']}", _pct(block.get("estimate"), 1), ci


def _survival(results: Mapping[str, Any]) -> Section:
    s = results["survival"]
    origin = _origin(s["origin"])
    curves: list[tuple[str, str, Mapping[str, Any]]] = []
    for endpoint in ("efs", "os"):
        block = s.get(endpoint) or {}
        if block.get("all"):
            curves.append((_endpoint(endpoint), f"all patients, from {origin}", block["all"]))
        if block.get("treated"):
            curves.append((_endpoint(endpoint), f"treated, from {origin}", block["treated"]))
    hct = s.get("from_hct_allo") or {}
    for endpoint in ("efs", "os"):
        if hct.get(endpoint):
            curves.append(
                (
                    _endpoint(endpoint),
                    "from allogeneic HCT" + (" (landmark)" if hct.get("landmark") else ""),
                    hct[endpoint],
                )
            )
    times: list[float] = []
    for _, _, km in curves:
        for point in km.get("at") or []:
            if point["time"] not in times:
                times.append(point["time"])
    medians: list[tuple[str, ...]] = []
    fixed: list[tuple[str, ...]] = []
    for endpoint, population, km in curves:
        label = f"{endpoint}, {population}"
        medians.append((label, str(km["n"]), str(km["events"]), _median(km)))
        at = {p["time"]: p for p in km.get("at") or []}
        fixed.append(
            (
                label,
                *(
                    _pct_ci(at[t].get("survival"), at[t].get("lower"), at[t].get("upper"))
                    if t in at
                    else "n/a"
                    for t in times
                ),
            )
        )
    ci_methods = sorted({km.get("ci_method", "") for _, _, km in curves} - {""})
    definitions = "; ".join(
        f"{_endpoint(k)}: {v['definition']}"
        for k, v in s.items()
        if isinstance(v, dict) and v.get("definition")
    )
    median_table = Table(
        "course_survival",
        "Event-free and overall survival",
        ("Endpoint", "Patients", "Events", "Median, months (95% CI)"),
        tuple(medians),
        "Kaplan-Meier estimates. NR: not reached." + (f" {definitions}." if definitions else ""),
    )
    fixed_table = Table(
        "course_survival_at",
        "Survival at fixed times",
        ("Endpoint", *(f"{t:g} months" for t in times)),
        tuple(fixed),
        "Kaplan-Meier survival with 95% CI"
        + (f" ({', '.join(ci_methods)} transform)" if ci_methods else "")
        + ".",
    )
    sec = Section("survival", "Survival", [Block("table", table=median_table)])
    if times:
        sec.blocks.append(Block("table", table=fixed_table))
    lm = results.get("landmark")
    if lm and not lm.get("applied"):
        sec.blocks.append(
            Block("text", "No landmark analysis from allogeneic HCT (not requested).")
        )
    elif lm:
        lrows = tuple(
            (
                _endpoint(e),
                str(lm[e]["with_origin"]),
                str(lm[e]["no_hct_allo_after_origin"]),
                str(lm[e]["excluded_event_before_hct"]),
                str(lm[e]["included"]),
            )
            for e in ("efs", "os")
            if isinstance(lm.get(e), dict)
        )
        sec.blocks.append(
            Block(
                "table",
                table=Table(
                    "course_landmark",
                    "Landmark at allogeneic HCT",
                    (
                        "Endpoint",
                        f"With {_origin(lm['from_origin'])}",
                        "No allogeneic HCT after it",
                        "Excluded: event before HCT",
                        "Included",
                    ),
                    lrows,
                    "Survival from allogeneic HCT counts only patients event-free at "
                    "transplantation; patients with an event before it are excluded.",
                ),
            )
        )
    return sec


def _time_varying_cox(results: Mapping[str, Any]) -> Section:
    sec = Section("time-varying-cox", "Time-varying Cox")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for model in results.get("time_varying_cox") or []:
        name = f"{_endpoint(model['endpoint'])} from {_origin(model['origin'])}"
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
                    _hr_ci(t, 3),
                    _hr_ci(per_year) if per_year else "n/a",
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
                table=_generic_table(
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
                _hr_ci(f) if f else "n/a",
                fmt_p(f.get("p")) if f else "n/a",
                _hr_ci(c) if c else "n/a",
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
        return [Block("table", table=_generic_table("course_cr_gray", "Gray's test", gray))]
    by = f" by {gray['column']}" if gray.get("column") else ""
    if "p" not in gray:
        if gray.get("status"):
            reason = f": {gray['reason']}" if gray.get("reason") else ""
            return [Block("warning", f"Gray's test{by} {gray['status']}{reason}.")]
        return [Block("table", table=_generic_table("course_cr_gray", "Gray's test", gray))]
    row = (
        str(gray.get("cause", "SPM")),
        _scalar(gray.get("groups")) if gray.get("groups") is not None else "",
        _num(gray.get("statistic"), 2),
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
        table = _generic_table("course_cr_by_group", "Cumulative incidence by group", by_group)
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
                    _pct_ci(at[t].get("cif_spm"), at[t].get("lower"), at[t].get("upper"), 1)
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
                _pct_ci(p.get("cif_spm"), p.get("cif_spm_lower"), p.get("cif_spm_upper"), 1),
                _pct_ci(
                    p.get("one_minus_km_spm"),
                    p.get("one_minus_km_lower"),
                    p.get("one_minus_km_upper"),
                    1,
                ),
                "n/a" if over is None else f"{100 * over:+.1f}",
                _pct(p.get("cif_death"), 1),
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


def _competing(results: Mapping[str, Any]) -> Section:
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
                f"From {_origin(cr['origin'])}: "
                + ", ".join(
                    f"{_EVENT_LABELS.get(k, k.replace('_', ' '))} {v}" for k, v in ev.items()
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
        _pct(block.get("estimate"), 1),
        ci,
    )


def _evaluable_sentence(label: str, block: Mapping[str, Any]) -> str:
    text = f"{label} in {block['count']} of {block['n']} evaluable patients"
    if block.get("estimate") is not None:
        text += f" ({_pct(block['estimate'])})"
    if block.get("not_evaluated"):
        text += f"; {block['not_evaluated']} not evaluated"
    return text


def _mutations(results: Mapping[str, Any]) -> Section:
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


def _figure_ref(figdir: Path, stem: str, title: str, caption: str) -> FigureRef | None:
    png = figdir / f"{stem}.png"
    if not png.is_file():
        return None
    return FigureRef(
        stem,
        title,
        caption,
        png,
        figdir / f"{stem}.svg",
        base64.b64encode(png.read_bytes()).decode("ascii"),
    )


def _figures(results: Mapping[str, Any], figdir: Path) -> Section | None:
    cr = results.get("competing_risks")
    cif_caption = (
        "Aalen-Johansen cumulative incidence of SPM and of death without SPM (death competing), "
        "with the naive 1 - Kaplan-Meier for SPM dashed; numbers at risk below the axis."
    )
    if cr and cr.get("at"):
        cif_caption += (
            " SPM incidence "
            + "; ".join(
                f"at {p['time']:g} months {_pct(p.get('cif_spm'), 1)} (1 - KM "
                f"{_pct(p.get('one_minus_km_spm'), 1)})"
                for p in cr["at"]
            )
            + "."
        )
    onco_caption = (
        "Alterations per patient (columns) and gene (rows); light grey: not altered, dark grey: "
        "not evaluated in that patient. The percentages and n/N beside the panel are among the "
        "patients evaluated for each gene, as in the Mutations table."
    )
    c = results["cohort"]
    plan = [
        (
            "swimmer",
            "Patient courses",
            f"One lane per patient ({c['patients']}), from diagnosis to death or last follow-up; "
            "bars are lenalidomide exposure, markers the SPM, withdrawal, response, regression, "
            "progression, autologous and allogeneic HCT and death.",
        ),
        ("oncoprint", "Oncoprint", onco_caption),
        (
            "cumulative_incidence",
            f"Cumulative incidence from {_origin(cr['origin']) if cr else 'diagnosis'}",
            cif_caption,
        ),
    ]
    by_group = (cr or {}).get("by_group")
    gray = (cr or {}).get("gray_test")
    column = by_group.get("column") if isinstance(by_group, Mapping) else None
    by_caption = "Aalen-Johansen cumulative incidence of SPM per group" + (
        f" of {column}" if column else ""
    )
    if isinstance(gray, Mapping) and gray.get("p") is not None:
        by_caption += f"; Gray's test p = {fmt_p(gray['p'])}"
    plan.append(
        (
            "cumulative_incidence_by_group",
            "Cumulative incidence of SPM" + (f" by {column}" if column else " by group"),
            by_caption + ".",
        )
    )
    refs = [r for r in (_figure_ref(figdir, *p) for p in plan) if r is not None]
    if not refs:
        return None
    return Section("figures", "Figures", [Block("figure", figure=f) for f in refs])


def course_sections(results: Mapping[str, Any], directory: Path) -> list[Section]:
    """The sections of the course report; figures from ``directory/figures`` (missing: skipped)."""
    _check_schema(results)
    out = [
        _summary(results),
        _responses(results),
        _survival(results),
        _time_varying_cox(results),
        _competing(results),
        _mutations(results),
    ]
    figs = _figures(results, directory / "figures")
    if figs is not None:
        out.append(figs)
    return out


def _repro(results: Mapping[str, Any]) -> dict[str, Any]:
    inputs = []
    for key, label in (("course", "Course table"), ("mutations", "Mutations table")):
        block = (results.get("input") or {}).get(key)
        if block:
            inputs.append(
                {
                    "label": label,
                    "source": str(block.get("source", "n/a")),
                    "sha256": block.get("sha256") or "n/a (in-memory data)",
                }
            )
    software = results.get("software") or {}
    return {
        "inputs": inputs,
        "software": ", ".join(f"{k} {v}" for k, v in software.items()),
        "schema_name": "Course results schema",
        "schema": str(results["course_schema_version"]),
    }


def _subtitle(results: Mapping[str, Any]) -> str:
    c = results["cohort"]
    version = (results.get("software") or {}).get("ikaros", "")
    return (
        f"{c['patients']} patients, {c['with_spm']} with an SPM; EFS/OS from "
        f"{_origin(results['options']['origin'])}" + (f"; ikaros {version}" if version else "")
    )


def build_course_report(
    results: dict[str, Any], directory: Path, *, pdf: bool = True
) -> list[Path]:
    """Write ``course_report.html`` (and ``course_report.pdf``) into ``directory``.

    ``results`` is the ``course_results.json`` dictionary; the figures are read from the PNGs in
    ``directory/figures`` (those missing are left out). Returns the paths written.

    Raises
    ------
    SchemaVersionError
        ``results`` was written under another major course schema version.
    """
    sections = course_sections(results, directory)
    title = str(results["input"]["course"]["source"])
    subtitle = _subtitle(results)
    repro = _repro(results)
    html = directory / HTML_NAME
    html.write_text(
        render_page(
            title=title, subtitle=subtitle, sections=sections, repro=repro, heading=HEADING
        ),
        encoding="utf-8",
    )
    written = [html]
    if pdf:
        from ikaros.report.pdf import render_document

        path = directory / PDF_NAME
        render_document(
            path,
            title=title,
            subtitle=subtitle,
            sections=sections,
            repro=repro,
            heading=HEADING,
            page_breaks=PAGE_BREAKS,
        )
        written.append(path)
    return written
