"""Parsing a CSV/TSV expression matrix with Arrow, and doing it while the command starts.

``ikaros scan`` first imports pandas and loads the clinical table (about 0.6 s on one core),
and only then reads the matrix, because the cohort decides which samples are kept and in which
order. Arrow's CSV parser does not need the cohort and runs outside the interpreter lock on its
own threads, so :func:`start_prefetch` parses the file in a background thread from the start
of the command; :func:`ikaros.scan._read.read_aligned` then takes the parsed table instead of
parsing again. 20,000 genes x 1,000 patients: the parse (0.5-0.8 s) overlaps the imports
(benchmarks/bench_scan.py). Parquet is not prefetched: it is read in chunks of columns chosen
by the cohort, which keeps its peak memory near one copy of the matrix.

The prefetch never decides anything: on any failure (an undecodable header, a value Arrow
cannot parse, a file that changed) it gives nothing and the reader parses the file itself, so
every message is the one the direct path gives. This module imports neither pandas nor
numpy, so starting the prefetch costs only pyarrow's import.
"""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["CsvPrefetch", "csv_options", "parse_csv", "separator", "start_prefetch"]

#: Cells read as missing: pandas' default NA strings, so the Arrow and pandas paths agree.
NA_VALUES = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]
#: Bytes of CSV per block of Arrow's reader.
_BLOCK = 1 << 22
#: Longest header line read (bytes).
_HEADER_BYTES = 1 << 26


def separator(path: Path) -> str | None:
    """The field separator of a text matrix by its extension; None for other files."""
    ext = path.suffix.lower()
    if ext == ".csv":
        return ","
    if ext in (".tsv", ".txt"):
        return "\t"
    return None


def csv_options(n_columns: int, sep: str) -> tuple[Any, Any, Any]:
    """Arrow read, parse and convert options: label column as text, the rest as float64."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(n_columns)]
    types = {c: pa.float64() for c in names[1:]}
    types[names[0]] = pa.string()
    return (
        pacsv.ReadOptions(skip_rows=1, column_names=names, use_threads=True, block_size=_BLOCK),
        pacsv.ParseOptions(delimiter=sep),
        pacsv.ConvertOptions(column_types=types, null_values=NA_VALUES, strings_can_be_null=True),
    )


def parse_csv(path: Path, n_columns: int, sep: str) -> Any:
    """The whole file as an Arrow table (Arrow's multithreaded reader); Arrow's errors raised."""
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path, *csv_options(n_columns, sep))


class CsvPrefetch:
    """A CSV matrix being parsed in a background thread.

    Parameters
    ----------
    path, sep, n_columns
        The file, its separator and the number of fields of its header line.
    """

    def __init__(self, path: Path, sep: str, n_columns: int) -> None:
        self.path = path
        self.sep = sep
        self.n_columns = n_columns
        self._stat = _identity(path)
        self._table: Any = None
        self._lock = threading.Lock()
        self._released = False
        # a daemon thread: a command that stops on a bad clinical table exits at once
        self._thread = threading.Thread(target=self._run, name="ikaros-csv-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            table = parse_csv(self.path, self.n_columns, self.sep)
        except Exception:  # the direct parse, if it is needed, reports it
            table = None
        with self._lock:
            if not self._released:
                self._table = table

    def release(self) -> None:
        """Drop the table, now or (without waiting) when the parse ends."""
        with self._lock:
            self._released = True
            self._table = None

    def take(self, path: Path, sep: str, n_columns: int) -> Any | None:
        """The parsed table if it is of this file, separator and header; otherwise None.

        Waits for the parse. The table is handed over once (the prefetch keeps no reference).
        """
        self._thread.join()
        with self._lock:
            table, self._table = self._table, None
            self._released = True
        # the same file (device and inode), unchanged since the parse began (size, mtime)
        same = (
            sep == self.sep
            and n_columns == self.n_columns
            and self._stat is not None
            and _identity(path) == self._stat
        )
        return table if same else None


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _header_fields(path: Path, sep: str) -> int | None:
    try:
        with open(path, "rb") as fh:
            head = fh.readline(_HEADER_BYTES)
        text = head.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    fields = next(csv.reader([text.rstrip("\r\n")], delimiter=sep), [])
    return len(fields) if len(fields) >= 2 else None


def start_prefetch(path: str | os.PathLike[str]) -> CsvPrefetch | None:
    """Start parsing a CSV/TSV matrix in the background; None for Parquet or an unusual header.

    Parameters
    ----------
    path
        The expression matrix as given on the command line (not yet checked).

    Returns
    -------
    CsvPrefetch or None
        Pass it to :func:`ikaros.scan._read.read_aligned` as ``prefetch``.
    """
    p = Path(path)
    sep = separator(p)
    if sep is None or not p.is_file():
        return None
    n_columns = _header_fields(p, sep)
    if n_columns is None:
        return None
    return CsvPrefetch(p, sep, n_columns)
