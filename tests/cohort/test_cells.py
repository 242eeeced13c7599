"""Reading numbers from text cells (ikaros.cohort._cells.to_floats and its users)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.cohort._cells import binary, numeric, to_floats
from ikaros.errors import InputError


def _decimals(n: int) -> list[str]:
    rng = np.random.default_rng(20170715)
    values = rng.normal(size=n) * 10.0 ** rng.integers(-8, 8, size=n)
    return [repr(float(v)) for v in values] + [f"{v:.6f}" for v in values]


def test_text_is_read_correctly_rounded() -> None:
    # pandas.to_numeric reads '0.30000000000000004' as 0.3 (one unit in the last place off)
    cells = ["0.30000000000000004", "3.6159505490948474e-08", *_decimals(2000)]
    got = to_floats(pd.Series(cells, dtype=object)).to_numpy()
    want = np.array([float(c) for c in cells])
    assert got.view(np.int64).tolist() == want.view(np.int64).tolist()


def test_a_bad_cell_does_not_change_how_the_others_are_read() -> None:
    cells = ["0.30000000000000004", *_decimals(200)]
    clean = to_floats(pd.Series(cells, dtype=object)).to_numpy()
    mixed = to_floats(pd.Series([*cells, "twelve", None], dtype=object)).to_numpy()
    assert mixed[:-2].view(np.int64).tolist() == clean.view(np.int64).tolist()
    assert np.isnan(mixed[-2:]).all()


@pytest.mark.parametrize(
    ("cells", "want"),
    [
        (pd.Series(["1.5", None, "x", "1e5", "-2"], dtype=object), [1.5, None, None, 1e5, -2.0]),
        (pd.Series([1, None], dtype="Int64"), [1.0, None]),
        (pd.Series(["1", pd.NA], dtype="string"), [1.0, None]),
        (pd.Series([1.5, "2", None], dtype=object), [1.5, 2.0, None]),  # Excel: numbers and text
        (pd.Series([" 7 ", "8"], dtype=object), [7.0, 8.0]),  # white space (not stripped)
        (pd.Series([], dtype=object), []),
        (pd.Series([3, 4], dtype=np.int64), [3.0, 4.0]),
    ],
)
def test_missing_and_mixed_cells(cells: pd.Series, want: list[float | None]) -> None:
    got = to_floats(cells)
    assert got.dtype == np.float64 and got.index.equals(cells.index)
    assert [None if np.isnan(v) else v for v in got.tolist()] == want


def test_numeric_and_binary_name_the_first_bad_row() -> None:
    cells = pd.Series(["1.5", "inf", "2", "1,5"], index=[2, 3, 4, 5], dtype=object)
    with pytest.raises(InputError) as info:
        numeric(cells, file="c.csv", column="pfs_time", what="time", remedy="enter a number")
    assert info.value.row == 3 and "1 more row" in info.value.message
    flags = pd.Series(["0", "1", "1.0", "2", None], index=[2, 3, 4, 5, 6], dtype=object)
    with pytest.raises(InputError) as info:
        binary(flags, file="c.csv", column="del17p", what="abnormality", remedy="0 or 1")
    assert info.value.row == 5
    ok = binary(flags.drop(5), file="c.csv", column="del17p", what="abnormality", remedy="")
    assert [None if np.isnan(v) else v for v in ok.tolist()] == [0.0, 1.0, 1.0, None]
