"""Lenalidomide plasma concentration: one-compartment oral model, solved analytically.

With absorption rate ``ka``, apparent clearance ``CL/F`` and volume ``V/F`` (``ke = CL / V``), the
amounts in the gut ``A_g`` and in the central compartment ``A_c`` (mg) after a dose ``D`` evolve as

    dA_g/dt = -ka A_g,           A_g(t_dose+) = A_g(t_dose-) + D
    dA_c/dt =  ka A_g - ke A_c,  C = 1000 A_c / V   (ng/mL, V in L)

whose exact solution over a dose-free stretch of length ``tau`` starting from ``(A_g0, A_c0)`` is

    A_g = A_g0 exp(-ka tau)
    A_c = A_c0 exp(-ke tau) + A_g0 ka / (ka - ke) (exp(-ke tau) - exp(-ka tau))

(``A_g0 ka tau exp(-ke tau)`` when ``ka = ke``). Doses are taken once a day at the same hour;
the schedules are ``"21/28"`` (days 1-21 of a 28-day cycle), ``"continuous"`` (every day; also
written ``"28/28"``) or any ``"d/L"`` with ``1 <= d <= L``. Apparent clearance scales with
creatinine clearance: ``CL/F(CrCl) = CL/F (1 - fe + fe CrCl / CrCl_ref)`` (renal fraction ``fe``,
non-renal clearance unchanged [Chen07]_, [Connarn18]_).

References
----------
.. [Chen12] Chen N, et al. Cancer Chemother Pharmacol 2012;70:717-725 (linear, dose-proportional
   pharmacokinetics, 5-400 mg). doi:10.1007/s00280-012-1966-z
.. [Chen07] Chen N, et al. J Clin Pharmacol 2007;47:1466-1475. doi:10.1177/0091270007309563
.. [Connarn18] Connarn JN, et al. Clin Pharmacol Drug Dev 2018;7:465-473. doi:10.1002/cpdd.372
.. [Gibaldi] Gibaldi M, Perrier D. Pharmacokinetics, 2nd ed. Marcel Dekker 1982, ch. 1
   (one-compartment model with first-order absorption; Cmax = (F D / V) exp(-ke tmax)).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import InputError
from ikaros.model.parameters import ModelParameters
from ikaros.model.result import PKCheck

__all__ = [
    "EQUAL_RATES",
    "HOURS_PER_DAY",
    "MAX_DOSE_MG",
    "PK_ANCHORS",
    "PK_TOLERANCE",
    "PKParams",
    "Schedule",
    "SingleDoseMetrics",
    "check_dose",
    "concentration",
    "dose_times",
    "parse_schedule",
    "pk_check",
    "pk_params",
    "propagate",
    "single_dose_metrics",
]

HOURS_PER_DAY = 24.0
#: Largest dose accepted: the pharmacokinetics are linear (dose-proportional) up to 400 mg.
MAX_DOSE_MG = 400.0
#: |ka - ke| / ka below which the ka = ke limit is used (relative rounding of the difference).
EQUAL_RATES = 1e-9


@dataclass(frozen=True)
class Schedule:
    """Daily dosing on days ``1..days_on`` of each ``cycle_days``-day cycle."""

    days_on: int
    cycle_days: int

    @property
    def label(self) -> str:
        """``21/28``, ``continuous`` (every day, 28-day cycles) or e.g. ``14/14``."""
        if self.days_on == self.cycle_days == 28:
            return "continuous"
        return f"{self.days_on}/{self.cycle_days}"

    @property
    def description(self) -> str:
        if self.days_on == self.cycle_days:
            return f"every day ({self.cycle_days}-day cycles)"
        return f"days 1-{self.days_on} of {self.cycle_days}-day cycles"

    @property
    def cycle_hours(self) -> float:
        return self.cycle_days * HOURS_PER_DAY


_SCHEDULE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_schedule(text: str) -> Schedule:
    """``"21/28"`` -> ``Schedule(21, 28)``; ``"continuous"`` -> ``Schedule(28, 28)``.

    Raises
    ------
    InputError
        Anything else, or ``d/L`` with ``d < 1``, ``d > L`` or ``L > 56``.
    """
    value = str(text).strip().lower()
    if value in ("continuous", "daily"):
        return Schedule(28, 28)
    match = _SCHEDULE.fullmatch(value)
    remedy = "use 21/28 (days 1-21 of 28), continuous, or DAYS_ON/CYCLE_DAYS such as 14/21"
    if match is None:
        raise InputError(f"unknown schedule {text!r}", remedy=remedy)
    on, length = int(match.group(1)), int(match.group(2))
    if not 1 <= on <= length or length > 56:
        raise InputError(
            f"schedule {text!r} is not DAYS_ON/CYCLE_DAYS with 1 <= DAYS_ON <= CYCLE_DAYS <= 56",
            remedy=remedy,
        )
    return Schedule(on, length)


def check_dose(dose: float) -> float:
    """The dose in mg as a float; :class:`InputError` unless ``0 < dose <= 400``."""
    try:
        value = float(dose)
    except (TypeError, ValueError):
        raise InputError(
            "dose is not a number", value=dose, remedy="give the daily dose in mg, e.g. 25"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(
            "dose must be a positive number of mg", value=dose, remedy="give e.g. --dose 25"
        )
    if value > MAX_DOSE_MG:
        raise InputError(
            f"dose above {MAX_DOSE_MG:g} mg, beyond the studied linear range",
            value=dose,
            remedy="give the daily dose in mg (5 to 25 mg are the usual doses)",
        )
    return value


@dataclass(frozen=True)
class PKParams:
    """Rate constants of one patient: ``ka``, ``ke`` (1/h) and ``V/F`` (L)."""

    ka: float
    ke: float
    v: float
    cl: float

    @property
    def half_life(self) -> float:
        """Terminal half-life, ``ln 2 / min(ka, ke)`` (hours)."""
        return math.log(2.0) / min(self.ka, self.ke)


def pk_params(params: ModelParameters, crcl: float | None = None) -> PKParams:
    """Patient PK constants, with CL/F scaled to creatinine clearance ``crcl`` (mL/min).

    ``crcl=None`` uses the reference renal function (CL/F unscaled).
    """
    cl = params.cl_f.value
    if crcl is not None:
        if not (math.isfinite(crcl) and crcl > 0):
            raise InputError(
                "creatinine clearance must be a positive number of mL/min",
                value=crcl,
                remedy="give CrCl (Cockcroft-Gault) in mL/min",
            )
        fe = params.fe_renal.value
        cl = cl * (1.0 - fe + fe * crcl / params.crcl_ref.value)
    v = params.v_f.value
    return PKParams(ka=params.ka.value, ke=cl / v, v=v, cl=cl)


def dose_times(schedule: Schedule, n_cycles: int) -> NDArray[np.float64]:
    """Dosing times (hours from the first dose) over ``n_cycles`` cycles."""
    days = [c * schedule.cycle_days + d for c in range(n_cycles) for d in range(schedule.days_on)]
    return np.asarray(days, dtype=float) * HOURS_PER_DAY


def propagate(
    pk: PKParams, a_gut: ArrayLike, a_central: ArrayLike, tau: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact gut and central amounts after a dose-free time ``tau`` (broadcasting)."""
    ag0 = np.asarray(a_gut, dtype=float)
    ac0 = np.asarray(a_central, dtype=float)
    t = np.asarray(tau, dtype=float)
    ka, ke = pk.ka, pk.ke
    eka = np.exp(-ka * t)
    eke = np.exp(-ke * t)
    if abs(ka - ke) <= EQUAL_RATES * ka:
        transfer = ag0 * ka * t * eke
    else:
        transfer = ag0 * ka / (ka - ke) * (eke - eka)
    return ag0 * eka, ac0 * eke + transfer


def concentration(
    t: ArrayLike, pk: PKParams, dose_mg: float, times: ArrayLike
) -> NDArray[np.float64]:
    """Plasma concentration (ng/mL) at times ``t`` (h) after doses of ``dose_mg`` at ``times``.

    Superposition of the single-dose curves (the model is linear).
    """
    tt = np.atleast_1d(np.asarray(t, dtype=float))
    out = np.zeros_like(tt)
    for td in np.asarray(times, dtype=float):
        after = tt >= td
        if not np.any(after):
            continue
        _, ac = propagate(pk, dose_mg, 0.0, tt[after] - td)
        out[after] += ac
    return out * 1000.0 / pk.v


@dataclass(frozen=True)
class SingleDoseMetrics:
    """Single-dose exposure of the model, to compare with published means."""

    dose_mg: float
    cmax: float  # ng/mL
    tmax: float  # h
    auc_0_24: float  # ng h/mL
    auc_inf: float  # ng h/mL
    half_life: float  # h, terminal


def single_dose_metrics(pk: PKParams, dose_mg: float) -> SingleDoseMetrics:
    """Cmax, tmax, AUC(0-24 h), AUC(0-inf) and terminal half-life of one dose, in closed form.

    ``tmax = ln(ka / ke) / (ka - ke)`` (``1 / ka`` when equal), ``AUC(0-inf) = D / CL``, and
    ``AUC(0-T) = D / CL (1 - (ka exp(-ke T) - ke exp(-ka T)) / (ka - ke))`` [Gibaldi]_.
    """
    ka, ke = pk.ka, pk.ke
    amount = dose_mg * 1000.0 / pk.v  # ng/mL if absorbed at once
    if abs(ka - ke) <= EQUAL_RATES * ka:
        tmax = 1.0 / ka
        auc24 = amount / ke * (1.0 - math.exp(-ke * 24.0) * (1.0 + ke * 24.0))
    else:
        tmax = math.log(ka / ke) / (ka - ke)
        auc24 = (
            amount
            / ke
            * (1.0 - (ka * math.exp(-ke * 24.0) - ke * math.exp(-ka * 24.0)) / (ka - ke))
        )
    cmax = float(concentration(tmax, pk, dose_mg, [0.0])[0])
    return SingleDoseMetrics(
        dose_mg=float(dose_mg),
        cmax=cmax,
        tmax=tmax,
        auc_0_24=auc24,
        auc_inf=amount / ke,
        half_life=pk.half_life,
    )


#: Largest relative error accepted between the model and a published PK anchor.
PK_TOLERANCE = 0.15
#: Published single-dose means after 10 mg: (quantity, unit, value, source).
PK_ANCHORS: tuple[tuple[str, str, float, str], ...] = (
    ("Cmax", "ng/mL", 188.0, "Blood 2006;108(11):4854, 10 mg single dose, 12 MDS patients"),
    ("AUC(0-24)", "ng h/mL", 852.3, "Blood 2006;108(11):4854 (AUC(0-t), 24 h sampling)"),
    ("t1/2", "h", 3.72, "Blood 2006;108(11):4854; 3-4 h in Chen et al. 2012 and the label"),
    ("tmax", "h", 1.0, "Blood 2006;108(11):4854 (median); about 1 h in Chen et al. 2012"),
)


def pk_check(params: ModelParameters) -> tuple[PKCheck, ...]:
    """The model's 10 mg single-dose Cmax, AUC(0-24), t1/2 and tmax against published means."""
    sd = single_dose_metrics(pk_params(params), 10.0)
    model = {"Cmax": sd.cmax, "AUC(0-24)": sd.auc_0_24, "t1/2": sd.half_life, "tmax": sd.tmax}
    return tuple(
        PKCheck(q, unit, value, model[q], model[q] / value - 1.0, PK_TOLERANCE, src)
        for q, unit, value, src in PK_ANCHORS
    )
