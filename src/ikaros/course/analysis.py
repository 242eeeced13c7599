"""The course analysis plan: validated course data -> the ``course_results.json`` dictionary.

Contents (course schema 1.1; every time in months; described in ``docs/course_demo.md``):
derived quantities per patient and summarised against Geyer et al. (2023); response rates with
exact Clopper-Pearson intervals; EFS and OS by Kaplan-Meier (:mod:`ikaros.stats.km`) from the
chosen origin, for the patients treated for the SPM, and from allogeneic HCT (optionally as a
landmark, with the exclusions counted); time-varying Cox models of cumulative lenalidomide
exposure; mutation frequencies; the competing-risk section of
:mod:`ikaros.course.competing` (cumulative incidence of SPM with death competing and, given
baseline covariates, Gray's test and Fine-Gray beside cause-specific Cox).

References
----------
Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481.
Andersen PK, Gill RD. Ann Stat 1982;10:1100-1120.
Clopper CJ, Pearson ES. Biometrika 1934;26:404-413.
Geyer MB, et al. Blood Adv 2023;7:3087-3098.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ikaros.course.competing import competing_risks_section
from ikaros.course.covariates import CourseCovariates
from ikaros.course.derived import (
    ORIGINS,
    EndpointData,
    PatientCourse,
    counting_process,
    derived_table,
    endpoint_data,
    landmark_at_event,
    patient_courses,
    treated,
)
from ikaros.course.mutations import KARYOTYPE, GeneCounts, gene_counts
from ikaros.course.published import GEYER_2023
from ikaros.course.stats import clopper_pearson, fit_time_varying_cox
from ikaros.course.table import CourseData
from ikaros.errors import AnalysisError, InputError
from ikaros.stats.km import kaplan_meier

__all__ = [
    "BEST_RESPONSE_ORDER",
    "COURSE_SCHEMA_VERSION",
    "CR_CODES",
    "CourseOptions",
    "analyse_course",
    "course_json",
]

COURSE_SCHEMA_VERSION = "1.1"
#: response codes from best to worst, for a patient's best response
BEST_RESPONSE_ORDER: tuple[str, ...] = (
    "sCR", "CR", "CRi", "CRh", "VGPR", "PR", "MR", "SD", "NR", "PD",
)  # fmt: skip
#: complete remission, with or without complete haematological recovery (Geyer: "CR/CRi")
CR_CODES: tuple[str, ...] = ("sCR", "CR", "CRi")
LANDMARK_TIMES: tuple[float, ...] = (12.0, 24.0, 36.0, 60.0)


@dataclass(frozen=True)
class CourseOptions:
    """What to analyse: the time origin, the HCT landmark, the SPM type, the CI level.

    ``group_by`` and ``competing_covariates`` name columns of the baseline covariates table:
    the groups of Gray's test and the terms of the Fine-Gray and cause-specific Cox models
    (``None``: every numeric or two-level column).
    """

    origin: str = "spm"
    landmark_hct: bool = False
    spm_type: str | None = None
    conf_level: float = 0.95
    group_by: str | None = None
    competing_covariates: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise InputError(
                f"unknown --origin {self.origin!r}", remedy=f"use one of {', '.join(ORIGINS)}"
            )


def _num(x: Any) -> Any:
    """Plain Python number; NaN and infinities become None."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    value = float(x)
    return value if math.isfinite(value) else None


def _exp(x: float) -> float | None:
    """exp(x), or None when it overflows (JSON has no infinity)."""
    try:
        return math.exp(x)
    except OverflowError:
        return None


def _spread(values: pd.Series, published: dict[str, float]) -> dict[str, Any]:
    v = values.dropna().astype(float)
    out: dict[str, Any] = {"n": len(v)}
    for key, fn in (("median", np.median), ("min", np.min), ("max", np.max)):
        out[key] = _num(fn(v)) if len(v) else None
    out["q1"] = _num(np.quantile(v, 0.25)) if len(v) else None
    out["q3"] = _num(np.quantile(v, 0.75)) if len(v) else None
    out["published"] = published
    return out


def _prop(count: int, n: int, conf: float, published: Any = None) -> dict[str, Any] | None:
    if n == 0:
        return None
    p = asdict(clopper_pearson(count, n, conf_level=conf))
    if published is not None:
        p["published"] = published
    return p


def _km(ep: EndpointData | None, conf: float) -> dict[str, Any] | None:
    if ep is None or ep.n == 0:
        return None
    curve = kaplan_meier(
        ep.time, ep.event, label=f"{ep.endpoint} from {ep.origin}", conf_level=conf
    )
    med = curve.median
    return {
        "endpoint": ep.endpoint,
        "origin": ep.origin,
        "n": ep.n,
        "events": ep.events,
        "n_without_origin": ep.n_without_origin,
        "median": {"estimate": med.estimate, "lower": med.lower, "upper": med.upper},
        "at": [
            {
                "time": t,
                "survival": _num(lm.survival),
                "lower": _num(lm.lower),
                "upper": _num(lm.upper),
                "n_risk": lm.n_risk,
            }
            for t in LANDMARK_TIMES
            for lm in [curve.at(t)]
        ],
        "curve": {
            "time": [_num(x) for x in curve.time],
            "surv": [_num(x) for x in curve.surv],
            "lower": [_num(x) for x in curve.lower],
            "upper": [_num(x) for x in curve.upper],
            "n_risk": [int(x) for x in curve.n_risk],
            "n_event": [int(x) for x in curve.n_event],
            "n_censor": [int(x) for x in curve.n_censor],
        },
        "ci_method": curve.ci_method,
    }


def _best(courses: list[PatientCourse], after_spm: bool, spm_type: str | None) -> dict[str, Any]:
    rank = {c: i for i, c in enumerate(BEST_RESPONSE_ORDER)}
    best: dict[str, int] = {}
    for c in courses:
        first = c.first_spm(spm_type)
        cut = first[0] if first is not None else math.inf
        codes = [code for t, code in c.responses if (t > cut if after_spm else t <= cut)]
        if codes:
            top = min(codes, key=rank.__getitem__)
            best[top] = best.get(top, 0) + 1
    return {code: best[code] for code in BEST_RESPONSE_ORDER if code in best}


def _responses(courses: list[PatientCourse], opts: CourseOptions) -> dict[str, Any]:
    after = _best(courses, True, opts.spm_type)
    n = sum(after.values())
    cr = sum(after.get(c, 0) for c in CR_CODES)
    before = _best(courses, False, opts.spm_type)
    good = sum(before.get(c, 0) for c in ("sCR", "CR", "VGPR"))
    return {
        "after_spm": {
            "definition": "best response recorded after the first SPM (treated patients)",
            "treated": n,
            "best": after,
            "cr_cri": _prop(cr, n, opts.conf_level, GEYER_2023["cr_cri"]),
        },
        "before_spm": {
            "definition": "best IMWG response before the SPM (or in all follow-up without SPM)",
            "n": sum(before.values()),
            "best": before,
            "vgpr_or_better": _prop(good, sum(before.values()), opts.conf_level),
        },
    }


def _frequency(counts: GeneCounts, conf: float, published: Any = None) -> dict[str, Any]:
    """Altered / evaluated with its interval, and the patients not evaluated (schema 1.1)."""
    block = _prop(counts.altered, counts.evaluated, conf, published)
    if block is None:
        block = {
            "count": 0,
            "n": 0,
            "estimate": None,
            "lower": None,
            "upper": None,
            "conf_level": conf,
            "method": "Clopper-Pearson exact",
            "reason": "no patient was evaluated",
        }
        if published is not None:
            block["published"] = published
    return {**block, "not_evaluated": counts.not_evaluated}


def _mutations(data: CourseData, conf: float) -> dict[str, Any] | None:
    muts = data.mutations
    if muts is None:
        return None
    genes = {
        gene: _frequency(gene_counts(muts, gene), conf)
        for gene in sorted(set(muts["gene"]) - {KARYOTYPE})
    }
    listed = set(muts["gene"])
    return {
        "patients": int(muts["patient_id"].nunique()),
        "denominator": "patients evaluated for the gene: count/n is altered/evaluated; patients "
        "of the mutations table not evaluated (a not_evaluated row or no row for the gene) are "
        "counted in not_evaluated and left out of n",
        "genes": genes,
        "TP53": None
        if "TP53" not in listed
        else _frequency(gene_counts(muts, "TP53"), conf, GEYER_2023["TP53"]),
        "hypodiploidy": None
        if KARYOTYPE not in listed
        else _frequency(
            gene_counts(muts, KARYOTYPE, "hypodiploidy"), conf, GEYER_2023["hypodiploidy"]
        ),
    }


def _tv_cox(
    courses: list[PatientCourse], endpoint: str, origin: str, opts: CourseOptions
) -> dict[str, Any]:
    head: dict[str, Any] = {"endpoint": endpoint, "origin": origin, "covariates": ["cum_exposure"]}
    try:
        cp = counting_process(courses, endpoint, origin, spm_type=opts.spm_type)
        head.update(
            value_at=cp.value_at,
            split_at_events=cp.split_at_events,
            n_without_origin=cp.n_without_origin,
            n_zero_followup=cp.n_zero_followup,
        )
        fit = fit_time_varying_cox(cp.table, ["cum_exposure"], conf_level=opts.conf_level)
    except AnalysisError as exc:
        return {**head, "status": "not estimable", "reason": exc.message}
    term = fit.terms["cum_exposure"]
    z = float(stats.norm.isf((1.0 - opts.conf_level) / 2.0))
    if fit.events == fit.n_patients:
        head["note"] = (
            "every patient has the event (a case series): the hazard ratio describes the "
            "timing of events among cases, not the risk of the event"
        )
    return {
        **head,
        "status": "fitted",
        "n_patients": fit.n_patients,
        "n_intervals": fit.n_intervals,
        "events": fit.events,
        "ties": fit.ties,
        "terms": {k: {f: _num(v) for f, v in asdict(t).items()} for k, t in fit.terms.items()},
        "cum_exposure_per_year": {
            "hr": _exp(12 * term.coef),
            "lower": _exp(12 * (term.coef - z * term.se)),
            "upper": _exp(12 * (term.coef + z * term.se)),
        },
        "loglik": _num(fit.loglik),
        "loglik_null": _num(fit.loglik_null),
        "lr_statistic": _num(fit.lr_statistic),
        "lr_df": fit.lr_df,
        "lr_p": _num(fit.lr_p),
    }


def _landmark_counts(courses: list[PatientCourse], opts: CourseOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"event": "hct_allo", "from_origin": opts.origin}
    results = {}
    for endpoint in ("efs", "os"):
        lm = landmark_at_event(courses, endpoint, opts.origin, "hct_allo", spm_type=opts.spm_type)
        out[endpoint] = {
            "with_origin": lm.n_origin,
            "no_hct_allo_after_origin": lm.n_no_landmark,
            "excluded_event_before_hct": lm.n_event_before,
            "included": lm.data.n,
        }
        results[endpoint] = lm
    out["applied"] = opts.landmark_hct
    return {"counts": out, "fits": results}


def _check_covariates(opts: CourseOptions, covariates: CourseCovariates | None) -> None:
    if covariates is None:
        if opts.group_by is not None or opts.competing_covariates is not None:
            raise InputError(
                "--group-by and --competing-covariate need a covariates table",
                remedy="give the baseline covariates with --covariates FILE",
            )
        return
    if covariates.group_by != opts.group_by or (
        opts.competing_covariates is not None
        and tuple(covariates.model) != tuple(opts.competing_covariates)
    ):
        raise AnalysisError("the covariates table was prepared for other options")


def _input_covariates(covariates: CourseCovariates | None) -> dict[str, Any] | None:
    if covariates is None:
        return None
    return {
        "source": covariates.source,
        "sha256": covariates.sha256,
        "columns": list(covariates.values.columns),
    }


def analyse_course(
    data: CourseData,
    options: CourseOptions | None = None,
    covariates: CourseCovariates | None = None,
) -> dict[str, Any]:
    """Run the course analyses and return the ``course_results.json`` dictionary.

    Parameters
    ----------
    data
        Validated course data (with its mutations table, if any).
    options
        Origin of EFS/OS, whether EFS/OS from allogeneic HCT is a landmark analysis (patients
        with an event between the origin and HCT excluded), SPM type, confidence level, and
        the covariate columns of the competing-risk analyses.
    covariates
        Validated baseline covariates (:func:`ikaros.course.covariates.load_covariates`),
        prepared with ``options.group_by`` and ``options.competing_covariates``.

    Raises
    ------
    AnalysisError
        No patient has the chosen origin.
    InputError
        Covariate options without a covariates table.
    """
    from ikaros.study import software_versions

    opts = options or CourseOptions()
    _check_covariates(opts, covariates)
    courses = list(patient_courses(data))
    conf = opts.conf_level
    efs = endpoint_data(courses, "efs", opts.origin, spm_type=opts.spm_type)
    if efs.n == 0:
        raise AnalysisError(
            f"no patient has the time origin {opts.origin!r}; choose another --origin"
        )
    os_ = endpoint_data(courses, "os", opts.origin, spm_type=opts.spm_type)
    table = derived_table(courses, opts.spm_type)
    is_treated = [c for c in courses if treated(c, opts.spm_type)]
    spm_origin = opts.origin == "spm"
    lm = _landmark_counts(courses, opts)
    if opts.landmark_hct:
        hct_efs, hct_os = lm["fits"]["efs"].data, lm["fits"]["os"].data
    else:
        hct_efs = endpoint_data(courses, "efs", "hct_allo", spm_type=opts.spm_type)
        hct_os = endpoint_data(courses, "os", "hct_allo", spm_type=opts.spm_type)
    spm_types = table["spm_type"].dropna().value_counts()
    g = GEYER_2023
    return {
        "course_schema_version": COURSE_SCHEMA_VERSION,
        "software": software_versions(),
        "input": {
            "course": {
                "source": data.source,
                "sha256": data.sha256,
                "convention": data.convention,
                "rows": len(data.events),
            },
            "mutations": None
            if data.mutations is None
            else {"source": data.mutations_source, "sha256": data.mutations_sha256},
            "covariates": _input_covariates(covariates),
        },
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(opts).items()},
        "cohort": {
            "patients": data.n,
            "with_spm": int(table["spm"].notna().sum()),
            "spm_types": {str(k): int(spm_types[k]) for k in sorted(spm_types.index)},
            "treated_for_spm": len(is_treated),
            "with_hct_allo": int(table["hct_allo"].notna().sum()),
            "deaths": int(table["dead"].sum()),
        },
        "derived": {
            "summary": {
                "months_len_to_spm": _spread(table["months_len_to_spm"], g["months_len_to_spm"]),
                "exposure_at_spm": _spread(table["exposure_at_spm"], g["exposure_at_spm"]),
                "exposure_ongoing_at_spm": {
                    "count": int((table["exposure_ongoing_at_spm"] == True).sum()),  # noqa: E712
                    "n": int(table["spm"].notna().sum()),
                },
                "regression_after_withdrawal": {
                    "patients": int(table["regression"].sum()),
                    "published": g["regression_after_withdrawal"],
                },
            },
            "patients": [
                {k: _num(v) if k not in ("patient_id", "spm_type") else v for k, v in rec.items()}
                for rec in table.to_dict("records")
            ],
        },
        "responses": _responses(courses, opts),
        "mutations": _mutations(data, conf),
        "survival": {
            "origin": opts.origin,
            "efs": {
                "definition": "first progression after the origin, or death",
                "all": _km(efs, conf),
                "treated": _km(
                    endpoint_data(is_treated, "efs", "spm", spm_type=opts.spm_type), conf
                )
                if spm_origin
                else None,
            },
            "os": {"all": _km(os_, conf)},
            "from_hct_allo": {
                "landmark": opts.landmark_hct,
                "efs": _km(hct_efs, conf),
                "os": _km(hct_os, conf),
            },
        },
        "landmark": lm["counts"],
        "time_varying_cox": [
            _tv_cox(courses, "spm", "diagnosis", opts),
            _tv_cox(courses, "efs", opts.origin, opts),
        ],
        "competing_risks": competing_risks_section(
            courses, opts.origin, spm_type=opts.spm_type, conf_level=conf, covariates=covariates
        ),
        "notes": [
            "times are months; dates are converted at 30.4375 days per month",
            "cum_exposure: months of lenalidomide up to each event time (intervals split at "
            "every exposure change and event time); its coefficient is per month",
            "competing_risks: SPM incidence with death without SPM as the competing event "
            "(null when there is no SPM or no such death); by_group, gray_test and regression "
            "are null without baseline covariates",
        ],
    }


def course_json(results: dict[str, Any]) -> str:
    """Deterministic JSON text of a results dictionary (ends with a newline)."""
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
