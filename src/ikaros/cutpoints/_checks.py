"""Input validation shared by the cutpoint functions (one clear AnalysisError per problem)."""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = ["check_events", "check_props", "check_survival", "degenerate_message"]


def check_props(minprop: float, maxprop: float) -> None:
    ok = (
        isinstance(minprop, numbers.Real)
        and isinstance(maxprop, numbers.Real)
        and math.isfinite(minprop)
        and math.isfinite(maxprop)
        and 0.0 < minprop < maxprop < 1.0
    )
    if not ok:
        raise AnalysisError(
            "minprop and maxprop must satisfy 0 < minprop < maxprop < 1 (the smallest and largest "
            f"share of patients in the low group); got minprop={minprop!r}, maxprop={maxprop!r}"
        )


def check_survival(
    time: ArrayLike, event: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Times, events and the mask of complete rows (NaN time or event: not evaluable)."""
    t = np.asarray(time, dtype=float)
    try:
        e = np.asarray(event, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"event must be 0/1 (or boolean): {exc}") from None
    if t.ndim != 1 or e.shape != t.shape:
        raise AnalysisError(
            f"time and event must be one-dimensional and of equal length; got shapes {t.shape} "
            f"and {e.shape}"
        )
    ok = ~(np.isnan(t) | np.isnan(e))
    bad_t = ok & (~np.isfinite(t) | (t < 0))
    if np.any(bad_t):
        raise AnalysisError(
            f"time must be finite and >= 0; found {t[bad_t][0]} (patient index "
            f"{int(np.flatnonzero(bad_t)[0])})"
        )
    bad_e = ok & (e != 0) & (e != 1)
    if np.any(bad_e):
        raise AnalysisError(
            f"event must be 0 or 1; found {e[bad_e][0]} (patient index "
            f"{int(np.flatnonzero(bad_e)[0])})"
        )
    return t, e, ok


def check_events(e: NDArray[np.float64]) -> None:
    if e.sum() == 0:
        raise AnalysisError(
            f"no events among the {e.size} patients: a survival cutpoint cannot be searched"
        )


def degenerate_message(
    x: NDArray[np.float64], lo: int, hi: int, minprop: float, maxprop: float
) -> str:
    n = x.size
    distinct = np.unique(x).size
    if distinct < 2:
        return (
            f"too few distinct marker values: {distinct} among {n} patients; at least 2 are "
            "needed to form two groups"
        )
    return (
        f"no cutpoint puts between {lo} and {hi} of the {n} patients (minprop={minprop}, "
        f"maxprop={maxprop}) in the low group: the marker has only {distinct} distinct values "
        "and is too heavily tied; widen minprop/maxprop or use a prespecified grouping"
    )
