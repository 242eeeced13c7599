"""Quantities derived from a treatment course: exposure, time origins, endpoints, landmarks.

All times are months since the patient's myeloma diagnosis (:mod:`ikaros.course.table`).

Definitions
-----------
Exposure periods
    ``len_start`` to the next ``len_stop``; a period without a stop runs to the end of
    follow-up. *Cumulative exposure* at time t is the total length of the periods before t
    (a continuous, piecewise-linear function). Exposure is *ongoing at* an event at time t when
    a period has start < t <= stop, so lenalidomide stopped on the day an SPM is diagnosed was
    ongoing at the SPM.
Time origins
    ``diagnosis`` (month 0), ``len_start`` (first lenalidomide), ``spm`` (first SPM, optionally
    of a given type) and ``hct_allo`` (first allogeneic HCT).
Endpoints from an origin o
    ``os``: death, censored at the end of follow-up. ``efs``: the first progression strictly
    after o or death at or after o. ``spm``: the first SPM strictly after o; death without SPM
    censors (cause-specific; for the competing-risk view see :func:`competing_risks_table`).
    ``progression``: the first progression strictly after o; death censors. Patients without the
    origin are excluded and counted.
Landmarks
    At an event (``hct_allo``): from an origin o, patients with the event after o are followed
    from it; patients whose endpoint event happened before it are excluded and counted. At a
    time L: patients with an event, or censored, before L are excluded (counted apart).

References
----------
Andersen PK, Gill RD. Cox's regression model for counting processes: a large sample study.
Ann Stat 1982;10:1100-1120.
Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response. J Clin Oncol
1983;1:710-719 (landmark method).
Therneau TM, Crowson C, Atkinson E. Using time dependent covariates and time dependent
coefficients in the Cox model. survival package vignette, 2023.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ikaros.course.table import CourseData
from ikaros.errors import AnalysisError

__all__ = [
    "ENDPOINTS",
    "ORIGINS",
    "CountingProcess",
    "EndpointData",
    "LandmarkResult",
    "PatientCourse",
    "competing_risks_table",
    "counting_process",
    "cumulative_exposure",
    "derived_table",
    "endpoint_data",
    "landmark_at_event",
    "landmark_at_time",
    "patient_courses",
    "treated",
]

Origin = Literal["diagnosis", "len_start", "spm", "hct_allo"]
Endpoint = Literal["efs", "os", "spm", "progression"]
ORIGINS: tuple[str, ...] = ("diagnosis", "len_start", "spm", "hct_allo")
ENDPOINTS: tuple[str, ...] = ("efs", "os", "spm", "progression")


@dataclass(frozen=True)
class PatientCourse:
    """One patient's course, times in months since diagnosis.

    ``periods`` are the lenalidomide exposure periods (start, stop); an ongoing period stops at
    ``end`` and sets ``ongoing_at_end``. ``spm`` and ``responses`` pair a time with the detail.
    """

    patient_id: str
    end: float
    dead: bool
    periods: tuple[tuple[float, float], ...]
    ongoing_at_end: bool
    spm: tuple[tuple[float, str], ...]
    hct_auto: tuple[float, ...]
    hct_allo: tuple[float, ...]
    progression: tuple[float, ...]
    responses: tuple[tuple[float, str], ...]
    regression: tuple[float, ...]

    @property
    def first_len(self) -> float | None:
        return self.periods[0][0] if self.periods else None

    def first_spm(self, spm_type: str | None = None) -> tuple[float, str] | None:
        """The first SPM (of ``spm_type``, compared ignoring case), or None."""
        for t, kind in self.spm:
            if spm_type is None or kind.lower() == spm_type.lower():
                return t, kind
        return None

    def cumulative_exposure(self, t: float) -> float:
        """Months of lenalidomide before time ``t``."""
        return float(sum(max(0.0, min(b, t) - a) for a, b in self.periods if a < t))

    def on_lenalidomide(self, t: float) -> bool:
        """Whether a period has start < t <= stop (exposure ongoing at an event at t)."""
        return any(a < t <= b for a, b in self.periods)

    def origin(self, origin: str, spm_type: str | None = None) -> float | None:
        """Time of the origin ``origin`` (see :data:`ORIGINS`), or None if it did not occur."""
        if origin == "diagnosis":
            return 0.0
        if origin == "len_start":
            return self.first_len
        if origin == "spm":
            first = self.first_spm(spm_type)
            return None if first is None else first[0]
        if origin == "hct_allo":
            return self.hct_allo[0] if self.hct_allo else None
        raise AnalysisError(f"unknown time origin {origin!r}; use one of {', '.join(ORIGINS)}")


def patient_courses(data: CourseData) -> tuple[PatientCourse, ...]:
    """Build every patient's :class:`PatientCourse` from validated course data."""
    out = []
    for pid, ev in data.events.groupby("patient_id", sort=False):
        times: dict[str, list[float]] = {}
        details: dict[str, list[tuple[float, str]]] = {"spm": [], "response": []}
        periods: list[tuple[float, float]] = []
        open_start: float | None = None
        for event, month, detail in zip(
            ev["event"].tolist(), ev["month"].tolist(), ev["detail"].tolist(), strict=True
        ):
            t = float(month)
            times.setdefault(str(event), []).append(t)
            if event in details:
                details[str(event)].append((t, str(detail)))
            elif event == "len_start":
                open_start = t
            elif event == "len_stop" and open_start is not None:
                periods.append((open_start, t))
                open_start = None
        dead = "death" in times
        end = times["death"][0] if dead else times["last_followup"][0]
        if open_start is not None:
            periods.append((open_start, end))
        out.append(
            PatientCourse(
                patient_id=str(pid),
                end=end,
                dead=dead,
                periods=tuple(periods),
                ongoing_at_end=open_start is not None,
                spm=tuple(details["spm"]),
                hct_auto=tuple(times.get("hct_auto", [])),
                hct_allo=tuple(times.get("hct_allo", [])),
                progression=tuple(times.get("progression", [])),
                responses=tuple(details["response"]),
                regression=tuple(times.get("regression", [])),
            )
        )
    return tuple(out)


def cumulative_exposure(course: PatientCourse, t: float) -> float:
    """Months of lenalidomide exposure of ``course`` before time ``t`` (months since diagnosis)."""
    return course.cumulative_exposure(t)


def treated(course: PatientCourse, spm_type: str | None = None) -> bool:
    """Treated for the SPM: a response is recorded after the first SPM (NR counts)."""
    first = course.first_spm(spm_type)
    return first is not None and any(t > first[0] for t, _ in course.responses)


def derived_table(courses: Sequence[PatientCourse], spm_type: str | None = None) -> pd.DataFrame:
    """One row per patient: exposure at the SPM, time from first lenalidomide to the SPM, etc.

    Columns: ``patient_id``, ``first_len``, ``spm``, ``spm_type``, ``months_len_to_spm`` (NaN
    without SPM or when the SPM precedes lenalidomide), ``exposure_at_spm``,
    ``exposure_ongoing_at_spm`` (None without SPM), ``exposure_total`` (to the end of follow-up),
    ``hct_allo``, ``treated``, ``regression``, ``followup_end``, ``dead``. Times in months.
    """
    rows = []
    for c in courses:
        first = c.first_spm(spm_type)
        spm_t = np.nan if first is None else first[0]
        after_len = first is not None and c.first_len is not None and c.first_len <= first[0]
        rows.append(
            {
                "patient_id": c.patient_id,
                "first_len": np.nan if c.first_len is None else c.first_len,
                "spm": spm_t,
                "spm_type": None if first is None else first[1],
                "months_len_to_spm": spm_t - c.first_len if after_len else np.nan,  # type: ignore[operator]
                "exposure_at_spm": np.nan if first is None else c.cumulative_exposure(spm_t),
                "exposure_ongoing_at_spm": None if first is None else c.on_lenalidomide(spm_t),
                "exposure_total": c.cumulative_exposure(c.end),
                "hct_allo": c.hct_allo[0] if c.hct_allo else np.nan,
                "treated": treated(c, spm_type),
                "regression": bool(c.regression),
                "followup_end": c.end,
                "dead": c.dead,
            }
        )
    return pd.DataFrame(rows)


def _endpoint_from(
    c: PatientCourse, endpoint: str, o: float, spm_type: str | None
) -> tuple[float, int]:
    """(time from o, event) of ``endpoint`` for one patient."""
    if endpoint == "os":
        hits = [c.end] if c.dead else []
    elif endpoint == "efs":
        hits = [t for t in c.progression if t > o] + ([c.end] if c.dead and c.end >= o else [])
    elif endpoint == "progression":
        hits = [t for t in c.progression if t > o]
    elif endpoint == "spm":
        hits = [
            t
            for t, kind in c.spm
            if t > o and (spm_type is None or kind.lower() == spm_type.lower())
        ]
    else:
        raise AnalysisError(f"unknown endpoint {endpoint!r}; use one of {', '.join(ENDPOINTS)}")
    if hits:
        return min(hits) - o, 1
    return c.end - o, 0


@dataclass(frozen=True)
class EndpointData:
    """Time (months from the origin) and 0/1 event of one endpoint for the included patients."""

    endpoint: str
    origin: str
    patient_id: tuple[str, ...]
    time: NDArray[np.float64]
    event: NDArray[np.int64]
    n_without_origin: int

    @property
    def n(self) -> int:
        return len(self.patient_id)

    @property
    def events(self) -> int:
        return int(self.event.sum())


def endpoint_data(
    courses: Sequence[PatientCourse],
    endpoint: str,
    origin: str,
    *,
    include: Callable[[PatientCourse], bool] | None = None,
    spm_type: str | None = None,
) -> EndpointData:
    """Endpoint times from ``origin`` for the patients with that origin (and ``include``).

    Parameters
    ----------
    courses
        From :func:`patient_courses`.
    endpoint
        ``efs``, ``os``, ``spm`` or ``progression`` (module documentation).
    origin
        ``diagnosis``, ``len_start``, ``spm`` or ``hct_allo``.
    include
        Optional population filter (e.g. :func:`treated`); excluded patients are not counted.
    spm_type
        Restrict "SPM" to this type (e.g. ``B-ALL``).
    """
    if origin == "spm" and endpoint == "spm":
        raise AnalysisError("the SPM cannot be both the time origin and the endpoint")
    ids, times, events = [], [], []
    missing = 0
    for c in courses:
        if include is not None and not include(c):
            continue
        o = c.origin(origin, spm_type)
        if o is None:
            missing += 1
            continue
        t, e = _endpoint_from(c, endpoint, o, spm_type)
        ids.append(c.patient_id)
        times.append(t)
        events.append(e)
    return EndpointData(
        endpoint,
        origin,
        tuple(ids),
        np.asarray(times, dtype=float),
        np.asarray(events, dtype=np.int64),
        missing,
    )


@dataclass(frozen=True)
class LandmarkResult:
    """An endpoint followed from a landmark, with the patients excluded on the way.

    ``n_no_landmark``: patients with the origin who never reach the landmark (no landmark event
    after the origin, or censored before the landmark time); ``n_event_before``: patients whose
    endpoint event came before the landmark.
    """

    data: EndpointData
    landmark: str
    n_origin: int
    n_no_landmark: int
    n_event_before: int

    @property
    def n_excluded(self) -> int:
        return self.n_no_landmark + self.n_event_before


def landmark_at_event(
    courses: Sequence[PatientCourse],
    endpoint: str,
    origin: str,
    event: str = "hct_allo",
    *,
    spm_type: str | None = None,
) -> LandmarkResult:
    """Follow ``endpoint`` from the first ``event`` (default allogeneic HCT) after ``origin``.

    Patients with the origin but without the event after it are not included
    (``n_no_landmark``); those whose endpoint event (from the origin) happened strictly before
    the landmark are excluded (``n_event_before``). Events on the landmark day itself count
    neither as exclusions nor (except death) as events after it.
    """
    if event not in ("hct_allo", "hct_auto", "spm", "len_start"):
        raise AnalysisError(f"unknown landmark event {event!r}")
    ids, times, events = [], [], []
    n_origin = no_landmark = before = 0
    for c in courses:
        o = c.origin(origin, spm_type)
        if o is None:
            continue
        n_origin += 1
        marks = {
            "hct_allo": c.hct_allo,
            "hct_auto": c.hct_auto,
            "spm": tuple(t for t, _ in c.spm),
            "len_start": tuple(a for a, _ in c.periods),
        }[event]
        later = [t for t in marks if t >= o]
        if not later:
            no_landmark += 1
            continue
        mark = later[0]
        t_o, e_o = _endpoint_from(c, endpoint, o, spm_type)
        if e_o and o + t_o < mark:
            before += 1
            continue
        t, e = _endpoint_from(c, endpoint, mark, spm_type)
        ids.append(c.patient_id)
        times.append(t)
        events.append(e)
    data = EndpointData(
        endpoint,
        event,
        tuple(ids),
        np.asarray(times, dtype=float),
        np.asarray(events, dtype=np.int64),
        0,
    )
    return LandmarkResult(data, event, n_origin, no_landmark, before)


def landmark_at_time(data: EndpointData, at: float) -> LandmarkResult:
    """Conditional analysis from ``at`` months after the origin (times restart at 0 there)."""
    if not np.isfinite(at) or at < 0:
        raise AnalysisError(f"landmark time must be >= 0, got {at}")
    keep = data.time >= at
    event_before = int(np.sum(~keep & (data.event == 1)))
    censored_before = int(np.sum(~keep & (data.event == 0)))
    sub = EndpointData(
        data.endpoint,
        f"{data.origin} + {at:g} months",
        tuple(p for p, k in zip(data.patient_id, keep, strict=True) if k),
        data.time[keep] - at,
        data.event[keep],
        data.n_without_origin,
    )
    return LandmarkResult(sub, f"month {at:g}", data.n, censored_before, event_before)


@dataclass(frozen=True)
class CountingProcess:
    """A (start, stop] table with time-varying lenalidomide exposure.

    ``table`` columns: ``patient_id``, ``start``, ``stop`` (months from the origin), ``event``
    (0/1, only on a patient's last interval), ``cum_exposure`` (months of lenalidomide since the
    first ever dose, evaluated at ``value_at`` of the interval) and ``on_len`` (1 if on
    lenalidomide throughout the interval).
    """

    table: pd.DataFrame
    endpoint: str
    origin: str
    value_at: str
    split_at_events: bool
    n_patients: int
    n_without_origin: int
    n_zero_followup: int

    @property
    def events(self) -> int:
        return int(self.table["event"].sum())


def counting_process(
    courses: Sequence[PatientCourse],
    endpoint: str,
    origin: str = "diagnosis",
    *,
    value_at: Literal["stop", "start"] = "stop",
    split_at_events: bool = True,
    spm_type: str | None = None,
) -> CountingProcess:
    """Split follow-up into (start, stop] intervals for a time-varying Cox model.

    Each patient's follow-up from ``origin`` is split at every change of lenalidomide exposure
    (``len_start``, ``len_stop``) and, with ``split_at_events`` (default), at every distinct
    event time of the cohort. Cumulative exposure grows continuously while on lenalidomide, so
    a step function can only approximate it; with the event-time splits and ``value_at="stop"``
    (default) each interval carries the exposure accumulated up to its stop, which equals the
    exact value of every patient at risk at every event time, so the partial likelihood is the
    one of the continuous covariate. ``value_at="start"`` carries the exposure up to the interval
    start (a lag of at most one interval). Without event-time splits only ``"start"`` is
    allowed, since the value at the stop would look ahead of events inside the interval.
    Patients without the origin, or with no follow-up after it, are left out and counted.

    References
    ----------
    Andersen PK, Gill RD. Ann Stat 1982;10:1100-1120.
    """
    if value_at not in ("stop", "start"):
        raise AnalysisError(f"value_at must be 'stop' or 'start', got {value_at!r}")
    if value_at == "stop" and not split_at_events:
        raise AnalysisError("value_at='stop' needs split_at_events=True (it would look ahead)")
    base = endpoint_data(courses, endpoint, origin, spm_type=spm_type)
    by_id = {c.patient_id: c for c in courses}
    positive = base.time > 0
    event_times = np.unique(base.time[(base.event == 1) & positive])
    rows: list[tuple[str, float, float, int, float, int]] = []
    for pid, t_end, ev in zip(base.patient_id, base.time, base.event, strict=True):
        if t_end <= 0:
            continue
        c = by_id[pid]
        o = c.origin(origin, spm_type)
        assert o is not None
        cuts = {0.0, float(t_end)}
        for a, b in c.periods:
            cuts.update(x - o for x in (a, b) if 0 < x - o < t_end)
        if split_at_events:
            cuts.update(float(x) for x in event_times[event_times < t_end])
        grid = sorted(cuts)
        for a, b in itertools.pairwise(grid):
            at = o + (b if value_at == "stop" else a)
            mid = o + (a + b) / 2.0
            on = any(p < mid < q for p, q in c.periods)
            rows.append(
                (pid, a, b, int(ev) if b == t_end else 0, c.cumulative_exposure(at), int(on))
            )
    table = pd.DataFrame(
        rows, columns=["patient_id", "start", "stop", "event", "cum_exposure", "on_len"]
    )
    return CountingProcess(
        table=table,
        endpoint=endpoint,
        origin=origin,
        value_at=value_at,
        split_at_events=split_at_events,
        n_patients=int(positive.sum()),
        n_without_origin=base.n_without_origin,
        n_zero_followup=int((~positive).sum()),
    )


def competing_risks_table(
    courses: Sequence[PatientCourse], origin: str = "diagnosis", *, spm_type: str | None = None
) -> pd.DataFrame:
    """SPM with death as a competing event: ``patient_id``, ``time``, ``status``.

    ``status`` is 1 for an SPM (strictly after the origin), 2 for death without a previous SPM
    and 0 for censoring, with ``time`` in months from ``origin``. This is the input of the
    competing-risk statistics (cumulative incidence, Fine-Gray) in
    :mod:`ikaros.stats.competing`.
    """
    spm = endpoint_data(courses, "spm", origin, spm_type=spm_type)
    by_id = {c.patient_id: c for c in courses}
    status = []
    for pid, e in zip(spm.patient_id, spm.event, strict=True):
        status.append(1 if e else (2 if by_id[pid].dead else 0))
    return pd.DataFrame({"patient_id": list(spm.patient_id), "time": spm.time, "status": status})
