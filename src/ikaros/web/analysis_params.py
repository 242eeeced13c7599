"""The parameters of a study analysis (everything ``ikaros analyze`` offers), checked against
the cohort before the analysis is queued, and turned into :class:`ikaros.study.StudyOptions` by
the worker. The API takes them as JSON, the cohort page as a form; both end here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from ikaros.errors import InputError

__all__ = [
    "AnalysisRequest",
    "check_request",
    "cohort_columns",
    "load_for",
    "no_control_characters",
    "study_options",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def no_control_characters(value: str) -> str:
    """Text stored and shown on pages: no control characters (PostgreSQL text cannot hold NUL)."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _cut(value: str) -> str:
    from ikaros.study import parse_cut

    try:
        parse_cut(value)
    except InputError as exc:
        raise ValueError(exc.message) from None
    return value.strip()


Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=500), AfterValidator(no_control_characters)]


class AnalysisRequest(BaseModel):
    """Parameters of a study analysis (as ``ikaros analyze``).

    ``cut``: ``quartile`` (Q1 vs Q2-4, the default), ``median``, ``tertile``,
    ``upper-quartile``, ``optimal`` (also a maximally selected cut, with its search-corrected p)
    or increasing thresholds ``"3.5,5.5"`` (k thresholds give k + 1 groups). Competing-risk
    endpoints (declared in the cohort's mapping) are analysed with cumulative incidence, Gray's
    test and Fine-Gray models.

    ``treatment`` (a grouping variable with two levels; ``treatment_reference`` one of them):
    the exploratory treatment-by-marker analysis of ``--treatment``. ``performance`` (with
    ``base_model`` covariates and ``performance_bootstrap`` replicates): the prognostic
    performance of ``--performance``.
    """

    markers: list[Name] = Field(default_factory=list, max_length=50)
    endpoints: list[Name] | None = Field(default=None, min_length=1, max_length=10)
    groups: list[Name] = Field(default_factory=list, max_length=20)
    covariates: list[Name] = Field(default_factory=list, max_length=20)
    references: dict[Name, Name] = Field(default_factory=dict, max_length=20)
    cut: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_cut)] = "quartile"
    landmark: float = Field(default=36.0, gt=0, le=600)
    transform: Literal["none", "log2"] = "none"
    xlim: float | None = Field(default=None, gt=0, le=1200)
    title: Text | None = None
    measurement: Text | None = None
    treatment: Name | None = None
    treatment_reference: Name | None = None
    performance: bool = False
    base_model: list[Name] = Field(default_factory=list, max_length=20)
    performance_bootstrap: int = Field(default=200, ge=0, le=2000)
    report: bool = True


def cohort_columns(variables: Mapping[str, Any] | None, markers: list[str]) -> dict[str, Any]:
    """What a cohort offers the form: markers, grouping variables (with levels), covariates, and
    the grouping variables with two levels (possible treatments)."""
    v = dict(variables or {})
    groups = {g["name"]: list(g["levels"]) for g in v.get("groups", [])}
    covariates = list(dict.fromkeys([*v.get("covariates", []), *markers]))
    treatments = [g for g, levels in groups.items() if len(levels) == 2]
    return {
        "markers": markers,
        "groups": groups,
        "covariates": covariates,
        "treatments": treatments,
    }


def check_request(
    body: AnalysisRequest, markers: list[str], endpoints: list[str], variables: Any
) -> dict[str, Any]:
    """The stored parameters of ``body`` for a cohort; InputError naming what is wrong."""
    cols = cohort_columns(variables, markers)
    problems = []
    for what, names, have in (
        ("marker", body.markers, markers),
        ("grouping variable", body.groups, list(cols["groups"])),
        ("covariate", body.covariates, cols["covariates"]),
    ):
        unknown = [n for n in names if n not in have]
        if unknown:
            problems.append(f"unknown {what}(s) {unknown}; this cohort has {have}")
    chosen = body.endpoints or list(endpoints)
    bad = [e for e in chosen if e not in endpoints]
    if bad:
        problems.append(f"unknown endpoint(s) {bad}; this cohort has {endpoints}")
    for group, level in body.references.items():
        if group not in body.groups:
            problems.append(f"reference for {group!r}, which is not a grouping variable chosen")
        elif level not in cols["groups"].get(group, []):
            problems.append(f"{level!r} is not a level of {group!r}: {cols['groups'][group]}")
    if not body.markers and not body.groups:
        problems.append("choose at least one marker or grouping variable")
    problems += _treatment_problems(body, cols)
    unknown = [n for n in body.base_model if n not in cols["covariates"]]
    if unknown:
        problems.append(
            f"unknown base-model variable(s) {unknown}; this cohort has {cols['covariates']}"
        )
    if problems:
        raise InputError("; ".join(problems), remedy="choose from the cohort's columns")
    params = body.model_dump()
    params["markers"] = list(dict.fromkeys(body.markers))
    params["groups"] = list(dict.fromkeys(body.groups))
    params["covariates"] = list(dict.fromkeys(body.covariates))
    params["base_model"] = list(dict.fromkeys(body.base_model))
    params["endpoints"] = chosen
    study_options(params)  # the option checks of the command line (marker and group, ...)
    return params


def _treatment_problems(body: AnalysisRequest, cols: Mapping[str, Any]) -> list[str]:
    """What is wrong with the treatment and its reference level (nothing without a treatment)."""
    if body.treatment is None:
        return (
            [] if body.treatment_reference is None else ["a treatment reference needs a treatment"]
        )
    groups, two = cols["groups"], cols["treatments"]
    if body.treatment not in groups:
        return [
            f"unknown treatment {body.treatment!r}; this cohort's two-level variables are {two}"
        ]
    levels = [str(v) for v in groups[body.treatment]]
    if len(levels) != 2:
        return [
            f"the treatment {body.treatment!r} has {len(levels)} levels {levels}; the "
            f"treatment-by-marker analysis compares two (two-level variables: {two})"
        ]
    if body.treatment_reference is not None and body.treatment_reference not in levels:
        return [f"{body.treatment_reference!r} is not a level of {body.treatment!r}: {levels}"]
    return []


def study_options(params: Mapping[str, Any]) -> Any:
    """The :class:`ikaros.study.StudyOptions` of stored parameters (InputError if invalid)."""
    from ikaros.study import StudyOptions

    return StudyOptions(
        markers=tuple(params.get("markers", ())),
        endpoints=tuple(params["endpoints"]),
        covariates=tuple(params.get("covariates", ())),
        groups=tuple(params.get("groups", ())),
        references=dict(params.get("references") or {}),
        cut=str(params.get("cut", "quartile")),
        landmark=float(params.get("landmark", 36.0)),
        transform=str(params.get("transform", "none")),
        xlim=params.get("xlim"),
        title=params.get("title") or None,
        measurement=params.get("measurement") or None,
        treatment=params.get("treatment") or None,
        treatment_reference=params.get("treatment_reference") or None,
        performance=bool(params.get("performance", False)),
        base_model=tuple(params.get("base_model", ())),
        performance_bootstrap=int(params.get("performance_bootstrap", 200)),
    )


def load_for(
    path: Path, name: str, mapping: Any, params: Mapping[str, Any], expression: Any
) -> Any:
    """The cohort as the analysis reads it: its markers, groups and covariates validated."""
    from ikaros.web.ingest import load_stored

    options = study_options(params)
    return load_stored(
        path,
        name,
        mapping,
        options.markers,
        options.load_groups,
        options.load_covariates,
        expression,
    )
