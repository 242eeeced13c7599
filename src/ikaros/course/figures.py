"""The figures of a treatment-course analysis, written beside course_results.json.

Swimmer plot of the patient courses (up to 80 patients, beyond which lanes are unreadable),
oncoprint of the mutations table, and the cumulative incidence of SPM with death competing, with
the naive 1 - Kaplan-Meier dashed beside it; with a grouping covariate, the cumulative incidence
of SPM per group (``cumulative_incidence_by_group``).
"""

from __future__ import annotations

from pathlib import Path

from ikaros.course.competing import group_curves, spm_curves
from ikaros.course.covariates import CourseCovariates
from ikaros.course.derived import competing_risks_table, patient_courses
from ikaros.course.table import CourseData
from ikaros.report.figures import cif_figure, oncoprint_figure, save_figure, swimmer_figure

__all__ = ["MAX_SWIMMER_LANES", "course_figures"]

MAX_SWIMMER_LANES = 80


def course_figures(
    data: CourseData,
    results: dict,
    directory: Path,
    *,
    spm_type: str | None = None,
    covariates: CourseCovariates | None = None,
) -> list[str]:
    """Draw the course figures into ``directory``; returns notes on figures not drawn."""
    notes = []
    if data.n <= MAX_SWIMMER_LANES:
        events = data.events[["patient_id", "event", "month", "detail"]]
        save_figure(swimmer_figure(events), directory, "swimmer")
    else:
        notes.append(f"swimmer plot not drawn: {data.n} patients (at most {MAX_SWIMMER_LANES})")
    if data.mutations is not None and len(data.mutations):
        muts = data.mutations
        patients = list(dict.fromkeys(muts["patient_id"]))
        altered = muts.loc[muts["alteration"] != "unaltered"]
        if altered["alteration"].isin(["not_evaluated"]).all():
            notes.append("oncoprint not drawn: no patient has an alteration in the mutations table")
        else:
            save_figure(
                oncoprint_figure(altered, patients=patients, title="Mutations"),
                directory,
                "oncoprint",
            )
    cr = results.get("competing_risks")
    if cr is not None:
        spm, death, naive = spm_curves(list(patient_courses(data)), cr["origin"], spm_type=spm_type)
        fig = cif_figure(
            {"SPM": spm, "Death without SPM": death},
            naive={"SPM": naive},
            title=f"Cumulative incidence from {cr['origin']}",
        )
        save_figure(fig, directory, "cumulative_incidence")
        if covariates is not None and covariates.group_by is not None:
            _group_figure(data, cr["origin"], covariates, directory, spm_type)
    return notes


def _group_figure(
    data: CourseData,
    origin: str,
    covariates: CourseCovariates,
    directory: Path,
    spm_type: str | None,
) -> None:
    tab = competing_risks_table(list(patient_courses(data)), origin, spm_type=spm_type)
    curves = group_curves(tab, covariates)
    if not curves:
        return
    fig = cif_figure(
        {f"{covariates.group_by} = {g}": c for g, c in curves.items()},
        title=f"Cumulative incidence of SPM from {origin} by {covariates.group_by}",
    )
    save_figure(fig, directory, "cumulative_incidence_by_group")
