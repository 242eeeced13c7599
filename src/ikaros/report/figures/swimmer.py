"""Swimmer plot of the treatment courses: one lane per patient.

Each lane runs from diagnosis to death or last follow-up; lenalidomide exposure is a bar over the
lane, and the events of the course are markers: second primary malignancy (SPM, here B-ALL),
lenalidomide withdrawal (a stop after the SPM), regression, progression, response, autologous and
allogeneic HCT, and death or being alive at last follow-up. The input is a long table of events;
nothing is estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.path import Path
from matplotlib.ticker import FixedLocator, FormatStrFormatter

from ikaros.report.figures._common import (
    _DARK,
    _draw_legend,
    _Entry,
    _legend_layout,
    _measure,
    _new_figure,
)
from ikaros.report.figures.km_data import time_ticks
from ikaros.report.style import DOUBLE_COLUMN, PALETTE, SMALL_SIZE, journal_style

__all__ = ["EVENTS", "MARKERS", "PatientCourse", "courses", "swimmer_figure"]

#: The event values of the input table.
EVENTS: tuple[str, ...] = (
    "diagnosis",
    "len_start",
    "len_stop",
    "hct_auto",
    "hct_allo",
    "spm",
    "progression",
    "response",
    "regression",
    "death",
    "last_followup",
)

#: Lenalidomide exposure bars.
EXPOSURE_COLOR = PALETTE[0]
_LANE_COLOR = "#AAAAAA"

# Arrow marker: tail at the data point, pointing right.
_ARROW = Path(
    [(0.0, 0.0), (2.0, 0.0), (1.25, 0.6), (2.0, 0.0), (1.25, -0.6)],
    [Path.MOVETO, Path.LINETO, Path.MOVETO, Path.LINETO, Path.LINETO],
)


@dataclass(frozen=True)
class _Marker:
    label: str
    marker: Any
    size: float
    color: str
    face: str | None = None  # None: filled with ``color``
    edge_width: float = 0.6
    zorder: float = 5.0


#: Marker kind -> how it is drawn and named in the legend, in legend order.
MARKERS: dict[str, _Marker] = {
    "withdrawal": _Marker("Lenalidomide withdrawal", "|", 9.0, _DARK, edge_width=1.2, zorder=7.0),
    "spm": _Marker("SPM (B-ALL) diagnosis", "*", 7.5, PALETTE[1], zorder=6.0),
    "regression": _Marker("Regression", "v", 4.6, PALETTE[2]),
    "progression": _Marker("Progression", "^", 4.6, PALETTE[3]),
    "response": _Marker("Response", "o", 4.0, _DARK, face="white", edge_width=0.8),
    "hct_auto": _Marker("Auto-HCT", "D", 3.8, PALETTE[5], edge_width=0.5),
    "hct_allo": _Marker("Allo-HCT", "s", 4.2, PALETTE[4], edge_width=0.5),
    "death": _Marker("Death", "x", 4.6, _DARK, edge_width=1.2, zorder=6.0),
    "alive": _Marker("Alive at last follow-up", _ARROW, 12.0, _DARK, face="none", edge_width=0.9),
}


@dataclass
class PatientCourse:
    """One patient's course as drawn: lane ends, exposure intervals, marker times."""

    patient_id: str
    start: float
    end: float
    spm: float  # first SPM (NaN if none)
    exposures: list[tuple[float, float]] = field(default_factory=list)
    ongoing: bool = False  # the last exposure runs to the end of the lane
    markers: dict[str, list[float]] = field(default_factory=dict)


def _check(events: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("patient_id", "event", "month") if c not in events.columns]
    if missing:
        raise ValueError(f"events table lacks column(s) {', '.join(missing)}")
    if events.empty:
        raise ValueError("events table is empty")
    df = events.copy()
    df["patient_id"] = df["patient_id"].astype(str)
    df["event"] = df["event"].astype(str).str.strip().str.lower()
    unknown = sorted(set(df["event"]) - set(EVENTS))
    if unknown:
        raise ValueError(f"unknown event(s) {unknown}; expected one of {list(EVENTS)}")
    df["month"] = pd.to_numeric(df["month"], errors="coerce").astype(float)
    bad = df[~np.isfinite(df["month"].to_numpy())]
    if not bad.empty:
        raise ValueError(
            f"missing or non-numeric month for patient(s) {sorted(set(bad.patient_id))}"
        )
    return df


def courses(events: pd.DataFrame) -> list[PatientCourse]:
    """The course of each patient, in order of first appearance in ``events``.

    The lane runs from diagnosis (month 0 unless a ``diagnosis`` event says otherwise) to death
    or last follow-up (else the last event). Exposure runs from each ``len_start`` to the next
    ``len_stop``, or to the end of the lane if no stop follows. A ``len_stop`` at or after the
    first SPM is a withdrawal. ``diagnosis`` and ``len_start``/``len_stop`` get no marker.

    Raises
    ------
    ValueError
        Missing columns, unknown events, missing months, or a ``len_stop`` without a
        ``len_start`` before it.
    """
    df = _check(events)
    rank = {e: i for i, e in enumerate(EVENTS)}
    out = []
    for pid, rows in df.groupby("patient_id", sort=False):
        rows = rows.assign(_rank=rows["event"].map(rank)).sort_values(
            ["month", "_rank"], kind="stable"
        )
        by = {e: rows.loc[rows["event"] == e, "month"].tolist() for e in EVENTS}
        start = min(by["diagnosis"]) if by["diagnosis"] else 0.0
        terminal = by["death"] + by["last_followup"]
        end = max(terminal) if terminal else float(rows["month"].max())
        end = max(end, start)
        spm = min(by["spm"]) if by["spm"] else math.nan
        course = PatientCourse(str(pid), float(start), float(end), float(spm))
        opened: float | None = None
        for event, month in zip(rows["event"], rows["month"], strict=True):
            if event == "len_start" and opened is None:
                opened = float(month)
            elif event == "len_stop":
                if opened is None:
                    raise ValueError(
                        f"patient {pid}: len_stop at month {month:g} without a len_start before it"
                    )
                course.exposures.append((opened, float(month)))
                opened = None
        if opened is not None:
            course.exposures.append((opened, course.end))
            course.ongoing = True
        marks: dict[str, list[float]] = {
            "spm": by["spm"],
            "withdrawal": [m for m in by["len_stop"] if not math.isnan(spm) and m >= spm],
            "regression": by["regression"],
            "progression": by["progression"],
            "response": by["response"],
            "hct_auto": by["hct_auto"],
            "hct_allo": by["hct_allo"],
        }
        if by["death"]:
            marks["death"] = [min(by["death"])]
        elif by["last_followup"]:
            marks["alive"] = [course.end]
        course.markers = {k: [float(m) for m in v] for k, v in marks.items() if v}
        out.append(course)
    return out


def _order(items: list[PatientCourse], order: str) -> list[PatientCourse]:
    """Top lane first: longest follow-up (``"duration"``) or latest SPM (``"spm"``, patients
    without SPM last); ties by follow-up, then patient id."""
    if order == "duration":
        return sorted(items, key=lambda c: (-(c.end - c.start), c.patient_id))
    return sorted(
        items,
        key=lambda c: (
            math.isnan(c.spm),
            -(c.spm - c.start) if not math.isnan(c.spm) else 0.0,
            -(c.end - c.start),
            c.patient_id,
        ),
    )


_LANE = 0.16  # lane pitch (inches)
_BAR = 0.50  # exposure bar height (fraction of a lane)
_RIGHT = 0.30
_BOTTOM = 0.46
_TOP_PAD = 0.10
_HEADER_GAP = 0.10
_ID_SIZE = SMALL_SIZE - 1.0


def swimmer_figure(
    events: pd.DataFrame,
    *,
    order: Literal["duration", "spm"] | str = "duration",
    time_label: str = "Months from diagnosis",
) -> Figure:
    """Swimmer plot: one lane per patient with lenalidomide exposure and the course events.

    Parameters
    ----------
    events
        Long table with columns ``patient_id``, ``event`` (one of :data:`EVENTS`), ``month``
        (float, from diagnosis) and optionally ``detail`` (not drawn).
    order
        ``"duration"``: longest follow-up on top; ``"spm"``: latest SPM on top (patients without
        SPM at the bottom).
    time_label
        Label of the time axis.

    Returns
    -------
    Figure
        7 inches wide, 0.16 inch per lane; axes labelled ``"swimmer"``, lane ``k`` (from the top)
        at data y = ``k`` with the patient id as tick label. Artists are labelled for inspection:
        lanes ``"_lane <id>"``, exposure bars ``"_len <id>"``, markers ``"_marker <kind>"`` (one
        line per kind, kinds of :data:`MARKERS`).

    Raises
    ------
    ValueError
        Invalid table (see :func:`courses`) or unknown ``order``.
    """
    if order not in ("duration", "spm"):
        raise ValueError(f"order must be 'duration' or 'spm', not {order!r}")
    lanes = _order(courses(events), order)
    n = len(lanes)
    x0 = min(0.0, min(c.start for c in lanes))
    t_end = max(c.end for c in lanes)
    ticks = time_ticks(max(t_end - x0, 1.0), "months")
    ticks = tuple(x0 + t for t in ticks)
    x_max = max(ticks[-1], t_end)
    present = [k for k in MARKERS if any(k in c.markers for c in lanes)]

    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, 5.0)
        id_w = max(_measure(fig, c.patient_id, _ID_SIZE) for c in lanes)
        left = max(0.45, 0.08 + (id_w + 4.0) / 72)
        width = DOUBLE_COLUMN - left - _RIGHT
        entries = [_Entry("Lenalidomide exposure", EXPOSURE_COLOR, kind="box", box_height=5.0)]
        for k in present:
            m = MARKERS[k]
            entries.append(
                _Entry(
                    m.label,
                    m.color,
                    kind="marker",
                    marker=m.marker,
                    markersize=m.size,
                    facecolor=m.face,
                    edgewidth=m.edge_width,
                )
            )
        layout = _legend_layout(fig, entries, width * 72)
        header = _TOP_PAD + layout.height / 72 + _HEADER_GAP
        lanes_h = n * _LANE
        height = header + lanes_h + _BOTTOM
        fig.set_size_inches(DOUBLE_COLUMN, height)
        ax = fig.add_axes(
            (left / DOUBLE_COLUMN, _BOTTOM / height, width / DOUBLE_COLUMN, lanes_h / height),
            label="swimmer",
        )
        marks: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in present}
        for y, c in enumerate(lanes):
            ax.plot(
                [c.start, c.end],
                [y, y],
                color=_LANE_COLOR,
                linewidth=0.6,
                solid_capstyle="butt",
                label=f"_lane {c.patient_id}",
                zorder=1,
            )
            for a, b in c.exposures:
                ax.add_patch(
                    Rectangle(
                        (a, y - _BAR / 2),
                        b - a,
                        _BAR,
                        facecolor=EXPOSURE_COLOR,
                        edgecolor="none",
                        linewidth=0,
                        label=f"_len {c.patient_id}",
                        zorder=2,
                    )
                )
            for k, times in c.markers.items():
                marks[k][0].extend(times)
                marks[k][1].extend([y] * len(times))
        for k in present:
            m = MARKERS[k]
            xs, ys = marks[k]
            ax.plot(
                xs,
                ys,
                linestyle="none",
                marker=m.marker,
                markersize=m.size,
                markerfacecolor=m.face or m.color,
                markeredgecolor=m.color,
                markeredgewidth=m.edge_width,
                color=m.color,
                label=f"_marker {k}",
                zorder=m.zorder,
                clip_on=False,
            )
        ax.set_xlim(x0, x_max)
        ax.set_ylim(n - 0.5, -0.5)
        ax.xaxis.set_major_locator(FixedLocator(list(ticks)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_major_locator(FixedLocator(list(range(n))))
        ax.set_yticklabels([c.patient_id for c in lanes], fontsize=_ID_SIZE)
        ax.tick_params(axis="y", length=0, pad=3.0)
        ax.spines["left"].set_visible(False)
        ax.xaxis.grid(True, color="#E8E8E8", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_xlabel(time_label, labelpad=2)
        _draw_legend(fig, entries, layout, left * 72, (height - _TOP_PAD) * 72)
    return fig
