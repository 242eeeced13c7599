"""Theta fitted by profile likelihood: known truth, agreement with the Cox and maxstat code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.cutpoints import maxstat_cutpoint
from ikaros.model.fit import SUPPORT_CHISQ, fit_theta
from ikaros.stats.cox import fit_cox


def _simulate(n: int, cut: float, hr: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    score = np.exp(rng.normal(np.log(cut), 0.8, n))
    rate = 0.02 * np.where(score > cut, hr, 1.0)
    t_event = rng.exponential(1 / rate)
    t_cens = rng.uniform(12, 60, n)
    time = np.round(np.minimum(t_event, t_cens), 2)
    event = (t_event <= t_cens).astype(float)
    return time, event, score


def test_recovers_a_known_threshold() -> None:
    cut = 0.2
    time, event, score = _simulate(400, cut, 4.0, seed=11)
    fit = fit_theta(time, event, score, q_reference=0.25, n_permutations=200, seed=3)
    assert fit.theta is not None and fit.critical_m is not None
    assert fit.theta == pytest.approx(cut, rel=0.15)
    # the support set is narrow around the truth, but it is not a calibrated interval: here the
    # cut equivalent to the truth (largest score <= 0.2) lies just outside it (a change point
    # is a non-regular parameter; docs/model.md)
    assert 0.75 * cut < fit.support_lower <= fit.theta <= fit.support_upper < 1.25 * cut  # type: ignore[operator]
    assert fit.critical_m == pytest.approx(fit.theta / 0.25)
    assert fit.hazard_ratio is not None and fit.hazard_ratio > 2
    assert fit.p_lau94 is not None and fit.p_lau94 < 1e-4
    # the estimate is an observed score; the support set is within the search range
    assert fit.theta in set(score)


def test_profile_agrees_with_fit_cox_and_maxstat() -> None:
    time, event, score = _simulate(120, 0.3, 2.5, seed=5)
    fit = fit_theta(time, event, score, q_reference=0.3, n_permutations=100, seed=1)
    best = max(fit.profile, key=lambda p: p.loglik)
    assert best.cut == fit.theta
    high = (score > best.cut).astype(float)
    cox = fit_cox(time, event, pd.DataFrame({"high": high}), firth="never", ph_test=False)
    assert best.loglik == pytest.approx(cox.loglik, rel=1e-8)
    assert fit.hazard_ratio == pytest.approx(cox.terms["high"].hr, rel=1e-6)
    cp = maxstat_cutpoint(time, event, score, pmethod="condMC", n_permutations=100, seed=1)
    assert fit.p_lau94 == cp.p_lau94 and fit.p_permutation == cp.p_permutation
    assert fit.maxstat_cut == cp.cutpoint
    # support set: every cut within chi2(1) / 2 of the maximum
    inside = [p.cut for p in fit.profile if 2 * (best.loglik - p.loglik) <= SUPPORT_CHISQ]
    assert fit.support_lower == min(inside) and fit.support_upper == max(inside)


def test_no_events_is_not_estimable() -> None:
    time, _, score = _simulate(50, 0.3, 2.0, seed=2)
    fit = fit_theta(time, np.zeros_like(time), score, q_reference=0.3)
    assert fit.theta is None and fit.p_lau94 is None
    assert fit.note.startswith("not estimable")


def test_reversed_direction_is_flagged() -> None:
    time, event, score = _simulate(300, 0.2, 0.25, seed=8)
    fit = fit_theta(time, event, score, q_reference=0.2, n_permutations=0)
    assert fit.hazard_ratio is not None and fit.hazard_ratio < 1
    assert "contrary to the model" in fit.note
    assert fit.p_permutation is None
