"""Uploaded cohort files: validation with every problem listed row by row, and the overview.

Validation is :func:`ikaros.cohort.cohort_from_frame`, the same as on the command line. It stops at
the first problem; to list them all, the offending row is set aside and validation repeated,
up to :data:`MAX_ERRORS` problems. Problems that are not about one row (a missing column, an
unreadable file) end the list.

Uploads are read within :func:`upload_limits` (unpacked workbook size, rows, columns), checked
while reading, so that a small file that unpacks to a huge table (an "xlsx bomb") is refused in
seconds with bounded memory: the reader counts the rows of the sheet it is about to read by a
byte scan before any cell is parsed (:mod:`ikaros._input_xlsx`), also when a crafted file leaves
out the sheet's declared size.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ikaros.cohort import Cohort, cohort_from_frame
from ikaros.errors import InputError
from ikaros.files import ReadLimits, read_table
from ikaros.stats.km import median_followup
from ikaros.web.mapping import CohortSpec, Variables, classify
from ikaros.web.settings import DEFAULT_MAX_UPLOAD_MB

__all__ = [
    "MAX_ERRORS",
    "MAX_UPLOAD_COLUMNS",
    "MAX_UPLOAD_ROWS",
    "ExpressionRef",
    "Problem",
    "Validated",
    "expression_markers",
    "expression_ref",
    "file_columns",
    "load_stored",
    "overview",
    "relabel",
    "upload_limits",
    "validate_file",
]

MAX_ERRORS = 200
#: a cohort has one row per patient: far more rows than any trial or registry cohort
MAX_UPLOAD_ROWS = 100_000
#: clinical columns plus marker (e.g. expression) columns
MAX_UPLOAD_COLUMNS = 20_000
#: unpacked size allowed for a workbook, at least; more with a larger upload limit
_MIN_UNPACKED = 64 * 1024 * 1024


def upload_limits(max_upload_bytes: int) -> ReadLimits:
    """Bounds for reading an uploaded cohort (tighter than the command line's).

    A workbook may unpack to twice the upload limit (at least 64 MB), hold at most
    :data:`MAX_UPLOAD_ROWS` rows and :data:`MAX_UPLOAD_COLUMNS` columns; CSV, TSV and Parquet
    files the same rows and columns.
    """
    return ReadLimits(
        max_unpacked_bytes=max(_MIN_UNPACKED, 2 * max_upload_bytes),
        max_rows=MAX_UPLOAD_ROWS,
        max_columns=MAX_UPLOAD_COLUMNS,
    )


@dataclass(frozen=True)
class Problem:
    """One validation problem, as shown on the upload page."""

    row: int | None
    column: str | None
    value: str | None
    problem: str
    remedy: str | None
    message: str

    @classmethod
    def from_error(cls, exc: InputError) -> Problem:
        value = None if exc.value is None else str(exc.value)
        return cls(exc.row, exc.column, value, exc.problem, exc.remedy, exc.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "problem": self.problem,
            "remedy": self.remedy,
            "message": self.message,
        }


def _relabel(exc: InputError, name: str) -> InputError:
    """The same error, naming the uploaded file instead of its storage path."""
    return InputError(
        exc.problem,
        file=name,
        row=exc.row,
        column=exc.column,
        value=exc.value,
        remedy=exc.remedy,
        has_value=exc.value is not None,
    )


def _read(
    path: Path, name: str, limits: ReadLimits | None = None, na_values: tuple[str, ...] = ()
) -> pd.DataFrame:
    try:
        return read_table(path, what="cohort", limits=limits, na_values=na_values)
    except InputError as exc:
        raise _relabel(exc, name) from None


@dataclass(frozen=True)
class ExpressionRef:
    """An expression file joined to a cohort: stored paths, shown names and options."""

    path: Path
    name: str
    sample_pattern: str | None = None
    genes_path: Path | None = None
    genes_name: str | None = None


def expression_ref(files: Any, expression: Mapping[str, Any] | None) -> ExpressionRef | None:
    """The stored expression file of a cohort (its ``expression`` record), if any.

    ``files`` is the :class:`ikaros.web.storage.FileStore` holding it.
    """
    if not expression:
        return None
    genes = expression.get("genes") or None
    return ExpressionRef(
        path=files.path(expression["sha256"], expression["format"]),
        name=str(expression["name"]),
        sample_pattern=expression.get("sample_pattern") or None,
        genes_path=None if genes is None else files.path(genes["sha256"], genes["format"]),
        genes_name=None if genes is None else str(genes["name"]),
    )


@dataclass(frozen=True)
class Validated:
    """A valid upload: the cohort (every marker and grouping variable checked) and its columns."""

    cohort: Cohort
    variables: Variables

    def variables_json(self) -> dict[str, Any]:
        levels = {n: (g.levels, g.ordered) for n, g in self.cohort.groups.items()}
        return self.variables.to_json(levels)


def relabel(exc: InputError, names: Mapping[str, str]) -> InputError:
    """The error with every storage path replaced by the uploaded file's name."""

    def clean(text: str | None) -> str | None:
        if text is None:
            return None
        for path, name in names.items():
            text = text.replace(path, name)
        return text

    out = InputError(
        clean(exc.problem) or exc.problem,
        file=names.get(exc.file or "", clean(exc.file)),
        row=exc.row,
        column=exc.column,
        value=exc.value,
        remedy=clean(exc.remedy),
        has_value=exc.value is not None,
    )
    out.rows = exc.rows
    return out


def validate_file(
    path: Path,
    name: str,
    spec: CohortSpec | None = None,
    limits: ReadLimits | None = None,
) -> tuple[Validated | None, list[Problem]]:
    """Validate a stored upload read with ``spec`` (within ``limits``): the cohort or the problems.

    Every numeric column with more than two values is validated as a marker and every
    categorical column as a grouping variable (:func:`ikaros.web.mapping.classify`).
    ``limits`` default to :func:`upload_limits` of the default upload size.
    """
    spec = spec or CohortSpec()
    if limits is None:
        limits = upload_limits(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    try:
        frame = _read(path, name, limits, spec.na_values)
    except InputError as exc:
        return None, [Problem.from_error(exc)]
    variables = classify(frame, spec)
    problems: list[Problem] = []
    work = frame
    while True:
        try:
            cohort = cohort_from_frame(
                work,
                source=name,
                markers=variables.markers,
                mapping=spec.mapping,
                time_unit=spec.time_unit,
                endpoint_specs=spec.endpoint_specs(),
                groups=variables.groups,
                na_values=spec.na_values,
            )
        except InputError as exc:
            problems.append(Problem.from_error(exc))
            if exc.row is None or exc.row not in work.index or len(problems) >= MAX_ERRORS:
                return None, problems
            work = work.drop(index=exc.row)
            continue
        if problems:
            return None, problems
        if not variables.markers and not variables.groups:
            return None, [
                Problem(
                    None,
                    None,
                    None,
                    "no marker column and no grouping variable found",
                    "add a numeric column of marker values (e.g. IKZF1) or a categorical "
                    "column (e.g. iss), or upload an expression file beside the cohort",
                    f"{name}: no marker column and no grouping variable found",
                )
            ]
        return Validated(cohort, variables), []


def file_columns(
    path: Path, name: str, limits: ReadLimits | None = None, most: int = 12
) -> tuple[list[str], dict[str, list[str]]]:
    """The header of a stored upload, and the values of every column with at most ``most``
    distinct values (event and status codes, for the mapping form); empty when unreadable."""
    try:
        frame = _read(path, name, limits)
    except InputError:
        return [], {}
    values = {}
    for col in frame.columns:
        cells = frame[col].dropna().astype(str).str.strip()
        uniq = sorted(set(cells) - {""})
        if 1 <= len(uniq) <= most:
            values[str(col)] = uniq
    return [str(c) for c in frame.columns], values


def expression_markers(
    ref: ExpressionRef, patient_ids: list[str], genes: Mapping[str, str]
) -> list[str]:
    """The markers an expression file offers: its columns (patient table) or gene symbols.

    The layout is found as ``ikaros analyze --expression`` finds it (the axis carrying the
    cohort's patient IDs, ``sample_pattern`` mapping sample names to patients).
    """
    from ikaros.scan.matrix import load_matrix, orient_matrix

    names = {str(ref.path): ref.name}
    try:
        matrix = load_matrix(ref.path)
        by_sample, *_ = orient_matrix(
            matrix, patient_ids, source=ref.name, sample_pattern=ref.sample_pattern
        )
    except InputError as exc:
        raise relabel(exc, names) from None
    return list(dict.fromkeys(genes.get(str(g), str(g)) for g in by_sample.columns))


@functools.lru_cache(maxsize=32)
def load_stored(
    path: Path,
    name: str,
    spec: CohortSpec,
    markers: tuple[str, ...],
    groups: tuple[str, ...] = (),
    covariates: tuple[str, ...] = (),
    expression: ExpressionRef | None = None,
) -> Cohort:
    """A stored cohort read as ``ikaros analyze`` reads it (cached; stored files never change).

    :func:`ikaros.cohort.load_cohort` with the stored mapping, the markers, grouping variables and
    covariates; the cohort is named by the uploaded file names (never the storage paths), and
    records the SHA-256 of the stored bytes, so results.json identifies its inputs as the command
    line does.
    """
    from ikaros.cohort import load_cohort, read_gene_map

    names = {str(path): name}
    if expression is not None:
        names[str(expression.path)] = expression.name
        if expression.genes_path is not None:
            names[str(expression.genes_path)] = expression.genes_name or "genes"
    try:
        genes = (
            read_gene_map(expression.genes_path)
            if expression is not None and expression.genes_path is not None
            else None
        )
        cohort = load_cohort(
            path,
            markers=markers,
            covariates=covariates,
            mapping=spec.mapping,
            time_unit=spec.time_unit,
            expression=None if expression is None else expression.path,
            endpoint_specs=spec.endpoint_specs(),
            groups=groups,
            na_values=spec.na_values,
            sample_pattern=None if expression is None else expression.sample_pattern,
            genes=genes,
        )
    except InputError as exc:
        raise relabel(exc, names) from None

    def clean(text: str) -> str:
        for stored, shown in names.items():
            text = text.replace(stored, shown)
        return text

    return replace(
        cohort,
        source=name,
        expression_source=None if expression is None else expression.name,
        notes=tuple(clean(n) for n in cohort.notes),
        endpoint_sources={k: clean(v) for k, v in cohort.endpoint_sources.items()},
    )


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def overview(cohort: Cohort) -> dict[str, Any]:
    """n, events and follow-up per endpoint, marker distributions, the levels of every grouping
    variable and missingness per column."""
    data = cohort.data
    endpoints = []
    for e in cohort.endpoints:
        sub = data.dropna(subset=[f"{e}_time", f"{e}_event"])
        codes = sub[f"{e}_event"].to_numpy(dtype=float)
        competing = e in cohort.competing
        censored = (codes == 0).astype(float)
        # follow-up (reverse Kaplan-Meier): censoring is the "event"; any event ends follow-up
        fu = median_followup(sub[f"{e}_time"], 1.0 - censored) if len(sub) else None
        endpoints.append(
            {
                "name": e,
                "evaluable": len(sub),
                "events": int(np.sum(codes == 1)),
                "competing_events": int(np.sum(codes >= 2)) if competing else None,
                "competing": competing,
                "not_evaluable": int(cohort.not_evaluable.get(e, 0)),
                "source": cohort.endpoint_sources.get(e, ""),
                "median_followup": None if fu is None else fu.estimate,
            }
        )
    markers = []
    for m in cohort.markers:
        x = data[m].to_numpy(dtype=float)
        ok = x[np.isfinite(x)]
        q = np.quantile(ok, [0, 0.25, 0.5, 0.75, 1]) if ok.size else [np.nan] * 5
        markers.append(
            {
                "name": m,
                "n": int(ok.size),
                "missing": int(x.size - ok.size),
                "min": _num(q[0]),
                "q1": _num(q[1]),
                "median": _num(q[2]),
                "q3": _num(q[3]),
                "max": _num(q[4]),
            }
        )
    groups = []
    for name, var in cohort.groups.items():
        counts = var.values.value_counts()
        groups.append(
            {
                "name": name,
                "ordered": var.ordered,
                "levels": [{"level": lv, "n": int(counts.get(lv, 0))} for lv in var.levels],
                "missing": int(var.values.isna().sum()),
            }
        )
    missing = []
    for col in data.columns:
        n_missing = int(data[col].isna().sum())
        missing.append(
            {"column": str(col), "missing": n_missing, "fraction": n_missing / len(data)}
        )
    return {
        "n": cohort.n,
        "endpoints": endpoints,
        "markers": markers,
        "groups": groups,
        "missingness": missing,
        "cytogenetics": cohort.has_cytogenetics,
        "notes": list(cohort.notes),
    }
