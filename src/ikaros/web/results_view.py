"""What the analysis page shows of a finished analysis: the report's tables (summaries first),
its figures with their captions (when the report was written), the REMARK profile and the
warnings -- all rendered by :mod:`ikaros.report` from results.json, nothing computed here."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ikaros.report.tables import Table

__all__ = ["FigureView", "ResultsView", "results_view"]

#: tables shown open at the top of the page, in this order
SUMMARIES = ("summary", "grouping_summary", "competing_summary")


@dataclass(frozen=True)
class FigureView:
    title: str
    caption: str
    png: str
    svg: str | None


@dataclass(frozen=True)
class ResultsView:
    summaries: tuple[Table, ...]
    tables: tuple[Table, ...]
    figures: tuple[FigureView, ...]
    remark: tuple[tuple[str, str], ...]
    flow: Table
    warnings: tuple[str, ...]


@functools.lru_cache(maxsize=16)
def results_view(results_sha256: str, text: str, files: tuple[str, ...]) -> ResultsView:
    """The page content of results.json ``text`` (cached by its SHA-256 and the files present).

    ``files`` are the analysis files (``figures/<stem>.png`` ...): a figure is shown when its
    PNG was written.
    """
    from ikaros.report.naming import file_stem
    from ikaros.report.plan import plan_figures
    from ikaros.report.remark import remark_profile
    from ikaros.report.tables_groups import all_tables
    from ikaros.results import from_json

    results = from_json(text)
    tables = list(all_tables(results))
    by_name = {t.name: t for t in tables}
    summaries = tuple(by_name[n] for n in SUMMARIES if n in by_name)
    rest = tuple(t for t in tables if t.name not in SUMMARIES)
    present = set(files)
    figures = []
    for job in plan_figures(results):
        stem = file_stem(job.stem)
        png, svg = f"figures/{stem}.png", f"figures/{stem}.svg"
        if png in present:
            figures.append(FigureView(job.title, job.caption, png, svg if svg in present else None))
    profile = remark_profile(results)
    return ResultsView(
        summaries=summaries,
        tables=rest,
        figures=tuple(figures),
        remark=tuple(profile.items),
        flow=profile.flow,
        warnings=tuple(results.warnings),
    )
