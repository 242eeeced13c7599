"""Second primary malignancy with death as a competing event: the course results' section.

Cumulative incidence by the Aalen-Johansen estimator (:mod:`ikaros.stats.competing`) beside the
naive 1 - Kaplan-Meier, which treats deaths as censored and so overstates incidence whenever
death competes; the section says by how much at fixed times.

References
----------
Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics: competing risks and multi-state
models. Stat Med 2007;26:2389-2430.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ikaros.course.derived import PatientCourse, competing_risks_table
from ikaros.errors import AnalysisError
from ikaros.stats.competing import CIFCurve, aalen_johansen, one_minus_km

__all__ = ["TIMES", "competing_risks_section", "spm_curves"]

#: Months at which incidence is reported.
TIMES: tuple[float, ...] = (36.0, 60.0, 120.0)
_LABELS = {1: "SPM", 2: "death without SPM"}


def _origin(origin: str) -> str:
    # incidence of SPM cannot start at the SPM itself
    return "diagnosis" if origin == "spm" else origin


def spm_curves(
    courses: Sequence[PatientCourse],
    origin: str = "diagnosis",
    *,
    spm_type: str | None = None,
    conf_level: float = 0.95,
) -> tuple[CIFCurve, CIFCurve, CIFCurve]:
    """Aalen-Johansen incidence of SPM and of death without SPM, and 1 - KM for SPM."""
    tab = competing_risks_table(courses, _origin(origin), spm_type=spm_type)
    time = tab["time"].to_numpy(dtype=float)
    status = tab["status"].to_numpy(dtype=np.int64)
    aj = aalen_johansen(time, status, cause_labels=_LABELS, conf_level=conf_level)
    group = next(iter(aj))
    naive = one_minus_km(time, status, "SPM", cause_labels=_LABELS, conf_level=conf_level)
    return aj[group]["SPM"], aj[group]["death without SPM"], naive[next(iter(naive))]


def _opt(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def competing_risks_section(
    courses: Sequence[PatientCourse],
    origin: str = "diagnosis",
    *,
    spm_type: str | None = None,
    conf_level: float = 0.95,
) -> dict[str, Any] | None:
    """The ``competing_risks`` block of ``course_results.json`` (``None`` if not estimable).

    Not estimable means no SPM or no death without SPM among the patients: then there is no
    competition to account for, or nothing to estimate.
    """
    tab = competing_risks_table(courses, _origin(origin), spm_type=spm_type)
    tally = np.bincount(tab["status"].to_numpy(dtype=np.int64), minlength=3)
    counts = {0: int(tally[0]), 1: int(tally[1]), 2: int(tally[2])}
    if counts.get(1, 0) == 0 or counts.get(2, 0) == 0:
        return None
    try:
        spm, death, naive = spm_curves(courses, origin, spm_type=spm_type, conf_level=conf_level)
    except AnalysisError:
        return None
    rows = []
    for t in TIMES:
        if t > float(tab["time"].max()):
            continue
        est, lo, hi = spm.at(t)
        d_est, _, _ = death.at(t)
        n_est, n_lo, n_hi = naive.at(t)
        rows.append(
            {
                "time": t,
                "cif_spm": _opt(est),
                "cif_spm_lower": _opt(lo),
                "cif_spm_upper": _opt(hi),
                "cif_death": _opt(d_est),
                "one_minus_km_spm": _opt(n_est),
                "one_minus_km_lower": _opt(n_lo),
                "one_minus_km_upper": _opt(n_hi),
                "overstatement": _opt(n_est - est),
            }
        )
    return {
        "origin": _origin(origin),
        "events": {
            "spm": counts.get(1, 0),
            "death_without_spm": counts.get(2, 0),
            "censored": counts.get(0, 0),
        },
        "method": "Aalen-Johansen cumulative incidence (death without SPM competing); "
        f"variance as cmprsk::cuminc, CI {spm.ci_method}",
        "at": rows,
        "explanation": "1 - Kaplan-Meier censors patients at death as if they could still "
        "develop an SPM later; when death competes it overstates the incidence. The "
        "Aalen-Johansen estimate is the probability of having had an SPM by each time.",
    }
