"""Running a study: every analysis of the plan, in order (see :mod:`ikaros.study`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ikaros import __version__
from ikaros.cohort import Cohort
from ikaros.errors import InputError
from ikaros.results import SCHEMA_VERSION, Analysis, InputInfo, Options, Results
from ikaros.stats.km import CI_METHOD
from ikaros.study._common import software_versions
from ikaros.study.competing import run_competing
from ikaros.study.grouping import run_grouping
from ikaros.study.marker import MarkerAnalysis
from ikaros.study.options import StudyOptions
from ikaros.study.performance import marker_performance
from ikaros.study.summary import associations, cohort_summary
from ikaros.study.treatment import treatment_analysis

__all__ = ["plan_size", "run_study"]

Progress = Callable[[str], None]


def _check(cohort: Cohort, options: StudyOptions) -> None:
    for names, have, kind in (
        (options.markers, cohort.markers, "marker"),
        (options.endpoints, cohort.endpoints, "endpoint"),
        (options.covariates, cohort.covariates, "covariate"),
        (options.groups, tuple(cohort.groups), "grouping variable"),
    ):
        missing = [x for x in names if x not in have]
        if missing:
            raise InputError(
                f"{kind}(s) {missing} were not validated in the cohort",
                file=cohort.source,
                remedy=f"load the cohort with these {kind}s",
            )


def plan_size(options: StudyOptions) -> int:
    """How many analyses :func:`run_study` runs (for progress bars)."""
    return (len(options.markers) + len(options.groups)) * len(options.endpoints)


def _warn_marker(a: Analysis, warnings: list[str]) -> None:
    for label, model in (
        ("group", a.cox_group),
        ("multivariable", a.cox_multivariable),
        ("group multivariable", a.cox_group_multivariable),
    ):
        if model is not None and model.method == "firth":
            warnings.append(
                f"{a.marker} x {a.endpoint}: {label} Cox fitted with Firth's "
                f"penalised likelihood because {model.firth_reason}"
            )
        elif model is not None and model.method == "none":
            warnings.append(
                f"{a.marker} x {a.endpoint}: {label} Cox not estimable: "
                f"{model.note or model.firth_reason}"
            )
    if a.cox_univariate.method == "none":
        warnings.append(
            f"{a.marker} x {a.endpoint}: Cox on the marker not estimable: "
            f"{a.cox_univariate.note or a.cox_univariate.firth_reason}"
        )
    if a.cox_univariate.ph and a.cox_univariate.ph.global_test.p < 0.05:
        warnings.append(
            f"{a.marker} x {a.endpoint}: proportional-hazards test p = "
            f"{a.cox_univariate.ph.global_test.p:.3g} for the marker"
        )


def run_study(
    cohort: Cohort,
    options: StudyOptions,
    *,
    progress: Progress | None = None,
    command: str | None = None,
) -> Results:
    """Run every analysis of the study.

    Parameters
    ----------
    cohort
        A validated cohort holding every requested marker, endpoint, covariate and grouping
        variable.
    options
        What to analyse.
    progress
        Called with a short description before each analysis.
    command
        The command line, recorded in the results for reproducibility.
    """
    _check(cohort, options)
    analyses = []
    groupings = []
    competing = []
    warnings: list[str] = list(cohort.notes)
    for endpoint in options.endpoints:
        is_competing = endpoint in cohort.competing
        for marker in options.markers:
            if progress:
                progress(f"{marker} x {endpoint}")
            if is_competing:
                c = run_competing(cohort, options, "cut", marker, endpoint)
                competing.append(c)
                warnings.extend(f"{marker} x {endpoint}: {n}" for n in c.notes)
                continue
            a = MarkerAnalysis(cohort, options, marker, endpoint).run()
            if options.performance:
                if progress:
                    progress(f"{marker} x {endpoint}: prognostic performance")
                a = replace(a, performance=marker_performance(cohort, options, marker, endpoint))
            if options.treatment is not None:
                if progress:
                    progress(f"{marker} x {endpoint} x {options.treatment}")
                a = replace(a, treatment=treatment_analysis(cohort, options, marker, endpoint))
            analyses.append(a)
            _warn_marker(a, warnings)
        for variable in options.groups:
            if progress:
                progress(f"{variable} x {endpoint}")
            if is_competing:
                c = run_competing(cohort, options, "variable", variable, endpoint)
                competing.append(c)
                warnings.extend(f"{variable} x {endpoint}: {n}" for n in c.notes)
                continue
            groupings.append(run_grouping(cohort, options, variable, endpoint))
    order = {m: i for i, m in enumerate(options.markers)}
    analyses.sort(key=lambda a: order[a.marker])  # marker-major, as before
    return Results(
        schema_version=SCHEMA_VERSION,
        ikaros_version=__version__,
        software=software_versions(),
        input=InputInfo(
            cohort.source,
            cohort.sha256,
            cohort.n,
            cohort.time_unit,
            dict(cohort.column_map),
            cohort.expression_source,
            cohort.expression_sha256,
            cohort.sheet,
            cohort.dropped,
            dict(cohort.endpoint_sources),
        ),
        options=Options(
            options.markers,
            options.endpoints,
            options.covariates,
            options.transform,
            options.landmark,
            options.conf_level,
            options.firth,
            CI_METHOD,
            "efron",
            options.seed,
            options.measurement,
            options.cut,
            options.groups,
            dict(options.references),
            {e: {str(k): v for k, v in c.items()} for e, c in cohort.competing.items()},
            options.title,
            dict(options.labels),
            options.xlim,
            options.thresholds,
            options.performance,
            options.base_model,
            options.treatment,
            options.treatment_reference,
        ),
        cohort=cohort_summary(cohort, options.endpoints),
        analyses=tuple(analyses),
        marker_associations=tuple(associations(cohort, m) for m in options.markers),
        command=command,
        warnings=tuple(warnings),
        groupings=tuple(groupings),
        competing=tuple(competing),
    )
