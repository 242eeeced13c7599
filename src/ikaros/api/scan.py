"""``ikaros.scan``: the genome-wide prognostic scan from files or DataFrames."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["scan"]


def scan(
    expression: pd.DataFrame | str | os.PathLike[str],
    clinical: pd.DataFrame | str | os.PathLike[str],
    *,
    endpoint: str,
    covariates: Sequence[str] = (),
    sample_pattern: str | None = None,
    time_unit: str = "months",
    cutpoints: bool = True,
    minprop: float = 0.1,
    maxprop: float = 0.9,
) -> pd.DataFrame:
    """Cox, quartile and median log-rank tests and corrected cutpoints for every gene.

    Parameters
    ----------
    expression
        Genes x samples or samples x genes (labels in the index, or the first column of a
        file), as ``ikaros scan --expression`` reads it.
    clinical
        The cohort (DataFrame or file) with ``patient_id`` and ``E_time``/``E_event``.
    endpoint
        Endpoint name ``E``.
    covariates
        Adjust a second Cox model per gene for these columns.
    sample_pattern
        Regex mapping sample names to patient IDs (group 1).
    time_unit
        Unit of the clinical times: ``"days"``, ``"months"`` or ``"years"``.
    cutpoints, minprop, maxprop
        Also search maximally selected log-rank cutpoints (Lausen-Schumacher corrected p) with
        the low group between these shares of the patients.

    Returns
    -------
    pandas.DataFrame
        The per-gene table of ``scan.csv`` (columns ``cox_*``, ``adj_*``, ``q1_*``,
        ``median_*``, ``opt_*``, BH q-values; ``method`` and notes say what was fitted);
        ``attrs`` holds ``n``, ``events``, ``excluded`` and ``notes``.
    """
    import pandas as pd

    from ikaros.api.study import as_cells
    from ikaros.cohort import cohort_from_frame, load_cohort
    from ikaros.scan.matrix import align_matrix, load_matrix
    from ikaros.scan.run import ScanOptions, run_scan

    options = ScanOptions(
        endpoint=endpoint,
        covariates=tuple(covariates),
        cutpoints=cutpoints,
        minprop=minprop,
        maxprop=maxprop,
    )
    if isinstance(clinical, pd.DataFrame):
        cohort = cohort_from_frame(
            as_cells(clinical),
            source="<DataFrame>",
            endpoints=(endpoint,),
            covariates=options.covariates,
            time_unit=time_unit,
        )
    else:
        cohort = load_cohort(
            Path(clinical),
            endpoints=(endpoint,),
            covariates=options.covariates,
            time_unit=time_unit,
        )
    if isinstance(expression, pd.DataFrame):
        matrix_frame = expression.astype(float)
        matrix_frame.index = matrix_frame.index.map(str)
        matrix_frame.columns = [str(c) for c in matrix_frame.columns]
        source = "<DataFrame>"
    else:
        matrix_frame = load_matrix(expression)
        source = str(expression)
    matrix = align_matrix(
        matrix_frame, list(cohort.data["patient_id"]), source=source, sample_pattern=sample_pattern
    )
    result = run_scan(cohort, matrix, options)
    table = result.table.copy()
    table.attrs.update(
        {
            "n": result.n,
            "events": result.events,
            "excluded": result.excluded,
            "notes": list(result.notes),
        }
    )
    return table
