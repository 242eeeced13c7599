"""Clinical cohort tables: loading, validation in one place, and the :class:`Cohort` object.

Canonical columns
-----------------
``patient_id``
    Unique patient identifier (required).
``E_time``, ``E_event``
    For every endpoint ``E`` (``pfs``, ``os``, any name): follow-up time and 0/1 event
    indicator (a competing-risk endpoint: cause codes 0, 1, 2, ...). Times are converted to
    months from ``time_unit``. Both may instead be derived from registry columns
    (:class:`EndpointSpec`). A patient with both missing is not evaluable for ``E`` and is
    excluded from its analyses (and counted); one of the two missing is an error.
markers
    Numeric columns named by the user (gene symbols); missing values exclude the patient from
    that marker's analyses (complete case, counted).
``del17p``, ``t_4_14``, ``t_14_16``
    Optional 0/1 cytogenetic abnormalities. ``cyto_high_risk`` is derived as any of them (missing
    only when all three are missing); a file may instead give ``cyto_high_risk`` directly.
``iss``
    Optional ISS stage, 1-3 or I-III.
``best_response``
    Optional IMWG response code: sCR, CR, VGPR, PR, MR, SD, PD.
``age``, ``sex``
    Optional; summarised in the cohort characteristics (age in years, 0-120).
covariates
    Any other column named with ``--covariate``: numeric, or text with exactly two values.
grouping variables
    Any categorical column named with ``--group`` (see :mod:`ikaros.cohort._variables`).

Every problem raises :class:`ikaros.errors.InputError` naming the file, row, column, value and
remedy. Row numbers count the header as row 1, as a spreadsheet shows them. With
``drop_invalid`` the rows with an invalid value are excluded instead, each with its reason, and
listed in :attr:`Cohort.dropped`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ikaros.cohort._cells import (
    CYTO_COLUMNS,
    RESPONSE_CODES,
    TIME_UNITS,
    apply_mapping,
    cell_error,
    check_ids,
    covariate,
    numeric,
    parse_codes,
)
from ikaros.cohort._endpoints import EndpointSpec, endpoint_names, read_endpoint
from ikaros.cohort._expression import attach_expression, read_gene_map
from ikaros.cohort._variables import (
    ISS_CODES,
    KNOWN_SCALES,
    MAX_LEVELS,
    GroupVariable,
    derive_cyto,
    group_variable,
)
from ikaros.errors import InputError
from ikaros.files import (
    MISSING_TOKENS,
    ReadLimits,
    near_match,
    normalise_cells,
    read_table,
    sha256_file,
)
from ikaros.results.model import DroppedRow

__all__ = [
    "CYTO_COLUMNS",
    "KNOWN_SCALES",
    "MAX_LEVELS",
    "RESPONSE_CODES",
    "TIME_UNITS",
    "Cohort",
    "DroppedRow",
    "EndpointSpec",
    "GroupVariable",
    "cohort_from_frame",
    "load_cohort",
    "read_gene_map",
]

_RESERVED = {"patient_id", "iss", "best_response", "cyto_high_risk", "sex", *CYTO_COLUMNS}
#: at most this share of the rows may be dropped as invalid (more means a systematic problem)
MAX_DROPPED_SHARE = 0.5


@dataclass(frozen=True)
class Cohort:
    """A validated cohort.

    Attributes
    ----------
    data
        One row per patient; ``patient_id`` (str), ``E_time`` (float, months), ``E_event``
        (float 0/1 or cause codes, NaN), markers and covariates (float), ``cyto_high_risk``
        (float 0/1/NaN), ``iss`` (float 1-3/NaN), ``best_response`` (str/None). The index holds
        the source row numbers.
    source
        Where the data came from (file path or a description).
    sha256
        SHA-256 of the source file, if there was one.
    endpoints, markers, covariates
        Names of the validated endpoints, marker columns and extra covariates.
    time_unit
        Unit of the times in the source; ``data`` holds months.
    groups
        Grouping variables (``--group``) by name.
    competing
        Competing-risk endpoints and the names of their cause codes.
    dropped
        Rows excluded as invalid (``drop_invalid``), with their reasons.
    """

    data: pd.DataFrame
    source: str
    endpoints: tuple[str, ...]
    markers: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    sha256: str | None = None
    time_unit: str = "months"
    column_map: Mapping[str, str] = field(default_factory=dict)
    expression_source: str | None = None
    expression_sha256: str | None = None
    notes: tuple[str, ...] = ()
    sheet: str | None = None
    groups: Mapping[str, GroupVariable] = field(default_factory=dict)
    competing: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    dropped: tuple[DroppedRow, ...] = ()
    not_evaluable: Mapping[str, int] = field(default_factory=dict)
    endpoint_sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def has_cytogenetics(self) -> bool:
        return "cyto_high_risk" in self.data and bool(self.data["cyto_high_risk"].notna().any())

    def source_column(self, canonical: str) -> str:
        """The column name as it appears in the source file."""
        return self.column_map.get(canonical, canonical)

    def covariate_source(self, name: str) -> str:
        """The column of :attr:`data` holding covariate ``name`` as numbers (a text column such
        as ``sex`` is coded as the indicator of its second level)."""
        coded = f"{name}{NUMERIC_SUFFIX}"
        return coded if coded in self.data.columns else name

    def complete(self, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
        """Rows with no missing value in ``columns``, and the number excluded."""
        sub = self.data.dropna(subset=list(columns))
        return sub, self.n - len(sub)


def _specs(
    frame: pd.DataFrame, endpoints: Sequence[str] | None, specs: Iterable[EndpointSpec], file: str
) -> list[EndpointSpec]:
    given = {s.name: s for s in specs}
    available = endpoint_names(frame.columns)
    wanted = list(endpoints) if endpoints is not None else [*available]
    wanted += [n for n in given if n not in wanted]
    if not wanted:
        raise InputError(
            "no endpoint columns found",
            file=file,
            row=1,
            remedy="add E_time and E_event columns for each endpoint E (e.g. pfs_time, pfs_event)"
            ", or derive them with --time-from/--event-from",
        )
    out = []
    for name in wanted:
        spec = given.get(name, EndpointSpec(name))
        derived = bool(spec.time_from) or spec.event_from is not None
        if (
            not derived
            and f"{name}_time" not in frame.columns
            and f"{name}_event" not in frame.columns
        ):
            near = near_match(f"{name}_time", frame.columns)
            raise InputError(
                f"endpoint {name!r} not found" + (f"; the file has {near!r}" if near else ""),
                file=file,
                row=1,
                remedy=(f"the file has endpoints {available}" if available else "add its columns")
                + f"; expected columns {name}_time and {name}_event, or derive them with "
                f"--time-from {name}=COLUMNS --event-from {name}=COLUMN:VALUE",
            )
        out.append(spec)
    return out


def _validate(
    frame: pd.DataFrame,
    *,
    file: str,
    markers: Sequence[str],
    specs: Sequence[EndpointSpec],
    covariates: Sequence[str],
    groups: Sequence[str],
    scale: float,
    column_map: Mapping[str, str],
) -> tuple[pd.DataFrame, dict[str, GroupVariable], list[str], dict[str, int]]:
    notes: list[str] = []
    ids = check_ids(frame, file)
    data = pd.DataFrame({"patient_id": ids}, index=frame.index)
    not_evaluable: dict[str, int] = {}
    for spec in specs:
        time, event, excluded = read_endpoint(frame, spec, file, scale, notes)
        data[spec.time_column], data[spec.event_column] = time, event
        not_evaluable[spec.name] = len(excluded)
    for marker in markers:
        if list(markers).count(marker) > 1:
            raise InputError(
                f"marker {marker!r} is named more than once",
                file=file,
                remedy="name each marker once",
            )
        if marker not in frame.columns:
            near = near_match(marker, frame.columns)
            raise InputError(
                f"marker column {marker!r} not found"
                + (f"; the file has {near!r}" if near else ""),
                file=file,
                row=1,
                remedy=f"use --marker {near!r}"
                if near
                else "check the spelling (case matters) or map it with --map",
            )
        if marker in _RESERVED or marker in data.columns:
            raise InputError(
                f"{marker!r} is a reserved column and cannot be a marker",
                file=file,
                remedy=f"compare its groups with --group {marker}"
                if marker in _RESERVED and marker != "patient_id"
                else "name a marker column",
            )
        data[marker] = numeric(
            frame[marker],
            file=file,
            column=marker,
            what="marker value",
            remedy="enter expression as a number (decimal point, no units); leave empty if missing",
        )
    cyto, parts = derive_cyto(frame, file)
    if cyto is not None:
        data["cyto_high_risk"] = cyto
    for name, values in parts.items():
        data[name] = values
    if "iss" in frame.columns:
        data["iss"] = parse_codes(
            frame, "iss", ISS_CODES, file, "use ISS stage 1, 2, 3 (or I, II, III)"
        ).astype(float)
    if "best_response" in frame.columns:
        data["best_response"] = parse_codes(
            frame,
            "best_response",
            {c: c for c in RESPONSE_CODES},
            file,
            f"use an IMWG response code: {', '.join(RESPONSE_CODES)}",
        )
    if "age" in frame.columns:
        age = numeric(
            frame["age"], file=file, column="age", what="age", remedy="enter age in years"
        )
        implausible = age.notna() & ((age < 0) | (age > 120))
        if implausible.any():
            rows = implausible[implausible].index
            raise cell_error(
                "age is outside 0-120 years",
                file,
                rows[0],
                "age",
                frame.loc[rows[0], "age"],
                "enter age in years at diagnosis",
                len(rows) - 1,
                rows,
            )
        data["age"] = age
    if "sex" in frame.columns:
        sexes = frame["sex"]
        data["sex"] = sexes.map({v: str(v).strip().lower() for v in sexes.dropna().unique()})
        data["sex"] = data["sex"].where(sexes.notna(), None)
    for cov in covariates:
        if cov in data.columns:
            if not pd.api.types.is_numeric_dtype(data[cov]):
                data[f"{cov}{NUMERIC_SUFFIX}"] = _text_indicator(data[cov], cov, file, notes)
            continue
        if cov not in frame.columns:
            near = near_match(cov, frame.columns)
            raise InputError(
                f"covariate column {cov!r} not found"
                + (f"; the file has {near!r}" if near else ""),
                file=file,
                row=1,
                remedy="check the spelling or map it with --map",
            )
        data[cov] = covariate(frame, cov, file)
        present = frame[cov].dropna()
        if len(present) and pd.to_numeric(present, errors="coerce").isna().any():
            levels = sorted(present.astype(str).unique())
            notes.append(f"covariate {cov} coded 1 = {levels[1]}, 0 = {levels[0]}")
    variables = {
        g: group_variable(g, data, frame, file, column_map.get(g, g)) for g in dict.fromkeys(groups)
    }
    return data, variables, notes, not_evaluable


#: suffix of the numeric coding of a text column that is also a covariate (e.g. ``sex``)
NUMERIC_SUFFIX = " (coded)"


def _text_indicator(values: pd.Series, name: str, file: str, notes: list[str]) -> pd.Series:
    """A two-level text column as the indicator of its second level (sorted)."""
    levels = sorted(values.dropna().astype(str).unique())
    if len(levels) != 2:
        raise InputError(
            f"covariate {name!r} has {len(levels)} levels ({', '.join(levels[:6])}); a covariate "
            "must be numeric or have two levels",
            file=file,
            column=name,
            remedy=f"compare its levels with --group {name}",
        )
    notes.append(f"covariate {name} coded 1 = {levels[1]}, 0 = {levels[0]}")
    return values.map(lambda v: np.nan if v is None or v != v else float(str(v) == levels[1]))


def cohort_from_frame(
    frame: pd.DataFrame,
    *,
    source: str = "<data frame>",
    markers: Sequence[str] = (),
    endpoints: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "months",
    sha256: str | None = None,
    endpoint_specs: Sequence[EndpointSpec] = (),
    groups: Sequence[str] = (),
    na_values: Iterable[str] = (),
    drop_invalid: bool = False,
) -> Cohort:
    """Validate a table of text (or numeric) cells and build a :class:`Cohort`.

    Parameters are as for :func:`load_cohort`; ``frame``'s index is taken as the row numbers
    used in messages (a fresh RangeIndex is renumbered from 2, as a spreadsheet shows rows).
    """
    if time_unit not in TIME_UNITS:
        raise InputError(
            f"unknown time unit {time_unit!r}",
            remedy=f"use one of {', '.join(TIME_UNITS)}",
        )
    file = source
    frame = frame.copy()
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame.index = frame.index + 2
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = MISSING_TOKENS | frozenset(str(v).strip() for v in na_values)
    done = frame.attrs.get("missing_tokens")
    if not (isinstance(done, frozenset) and missing <= done):  # read_table normalised already
        frame = normalise_cells(frame.astype(object).where(frame.notna(), None), missing)
    mapping = dict(mapping or {})
    if mapping:
        frame = apply_mapping(frame, mapping, file)
    specs = _specs(frame, endpoints, endpoint_specs, file)
    scale = TIME_UNITS[time_unit]
    dropped: list[DroppedRow] = []
    limit = max(1, int(MAX_DROPPED_SHARE * len(frame)))
    while True:
        try:
            data, variables, notes, not_evaluable = _validate(
                frame,
                file=file,
                markers=markers,
                specs=specs,
                covariates=covariates,
                groups=groups,
                scale=scale,
                column_map=mapping,
            )
            break
        except InputError as raw:
            exc = _in_source_terms(raw, mapping)
            rows = [r for r in exc.rows if r in frame.index]
            if not drop_invalid or not rows:
                raise exc from None
            value = None if exc.value is None else str(exc.value)
            canonical = raw.column
            for r in rows:
                cell = (
                    frame.loc[r, canonical]
                    if canonical is not None and canonical in frame.columns
                    else value
                )
                dropped.append(
                    DroppedRow(r, exc.column, None if cell is None else str(cell), exc.problem)
                )
            if len(dropped) > limit:
                raise InputError(
                    f"more than half of the rows are invalid ({len(dropped)} of {len(frame) + 0})"
                    f"; the last problem: {exc.message}",
                    file=file,
                    remedy="fix the column named above; --drop-invalid is for a few bad rows",
                ) from None
            frame = frame.drop(index=rows)
            if frame.empty:
                raise exc from None
    competing = {
        s.name: dict(s.causes) or _default_causes(data[s.event_column])
        for s in specs
        if s.competing
    }
    sources = {
        s.name: (f"time = first of {', '.join(s.time_from)}" if s.time_from else f"{s.name}_time")
        + (
            f"; event = {s.event_from} in {', '.join(map(repr, s.event_values))}"
            if s.event_from
            else f"; event = {s.name}_event"
        )
        for s in specs
    }
    if dropped:
        notes.append(f"{len(dropped)} row(s) with invalid values excluded (--drop-invalid)")
    return Cohort(
        data=data,
        source=source,
        endpoints=tuple(s.name for s in specs),
        markers=tuple(markers),
        covariates=tuple(covariates),
        sha256=sha256,
        time_unit=time_unit,
        column_map=mapping,
        notes=tuple(notes),
        groups=variables,
        competing=competing,
        dropped=tuple(dropped),
        not_evaluable=not_evaluable,
        endpoint_sources=sources,
    )


def _in_source_terms(exc: InputError, mapping: Mapping[str, str]) -> InputError:
    """The error naming the column as the file spells it (``--map iss=iss_stage``: 'iss_stage')."""
    if exc.column is None or exc.column not in mapping:
        return exc
    renamed = InputError(
        exc.problem,
        file=exc.file,
        row=exc.row,
        column=mapping[exc.column],
        value=exc.value,
        remedy=exc.remedy,
        has_value=exc.value is not None,
    )
    renamed.rows = exc.rows
    return renamed


def _default_causes(codes: pd.Series) -> dict[int, str]:
    present = sorted(int(c) for c in codes.dropna().unique() if c > 0)
    return {c: ("event of interest" if c == 1 else f"competing cause {c}") for c in present}


def load_cohort(
    path: str | os.PathLike[str],
    *,
    markers: Sequence[str] = (),
    endpoints: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    mapping: Mapping[str, str] | None = None,
    time_unit: str = "months",
    expression: str | os.PathLike[str] | None = None,
    sheet: str | None = None,
    limits: ReadLimits | None = None,
    endpoint_specs: Sequence[EndpointSpec] = (),
    groups: Sequence[str] = (),
    na_values: Iterable[str] = (),
    drop_invalid: bool = False,
    sample_pattern: str | None = None,
    genes: Mapping[str, str] | None = None,
) -> Cohort:
    """Read and validate a clinical table (CSV, TSV, XLSX or Parquet).

    Parameters
    ----------
    path
        The file; it is only read.
    markers
        Marker columns to validate as numeric.
    endpoints
        Endpoint names to validate (default: every ``E`` with an ``E_time`` column).
    covariates
        Extra covariate columns.
    mapping
        Canonical name -> column name in the file, e.g. ``{"patient_id": "ID"}``.
    time_unit
        Unit of the time columns: ``days``, ``months`` or ``years``.
    expression
        Optional file with the marker values: a patient table (``patient_id`` + marker columns,
        e.g. the ``expression.csv`` of ``ikaros qpcr``) or an expression matrix in either
        orientation (see :mod:`ikaros.cohort._expression`). Unmatched identifiers are counted in
        :attr:`Cohort.notes`.
    sheet
        Excel workbooks: the sheet to read (default: the active sheet).
    limits
        Bounds on the size of the table (:class:`ikaros.files.ReadLimits`).
    endpoint_specs
        Endpoints derived from other columns, or competing-risk endpoints.
    groups
        Grouping variables to validate.
    na_values
        Cell contents read as missing, beyond the usual (NA, empty, ...), e.g. ``Unknown``.
    drop_invalid
        Exclude rows with an invalid value (each counted with its reason) instead of stopping.
    sample_pattern, genes
        For an expression matrix: sample name -> patient regex, gene id -> symbol map.

    Returns
    -------
    Cohort

    Raises
    ------
    InputError
        On the first problem found, naming file, row, column, value and remedy.
    """
    frame = read_table(path, what="cohort", sheet=sheet, limits=limits, na_values=na_values)
    info = frame.attrs.get("sheet")
    sheet_notes = [info.note()] if info is not None and info.note() else []
    mapping = dict(mapping or {})
    expr_notes: list[str] = []
    if expression is not None:
        frame = apply_mapping(frame, mapping, str(path)) if mapping else frame
        frame, expr_notes = attach_expression(
            frame, expression, markers, sample_pattern=sample_pattern, genes=genes
        )
    cohort = cohort_from_frame(
        frame,
        source=str(Path(path)),
        markers=markers,
        endpoints=endpoints,
        covariates=covariates,
        mapping=None if expression is not None else mapping,
        time_unit=time_unit,
        sha256=sha256_file(path),
        endpoint_specs=endpoint_specs,
        groups=groups,
        na_values=na_values,
        drop_invalid=drop_invalid,
    )
    return replace(
        cohort,
        column_map=mapping,
        expression_source=None if expression is None else str(Path(expression)),
        expression_sha256=None if expression is None else sha256_file(expression),
        notes=(*sheet_notes, *expr_notes, *cohort.notes),
        sheet=None if info is None else info.name,
    )
