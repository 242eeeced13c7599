"""ikaros.files.read_table on delimited text: the fast (Arrow) reader gives what the strict
reader gives: text cells or None, spreadsheet row numbers, rows of missing cells dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import ikaros.files
from ikaros.files import read_table

TEXT = (
    "patient_id,pfs_time,pfs_event,iss,note\n"
    "P1, 12.5 ,1,II,NA\n"
    ",,,,\n"  # every cell missing: dropped, row numbers of the others kept
    "P3,7,0,,n/a\n"
    "P4,NA,1,3, free text \n"
    " , ,NA,,\n"
    "P6,30.25,0,I,ok\n"
)


def _strict(monkeypatch: pytest.MonkeyPatch, path: Path) -> pd.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(ikaros.files, "read_delimited_fast", lambda *a, **k: None)
        return read_table(path, what="cohort")


def test_fast_reader_equals_strict_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(TEXT)
    fast = read_table(path, what="cohort")
    strict = _strict(monkeypatch, path)
    assert fast.index.tolist() == strict.index.tolist() == [2, 4, 5, 7]
    assert fast.columns.tolist() == strict.columns.tolist()
    assert fast.to_numpy().tolist() == strict.to_numpy().tolist()
    cells = {type(v) for v in fast.to_numpy().ravel()}
    assert cells == {str, type(None)}  # never NaN
    assert fast.loc[2, "pfs_time"] == "12.5" and fast.loc[2, "note"] is None
    assert fast.loc[5, "note"] == "free text"


def test_a_table_of_missing_cells_is_left_to_the_strict_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "empty_rows.csv"
    path.write_text("patient_id,pfs_time\n,\nNA,\n")
    fast = read_table(path, what="cohort")
    strict = _strict(monkeypatch, path)
    assert fast.index.tolist() == strict.index.tolist()
    assert fast.to_numpy().tolist() == strict.to_numpy().tolist()
