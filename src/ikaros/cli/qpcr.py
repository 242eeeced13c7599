"""``ikaros qpcr``: RQ-PCR Ct values to relative expression."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import (
    MapOption,
    OutOption,
    QuietOption,
    check_out,
    guard,
    note,
    out_console,
    parse_map,
)
from ikaros.errors import InputError

__all__ = ["qpcr"]


@guard
def qpcr(
    ct_table: Annotated[
        Path, typer.Argument(help="Long Ct table: sample, gene, ct[, replicate, efficiency].")
    ],
    reference: Annotated[
        list[str], typer.Option("--reference", "-r", help="Reference gene (repeat for several).")
    ],
    out: OutOption,
    method: Annotated[
        str,
        typer.Option(
            help="Relative quantification method.",
            metavar="[delta_ct|delta_delta_ct|pfaffl]",
        ),
    ] = "delta_ct",
    calibrator: Annotated[
        str | None, typer.Option(help="Calibrator sample (delta_delta_ct, pfaffl).")
    ] = None,
    undetermined: Annotated[
        str,
        typer.Option(help="Undetermined Ct policy.", metavar="[drop|max|error]"),
    ] = "drop",
    max_ct: Annotated[
        float, typer.Option("--max-ct", help="Cycle limit used by --undetermined max.")
    ] = 40.0,
    map_: MapOption = None,
    quiet: QuietOption = False,
) -> None:
    """Turn RQ-PCR Ct values into relative expression (OUT/expression.csv, OUT/qc.csv).

    expression.csv has a patient_id column and one column per target gene, ready to merge
    into the clinical table.
    """
    from ikaros.files import staged_output
    from ikaros.qpcr import load_ct_table, relative_expression

    if method not in ("delta_ct", "delta_delta_ct", "pfaffl"):
        raise InputError(
            f"unknown --method {method!r}", remedy="use delta_ct, delta_delta_ct or pfaffl"
        )
    if undetermined not in ("drop", "max", "error"):
        raise InputError(
            f"unknown --undetermined {undetermined!r}", remedy="use drop, max or error"
        )
    check_out(out)
    table = load_ct_table(ct_table, mapping=parse_map(map_))
    result = relative_expression(
        table,
        reference_genes=reference,
        calibrator=calibrator,
        method=method,  # type: ignore[arg-type]
        undetermined=undetermined,  # type: ignore[arg-type]
        max_ct=max_ct,
        source=str(ct_table),
    )
    with staged_output(out) as stage:
        stage.write_text(
            "expression.csv", result.to_cohort_columns().to_csv(index=False, lineterminator="\n")
        )
        stage.write_text("qc.csv", result.qc.to_csv(index=False, lineterminator="\n"))
    if not quiet:
        flagged = int(result.qc["sd_high"].sum()) if "sd_high" in result.qc else 0
        console = out_console()
        console.print(
            f"{result.method}\n{len(result.expression)} samples x "
            f"{result.expression.shape[1]} target genes; {flagged} sample-gene pairs "
            f"with replicate SD above 0.5 Ct (see qc.csv)",
            markup=False,
        )
        for line in result.notes:
            note(line)
        console.print(f"written to {out}/ (expression.csv, qc.csv)", markup=False)
