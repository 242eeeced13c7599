"""Follow-up times and events sorted once, shared by every fit and test on the same patients.

An analysis of one marker and one endpoint runs about eight Cox models, their
proportional-hazards tests, a dozen Kaplan-Meier curves and five log-rank tests on the same
patients or on subsets of them (complete cases, a cytogenetic subgroup, one group of a cut).
Sorting by time is the only step of these that is not linear in the number of patients, so it
is done once: :meth:`SurvivalData.prepare` sorts, and :meth:`SurvivalData.subset` derives the
order of any subset in O(n), because a subset of sorted rows is still sorted. Pass the object as
``survival=`` to :func:`ikaros.stats.cox.fit_cox`, :func:`ikaros.stats.km.kaplan_meier` and
:func:`ikaros.stats.logrank.logrank`; each checks (in O(n)) that it describes the times and
events it was given, so a stale object cannot silently change a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.scan._layout import subset_order, time_order

__all__ = ["SurvivalData", "checked_order"]


@dataclass(frozen=True, eq=False)
class SurvivalData:
    """Times and 0/1 events with the rows sorted by decreasing time (censorings first at a tie).

    Attributes
    ----------
    time
        Follow-up times, in the caller's row order.
    event
        Event indicators (True = event), in the caller's row order.
    order
        Row indices by decreasing time, censorings before events at the same time.
    """

    time: NDArray[np.float64]
    event: NDArray[np.bool_]
    order: NDArray[np.intp]

    @classmethod
    def prepare(cls, time: ArrayLike, event: ArrayLike) -> SurvivalData:
        """Sort once. Values are not validated here (the fits and tests do that)."""
        t = np.asarray(time, dtype=np.float64)
        e = np.asarray(event) == 1
        if t.ndim != 1 or e.shape != t.shape:
            raise AnalysisError("time and event must be one-dimensional arrays of equal length")
        return cls(t, e, time_order(t, e))

    @property
    def n(self) -> int:
        return int(self.time.size)

    def subset(self, keep: ArrayLike) -> SurvivalData:
        """The rows selected by the boolean mask ``keep``, still sorted (O(n), no sort)."""
        k = np.asarray(keep, dtype=bool)
        if k.shape != self.time.shape:
            raise AnalysisError(f"subset mask has shape {k.shape}, expected {self.time.shape}")
        if k.all():
            return self
        return SurvivalData(self.time[k], self.event[k], subset_order(self.order, k))

    def describes(self, time: NDArray[np.float64], event: NDArray[np.bool_]) -> bool:
        """Whether these are the times and events the object was prepared from."""
        return (
            time.shape == self.time.shape
            and np.array_equal(time, self.time)
            and np.array_equal(np.asarray(event, dtype=bool), self.event)
        )


def checked_order(
    survival: SurvivalData | None, time: NDArray[np.float64], event: NDArray[np.bool_]
) -> NDArray[np.intp] | None:
    """The prepared order for ``time``/``event``, or None without ``survival``.

    Raises
    ------
    AnalysisError
        When ``survival`` was prepared from other times or events.
    """
    if survival is None:
        return None
    if not survival.describes(time, event):
        raise AnalysisError(
            "survival= was prepared from other times or events than the ones given "
            "(prepare it from the same patients, or use SurvivalData.subset)"
        )
    return survival.order
