"""Guyot's algorithm on curves whose patients are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.errors import AnalysisError
from ikaros.ipd.guyot import reconstruct
from ikaros.ipd.simulate import numbers_at_risk
from ikaros.stats.km import kaplan_meier


def _corners(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A perfect digitisation: the curve at 0, after every drop, and at its end."""
    km = kaplan_meier(time, event)
    jumps = km.n_event > 0
    t = np.concatenate([[0.0], km.time[jumps], [km.time[-1]]])
    s = np.concatenate([[1.0], km.surv[jumps], [km.surv[-1]]])
    keep = np.concatenate([np.diff(t) > 0, [True]])
    return t[keep], s[keep]


def test_without_censoring_the_patients_are_recovered_exactly() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.5, 4.0, 6.0, 6.0, 6.0, 8.0, 9.0])
    event = np.ones(10, dtype=np.int64)
    t, s = _corners(time, event)
    rec = reconstruct(t, s, n_risk=[10], total_events=10)
    np.testing.assert_array_equal(rec.time, np.sort(time))
    np.testing.assert_array_equal(rec.event, event)
    assert rec.method == "total_events" and rec.total_events_matched


def test_without_at_risk_table_or_events_nobody_is_censored_before_the_end() -> None:
    rng = np.random.default_rng(1)
    time = np.round(rng.exponential(10.0, 60), 2)
    event = (rng.uniform(size=60) < 0.7).astype(np.int64)
    t, s = _corners(time, event)
    rec = reconstruct(t, s, n_risk=[60])
    assert rec.method == "none"
    assert np.all(rec.time[rec.event == 0] == t[-1])
    assert rec.events >= int(event.sum())  # censoring ignored: events overstated


def test_with_at_risk_table_the_published_numbers_are_met() -> None:
    rng = np.random.default_rng(2)
    n = 150
    time = np.round(np.minimum(rng.exponential(20.0, n), rng.uniform(5, 60, n)), 2)
    event = (time < 60).astype(np.int64) * (rng.uniform(size=n) < 0.8)
    t, s = _corners(time, event)
    ticks, counts = numbers_at_risk(time, np.arange(0.0, 61.0, 10.0))
    rec = reconstruct(t, s, n_risk=counts, risk_time=ticks)
    assert rec.method == "at_risk" and rec.n == n and rec.time.size == n
    assert rec.at_risk_mismatches == 0
    km = kaplan_meier(rec.time, rec.event)
    np.testing.assert_array_equal(km.number_at_risk(ticks), counts)
    # the reconstructed curve passes through every digitised corner (rounding aside)
    i = np.searchsorted(km.time, t, side="right") - 1
    fitted = np.where(i >= 0, km.surv[np.maximum(i, 0)], 1.0)
    assert np.max(np.abs(fitted - s)) < 0.01
    assert abs(rec.events - int(event.sum())) <= 2


def test_total_events_fix_the_last_interval() -> None:
    rng = np.random.default_rng(3)
    n = 120
    time = np.round(np.minimum(rng.exponential(15.0, n), rng.uniform(10, 40, n)), 2)
    event = (rng.uniform(size=n) < 0.9).astype(np.int64)
    t, s = _corners(time, event)
    ticks, counts = numbers_at_risk(time, np.arange(0.0, 41.0, 10.0))
    total = int(event.sum())
    rec = reconstruct(t, s, n_risk=counts, risk_time=ticks, total_events=total)
    # only the last interval's censoring is free, and its events move in steps that may skip
    # the total: the closest is taken and the mismatch reported
    assert abs(rec.events - total) <= 1
    assert rec.total_events_matched == (rec.events == total)
    only = reconstruct(t, s, n_risk=[n], total_events=total)
    assert only.events == total and only.method == "total_events"


def test_an_impossible_at_risk_number_is_reported_not_forced() -> None:
    # 10 patients, the curve halves by time 5 (5 events), but 8 are said to be at risk at 5
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 4.5, 8.0])
    s = np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.5])
    rec = reconstruct(t, s, n_risk=[10, 8], risk_time=[0.0, 5.0])
    first = rec.intervals[0]
    assert (first.n_end_published, first.n_end_reconstructed) == (8, 5)
    assert not first.matched and rec.at_risk_mismatches == 1
    assert rec.n == 10 and rec.events == 5


def test_points_are_inserted_at_at_risk_times_and_curve_extended() -> None:
    t = np.array([0.0, 3.0, 7.0, 11.8])
    s = np.array([1.0, 0.8, 0.6, 0.5])
    rec = reconstruct(t, s, n_risk=[20, 15, 8], risk_time=[0.0, 5.0, 12.0])
    assert rec.inserted_points == 1  # at 5; 12 is beyond the curve, which is carried to it
    assert rec.extended_to == 12.0
    assert 5.0 in rec.points_time and rec.points_time[-1] == 12.0


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(AnalysisError, match="start at"):
        reconstruct([1.0, 2.0], [1.0, 0.5], n_risk=[10])
    with pytest.raises(AnalysisError, match="non-increasing"):
        reconstruct([0.0, 2.0], [1.0, 0.5], n_risk=[10, 12], risk_time=[0.0, 1.0])
    with pytest.raises(AnalysisError, match="total events"):
        reconstruct([0.0, 2.0], [1.0, 0.5], n_risk=[10], total_events=11)


def test_same_input_gives_the_same_patients() -> None:
    t = np.array([0.0, 1.0, 2.5, 4.0, 6.0, 9.0])
    s = np.array([1.0, 0.9, 0.75, 0.7, 0.6, 0.55])
    a = reconstruct(t, s, n_risk=[40, 30, 20], risk_time=[0.0, 3.0, 6.0])
    b = reconstruct(t, s, n_risk=[40, 30, 20], risk_time=[0.0, 3.0, 6.0])
    assert a.time.tobytes() == b.time.tobytes() and a.event.tobytes() == b.event.tobytes()
