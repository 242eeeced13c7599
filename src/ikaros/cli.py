"""The ``ikaros`` command line: thin commands over :mod:`ikaros.study`.

Errors that ikaros raises on purpose (bad input, impossible analyses) are printed as one message
without a traceback and exit with status 2; outputs are staged and land only when complete.
Set ``IKAROS_DEBUG=1`` to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import functools
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ikaros.errors import IkarosError, InputError

__all__ = ["app", "main"]

app = typer.Typer(
    name="ikaros",
    help="Prognostic-biomarker survival analysis for multiple myeloma.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

# options shared by several commands
MapOption = Annotated[
    list[str] | None, typer.Option("--map", help="Column mapping CANONICAL=COLUMN (repeat).")
]
TimeUnitOption = Annotated[
    str, typer.Option("--time-unit", help="Unit of the time columns: days, months or years.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary output.")]


def _guard(func: F) -> F:
    """Turn ikaros errors into one message and a non-zero exit; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IkarosError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted; no output written")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("IKAROS_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
                "No output was written. This is a bug in ikaros; please report it with the "
                "command line (set IKAROS_DEBUG=1 to see the traceback).",
                soft_wrap=True,
            )
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        canonical, sep, column = item.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise InputError(
                f"--map {item!r} is not of the form CANONICAL=COLUMN",
                remedy="write e.g. --map patient_id=PatientID",
            )
        mapping[canonical.strip()] = column.strip()
    return mapping


def _fmt_p(p: float | None) -> str:
    if p is None or p != p:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _fmt_pct(s: float | None) -> str:
    return "n/a" if s is None else f"{100 * s:.0f}%"


def _out() -> Console:
    """Console for results: at least 120 columns wide, also when piped to a file."""
    probe = Console()
    return Console(width=max(probe.width, 120)) if not probe.is_terminal else probe


def _per_sd(c: Any) -> str:
    if c.hr_per_sd is None:
        return f"{c.hr:.2f} ({c.lower:.2f}-{c.upper:.2f}) per unit"
    return f"{c.hr_per_sd:.2f} ({c.lower_per_sd:.2f}-{c.upper_per_sd:.2f})"


def _summary_table(results: Any) -> Table:
    lm = results.options.landmark
    table = Table(title=f"Lowest quartile (Q1) vs Q2-4: survival at {lm:g} months, log-rank, Cox")
    heads = (
        "marker",
        "endpoint",
        "n/events",
        "Q1",
        "Q2-4",
        "log-rank p",
        "HR per SD (95% CI)",
        "p",
        "HR Q2-4 vs Q1",
        "adj. HR per SD, p",
    )
    for col in heads:
        table.add_column(col, justify="left" if col in ("marker", "endpoint") else "right")
    for a in results.analyses:
        c = a.cox_continuous
        g = a.cox_group.terms[f"{a.marker} Q2-4 vs Q1"]
        firth = " (Firth)" if a.cox_group.method == "firth" else ""
        adj = "-"
        if a.cox_multivariable is not None:
            t = a.cox_multivariable.terms[a.marker]
            hr = t.hr if t.hr_per_sd is None else t.hr_per_sd
            adj = f"{hr:.2f}, {_fmt_p(t.p)}"
        table.add_row(
            a.marker,
            a.endpoint,
            f"{a.n}/{a.events}",
            _fmt_pct(a.groups["Q1"].landmark.survival),
            _fmt_pct(a.groups["Q2-4"].landmark.survival),
            _fmt_p(a.logrank.p),
            _per_sd(c),
            _fmt_p(c.p),
            f"{g.hr:.2f}{firth}",
            adj,
        )
    return table


def _progress_step(bar: Any, task: Any) -> Any:
    def step(label: str) -> None:
        bar.update(task, description=label)
        bar.advance(task)

    return step


def _run_and_write(
    cohort: Any,
    options: Any,
    out: Path,
    quiet: bool,
    extra: dict[str, str],
    *,
    report: bool = False,
    counts: bool = False,
    pdf: bool = True,
) -> Any:
    """Analyse, then write results.json (and the report) in one staged, all-or-nothing step."""
    from rich.progress import Progress

    from ikaros.files import staged_output
    from ikaros.results import to_json
    from ikaros.study import run_study

    command = shlex.join(["ikaros", *sys.argv[1:]])
    with Progress(console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task("analysing", total=len(options.markers) * len(options.endpoints))
        results = run_study(cohort, options, progress=_progress_step(bar, task), command=command)
    with staged_output(out) as stage:
        for name, text in extra.items():
            stage.write_text(name, text)
        stage.write_text("results.json", to_json(results))
        if report:
            _build_report_into(results, stage.path, quiet=quiet, counts=counts, pdf=pdf)
    return results


def _build_report_into(
    results: Any, directory: Path, *, quiet: bool, counts: bool, pdf: bool
) -> None:
    from rich.progress import Progress

    from ikaros.report.build import build_report, plan_figures

    total = len(plan_figures(results)) + 1 + int(pdf)
    with Progress(console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task("report", total=total)
        build_report(results, directory, counts=counts, pdf=pdf, progress=_progress_step(bar, task))


def _write_report(results: Any, out: Path, *, quiet: bool, counts: bool, pdf: bool) -> None:
    from ikaros.files import staged_output

    with staged_output(out) as stage:
        _build_report_into(results, stage.path, quiet=quiet, counts=counts, pdf=pdf)
    if not quiet:
        _out().print(
            f"report written to {out}/ (report.html{', report.pdf' if pdf else ''}, figures/, "
            "tables/)"
        )


@app.command()
@_guard
def report(
    results_dir: Annotated[
        Path, typer.Argument(help="Directory holding results.json (from analyze or demo).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default: RESULTS_DIR).")
    ] = None,
    counts: Annotated[
        bool, typer.Option(help="Add cumulative events and censored counts to at-risk tables.")
    ] = False,
    pdf: Annotated[bool, typer.Option(help="Also write report.pdf.")] = True,
    quiet: QuietOption = False,
) -> None:
    """Render report.html, report.pdf, figures (PNG, SVG) and tables (CSV) from results.json."""
    from ikaros.results import load_results

    results = load_results(results_dir)
    _write_report(results, out or results_dir, quiet=quiet, counts=counts, pdf=pdf)


@app.command()
@_guard
def analyze(
    cohort: Annotated[Path, typer.Argument(help="Clinical table: CSV, TSV, XLSX or Parquet.")],
    marker: Annotated[list[str], typer.Option("--marker", "-m", help="Marker column (repeat).")],
    endpoint: Annotated[
        list[str], typer.Option("--endpoint", "-e", help="Endpoint E (E_time, E_event).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    covariate: Annotated[
        list[str] | None,
        typer.Option(
            "--covariate", "-c", help="Extra covariate for the multivariable Cox models (repeat)."
        ),
    ] = None,
    transform: Annotated[
        str, typer.Option(help="Marker scale in Cox models: none or log2.")
    ] = "none",
    landmark: Annotated[float, typer.Option(help="Landmark time in months.")] = 36.0,
    time_unit: TimeUnitOption = "months",
    map_: MapOption = None,
    firth: Annotated[str, typer.Option(help="Firth penalty: auto, never or always.")] = "auto",
    measurement: Annotated[
        str | None,
        typer.Option(help="How the markers were measured, for the report (e.g. 'RQ-PCR, dCt')."),
    ] = None,
    expression: Annotated[
        Path | None,
        typer.Option(
            "--expression",
            "-x",
            help="Table of patient_id + marker columns (e.g. from `ikaros qpcr`) joined to the "
            "cohort.",
        ),
    ] = None,
    cut: Annotated[
        str,
        typer.Option(
            help="quartile (pre-specified Q1 vs Q2-4 only) or optimal (also a maximally selected "
            "log-rank cutpoint, labelled optimised, with its search-corrected p)."
        ),
    ] = "quartile",
    cut_pmethod: Annotated[
        str, typer.Option(help="Corrected p of an optimal cut: Lau94, condMC or both.")
    ] = "Lau94",
    permutations: Annotated[int, typer.Option(help="Permutations for condMC.")] = 10000,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicates for the cutpoint CI.")] = 0,
    report: Annotated[
        bool, typer.Option("--report", help="Also write the study report (HTML, PDF, figures).")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Run the study analysis on a cohort and write OUT/results.json."""
    from ikaros.cohort import load_cohort
    from ikaros.study import StudyOptions

    options = StudyOptions(
        markers=tuple(marker),
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
    )
    if out.exists() and not out.is_dir():  # fail before the analysis, not after it
        raise InputError(
            "output path exists and is not a directory",
            file=str(out),
            remedy="choose a directory for --out",
        )
    data = load_cohort(
        cohort,
        markers=options.markers,
        endpoints=options.endpoints,
        covariates=options.covariates,
        mapping=_parse_map(map_ or []),
        time_unit=time_unit,
        expression=expression,
    )
    results = _run_and_write(data, options, out, quiet, {}, report=report)
    if not quiet:
        _out().print(_summary_table(results))
        for w in results.warnings:
            err.print(f"[yellow]note:[/] {w}")
        _out().print(f"results written to {out / 'results.json'}")


@app.command()
@_guard
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
) -> None:
    """Analyse the embedded, simulated DSMM-XII-like cohort and compare with the paper."""
    if course:
        from ikaros.course.cli import run_course_demo

        run_course_demo(out, seed=seed, quiet=quiet)
        return
    from ikaros.cohort import cohort_from_frame
    from ikaros.published import compare_with_paper
    from ikaros.simulate import DEMO_SEED, simulate_cohort
    from ikaros.study import StudyOptions

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
    results = _run_and_write(cohort, options, out, quiet, {"demo_cohort.csv": csv}, report=report)
    if quiet:
        return
    console = _out()
    console.print(_summary_table(results))
    table = Table(title="Kronke et al., Leukemia 2017 vs this simulated cohort")
    for col in ("quantity", "paper", "this cohort", "note"):
        table.add_column(col)
    for row in compare_with_paper(results):
        table.add_row(row.quantity, row.published, row.reproduced or "n/a", row.note)
    console.print(table)
    for w in results.warnings:
        err.print(f"[yellow]note:[/] {w}")
    console.print(
        f"cohort and results written to {out}/ (demo_cohort.csv, results.json"
        + (", report.html, report.pdf, figures/, tables/)" if report else ")")
    )


@app.command()
@_guard
def qpcr(
    ct_table: Annotated[
        Path, typer.Argument(help="Long Ct table: sample, gene, ct[, replicate, efficiency].")
    ],
    reference: Annotated[
        list[str], typer.Option("--reference", "-r", help="Reference gene (repeat for several).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    method: Annotated[str, typer.Option(help="delta_ct, delta_delta_ct or pfaffl.")] = "delta_ct",
    calibrator: Annotated[
        str | None, typer.Option(help="Calibrator sample (delta_delta_ct, pfaffl).")
    ] = None,
    undetermined: Annotated[
        str, typer.Option(help="Undetermined Ct policy: drop, max or error.")
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
    table = load_ct_table(ct_table, mapping=_parse_map(map_ or []))
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
        _out().print(
            f"{result.method}\n{len(result.expression)} samples x "
            f"{result.expression.shape[1]} target genes; {flagged} sample-gene pairs "
            f"with replicate SD above 0.5 Ct (see qc.csv)"
        )
        for note in result.notes:
            err.print(f"[yellow]note:[/] {note}")
        _out().print(f"written to {out}/ (expression.csv, qc.csv)")


@app.command()
@_guard
def cutpoint(
    cohort: Annotated[Path, typer.Argument(help="Clinical table with the marker.")],
    marker: Annotated[str, typer.Option("--marker", "-m", help="Marker column.")],
    endpoint: Annotated[str, typer.Option("--endpoint", "-e", help="Endpoint E.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    pmethod: Annotated[str, typer.Option(help="Lau94, condMC or both.")] = "both",
    permutations: Annotated[int, typer.Option(help="Permutations for condMC.")] = 10000,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicates for the CI.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of permutations and bootstrap.")] = 1,
    minprop: Annotated[float, typer.Option(help="Lowest quantile for a cut.")] = 0.1,
    maxprop: Annotated[float, typer.Option(help="Highest quantile for a cut.")] = 0.9,
    map_: MapOption = None,
    time_unit: TimeUnitOption = "months",
    quiet: QuietOption = False,
) -> None:
    """Optimal cutpoint of one marker (maximally selected log-rank), corrected for the search."""
    import dataclasses
    import json

    from ikaros.cohort import load_cohort
    from ikaros.cutpoints import maxstat_cutpoint
    from ikaros.files import staged_output

    if pmethod not in ("Lau94", "condMC", "both"):
        raise InputError(f"unknown --pmethod {pmethod!r}", remedy="use Lau94, condMC or both")
    data = load_cohort(
        cohort,
        markers=(marker,),
        endpoints=(endpoint,),
        mapping=_parse_map(map_ or []),
        time_unit=time_unit,
    )
    sub, excluded = data.complete([marker, f"{endpoint}_time"])
    cp = maxstat_cutpoint(
        sub[f"{endpoint}_time"],
        sub[f"{endpoint}_event"],
        sub[marker],
        minprop=minprop,
        maxprop=maxprop,
        pmethod=pmethod,  # type: ignore[arg-type]
        n_permutations=permutations,
        n_bootstrap=bootstrap,
        seed=seed,
    )
    record = {
        "marker": marker,
        "endpoint": endpoint,
        "n": len(sub),
        "excluded": excluded,
        **dataclasses.asdict(cp),
        "note": "origin 'optimised': the cut was chosen on these data. Report p_lau94 or "
        "p_permutation (corrected for the search); p_unadjusted is shown only to "
        "illustrate how misleading an uncorrected minimum p is.",
        "command": shlex.join(["ikaros", *sys.argv[1:]]),
        "seed": seed,
        "input_sha256": data.sha256,
    }
    with staged_output(out) as stage:
        stage.write_text(
            "cutpoint.json", json.dumps(record, indent=2, allow_nan=False, default=str) + "\n"
        )
    if quiet:
        return
    t = Table(title=f"Optimised cutpoint of {marker} for {endpoint.upper()} (n = {len(sub)})")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    ci = (
        "-"
        if cp.ci_lower is None
        else f"{cp.ci_lower:.4g} to {cp.ci_upper:.4g} ({cp.n_bootstrap} bootstrap)"
    )
    for name, value in (
        ("cutpoint (low: x <= cut)", f"{cp.cutpoint:.6g}"),
        ("95% CI of the cutpoint", ci),
        (
            "low / high group (events)",
            f"{cp.n_low} ({cp.events_low}) / {cp.n_high} ({cp.events_high})",
        ),
        ("max standardized log-rank statistic", f"{cp.statistic:.4f}"),
        ("p corrected, Lausen-Schumacher 1994", _fmt_p(cp.p_lau94)),
        (
            "p corrected, permutation",
            "-"
            if cp.p_permutation is None
            else f"{_fmt_p(cp.p_permutation)} (B = {cp.n_permutations})",
        ),
        ("p of the best cut, NOT corrected", _fmt_p(cp.p_unadjusted)),
    ):
        t.add_row(name, value)
    _out().print(t)
    _out().print(f"written to {out}/cutpoint.json")


@app.command()
@_guard
def scan(
    expression: Annotated[
        Path, typer.Option("--expression", "-x", help="Matrix: genes x samples or samples x genes.")
    ],
    clinical: Annotated[Path, typer.Option("--clinical", "-c", help="Clinical cohort table.")],
    endpoint: Annotated[str, typer.Option("--endpoint", "-e", help="Endpoint E.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
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
    cutpoints: Annotated[
        bool, typer.Option(help="Maximally selected log-rank cutpoints with corrected p.")
    ] = True,
    minprop: Annotated[float, typer.Option(help="Lowest quantile for a cutpoint.")] = 0.1,
    maxprop: Annotated[float, typer.Option(help="Highest quantile for a cutpoint.")] = 0.9,
    block_size: Annotated[int, typer.Option(help="Genes per block.")] = 2000,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask: threads, processes or a scheduler address.")
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Genome-wide prognostic scan: Cox, log-rank and honest cutpoints for every gene."""
    import json

    from rich.progress import Progress

    from ikaros.cohort import load_cohort
    from ikaros.files import sha256_file, staged_output
    from ikaros.report.figures import save_figure, volcano_figure
    from ikaros.scan.matrix import align_matrix, load_matrix
    from ikaros.scan.run import SCAN_SCHEMA_VERSION, ScanOptions, run_scan
    from ikaros.study import software_versions

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
        mapping=_parse_map(map_ or []),
        time_unit=time_unit,
    )
    matrix = align_matrix(
        load_matrix(expression),
        list(cohort.data["patient_id"]),
        source=str(expression),
        sample_pattern=sample_pattern,
    )
    with Progress(console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task("scanning genes", total=len(matrix.genes))
        result = run_scan(
            cohort, matrix, options, progress=lambda done, total: bar.update(task, completed=done)
        )
    table = result.table
    summary = {
        "scan_schema_version": SCAN_SCHEMA_VERSION,
        "command": shlex.join(["ikaros", *sys.argv[1:]]),
        "clinical": {"source": str(clinical), "sha256": sha256_file(clinical)},
        "expression": {
            "source": str(expression),
            "sha256": sha256_file(expression),
            "orientation": matrix.orientation,
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
        "software": software_versions(),
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
        table.to_parquet(stage.file("scan.parquet"), index=False)
        stage.write_text("scan.csv", table.to_csv(index=False, lineterminator="\n"))
        stage.write_text("scan_summary.json", json.dumps(summary, indent=2) + "\n")
        save_figure(
            volcano_figure(table, title=f"{endpoint.upper()}: {len(table)} genes"),
            stage.path,
            "volcano",
        )
    if quiet:
        return
    for line in result.notes:
        err.print(f"[yellow]note:[/] {line}")
    top = table.nsmallest(10, "cox_p")
    t = Table(
        title=f"Top genes by Cox p ({endpoint.upper()}, n={result.n}, events={result.events})"
    )
    for col in ("gene", "HR (95% CI)", "p", "q", "Q1 log-rank p", "optimal cut p (corrected)"):
        t.add_column(col, justify="left" if col == "gene" else "right")
    for _, r in top.iterrows():
        t.add_row(
            str(r["gene"]),
            f"{r['cox_hr']:.2f} ({r['cox_lower']:.2f}-{r['cox_upper']:.2f})",
            _fmt_p(r["cox_p"]),
            _fmt_p(r["cox_q"]),
            _fmt_p(r["q1_logrank_p"]),
            _fmt_p(r["opt_p_lau94"]) if "opt_p_lau94" in r else "-",
        )
    _out().print(t)
    _out().print(
        f"{summary['significant_cox_q05']} genes with Cox q < 0.05; written to {out}/ "
        "(scan.parquet, scan.csv, scan_summary.json, volcano.png/svg)"
    )


from ikaros.course.cli import course as _course_command  # noqa: E402

app.command("course")(_course_command)


user_app = typer.Typer(help="User accounts of the web workbench.", no_args_is_help=True)
app.add_typer(user_app, name="user")
DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="Workbench data directory (database, stored files).")
]


@app.command()
@_guard
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    data_dir: DataDirOption = Path("ikaros-data"),
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted upload in MB.")] = 50,
    workers: Annotated[
        int | None, typer.Option(help="Processes running analyses (default: up to 2).", min=1)
    ] = None,
) -> None:
    """Start the web workbench (upload cohorts, explore markers, run analyses, reports).

    On 127.0.0.1 no login is needed. On any other address it starts only with authentication:
    user accounts (`ikaros user add`) or a token in IKAROS_TOKEN. IKAROS_DATABASE_URL selects
    PostgreSQL (postgresql+psycopg://user:password@host/db); the default is SQLite in DATA_DIR.
    """
    from ikaros.web.server import serve as run_server
    from ikaros.web.settings import Settings

    settings = Settings.create(
        data_dir, host=host, max_upload_mb=max_upload_mb, analysis_workers=workers
    )
    run_server(settings, port)


@user_app.command("add")
@_guard
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    data_dir: DataDirOption = Path("ikaros-data"),
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a workbench user (with an own project); asks for the password."""
    from ikaros.web.auth import add_user
    from ikaros.web.db import Database
    from ikaros.web.settings import Settings

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = Settings.create(data_dir)
    db = Database(settings.database_url)
    try:
        db.migrate()
        with db.session() as s:
            add_user(s, name, password)
    finally:
        db.dispose()
    _out().print(f"user {name!r} created")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
