"""Figures of ikaros.report.figures.validation: content and rendering (kept with the validation
tests, which this engineer owns; the mirror location would be tests/report)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from ikaros.report.figures.validation import (
    multicohort_forest,
    stepp_figure,
    treatment_by_marker_forest,
)
from ikaros.validation.multicohort import CohortData, Validation, validate_cohorts
from ikaros.validation.predictive import SteppOptions, TreatmentByMarker, treatment_by_marker
from ikaros.validation.simulate import simulate_multicohort, simulate_two_arm


@pytest.fixture(scope="module")
def tbm() -> TreatmentByMarker:
    d = simulate_two_arm(21, scenario="both")
    return treatment_by_marker(
        d["time"],
        d["event"],
        d["marker"],
        d["treatment"],
        cut=-0.67,
        marker_name="IKZF1",
        treatment_name="arm",
        reference="control",
        group_labels=("Q1", "Q2-4"),
        stepp_options=SteppOptions(36.0, 60, 100, 100, 1),
    )


@pytest.fixture(scope="module")
def validation() -> Validation:
    df, _ = simulate_multicohort(8, n=(200, 150, 250, 180))
    cohorts = [
        CohortData(c, g["time"].to_numpy(), g["event"].to_numpy(), g["marker"].to_numpy())
        for c, g in df.groupby("cohort")
    ]
    return validate_cohorts(cohorts, marker="IKZF1", endpoint="pfs", landmark=36.0)


def _texts(fig: Figure) -> str:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(loc="left")]
    return "\n".join(out)


def _png(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=80)
    assert path.stat().st_size > 10_000


def test_treatment_by_marker_forest_shows_cells_and_tests(
    tbm: TreatmentByMarker, tmp_path: Path
) -> None:
    fig = treatment_by_marker_forest(tbm, endpoint="PFS")
    text = _texts(fig)
    for eff in tbm.treatment_within_marker:
        n = eff.n_by_level
        assert f"control: {n['control']} ({eff.events_by_level['control']})" in text
    assert "Gail-Simon" in text and "Interaction IKZF1" in text
    _png(fig, tmp_path / "tbm.png")


def test_stepp_figure_has_both_panels_and_sizes(tbm: TreatmentByMarker, tmp_path: Path) -> None:
    assert tbm.stepp is not None
    fig = stepp_figure(tbm.stepp, endpoint="PFS")
    assert len([ax for ax in fig.axes if ax.get_xlabel()]) == 2
    text = _texts(fig)
    assert "supremum test P" in text and f"r2 = {tbm.stepp.r2}" in text
    _png(fig, tmp_path / "stepp.png")


def test_multicohort_forest_has_diamonds_and_prediction_interval(
    validation: Validation, tmp_path: Path
) -> None:
    fig = multicohort_forest(validation)
    text = _texts(fig)
    assert validation.meta_continuous is not None
    for s in validation.meta_continuous.studies:
        assert s.name in text and f"{s.weight_random:.1f}%" in text
    assert "prediction interval" in text and "Q-profile" in text
    forest = next(ax for ax in fig.axes if ax.get_label() == "forest")
    assert len(forest.patches) == 2  # fixed and random diamonds
    _png(fig, tmp_path / "meta.png")
    cut = multicohort_forest(validation, coding="cut")
    assert "above vs below the cut (q1)" in _texts(cut)
    with pytest.raises(ValueError, match="coding"):
        multicohort_forest(validation, coding="other")


def test_figures_are_deterministic(validation: Validation) -> None:
    a, b = multicohort_forest(validation), multicohort_forest(validation)
    a.canvas.draw()
    b.canvas.draw()
    pixels_a = np.asarray(a.canvas.buffer_rgba())  # type: ignore[attr-defined]
    pixels_b = np.asarray(b.canvas.buffer_rgba())  # type: ignore[attr-defined]
    assert np.array_equal(pixels_a, pixels_b)


def test_intervals_beyond_the_axis_end_in_arrowheads() -> None:
    """Two cohorts: the bootstrap prediction interval runs far beyond the axis (1.98,
    7e-3 to 684 on GSE24080-like numbers); its bar ends in arrowheads at both edges, while the
    cohorts' intervals inside the axis have none."""
    rng = np.random.default_rng(4)
    cohorts = []
    for name, n, hr in (("A", 300, 1.9), ("B", 120, 2.6)):
        x = rng.integers(0, 2, n).astype(float)
        t = rng.exponential(1.0 / (0.03 * hr**x))
        cohorts.append(CohortData(name, np.minimum(t, 60.0), (t < 60.0).astype(int), x))
    v = validate_cohorts(cohorts, marker="M", endpoint="pfs")
    assert v.meta_continuous is not None and v.meta_continuous.k == 2
    fig = multicohort_forest(v)
    forest = next(ax for ax in fig.axes if ax.get_label() == "forest")
    lo, hi = forest.get_xlim()
    pi = v.meta_continuous.prediction
    assert pi.hr_lower < lo and pi.hr_upper > hi
    marks = [(line.get_marker(), line.get_xdata()[0]) for line in forest.lines]
    assert ("<", lo) in marks and (">", hi) in marks
    assert sum(m in ("<", ">") for m, _ in marks) == 2  # only the prediction interval's
