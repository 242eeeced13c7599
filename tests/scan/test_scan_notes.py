"""scan.csv/parquet columns say what was fitted per gene and why (issue 10)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ikaros.scan.run import _scan_block
from tests.conftest import REFERENCE


def test_block_table_carries_method_and_note() -> None:
    m = pd.read_csv(REFERENCE / "monotone" / "scan_matrix.csv")
    # a large finite estimate (g150) and a separated gene (g301) of the scan reference
    time, event = m["time"].to_numpy(float), m["event"].to_numpy(np.int64)
    X = m[["g150", "g301"]].to_numpy(float)
    cov = np.random.default_rng(1).normal(size=(len(m), 1))
    table = _scan_block(time, event, X, ["g150", "g301"], cov, ["cov"], False, 0.1, 0.9)
    for col in ("cox_method", "cox_note", "adj_method", "adj_note"):
        assert col in table
    row = table.set_index("gene")
    assert row.loc["g150", "cox_method"] == "cox" and row.loc["g150", "cox_note"] == ""
    assert row.loc["g150", "adj_method"] == "cox" and row.loc["g150", "adj_note"] == ""
    assert row.loc["g301", "cox_method"] in ("firth", "none")
    assert row.loc["g301", "cox_note"].startswith("monotone likelihood")
    if row.loc["g301", "cox_method"] == "none":
        assert np.isnan(row.loc["g301", "cox_hr"])
    # the separated repro whose Firth refit fails: NaN and the reason, not method=cox
    sep = pd.read_csv(REFERENCE / "monotone" / "cox_separated.csv")
    t2 = _scan_block(
        sep["time"].to_numpy(float),
        sep["event"].to_numpy(np.int64),
        sep[["x"]].to_numpy(float),
        ["x"],
        None,
        [],
        False,
        0.1,
        0.9,
    ).iloc[0]
    assert t2["cox_method"] == "none" and np.isnan(t2["cox_hr"]) and np.isnan(t2["cox_p"])
    assert "Firth refit failed" in t2["cox_note"]
