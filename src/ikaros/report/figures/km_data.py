"""Kaplan-Meier step data as drawn, looked up in the stored curves; ticks of the time axis.

Nothing is estimated here: numbers at risk, cumulative counts and landmark survival are read off
the step data of :class:`ikaros.results.Curve`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ikaros.results import Curve, GroupSummary

__all__ = ["cumulative_counts", "numbers_at_risk", "time_ticks"]


@dataclass(frozen=True)
class _Steps:
    """A curve as drawn: the step function from (0, 1) and the censoring marks."""

    time: np.ndarray
    surv: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    censor_time: np.ndarray
    censor_surv: np.ndarray


def _ci_values(surv: Sequence[float], bound: Sequence[float | None]) -> np.ndarray:
    """CI ends; a missing end is the estimate itself where that is 0 or 1, else NaN."""
    out = np.empty(len(surv))
    for i, (s, b) in enumerate(zip(surv, bound, strict=True)):
        if b is not None and math.isfinite(b):
            out[i] = b
        elif s >= 1.0 - 1e-12 or s <= 1e-12:
            out[i] = s
        else:
            out[i] = np.nan
    return out


def _steps(curve: Curve) -> _Steps:
    time = np.asarray(curve.time, dtype=float)
    surv = np.asarray(curve.surv, dtype=float)
    lower = _ci_values(curve.surv, curve.lower)
    upper = _ci_values(curve.surv, curve.upper)
    n_censor = np.asarray(curve.n_censor, dtype=int)
    return _Steps(
        time=np.concatenate(([0.0], time)),
        surv=np.concatenate(([1.0], surv)),
        lower=np.concatenate(([1.0], lower)),
        upper=np.concatenate(([1.0], upper)),
        censor_time=np.repeat(time, n_censor),
        censor_surv=np.repeat(surv, n_censor),
    )


def numbers_at_risk(group: GroupSummary, ticks: Sequence[float]) -> tuple[int | None, ...]:
    """Number at risk (time >= t) at each tick, looked up in the group's step data.

    The group's ``n`` at t <= 0; ``n_risk`` at the first curve time >= t; 0 past the last time.
    ``None`` where the group has no curve data (except at t = 0).
    """
    curve = group.curve
    out: list[int | None] = []
    for t in ticks:
        if t <= 0:
            out.append(group.n)
        elif curve is None:
            out.append(None)
        else:
            i = int(np.searchsorted(np.asarray(curve.time, dtype=float), t, side="left"))
            out.append(int(curve.n_risk[i]) if i < len(curve.time) else 0)
    return tuple(out)


def cumulative_counts(
    group: GroupSummary, ticks: Sequence[float]
) -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
    """Cumulative events and censored patients up to and including each tick."""
    curve = group.curve
    if curve is None:
        blank = tuple(0 if t <= 0 else None for t in ticks)
        return blank, blank
    time = np.asarray(curve.time, dtype=float)
    events = np.concatenate(([0], np.cumsum(curve.n_event)))
    censored = np.concatenate(([0], np.cumsum(curve.n_censor)))
    idx = [int(np.searchsorted(time, t, side="right")) for t in ticks]
    return tuple(int(events[i]) for i in idx), tuple(int(censored[i]) for i in idx)


def _landmark(
    group: GroupSummary, landmark: float
) -> tuple[float | None, float | None, float | None]:
    """Survival (and CI) at the landmark: the stored estimate, else read off the step data."""
    lm = group.landmark
    if lm is not None and abs(lm.time - landmark) < 1e-9:
        return lm.survival, lm.lower, lm.upper
    curve = group.curve
    if curve is None or not curve.time:
        return None, None, None
    time = np.asarray(curve.time, dtype=float)
    i = int(np.searchsorted(time, landmark, side="right")) - 1
    if i < 0:
        return 1.0, None, None
    if landmark > time[-1] and curve.surv[-1] > 0:
        return None, None, None  # follow-up ends before the landmark
    return curve.surv[i], curve.lower[i], curve.upper[i]


_MONTH_STEPS = (1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0, 120.0, 240.0)
_NICE_STEPS = tuple(m * 10.0**e for e in range(-2, 5) for m in (1.0, 2.0, 5.0))


def time_ticks(t_max: float, time_unit: str = "months") -> tuple[float, ...]:
    """Ticks of the time axis: 0, step, 2 step, ... with at most 8 intervals.

    Months use multiples of 12 (or of 24, 36, ... beyond 8 years) for follow-up of 3 years or
    more, and 1, 2, 3 or 6 months for shorter follow-up; other units a 1-2-5 series. The last
    tick is the first multiple past ``t_max`` when that overshoots by no more than a quarter
    step, else the last multiple before it.
    """
    t_max = max(float(t_max), 1e-9)
    steps = _MONTH_STEPS if time_unit == "months" else _NICE_STEPS
    last = steps[-1]
    step = steps[-1]
    if time_unit == "months" and t_max >= 36:
        steps = tuple(s for s in steps if s >= 12)
    for step in steps:
        n = math.ceil(t_max / step - 1e-9)
        if n * step - t_max > 0.25 * step:
            n -= 1
        n = max(n, 1)
        last = n * step
        if n <= 8:
            break
    count = round(last / step)
    return tuple(float(step * k) for k in range(count + 1))
