"""Pieces every analysis of the study shares: versions, the marker scale, Cox on complete cases,
and Kaplan-Meier summaries of a grouping."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ikaros import versions
from ikaros.cohort import Cohort
from ikaros.errors import InputError
from ikaros.groups import Grouping
from ikaros.results import GroupSummary
from ikaros.stats.cox import CoxFit, FirthMode, fit_cox
from ikaros.stats.km import kaplan_meier
from ikaros.stats.survdata import SurvivalData
from ikaros.summaries import group_summaries

__all__ = ["design", "fit_complete", "km_groups", "software_versions", "transformed"]


def software_versions() -> dict[str, str]:
    """Versions of Python and the numerical libraries, for the reproducibility record."""
    return versions.software_versions(
        ("numpy", "scipy", "pandas", "lifelines", "firthmodels", "statsmodels")
    )


def transformed(cohort: Cohort, frame: pd.DataFrame, marker: str, transform: str) -> pd.Series:
    """The marker on the scale of the Cox models (raw or log2)."""
    x = frame[marker].astype(float)
    if transform == "none":
        return x
    bad = x <= 0
    if bad.any():
        row = bad[bad].index[0]
        raise InputError(
            "log2 transform needs positive marker values",
            file=cohort.source,
            row=int(row),
            column=cohort.source_column(marker),
            value=x.loc[row],
            has_value=True,
            remedy="use --transform none, or supply expression on a linear (positive) scale",
        )
    return pd.Series(np.log2(x.to_numpy()), index=x.index)


def design(frame: pd.DataFrame, columns: dict[str, pd.Series | str]) -> pd.DataFrame:
    """Model matrix: each term is a column of ``frame`` (by name) or a series."""
    return pd.DataFrame(
        {name: (frame[src] if isinstance(src, str) else src) for name, src in columns.items()}
    ).astype(float)


def fit_complete(
    frame: pd.DataFrame,
    time: np.ndarray,
    event: np.ndarray,
    columns: dict[str, pd.Series | str],
    *,
    firth: str,
    conf_level: float,
    mask: pd.Series | None = None,
    survival: SurvivalData | None = None,
) -> tuple[CoxFit, int]:
    """Cox on the patients with every term present; returns the fit and how many were excluded
    for a missing term (0 when ``mask`` selects a subgroup). ``survival``: ``time`` and
    ``event`` sorted once (the fits on subsets then do not sort again)."""
    d = design(frame, columns)
    keep = d.notna().all(axis=1)
    if mask is not None:
        keep &= mask
    k = keep.to_numpy()
    mode: FirthMode = firth  # type: ignore[assignment]
    sub = None if survival is None else survival.subset(k)
    fit = fit_cox(time[k], event[k], d[keep], firth=mode, conf_level=conf_level, survival=sub)
    return fit, int((~keep).sum()) if mask is None else 0


def km_groups(
    time: np.ndarray,
    event: np.ndarray,
    grouping: Grouping,
    landmark: float,
    conf_level: float,
    mask: np.ndarray | None = None,
    survival: SurvivalData | None = None,
) -> dict[str, GroupSummary]:
    """Kaplan-Meier summary of every non-empty group (events: ``event == 1``); ``survival``:
    ``time`` and ``event`` sorted once."""
    m = np.ones(time.size, dtype=bool) if mask is None else mask
    curves = []
    for i, label in enumerate(grouping.labels):
        sel = m & (grouping.codes == i)
        if sel.sum() == 0:
            continue
        curves.append(
            kaplan_meier(
                time[sel],
                (event[sel] == 1).astype(np.int64),
                label=label,
                conf_level=conf_level,
                survival=None if survival is None else survival.subset(sel),
            )
        )
    return group_summaries(curves, grouping, landmark)
