"""Checks that a report's tables/*.csv are machine-readable (issue 13).

Every column is either a declared text column (names, labels, levels, notes) or numeric when
re-read with pandas; hazard ratios, their limits and p-values are float columns; no cell holds
formatted text such as ``<0.001``, ``45%``, ``1.23 (0.98-1.54)`` or ``563 / 175``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from pandas.api.types import is_float_dtype, is_numeric_dtype

#: Columns that hold text by design.
TEXT_COLUMNS = frozenset(
    {
        "base_terms",
        "characteristic",
        "coding",
        "competing_causes",
        "contrast",
        "cut_kind",
        "detail",
        "effect",
        "endpoint",
        "evaluation",
        "event",
        "firth_reason",
        "full_terms",
        "group",
        "grouping",
        "level",
        "marker",
        "method",
        "model",
        "model_label",
        "note",
        "origin",
        "reference",
        "role",
        "scale",
        "step",
        "term",
        "term_label",
        "terms",
        "variable",
        "within",
    }
)
NUMBERED_TEXT = re.compile(r"(group|level)_\d+")
#: hazard ratios, confidence limits and p-values: must be float columns
HR_CI_P = re.compile(r"(^|.*_)(hr|lower|upper|p)(_.*|$)")
FORMATTED = re.compile(
    r"^[<>]\s*0?\.\d"  # <0.001
    r"|\d\s*%$"  # 45%
    r"|^-?\d+(\.\d+)?(e-?\d+)?\s+\(\s*-?\d"  # 1.23 (0.98-1.54)
    r"|^\d+\s*/\s*\d+$"  # 563 / 175
)


def read_tables(directory: Path) -> dict[str, pd.DataFrame]:
    """Every tables/*.csv of a report directory, checked, by file stem."""
    out: dict[str, pd.DataFrame] = {}
    paths = sorted((directory / "tables").glob("*.csv"))
    assert paths, f"no tables in {directory}"
    for path in paths:
        df = pd.read_csv(path)
        for col in df.columns:
            text = col in TEXT_COLUMNS or NUMBERED_TEXT.fullmatch(col)
            if not text:
                assert is_numeric_dtype(df[col]), (path.name, col, df[col].head(3).tolist())
            if HR_CI_P.fullmatch(col):
                assert is_float_dtype(df[col]), (path.name, col, df[col].dtype)
            if df[col].dtype == object:
                for value in df[col].dropna():
                    assert not FORMATTED.search(str(value)), (path.name, col, value)
        out[path.stem] = df
    return out
