"""Write the binary malformed-input cases (XLSX, Parquet, .doc) next to this script.

Run once and commit the outputs; the tests only read them::

    /work/venv/bin/python tests/data/bad/make_binary_cases.py

Each file derives from ``tests/data/valid_cohort.csv`` with exactly one defect (or is not a
readable file of its format at all). Rows are numbered as a spreadsheet shows them: the header is
row 1, patient P01 is row 2.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
BASE = HERE.parent / "valid_cohort.csv"


def _base() -> pd.DataFrame:
    return pd.read_csv(BASE, dtype={"patient_id": str, "best_response": str, "iss": str})


def _random_bytes(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(n))


def main() -> None:
    # not a zip archive at all, only named .xlsx
    (HERE / "corrupt.xlsx").write_bytes(_random_bytes(2048, seed=1))
    # starts like Parquet ("PAR1") but the rest is garbage
    (HERE / "corrupt.parquet").write_bytes(b"PAR1" + _random_bytes(1024, seed=2) + b"PAR1")
    # an OLE2 (Word 97) header followed by zeros: a format ikaros does not read
    (HERE / "cohort.doc").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))

    # XLSX: a spreadsheet error value in a marker cell (P06, row 7)
    frame = _base().astype(object)
    frame.loc[frame["patient_id"] == "P06", "IKZF1"] = "#DIV/0!"
    frame.to_excel(HERE / "xlsx_marker_error_value.xlsx", index=False)

    # XLSX: two columns headed IKZF1 (pandas alone would silently rename one to IKZF1.1)
    frame = _base().rename(columns={"IKZF3": "IKZF1"})
    frame.to_excel(HERE / "xlsx_duplicate_column.xlsx", index=False)

    # Parquet: event coded 2 (P08, row 9)
    frame = _base()
    frame.loc[frame["patient_id"] == "P08", "pfs_event"] = 2
    frame.to_parquet(HERE / "parquet_event_2.parquet", index=False)


if __name__ == "__main__":
    main()
