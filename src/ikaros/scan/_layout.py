"""Risk-set layout shared by the Cox engines: patients sorted once, sums as sparse products.

Risk-set sums
-------------
Rows are sorted by stratum, then by *decreasing* follow-up time, censorings before deaths at the
same time. Within a stratum the patients at risk at its ``j``-th distinct event time ``t_j``
(latest first) are then a contiguous run of rows starting at the stratum's first row
(``time >= t_j``), and the deaths at ``t_j`` are the last ``d_j`` of them. One product with a
sparse 0/1 matrix sums, for every ``j``, the rows that enter the risk set at ``t_j`` and, for
tied event times, the deaths at ``t_j``; a running sum over the event times of each stratum then
gives every risk-set sum ``S_j``, and the death rows give ``A_j``. (The sparse product is ~10x
faster than :func:`numpy.add.reduceat` on the same segments.) No loop runs over patients, genes
or event times (only over strata, for the running sums); the running sum is numpy's ``cumsum``
for narrow blocks and one vectorised addition per event time across a wide block of genes.

Tied event times
----------------
Efron's approximation has ``d_j`` terms at a time with ``d_j`` deaths; they differ only in the
scalar denominator ``S0_j - (l / d_j) A0_j``. The layout lists these terms for the *tied* times
only (``tie_*``), so the engine sums three scalars per term (``log``, ``1 / den``,
``1 / den^2``) and works with per-time arrays otherwise (:mod:`ikaros.scan._efron`).

Sorting once
------------
The sort is the only super-linear step. :func:`time_order` computes it once for a set of
patients; a subset of sorted rows is still sorted, so :func:`subset_order` gives the order of
any subset (complete cases, a subgroup) in O(n), and :func:`make_layout` accepts a precomputed
order (a stratified layout then only needs a stable sort of the small stratum codes).

Reductions use :func:`colsum` and :func:`running_sum`, which add in the same order whatever the
width of the block, so a gene's results do not depend on the block it is processed in.

The layout serves the genome-wide scan (:mod:`ikaros.scan.engine`, one stratum), the study's
Cox models (:func:`ikaros.stats.cox.fit_cox`, optionally stratified), the proportional-hazards
test (:mod:`ikaros.stats.ph`) and the log-rank tests (:mod:`ikaros.stats.logrank`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    from scipy import sparse

__all__ = [
    "Layout",
    "colsum",
    "make_layout",
    "null_loglik",
    "running_sum",
    "separated",
    "separation",
    "subset_order",
    "time_order",
]

#: Block width from which a Python loop over event times beats ``np.cumsum(axis=0)``.
_WIDE: Final = 256


def _csr(*args: Any, **kwargs: Any) -> sparse.csr_array:
    """``scipy.sparse.csr_array``, imported on first use: the one-model fits of the study do
    not need sparse matrices, and the import costs ~0.2 s of every command."""
    from scipy import sparse

    return sparse.csr_array(*args, **kwargs)


@cache
def _ones_row(length: int) -> sparse.csr_array:
    return _csr(np.ones((1, length)))


def colsum(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Column sums of a 2-D array, adding the rows in order whatever the number of columns.

    ``a.sum(axis=0)`` switches to pairwise summation when the array has one column, so a gene's
    results would change in the last bits with the block it sits in. A product with a sparse
    row of ones accumulates every column row by row, in the same order for any width.
    """
    return np.asarray(_ones_row(a.shape[0]) @ a)[0]


def running_sum(a: NDArray[np.float64]) -> None:
    """Cumulative sums down the rows of a 2-D array, in place.

    The same additions in the same order either way: a loop over rows is faster for wide
    arrays, numpy's (strided) ``cumsum`` for narrow ones.
    """
    if a.shape[1] >= _WIDE:
        for j in range(1, a.shape[0]):
            np.add(a[j - 1], a[j], out=a[j])
    else:
        np.cumsum(a, axis=0, out=a)


def _ranges(starts: NDArray[np.intp], lengths: NDArray[np.intp]) -> NDArray[np.intp]:
    """Concatenation of ``arange(s, s + l)`` for every pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    offsets = np.cumsum(lengths) - lengths
    return (np.arange(total) - np.repeat(offsets - starts, lengths)).astype(np.intp)


def time_order(time: NDArray[np.float64], event: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Rows by decreasing time, censorings before deaths at the same time (the one sort)."""
    return np.lexsort((event, -time)).astype(np.intp)


def subset_order(order: NDArray[np.intp], keep: NDArray[np.bool_]) -> NDArray[np.intp]:
    """The order of the rows ``keep`` selects (indices into the subset), in O(n).

    ``order`` sorts the full set; a subset of sorted rows is still sorted.
    """
    index = np.cumsum(keep, dtype=np.intp) - 1
    return index[order[keep[order]]]


@dataclass(frozen=True)
class Layout:
    """Where the risk sets and death groups are in the sorted rows.

    Attributes
    ----------
    order
        Permutation sorting patients by stratum, then decreasing time, deaths last within a time.
    n, events
        Number of patients and of deaths.
    m
        Number of distinct event times (per stratum, summed over strata).
    bounds
        Segment starts for :func:`numpy.maximum.reduceat` (used by :func:`separated`).
    pos
        For each distinct event time, the index of its death segment in ``bounds``.
    at_risk, deaths
        Patients at risk and deaths at each distinct event time.
    expand
        For each Efron term ``(j, l)``, the event-time index ``j`` (length ``events``).
    frac
        For each Efron term, ``l / d_j`` (all zero for Breslow ties or untied times).
    tied
        Whether any ``frac`` is non-zero (Efron's approximation with tied deaths).
    death_rows
        Sorted-row indices of the deaths.
    n_strata
        Number of strata (1: unstratified).
    strata_rows
        ``n_strata + 1`` row boundaries of the strata in the sorted rows.
    strata_times
        ``n_strata + 1`` boundaries of the strata in the event-time index ``j``.
    strata_segments
        ``n_strata + 1`` boundaries of the strata in ``bounds``.
    strata_events
        Deaths per stratum.
    row_stratum
        Stratum of each sorted row.
    end_rows, before_rows, has_before
        For the one-model evaluator: the last row of each risk set, the row just before each
        death group, and whether that row is in the same stratum (running sums over the rows of
        a stratum give ``S_j`` at ``end_rows`` and ``A_j`` as the difference).
    entry_start
        First row entering each risk set.
    weight
        Per event time, how many times its (untied) term counts: ``d_j`` for Breslow, 1 for
        Efron (whose tied times are summed over their terms separately).
    tie_times
        Event-time indices ``j`` with ``d_j > 1`` under Efron's approximation (empty otherwise).
    tie_group, tie_frac
        For each Efron term of a tied time: the position of its time in ``tie_times`` and its
        ``l / d_j``.
    tie_starts
        Start of each tied time's terms (for :func:`numpy.add.reduceat`).
    tie_deaths
        ``d_j`` of each tied time.
    sums
        (Property, built on first use.) Sparse ``(m + mt, n)`` 0/1 matrix: row ``j`` marks the
        rows that enter the risk set at ``t_j``; row ``m + k`` the deaths at the ``k``-th tied
        time.
    tie_sums
        (Property.) Sparse ``(mt, Dt)`` 0/1 matrix summing the terms of each tied time.
    """

    order: NDArray[np.intp]
    n: int
    events: int
    m: int
    bounds: NDArray[np.intp]
    pos: NDArray[np.intp]
    at_risk: NDArray[np.float64]
    deaths: NDArray[np.float64]
    expand: NDArray[np.intp]
    frac: NDArray[np.float64]
    tied: bool
    death_rows: NDArray[np.intp]
    n_strata: int = 1
    strata_rows: NDArray[np.intp] | None = None
    strata_times: NDArray[np.intp] | None = None
    strata_segments: NDArray[np.intp] | None = None
    strata_events: NDArray[np.float64] | None = None
    row_stratum: NDArray[np.intp] | None = None
    end_rows: NDArray[np.intp] | None = None
    before_rows: NDArray[np.intp] | None = None
    has_before: NDArray[np.bool_] | None = None
    entry_start: NDArray[np.intp] | None = None
    weight: NDArray[np.float64] | None = None
    tie_times: NDArray[np.intp] | None = None
    tie_group: NDArray[np.intp] | None = None
    tie_frac: NDArray[np.float64] | None = None
    tie_starts: NDArray[np.intp] | None = None
    tie_deaths: NDArray[np.float64] | None = None

    @cached_property
    def sums(self) -> sparse.csr_array:
        """The sparse 0/1 risk-set entry (and tied death) matrix, built on first use."""
        assert self.entry_start is not None and self.end_rows is not None
        m = self.m
        at_end = self.end_rows + 1
        lengths = at_end - self.entry_start
        rows = np.repeat(np.arange(m), lengths)
        cols = _ranges(self.entry_start, lengths)
        mt = 0
        if self.tied:
            assert self.tie_times is not None
            mt = int(self.tie_times.size)
            counts = self.deaths[self.tie_times].astype(np.intp)
            rows = np.concatenate([rows, m + np.repeat(np.arange(mt), counts)])
            cols = np.concatenate([cols, _ranges(at_end[self.tie_times] - counts, counts)])
        out = _csr((np.ones(rows.size), (rows, cols)), shape=(m + mt, self.n))
        out.sort_indices()
        return out

    @cached_property
    def tie_sums(self) -> sparse.csr_array:
        """Sparse ``(mt, Dt)`` matrix adding up the Efron terms of each tied time, in order."""
        assert self.tie_group is not None and self.tie_times is not None
        dt = self.tie_group.size
        return _csr((np.ones(dt), (self.tie_group, np.arange(dt))), shape=(self.tie_times.size, dt))

    @cached_property
    def segments(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """Row segments for :func:`numpy.add.reduceat`, and where each event time's rows are.

        Returns ``(starts, entry, death)``: segment starts (the rows entering each risk set, the
        death rows of each tied time on their own); per event time the segment of its entering
        rows before any tied deaths (``-1`` when all of them are tied deaths), and per tied
        time its deaths' segment. Summing segments adds each row once, with no difference of
        running sums (no cancellation).
        """
        assert self.entry_start is not None and self.end_rows is not None
        assert self.tie_times is not None
        at_end = self.end_rows + 1
        tt = self.tie_times
        dstart = at_end[tt] - self.deaths[tt].astype(np.intp)
        points = np.concatenate([self.entry_start, dstart, at_end[at_end < self.n]])
        starts = np.unique(points).astype(np.intp)
        entry = np.searchsorted(starts, self.entry_start).astype(np.intp)
        death = np.searchsorted(starts, dstart).astype(np.intp)
        entry[tt[self.entry_start[tt] == dstart]] = -1
        return starts, entry, death

    @cached_property
    def weight_row(self) -> sparse.csr_array:
        """``weight`` as a sparse row, for order-preserving weighted column sums."""
        assert self.weight is not None
        return _csr(self.weight[None, :])

    def row_slices(self) -> list[slice]:
        """Row ranges of the strata in the sorted rows (one slice when unstratified)."""
        if self.strata_rows is None:
            return [slice(0, self.n)]
        b = self.strata_rows
        return [slice(int(b[s]), int(b[s + 1])) for s in range(self.n_strata)]

    def stratum_slices(self) -> list[slice]:
        """Event-time index ranges of the strata (one slice when unstratified)."""
        if self.strata_times is None:
            return [slice(0, self.m)]
        b = self.strata_times
        return [slice(int(b[s]), int(b[s + 1])) for s in range(self.n_strata)]

    def running_sum(self, a: NDArray[np.float64]) -> None:
        """:func:`running_sum` over the event times of each stratum separately, in place."""
        for sl in self.stratum_slices():
            if sl.stop - sl.start > 1:
                running_sum(a[sl])

    def row_cumsum(self, a: NDArray[np.float64]) -> None:
        """Cumulative sums along the sorted rows (last axis) within each stratum, in place."""
        for rows in self.row_slices():
            np.cumsum(a[..., rows], axis=-1, out=a[..., rows])


def make_layout(
    time: NDArray[np.float64],
    event: NDArray[np.bool_],
    ties: str,
    strata: NDArray[np.intp] | None = None,
    *,
    order: NDArray[np.intp] | None = None,
) -> Layout:
    """Sort the patients once and lay out risk sets and Efron terms (see module docstring).

    Parameters
    ----------
    time, event
        Follow-up times and event indicators.
    ties
        ``"efron"`` or ``"breslow"``.
    strata
        Optional stratum code per patient, ``0 .. S-1`` with every code present (from
        ``numpy.unique(..., return_inverse=True)``); risk sets are formed within strata.
    order
        The rows of ``time`` by decreasing time, censorings before deaths at a time
        (:func:`time_order` or :func:`subset_order`), when already known: no sort is done
        then (with strata, only a stable sort of the stratum codes).
    """
    n = time.size
    event = np.asarray(event, dtype=bool)
    stratified = strata is not None and n > 0 and int(np.max(strata)) > 0
    codes = np.zeros(n, dtype=np.intp) if not stratified else np.asarray(strata, dtype=np.intp)
    if order is None:
        order = np.lexsort((event, -time, codes)).astype(np.intp)
    elif stratified:
        small = codes.astype(np.int16) if int(codes.max()) < 2**15 else codes
        order = order[np.argsort(small[order], kind="stable")].astype(np.intp)
    else:
        order = np.asarray(order, dtype=np.intp)
    t = time[order]
    e = event[order]
    c = codes[order]
    n_strata = int(c[-1]) + 1 if n else 1
    strata_rows = np.searchsorted(c, np.arange(n_strata + 1), side="left").astype(np.intp)
    death_rows = np.flatnonzero(e).astype(np.intp)
    # distinct (stratum, time) event groups, in row order (within a stratum latest first)
    dt, dc = t[death_rows], c[death_rows]
    new = np.ones(death_rows.size, dtype=bool)
    new[1:] = (dt[1:] != dt[:-1]) | (dc[1:] != dc[:-1])
    first = np.flatnonzero(new)
    counts = np.diff(np.append(first, death_rows.size)).astype(np.intp)
    dstart = death_rows[first]
    at_end = dstart + counts  # rows before this (from the stratum start) are at risk
    time_stratum = dc[first]
    m = int(first.size)
    sstart = strata_rows[time_stratum]
    at_risk = at_end - sstart
    strata_times = np.searchsorted(time_stratum, np.arange(n_strata + 1), side="left")
    # rows entering each risk set: from the previous event time's end in the stratum (or the
    # stratum start) to this one's end
    entry_start = sstart.copy()
    follows = np.flatnonzero(time_stratum[1:] == time_stratum[:-1]) + 1
    entry_start[follows] = at_end[follows - 1]
    bounds = np.unique(np.concatenate([[0], strata_rows[:-1], dstart, at_end[at_end < n]]))
    pos = np.searchsorted(bounds, dstart)
    strata_segments = np.searchsorted(bounds, strata_rows, side="left")
    expand = np.repeat(np.arange(m), counts)
    efron = ties == "efron"
    if efron:
        first_term = np.repeat(np.cumsum(counts) - counts, counts)
        frac = (np.arange(expand.size) - first_term) / np.repeat(counts, counts).astype(np.float64)
    else:
        frac = np.zeros(expand.size)
    tied = bool(np.any(frac > 0))
    tie_times = np.flatnonzero(counts > 1).astype(np.intp) if tied else np.zeros(0, np.intp)
    tie_counts = counts[tie_times]
    tie_group = np.repeat(np.arange(tie_times.size), tie_counts).astype(np.intp)
    tie_starts = (np.cumsum(tie_counts) - tie_counts).astype(np.intp)
    tie_frac = (np.arange(tie_group.size) - tie_starts[tie_group]) / np.repeat(
        tie_counts, tie_counts
    ).astype(np.float64)
    weight = np.ones(m) if efron else counts.astype(np.float64)
    events_per = np.bincount(c[death_rows], minlength=n_strata).astype(np.float64)
    return Layout(
        order=order,
        n=n,
        events=int(death_rows.size),
        m=m,
        bounds=bounds.astype(np.intp),
        pos=pos.astype(np.intp),
        at_risk=at_risk.astype(np.float64),
        deaths=counts.astype(np.float64),
        expand=expand.astype(np.intp),
        frac=frac,
        tied=tied,
        death_rows=death_rows,
        n_strata=n_strata,
        strata_rows=strata_rows if n_strata > 1 else None,
        strata_times=strata_times.astype(np.intp) if n_strata > 1 else None,
        strata_segments=strata_segments.astype(np.intp) if n_strata > 1 else None,
        strata_events=events_per if n_strata > 1 else None,
        row_stratum=c if n_strata > 1 else None,
        end_rows=(at_end - 1).astype(np.intp),
        before_rows=np.maximum(dstart - 1, 0).astype(np.intp),
        has_before=dstart > sstart,
        entry_start=entry_start.astype(np.intp),
        weight=weight,
        tie_times=tie_times,
        tie_group=tie_group,
        tie_frac=tie_frac,
        tie_starts=tie_starts,
        tie_deaths=tie_counts.astype(np.float64),
    )


def null_loglik(lay: Layout) -> float:
    """Log partial likelihood with every coefficient 0: ``-sum_jl log(r_j - f d_j)``."""
    denom = lay.at_risk[lay.expand] - lay.frac * lay.deaths[lay.expand]
    return float(-np.sum(np.log(denom)))


def separation(xs: NDArray[np.float64], lay: Layout) -> NDArray[np.int8]:
    """Direction in which each column's one-covariate partial likelihood is monotone.

    ``+1`` when, at every event time, every death has the largest value of the column in its
    risk set (the estimate is ``+inf``), ``-1`` when every death has the smallest (``-inf``),
    ``0`` otherwise or when the column varies in no risk set (Heinze & Schemper 2001). ``xs``
    must be ``(n, G)`` sorted as ``lay.order``. A non-zero direction is sufficient for the
    coefficient to diverge in any model containing the column: the partial likelihood
    (Breslow or Efron) is then monotone in that coefficient whatever the others are.
    """
    seg_max = np.maximum.reduceat(xs, lay.bounds, axis=0)
    seg_min = np.minimum.reduceat(xs, lay.bounds, axis=0)
    if lay.strata_segments is None:
        risk_max = np.maximum.accumulate(seg_max, axis=0)
        risk_min = np.minimum.accumulate(seg_min, axis=0)
    else:  # running extremes restart in every stratum
        risk_max = np.empty_like(seg_max)
        risk_min = np.empty_like(seg_min)
        b = lay.strata_segments
        for s in range(lay.n_strata):
            sl = slice(int(b[s]), int(b[s + 1]))
            risk_max[sl] = np.maximum.accumulate(seg_max[sl], axis=0)
            risk_min[sl] = np.minimum.accumulate(seg_min[sl], axis=0)
    risk_max, risk_min = risk_max[lay.pos], risk_min[lay.pos]
    death_max = seg_max[lay.pos]
    death_min = seg_min[lay.pos]
    varies = np.any(risk_max > risk_min, axis=0)
    up = varies & np.all(death_min == risk_max, axis=0)
    down = varies & np.all(death_max == risk_min, axis=0) & ~up
    return np.asarray(up.astype(np.int8) - down.astype(np.int8))


def separated(xs: NDArray[np.float64], lay: Layout) -> NDArray[np.bool_]:
    """Which columns have a monotone one-covariate partial likelihood (see :func:`separation`)."""
    return np.asarray(separation(xs, lay) != 0)
