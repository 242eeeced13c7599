"""Cell parsers shared by the cohort validators: every problem is one :class:`InputError`
naming the file, the row (header = row 1), the column, the value and the remedy."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ikaros.errors import InputError
from ikaros.files import near_match

__all__ = [
    "CYTO_COLUMNS",
    "RESPONSE_CODES",
    "TIME_UNITS",
    "apply_mapping",
    "binary",
    "cell_error",
    "check_ids",
    "covariate",
    "numeric",
    "parse_codes",
]

CYTO_COLUMNS: tuple[str, ...] = ("del17p", "t_4_14", "t_14_16")
RESPONSE_CODES: tuple[str, ...] = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")
#: months per unit
TIME_UNITS: dict[str, float] = {"days": 12.0 / 365.25, "months": 1.0, "years": 12.0}


def cell_error(
    problem: str,
    file: str,
    row: object,
    column: str,
    value: object,
    remedy: str,
    extra: int = 0,
    rows: Iterable[object] = (),
) -> InputError:
    """The error for a bad cell; ``rows`` are all rows with the same problem in the column (for
    ``drop_invalid``), ``extra`` how many beyond the first."""
    more = f"; {extra} more row(s) in this column have the same problem" if extra else ""
    exc = InputError(
        problem + more,
        file=file,
        row=int(row),  # type: ignore[call-overload]
        column=column,
        value=value,
        remedy=remedy,
        has_value=True,
    )
    exc.rows = tuple(int(r) for r in rows) or exc.rows  # type: ignore[call-overload]
    return exc


def _plain_numeric(series: pd.Series) -> bool:
    """A NumPy integer or float column (not bool, not object, not a pandas extension type)."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf"


def numeric(series: pd.Series, *, file: str, column: str, what: str, remedy: str) -> pd.Series:
    """Parse text cells to float; missing stays NaN; anything unparseable is an error."""
    if _plain_numeric(series):  # already numbers (fast CSV path, Parquet): nothing to parse
        parsed = series.astype(float)
        bad = parsed.isin([np.inf, -np.inf])  # NaN is a missing value, not an error
    else:
        text = series.astype(object)
        present = text.notna()
        parsed = pd.to_numeric(text.where(present), errors="coerce").astype(float)
        bad = present & (parsed.isna() | parsed.isin([np.inf, -np.inf]))
    if bad.any():
        rows = bad[bad].index
        value = series.loc[rows[0]]
        if re.fullmatch(r"[-+]?\d*,\d+", str(value).strip()):
            remedy = "use a decimal point, not a decimal comma (12.5, not 12,5)"
        raise cell_error(
            f"{what} is not a finite number",
            file,
            rows[0],
            column,
            value,
            remedy,
            len(rows) - 1,
            rows,
        )
    return parsed


def binary(series: pd.Series, *, file: str, column: str, what: str, remedy: str) -> pd.Series:
    if _plain_numeric(series):
        values = series.astype(float)
    else:
        values = pd.to_numeric(series.astype(object), errors="coerce").astype(float)
    bad = series.notna() & ~values.isin([0.0, 1.0])
    if bad.any():
        rows = bad[bad].index
        raise cell_error(
            f"{what} must be 0 or 1",
            file,
            rows[0],
            column,
            series.loc[rows[0]],
            remedy,
            len(rows) - 1,
            rows,
        )
    return values


def apply_mapping(frame: pd.DataFrame, mapping: Mapping[str, str], file: str) -> pd.DataFrame:
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


#: column names that usually hold the patient identifier (normalised: lower case, no separators)
_ID_ALIASES = {
    "patid", "patient", "patientid", "patientno", "subject", "subjectid", "caseid", "id",
    "bcrpatientbarcode", "submitterid", "usubjid", "pid",
}  # fmt: skip


def _key(name: object) -> str:
    return "".join(ch for ch in str(name).casefold() if ch.isalnum())


def check_ids(frame: pd.DataFrame, file: str) -> pd.Series:
    if "patient_id" not in frame.columns:
        near = near_match("patient_id", frame.columns) or next(
            (c for c in frame.columns if _key(c) in _ID_ALIASES), None
        )
        raise InputError(
            "no 'patient_id' column" + (f" (the file has {near!r})" if near else ""),
            file=file,
            row=1,
            remedy=(
                f"rename {near!r} to patient_id, or map it with "
                f"--map {shlex.quote('patient_id=' + near)}"
                if near
                else "name the identifier column patient_id, or map it with --map patient_id=COLUMN"
            ),
        )
    ids = frame["patient_id"]
    missing = ids.isna()
    if missing.any():
        raise cell_error(
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
        raise cell_error(
            f"duplicate patient_id (first seen in row {first})",
            file,
            row,
            "patient_id",
            ids.loc[row],
            "each patient must appear once; merge or remove the duplicate row",
        )
    return ids.astype(str)


def parse_codes(
    frame: pd.DataFrame, column: str, codes: Mapping[str, object], file: str, remedy: str
) -> pd.Series:
    """Map code cells (case-insensitive; "ISS II", "Stage 2", "2.0" accepted) to values."""
    raw = frame[column]
    lookup = {k.upper(): v for k, v in codes.items()}
    present = raw.notna()

    def key(value: object) -> str:
        text = re.sub(r"^(ISS|STAGE)\s*", "", str(value).strip().upper())
        return text[:-2] if text.endswith(".0") else text

    # few distinct codes: normalise each distinct cell once, then map the column
    by_cell = {v: lookup.get(key(v)) for v in raw[present].unique()}
    mapped = raw[present].map(by_cell)
    unknown = mapped.isna()
    if unknown.any():
        rows = unknown[unknown].index
        raise cell_error(
            f"unknown {column} code",
            file,
            rows[0],
            column,
            raw.loc[rows[0]],
            remedy,
            len(rows) - 1,
            rows,
        )
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    out[present] = mapped.astype(object)
    return out


def covariate(frame: pd.DataFrame, name: str, file: str) -> pd.Series:
    values = frame[name]
    present = values.dropna()
    parsed = pd.to_numeric(present, errors="coerce")
    if parsed.notna().all():
        return numeric(values, file=file, column=name, what="covariate", remedy="enter a number")
    levels = sorted(present.astype(str).unique())
    if len(levels) == 2:
        # text with two values: indicator of the second level in sorted order
        return values.map(lambda v: np.nan if v is None else float(str(v) == levels[1]))
    bad_rows = parsed[parsed.isna()].index
    bad_row = bad_rows[0]
    raise cell_error(
        f"covariate {name!r} is neither numeric nor a two-level factor ({len(levels)} levels: "
        f"{', '.join(levels[:5])}{', ...' if len(levels) > 5 else ''})",
        file,
        bad_row,
        name,
        values.loc[bad_row],
        "code it numerically or as indicator (0/1) columns, or compare its groups with --group",
    )
