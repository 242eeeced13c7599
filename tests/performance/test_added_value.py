"""Added value over the ISS base model: LR test and change in C against R."""

from __future__ import annotations

import pandas as pd
import pytest

from ikaros.errors import AnalysisError
from ikaros.performance import added_value
from tests.performance._cohorts import MODELS, cohort, ref


@pytest.mark.parametrize("name", ["gse24080", "commpass"])
def test_lr_test_and_change_in_c_match_r(name: str) -> None:
    c = cohort(name)
    want = ref(name)["added_value"]
    got = added_value(
        c.time, c.event, c.X[MODELS[name]["full"]], MODELS[name]["base"], B=60, seed=5
    )
    assert got.lr_statistic == pytest.approx(want["lr_statistic"], rel=1e-6)
    assert got.lr_df == want["df"]
    assert got.lr_p == pytest.approx(want["p"], rel=1e-5)
    assert got.delta_c.c_reference == pytest.approx(want["c_base"], abs=1e-9)
    assert got.delta_c.c_new == pytest.approx(want["c_full"], abs=1e-9)
    assert got.delta_c.delta == pytest.approx(want["delta_c"], abs=1e-9)
    assert got.delta_c.se == pytest.approx(want["delta_c_se"], abs=1e-9)
    # the bootstrap interval is in the neighbourhood of the IJ one
    assert got.B_used == 60
    assert got.boot_lower < got.delta_c.delta < got.boot_upper
    assert got.boot_upper - got.boot_lower == pytest.approx(
        got.delta_c.upper - got.delta_c.lower, rel=0.6
    )


def test_same_seed_same_result_and_json_form() -> None:
    c = cohort("gse24080")
    X = c.X[MODELS["gse24080"]["full"]]
    a = added_value(c.time, c.event, X, ["iss2", "iss3"], B=20, seed=9)
    b = added_value(c.time, c.event, X, ["iss2", "iss3"], B=20, seed=9)
    assert a == b
    assert a.to_dict()["delta_c"]["delta"] == a.delta_c.delta


def test_base_must_be_nested() -> None:
    X = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0.0, 1, 0, 1]})
    with pytest.raises(AnalysisError, match="proper subset"):
        added_value([1, 2, 3, 4], [1, 1, 0, 1], X, ["a", "c"])
