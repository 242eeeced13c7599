"""The result objects of a study: a tree of frozen dataclasses (field names are the JSON keys).

The schema is documented in ``docs/results-schema.md``; :mod:`ikaros.results.serial` writes and
reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikaros.results import frames, serial

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "BoxStats",
    "CohortSummary",
    "CompetingAnalysis",
    "CompetingModel",
    "CompetingTerm",
    "CoxModel",
    "CoxTermResult",
    "Curve",
    "DroppedRow",
    "EndpointSummary",
    "Exclusions",
    "GroupSummary",
    "GroupingAnalysis",
    "IncidenceAt",
    "IncidenceCurve",
    "IncidenceGroup",
    "InputInfo",
    "Interaction",
    "LandmarkResult",
    "Level",
    "MarkerAssociation",
    "MedianResult",
    "OptimalCut",
    "Options",
    "PHResult",
    "RankTestResult",
    "Results",
    "Subgroup",
    "TestResult",
]

#: MAJOR.MINOR; readers accept any MINOR of their MAJOR.
SCHEMA_VERSION = "1.1"

Problem = tuple[str, str] | None


def _probability(name: str, x: float | None) -> Problem:
    if x is not None and x == x and not 0.0 <= x <= 1.0:
        return name, f"{x!r} is not a probability between 0 and 1"
    return None


def _first(*problems: Problem) -> Problem:
    return next((p for p in problems if p is not None), None)


@dataclass(frozen=True)
class MedianResult:
    estimate: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class LandmarkResult:
    """Survival at a landmark time; ``survival`` is null beyond the group's follow-up (as R's
    ``summary(survfit, times=)``), and ``note`` says why."""

    time: float
    survival: float | None
    lower: float | None
    upper: float | None
    n_risk: int
    ci_method: str
    note: str | None = None

    def _check(self) -> Problem:
        return _first(*(_probability(n, getattr(self, n)) for n in ("survival", "lower", "upper")))


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

    def _check(self) -> Problem:
        n = len(self.time)
        for name in ("n_risk", "n_event", "n_censor", "surv", "lower", "upper"):
            found = len(getattr(self, name))
            if found != n:
                return name, f"has {found} values but time has {n}"
        for name in ("surv", "lower", "upper"):
            for i, x in enumerate(getattr(self, name)):
                problem = _probability(f"{name}[{i}]", x)
                if problem:
                    return problem
        if any(x < 0 for x in (*self.n_risk, *self.n_event, *self.n_censor)):
            return "", "negative counts"
        return None


@dataclass(frozen=True)
class GroupSummary:
    n: int
    events: int
    landmark: LandmarkResult
    median: MedianResult
    cutoff_low: float | None = None
    cutoff_high: float | None = None
    curve: Curve | None = None

    def _check(self) -> Problem:
        if not 0 <= self.events <= self.n:
            return "", f"events ({self.events}) must lie between 0 and n ({self.n})"
        return None


@dataclass(frozen=True)
class TestResult:
    statistic: float
    df: int
    p: float
    method: str

    def _check(self) -> Problem:
        return _probability("p", self.p)


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
    note: str | None = None


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
    logrank_quartiles: TestResult | None
    trend_quartiles: TestResult | None
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
    trend: TestResult | None = None
    performance: dict[str, Any] | None = None
    treatment: dict[str, Any] | None = None


@dataclass(frozen=True)
class Level:
    """A level of a grouping variable; ``n`` counts the analysed patients (0: an empty level)."""

    label: str
    n: int
    events: int
    reference: bool = False


@dataclass(frozen=True)
class GroupingAnalysis:
    """Survival by the levels of a clinical variable (``--group``), for one endpoint.

    ``cox`` has one indicator term per level against the reference level; ``cox_adjusted``
    adds the covariates. ``trend`` is the log-rank test for trend over ordered levels (scores
    1, 2, ...). Empty levels are listed in ``levels`` with n = 0 and have no curve.
    """

    variable: str
    label: str
    endpoint: str
    ordered: bool
    reference: str
    n: int
    events: int
    missing_variable: int
    missing_endpoint: int
    levels: tuple[Level, ...]
    groups: dict[str, GroupSummary]
    logrank: TestResult | None
    trend: TestResult | None
    cox: CoxModel | None
    cox_adjusted: CoxModel | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidenceCurve:
    """Aalen-Johansen step data of one group: cumulative incidence of the event of interest."""

    time: tuple[float, ...]
    n_risk: tuple[int, ...]
    n_event: tuple[int, ...]
    n_competing: tuple[int, ...]
    cif: tuple[float, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]


@dataclass(frozen=True)
class IncidenceAt:
    """Cumulative incidence at a time; null beyond the group's follow-up (``note``)."""

    time: float
    cif: float | None
    lower: float | None
    upper: float | None
    naive: float | None
    note: str | None = None

    def _check(self) -> Problem:
        return _first(*(_probability(n, getattr(self, n)) for n in ("cif", "lower", "upper")))


@dataclass(frozen=True)
class IncidenceGroup:
    n: int
    events: int
    competing: int
    at: tuple[IncidenceAt, ...]
    curve: IncidenceCurve | None = None


@dataclass(frozen=True)
class CompetingTerm:
    """One covariate: Fine-Gray subdistribution HR beside the cause-specific HR."""

    fine_gray: CoxTermResult | None
    cause_specific: CoxTermResult | None
    note: str | None = None


@dataclass(frozen=True)
class CompetingModel:
    """Fine-Gray and cause-specific Cox models with the same terms."""

    name: str
    n: int
    events: int
    competing: int
    terms: dict[str, CompetingTerm]
    note: str | None = None


@dataclass(frozen=True)
class CompetingAnalysis:
    """A competing-risk endpoint by one grouping (a marker cut or a variable).

    ``groups`` holds the Aalen-Johansen cumulative incidence of the event of interest; ``naive``
    in each :class:`IncidenceAt` is 1 - Kaplan-Meier (competing events treated as censoring),
    shown only as the labelled contrast. ``gray`` is Gray's test across groups.
    """

    endpoint: str
    event: str
    competing_causes: tuple[str, ...]
    kind: str
    name: str
    label: str
    n: int
    events: int
    competing: int
    groups: dict[str, IncidenceGroup]
    gray: TestResult | None
    models: tuple[CompetingModel, ...]
    cut: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()
    missing_variable: int = 0
    missing_endpoint: int = 0


@dataclass(frozen=True)
class DroppedRow:
    row: int
    column: str | None
    value: str | None
    reason: str


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

    def _check(self) -> Problem:
        return _probability("p", self.p)


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
    box_stats: dict[str, BoxStats] = field(default_factory=dict)


@dataclass(frozen=True)
class BoxStats:
    """Exact box-plot statistics of a group (Tukey whiskers at 1.5 IQR, within the data).

    Stored for every group; the group's ``values`` are then all patients' values, or, for
    groups of more than :data:`ikaros.study.summary.MAX_POINTS` patients, a seeded random
    sample of that many (``sampled``: the points show the distribution, the box is exact).
    """

    n: int
    q1: float
    median: float
    q3: float
    whisker_low: float
    whisker_high: float
    sampled: bool = False


@dataclass(frozen=True)
class EndpointSummary:
    """``not_evaluable`` patients of the file have no usable time for the endpoint; their reasons
    (``not_evaluable_reasons``: reason -> count) say why."""

    n: int
    events: int
    not_evaluable: int
    median_followup: MedianResult
    not_evaluable_reasons: dict[str, int] = field(default_factory=dict)

    def _check(self) -> Problem:
        if not 0 <= self.events <= self.n:
            return "", f"events ({self.events}) must lie between 0 and n ({self.n})"
        return None


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
    sheet: str | None = None
    dropped: tuple[DroppedRow, ...] = ()
    endpoint_sources: dict[str, str] = field(default_factory=dict)


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
    groups: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)
    competing: dict[str, dict[str, str]] = field(default_factory=dict)
    title: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    xlim: float | None = None
    cut_values: tuple[float, ...] = ()
    performance: bool = False
    base_model: tuple[str, ...] = ()
    treatment: str | None = None
    treatment_reference: str | None = None


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
    groupings: tuple[GroupingAnalysis, ...] = ()
    competing: tuple[CompetingAnalysis, ...] = ()

    # -- convenience views (thin: the work is in ikaros.results.frames / .serial) -------------
    def to_frame(self) -> pd.DataFrame:
        """Every model term: one row per analysis x model x term, numeric columns (``hr``,
        ``lower``, ``upper``, ``p``, ``coef``, ``se``, ``n``, ``events``, per-SD HRs)."""
        return frames.models_frame(self)

    def groups_frame(self) -> pd.DataFrame:
        """One row per group: n, events, landmark survival (or incidence) with CI, median."""
        return frames.groups_frame(self)

    def tests_frame(self) -> pd.DataFrame:
        """One row per test: log-rank, trend, stratified, Gray, interaction."""
        return frames.tests_frame(self)

    def to_json(self) -> str:
        """The deterministic ``results.json`` text."""
        return serial.to_json(self)

    @classmethod
    def from_json(cls, path: str | Path) -> Results:
        """Read a ``results.json`` file (or the one inside a results directory)."""
        return serial.load_json(path, cls, SCHEMA_VERSION)

    def analysis(self, marker: str, endpoint: str) -> Analysis:
        for a in self.analyses:
            if a.marker == marker and a.endpoint == endpoint:
                return a
        raise KeyError(f"no analysis of {marker} x {endpoint}")
