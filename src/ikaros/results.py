"""The results file: typed, frozen result objects and their versioned JSON form.

``results.json`` is the contract between the engine, the report, the scan and the web layer. Its
layout is the tree of dataclasses below (field names are the JSON keys), with
``schema_version`` at the top. Reading a file of another major version raises
:class:`ikaros.errors.SchemaVersionError`. Writing is deterministic: the same results give the
same bytes (keys in schema order, floats in shortest round-trip form, NaN and infinity as
``null``). The schema is documented in ``docs/results-schema.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ikaros.errors import InputError, SchemaVersionError

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "CohortSummary",
    "CoxModel",
    "CoxTermResult",
    "Curve",
    "Exclusions",
    "GroupSummary",
    "InputInfo",
    "Interaction",
    "LandmarkResult",
    "MarkerAssociation",
    "MedianResult",
    "OptimalCut",
    "Options",
    "PHResult",
    "RankTestResult",
    "Results",
    "Subgroup",
    "TestResult",
    "from_json",
    "load_results",
    "to_json",
]

#: MAJOR.MINOR; readers accept any MINOR of their MAJOR.
SCHEMA_VERSION = "1.0"

T = TypeVar("T")


@dataclass(frozen=True)
class MedianResult:
    estimate: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class LandmarkResult:
    time: float
    survival: float
    lower: float | None
    upper: float | None
    n_risk: int
    ci_method: str


@dataclass(frozen=True)
class Curve:
    """Kaplan-Meier step data of one group, for plotting and at-risk tables."""

    time: tuple[float, ...]
    n_risk: tuple[int, ...]
    n_event: tuple[int, ...]
    n_censor: tuple[int, ...]
    surv: tuple[float, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]


@dataclass(frozen=True)
class GroupSummary:
    n: int
    events: int
    landmark: LandmarkResult
    median: MedianResult
    cutoff_low: float | None = None
    cutoff_high: float | None = None
    curve: Curve | None = None


@dataclass(frozen=True)
class TestResult:
    statistic: float
    df: int
    p: float
    method: str


@dataclass(frozen=True)
class PHResult:
    """Schoenfeld-residual test of proportional hazards (R ``cox.zph``)."""

    transform: str
    terms: dict[str, TestResult]
    global_test: TestResult


@dataclass(frozen=True)
class CoxTermResult:
    hr: float
    lower: float
    upper: float
    p: float
    coef: float
    se: float
    hr_per_sd: float | None = None
    lower_per_sd: float | None = None
    upper_per_sd: float | None = None
    sd: float | None = None


@dataclass(frozen=True)
class CoxModel:
    n: int
    events: int
    method: str
    ties: str
    ci_method: str
    p_method: str
    terms: dict[str, CoxTermResult]
    lr_statistic: float | None
    lr_df: int
    lr_p: float | None
    firth_reason: str | None = None
    ph: PHResult | None = None
    excluded: int = 0


@dataclass(frozen=True)
class Interaction:
    """Marker-by-subgroup interaction in ``marker + subgroup + marker:subgroup``."""

    term: str
    hr: float
    lower: float
    upper: float
    p_wald: float
    lr_statistic: float | None
    lr_p: float | None
    method: str


@dataclass(frozen=True)
class Subgroup:
    name: str
    n: int
    events: int
    groups: dict[str, GroupSummary]
    logrank: TestResult | None
    cox_continuous: CoxModel | None
    note: str | None = None


@dataclass(frozen=True)
class OptimalCut:
    """A data-derived cutpoint (maximally selected log-rank statistic), labelled ``optimised``.

    ``p_lau94`` / ``p_permutation`` are corrected for the search over cuts; ``logrank`` and
    ``p_unadjusted`` are those of the chosen cut alone and are NOT corrected.
    """

    cutpoint: float
    statistic: float
    p_lau94: float
    p_permutation: float | None
    n_permutations: int
    p_unadjusted: float
    minprop: float
    maxprop: float
    ci_lower: float | None
    ci_upper: float | None
    n_bootstrap: int
    groups: dict[str, GroupSummary]
    logrank: TestResult
    origin: str = "optimised"


@dataclass(frozen=True)
class Exclusions:
    missing_marker: int
    missing_endpoint: int
    total: int


@dataclass(frozen=True)
class Analysis:
    """One marker x endpoint analysis."""

    marker: str
    endpoint: str
    transform: str
    n: int
    events: int
    excluded: Exclusions
    quartiles: tuple[float, float, float]
    cut: dict[str, Any]
    groups: dict[str, GroupSummary]
    logrank: TestResult
    quartile_groups: dict[str, GroupSummary]
    logrank_quartiles: TestResult
    trend_quartiles: TestResult
    logrank_stratified: TestResult | None
    cox_continuous: CoxTermResult
    cox_univariate: CoxModel
    cox_group: CoxModel
    cox_multivariable: CoxModel | None
    cox_group_multivariable: CoxModel | None
    subgroups: tuple[Subgroup, ...]
    interaction: Interaction | None
    notes: tuple[str, ...] = ()
    optimal_cut: OptimalCut | None = None


@dataclass(frozen=True)
class RankTestResult:
    method: str
    statistic: float
    p: float
    n: int
    groups: tuple[str, ...]
    group_n: tuple[int, ...]
    group_median: tuple[float, ...]
    df: int | None = None
    z: float | None = None
    n_missing: int = 0


@dataclass(frozen=True)
class MarkerAssociation:
    """The marker against ISS stage and against best response."""

    marker: str
    iss_kruskal: RankTestResult | None
    iss_trend: RankTestResult | None
    response_mann_whitney: RankTestResult | None
    response_groups: tuple[str, str] = ("CR/VGPR", "PR/SD")
    notes: tuple[str, ...] = ()
    values_by_iss: dict[str, tuple[float, ...]] = field(default_factory=dict)
    values_by_response: dict[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSummary:
    n: int
    events: int
    not_evaluable: int
    median_followup: MedianResult


@dataclass(frozen=True)
class CohortSummary:
    n: int
    endpoints: dict[str, EndpointSummary]
    cytogenetics: dict[str, int]
    iss: dict[str, int]
    best_response: dict[str, int]
    age: dict[str, float | None] = field(default_factory=dict)
    sex: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InputInfo:
    source: str
    sha256: str | None
    rows: int
    time_unit: str
    column_map: dict[str, str]
    expression_source: str | None = None
    expression_sha256: str | None = None


@dataclass(frozen=True)
class Options:
    markers: tuple[str, ...]
    endpoints: tuple[str, ...]
    covariates: tuple[str, ...]
    transform: str
    landmark: float
    conf_level: float
    firth: str
    ci_method: str
    ties: str
    seed: int | None = None
    measurement: str | None = None
    cut: str = "quartile"


@dataclass(frozen=True)
class Results:
    schema_version: str
    ikaros_version: str
    software: dict[str, str]
    input: InputInfo
    options: Options
    cohort: CohortSummary
    analyses: tuple[Analysis, ...]
    marker_associations: tuple[MarkerAssociation, ...]
    command: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def analysis(self, marker: str, endpoint: str) -> Analysis:
        for a in self.analyses:
            if a.marker == marker and a.endpoint == endpoint:
                return a
        raise KeyError(f"no analysis of {marker} x {endpoint}")


# --------------------------------------------------------------------------- serialisation


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item") and not isinstance(value, int | float):  # numpy scalar
        value = value.item()
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(results: Results) -> str:
    """Serialise to deterministic, human-readable JSON text (ends with a newline)."""
    return json.dumps(_plain(results), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _build(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _build(non_none[0], value)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = _build(hints[f.name], value[f.name])
        return tp(**kwargs)  # type: ignore[operator]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        return tuple(_build(a, v) for a, v in zip(args, value, strict=True))
    if origin is list:
        return [_build(args[0], v) for v in value]
    if origin is dict:
        return {k: _build(args[1], v) for k, v in value.items()}
    if tp is float:
        return float("nan") if value is None else float(value)
    return value


def from_json(text: str, *, source: str = "results.json") -> Results:
    """Parse results JSON, checking the schema version and structure."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            file=source,
            remedy="re-run the analysis to write a fresh results.json",
        ) from None
    version = str(data.get("schema_version", "")) if isinstance(data, dict) else ""
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise SchemaVersionError(
            f"{source}: results schema version {version or '(none)'!r} is not supported by this "
            f"ikaros (reads {SCHEMA_VERSION.split('.')[0]}.x). Remedy: re-run the analysis with "
            "this version of ikaros, or use the ikaros version that wrote the file"
        )
    try:
        built: Results = _build(Results, data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SchemaVersionError(
            f"{source}: does not follow results schema {version} ({type(exc).__name__}: {exc}). "
            "Remedy: re-run the analysis; do not edit results.json by hand"
        ) from None
    return built


def load_results(path: str | Path) -> Results:
    """Read ``results.json`` (or the ``results.json`` inside a directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise InputError(
            "results file not found",
            file=str(p),
            remedy="give the output directory of `ikaros analyze` (it holds results.json)",
        )
    return from_json(p.read_text(encoding="utf-8"), source=str(p))
