"""Endpoints: canonical ``E_time``/``E_event`` columns, or derived from registry exports.

A survival endpoint ``E`` has a time and a 0/1 event indicator. A competing-risk endpoint has a
time and a cause code: 0 = censored, 1 = the event of interest, 2, 3, ... = competing causes.

Registry and trial exports rarely hold these columns: the GDC clinical file of CoMMpass gives
``vital_status`` (Alive/Dead), ``days_to_death`` and ``days_to_last_follow_up``. An
:class:`EndpointSpec` derives the endpoint instead:

- ``time_from``: the time is the first non-missing value of these columns, per patient
  (``os=days_to_death,days_to_last_follow_up``);
- ``event_from`` with ``event_values``: the event indicator is 1 where the column holds one of
  these values (``os=vital_status:Dead``), 0 where it holds another value (each such value is
  named, with its count, in the notes), missing where the cell is missing. For a competing-risk
  endpoint the values are the causes in order: the first is code 1, the second code 2, ...

A derived time below zero for a censored patient means that follow-up ended before the time
origin: the patient contributes no time at risk and is excluded as not evaluable (counted, with
the row, in the notes; estimates are the same with or without such a patient, as in R). A
negative time with an event, or in a canonical time column, is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ikaros.cohort._cells import TIME_UNITS, cell_error, numeric
from ikaros.errors import InputError

__all__ = ["EndpointSpec", "endpoint_names", "read_endpoint"]

#: a century of follow-up; longer times are unit errors (days read as months) or typing errors
MAX_MONTHS = 1200.0


@dataclass(frozen=True)
class EndpointSpec:
    """How to read endpoint ``name`` from the table.

    Parameters
    ----------
    name
        Endpoint name (``os``, ``pfs``, ``ttp`` ...); its columns are ``name_time`` and
        ``name_event`` unless derived.
    time_from
        Columns whose first non-missing value per row is the time.
    event_from, event_values
        Column and the values that mean the event (competing: the causes, in code order).
    competing
        ``name_event`` holds cause codes (0 censored, 1 event of interest, 2+ competing).
    causes
        Names of the cause codes, e.g. ``{1: "progression", 2: "death"}``.
    """

    name: str
    time_from: tuple[str, ...] = ()
    event_from: str | None = None
    event_values: tuple[str, ...] = ()
    competing: bool = False
    causes: Mapping[int, str] = field(default_factory=dict)

    @property
    def time_column(self) -> str:
        return f"{self.name}_time"

    @property
    def event_column(self) -> str:
        return f"{self.name}_event"


def endpoint_names(columns: Iterable[object]) -> list[str]:
    """Endpoints ``E`` for which the table has an ``E_time`` column."""
    names = []
    for col in columns:
        m = re.fullmatch(r"(.+)_time", str(col))
        if m:
            names.append(m.group(1))
    return names


def _unit_name(scale: float) -> str:
    return next((u for u, f in TIME_UNITS.items() if f == scale), "the given unit")


def _derived_time(frame: pd.DataFrame, spec: EndpointSpec, file: str) -> pd.Series:
    from ikaros.files import near_match

    time = pd.Series(np.nan, index=frame.index)
    for col in spec.time_from:
        if col not in frame.columns:
            near = near_match(col, frame.columns)
            raise InputError(
                f"endpoint {spec.name!r}: time column {col!r} not found"
                + (f"; the file has {near!r}" if near else ""),
                file=file,
                row=1,
                remedy=f"name the columns in --time-from {spec.name}=COLUMN1,COLUMN2",
            )
        values = numeric(
            frame[col],
            file=file,
            column=col,
            what="time",
            remedy="enter the time as a number (no units)",
        )
        time = time.where(time.notna(), values)
    return time


def _derived_event(
    frame: pd.DataFrame, spec: EndpointSpec, file: str, notes: list[str]
) -> pd.Series:
    from ikaros.files import near_match

    col = spec.event_from
    assert col is not None
    if col not in frame.columns:
        near = near_match(col, frame.columns)
        raise InputError(
            f"endpoint {spec.name!r}: event column {col!r} not found"
            + (f"; the file has {near!r}" if near else ""),
            file=file,
            row=1,
            remedy=f"name the column in --event-from {spec.name}=COLUMN:VALUE",
        )
    raw = frame[col]
    text = raw.where(raw.isna(), raw.astype(str).str.strip())
    codes = pd.Series(np.nan, index=frame.index)
    present = text.notna()
    codes[present] = 0.0
    wanted = {v.strip().casefold(): i + 1 for i, v in enumerate(spec.event_values)}
    folded = text[present].str.casefold()
    hit = folded.map(wanted)
    codes.loc[hit.index[hit.notna()]] = hit[hit.notna()].astype(float)
    found = set(folded[hit.notna()])
    absent = [v for v in spec.event_values if v.strip().casefold() not in found]
    if len(absent) == len(spec.event_values):
        seen = ", ".join(repr(v) for v in sorted(set(text[present]))[:8])
        raise InputError(
            f"endpoint {spec.name!r}: no cell of column {col!r} holds "
            f"{' or '.join(repr(v) for v in spec.event_values)}",
            file=file,
            column=col,
            remedy=f"use the column's values (it has {seen or 'no values'})",
        )
    others = text[present][hit.isna()].value_counts()
    if len(others):
        shown = ", ".join(f"{v!r} ({n})" for v, n in sorted(others.items()))
        notes.append(f"{spec.name}: {col} {shown} read as censored (no event)")
    if absent:
        notes.append(f"{spec.name}: no patient has {col} = {', '.join(map(repr, absent))}")
    return codes


def _event_codes(frame: pd.DataFrame, spec: EndpointSpec, file: str) -> pd.Series:
    ecol = spec.event_column
    if not spec.competing:
        from ikaros.cohort._cells import binary

        return binary(
            frame[ecol],
            file=file,
            column=ecol,
            what="event indicator",
            remedy="code 1 = event observed, 0 = censored",
        )
    values = numeric(
        frame[ecol],
        file=file,
        column=ecol,
        what="cause code",
        remedy="code 0 = censored, 1 = event of interest, 2, 3, ... = competing causes",
    )
    allowed = {0.0, *map(float, spec.causes)} if spec.causes else None
    bad = values.notna() & ((values < 0) | (values != np.round(values)))
    if allowed is not None:
        bad |= values.notna() & ~values.isin(allowed)
    if bad.any():
        rows = bad[bad].index
        named = (
            "; codes named with --causes: "
            + ", ".join(f"{k}={v}" for k, v in sorted(spec.causes.items()))
            if spec.causes
            else ""
        )
        raise cell_error(
            f"cause code must be 0 (censored) or a cause code{named}",
            file,
            rows[0],
            ecol,
            frame.loc[rows[0], ecol],
            "code 0 = censored, 1 = event of interest, 2, 3, ... = competing causes",
            len(rows) - 1,
            rows,
        )
    return values


def _raw_time(frame: pd.DataFrame, spec: EndpointSpec, row: Any) -> tuple[str, object]:
    """The column and the time cell as written in the file (for a derived time: the first
    non-missing column of the derivation, the one the value came from)."""
    columns = spec.time_from or (spec.time_column,)
    for col in columns:
        value = frame.loc[row, col]
        if value is not None:
            return col, value
    return columns[0], None


def read_endpoint(
    frame: pd.DataFrame, spec: EndpointSpec, file: str, scale: float, notes: list[str]
) -> tuple[pd.Series, pd.Series, pd.Index]:
    """Time (months) and event (0/1, or cause codes) of one endpoint.

    Returns
    -------
    time, event, excluded
        ``excluded`` holds the rows set aside as not evaluable (derived negative censored times);
        their time and event are missing.
    """
    tcol, ecol = spec.time_column, spec.event_column
    derived_time = bool(spec.time_from)
    if derived_time:
        time = _derived_time(frame, spec, file)
        time_label = ",".join(spec.time_from)
    else:
        if tcol not in frame.columns:
            raise InputError(
                f"endpoint {spec.name!r} needs the columns {tcol!r} and {ecol!r}; {tcol!r} is "
                "missing",
                file=file,
                row=1,
                remedy=f"add {tcol!r}, map it with --map {tcol}=COLUMN, or derive it with "
                f"--time-from {spec.name}=COLUMN1,COLUMN2",
            )
        time = numeric(
            frame[tcol],
            file=file,
            column=tcol,
            what="time",
            remedy="enter the follow-up time as a number",
        )
        time_label = tcol
    if spec.event_from is not None:
        event = _derived_event(frame, spec, file, notes)
        event_label = spec.event_from
    else:
        if ecol not in frame.columns:
            raise InputError(
                f"endpoint {spec.name!r} needs the columns {tcol!r} and {ecol!r}; {ecol!r} is "
                "missing",
                file=file,
                row=1,
                remedy=f"add {ecol!r}, map it with --map {ecol}=COLUMN, or derive it with "
                f"--event-from {spec.name}=COLUMN:VALUE",
            )
        event = _event_codes(frame, spec, file)
        event_label = ecol
    with np.errstate(over="ignore"):
        months = time * scale
    huge = time.notna() & ~(months <= MAX_MONTHS)
    first_col = spec.time_from[0] if derived_time else tcol
    if huge.any():
        rows = huge[huge].index
        unit = _unit_name(scale)
        hint = (
            "; are the times in days? then add --time-unit days"
            if unit in ("months", "years")
            else ""
        )
        col, value = _raw_time(frame, spec, rows[0])
        raise cell_error(
            f"time is implausibly long (more than 100 years of follow-up in {unit}){hint}",
            file,
            rows[0],
            col,
            value,
            f"enter the follow-up time in {unit}, or name the unit with --time-unit",
            len(rows) - 1,
            rows,
        )
    excluded = pd.Index([])
    neg = time < 0
    if derived_time:
        early = neg & (event == 0)
        if early.any():
            excluded = early[early].index
            shown = ", ".join(str(r) for r in excluded[:5]) + ("..." if len(excluded) > 5 else "")
            notes.append(
                f"{spec.name}: {len(excluded)} censored patient(s) with follow-up ending before "
                f"the time origin (derived time < 0; row {shown}) contribute no time at risk "
                "and are excluded as not evaluable"
            )
            time = time.where(~early)
            event = event.where(~early)
            neg = time < 0
    if neg.any():
        rows = neg[neg].index
        col, value = _raw_time(frame, spec, rows[0])
        raise cell_error(
            "time is negative" + (" for a patient with an event" if derived_time else ""),
            file,
            rows[0],
            col,
            value,
            "times are durations from the time origin and must be >= 0",
            len(rows) - 1,
            rows,
        )
    only_one = time.isna() != event.isna()
    only_one[excluded] = False
    if only_one.any():
        rows = only_one[only_one].index
        row = rows[0]
        col, other = (
            (time_label, event_label)
            if pd.isna(time.loc[row])
            else (
                event_label,
                time_label,
            )
        )
        raise cell_error(
            f"{col} is missing while {other} is given",
            file,
            row,
            col.split(",")[0] if col == time_label else col,
            "",
            f"give both the time and the event of {spec.name!r}, or leave both empty if the "
            "patient is not evaluable",
            len(rows) - 1,
            rows,
        )
    if time.notna().sum() == 0:
        raise InputError(
            f"endpoint {spec.name!r} has no patient with a time",
            file=file,
            column=first_col,
            remedy="fill in the follow-up times",
        )
    return time * scale, event, excluded
