"""Uploaded cohort files: validation with every problem listed row by row, and the overview.

Validation is :func:`ikaros.cohort.cohort_from_frame`, the same as on the command line. It stops at
the first problem; to list them all, the offending row is set aside and validation repeated,
up to :data:`MAX_ERRORS` problems. Problems that are not about one row (a missing column, an
unreadable file) end the list.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ikaros.cohort import CYTO_COLUMNS, Cohort, cohort_from_frame
from ikaros.errors import InputError
from ikaros.files import read_table, sha256_file
from ikaros.stats.km import median_followup

__all__ = ["MAX_ERRORS", "Problem", "detect_markers", "load_stored", "overview", "validate_file"]

MAX_ERRORS = 200
_NOT_MARKERS = {
    "patient_id",
    "iss",
    "best_response",
    "cyto_high_risk",
    "sex",
    "age",
    *CYTO_COLUMNS,
}


@dataclass(frozen=True)
class Problem:
    """One validation problem, as shown on the upload page."""

    row: int | None
    column: str | None
    value: str | None
    problem: str
    remedy: str | None
    message: str

    @classmethod
    def from_error(cls, exc: InputError) -> Problem:
        value = None if exc.value is None else str(exc.value)
        return cls(exc.row, exc.column, value, exc.problem, exc.remedy, exc.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "problem": self.problem,
            "remedy": self.remedy,
            "message": self.message,
        }


def _relabel(exc: InputError, name: str) -> InputError:
    """The same error, naming the uploaded file instead of its storage path."""
    return InputError(
        exc.problem,
        file=name,
        row=exc.row,
        column=exc.column,
        value=exc.value,
        remedy=exc.remedy,
        has_value=exc.value is not None,
    )


def _read(path: Path, name: str) -> pd.DataFrame:
    try:
        return read_table(path, what="cohort")
    except InputError as exc:
        raise _relabel(exc, name) from None


def _looks_numeric(values: pd.Series) -> bool:
    cells = values.dropna()
    if cells.empty:
        return False
    parsed = pd.to_numeric(cells.astype(str), errors="coerce")
    return bool(parsed.notna().mean() >= 0.8)


def detect_markers(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Endpoints (``E`` with an ``E_time`` column) and marker candidates (other numeric columns)."""
    endpoints = [m.group(1) for c in frame.columns if (m := re.fullmatch(r"(.+)_time", str(c)))]
    taken = {f"{e}_{s}" for e in endpoints for s in ("time", "event")} | _NOT_MARKERS
    markers = [c for c in frame.columns if c not in taken and _looks_numeric(frame[c])]
    return endpoints, markers


def validate_file(
    path: Path, name: str, time_unit: str = "months"
) -> tuple[Cohort | None, list[Problem]]:
    """Validate a stored upload; returns the cohort (if valid) and every problem found."""
    try:
        frame = _read(path, name)
    except InputError as exc:
        return None, [Problem.from_error(exc)]
    endpoints, markers = detect_markers(frame)
    if not markers:
        return None, [
            Problem(
                None,
                None,
                None,
                "no numeric marker column found",
                "add at least one numeric column of marker values (e.g. IKZF1)",
                f"{name}: no numeric marker column found. Remedy: add at least one numeric "
                "column of marker values (e.g. IKZF1)",
            )
        ]
    problems: list[Problem] = []
    work = frame
    while True:
        try:
            cohort = cohort_from_frame(
                work, source=name, markers=markers, endpoints=endpoints, time_unit=time_unit
            )
        except InputError as exc:
            problems.append(Problem.from_error(exc))
            if exc.row is None or exc.row not in work.index or len(problems) >= MAX_ERRORS:
                return None, problems
            work = work.drop(index=exc.row)
            continue
        return (None, problems) if problems else (cohort, [])


@functools.lru_cache(maxsize=32)
def load_stored(path: Path, name: str, time_unit: str) -> Cohort:
    """A stored, previously validated cohort (cached; stored files never change).

    The cohort is named by the uploaded file name and records the SHA-256 of the stored bytes,
    so results.json identifies its input as ``ikaros analyze`` does.
    """
    frame = _read(path, name)
    endpoints, markers = detect_markers(frame)
    return cohort_from_frame(
        frame,
        source=name,
        markers=markers,
        endpoints=endpoints,
        time_unit=time_unit,
        sha256=sha256_file(path),
    )


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def overview(cohort: Cohort, raw_columns: list[str] | None = None) -> dict[str, Any]:
    """n, events and follow-up per endpoint, marker distributions and missingness per column."""
    data = cohort.data
    endpoints = []
    for e in cohort.endpoints:
        sub = data.dropna(subset=[f"{e}_time", f"{e}_event"])
        fu = median_followup(sub[f"{e}_time"], sub[f"{e}_event"]) if len(sub) else None
        endpoints.append(
            {
                "name": e,
                "evaluable": len(sub),
                "events": int(sub[f"{e}_event"].sum()),
                "median_followup": None if fu is None else fu.estimate,
            }
        )
    markers = []
    for m in cohort.markers:
        x = data[m].to_numpy(dtype=float)
        ok = x[np.isfinite(x)]
        q = np.quantile(ok, [0, 0.25, 0.5, 0.75, 1]) if ok.size else [np.nan] * 5
        markers.append(
            {
                "name": m,
                "n": int(ok.size),
                "missing": int(x.size - ok.size),
                "min": _num(q[0]),
                "q1": _num(q[1]),
                "median": _num(q[2]),
                "q3": _num(q[3]),
                "max": _num(q[4]),
            }
        )
    missing = []
    for col in data.columns:
        n_missing = int(data[col].isna().sum())
        missing.append(
            {"column": str(col), "missing": n_missing, "fraction": n_missing / len(data)}
        )
    return {
        "n": cohort.n,
        "endpoints": endpoints,
        "markers": markers,
        "missingness": missing,
        "cytogenetics": cohort.has_cytogenetics,
    }
