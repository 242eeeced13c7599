"""From the model to a cohort: relative mRNA, per-patient read-outs, classes, dose-response.

Because the turnover equation is linear in ``(P, m)`` (:mod:`ikaros.model.turnover`), one ODE
solution ``P1`` per pharmacokinetic profile (per distinct creatinine clearance) serves every
patient: patient ``i`` has ``P_i = m_i P1``, nadir ``m_i min P1`` and time below ``theta`` equal
to the time ``P1`` spends below ``theta / m_i``. The critical level ``q`` of ``P1``
(:func:`~ikaros.model.turnover.critical_level`) turns the classification into a cut on the score
``m_i q_i``: predicted sensitive when ``m_i q_i < theta``, i.e. when the mRNA is below the
critical relative mRNA ``m* = theta / q``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ikaros.errors import InputError
from ikaros.model.parameters import ModelParameters
from ikaros.model.pk import Schedule, check_dose, pk_params
from ikaros.model.result import DoseResponseRow, PatientPrediction, TornadoRow
from ikaros.model.turnover import (
    ATOL,
    FAST_ATOL,
    FAST_RTOL,
    RTOL,
    Trajectory,
    critical_level,
    simulate,
    simulate_many,
)

__all__ = [
    "Reference",
    "Regimen",
    "dose_response",
    "predict_patients",
    "reference_solution",
    "relative_expression",
    "tornado",
]


@dataclass(frozen=True)
class Regimen:
    """Daily dose (mg), schedule and the number of simulated cycles."""

    dose_mg: float
    schedule: Schedule
    n_cycles: int = 2

    def __post_init__(self) -> None:
        check_dose(self.dose_mg)
        if not 1 <= self.n_cycles <= 12:
            raise InputError(
                "the number of simulated cycles must be between 1 and 12",
                value=self.n_cycles,
                remedy="give e.g. --cycles 2 (the protein reaches its periodic state within one)",
            )

    def check(self, params: ModelParameters) -> None:
        """:class:`InputError` unless ``min_hours_below`` fits in a cycle of this schedule."""
        hours = params.min_hours_below.value
        if hours >= self.schedule.cycle_hours:
            raise InputError(
                "minimum time below theta must be shorter than a cycle",
                value=hours,
                remedy=f"give --param min_hours_below below {self.schedule.cycle_hours:g} h",
            )

    @property
    def last_cycle(self) -> int:
        """The cycle (0-based) on which patients are classified: the last one simulated."""
        return self.n_cycles - 1


@dataclass(frozen=True)
class Reference:
    """``P1`` (``m = 1``) for one PK profile, with its critical level ``q``."""

    trajectory: Trajectory
    q: float
    crcl: float | None


def relative_expression(
    values: Sequence[float] | NDArray[np.float64],
    *,
    rows: Sequence[int] | None = None,
    column: str = "expression",
    file: str | None = None,
) -> tuple[NDArray[np.float64], float]:
    """Relative mRNA ``m = expression / median(expression)`` and the median.

    Raises
    ------
    InputError
        A value that is not finite and positive (the model needs linear-scale expression).
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise InputError(
            "no patient has a value of the marker",
            file=file,
            column=column,
            remedy="check the marker column",
        )
    bad = ~np.isfinite(x) | (x <= 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "expression must be a positive number on a linear scale",
            file=file,
            row=None if rows is None else int(rows[i]),
            column=column,
            value=float(x[i]),
            remedy="give relative expression such as 2^-dCt; log2 values must be converted with "
            "2**x (a zero or negative value cannot be a linear expression level)",
        )
    median = float(np.median(x))
    return x / median, median


def reference_solution(
    params: ModelParameters,
    regimen: Regimen,
    crcl: float | None = None,
) -> Reference:
    """Solve ``P1`` for the regimen at a creatinine clearance (tight tolerances) and find its
    critical level."""
    traj = simulate(
        params,
        pk_params(params, crcl),
        regimen.dose_mg,
        regimen.schedule,
        regimen.n_cycles,
        rtol=RTOL,
        atol=ATOL,
    )
    q = critical_level(traj, regimen.last_cycle, params.min_hours_below.value)
    return Reference(traj, q, crcl)


def _references(
    params: ModelParameters,
    regimen: Regimen,
    crcl: Sequence[float | None],
) -> dict[float | None, Reference]:
    """One reference solution per distinct creatinine clearance (``None``: the reference)."""
    keys = sorted({c for c in crcl if c is not None})
    out: dict[float | None, Reference] = {None: reference_solution(params, regimen, None)}
    for c in keys:
        out[c] = reference_solution(params, regimen, c)
    return out


def predict_patients(
    params: ModelParameters,
    regimen: Regimen,
    patient_ids: Sequence[str],
    rows: Sequence[int],
    expression: Sequence[float] | NDArray[np.float64],
    m: NDArray[np.float64],
    crcl: Sequence[float | None],
) -> tuple[tuple[PatientPrediction, ...], dict[float | None, Reference]]:
    """Per-patient nadir and time below theta in every cycle, score and predicted class."""
    refs = _references(params, regimen, crcl)
    theta = params.theta.value
    out = []
    for pid, row, x, mi, ci in zip(patient_ids, rows, expression, m, crcl, strict=True):
        ref = refs[ci]
        traj = ref.trajectory
        nadirs = tuple(float(mi) * traj.minimum(c)[1] for c in range(regimen.n_cycles))
        below = tuple(traj.time_below(c, theta / float(mi)) for c in range(regimen.n_cycles))
        score = float(mi) * ref.q
        out.append(
            PatientPrediction(
                patient_id=str(pid),
                row=int(row),
                expression=float(x),
                m=float(mi),
                crcl=ci,
                nadir=nadirs,
                hours_below=below,
                score=score,
                critical_m=theta / ref.q,
                sensitive=bool(score < theta),
            )
        )
    return tuple(out), refs


def _scan(
    cases: Sequence[tuple[ModelParameters, Regimen]],
    m: NDArray[np.float64],
    crcl: Sequence[float | None],
) -> list[tuple[float, int]]:
    """Critical mRNA (reference renal function) and number sensitive for every case.

    Cases sharing a schedule are solved together as one vector ODE
    (:func:`~ikaros.model.turnover.simulate_many`, looser tolerances).
    """
    keys = [None, *sorted({c for c in crcl if c is not None})]
    out: list[tuple[float, int] | None] = [None] * len(cases)
    groups: dict[tuple[Schedule, int], list[int]] = {}
    for i, (_, reg) in enumerate(cases):
        groups.setdefault((reg.schedule, reg.n_cycles), []).append(i)
    for (schedule, n_cycles), members in groups.items():
        settings = [
            (cases[i][0], pk_params(cases[i][0], c), cases[i][1].dose_mg)
            for i in members
            for c in keys
        ]
        trajs = simulate_many(settings, schedule, n_cycles, rtol=FAST_RTOL, atol=FAST_ATOL)
        for j, i in enumerate(members):
            params = cases[i][0]
            qs = {
                c: critical_level(
                    trajs[j * len(keys) + k], n_cycles - 1, params.min_hours_below.value
                )
                for k, c in enumerate(keys)
            }
            theta = params.theta.value
            q = np.array([qs[c] for c in crcl])
            out[i] = (theta / qs[None], int(np.sum(m * q < theta)))
    return [o for o in out if o is not None]


def dose_response(
    params: ModelParameters,
    doses: Sequence[float],
    schedules: Sequence[Schedule],
    n_cycles: int,
    m: NDArray[np.float64],
    crcl: Sequence[float | None],
) -> tuple[DoseResponseRow, ...]:
    """Critical mRNA and sensitive fraction of the cohort for every dose x schedule."""
    cases = [
        (params, Regimen(float(dose), sched, n_cycles)) for sched in schedules for dose in doses
    ]
    return tuple(
        DoseResponseRow(reg.dose_mg, reg.schedule.label, crit, k, k / m.size)
        for (_, reg), (crit, k) in zip(cases, _scan(cases, m, crcl), strict=True)
    )


def tornado(
    params: ModelParameters,
    regimen: Regimen,
    m: NDArray[np.float64],
    crcl: Sequence[float | None],
) -> tuple[TornadoRow, ...]:
    """One-at-a-time sensitivity analysis over the parameters with a plausible range.

    Each uncertain parameter is set to the low and to the high end of its range, the others
    kept at their values; rows are sorted by the swing of the critical mRNA, largest first.
    """
    varied = [(p, v) for p in params.uncertain() for v in (p.low, p.high) if v is not None]
    results = _scan([(params.replace(**{p.name: v}), regimen) for p, v in varied], m, crcl)
    rows = []
    for i, p in enumerate(params.uncertain()):
        (crit_lo, k_lo), (crit_hi, k_hi) = results[2 * i], results[2 * i + 1]
        rows.append(
            TornadoRow(
                parameter=p.name,
                label=p.label,
                unit=p.unit,
                base=p.value,
                low=float(varied[2 * i][1]),
                high=float(varied[2 * i + 1][1]),
                critical_m_low=crit_lo,
                critical_m_high=crit_hi,
                fraction_low=k_lo / m.size,
                fraction_high=k_hi / m.size,
            )
        )
    rows.sort(key=lambda r: (-abs(math.log(r.critical_m_high / r.critical_m_low)), r.parameter))
    return tuple(rows)
