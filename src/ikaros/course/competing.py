"""Second primary malignancy with death as a competing event: the course results' section.

Cumulative incidence by the Aalen-Johansen estimator (:mod:`ikaros.stats.competing`) beside the
naive 1 - Kaplan-Meier, which treats deaths as censored and so overstates incidence whenever
death competes; the section says by how much at fixed times. With baseline covariates
(:mod:`ikaros.course.covariates`) it adds the incidence per group with Gray's test, and the
Fine-Gray subdistribution and cause-specific Cox hazard ratios of SPM side by side.

References
----------
Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics: competing risks and multi-state
models. Stat Med 2007;26:2389-2430.
Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing risk.
Ann Stat 1988;16:1141-1154.
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.
Latouche A, Allignol A, Beyersmann J, Labopin M, Fine JP. A competing risks analysis should
report results on all cause-specific hazards and cumulative incidence functions. J Clin
Epidemiol 2013;66:648-653.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ikaros.course.covariates import CourseCovariates
from ikaros.course.derived import PatientCourse, competing_risks_table
from ikaros.errors import AnalysisError
from ikaros.stats.competing import (
    CIFCurve,
    aalen_johansen,
    cause_specific_cox,
    fine_gray,
    gray_test,
    one_minus_km,
)

__all__ = [
    "EXPLANATION_FG_CS",
    "TIMES",
    "competing_risks_section",
    "group_curves",
    "spm_curves",
]

#: Months at which incidence is reported.
TIMES: tuple[float, ...] = (36.0, 60.0, 120.0)
_LABELS = {1: "SPM", 2: "death without SPM"}
#: Why the Fine-Gray and cause-specific hazard ratios differ (``regression.explanation``).
EXPLANATION_FG_CS = (
    "The Fine-Gray subdistribution hazard ratio (SHR) describes the effect of a covariate on the "
    "cumulative incidence of SPM, i.e. on the probability of having had an SPM by a given time; "
    "it includes effects that act through death, because patients who die can no longer develop "
    "an SPM. The cause-specific hazard ratio (CSHR) describes the effect on the rate of SPM "
    "among patients still alive and SPM-free. The two differ when the covariate also affects "
    "death: a covariate that raises the death rate but not the SPM rate has a CSHR near 1 and an "
    "SHR below 1 (fewer patients live long enough to develop an SPM). Report both (Latouche et "
    "al. 2013): the CSHR for aetiology, the SHR for prediction of incidence."
)


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


def _arrays(tab: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ids = [str(p) for p in tab["patient_id"]]
    return tab["time"].to_numpy(dtype=float), tab["status"].to_numpy(dtype=np.int64), ids


def group_curves(
    tab: pd.DataFrame, covariates: CourseCovariates, conf_level: float = 0.95
) -> dict[str, CIFCurve]:
    """Aalen-Johansen incidence of SPM per level of ``covariates.group_by`` (label -> curve)."""
    time, status, ids = _arrays(tab)
    aj = aalen_johansen(
        time,
        status,
        groups=covariates.groups(ids),
        cause_labels=_LABELS,
        conf_level=conf_level,
    )
    return {group: curves["SPM"] for group, curves in aj.items() if "SPM" in curves}


def _curve_rows(curve: CIFCurve, t_max: float) -> list[dict[str, Any]]:
    rows = []
    for t in TIMES:
        if t > t_max:
            continue
        est, lo, hi = curve.at(t)
        rows.append({"time": t, "cif_spm": _opt(est), "lower": _opt(lo), "upper": _opt(hi)})
    return rows


def _by_group(tab: pd.DataFrame, covariates: CourseCovariates, conf_level: float) -> dict[str, Any]:
    time, status, ids = _arrays(tab)
    labels = np.asarray(covariates.groups(ids))
    curves = group_curves(tab, covariates, conf_level)
    groups = {}
    for g in sorted(set(labels.tolist())):
        s = status[labels == g]
        groups[g] = {
            "n": int(s.size),
            "spm": int((s == 1).sum()),
            "death_without_spm": int((s == 2).sum()),
            "at": _curve_rows(curves[g], float(time[labels == g].max())) if g in curves else [],
        }
    return {"column": covariates.group_by, "groups": groups}


def _gray(tab: pd.DataFrame, covariates: CourseCovariates) -> dict[str, Any]:
    time, status, ids = _arrays(tab)
    head: dict[str, Any] = {"column": covariates.group_by, "cause": "SPM", "rho": 0.0}
    try:
        res = gray_test(time, status, covariates.groups(ids), 1, cause_labels=_LABELS)
    except AnalysisError as exc:
        return {**head, "status": "not estimable", "reason": exc.message}
    return {
        **head,
        "status": "tested",
        "groups": list(res.groups),
        "statistic": _opt(res.statistic),
        "df": res.df,
        "p": _opt(res.p),
    }


def _term(hr: float, lower: float, upper: float, p: float, coef: float, se: float) -> dict:
    return {
        "hr": _opt(hr),
        "lower": _opt(lower),
        "upper": _opt(upper),
        "p": _opt(p),
        "coef": _opt(coef),
        "se": _opt(se),
    }


def _fine_gray(time: np.ndarray, status: np.ndarray, x: pd.DataFrame, conf: float) -> dict:
    try:
        fit = fine_gray(time, status, x, 1, conf_level=conf, cause_labels=_LABELS)
    except AnalysisError as exc:
        return {"status": "not estimable", "reason": exc.message}
    out: dict[str, Any] = {
        "status": "fitted" if fit.converged else ("monotone" if fit.monotone else "not converged"),
        "method": "Fine-Gray subdistribution hazards (as cmprsk::crr), robust sandwich SE, "
        "Wald CI and p",
        "n": fit.n,
        "events": fit.events,
        "competing": fit.competing,
        "terms": {
            k: _term(t.hr, t.lower, t.upper, t.p, t.coef, t.se) for k, t in fit.terms.items()
        },
    }
    if fit.note:
        out["reason"] = fit.note
    return out


def _cause_specific(time: np.ndarray, status: np.ndarray, x: pd.DataFrame, conf: float) -> dict:
    try:
        fit = cause_specific_cox(
            time, status, x, 1, cause_labels=_LABELS, ph_test=False, conf_level=conf
        )
    except AnalysisError as exc:
        return {"status": "not estimable", "reason": exc.message}
    return {
        "status": "fitted" if fit.converged else "not converged",
        "method": f"cause-specific Cox ({fit.ties} ties), death without SPM censored; "
        f"{fit.ci_method} CI, {fit.p_method} p",
        "cox_method": fit.method,
        "n": fit.n,
        "events": fit.events,
        "terms": {
            k: _term(t.hr, t.lower, t.upper, t.p, t.coef, t.se) for k, t in fit.terms.items()
        },
    }


def _regression(tab: pd.DataFrame, covariates: CourseCovariates, conf: float) -> dict[str, Any]:
    time, status, ids = _arrays(tab)
    x = covariates.design(ids)
    fg = _fine_gray(time, status, x, conf)
    cs = _cause_specific(time, status, x, conf)
    side = {
        name: {
            "fine_gray": fg.get("terms", {}).get(name),
            "cause_specific": cs.get("terms", {}).get(name),
        }
        for name in covariates.model
    }
    return {
        "cause": "SPM",
        "covariates": list(covariates.model),
        "coding": covariates.coding(),
        "n": int(time.size),
        "events": int((status == 1).sum()),
        "competing": int((status == 2).sum()),
        "fine_gray": fg,
        "cause_specific_cox": cs,
        "terms": side,
        "explanation": EXPLANATION_FG_CS,
    }


def competing_risks_section(
    courses: Sequence[PatientCourse],
    origin: str = "diagnosis",
    *,
    spm_type: str | None = None,
    conf_level: float = 0.95,
    covariates: CourseCovariates | None = None,
) -> dict[str, Any] | None:
    """The ``competing_risks`` block of ``course_results.json`` (``None`` if not estimable).

    Not estimable means no SPM or no death without SPM among the patients: then there is no
    competition to account for, or nothing to estimate.

    Parameters
    ----------
    courses
        The patients' courses.
    origin
        Time origin (``"spm"`` is replaced by ``"diagnosis"``).
    spm_type
        Count only SPMs of this type.
    conf_level
        Confidence level of intervals.
    covariates
        Optional baseline covariates: with a ``group_by`` column, ``by_group`` (incidence of
        SPM per group) and ``gray_test``; with model terms, ``regression`` (Fine-Gray and
        cause-specific Cox of SPM side by side). These keys are ``None`` otherwise.
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
        **_covariate_blocks(tab, covariates, conf_level),
    }


def _covariate_blocks(
    tab: pd.DataFrame, covariates: CourseCovariates | None, conf: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"by_group": None, "gray_test": None, "regression": None}
    if covariates is None:
        return out
    if covariates.group_by is not None:
        out["by_group"] = _by_group(tab, covariates, conf)
        out["gray_test"] = _gray(tab, covariates)
    if covariates.model:
        out["regression"] = _regression(tab, covariates, conf)
    return out
