"""Reading and cleaning digitised curves and at-risk tables: every adjustment counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ikaros.errors import InputError
from ikaros.ipd.digitised import (
    CLIP_TOLERANCE,
    RISE_TOLERANCE,
    clean_points,
    read_at_risk,
    read_curve,
)
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "ipd"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_headerless_percent_and_header_proportion_give_the_same_curve(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.csv", "0, 100\n5, 90\n10, 80\n")
    b = _write(tmp_path, "b.tsv", "time\tS\n0\t1\n5\t0.9\n10\t0.8\n")
    ca, cb = read_curve(a), read_curve(b)
    assert ca.cleaning.scale == "percent" and cb.cleaning.scale == "proportion"
    np.testing.assert_array_equal(ca.time, cb.time)
    np.testing.assert_allclose(ca.surv, cb.surv, atol=1e-15)
    assert ca.cleaning.adjustments == 0
    assert ca.sha256 is not None and len(ca.sha256) == 64


def test_semicolon_export_is_recognised(tmp_path: Path) -> None:
    c = read_curve(_write(tmp_path, "c.csv", "0;100\n5;90\n10;80\n"))
    np.testing.assert_allclose(c.surv, [1.0, 0.9, 0.8])


def test_every_adjustment_is_counted() -> None:
    # file order: a late point first, an exact duplicate, a noisy rise, a small overshoot above
    # 1, two points on one time (a vertical drop), and no point at time 0
    t = np.array([6.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0])
    s = np.array([0.70, 1.004, 0.95, 0.95, 0.96, 0.90, 0.80, 0.78])
    c = clean_points(t, s)
    cl = c.cleaning
    assert cl.points_read == 8
    assert cl.reordered == 1  # 1.0 came after 6.0
    assert cl.clipped == 1  # 1.004 -> 1
    assert cl.duplicates_dropped == 1  # (2, 0.95) twice
    assert cl.monotone_adjusted == 2  # 0.95, 0.96 pooled to 0.955
    assert cl.same_time_merged == 1  # time 4: 0.90 and 0.80, the lower kept
    assert cl.start_added
    assert cl.max_rise == pytest.approx(0.01)
    np.testing.assert_allclose(c.time, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(c.surv, [1.0, 1.0, 0.955, 0.955, 0.80, 0.78, 0.70])
    assert cl.points_used == 7
    assert cl.adjustments == 1 + 1 + 1 + 2 + 1 + 1


def test_start_near_one_is_set_to_one() -> None:
    c = clean_points(np.array([0.0, 5.0]), np.array([0.985, 0.9]))
    assert c.cleaning.start_set_to_one and c.surv[0] == 1.0


def test_points_of_a_vertical_drop_under_time_noise_are_pooled_not_refused() -> None:
    # a 25-point drop at t = 10 digitised with the time jittering around 10
    t = np.array([0.0, 5.0, 9.9, 10.05, 9.97, 10.02, 9.99, 15.0, 20.0])
    s = np.array([1.0, 0.95, 0.95, 0.85, 0.80, 0.75, 0.70, 0.65, 0.65])
    c = clean_points(t, s)
    assert c.cleaning.max_rise == 0.0  # the rises are within the jitter window
    assert c.cleaning.monotone_adjusted == 3  # 0.70, 0.75, 0.85 pooled
    assert np.all(np.diff(c.surv) <= 0) and np.all(np.diff(c.time) > 0)
    # the drop stays within the jitter of 10, its points pooled in between
    assert c.at(9.8) == pytest.approx(0.95)
    assert c.at(10.1) == pytest.approx((0.70 + 0.75 + 0.85) / 3)
    assert c.at(15.0) == pytest.approx(0.65)


def test_incidence_curves_are_read_as_one_minus() -> None:
    c = clean_points(np.array([0.0, 5.0, 10.0]), np.array([0.0, 0.1, 0.3]), kind="incidence")
    np.testing.assert_allclose(c.surv, [1.0, 0.9, 0.7])
    with pytest.raises(InputError, match="incidence falls"):
        clean_points(np.array([0.0, 5.0, 10.0]), np.array([0.0, 0.3, 0.1]), kind="incidence")


def test_tolerances_bound_what_is_cleaned() -> None:
    just = RISE_TOLERANCE * 0.9
    clean_points(np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.8, 0.8 + just]))
    with pytest.raises(InputError, match="rises by"):
        clean_points(np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.8, 0.8 + 1.5 * RISE_TOLERANCE]))
    clean_points(np.array([0.0, 1.0]), np.array([1.0 + 0.9 * CLIP_TOLERANCE, 0.5]))
    with pytest.raises(InputError, match="above 1"):
        clean_points(np.array([0.0, 1.0]), np.array([1.0 + 1.5 * CLIP_TOLERANCE, 0.5]))


def test_at_risk_rows_after_the_curve_with_nobody_at_risk_are_dropped(tmp_path: Path) -> None:
    curve = read_curve(DATA / "valid_curve.csv")
    path = _write(tmp_path, "r.csv", "time,n\n0,40\n12,30\n24,14\n30,4\n36,0\n42,0\n")
    table = read_at_risk(path, curve=curve)
    np.testing.assert_array_equal(table.time, [0, 12, 24, 30])
    assert table.rows == (2, 3, 4, 5)
    assert table.n_start == 40


def test_valid_files_read() -> None:
    curve = read_curve(DATA / "valid_curve.csv")
    table = read_at_risk(DATA / "valid_atrisk.csv", curve=curve)
    assert curve.cleaning.scale == "percent" and curve.last_time == 30.0
    assert list(table.n) == [40, 37, 30, 22, 14, 4]
