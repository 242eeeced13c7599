"""The ``ipd_results.json`` file: typed, frozen result objects and their versioned JSON form.

Layout: :class:`IPDResults` at the top with ``ipd_schema_version`` (MAJOR.MINOR; readers accept
any MINOR of their MAJOR), the options, one :class:`ArmResult` per reconstructed Kaplan-Meier
arm, the :class:`Comparison` of every arm with the reference arm (the first), the k-arm log-rank
test when there are more than two arms, and the reconstructed cumulative-incidence arms with
Gray's test. Field names are the JSON keys; NaN and infinity are written as ``null``; the same
results give the same bytes. Documented in ``docs/ipd.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ikaros.errors import InputError
from ikaros.ipd.digitised import Cleaning
from ikaros.results import serial

__all__ = [
    "IPD_SCHEMA_VERSION",
    "ArmResult",
    "Comparison",
    "CompetingArmResult",
    "CurveFit",
    "GroupTest",
    "IPDOptions",
    "IPDResults",
    "IncidenceAt",
    "InputFile",
    "IntervalResult",
    "LandmarkSummary",
    "MedianSummary",
    "RMSTDifferenceSummary",
    "RMSTSummary",
    "ipd_from_json",
    "ipd_to_json",
    "load_ipd_results",
]

IPD_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class InputFile:
    source: str
    sha256: str | None


@dataclass(frozen=True)
class IntervalResult:
    """An at-risk interval: published and reconstructed numbers at its end (``None``: last)."""

    start: float
    end: float | None
    n_start: int
    n_end_published: int | None
    n_end_reconstructed: int
    events: int
    censored: int


@dataclass(frozen=True)
class CurveFit:
    """Reconstructed curve vs the cleaned digitised curve, at the digitised times."""

    max_abs_difference: float
    at_time: float
    mean_abs_difference: float
    points: int


@dataclass(frozen=True)
class MedianSummary:
    """Median with its interval; ``None`` = not reached."""

    estimate: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class LandmarkSummary:
    time: float
    survival: float
    lower: float | None
    upper: float | None
    n_risk: int


@dataclass(frozen=True)
class RMSTSummary:
    tau: float
    estimate: float
    se: float
    lower: float
    upper: float


@dataclass(frozen=True)
class RMSTDifferenceSummary:
    tau: float
    estimate: float
    se: float
    lower: float
    upper: float
    p: float


@dataclass(frozen=True)
class ArmResult:
    """One reconstructed Kaplan-Meier arm.

    ``method``: ``"at_risk"`` (published numbers at risk), ``"total_events"`` (number of
    patients and total events only) or ``"none"`` (number of patients only: less reliable).
    """

    name: str
    curve: InputFile
    at_risk: InputFile | None
    cleaning: Cleaning
    method: str
    reliable: bool
    n: int
    events: int
    censored: int
    total_events_published: int | None
    total_events_matched: bool | None
    intervals: tuple[IntervalResult, ...]
    at_risk_mismatches: int
    inserted_points: int
    extended_to: float | None
    fit: CurveFit
    median: MedianSummary
    landmarks: tuple[LandmarkSummary, ...]
    rmst: RMSTSummary | None
    ipd_file: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """``arm`` vs ``reference`` on the reconstructed data: Cox HR, log-rank, RMST difference.

    ``reliable`` is false when either arm was reconstructed without an at-risk table or a
    total number of events: its censoring is assumed, and the HR and p-values may be biased.
    """

    arm: str
    reference: str
    hr: float
    lower: float
    upper: float
    p: float
    coef: float
    se: float
    cox_method: str
    firth_reason: str | None
    ph_p: float | None
    logrank_statistic: float
    logrank_df: int
    logrank_p: float
    rmst_difference: RMSTDifferenceSummary | None
    reliable: bool


@dataclass(frozen=True)
class IncidenceAt:
    time: float
    incidence: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class CompetingArmResult:
    """One arm reconstructed from two digitised cumulative-incidence curves and an at-risk table.

    Status codes of its ``ipd_file``: 0 censored, 1 the event, 2 the competing event.
    """

    name: str
    event_curve: InputFile
    competing_curve: InputFile
    at_risk: InputFile
    event_cleaning: Cleaning
    competing_cleaning: Cleaning
    n: int
    events: int
    competing_events: int
    censored: int
    intervals: tuple[IntervalResult, ...]
    at_risk_mismatches: int
    event_fit: CurveFit
    competing_fit: CurveFit
    event_at: tuple[IncidenceAt, ...]
    competing_at: tuple[IncidenceAt, ...]
    ipd_file: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupTest:
    """A test across several arms: k-arm log-rank, or Gray's test of cumulative incidence."""

    method: str
    groups: tuple[str, ...]
    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class IPDOptions:
    endpoint: str
    time_unit: str
    tau: float | None
    tau_rule: str
    landmarks: tuple[float, ...]
    conf_level: float
    reference: str | None


@dataclass(frozen=True)
class IPDResults:
    ipd_schema_version: str
    ikaros_version: str
    software: dict[str, str]
    options: IPDOptions
    arms: tuple[ArmResult, ...]
    comparisons: tuple[Comparison, ...]
    overall_logrank: GroupTest | None
    competing_arms: tuple[CompetingArmResult, ...]
    gray_test: GroupTest | None
    command: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def arm(self, name: str) -> ArmResult:
        for a in self.arms:
            if a.name == name:
                return a
        raise KeyError(f"no reconstructed arm {name!r}")


def ipd_to_json(results: IPDResults) -> str:
    """Deterministic, human-readable JSON text (ends with a newline)."""
    return serial.dumps(results)


def ipd_from_json(text: str, *, source: str = "ipd_results.json") -> IPDResults:
    """Parse ``ipd_results.json``, checking the schema version, structure and types."""
    return serial.from_json(
        text,
        IPDResults,
        IPD_SCHEMA_VERSION,
        source=source,
        version_key="ipd_schema_version",
        what="IPD results",
        command="ikaros ipd",
    )


def load_ipd_results(path: str | Path) -> IPDResults:
    """Read ``ipd_results.json`` (or the one inside a directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / "ipd_results.json"
    if not p.is_file():
        raise InputError(
            "IPD results file not found",
            file=str(p),
            remedy="give the output directory of `ikaros ipd` (it holds ipd_results.json)",
        )
    return ipd_from_json(p.read_text(encoding="utf-8"), source=str(p))
