"""Expression matrices for the genome-wide scan: loading, orientation, sample-to-patient matching.

A matrix is genes x samples or samples x genes (CSV, TSV or Parquet; the first column holds the
row labels). The orientation is detected by which axis carries the cohort's patient IDs. Sample
names that are not patient IDs (e.g. CoMMpass ``MMRF_1951_1_BM_CD138pos``) are mapped with a
regular expression whose first group is the patient ID. Every mismatch is counted and reported;
genes with missing values among the matched patients, or constant there, are set aside and
counted, never silently analysed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ikaros.errors import InputError

__all__ = [
    "AlignedMatrix",
    "SampleMatch",
    "align_matrix",
    "load_matrix",
    "match_samples",
    "orient_matrix",
    "usable_genes",
]


@dataclass(frozen=True)
class AlignedMatrix:
    """Expression of the analysable genes for the cohort patients that have a sample.

    Attributes
    ----------
    values
        (n_patients, n_genes) float64, rows in the order of ``patient_ids``.
    orientation
        ``"genes x samples"`` or ``"samples x genes"`` as found in the file.
    unmatched_samples
        Samples that match no cohort patient (or do not fit the sample pattern).
    patients_without_sample
        Cohort patients with no sample in the matrix.
    duplicate_samples
        Samples dropped because another sample of the same patient came first (sorted order).
    genes_missing, genes_constant
        Genes set aside: missing values among the matched patients, or no variation there.
    """

    values: NDArray[np.float64]
    genes: tuple[str, ...]
    patient_ids: tuple[str, ...]
    orientation: str
    unmatched_samples: tuple[str, ...]
    patients_without_sample: tuple[str, ...]
    duplicate_samples: tuple[str, ...]
    genes_missing: tuple[str, ...]
    genes_constant: tuple[str, ...]
    source: str

    def report(self) -> list[str]:
        """Plain-language lines describing what was matched and what was set aside."""

        def few(items: tuple[str, ...]) -> str:
            return ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")

        lines = [
            f"{self.source}: {self.orientation}; {len(self.patient_ids)} patients matched, "
            f"{len(self.genes)} genes analysed"
        ]
        if self.unmatched_samples:
            lines.append(
                f"{len(self.unmatched_samples)} samples match no cohort patient "
                f"({few(self.unmatched_samples)})"
            )
        if self.patients_without_sample:
            lines.append(
                f"{len(self.patients_without_sample)} cohort patients have no sample "
                f"({few(self.patients_without_sample)})"
            )
        if self.duplicate_samples:
            lines.append(
                f"{len(self.duplicate_samples)} further samples of already matched patients "
                f"were not used ({few(self.duplicate_samples)})"
            )
        if self.genes_missing:
            lines.append(
                f"{len(self.genes_missing)} genes with missing values set aside "
                f"({few(self.genes_missing)})"
            )
        if self.genes_constant:
            lines.append(
                f"{len(self.genes_constant)} genes without variation set aside "
                f"({few(self.genes_constant)})"
            )
        return lines


def _text_header(p: Path, sep: str, name: str) -> list[str]:
    """The header line, parsed strictly: pandas would silently rename a duplicate sample
    column ("DSMM-001" -> "DSMM-001.1") and analyse it as another sample."""
    import csv

    from ikaros._input_text import decode_text

    with open(p, "rb") as fh:
        head = fh.readline(1 << 26)
    text, _ = decode_text(head, what="expression matrix", name=name)
    fields = next(csv.reader([text.rstrip("\r\n")], delimiter=sep), [])
    labels = [f.strip() for f in fields]
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if i > 0 and label == "":
            raise InputError(
                f"column {i + 1} of the expression matrix has no name in the header",
                file=name,
                row=1,
                remedy="give every sample (or gene) column a name",
            )
        if label in seen and i > 0:
            raise InputError(
                f"duplicate column label in the expression matrix (columns {seen[label] + 1} "
                f"and {i + 1})",
                file=name,
                row=1,
                column=label,
                remedy="make every column label unique (one column per sample)",
            )
        seen[label] = i
    return labels


def load_matrix(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a numeric matrix with row labels in the first column (CSV, TSV or Parquet)."""
    from ikaros.files import check_input_file

    p = check_input_file(path, "expression matrix")
    name = str(path)
    ext = p.suffix.lower()
    try:
        if ext in (".csv", ".tsv", ".txt"):
            sep = "," if ext == ".csv" else "\t"
            header = _text_header(p, sep, name)
            frame = pd.read_csv(p, sep=sep, index_col=0, encoding="utf-8-sig")
            frame.columns = pd.Index(header[1:], dtype=object)
        elif ext == ".parquet":
            frame = pd.read_parquet(p)
            labels_in_first_column = frame.shape[1] > 0 and frame.iloc[:, 0].dtype == object
            if isinstance(frame.index, pd.RangeIndex) and labels_in_first_column:
                frame = frame.set_index(frame.columns[0])
        else:
            raise InputError(
                f"unsupported matrix format {ext or '(no extension)'!r}",
                file=name,
                remedy="use .csv, .tsv or .parquet",
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"expression matrix cannot be read: {type(exc).__name__}: {exc}",
            file=name,
            remedy="export it as CSV/TSV with row labels in the first column, or as Parquet",
        ) from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(
            "expression matrix is empty", file=name, remedy="supply rows and columns of values"
        )
    frame.index = frame.index.map(lambda v: str(v).strip())
    frame.columns = [str(c).strip() for c in frame.columns]
    for axis_name, labels in (("row", frame.index), ("column", frame.columns)):
        dup = pd.Index(labels).duplicated()
        if dup.any():
            raise InputError(
                f"duplicate {axis_name} label in the expression matrix",
                file=name,
                value=str(pd.Index(labels)[dup][0]),
                remedy=f"make every {axis_name} label unique",
            )
    bad_cols = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad_cols:
        col = bad_cols[0]
        numeric = pd.to_numeric(frame[col], errors="coerce")
        bad = numeric.isna() & frame[col].notna()
        row = bad[bad].index[0]
        line = int(np.flatnonzero(frame.index == row)[0]) + 2
        raise InputError(
            f"expression value is not a number (row label {row!r})",
            file=name,
            row=line,
            column=str(col),
            value=frame.loc[row, col],
            remedy="enter numbers only (decimal point); leave missing values empty",
        )
    return frame.astype(np.float64)


def _patient_of(sample: str, pattern: re.Pattern[str] | None) -> str | None:
    if pattern is None:
        return sample
    m = pattern.search(sample)
    if not m:
        return None
    return m.group(1) if m.groups() else m.group(0)


@dataclass(frozen=True)
class SampleMatch:
    """Which axis of a matrix holds the samples, and which sample each patient gets.

    ``samples_on_columns``: the column labels are the samples (``"genes x samples"``);
    ``chosen``: patient ID -> sample label, in cohort order; ``unmatched``/``duplicates``:
    samples that match no patient, or a patient already matched (sorted order decides).
    """

    samples_on_columns: bool
    chosen: dict[str, str]
    unmatched: tuple[str, ...]
    duplicates: tuple[str, ...]

    @property
    def orientation(self) -> str:
        return "genes x samples" if self.samples_on_columns else "samples x genes"

    def report(self) -> list[str]:
        def few(items: tuple[str, ...]) -> str:
            return ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")

        report = [f"{len(self.chosen)} patients matched"]
        if self.unmatched:
            report.append(
                f"{len(self.unmatched)} samples match no cohort patient ({few(self.unmatched)})"
            )
        if self.duplicates:
            report.append(
                f"{len(self.duplicates)} further samples of already matched patients were not "
                f"used ({few(self.duplicates)})"
            )
        return report


def match_samples(
    row_labels: list[str],
    column_labels: list[str],
    patient_ids: list[str] | tuple[str, ...],
    *,
    source: str = "expression matrix",
    sample_pattern: str | None = None,
) -> SampleMatch:
    """Find the axis carrying the cohort's patients and match its samples (labels only).

    Shared by :func:`orient_matrix` (on a DataFrame) and :func:`ikaros.scan._read.read_aligned`
    (on the labels of a table that is never turned into a DataFrame).
    """
    pattern = None
    if sample_pattern:
        try:
            pattern = re.compile(sample_pattern)
        except re.error as exc:
            raise InputError(
                f"--sample-pattern is not a valid regular expression: {exc}",
                value=sample_pattern,
                remedy="e.g. '^(MMRF_[0-9]+)_1_BM' (group 1 = patient ID)",
            ) from None
    wanted = set(patient_ids)

    def hits(labels: list[str]) -> int:
        return sum(_patient_of(s, pattern) in wanted for s in labels)

    col_hits, row_hits = hits(column_labels), hits(row_labels)
    if col_hits == 0 and row_hits == 0:
        example = ", ".join(column_labels[:3])
        raise InputError(
            "no sample of the expression matrix matches a cohort patient_id "
            f"(columns look like {example}; patients like {', '.join(list(patient_ids)[:3])})",
            file=source,
            remedy="use the same identifiers, or map sample names with --sample-pattern REGEX",
        )
    on_columns = col_hits >= row_hits
    found: dict[str, str] = {}
    unmatched, duplicates = [], []
    for s in sorted(column_labels if on_columns else row_labels):
        pid = _patient_of(s, pattern)
        if pid is None or pid not in wanted:
            unmatched.append(s)
        elif pid in found:
            duplicates.append(s)
        else:
            found[pid] = s
    chosen = {pid: found[pid] for pid in patient_ids if pid in found}
    return SampleMatch(on_columns, chosen, tuple(unmatched), tuple(duplicates))


def orient_matrix(
    matrix: pd.DataFrame,
    patient_ids: list[str] | tuple[str, ...],
    *,
    source: str = "expression matrix",
    sample_pattern: str | None = None,
) -> tuple[pd.DataFrame, dict[str, str], str, list[str]]:
    """Orient the matrix (samples as rows) and match its samples to the cohort's patients.

    Returns
    -------
    by_sample, chosen, orientation, report
        The samples x genes frame; patient ID -> sample name, in cohort order; the orientation
        found in the file; and plain-language lines on what was matched.
    """
    match = match_samples(
        [str(s) for s in matrix.index],
        [str(s) for s in matrix.columns],
        patient_ids,
        source=source,
        sample_pattern=sample_pattern,
    )
    by_sample = matrix.T if match.samples_on_columns else matrix
    by_sample.attrs["unmatched"] = match.unmatched
    by_sample.attrs["duplicates"] = match.duplicates
    return by_sample, match.chosen, match.orientation, match.report()


def usable_genes(
    arr: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per column: missing values among the rows, and (otherwise) no variation."""
    missing = np.isnan(arr).any(axis=0)
    if len(arr):
        spread = np.fmax.reduce(arr, axis=0) - np.fmin.reduce(arr, axis=0)
    else:
        spread = np.zeros(arr.shape[1])
    constant = ~(spread > 0) & ~missing
    return np.asarray(missing, dtype=bool), np.asarray(constant, dtype=bool)


def align_matrix(
    matrix: pd.DataFrame,
    patient_ids: list[str] | tuple[str, ...],
    *,
    source: str = "expression matrix",
    sample_pattern: str | None = None,
) -> AlignedMatrix:
    """Orient the matrix and match its samples to the cohort's patients.

    Parameters
    ----------
    matrix
        From :func:`load_matrix`.
    patient_ids
        The cohort's patient IDs, in cohort order.
    sample_pattern
        Regular expression applied to sample names; its first group (or the whole match) is
        the patient ID. Samples not matching it are unmatched. Default: sample name = patient ID.
    """
    by_sample, chosen, orientation, _ = orient_matrix(
        matrix, patient_ids, source=source, sample_pattern=sample_pattern
    )
    ordered = list(chosen)
    values = by_sample.loc[[chosen[p] for p in ordered]]
    arr = values.to_numpy(dtype=np.float64)
    miss, const = usable_genes(arr)
    missing = pd.Series(miss, index=values.columns)
    constant = pd.Series(const, index=values.columns)
    keep = ~missing & ~constant
    return AlignedMatrix(
        values=np.ascontiguousarray(values.loc[:, keep].to_numpy(dtype=np.float64)),
        genes=tuple(map(str, values.columns[keep])),
        patient_ids=tuple(ordered),
        orientation=orientation,
        unmatched_samples=by_sample.attrs["unmatched"],
        patients_without_sample=tuple(p for p in patient_ids if p not in chosen),
        duplicate_samples=by_sample.attrs["duplicates"],
        genes_missing=tuple(map(str, values.columns[missing])),
        genes_constant=tuple(map(str, values.columns[constant])),
        source=source,
    )
