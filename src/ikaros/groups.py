"""Grouping a continuous marker: quartiles, median split and fixed cutpoints.

Every grouping records how its cut was chosen: ``prespecified`` (quartile, median, a given value)
or ``optimised`` (data-derived; see the cutpoint module), so that reports never present a tuned
cut as if it had been fixed in advance.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = [
    "CUT_KINDS",
    "Grouping",
    "fixed_cut",
    "level_grouping",
    "make_grouping",
    "median_split",
    "quartile_groups",
    "quartiles",
    "tertile_groups",
    "threshold_groups",
    "upper_quartile_groups",
]

#: the pre-specified cuts of a continuous marker (``--cut``); ``optimal`` adds a searched cut
CUT_KINDS = ("quartile", "median", "tertile", "upper-quartile", "thresholds")

CutOrigin = Literal["prespecified", "optimised"]


@dataclass(frozen=True)
class Grouping:
    """Assignment of patients to ordered groups by a marker.

    Attributes
    ----------
    kind
        ``"q1_vs_rest"``, ``"quartiles"``, ``"median"``, ``"tertiles"``, ``"upper_quartile"``,
        ``"thresholds"``, ``"fixed"`` or ``"levels"`` (a categorical variable).
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
            cuts = ", ".join(f"{c:.6g}" for c in grouping.cutpoints)
            if grouping.kind == "thresholds":
                raise AnalysisError(
                    f"marker {name!r}: no value lies in group {label} with the thresholds {cuts}; "
                    "choose thresholds within the range of the marker"
                )
            raise AnalysisError(
                f"marker {name!r}: group {label} is empty with cutpoints {cuts} (too many tied "
                "values); check the marker column, or analyse a marker with more distinct values"
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


def _quantiles(x: NDArray[np.float64], probs: Sequence[float]) -> tuple[float, ...]:
    q = np.quantile(x[np.isfinite(x)], list(probs), method="linear")
    return tuple(float(v) for v in q)


def tertile_groups(values: ArrayLike, *, name: str = "marker") -> Grouping:
    """Three groups cut at the 33.3rd and 66.7th percentiles (type 7): T1 <= t1 < T2 <= t2 < T3."""
    x, ok = _finite_values(values, name)
    cuts = _quantiles(x, (1 / 3, 2 / 3))
    return _check_nonempty(
        Grouping("tertiles", cuts, ("T1", "T2", "T3"), _assign(x, ok, cuts)), name
    )


def upper_quartile_groups(values: ArrayLike, *, name: str = "marker") -> Grouping:
    """Highest quartile (values > 75th percentile) against the rest: Q1-3 vs Q4."""
    x, ok = _finite_values(values, name)
    cut = (quartiles(x)[2],)
    return _check_nonempty(
        Grouping("upper_quartile", cut, ("Q1-3", "Q4"), _assign(x, ok, cut)), name
    )


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def threshold_groups(
    values: ArrayLike, thresholds: Sequence[float], *, name: str = "marker"
) -> Grouping:
    """k fixed thresholds give k + 1 groups: low <= t1 < mid <= t2 < ... < high.

    Labels are ``<= t1``, ``t1-t2`` (meaning t1 < x <= t2), ..., ``> tk``.
    """
    x, ok = _finite_values(values, name)
    cuts = tuple(float(t) for t in thresholds)
    if not cuts or any(not np.isfinite(c) for c in cuts):
        raise AnalysisError(f"thresholds for {name!r} must be finite numbers, got {cuts}")
    if any(b <= a for a, b in itertools.pairwise(cuts)):
        raise AnalysisError(f"thresholds for {name!r} must increase, got {cuts}")
    labels = (
        f"<= {_fmt(cuts[0])}",
        *(f"{_fmt(a)}-{_fmt(b)}" for a, b in itertools.pairwise(cuts)),
        f"> {_fmt(cuts[-1])}",
    )
    return _check_nonempty(Grouping("thresholds", cuts, labels, _assign(x, ok, cuts)), name)


def make_grouping(
    values: ArrayLike, kind: str, *, name: str = "marker", thresholds: Sequence[float] = ()
) -> Grouping:
    """The primary grouping of a marker for ``--cut KIND`` (see :data:`CUT_KINDS`)."""
    if kind == "quartile":
        return quartile_groups(values, name=name)
    if kind == "median":
        return median_split(values, name=name)
    if kind == "tertile":
        return tertile_groups(values, name=name)
    if kind == "upper-quartile":
        return upper_quartile_groups(values, name=name)
    if kind == "thresholds":
        return threshold_groups(values, thresholds, name=name)
    raise AnalysisError(f"unknown cut {kind!r}; use one of {', '.join(CUT_KINDS)}")


def level_grouping(values: Sequence[object], levels: Sequence[str]) -> Grouping:
    """A grouping by the levels of a categorical variable (``None`` = missing)."""
    import pandas as pd

    codes = pd.Categorical(list(values), categories=list(levels)).codes.astype(np.int64)
    return Grouping("levels", (), tuple(levels), codes)
