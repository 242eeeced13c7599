"""Seeded published-style trials: true patient data, a digitised Kaplan-Meier curve, at-risk table.

A two-arm trial is simulated with known truth (proportional hazards or not), its Kaplan-Meier
curves are "digitised" the way a digitiser traces a published figure, and the numbers at risk
are taken at the 6-8 ticks of a published time axis. This is the input of the round trip
(:mod:`ikaros.ipd.roundtrip`) and of the worked example in ``docs/ipd.md``.

Trials
------
Patients are recruited uniformly over ``accrual`` months and followed to ``accrual +
follow_up`` months (administrative censoring), with exponential loss to follow-up. The control
arm has Weibull progression-free survival; the experimental arm

- ``"ph"``: the control hazard times a hazard ratio;
- ``"delayed"``: no effect for ``delay`` months, then the hazard ratio (non-proportional);
- ``"crossing"``: a Weibull of another shape with the same median times 1/HR (hazards cross).

Digitising
----------
The step curve is drawn in plot coordinates (time over the axis length, survival 0-1, the plot
1.5 times as wide as high) up to the last observed time. Points are taken at evenly spaced
positions along the drawn line (horizontal and vertical segments alike), as WebPlotDigitizer's
automatic extraction does, always including the start and the end, and moved by Gaussian
noise (``noise`` of the axis height in survival, ``noise`` of the axis length in time). The
points are returned in the digitiser's order (by time, with the noise, so not always sorted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ikaros.stats.km import kaplan_meier

__all__ = [
    "Scenario",
    "SimulatedArm",
    "SimulatedTrial",
    "axis_ticks",
    "digitise",
    "numbers_at_risk",
    "simulate_trial",
]

Scenario = Literal["ph", "delayed", "crossing"]

#: Candidate spacings of a published time axis, months.
_TICK_STEPS = (3.0, 4.0, 6.0, 8.0, 9.0, 10.0, 12.0, 15.0, 18.0, 24.0, 30.0, 36.0)
#: Width / height of the drawn plot (for distances along the curve).
_ASPECT = 1.5


@dataclass(frozen=True)
class SimulatedArm:
    """One arm: the true patients, the digitised points and the published at-risk table."""

    name: str
    time: NDArray[np.float64]
    event: NDArray[np.int64]
    digitised_time: NDArray[np.float64]
    digitised_surv: NDArray[np.float64]
    risk_time: NDArray[np.float64]
    risk_n: NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(self.time.size)

    @property
    def events(self) -> int:
        return int(self.event.sum())


@dataclass(frozen=True)
class SimulatedTrial:
    """A simulated two-arm trial (control first) with its axis length and scenario."""

    arms: tuple[SimulatedArm, SimulatedArm]
    scenario: Scenario
    hazard_ratio: float
    axis_length: float


def axis_ticks(last_time: float) -> NDArray[np.float64]:
    """Ticks of a published time axis covering ``last_time``: 6-8 ticks at a round spacing.

    The smallest spacing of :data:`_TICK_STEPS` that gives at most 8 ticks from 0 up to the
    first tick at or after ``last_time``.
    """
    for step in _TICK_STEPS:
        top = step * np.ceil(last_time / step)
        if top / step + 1 <= 8:
            return np.arange(0.0, top + step / 2, step)
    step = _TICK_STEPS[-1]
    return np.arange(0.0, step * np.ceil(last_time / step) + step / 2, step)


def numbers_at_risk(
    time: NDArray[np.float64], ticks: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Published at-risk table: patients with follow-up ``>= tick`` at ticks up to the last time."""
    last = float(np.max(time))
    keep = ticks <= last
    t = ticks[keep]
    n = np.array([int(np.sum(time >= x)) for x in t], dtype=np.int64)
    return t, n


def digitise_steps(
    jump_time: NDArray[np.float64],
    jump_value: NDArray[np.float64],
    end: float,
    rng: np.random.Generator,
    *,
    n_points: int,
    axis_length: float,
    noise: float = 0.002,
    start: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points a digitiser takes along a drawn step curve (see the module docstring).

    Parameters
    ----------
    jump_time, jump_value
        Times of the jumps and the value after each; the curve is ``start`` before the first.
    end
        Time where the drawn curve ends (the last observed time).
    rng
        Random generator (the noise).
    n_points
        Number of points, start and end included.
    axis_length
        Length of the time axis of the plot (the scale of the time noise).
    noise
        Standard deviation of the noise as a fraction of the axis height and length.
    start
        Value of the curve at time 0 (1 for survival, 0 for cumulative incidence).

    Returns
    -------
    tuple of arrays
        Times and values (proportions), in the digitiser's order.
    """
    xs = [0.0]
    ys = [start]
    level = start
    for t, v in zip(jump_time, jump_value, strict=True):
        xs += [float(t), float(t)]
        ys += [level, float(v)]
        level = float(v)
    if end > xs[-1]:
        xs.append(end)
        ys.append(level)
    vx = np.asarray(xs)
    vy = np.asarray(ys)
    seg = np.hypot(np.diff(vx) / axis_length * _ASPECT, np.diff(vy))
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    pos = np.linspace(0.0, cum[-1], n_points)
    idx = np.clip(np.searchsorted(cum, pos, side="right") - 1, 0, seg.size - 1)
    frac = np.divide(pos - cum[idx], seg[idx], out=np.zeros(pos.size), where=seg[idx] > 0)
    px = vx[idx] + frac * (vx[idx + 1] - vx[idx])
    py = vy[idx] + frac * (vy[idx + 1] - vy[idx])
    # the error of a traced line is across it: vertical on flat runs, horizontal on drops
    vertical = vx[idx] == vx[idx + 1]
    across = rng.normal(0.0, noise, px.size)
    px = px + np.where(vertical, across * axis_length, 0.0)
    py = py + np.where(vertical, 0.0, across)
    return px, py


def digitise(
    time: NDArray[np.float64],
    event: NDArray[np.int64],
    rng: np.random.Generator,
    *,
    n_points: int,
    axis_length: float,
    noise: float = 0.002,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Digitised points of the Kaplan-Meier curve of ``time``/``event`` (see
    :func:`digitise_steps`)."""
    km = kaplan_meier(time, event)
    jumps = km.n_event > 0
    return digitise_steps(
        km.time[jumps],
        km.surv[jumps],
        float(km.time[-1]),
        rng,
        n_points=n_points,
        axis_length=axis_length,
        noise=noise,
    )


def _weibull(rng: np.random.Generator, n: int, shape: float, median: float) -> NDArray[np.float64]:
    scale = median / np.log(2.0) ** (1.0 / shape)
    return np.asarray(scale * rng.weibull(shape, n), dtype=float)


def simulate_trial(
    rng: np.random.Generator,
    *,
    n_per_arm: tuple[int, int],
    scenario: Scenario = "ph",
    hazard_ratio: float = 0.7,
    control_median: float = 24.0,
    shape: float = 1.2,
    accrual: float = 24.0,
    follow_up: float = 36.0,
    dropout_rate: float = 0.01,
    delay: float = 6.0,
    n_points: tuple[int, int] = (200, 200),
    noise: float = 0.002,
    names: tuple[str, str] = ("control", "experimental"),
) -> SimulatedTrial:
    """Simulate a two-arm trial and its published figure (digitised points, at-risk tables).

    Parameters
    ----------
    rng
        Random generator; the same seed gives the same trial.
    n_per_arm
        Patients per arm (control, experimental).
    scenario
        ``"ph"``, ``"delayed"`` or ``"crossing"`` (see the module docstring).
    hazard_ratio
        Experimental vs control hazard ratio (after the delay; for ``"crossing"`` the ratio of
        medians is 1/HR).
    control_median, shape
        Weibull median (months) and shape of the control arm.
    accrual, follow_up
        Uniform recruitment period and minimum follow-up, months.
    dropout_rate
        Exponential loss-to-follow-up rate per month.
    delay
        Months without effect in the ``"delayed"`` scenario.
    n_points
        Digitised points per arm.
    noise
        Digitiser noise (fraction of the axis height and length).
    names
        Arm names.

    Returns
    -------
    SimulatedTrial
    """
    true_times = []
    for arm, n in enumerate(n_per_arm):
        if arm == 0:
            t = _weibull(rng, n, shape, control_median)
        elif scenario == "ph":
            # Weibull PH: the scale changes by HR^(-1/shape)
            t = _weibull(rng, n, shape, control_median * hazard_ratio ** (-1.0 / shape))
        elif scenario == "delayed":
            t = _weibull(rng, n, shape, control_median)
            # beyond the delay the cumulative hazard grows HR times slower
            scale = control_median / np.log(2.0) ** (1.0 / shape)
            h_delay = (delay / scale) ** shape
            h = (t / scale) ** shape
            late = h > h_delay
            h_new = h_delay + (h[late] - h_delay) / hazard_ratio
            t[late] = scale * h_new ** (1.0 / shape)
        else:
            t = _weibull(rng, n, 2.0 * shape, control_median / hazard_ratio)
        true_times.append(t)
    observed = []
    for n, t in zip(n_per_arm, true_times, strict=True):
        entry = rng.uniform(0.0, accrual, n)
        admin = accrual + follow_up - entry
        drop = rng.exponential(1.0 / dropout_rate, n) if dropout_rate > 0 else np.full(n, np.inf)
        c = np.minimum(admin, drop)
        time = np.round(np.minimum(t, c), 2)
        time = np.maximum(time, 0.01)
        observed.append((time, (t <= c).astype(np.int64)))
    last = max(float(np.max(o[0])) for o in observed)
    ticks = axis_ticks(last)
    axis_length = float(ticks[-1])
    arms = []
    for k, (time, event) in enumerate(observed):
        dx, dy = digitise(
            time, event, rng, n_points=n_points[k], axis_length=axis_length, noise=noise
        )
        rt, rn = numbers_at_risk(time, ticks)
        arms.append(SimulatedArm(names[k], time, event, dx, dy, rt, rn))
    return SimulatedTrial((arms[0], arms[1]), scenario, hazard_ratio, axis_length)


@dataclass(frozen=True)
class SimulatedCompetingArm:
    """A competing-risks arm: true patients (status 0/1/2), digitised incidences, at-risk table."""

    name: str
    time: NDArray[np.float64]
    status: NDArray[np.int64]
    event_points: tuple[NDArray[np.float64], NDArray[np.float64]]
    competing_points: tuple[NDArray[np.float64], NDArray[np.float64]]
    risk_time: NDArray[np.float64]
    risk_n: NDArray[np.int64]
    axis_length: float


def simulate_competing_arm(
    rng: np.random.Generator,
    *,
    n: int,
    name: str = "arm",
    event_median: float = 36.0,
    competing_median: float = 90.0,
    shape: float = 1.2,
    accrual: float = 24.0,
    follow_up: float = 36.0,
    dropout_rate: float = 0.01,
    n_points: tuple[int, int] = (150, 150),
    noise: float = 0.002,
) -> SimulatedCompetingArm:
    """Simulate a competing-risks arm and its published figure.

    Latent Weibull times to the event and to the competing event (medians as given), uniform
    recruitment with administrative censoring and exponential loss to follow-up, as
    :func:`simulate_trial`. The Aalen-Johansen cumulative incidences of both causes are
    digitised (rising from 0) and the numbers at risk (free of both, uncensored) taken at the
    axis ticks.
    """
    from ikaros.stats.competing import aalen_johansen

    t1 = _weibull(rng, n, shape, event_median)
    t2 = _weibull(rng, n, shape, competing_median)
    entry = rng.uniform(0.0, accrual, n)
    drop = rng.exponential(1.0 / dropout_rate, n) if dropout_rate > 0 else np.full(n, np.inf)
    c = np.minimum(accrual + follow_up - entry, drop)
    first = np.minimum(t1, t2)
    time = np.maximum(np.round(np.minimum(first, c), 2), 0.01)
    status = np.where(first > c, 0, np.where(t1 <= t2, 1, 2)).astype(np.int64)
    ticks = axis_ticks(float(time.max()))
    axis_length = float(ticks[-1])
    cif = aalen_johansen(time, status, cause_labels={1: "event", 2: "competing"})["all"]
    points = []
    for k, cause in enumerate(("event", "competing")):
        curve = cif[cause]
        jumps = curve.n_event > 0
        points.append(
            digitise_steps(
                curve.time[jumps],
                curve.estimate[jumps],
                float(time.max()),
                rng,
                n_points=n_points[k],
                axis_length=axis_length,
                noise=noise,
                start=0.0,
            )
        )
    rt, rn = numbers_at_risk(time, ticks)
    return SimulatedCompetingArm(name, time, status, points[0], points[1], rt, rn, axis_length)


def digitiser_csv(
    time: NDArray[np.float64], value: NDArray[np.float64], *, percent: bool = False
) -> str:
    """Points as WebPlotDigitizer exports them: ``x, y`` lines, no header, 4-6 decimals.

    ``percent`` writes the values as percentages (0-100), as read off a percentage axis.
    """
    scale = 100.0 if percent else 1.0
    digits = 4 if percent else 6
    lines = [f"{x:.4f}, {scale * y:.{digits}f}" for x, y in zip(time, value, strict=True)]
    return "\n".join(lines) + "\n"


def at_risk_csv(time: NDArray[np.float64], n: NDArray[np.int64]) -> str:
    """A numbers-at-risk table as typed from a figure: ``time,n`` header and one row per tick."""
    rows = [f"{t:g},{int(k)}" for t, k in zip(time, n, strict=True)]
    return "time,n\n" + "\n".join(rows) + "\n"
