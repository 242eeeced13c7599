"""Course results on the console and the course demo, shared by ``course`` and ``demo``.

References
----------
Geyer MB, et al. Lenalidomide-associated B-cell ALL: clinical and pathologic correlates and
sensitivity to lenalidomide withdrawal. Blood Adv 2023;7:3087-3098.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from ikaros.cli._common import check_out, note, out_console

__all__ = ["COVARIATES_FILE", "RESULTS_FILE", "run_course_demo", "summary"]

RESULTS_FILE = "course_results.json"
COVARIATES_FILE = "course_covariates.csv"
_DEMO_COVARIATES = ("age", "arm")


def _fmt_median(km: dict[str, Any] | None) -> str:
    if km is None:
        return "-"
    m = km["median"]
    if m["estimate"] is None:
        return f"not reached ({km['events']}/{km['n']} events)"
    return f"{m['estimate']:.1f} ({km['events']}/{km['n']} events)"


def summary(results: dict[str, Any]) -> Table:
    s = results["survival"]
    table = Table(title=f"Treatment course: {results['cohort']['patients']} patients")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    d = results["derived"]["summary"]
    for key, label in (
        ("months_len_to_spm", "months first lenalidomide -> SPM, median (range)"),
        ("exposure_at_spm", "cumulative exposure at SPM, median (range)"),
    ):
        b = d[key]
        value = "-" if not b["n"] else f"{b['median']:.1f} ({b['min']:.1f}-{b['max']:.1f})"
        table.add_row(label, value)
    cr = results["responses"]["after_spm"]["cr_cri"]
    if cr:
        table.add_row(
            "CR/CRi after SPM (95% CI)",
            f"{cr['count']}/{cr['n']} ({100 * cr['lower']:.0f}-{100 * cr['upper']:.0f}%)",
        )
    table.add_row(f"median EFS from {s['origin']}", _fmt_median(s["efs"]["all"]))
    table.add_row(f"median OS from {s['origin']}", _fmt_median(s["os"]["all"]))
    table.add_row("median EFS from allogeneic HCT", _fmt_median(s["from_hct_allo"]["efs"]))
    for model in results["time_varying_cox"]:
        name = f"{model['endpoint']} from {model['origin']} ~ cumulative exposure"
        if model["status"] != "fitted":
            table.add_row(name, model["status"])
            continue
        y = model["cum_exposure_per_year"]
        if "note" in model:
            name += " (case series: timing, not risk)"
        table.add_row(
            name + ", HR per year",
            f"{y['hr']:.2f} ({y['lower']:.2f}-{y['upper']:.2f}), "
            f"p {model['terms']['cum_exposure']['p']:.3g}",
        )
    _competing_rows(table, results.get("competing_risks"))
    return table


def _fmt_hr(term: dict[str, Any] | None, digits: int = 3) -> str:
    if term is None or term["hr"] is None:
        return "-"
    lo, hi = term["lower"], term["upper"]
    ci = "-" if lo is None or hi is None else f"{lo:.{digits}f}-{hi:.{digits}f}"
    return f"{term['hr']:.{digits}f} ({ci}), p {term['p']:.3g}"


def _competing_rows(table: Table, cr: dict[str, Any] | None) -> None:
    """Gray's test and the Fine-Gray vs cause-specific hazard ratios of SPM, if estimated."""
    if cr is None:
        return
    gray = cr.get("gray_test")
    if gray is not None:
        value = (
            f"chi2 {gray['statistic']:.2f}, df {gray['df']}, p {gray['p']:.3g}"
            if gray["status"] == "tested"
            else gray["status"]
        )
        table.add_row(f"Gray's test, SPM incidence by {escape(str(gray['column']))}", value)
    reg = cr.get("regression")
    if reg is None:
        return
    for name, both in reg["terms"].items():
        shown = escape(str(name))
        table.add_row(f"SPM ~ {shown}: Fine-Gray SHR (95% CI)", _fmt_hr(both["fine_gray"]))
        table.add_row(f"SPM ~ {shown}: cause-specific HR (95% CI)", _fmt_hr(both["cause_specific"]))


def run_course_demo(out: Path, seed: int | None = None, quiet: bool = False) -> None:
    """Body of ``ikaros demo --course``: simulate, analyse and compare with Geyer et al. 2023.

    Writes ``course_events.csv``, ``course_mutations.csv`` and ``course_results.json`` (the
    32-patient B-ALL series, origin SPM, HCT landmark) and ``maintenance/course_events.csv``,
    ``maintenance/course_covariates.csv``, ``maintenance/course_results.json`` (300-patient
    maintenance cohort with baseline age and arm, origin diagnosis, grouped by arm, Fine-Gray
    and cause-specific Cox on age and arm) to ``out``, all or nothing. ``seed`` replaces both
    demo seeds.
    """
    from ikaros.course.analysis import CourseOptions, analyse_course, course_json
    from ikaros.course.covariates import covariates_from_frame
    from ikaros.course.figures import course_figures
    from ikaros.course.published import compare_with_published
    from ikaros.course.simulate import (
        BALL_SEED,
        MAINTENANCE_DEMO_PARAMETERS,
        MAINTENANCE_SEED,
        simulate_ball_cohort,
        simulate_maintenance_cohort,
    )
    from ikaros.course.table import course_from_frame, with_mutations
    from ikaros.files import staged_output
    from ikaros.report.course_report import build_course_report

    check_out(out)
    ball = simulate_ball_cohort(BALL_SEED if seed is None else seed)
    maint = simulate_maintenance_cohort(
        MAINTENANCE_SEED if seed is None else seed, MAINTENANCE_DEMO_PARAMETERS
    )
    outputs: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    datasets: dict[str, Any] = {}
    covs: dict[str, Any] = {}
    for prefix, sim, origin, landmark in (
        ("", ball, "spm", True),
        ("maintenance/", maint, "diagnosis", False),
    ):
        events_csv = sim.events.to_csv(index=False, lineterminator="\n")
        outputs[prefix + "course_events.csv"] = events_csv
        cells = sim.events.astype(str).where(sim.events.notna(), None)
        data = course_from_frame(cells, source=sim.description)
        if sim.mutations is not None:
            outputs[prefix + "course_mutations.csv"] = sim.mutations.to_csv(
                index=False, lineterminator="\n"
            )
            data = with_mutations(data, sim.mutations, source=sim.description + " mutations")
        opts = CourseOptions(origin=origin, landmark_hct=landmark)
        covs[prefix] = None
        if sim.covariates is not None:
            opts = CourseOptions(
                origin=origin, group_by="arm", competing_covariates=_DEMO_COVARIATES
            )
            text = sim.covariates.to_csv(index=False, lineterminator="\n")
            outputs[prefix + COVARIATES_FILE] = text
            covs[prefix] = covariates_from_frame(
                sim.covariates.astype(str),
                data.patients,
                source=sim.description + " covariates",
                group_by="arm",
                model=_DEMO_COVARIATES,
            )
        res = analyse_course(data, opts, covs[prefix])
        outputs[prefix + RESULTS_FILE] = course_json(res)
        results[prefix] = res
        datasets[prefix] = data
    with staged_output(out) as stage:
        for name, text in outputs.items():
            stage.write_text(name, text)
        for prefix, data in datasets.items():
            course_figures(
                data, results[prefix], stage.path / prefix / "figures", covariates=covs[prefix]
            )
            build_course_report(results[prefix], stage.path / prefix)
    if quiet:
        return
    console = out_console()
    console.print(summary(results[""]))
    table = Table(title="Geyer et al., Blood Adv 2023 vs this simulated cohort")
    for col in ("quantity", "paper", "this cohort"):
        table.add_column(col)
    for row in compare_with_published(results[""]):
        table.add_row(row.quantity, row.published, row.this_cohort)
    console.print(table)
    console.print(summary(results["maintenance/"]))
    note(
        "simulated data (docs/course_demo.md); the maintenance cohort's SPM "
        "hazard has a true HR of 1.25 per year of cumulative exposure, 2 for arm B; age raises "
        "only the death hazard (HR 2.5 per 10 years), so its Fine-Gray SHR for SPM lies below "
        "its cause-specific HR"
    )
    console.print(
        f"written to {out}/ (course_events.csv, course_mutations.csv, course_results.json, "
        "maintenance/)"
    )
