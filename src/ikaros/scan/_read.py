"""Reading an expression matrix straight into the aligned patients x genes array.

:func:`ikaros.scan.matrix.load_matrix` builds a pandas DataFrame of the whole matrix, which
:func:`~ikaros.scan.matrix.align_matrix` then transposes, reorders and copies: for 20,000 genes x
1,000 samples that was seconds and several copies of a 160 MB matrix. Here only the labels
become Python objects, and the values of the matched samples are written once into the final
``(patients, genes)`` array, in cohort order:

- Parquet: the label column is read first; then the samples' (or genes') columns in chunks.
- CSV/TSV: pyarrow's multithreaded reader parses the whole file (:mod:`ikaros.scan._prefetch`,
  which ``ikaros scan`` starts in the background before it loads the cohort); with the samples
  in the header (genes x samples, the usual layout) each chosen sample's column is then copied
  into its patient's row and released, a few dozen at a time; a samples x genes file is copied
  gene by gene.

Peak memory is the array plus a chunk of columns (Parquet, ~1.5x the matrix in all) or plus
the parsed table (CSV, ~2x: Arrow's allocator keeps most of the table's memory until the copy
ends, whether it is released column by column or batch by batch; 1.8-2.0x above the
interpreter's own memory for 20,000 genes x 1,000 samples).

Anything unusual (a value that is not a number, ragged rows, an undecodable label, a non-numeric
Parquet column, patient IDs on both axes) falls back to the DataFrame path, so every bad input
gets exactly the message :func:`~ikaros.scan.matrix.load_matrix` gives it: the fast path never
decides what is an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ikaros.errors import InputError
from ikaros.scan._prefetch import CsvPrefetch, parse_csv, separator
from ikaros.scan.matrix import (
    AlignedMatrix,
    SampleMatch,
    _text_header,
    align_matrix,
    load_matrix,
    match_samples,
    usable_genes,
)

__all__ = ["read_aligned"]

#: CSV columns (samples) copied before their Arrow buffers are released.
_RELEASE_EVERY = 50
#: Parquet columns read at a time.
_COLUMNS = 64


class _Fallback(Exception):
    """The fast path does not handle this file: use the DataFrame path."""


def _numbers(column: Any) -> NDArray[np.float64]:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _check_unique(labels: list[str], axis_name: str, name: str) -> None:
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise InputError(
                f"duplicate {axis_name} label in the expression matrix",
                file=name,
                value=label,
                remedy=f"make every {axis_name} label unique",
            )
        seen.add(label)


def _labels(column: Any) -> list[str]:
    if column.null_count:
        raise _Fallback  # a row without a label: let pandas name it
    return [str(v).strip() for v in column.to_pylist()]


def _parse(p: Path, sep: str, header: list[str], prefetch: CsvPrefetch | None) -> Any:
    """The whole file as an Arrow table: the prefetched one if it is of this file, else parsed."""
    import pyarrow as pa

    table = None if prefetch is None else prefetch.take(p, sep, len(header))
    if table is not None:
        return table
    try:
        return parse_csv(p, len(header), sep)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        raise _Fallback from None


def _csv_by_columns(
    p: Path, sep: str, header: list[str], match: SampleMatch, prefetch: CsvPrefetch | None
) -> tuple[NDArray[np.float64], list[str]]:
    """Read a genes x samples file into ``(patients, genes)``.

    Arrow's multi-threaded reader parses the whole file; then each chosen sample (a column) is
    copied into its patient's row and the copied columns are released, a few dozen at a time.
    The rows of the result take memory only when written, so the peak stays near one copy of
    the matrix (the streaming reader held ~140 MiB of read-ahead on 20,000 genes x 1,000
    samples and was slower; benchmarks/bench_scan.py).
    """
    import pyarrow as pa

    table = _parse(p, sep, header, prefetch)
    rows = _labels(table.column(0))
    where = {label: k + 1 for k, label in enumerate(header[1:])}
    table = table.select([where[s] for s in match.chosen.values()])  # cohort order
    values = np.empty((table.num_columns, table.num_rows))
    pool = pa.default_memory_pool()
    done = 0
    while table.num_columns:
        step = min(_RELEASE_EVERY, table.num_columns)
        for j in range(step):
            values[done + j] = _numbers(table.column(j))
        table = table.drop_columns(table.column_names[:step])
        pool.release_unused()  # back to the system, not to Arrow's allocator cache
        done += step
    return values, rows


def _read_csv(
    p: Path,
    sep: str,
    name: str,
    patient_ids: list[str] | tuple[str, ...],
    src: str,
    pattern: str | None,
    prefetch: CsvPrefetch | None,
) -> tuple[NDArray[np.float64], list[str], SampleMatch]:
    header = _text_header(p, sep, name)
    if len(header) < 2:
        raise _Fallback
    columns = header[1:]
    try:
        by_header = match_samples([], columns, patient_ids, source=src, sample_pattern=pattern)
    except InputError:
        by_header = None  # no patient in the header: samples x genes (or no match at all)
    if by_header is not None:
        values, rows = _csv_by_columns(p, sep, header, by_header, prefetch)
        _check_unique(rows, "row", name)
        match = match_samples(rows, columns, patient_ids, source=src, sample_pattern=pattern)
        if not match.samples_on_columns:  # more patients among the rows: re-read as such
            raise _Fallback
        return values, rows, match
    table = _parse(p, sep, header, prefetch)
    rows = _labels(table.column(0))
    _check_unique(rows, "row", name)
    match = match_samples(rows, columns, patient_ids, source=src, sample_pattern=pattern)
    where = {label: k for k, label in enumerate(rows)}
    take = np.array([where[s] for s in match.chosen.values()], dtype=np.intp)
    values = np.empty((take.size, len(columns)))
    for j in range(len(columns)):
        values[:, j] = _numbers(table.column(j + 1))[take]
    return values, columns, match


def _read_parquet(
    p: Path, name: str, patient_ids: list[str] | tuple[str, ...], src: str, pattern: str | None
) -> tuple[NDArray[np.float64], list[str], SampleMatch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError):
        raise _Fallback from None
    meta = schema.pandas_metadata or {}
    index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    names = list(schema.names)
    if len(index) > 1 or len(names) < 2:
        raise _Fallback
    label = index[0] if index else names[0]
    data = [c for c in names if c != label]
    if not pa.types.is_string(schema.field(label).type):
        raise _Fallback  # labels are row numbers or not text: leave it to pandas
    for c in data:
        t = schema.field(c).type
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t)):
            raise _Fallback
    rows = _labels(pf.read(columns=[label]).column(0))
    columns = [str(c).strip() for c in data]
    _check_unique(rows, "row", name)
    _check_unique(columns, "column", name)
    match = match_samples(rows, columns, patient_ids, source=src, sample_pattern=pattern)
    if match.samples_on_columns:
        where = {c: data[k] for k, c in enumerate(columns)}
        wanted = [where[s] for s in match.chosen.values()]
        values = np.empty((len(wanted), len(rows)))
        for s in range(0, len(wanted), _COLUMNS):
            chunk = pf.read(columns=wanted[s : s + _COLUMNS])
            for i in range(chunk.num_columns):
                values[s + i] = _numbers(chunk.column(i))
        return values, rows, match
    at = {label_: k for k, label_ in enumerate(rows)}
    take = np.array([at[s] for s in match.chosen.values()], dtype=np.intp)
    values = np.empty((take.size, len(data)))
    for s in range(0, len(data), _COLUMNS):
        chunk = pf.read(columns=data[s : s + _COLUMNS])
        for j in range(chunk.num_columns):
            values[:, s + j] = _numbers(chunk.column(j))[take]
    return values, columns, match


def read_aligned(
    path: str | os.PathLike[str],
    patient_ids: list[str] | tuple[str, ...],
    *,
    source: str | None = None,
    sample_pattern: str | None = None,
    prefetch: CsvPrefetch | None = None,
) -> AlignedMatrix:
    """``align_matrix(load_matrix(path), ...)`` without a DataFrame of the whole matrix.

    Parameters
    ----------
    path
        CSV, TSV or Parquet matrix, row labels in the first column (Parquet: or the index).
    patient_ids
        The cohort's patient IDs, in cohort order.
    source
        Name of the matrix in messages (default: ``path``).
    sample_pattern
        As :func:`ikaros.scan.matrix.align_matrix`.
    prefetch
        The file being parsed in the background (:func:`ikaros.scan._prefetch.start_prefetch`),
        used if it is of this file; released in any case.

    Returns
    -------
    AlignedMatrix
        The same object :func:`~ikaros.scan.matrix.align_matrix` returns for the file.
    """
    from ikaros.files import check_input_file

    p = check_input_file(path, "expression matrix")
    name = str(path)
    src = name if source is None else source
    sep = separator(p)
    try:
        if sep is not None:
            values, genes, match = _read_csv(
                p, sep, name, patient_ids, src, sample_pattern, prefetch
            )
        elif p.suffix.lower() == ".parquet":
            values, genes, match = _read_parquet(p, name, patient_ids, src, sample_pattern)
        else:
            raise _Fallback
    except _Fallback:
        if prefetch is not None:  # before the DataFrame path, not after it (finally)
            prefetch.release()
        return align_matrix(
            load_matrix(path), patient_ids, source=src, sample_pattern=sample_pattern
        )
    finally:
        if prefetch is not None:
            prefetch.release()
    # the reader's buffers are free now; hand them back to the system, not to pyarrow's
    # allocator cache, so that the scan's own blocks do not come on top of them
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    missing, constant = usable_genes(values)
    keep = ~missing & ~constant
    if not keep.all():
        values = np.ascontiguousarray(values[:, keep])
    labels = np.array(genes, dtype=object)
    return AlignedMatrix(
        values=values,
        genes=tuple(labels[keep]),
        patient_ids=tuple(match.chosen),
        orientation=match.orientation,
        unmatched_samples=match.unmatched,
        patients_without_sample=tuple(p for p in patient_ids if p not in match.chosen),
        duplicate_samples=match.duplicates,
        genes_missing=tuple(labels[missing]),
        genes_constant=tuple(labels[constant]),
        source=src,
    )
