"""Sorting once (ikaros.stats.survdata): every fit and test gives the same numbers with it.

The prepared order is only a shortcut: ``fit_cox``, ``kaplan_meier``, ``logrank`` and
``logrank_trend`` must return exactly what they return without it, on subsets (complete cases,
subgroups) and with strata, and must refuse an order prepared from other data.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import AnalysisError
from ikaros.scan._layout import time_order
from ikaros.stats.cox import fit_cox
from ikaros.stats.km import kaplan_meier
from ikaros.stats.logrank import _labels_and_codes, logrank, logrank_trend
from ikaros.stats.survdata import SurvivalData


def _cohort(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    risk = (rng.uniform(size=n) < 0.3).astype(float)
    t = np.ceil(rng.exponential(20 * np.exp(-0.5 * x - 0.7 * risk)))  # whole months: ties
    c = rng.uniform(5, 60, n).round()
    return pd.DataFrame(
        {
            "time": np.minimum(t, c),
            "event": (t <= c).astype(int),
            "x": x,
            "risk": risk,
            "group": np.where(x > np.quantile(x, 0.25), "Q2-4", "Q1"),
            "q4": pd.cut(x, np.quantile(x, [0, 0.25, 0.5, 0.75, 1]), labels=list("ABCD"),
                         include_lowest=True).astype(str),
        }
    )  # fmt: skip


def test_subset_order_equals_sorting_the_subset() -> None:
    d = _cohort()
    surv = SurvivalData.prepare(d["time"], d["event"])
    rng = np.random.default_rng(1)
    for _ in range(5):
        keep = rng.uniform(size=len(d)) < rng.uniform(0.1, 0.9)
        sub = surv.subset(keep)
        t, e = d["time"].to_numpy()[keep], d["event"].to_numpy()[keep] == 1
        np.testing.assert_array_equal(sub.order, time_order(t, e))
        assert sub.describes(t, e)
    assert surv.subset(np.ones(len(d), dtype=bool)) is surv


@pytest.mark.parametrize("strata", [False, True])
def test_fit_cox_is_the_same_with_a_prepared_order(strata: bool) -> None:
    d = _cohort()
    surv = SurvivalData.prepare(d["time"], d["event"])
    keep = (d["x"] > -1.5).to_numpy()
    sub = d[keep]
    kwargs = {"strata": sub["risk"]} if strata else {}
    cols = ["x"] if strata else ["x", "risk"]
    plain = fit_cox(sub["time"], sub["event"], sub[cols], **kwargs)  # type: ignore[arg-type]
    fast = fit_cox(sub["time"], sub["event"], sub[cols], survival=surv.subset(keep), **kwargs)  # type: ignore[arg-type]
    assert dataclasses.asdict(fast) == dataclasses.asdict(plain)


def test_fit_cox_refuses_an_order_prepared_from_other_data() -> None:
    d = _cohort()
    surv = SurvivalData.prepare(d["time"], d["event"])
    with pytest.raises(AnalysisError, match="prepared from other times"):
        fit_cox(d["time"][:-1], d["event"][:-1], d[["x"]][:-1], survival=surv)
    flipped = d["event"].to_numpy().copy()
    flipped[0] = 1 - flipped[0]
    with pytest.raises(AnalysisError, match="prepared from other times"):
        fit_cox(d["time"], flipped, d[["x"]], survival=surv)


def test_kaplan_meier_is_the_same_with_a_prepared_order() -> None:
    d = _cohort()
    surv = SurvivalData.prepare(d["time"], d["event"])
    for label in ("Q1", "Q2-4"):
        sel = (d["group"] == label).to_numpy()
        t, e = d["time"].to_numpy()[sel], d["event"].to_numpy()[sel]
        plain = kaplan_meier(t, e, label=label)
        fast = kaplan_meier(t, e, label=label, survival=surv.subset(sel))
        for f in dataclasses.fields(plain):
            a, b = getattr(plain, f.name), getattr(fast, f.name)
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
            else:
                assert a == b


def test_logrank_is_the_same_with_a_prepared_order() -> None:
    d = _cohort()
    t, e = d["time"].to_numpy(), d["event"].to_numpy()
    surv = SurvivalData.prepare(t, e)
    g = d["group"].to_numpy(dtype=object)
    assert logrank(t, e, g, survival=surv) == logrank(t, e, g)
    q4 = d["q4"].to_numpy(dtype=object)
    order = list("ABCD")
    assert logrank(t, e, q4, order=order, survival=surv) == logrank(t, e, q4, order=order)
    assert logrank_trend(t, e, q4, order=order, survival=surv) == logrank_trend(
        t, e, q4, order=order
    )
    s = d["risk"].to_numpy()
    a = logrank(t, e, g, strata=s, survival=surv)
    b = logrank(t, e, g, strata=s)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12) and a.df == b.df
    assert a.observed == b.observed
    keep = s == 0
    assert logrank(t[keep], e[keep], g[keep], survival=surv.subset(keep)) == logrank(
        t[keep], e[keep], g[keep]
    )


@pytest.mark.parametrize(
    "values",
    [
        np.array(["b", "a", "b", "Q2-4", "Q1"], dtype=object),
        np.array(["b", None, "a"], dtype=object),  # None: the string sort ('None')
        np.array(["x", 1, 1.0], dtype=object),  # mixed: 1 and 1.0 stay two labels
        np.array([3, 1, 2, 1]),
        np.array([1.0, 0.0, 1.0]),
        np.array([0.0, -0.0, 1.0]),  # -0.0: the string sort
        np.array([np.nan, 1.0]),
        np.array([True, False, True]),
    ],
)
def test_labels_and_codes_equal_the_string_sort(values: np.ndarray) -> None:
    labels, codes = _labels_and_codes(values)
    want_labels, want_codes = np.unique(values.astype(str), return_inverse=True)
    assert labels == [str(x) for x in want_labels]
    np.testing.assert_array_equal(codes, want_codes)
