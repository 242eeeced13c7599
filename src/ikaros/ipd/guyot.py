"""Guyot's algorithm: individual patient data from a digitised Kaplan-Meier curve.

Given the cleaned curve (times ``t_k`` from 0, survival ``S_k`` non-increasing from 1), the
numbers at risk ``n_j`` published at times ``T_j`` (``T_0 = 0``; ``n_0`` is the number of
patients) and, optionally, the total number of events ``D``, the algorithm finds the number of
events ``d_k`` and of censored patients ``c_k`` at every digitised point such that the
Kaplan-Meier estimate of the reconstructed data follows the curve and the numbers at risk
agree with the published ones:

- events at point ``k``: ``d_k = round(n_k (1 - S_k / KM_last))`` where ``KM_last`` is the
  reconstructed estimate at the last point with events and ``n_k`` the reconstructed number at
  risk; then ``n_{k+1} = n_k - d_k - c_k``;
- censoring in at-risk interval ``j``: a total ``C_j``, first guessed as
  ``n_j S(T_{j+1}) / S(T_j) - n_{j+1}``, spread evenly over ``[T_j, T_{j+1}]`` and adjusted
  until the reconstructed number at risk at ``T_{j+1}`` equals ``n_{j+1}``;
- last interval (no later count): with ``D``, the censoring that gives ``D`` events in total;
  without it, the average censoring rate of the earlier intervals (reduced, when the curve
  ends at 0, so that someone is left to have the last event);
- without an at-risk table only ``n_0`` is known: with ``D`` the censoring of the whole curve is
  the amount that gives ``D`` events, spread evenly; without ``D`` nobody is censored before
  the end of the curve (Guyot's assumption), which overstates the events when patients were
  in fact censored: such reconstructions are flagged as less reliable.

Patients still at risk after the last digitised point are censored at its time.

Departures from the published R code (the algorithm is the same): a point is inserted on the
curve at every at-risk time, so that every interval starts on a digitised point; censored
patients keep their evenly spread times (not the midpoint between two digitised points); the
number of events at a point is kept within ``[0, n_k]``; and the search for the censoring total
stops on a cycle or after a bounded number of steps and falls back to bisection, reporting any
remaining mismatch instead of looping.

Why own code: there is no Python implementation (R: IPDfromKM, reconstructKM; Stata: ipdfc).

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9.
Liu N, Zhou Y, Lee JJ. IPDfromKM: reconstruct individual patient data from published
Kaplan-Meier survival curves. BMC Med Res Methodol 2021;21:111.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = ["IntervalFit", "Method", "Reconstruction", "reconstruct"]

Method = Literal["at_risk", "total_events", "none"]

#: Guyot update steps before falling back to bisection.
_MAX_STEPS = 60


@dataclass(frozen=True)
class IntervalFit:
    """One at-risk interval: published and reconstructed numbers at its end, events, censored.

    ``end`` is ``None`` for the last interval (no published count after it).
    """

    start: float
    end: float | None
    n_start: int
    n_end_published: int | None
    n_end_reconstructed: int
    events: int
    censored: int

    @property
    def matched(self) -> bool:
        return self.n_end_published is None or self.n_end_published == self.n_end_reconstructed


@dataclass(frozen=True)
class Reconstruction:
    """Reconstructed individual patient data of one arm.

    ``time``/``event`` are sorted by time (events first at equal times). ``points_*`` are the
    per-point quantities on the curve as used (digitised points plus points inserted at the
    at-risk times): number at risk, events, censored and the reconstructed Kaplan-Meier value.
    """

    time: NDArray[np.float64]
    event: NDArray[np.int64]
    method: Method
    n: int
    total_events_target: int | None
    intervals: tuple[IntervalFit, ...]
    points_time: NDArray[np.float64]
    points_surv: NDArray[np.float64]
    points_n_risk: NDArray[np.int64]
    points_events: NDArray[np.int64]
    points_censored: NDArray[np.int64]
    points_km: NDArray[np.float64]
    inserted_points: int
    extended_to: float | None

    @property
    def events(self) -> int:
        return int(self.event.sum())

    @property
    def censored(self) -> int:
        return int(self.event.size - self.event.sum())

    @property
    def at_risk_mismatches(self) -> int:
        return sum(not iv.matched for iv in self.intervals)

    @property
    def total_events_matched(self) -> bool | None:
        if self.total_events_target is None:
            return None
        return self.events == self.total_events_target


@dataclass
class _State:
    """Arrays of the forward pass over the curve points."""

    t: NDArray[np.float64]
    s: NDArray[np.float64]
    n: NDArray[np.int64]
    d: NDArray[np.int64]
    cen: NDArray[np.int64]
    km: NDArray[np.float64]
    cen_times: list[NDArray[np.float64]]


@dataclass(frozen=True)
class _Pass:
    n_end: int
    d: NDArray[np.int64]
    cen: NDArray[np.int64]
    km: NDArray[np.float64]
    n: NDArray[np.int64]
    last: int
    cen_times: list[NDArray[np.float64]]


def _round(x: float) -> int:
    """Round half away from zero (R's ``round`` rounds half to even; the difference is moot)."""
    return int(np.floor(x + 0.5)) if x >= 0 else -int(np.floor(-x + 0.5))


def _forward(
    st: _State, lo: int, hi: int, end_time: float, c: int, n_start: int, last: int, final: bool
) -> _Pass:
    """Events and censoring on points ``lo..hi`` with ``c`` censored spread over the interval.

    ``end_time`` is the end of the spreading range; censoring times fall in ``[t_k, t_{k+1})``
    of point ``k``. On the final interval the last point gets no censoring (whoever is left
    is censored at its time afterwards).
    """
    t, s = st.t, st.s
    size = hi - lo + 1
    cen = np.zeros(size, dtype=np.int64)
    cen_times: list[NDArray[np.float64]] = [np.empty(0) for _ in range(size)]
    bins_hi = hi if final else hi + 1  # index of the breakpoint closing the last bin
    if c > 0 and bins_hi > lo:
        ct = t[lo] + np.arange(1, c + 1) * (end_time - t[lo]) / (c + 1)
        breaks = t[lo : bins_hi + 1]
        which = np.searchsorted(breaks, ct, side="right") - 1
        which = np.clip(which, 0, bins_hi - lo - 1)
        cen[: bins_hi - lo] = np.bincount(which, minlength=bins_hi - lo)
        for k in range(bins_hi - lo):
            cen_times[k] = ct[which == k]
    d = np.zeros(size, dtype=np.int64)
    km = np.empty(size)
    n = np.empty(size + 1, dtype=np.int64)
    n[0] = n_start
    km_last = st.km[last] if last >= 0 else 1.0
    for i in range(size):
        k = lo + i
        nk = int(n[i])
        if k == 0 or km_last <= 0.0 or nk <= 0:
            dk = 0
        else:
            dk = min(max(_round(nk * (1.0 - s[k] / km_last)), 0), nk)
        d[i] = dk
        km[i] = km_last * (1.0 - dk / nk) if nk > 0 else km_last
        if dk > 0:
            km_last = km[i]
            last = k
        nxt = nk - dk - int(cen[i])
        if nxt < 0:
            cen[i] = nk - dk
            cen_times[i] = cen_times[i][: cen[i]]
            nxt = 0
        n[i + 1] = nxt
    return _Pass(int(n[size]), d, cen, km, n[:size], last, cen_times)


def _commit(st: _State, lo: int, p: _Pass) -> None:
    size = p.d.size
    st.d[lo : lo + size] = p.d
    st.cen[lo : lo + size] = p.cen
    st.km[lo : lo + size] = p.km
    st.n[lo : lo + size] = p.n
    st.n[lo + size] = p.n_end
    st.cen_times[lo : lo + size] = p.cen_times


def _solve(evaluate: Callable[[int], int], target: int, guess: int, c_max: int) -> int:
    """Censoring total ``c`` in ``[0, c_max]`` whose outcome ``evaluate(c)`` equals ``target``.

    ``evaluate`` is non-increasing in ``c`` (more censoring: fewer at risk, fewer events).
    Guyot's update ``c += evaluate(c) - target`` first; on a cycle or after
    :data:`_MAX_STEPS` steps, bisection for the smallest ``c`` with ``evaluate(c) <= target``.
    When no ``c`` reaches the target exactly, the closest is returned (the smaller on a tie).
    """
    seen: dict[int, int] = {}
    c = min(max(guess, 0), c_max)
    for _ in range(_MAX_STEPS):
        if c in seen:
            break
        value = evaluate(c)
        seen[c] = value
        if value == target or (value < target and c == 0):
            return c
        c = min(max(c + value - target, 0), c_max)
    lo, hi = 0, c_max
    if evaluate(lo) <= target:
        return lo
    if evaluate(hi) > target:
        return hi
    while hi - lo > 1:  # invariant: evaluate(lo) > target >= evaluate(hi)
        mid = (lo + hi) // 2
        if evaluate(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi if abs(evaluate(hi) - target) <= abs(evaluate(lo) - target) else lo


def _prepare(
    time: ArrayLike, surv: ArrayLike, risk_time: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, float | None]:
    t = np.asarray(time, dtype=float)
    s = np.asarray(surv, dtype=float)
    if t.ndim != 1 or t.shape != s.shape or t.size < 2:
        raise AnalysisError("the curve needs matching time and survival arrays of >= 2 points")
    if t[0] != 0.0 or s[0] != 1.0 or np.any(np.diff(t) <= 0) or np.any(np.diff(s) > 0):
        raise AnalysisError(
            "the curve must start at (0, 1) with increasing times and non-increasing survival "
            "(clean it with ikaros.ipd.clean_points)"
        )
    extended_to = None
    if risk_time[-1] > t[-1]:  # the published table runs a little past the digitised end
        extended_to = float(risk_time[-1])
        t = np.append(t, extended_to)
        s = np.append(s, s[-1])
    missing = risk_time[~np.isin(risk_time, t)]
    if missing.size:
        idx = np.searchsorted(t, missing, side="right") - 1
        t = np.concatenate([t, missing])
        s = np.concatenate([s, s[idx]])
        order = np.argsort(t, kind="stable")
        t, s = t[order], s[order]
    return t, s, int(missing.size), extended_to


def reconstruct(
    time: ArrayLike,
    surv: ArrayLike,
    *,
    n_risk: ArrayLike,
    risk_time: ArrayLike = (0.0,),
    total_events: int | None = None,
) -> Reconstruction:
    """Reconstruct individual patient data from a cleaned digitised curve (Guyot et al. 2012).

    Parameters
    ----------
    time, surv
        The cleaned curve: increasing times from 0, non-increasing survival from 1 (see
        :func:`ikaros.ipd.digitised.clean_points`).
    n_risk, risk_time
        Published numbers at risk and their times (first time 0). Only ``n_risk = [N]`` at
        ``risk_time = [0]``: no at-risk table, only the number of patients.
    total_events
        Published total number of events, if known.

    Returns
    -------
    Reconstruction
        The patients, the method used (``"at_risk"`` when the table has more than one time,
        else ``"total_events"`` or ``"none"``) and the per-interval fit.
    """
    rt = np.asarray(risk_time, dtype=float)
    rn = np.asarray(n_risk, dtype=float)
    if rt.ndim != 1 or rt.shape != rn.shape or rt.size == 0 or rt[0] != 0.0:
        raise AnalysisError("the at-risk table needs matching times and counts starting at 0")
    if np.any(np.diff(rt) <= 0) or np.any(np.diff(rn) > 0) or np.any(rn != np.round(rn)):
        raise AnalysisError("at-risk times must increase and counts be non-increasing integers")
    if rn[0] < 1:
        raise AnalysisError("the at-risk table must start with at least one patient")
    n0 = int(rn[0])
    if total_events is not None and not 0 <= total_events <= n0:
        raise AnalysisError(f"total events {total_events} is not between 0 and {n0} patients")
    t, s, inserted, extended_to = _prepare(time, surv, rt)
    m = t.size
    lower = np.searchsorted(t, rt).astype(int)
    upper = np.append(lower[1:] - 1, m - 1)
    st = _State(
        t=t,
        s=s,
        n=np.zeros(m + 1, dtype=np.int64),
        d=np.zeros(m, dtype=np.int64),
        cen=np.zeros(m, dtype=np.int64),
        km=np.ones(m),
        cen_times=[np.empty(0) for _ in range(m)],
    )
    published = [int(x) for x in rn]
    n_start = n0
    last = -1
    intervals: list[IntervalFit] = []
    J = rt.size
    for j in range(J - 1):
        lo, hi = int(lower[j]), int(upper[j])
        end_time = float(t[lower[j + 1]])
        target = published[j + 1]

        def outcome(
            c: int,
            lo: int = lo,
            hi: int = hi,
            e: float = end_time,
            n: int = n_start,
            la: int = last,
        ) -> int:
            return _forward(st, lo, hi, e, c, n, la, False).n_end

        s_lo = s[lo]
        guess = _round(n_start * s[lower[j + 1]] / s_lo - target) if s_lo > 0 else 0
        c = _solve(outcome, target, guess, n_start)
        p = _forward(st, lo, hi, end_time, c, n_start, last, False)
        _commit(st, lo, p)
        intervals.append(
            IntervalFit(
                float(rt[j]),
                float(rt[j + 1]),
                n_start,
                target,
                p.n_end,
                int(p.d.sum()),
                int(p.cen.sum()),
            )
        )
        n_start, last = p.n_end, p.last
    # the last interval
    lo, hi = int(lower[-1]), int(upper[-1])
    end_time = float(t[hi])
    earlier_events = int(st.d[:lo].sum())
    if total_events is not None and earlier_events >= total_events and J > 1:
        # the events are all used up: nobody else has one, all are censored at the end
        p = _forward(st, lo, hi, end_time, 0, n_start, last, True)
        p = _Pass(
            n_start,
            np.zeros_like(p.d),
            np.zeros_like(p.cen),
            np.full_like(p.km, st.km[last] if last >= 0 else 1.0),
            np.full_like(p.n, n_start),
            last,
            [np.empty(0) for _ in p.cen_times],
        )
    else:
        if J > 1:
            censored_before = int(st.cen[:lo].sum())
            span = float(t[lo] - t[0])
            rate = censored_before / span if span > 0 else 0.0
            guess = min(_round(rate * (end_time - t[lo])), n_start)
        else:
            guess = 0
        c = guess
        if total_events is not None:
            remaining = total_events - earlier_events

            def events_in_last(c: int) -> int:
                return int(_forward(st, lo, hi, end_time, c, n_start, last, True).d.sum())

            c = _solve(events_in_last, remaining, guess, n_start)
        elif s[hi] == 0.0 and c > 0:
            # a curve ending at 0 ends with an event: leave someone at risk to have it
            def at_risk_at_end(c: int) -> int:
                return int(_forward(st, lo, hi, end_time, c, n_start, last, True).n[-1])

            lo_c, hi_c = 0, c
            if at_risk_at_end(hi_c) < 1 <= at_risk_at_end(lo_c):
                while hi_c - lo_c > 1:  # invariant: at_risk_at_end(lo_c) >= 1 > ...(hi_c)
                    mid = (lo_c + hi_c) // 2
                    if at_risk_at_end(mid) >= 1:
                        lo_c = mid
                    else:
                        hi_c = mid
                c = lo_c
        p = _forward(st, lo, hi, end_time, c, n_start, last, True)
    _commit(st, lo, p)
    intervals.append(
        IntervalFit(float(rt[-1]), None, n_start, None, p.n_end, int(p.d.sum()), int(p.cen.sum()))
    )
    method: Method = (
        "at_risk" if J > 1 else ("total_events" if total_events is not None else "none")
    )
    return _patients(st, n0, method, total_events, tuple(intervals), inserted, extended_to)


def _patients(
    st: _State,
    n0: int,
    method: Method,
    total_events: int | None,
    intervals: tuple[IntervalFit, ...],
    inserted: int,
    extended_to: float | None,
) -> Reconstruction:
    m = st.t.size
    event_times = np.repeat(st.t, st.d)
    cens = [st.cen_times[k] for k in range(m) if st.cen[k] > 0]
    cen_times = np.concatenate(cens) if cens else np.empty(0)
    remaining = int(st.n[m])
    times = np.concatenate([event_times, cen_times, np.full(remaining, st.t[-1])])
    events = np.concatenate(
        [np.ones(event_times.size), np.zeros(cen_times.size + remaining)]
    ).astype(np.int64)
    if times.size != n0:  # bookkeeping invariant: every patient leaves exactly once
        raise AnalysisError(
            f"internal reconstruction error: {times.size} patients rebuilt for {n0} randomised"
        )
    order = np.lexsort((-events, times))
    return Reconstruction(
        time=times[order],
        event=events[order],
        method=method,
        n=n0,
        total_events_target=total_events,
        intervals=intervals,
        points_time=st.t,
        points_surv=st.s,
        points_n_risk=st.n[:m].copy(),
        points_events=st.d.copy(),
        points_censored=st.cen.copy(),
        points_km=st.km.copy(),
        inserted_points=inserted,
        extended_to=extended_to,
    )
