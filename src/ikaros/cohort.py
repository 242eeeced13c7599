"""Clinical cohort tables: loading, validation in one place, and the :class:`Cohort` object.

Canonical columns
-----------------
``patient_id``
    Unique patient identifier (required).
``E_time``, ``E_event``
    For every endpoint ``E`` (``pfs``, ``os``, any name): follow-up time and 0/1 event
    indicator. Times are converted to months from ``time_unit``. A patient with both missing is
    not evaluable for ``E`` and is excluded from its analyses (and counted); one of the two
    missing is an error.
markers
    Numeric columns named by the user (gene symbols); missing values exclude the patient from
    that marker's analyses (complete case, counted).
``del17p``, ``t_4_14``, ``t_14_16``
    Optional 0/1 cytogenetic abnormalities. ``cyto_high_risk`` is derived as any of them (missing
    only when all three are missing); a file may instead give ``cyto_high_risk`` directly.
``iss``
    Optional ISS stage, 1-3 or I-III.
``best_response``
    Optional IMWG response code: sCR, CR, VGPR, PR, MR, SD, PD.
``age``, ``sex``
    Optional; summarised in the cohort characteristics (age in years, 0-120).
covariates
    Any other column named with ``--covariate``: numeric, or text with exactly two values.

Every problem raises :class:`ikaros.errors.InputError` naming the file, row, column, value and
remedy. Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ikaros.errors import InputError
from ikaros.files import read_table, sha256_file

__all__ = [
    "CYTO_COLUMNS",
    "RESPONSE_CODES",
    "TIME_UNITS",
    "Cohort",
    "cohort_from_frame",
    "load_cohort",
]

CYTO_COLUMNS: tuple[str, ...] = ("del17p", "t_4_14", "t_14_16")
RESPONSE_CODES: tuple[str, ...] = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")
#: months per unit
TIME_UNITS: dict[str, float] = {"days": 12.0 / 365.25, "months": 1.0, "years": 12.0}
_ISS = {"1": 1, "2": 2, "3": 3, "I": 1, "II": 2, "III": 3}
_RESERVED = {"patient_id", "iss", "best_response", "cyto_high_risk", "sex", *CYTO_COLUMNS}


@dataclass(frozen=True)
class Cohort:
    """A validated cohort.

    Attributes
    ----------
    data
        One row per patient; ``patient_id`` (str), ``E_time`` (float, months), ``E_event``
        (float 0/1 or NaN), markers and covariates (float), ``cyto_high_risk`` (float 0/1/NaN),
        ``iss`` (float 1-3/NaN), ``best_response`` (str/None). The index holds the source row
        numbers.
    source
        Where the data came from (file path or a description).
    sha256
        SHA-256 of the source file, if there was one.
    endpoints, markers, covariates
        Names of the validated endpoints, marker columns and extra covariates.
    time_unit
        Unit of the times in the source; ``data`` holds months.
    """

    data: pd.DataFrame
    source: str
    endpoints: tuple[str, ...]
    markers: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    sha256: str | None = None
    time_unit: str = "months"
    column_map: Mapping[str, str] = field(default_factory=dict)
    expression_source: str | None = None
    expression_sha256: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def has_cytogenetics(self) -> bool:
        return "cyto_high_risk" in self.data and bool(self.data["cyto_high_risk"].notna().any())

    def source_column(self, canonical: str) -> str:
        """The column name as it appears in the source file."""
        return self.column_map.get(canonical, canonical)

    def complete(self, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
        """Rows with no missing value in ``columns``, and the number excluded."""
        sub = self.data.dropna(subset=list(columns))
        return sub, self.n - len(sub)


def _bad(
    problem: str, file: str, row: object, column: str, value: object, remedy: str, extra: int = 0
) -> InputError:
    more = f"; {extra} more row(s) in this column have the same problem" if extra else ""
    return InputError(
        problem + more,
        file=file,
        row=int(row),  # type: ignore[call-overload]
        column=column,
        value=value,
        remedy=remedy,
        has_value=True,
    )


def _numeric(series: pd.Series, *, file: str, column: str, what: str, remedy: str) -> pd.Series:
    """Parse text cells to float; missing stays NaN; anything unparseable is an error."""
    text = series.astype(object)
    present = text.notna()
    parsed = pd.to_numeric(text.where(present), errors="coerce")
    bad = present & (parsed.isna() | ~np.isfinite(parsed.astype(float)))
    if bad.any():
        rows = bad[bad].index
        if re.fullmatch(r"[-+]?\d*,\d+", str(text.loc[rows[0]]).strip()):
            remedy = "use a decimal point, not a decimal comma (12.5, not 12,5)"
        return_err = _bad(
            f"{what} is not a finite number",
            file,
            rows[0],
            column,
            text.loc[rows[0]],
            remedy,
            len(rows) - 1,
        )
        raise return_err
    return parsed.astype(float)


def _binary(series: pd.Series, *, file: str, column: str, what: str, remedy: str) -> pd.Series:
    values = pd.to_numeric(series.astype(object), errors="coerce").astype(float)
    bad = series.notna() & ~values.isin([0.0, 1.0])
    if bad.any():
        rows = bad[bad].index
        raise _bad(
            f"{what} must be 0 or 1",
            file,
            rows[0],
            column,
            series.loc[rows[0]],
            remedy,
            len(rows) - 1,
        )
    return values


def _apply_mapping(frame: pd.DataFrame, mapping: Mapping[str, str], file: str) -> pd.DataFrame:
    rename = {}
    for canonical, source in mapping.items():
        if source not in frame.columns:
            raise InputError(
                f"column mapping {canonical}={source}: the file has no column {source!r}",
                file=file,
                remedy=f"use one of the file's columns: {', '.join(map(str, frame.columns))}",
            )
        if canonical in frame.columns and canonical != source:
            raise InputError(
                f"column mapping {canonical}={source}: the file already has a column {canonical!r}",
                file=file,
                remedy="map onto a name the file does not use, or drop the mapping",
            )
        rename[source] = canonical
    return frame.rename(columns=rename)


def _endpoint_names(frame: pd.DataFrame) -> list[str]:
    names = []
    for col in frame.columns:
        m = re.fullmatch(r"(.+)_time", str(col))
        if m:
            names.append(m.group(1))
    return names


def _check_ids(frame: pd.DataFrame, file: str) -> pd.Series:
    if "patient_id" not in frame.columns:
        raise InputError(
            "no 'patient_id' column",
            file=file,
            row=1,
            remedy="name the identifier column patient_id, or map it with --map patient_id=COLUMN",
        )
    ids = frame["patient_id"]
    missing = ids.isna()
    if missing.any():
        raise _bad(
            "patient_id is missing",
            file,
            missing[missing].index[0],
            "patient_id",
            "",
            "give every patient an identifier or delete the row",
        )
    dup = ids.duplicated(keep="first")
    if dup.any():
        row = dup[dup].index[0]
        first = ids.index[ids == ids.loc[row]][0]
        raise _bad(
            f"duplicate patient_id (first seen in row {first})",
            file,
            row,
            "patient_id",
            ids.loc[row],
            "each patient must appear once; merge or remove the duplicate row",
        )
    return ids.astype(str)


def _check_endpoint(
    frame: pd.DataFrame, name: str, file: str, scale: float
) -> tuple[pd.Series, pd.Series]:
    tcol, ecol = f"{name}_time", f"{name}_event"
    for col in (tcol, ecol):
        if col not in frame.columns:
            raise InputError(
                f"endpoint {name!r} needs the columns {tcol!r} and {ecol!r}; {col!r} is missing",
                file=file,
                row=1,
                remedy=f"add {col!r} or map it with --map {col}=COLUMN",
            )
    time = _numeric(
        frame[tcol],
        file=file,
        column=tcol,
        what="time",
        remedy="enter the follow-up time as a number",
    )
    event = _binary(
        frame[ecol],
        file=file,
        column=ecol,
        what="event indicator",
        remedy="code 1 = event observed, 0 = censored",
    )
    neg = time < 0
    if neg.any():
        rows = neg[neg].index
        raise _bad(
            "time is negative",
            file,
            rows[0],
            tcol,
            frame.loc[rows[0], tcol],
            "times are durations from the time origin and must be >= 0",
            len(rows) - 1,
        )
    only_one = time.isna() != event.isna()
    if only_one.any():
        row = only_one[only_one].index[0]
        col, val = (tcol, "") if pd.isna(time.loc[row]) else (ecol, "")
        raise _bad(
            f"{col} is missing while {ecol if col == tcol else tcol} is given",
            file,
            row,
            col,
            val,
            f"give both {tcol} and {ecol}, or leave both empty if the patient is not evaluable",
        )
    if time.notna().sum() == 0:
        raise InputError(
            f"endpoint {name!r} has no patient with a time",
            file=file,
            column=tcol,
            remedy="fill in the follow-up times",
        )
    return time * scale, event


def _derive_cyto(frame: pd.DataFrame, file: str) -> tuple[pd.Series | None, dict[str, pd.Series]]:
    present = [c for c in CYTO_COLUMNS if c in frame.columns]
    parts = {
        c: _binary(
            frame[c],
            file=file,
            column=c,
            what="cytogenetic abnormality",
            remedy="code 1 = present, 0 = absent, empty = not tested",
        )
        for c in present
    }
    direct = None
    if "cyto_high_risk" in frame.columns:
        direct = _binary(
            frame["cyto_high_risk"],
            file=file,
            column="cyto_high_risk",
            what="cytogenetic risk",
            remedy="code 1 = high risk, 0 = standard risk",
        )
    if not parts:
        return direct, parts
    table = pd.DataFrame(parts)
    derived = table.max(axis=1, skipna=True)  # any abnormality present
    derived[table.isna().all(axis=1)] = np.nan
    if direct is not None:
        clash = direct.notna() & derived.notna() & (direct != derived)
        if clash.any():
            row = clash[clash].index[0]
            raise _bad(
                f"cyto_high_risk disagrees with {', '.join(present)}",
                file,
                row,
                "cyto_high_risk",
                frame.loc[row, "cyto_high_risk"],
                "drop the cyto_high_risk column; ikaros derives it from the abnormalities",
            )
    return derived, parts


def _parse_codes(
    frame: pd.DataFrame, column: str, codes: Mapping[str, object], file: str, remedy: str
) -> pd.Series:
    raw = frame[column]
    lookup = {k.upper(): v for k, v in codes.items()}
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    bad_rows: list[Any] = []
    row: Any
    for row, value in raw.items():
        if value is None:
            continue
        key = str(value).strip().upper()
        key = re.sub(r"^(ISS|STAGE)\s*", "", key)
        if key.endswith(".0"):
            key = key[:-2]
        if key in lookup:
            out.loc[row] = lookup[key]
        else:
            bad_rows.append(row)
    if bad_rows:
        raise _bad(
            f"unknown {column} code",
            file,
            bad_rows[0],
            column,
            raw.loc[bad_rows[0]],
            remedy,
            len(bad_rows) - 1,
        )
    return out


def _covariate(frame: pd.DataFrame, name: str, file: str) -> pd.Series:
    values = frame[name]
    present = values.dropna()
    parsed = pd.to_numeric(present, errors="coerce")
    if parsed.notna().all():
        return _numeric(values, file=file, column=name, what="covariate", remedy="enter a number")
    levels = sorted(present.astype(str).unique())
    if len(levels) == 2:
        # text with two values: indicator of the second level in sorted order
        return values.map(lambda v: np.nan if v is None else float(str(v) == levels[1]))
    bad_row = parsed[parsed.isna()].index[0]
    raise _bad(
        f"covariate {name!r} is neither numeric nor a two-level factor ({len(levels)} levels: "
        f"{', '.join(levels[:5])}{', ...' if len(levels) > 5 else ''})",
        file,
        bad_row,
        name,
        values.loc[bad_row],
        "code it numerically or as indicator (0/1) columns",
    )


def cohort_from_frame(
    frame: pd.DataFrame,
    *,
    source: str = "<data frame>",
    markers: Sequence[str] = (),
    endpoints: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "months",
    sha256: str | None = None,
) -> Cohort:
    """Validate a table of text (or numeric) cells and build a :class:`Cohort`.

    Parameters are as for :func:`load_cohort`; ``frame``'s index is taken as the row numbers
    used in messages (a fresh RangeIndex is renumbered from 2, as a spreadsheet shows rows).
    """
    if time_unit not in TIME_UNITS:
        raise InputError(
            f"unknown time unit {time_unit!r}",
            remedy=f"use one of {', '.join(TIME_UNITS)}",
        )
    file = source
    frame = frame.copy()
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame.index = frame.index + 2
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    mapping = dict(mapping or {})
    if mapping:
        frame = _apply_mapping(frame, mapping, file)
    ids = _check_ids(frame, file)
    available = _endpoint_names(frame)
    wanted = list(endpoints) if endpoints is not None else available
    if not wanted:
        raise InputError(
            "no endpoint columns found",
            file=file,
            row=1,
            remedy="add E_time and E_event columns for each endpoint E (e.g. pfs_time, pfs_event)",
        )
    data = pd.DataFrame({"patient_id": ids}, index=frame.index)
    scale = TIME_UNITS[time_unit]
    for name in wanted:
        if f"{name}_time" not in frame.columns and f"{name}_event" not in frame.columns:
            raise InputError(
                f"endpoint {name!r} not found",
                file=file,
                row=1,
                remedy=(f"the file has endpoints {available}" if available else "add its columns")
                + f"; expected columns {name}_time and {name}_event",
            )
        data[f"{name}_time"], data[f"{name}_event"] = _check_endpoint(frame, name, file, scale)
    for marker in markers:
        if marker not in frame.columns:
            raise InputError(
                f"marker column {marker!r} not found",
                file=file,
                row=1,
                remedy="check the spelling (case matters) or map it with --map",
            )
        if marker in _RESERVED or marker in data.columns:
            raise InputError(
                f"{marker!r} is a reserved column and cannot be a marker",
                file=file,
                remedy="name a marker column",
            )
        data[marker] = _numeric(
            frame[marker],
            file=file,
            column=marker,
            what="marker value",
            remedy="enter expression as a number (decimal point, no units); leave empty if missing",
        )
    cyto, parts = _derive_cyto(frame, file)
    if cyto is not None:
        data["cyto_high_risk"] = cyto
    for name, values in parts.items():
        data[name] = values
    if "iss" in frame.columns:
        data["iss"] = _parse_codes(
            frame, "iss", _ISS, file, "use ISS stage 1, 2, 3 (or I, II, III)"
        ).astype(float)
    if "best_response" in frame.columns:
        data["best_response"] = _parse_codes(
            frame,
            "best_response",
            {c: c for c in RESPONSE_CODES},
            file,
            f"use an IMWG response code: {', '.join(RESPONSE_CODES)}",
        )
    if "age" in frame.columns:
        age = _numeric(
            frame["age"], file=file, column="age", what="age", remedy="enter age in years"
        )
        implausible = age.notna() & ((age < 0) | (age > 120))
        if implausible.any():
            row = implausible[implausible].index[0]
            raise _bad(
                "age is outside 0-120 years",
                file,
                row,
                "age",
                frame.loc[row, "age"],
                "enter age in years at diagnosis",
            )
        data["age"] = age
    if "sex" in frame.columns:
        data["sex"] = frame["sex"].map(lambda v: None if v is None else str(v).strip().lower())
    for cov in covariates:
        if cov in data.columns:
            continue
        if cov not in frame.columns:
            raise InputError(
                f"covariate column {cov!r} not found",
                file=file,
                row=1,
                remedy="check the spelling or map it with --map",
            )
        data[cov] = _covariate(frame, cov, file)
    return Cohort(
        data=data,
        source=source,
        endpoints=tuple(wanted),
        markers=tuple(markers),
        covariates=tuple(covariates),
        sha256=sha256,
        time_unit=time_unit,
        column_map=mapping,
    )


def _expression_table(
    path: str | os.PathLike[str], markers: Sequence[str], clinical_columns: Sequence[str]
) -> pd.DataFrame:
    """Read a patient x marker table and validate its IDs and the requested marker values."""
    file = str(path)
    expr = read_table(path, what="expression")
    id_col = next((c for c in ("patient_id", "sample") if c in expr.columns), None)
    if id_col is None:
        raise InputError(
            "expression table has no 'patient_id' (or 'sample') column",
            file=file,
            row=1,
            remedy="name the first column patient_id; `ikaros qpcr` writes it that way",
        )
    ids = _check_ids(expr.rename(columns={id_col: "patient_id"}), file)
    clash = [c for c in expr.columns if c != id_col and c in clinical_columns]
    if clash:
        raise InputError(
            f"column {clash[0]!r} is in both the cohort and the expression table",
            file=file,
            row=1,
            column=clash[0],
            remedy="rename or drop it in one of the two files",
        )
    out = pd.DataFrame({"patient_id": ids}, index=expr.index)
    for marker in markers:
        if marker in expr.columns:
            _numeric(
                expr[marker],
                file=file,
                column=marker,
                what="marker value",
                remedy="enter expression as a number (decimal point); leave empty if missing",
            )
            out[marker] = expr[marker]
    return out


def _attach_expression(
    frame: pd.DataFrame, expr: pd.DataFrame, file: str, n_markers: int
) -> tuple[pd.DataFrame, list[str]]:
    if "patient_id" not in frame.columns or n_markers == 0:
        return frame, []  # cohort validation reports a missing patient_id column
    clinical_ids = frame["patient_id"].astype(str).str.strip()
    by_id = expr.set_index("patient_id")
    merged = frame.copy()
    for col in by_id.columns:
        merged[col] = clinical_ids.map(by_id[col]).astype(object)
        merged[col] = merged[col].where(merged[col].notna(), None)
    matched = clinical_ids.isin(by_id.index)
    extra = sorted(set(by_id.index) - set(clinical_ids))
    notes = []
    if (~matched).any():
        notes.append(
            f"{int((~matched).sum())} of {len(frame)} cohort patients have no row in the "
            f"expression table {file}"
        )
    if extra:
        shown = ", ".join(extra[:5]) + (", ..." if len(extra) > 5 else "")
        notes.append(f"{len(extra)} expression samples match no cohort patient ({shown})")
    if not matched.any():
        raise InputError(
            "no patient_id of the expression table matches the cohort",
            file=file,
            column="patient_id",
            remedy="check that both files use the same patient identifiers",
        )
    return merged, notes


def load_cohort(
    path: str | os.PathLike[str],
    *,
    markers: Sequence[str] = (),
    endpoints: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "months",
    expression: str | os.PathLike[str] | None = None,
) -> Cohort:
    """Read and validate a clinical table (CSV, TSV, XLSX or Parquet).

    Parameters
    ----------
    path
        The file; it is only read.
    markers
        Marker columns to validate as numeric.
    endpoints
        Endpoint names to validate (default: every ``E`` with an ``E_time`` column).
    covariates
        Extra covariate columns.
    mapping
        Canonical name -> column name in the file, e.g. ``{"patient_id": "ID"}``.
    time_unit
        Unit of the time columns: ``days``, ``months`` or ``years``.
    expression
        Optional table with ``patient_id`` (or ``sample``) and marker columns, e.g. the
        ``expression.csv`` of ``ikaros qpcr``; its markers are joined to the cohort by
        ``patient_id``. Unmatched identifiers are counted in :attr:`Cohort.notes`.

    Returns
    -------
    Cohort

    Raises
    ------
    InputError
        On the first problem found, naming file, row, column, value and remedy.
    """
    frame = read_table(path, what="cohort")
    if expression is None:
        return cohort_from_frame(
            frame,
            source=str(Path(path)),
            markers=markers,
            endpoints=endpoints,
            covariates=covariates,
            mapping=mapping,
            time_unit=time_unit,
            sha256=sha256_file(path),
        )
    mapping = dict(mapping or {})
    frame = _apply_mapping(frame, mapping, str(path)) if mapping else frame
    expr = _expression_table(expression, markers, list(frame.columns))
    frame, notes = _attach_expression(frame, expr, str(expression), expr.shape[1] - 1)
    cohort = cohort_from_frame(
        frame,
        source=str(Path(path)),
        markers=markers,
        endpoints=endpoints,
        covariates=covariates,
        time_unit=time_unit,
        sha256=sha256_file(path),
    )
    return replace(
        cohort,
        column_map=mapping,
        expression_source=str(Path(expression)),
        expression_sha256=sha256_file(expression),
        notes=tuple(notes),
    )
