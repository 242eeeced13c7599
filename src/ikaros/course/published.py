"""Published figures of Geyer et al. (2023) and their counterparts in ``course_results.json``.

References
----------
Geyer MB, et al. Lenalidomide-associated B-cell ALL: clinical and pathologic correlates and
sensitivity to lenalidomide withdrawal. Blood Adv 2023;7(13):3087-3098.
doi:10.1182/bloodadvances.2022009212
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["GEYER_2023", "Comparison", "compare_with_published"]

#: Headline figures of the 32-case series (see shared/reference/published.md).
GEYER_2023: dict[str, Any] = {
    "reference": "Geyer MB et al. Blood Adv 2023;7(13):3087-3098",
    "cases": 32,
    "months_len_to_spm": {"median": 54.0, "min": 5.0, "max": 119.0},
    "exposure_at_spm": {"median": 42.0, "min": 2.0, "max": 114.0},
    "TP53": {"count": 9, "n": 19},
    "hypodiploidy": {"count": 8, "n": 26},
    "cr_cri": {"count": 25, "n": 28},
    "efs_treated_median": 35.4,
    "efs_after_allo_median": None,
    "regression_after_withdrawal": 5,
}


@dataclass(frozen=True)
class Comparison:
    """One line of the paper-vs-cohort table."""

    quantity: str
    published: str
    this_cohort: str


def _range(block: dict[str, Any] | None) -> str:
    if not block or block.get("n", 0) == 0:
        return "n/a"
    return f"{block['median']:.1f} ({block['min']:.1f}-{block['max']:.1f})"


def _prop(block: dict[str, Any] | None) -> str:
    if not block:
        return "n/a"
    return (
        f"{block['count']}/{block['n']} ({100 * block['estimate']:.0f}%, 95% CI "
        f"{100 * block['lower']:.0f}-{100 * block['upper']:.0f}%)"
    )


def _median(km: dict[str, Any] | None) -> str:
    if not km:
        return "n/a"
    m = km["median"]
    return "not reached" if m["estimate"] is None else f"{m['estimate']:.1f}"


def compare_with_published(results: dict[str, Any]) -> list[Comparison]:
    """Paper vs this cohort, from a ``course_results.json`` dictionary."""
    g = GEYER_2023
    summary = results["derived"]["summary"]
    resp = results["responses"]["after_spm"]
    muts = results.get("mutations") or {}
    surv = results["survival"]
    lm = f"{g['months_len_to_spm']['median']:.0f} (5-119)"
    rows = [
        Comparison("cases with an SPM", str(g["cases"]), str(results["cohort"]["with_spm"])),
        Comparison(
            "months from first lenalidomide to SPM", lm, _range(summary["months_len_to_spm"])
        ),
        Comparison(
            "cumulative lenalidomide exposure at SPM (months)",
            "42 (2-114)",
            _range(summary["exposure_at_spm"]),
        ),
        Comparison("TP53 altered / evaluable", "9/19", _prop(muts.get("TP53"))),
        Comparison("low hypodiploidy / evaluable", "8/26", _prop(muts.get("hypodiploidy"))),
        Comparison("CR/CRi / treated", "25/28", _prop(resp.get("cr_cri"))),
        Comparison("median EFS, treated (months)", "35.4", _median(surv["efs"].get("treated"))),
        Comparison(
            "median EFS after allogeneic HCT", "not reached", _median(surv["from_hct_allo"]["efs"])
        ),
        Comparison(
            "regression after lenalidomide withdrawal",
            "5",
            str(summary["regression_after_withdrawal"]["patients"]),
        ),
    ]
    return rows
