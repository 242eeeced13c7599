"""Input checking shared by the competing-risks estimators.

Status is coded as in R ``cmprsk``: 0 = censored, 1..k = cause of the first event. Every check
raises :class:`~ikaros.errors.AnalysisError` with what is wrong and which values are allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = ["CauseLabels", "CompetingData", "GroupCodes", "prepare", "prepare_groups"]

#: Cause names: a mapping ``{code: name}`` over the codes 1..k, or a sequence of k names for
#: the codes 1..k in turn.
CauseLabels = Mapping[int, str] | Sequence[str]


def _show(values: NDArray[np.float64], limit: int = 5) -> str:
    uniq, counts = np.unique(values, return_counts=True)
    parts = [
        f"{_num(v)} ({c} patient{'s' if c != 1 else ''})" for v, c in zip(uniq, counts, strict=True)
    ]
    more = "" if len(parts) <= limit else f" and {len(parts) - limit} more"
    return ", ".join(parts[:limit]) + more


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@dataclass(frozen=True)
class CompetingData:
    """Checked follow-up times and status codes, with the cause names."""

    time: NDArray[np.float64]
    status: NDArray[np.int64]
    labels: dict[int, str]  # code -> name, for the codes 1..k

    @property
    def causes(self) -> tuple[int, ...]:
        return tuple(self.labels)

    def describe_causes(self) -> str:
        k = len(self.labels)
        names = ", ".join(f"{c} = {name!r}" for c, name in self.labels.items())
        return f"1..{k} ({names})" if k > 1 else f"1 ({names})"

    def cause_code(self, cause: int | str) -> int:
        """The code of ``cause``, given as a code or as its name."""
        if isinstance(cause, str):
            for code, name in self.labels.items():
                if name == cause:
                    return code
            raise AnalysisError(f"unknown cause {cause!r}: the causes are {self.describe_causes()}")
        if isinstance(cause, bool | np.bool_) or not isinstance(cause, int | np.integer):
            raise AnalysisError(
                f"cause must be a cause code or name, got {cause!r}; the causes are "
                f"{self.describe_causes()}"
            )
        if int(cause) not in self.labels:
            raise AnalysisError(f"unknown cause {cause!r}: the causes are {self.describe_causes()}")
        return int(cause)

    def require_events(self, code: int, what: str) -> None:
        if not np.any(self.status == code):
            raise AnalysisError(
                f"no events of cause {code} ({self.labels[code]!r}) among these "
                f"{self.time.size} patients; {what} needs at least one"
            )


def _labels(cause_labels: CauseLabels | None, k_observed: int) -> dict[int, str]:
    if cause_labels is None:
        return {c: str(c) for c in range(1, k_observed + 1)}
    if isinstance(cause_labels, Mapping):
        codes = sorted(cause_labels)
        if any(isinstance(c, bool) or not isinstance(c, int | np.integer) for c in codes) or (
            codes != list(range(1, len(codes) + 1))
        ):
            raise AnalysisError(
                f"cause_labels must name the codes 1..k, one name each; got codes {codes}"
            )
        labels = {int(c): str(cause_labels[c]) for c in codes}
    else:
        if isinstance(cause_labels, str):
            raise AnalysisError("cause_labels must be a mapping {code: name} or a list of names")
        labels = {i + 1: str(name) for i, name in enumerate(cause_labels)}
    if not labels:
        raise AnalysisError("cause_labels is empty; name at least one cause")
    if len(set(labels.values())) != len(labels):
        raise AnalysisError(f"cause names must be distinct, got {list(labels.values())}")
    return labels


def prepare(
    time: ArrayLike, status: ArrayLike, cause_labels: CauseLabels | None = None
) -> CompetingData:
    """Check times (finite, >= 0) and status codes (0 or 1..k) and attach cause names.

    Without ``cause_labels``, k is the largest status code present; with them, k is the number
    of names and any code above k is an error.
    """
    t = np.asarray(time, dtype=float)
    try:
        s_raw = np.asarray(status, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            "status must be numeric: 0 = censored, 1..k = cause of the first event"
        ) from exc
    if t.ndim != 1 or s_raw.shape != t.shape:
        raise AnalysisError("time and status must be one-dimensional arrays of equal length")
    if t.size == 0:
        raise AnalysisError("no patients: time and status are empty")
    bad_t = ~np.isfinite(t)
    if bad_t.any():
        raise AnalysisError(
            f"times must be finite numbers; {int(bad_t.sum())} are missing or infinite "
            f"(first at position {int(np.flatnonzero(bad_t)[0])}); drop those patients"
        )
    if np.any(t < 0):
        raise AnalysisError(
            f"times must be non-negative; found {_show(t[t < 0])} "
            f"(first at position {int(np.flatnonzero(t < 0)[0])})"
        )
    bad_s = ~np.isfinite(s_raw) | (s_raw != np.round(s_raw)) | (s_raw < 0)
    k_obs = int(s_raw[~bad_s].max(initial=0))
    labels = _labels(cause_labels, k_obs)
    k = len(labels)
    bad_s |= s_raw > k
    if bad_s.any():
        allowed = f"0 (censored) or a cause code 1..{k}" if k > 1 else "0 (censored) or 1"
        raise AnalysisError(
            f"status must be {allowed}; found {_show(s_raw[bad_s])}"
            + ("" if cause_labels is None else f"; the causes are {', '.join(labels.values())}")
        )
    s = s_raw.astype(np.int64)
    if not np.any(s > 0):
        raise AnalysisError(
            f"all {t.size} patients are censored (status 0); there is no event to analyse"
        )
    return CompetingData(time=t, status=s, labels=labels)


@dataclass(frozen=True)
class GroupCodes:
    """Group index (0..g-1) per patient and the group names in order."""

    codes: NDArray[np.int64]
    labels: tuple[str, ...]


def _group_name(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def prepare_groups(groups: ArrayLike | None, n: int) -> GroupCodes:
    """Group codes; a categorical's categories fix the order and must all have patients."""
    if groups is None:
        return GroupCodes(np.zeros(n, dtype=np.int64), ("all",))
    values: object = groups.array if isinstance(groups, pd.Series) else groups
    if isinstance(values, pd.Categorical):
        cat = values
        if len(cat) != n:
            raise AnalysisError(f"groups must have one value per patient ({n}), got {len(cat)}")
        if cat.isna().any():
            raise AnalysisError(
                f"groups has {int(cat.isna().sum())} missing values; assign every patient a group"
            )
        labels = tuple(_group_name(c) for c in cat.categories)
        counts = np.bincount(cat.codes, minlength=len(labels))
        empty = [lab for lab, c in zip(labels, counts, strict=True) if c == 0]
        if empty:
            present = [lab for lab, c in zip(labels, counts, strict=True) if c > 0]
            raise AnalysisError(
                f"group(s) {empty} have no patients; the groups present are {present}. "
                "Drop the empty categories"
            )
        return GroupCodes(np.asarray(cat.codes, dtype=np.int64), labels)
    g = np.asarray(values, dtype=object)
    if g.ndim != 1 or g.size != n:
        raise AnalysisError(f"groups must have one value per patient ({n}), got shape {g.shape}")
    missing = pd.isna(g)
    if missing.any():
        raise AnalysisError(
            f"groups has {int(missing.sum())} missing values; assign every patient a group"
        )
    try:
        uniq, codes = np.unique(g, return_inverse=True)
    except TypeError:  # mixed types: order by their text
        uniq, codes = np.unique(g.astype(str), return_inverse=True)
    labels = tuple(_group_name(u) for u in uniq)
    if len(set(labels)) != len(labels):
        raise AnalysisError(f"group names {list(labels)} are not distinct as text")
    return GroupCodes(codes.astype(np.int64).ravel(), labels)
