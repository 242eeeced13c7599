"""The results of a study: frozen result objects (:mod:`.model`) and ``results.json``
(:mod:`.serial`), the contract between the engine, the report, the scan and the web layer."""

from __future__ import annotations

from pathlib import Path

from ikaros.results import serial as _serial
from ikaros.results.model import (
    SCHEMA_VERSION,
    Analysis,
    BoxStats,
    CohortSummary,
    CompetingAnalysis,
    CompetingModel,
    CompetingTerm,
    CoxModel,
    CoxTermResult,
    Curve,
    DroppedRow,
    EndpointSummary,
    Exclusions,
    GroupingAnalysis,
    GroupSummary,
    IncidenceAt,
    IncidenceCurve,
    IncidenceGroup,
    InputInfo,
    Interaction,
    LandmarkResult,
    Level,
    MarkerAssociation,
    MedianResult,
    OptimalCut,
    Options,
    PHResult,
    RankTestResult,
    Results,
    Subgroup,
    TestResult,
)


def to_json(results: Results) -> str:
    """Serialise to deterministic, human-readable JSON text (ends with a newline)."""
    return _serial.to_json(results)


def from_json(text: str, *, source: str = "results.json") -> Results:
    """Parse results JSON, checking the schema version, structure, types and ranges."""
    return _serial.from_json(text, Results, SCHEMA_VERSION, source=source)


def load_results(path: str | Path) -> Results:
    """Read ``results.json`` (or the ``results.json`` inside a directory)."""
    return _serial.load_json(path, Results, SCHEMA_VERSION)


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
    "from_json",
    "load_results",
    "to_json",
]
