"""The parts of a report page shared by the study, course and other reports, and the HTML page.

A report is a list of :class:`Section` objects holding :class:`Block` objects (text, headings,
warnings, tables, figures); :func:`render_page` turns them into one self-contained HTML page and
:mod:`ikaros.report.pdf` into a PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from ikaros.report.tables import Table
from ikaros.results import Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Block",
    "FigureJob",
    "FigureRef",
    "Section",
    "render_page",
    "repro_record",
    "study_subtitle",
]


@dataclass(frozen=True)
class FigureJob:
    """A figure to draw: file stem, title, caption and the function that draws it."""

    stem: str
    title: str
    caption: str
    make: Callable[[], Figure]


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


def repro_record(results: Results) -> dict[str, Any]:
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
    """``60 patients; markers IKZF1, ...; endpoints PFS, OS; ikaros x.y``, with the grouping
    variables when there are any, and columns by their ``--label``."""
    from ikaros.report.naming import display_label

    o = results.options
    parts = [f"{results.cohort.n} patients"]
    if o.markers:
        parts.append("markers " + ", ".join(display_label(results, m).text for m in o.markers))
    if o.groups:
        parts.append("grouped by " + ", ".join(display_label(results, g).text for g in o.groups))
    parts.append("endpoints " + ", ".join(e.upper() for e in o.endpoints))
    parts.append(f"ikaros {results.ikaros_version}")
    return "; ".join(parts)
