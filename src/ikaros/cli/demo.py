"""``ikaros demo``: the simulated DSMM-XII-like cohort (or the treatment-course cohorts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import QuietOption, check_out, guard, note, out_console
from ikaros.cli._study_io import print_summaries, run_and_write

__all__ = ["demo"]


@guard
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path(
        "ikaros-demo"
    ),
    seed: Annotated[
        int | None, typer.Option(help="Simulate another cohort with this seed.")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write the study report (default on).")
    ] = True,
    quiet: QuietOption = False,
    course: Annotated[
        bool,
        typer.Option(
            "--course",
            help="Instead: the simulated lenalidomide treatment-course cohorts (Geyer et al. "
            "2023; docs/course_demo.md).",
        ),
    ] = False,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate",
            help="Instead: a simulated multi-protocol study (cohorts with and without "
            "lenalidomide) validated across cohorts (docs/validation.md).",
        ),
    ] = False,
) -> None:
    """Analyse the embedded, simulated DSMM-XII-like cohort and compare with the paper."""
    if course:
        from ikaros.cli._course_io import run_course_demo

        run_course_demo(out, seed=seed, quiet=quiet)
        return
    if validate:
        from ikaros.cli._validate_io import run_validate_demo

        run_validate_demo(out, seed=seed, quiet=quiet)
        return
    from rich.table import Table

    from ikaros.cohort import cohort_from_frame
    from ikaros.published import compare_with_paper
    from ikaros.simulate import DEMO_SEED, simulate_cohort
    from ikaros.study import StudyOptions

    check_out(out)
    used_seed = DEMO_SEED if seed is None else seed
    frame = simulate_cohort(used_seed)
    markers = ("IKZF1", "IKZF3", "CRBN", "BSG")
    options = StudyOptions(
        markers=markers,
        endpoints=("pfs", "os"),
        seed=used_seed,
        measurement="simulated relative expression (linear 2^-dCt scale; see docs/demo_cohort.md)",
    )
    csv = frame.to_csv(index=False, lineterminator="\n")
    cohort = cohort_from_frame(
        frame.astype(str).where(frame.notna(), None),
        source=f"simulated DSMM XII-like cohort (seed {used_seed})",
        markers=markers,
        endpoints=options.endpoints,
    )
    results = run_and_write(cohort, options, out, quiet, {"demo_cohort.csv": csv}, report=report)
    if quiet:
        return
    console = out_console()
    print_summaries(console, results)
    table = Table(title="Kronke et al., Leukemia 2017 vs this simulated cohort")
    for col in ("quantity", "paper", "this cohort", "note"):
        table.add_column(col)
    for row in compare_with_paper(results):
        table.add_row(row.quantity, row.published, row.reproduced or "n/a", row.note)
    console.print(table)
    for w in results.warnings:
        note(w)
    console.print(
        f"cohort and results written to {out}/ (demo_cohort.csv, results.json"
        + (", report.html, report.pdf, figures/, tables/)" if report else ")"),
        markup=False,
    )
