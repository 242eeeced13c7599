"""``ikaros model``: the degradation-threshold model (lenalidomide, CRBN-mediated degradation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import (
    MapOption,
    OutOption,
    QuietOption,
    TimeUnitOption,
    check_out,
    command_line,
    escape,
    fmt_p,
    guard,
    out_console,
    parse_map,
)
from ikaros.errors import InputError

__all__ = ["model"]


def _parse_params(items: list[str] | None, theta: float | None) -> dict[str, float]:
    """``--param NAME=VALUE`` options (and ``--theta``) as a dict of floats."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not name.strip() or number != number:
            raise InputError(
                f"--param {item!r} is not of the form NAME=NUMBER",
                remedy="write e.g. --param ec50=200 (names in docs/model.md)",
            )
        out[name.strip()] = number
    if theta is not None:
        out["theta"] = theta
    return out


@guard
def model(
    cohort: Annotated[
        Path | None, typer.Argument(help="Clinical table with the marker (or use --demo).")
    ] = None,
    marker: Annotated[
        str, typer.Option("--marker", "-m", help="CRBN substrate: IKZF1, IKZF3 or BSG.")
    ] = "IKZF1",
    out: OutOption = Path("ikaros-model"),
    demo: Annotated[
        bool, typer.Option("--demo", help="Use the simulated DSMM-XII-like demo cohort.")
    ] = False,
    dose: Annotated[float, typer.Option(help="Daily lenalidomide dose (mg).")] = 25.0,
    schedule: Annotated[
        str,
        typer.Option(help="21/28 (days 1-21 of 28), continuous, or DAYS/CYCLE such as 14/21."),
    ] = "21/28",
    endpoint: Annotated[
        str, typer.Option("--endpoint", "-e", help="Endpoint for survival and the fit.")
    ] = "pfs",
    cycles: Annotated[int, typer.Option(help="Treatment cycles simulated (1-12).")] = 2,
    theta: Annotated[
        float | None, typer.Option(help="Critical protein level (default 0.1, assumed).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="Change a model parameter NAME=VALUE (repeat).", metavar="NAME=VALUE"
        ),
    ] = None,
    crcl: Annotated[
        str | None,
        typer.Option(help="Column with creatinine clearance (mL/min) to scale CL/F."),
    ] = None,
    fit_theta: Annotated[
        bool,
        typer.Option(
            "--fit-theta",
            help="Also estimate theta from the endpoint (profile likelihood, search-corrected P).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the permutation P of --fit-theta.")] = 1,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write figures and model_report.html.")
    ] = True,
    map_: MapOption = None,
    time_unit: TimeUnitOption = "months",
    quiet: QuietOption = False,
) -> None:
    """Degradation-threshold model: predicted lenalidomide sensitivity from IKZF1/IKZF3/BSG mRNA.

    A hypothesis-generating model of the Oncotarget letter's Figure 1 (see docs/model.md).
    """
    from ikaros.files import staged_output
    from ikaros.model.parameters import default_parameters
    from ikaros.model.pk import check_dose, parse_schedule
    from ikaros.model.predict import Regimen

    # every option is checked before any data are read
    if demo and cohort is not None:
        raise InputError(
            "give either a cohort file or --demo, not both", remedy="drop one of the two"
        )
    if not demo and cohort is None:
        raise InputError(
            "no cohort given",
            remedy="give a clinical table (ikaros model cohort.csv ...) or --demo",
        )
    overrides = _parse_params(param, theta)
    params = default_parameters(marker).replace(**overrides)
    Regimen(check_dose(dose), parse_schedule(schedule), cycles).check(params)
    check_out(out)

    from ikaros.model.report import write_model_outputs
    from ikaros.model.run import demo_cohort, run_model, software_versions

    if demo:
        data = demo_cohort(marker)
    else:
        from ikaros.cohort import load_cohort

        assert cohort is not None
        data = load_cohort(
            cohort,
            markers=(marker,),
            endpoints=(endpoint,),
            covariates=(crcl,) if crcl else (),
            mapping=parse_map(map_),
            time_unit=time_unit,
        )
    result = run_model(
        data,
        marker,
        endpoint=endpoint,
        dose_mg=dose,
        schedule=schedule,
        n_cycles=cycles,
        overrides=overrides,
        crcl_column=crcl,
        fit=fit_theta,
        seed=seed,
        command=command_line(),
        software=software_versions(),
    )
    with staged_output(out) as stage:
        write_model_outputs(result, stage.path, figures=report)
    if quiet:
        return
    from rich.table import Table

    o = result.options
    t = Table(title=f"Degradation-threshold model: {escape(marker)}, {o.dose_mg:g} mg {o.schedule}")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    n = len(result.patients)
    rows = [
        ("patients analysed", f"{n} of {result.input.n_patients}"),
        ("critical relative mRNA m*", f"{result.critical_m:.3f}"),
        ("predicted sensitive", f"{result.n_sensitive} ({100 * result.n_sensitive / n:.0f}%)"),
        (
            f"log-rank {o.endpoint.upper()}, sensitive vs resistant",
            fmt_p(result.logrank_p) if result.logrank_p is not None else result.logrank_note,
        ),
    ]
    fit = result.theta_fit
    if fit is not None:
        rows.append(
            (
                "fitted theta (m*), corrected P",
                "not estimable"
                if fit.theta is None
                else f"{fit.theta:.3g} ({fit.critical_m:.3g}), P = {fmt_p(fit.p_lau94)}",
            )
        )
    for name, value in rows:
        t.add_row(escape(name), escape(value))
    console = out_console()
    console.print(t)
    console.print(
        "Hypothesis-generating model: the turnover and threshold parameters are assumed.",
        markup=False,
    )
    console.print(f"written to {out}/ (model.json, model_report.html)", markup=False)
