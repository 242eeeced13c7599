"""The cohort's characteristics and each marker against ISS stage and best response."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError
from ikaros.results import BoxStats, CohortSummary, EndpointSummary, MarkerAssociation
from ikaros.stats.km import median_followup
from ikaros.stats.rank_tests import jonckheere_terpstra, kruskal_wallis, mann_whitney
from ikaros.summaries import median_result, rank_result

__all__ = ["GOOD_RESPONSE", "MAX_POINTS", "POOR_RESPONSE", "associations", "cohort_summary"]

#: most points per group kept for the marker plots (a sample beyond; box statistics stay exact)
MAX_POINTS = 2000
GOOD_RESPONSE = ("sCR", "CR", "VGPR")
POOR_RESPONSE = ("PR", "MR", "SD")


def associations(cohort: Cohort, marker: str) -> MarkerAssociation:
    data = cohort.data
    notes: list[str] = []
    kw = jt = mw = None
    if "iss" in data:
        sub = data[[marker, "iss"]].dropna()
        try:
            kw = rank_result(kruskal_wallis(sub[marker], sub["iss"].astype(int), order=[1, 2, 3]))
            jt = rank_result(
                jonckheere_terpstra(sub[marker], sub["iss"].astype(int), order=[1, 2, 3])
            )
        except AnalysisError as exc:
            notes.append(f"ISS tests not computed: {exc}")
    if "best_response" in data:
        resp = data["best_response"]
        good = data.loc[resp.isin(GOOD_RESPONSE), marker].dropna()
        poor = data.loc[resp.isin(POOR_RESPONSE), marker].dropna()
        try:
            mw = rank_result(mann_whitney(good, poor, names=("CR/VGPR", "PR/SD")))
        except AnalysisError as exc:
            notes.append(f"response test not computed: {exc}")
    boxes: dict[str, BoxStats] = {}
    by_iss: dict[str, tuple[float, ...]] = {}
    if "iss" in data:
        sub = data[[marker, "iss"]].dropna()
        for k in (1, 2, 3):
            by_iss[str(k)], boxes[str(k)] = _points(sub.loc[sub["iss"] == k, marker], k)
    by_resp: dict[str, tuple[float, ...]] = {}
    if "best_response" in data:
        resp = data["best_response"]
        for i, (label, codes) in enumerate((("CR/VGPR", GOOD_RESPONSE), ("PR/SD", POOR_RESPONSE))):
            values = data.loc[resp.isin(codes), marker].dropna()
            by_resp[label], boxes[label] = _points(values, 10 + i)
    return MarkerAssociation(
        marker,
        kw,
        jt,
        mw,
        notes=tuple(notes),
        values_by_iss=by_iss,
        values_by_response=by_resp,
        box_stats=boxes,
    )


def _points(values: pd.Series, seed: int) -> tuple[tuple[float, ...], BoxStats]:
    """The values to draw (all, or a seeded sample of :data:`MAX_POINTS`) and the exact box."""
    given = values.to_numpy(dtype=float)
    arr = np.sort(given)
    n = arr.size
    if n == 0:
        nan = float("nan")
        return (), BoxStats(0, nan, nan, nan, nan, nan)
    q1, med, q3 = (float(v) for v in np.quantile(arr, [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    lo = float(arr[arr >= q1 - 1.5 * iqr].min())
    hi = float(arr[arr <= q3 + 1.5 * iqr].max())
    sampled = n > MAX_POINTS
    if sampled:
        rng = np.random.default_rng(seed)
        given = np.sort(rng.choice(arr, size=MAX_POINTS, replace=False))
    return tuple(given.tolist()), BoxStats(n, q1, med, q3, lo, hi, sampled)


def cohort_summary(cohort: Cohort, endpoints: Sequence[str]) -> CohortSummary:
    data = cohort.data
    eps = {}
    for e in endpoints:
        sub = data[[f"{e}_time", f"{e}_event"]].dropna()
        any_event = (sub[f"{e}_event"] > 0).astype(float)  # competing: any cause ends follow-up
        early = int(cohort.not_evaluable.get(e, 0))
        missing = cohort.n - len(sub) - early
        reasons = {
            reason: count
            for reason, count in (
                ("follow-up ended before the time origin", early),
                ("time and event missing", missing),
            )
            if count
        }
        eps[e] = EndpointSummary(
            n=len(sub),
            events=int((sub[f"{e}_event"] == 1).sum()),
            not_evaluable=cohort.n - len(sub),
            median_followup=median_result(median_followup(sub[f"{e}_time"], any_event)),
            not_evaluable_reasons=reasons,
        )
    cyto: dict[str, int] = {}
    if "cyto_high_risk" in data:
        r = data["cyto_high_risk"]
        cyto = {
            "standard": int((r == 0).sum()),
            "high": int((r == 1).sum()),
            "missing": int(r.isna().sum()),
        }
    iss = {}
    if "iss" in data:
        iss = {str(k): int((data["iss"] == k).sum()) for k in (1, 2, 3)}
        iss["missing"] = int(data["iss"].isna().sum())
    resp = {}
    if "best_response" in data:
        counts = data["best_response"].value_counts()
        resp = {c: int(counts.get(c, 0)) for c in ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")}
        resp["missing"] = int(data["best_response"].isna().sum())
    age: dict[str, float | None] = {}
    if "age" in data:
        a = data["age"].dropna()
        age = {
            "median": float(a.median()) if len(a) else None,
            "min": float(a.min()) if len(a) else None,
            "max": float(a.max()) if len(a) else None,
            "missing": float(data["age"].isna().sum()),
        }
    sex: dict[str, int] = {}
    if "sex" in data:
        counts = data["sex"].value_counts()
        sex = {str(k): int(v) for k, v in sorted(counts.items())}
        sex["missing"] = int(data["sex"].isna().sum())
    return CohortSummary(cohort.n, eps, cyto, iss, resp, age, sex)
