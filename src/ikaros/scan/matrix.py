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

__all__ = ["AlignedMatrix", "align_matrix", "load_matrix"]


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


def load_matrix(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a numeric matrix with row labels in the first column (CSV, TSV or Parquet)."""
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise InputError("expression matrix not found", file=name, remedy="check the path")
    ext = p.suffix.lower()
    try:
        if ext in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(p, sep="," if ext == ".csv" else "\t", index_col=0)
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

    def hits(labels: pd.Index) -> int:
        return sum(_patient_of(str(s), pattern) in wanted for s in labels)

    col_hits, row_hits = hits(matrix.columns), hits(matrix.index)
    if col_hits == 0 and row_hits == 0:
        example = ", ".join(list(map(str, matrix.columns[:3])))
        raise InputError(
            "no sample of the expression matrix matches a cohort patient_id "
            f"(columns look like {example}; patients like {', '.join(list(patient_ids)[:3])})",
            file=source,
            remedy="use the same identifiers, or map sample names with --sample-pattern REGEX",
        )
    if col_hits >= row_hits:
        by_sample, orientation = matrix.T, "genes x samples"
    else:
        by_sample, orientation = matrix, "samples x genes"
    samples = sorted(map(str, by_sample.index))
    chosen: dict[str, str] = {}
    unmatched, duplicates = [], []
    for s in samples:
        pid = _patient_of(s, pattern)
        if pid is None or pid not in wanted:
            unmatched.append(s)
        elif pid in chosen:
            duplicates.append(s)
        else:
            chosen[pid] = s
    ordered = [pid for pid in patient_ids if pid in chosen]
    values = by_sample.loc[[chosen[p] for p in ordered]]
    missing = values.isna().any(axis=0)
    constant = values.nunique(axis=0) < 2
    keep = ~missing & ~constant
    return AlignedMatrix(
        values=np.ascontiguousarray(values.loc[:, keep].to_numpy(dtype=np.float64)),
        genes=tuple(map(str, values.columns[keep])),
        patient_ids=tuple(ordered),
        orientation=orientation,
        unmatched_samples=tuple(unmatched),
        patients_without_sample=tuple(p for p in patient_ids if p not in chosen),
        duplicate_samples=tuple(duplicates),
        genes_missing=tuple(map(str, values.columns[missing])),
        genes_constant=tuple(map(str, values.columns[constant & ~missing])),
        source=source,
    )
