"""The validation manifest: a TOML list of cohorts, loaded and analysed the same way.

The non-CLI driver of ``ikaros validate MANIFEST.toml``. A manifest lists cohorts with the same
options as ``ikaros analyze``; relative paths are relative to the manifest::

    [[cohort]]
    name = "DSMM XII"
    file = "dsmm12.csv"
    expression = "dsmm12_expression.csv"          # optional
    map = { patient_id = "ID", pfs_time = "PFS" }  # optional, canonical = column
    time_unit = "months"                          # optional: days, months, years
    time_from = ["os=days_to_death,days_to_last_follow_up"]   # optional, as --time-from
    event_from = ["os=vital_status:Dead"]                     # optional, as --event-from
    treatment = "arm"                 # optional: a column with the treatment per patient
    treatment_label = "lenalidomide"  # optional: one treatment for the whole cohort

A cohort known only from a published split of the marker (e.g. two Kaplan-Meier arms
reconstructed by ``ikaros ipd``) gives ``low`` and ``high`` instead of ``file``: one table of
patients per published group. It enters the cut analyses at the publication's cut and none of
the continuous ones::

    [[cohort]]
    name = "DSMM XII (published curves)"
    low = "ipd/ipd_IKZF1_low.csv"
    high = "ipd/ipd_IKZF1_high.csv"

A cohort whose table has a ``reconstructed`` column with a true value (``1``, as ``ikaros ipd``
writes it) is flagged as reconstructed from published curves.

:func:`read_manifest` checks the manifest and :func:`run_manifest` loads every cohort with
:func:`ikaros.cohort.load_cohort` (every bad value is an :class:`ikaros.errors.InputError` naming
the file, row, column, value and remedy), keeps the complete cases of the endpoint, marker,
covariates and treatment, applies the marker transform and calls
:func:`ikaros.validation.multicohort.validate_cohorts`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ikaros.cohort import load_cohort
from ikaros.cohort.specs import endpoint_specs
from ikaros.errors import InputError
from ikaros.files import near_match, read_table
from ikaros.validation.multicohort import CohortData, Validation, validate_cohorts

__all__ = ["CohortEntry", "load_cohorts", "read_manifest", "run_manifest"]

_KEYS = {
    "name",
    "file",
    "expression",
    "map",
    "time_unit",
    "time_from",
    "event_from",
    "treatment",
    "treatment_label",
    "low",
    "high",
}
_TRUE = frozenset({"1", "1.0", "true", "yes"})
_TIME_UNITS = ("days", "months", "years")


@dataclass(frozen=True)
class CohortEntry:
    """One ``[[cohort]]`` table of the manifest (paths resolved).

    ``file`` is ``None`` for a cohort given by its published groups (``low`` and ``high``).
    """

    name: str
    file: Path | None
    expression: Path | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    time_unit: str = "months"
    time_from: tuple[str, ...] = ()
    event_from: tuple[str, ...] = ()
    treatment: str | None = None
    treatment_label: str | None = None
    low: Path | None = None
    high: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        """The cohort's tables: ``file``, or the ``low`` and ``high`` group tables."""
        if self.file is not None:
            return (self.file,)
        assert self.low is not None and self.high is not None
        return (self.low, self.high)


def _bad(path: Path, where: str, problem: str, value: Any, remedy: str) -> InputError:
    return InputError(problem, file=str(path), column=where, value=value, remedy=remedy)


def _text(
    path: Path, where: str, table: Mapping[str, Any], key: str, *, required: bool
) -> str | None:
    if key not in table:
        if required:
            raise _bad(path, where, f"the cohort has no {key!r}", None, f'add {key} = "..."')
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise _bad(
            path, f"{where}.{key}", "must be a non-empty text", value, f'write {key} = "..."'
        )
    return value.strip()


def _texts(path: Path, where: str, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(
            path, f"{where}.{key}", "must be a list of texts", value, f'write {key} = ["E=..."]'
        )
    return tuple(value)


def _file(path: Path, where: str, text: str) -> Path:
    p = Path(text)
    p = p if p.is_absolute() else path.parent / p
    if not p.is_file():
        raise _bad(
            path,
            where,
            "file not found",
            text,
            "give a path relative to the manifest, or an absolute path",
        )
    return p


def read_manifest(path: str | Path) -> tuple[CohortEntry, ...]:
    """Parse and check a validation manifest.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    tuple of CohortEntry
        In manifest order.

    Raises
    ------
    InputError
        Not TOML, no cohorts, a missing or unknown key, a wrong type, a duplicate name, a file
        that does not exist, an unknown time unit.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("manifest not found", file=str(p), remedy="give the path of a TOML file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"not valid TOML ({exc})", file=str(p), remedy="write one [[cohort]] table per cohort"
        ) from None
    tables = data.get("cohort")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise InputError(
            "the manifest lists no cohorts",
            file=str(p),
            remedy="write one [[cohort]] table per cohort, with name and file",
        )
    extra = sorted(set(data) - {"cohort"})
    if extra:
        raise _bad(p, extra[0], "unknown top-level key", extra[0], "only [[cohort]] tables")
    entries: list[CohortEntry] = []
    for i, t in enumerate(tables, start=1):
        where = f"cohort {i}"
        unknown = sorted(set(t) - _KEYS)
        if unknown:
            raise _bad(
                p,
                f"{where}.{unknown[0]}",
                "unknown key",
                unknown[0],
                f"use only {', '.join(sorted(_KEYS))}",
            )
        name = _text(p, where, t, "name", required=True)
        grouped = "low" in t or "high" in t
        file_text = _text(p, where, t, "file", required=not grouped)
        assert name is not None
        if grouped and file_text is not None:
            raise _bad(
                p,
                f"{where}.file",
                "give file, or low and high (published groups), not both",
                file_text,
                "file: a table with marker values; low/high: one table per published group",
            )
        low = _text(p, where, t, "low", required=grouped)
        high = _text(p, where, t, "high", required=grouped)
        if grouped and "expression" in t:
            raise _bad(
                p,
                f"{where}.expression",
                "a cohort given by published groups has no marker values",
                t["expression"],
                "drop expression, or give file with the marker values",
            )
        if any(e.name == name for e in entries):
            raise _bad(
                p, f"{where}.name", "duplicate cohort name", name, "give each cohort its own name"
            )
        expr = _text(p, where, t, "expression", required=False)
        mapping = t.get("map", {})
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise _bad(
                p,
                f"{where}.map",
                "must be a table of texts",
                mapping,
                'write map = { patient_id = "ID" }',
            )
        unit = _text(p, where, t, "time_unit", required=False) or "months"
        if unit not in _TIME_UNITS:
            raise _bad(
                p,
                f"{where}.time_unit",
                "unknown time unit",
                unit,
                f"use one of {', '.join(_TIME_UNITS)}",
            )
        treatment = _text(p, where, t, "treatment", required=False)
        label = _text(p, where, t, "treatment_label", required=False)
        if treatment and label:
            raise _bad(
                p,
                f"{where}.treatment_label",
                "give treatment or treatment_label, not both",
                label,
                "a column per patient, or one label for the cohort",
            )
        entries.append(
            CohortEntry(
                name=name,
                file=_file(p, f"{where}.file", file_text) if file_text else None,
                expression=_file(p, f"{where}.expression", expr) if expr else None,
                mapping={str(k): v for k, v in mapping.items()},
                time_unit=unit,
                time_from=_texts(p, where, t, "time_from"),
                event_from=_texts(p, where, t, "event_from"),
                treatment=treatment,
                treatment_label=label,
                low=_file(p, f"{where}.low", low) if low else None,
                high=_file(p, f"{where}.high", high) if high else None,
            )
        )
    return tuple(entries)


def _treatment_column(
    entry: CohortEntry, column: str, rows: pd.Index, raw: pd.DataFrame, path: Path
) -> pd.Series:
    """The treatment label per validated row, read as text from the cohort file.

    Read here rather than as a ``--group`` variable of :func:`load_cohort`, which refuses a
    column with a single value: a cohort treated by one protocol is a valid validation cohort.
    """
    source = entry.mapping.get(column, column)
    if source not in raw.columns:
        near = near_match(source, raw.columns)
        raise InputError(
            f"treatment column {source!r} not found" + (f"; the file has {near!r}" if near else ""),
            file=str(path),
            row=1,
            remedy="check the spelling, or give treatment_label for a single-protocol cohort",
        )
    return raw[source].reindex(rows).map(lambda v: None if v is None else str(v).strip())


def _is_reconstructed(entry: CohortEntry, raw: pd.DataFrame) -> bool:
    """True when the table has a ``reconstructed`` column (as ``ikaros ipd`` writes) set true."""
    source = entry.mapping.get("reconstructed", "reconstructed")
    if source not in raw.columns:
        return False
    return bool(raw[source].map(lambda v: str(v).strip().lower() in _TRUE).any())


def _group_data(
    entry: CohortEntry, endpoint: str, covariates: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray | None, bool, int]:
    """Stack the ``low`` and ``high`` tables: complete cases with ``marker`` 0 (low) / 1 (high);
    also the treatments, whether any table is reconstructed and the rows excluded."""
    specs = endpoint_specs([endpoint], time_from=entry.time_from, event_from=entry.event_from)
    frames: list[pd.DataFrame] = []
    treatments: list[np.ndarray] = []
    reconstructed = False
    excluded = 0
    for value, path in ((0.0, entry.low), (1.0, entry.high)):
        assert path is not None
        cohort = load_cohort(
            path,
            markers=[],
            endpoints=[endpoint],
            covariates=covariates,
            mapping=entry.mapping,
            time_unit=entry.time_unit,
            endpoint_specs=specs,
        )
        raw = read_table(path, what="cohort")
        reconstructed |= _is_reconstructed(entry, raw)
        data = cohort.data
        keep = [f"{endpoint}_time", f"{endpoint}_event", *covariates]
        ok = data[keep].notna().all(axis=1).to_numpy()
        if entry.treatment:
            values = _treatment_column(entry, entry.treatment, data.index, raw, path)
            ok &= values.notna().to_numpy()
            treatments.append(values[ok].astype(str).to_numpy())
        excluded += int((~ok).sum())
        frames.append(data.loc[ok, keep].assign(marker=value))
    stacked = pd.concat(frames, ignore_index=True)
    treatment = np.concatenate(treatments) if entry.treatment else None
    return stacked, treatment, reconstructed, excluded


def _grouped_cohort_data(
    entry: CohortEntry, endpoint: str, covariates: Sequence[str]
) -> CohortData:
    sub, treatment, reconstructed, excluded = _group_data(entry, endpoint, covariates)
    if treatment is None and entry.treatment_label:
        treatment = np.full(len(sub), entry.treatment_label, dtype=object)
    return CohortData(
        name=entry.name,
        time=sub[f"{endpoint}_time"].to_numpy(dtype=float),
        event=sub[f"{endpoint}_event"].to_numpy(dtype=float).astype(int),
        marker=sub["marker"].to_numpy(dtype=float),
        covariates=sub[list(covariates)].astype(float) if covariates else None,
        treatment=treatment,
        n_excluded=excluded,
        reconstructed=reconstructed,
        published_groups=True,
    )


def _cohort_data(
    entry: CohortEntry, marker: str, endpoint: str, covariates: Sequence[str], transform: str
) -> CohortData:
    if entry.file is None:
        return _grouped_cohort_data(entry, endpoint, covariates)
    specs = endpoint_specs([endpoint], time_from=entry.time_from, event_from=entry.event_from)
    cohort = load_cohort(
        entry.file,
        markers=[marker],
        endpoints=[endpoint],
        covariates=covariates,
        mapping=entry.mapping,
        time_unit=entry.time_unit,
        expression=entry.expression,
        endpoint_specs=specs,
    )
    data = cohort.data
    keep = [f"{endpoint}_time", f"{endpoint}_event", marker, *covariates]
    ok = data[keep].notna().all(axis=1).to_numpy()
    treatment: np.ndarray | None = None
    raw = read_table(entry.file, what="cohort")
    if entry.treatment:
        values = _treatment_column(entry, entry.treatment, data.index, raw, entry.file)
        ok &= values.notna().to_numpy()
        treatment = values[ok].astype(str).to_numpy()
    elif entry.treatment_label:
        treatment = np.full(int(ok.sum()), entry.treatment_label, dtype=object)
    sub = data[ok]
    x = sub[marker].to_numpy(dtype=float)
    if transform == "log2":
        bad = np.flatnonzero(x <= 0)
        if bad.size:
            row = sub.index[bad[0]]
            raise InputError(
                "log2 transform needs positive marker values",
                file=str(entry.file),
                row=int(row) if isinstance(row, int | np.integer) else None,
                column=cohort.source_column(marker),
                value=float(x[bad[0]]),
                remedy="use transform none, or supply expression on a linear (positive) scale",
            )
        x = np.log2(x)
    elif transform != "none":
        raise InputError(f"unknown transform {transform!r}", remedy="use none or log2")
    return CohortData(
        name=entry.name,
        time=sub[f"{endpoint}_time"].to_numpy(dtype=float),
        event=sub[f"{endpoint}_event"].to_numpy(dtype=float).astype(int),
        marker=x,
        covariates=sub[list(covariates)].reset_index(drop=True).astype(float)
        if covariates
        else None,
        treatment=treatment,
        n_excluded=int((~ok).sum()),
        reconstructed=_is_reconstructed(entry, raw),
    )


def load_cohorts(
    entries: Sequence[CohortEntry],
    *,
    marker: str,
    endpoint: str,
    covariates: Sequence[str] = (),
    transform: str = "none",
) -> list[CohortData]:
    """Load every cohort of a manifest as :class:`CohortData` (the first step of
    :func:`run_manifest`).

    Raises
    ------
    InputError
        A bad value in a cohort table, or a treatment given for some cohorts only.
    """
    data = [_cohort_data(e, marker, endpoint, covariates, transform) for e in entries]
    missing = [e.name for e, d in zip(entries, data, strict=True) if d.treatment is None]
    if missing and len(missing) < len(data):
        raise InputError(
            f"a treatment is given for some cohorts but not for {', '.join(missing)}",
            column="treatment",
            remedy="give every cohort a treatment column or treatment_label, or none",
        )
    return data


def run_manifest(
    entries: Sequence[CohortEntry],
    *,
    marker: str,
    endpoint: str,
    covariates: Sequence[str] = (),
    transform: str = "none",
    cut: str | float = "q1",
    landmark: float | None = None,
    treatment_reference: str | None = None,
    conf_level: float = 0.95,
) -> Validation:
    """Load every cohort of a manifest and run :func:`validate_cohorts` on them.

    Parameters
    ----------
    entries
        From :func:`read_manifest`.
    marker, endpoint, covariates
        Canonical names (after each cohort's ``map``).
    transform
        ``"none"`` or ``"log2"`` (the analysis scale of the marker).
    cut, landmark, treatment_reference, conf_level
        As :func:`ikaros.validation.multicohort.validate_cohorts`.

    Returns
    -------
    Validation
    """
    data = load_cohorts(
        entries, marker=marker, endpoint=endpoint, covariates=covariates, transform=transform
    )
    return validate_cohorts(
        data,
        marker=marker,
        endpoint=endpoint,
        scale=transform,
        cut=cut,
        landmark=landmark,
        treatment_reference=treatment_reference,
        conf_level=conf_level,
    )
