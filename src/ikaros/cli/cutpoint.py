"""``ikaros cutpoint``: the maximally selected log-rank cutpoint of one marker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ikaros.cli._common import (
    MapOption,
    OutOption,
    QuietOption,
    TimeUnitOption,
    check_out,
    command_line,
    fmt_p,
    guard,
    out_console,
    parse_map,
)
from ikaros.errors import InputError

__all__ = ["cutpoint"]


@guard
def cutpoint(
    cohort: Annotated[Path, typer.Argument(help="Clinical table with the marker.")],
    marker: Annotated[str, typer.Option("--marker", "-m", help="Marker column.")],
    endpoint: Annotated[str, typer.Option("--endpoint", "-e", help="Endpoint E.")],
    out: OutOption,
    pmethod: Annotated[
        str, typer.Option(help="Corrected p-value method.", metavar="[Lau94|condMC|both]")
    ] = "both",
    permutations: Annotated[int, typer.Option(help="Permutations for condMC.")] = 10000,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicates for the CI.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of permutations and bootstrap.")] = 1,
    minprop: Annotated[float, typer.Option(help="Lowest quantile for a cut.")] = 0.1,
    maxprop: Annotated[float, typer.Option(help="Highest quantile for a cut.")] = 0.9,
    map_: MapOption = None,
    time_unit: TimeUnitOption = "months",
    sheet: Annotated[
        str | None, typer.Option(help="Excel: the sheet to read (default: the active sheet).")
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Display label of the marker in the figure.")
    ] = None,
    figure: Annotated[
        bool,
        typer.Option(
            "--figure/--no-figure",
            help="Also draw cutpoint.png/svg: the search over cuts and survival at the cut.",
        ),
    ] = True,
    quiet: QuietOption = False,
) -> None:
    """Optimal cutpoint of one marker (maximally selected log-rank), corrected for the search."""
    import dataclasses
    import json

    from rich.markup import escape
    from rich.table import Table

    from ikaros.cohort import load_cohort
    from ikaros.cutpoints import maxstat_cutpoint
    from ikaros.files import staged_output

    if pmethod not in ("Lau94", "condMC", "both"):
        raise InputError(f"unknown --pmethod {pmethod!r}", remedy="use Lau94, condMC or both")
    check_out(out)
    data = load_cohort(
        cohort,
        markers=(marker,),
        endpoints=(endpoint,),
        mapping=parse_map(map_),
        time_unit=time_unit,
        sheet=sheet,
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
        "command": command_line(),
        "seed": seed,
        "input_sha256": data.sha256,
        "input_sheet": data.sheet,
    }
    with staged_output(out) as stage:
        stage.write_text(
            "cutpoint.json", json.dumps(record, indent=2, allow_nan=False, default=str) + "\n"
        )
        if figure:
            _draw(stage.path, sub, marker, endpoint, cp, minprop, maxprop, label)
    if quiet:
        return
    t = Table(
        title=f"Optimised cutpoint of {escape(marker)} for {escape(endpoint.upper())} "
        f"(n = {len(sub)})"
    )
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
        ("p corrected, Lausen-Schumacher 1994", fmt_p(cp.p_lau94)),
        (
            "p corrected, permutation",
            "-"
            if cp.p_permutation is None
            else f"{fmt_p(cp.p_permutation)} (B = {cp.n_permutations})",
        ),
        ("p of the best cut, NOT corrected", fmt_p(cp.p_unadjusted)),
    ):
        t.add_row(name, value)
    console = out_console()
    console.print(t)
    console.print(
        f"written to {out}/cutpoint.json" + (" and cutpoint.png/svg" if figure else ""),
        markup=False,
    )


def _draw(
    directory: Any,
    sub: Any,
    marker: str,
    endpoint: str,
    cp: Any,
    minprop: float,
    maxprop: float,
    label: str | None,
) -> None:
    """The cutpoint figure, from the same statistics and groups as cutpoint.json."""
    import numpy as np

    from ikaros.cutpoints import optimal_grouping, standardized_statistics
    from ikaros.groups import quartiles
    from ikaros.report.figures import save_figure
    from ikaros.report.figures.cutpoint import cutpoint_figure
    from ikaros.stats.km import kaplan_meier
    from ikaros.summaries import group_summaries

    time = sub[f"{endpoint}_time"].to_numpy(dtype=float)
    event = sub[f"{endpoint}_event"].to_numpy(dtype=np.int64)
    x = sub[marker].to_numpy(dtype=float)
    stats = standardized_statistics(time, event, x, minprop=minprop, maxprop=maxprop)
    grouping = optimal_grouping(x, cp)
    curves = [
        kaplan_meier(time[grouping.codes == i], event[grouping.codes == i], label=name)
        for i, name in enumerate(grouping.labels)
    ]
    groups = group_summaries(curves, grouping, 36.0)
    fig = cutpoint_figure(
        stats, cp, groups, marker=label or marker, endpoint=endpoint, q1=quartiles(x)[0]
    )
    save_figure(fig, directory, "cutpoint")
