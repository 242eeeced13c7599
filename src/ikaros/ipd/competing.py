"""Competing-risks data from two digitised cumulative-incidence curves and an at-risk table.

A published competing-risks figure shows the cumulative incidence ``F1`` of the event (e.g.
progression) and ``F2`` of the competing event (e.g. death without progression), with the
numbers at risk (patients free of both and uncensored). By the Aalen-Johansen identity the
all-cause event-free survival is ``S = 1 - F1 - F2``; its Kaplan-Meier jumps are the events of
either cause. So:

1. ``S`` is formed on the union of the two curves' digitised times;
2. Guyot's algorithm (:func:`ikaros.ipd.guyot.reconstruct`) reconstructs the all-cause events
   and the censoring from ``S`` and the at-risk table;
3. the events at each point are split between the causes in proportion to the rise of each
   incidence since the previous point with events: the Aalen-Johansen increment of cause
   ``c`` is ``S(t-) d_c / n``, so ``d_c`` is proportional to the rise of ``F_c``. The split is
   rounded on the running totals (the events of cause 1 so far are the rounded sum of the
   expected ones), which keeps every point's split between 0 and its events and the totals
   unbiased by rounding.

An at-risk table is required: without it the censoring of a competing-risks figure cannot be
told apart from the competing events.

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9.
Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains based on
censored observations. Scand J Stat 1978;5:141-150.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.ipd.compare import step_values
from ikaros.ipd.guyot import Reconstruction, reconstruct

__all__ = ["CompetingReconstruction", "incidence_overlap", "reconstruct_competing"]


@dataclass(frozen=True)
class CompetingReconstruction:
    """Reconstructed competing-risks data: status 0 censored, 1 event, 2 competing event."""

    time: NDArray[np.float64]
    status: NDArray[np.int64]
    all_cause: Reconstruction

    @property
    def n(self) -> int:
        return int(self.time.size)

    def count(self, status: int) -> int:
        return int(np.sum(self.status == status))


def _grid(
    t1: NDArray[np.float64],
    f1: NDArray[np.float64],
    t2: NDArray[np.float64],
    f2: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    g = np.union1d(t1, t2)
    return g, step_values(t1, f1, g, 0.0), step_values(t2, f2, g, 0.0)


def incidence_overlap(
    event_time: ArrayLike,
    event_incidence: ArrayLike,
    competing_time: ArrayLike,
    competing_incidence: ArrayLike,
) -> tuple[float, float]:
    """Largest ``F1 + F2`` over the digitised times and where it occurs (must stay <= 1)."""
    g, a, b = _grid(
        np.asarray(event_time, dtype=float),
        np.asarray(event_incidence, dtype=float),
        np.asarray(competing_time, dtype=float),
        np.asarray(competing_incidence, dtype=float),
    )
    total = a + b
    k = int(np.argmax(total))
    return float(total[k]), float(g[k])


def reconstruct_competing(
    event_time: ArrayLike,
    event_incidence: ArrayLike,
    competing_time: ArrayLike,
    competing_incidence: ArrayLike,
    *,
    n_risk: ArrayLike,
    risk_time: ArrayLike,
) -> CompetingReconstruction:
    """Reconstruct competing-risks data from two cleaned incidence curves and an at-risk table.

    Parameters
    ----------
    event_time, event_incidence
        Cleaned cumulative incidence of the event: increasing times from 0, non-decreasing
        values from 0.
    competing_time, competing_incidence
        The same for the competing event.
    n_risk, risk_time
        Published numbers at risk (free of both events) and their times, from 0; at least two.

    Returns
    -------
    CompetingReconstruction
    """
    rt = np.asarray(risk_time, dtype=float)
    if rt.size < 2:
        raise AnalysisError(
            "competing-risks reconstruction needs an at-risk table with at least two times"
        )
    g, f1, f2 = _grid(
        np.asarray(event_time, dtype=float),
        np.asarray(event_incidence, dtype=float),
        np.asarray(competing_time, dtype=float),
        np.asarray(competing_incidence, dtype=float),
    )
    surv = np.clip(1.0 - f1 - f2, 0.0, 1.0)
    rec = reconstruct(g, surv, n_risk=n_risk, risk_time=rt)
    pt = rec.points_time
    a = step_values(g, f1, pt, 0.0)
    b = step_values(g, f2, pt, 0.0)
    d = rec.points_events
    ones = np.zeros(pt.size, dtype=np.int64)
    expected = 0.0
    given = 0
    prev_a = prev_b = 0.0
    for k in np.flatnonzero(d > 0):
        rise_a, rise_b = max(a[k] - prev_a, 0.0), max(b[k] - prev_b, 0.0)
        if rise_a + rise_b > 0:
            share = rise_a / (rise_a + rise_b)
        elif a[k] + b[k] > 0:
            share = a[k] / (a[k] + b[k])
        else:
            share = 0.5
        expected += d[k] * share
        total = int(np.floor(expected + 0.5))
        ones[k] = min(max(total - given, 0), int(d[k]))
        given += int(ones[k])
        prev_a, prev_b = a[k], b[k]
    twos = d - ones
    event_times = np.concatenate([np.repeat(pt, ones), np.repeat(pt, twos)])
    status = np.concatenate([np.ones(ones.sum()), np.full(twos.sum(), 2)]).astype(np.int64)
    cens = rec.time[rec.event == 0]
    time = np.concatenate([event_times, cens])
    status = np.concatenate([status, np.zeros(cens.size, dtype=np.int64)])
    order = np.lexsort((status == 0, time))
    return CompetingReconstruction(time[order], status[order], rec)
