"""The plan behind ``ikaros ipd``: read and check every input, reconstruct, compare, tabulate.

All inputs are read and checked before anything is computed, so that a bad file stops the run
with one message and nothing written. Times are converted to months (``time_unit`` of the
published axis); the reconstructed arms are written as ikaros cohorts
(``patient_id, arm, E_time, E_event, reconstructed``) so that they can be analysed beside real
cohorts, always flagged as reconstructed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ikaros.cohort import TIME_UNITS
from ikaros.errors import InputError
from ikaros.ipd.compare import (
    Arm,
    ArmStatistics,
    arm_statistics,
    compare_arms,
    curve_fit,
    default_tau,
)
from ikaros.ipd.competing import (
    CompetingReconstruction,
    incidence_overlap,
    reconstruct_competing,
)
from ikaros.ipd.digitised import (
    CLIP_TOLERANCE,
    AtRiskTable,
    DigitisedCurve,
    read_at_risk,
    read_curve,
)
from ikaros.ipd.guyot import Reconstruction, reconstruct
from ikaros.ipd.results import (
    IPD_SCHEMA_VERSION,
    ArmResult,
    Comparison,
    CompetingArmResult,
    GroupTest,
    IncidenceAt,
    InputFile,
    IntervalResult,
    IPDOptions,
    IPDResults,
)
from ikaros.stats.competing import CIFCurve, aalen_johansen, gray_test

__all__ = [
    "CAUSES",
    "ArmSpec",
    "CompetingSpec",
    "IPDRun",
    "ReconstructedArm",
    "ReconstructedCompeting",
    "competing_csv",
    "ipd_csv",
    "run_ipd",
]

#: Names of the two causes of a competing-risks arm (status 1 and 2).
CAUSES: dict[int, str] = {1: "event", 2: "competing event"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_UNRELIABLE = (
    "reconstructed from the number of patients only (no at-risk table, no total events): "
    "nobody is taken as censored before the end of the curve, so events are overstated and "
    "hazard ratios, p-values and intervals are unreliable; give the at-risk table or --events"
)


@dataclass(frozen=True)
class ArmSpec:
    """One Kaplan-Meier arm to reconstruct: digitised curve, optional at-risk table and totals."""

    name: str
    curve: Path
    at_risk: Path | None = None
    total_events: int | None = None
    patients: int | None = None


@dataclass(frozen=True)
class CompetingSpec:
    """One competing-risks arm: the two digitised cumulative incidences and the at-risk table."""

    name: str
    event_curve: Path
    competing_curve: Path
    at_risk: Path


@dataclass(frozen=True)
class ReconstructedArm:
    name: str
    curve: DigitisedCurve
    at_risk: AtRiskTable | None
    reconstruction: Reconstruction
    statistics: ArmStatistics


@dataclass(frozen=True)
class ReconstructedCompeting:
    name: str
    event_curve: DigitisedCurve
    competing_curve: DigitisedCurve
    at_risk: AtRiskTable
    reconstruction: CompetingReconstruction
    incidence: dict[str, CIFCurve]


@dataclass(frozen=True)
class IPDRun:
    """The results file's content and the reconstructed data behind it (for files, figures)."""

    results: IPDResults
    arms: tuple[ReconstructedArm, ...]
    competing: tuple[ReconstructedCompeting, ...]


# --------------------------------------------------------------------------- checks


def _check_names(arms: Sequence[ArmSpec], competing: Sequence[CompetingSpec]) -> None:
    for kind, names in (("--arm", [a.name for a in arms]), ("--cif", [c.name for c in competing])):
        seen: set[str] = set()
        for name in names:
            if not _NAME.match(name):
                raise InputError(
                    f"arm name {name!r} of {kind} cannot be used in file names",
                    remedy="use up to 40 letters, digits, '_', '.' or '-', starting with a "
                    "letter or digit",
                )
            if name in seen:
                raise InputError(
                    f"arm {name!r} is given twice with {kind}", remedy="give each arm once"
                )
            seen.add(name)
    if not arms and not competing:
        raise InputError(
            "no arm given", remedy="give at least one --arm NAME=CURVE.csv[:ATRISK.csv]"
        )


def _scaled_curve(curve: DigitisedCurve, scale: float) -> DigitisedCurve:
    return curve if scale == 1.0 else replace(curve, time=curve.time * scale)


def _scaled_table(table: AtRiskTable, scale: float) -> AtRiskTable:
    return table if scale == 1.0 else replace(table, time=table.time * scale)


def _read_arm(spec: ArmSpec, scale: float) -> tuple[DigitisedCurve, AtRiskTable | None, int]:
    curve = read_curve(spec.curve)
    table = read_at_risk(spec.at_risk, curve=curve) if spec.at_risk is not None else None
    if table is not None:
        n = table.n_start
        if spec.patients is not None and spec.patients != n:
            raise InputError(
                f"--patients {spec.name}={spec.patients} disagrees with the at-risk table "
                f"({n} at time 0)",
                file=table.source,
                row=table.rows[0],
                value=n,
                remedy="drop --patients (the table gives the number) or correct one of them",
            )
    elif spec.patients is not None:
        n = spec.patients
        if n < 1:
            raise InputError(
                f"--patients {spec.name}={n}: an arm needs at least one patient",
                remedy="give the number of patients randomised to the arm",
            )
    else:
        raise InputError(
            f"arm {spec.name!r} has neither an at-risk table nor a number of patients",
            file=str(spec.curve),
            remedy=f"give --arm {spec.name}=CURVE.csv:ATRISK.csv, or at least "
            f"--patients {spec.name}=N (the number randomised)",
        )
    if spec.total_events is not None and not 0 <= spec.total_events <= n:
        raise InputError(
            f"--events {spec.name}={spec.total_events} is not between 0 and the {n} patients",
            remedy="give the total number of events published for the arm",
        )
    return (
        _scaled_curve(curve, scale),
        None if table is None else _scaled_table(table, scale),
        n,
    )


def _read_competing(
    spec: CompetingSpec, scale: float
) -> tuple[DigitisedCurve, DigitisedCurve, AtRiskTable]:
    first = read_curve(spec.event_curve, kind="incidence")
    second = read_curve(spec.competing_curve, kind="incidence")
    longer = first if first.last_time >= second.last_time else second
    table = read_at_risk(spec.at_risk, curve=longer)
    if table.time.size < 2:
        raise InputError(
            "a competing-risks arm needs numbers at risk after time 0",
            file=str(spec.at_risk),
            remedy="copy the whole at-risk table under the figure (without it censoring and "
            "competing events cannot be told apart)",
        )
    total, at = incidence_overlap(first.time, 1 - first.surv, second.time, 1 - second.surv)
    if total > 1.0 + CLIP_TOLERANCE:
        raise InputError(
            f"the two cumulative incidences add up to {total:.3f} at time {at:.4g}, more than 1",
            file=str(spec.competing_curve),
            remedy="check that both curves belong to this arm and the y-axis calibration",
        )
    return _scaled_curve(first, scale), _scaled_curve(second, scale), _scaled_table(table, scale)


def _check_times(name: str, values: Sequence[float], limit: float, what: str, option: str) -> None:
    for t in values:
        if not (np.isfinite(t) and 0.0 < t <= limit):
            raise InputError(
                f"{option} {t:g} is outside the follow-up of arm {name!r} (0 to {limit:.4g} "
                "months)",
                value=t,
                remedy=f"choose a {what} within the follow-up of every arm",
            )


# --------------------------------------------------------------------------- assembly


def _intervals(rec: Reconstruction) -> tuple[IntervalResult, ...]:
    return tuple(
        IntervalResult(
            iv.start,
            iv.end,
            iv.n_start,
            iv.n_end_published,
            iv.n_end_reconstructed,
            iv.events,
            iv.censored,
        )
        for iv in rec.intervals
    )


def _mismatch_warning(rec: Reconstruction) -> list[str]:
    bad = [iv for iv in rec.intervals if not iv.matched]
    if not bad:
        return []
    shown = "; ".join(
        f"at {iv.end:g}: published {iv.n_end_published}, reconstructed {iv.n_end_reconstructed}"
        for iv in bad[:3]
    )
    return [
        f"{len(bad)} number(s) at risk could not be matched ({shown}): the digitised curve "
        "falls less than the at-risk table requires; check that both belong to this arm"
    ]


def _arm_result(arm: ReconstructedArm, ipd_file: str) -> ArmResult:
    rec, curve, st = arm.reconstruction, arm.curve, arm.statistics
    km = st.curve
    fit = curve_fit(curve.time, curve.surv, km.time, km.surv, start=1.0)
    warnings = _mismatch_warning(rec)
    if rec.method == "none":
        warnings.append(_UNRELIABLE)
    if rec.total_events_matched is False:
        warnings.append(
            f"{rec.events} events reconstructed for the {rec.total_events_target} published: "
            "the curve, the at-risk table and the total disagree"
        )
    if rec.extended_to is not None:
        warnings.append(
            f"the digitised curve ends before the last at-risk time; it was carried flat to "
            f"{rec.extended_to:g}"
        )
    table = arm.at_risk
    return ArmResult(
        name=arm.name,
        curve=InputFile(curve.source, curve.sha256),
        at_risk=None if table is None else InputFile(table.source, table.sha256),
        cleaning=curve.cleaning,
        method=rec.method,
        reliable=rec.method != "none",
        n=rec.n,
        events=rec.events,
        censored=rec.censored,
        total_events_published=rec.total_events_target,
        total_events_matched=rec.total_events_matched,
        intervals=_intervals(rec),
        at_risk_mismatches=rec.at_risk_mismatches,
        inserted_points=rec.inserted_points,
        extended_to=rec.extended_to,
        fit=fit,
        median=st.median,
        landmarks=st.landmarks,
        rmst=st.rmst_summary,
        ipd_file=ipd_file,
        warnings=tuple(warnings),
    )


def _incidence_at(curve: CIFCurve, times: Sequence[float]) -> tuple[IncidenceAt, ...]:
    out = []
    for t in times:
        est, lo, hi = curve.at(t)
        out.append(IncidenceAt(float(t), est, lo, hi))
    return tuple(out)


def _competing_result(
    arm: ReconstructedCompeting, landmarks: Sequence[float], ipd_file: str
) -> CompetingArmResult:
    rec = arm.reconstruction
    fits = []
    for curve, cause in ((arm.event_curve, CAUSES[1]), (arm.competing_curve, CAUSES[2])):
        cif = arm.incidence[cause]
        fits.append(curve_fit(curve.time, 1 - curve.surv, cif.time, cif.estimate, start=0.0))
    return CompetingArmResult(
        name=arm.name,
        event_curve=InputFile(arm.event_curve.source, arm.event_curve.sha256),
        competing_curve=InputFile(arm.competing_curve.source, arm.competing_curve.sha256),
        at_risk=InputFile(arm.at_risk.source, arm.at_risk.sha256),
        event_cleaning=arm.event_curve.cleaning,
        competing_cleaning=arm.competing_curve.cleaning,
        n=rec.n,
        events=rec.count(1),
        competing_events=rec.count(2),
        censored=rec.count(0),
        intervals=_intervals(rec.all_cause),
        at_risk_mismatches=rec.all_cause.at_risk_mismatches,
        event_fit=fits[0],
        competing_fit=fits[1],
        event_at=_incidence_at(arm.incidence[CAUSES[1]], landmarks),
        competing_at=_incidence_at(arm.incidence[CAUSES[2]], landmarks),
        ipd_file=ipd_file,
        warnings=tuple(_mismatch_warning(rec.all_cause)),
    )


def run_ipd(
    arms: Sequence[ArmSpec],
    competing: Sequence[CompetingSpec] = (),
    *,
    endpoint: str = "pfs",
    time_unit: str = "months",
    tau: float | None = None,
    landmarks: Sequence[float] = (),
    conf_level: float = 0.95,
    command: str | None = None,
) -> IPDRun:
    """Reconstruct every arm, compare the Kaplan-Meier arms with the first, and collect results.

    Parameters
    ----------
    arms
        Kaplan-Meier arms; the first is the reference of the comparisons.
    competing
        Competing-risks arms (two cumulative-incidence curves and an at-risk table each).
    endpoint
        Name of the endpoint (``E`` of the ``E_time``/``E_event`` columns of the IPD files).
    time_unit
        Unit of the published time axis (``months``, ``days`` or ``years``); results in months.
    tau
        RMST restriction time in months; default the shortest last follow-up of the arms.
    landmarks
        Times (months) for survival and cumulative incidence.
    conf_level
        Level of every interval.
    command
        The command line, for the record.

    Returns
    -------
    IPDRun

    Raises
    ------
    InputError
        On the first bad input or option.
    """
    from ikaros.study import software_versions

    if time_unit not in TIME_UNITS:
        raise InputError(
            f"unknown time unit {time_unit!r}", remedy=f"use one of {', '.join(TIME_UNITS)}"
        )
    if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", endpoint):
        raise InputError(
            f"endpoint name {endpoint!r} cannot name cohort columns",
            remedy="use letters, digits and '_' (e.g. pfs, os)",
        )
    _check_names(arms, competing)
    scale = TIME_UNITS[time_unit]
    read = [_read_arm(spec, scale) for spec in arms]
    read_cr = [_read_competing(spec, scale) for spec in competing]
    # options against the follow-up of every arm
    lasts = {spec.name: curve.last_time for spec, (curve, _, _) in zip(arms, read, strict=True)}
    for cspec, (c1, c2, _) in zip(competing, read_cr, strict=True):
        lasts[cspec.name] = max(c1.last_time, c2.last_time)
    for name, last in lasts.items():
        _check_times(name, landmarks, last, "landmark", "--landmark")
    if tau is not None:
        for spec in arms:
            _check_times(spec.name, [tau], lasts[spec.name], "restriction time", "--tau")
    # reconstruction
    rebuilt: dict[str, Reconstruction] = {}
    for spec, (curve, table, n) in zip(arms, read, strict=True):
        rebuilt[spec.name] = reconstruct(
            curve.time,
            curve.surv,
            n_risk=[n] if table is None else table.n,
            risk_time=[0.0] if table is None else table.time,
            total_events=spec.total_events,
        )
    data: dict[str, Arm] = {k: (r.time, r.event) for k, r in rebuilt.items()}
    tau_used = tau if tau is not None else (default_tau(data) if data else None)
    recon_arms = []
    for spec, (curve, table, _) in zip(arms, read, strict=True):
        st = arm_statistics(
            data[spec.name],
            name=spec.name,
            landmarks=landmarks,
            tau=tau_used,
            conf_level=conf_level,
        )
        recon_arms.append(ReconstructedArm(spec.name, curve, table, rebuilt[spec.name], st))
    comparisons: tuple[Comparison, ...] = ()
    overall = None
    if len(arms) >= 2:
        comparisons, overall = compare_arms(
            data,
            {a.name: a.statistics for a in recon_arms},
            reference=arms[0].name,
            reliable={k: r.method != "none" for k, r in rebuilt.items()},
            conf_level=conf_level,
        )
    recon_cr = []
    for cspec, (c1, c2, table) in zip(competing, read_cr, strict=True):
        rc = reconstruct_competing(
            c1.time, 1 - c1.surv, c2.time, 1 - c2.surv, n_risk=table.n, risk_time=table.time
        )
        cif = aalen_johansen(rc.time, rc.status, cause_labels=CAUSES, conf_level=conf_level)
        recon_cr.append(ReconstructedCompeting(cspec.name, c1, c2, table, rc, cif["all"]))
    gray = None
    if len(recon_cr) >= 2:
        time = np.concatenate([c.reconstruction.time for c in recon_cr])
        status = np.concatenate([c.reconstruction.status for c in recon_cr])
        groups = np.concatenate([np.full(c.reconstruction.n, c.name) for c in recon_cr])
        g = gray_test(time, status, groups, 1)
        gray = GroupTest("Gray", tuple(c.name for c in recon_cr), g.statistic, g.df, g.p)
    warnings = []
    if any(not c.reliable for c in comparisons):
        warnings.append(
            "comparisons involving an arm reconstructed without an at-risk table or total "
            "events are unreliable (hazard ratios are trustworthy only with at-risk tables or "
            "event totals)"
        )
    results = IPDResults(
        ipd_schema_version=IPD_SCHEMA_VERSION,
        ikaros_version=software_versions()["ikaros"],
        software=software_versions(),
        options=IPDOptions(
            endpoint=endpoint,
            time_unit=time_unit,
            tau=tau_used,
            tau_rule="given" if tau is not None else "shortest follow-up of the arms",
            landmarks=tuple(float(x) for x in landmarks),
            conf_level=conf_level,
            reference=arms[0].name if arms else None,
        ),
        arms=tuple(_arm_result(a, f"ipd_{a.name}.csv") for a in recon_arms),
        comparisons=comparisons,
        overall_logrank=overall,
        competing_arms=tuple(
            _competing_result(c, landmarks, f"ipd_cif_{c.name}.csv") for c in recon_cr
        ),
        gray_test=gray,
        command=command,
        warnings=tuple(warnings),
    )
    return IPDRun(results, tuple(recon_arms), tuple(recon_cr))


def _fmt(x: float) -> str:
    return repr(float(x))


def ipd_csv(arm: ReconstructedArm, endpoint: str) -> str:
    """The reconstructed arm as an ikaros cohort table (CSV text, one row per patient)."""
    rec = arm.reconstruction
    width = len(str(rec.n))
    lines = [f"patient_id,arm,{endpoint}_time,{endpoint}_event,reconstructed"]
    for i, (t, e) in enumerate(zip(rec.time, rec.event, strict=True)):
        lines.append(f"{arm.name}-{i + 1:0{width}d},{arm.name},{_fmt(t)},{int(e)},1")
    return "\n".join(lines) + "\n"


def competing_csv(arm: ReconstructedCompeting) -> str:
    """Reconstructed competing-risks data: status 0 censored, 1 event, 2 competing event."""
    rec = arm.reconstruction
    width = len(str(rec.n))
    lines = ["patient_id,arm,time,status,reconstructed"]
    for i, (t, s) in enumerate(zip(rec.time, rec.status, strict=True)):
        lines.append(f"{arm.name}-{i + 1:0{width}d},{arm.name},{_fmt(t)},{int(s)},1")
    return "\n".join(lines) + "\n"
