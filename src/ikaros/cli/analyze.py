"""``ikaros analyze``: the study analysis of a cohort."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import (
    EventFromOption,
    MapOption,
    NaValuesOption,
    OutOption,
    QuietOption,
    TimeFromOption,
    TimeUnitOption,
    check_out,
    guard,
    note,
    out_console,
    parse_map,
    parse_tokens,
)
from ikaros.cli._study_io import print_summaries, run_and_write

__all__ = ["analyze"]

Repeat = list[str] | None


@guard
def analyze(
    cohort: Annotated[Path, typer.Argument(help="Clinical table: CSV, TSV, XLSX or Parquet.")],
    endpoint: Annotated[
        list[str], typer.Option("--endpoint", "-e", help="Endpoint E (E_time, E_event).")
    ],
    out: OutOption,
    marker: Annotated[
        Repeat, typer.Option("--marker", "-m", help="Continuous marker column (repeat).")
    ] = None,
    group: Annotated[
        Repeat,
        typer.Option(
            "--group",
            "-g",
            help="Compare the levels of a clinical variable: iss, best_response, a protocol, "
            "sex, ... (repeat).",
        ),
    ] = None,
    reference: Annotated[
        Repeat,
        typer.Option(
            help="Reference level of a --group variable, COL=LEVEL (default: its first level).",
            metavar="COL=LEVEL",
        ),
    ] = None,
    covariate: Annotated[
        Repeat,
        typer.Option(
            "--covariate", "-c", help="Covariate of the multivariable Cox models (repeat)."
        ),
    ] = None,
    cut: Annotated[
        str,
        typer.Option(
            help="How a marker is grouped: quartile (Q1 vs Q2-4), median, tertile, "
            "upper-quartile (Q4 vs Q1-3), thresholds such as 3.5,5.5 (k+1 groups; a value equal "
            "to a threshold is in the lower group), or optimal (also a maximally selected "
            "cut, labelled optimised, with its search-corrected p).",
            metavar="[quartile|median|tertile|upper-quartile|optimal|T1,T2,...]",
        ),
    ] = "quartile",
    transform: Annotated[
        str, typer.Option(help="Marker scale in Cox models.", metavar="[none|log2]")
    ] = "none",
    landmark: Annotated[float, typer.Option(help="Landmark time in months.")] = 36.0,
    time_unit: TimeUnitOption = "months",
    map_: MapOption = None,
    time_from: TimeFromOption = None,
    event_from: EventFromOption = None,
    competing: Annotated[
        Repeat,
        typer.Option(
            "--competing",
            help="Endpoint E has competing risks: E_event 0 = censored, 1 = event of interest, "
            "2, 3, ... = competing causes (with --event-from: its values, in order).",
            metavar="E",
        ),
    ] = None,
    causes: Annotated[
        Repeat,
        typer.Option("--causes", help="Names of the cause codes, e.g. ttp=1:progression,2:death."),
    ] = None,
    na_values: NaValuesOption = None,
    drop_invalid: Annotated[
        bool,
        typer.Option(
            "--drop-invalid",
            help="Exclude rows with invalid values (each counted with its reason) instead of "
            "stopping at the first.",
        ),
    ] = False,
    firth: Annotated[
        str, typer.Option(help="Firth penalty.", metavar="[auto|never|always]")
    ] = "auto",
    measurement: Annotated[
        str | None,
        typer.Option(help="How the markers were measured, for the report (e.g. 'RQ-PCR, dCt')."),
    ] = None,
    expression: Annotated[
        Path | None,
        typer.Option(
            "--expression",
            "-x",
            help="Marker values from a second file: patient_id + marker columns (e.g. from "
            "`ikaros qpcr`), or an expression matrix in either orientation (as `ikaros scan`).",
        ),
    ] = None,
    sample_pattern: Annotated[
        str | None,
        typer.Option(
            help="Regex mapping matrix sample names to patient_id (group 1), "
            "e.g. '^(MMRF_[0-9]+)_1_BM'."
        ),
    ] = None,
    genes: Annotated[
        Path | None,
        typer.Option(help="Gene identifier -> symbol table (two columns) for the matrix."),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="Excel: the sheet to read (default: the active sheet)."),
    ] = None,
    cut_pmethod: Annotated[
        str,
        typer.Option(help="Corrected p of an optimal cut.", metavar="[Lau94|condMC|both]"),
    ] = "Lau94",
    permutations: Annotated[int, typer.Option(help="Permutations for condMC.")] = 10000,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicates for the cutpoint CI.")] = 0,
    title: Annotated[str | None, typer.Option(help="Title of the report.")] = None,
    label: Annotated[
        Repeat,
        typer.Option(
            help='Display label of a column, e.g. ldh="serum LDH (U/L)" (repeat).',
            metavar="COL=TEXT",
        ),
    ] = None,
    xlim: Annotated[
        float | None, typer.Option(help="Upper limit of the time axis of figures, in months.")
    ] = None,
    treatment: Annotated[
        str | None,
        typer.Option(
            help="Treatment-by-marker analysis (exploratory; predictive or prognostic?): a "
            "column with two treatments or arms.",
        ),
    ] = None,
    treatment_reference: Annotated[
        str | None, typer.Option(help="Reference level of --treatment (default: the first).")
    ] = None,
    performance: Annotated[
        bool,
        typer.Option(
            "--performance",
            help="Prognostic performance of the marker's Cox models: Harrell/Uno C, AUC and "
            "Brier at the landmark, calibration, decision curve, optimism-corrected C.",
        ),
    ] = False,
    base_model: Annotated[
        str | None,
        typer.Option(
            "--base-model",
            help="Standard variables the marker must add to, e.g. iss,cyto_high_risk (with "
            "--performance): LR test and change in C.",
            metavar="COL1,COL2",
        ),
    ] = None,
    performance_bootstrap: Annotated[
        int,
        typer.Option(help="Bootstrap replicates of the optimism correction (0: none)."),
    ] = 200,
    report: Annotated[
        bool, typer.Option("--report", help="Also write the study report (HTML, PDF, figures).")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Run the study analysis on a cohort and write OUT/results.json."""
    from ikaros.cohort import load_cohort, read_gene_map
    from ikaros.cohort.specs import endpoint_specs, parse_assignments
    from ikaros.study import StudyOptions

    if expression is None and (sample_pattern is not None or genes is not None):
        from ikaros.errors import InputError

        raise InputError(
            "--sample-pattern and --genes apply to an expression matrix, but no --expression "
            "is given",
            remedy="add --expression MATRIX, or drop these options",
        )
    options = StudyOptions(
        markers=tuple(marker or ()),
        endpoints=tuple(endpoint),
        covariates=tuple(covariate or ()),
        transform=transform,
        landmark=landmark,
        firth=firth,
        measurement=measurement,
        cut=cut,
        cut_pmethod=cut_pmethod,
        n_permutations=permutations,
        n_bootstrap=bootstrap,
        groups=tuple(group or ()),
        references=parse_assignments(reference or (), "--reference", "iss=I"),
        title=title,
        labels=parse_assignments(label or (), "--label", 'ldh="serum LDH (U/L)"'),
        xlim=xlim,
        treatment=treatment,
        treatment_reference=treatment_reference,
        performance=performance,
        base_model=tuple(c.strip() for c in (base_model or "").split(",") if c.strip()),
        performance_bootstrap=performance_bootstrap,
    )
    specs = endpoint_specs(
        options.endpoints,
        time_from=time_from or (),
        event_from=event_from or (),
        competing=competing or (),
        causes=causes or (),
    )
    check_out(out)  # fail before the analysis, not after it
    data = load_cohort(
        cohort,
        markers=options.markers,
        endpoints=options.endpoints,
        covariates=options.load_covariates,
        mapping=parse_map(map_),
        time_unit=time_unit,
        expression=expression,
        sheet=sheet,
        endpoint_specs=specs,
        groups=options.load_groups,
        na_values=parse_tokens(na_values),
        drop_invalid=drop_invalid,
        sample_pattern=sample_pattern,
        genes=None if genes is None else read_gene_map(genes),
    )
    results = run_and_write(data, options, out, quiet, {}, report=report)
    if not quiet:
        console = out_console()
        print_summaries(console, results)
        for w in results.warnings:
            note(w)
        console.print(f"results written to {out / 'results.json'}", markup=False)
