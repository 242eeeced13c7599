"""``ikaros course``: lenalidomide treatment-course and safety analyses.

References
----------
Geyer MB, et al. Lenalidomide-associated B-cell ALL: clinical and pathologic correlates and
sensitivity to lenalidomide withdrawal. Blood Adv 2023;7:3087-3098.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import QuietOption, check_out, guard, note, out_console
from ikaros.cli._course_io import RESULTS_FILE, summary

__all__ = ["course"]


@guard
def course(
    course_table: Annotated[
        Path,
        typer.Argument(
            help="Long table (CSV, TSV, XLSX, Parquet): patient_id, event, date or month[, detail]."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    mutations: Annotated[
        Path | None,
        typer.Option("--mutations", "-m", help="Mutations table: patient_id, gene, alteration."),
    ] = None,
    origin: Annotated[
        str, typer.Option(help="Time origin of EFS/OS: diagnosis, len_start, spm or hct_allo.")
    ] = "spm",
    landmark_hct: Annotated[
        bool,
        typer.Option(
            "--landmark-hct",
            help="EFS/OS from allogeneic HCT as a landmark analysis from the origin: patients "
            "with an event before HCT are excluded (and counted).",
        ),
    ] = False,
    spm_type: Annotated[
        str | None, typer.Option("--spm-type", help="Count only SPMs of this type (e.g. B-ALL).")
    ] = None,
    covariates: Annotated[
        Path | None,
        typer.Option(
            "--covariates",
            help="Baseline covariates (CSV, TSV, XLSX, Parquet): patient_id and numeric or "
            "two-level text columns (e.g. age, arm).",
        ),
    ] = None,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            help="Covariates column whose groups are compared (Gray's test, incidence by group).",
        ),
    ] = None,
    competing_covariate: Annotated[
        list[str] | None,
        typer.Option(
            "--competing-covariate",
            help="Term of the Fine-Gray and cause-specific Cox models of SPM (repeatable; "
            "default: every numeric or two-level column).",
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Lenalidomide treatment-course and safety analyses; writes OUT/course_results.json."""
    from ikaros.course.analysis import CourseOptions, analyse_course, course_json
    from ikaros.course.covariates import load_covariates
    from ikaros.course.figures import course_figures
    from ikaros.course.table import load_course
    from ikaros.files import staged_output
    from ikaros.report.course_report import build_course_report

    model = tuple(competing_covariate) if competing_covariate else None
    options = CourseOptions(
        origin=origin,
        landmark_hct=landmark_hct,
        spm_type=spm_type,
        group_by=group_by,
        competing_covariates=model,
    )
    check_out(out)
    data = load_course(course_table, mutations=mutations)
    cov = (
        None
        if covariates is None
        else load_covariates(covariates, data.patients, group_by=group_by, model=model)
    )
    results = analyse_course(data, options, cov)
    with staged_output(out) as stage:
        stage.write_text(RESULTS_FILE, course_json(results))
        notes = course_figures(
            data, results, stage.path / "figures", spm_type=spm_type, covariates=cov
        )
        build_course_report(results, stage.path)
    if not quiet:
        out_console().print(summary(results))
        reg = (results.get("competing_risks") or {}).get("regression")
        if reg is not None:
            out_console().print(f"Fine-Gray vs cause-specific: {reg['explanation']}", markup=False)
        for line in notes:
            note(line)
        out_console().print(
            f"results and report written to {out}/ ({RESULTS_FILE}, course_report.html, "
            "course_report.pdf, figures/)",
            markup=False,
        )
