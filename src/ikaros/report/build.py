"""Assemble the study report: figures (PNG + SVG), tables (CSV), report.html and report.pdf.

The report renders a :class:`~ikaros.results.Results`; it computes no statistics. All outputs
are written into a staging directory by :func:`build_report`; the caller moves them into place
(see :func:`ikaros.files.staged_output`), so a failed report leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing as mp
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from matplotlib.figure import Figure

from ikaros.published import compare_with_paper
from ikaros.report import figures
from ikaros.report.remark import remark_profile
from ikaros.report.tables import Table, all_tables, fmt_ci, fmt_p, fmt_pct
from ikaros.results import Results

__all__ = [
    "Block",
    "FigureRef",
    "Section",
    "build_report",
    "plan_figures",
    "render_html",
    "render_page",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FigureRef:
    stem: str
    title: str
    caption: str
    png: Path
    svg: Path
    png_base64: str = field(repr=False, default="")


@dataclass
class Block:
    kind: str  # "text", "heading", "warning", "table", "figure"
    text: str = ""
    table: Table | None = None
    figure: FigureRef | None = None


@dataclass
class Section:
    anchor: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class _FigureJob:
    stem: str
    title: str
    caption: str
    make: Callable[[], Figure]


def _is_demo(results: Results) -> bool:
    return results.options.seed is not None and "IKZF1" in results.options.markers


def _km_caption(results: Results, marker: str, endpoint: str, grouping: str) -> str:
    a = results.analysis(marker, endpoint)
    lm = results.options.landmark
    if grouping == "q1":
        parts = [
            f"{label} {fmt_pct(g.landmark.survival)} "
            f"({fmt_ci(g.landmark.lower, g.landmark.upper, pct=True)})"
            for label, g in a.groups.items()
        ]
        test = f"log-rank p = {fmt_p(a.logrank.p)}"
        what = "lowest quartile (Q1) vs Q2-4"
    else:
        parts = [
            f"{label} {fmt_pct(g.landmark.survival)}" for label, g in a.quartile_groups.items()
        ]
        test = (
            f"log-rank p = {fmt_p(a.logrank_quartiles.p)}, trend p = {fmt_p(a.trend_quartiles.p)}"
        )
        what = "quartiles"
    return (
        f"Kaplan-Meier estimates of {endpoint.upper()} by {marker} {what}"
        + (f", with {results.options.ci_method} 95% confidence bands" if grouping == "q1" else "")
        + f" and censoring marks; numbers at risk below the axis. Survival at {lm:g} months: "
        f"{'; '.join(parts)}; {test}."
    )


def plan_figures(results: Results, *, counts: bool = False) -> list[_FigureJob]:
    """Every figure of the report, in report order."""
    lm = results.options.landmark
    jobs: list[_FigureJob] = []
    if _is_demo(results):
        rows = compare_with_paper(results)
        jobs.append(
            _FigureJob(
                "paper_vs_cohort",
                "Kronke et al. 2017 vs this cohort",
                "Published figures of the DSMM XII study beside the same quantities in this "
                "cohort.",
                lambda rows=rows: figures.paper_figure(rows),  # type: ignore[misc]
            )
        )
    for a in results.analyses:
        for grouping in ("q1", "quartiles"):
            jobs.append(
                _FigureJob(
                    f"km_{a.marker}_{a.endpoint}_{grouping}",
                    f"{a.endpoint.upper()} by {a.marker} "
                    + ("Q1 vs Q2-4" if grouping == "q1" else "quartiles"),
                    _km_caption(results, a.marker, a.endpoint, grouping),
                    lambda a=a, g=grouping: figures.km_figure(  # type: ignore[misc]
                        a, grouping=g, landmark=lm, counts=counts, ci=g == "q1"
                    ),
                )
            )
    for endpoint in results.options.endpoints:
        if any(a.cox_multivariable for a in results.analyses if a.endpoint == endpoint):
            jobs.append(
                _FigureJob(
                    f"forest_multivariable_{endpoint}",
                    f"Multivariable Cox models, {endpoint.upper()}",
                    "Hazard ratios with 95% confidence intervals; continuous markers per "
                    "standard deviation. † Firth penalised likelihood with profile-likelihood CI.",
                    lambda e=endpoint: figures.forest_figure(  # type: ignore[misc]
                        results, e, kind="multivariable"
                    ),
                )
            )
        if any(a.subgroups for a in results.analyses if a.endpoint == endpoint):
            jobs.append(
                _FigureJob(
                    f"forest_subgroups_{endpoint}",
                    f"Subgroups by cytogenetic risk, {endpoint.upper()}",
                    "Hazard ratio per standard deviation of each marker within standard- and "
                    "high-risk cytogenetics, with the marker-by-risk interaction p-value.",
                    lambda e=endpoint: figures.forest_figure(  # type: ignore[misc]
                        results, e, kind="subgroups"
                    ),
                )
            )
    for assoc in results.marker_associations:
        if assoc.values_by_iss or assoc.values_by_response:
            jobs.append(
                _FigureJob(
                    f"marker_{assoc.marker}",
                    f"{assoc.marker} by ISS stage and best response",
                    "Box plots with individual patients; Kruskal-Wallis and Jonckheere-Terpstra "
                    "trend tests across ISS stages, Mann-Whitney test CR/VGPR vs PR/SD.",
                    lambda m=assoc: figures.marker_figure(m),  # type: ignore[misc]
                )
            )
    return jobs


_ACTIVE: tuple[list[_FigureJob], Path] | None = None


def file_stem(stem: str) -> str:
    """A file name for figure ``stem``: marker names may hold '/', spaces or markup.

    Names of letters, digits, '_', '.' and '-' are kept; others are replaced and made unique with
    a short hash of the original.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip(".") or "figure"
    if safe == stem:
        return stem
    return f"{safe[:80]}_{hashlib.sha256(stem.encode()).hexdigest()[:8]}"


def _render_one(index: int) -> tuple[int, str, str]:
    """Worker: draw and save figure ``index`` of the active job list (set before forking)."""
    assert _ACTIVE is not None
    jobs, directory = _ACTIVE
    job = jobs[index]
    png, svg = figures.save_figure(job.make(), directory, file_stem(job.stem))
    return index, str(png), str(svg)


def _render_figures(
    jobs: list[_FigureJob], directory: Path, progress: Progress | None
) -> dict[str, FigureRef]:
    """Draw and save every figure, on all cores where the platform can fork.

    Each figure is independent and written by the process that draws it, so the files are the
    same whichever process renders them.
    """
    global _ACTIVE
    paths: dict[int, tuple[str, str]] = {}
    workers = min(os.cpu_count() or 1, 4)
    _ACTIVE = (jobs, directory)
    try:
        if workers > 1 and len(jobs) >= 6 and "fork" in mp.get_all_start_methods():
            with mp.get_context("fork").Pool(workers) as pool:
                for i, png, svg in pool.imap_unordered(_render_one, range(len(jobs))):
                    paths[i] = (png, svg)
                    if progress:
                        progress(f"figure {jobs[i].stem}")
        else:
            for i in range(len(jobs)):
                _, png, svg = _render_one(i)
                paths[i] = (png, svg)
                if progress:
                    progress(f"figure {jobs[i].stem}")
    finally:
        _ACTIVE = None
    refs = {}
    for i, job in enumerate(jobs):
        png_path, svg_path = Path(paths[i][0]), Path(paths[i][1])
        refs[job.stem] = FigureRef(
            job.stem,
            job.title,
            job.caption,
            png_path,
            svg_path,
            base64.b64encode(png_path.read_bytes()).decode("ascii"),
        )
    return refs


def _sections(
    results: Results, figs: dict[str, FigureRef], tables: dict[str, Table]
) -> list[Section]:
    out: list[Section] = []
    s = Section("summary", "Summary", [Block("table", table=tables["summary"])])
    for w in results.warnings:
        s.blocks.append(Block("warning", w))
    out.append(s)
    if "paper_vs_cohort" in figs:
        out.append(
            Section(
                "paper",
                "Paper vs this cohort",
                [
                    Block(
                        "text",
                        "This cohort is simulated (seed "
                        f"{results.options.seed}) to resemble the DSMM XII cohort of Kronke et "
                        "al. (Leukemia 2017); its true effects are the published hazard ratios.",
                    ),
                    Block("figure", figure=figs["paper_vs_cohort"]),
                ],
            )
        )
    out.append(
        Section(
            "cohort", "Cohort characteristics", [Block("table", table=tables["characteristics"])]
        )
    )
    profile = remark_profile(results)
    remark = Section("remark", "REMARK profile", [Block("table", table=profile.flow)])
    for heading, text in profile.items:
        remark.blocks += [Block("heading", heading), Block("text", text)]
    out.append(remark)
    for endpoint in results.options.endpoints:
        sec = Section(f"survival-{endpoint}", f"{endpoint.upper()} by marker")
        for a in results.analyses:
            if a.endpoint != endpoint:
                continue
            sec.blocks.append(Block("heading", f"{a.marker}"))
            for grouping in ("q1", "quartiles"):
                sec.blocks.append(
                    Block("figure", figure=figs[f"km_{a.marker}_{endpoint}_{grouping}"])
                )
            for note in a.notes:
                sec.blocks.append(Block("warning", note))
        out.append(sec)
    cox = Section(
        "cox",
        "Cox regression",
        [
            Block("table", table=tables["cox_univariate"]),
            Block("table", table=tables["cox_multivariable"]),
        ],
    )
    for stem in sorted(k for k in figs if k.startswith("forest_")):
        cox.blocks.append(Block("figure", figure=figs[stem]))
    out.append(cox)
    out.append(
        Section(
            "landmark", "Landmark survival", [Block("table", table=tables["landmark_survival"])]
        )
    )
    if "optimal_cutpoints" in tables:
        out.append(
            Section(
                "cutpoints",
                "Optimised cutpoints",
                [Block("table", table=tables["optimal_cutpoints"])],
            )
        )
    markers = [figs[k] for k in figs if k.startswith("marker_")]
    if markers:
        out.append(
            Section(
                "markers",
                "Marker vs ISS stage and response",
                [Block("figure", figure=f) for f in markers],
            )
        )
    return out


def _repro(results: Results) -> dict[str, Any]:
    return {
        "source": results.input.source,
        "sha256": results.input.sha256 or "n/a (in-memory data)",
        "expression": results.input.expression_source,
        "expression_sha256": results.input.expression_sha256,
        "command": results.command or "n/a (Python API)",
        "seed": results.options.seed,
        "software": ", ".join(f"{k} {v}" for k, v in results.software.items()),
        "schema": results.schema_version,
    }


def render_page(
    *,
    title: str,
    subtitle: str,
    sections: list[Section],
    repro: dict[str, Any],
    heading: str = "Study report",
) -> str:
    """The report page: ``heading: title``, subtitle, table of contents, sections, footer.

    ``repro`` is the reproducibility footer: the study's keys (source, sha256, expression,
    expression_sha256, command, seed, software, schema), or ``inputs`` (a list of dicts with
    label, source and sha256), ``software``, ``schema_name`` and ``schema``.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ikaros.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html.j2")
    return template.render(
        heading=heading,
        title=title,
        subtitle=subtitle,
        sections=sections,
        repro=repro,
    )


def study_subtitle(results: Results) -> str:
    return (
        f"{results.cohort.n} patients; markers {', '.join(results.options.markers)}; endpoints "
        f"{', '.join(e.upper() for e in results.options.endpoints)}; ikaros "
        f"{results.ikaros_version}"
    )


def render_html(results: Results, sections: list[Section]) -> str:
    return render_page(
        title=results.input.source,
        subtitle=study_subtitle(results),
        sections=sections,
        repro=_repro(results),
    )


def build_report(
    results: Results,
    directory: Path,
    *,
    counts: bool = False,
    pdf: bool = True,
    progress: Progress | None = None,
) -> list[Path]:
    """Write report.html, report.pdf, figures/*.png|svg and tables/*.csv into ``directory``."""
    figdir = directory / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    figs = _render_figures(plan_figures(results, counts=counts), figdir, progress)
    tables = {t.name: t for t in all_tables(results)}
    profile = remark_profile(results)
    tables[profile.flow.name] = profile.flow
    tabdir = directory / "tables"
    tabdir.mkdir(parents=True, exist_ok=True)
    written = [p for f in figs.values() for p in (f.png, f.svg)]
    for t in tables.values():
        path = tabdir / f"{t.name}.csv"
        path.write_text(t.to_csv(), encoding="utf-8")
        written.append(path)
    sections = _sections(results, figs, tables)
    if progress:
        progress("report.html")
    html = directory / "report.html"
    html.write_text(render_html(results, sections), encoding="utf-8")
    written.append(html)
    if pdf:
        from ikaros.report.pdf import render_pdf

        if progress:
            progress("report.pdf")
        path = directory / "report.pdf"
        render_pdf(results, sections, path)
        written.append(path)
    return written
