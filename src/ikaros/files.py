"""Reading tabular input, and the output helpers.

Input tables are read with every cell as text (``str`` or ``None`` for missing), so that validation
can report the value exactly as the user typed it. Input files are opened read-only and never
modified; only regular files are read (a named pipe, socket or device is refused at once, as are
symbolic-link loops). Text encodings are detected (:mod:`ikaros._input_text`), Excel sheets are
chosen explicitly and read within bounds (:mod:`ikaros._input_xlsx`). Outputs are staged and land
as a whole (:mod:`ikaros.output`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import unicodedata
from collections.abc import Iterable
from difflib import get_close_matches
from pathlib import Path

import pandas as pd

from ikaros._input_text import decode_text, read_delimited, read_delimited_fast
from ikaros._input_xlsx import ReadLimits, SheetInfo, read_xlsx
from ikaros.errors import InputError
from ikaros.output import OutputStage, check_output_dir, staged_output, write_text_atomic

__all__ = [
    "MISSING_TOKENS",
    "OutputStage",
    "ReadLimits",
    "SheetInfo",
    "check_input_file",
    "check_output_dir",
    "near_match",
    "normalise_cells",
    "read_table",
    "sha256_file",
    "staged_output",
    "write_text_atomic",
]

#: Cell contents treated as missing values, in every input format.
MISSING_TOKENS: frozenset[str] = frozenset(
    {"", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "none", "."}
)

_TEXT_FORMATS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
_SUPPORTED = ".csv, .tsv, .txt (tab-separated), .xlsx, .parquet"
#: characters that do not show but make two names differ
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"}


def _normalise_cell(value: object, missing: frozenset[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from Excel/Parquet
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    text = str(value).strip()
    return None if text in missing else text


def normalise_cells(frame: pd.DataFrame, missing: frozenset[str]) -> pd.DataFrame:
    """Every cell as stripped text, or ``None`` when missing (a token of ``missing``, empty,
    NaN). Column-wise and vectorised for text columns (the common case, 100,000s of rows);
    other cell types (numbers from Excel or Parquet, dates) go through :func:`_normalise_cell`."""
    tokens = list(missing)
    out: dict[object, pd.Series] = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
            text = col.str.strip()
            out[name] = text.where(~text.isin(tokens) & col.notna(), None).astype(object)
        else:
            out[name] = col.map(lambda v: _normalise_cell(v, missing)).astype(object)
    result = pd.DataFrame(out, index=frame.index)
    result.columns = frame.columns
    return result


def near_match(name: str, candidates: Iterable[object]) -> str | None:
    """The candidate that ``name`` most likely means (case, spacing, invisible characters)."""

    def key(text: str) -> str:
        text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch not in _INVISIBLE)
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    names = [str(c) for c in candidates]
    exact = [c for c in names if key(c) == key(name) and c != name]
    if exact:
        return exact[0]
    close = get_close_matches(key(name), [key(c) for c in names], n=1, cutoff=0.8)
    if close:
        return next(c for c in names if key(c) == close[0])
    return None


def check_input_file(path: str | os.PathLike[str], what: str) -> Path:
    """The path of a readable regular file, or one clear error saying why not."""
    p = Path(path)
    name = str(path)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        if os.path.islink(p):
            raise InputError(
                f"{what} file is a broken symbolic link (its target does not exist)",
                file=name,
                remedy="point the link at an existing file, or name the file itself",
            ) from None
        raise InputError(
            f"{what} file not found", file=name, remedy="check the path and file name"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                f"{what} path is a loop of symbolic links",
                file=name,
                remedy="name the file itself, not a link that points back to itself",
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise InputError(
                f"{what} file cannot be read: permission denied",
                file=name,
                remedy="check the file's permissions",
            ) from None
        raise InputError(
            f"{what} file cannot be read: {exc.strerror}",
            file=name,
            remedy="check the path and file name",
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{what} path is a directory", file=name, remedy="name a file")
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "a device"
        )
        raise InputError(
            f"{what} path is {kind}, not a regular file",
            file=name,
            remedy="save the table to a file and name that file",
        )
    if not os.access(p, os.R_OK):
        raise InputError(
            f"{what} file cannot be read: permission denied",
            file=name,
            remedy="check the file's permissions",
        )
    return p


def _check_header(columns: Iterable[object], name: str) -> list[str]:
    out = [str(c).strip() for c in columns]
    for i, col in enumerate(out):
        if col == "" or col.startswith("Unnamed: "):
            raise InputError(
                f"column {i + 1} has no name in the header",
                file=name,
                row=1,
                remedy="give every column a name or delete the empty column",
            )
        hidden = [ch for ch in col if ch in _INVISIBLE or unicodedata.category(ch) == "Cc"]
        if hidden:
            ch = hidden[0]
            label = unicodedata.name(ch, f"control character {ord(ch):#04x}")
            visible = "".join(c for c in col if c not in hidden)
            raise InputError(
                f"the name of column {i + 1} contains an invisible character "
                f"(U+{ord(ch):04X} {label}); it reads {visible!r} but does not equal it",
                file=name,
                row=1,
                column=col,
                remedy=f"delete the invisible character from the header (rename it to {visible!r})",
            )
    seen: set[str] = set()
    for col in out:
        if col in seen:
            raise InputError(
                "duplicate column name in the header",
                file=name,
                row=1,
                column=col,
                remedy="rename one of the columns",
            )
        seen.add(col)
    return out


def read_table(
    path: str | os.PathLike[str],
    *,
    what: str = "table",
    sheet: str | None = None,
    limits: ReadLimits | None = None,
    na_values: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a CSV, TSV, XLSX or Parquet file into a DataFrame of text cells.

    Parameters
    ----------
    path
        The file. The format is chosen by its extension.
    what
        What the table is, for messages ("cohort", "Ct table").
    sheet
        Excel only: the sheet to read (default: the active sheet).
    limits
        Bounds on unpacked size, rows and columns (default :class:`ReadLimits`).
    na_values
        Cell contents read as missing in addition to :data:`MISSING_TOKENS`.

    Returns
    -------
    pandas.DataFrame
        Columns as in the file (names stripped of surrounding white space); every cell is a
        ``str`` or ``None`` (missing). The index holds the rows as a spreadsheet numbers them
        (header = row 1). For a workbook, ``frame.attrs["sheet"]`` is the :class:`SheetInfo`.

    Raises
    ------
    InputError
        The file is missing, not a regular file, unreadable, of an unknown format, empty, too
        large, or has blank, invisible-character or duplicate column names.
    """
    limits = limits or ReadLimits()
    missing = MISSING_TOKENS | frozenset(str(v).strip() for v in na_values)
    p = check_input_file(path, what)
    name = str(path)
    ext = p.suffix.lower()
    info: SheetInfo | None = None
    try:
        if ext in _TEXT_FORMATS:
            raw = p.read_bytes()
            if not raw.strip():
                raise InputError(f"{what} file is empty", file=name, remedy="supply a header row")
            text, _ = decode_text(raw, what=what, name=name)
            fast = read_delimited_fast(text, _TEXT_FORMATS[ext], missing, limits.max_rows)
            if fast is not None:
                fast.columns = _check_header(fast.columns, name)
                if fast.shape[1] > limits.max_columns:
                    fast = None
            if fast is not None and len(fast):  # (rows of missing cells already dropped)
                fast.attrs["missing_tokens"] = missing
                return fast
            header, rows, numbers = read_delimited(
                text, _TEXT_FORMATS[ext], what, name, max_rows=limits.max_rows
            )
            if len(header) > limits.max_columns:
                raise InputError(
                    f"{what} file has {len(header):,} columns, more than the limit of "
                    f"{limits.max_columns:,}",
                    file=name,
                    row=1,
                    remedy="export only the needed columns",
                )
            frame = pd.DataFrame(rows, columns=pd.Index(header, dtype=object), dtype=object)
            frame.index = pd.Index(numbers) - 2
        elif ext == ".xlsx":
            sheet_cells, info = read_xlsx(p, what=what, name=name, sheet=sheet, limits=limits)
            sheet_cells = sheet_cells.loc[sheet_cells.notna().any(axis=1).cumsum() > 0]
            if sheet_cells.empty:
                raise InputError(
                    f"{what} sheet '{info.name}' is empty",
                    file=name,
                    remedy=_other_sheets(info) or "supply a header row",
                )
            header = ["" if pd.isna(v) else str(v) for v in sheet_cells.iloc[0]]
            frame = sheet_cells.iloc[1:]
            frame.columns = pd.Index(header, dtype=object)
            frame.index = frame.index - 1  # sheet row 1 has index 0; +2 below gives the row
        elif ext == ".parquet":
            frame = pd.read_parquet(p)
            if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
                frame = frame.reset_index()  # e.g. patient_id stored as the index
            frame.index = pd.RangeIndex(len(frame))
            if len(frame) > limits.max_rows or frame.shape[1] > limits.max_columns:
                raise InputError(
                    f"{what} file has {len(frame):,} rows x {frame.shape[1]:,} columns, more "
                    f"than the limits ({limits.max_rows:,} x {limits.max_columns:,})",
                    file=name,
                    remedy="split the table, or export only the needed part",
                )
        else:
            raise InputError(
                f"unsupported {what} file format {ext or '(no extension)'!r}",
                file=name,
                remedy=f"use one of {_SUPPORTED}",
            )
    except InputError:
        raise
    except MemoryError:
        raise InputError(
            f"{what} file is too large to read into memory",
            file=name,
            remedy="split the table, or export only the needed columns",
        ) from None
    except Exception as exc:  # corrupt xlsx/parquet: the libraries raise many types
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise InputError(
            f"{what} file cannot be read as {ext[1:].upper()}: {type(exc).__name__}: {detail}",
            file=name,
            remedy="re-export the file from its source program",
        ) from None
    frame.columns = _check_header(frame.columns, name)
    if len(frame) == 0:
        where = f"sheet '{info.name}' of the " if info is not None else ""
        raise InputError(
            f"{where}{what} file has a header but no data rows",
            file=name,
            remedy=(_other_sheets(info) if info is not None else None) or "add the data rows",
        )
    out = normalise_cells(frame, missing)
    # drop rows that are entirely empty (trailing blank lines in spreadsheets)
    keep = out.notna().any(axis=1)
    out = out.loc[keep]
    out.index = frame.index[keep] + 2  # spreadsheet row numbers: header is row 1
    if info is not None:
        out.attrs["sheet"] = info
    out.attrs["missing_tokens"] = missing  # cells are normalised: stripped text or None
    return out


def _other_sheets(info: SheetInfo) -> str | None:
    others = [s for s in info.non_empty if s != info.name]
    if not others:
        return None
    return (
        "the workbook has data on sheet(s) "
        + ", ".join(repr(s) for s in others)
        + ("; choose one with --sheet NAME")
    )


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
