"""``ikaros scan``: genome-wide prognostic scan of an expression matrix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    command_line,
    err,
    fmt_p,
    guard,
    note,
    out_console,
    parse_map,
    parse_tokens,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["scan"]


@guard
def scan(
    expression: Annotated[
        Path, typer.Option("--expression", "-x", help="Matrix: genes x samples or samples x genes.")
    ],
    clinical: Annotated[Path, typer.Option("--clinical", "-c", help="Clinical cohort table.")],
    endpoint: Annotated[str, typer.Option("--endpoint", "-e", help="Endpoint E.")],
    out: OutOption,
    covariate: Annotated[
        list[str] | None, typer.Option("--covariate", help="Adjust a second Cox model (repeat).")
    ] = None,
    sample_pattern: Annotated[
        str | None,
        typer.Option(
            help="Regex mapping sample names to patient_id (group 1), e.g. '^(MMRF_[0-9]+)_1_BM'."
        ),
    ] = None,
    map_: MapOption = None,
    time_unit: TimeUnitOption = "months",
    time_from: TimeFromOption = None,
    event_from: EventFromOption = None,
    na_values: NaValuesOption = None,
    cutpoints: Annotated[
        bool, typer.Option(help="Maximally selected log-rank cutpoints with corrected p.")
    ] = True,
    minprop: Annotated[float, typer.Option(help="Lowest quantile for a cutpoint.")] = 0.1,
    maxprop: Annotated[float, typer.Option(help="Highest quantile for a cutpoint.")] = 0.9,
    block_size: Annotated[int, typer.Option(help="Genes per block.")] = 1000,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask: threads, processes or a scheduler address.",
            metavar="[threads|processes|ADDRESS]",
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Genome-wide prognostic scan: Cox, log-rank and honest cutpoints for every gene."""
    check_out(out)
    # a CSV matrix is parsed by Arrow in the background while pandas is imported and the
    # clinical table is loaded (read_aligned takes the parsed table)
    from ikaros.scan._prefetch import start_prefetch

    prefetch = start_prefetch(expression)
    import json
    from concurrent.futures import ThreadPoolExecutor

    from rich.progress import Progress

    from ikaros.cohort import load_cohort
    from ikaros.cohort.specs import endpoint_specs
    from ikaros.files import sha256_file, staged_output
    from ikaros.scan._read import read_aligned
    from ikaros.scan.run import SCAN_SCHEMA_VERSION, ScanOptions, run_scan
    from ikaros.versions import software_versions

    options = ScanOptions(
        endpoint=endpoint,
        covariates=tuple(covariate or ()),
        cutpoints=cutpoints,
        minprop=minprop,
        maxprop=maxprop,
        block_size=block_size,
        scheduler=scheduler,
    )
    cohort = load_cohort(
        clinical,
        endpoints=(endpoint,),
        covariates=options.covariates,
        mapping=parse_map(map_),
        time_unit=time_unit,
        endpoint_specs=endpoint_specs(
            (endpoint,), time_from=time_from or (), event_from=event_from or ()
        ),
        na_values=parse_tokens(na_values),
    )
    # straight into the patients x genes array (pyarrow; no DataFrame of the whole matrix)
    matrix = read_aligned(
        expression,
        list(cohort.data["patient_id"]),
        source=str(expression),
        sample_pattern=sample_pattern,
        prefetch=prefetch,
    )
    # beside the scan, one helper thread hashes the input files (hashlib releases the GIL)
    helper = ThreadPoolExecutor(max_workers=1)
    hashes = [helper.submit(sha256_file, path) for path in (clinical, expression)]
    with Progress(console=err.get(), disable=quiet, transient=True) as bar:
        task = bar.add_task("scanning genes", total=len(matrix.genes))
        result = run_scan(
            cohort, matrix, options, progress=lambda done, total: bar.update(task, completed=done)
        )
    table = result.table
    orientation = matrix.orientation
    # the matrix is not needed any more: its memory goes back before the plotting code is
    # imported and the outputs are drawn and written (the peak stays the scan's)
    del matrix
    from ikaros.report.figures import save_figure, volcano_figure

    figure = volcano_figure(table, title=f"{endpoint.upper()}: {len(table)} genes")
    clinical_sha, expression_sha = (h.result() for h in hashes)
    helper.shutdown()
    summary = {
        "scan_schema_version": SCAN_SCHEMA_VERSION,
        "command": command_line(),
        "clinical": {"source": str(clinical), "sha256": clinical_sha},
        "expression": {
            "source": str(expression),
            "sha256": expression_sha,
            "orientation": orientation,
        },
        "options": {
            "endpoint": endpoint,
            "covariates": list(options.covariates),
            "cutpoints": cutpoints,
            "minprop": minprop,
            "maxprop": maxprop,
            "block_size": block_size,
            "scheduler": scheduler,
        },
        "n": result.n,
        "events": result.events,
        "genes": len(table),
        "excluded": result.excluded,
        "notes": list(result.notes),
        "significant_cox_q05": int((table["cox_q"] < 0.05).sum()),
        "software": software_versions(
            ("numpy", "scipy", "pandas", "pyarrow", "firthmodels", "matplotlib")
        ),
        "columns": {
            "cox_*": "univariate Cox on the expression (Efron; Firth where method = firth)",
            "adj_*": "Cox adjusted for the covariates",
            "q1_*": "log-rank, lowest quartile (<= 25th percentile) vs the rest: prespecified",
            "median_*": "log-rank, <= median vs above: prespecified",
            "opt_*": "maximally selected log-rank cutpoint: optimised; use opt_p_lau94 "
            "(corrected for the search), never opt_p_unadjusted",
            "*_q*": "Benjamini-Hochberg q-values over all genes",
        },
    }
    with staged_output(out) as stage:
        _write_tables(table, stage.file("scan.parquet"), stage.file("scan.csv"))
        stage.write_text("scan_summary.json", json.dumps(summary, indent=2) + "\n")
        save_figure(figure, stage.path, "volcano")
    if quiet:
        return
    from rich.markup import escape
    from rich.table import Table

    for line in result.notes:
        note(line)
    top = table.nsmallest(10, "cox_p")
    t = Table(
        title=f"Top genes by Cox p ({endpoint.upper()}, n={result.n}, events={result.events})"
    )
    for col in ("gene", "HR (95% CI)", "p", "q", "Q1 log-rank p", "optimal cut p (corrected)"):
        t.add_column(col, justify="left" if col == "gene" else "right")
    for _, r in top.iterrows():
        t.add_row(
            escape(str(r["gene"])),
            f"{r['cox_hr']:.2f} ({r['cox_lower']:.2f}-{r['cox_upper']:.2f})",
            fmt_p(r["cox_p"]),
            fmt_p(r["cox_q"]),
            fmt_p(r["q1_logrank_p"]),
            fmt_p(r["opt_p_lau94"]) if "opt_p_lau94" in r else "-",
        )
    out_console().print(t)
    out_console().print(
        f"{summary['significant_cox_q05']} genes with Cox q < 0.05; written to {out}/ "
        "(scan.parquet, scan.csv, scan_summary.json, volcano.png/svg)"
    )


def _write_tables(table: pd.DataFrame, parquet: Path, csv: Path) -> None:
    """Write the per-gene table as Parquet and as CSV, both through one Arrow table.

    Arrow's CSV writer is multithreaded C++ (pandas ``to_csv`` formatted 20,000 genes x 35
    columns in Python for ~1 s). Missing values are empty cells, booleans ``True``/``False``
    (as pandas wrote them), numbers in the shortest form that reads back to the same double.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    pq.write_table(arrow, parquet)
    for i, field in enumerate(arrow.schema):
        if pa.types.is_boolean(field.type):
            text = pc.if_else(arrow.column(i), "True", "False")
            arrow = arrow.set_column(i, field.name, text)
    pacsv.write_csv(arrow, csv, write_options=pacsv.WriteOptions(quoting_style="needed"))
