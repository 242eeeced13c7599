"""Protein turnover under lenalidomide: the ODE, its solution and per-cycle read-outs.

For a CRBN substrate with relative mRNA ``m`` (expression / cohort median) the protein level
``P`` (relative to the untreated median patient) follows

    dP/dt = k_syn m - (k_deg + E_max C(t)^h / (EC50^h + C(t)^h)) P,    k_syn = k_deg,

so that an untreated patient sits at ``P = m``. The concentration ``C(t)`` is the analytic
one-compartment solution of :mod:`ikaros.model.pk`; only ``P`` is integrated, with
:func:`scipy.integrate.solve_ivp` (DOP853, relative tolerance 1e-11, absolute 1e-13) piece by
piece between doses, where ``C`` has a kink. No closed form exists for the full model, but two
special cases have one and serve as checks (:func:`analytic_no_drug`,
:func:`analytic_constant_concentration`).

The equation is linear in ``(P, m)``: starting from the untreated steady state ``P(0) = m``, the
trajectory of any patient is ``m P1(t)`` with ``P1`` the trajectory of ``m = 1``. Hence one
solution per pharmacokinetic profile serves a whole cohort, the nadir is ``m`` times the nadir
of ``P1`` and a patient's protein falls below ``theta`` exactly when ``P1`` falls below
``theta / m``: the model maps the mRNA monotonically to the nadir and to the time below the
threshold, and every classification is a cut on ``m`` (:func:`critical_level`).

Why not a library: the PK/PD model is small and specific; R's deSolve is used only as the
independent reference (``tests/reference/model``).

References
----------
.. [Jusko] Dayneka NL, Garg V, Jusko WJ. Comparison of four basic models of indirect
   pharmacodynamic responses. J Pharmacokinet Biopharm 1993;21:457-478 (indirect response model
   with stimulated loss, of which this is an instance).
.. [Hairer] Hairer E, Norsett SP, Wanner G. Solving Ordinary Differential Equations I, 2nd ed.
   Springer 1993 (DOP853 and its dense output).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, optimize

from ikaros.errors import AnalysisError, InputError
from ikaros.model.parameters import ModelParameters
from ikaros.model.pk import EQUAL_RATES, PKParams, Schedule, dose_times, propagate
from ikaros.model.readout import GRID_STEP, CycleReadout, Grid, critical_level, time_below

__all__ = [
    "ATOL",
    "FAST_ATOL",
    "FAST_RTOL",
    "GRID_STEP",
    "RTOL",
    "CycleReadout",
    "Trajectory",
    "analytic_constant_concentration",
    "analytic_no_drug",
    "critical_level",
    "simulate",
    "simulate_constant",
    "simulate_many",
]

RTOL = 1e-11
ATOL = 1e-13
#: Looser tolerances for cohort-level scans (dose-response, sensitivity analysis), whose
#: read-outs are shown to three digits.
FAST_RTOL = 1e-8
FAST_ATOL = 1e-10


@dataclass(frozen=True)
class _Rates:
    """The turnover constants of ``N`` systems solved side by side (arrays of length N)."""

    kdeg: NDArray[np.float64]
    ksyn_m: NDArray[np.float64]
    emax: NDArray[np.float64]
    ec50_h: NDArray[np.float64]
    hill: NDArray[np.float64]

    @classmethod
    def of(cls, params: Sequence[ModelParameters], m: float) -> _Rates:
        kdeg = np.array([p.k_deg for p in params])
        hill = np.array([p.hill.value for p in params])
        return cls(
            kdeg=kdeg,
            ksyn_m=kdeg * m,
            emax=np.array([p.emax.value for p in params]),
            ec50_h=np.array([p.ec50.value for p in params]) ** hill,
            hill=hill,
        )

    def loss(self, conc: NDArray[np.float64]) -> NDArray[np.float64]:
        """``k_deg + E_max C^h / (EC50^h + C^h)``; ``conc`` has N rows (any trailing shape)."""
        shape = (-1,) + (1,) * (conc.ndim - 1)
        h = self.hill.reshape(shape)
        ch = np.where(conc > 0, np.abs(conc) ** h, 0.0)
        return self.kdeg.reshape(shape) + self.emax.reshape(shape) * ch / (
            self.ec50_h.reshape(shape) + ch
        )


@dataclass(frozen=True)
class _Stretch:
    """A dose-free stretch ``[t0, t1]`` with the amounts (mg) at its start, per system."""

    t0: float
    t1: float
    a_gut: NDArray[np.float64]
    a_central: NDArray[np.float64]


class _Drug:
    """Concentrations of ``N`` systems on each stretch, in closed form (vectorised)."""

    def __init__(self, pks: Sequence[PKParams | None], constant: float | None = None) -> None:
        self.constant = constant
        if constant is None:
            self.ka = np.array([p.ka for p in pks if p is not None])
            self.ke = np.array([p.ke for p in pks if p is not None])
            self.scale = np.array([1000.0 / p.v for p in pks if p is not None])
            self.equal = np.abs(self.ka - self.ke) <= EQUAL_RATES * self.ka
            diff = np.where(self.equal, 1.0, self.ka - self.ke)
            self.ratio = self.ka / diff

    def at(self, s: _Stretch, t: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """``C`` (ng/mL) at time(s) ``t`` of stretch ``s``: shape (N,) or (N, len(t))."""
        tau = np.asarray(t, dtype=float) - s.t0
        if self.constant is not None:
            return np.full((1, *tau.shape), self.constant)
        col = (slice(None),) + (None,) * tau.ndim
        ka, ke = self.ka[col], self.ke[col]
        eka, eke = np.exp(-ka * tau), np.exp(-ke * tau)
        gut = s.a_gut[col]
        transfer = np.where(
            self.equal[col], gut * ka * tau * eke, gut * self.ratio[col] * (eke - eka)
        )
        return (s.a_central[col] * eke + transfer) * self.scale[col]


class _Shared:
    """One solve of N systems: the stretches, their dense outputs and the drug."""

    def __init__(
        self, stretches: list[_Stretch], solutions: list[integrate.OdeSolution], drug: _Drug
    ) -> None:
        self.stretches = stretches
        self.solutions = solutions
        self.drug = drug
        self.starts = np.array([s.t0 for s in stretches])
        self.t_end = stretches[-1].t1
        self._grids: dict[tuple[float, float], tuple[NDArray[np.float64], ...]] = {}

    def values(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """``P`` of all N systems at the times ``t``: shape (N, len(t))."""
        idx = self.index(t)
        out = np.empty((len(self.solutions[0](t[:1])), t.size))
        for k in np.unique(idx):
            sel = idx == k
            out[:, sel] = np.asarray(self.solutions[int(k)](t[sel])).reshape(-1, int(sel.sum()))
        return out

    def concentrations(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """``C`` of all N systems at the times ``t``: shape (N, len(t)) (1 row if constant)."""
        idx = self.index(t)
        rows = 1 if self.drug.constant is not None else self.drug.ka.size
        out = np.empty((rows, t.size))
        for k in np.unique(idx):
            sel = idx == k
            out[:, sel] = self.drug.at(self.stretches[int(k)], t[sel])
        return out

    def grid(self, t0: float, t1: float) -> tuple[NDArray[np.float64], ...]:
        """Times every :data:`GRID_STEP` h on ``[t0, t1]``, ``P`` and ``C`` there (cached)."""
        key = (t0, t1)
        if key not in self._grids:
            n = math.ceil((t1 - t0) / GRID_STEP)
            t = np.linspace(t0, t1, n + 1)
            self._grids[key] = (t, self.values(t), self.concentrations(t))
        return self._grids[key]

    def index(self, t: NDArray[np.float64]) -> NDArray[np.int64]:
        idx = np.searchsorted(self.starts, t, side="right") - 1
        return np.clip(idx, 0, len(self.stretches) - 1).astype(np.int64)


class Trajectory:
    """The protein ``P(t)`` of one patient (or of ``m = 1``) and the drug concentration.

    Built by :func:`simulate`, :func:`simulate_many` or :func:`simulate_constant`;
    :meth:`protein` and :meth:`concentration` take any times in ``[0, t_end]`` (hours).
    """

    def __init__(
        self,
        shared: _Shared,
        component: int,
        params: ModelParameters,
        pk: PKParams | None,
        m: float,
        cycle_hours: float,
        n_cycles: int,
    ) -> None:
        self._shared = shared
        self._j = component
        self._rates = _Rates.of([params], m)
        self.params = params
        self.pk = pk
        self.m = m
        self.cycle_hours = cycle_hours
        self.n_cycles = n_cycles
        self.t_end = shared.t_end
        self._grids: dict[int, Grid] = {}

    def protein(self, t: ArrayLike) -> NDArray[np.float64]:
        """``P`` at the times ``t`` (h), from the dense output of the solver."""
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(tt < 0) or np.any(tt > self.t_end * (1 + 1e-12)):
            raise AnalysisError(f"times must lie in [0, {self.t_end:g}] h")
        out = np.empty_like(tt)
        idx = self._shared.index(tt)
        for k in np.unique(idx):
            sel = idx == k
            values = self._shared.solutions[int(k)](tt[sel])
            out[sel] = np.asarray(values).reshape(-1, tt[sel].size)[self._j]
        return out

    def concentration(self, t: ArrayLike) -> NDArray[np.float64]:
        """Plasma lenalidomide (ng/mL) at the times ``t`` (h)."""
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.empty_like(tt)
        idx = self._shared.index(tt)
        drug = self._shared.drug
        row = 0 if drug.constant is not None else self._j
        for k in np.unique(idx):
            sel = idx == k
            out[sel] = drug.at(self._shared.stretches[int(k)], tt[sel])[row]
        return out

    def derivative(self, t: ArrayLike, p: ArrayLike) -> NDArray[np.float64]:
        """``dP/dt`` of the ODE at the times ``t`` and levels ``p``."""
        conc = self.concentration(t)[None, :]
        loss = self._rates.loss(conc)[0]
        return self._rates.ksyn_m[0] - loss * np.asarray(p, dtype=float)

    def window(self, cycle: int) -> tuple[float, float]:
        """Start and end (h) of cycle ``cycle`` (0-based)."""
        if not 0 <= cycle < self.n_cycles:
            raise AnalysisError(f"cycle {cycle} not simulated (0..{self.n_cycles - 1})")
        return cycle * self.cycle_hours, (cycle + 1) * self.cycle_hours

    def grid(self, cycle: int) -> Grid:
        """``P`` and ``dP/dt`` every :data:`GRID_STEP` hours over one cycle (cached)."""
        if cycle not in self._grids:
            t, values, conc = self._shared.grid(*self.window(cycle))
            v = values[self._j]
            c = conc[0 if conc.shape[0] == 1 else self._j]
            dp = self._rates.ksyn_m[0] - self._rates.loss(c[None, :])[0] * v
            self._grids[cycle] = Grid(t, v, dp)
        return self._grids[cycle]

    def minimum(self, cycle: int) -> tuple[float, float]:
        """Time (h) and value of the minimum of ``P`` in cycle ``cycle`` (0-based).

        The grid minimum is refined by a bounded Brent search on the dense output between its
        grid neighbours. When the same minimum recurs (the daily trough at the periodic steady
        state), the first grid minimum is refined.
        """
        g = self.grid(cycle)
        k = int(np.argmin(g.p))
        lo, hi = g.t[max(k - 1, 0)], g.t[min(k + 1, g.t.size - 1)]
        res = optimize.minimize_scalar(
            lambda x: float(self.protein(x)[0]),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10},
        )
        if res.fun < g.p[k]:
            return float(res.x), float(res.fun)
        return float(g.t[k]), float(g.p[k])

    def time_below(self, cycle: int, level: float) -> float:
        """Hours of cycle ``cycle`` (0-based) with ``P < level``."""
        return time_below(self.grid(cycle), level)

    def readout(self, cycle: int, theta: float) -> CycleReadout:
        """Nadir and time below ``theta`` in cycle ``cycle`` (0-based)."""
        t_nadir, nadir = self.minimum(cycle)
        return CycleReadout(
            cycle=cycle + 1,
            nadir=nadir,
            time_of_nadir=t_nadir,
            hours_below=self.time_below(cycle, theta),
        )


def _check_numerics(m: float, p0: float) -> None:
    if not (math.isfinite(m) and m > 0):
        raise InputError(
            "relative expression m must be a positive number",
            value=m,
            remedy="give expression on a linear scale (e.g. 2^-dCt), not log-transformed",
        )
    if not (math.isfinite(p0) and p0 >= 0):
        raise InputError("initial protein level must be non-negative", value=p0)


def _rhs(s: _Stretch, drug: _Drug, rates: _Rates) -> Callable[[float, NDArray[np.float64]], Any]:
    """The right-hand side on one stretch, written for speed (called ~10^5 times per solve).

    On a stretch ``C = A exp(-ke tau) - B exp(-ka tau)`` (``ka != ke``) or
    ``C = (A + B tau) exp(-ke tau)`` (``ka = ke``), ``tau = t - t0``.
    """
    ksyn_m, kdeg, emax, ec50_h, hill = (
        rates.ksyn_m,
        rates.kdeg,
        rates.emax,
        rates.ec50_h,
        rates.hill,
    )
    if drug.constant is not None or (drug.equal.size > 1 and np.any(drug.equal)):

        def general(t: float, p: NDArray[np.float64]) -> NDArray[np.float64]:
            return ksyn_m - rates.loss(drug.at(s, t)) * p

        return general
    ka, ke, t0 = drug.ka, drug.ke, s.t0
    if ka.size == 1:  # one system: plain floats are several times faster than numpy
        ka1, ke1 = float(ka[0]), float(ke[0])
        scale = float(drug.scale[0])
        equal = bool(drug.equal[0])
        if equal:
            a1 = float(s.a_central[0]) * scale
            b1 = float(s.a_gut[0]) * ka1 * scale
        else:
            b1 = float(s.a_gut[0]) * float(drug.ratio[0]) * scale
            a1 = float(s.a_central[0]) * scale + b1
        k1, e1, ec1, h1, ks1 = (
            float(kdeg[0]),
            float(emax[0]),
            float(ec50_h[0]),
            float(hill[0]),
            float(ksyn_m[0]),
        )
        exp = math.exp

        def one(t: float, p: NDArray[np.float64]) -> list[float]:
            tau = t - t0
            if equal:
                c = (a1 + b1 * tau) * exp(-ke1 * tau)
            else:
                c = a1 * exp(-ke1 * tau) - b1 * exp(-ka1 * tau)
            ch = (c if h1 == 1.0 else c**h1) if c > 0.0 else 0.0
            return [ks1 - (k1 + e1 * ch / (ec1 + ch)) * p[0]]

        return one
    b = s.a_gut * drug.ratio * drug.scale
    a = s.a_central * drug.scale + b
    unit_hill = bool(np.all(hill == 1.0))

    def many(t: float, p: NDArray[np.float64]) -> NDArray[np.float64]:
        tau = t - t0
        c = np.maximum(a * np.exp(-ke * tau) - b * np.exp(-ka * tau), 0.0)
        ch = c if unit_hill else c**hill
        return ksyn_m - (kdeg + emax * ch / (ec50_h + ch)) * p

    return many


def _solve(
    stretches: list[_Stretch],
    drug: _Drug,
    rates: _Rates,
    p0: float,
    rtol: float,
    atol: float,
) -> list[integrate.OdeSolution]:
    """Integrate the N systems stretch by stretch (``P`` is continuous across boundaries)."""
    y = np.full(rates.ksyn_m.size, p0, dtype=float)
    sols: list[integrate.OdeSolution] = []
    for s in stretches:
        sol = integrate.solve_ivp(
            _rhs(s, drug, rates),
            (s.t0, s.t1),
            y,
            method="DOP853",
            rtol=rtol,
            atol=atol,
            dense_output=True,
        )
        if not sol.success:
            raise AnalysisError(f"ODE solver failed on [{s.t0:g}, {s.t1:g}] h: {sol.message}")
        sols.append(sol.sol)
        y = sol.y[:, -1].copy()
    return sols


def simulate_many(
    settings: Sequence[tuple[ModelParameters, PKParams, float]],
    schedule: Schedule,
    n_cycles: int = 2,
    *,
    m: float = 1.0,
    p0: float | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> list[Trajectory]:
    """Solve the turnover ODE for several (parameters, PK, daily dose) at once.

    The systems are independent and share the dosing times; they are integrated as one vector
    ODE, so that a dose-response grid or a sensitivity analysis costs about one solve. The
    step size is controlled on the root-mean-square error over the systems: for tight
    agreement with a single solution use :func:`simulate`.
    """
    p_start = m if p0 is None else p0
    _check_numerics(m, p_start)
    if n_cycles < 1:
        raise InputError("the number of cycles must be at least 1", value=n_cycles)
    if not settings:
        return []
    t_end = n_cycles * schedule.cycle_hours
    doses = dose_times(schedule, n_cycles)
    breaks = np.unique(np.concatenate([doses, [0.0, t_end]]))
    dose_at = set(doses.tolist())
    pks = [pk for _, pk, _ in settings]
    amount = np.array([float(d) for _, _, d in settings])
    # amounts at the start of every stretch, right after its dose (exact propagation)
    stretches = []
    ag = np.zeros(amount.size)
    ac = np.zeros(amount.size)
    for k in range(breaks.size - 1):
        if k > 0:
            tau = breaks[k] - breaks[k - 1]
            moved = [propagate(pk, g, c, tau) for pk, g, c in zip(pks, ag, ac, strict=True)]
            ag = np.array([float(g) for g, _ in moved])
            ac = np.array([float(c) for _, c in moved])
        if float(breaks[k]) in dose_at:
            ag = ag + amount
        stretches.append(_Stretch(float(breaks[k]), float(breaks[k + 1]), ag.copy(), ac.copy()))
    drug = _Drug(pks)
    rates = _Rates.of([p for p, _, _ in settings], m)
    shared = _Shared(stretches, _solve(stretches, drug, rates, p_start, rtol, atol), drug)
    return [
        Trajectory(shared, j, params, pk, m, schedule.cycle_hours, n_cycles)
        for j, (params, pk, _) in enumerate(settings)
    ]


def simulate(
    params: ModelParameters,
    pk: PKParams,
    dose_mg: float,
    schedule: Schedule,
    n_cycles: int = 2,
    *,
    m: float = 1.0,
    p0: float | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Trajectory:
    """Solve the turnover ODE over ``n_cycles`` cycles of ``schedule`` at ``dose_mg`` daily.

    Parameters
    ----------
    params
        Turnover parameters (half-life, E_max, EC50, Hill).
    pk
        The patient's PK constants (:func:`ikaros.model.pk.pk_params`).
    dose_mg, schedule, n_cycles
        Daily dose, dosing days and number of cycles; the first dose is at t = 0.
    m
        Relative mRNA (expression / cohort median), > 0.
    p0
        ``P(0)``; default ``m``, the untreated steady state.
    rtol, atol
        Tolerances of :func:`scipy.integrate.solve_ivp` (DOP853).

    Returns
    -------
    Trajectory
    """
    return simulate_many(
        [(params, pk, dose_mg)], schedule, n_cycles, m=m, p0=p0, rtol=rtol, atol=atol
    )[0]


def simulate_constant(
    params: ModelParameters,
    conc_ng_ml: float,
    t_end: float,
    *,
    m: float = 1.0,
    p0: float | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Trajectory:
    """Solve the turnover ODE with a constant concentration (0: no drug) on ``[0, t_end]``."""
    p_start = m if p0 is None else p0
    _check_numerics(m, p_start)
    if not (math.isfinite(conc_ng_ml) and conc_ng_ml >= 0):
        raise InputError("concentration must be non-negative", value=conc_ng_ml)
    if not (math.isfinite(t_end) and t_end > 0):
        raise InputError("the end time must be positive", value=t_end)
    stretch = _Stretch(0.0, float(t_end), np.zeros(1), np.zeros(1))
    drug = _Drug([None], constant=float(conc_ng_ml))
    rates = _Rates.of([params], m)
    shared = _Shared([stretch], _solve([stretch], drug, rates, p_start, rtol, atol), drug)
    return Trajectory(shared, 0, params, None, m, float(t_end), 1)


def analytic_no_drug(
    t: ArrayLike, params: ModelParameters, *, m: float = 1.0, p0: float = 1.0
) -> NDArray[np.float64]:
    """Exact ``P(t)`` without drug: ``m + (p0 - m) exp(-k_deg t)``."""
    tt = np.asarray(t, dtype=float)
    return m + (p0 - m) * np.exp(-params.k_deg * tt)


def analytic_constant_concentration(
    t: ArrayLike, params: ModelParameters, conc_ng_ml: float, *, m: float = 1.0, p0: float = 1.0
) -> NDArray[np.float64]:
    """Exact ``P(t)`` at a constant concentration ``C``.

    ``k = k_deg + E_max C^h / (EC50^h + C^h)``, steady state ``P_ss = k_syn m / k`` and
    ``P(t) = P_ss + (p0 - P_ss) exp(-k t)``.
    """
    tt = np.asarray(t, dtype=float)
    h = params.hill.value
    ch = conc_ng_ml**h
    k = params.k_deg + params.emax.value * ch / (params.ec50.value**h + ch)
    pss = params.k_deg * m / k
    return pss + (p0 - pss) * np.exp(-k * tt)
