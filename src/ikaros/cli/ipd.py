"""``ikaros ipd``: individual patient data reconstructed from published Kaplan-Meier curves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ikaros.cli._common import (
    OutOption,
    QuietOption,
    TimeUnitOption,
    check_out,
    command_line,
    escape,
    fmt_p,
    guard,
    out_console,
)
from ikaros.errors import InputError

if TYPE_CHECKING:
    from ikaros.ipd.run import ArmSpec, CompetingSpec

__all__ = ["ipd"]

ArmOption = Annotated[
    list[str] | None,
    typer.Option(
        "--arm",
        help="A Kaplan-Meier arm: NAME=CURVE.csv[:ATRISK.csv] (repeat; the first is the "
        "reference). CURVE: digitised time, survival (0-1 or %); ATRISK: time, number at risk.",
        metavar="NAME=CURVE[:ATRISK]",
    ),
]
CifOption = Annotated[
    list[str] | None,
    typer.Option(
        "--cif",
        help="A competing-risks arm: NAME=EVENT.csv,COMPETING.csv:ATRISK.csv, the digitised "
        "cumulative incidences of the event and of the competing event (repeat).",
        metavar="NAME=EVENT,COMPETING:ATRISK",
    ),
]


def _split_name(option: str, item: str, form: str) -> tuple[str, str]:
    name, sep, rest = item.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise InputError(
            f"{option} {item!r} is not of the form {form}", remedy=f"write {option} {form}"
        )
    return name.strip(), rest.strip()


def _counts(option: str, items: list[str] | None, arms: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items or []:
        name, value = _split_name(option, item, "NAME=N")
        try:
            number = int(value)
        except ValueError:
            raise InputError(
                f"{option} {item!r}: {value!r} is not a whole number",
                remedy=f"write {option} {name}=N with the published number",
            ) from None
        if name not in arms:
            raise InputError(
                f"{option} {item!r} names an arm that no --arm gives",
                remedy=f"use one of: {', '.join(arms) or '(no --arm given)'}",
            )
        if name in out:
            raise InputError(f"{option} is given twice for arm {name!r}", remedy="give it once")
        out[name] = number
    return out


def _arm_specs(
    items: list[str], events: list[str] | None, patients: list[str] | None
) -> list[ArmSpec]:
    from ikaros.ipd.run import ArmSpec

    parsed = []
    for item in items:
        name, files = _split_name("--arm", item, "NAME=CURVE.csv[:ATRISK.csv]")
        curve, sep, at_risk = files.rpartition(":") if ":" in files else (files, "", "")
        if sep and (not curve or not at_risk):
            raise InputError(
                f"--arm {item!r}: a file name is missing around ':'",
                remedy="write --arm NAME=CURVE.csv or --arm NAME=CURVE.csv:ATRISK.csv",
            )
        parsed.append((name, Path(curve), Path(at_risk) if sep else None))
    names = [p[0] for p in parsed]
    n_events = _counts("--events", events, names)
    n_patients = _counts("--patients", patients, names)
    return [
        ArmSpec(name, curve, table, n_events.get(name), n_patients.get(name))
        for name, curve, table in parsed
    ]


def _cif_specs(items: list[str]) -> list[CompetingSpec]:
    from ikaros.ipd.run import CompetingSpec

    specs = []
    form = "NAME=EVENT.csv,COMPETING.csv:ATRISK.csv"
    for item in items:
        name, files = _split_name("--cif", item, form)
        curves, sep, at_risk = files.rpartition(":")
        parts = [p.strip() for p in curves.split(",")] if sep else []
        if not sep or not at_risk or len(parts) != 2 or not all(parts):
            raise InputError(
                f"--cif {item!r} is not of the form {form}",
                remedy="give both digitised incidence curves and the at-risk table (required "
                "for competing risks)",
            )
        specs.append(CompetingSpec(name, Path(parts[0]), Path(parts[1]), Path(at_risk)))
    return specs


@guard
def ipd(
    out: OutOption,
    arm: ArmOption = None,
    cif: CifOption = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--events", help="Published total events of an arm (repeat).", metavar="NAME=N"
        ),
    ] = None,
    patients: Annotated[
        list[str] | None,
        typer.Option(
            "--patients",
            help="Number of patients of an arm without an at-risk table (repeat).",
            metavar="NAME=N",
        ),
    ] = None,
    tau: Annotated[
        float | None,
        typer.Option(help="RMST restriction time, months (default: shortest follow-up)."),
    ] = None,
    landmark: Annotated[
        list[float] | None,
        typer.Option("--landmark", help="Landmark time for survival, months (repeat)."),
    ] = None,
    endpoint: Annotated[
        str, typer.Option(help="Endpoint name E of the E_time/E_event columns written.")
    ] = "pfs",
    time_unit: TimeUnitOption = "months",
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write figures and ipd_report.html.")
    ] = True,
    quiet: QuietOption = False,
) -> None:
    """Reconstruct patient data from digitised Kaplan-Meier curves (Guyot 2012) and compare arms."""
    from rich.table import Table

    from ikaros.ipd.report import write_ipd_outputs
    from ikaros.ipd.run import run_ipd
    from ikaros.output import staged_output

    check_out(out)
    arms = _arm_specs(arm or [], events, patients)
    competing = _cif_specs(cif or [])
    run = run_ipd(
        arms,
        competing,
        endpoint=endpoint,
        time_unit=time_unit,
        tau=tau,
        landmarks=landmark or (),
        command=command_line(),
    )
    with staged_output(out) as stage:
        write_ipd_outputs(run, stage.path, report=report)
    if quiet:
        return
    res = run.results
    console = out_console()
    if res.arms:
        t = Table(title="Reconstructed arms")
        for col in ("arm", "from", "n", "events", "censored", "median (95% CI)", "max |diff|"):
            t.add_column(col, justify="left" if col in ("arm", "from") else "right")
        for a in res.arms:
            m = a.median
            med = "not reached" if m.estimate is None else f"{m.estimate:.1f}"
            if m.estimate is not None:
                lo = "NR" if m.lower is None else f"{m.lower:.1f}"
                hi = "NR" if m.upper is None else f"{m.upper:.1f}"
                med += f" ({lo}-{hi})"
            t.add_row(
                escape(a.name),
                a.method.replace("_", " "),
                str(a.n),
                str(a.events),
                str(a.censored),
                med,
                f"{a.fit.max_abs_difference:.3f}",
            )
        console.print(t)
    for c in res.comparisons:
        d = c.rmst_difference
        rmst = (
            ""
            if d is None
            else f"; RMST difference to {d.tau:.3g} months {d.estimate:.2f} "
            f"({d.lower:.2f} to {d.upper:.2f})"
        )
        flag = "" if c.reliable else " [unreliable: an arm lacks at-risk table and events]"
        console.print(
            f"{c.arm} vs {c.reference}: HR {c.hr:.2f} ({c.lower:.2f}-{c.upper:.2f}), "
            f"P {fmt_p(c.p)}; log-rank P {fmt_p(c.logrank_p)}{rmst}{flag}",
            markup=False,
        )
    for cr in res.competing_arms:
        console.print(
            f"{cr.name} (competing risks): {cr.n} patients, {cr.events} events, "
            f"{cr.competing_events} competing events, {cr.censored} censored",
            markup=False,
        )
    for a in res.arms:
        for w in a.warnings:
            console.print(f"warning: {a.name}: {w}", markup=False)
    console.print(f"written to {out}", markup=False)
