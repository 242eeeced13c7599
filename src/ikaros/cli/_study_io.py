"""Running a study and writing its results (and report), shared by ``analyze``, ``demo`` and
``report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikaros.cli._common import command_line, escape, fmt_p, fmt_pct, out_console, progress

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

__all__ = [
    "REPORT_OUTPUTS",
    "competing_table",
    "grouping_table",
    "print_summaries",
    "run_and_write",
    "summary_table",
    "write_report",
]

#: what ``ikaros report`` writes; everything else in a results directory is kept when the
#: report is rendered into it again
REPORT_OUTPUTS: tuple[str, ...] = ("report.html", "report.pdf", "figures", "tables")


def _per_sd(c: Any) -> str:
    if c.hr is None or c.hr != c.hr:
        return "n/a"
    if c.hr_per_sd is None:
        return f"{c.hr:.2f} ({c.lower:.2f}-{c.upper:.2f}) per unit"
    return f"{c.hr_per_sd:.2f} ({c.lower_per_sd:.2f}-{c.upper_per_sd:.2f})"


def _landmark(lm: Any) -> str:
    return fmt_pct(lm.survival) if lm.survival is not None else "not estimable"


def _hr(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.2f}"


def _groups_cell(groups: Any) -> str:
    return " | ".join(f"{escape(k)} {_landmark(g.landmark)}" for k, g in groups.items())


def summary_table(results: Any) -> Table:
    """The console summary of the marker analyses: one row per marker x endpoint."""
    from rich.table import Table

    lm = results.options.landmark
    table = Table(title=f"Markers: survival at {lm:g} months by group, log-rank, Cox")
    heads = (
        "marker",
        "endpoint",
        "n/events",
        "groups",
        "log-rank p",
        "HR per SD (95% CI)",
        "p",
        "HR by group",
        "adj. HR per SD, p",
    )
    for col in heads:
        table.add_column(
            col, justify="left" if col in ("marker", "endpoint", "groups") else "right"
        )
    for a in results.analyses:
        c = a.cox_continuous
        firth = " (Firth)" if a.cox_group.method == "firth" else ""
        hrs = "; ".join(
            f"{escape(name.removeprefix(a.marker + ' '))} {_hr(t.hr)}"
            for name, t in a.cox_group.terms.items()
        )
        adj = "-"
        if a.cox_multivariable is not None:
            t = a.cox_multivariable.terms[a.marker]
            hr = t.hr if t.hr_per_sd is None else t.hr_per_sd
            adj = f"{_hr(hr)}, {fmt_p(t.p)}"
        table.add_row(
            escape(a.marker),
            escape(a.endpoint),
            f"{a.n}/{a.events}",
            _groups_cell(a.groups),
            fmt_p(a.logrank.p),
            _per_sd(c),
            fmt_p(c.p),
            hrs + firth,
            adj,
        )
    return table


def grouping_table(results: Any) -> Table:
    """One row per level of every --group variable and endpoint."""
    from rich.table import Table

    lm = results.options.landmark
    table = Table(title=f"Groups: survival at {lm:g} months, median, HR vs reference")
    for col in (
        "variable",
        "endpoint",
        "level",
        "n/events",
        f"{lm:g} months",
        "median",
        "HR (95% CI)",
        "log-rank p",
        "trend p",
    ):
        table.add_column(
            col, justify="left" if col in ("variable", "endpoint", "level") else "right"
        )
    for g in results.groupings:
        first = True
        for level in g.levels:
            summary = g.groups.get(level.label)
            term = (
                None
                if g.cox is None
                else g.cox.terms.get(f"{g.variable} {level.label} vs {g.reference}")
            )
            hr = (
                "reference"
                if level.reference
                else (
                    "-" if term is None else f"{_hr(term.hr)} ({_hr(term.lower)}-{_hr(term.upper)})"
                )
            )
            med = "-"
            if summary is not None:
                m = summary.median
                med = "not reached" if m.estimate is None else f"{m.estimate:.1f}"
            table.add_row(
                escape(g.label) if first else "",
                escape(g.endpoint) if first else "",
                escape(level.label),
                f"{level.n}/{level.events}",
                "-" if summary is None else _landmark(summary.landmark),
                med,
                hr,
                fmt_p(g.logrank.p) if first and g.logrank else "",
                fmt_p(g.trend.p) if first and g.trend else "",
            )
            first = False
    return table


def competing_table(results: Any) -> Table:
    """Cumulative incidence at the landmark, Gray's test, Fine-Gray vs cause-specific HR."""
    from rich.table import Table

    lm = results.options.landmark
    table = Table(title=f"Competing risks: cumulative incidence at {lm:g} months")
    for col in (
        "endpoint",
        "by",
        "group",
        "n/events/competing",
        "incidence",
        "1-KM (naive)",
        "Gray p",
    ):
        table.add_column(col, justify="left" if col in ("endpoint", "by", "group") else "right")
    for c in results.competing:
        first = True
        for name, g in c.groups.items():
            at = g.at[0]
            inc = at.note or "n/a" if at.cif is None else fmt_pct(at.cif)
            table.add_row(
                f"{escape(c.endpoint)} ({escape(c.event)})" if first else "",
                escape(c.label) if first else "",
                escape(name),
                f"{g.n}/{g.events}/{g.competing}",
                inc,
                "-" if at.naive is None else fmt_pct(at.naive),
                fmt_p(c.gray.p) if first and c.gray else "",
            )
            first = False
    return table


def print_summaries(console: Any, results: Any) -> None:
    """Every summary table that has rows."""
    if results.analyses:
        console.print(summary_table(results))
    if results.groupings:
        console.print(grouping_table(results))
    if results.competing:
        console.print(competing_table(results))


def _build_report_into(
    results: Any, directory: Path, *, quiet: bool, counts: bool, pdf: bool
) -> None:
    from ikaros.report.build import build_report, plan_figures

    total = len(plan_figures(results)) + 1 + int(pdf)
    with progress("report", total, quiet) as step:
        build_report(results, directory, counts=counts, pdf=pdf, progress=step)


def run_and_write(
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
    from ikaros.files import staged_output
    from ikaros.results import to_json
    from ikaros.study import plan_size, run_study

    with progress("analysing", plan_size(options), quiet) as step:
        results = run_study(cohort, options, progress=step, command=command_line())
    with staged_output(out) as stage:
        for name, text in extra.items():
            stage.write_text(name, text)
        stage.write_text("results.json", to_json(results))
        if report:
            _build_report_into(results, stage.path, quiet=quiet, counts=counts, pdf=pdf)
    return results


def write_report(results: Any, out: Path, *, quiet: bool, counts: bool, pdf: bool) -> None:
    """Render the report into ``out``, replacing an earlier report there as a whole."""
    from ikaros.files import staged_output

    with staged_output(out, keep_unless=REPORT_OUTPUTS) as stage:
        _build_report_into(results, stage.path, quiet=quiet, counts=counts, pdf=pdf)
    if not quiet:
        out_console().print(
            f"report written to {escape(str(out))}/ (report.html"
            f"{', report.pdf' if pdf else ''}, figures/, tables/)",
            soft_wrap=True,
        )
