"""Grouping a continuous marker: quartiles, median split and fixed cutpoints.

Every grouping records how its cut was chosen: ``prespecified`` (quartile, median, a given value)
or ``optimised`` (data-derived; see the cutpoint module), so that reports never present a tuned
cut as if it had been fixed in advance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = [
    "Grouping",
    "fixed_cut",
    "median_split",
    "quartile_groups",
    "quartiles",
]

CutOrigin = Literal["prespecified", "optimised"]


@dataclass(frozen=True)
class Grouping:
    """Assignment of patients to ordered groups by a marker.

    Attributes
    ----------
    kind
        ``"q1_vs_rest"``, ``"quartiles"``, ``"median"`` or ``"fixed"``.
    cutpoints
        Upper limits of every group but the last (a value equal to a cutpoint falls in the lower
        group).
    labels
        Group labels, lowest group first.
    codes
        Group index (0 = lowest) per patient; -1 where the marker is missing.
    origin
        ``"prespecified"`` or ``"optimised"``.
    """

    kind: str
    cutpoints: tuple[float, ...]
    labels: tuple[str, ...]
    codes: NDArray[np.int64]
    origin: CutOrigin = "prespecified"

    def label_array(self) -> NDArray[np.object_]:
        """Label per patient (``None`` where the marker is missing)."""
        out = np.full(self.codes.shape, None, dtype=object)
        ok = self.codes >= 0
        out[ok] = np.asarray(self.labels, dtype=object)[self.codes[ok]]
        return out

    def counts(self) -> dict[str, int]:
        return {lab: int(np.sum(self.codes == i)) for i, lab in enumerate(self.labels)}


def _finite_values(values: ArrayLike, name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    if ok.sum() < 4:
        raise AnalysisError(
            f"marker {name!r} has {int(ok.sum())} non-missing values; at least 4 are needed "
            "to form quartile groups"
        )
    return x, ok


def quartiles(values: ArrayLike) -> tuple[float, float, float]:
    """25th, 50th and 75th percentiles by linear interpolation (R ``quantile`` type 7).

    Missing values are ignored.

    References
    ----------
    Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat 1996;50:361-365.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise AnalysisError("cannot compute quartiles: no non-missing values")
    q = np.quantile(x, [0.25, 0.5, 0.75], method="linear")
    return float(q[0]), float(q[1]), float(q[2])


def _assign(
    x: NDArray[np.float64], ok: NDArray[np.bool_], cuts: Sequence[float]
) -> NDArray[np.int64]:
    codes = np.full(x.shape, -1, dtype=np.int64)
    # value <= cut goes to the lower group: searchsorted(side="left") counts cuts < value
    codes[ok] = np.searchsorted(np.asarray(cuts, dtype=float), x[ok], side="left")
    return codes


def _check_nonempty(grouping: Grouping, name: str) -> Grouping:
    for label, count in grouping.counts().items():
        if count == 0:
            raise AnalysisError(
                f"marker {name!r}: group {label} is empty with cutpoints "
                f"{', '.join(f'{c:.6g}' for c in grouping.cutpoints)} (too many tied values); "
                "check the marker column, or analyse a marker with more distinct values"
            )
    return grouping


def quartile_groups(values: ArrayLike, *, name: str = "marker", four: bool = False) -> Grouping:
    """Lowest quartile vs the rest (``four=False``) or all four quartile groups.

    Q1 holds values <= the 25th percentile (type 7), as in Kronke et al. (2017).
    """
    x, ok = _finite_values(values, name)
    q = quartiles(x)
    if four:
        g = Grouping("quartiles", q, ("Q1", "Q2", "Q3", "Q4"), _assign(x, ok, q))
    else:
        g = Grouping("q1_vs_rest", (q[0],), ("Q1", "Q2-4"), _assign(x, ok, (q[0],)))
    return _check_nonempty(g, name)


def median_split(values: ArrayLike, *, name: str = "marker") -> Grouping:
    """Values <= median vs above."""
    x, ok = _finite_values(values, name)
    med = quartiles(x)[1]
    return _check_nonempty(
        Grouping("median", (med,), ("low", "high"), _assign(x, ok, (med,))), name
    )


def fixed_cut(
    values: ArrayLike, cut: float, *, name: str = "marker", origin: CutOrigin = "prespecified"
) -> Grouping:
    """Values <= ``cut`` vs above, for a given cutpoint."""
    x, ok = _finite_values(values, name)
    if not np.isfinite(cut):
        raise AnalysisError(f"cutpoint for {name!r} must be a finite number, got {cut}")
    return _check_nonempty(
        Grouping("fixed", (float(cut),), ("low", "high"), _assign(x, ok, (float(cut),)), origin),
        name,
    )
