"""Competing-risks reconstruction from two digitised cumulative incidences."""

from __future__ import annotations

import numpy as np

from ikaros.ipd.compare import step_values
from ikaros.ipd.competing import reconstruct_competing
from ikaros.ipd.digitised import clean_points
from ikaros.ipd.simulate import simulate_competing_arm
from ikaros.stats.competing import aalen_johansen

LABELS = {1: "event", 2: "competing"}


def _exact_corners(time: np.ndarray, status: np.ndarray, cause: str) -> tuple[np.ndarray, ...]:
    cif = aalen_johansen(time, status, cause_labels=LABELS)["all"][cause]
    t = np.concatenate([[0.0], cif.time])
    f = np.concatenate([[0.0], cif.estimate])
    return t, f


def test_without_censoring_the_causes_are_recovered_exactly() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    status = np.array([1, 2, 1, 1, 2, 1, 2, 1])
    t1, f1 = _exact_corners(time, status, "event")
    t2, f2 = _exact_corners(time, status, "competing")
    rec = reconstruct_competing(t1, f1, t2, f2, n_risk=[8, 4], risk_time=[0.0, 3.5])
    order = np.lexsort((status, time))
    np.testing.assert_array_equal(rec.time, time[order])
    np.testing.assert_array_equal(np.sort(rec.status[rec.time == 2.0]), [1, 2])
    assert (rec.count(1), rec.count(2), rec.count(0)) == (5, 3, 0)


def test_round_trip_on_simulated_arms() -> None:
    rng = np.random.default_rng(11)
    worst = []
    for _ in range(6):
        arm = simulate_competing_arm(rng, n=int(rng.integers(150, 301)), n_points=(150, 150))
        c1 = clean_points(*arm.event_points, kind="incidence")
        c2 = clean_points(*arm.competing_points, kind="incidence")
        rec = reconstruct_competing(
            c1.time, 1 - c1.surv, c2.time, 1 - c2.surv, n_risk=arm.risk_n, risk_time=arm.risk_time
        )
        assert rec.all_cause.at_risk_mismatches == 0
        assert rec.n == arm.time.size
        truth = aalen_johansen(arm.time, arm.status, cause_labels=LABELS)["all"]
        rebuilt = aalen_johansen(rec.time, rec.status, cause_labels=LABELS)["all"]
        for cause in ("event", "competing"):
            a, b = truth[cause], rebuilt[cause]
            grid = np.union1d(a.time, b.time)
            grid = grid[grid <= min(a.time[-1], b.time[-1])]
            # where at least 10 are at risk: the tail's single patients are not identifiable
            grid = grid[np.array([np.sum(arm.time >= g) for g in grid]) >= 10]
            diff = step_values(a.time, a.estimate, grid, 0.0) - step_values(
                b.time, b.estimate, grid, 0.0
            )
            worst.append(float(np.max(np.abs(diff))))
        code = {"event": 1, "competing": 2}
        for cause, k in code.items():
            assert (
                abs(rec.count(k) - int(np.sum(arm.status == k)))
                <= 0.1 * np.sum(arm.status == k) + 3
            ), cause
    assert np.median(worst) < 0.03
    assert max(worst) < 0.06
