"""Marker explorer: Kaplan-Meier curves at a chosen cut, with an honest p-value.

The pre-specified cut is the lower quartile (Q1 vs Q2-4, as in Kronke et al. 2017). When the user
moves the cut, the log-rank p at the new cut is no longer valid: the cut was chosen by looking.
The explorer then also reports the search-corrected p, the Lau94 approximation of
P(max |S| >= |S(cut)|) over every candidate cut (the maximally selected log-rank statistic of
:mod:`ikaros.cutpoints`), and labels the cut "optimised".

References
----------
Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal" cutpoints in the
evaluation of prognostic factors. J Natl Cancer Inst 1994;86:829-835.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ikaros.cohort import Cohort
from ikaros.cutpoints import p_lausen94, standardized_statistics
from ikaros.errors import AnalysisError, InputError
from ikaros.groups import quartiles
from ikaros.stats.km import KMCurve, kaplan_meier
from ikaros.stats.logrank import logrank

__all__ = ["explore"]


def _clean(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 10) for v in values]


def _group(curve: KMCurve, key: str, landmark: float) -> dict[str, Any]:
    lm = curve.at(landmark)
    return {
        "label": curve.label,
        "key": key,
        "n": curve.n,
        "events": curve.events,
        "time": _clean(curve.time),
        "surv": _clean(curve.surv),
        "lower": _clean(curve.lower),
        "upper": _clean(curve.upper),
        "n_risk": curve.n_risk.tolist(),
        "n_event": curve.n_event.tolist(),
        "n_censor": curve.n_censor.tolist(),
        "landmark_surv": None if landmark > float(curve.time.max()) else round(lm.survival, 10),
    }


def explore(
    cohort: Cohort,
    marker: str,
    endpoint: str,
    cut: float | None = None,
    *,
    landmark: float = 36.0,
    minprop: float = 0.1,
    maxprop: float = 0.9,
) -> dict[str, Any]:
    """Curves, log-rank p and (for a moved cut) the search-corrected p of ``marker`` at ``cut``.

    Parameters
    ----------
    cohort
        A validated cohort.
    marker, endpoint
        Names validated in the cohort.
    cut
        Low group: marker <= cut. ``None`` for the pre-specified lower quartile.
    landmark
        Time (months) of the survival estimates shown.
    minprop, maxprop
        Search range of the corrected p (fractions of patients in the low group).

    Returns
    -------
    dict
        JSON-ready; see docs/web.md ("Explorer").
    """
    if marker not in cohort.markers:
        raise InputError(f"unknown marker {marker!r}", remedy=f"use one of {list(cohort.markers)}")
    if endpoint not in cohort.endpoints:
        raise InputError(
            f"unknown endpoint {endpoint!r}", remedy=f"use one of {list(cohort.endpoints)}"
        )
    cols = [f"{endpoint}_time", f"{endpoint}_event", marker]
    sub, excluded = cohort.complete(cols)
    t = sub[cols[0]].to_numpy(dtype=float)
    e = sub[cols[1]].to_numpy(dtype=float)
    x = sub[marker].to_numpy(dtype=float)
    try:
        scan = standardized_statistics(t, e, x, minprop=minprop, maxprop=maxprop)
    except AnalysisError as exc:
        raise AnalysisError(f"{marker} x {endpoint}: {exc.message}") from None
    cands = np.asarray(scan["cut"], dtype=float)
    n_low_c = np.asarray(scan["n_low"], dtype=np.int64)
    stats = np.asarray(scan["statistic"], dtype=float)
    q1, med, q3 = quartiles(x)
    pre_n_low = int(np.sum(x <= q1))
    value = q1 if cut is None else float(cut)
    if not np.isfinite(value):
        raise InputError(f"cut must be a finite number, got {cut}", remedy="move the slider")
    n_low = int(np.sum(x <= value))
    hits = np.flatnonzero(n_low_c == n_low)
    if hits.size == 0:
        raise InputError(
            f"cut {value:.6g} puts {n_low} of {x.size} patients in the low group, outside the "
            f"search range {minprop:.0%}-{maxprop:.0%}",
            remedy=f"choose a cut between {cands[0]:.6g} and {cands[-1]:.6g}",
        )
    index = int(hits[0])
    moved = n_low != pre_n_low
    low = x <= value
    label_low = f"low (<= {value:.4g})"
    label_high = f"high (> {value:.4g})"
    curves = [
        kaplan_meier(t[low], e[low], label=label_low),
        kaplan_meier(t[~low], e[~low], label=label_high),
    ]
    groups = np.where(low, "low", "high")
    lr = logrank(t, e, groups, order=("low", "high"))
    corrected = p_lausen94(float(stats[index]), x.size, n_low_c) if moved else None
    pre_hits = np.flatnonzero(n_low_c == pre_n_low)
    return {
        "marker": marker,
        "endpoint": endpoint,
        "time_unit": "months",
        "n": int(x.size),
        "n_excluded": int(excluded),
        "cut": {
            "value": value,
            "index": index,
            "prespecified": q1,
            "prespecified_index": int(pre_hits[0]) if pre_hits.size else None,
            "origin": "optimised" if moved else "prespecified",
            "label": "optimised (moved from Q1)" if moved else "pre-specified (lower quartile)",
        },
        "candidates": _clean(cands),
        "candidate_n_low": n_low_c.tolist(),
        "quartiles": {"q1": q1, "median": med, "q3": q3},
        "p": {"logrank": lr.p, "corrected": corrected, "corrected_method": "Lau94"},
        "search_range": [minprop, maxprop],
        "landmark": landmark,
        "groups": [_group(c, k, landmark) for c, k in zip(curves, ("low", "high"), strict=True)],
    }
