"""Reading tabular input and writing output atomically.

Input tables are read with every cell as text (``str`` or ``None`` for missing), so that validation
can report the value exactly as the user typed it. Input files are opened read-only and never
modified. Outputs are staged in a temporary directory next to the destination and moved into
place only when everything has been produced, so a failed run leaves no partial files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ikaros.errors import InputError

__all__ = [
    "MISSING_TOKENS",
    "OutputStage",
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


def _normalise_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from Excel/Parquet
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    text = str(value).strip()
    return None if text in MISSING_TOKENS else text


def _read_delimited(
    text: str, sep: str, what: str, name: str
) -> tuple[list[str], list[list[str]], list[int]]:
    """Split delimited text into header, data rows and their spreadsheet row numbers.

    Parsed with the :mod:`csv` module rather than pandas so that rows with too few or too many
    fields, unclosed quotes and duplicate header names are reported instead of being padded,
    shifted into the index or renamed.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    row = 0
    while True:
        row += 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            unclosed = "unexpected end of data" in str(exc)
            raise InputError(
                "a quote opened in this row is never closed"
                if unclosed
                else f"{what} file cannot be parsed: {exc}",
                file=name,
                row=row,
                remedy="check that quotes are closed and every quote inside a value is doubled",
            ) from None
        if not any(field.strip() for field in record):
            continue  # blank line
        if header is None:
            header = record
            others = [d for d in (",", ";", "\t") if d != sep]
            found = [d for d in others if d in record[0]] if len(record) == 1 else []
            if found:
                shown = "tab" if found[0] == "\t" else repr(found[0])
                raise InputError(
                    f"the header has a single column; the file seems to be separated by {shown}"
                    f" while its extension expects {'tab' if sep == chr(9) else repr(sep)}",
                    file=name,
                    row=row,
                    remedy="save comma-separated text as .csv and tab-separated text as .tsv",
                )
            continue
        if len(record) != len(header):
            raise InputError(
                f"row has {len(record)} fields but the header has {len(header)}",
                file=name,
                row=row,
                value=sep.join(record),
                remedy="check for an unquoted separator inside a value (e.g. a decimal comma), "
                "a missing or extra field, or an unclosed quote",
            )
        rows.append(record)
        numbers.append(row)
    if header is None:
        raise InputError(f"{what} file is empty", file=name, remedy="supply a header row")
    return header, rows, numbers


def read_table(path: str | os.PathLike[str], *, what: str = "table") -> pd.DataFrame:
    """Read a CSV, TSV, XLSX or Parquet file into a DataFrame of text cells.

    Parameters
    ----------
    path
        The file. The format is chosen by its extension.
    what
        What the table is, for messages ("cohort", "Ct table").

    Returns
    -------
    pandas.DataFrame
        Columns as in the file (names stripped of surrounding white space); every cell is a
        ``str`` or ``None`` (missing).

    Raises
    ------
    InputError
        The file is missing, unreadable, of an unknown format, empty, or has blank or duplicate
        column names.
    """
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InputError(f"{what} file not found", file=name, remedy="check the path and file name")
    if p.is_dir():
        raise InputError(f"{what} path is a directory", file=name, remedy="name a file")
    ext = p.suffix.lower()
    try:
        if ext in _TEXT_FORMATS:
            sep = _TEXT_FORMATS[ext]
            raw = p.read_bytes()
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{what} file is not UTF-8 text (undecodable byte at offset {exc.start})",
                    file=name,
                    row=raw[: exc.start].count(b"\n") + 1,
                    value=f"byte 0x{raw[exc.start]:02x}",
                    remedy="save the file as UTF-8 CSV/TSV (in Excel: 'CSV UTF-8'); "
                    "it may be Latin-1/Windows-1252",
                ) from None
            if not raw.strip():
                raise InputError(f"{what} file is empty", file=name, remedy="supply a header row")
            header, rows, numbers = _read_delimited(text, sep, what, name)
            frame = pd.DataFrame(rows, columns=pd.Index(header, dtype=object), dtype=object)
            frame.index = pd.Index(numbers) - 2
        elif ext == ".xlsx":
            # openpyxl directly: pandas would rename duplicate header cells ("a", "a.1") and turn
            # error cells (#DIV/0!, #VALUE!) into missing values
            import openpyxl

            book = openpyxl.load_workbook(p, read_only=True, data_only=True)
            try:
                cells = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
            finally:
                book.close()
            sheet = pd.DataFrame(cells, dtype=object)
            sheet = sheet.loc[sheet.notna().any(axis=1).cumsum() > 0]  # leading blank rows
            if sheet.empty:
                raise InputError(f"{what} file is empty", file=name, remedy="supply a header row")
            header = ["" if pd.isna(v) else str(v) for v in sheet.iloc[0]]
            frame = sheet.iloc[1:]
            frame.columns = pd.Index(header, dtype=object)
            frame.index = frame.index - 1  # sheet row 1 has index 0; +2 below gives the row
        elif ext == ".parquet":
            frame = pd.read_parquet(p)
        else:
            raise InputError(
                f"unsupported {what} file format {ext or '(no extension)'!r}",
                file=name,
                remedy=f"use one of {_SUPPORTED}",
            )
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file is empty", file=name, remedy="supply a header row") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise InputError(
            f"{what} file cannot be parsed: {detail}",
            file=name,
            remedy="check that every row has as many fields as the header and quotes are closed",
        ) from None
    except Exception as exc:  # corrupt xlsx/parquet: the libraries raise many types
        raise InputError(
            f"{what} file cannot be read as {ext[1:].upper()}: {type(exc).__name__}: {exc}",
            file=name,
            remedy="re-export the file from its source program",
        ) from None
    columns = [str(c).strip() for c in frame.columns]
    for i, col in enumerate(columns):
        if col == "" or col.startswith("Unnamed: "):
            raise InputError(
                f"column {i + 1} has no name in the header",
                file=name,
                row=1,
                remedy="give every column a name or delete the empty column",
            )
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            raise InputError(
                "duplicate column name in the header",
                file=name,
                row=1,
                column=col,
                remedy="rename one of the columns",
            )
        seen.add(col)
    frame.columns = columns
    if len(frame) == 0:
        raise InputError(
            f"{what} file has a header but no data rows", file=name, remedy="add the data rows"
        )
    out = frame.apply(lambda col: col.map(_normalise_cell)).astype(object)
    # drop rows that are entirely empty (trailing blank lines in spreadsheets)
    keep = out.notna().any(axis=1)
    out = out.loc[keep]
    out.index = frame.index[keep] + 2  # spreadsheet row numbers: header is row 1
    return out


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutputStage:
    """A temporary directory whose files are moved into the destination on commit."""

    def __init__(self, stage: Path, dest: Path) -> None:
        self.path = stage
        self.dest = dest

    def file(self, relative: str) -> Path:
        """Path of a file to create inside the stage (parent directories are made)."""
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_text(self, relative: str, text: str) -> Path:
        target = self.file(relative)
        target.write_text(text, encoding="utf-8", newline="\n")
        return target

    def commit(self) -> list[Path]:
        """Move every staged file to the destination, each by an atomic rename."""
        self.dest.mkdir(parents=True, exist_ok=True)
        moved: list[Path] = []
        for src in sorted(p for p in self.path.rglob("*") if p.is_file()):
            rel = src.relative_to(self.path)
            target = self.dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
            moved.append(target)
        return moved


@contextmanager
def staged_output(dest: str | os.PathLike[str]) -> Iterator[OutputStage]:
    """Stage outputs for ``dest``; they land only if the block finishes without an exception.

    The stage lives beside ``dest`` (same file system, so renames are atomic) and is removed
    whatever happens. ``dest`` itself is created only at commit.
    """
    dest_path = Path(dest).resolve()
    parent = dest_path.parent
    if dest_path.exists() and not dest_path.is_dir():
        raise InputError(
            "output path exists and is not a directory",
            file=str(dest),
            remedy="choose a directory for --out",
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage_dir = Path(tempfile.mkdtemp(prefix=f".{dest_path.name}.stage-", dir=parent))
    except OSError as exc:
        raise InputError(
            f"cannot create the output directory: {exc.strerror}",
            file=str(dest),
            remedy="choose a writable location for --out",
        ) from None
    stage = OutputStage(stage_dir, dest_path)
    try:
        yield stage
        stage.commit()
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
