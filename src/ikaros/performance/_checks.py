"""Argument checks shared by the performance modules (one clear message per problem)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = ["FloatArray", "as_score", "as_survival", "as_times", "z_value"]

FloatArray = NDArray[np.float64]


def as_survival(time: ArrayLike, event: ArrayLike) -> tuple[FloatArray, NDArray[np.int64]]:
    """Follow-up times (finite, >= 0) and 0/1 event indicators as arrays of equal length."""
    t = np.asarray(time, dtype=float).ravel()
    e_raw = np.asarray(event, dtype=float).ravel()
    if t.size != e_raw.size:
        raise AnalysisError(f"time has {t.size} values but event has {e_raw.size}")
    if t.size < 2:
        raise AnalysisError("performance measures need at least two patients")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise AnalysisError("times must be finite and non-negative (use complete cases)")
    if not np.all(np.isin(e_raw, (0.0, 1.0))):
        raise AnalysisError("event indicators must be 0 or 1 (use complete cases)")
    e = e_raw.astype(np.int64)
    if e.sum() == 0:
        raise AnalysisError("no events: discrimination and calibration are not defined")
    return t, e


def as_score(score: ArrayLike, n: int, name: str = "score") -> FloatArray:
    """A finite 1-D risk score (e.g. a linear predictor) with one value per patient."""
    s = np.asarray(score, dtype=float).ravel()
    if s.size != n:
        raise AnalysisError(f"{name} has {s.size} values for {n} patients")
    if not np.all(np.isfinite(s)):
        raise AnalysisError(f"{name} must be finite for every patient (use complete cases)")
    return s


def as_times(times: float | Sequence[float] | ArrayLike, name: str = "times") -> FloatArray:
    """Positive, finite, strictly increasing evaluation times."""
    t = np.atleast_1d(np.asarray(times, dtype=float)).ravel()
    if t.size == 0:
        raise AnalysisError(f"{name}: give at least one time")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise AnalysisError(f"{name} must be positive and finite (got {t.tolist()})")
    if np.any(np.diff(t) <= 0):
        raise AnalysisError(f"{name} must be strictly increasing (got {t.tolist()})")
    return t


def z_value(conf_level: float) -> float:
    """Two-sided normal quantile for a confidence level in (0, 1)."""
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1) (got {conf_level})")
    return NormalDist().inv_cdf(1.0 - (1.0 - conf_level) / 2.0)
