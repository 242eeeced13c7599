"""Baseline covariates of a course cohort: one row per patient, for competing-risk models.

Columns
-------
``patient_id``
    Every patient of the course table exactly once; no other patients.
Any other column
    Numeric (every cell a finite number, e.g. ``age``) or text with at most two levels (e.g.
    ``arm`` = A/B; coded 0 for the first level in sorted order and 1 for the other). A text
    column with more levels is accepted only as the ``--group-by`` column, which is used for
    Gray's test and per-group cumulative incidence, not as a model term. Every cell must be
    filled (the models use complete cases and silently dropping patients would change them).

A column counts as numeric when at least half of its cells are numbers; its other cells are
then reported as non-numeric values.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ikaros.errors import InputError
from ikaros.files import read_table, sha256_file

__all__ = [
    "MAX_GROUPS",
    "CourseCovariates",
    "covariates_from_frame",
    "load_covariates",
]

#: At most this many groups for ``--group-by``.
MAX_GROUPS = 10
_TEXT_REMEDY = (
    "code it as numbers, merge its levels into two, or name it with --group-by to compare groups"
)


@dataclass(frozen=True)
class CourseCovariates:
    """A validated covariates table with the chosen model terms and grouping column.

    Attributes
    ----------
    values
        Indexed by ``patient_id``: numeric columns as float, text columns as str.
    levels
        Text column -> its levels in sorted order (the first is the reference, coded 0).
    model
        Columns used as terms of the Fine-Gray and cause-specific Cox models.
    group_by
        Column whose levels define the groups of Gray's test, if any.
    source, sha256
        Where the table came from and the SHA-256 of the file, if any.
    """

    values: pd.DataFrame
    levels: dict[str, tuple[str, ...]]
    model: tuple[str, ...]
    group_by: str | None = None
    source: str = "<covariates>"
    sha256: str | None = None

    def design(self, patient_ids: Sequence[str]) -> pd.DataFrame:
        """Numeric model matrix for ``patient_ids`` (two-level text coded 0/1)."""
        rows = self.values.loc[list(patient_ids)]
        out = {}
        for col in self.model:
            if col in self.levels:
                out[col] = (rows[col] == self.levels[col][-1]).astype(float).to_numpy()
            else:
                out[col] = rows[col].astype(float).to_numpy()
        return pd.DataFrame(out)

    def groups(self, patient_ids: Sequence[str]) -> list[str]:
        """Group label of each patient (the ``group_by`` value as text)."""
        if self.group_by is None:
            raise ValueError("no group_by column")
        return [_label(v) for v in self.values.loc[list(patient_ids), self.group_by]]

    def coding(self) -> dict[str, str]:
        """How each model term is coded, for the results file."""
        out = {}
        for col in self.model:
            if col in self.levels:
                ref, other = self.levels[col][0], self.levels[col][-1]
                out[col] = f"1 = {other}, 0 = {ref} (reference)"
            else:
                out[col] = "numeric, per unit"
        return out


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bad(problem: str, file: str, row: int, column: str, value: object, remedy: str) -> InputError:
    return InputError(
        problem, file=file, row=row, column=column, value=value, remedy=remedy, has_value=True
    )


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame.index = frame.index + 2
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.map(lambda v: None if v is None else (str(v).strip() or None))


def _check_ids(frame: pd.DataFrame, patients: Sequence[str], file: str) -> None:
    known = set(patients)
    first: dict[str, int] = {}
    for row, pid in frame["patient_id"].items():
        r = int(row)  # type: ignore[call-overload]
        if pid is None:
            raise _bad("patient_id is missing", file, r, "patient_id", "", "fill it in")
        if pid in first:
            raise _bad(
                f"duplicate patient_id (also in row {first[pid]})",
                file,
                r,
                "patient_id",
                pid,
                "give each patient one row of baseline covariates",
            )
        if pid not in known:
            raise _bad(
                "patient_id is not in the course table",
                file,
                r,
                "patient_id",
                pid,
                "use the identifiers of the course table (check spelling and case)",
            )
        first[pid] = r
    missing = [p for p in patients if p not in first]
    if missing:
        raise InputError(
            f"{len(missing)} patient(s) of the course table have no row, first {missing[0]!r}",
            file=file,
            column="patient_id",
            remedy="add a row for every patient of the course table",
        )


def _column(
    frame: pd.DataFrame, col: str, file: str, group_by: str | None
) -> tuple[pd.Series, tuple[str, ...] | None]:
    """Parse one covariate column: floats, or text with its levels."""
    cells = frame[col]
    for row, v in cells.items():
        if v is None:
            raise _bad(
                "value is missing",
                file,
                int(row),  # type: ignore[call-overload]
                col,
                "",
                "fill it in, or remove the column (the models need complete cases)",
            )
    nums = cells.map(_number)
    if nums.notna().sum() * 2 >= len(cells):
        for row, v, x in zip(cells.index, cells, nums, strict=True):
            if x is None or not math.isfinite(x):
                raise _bad(
                    "not a finite number in a numeric column",
                    file,
                    int(row),
                    col,
                    v,
                    "write a finite number (decimal point, no units)",
                )
        return nums.astype(float), None
    levels: list[str] = []
    for row, v in cells.items():
        if v not in levels:
            levels.append(v)
        if len(levels) > 2 and col != group_by:
            raise _bad(
                f"text column with more than two levels ({', '.join(levels)})",
                file,
                int(row),  # type: ignore[call-overload]
                col,
                v,
                _TEXT_REMEDY,
            )
    return cells.astype(str), tuple(sorted(levels))


def _choose(
    values: pd.DataFrame,
    levels: dict[str, tuple[str, ...]],
    file: str,
    group_by: str | None,
    model: Sequence[str] | None,
) -> tuple[str, ...]:
    columns = list(values.columns)
    named = [(group_by, "--group-by")] + [(m, "--competing-covariate") for m in model or []]
    for name, option in named:
        if name is not None and name not in columns:
            raise InputError(
                f"{option} names a column that the covariates table does not have",
                file=file,
                column=name,
                remedy=f"use one of {', '.join(columns)}",
            )
    if group_by is not None and values[group_by].nunique() > MAX_GROUPS:
        raise InputError(
            f"--group-by column has {values[group_by].nunique()} distinct values",
            file=file,
            column=group_by,
            remedy=f"group by a categorical column with at most {MAX_GROUPS} levels",
        )
    if model is None:
        return tuple(c for c in columns if len(levels.get(c, ())) <= 2)
    for name in model:
        if len(levels.get(name, ())) > 2:
            raise InputError(
                "--competing-covariate names a text column with more than two levels",
                file=file,
                column=name,
                remedy="use it as --group-by only, or code it as indicator columns",
            )
    return tuple(dict.fromkeys(model))


def covariates_from_frame(
    frame: pd.DataFrame,
    patients: Iterable[str],
    *,
    source: str = "<covariates>",
    group_by: str | None = None,
    model: Sequence[str] | None = None,
) -> CourseCovariates:
    """Validate a covariates table against the course patients.

    Parameters
    ----------
    frame
        Text cells (as :func:`ikaros.files.read_table` returns them); a fresh ``RangeIndex`` is
        renumbered from 2 (the header is row 1).
    patients
        Patient identifiers of the course table.
    source
        File name for messages.
    group_by
        Column defining groups for Gray's test (may have more than two text levels).
    model
        Columns to use as model terms; default: every numeric or two-level text column.

    Returns
    -------
    CourseCovariates

    Raises
    ------
    InputError
        On the first problem, naming file, row, column, value and remedy.
    """
    ids = list(patients)
    frame = _clean(frame)
    if "patient_id" not in frame.columns:
        raise InputError(
            "covariates table has no 'patient_id' column",
            file=source,
            row=1,
            column="patient_id",
            remedy="the covariates table has a patient_id column and one column per covariate",
        )
    if len(frame.columns) < 2:
        raise InputError(
            "covariates table has no covariate columns",
            file=source,
            row=1,
            remedy="add columns such as age or arm beside patient_id",
        )
    _check_ids(frame, ids, source)
    parsed: dict[str, pd.Series] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for col in frame.columns:
        if col == "patient_id":
            continue
        parsed[col], lev = _column(frame, col, source, group_by)
        if lev is not None:
            levels[col] = lev
    values = pd.DataFrame(parsed)
    values.index = pd.Index(frame["patient_id"].tolist(), name="patient_id")
    chosen = _choose(values, levels, source, group_by, model)
    return CourseCovariates(
        values=values, levels=levels, model=chosen, group_by=group_by, source=source
    )


def load_covariates(
    path: str | os.PathLike[str],
    patients: Iterable[str],
    *,
    group_by: str | None = None,
    model: Sequence[str] | None = None,
) -> CourseCovariates:
    """Read (CSV, TSV, XLSX, Parquet) and validate a covariates table; see
    :func:`covariates_from_frame`."""
    from dataclasses import replace

    frame = read_table(path, what="covariates")
    cov = covariates_from_frame(
        frame, patients, source=str(Path(path)), group_by=group_by, model=model
    )
    return replace(cov, sha256=sha256_file(path))
