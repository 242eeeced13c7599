"""Tests of ikaros.stats.rank_tests against R golden values and by simulation."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ikaros.errors import AnalysisError
from ikaros.stats.rank_tests import (
    RankTest,
    jonckheere_terpstra,
    kruskal_wallis,
    mann_whitney,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "rank"
GOLDEN = json.loads((REF / "golden.json").read_text(encoding="utf-8"))
CASES = GOLDEN["cases"]
RTOL = 1e-8


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def _run(case: dict[str, Any]) -> RankTest:
    data = pd.read_csv(REF / case["dataset"])
    values, groups = data[case["value"]], data[case["group"]]
    if case["test"] == "kruskal_wallis":
        return kruskal_wallis(values, groups)
    if case["test"] == "jonckheere_terpstra":
        return jonckheere_terpstra(values, groups, order=case["order"])

    def pick(level: Any) -> pd.Series:
        if isinstance(level, str):
            return values[groups.astype(str) == level]
        return values[pd.to_numeric(groups, errors="coerce") == level]

    x, y = pick(case["x_level"]), pick(case["y_level"])
    return mann_whitney(x, y)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_r_golden(case: dict[str, Any]) -> None:
    res = _run(case)
    assert _rel(res.statistic, case["statistic"]) <= RTOL
    assert _rel(res.p, case["p"]) <= RTOL
    assert res.n == case["n"]
    assert res.n_missing == case["n_missing"]
    if "df" in case:
        assert res.df == case["df"]
    if "z" in case:
        assert res.z is not None
        assert _rel(res.z, case["z"]) <= RTOL


def test_golden_covers_every_test_and_ties() -> None:
    assert {c["test"] for c in CASES} == {"kruskal_wallis", "mann_whitney", "jonckheere_terpstra"}
    assert any(c["dataset"] == "airquality.csv" and c["test"] == "kruskal_wallis" for c in CASES)
    for name in ("ties3.csv", "heavy4.csv", "two_sample.csv", "myeloma_like.csv"):
        col = pd.read_csv(REF / name).iloc[:, -1].dropna()
        assert col.duplicated().any(), name


def test_airquality_matches_textbook_r_output() -> None:
    # R: kruskal.test(Ozone ~ Month, data = airquality)
    #    Kruskal-Wallis chi-squared = 29.267, df = 4, p-value = 6.901e-06
    air = pd.read_csv(REF / "airquality.csv")
    res = kruskal_wallis(air["Ozone"], air["Month"])
    assert round(res.statistic, 3) == 29.267
    assert f"{res.p:.3e}" == "6.901e-06"
    assert res.df == 4 and res.n == 116 and res.n_missing == 37
    assert res.groups == ("5", "6", "7", "8", "9")


def test_mann_whitney_z_consistent_with_p_and_w_definition() -> None:
    x = np.array([1.0, 2.0, 2.0, 3.5, 4.0])
    y = np.array([2.0, 3.5, 5.0, 6.0, 6.0, 7.0])
    res = mann_whitney(x, y)
    # W = #{x > y} + 0.5 #{x == y}, counted by hand: x=2 ties y=2 twice (1.0), x=3.5 beats 2 and
    # ties 3.5 (1.5), x=4 beats 2 and 3.5 (2) -> W = 4.5
    assert res.statistic == 4.5
    assert res.z is not None
    assert res.p == pytest.approx(2 * stats.norm.sf(abs(res.z)), rel=1e-12)
    assert res.groups == ("x", "y") and res.group_n == (5, 6)
    assert res.group_median == (2.0, 5.5)


def test_jt_hand_computed_small_example() -> None:
    # groups (in order) A = [1, 2], B = [2, 3], C = [3, 4, 4]
    # A<B pairs: 1<2, 1<3, 2=2 (0.5), 2<3 -> 3.5
    # A<C pairs: all 6 -> 6;  B<C: 2<3, 2<4, 2<4, 3=3 (0.5), 3<4, 3<4 -> 5.5;  J = 15
    # E[J] = (7^2 - (4 + 4 + 9)) / 4 = 8
    res = jonckheere_terpstra(
        [1, 2, 2, 3, 3, 4, 4], ["A", "A", "B", "B", "C", "C", "C"], order=["A", "B", "C"]
    )
    assert res.statistic == 15.0
    assert res.z is not None and res.z > 0
    assert res.groups == ("A", "B", "C") and res.group_n == (2, 2, 3)


def test_jt_matches_statsmodels_when_available() -> None:
    nonparametric = pytest.importorskip("statsmodels.stats.nonparametric")
    if not hasattr(nonparametric, "jonckheere_terpstra"):
        pytest.skip("statsmodels < 0.15 has no jonckheere_terpstra")
    data = pd.read_csv(REF / "heavy4.csv").dropna()
    order = ["none", "low", "mid", "high"]
    ours = jonckheere_terpstra(data["score"], data["group"], order=order)
    theirs = nonparametric.jonckheere_terpstra(
        [data.loc[data["group"] == g, "score"] for g in order], alternative="two-sided"
    )
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p == pytest.approx(theirs.pvalue, rel=1e-10)


def test_jt_normal_p_vs_permutation_p() -> None:
    # small tied example: 3 groups of 6 with integer scores
    values = [1, 2, 2, 3, 1, 2, 2, 3, 3, 4, 2, 3, 3, 4, 4, 5, 2, 3]
    groups = [1] * 6 + [2] * 6 + [3] * 6
    res = jonckheere_terpstra(values, groups, permutations=20_000, seed=2017)
    assert res.p_permutation is not None and res.permutations == 20_000
    mc_se = np.sqrt(res.p_permutation * (1 - res.p_permutation) / 20_000)
    # Monte-Carlo error (4 SE) plus a small allowance for the normal approximation at n = 18
    assert abs(res.p - res.p_permutation) < 4 * mc_se + 0.01
    again = jonckheere_terpstra(values, groups, permutations=20_000, seed=2017)
    assert again.p_permutation == res.p_permutation  # seeded: reproducible


def test_jt_permutation_p_vs_exact_enumeration_in_r() -> None:
    tiny = pd.read_csv(REF / "tiny_ties.csv")
    res = jonckheere_terpstra(tiny["value"], tiny["group"], permutations=20_000, seed=1)
    exact = GOLDEN["tiny_ties_exact_permutation_p"]
    assert res.p_permutation is not None
    assert abs(res.p_permutation - exact) < 4 * np.sqrt(exact * (1 - exact) / 20_000) + 1e-4


def test_jt_detects_monotone_trend() -> None:
    rng = np.random.default_rng(11)
    sizes = (15, 20, 15)
    values = np.concatenate([rng.normal(0.8 * i, 1.0, n) for i, n in enumerate(sizes)])
    groups = np.repeat(["I", "II", "III"], sizes)
    up = jonckheere_terpstra(values, groups, order=["I", "II", "III"])
    down = jonckheere_terpstra(values, groups, order=["III", "II", "I"])
    assert up.p < 0.01 and up.z is not None and up.z > 0
    assert down.z is not None and down.z == pytest.approx(-up.z)
    assert down.p == pytest.approx(up.p)


def test_jt_null_rejection_rate() -> None:
    rng = np.random.default_rng(20170101)
    groups = np.repeat([1, 2, 3], (12, 15, 13))
    rejections = 0
    for _ in range(400):
        values = np.round(rng.normal(size=groups.size), 1)  # rounding makes ties
        rejections += jonckheere_terpstra(values, groups).p < 0.05
    assert 0.02 <= rejections / 400 <= 0.08


def test_missing_values_dropped_and_counted() -> None:
    values = [1.0, np.nan, 2.0, 3.0, None, 4.0, 5.0]
    groups = [1, 1, 1, 2, 2, None, 2]
    res = kruskal_wallis(values, groups)
    assert res.n == 4 and res.n_missing == 3 and res.group_n == (2, 2)
    mw = mann_whitney([1.0, np.nan, 3.0], [2.0, 5.0, float("nan")])
    assert mw.n == 4 and mw.n_missing == 2


def test_group_order_sources() -> None:
    values = [3.0, 1.0, 2.0, 5.0, 4.0, 6.0]
    cat = pd.Categorical(
        ["III", "I", "II", "III", "I", "II"], categories=["I", "II", "III"], ordered=True
    )
    res = jonckheere_terpstra(values, cat)
    assert res.groups == ("I", "II", "III")
    numeric_text = jonckheere_terpstra(values, ["10", "2", "3", "10", "2", "3"])
    assert numeric_text.groups == ("2", "3", "10")  # numeric text sorted by value
    with pytest.raises(AnalysisError, match="order="):
        jonckheere_terpstra(values, ["CR", "PR", "SD", "CR", "PR", "SD"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kruskal_wallis([1.0, 2.0, 3.0], ["a", "a", "a"]), "at least 2 groups"),
        (lambda: kruskal_wallis([1.0, 2.0, np.nan], ["a", "a", "b"]), "group 'b' has no"),
        (lambda: jonckheere_terpstra([1.0, 2.0], [1, 2], order=[1, 2, 3]), "group '3' has no"),
        (lambda: jonckheere_terpstra([1.0, 2.0], [1, 4], order=[1, 2]), "not in order"),
        (lambda: mann_whitney([np.nan], [1.0, 2.0]), "sample 'x' has no"),
        (lambda: mann_whitney([1.0, 1.0], [1.0]), "all values are tied"),
        (lambda: kruskal_wallis([2.0, 2.0, 2.0], [1, 2, 2]), "all values are tied"),
        (lambda: jonckheere_terpstra([2.0, 2.0, 2.0], [1, 2, 2]), "all values are tied"),
        (lambda: kruskal_wallis([1.0, 2.0], [1]), "different lengths"),
        (lambda: kruskal_wallis(["high", 2.0], [1, 2]), "numeric"),
        (lambda: jonckheere_terpstra([1.0, 2.0], [1, 2], permutations=0), "permutations"),
    ],
)
def test_analysis_errors(call: Any, message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        call()


def test_result_is_frozen() -> None:
    res = kruskal_wallis([1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2])
    with pytest.raises(AttributeError):
        res.p = 0.0  # type: ignore[misc]


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_make_golden_is_deterministic(tmp_path: Path) -> None:
    root = REF.parents[2]
    subprocess.run(
        ["Rscript", str(REF / "make_golden.R"), str(tmp_path)],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert json.loads((tmp_path / "golden.json").read_text(encoding="utf-8")) == GOLDEN
    for csv in REF.glob("*.csv"):
        assert (tmp_path / csv.name).read_bytes() == csv.read_bytes()


def test_own_rank_tests_equal_scipy() -> None:
    """Kruskal-Wallis, Mann-Whitney and mid-ranks computed without scipy.stats equal it."""
    from scipy import stats

    from ikaros.stats.rank_tests import midranks

    rng = np.random.default_rng(5)
    for _ in range(20):
        x = np.round(rng.normal(size=40), 1)  # ties
        g = rng.integers(0, 3, size=40)
        kw = kruskal_wallis(x, g)
        ref = stats.kruskal(*(x[g == k] for k in range(3)))
        assert kw.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert kw.p == pytest.approx(ref.pvalue, rel=1e-10)
        mw = mann_whitney(x[g == 0], x[g != 0])
        ref2 = stats.mannwhitneyu(x[g == 0], x[g != 0], method="asymptotic")
        assert mw.statistic == pytest.approx(ref2.statistic, rel=1e-12)
        assert mw.p == pytest.approx(ref2.pvalue, rel=1e-10)
        m = np.round(rng.normal(size=(5, 30)), 1)
        assert np.allclose(midranks(m), stats.rankdata(m, axis=1))
        assert np.allclose(midranks(m[0]), stats.rankdata(m[0]))
