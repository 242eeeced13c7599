"""The Efron terms summed per tied time (ikaros.scan._evaluate) against the textbook definition.

The engine sums the ``d`` Efron terms of a time with ``d`` deaths in closed form (three scalar
sums per term instead of every product per term). Here the log partial likelihood, score and
information are computed term by term with Python loops straight from the definition (Therneau
& Grambsch 2000, sec. 3.3) and compared, at arbitrary coefficients, for the one-model path
(``fit_cox``) and the block path (the scan), with strata, heavy ties and Breslow's method.
"""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.scan._evaluate import _evaluate, _evaluate_one, _Work
from ikaros.scan._layout import make_layout


def _definition(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray, strata: np.ndarray,
    ties: str,
) -> tuple[float, np.ndarray, np.ndarray]:  # fmt: skip
    p = x.shape[1]
    eta = x @ beta
    w = np.exp(eta)
    loglik, score, info = 0.0, np.zeros(p), np.zeros((p, p))
    for s in np.unique(strata):
        ins = strata == s
        for t in np.unique(time[ins & (event == 1)]):
            risk = ins & (time >= t)
            dead = ins & (time == t) & (event == 1)
            d = int(dead.sum())
            s0, s1 = w[risk].sum(), w[risk] @ x[risk]
            s2 = (w[risk, None] * x[risk]).T @ x[risk]
            a0, a1 = w[dead].sum(), w[dead] @ x[dead]
            a2 = (w[dead, None] * x[dead]).T @ x[dead]
            loglik += eta[dead].sum()
            score += x[dead].sum(axis=0)
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                den = s0 - f * a0
                mean = (s1 - f * a1) / den
                loglik -= np.log(den)
                score -= mean
                info += (s2 - f * a2) / den - np.outer(mean, mean)
    return loglik, score, info


def _data(seed: int, n: int = 150) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.uniform(size=n) < 0.4, rng.normal(size=n)])
    x = x.astype(float)
    time = np.ceil(rng.exponential(4.0 / np.exp(0.5 * x[:, 0]), n))  # many deaths per time
    event = (rng.uniform(size=n) < 0.85).astype(float)
    strata = rng.integers(0, 3, n)
    return time, event, (x - x.mean(axis=0)) / x.std(axis=0), strata


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("stratified", [False, True])
def test_one_model_path_equals_the_definition(ties: str, stratified: bool) -> None:
    time, event, x, strata = _data(3)
    strata = strata if stratified else np.zeros_like(strata)
    lay = make_layout(time, event == 1, ties, strata if stratified else None)
    assert lay.tied or ties == "breslow"
    beta = np.array([0.4, -0.8, 0.25])
    xt = np.ascontiguousarray(x[lay.order].T)
    death_sums = xt[:, lay.death_rows].sum(axis=1)[None, :]
    got = _evaluate_one(xt, death_sums, beta[None, :], lay)
    loglik, score, info = _definition(time, event, x, beta, strata, ties)
    assert got.loglik[0] == pytest.approx(loglik, rel=1e-12)
    np.testing.assert_allclose(got.score[0], score, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.info[0], info, rtol=1e-10)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_block_path_equals_the_definition(ties: str) -> None:
    """Three genes at once, each with the same two covariates, at different coefficients."""
    time, event, x, _ = _data(5)
    lay = make_layout(time, event == 1, ties)
    genes = np.column_stack([x[:, 0], x[:, 0] ** 2 - 1.0, np.sin(3 * x[:, 0])])
    z = np.ascontiguousarray(genes[lay.order])
    cov = [np.ascontiguousarray(x[lay.order][:, [j]]) for j in (1, 2)]
    beta = np.array([[0.4, -0.8, 0.25], [-0.3, 0.5, 0.1], [1.2, 0.0, -0.6]])
    death_sums = np.column_stack(
        [z[lay.death_rows].sum(axis=0), *[np.full(3, c[lay.death_rows].sum()) for c in cov]]
    )
    got = _evaluate(z, cov, z.max(axis=0), z.min(axis=0), death_sums, beta, lay, _Work(lay, 3, 3))
    for g in range(3):
        design = np.column_stack([genes[:, g], x[:, 1], x[:, 2]])
        loglik, score, info = _definition(time, event, design, beta[g], np.zeros(len(time)), ties)
        assert got.loglik[g] == pytest.approx(loglik, rel=1e-12)
        np.testing.assert_allclose(got.score[g], score, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(got.info[g], info, rtol=1e-10)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_start_at_zero_equals_the_general_path(ties: str) -> None:
    """At beta = 0 (where every gene's fit starts) the products are taken as 1, z and z z
    without exp: the same doubles as the general path, which a coefficient of 1e-300 takes
    (exp(1e-300 z) is exactly 1)."""
    time, event, x, _ = _data(11)
    lay = make_layout(time, event == 1, ties)
    z = np.ascontiguousarray(np.column_stack([x[:, 0], x[:, 1] ** 2, x[:, 2]])[lay.order])
    death_sums = z[lay.death_rows].sum(axis=0)[:, None]
    args = (z, [], z.max(axis=0), z.min(axis=0), death_sums)
    zero = _evaluate(*args, np.zeros((3, 1)), lay, _Work(lay, 3, 1))
    tiny = _evaluate(*args, np.full((3, 1), 1e-300), lay, _Work(lay, 3, 1))
    np.testing.assert_array_equal(zero.score, tiny.score)
    np.testing.assert_array_equal(zero.info, tiny.info)
    np.testing.assert_allclose(zero.loglik, tiny.loglik, rtol=1e-15)  # beta x differs by ~1e-300
    loglik, _, _ = _definition(time, event, z[np.argsort(lay.order)][:, :1], np.zeros(1),
                               np.zeros(len(time)), ties)  # fmt: skip
    assert zero.loglik[0] == pytest.approx(loglik, rel=1e-12)


def test_a_time_where_everybody_at_risk_dies() -> None:
    """The last risk set dies entirely: Efron's last denominator is S0 / d (no cancellation)."""
    time = np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0])
    event = np.array([1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    x = np.array([[0.3], [-1.0], [1.2], [0.5], [-0.4], [2.0], [0.1]])
    lay = make_layout(time, event == 1, "efron")
    xt = np.ascontiguousarray(x[lay.order].T)
    beta = np.array([[0.7]])
    death_sums = xt[:, lay.death_rows].sum(axis=1)[None, :]
    got = _evaluate_one(xt, death_sums, beta, lay)
    loglik, score, info = _definition(time, event, x, beta[0], np.zeros(7), "efron")
    assert got.loglik[0] == pytest.approx(loglik, rel=1e-13)
    assert got.score[0, 0] == pytest.approx(score[0], rel=1e-12)
    assert got.info[0, 0, 0] == pytest.approx(info[0, 0], rel=1e-12)
