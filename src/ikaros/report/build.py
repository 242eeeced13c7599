"""Assemble the study report: figures (PNG + SVG), tables (CSV), report.html and report.pdf.

The report renders a :class:`~ikaros.results.Results`; it computes no statistics. All outputs
are written into a staging directory by :func:`build_report`; the caller moves them into place
(see :func:`ikaros.files.staged_output`), so a failed report leaves nothing behind.
"""

from __future__ import annotations

import base64
import multiprocessing as mp
import os
import signal
from collections.abc import Callable
from pathlib import Path

from ikaros.report import figures
from ikaros.report.document import (
    FigureRef,
    Section,
    render_page,
    repro_record,
    study_subtitle,
)
from ikaros.report.naming import file_stem, report_title
from ikaros.report.plan import FigureJob, plan_figures
from ikaros.report.remark import remark_profile
from ikaros.report.sections import study_sections
from ikaros.report.tables_groups import all_tables
from ikaros.results import Results

__all__ = ["build_report", "file_stem", "plan_figures", "render_html"]

Progress = Callable[[str], None]

_ACTIVE: tuple[list[FigureJob], Path] | None = None


def _quiet_worker() -> None:
    """A figure worker ends quietly when the pool is closed (SIGTERM): the parent's handler
    (the CLI turns SIGTERM into KeyboardInterrupt) would print a traceback per worker."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _render_one(index: int) -> tuple[int, str, str]:
    """Worker: draw and save figure ``index`` of the active job list (set before forking)."""
    assert _ACTIVE is not None
    jobs, directory = _ACTIVE
    job = jobs[index]
    png, svg = figures.save_figure(job.make(), directory, file_stem(job.stem))
    return index, str(png), str(svg)


def _render_figures(
    jobs: list[FigureJob], directory: Path, progress: Progress | None
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
            with mp.get_context("fork").Pool(workers, initializer=_quiet_worker) as pool:
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


def render_html(results: Results, sections: list[Section]) -> str:
    return render_page(
        title=report_title(results),
        subtitle=study_subtitle(results),
        sections=sections,
        repro=repro_record(results),
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
    sections = study_sections(results, figs, tables)
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
