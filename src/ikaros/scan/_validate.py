"""Input checks and shared settings of the scan engines (:mod:`ikaros.scan.engine`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError

__all__ = [
    "WORK_BYTES",
    "check_finite",
    "covariate_matrix",
    "expression_matrix",
    "survival_data",
    "workers",
]

#: Working-memory budget of a scan (shared by its threads), bytes. Blocks of genes are sized to
#: it, and never above the size of the input matrix.
WORK_BYTES: Final = 32 * 2**20


def survival_data(
    time: ArrayLike, event: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validated follow-up times (float) and event indicators (bool)."""
    try:
        t = np.asarray(time, dtype=np.float64)
        e = np.asarray(event, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"scan: time and event must be numeric ({exc})") from exc
    if t.ndim != 1 or e.shape != t.shape:
        raise AnalysisError(
            f"scan: time and event must be 1-D of equal length, got {t.shape} and {e.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e))):
        raise AnalysisError("scan: time and event must not be missing or infinite")
    if np.any(t < 0):
        raise AnalysisError("scan: time must be non-negative")
    if not np.all((e == 0) | (e == 1)):
        raise AnalysisError("scan: event must be 0 (censored) or 1 (event)")
    if not np.any(e == 1):
        raise AnalysisError("scan: there are no events, so no survival model can be fitted")
    return t, e == 1


def expression_matrix(
    X: ArrayLike | pd.DataFrame, genes: Sequence[str] | None, n: int
) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """The expression matrix as float64 (no copy for a float64 array) and the gene names."""
    names: list[str] | None = None
    try:
        if isinstance(X, pd.DataFrame):
            names = [str(c) for c in X.columns]
            arr = X.to_numpy(dtype=np.float64)
        else:
            arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"scan: the expression matrix must be numeric ({exc})") from exc
    if arr.ndim != 2:
        raise AnalysisError(f"scan: X must be 2-D (patients x genes), got shape {arr.shape}")
    if arr.shape[0] != n:
        raise AnalysisError(f"scan: X has {arr.shape[0]} rows (patients) but time has {n} values")
    if genes is not None:
        names = [str(g) for g in genes]
    if names is None:
        names = [f"gene{j + 1}" for j in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise AnalysisError(f"scan: {len(names)} gene names given for {arr.shape[1]} columns")
    return arr, tuple(names)


def check_finite(X: NDArray[np.float64], genes: tuple[str, ...], step: int) -> None:
    """Raise naming the genes with missing or infinite values (checked in column blocks)."""
    bad: list[str] = []
    for s in range(0, X.shape[1], step):
        ok = np.isfinite(X[:, s : s + step]).all(axis=0)
        bad.extend(genes[s + j] for j in np.flatnonzero(~ok))
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise AnalysisError(
            f"scan: missing or infinite expression values in {len(bad)} gene(s): {shown}. "
            "Remove the patients or genes concerned (or impute) before the scan: a scan "
            "needs the same patients in every gene's model"
        )


def covariate_matrix(
    covariates: ArrayLike | pd.DataFrame | None, names: Sequence[str], n: int
) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """Validated ``(n, k)`` adjustment covariates (complete, numeric, not constant) and names."""
    if covariates is None:
        if names:
            raise AnalysisError("scan: covariate_names given without covariates")
        return np.zeros((n, 0)), ()
    cov_names: list[str] | None = None
    try:
        if isinstance(covariates, pd.DataFrame):
            cov_names = [str(c) for c in covariates.columns]
            C = covariates.to_numpy(dtype=np.float64)
        else:
            C = np.asarray(covariates, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"scan: covariates must be numeric ({exc})") from exc
    if C.ndim == 1:
        C = C[:, None]
    if C.ndim != 2 or C.shape[0] != n:
        raise AnalysisError(f"scan: covariates must be ({n}, k), got shape {C.shape}")
    if names:
        cov_names = [str(c) for c in names]
    if cov_names is None:
        cov_names = [f"covariate{j + 1}" for j in range(C.shape[1])]
    if len(cov_names) != C.shape[1]:
        raise AnalysisError(
            f"scan: {len(cov_names)} covariate names given for {C.shape[1]} covariates"
        )
    if len(set(cov_names)) != len(cov_names):
        raise AnalysisError(f"scan: covariate names are not unique: {cov_names}")
    bad = [cov_names[j] for j in np.flatnonzero(~np.isfinite(C).all(axis=0))]
    if bad:
        raise AnalysisError(
            f"scan: covariate(s) {bad} have missing or infinite values; use complete cases"
        )
    const = [cov_names[j] for j in range(C.shape[1]) if np.ptp(C[:, j]) == 0]
    if const:
        raise AnalysisError(f"scan: covariate(s) {const} are constant; drop them")
    return C, tuple(cov_names)


def workers(threads: int | None) -> int:
    """Threads for a scan: as requested, else 2 (or 1 on a single core)."""
    if threads is None:
        return max(1, min(2, os.cpu_count() or 1))
    if int(threads) < 1:
        raise AnalysisError(f"scan: threads must be positive, got {threads}")
    return int(threads)
