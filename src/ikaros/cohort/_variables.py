"""Clinical columns with a meaning (cytogenetics, ISS, response, age, sex) and grouping variables.

A grouping variable (``--group COL``) is any categorical or ordinal column. Its levels are:

- ``iss``: I, II, III (ordered); ``best_response``: the IMWG codes sCR ... PD (ordered, best
  first); ``cyto_high_risk``: standard, high (ordered);
- a column whose values are all numbers: the distinct numbers in increasing order (ordered: an
  R-ISS 1/2/3, a grade);
- any other column: the distinct text values in sorted order (not ordered: protocol, sex, a
  molecular group).

Levels of the known scales are listed even when no patient has them, so that an empty level is
reported rather than dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ikaros.cohort._cells import CYTO_COLUMNS, RESPONSE_CODES, binary, cell_error
from ikaros.errors import InputError

__all__ = ["CANONICAL_LABELS", "GroupVariable", "derive_cyto", "group_variable"]

ISS_CODES = {"1": 1, "2": 2, "3": 3, "I": 1, "II": 2, "III": 3}
ISS_LABELS = {1.0: "I", 2.0: "II", 3.0: "III"}
#: variables with a known, ordered scale
KNOWN_SCALES: dict[str, tuple[str, ...]] = {
    "iss": ("I", "II", "III"),
    "best_response": RESPONSE_CODES,
    "cyto_high_risk": ("standard", "high"),
}
#: display names of the canonical columns when no ``--label`` is given
CANONICAL_LABELS: dict[str, str] = {
    "iss": "ISS stage",
    "best_response": "best response",
    "cyto_high_risk": "high-risk cytogenetics",
    "age": "age",
    "sex": "sex",
}
#: most levels a grouping variable may have (a marker is not a grouping)
MAX_LEVELS = 12


@dataclass(frozen=True)
class GroupVariable:
    """The levels of a grouping variable and each patient's level.

    Attributes
    ----------
    name
        Column name (canonical).
    levels
        All levels in order (the first is the default reference).
    ordered
        Whether the levels have a natural order (a trend test is meaningful).
    values
        Level per patient (``None`` where missing), aligned with the cohort's rows.
    """

    name: str
    levels: tuple[str, ...]
    ordered: bool
    values: pd.Series


def derive_cyto(frame: pd.DataFrame, file: str) -> tuple[pd.Series | None, dict[str, pd.Series]]:
    """``cyto_high_risk`` as any of del17p, t(4;14), t(14;16); or given directly."""
    present = [c for c in CYTO_COLUMNS if c in frame.columns]
    parts = {
        c: binary(
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
        direct = binary(
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
            rows = clash[clash].index
            raise cell_error(
                f"cyto_high_risk disagrees with {', '.join(present)}",
                file,
                rows[0],
                "cyto_high_risk",
                frame.loc[rows[0], "cyto_high_risk"],
                "drop the cyto_high_risk column; ikaros derives it from the abnormalities",
                len(rows) - 1,
                rows,
            )
    return derived, parts


def _natural_levels(present: pd.Series) -> tuple[tuple[str, ...], bool]:
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        uniq = sorted(set(numbers.tolist()))
        by_number = {float(n): str(present[numbers == n].iloc[0]) for n in uniq}
        return tuple(by_number[float(n)] for n in uniq), True
    return tuple(sorted(set(present.astype(str)))), False


def group_variable(
    name: str, data: pd.DataFrame, frame: pd.DataFrame, file: str, source_column: str
) -> GroupVariable:
    """Build the grouping variable ``name`` from the validated ``data`` or the raw ``frame``."""
    if name == "iss" and "iss" in data:
        values = data["iss"].map(lambda v: None if pd.isna(v) else ISS_LABELS[float(v)])
        return GroupVariable(name, KNOWN_SCALES["iss"], True, values.astype(object))
    if name == "best_response" and "best_response" in data:
        return GroupVariable(name, RESPONSE_CODES, True, data["best_response"].astype(object))
    if name == "cyto_high_risk" and "cyto_high_risk" in data:
        values = data["cyto_high_risk"].map(
            lambda v: None if pd.isna(v) else ("high" if v == 1 else "standard")
        )
        return GroupVariable(name, KNOWN_SCALES["cyto_high_risk"], True, values.astype(object))
    if name == "sex" and "sex" in data:
        raw = data["sex"]
    elif name in frame.columns:
        raw = frame[name].map(lambda v: None if v is None else str(v).strip())
    else:
        from ikaros.files import near_match

        near = near_match(name, frame.columns)
        raise InputError(
            f"grouping column {name!r} not found" + (f"; the file has {near!r}" if near else ""),
            file=file,
            row=1,
            remedy=f"use --group {near!r}" if near else "check the spelling or map it with --map",
        )
    present = raw.dropna()
    if present.empty:
        raise InputError(
            f"grouping column {source_column!r} has no values",
            file=file,
            column=source_column,
            remedy="fill in the column, or group by another one",
        )
    levels, ordered = _natural_levels(present)
    if len(levels) == 1:
        raise InputError(
            f"grouping column {source_column!r} has a single value ({levels[0]!r}); there is "
            "nothing to compare",
            file=file,
            column=source_column,
            remedy="group by a column with at least two values",
        )
    if len(levels) > MAX_LEVELS:
        raise InputError(
            f"grouping column {source_column!r} has {len(levels)} distinct values (at most "
            f"{MAX_LEVELS} groups are compared)",
            file=file,
            column=source_column,
            remedy="a continuous variable is analysed with --marker (with --cut); group only by "
            "categories",
        )
    if ordered:  # numbers: one label per number ("2" and "2.0" are the same level)
        numbers = pd.to_numeric(raw, errors="coerce")
        labels = {float(pd.to_numeric(lv)): lv for lv in levels}
        raw = numbers.map(lambda v: None if pd.isna(v) else labels[float(v)])
    return GroupVariable(name, levels, ordered, raw.astype(object))
