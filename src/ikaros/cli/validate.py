"""``ikaros validate``: the same pre-specified marker analysis in several cohorts, pooled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import OutOption, QuietOption, check_out, command_line, guard, out_console

__all__ = ["validate"]


@guard
def validate(
    manifest: Annotated[
        Path,
        typer.Argument(help="TOML manifest listing the cohorts (docs/validation.md)."),
    ],
    marker: Annotated[str, typer.Option("--marker", "-m", help="Marker column.")],
    endpoint: Annotated[
        str, typer.Option("--endpoint", "-e", help="Endpoint E (E_time, E_event).")
    ],
    out: OutOption,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", "-c", help="Adjust every Cox model for this column (repeat)."),
    ] = None,
    transform: Annotated[
        str, typer.Option(help="Marker scale in Cox models.", metavar="[none|log2]")
    ] = "none",
    cut: Annotated[
        str,
        typer.Option(
            help="Pre-specified cut: q1 (each cohort's lowest quartile vs the rest), median, or "
            "a value on the marker's own scale (the same in every cohort).",
            metavar="[q1|median|VALUE]",
        ),
    ] = "q1",
    landmark: Annotated[
        float, typer.Option(help="Landmark time (months) for survival by cut group.")
    ] = 36.0,
    treatment_reference: Annotated[
        str | None,
        typer.Option(
            help="Reference treatment of the marker-by-treatment model (default: the first "
            "in sorted order)."
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Validate a marker across cohorts: per-cohort Cox, random-effects meta-analysis (REML,
    Hartung-Knapp, prediction interval) and a one-stage Cox model stratified by cohort."""
    from ikaros.files import staged_output
    from ikaros.output import check_output_dir
    from ikaros.validation.report import write_validation_outputs
    from ikaros.validation.run import check_options, run_validation

    options = check_options(
        marker=marker,
        endpoint=endpoint,
        covariates=covariate or (),
        transform=transform,
        cut=cut,
        landmark=landmark,
        treatment_reference=treatment_reference,
    )
    check_out(out)
    check_output_dir(out)  # fail before the analysis, not after it
    run = run_validation(manifest, options, command=command_line())
    with staged_output(out) as stage:
        write_validation_outputs(run, stage.path)
    if quiet:
        return
    from ikaros.cli._validate_io import print_validation

    print_validation(out_console(), run, out)
