"""``ikaros.analyze``: the study analysis from a DataFrame (or a file), as the CLI runs it.

The same validation (:func:`ikaros.cohort.cohort_from_frame` / :func:`~ikaros.cohort.load_cohort`)
and the same plan (:func:`ikaros.study.run_study`) as ``ikaros analyze``: a DataFrame gives the
numbers the command gives on the same table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ikaros.results import Results

__all__ = ["analyze", "as_cells"]


def _cell(value: object) -> str | None:
    import numbers

    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return str(int(bool(value)))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


def as_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A DataFrame as the text cells a file would hold (numbers in shortest round-trip form,
    missing as None), so that validation treats it exactly like ``ikaros analyze`` a file."""
    import pandas as pd

    if frame.index.name is not None:  # e.g. patient_id as the index
        frame = frame.reset_index()
    elif not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None).map(_cell)


def analyze(
    data: pd.DataFrame | str | os.PathLike[str],
    *,
    endpoints: Sequence[str],
    markers: Sequence[str] = (),
    groups: Sequence[str] = (),
    covariates: Sequence[str] = (),
    cut: str = "quartile",
    transform: str = "none",
    landmark: float = 36.0,
    time_unit: str = "months",
    mapping: Mapping[str, str] | None = None,
    time_from: Mapping[str, Sequence[str]] | None = None,
    event_from: Mapping[str, tuple[str, Sequence[str]]] | None = None,
    competing: Sequence[str] = (),
    causes: Mapping[str, Mapping[int, str]] | None = None,
    references: Mapping[str, str] | None = None,
    na_values: Iterable[str] = (),
    drop_invalid: bool = False,
    expression: str | os.PathLike[str] | None = None,
    firth: str = "auto",
    conf_level: float = 0.95,
    seed: int | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Results:
    """Run the study analysis of ``ikaros analyze`` on a table.

    Parameters
    ----------
    data
        The cohort: a DataFrame with one row per patient (columns as in the files ikaros reads:
        ``patient_id``, ``E_time``/``E_event`` per endpoint, markers, ...), or the path of a
        CSV, TSV, XLSX or Parquet file.
    endpoints
        Endpoint names ``E``.
    markers
        Continuous marker columns, grouped by ``cut``.
    groups
        Clinical variables whose levels are compared (ISS, response, protocol, ...).
    covariates
        Covariates of the multivariable Cox models.
    cut
        ``"quartile"`` (Q1 vs Q2-4), ``"median"``, ``"tertile"``, ``"upper-quartile"``,
        ``"optimal"`` or thresholds such as ``"3.5,5.5"``.
    transform
        Marker scale in Cox models: ``"none"`` or ``"log2"``.
    landmark
        Landmark time in months.
    time_unit
        Unit of the time columns: ``"days"``, ``"months"`` or ``"years"``.
    mapping
        Canonical name -> column, e.g. ``{"patient_id": "PatientID"}``.
    time_from, event_from
        Derived endpoints: ``{"os": ["days_to_death", "days_to_last_follow_up"]}`` and
        ``{"os": ("vital_status", ["Dead"])}``.
    competing, causes
        Competing-risk endpoints (event codes 0/1/2...) and names of their causes,
        ``{"ttp": {1: "progression", 2: "death"}}``.
    references
        Reference level per grouping variable.
    na_values
        Extra cell values read as missing (e.g. ``["Unknown"]``).
    drop_invalid
        Exclude rows with invalid values (listed in ``results.input.dropped``).
    expression
        A second file with the marker values (patient table or expression matrix).
    firth, conf_level, seed, title, labels
        As the command's ``--firth``, confidence level, ``--seed``, ``--title``, ``--label``.
    progress
        Called with a short description before each analysis.

    Returns
    -------
    Results
        The object ``ikaros analyze`` writes to ``results.json``; see
        :meth:`~ikaros.results.Results.to_frame`.

    Examples
    --------
    >>> import ikaros
    >>> frame = ikaros.demo_cohort()
    >>> r = ikaros.analyze(frame, markers=["IKZF1"], endpoints=["pfs"])
    >>> r.to_frame().query("model == 'groups'")[["term", "hr", "p"]]  # doctest: +SKIP
    """
    import pandas as pd

    from ikaros.cohort import cohort_from_frame, load_cohort
    from ikaros.cohort._endpoints import EndpointSpec
    from ikaros.study import StudyOptions, run_study

    options = StudyOptions(
        markers=tuple(markers),
        endpoints=tuple(endpoints),
        covariates=tuple(covariates),
        transform=transform,
        landmark=landmark,
        conf_level=conf_level,
        firth=firth,
        seed=seed,
        cut=cut,
        groups=tuple(groups),
        references=dict(references or {}),
        title=title,
        labels=dict(labels or {}),
    )
    time_from = dict(time_from or {})
    event_from = dict(event_from or {})
    causes = dict(causes or {})
    specs = []
    for e in options.endpoints:
        col, values = event_from.get(e, (None, ()))
        is_competing = e in competing
        named = dict(causes.get(e, {}))
        if is_competing and col is not None and not named:
            named = {i + 1: str(v) for i, v in enumerate(values)}
        specs.append(
            EndpointSpec(
                e,
                time_from=tuple(time_from.get(e, ())),
                event_from=col,
                event_values=tuple(str(v) for v in values),
                competing=is_competing,
                causes=named,
            )
        )
    common: dict[str, Any] = {
        "markers": options.markers,
        "endpoints": options.endpoints,
        "covariates": options.covariates,
        "time_unit": time_unit,
        "endpoint_specs": specs,
        "groups": options.groups,
        "na_values": tuple(na_values),
        "drop_invalid": drop_invalid,
    }
    if isinstance(data, pd.DataFrame):
        if expression is not None:
            from ikaros.errors import InputError

            raise InputError(
                "expression= is read with the cohort file",
                remedy="join the marker columns to the DataFrame, or pass a file path as data",
            )
        cohort = cohort_from_frame(as_cells(data), source="<DataFrame>", mapping=mapping, **common)
    else:
        cohort = load_cohort(Path(data), mapping=mapping, expression=expression, **common)
    return run_study(cohort, options, progress=progress, command=None)
