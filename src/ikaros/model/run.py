"""The model analysis of one cohort and marker: everything ``ikaros model`` writes.

:func:`run_model` takes a validated :class:`~ikaros.cohort.Cohort`, computes the relative mRNA
of the marker, solves the model for the chosen regimen, classifies every patient, compares the
predicted classes' survival (Kaplan-Meier, log-rank), tabulates the dose-response of the
sensitive fraction and the one-at-a-time sensitivity analysis, optionally fits theta, and
returns one :class:`~ikaros.model.result.ModelResult`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ikaros import __version__
from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError, InputError
from ikaros.model.fit import fit_theta
from ikaros.model.parameters import default_parameters
from ikaros.model.pk import Schedule, parse_schedule, pk_check
from ikaros.model.predict import (
    Regimen,
    dose_response,
    predict_patients,
    relative_expression,
    tornado,
)
from ikaros.model.result import (
    DISCLAIMER,
    MODEL_SCHEMA_VERSION,
    ClassSummary,
    InputSummary,
    ModelOptions,
    ModelResult,
    TrajectorySample,
)
from ikaros.stats.km import kaplan_meier
from ikaros.stats.logrank import logrank
from ikaros.summaries import curve

__all__ = [
    "DEFAULT_DOSES",
    "DEFAULT_SCHEDULES",
    "SAMPLE_STEP_HOURS",
    "demo_cohort",
    "run_model",
    "software_versions",
]

DEFAULT_DOSES: tuple[float, ...] = (5.0, 10.0, 15.0, 20.0, 25.0)
DEFAULT_SCHEDULES: tuple[str, ...] = ("21/28", "continuous")
#: Spacing of the trajectories stored for the figure (hours).
SAMPLE_STEP_HOURS = 0.5
LABELS = ("sensitive", "resistant")


def _km(time: np.ndarray, event: np.ndarray, label: str, landmark: float) -> ClassSummary:
    if time.size == 0:
        return ClassSummary(label, 0, 0, None, None, None, None, None)
    km = kaplan_meier(time, event, label=label)
    lm = km.at(landmark)
    return ClassSummary(
        label=label,
        n=km.n,
        events=km.events,
        median=km.median.estimate,
        landmark=lm.survival,
        landmark_lower=lm.lower,
        landmark_upper=lm.upper,
        curve=curve(km),
    )


def _crcl_values(cohort: Cohort, column: str | None, rows: np.ndarray) -> list[float | None]:
    if column is None:
        return [None] * rows.size
    values = cohort.data.loc[rows, column].to_numpy(dtype=float)
    bad = np.isfinite(values) & (values <= 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "creatinine clearance must be positive",
            file=cohort.source,
            row=int(rows[i]),
            column=cohort.source_column(column),
            value=float(values[i]),
            remedy="give CrCl in mL/min, or leave the cell empty for the reference value",
        )
    return [float(v) if math.isfinite(v) else None for v in values]


def run_model(
    cohort: Cohort,
    marker: str,
    *,
    endpoint: str = "pfs",
    dose_mg: float = 25.0,
    schedule: str = "21/28",
    n_cycles: int = 2,
    overrides: Mapping[str, float] | None = None,
    crcl_column: str | None = None,
    doses: Sequence[float] = DEFAULT_DOSES,
    schedules: Sequence[str] = DEFAULT_SCHEDULES,
    fit: bool = False,
    seed: int = 1,
    landmark_months: float = 36.0,
    command: str | None = None,
    software: Mapping[str, str] | None = None,
) -> ModelResult:
    """Run the degradation-threshold model on a cohort.

    Parameters
    ----------
    cohort
        Validated cohort with the marker column and the endpoint.
    marker
        ``IKZF1``, ``IKZF3`` or ``BSG`` (a column of ``cohort``).
    endpoint
        Endpoint for the Kaplan-Meier comparison and the theta fit (``pfs``).
    dose_mg, schedule, n_cycles
        The regimen: daily dose, ``21/28`` or ``continuous`` (or ``d/L``), simulated cycles.
    overrides
        Parameter name -> value replacing the defaults (e.g. ``{"theta": 0.15}``).
    crcl_column
        Column with creatinine clearance (mL/min); empty cells use the reference value.
    doses, schedules
        Grid of the dose-response table.
    fit
        Also estimate theta from the endpoint (:func:`ikaros.model.fit.fit_theta`).
    seed
        Seed of the permutation p-value of the fit.
    landmark_months
        Time of the landmark survival in the class summaries.
    command, software
        Recorded in the result.

    Raises
    ------
    InputError
        Unknown marker or schedule, dose out of range, marker or endpoint absent from the
        cohort, non-positive expression, bad parameter values.
    """
    params = default_parameters(marker)
    if overrides:
        params = params.replace(**dict(overrides))
    sched = parse_schedule(schedule)
    regimen = Regimen(dose_mg, sched, n_cycles)
    regimen.check(params)
    grid_schedules: list[Schedule] = [parse_schedule(s) for s in schedules]
    grid_doses = sorted({float(d) for d in doses} | {float(dose_mg)})
    for d in grid_doses:
        for s in grid_schedules:
            Regimen(d, s, n_cycles).check(params)  # validates the grid before any work
    if marker not in cohort.data.columns:
        raise InputError(
            f"marker column {marker!r} not found",
            file=cohort.source,
            row=1,
            remedy="check the spelling (case matters) or map it with --map",
        )
    for col in (f"{endpoint}_time", f"{endpoint}_event"):
        if col not in cohort.data.columns:
            raise InputError(
                f"endpoint {endpoint!r} not found",
                file=cohort.source,
                row=1,
                remedy=f"expected columns {endpoint}_time and {endpoint}_event",
            )
    data = cohort.data
    has_marker = data[marker].notna()
    has_endpoint = data[f"{endpoint}_time"].notna()
    sub = data[has_marker & has_endpoint]
    rows = sub.index.to_numpy()
    m, median = relative_expression(
        sub[marker].to_numpy(dtype=float),
        rows=[int(r) for r in rows],
        column=cohort.source_column(marker),
        file=cohort.source,
    )
    if m.size < 2:
        raise AnalysisError(f"the model needs at least two patients with {marker} and {endpoint}")
    crcl = _crcl_values(cohort, crcl_column, rows)
    patients, refs = predict_patients(
        params,
        regimen,
        sub["patient_id"].astype(str).tolist(),
        [int(r) for r in rows],
        sub[marker].to_numpy(dtype=float),
        m,
        crcl,
    )
    ref = refs[None]

    # trajectories for the figure: lowest and highest quartile midpoints, and the median
    traj = ref.trajectory
    n_samples = round(traj.t_end / SAMPLE_STEP_HOURS)
    t_hours = np.linspace(0.0, traj.t_end, n_samples + 1)
    p1 = traj.protein(t_hours)
    levels = np.quantile(m, [0.125, 0.5, 0.875])
    theta = params.theta.value
    last = regimen.last_cycle
    samples = tuple(
        TrajectorySample(
            label=label,
            m=float(level),
            nadir=float(level) * traj.minimum(last)[1],
            hours_below=traj.time_below(last, theta / float(level)),
            sensitive=bool(float(level) * ref.q < theta),
            protein=tuple(float(v) for v in level * p1),
        )
        for label, level in zip(
            ("low expresser (Q1 midpoint)", "median expresser", "high expresser (Q4 midpoint)"),
            levels,
            strict=True,
        )
    )

    time = sub[f"{endpoint}_time"].to_numpy(dtype=float)
    event = sub[f"{endpoint}_event"].to_numpy(dtype=float)
    sens = np.array([p.sensitive for p in patients])
    classes = tuple(
        _km(time[mask], event[mask], label, landmark_months)
        for label, mask in zip(LABELS, (sens, ~sens), strict=True)
    )
    lr_stat: float | None = None
    lr_p: float | None = None
    if sens.all() or not sens.any():
        lr_note = "not computed: every patient is predicted " + (
            "sensitive" if sens.all() else "resistant"
        )
    elif event.sum() == 0:
        lr_note = f"not computed: no {endpoint.upper()} event"
    else:
        test = logrank(time, event, np.where(sens, LABELS[0], LABELS[1]), order=LABELS)
        lr_stat, lr_p = test.statistic, test.p
        lr_note = "log-rank test, sensitive vs resistant (1 df)"

    notes = [
        f"{sum(c is not None for c in crcl)} patients with their own creatinine clearance"
        if crcl_column
        else "no creatinine clearance given: every patient has the reference renal function",
        "the classes come from the model and its assumed parameters, not from the outcome "
        "data; the log-rank test compares them but does not validate the model",
    ]
    fitted = None
    if fit:
        scores = np.array([p.score for p in patients])
        fitted = fit_theta(time, event, scores, ref.q, seed=seed)

    return ModelResult(
        model_schema_version=MODEL_SCHEMA_VERSION,
        ikaros_version=__version__,
        software=dict(software or {}),
        disclaimer=DISCLAIMER,
        input=InputSummary(
            source=cohort.source,
            sha256=cohort.sha256,
            n_patients=cohort.n,
            n_analysed=int(m.size),
            excluded_missing_marker=int((~has_marker).sum()),
            excluded_missing_endpoint=int((has_marker & ~has_endpoint).sum()),
            median_expression=median,
            crcl_column=crcl_column,
            crcl_missing=sum(c is None for c in crcl) if crcl_column else 0,
        ),
        options=ModelOptions(
            marker=marker,
            endpoint=endpoint,
            dose_mg=float(dose_mg),
            schedule=sched.label,
            n_cycles=n_cycles,
            classified_on_cycle=regimen.last_cycle + 1,
            doses=tuple(grid_doses),
            schedules=tuple(s.label for s in grid_schedules),
            fit_theta=fit,
            seed=seed,
            landmark_months=landmark_months,
        ),
        parameters=params.all(),
        pk_check=pk_check(params),
        q_reference=ref.q,
        critical_m=params.theta.value / ref.q,
        trajectory_days=tuple(float(t) / 24.0 for t in t_hours),
        concentration=tuple(float(c) for c in traj.concentration(t_hours)),
        trajectories=samples,
        patients=patients,
        classes=classes,
        logrank_statistic=lr_stat,
        logrank_p=lr_p,
        logrank_note=lr_note,
        dose_response=dose_response(params, grid_doses, grid_schedules, n_cycles, m, crcl),
        tornado=tornado(params, regimen, m, crcl),
        theta_fit=fitted,
        notes=tuple(notes),
        command=command,
    )


def demo_cohort(marker: str) -> Cohort:
    """The simulated DSMM-XII-like demo cohort (``simulate_cohort(DEMO_SEED)``) as a Cohort."""
    from ikaros.cohort import cohort_from_frame
    from ikaros.simulate import DEMO_SEED, simulate_cohort

    return cohort_from_frame(
        simulate_cohort(DEMO_SEED),
        source=f"simulated DSMM-XII-like demo cohort (seed {DEMO_SEED})",
        markers=[marker] if marker in ("IKZF1", "IKZF3", "CRBN", "BSG") else [],
        endpoints=["pfs", "os"],
    )


def software_versions() -> dict[str, str]:
    """Versions of Python and the numerical libraries, for the reproducibility record."""
    from ikaros.versions import software_versions as versions

    return versions(("numpy", "scipy", "pandas", "lifelines"))
