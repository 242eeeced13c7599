"""A competing-risk endpoint (``--competing E``) by a grouping: a marker's cut or a variable.

``E_event`` holds 0 = censored, 1 = the event of interest (e.g. progression), 2, 3, ... =
competing causes (e.g. death without progression). Per group: the Aalen-Johansen cumulative
incidence of the event of interest with its ``cmprsk::cuminc`` variance and log(-log) interval,
the numbers at risk, and at the landmark the incidence beside the naive 1 - Kaplan-Meier (which
treats competing events as censoring and overstates the incidence; shown only as the labelled
contrast). Across groups: Gray's test. Models: the Fine-Gray subdistribution hazard ratio beside
the cause-specific hazard ratio, for the marker (continuous) or the levels (indicators), alone
and with the covariates.

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.
Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing risk.
Ann Stat 1988;16:1141-1154.
Latouche A, Allignol A, Beyersmann J, Labopin M, Fine JP. A competing risks analysis should
report results on all cause-specific hazards and cumulative incidence functions. J Clin
Epidemiol 2013;66:648-653.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError
from ikaros.groups import Grouping, level_grouping, make_grouping
from ikaros.results import (
    CompetingAnalysis,
    CompetingModel,
    CompetingTerm,
    CoxTermResult,
    IncidenceAt,
    IncidenceCurve,
    IncidenceGroup,
    TestResult,
)
from ikaros.stats.competing import (
    FineGrayTerm,
    aalen_johansen,
    cause_specific_cox,
    fine_gray,
    gray_test,
    one_minus_km,
)
from ikaros.study._common import design, transformed
from ikaros.study.grouping import level_terms
from ikaros.study.marker import cut_record, group_terms
from ikaros.study.options import StudyOptions
from ikaros.summaries import cox_term

__all__ = ["EXPLANATION", "run_competing"]

#: why the two hazard ratios differ, in plain language (in the results and the report)
EXPLANATION = (
    "The Fine-Gray subdistribution hazard ratio (SHR) describes the effect on the cumulative "
    "incidence of the event, the probability of having had it by a given time; it includes "
    "effects that act through the competing events, because a patient who has had one can no "
    "longer have the event. The cause-specific hazard ratio (CSHR) describes the effect on the "
    "rate of the event among patients still free of every event. They differ when the variable "
    "also changes the competing events. Report both: the CSHR for aetiology, the SHR for the "
    "incidence a patient can expect (Latouche et al. 2013)."
)


def _opt(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _incidence(
    time: np.ndarray,
    status: np.ndarray,
    grouping: Grouping,
    causes: dict[int, str],
    options: StudyOptions,
) -> dict[str, IncidenceGroup]:
    present = [lab for i, lab in enumerate(grouping.labels) if (grouping.codes == i).any()]
    cat = pd.Categorical(grouping.label_array().tolist(), categories=present)
    curves = aalen_johansen(
        time, status, groups=cat, cause_labels=causes, conf_level=options.conf_level
    )
    naive = one_minus_km(
        time, status, 1, groups=cat, cause_labels=causes, conf_level=options.conf_level
    )
    event_name = causes[1]
    out = {}
    for i, label in enumerate(grouping.labels):
        m = grouping.codes == i
        if not m.any():
            continue
        c = curves[label][event_name]
        others = [curves[label][name] for code, name in causes.items() if code != 1]
        n_comp = np.sum([o.n_event for o in others], axis=0) if others else 0 * c.n_event
        last = float(time[m].max())
        if options.landmark > last:
            at = IncidenceAt(
                options.landmark,
                None,
                None,
                None,
                None,
                note=f"not estimable (follow-up ends at {last:.4g} months)",
            )
        else:
            est, lo, hi = c.at(options.landmark)
            nv, _, _ = naive[label].at(options.landmark)
            at = IncidenceAt(options.landmark, est, lo, hi, nv)
        curve = IncidenceCurve(
            time=tuple(float(v) for v in c.time),
            n_risk=tuple(int(v) for v in c.n_risk),
            n_event=tuple(int(v) for v in c.n_event),
            n_competing=tuple(int(v) for v in np.asarray(n_comp)),
            cif=tuple(float(v) for v in c.estimate),
            lower=tuple(_opt(v) for v in c.lower),
            upper=tuple(_opt(v) for v in c.upper),
        )
        out[label] = IncidenceGroup(
            n=int(m.sum()),
            events=int((status[m] == 1).sum()),
            competing=int((status[m] > 1).sum()),
            at=(at,),
            curve=curve,
        )
    return out


def _term(t: FineGrayTerm) -> CoxTermResult:
    return CoxTermResult(t.hr, t.lower, t.upper, t.p, t.coef, t.se)


def _models(
    frame: pd.DataFrame,
    time: np.ndarray,
    status: np.ndarray,
    sets: list[tuple[str, dict[str, pd.Series | str]]],
    causes: dict[int, str],
    options: StudyOptions,
) -> tuple[CompetingModel, ...]:
    out = []
    for name, columns in sets:
        d = design(frame, columns)
        keep = d.notna().all(axis=1).to_numpy()
        x, t, s = d[keep].reset_index(drop=True), time[keep], status[keep]
        terms: dict[str, CompetingTerm] = {}
        note = None
        fg = cs = None
        try:
            fg = fine_gray(t, s, x, 1, conf_level=options.conf_level, cause_labels=causes)
        except AnalysisError as exc:
            note = f"Fine-Gray not computed: {exc}"
        try:
            cs = cause_specific_cox(
                t, s, x, 1, cause_labels=causes, conf_level=options.conf_level, ph_test=False
            )
        except AnalysisError as exc:
            note = (note + "; " if note else "") + f"cause-specific Cox not computed: {exc}"
        if fg is not None and fg.note:
            note = (note + "; " if note else "") + f"Fine-Gray: {fg.note}"
        if cs is not None and cs.method == "firth":
            note = (note + "; " if note else "") + (
                f"cause-specific Cox by Firth's penalised likelihood: {cs.firth_reason}"
            )
        for term in x.columns:
            f_t = fg.terms.get(term) if fg is not None else None
            c_t = cox_term(cs, term) if cs is not None and term in cs.terms else None
            f_res = _term(f_t) if f_t is not None and np.isfinite(f_t.hr) else None
            terms[str(term)] = CompetingTerm(f_res, c_t)
        out.append(
            CompetingModel(
                name=name,
                n=int(keep.sum()),
                events=int((s == 1).sum()),
                competing=int((s > 1).sum()),
                terms=terms,
                note=note,
            )
        )
    return tuple(out)


def run_competing(
    cohort: Cohort, options: StudyOptions, kind: str, name: str, endpoint: str
) -> CompetingAnalysis:
    """Competing-risk analysis of ``endpoint`` by a marker (``kind="cut"``) or a variable."""
    causes = {int(k): str(v) for k, v in cohort.competing[endpoint].items()}
    if 1 not in causes:
        raise AnalysisError(
            f"{cohort.source}: endpoint {endpoint!r} has no event of interest (code 1). Remedy: "
            "code the event of interest 1 and competing causes 2, 3, ..."
        )
    tcol, ecol = f"{endpoint}_time", f"{endpoint}_event"
    data = cohort.data
    values = data[name] if kind == "cut" else cohort.groups[name].values
    has_endpoint, has_value = data[tcol].notna(), values.notna()
    frame = data[has_endpoint & has_value]
    time = frame[tcol].to_numpy(dtype=float)
    status = frame[ecol].to_numpy(dtype=np.int64)
    if (status == 1).sum() == 0:
        raise AnalysisError(
            f"{cohort.source}: {name} x {endpoint}: no event of interest ({causes[1]}). Remedy: "
            "check the cause codes (1 = event of interest)"
        )
    covs = [c for c in options.covariates if c != name]
    notes: list[str] = []
    cut = None
    if kind == "cut":
        try:
            grouping = make_grouping(
                frame[name], options.cut_kind, name=name, thresholds=options.thresholds
            )
        except AnalysisError as exc:
            raise AnalysisError(
                f"{cohort.source}, column {cohort.source_column(name)!r} ({endpoint}): {exc}"
            ) from None
        if options.optimal:
            notes.append(
                "--cut optimal: an optimised cut is not searched for competing-risk endpoints (no "
                "maximally "
                "selected statistic for cumulative incidence is implemented); the pre-specified "
                "quartile cut is used"
            )
        cut = cut_record(grouping, options.cut_kind)
        x = transformed(cohort, frame, name, options.transform)
        ind = {
            t: pd.Series((grouping.codes == c).astype(float), index=frame.index)
            for t, c in group_terms(name, grouping).items()
        }
        sets: list[tuple[str, dict[str, pd.Series | str]]] = [
            (f"{name} (continuous)", {name: x}),
            (f"{name} groups", dict(ind)),
        ]
        if covs:
            sets.append(
                (f"{name} + covariates", {name: x, **{c: cohort.covariate_source(c) for c in covs}})
            )
    else:
        var = cohort.groups[name]
        vals = var.values[frame.index]
        present = tuple(lv for lv in var.levels if (vals == lv).any())
        grouping = level_grouping(vals.tolist(), present)
        reference = options.references.get(name, present[0])
        if reference not in var.levels:
            from ikaros.errors import InputError

            raise InputError(
                f"--reference {name}={reference}: {reference!r} is not a level of "
                f"{cohort.source_column(name)!r}",
                file=cohort.source,
                column=cohort.source_column(name),
                remedy=f"use one of its levels: {', '.join(var.levels)}",
            )
        if reference not in present:
            raise AnalysisError(
                f"{cohort.source}: the reference level {reference!r} of {name} has no patient "
                f"with {endpoint}. Remedy: choose another with --reference {name}=LEVEL"
            )
        codes = pd.Series(grouping.codes, index=frame.index)
        ind = {
            t: (codes == grouping.labels.index(lv)).astype(float)
            for t, lv in level_terms(name, present, reference).items()
        }
        sets = [(f"{name} levels", dict(ind))]
        if covs:
            sets.append(
                (
                    f"{name} levels + covariates",
                    {**ind, **{c: cohort.covariate_source(c) for c in covs}},
                )
            )
        empty = [lv for lv in var.levels if lv not in present]
        if empty:
            notes.append(f"no analysed patient in level(s) {', '.join(empty)}")
    groups = _incidence(time, status, grouping, causes, options)
    gray = None
    if len(groups) >= 2:
        try:
            g = gray_test(time, status, grouping.label_array(), 1, cause_labels=causes)
            gray = TestResult(g.statistic, g.df, g.p, "Gray's test (rho = 0)")
        except AnalysisError as exc:
            notes.append(f"Gray's test not computed: {exc}")
    return CompetingAnalysis(
        endpoint=endpoint,
        event=causes[1],
        competing_causes=tuple(v for k, v in sorted(causes.items()) if k != 1),
        kind=kind,
        name=name,
        label=options.label(name),
        n=len(frame),
        events=int((status == 1).sum()),
        competing=int((status > 1).sum()),
        groups=groups,
        gray=gray,
        models=_models(frame, time, status, sets, causes, options),
        cut=cut,
        notes=tuple(notes),
        missing_variable=int((has_endpoint & ~has_value).sum()),
        missing_endpoint=int((~has_endpoint).sum()),
    )
