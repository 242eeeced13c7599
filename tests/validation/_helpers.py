"""Shared helpers of the validation tests: tolerances and the real cohorts as make_golden.R."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.validation.multicohort import CohortData
from tests.conftest import REFERENCE, golden

HERE = REFERENCE / "validation"
#: project tolerances: hazard ratios / estimates 1e-4 relative, p-values 1e-3 relative
REL = 1e-4
REL_P = 1e-3


def gold() -> dict:
    return golden("validation")


def close(got: float | None, want: float | None, rel: float = REL, abs_: float = 1e-12) -> None:
    """Relative closeness; ``None`` (R's NA) must stay missing/NaN."""
    if want is None:
        assert got is None or not np.isfinite(got), got
        return
    assert got is not None
    assert got == pytest.approx(want, rel=rel, abs=abs_), (got, want)


def sim_multicohort() -> pd.DataFrame:
    return pd.read_csv(HERE / "sim_multicohort.csv")


def sim_two_arm() -> pd.DataFrame:
    return pd.read_csv(HERE / "sim_two_arm.csv")


def cohort(
    name: str,
    frame: pd.DataFrame,
    time: str,
    event: str,
    marker: np.ndarray,
    treatment: str | None = None,
) -> CohortData:
    return CohortData(
        name=name,
        time=frame[time].to_numpy(dtype=float),
        event=frame[event].to_numpy(dtype=int),
        marker=np.asarray(marker, dtype=float),
        treatment=None if treatment is None else frame[treatment].astype(str).to_numpy(),
    )


def real_cohorts(gse: pd.DataFrame, commpass: pd.DataFrame) -> Mapping[str, pd.DataFrame]:
    """GSE24080 by protocol and CoMMpass (OS in months, ISS, age in years), as the R script."""
    cp = commpass.assign(age=commpass["age_at_diagnosis"] / 365.25)
    return {
        "GSE24080_TT2": gse[gse["protocol"] == "TT2"].reset_index(drop=True),
        "GSE24080_TT3": gse[gse["protocol"] == "TT3"].reset_index(drop=True),
        "CoMMpass": cp.reset_index(drop=True),
    }


def path(name: str) -> Path:
    return HERE / name
