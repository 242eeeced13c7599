"""The model figures: built from the result, labelled, deterministic PNG bytes.

They were also looked at as PNG (trajectories, Kaplan-Meier, dose-response, tornado, profile);
these tests guard their content and determinism.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from ikaros.model.result import ModelResult
from ikaros.report.figures import save_figure
from ikaros.report.figures.model import (
    dose_response_figure,
    model_km_figure,
    theta_profile_figure,
    tornado_figure,
    trajectories_figure,
)


def _texts(fig: Figure) -> str:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
            out.append(legend.get_title().get_text())
    for legend in fig.legends:
        out += [t.get_text() for t in legend.get_texts()]
    return "\n".join(out)


def test_trajectories(demo_result: ModelResult) -> None:
    fig = trajectories_figure(demo_result)
    labels = {ax.get_label() for ax in fig.axes}
    assert labels == {"protein", "concentration"}
    protein = next(ax for ax in fig.axes if ax.get_label() == "protein")
    assert protein.get_yscale() == "log"
    text = _texts(fig)
    assert "theta = 0.1" in text
    assert "predicted sensitive" in text and "predicted resistant" in text
    assert "Lenalidomide" in text and "IKZF1 protein" in text
    # three expressers plus theta
    assert len(protein.get_lines()) == 4


def test_km(demo_result: ModelResult) -> None:
    fig = model_km_figure(demo_result)
    text = _texts(fig)
    assert "predicted sensitive: n = 17" in text
    assert "log-rank P = 0.011" in text
    assert "Number at risk" in text


def test_dose_response(demo_result: ModelResult) -> None:
    fig = dose_response_figure(demo_result)
    left = next(ax for ax in fig.axes if ax.get_label() == "critical_m")
    assert (
        len([ln for ln in left.get_lines() if ln.get_label() in ("days 1-21 of 28", "every day")])
        == 2
    )
    assert "Critical relative mRNA" in _texts(fig)


def test_tornado(demo_result: ModelResult) -> None:
    fig = tornado_figure(demo_result)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == len(demo_result.tornado)
    assert ticks[-1].startswith(demo_result.parameter(demo_result.tornado[0].parameter).symbol)


def test_profile(demo_result: ModelResult) -> None:
    fig = theta_profile_figure(demo_result)
    assert "search-corrected P" in _texts(fig)


@pytest.mark.parametrize(
    "make", [trajectories_figure, model_km_figure, dose_response_figure, tornado_figure]
)
def test_png_bytes_are_deterministic(
    demo_result: ModelResult, make: object, tmp_path: Path
) -> None:
    digests = []
    for k in range(2):
        png, svg = save_figure(make(demo_result), tmp_path / str(k), "f")  # type: ignore[operator]
        digests.append((hashlib.sha256(png.read_bytes()).hexdigest(), svg.read_bytes()))
    assert digests[0] == digests[1]
