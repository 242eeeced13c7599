"""Survival by the levels of a clinical variable (``--group iss``, protocol, response, sex ...).

Per level: Kaplan-Meier with CIs, landmark survival and median, numbers at risk; across levels:
the k-group log-rank test and, for ordered levels (ISS I < II < III, response order, numeric
codes), the log-rank test for trend with scores 1, 2, ...; Cox regression with one indicator
per level against the reference level (``--reference COL=LEVEL``; default the first level),
and the same adjusted for the covariates. Levels without patients are reported (n = 0), not
dropped. As R: ``survfit(Surv(t, e) ~ g)``, ``survdiff``, ``coxph(Surv(t, e) ~ g)`` with
``g`` a factor whose first level is the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError, InputError
from ikaros.groups import Grouping, level_grouping
from ikaros.results import CoxModel, GroupingAnalysis, Level
from ikaros.stats.logrank import logrank, logrank_trend
from ikaros.study._common import fit_complete, km_groups
from ikaros.study.options import StudyOptions
from ikaros.summaries import cox_model, test_result

__all__ = ["level_terms", "run_grouping"]


def level_terms(variable: str, levels: tuple[str, ...], reference: str) -> dict[str, str]:
    """Cox term name -> level, every non-reference level against the reference."""
    return {f"{variable} {lv} vs {reference}": lv for lv in levels if lv != reference}


def run_grouping(
    cohort: Cohort, options: StudyOptions, variable: str, endpoint: str
) -> GroupingAnalysis:
    """The analysis of one grouping variable for one survival endpoint."""
    var = cohort.groups[variable]
    tcol, ecol = f"{endpoint}_time", f"{endpoint}_event"
    data = cohort.data
    has_endpoint = data[tcol].notna()
    has_var = var.values.notna()
    frame = data[has_endpoint & has_var]
    label = options.label(variable)
    time = frame[tcol].to_numpy(dtype=float)
    event = frame[ecol].to_numpy(dtype=np.int64)
    values = var.values[frame.index]
    counts = values.value_counts()
    present = tuple(lv for lv in var.levels if counts.get(lv, 0) > 0)
    reference = options.references.get(variable, present[0] if present else var.levels[0])
    if reference not in var.levels:
        raise InputError(
            f"--reference {variable}={reference}: {reference!r} is not a level of "
            f"{cohort.source_column(variable)!r}",
            file=cohort.source,
            column=cohort.source_column(variable),
            remedy=f"use one of its levels: {', '.join(var.levels)}",
        )
    notes: list[str] = []
    empty = [lv for lv in var.levels if counts.get(lv, 0) == 0]
    if empty:
        notes.append(
            f"{label}: no analysed patient in level(s) {', '.join(empty)} ({endpoint.upper()})"
        )
    if reference in empty:
        raise AnalysisError(
            f"{cohort.source}: the reference level {reference!r} of {label} has no patient with "
            f"{endpoint.upper()}. Remedy: choose another with --reference {variable}=LEVEL"
        )
    grouping = level_grouping(values.tolist(), present)
    events_by = {lv: int(event[grouping.codes == i].sum()) for i, lv in enumerate(present)}
    levels = tuple(
        Level(lv, int(counts.get(lv, 0)), events_by.get(lv, 0), lv == reference)
        for lv in var.levels
    )
    groups = km_groups(time, event, grouping, options.landmark, options.conf_level)
    lr = trend = None
    cox = adjusted = None
    if len(present) < 2:
        notes.append(f"{label}: only one level has patients; groups cannot be compared")
    elif event.sum() == 0:
        notes.append(f"{label}: no {endpoint.upper()} events; groups cannot be compared")
    else:
        labels = grouping.label_array()
        lr = test_result(logrank(time, event, labels, order=present), "log-rank")
        if var.ordered and len(present) > 2:
            trend = test_result(
                logrank_trend(time, event, labels, order=present),
                f"log-rank trend (scores 1-{len(present)} over {', '.join(present)})",
            )
        cox, adjusted = _cox_models(
            cohort, frame, time, event, grouping, variable, reference, options, notes
        )
    return GroupingAnalysis(
        variable=variable,
        label=label,
        endpoint=endpoint,
        ordered=var.ordered,
        reference=reference,
        n=len(frame),
        events=int(event.sum()),
        missing_variable=int((has_endpoint & ~has_var).sum()),
        missing_endpoint=int((~has_endpoint).sum()),
        levels=levels,
        groups=groups,
        logrank=lr,
        trend=trend,
        cox=cox,
        cox_adjusted=adjusted,
        notes=tuple(notes),
    )


def _cox_models(
    cohort: Cohort,
    frame: pd.DataFrame,
    time: np.ndarray,
    event: np.ndarray,
    grouping: Grouping,
    variable: str,
    reference: str,
    options: StudyOptions,
    notes: list[str],
) -> tuple[CoxModel | None, CoxModel | None]:
    codes = pd.Series(grouping.codes, index=frame.index)
    indicators: dict[str, pd.Series | str] = {
        term: (codes == grouping.labels.index(lv)).astype(float)
        for term, lv in level_terms(variable, grouping.labels, reference).items()
    }
    cox = adjusted = None
    try:
        fit, _ = fit_complete(
            frame, time, event, indicators, firth=options.firth, conf_level=options.conf_level
        )
        cox = cox_model(fit)
    except AnalysisError as exc:
        notes.append(f"Cox model by {variable} not computed: {exc}")
    covs = [c for c in options.covariates if c != variable]
    if covs and cox is not None:
        try:
            fit, excl = fit_complete(
                frame,
                time,
                event,
                {**indicators, **{c: cohort.covariate_source(c) for c in covs}},
                firth=options.firth,
                conf_level=options.conf_level,
            )
            adjusted = cox_model(fit, excluded=excl)
        except AnalysisError as exc:
            notes.append(f"adjusted Cox model by {variable} not computed: {exc}")
    return cox, adjusted
