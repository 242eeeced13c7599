"""The performance figures render (PNG) with the expected elements, into new or given axes."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ikaros.performance import ModelPerformance, assess_model
from ikaros.report.figures.performance import auc_figure, calibration_figure, decision_figure
from tests.performance._cohorts import MODELS, cohort


def _models() -> dict[str, ModelPerformance]:
    c = cohort("gse24080")
    return {
        label: assess_model(c.time, c.event, c.X[MODELS["gse24080"][m]], landmarks=[36], B=0)
        for label, m in (("ISS", "base"), ("ISS + B2M + LDH", "full"))
    }


def test_figures_render_to_png(tmp_path: Path) -> None:
    models = _models()
    figs = {
        "calibration": calibration_figure({k: m.calibration[0] for k, m in models.items()}),
        "auc": auc_figure({k: m.auc_curve for k, m in models.items()}),
        "decision": decision_figure({k: m.decision[0] for k, m in models.items()}),
    }
    for name, fig in figs.items():
        assert isinstance(fig, Figure)
        out = tmp_path / f"{name}.png"
        fig.savefig(out, dpi=80)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
        if name != "auc":
            assert any("ISS + B2M + LDH" in x for x in labels), labels
    assert "36 months" in figs["calibration"].axes[0].get_title(loc="left")
    assert len(figs["auc"].axes[0].collections) == 2  # one CI band per model


def test_draws_into_given_axes() -> None:
    fig = Figure(figsize=(7, 3))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    m = _models()["ISS"]
    assert calibration_figure(m.calibration[0], ax=axes[0]) is fig
    assert auc_figure(m.auc_curve, ax=axes[1]) is fig
    assert decision_figure(m.decision[0], ax=axes[2]) is fig
    assert axes[2].get_xlabel() == "Threshold probability"
