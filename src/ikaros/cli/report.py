"""``ikaros report``: render the study report from a results directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import QuietOption, guard
from ikaros.cli._study_io import write_report

__all__ = ["report"]


@guard
def report(
    results_dir: Annotated[
        Path, typer.Argument(help="Directory holding results.json (from analyze or demo).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default: RESULTS_DIR).")
    ] = None,
    counts: Annotated[
        bool,
        typer.Option(
            "--counts", help="Add cumulative events and censored counts to at-risk tables."
        ),
    ] = False,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write report.pdf.")] = True,
    quiet: QuietOption = False,
) -> None:
    """Render report.html, report.pdf, figures (PNG, SVG) and tables (CSV) from results.json."""
    from ikaros.results import load_results

    results = load_results(results_dir)
    write_report(results, out or results_dir, quiet=quiet, counts=counts, pdf=pdf)
