"""The treatment-course report: course_report.html and course_report.pdf from course_results.json.

Same machinery and style as the study report (:mod:`ikaros.report.build`): a list of
:class:`~ikaros.report.build.Section` of :class:`~ikaros.report.build.Block`, tables as
:class:`~ikaros.report.tables.Table`, figures read from the PNGs that
:func:`ikaros.course.figures.course_figures` already wrote into ``directory/figures``. Every number
comes from the results dictionary; this module only formats.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ikaros.report.course_format import (
    check_schema,
    endpoint_label,
    fmt_median,
    fmt_num,
    fmt_pct,
    fmt_pct_ci,
    is_geyer_cohort,
    origin_label,
)
from ikaros.report.course_models import (
    competing_section,
    mutations_section,
    time_varying_cox_section,
)
from ikaros.report.document import Block, FigureRef, Section, render_page
from ikaros.report.tables import Table, fmt_p

__all__ = ["HTML_NAME", "PDF_NAME", "build_course_report", "course_sections"]

HTML_NAME = "course_report.html"
PDF_NAME = "course_report.pdf"
HEADING = "Treatment-course report"
#: Sections of the course report that start on a new PDF page.
PAGE_BREAKS: tuple[str, ...] = ("survival", "figures")


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
        f"Time origin of EFS/OS: {origin_label(opts['origin'])}; allogeneic HCT landmark: "
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
                fmt_num(b["median"]),
                f"{fmt_num(b.get('q1'))}-{fmt_num(b.get('q3'))}",
                f"{fmt_num(b['min'])}-{fmt_num(b['max'])}",
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
    if is_geyer_cohort(results):
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
        (resp, str(count), fmt_pct(count / n) if n else "n/a") for resp, count in best.items()
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
    return f"{block['count']}/{block['n']}", fmt_pct(block.get("estimate"), 1), ci


def _survival(results: Mapping[str, Any]) -> Section:
    s = results["survival"]
    origin = origin_label(s["origin"])
    curves: list[tuple[str, str, Mapping[str, Any]]] = []
    for endpoint in ("efs", "os"):
        block = s.get(endpoint) or {}
        if block.get("all"):
            curves.append((endpoint_label(endpoint), f"all patients, from {origin}", block["all"]))
        if block.get("treated"):
            curves.append((endpoint_label(endpoint), f"treated, from {origin}", block["treated"]))
    hct = s.get("from_hct_allo") or {}
    for endpoint in ("efs", "os"):
        if hct.get(endpoint):
            curves.append(
                (
                    endpoint_label(endpoint),
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
        medians.append((label, str(km["n"]), str(km["events"]), fmt_median(km)))
        at = {p["time"]: p for p in km.get("at") or []}
        fixed.append(
            (
                label,
                *(
                    fmt_pct_ci(at[t].get("survival"), at[t].get("lower"), at[t].get("upper"))
                    if t in at
                    else "n/a"
                    for t in times
                ),
            )
        )
    ci_methods = sorted({km.get("ci_method", "") for _, _, km in curves} - {""})
    definitions = "; ".join(
        f"{endpoint_label(k)}: {v['definition']}"
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
                endpoint_label(e),
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
                        f"With {origin_label(lm['from_origin'])}",
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
                f"at {p['time']:g} months {fmt_pct(p.get('cif_spm'), 1)} (1 - KM "
                f"{fmt_pct(p.get('one_minus_km_spm'), 1)})"
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
            f"Cumulative incidence from {origin_label(cr['origin']) if cr else 'diagnosis'}",
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
    check_schema(results)
    out = [
        _summary(results),
        _responses(results),
        _survival(results),
        time_varying_cox_section(results),
        competing_section(results),
        mutations_section(results),
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
        f"{origin_label(results['options']['origin'])}" + (f"; ikaros {version}" if version else "")
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
