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
    "to_floats",
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


def to_floats(values: pd.Series) -> pd.Series:
    """Cells as floats, NaN where missing or not a number (``pd.to_numeric(errors="coerce")``).

    Text is parsed by Arrow's C++ parser: correctly rounded, as Python's ``float`` (pandas'
    ``to_numeric`` is one unit in the last place off for about a fifth of 17-digit decimals)
    and about 3 times faster. A column Arrow does not take whole (a cell that is not a number,
    Python numbers among text as from Excel) goes through ``to_numeric``, and the text cells it
    accepted are then parsed by Arrow again, so a number reads the same with or without a bad
    cell elsewhere in its column.
    """
    if _plain_numeric(values):
        return values.astype(float)
    import pyarrow as pa

    cells = values.to_numpy(dtype=object)
    try:
        parsed = pa.array(cells, type=pa.string(), from_pandas=True).cast(pa.float64())
    except (pa.ArrowException, TypeError):
        pass
    else:
        return pd.Series(parsed.to_numpy(zero_copy_only=False), index=values.index, dtype=float)
    present = pd.Series(cells, index=values.index, dtype=object).where(values.notna())
    out = pd.to_numeric(present, errors="coerce").astype(float).to_numpy(copy=True)
    text = np.fromiter((isinstance(v, str) for v in cells), dtype=bool, count=len(cells))
    redo = text & ~np.isnan(out)
    if redo.any():
        try:
            again = pa.array(cells[redo], type=pa.string()).cast(pa.float64())
        except (pa.ArrowException, TypeError):  # e.g. " 1": to_numeric's reading stays
            pass
        else:
            out[redo] = again.to_numpy(zero_copy_only=False)
    return pd.Series(out, index=values.index, dtype=float)


def numeric(series: pd.Series, *, file: str, column: str, what: str, remedy: str) -> pd.Series:
    """Parse text cells to float; missing stays NaN; anything unparseable is an error."""
    parsed = to_floats(series)
    if _plain_numeric(series):  # already numbers (Parquet, Excel): nothing to parse
        bad = parsed.isin([np.inf, -np.inf])  # NaN is a missing value, not an error
    else:
        bad = series.notna() & ~np.isfinite(parsed)
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
    values = to_floats(series)
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
    parsed = to_floats(present)
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
