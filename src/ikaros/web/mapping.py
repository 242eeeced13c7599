"""How an uploaded table is read: the column mapping of ``ikaros analyze``, stored with a cohort.

A :class:`CohortSpec` holds exactly the reading options of the command line, in their text
forms: ``--map CANONICAL=COLUMN``, ``--time-from E=COL1,COL2``, ``--event-from
E=COL:VALUE[,VALUE]``, ``--competing E``, ``--causes E=1:NAME,2:NAME``, ``--time-unit`` and
``--na-values``. They are parsed by :mod:`ikaros.cohort.specs`, the parser the CLI uses, so a
cohort read in the browser is read as ``ikaros analyze`` reads it with the options shown on
its page (:meth:`CohortSpec.cli_options`).

:func:`classify` sorts the other columns of a table for the forms: markers (numeric with more
than two values), binary columns (0/1: compared as groups, never pre-selected as markers),
grouping variables (categories with 2 to :data:`~ikaros.cohort._variables.MAX_LEVELS` levels),
covariates (numeric or two-level) and ignored columns.
"""

from __future__ import annotations

import csv
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ikaros.cohort import CYTO_COLUMNS, KNOWN_SCALES, MAX_LEVELS, TIME_UNITS, EndpointSpec
from ikaros.cohort.specs import endpoint_specs, parse_assignments
from ikaros.errors import InputError

__all__ = [
    "CANONICAL_OPTIONAL",
    "CohortSpec",
    "Variables",
    "classify",
    "mapped_columns",
    "parse_tokens",
    "suggest_id_column",
]

#: canonical columns the mapping form offers besides patient_id and the endpoints
CANONICAL_OPTIONAL: tuple[str, ...] = (
    "iss",
    "best_response",
    "age",
    "sex",
    *CYTO_COLUMNS,
    "cyto_high_risk",
)
#: columns with a meaning: never a marker (age is a covariate, the others are groups)
_NOT_MARKERS = frozenset({"patient_id", "age", *CANONICAL_OPTIONAL})
#: normalised names that usually hold the patient identifier
_ID_NAMES = (
    "patientid",
    "patid",
    "patient",
    "subjectid",
    "subject",
    "usubjid",
    "caseid",
    "submitterid",
    "bcrpatientbarcode",
    "pid",
    "id",
)


def parse_tokens(text: str | None) -> tuple[str, ...]:
    """``Unknown,"Not Reported"`` -> ("Unknown", "Not Reported") (as ``--na-values``)."""
    if not text or not text.strip():
        return ()
    return tuple(t.strip() for t in next(csv.reader([text])) if t.strip())


def _names(items: Iterable[str]) -> list[str]:
    """Endpoint names of ``E=...`` (or bare ``E``) option texts, in order."""
    out: list[str] = []
    for item in items:
        name = item.partition("=")[0].strip()
        if name and name not in out:
            out.append(name)
    return out


@dataclass(frozen=True)
class CohortSpec:
    """The reading options of a cohort file (hashable: a cache key).

    Attributes
    ----------
    columns
        ``(canonical, column in the file)`` pairs (``--map``).
    time_from, event_from, competing, causes
        Endpoint derivations in the CLI's text forms.
    time_unit
        ``days``, ``months`` or ``years``.
    na_values
        Cell contents read as missing besides the usual ones.
    """

    columns: tuple[tuple[str, str], ...] = ()
    time_from: tuple[str, ...] = ()
    event_from: tuple[str, ...] = ()
    competing: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    time_unit: str = "months"
    na_values: tuple[str, ...] = ()
    _specs: tuple[EndpointSpec, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def parse(
        cls,
        *,
        maps: Iterable[str] = (),
        time_from: Iterable[str] = (),
        event_from: Iterable[str] = (),
        competing: Iterable[str] = (),
        causes: Iterable[str] = (),
        time_unit: str = "months",
        na_values: str | Iterable[str] = (),
    ) -> CohortSpec:
        """The spec of the CLI option texts; InputError (with a remedy) for a malformed one."""
        if time_unit not in TIME_UNITS:
            raise InputError(
                f"unknown time unit {time_unit!r}", remedy=f"use one of {', '.join(TIME_UNITS)}"
            )
        items = [m.strip() for m in maps if m and m.strip()]
        mapping = parse_assignments(items, "--map", "patient_id=PatientID")
        tokens = parse_tokens(na_values) if isinstance(na_values, str) else tuple(na_values)
        clean = [tuple(t.strip() for t in x if t and t.strip()) for x in (time_from, event_from)]
        comp = tuple(c.strip() for c in competing if c and c.strip())
        named = tuple(c.strip() for c in causes if c and c.strip())
        spec = cls(
            columns=tuple(mapping.items()),
            time_from=clean[0],
            event_from=clean[1],
            competing=comp,
            causes=named,
            time_unit=time_unit,
            na_values=tokens,
        )
        spec.endpoint_specs()  # checks the texts now, not when the file is read
        return spec

    @property
    def mapping(self) -> dict[str, str]:
        return dict(self.columns)

    @property
    def derived(self) -> list[str]:
        """Endpoints named by a derivation or a competing-risk declaration."""
        return _names((*self.time_from, *self.event_from, *self.competing, *self.causes))

    def endpoint_specs(self) -> list[EndpointSpec]:
        """The endpoints derived or declared competing (others are found by their columns)."""
        names = self.derived
        if not names:
            return []
        return endpoint_specs(
            names,
            time_from=self.time_from,
            event_from=self.event_from,
            competing=self.competing,
            causes=self.causes,
        )

    def source_columns(self) -> set[str]:
        """Columns of the file the endpoints are read from (not markers)."""
        used: set[str] = set()
        for spec in self.endpoint_specs():
            used.update(spec.time_from)
            if spec.event_from:
                used.add(spec.event_from)
        return used

    def cli_options(self) -> list[str]:
        """The equivalent options of ``ikaros analyze``, shell-quoted."""
        out: list[str] = []
        for canonical, column in self.columns:
            out += ["--map", f"{canonical}={column}"]
        for option, values in (
            ("--time-from", self.time_from),
            ("--event-from", self.event_from),
            ("--competing", self.competing),
            ("--causes", self.causes),
        ):
            for v in values:
                out += [option, v]
        if self.time_unit != "months":
            out += ["--time-unit", self.time_unit]
        if self.na_values:
            out += ["--na-values", ",".join(self.na_values)]
        return [shlex.quote(x) for x in out]

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": dict(self.columns),
            "time_from": list(self.time_from),
            "event_from": list(self.event_from),
            "competing": list(self.competing),
            "causes": list(self.causes),
            "time_unit": self.time_unit,
            "na_values": list(self.na_values),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, time_unit: str = "months") -> CohortSpec:
        """The stored spec (cohorts of revision 0002 and earlier have none: defaults)."""
        if not data:
            return cls(time_unit=time_unit)
        return cls(
            columns=tuple((str(k), str(v)) for k, v in dict(data.get("columns") or {}).items()),
            time_from=tuple(data.get("time_from") or ()),
            event_from=tuple(data.get("event_from") or ()),
            competing=tuple(data.get("competing") or ()),
            causes=tuple(data.get("causes") or ()),
            time_unit=str(data.get("time_unit") or time_unit),
            na_values=tuple(data.get("na_values") or ()),
        )


@dataclass(frozen=True)
class Variables:
    """The columns of a (mapped) table by their use in the forms."""

    endpoints: tuple[str, ...]
    markers: tuple[str, ...]
    binary: tuple[str, ...]
    groups: tuple[str, ...]
    covariates: tuple[str, ...]
    ignored: tuple[str, ...]

    def to_json(self, levels: Mapping[str, tuple[tuple[str, ...], bool]]) -> dict[str, Any]:
        return {
            "markers": list(self.markers),
            "binary": list(self.binary),
            "groups": [
                {"name": g, "levels": list(levels[g][0]), "ordered": levels[g][1]}
                for g in self.groups
                if g in levels
            ],
            "covariates": list(self.covariates),
            "ignored": list(self.ignored),
        }


def _distinct(values: pd.Series) -> list[str]:
    return sorted({str(v).strip() for v in values.dropna() if str(v).strip()})


def _numeric_share(cells: pd.Series) -> float:
    if cells.empty:
        return 0.0
    return float(pd.to_numeric(cells.astype(str), errors="coerce").notna().mean())


def mapped_columns(columns: Sequence[object], spec: CohortSpec) -> list[str]:
    """The table's column names after ``spec``'s ``--map`` renames (missing sources skipped)."""
    names = [str(c).strip() for c in columns]
    rename = {source: canonical for canonical, source in spec.columns if source in names}
    return [rename.get(c, c) for c in names]


def classify(frame: pd.DataFrame, spec: CohortSpec) -> Variables:
    """Sort the columns of the raw text ``frame`` (cells str/None) read with ``spec``."""
    names = mapped_columns(list(frame.columns), spec)
    table = frame.copy()
    table.columns = names
    missing = set(spec.na_values)
    endpoints = [n[: -len("_time")] for n in names if n.endswith("_time") and len(n) > 5]
    endpoints += [e for e in spec.derived if e not in endpoints]
    used = {"patient_id", *spec.source_columns()}
    used |= {f"{e}_{part}" for e in endpoints for part in ("time", "event")}
    markers, binary, groups, covariates, ignored = [], [], [], [], []
    for name in names:
        if name in used or names.count(name) > 1:
            continue
        cells = table[name].map(lambda v: None if v is None or str(v).strip() in missing else v)
        cells = cells.dropna()
        levels = _distinct(cells)
        numeric = _numeric_share(cells) >= 0.8
        if name in KNOWN_SCALES or name in CYTO_COLUMNS or name == "sex":
            if name in CYTO_COLUMNS and levels:
                groups.append("cyto_high_risk")
            if len(levels) >= 2 or (name in KNOWN_SCALES and levels):
                groups.append(name)
            if name in ("sex", *CYTO_COLUMNS, "cyto_high_risk") and len(levels) == 2:
                covariates.append(name)
            continue
        if name == "age":
            if numeric:
                covariates.append(name)
            continue
        if numeric:
            values = pd.to_numeric(cells.astype(str), errors="coerce").dropna()
            n_values = values.nunique()
            if n_values == 2:  # a 0/1 (or other two-value) code: compared as groups
                binary.append(name)
                groups.append(name)
            elif n_values >= 3:
                markers.append(name)
                if n_values <= MAX_LEVELS and _numeric_share(cells) == 1.0:
                    groups.append(name)
            else:
                ignored.append(name)
                continue
            covariates.append(name)
        elif 2 <= len(levels) <= MAX_LEVELS:
            groups.append(name)
            if len(levels) == 2:
                covariates.append(name)
        else:
            ignored.append(name)
    return Variables(
        endpoints=tuple(dict.fromkeys(endpoints)),
        markers=tuple(m for m in markers if m not in _NOT_MARKERS),
        binary=tuple(binary),
        groups=tuple(dict.fromkeys(groups)),
        covariates=tuple(covariates),
        ignored=tuple(ignored),
    )


def suggest_id_column(columns: Sequence[object]) -> str | None:
    """The column that most likely holds the patient identifier (``patid``, ``Patient ID``)."""

    def key(name: object) -> str:
        return "".join(ch for ch in str(name).casefold() if ch.isalnum())

    keys = {key(c): str(c) for c in reversed(list(columns))}
    return next((keys[k] for k in _ID_NAMES if k in keys), None)
